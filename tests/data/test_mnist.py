"""MNISTDataModule on IDX files the tests write, and on real digits where they are available."""

import multiprocessing
from pathlib import Path

import pytest
import torch

from dlstudy.data import MNISTDataModule
from dlstudy.data.augment import random_shift
from dlstudy.data.idx import write_idx
from dlstudy.data.mnist import FILES
from tests.conftest import write_mnist


def test_official_split_shapes_and_normalisation(fake_mnist):
    dm = MNISTDataModule(data_dir=str(fake_mnist), val_size=100, batch_size=32, download=False)
    dm.prepare_data()
    dm.setup()
    assert {k: len(y) for k, (_, y) in dm.splits.items()} == {"train": 5100, "val": 100, "test": 100}
    X_train, _ = dm.splits["train"]
    assert X_train.dtype == torch.uint8 and X_train.shape[1:] == (1, 28, 28)
    train_rows = {bytes(x.numpy()) for x in torch.cat([dm.splits["train"][0], dm.splits["val"][0]])}
    assert not any(bytes(x.numpy()) in train_rows for x in dm.splits["test"][0]), "test never mixed into training"
    X, y = dm.on_after_batch_transfer(next(iter(dm.test_dataloader())), 0)
    assert X.shape == (32, 1, 28, 28) and X.dtype == torch.float32
    torch.testing.assert_close(X, (dm.splits["test"][0][:32].float() / 255 - 0.1307) / 0.3081)


def test_gz_files_are_used_without_network(tmp_path):
    images, labels = torch.randint(0, 256, (50, 28, 28)), torch.randint(0, 10, (50,))
    data_dir = write_mnist(tmp_path, (images, labels), (images[:20], labels[:20]), gz=True)
    dm = MNISTDataModule(data_dir=str(data_dir), val_size=10, download=False)
    dm.prepare_data()
    dm.setup()
    assert torch.equal(dm.splits["test"][0][:, 0], images[:20].to(torch.uint8))


def test_missing_files_name_the_folder_and_files(tmp_path):
    dm = MNISTDataModule(data_dir=str(tmp_path), download=False)
    with pytest.raises(ValueError) as e:
        dm.prepare_data()
    message = str(e.value)
    assert str(tmp_path / "MNIST" / "raw") in message and all(name in message for name in FILES)


@pytest.mark.parametrize("damage, message", [
    (lambda p: p.write_bytes(p.read_bytes()[:-100]), "truncated"),
    (lambda p: p.write_bytes(b"\x00\x00\x09\x99" + p.read_bytes()[4:]), "not an IDX file"),
])
def test_damaged_files_are_named(fake_mnist, damage, message):
    path = fake_mnist / "MNIST" / "raw" / "train-images-idx3-ubyte"
    damage(path)
    dm = MNISTDataModule(data_dir=str(fake_mnist), val_size=100, download=False)
    with pytest.raises(ValueError, match=message) as e:
        dm.setup()
    assert str(path) in str(e.value)


def test_truncated_gz_is_named(tmp_path):
    images, labels = torch.randint(0, 256, (50, 28, 28)), torch.randint(0, 10, (50,))
    raw = write_mnist(tmp_path, (images, labels), (images, labels), gz=True) / "MNIST" / "raw"
    gz = raw / "t10k-images-idx3-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:200])
    with pytest.raises(ValueError, match="truncated or corrupted") as e:
        MNISTDataModule(data_dir=str(tmp_path), val_size=10, download=False).setup()
    assert str(gz) in str(e.value)


def _slow_download(self) -> None:
    """Stands in for torchvision's download: counts itself, then writes the files one by one."""
    import time

    if self._check_exists():  # as torchvision's own download does
        return
    with open(Path(self.root) / "downloads.log", "a") as f:
        f.write("1\n")
    images, labels = torch.arange(3000 * 784).remainder(256).reshape(3000, 28, 28), torch.arange(3000).remainder(10)
    for prefix in ("train", "t10k"):
        time.sleep(0.2)
        write_idx(Path(self.raw_folder) / f"{prefix}-images-idx3-ubyte", images)
        write_idx(Path(self.raw_folder) / f"{prefix}-labels-idx1-ubyte", labels)


def _prepare_with_slow_download(data_dir: str) -> None:
    from torchvision.datasets import MNIST

    MNIST.download = _slow_download
    MNISTDataModule(data_dir=data_dir, val_size=10).prepare_data()


@pytest.mark.slow
def test_parallel_jobs_download_once_and_never_see_half_the_files(tmp_path):
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters, as parallel jobs are (fork + torch can hang)
    procs = [ctx.Process(target=_prepare_with_slow_download, args=(str(tmp_path),)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    assert (tmp_path / "downloads.log").read_text() == "1\n", "the second job waited and found the files"
    dm = MNISTDataModule(data_dir=str(tmp_path), val_size=10, download=False)
    dm.setup()
    assert len(dm.splits["test"][1]) == 3000


def test_random_shift_moves_each_image_within_bounds():
    torch.manual_seed(0)
    X = torch.zeros(64, 1, 28, 28)
    X[:, :, 14, 14] = 1.0
    shifted = random_shift(X, 2)
    assert shifted.shape == X.shape and torch.all(shifted.sum((1, 2, 3)) == 1)
    where = shifted[:, 0].flatten(1).argmax(1)
    rows, cols = where // 28, where % 28
    assert rows.sub(14).abs().max() <= 2 and cols.sub(14).abs().max() <= 2
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 5, "images get different shifts"


def test_bad_settings():
    with pytest.raises(ValueError, match="val_size"):
        MNISTDataModule(val_size=60_000)
    with pytest.raises(ValueError, match="data_dir"):
        MNISTDataModule(data_dir="/proc/no-such/place").prepare_data()


def test_idx_round_trip_matches_torchvision(tmp_path):
    import gzip

    from torchvision.datasets.mnist import read_image_file, read_label_file

    from dlstudy.data.idx import read_idx, write_idx

    images, labels = torch.randint(0, 256, (7, 28, 28), dtype=torch.uint8), torch.randint(0, 10, (7,))
    write_idx(tmp_path / "i", images)
    write_idx(tmp_path / "l", labels)
    assert torch.equal(read_image_file(str(tmp_path / "i")), images)
    assert torch.equal(read_label_file(str(tmp_path / "l")), labels)
    (tmp_path / "i.gz").write_bytes(gzip.compress((tmp_path / "i").read_bytes()))
    assert torch.equal(read_idx(tmp_path / "i.gz"), images) and torch.equal(read_idx(tmp_path / "l"), labels.byte())
    assert torch.equal(read_idx(tmp_path / "i", mapped=True), images)
    (tmp_path / "empty").write_bytes(b"")
    for mapped in (True, False):
        with pytest.raises(ValueError, match="not an IDX file"):
            read_idx(tmp_path / "empty", mapped=mapped)


def test_a_gz_file_is_decompressed_once_per_version_and_each_read_is_its_own_copy(tmp_path, monkeypatch):
    """A sweep's worker runs job after job on the same .gz files: they are decompressed once, unless rewritten."""
    import gzip

    from dlstudy.data import idx

    calls, decompress = [], gzip.decompress
    monkeypatch.setattr(gzip, "decompress", lambda data: calls.append(1) or decompress(data))
    idx._decompressed.cache_clear()
    images = torch.randint(0, 256, (7, 28, 28), dtype=torch.uint8)
    write_idx(tmp_path / "i", images)
    path = tmp_path / "i.gz"
    path.write_bytes(gzip.compress((tmp_path / "i").read_bytes()))
    first = idx.read_idx(path)
    first.zero_()  # a caller that writes into what it was given
    assert torch.equal(idx.read_idx(path), images) and len(calls) == 1
    path.write_bytes(gzip.compress(b"not an IDX file at all"))
    with pytest.raises(ValueError, match="not an IDX file"):  # the rewritten file, not the cached one
        idx.read_idx(path)
    assert len(calls) == 2


def test_splits_do_not_change_when_the_files_are_rewritten(fake_mnist):
    """setup maps the image files instead of reading them; every split must still be a copy of its own."""
    dm = MNISTDataModule(data_dir=str(fake_mnist), val_size=100, download=False)
    dm.setup()
    before = {k: (X.clone(), y.clone()) for k, (X, y) in dm.splits.items()}
    raw = fake_mnist / "MNIST" / "raw"
    for prefix in ("train", "t10k"):
        path = raw / f"{prefix}-images-idx3-ubyte"
        data = bytearray(path.read_bytes())
        data[16:] = bytes(255 - b for b in data[16:])  # same size, every pixel changed
        path.write_bytes(bytes(data))
    assert all(torch.equal(dm.splits[k][0], X) and torch.equal(dm.splits[k][1], y) for k, (X, y) in before.items())


@pytest.mark.parametrize("on_device", [True, False])
def test_on_device_keeps_the_data_on_the_trainers_device(fake_mnist, on_device):
    """A trainer whose device is `meta` (any device but the CPU would do): the split moves there once."""
    from types import SimpleNamespace

    dm = MNISTDataModule(str(fake_mnist), val_size=100, on_device=on_device)
    dm.setup()
    dm.trainer = SimpleNamespace(strategy=SimpleNamespace(root_device=torch.device("meta")), global_rank=0,
                                 world_size=1)
    X, y = next(iter(dm.val_dataloader()))
    expected = "meta" if on_device else "cpu"
    assert X.device.type == y.device.type == dm.splits["val"][0].device.type == expected
    assert dm.splits["train"][0].device.type == "cpu", "only the split asked for moves"
