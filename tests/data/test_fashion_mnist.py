"""Fashion-MNIST: the MNIST code with its own sources, statistics, classes and flips; real files where installed."""

import errno
import os
import urllib.error
from pathlib import Path

import pytest
import torch

from dlstudy.data import FashionMNISTDataModule
from dlstudy.data.augment import random_hflip
from dlstudy.data.idx import read_idx
from dlstudy.data.mnist import FILES
from tests.conftest import scalars, write_mnist

INSTALLED = Path(FashionMNISTDataModule.installed_dirs[0])


def fake_set(data_dir: Path, n: int = 300, name: str = "FashionMNIST", gz: bool = True, offset: int = 0) -> Path:
    g = torch.Generator().manual_seed(offset)
    split = (torch.randint(0, 256, (n, 28, 28), generator=g), torch.randint(0, 10, (n,), generator=g))
    return write_mnist(data_dir, split, split, gz=gz, name=name)


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """A stand-in for the Debian package's folder (its .gz files directly inside)."""
    folder = fake_set(tmp_path / "pkg", offset=1) / "FashionMNIST" / "raw"
    monkeypatch.setattr(FashionMNISTDataModule, "installed_dirs", (str(folder),))
    return folder


def test_data_dir_comes_first_then_the_installed_copy_in_place(tmp_path, installed):
    own = fake_set(tmp_path / "own", offset=2)
    assert FashionMNISTDataModule(data_dir=str(own)).source() == own / "FashionMNIST" / "raw"
    empty = tmp_path / "empty"
    dm = FashionMNISTDataModule(data_dir=str(empty), val_size=10)
    before = sorted(installed.iterdir())
    dm.prepare_data()
    dm.setup()
    assert dm.source() == installed and torch.equal(dm.splits["test"][0], read_idx(installed / f"{FILES[2]}.gz")[:, None])
    assert sorted(installed.iterdir()) == before and not empty.exists(), "read in place: nothing written anywhere"


def test_no_files_anywhere_is_one_line_naming_folders_files_and_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr(FashionMNISTDataModule, "installed_dirs", (str(tmp_path / "pkg"),))
    with pytest.raises(ValueError) as e:
        FashionMNISTDataModule(data_dir=str(tmp_path), download=False).prepare_data()
    message = str(e.value)
    assert "\n" not in message and str(tmp_path / "FashionMNIST" / "raw") in message and str(tmp_path / "pkg") in message
    assert all(name in message for name in FILES) and "apt-get install dataset-fashion-mnist" in message


def _urlretrieve_raising(error):
    def fake(url, filename, chunk_size=None):
        raise error
    return fake


def _urlretrieve_garbage(url, filename, chunk_size=None):
    Path(filename).write_bytes(b"not the file the checksum expects")


@pytest.mark.parametrize("fake, expected", [
    (_urlretrieve_raising(urllib.error.URLError("[Errno -3] Temporary failure in name resolution")), "no network"),
    (_urlretrieve_garbage, "failed its checksum"),
    (_urlretrieve_raising(OSError(errno.ENOSPC, "No space left on device")), "no space left"),
    (_urlretrieve_raising(PermissionError(errno.EACCES, "Permission denied", "x.gz")), "no permission to write"),
])
def test_each_download_failure_has_its_own_message(tmp_path, monkeypatch, fake, expected):
    """torchvision's real download code, with only the transfer replaced."""
    from torchvision.datasets import utils

    monkeypatch.setattr(FashionMNISTDataModule, "installed_dirs", ())
    monkeypatch.setattr(utils, "_get_redirect_url", lambda url, max_hops=3: url)
    monkeypatch.setattr(utils, "_urlretrieve", fake)
    with pytest.raises(ValueError) as e:
        FashionMNISTDataModule(data_dir=str(tmp_path)).prepare_data()
    assert expected in str(e.value) and "\n" not in str(e.value)


def test_flips_mirror_about_half_the_images_and_only_in_training(tmp_path, installed):
    torch.manual_seed(0)
    X = torch.rand(400, 1, 28, 28)
    flipped = random_hflip(X)
    same, mirrored = (flipped == X).flatten(1).all(1), (flipped == X.flip(-1)).flatten(1).all(1)
    assert bool((same ^ mirrored).all()) and 150 < int(mirrored.sum()) < 250
    dm = FashionMNISTDataModule(data_dir=str(tmp_path), val_size=10, hflip=True)
    dm.setup()
    batch = next(iter(dm.test_dataloader()))
    X_test, _ = dm.on_after_batch_transfer(batch, 0)  # no trainer: not training, so no flips
    torch.testing.assert_close(X_test, (batch[0].float() / 255 - dm.mean) / dm.std)


def need_installed() -> None:
    if all((INSTALLED / f"{name}.gz").exists() for name in FILES):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"Fashion-MNIST is not installed in {INSTALLED}: .ci/run installs dataset-fashion-mnist")
    pytest.skip(f"the real Fashion-MNIST files are not installed (apt-get install dataset-fashion-mnist)")


def test_the_installed_files_are_the_official_split_with_this_sets_statistics(tmp_path):
    need_installed()
    dm = FashionMNISTDataModule(data_dir=str(tmp_path / "none"), val_size=5000)
    dm.setup()
    assert {k: len(y) for k, (_, y) in dm.splits.items()} == {"train": 55_000, "val": 5000, "test": 10_000}
    assert dm.splits["test"][1].bincount().tolist() == [1000] * 10
    pixels = torch.cat([dm.splits["train"][0], dm.splits["val"][0]]).float() / 255
    assert (round(pixels.mean().item(), 4), round(pixels.std().item(), 4)) == (dm.mean, dm.std)


@pytest.mark.slow
def test_real_fashion_trains_through_the_cli_and_names_its_classes(train, tmp_path):
    need_installed()
    run = train("data=fashion_mnist", f"paths.data_dir={tmp_path / 'none'}", "trainer.max_epochs=1",
                "trainer.limit_train_batches=100", "callbacks.histograms=null")
    assert scalars(run)["test/acc"][-1] > 0.75, "100 steps of an MLP on the real 55,000 training images"
