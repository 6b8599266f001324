"""make studies [ARGS="<study> ..."]: run each study's sweep, then rewrite its block of docs/studies.md."""

import argparse
import importlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from dlstudy.docblocks import replace_block
from dlstudy.resolvers import PROJECT_ROOT
from dlstudy.studies import STUDIES, Study
from dlstudy.studies.report import RUN_FILE

# Runs of a sweep at a time: one per core, at most four, since each worker process holds its own torch, Lightning
# and data (about 1 GiB); `--jobs N` for more.
DEFAULT_JOBS = min(os.cpu_count() or 1, 4)
QUIET = ["callbacks.progress_bar=null", "++trainer.enable_progress_bar=false", "++trainer.enable_model_summary=false"]


def load(path: str):
    """The function named by "module:function"."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def launcher(jobs: int) -> list[str]:
    """Run a sweep's jobs one after another in one process, or `jobs` at a time in worker processes, each with its
    share of the cores (dlstudy.train.pin_threads): small nets use one core well, not two. The workers are forked
    from the sweep's process where that is safe (Linux: hydra/launcher=fork), so they do not import torch and
    Lightning again; elsewhere they are joblib's."""
    if jobs == 1:
        return ["hydra/launcher=basic"]
    return [f"hydra/launcher={'fork' if sys.platform.startswith('linux') else 'joblib'}", f"hydra.launcher.n_jobs={jobs}"]


def command(study: Study, sweep: Path, jobs: int = 1) -> list[str]:
    if study.command:
        return [part.replace("{sweep}", str(sweep)) for part in study.command]
    extra = load(study.overrides)() if isinstance(study.overrides, str) else list(study.overrides)
    exe = str(Path(sys.executable).with_name("dlstudy-train"))
    return [exe, "-m", f"experiment={study.name}", f"hydra.sweep.dir={sweep}", *launcher(jobs), *QUIET, *extra]


def run(study: Study, sweep: Path, jobs: int = 1) -> None:
    """Run the study's sweep afresh in `sweep`, recording its wall time and the machine beside the jobs."""
    if sweep.exists():
        shutil.rmtree(sweep)
    cmd = command(study, sweep, jobs)
    print(f"[{study.name}] {' '.join(cmd[1:])}", flush=True)
    start, load_start = time.perf_counter(), os.getloadavg()[0]
    subprocess.run(cmd, check=True, cwd=PROJECT_ROOT)
    if study.after:
        load(study.after)(sweep)
    wall = time.perf_counter() - start
    machine = f"{platform.machine()}, {torch.get_num_threads()} CPU threads, torch {torch.__version__}"
    runs = len(list(sweep.glob("*/.hydra")))
    (sweep / RUN_FILE).write_text(json.dumps({"wall_s": wall, "jobs": runs, "at_once": 1 if study.command else jobs,
                                              "machine": machine,
                                              "load": [load_start, os.getloadavg()[0], os.cpu_count()],
                                              "date": datetime.now(timezone.utc).strftime("%Y-%m-%d")}))
    print(f"[{study.name}] {runs} runs in {wall:.0f} s", flush=True)


def main(argv: list[str] | None = None) -> None:
    names = [s.name for s in STUDIES]
    parser = argparse.ArgumentParser(prog="make studies", description=__doc__)
    parser.add_argument("studies", nargs="*", metavar="STUDY", help=f"default: all of {', '.join(names)}")
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS, metavar="N",
                        help=f"a sweep's runs at a time, each on its share of the cores (default: {DEFAULT_JOBS}, "
                             "one per core up to four)")
    parser.add_argument("--report-only", action="store_true", help="rewrite the blocks from the existing sweeps")
    parser.add_argument("--doc", type=Path, default=PROJECT_ROOT / "docs" / "studies.md")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "outputs" / "studies")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    unknown = [n for n in args.studies if n not in names]
    if unknown:
        parser.error(f"unknown study {', '.join(unknown)}; the studies are: {', '.join(names)}")
    text = args.doc.read_text()
    chosen = [s for s in STUDIES if s.name in (args.studies or names)]
    for study in chosen:  # every marker is checked before any time is spent running
        try:
            replace_block(text, study.name, "")
        except ValueError as e:
            parser.error(f"{args.doc}: {e}")
    for study in chosen:
        sweep = args.out / study.name
        if not args.report_only:
            run(study, sweep, args.jobs)
        elif not sweep.is_dir():
            parser.error(f"--report-only: {sweep} does not exist; run the study first")
        text = replace_block(args.doc.read_text(), study.name, load(study.report)(sweep, args.doc.parent / "studies"))
        args.doc.write_text(text)  # after each study: a later failure keeps what is done
        print(f"[{study.name}] {args.doc.name} rewritten", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
