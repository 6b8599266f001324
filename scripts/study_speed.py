"""Each study's whole sweep before and after issue #11's work, measured in one run: first the code as it was before
(BEFORE_REV, unpacked from git, its sweep launched as that code's `make studies` launched it: one run at a time, or
its experiment's own launcher), then the code as it is, as `make studies` runs it now; back to back, so that both
see the same moment of a shared machine. Both run the same sweep (today's overrides, and the settings an experiment
gained since: SAME_SWEEP), and the script checks that they did: every job's config the same but for the callbacks,
the trainer's settings the old code did not have, and the settings that choose how, not what (HOW_NOT_WHAT).
Only the sweep is timed (not a study's `after` work, which trains nothing). Rewrites the `results:study-speed`
block of docs/benchmarks.md: the rows of the studies measured now; each other study keeps the row of the run
that last measured it, with that run's date and load.

    python scripts/study_speed.py [STUDY ...] [--no-write]        (make study-speed ARGS="lr_stability ...")
"""

import argparse
import copy
import datetime
import io
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import torch
from omegaconf import OmegaConf

from dlstudy import PROJECT_ROOT
from dlstudy.docblocks import read_block, write_block
from dlstudy.studies import STUDIES, Study
from dlstudy.studies.runner import DEFAULT_JOBS, command

# main just before issue #11's first change (multistep) was merged: the code the studies ran with before.
BEFORE_REV = "8311a91b511e383021806a6c7ba440ac07c5a21a"
# What a study's experiment config gained since BEFORE_REV, given to the old code so that it runs today's sweep.
SAME_SWEEP = {"init_depth": ["trainer.max_epochs=30"], "rnn_memory": ["data.seq_len=10,25,50,100"]}
TARGET = 1.7  # issue: every study's sweep at least 1.7x faster
# Settings only today's code has, which choose how the same thing is computed, not what: left out when the two
# sweeps are compared. hand_bptt: torch's own forward, its gradients to rounding (tests/nets/test_bptt.py);
# flipped_input_grad (conv_vs_mlp sets it in its `cnn` node): torch's own forward and weight gradients, input
# gradients to rounding (tests/nets/test_conv.py).
HOW_NOT_WHAT = ("model.net.hand_bptt", "model.net.flipped_input_grad", "cnn.flipped_input_grad")


def sweep_seconds(cmd: list[str], cwd: Path = PROJECT_ROOT, env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def before_tree(tmp: Path) -> Path:
    """The project's files at BEFORE_REV, unpacked from git under `tmp`."""
    archive = subprocess.run(["git", "archive", "--format=tar", BEFORE_REV], cwd=PROJECT_ROOT, capture_output=True)
    if archive.returncode:
        sys.exit(f"study-speed: the code before issue #11 (commit {BEFORE_REV[:7]}) is not in this clone's git history "
                 f"({archive.stderr.decode().strip()}); fetch it, or clone without --depth")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tmp / "before", filter="data")
    return tmp / "before"


def before_command(study: Study, sweep: Path, tree: Path) -> tuple[list[str], dict]:
    """The old code's sweep of today's study: today's command less its launcher (the old experiment config chose
    one, or none), run from the old tree's sources; with the environment that makes Python import them."""
    if study.command:
        raise ValueError(f"{study.name} has a command of its own; no before command for it")
    now = command(study, sweep, jobs=1)
    args = [a for a in now[1:] if not a.startswith(("hydra/launcher=", "hydra.launcher."))]
    paths = [str(tree / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]  # no empty entry: that is the cwd
    env = os.environ | {"PYTHONPATH": os.pathsep.join(paths)}
    return [sys.executable, "-m", "dlstudy.train", *args, *SAME_SWEEP.get(study.name, [])], env


def runs_at_once(sweep: Path) -> int:
    """How many of the sweep's runs its launcher ran at a time (joblib's n_jobs, or one)."""
    launcher = OmegaConf.load(sweep / "multirun.yaml").hydra.launcher
    return int(launcher.get("n_jobs") or 1)


def jobs(sweep: Path, unnamed: frozenset = frozenset()) -> dict[frozenset, dict]:
    """Each job's config as written (not resolved), by the job's overrides (less those `unnamed`)."""
    return {frozenset(OmegaConf.load(d / "overrides.yaml")) - unnamed:
            OmegaConf.to_container(OmegaConf.load(d / "config.yaml")) for d in sweep.glob("*/.hydra")}


def has(config: dict, dotted: str) -> bool:
    """Whether `config` holds a setting at `dotted` ("model.net.hand_bptt")."""
    node = config
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def without(config: dict, dotted: str) -> dict:
    """A copy of `config` without the setting at `dotted`."""
    config = copy.deepcopy(config)
    *parents, leaf = dotted.split(".")
    node = config
    for key in parents:
        node = node[key]
    del node[leaf]
    return config


def differences(before: Path, after: Path, given: list[str] = ()) -> list[str]:
    """Where two sweeps' jobs differ, apart from their callbacks, the trainer settings only one side has (or
    `accelerator`, which the new code reads from the environment) and the HOW_NOT_WHAT settings only `after` has.
    `given`: the overrides only `before` was given (SAME_SWEEP), which its jobs name and `after`'s do not."""
    old, new = jobs(before, frozenset(given)), jobs(after)
    if old.keys() != new.keys():
        only = sorted(map(sorted, old.keys() ^ new.keys()))
        return [f"{len(only)} jobs are in one sweep only, e.g. {only[0]}"]
    found = []
    for overrides, a in old.items():
        b = new[overrides]
        for dotted in HOW_NOT_WHAT:
            if not has(a, dotted) and has(b, dotted):
                b = without(b, dotted)
        for key in (a.keys() | b.keys()) - {"callbacks", "trainer"}:
            if a.get(key) != b.get(key):
                found.append(f"{sorted(overrides)}: {key}")
        for key in (a["trainer"].keys() & b["trainer"].keys()) - {"accelerator"}:
            if a["trainer"][key] != b["trainer"][key]:
                found.append(f"{sorted(overrides)}: trainer.{key}")
    return found


def measure(study: Study, tree: Path, tmp: Path, jobs_now: int) -> tuple[float, int, float]:
    """Seconds of the old code's sweep, its runs at a time, and seconds of today's sweep as make studies runs it."""
    old_sweep, new_sweep = tmp / f"{study.name}-before", tmp / study.name
    cmd, env = before_command(study, old_sweep, tree)
    before = sweep_seconds(cmd, cwd=tree, env=env)
    after = sweep_seconds(command(study, new_sweep, jobs=jobs_now))
    found = differences(old_sweep, new_sweep, SAME_SWEEP.get(study.name, []))
    if found:
        sys.exit(f"study-speed: {study.name} before and after are not the same sweep: {'; '.join(found[:5])}")
    at_once = runs_at_once(old_sweep)
    shutil.rmtree(old_sweep)
    shutil.rmtree(new_sweep)
    return before, at_once, after


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
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tree = before_tree(Path(tmp))
        for study in chosen:
            start = os.getloadavg()[0]
            before, at_once, after = measure(study, tree, Path(tmp), args.jobs)
            rows.append((study.name, before, at_once, after, start, os.getloadavg()[0]))
            print(f"{study.name}: before {before:.0f} s ({at_once} at a time), after {after:.0f} s "
                  f"({args.jobs} at a time), {before / after:.2f}x", flush=True)
            block = table(rows, args.jobs, args.doc, names)
            if not args.no_write:  # after each study, so that a study that fails later loses none of the others
                write_block(args.doc, "study-speed", block)
    print(block)


def multistep_steps() -> int:
    """The group size `make studies` runs with: the default callbacks' multistep steps."""
    return OmegaConf.load(PROJECT_ROOT / "conf" / "callbacks" / "default.yaml").multistep.steps


def table(rows: list[tuple], jobs: int, doc: Path, names: list[str]) -> str:
    """The block: the rows measured now, and the rows of earlier runs (same columns) for the other studies."""
    header = (f"| study | before, s | before: runs at a time | after, {jobs} at a time, s | speed-up | "
              f"target ≥ {TARGET}× | measured (load average at start, end) |")
    lines = [f"Machine: {platform.machine()}, {os.cpu_count()} CPU threads, torch {torch.__version__}. Each study's "
             f"whole sweep, back to back in one run: before, the code as it was before issue #11 (commit "
             f"{BEFORE_REV[:7]}), launched as its `make studies` launched it (one run at a time, or two where the "
             "experiment chose joblib); after, today's code as `make studies` runs it: multistep (up to "
             f"{multistep_steps()} steps per Lightning step) and fast_log, {jobs} runs at a time in workers forked "
             "from the sweep, each on its share of the cores, the GRU and tanh RNN with dlstudy.nets.bptt's backward, "
             "conv_vs_mlp's CNNs with dlstudy.nets.conv's input gradients. Both ran the same jobs with "
             f"the same settings (checked; {', '.join(HOW_NOT_WHAT)}, how and not what, aside). A row not measured "
             "in the latest run keeps the date of the run that measured it.", "", header,
             "| --- | --- | --- | --- | --- | --- | --- |"]
    today = datetime.date.today().isoformat()
    measured = {name: f"| {name} | {before:.0f} | {at_once} | {after:.0f} | {before / after:.2f}× | "
                f"{'met' if before / after >= TARGET else '**not met**'} | {today} ({start:.1f}, {end:.1f}) |"
                for name, before, at_once, after, start, end in rows}
    earlier = earlier_rows(doc, header)
    lines += [measured.get(name) or earlier[name] for name in names if name in measured or name in earlier]
    skipped = [n for n in names if n not in measured and n not in earlier]
    if skipped:
        lines += ["", f"Not measured yet: {', '.join(skipped)}."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
