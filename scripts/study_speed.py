"""Each study's whole sweep before and after, measured in one run: the sweep `make studies` runs, back to back so
that all see the same moment of a shared machine, three times: one run at a time with Lightning's own loop and
logging (`callbacks.multistep=null callbacks.fast_log=null`: one optimizer step per Lightning step and Lightning's
own `self.log`, as before issue #11's work); one at a time with both (as shipped, one run at a time); and as it
ships, with one run per core at a time (`make studies --jobs`).
Only the sweep is timed (not a study's `after` work, which trains nothing). Rewrites the `results:study-speed`
block of docs/benchmarks.md: the rows of the studies measured now; each other study keeps the row of the run
that last measured it, with that run's date and load.

    python scripts/study_speed.py [STUDY ...] [--no-write]        (make study-speed ARGS="lr_stability ...")
"""

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import torch

from dlstudy import PROJECT_ROOT
from dlstudy.docblocks import read_block, write_block
from dlstudy.studies import STUDIES
from dlstudy.studies.runner import DEFAULT_JOBS, command

BEFORE = ["callbacks.multistep=null", "callbacks.fast_log=null"]  # dlstudy.multistep and dlstudy.fast_log off
TARGET = 1.7  # issue: every study's sweep at least 1.7x faster


def sweep_seconds(cmd: list[str], sweep: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    shutil.rmtree(sweep)
    return seconds


def earlier_rows(doc: Path, header: str) -> dict[str, str]:
    """The rows of the block now in `doc`, by study, where its table has the same columns as this run's."""
    block = read_block(doc, "study-speed")
    if header not in block:
        return {}
    return {line.split("|")[1].strip(): line for line in block.splitlines()
            if line.startswith("| ") and not line.startswith(("| study", "| ---"))}


def main(argv: list[str] | None = None) -> None:
    names = [s.name for s in STUDIES]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("studies", nargs="*", metavar="STUDY", help=f"default: all of {', '.join(names)}")
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS, metavar="N",
                        help=f"runs at a time as shipped (default, as make studies: {DEFAULT_JOBS})")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md as it is")
    parser.add_argument("--doc", type=Path, default=PROJECT_ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    unknown = [n for n in args.studies if n not in names]
    if unknown:
        parser.error(f"unknown study {', '.join(unknown)}; the studies are: {', '.join(names)}")
    chosen = [s for s in STUDIES if s.name in (args.studies or names)]
    jobs = args.jobs
    rows, today = [], datetime.date.today().isoformat()
    with tempfile.TemporaryDirectory() as tmp:
        for study in chosen:
            sweep, start = Path(tmp) / study.name, os.getloadavg()[0]
            one = command(study, sweep, jobs=1)
            before = sweep_seconds([*one, *BEFORE], sweep)
            alone = sweep_seconds(one, sweep)
            shipped = sweep_seconds(command(study, sweep, jobs=jobs), sweep)
            rows.append((study.name, before, alone, shipped, start, os.getloadavg()[0]))
            print(f"{study.name}: before {before:.0f} s, one at a time {alone:.0f} s, {jobs} at a time {shipped:.0f} s, "
                  f"{before / shipped:.2f}x", flush=True)
    header = (f"| study | before (Lightning's loop and logging), s | one at a time, s | {jobs} at a time, s | speed-up "
              f"(one at a time) | target ≥ {TARGET}× | measured (load average at start, end) |")
    lines = [f"Machine: {platform.machine()}, {os.cpu_count()} CPU threads, torch {torch.__version__}. Each study's "
             "sweep as `make studies` runs it, back to back: first one run at a time with Lightning's own loop and "
             f"logging (`{' '.join(BEFORE)}`), then one at a time as shipped (multistep, 16 steps per Lightning step, "
             f"and fast_log), then as `make studies` ships it: {jobs} runs at a time, each on its share of the cores. "
             "A row not measured in the latest run keeps the date of the run that measured it.", "", header,
             "| --- | --- | --- | --- | --- | --- | --- |"]
    measured = {name: f"| {name} | {before:.0f} | {alone:.0f} | {shipped:.0f} | {before / shipped:.2f}× "
                f"({before / alone:.2f}×) | {'met' if before / shipped >= TARGET else '**not met**'} | {today} "
                f"({start:.1f}, {end:.1f}) |" for name, before, alone, shipped, start, end in rows}
    earlier = earlier_rows(args.doc, header)
    lines += [measured.get(name) or earlier[name] for name in names if name in measured or name in earlier]
    skipped = [n for n in names if n not in measured and n not in earlier]
    if skipped:
        lines += ["", f"Not measured yet: {', '.join(skipped)}."]
    block = "\n".join(lines)
    print(block)
    if not args.no_write:
        write_block(args.doc, "study-speed", block)


if __name__ == "__main__":
    main()
