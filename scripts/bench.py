"""Epoch time of dlstudy's Trainer pipeline against a hand-written loop and the usual torchvision pipeline,
with start-up time, peak memory, achieved GFLOP/s, sweep throughput and (--tests) the suite's duration.

    python scripts/bench.py [--reps 5] [--tests] [--gpu]      (make bench)

Workload: 60,000 x 1x28x28 uint8 images: the real Fashion-MNIST training images where Debian's
dataset-fashion-mnist is installed (else the real MNIST test digits tiled 6x when ../shared has them, else
random pixels), written in MNIST's layout so that `experiment=mnist_mlp` reads them; MLP 784-512-512-10,
batch 128, Adam. After the MLP repetitions, one CNN epoch (experiment=mnist_cnn's net) by the hand loop
and by dlstudy, their ratio reported alongside. The three MLP pipelines run interleaved, one
training epoch each per repetition; each ratio is taken within a repetition and its median reported,
so slow drifts of a shared machine cancel:
  (a) hand-written loop over in-memory tensors (the floor);
  (b) dlstudy: the real `experiment=mnist_mlp` run with its default callbacks and logging;
  (c) torchvision.datasets.MNIST + per-sample ToTensor/Normalize + DataLoader, same net and loop as (a).
"""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import Callback
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from dlstudy import PROJECT_ROOT
from dlstudy.data.idx import read_idx, write_mnist
from dlstudy.data.mnist import MNISTDataModule
from dlstudy.nets import CNN, MLP

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


def net_and_optimizer(device: torch.device, **adam):
    net = MLP(784, [512, 512], 10).to(device)
    return net, torch.optim.Adam(net.parameters(), lr=1e-3, **adam)


def sync(device: torch.device) -> None:
    """Wait for the device, so a clock reading covers the work queued so far."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def hand_loop(X: torch.Tensor, y: torch.Tensor, cnn: bool = False, **adam) -> float:
    """(a): whole-tensor batches from tensors already on the device, the same preprocessing as dlstudy,
    nothing else; torch's default Adam (a2: fused Adam, as dlstudy's optimizer configs use it)."""
    net, opt = net_and_optimizer(X.device, **adam)
    if cnn:  # experiment=mnist_cnn's net, with its learning rate
        net = CNN((1, 28, 28), 10).to(X.device)
        opt = torch.optim.Adam(net.parameters(), lr=2e-3, **adam)
    sync(X.device)
    start = time.perf_counter()
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
    net, opt = net_and_optimizer(device)
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


class EpochTimer(Callback):
    """Seconds of each training epoch, from its first batch to its end (validation excluded)."""

    def __init__(self):
        self.seconds: list[float] = []

    def on_train_epoch_start(self, trainer, pl_module):
        sync(pl_module.device)
        self.start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module):
        sync(pl_module.device)
        self.seconds.append(time.perf_counter() - self.start)


def dlstudy_epoch(root: Path, out: Path, *overrides: str, experiment: str = "mnist_mlp") -> float:
    """(b): the real app's parts, composed from conf/ as `dlstudy-train experiment=mnist_mlp` would."""
    from dlstudy.build import build, build_trainer, compose_train

    cfg = compose_train(f"experiment={experiment}", f"paths.data_dir={root}", "optimizer.lr=0.001", "scheduler=none",
                        "trainer.max_epochs=1", "++trainer.limit_val_batches=0", "data.val_size=1", *overrides,
                        output_dir=out)
    datamodule, system = build(cfg)
    trainer = build_trainer(cfg)
    timer = EpochTimer()
    trainer.callbacks.append(timer)
    trainer.fit(system, datamodule=datamodule)
    return timer.seconds[-1]


SCRIPTS = Path(__file__).resolve().parent
TRAIN = [sys.executable, "-m", "dlstudy.train"]  # dlstudy-train, also where only PYTHONPATH=src finds the package
PYTHONPATH = os.environ.get("PYTHONPATH", "")  # kept for the start-up runs, which add scripts/
QUIET = ["callbacks.progress_bar=null", "++trainer.enable_progress_bar=false", "++trainer.enable_model_summary=false"]


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


def startup(root: Path, reps: int = 3) -> tuple[float, float, int]:
    """Median seconds from launching `dlstudy-train` to its first training step, and to `import lightning`
    (after one warm-up, so both read the same file cache), and the peak resident memory (bytes) of those
    one-epoch MNIST MLP runs, as each run reports it."""
    def import_lightning() -> float:  # to the moment the import is done, as for the first step (no exit)
        t0 = time.time()
        out = subprocess.run([sys.executable, "-c", "import lightning, time; print(repr(time.time()))"], check=True,
                             capture_output=True, text=True).stdout
        return float(out) - t0

    def first_step() -> tuple[float, int]:
        stamp = root / "first_step"
        stamp.unlink(missing_ok=True)
        t0 = time.time()
        subprocess.run([*TRAIN, "experiment=mnist_mlp", f"paths.data_dir={root}", "trainer.max_epochs=1",
                        f"hydra.run.dir={root / 'startup'}", *QUIET,
                        f"+callbacks.probe={{_target_:bench_callbacks.StartupProbe,path:'{stamp}'}}"],
                       check=True, env=os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(SCRIPTS), PYTHONPATH]))},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(root / "startup")
        return float(stamp.read_text()) - t0, int(stamp.with_suffix(".peak").read_text())

    import_lightning()
    imports, firsts, peaks = [], [], []
    for _ in range(reps):  # interleaved, like the epochs
        imports.append(import_lightning())
        seconds, peak = first_step()
        firsts.append(seconds)
        peaks.append(peak)
    return statistics.median(firsts), statistics.median(imports), max(peaks)


def sweep_seconds(root: Path, *launcher: str) -> float:
    """Wall time of a 4-job digits sweep (each job a full default run)."""
    t0 = time.time()
    subprocess.run([*TRAIN, "-m", "loss=cross_entropy,square,focal,nll", f"hydra.sweep.dir={root / 'sweep'}", *QUIET,
                    *launcher], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(root / "sweep")
    return time.time() - t0


def suite_seconds(root: Path) -> float:
    """Seconds the test suite under `root` takes; a failing suite ends the benchmark (exit status 1)."""
    t0 = time.time()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        print(result.stdout[-3000:], file=sys.stderr)
        sys.exit(f"error: the test suite failed (pytest exit status {result.returncode}); no time is reported")
    return time.time() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--tests", action="store_true", help="also time the whole test suite")
    parser.add_argument("--gpu", action="store_true", help="epochs on CUDA: (a) and (b) with the data on the GPU "
                        "(trainer=gpu data.on_device=true), (c) copying pinned batches")
    args = parser.parse_args()
    if args.gpu and not torch.cuda.is_available():
        parser.error("--gpu: CUDA is not available on this machine")
    # As a plain PyTorch script sees torch (dlstudy's CPU runs drop it too; see build.plain_cuda_probe):
    os.environ.pop("PYTORCH_NVML_BASED_CUDA_CHECK", None)
    device = torch.device("cuda" if args.gpu else "cpu")
    on_gpu = ("trainer=gpu", "data.on_device=true") if args.gpu else ()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = write_data(root)
        dm = MNISTDataModule(str(root), val_size=1)
        dm.setup()
        X, y = (t.to(device) for t in dm.splits["train"])
        times = {"a": [], "a2": [], "b": [], "c": []}
        for rep in range(args.reps):
            times["a"].append(hand_loop(X, y))
            times["a2"].append(hand_loop(X, y, fused=True))
            times["b"].append(dlstudy_epoch(root, root / f"run{rep}", *on_gpu))
            times["c"].append(torchvision_loop(root, device))
            print(f"rep {rep}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
        cnn_a2 = hand_loop(X, y, cnn=True, fused=True)
        cnn_b = dlstudy_epoch(root, root / "cnn", *on_gpu, "data.max_shift=0", experiment="mnist_cnn")
        gflops = matmul_gflops(device)
        first_step, import_s, peak = startup(root)
        if not args.gpu:  # a question about CPU cores (and the joblib launcher is not on the GPU image)
            sequential = sweep_seconds(root)
            parallel = sweep_seconds(root, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    med = {k: statistics.median(v) for k, v in times.items()}
    work = 3 * 2 * (784 * 512 + 512 * 512 + 512 * 10) * len(X) / 1e9  # forward + backward, one epoch
    gpu = f", {torch.cuda.get_device_name()}" if args.gpu else ""
    print(f"\nmachine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads{gpu}, "
          f"torch {torch.__version__}; data: {source}; {args.reps} interleaved repetitions, medians")
    print("| pipeline | s / epoch |\n| --- | --- |")
    print(f"| (a) hand-written loop, in-memory tensors | {med['a']:.2f} |")
    print(f"| (a2) the same loop with fused Adam | {med['a2']:.2f} |")
    print(f"| (b) dlstudy Trainer pipeline (default callbacks, logging) | {med['b']:.2f} |")
    print(f"| (c) torchvision Dataset + ToTensor/Normalize + DataLoader | {med['c']:.2f} |")
    print("\nratios, each taken within one repetition: median [lowest, highest]")
    for num, den in (("b", "a"), ("b", "a2"), ("c", "b")):
        r = sorted(x / y for x, y in zip(times[num], times[den]))
        print(f"  ({num})/({den}) = {statistics.median(r):.3f}  [{r[0]:.3f}, {r[-1]:.3f}]")
    print(f"\none CNN epoch (experiment=mnist_cnn's net, no shifts): hand loop with fused Adam {cnn_a2:.2f} s, "
          f"dlstudy {cnn_b:.2f} s, ratio {cnn_b / cnn_a2:.3f}")
    print(f"\nachieved: (a) {work / med['a']:.0f} GFLOP/s, (b) {work / med['b']:.0f} GFLOP/s; "
          f"bare 1024x1024 matmul loop: {gflops:.0f} GFLOP/s")
    print(f"start-up: command to first training step {first_step:.2f} s; `import lightning` {import_s:.2f} s; "
          f"difference {first_step - import_s:.2f} s")
    print(f"peak resident memory of a one-epoch MNIST MLP run: {peak / 2**30:.2f} GiB")
    if not args.gpu:
        print(f"4-job digits sweep: sequential {sequential:.1f} s, joblib n_jobs=2 {parallel:.1f} s, "
              f"ratio {sequential / parallel:.2f}")
    if args.tests:
        print(f"test suite: {suite_seconds(SCRIPTS.parent):.0f} s")


if __name__ == "__main__":
    main()
