"""On a machine with CUDA: run every GPU test and the GPU benchmark, and write both results to one file.

    python scripts/gpu_check.py [--out gpu-check.txt] [--reps 3]      (make gpu-check)

The GPU tests are those marked `gpu` (tests/test_gpu.py); they skip where CUDA is absent, so this script
refuses to run there instead of recording skips as a result. Exit status: 0 when the tests and the
benchmark both passed, 1 otherwise; the file holds the machine, pytest's report and the benchmark's table.
"""

import argparse
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def section(title: str, command: list[str]) -> tuple[str, int]:
    """Run one command in the project root; its output under a heading, and its exit status."""
    t0 = time.time()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    text = (f"## {title}\n\n$ {' '.join(command[1:])}\nexit status {result.returncode}, "
            f"{time.time() - t0:.0f} s\n\n{result.stdout}{result.stderr}\n")
    return text, result.returncode


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
    tests, tests_rc = section("GPU tests", [py, "-m", "pytest", "-v", "-rs", "-m", "gpu", "-p", "no:cacheprovider"])
    bench, bench_rc = section("GPU benchmark", [py, "scripts/bench.py", "--gpu", "--reps", str(args.reps)])
    head = (f"# gpu-check\n\nmachine: {platform.machine()}, {torch.cuda.get_device_name()}, torch {torch.__version__}, "
            f"CUDA {torch.version.cuda}\nresult: tests {'passed' if tests_rc == 0 else 'FAILED'}, "
            f"benchmark {'ran' if bench_rc == 0 else 'FAILED'}\n\n")
    args.out.write_text(head + tests + bench)
    print(f"gpu-check: {args.out}: tests exit {tests_rc}, benchmark exit {bench_rc}")
    return 0 if tests_rc == bench_rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
