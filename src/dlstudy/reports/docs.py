"""Generated evidence: replace the text between `<!-- results:NAME -->` and `<!-- /results -->` in a file."""

import re
from pathlib import Path

from dlstudy.runs import read_status
from dlstudy.summarize import job_rows


def write_block(path: Path, name: str, text: str) -> None:
    """Put `text` between the markers of `name` in `path`; the markers must already be there, once."""
    doc = path.read_text()
    pattern = re.compile(rf"(<!-- results:{re.escape(name)} -->\n).*?(<!-- /results -->)", re.S)
    if len(pattern.findall(doc)) != 1:
        raise ValueError(f"{path} must hold exactly one '<!-- results:{name} -->' ... '<!-- /results -->' block")
    path.write_text(pattern.sub(lambda m: m.group(1) + text.rstrip("\n") + "\n" + m.group(2), doc))


def sweep_jobs(sweep: Path) -> list[dict]:
    """The sweep's jobs as dlstudy-summarize reads them: params, status and scalar series."""
    jobs = job_rows(sweep)
    if not jobs:
        raise ValueError(f"{sweep} is not a sweep folder (no job folders with .hydra/ inside)")
    return jobs


def wall_seconds(sweep: Path) -> float:
    """From the first job folder's creation to the last status written: the sweep's wall time."""
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
