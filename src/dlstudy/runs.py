"""Run folders: a status file each, unique names, and finding the run to resume."""

import json
import os
from pathlib import Path

import yaml
from hydra.core.override_parser.types import Quote, QuotedString

STATUS_FILE = "status.json"
FINAL = ("finished", "diverged", "failed")  # a run in any other state ("running", "interrupted") can resume


def write_status(run_dir: str | Path, status: str, **details) -> None:
    """Write `status.json` atomically (a reader never sees half a file); under DDP only rank 0 writes."""
    from lightning.pytorch.utilities import rank_zero_only

    if rank_zero_only.rank != 0:
        return
    path = Path(run_dir) / STATUS_FILE
    tmp = path.with_name(f".{STATUS_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"status": status, "pid": os.getpid(), **details}, indent=1))
    os.replace(tmp, path)


def read_status(run_dir: str | Path) -> dict:
    try:
        return json.loads((Path(run_dir) / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return {"status": "unknown"}


def unique_dir(path: str) -> str:
    """`path`, or `path-1`, `path-2`, ... : created here, atomically, so two runs never share a folder."""
    for i in range(10_000):
        candidate = path if i == 0 else f"{path}-{i}"
        try:
            os.makedirs(candidate)
            return candidate
        except FileExistsError:
            continue
    raise RuntimeError(f"no free run folder next to {path}")


def _alive(pid: int | None) -> bool:
    if not pid or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def resumable(run_dir: Path) -> bool:
    status = read_status(run_dir)
    return (run_dir / "checkpoints" / "last.ckpt").exists() and status["status"] not in FINAL \
        and not _alive(status.get("pid"))


def overrides_of(run_dir: Path) -> list[str]:
    return yaml.safe_load((run_dir / ".hydra" / "overrides.yaml").read_text()) or []


def newest_resumable(runs_root: Path, overrides: list[str]) -> Path | None:
    """The newest unfinished run under `runs_root` that was started with exactly these overrides."""
    candidates = [d for d in runs_root.glob("*") if (d / ".hydra" / "overrides.yaml").exists()]
    for run_dir in sorted(candidates, key=lambda d: d.stat().st_mtime, reverse=True):
        if resumable(run_dir) and sorted(overrides_of(run_dir)) == sorted(overrides):
            return run_dir
    return None


def _quote(value: str) -> str:
    """`value` as a quoted override value that Hydra's parser reads back unchanged."""
    return QuotedString(text=value, quote=Quote.single).with_quotes()


def resume_args(args: list[str], runs_root: Path = Path("outputs/runs")) -> list[str]:
    """Turn `resume=<run folder>` or `resume=auto` into that run's own overrides, in its own folder.

    Raises ValueError (one line) when the folder cannot be resumed. `auto` with nothing to resume
    starts a new run with the given overrides.
    """
    wanted = [a.split("=", 1)[1] for a in args if a.startswith("resume=")]
    if not wanted:
        return args
    rest = [a for a in args if not a.startswith("resume=")]
    if "-m" in rest or "--multirun" in rest:
        raise ValueError("resume: resumes one run; resume the jobs of a sweep one by one")
    if wanted[-1] == "auto":
        run_dir = newest_resumable(runs_root, [a for a in rest if not a.startswith(("-", "hydra."))])
        if run_dir is None:
            return rest
    else:
        run_dir = Path(wanted[-1])
        if not (run_dir / ".hydra" / "overrides.yaml").exists():
            raise ValueError(f"resume: {run_dir} is not a dlstudy run folder (no .hydra/overrides.yaml)")
        if not (run_dir / "checkpoints" / "last.ckpt").exists():
            raise ValueError(f"resume: {run_dir} has no checkpoints/last.ckpt to resume from")
        if (status := read_status(run_dir)["status"]) in FINAL:
            raise ValueError(f"resume: {run_dir} is {status}; only an interrupted run can resume")
    run_dir = run_dir.resolve()
    n = len(list((run_dir / ".hydra").glob("resumed-*")))
    return [*overrides_of(run_dir), f"hydra.run.dir={_quote(str(run_dir))}",
            f"hydra.output_subdir=.hydra/resumed-{n + 1}", f"resume={_quote(str(run_dir))}"]
