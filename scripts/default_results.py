"""The README's figure for the default run (`dlstudy-train`, digits MLP): test accuracy over seeds.

    python scripts/default_results.py                 # runs `dlstudy-train -m seed=0,...,4`, then writes the line
    python scripts/default_results.py --sweep DIR     # only reads a finished sweep

The line goes into README.md between `<!-- results:default -->` and `<!-- /results -->`.
"""

import argparse
import subprocess
import sys
from pathlib import Path

from dlstudy.docblocks import write_block
from dlstudy.runs import read_status
from dlstudy.stats import describe

ROOT = Path(__file__).resolve().parents[1]


def line(sweep: Path) -> str:
    jobs = [j.parent for j in sorted(sweep.glob("*/.hydra"))]
    done = [read_status(j) for j in jobs if read_status(j)["status"] == "finished"]
    if not done:
        raise SystemExit(f"error: no finished job in {sweep}")
    acc = describe([s["metrics"]["test/acc"] for s in done])
    return (f"Default run, {acc.n} seeds: test accuracy {acc.mean:.1%} [{acc.lo:.1%}, {acc.hi:.1%}] "
            f"(mean [95% t interval]), from {min(s['metrics']['test/acc'] for s in done):.1%} to "
            f"{max(s['metrics']['test/acc'] for s in done):.1%}; `python scripts/default_results.py`.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--sweep", type=Path, help="a finished sweep of the default run over seeds")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args()
    sweep = args.sweep
    if sweep is None:
        sweep = ROOT / "outputs" / "default_seeds"
        exe = Path(sys.executable).with_name("dlstudy-train")
        subprocess.run([str(exe), "-m", f"seed={args.seeds}", f"hydra.sweep.dir={sweep}",
                        "callbacks.progress_bar=null"], check=True, cwd=ROOT)
    text = line(sweep)
    print(text)
    write_block(args.readme, "default", text)


if __name__ == "__main__":
    main()
