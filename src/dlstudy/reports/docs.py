"""Generated evidence: replace the text between `<!-- results:NAME -->` and `<!-- /results -->` in a file."""

import json
import re
from pathlib import Path

from dlstudy.runs import read_status
from dlstudy.summarize import job_rows


def replace_block(text: str, name: str, block: str) -> str:
    """`text` with what stands between `<!-- results:name -->` and the next `<!-- /results -->` replaced;
    the markers must be there, once."""
    pattern = re.compile(rf"(<!-- results:{re.escape(name)} -->\n?).*?(<!-- /results -->)", re.S)
    if len(pattern.findall(text)) != 1:
        raise ValueError(f"no '<!-- results:{name} -->' ... '<!-- /results -->' block to rewrite, or more than one")
    return pattern.sub(lambda m: f"<!-- results:{name} -->\n" + block.strip("\n") + "\n" + m.group(2), text)


def write_block(path: Path, name: str, text: str) -> None:
    """Put `text` between the markers of `name` in `path`."""
    try:
        path.write_text(replace_block(path.read_text(), name, text))
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


def sweep_jobs(sweep: Path) -> list[dict]:
    """The sweep's jobs as dlstudy-summarize reads them: params, status and scalar series."""
    jobs = job_rows(sweep)
    if not jobs:
        raise ValueError(f"{sweep} is not a sweep folder (no job folders with .hydra/ inside)")
    return jobs


def wall_seconds(sweep: Path) -> float:
    """The sweep's wall time: as `make studies` measured it around the command where it ran the sweep, else
    from the first job folder's creation to the last status written."""
    from dlstudy.studies.report import RUN_FILE

    try:
        return float(json.loads((sweep / RUN_FILE).read_text())["wall_s"])
    except (OSError, ValueError, KeyError):
        pass
    starts = [p.stat().st_mtime for p in sweep.glob("*/.hydra/config.yaml")]
    ends = [(p.parent / "status.json").stat().st_mtime for p in sweep.glob("*/.hydra")
            if (p.parent / "status.json").exists() and read_status(p.parent)["status"] != "running"]
    return max(ends) - min(starts) if starts and ends else float("nan")


def last(job: dict, tag: str, default: float = float("nan")) -> float:
    points = job["series"].get(tag)
    return points[-1][1] if points else default


def first(job: dict, tag: str, default: float = float("nan")) -> float:
    points = job["series"].get(tag)
    return points[0][1] if points else default
