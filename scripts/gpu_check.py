"""On a machine with CUDA: run every GPU test and the GPU benchmark, and write both results to one file.

    python scripts/gpu_check.py [--out gpu-check.txt] [--reps 3]      (make gpu-check)

The GPU tests are those marked `gpu` (tests/test_gpu.py, and multistep's in tests/test_multistep.py); they
skip where CUDA is absent, so this script refuses to run there instead of recording skips as a result. Exit
status: 0 when the tests and the benchmark both passed, 1 otherwise. The file holds the machine, pytest's
report and the benchmark's output, each written as it comes (a run stopped by a time limit leaves what it
had printed), and the result on its last line.
"""

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def section(out, title: str, command: list[str]) -> int:
    """Run one command in the project root, its output going into `out` as it comes (so that a run stopped by a
    time limit leaves what it had printed); returns its exit status."""
    out.write(f"## {title}\n\n$ {' '.join(command[1:])}\n\n")
    out.flush()
    t0 = time.time()
    result = subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True,
                            env=os.environ | {"PYTHONUNBUFFERED": "1"})
    out.write(f"\nexit status {result.returncode}, {time.time() - t0:.0f} s\n\n")
    out.flush()
    return result.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "gpu-check.txt")
    parser.add_argument("--reps", type=int, default=3, help="benchmark repetitions")
    args = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("error: gpu-check: CUDA is not available on this machine; run it where a GPU is", file=sys.stderr)
        return 2
    py = sys.executable
    with args.out.open("w") as out:
        out.write(f"# gpu-check\n\nmachine: {platform.machine()}, {torch.cuda.get_device_name()}, "
                  f"torch {torch.__version__}, CUDA {torch.version.cuda}\n\n")
        tests_rc = section(out, "GPU tests", [py, "-m", "pytest", "-v", "-rs", "-m", "gpu", "-p", "no:cacheprovider"])
        bench_rc = section(out, "GPU benchmark", [py, "scripts/bench.py", "--gpu", "--reps", str(args.reps)])
        out.write(f"result: tests {'passed' if tests_rc == 0 else 'FAILED'}, "
                  f"benchmark {'ran' if bench_rc == 0 else 'FAILED'}\n")
    print(f"gpu-check: {args.out}: tests exit {tests_rc}, benchmark exit {bench_rc}")
    return 0 if tests_rc == bench_rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
