"""Training time of dlstudy against a hand-written loop and the usual torchvision pipeline, per step and per
epoch, with start-up time, peak memory, achieved GFLOP/s, sweep throughput and (--tests) the suite's duration.

    python scripts/bench.py [--reps 5] [--tests] [--gpu] [--no-write]      (make bench)

Workload: 60,000 x 1x28x28 uint8 images: the real Fashion-MNIST training images where Debian's
dataset-fashion-mnist is installed (else the real MNIST test digits tiled 6x when ../shared has them, else
random pixels), written in MNIST's layout so that `experiment=mnist_mlp` reads them: its 55,000 training
images, batch 128, fused Adam, for two nets: MLP 784-512-512-10 (the experiment's) and MLP 784-16-10 (a
small study's, where per-step overhead shows). After the repetitions, one CNN epoch (experiment=mnist_cnn's
net, no shifts) by the hand loop and by dlstudy-train. The pipelines run interleaved, each repetition one run of each; each ratio is taken within a
repetition and its median reported, so slow drifts of a shared machine cancel:
  (a) hand-written loop over in-memory tensors, torch's default Adam; (a2) the same with fused Adam;
  (b) dlstudy: the `dlstudy-train experiment=mnist_mlp` process as a user runs it (its scheduler, validation,
      default callbacks and logging), timing its training epochs only (not start-up, validation or test);
  (c) torchvision.datasets.MNIST + per-sample ToTensor/Normalize + DataLoader, the loop of (a2).
(a), (a2) and (c) run in this process with malloc set as dlstudy-train sets it (dlstudy.malloc), so that the
ratios compare the pipelines, not glibc's settings.
The tables go between the `results:bench` markers of docs/benchmarks.md (and a summary in README.md).
"""

import argparse
import compileall
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import lightning as L
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from dlstudy import PROJECT_ROOT
from dlstudy.data.idx import read_idx, write_mnist
from dlstudy.data.mnist import MNISTDataModule
from dlstudy.nets import CNN, MLP
from dlstudy.docblocks import write_block
from dlstudy.malloc import keep_freed_memory
from dlstudy.studies.runner import launcher

MEAN, STD = MNISTDataModule.mean, MNISTDataModule.std

SHARED = PROJECT_ROOT.parent / "shared" / "data" / "mnist" / "raw"


def write_data(root: Path) -> str:
    """MNIST-sized IDX files under root/MNIST/raw; returns where the pixels came from."""
    from dlstudy.data import FashionMNISTDataModule

    fashion = FashionMNISTDataModule(str(root / "none"), download=False)
    if fashion.source() is not None:
        fashion.setup()
        (train_X, train_y), val, test = (fashion.splits[k] for k in ("train", "val", "test"))
        images, labels = torch.cat([train_X, val[0]])[:, 0], torch.cat([train_y, val[1]])
        write_mnist(root, (images, labels), (test[0][:, 0], test[1]))
        return "the 60,000 real Fashion-MNIST training images"
    if SHARED.exists():
        images, labels = (read_idx(SHARED / f"t10k-{n}-idx{d}-ubyte.gz") for n, d in (("images", 3), ("labels", 1)))
        source = "the 10,000 real MNIST test digits, tiled 6x"
    else:
        images, labels = torch.randint(0, 256, (10_000, 28, 28), dtype=torch.uint8), torch.randint(0, 10, (10_000,))
        source = "random pixels (real MNIST files not found)"
    write_mnist(root, (images.repeat(6, 1, 1), labels.repeat(6)), (images, labels))
    return source


NETS = {"784-512-512-10": [512, 512], "784-16-10": [16]}
# Epochs per run: the small net's ten are experiment=mnist_mlp's own; the big net's three take as long. A run of one
# second (the small net's three epochs, before) left each ratio at the mercy of a shared machine's moment.
EPOCHS = {"784-512-512-10": 3, "784-16-10": 10}


def net_and_optimizer(device: torch.device, hiddens: list[int], **adam):
    net = MLP(784, hiddens, 10).to(device)
    return net, torch.optim.Adam(net.parameters(), lr=1e-3, **adam)


def sync(device: torch.device) -> None:
    """Wait for the device, so a clock reading covers the work queued so far."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def hand_loop(X: torch.Tensor, y: torch.Tensor, hiddens: list[int] | None, epochs: int = 1, **adam) -> float:
    """(a): whole-tensor batches from tensors already on the device, the same preprocessing as dlstudy,
    nothing else; torch's default Adam (a2: fused Adam, as dlstudy's optimizer configs use it).
    `hiddens` None: experiment=mnist_cnn's net, with its learning rate."""
    if hiddens is None:
        net = CNN((1, 28, 28), 10).to(X.device)
        opt = torch.optim.Adam(net.parameters(), lr=2e-3, **adam)
    else:
        net, opt = net_and_optimizer(X.device, hiddens, **adam)
    sync(X.device)
    start = time.perf_counter()
    for _ in range(epochs):
        for idx in torch.randperm(len(X), device=X.device).split(128):
            xb = (X[idx].float() / 255 - MEAN) / STD  # (128, 1, 28, 28)
            loss = F.cross_entropy(net(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    sync(X.device)
    return time.perf_counter() - start


def torchvision_loop(root: Path, device: torch.device) -> float:
    """(c): the common template pipeline, PIL image -> ToTensor -> Normalize per sample, then collate
    (and copy each batch to the device, from pinned memory when it is a GPU)."""
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    loader = DataLoader(datasets.MNIST(root, train=True, transform=tf), batch_size=128, shuffle=True,
                        pin_memory=device.type == "cuda")
    net, opt = net_and_optimizer(device, NETS["784-512-512-10"], fused=True)  # as (a2) and (b): pipelines only
    sync(device)
    start = time.perf_counter()
    for xb, yb in loader:
        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
        loss = F.cross_entropy(net(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    sync(device)
    return time.perf_counter() - start


SCRIPTS = Path(__file__).resolve().parent
# dlstudy-train as its console script runs it (dlstudy.cli), also where only PYTHONPATH=src finds the package
TRAIN = [sys.executable, "-c", "import sys; from dlstudy.cli import train; sys.argv[0] = 'dlstudy-train'; sys.exit(train())"]
PYTHONPATH = os.environ.get("PYTHONPATH", "")  # kept for the runs with a probe, which add scripts/
PROBE_ENV = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(SCRIPTS), PYTHONPATH]))}
QUIET = ["callbacks.progress_bar=null", "++trainer.enable_progress_bar=false", "++trainer.enable_model_summary=false"]


def dlstudy_run(root: Path, net: str | None, *overrides: str) -> tuple[float, int]:
    """(b): the `dlstudy-train experiment=mnist_mlp` process with its own settings (net None: one epoch of
    experiment=mnist_cnn, no shifts); seconds of its training epochs (as the TrainTimer probe measures them
    inside the process) and its optimizer steps."""
    stamp = root / "train_time.json"
    if net is None:
        chosen = ["experiment=mnist_cnn", "trainer.max_epochs=1", "data.max_shift=0"]
    else:
        chosen = ["experiment=mnist_mlp", f"trainer.max_epochs={EPOCHS[net]}",
                  f"model.net.num_hiddens=[{','.join(map(str, NETS[net]))}]"]
    subprocess.run([*TRAIN, *chosen, f"paths.data_dir={root}", f"hydra.run.dir={root / 'run'}", *overrides,
                    f"+callbacks.timer={{_target_:bench_callbacks.TrainTimer,path:'{stamp}'}}"],
                   check=True, env=PROBE_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(root / "run")
    result = json.loads(stamp.read_text())
    return result["seconds"], result["steps"]


def matmul_gflops(device: torch.device, n: int = 1024, reps: int = 20) -> float:
    """The machine's dense float32 matmul rate: the ceiling for an MLP."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    a @ b
    sync(device)
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(device)
    return 2 * n**3 * reps / (time.perf_counter() - start) / 1e9


def cache_bytecode() -> None:
    """Byte-compile dlstudy's own modules (src/) and the probe, as Python does at a user's first run and pip does
    at install: the timed runs then load them the way they load torch and Lightning, from cached bytecode. Where
    PYTHONDONTWRITEBYTECODE is set (it is on the machine of docs/benchmarks.md) Python writes no cache, so an
    editable install's modules were compiled again at every start, a cost the plain `import lightning` that the
    start-up is compared with never pays."""
    for folder in (PROJECT_ROOT / "src", SCRIPTS):
        if folder.is_dir():
            compileall.compile_dir(folder, quiet=1)


# dlstudy-train as TRAIN runs it, which first notes when `import lightning` is done (as dlstudy-train imports it:
# dlstudy.cli, the collector paused) in the file named by its first argument; the run then imports the rest itself
TRAIN_NOTING_IMPORT = [sys.executable, "-c", "import sys, time; from dlstudy.cli import import_paused, train; "
                       "import_paused('lightning'); open(sys.argv.pop(1), 'w').write(repr(time.time())); "
                       "sys.argv[0] = 'dlstudy-train'; sys.exit(train())"]


def startup_run(root: Path, *overrides: str) -> tuple[float, float, int]:
    """One-epoch `experiment=mnist_mlp` on the data under root: seconds from launch to its first training step and to
    its `import lightning` done, and its peak resident memory (bytes)."""
    stamp, imported = root / "first_step", root / "imported"
    stamp.unlink(missing_ok=True)
    t0 = time.time()
    subprocess.run([*TRAIN_NOTING_IMPORT, str(imported), "experiment=mnist_mlp", f"paths.data_dir={root}",
                    "trainer.max_epochs=1", f"hydra.run.dir={root / 'startup'}", *QUIET, *overrides,
                    f"+callbacks.probe={{_target_:bench_callbacks.StartupProbe,path:'{stamp}'}}"],
                   check=True, env=PROBE_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(root / "startup")
    return float(stamp.read_text()) - t0, float(imported.read_text()) - t0, int(stamp.with_suffix(".peak").read_text())


class Startup(NamedTuple):
    """Medians over the repetitions, in seconds; `beyond` is taken within each run, both ends in one process."""
    first_step: float  # launching dlstudy-train -> its first training step
    plain_import: float  # a plain `import lightning`, a process of its own, to the moment the import is done
    run_import: float  # launching dlstudy-train -> `import lightning` done inside it
    beyond: float  # within one run: its first training step - its `import lightning` done
    peak: int  # the largest peak resident memory of those one-epoch MNIST MLP runs, bytes


def startup(root: Path, reps: int) -> Startup:
    """Start-up of `dlstudy-train experiment=mnist_mlp` and a plain `import lightning`, interleaved, each after one
    warm-up so that all read the same file cache, with bytecode cached first (cache_bytecode).

    What the run does beyond importing Lightning is measured inside each run: two clock readings of one process.
    (Until 2026-11-29 it was the difference of two medians taken in separate processes, the run's and a process
    that only imported Lightning as the run does: their imports varied from process to process by more than the
    quantity itself.)"""
    def plain_import() -> float:  # to the moment the import is done, as for the first step (no exit)
        t0 = time.time()
        out = subprocess.run([sys.executable, "-c", "import lightning; import time; print(repr(time.time()))"],
                             check=True, capture_output=True, text=True).stdout
        return float(out) - t0

    cache_bytecode()
    plain_import()
    imports, runs = [], []
    for _ in range(reps):  # interleaved, like the epochs
        imports.append(plain_import())
        runs.append(startup_run(root))
    first, imported, peaks = zip(*runs)
    return Startup(statistics.median(first), statistics.median(imports), statistics.median(imported),
                   statistics.median(f - i for f, i in zip(first, imported)), max(peaks))


def sweep_seconds(root: Path, *launcher: str) -> float:
    """Wall time of a 4-job digits sweep (each job a full default run)."""
    t0 = time.time()
    subprocess.run([*TRAIN, "-m", "loss=cross_entropy,square,focal,nll", f"hydra.sweep.dir={root / 'sweep'}", *QUIET,
                    *launcher], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(root / "sweep")
    return time.time() - t0


def suite_seconds(root: Path) -> float:
    """Seconds the quick test suite (`make test`) under `root` takes; a failing suite ends the benchmark (exit 1)."""
    t0 = time.time()
    quick = ["-n", "2", "-m", "not slow and not slurm"]  # what `make test` runs
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *quick], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        print(result.stdout[-3000:], file=sys.stderr)
        sys.exit(f"error: the test suite failed (pytest exit status {result.returncode}); no time is reported")
    return time.time() - t0


def ratios(times: dict, num: tuple, den: tuple) -> list[float]:
    """num / den within each repetition, sorted."""
    return sorted(a / b for a, b in zip(times[num], times[den]))


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    """Median [lowest, highest]."""
    v = sorted(values)
    return f"{fmt.format(statistics.median(v))} [{fmt.format(v[0])}, {fmt.format(v[-1])}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--tests", action="store_true", help="also time the whole test suite")
    parser.add_argument("--gpu", action="store_true", help="epochs on CUDA: (a) and (b) with the data on the GPU "
                        "(trainer=gpu data.on_device=true), (c) copying pinned batches")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ and README.md as they are")
    args = parser.parse_args()
    if args.gpu and not torch.cuda.is_available():
        parser.error("--gpu: CUDA is not available on this machine")
    # As a plain PyTorch script sees torch (dlstudy's CPU runs drop it too; see build.plain_cuda_probe):
    os.environ.pop("PYTORCH_NVML_BASED_CUDA_CHECK", None)
    device = torch.device("cuda" if args.gpu else "cpu")
    on_gpu = ("trainer=gpu", "data.on_device=true") if args.gpu else ()
    load = [os.getloadavg()[0]]  # of a shared machine: reported with the figures
    keep_freed_memory()  # as in dlstudy-train's process
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = write_data(root)
        dm = MNISTDataModule(str(root))  # the experiment's split: 55,000 training images
        dm.setup()
        X, y = (t.to(device) for t in dm.splits["train"])
        times, steps = {}, {}
        for rep in range(args.reps):
            line = []
            for net, hiddens in NETS.items():
                for name, adam in (("a", {}), ("a2", {"fused": True})):
                    times.setdefault((net, name), []).append(hand_loop(X, y, hiddens, EPOCHS[net], **adam))
                seconds, steps[net] = dlstudy_run(root, net, *on_gpu)
                times.setdefault((net, "b"), []).append(seconds)
                line += [f"{net} {k} {times[net, k][-1]:.2f} s" for k in ("a", "a2", "b")]
            times.setdefault(("784-512-512-10", "c"), []).append(torchvision_loop(root, device))
            print(f"rep {rep}: " + ", ".join(line) + f", c {times['784-512-512-10', 'c'][-1]:.2f} s", flush=True)
        print("one CNN epoch, then start-up", flush=True)  # the phases after the repetitions, for a log cut short
        cnn_a2 = hand_loop(X, y, None, fused=True)
        cnn_b, _ = dlstudy_run(root, None, *on_gpu)
        gflops = matmul_gflops(device)
        start = startup(root, args.reps)
        if not args.gpu:  # a question about CPU cores (and the joblib launcher is not on the GPU image)
            sequential = sweep_seconds(root)
            parallel = sweep_seconds(root, *launcher(2))  # as make studies runs two at a time
    load.append(os.getloadavg()[0])
    big = "784-512-512-10"
    hand_steps = {net: EPOCHS[net] * -(-len(X) // 128) for net in NETS}
    assert all(steps[net] == hand_steps[net] for net in NETS), f"(b) took {steps} steps, the loops {hand_steps}"
    gpu = f", {torch.cuda.get_device_name()}" if args.gpu else ""
    lines = [f"Machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} CPU threads{gpu}; "
             f"Python {platform.python_version()}, torch {torch.__version__}, lightning {L.__version__}. "
             f"Load average {load[0]:.1f} at the start, {load[1]:.1f} at the end ({os.cpu_count()} cores). "
             f"Data: {source}. {args.reps} interleaved repetitions: median [lowest, highest] over them.", "",
             "| net | steps | (a) loop, µs / step | (a2) loop, fused Adam | (b) dlstudy-train | (b) − (a2), µs / step "
             "| (b)/(a2) | (b)/(a) |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for net in NETS:
        per = {k: [t / steps[net] * 1e6 for t in times[net, k]] for k in ("a", "a2", "b")}
        extra = [b - a for a, b in zip(per["a2"], per["b"])]
        lines.append(f"| MLP {net} | {steps[net]} | {spread(per['a'], '{:.0f}')} | {spread(per['a2'], '{:.0f}')} "
                     f"| {spread(per['b'], '{:.0f}')} | {spread(extra, '{:+.0f}')} "
                     f"| {spread(ratios(times, (net, 'b'), (net, 'a2')), '{:.3f}')} "
                     f"| {spread(ratios(times, (net, 'b'), (net, 'a')), '{:.3f}')} |")
    work = 3 * 2 * (784 * 512 + 512 * 512 + 512 * 10) * len(X) * EPOCHS[big] / 1e9  # forward + backward, all epochs
    c_to_b = sorted(c / (b / EPOCHS[big]) for c, b in zip(times[big, "c"], times[big, "b"]))  # (c): one epoch
    med = {k: statistics.median(v) for k, v in times.items()}
    lines += ["", "| figure | measured |", "| --- | --- |",
              f"| (c) torchvision pipeline, MLP {big}, s / epoch | {spread(times[big, 'c'])} |",
              f"| (c)/(b), MLP {big}, per epoch | {spread(c_to_b)} |",
              f"| achieved GFLOP/s, MLP {big}: (a2) / (b) | {work / med[big, 'a2']:.0f} / {work / med[big, 'b']:.0f} "
              f"(a bare 1024×1024 matmul loop: {gflops:.0f}) |",
              f"| start-up: command to first training step / plain `import lightning` / `import lightning` inside the "
              f"run (as dlstudy-train imports it, collector paused) / first step beyond it, within each run | "
              f"{start.first_step:.2f} s / {start.plain_import:.2f} s / {start.run_import:.2f} s / {start.beyond:.3f} s "
              f"({start.beyond / start.plain_import:.1%} of the plain import) |",
              f"| peak resident memory, one-epoch MNIST MLP run | {start.peak / 2**30:.2f} GiB |"]
    lines.append(f"| one CNN epoch (experiment=mnist_cnn's net, no shifts): (a2) / (b) / (b)/(a2) | {cnn_a2:.1f} s / "
                 f"{cnn_b:.1f} s / {cnn_b / cnn_a2:.3f} |")
    if not args.gpu:
        lines.append(f"| 4-job digits sweep, sequential / `{' '.join(launcher(2))}` | {sequential:.1f} s / {parallel:.1f} s |")
    small_extra = statistics.median((b - a) / a for a, b in zip(times["784-16-10", "a2"], times["784-16-10", "b"]))
    big_ratio = statistics.median(ratios(times, (big, "b"), (big, "a2")))
    beyond = start.beyond / start.plain_import  # dlstudy's own start-up, not its faster import
    targets = ["| target, at the median of the repetitions | measured | |", "| --- | --- | --- |",
              f"| MLP 784-16-10: (b)'s cost per step beyond (a2)'s ≤ 15% of (a2)'s step | {small_extra:+.1%} "
              f"| {'met' if small_extra <= 0.15 else '**not met**'} |",
              f"| MLP {big}: (b)/(a2) ≤ 1.05 | {big_ratio:.3f} | {'met' if big_ratio <= 1.05 else '**not met**'} |",
              f"| start-up beyond `import lightning` (as dlstudy-train imports it) ≤ 10% of the plain import | {beyond:.1%} "
              f"| {'met' if beyond <= 0.10 else '**not met**'} |"]
    table = "\n".join(lines + [""] + targets)
    print("\n" + table)
    if args.tests:
        seconds = suite_seconds(SCRIPTS.parent)
        print(f"test suite: {seconds:.0f} s")
        table += f"\n\nTest suite (`make test`, while the benchmark's machine was as above): {seconds:.0f} s."
    if not args.no_write:
        write_block(PROJECT_ROOT / "docs" / "benchmarks.md", "bench-gpu" if args.gpu else "bench", table)
        if not args.gpu:
            write_block(PROJECT_ROOT / "README.md", "bench-summary", "\n".join([lines[0], ""] + targets))


if __name__ == "__main__":
    main()
