"""MNIST's IDX file format: check a file's header against its length, read one (.gz too), write one."""

import gzip
from pathlib import Path

import torch

MAGIC = {3: 2051, 1: 2049}  # uint8 images (N, H, W), uint8 labels (N,)


def check_idx(path: Path) -> None:
    """Raise ValueError naming the file if its IDX header (magic 2051/2049) or its length is wrong."""
    with open(path, "rb") as f:
        header = f.read(16)
    magic = int.from_bytes(header[:4], "big")
    ndim = {2051: 3, 2049: 1}.get(magic)
    if ndim is None or len(header) < 4 * (ndim + 1):
        raise ValueError(f"{path} is corrupted: not an MNIST IDX file (magic number {magic}, expected 2051 or 2049)")
    dims = [int.from_bytes(header[4 * i + 4:4 * i + 8], "big") for i in range(ndim)]
    expected, size = 4 * (ndim + 1) + torch.Size(dims).numel(), path.stat().st_size
    if size != expected:
        raise ValueError(f"{path} is truncated or corrupted: its header promises {expected} bytes, it has {size}; "
                         f"delete it and run again")


def read_idx(path: Path) -> torch.Tensor:
    """A uint8 IDX file, plain or .gz, as a tensor of its own shape."""
    data = (gzip.open if str(path).endswith(".gz") else open)(path, "rb").read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 * i + 4:4 * i + 8], "big") for i in range(ndim)]
    return torch.frombuffer(bytearray(data[4 * (ndim + 1):]), dtype=torch.uint8).reshape(dims)


def write_idx(path: Path, t: torch.Tensor) -> None:
    """Images (N, H, W) or labels (N,) as MNIST publishes them: magic, sizes, then the uint8 bytes."""
    t = t.to(torch.uint8)
    header = MAGIC[t.ndim].to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in t.shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + t.numpy().tobytes())


def write_mnist(data_dir: Path, train: tuple, test: tuple) -> Path:
    """(images, labels) for the train and t10k files of <data_dir>/MNIST/raw/, in torchvision's layout."""
    raw = Path(data_dir) / "MNIST" / "raw"
    for prefix, (images, labels) in (("train", train), ("t10k", test)):
        write_idx(raw / f"{prefix}-images-idx3-ubyte", torch.as_tensor(images))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", torch.as_tensor(labels))
    return Path(data_dir)
