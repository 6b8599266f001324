"""MNIST and Fashion-MNIST: the same IDX format, split and code; their own statistics, classes and sources."""

from dlstudy.data.idx_images import FILES, IDXImageDataModule

__all__ = ["FILES", "FashionMNISTDataModule", "MNISTDataModule"]


class MNISTDataModule(IDXImageDataModule):
    """Handwritten digits (LeCun et al. 1998); `on_device=True` keeps the whole set on the GPU."""

    name = "MNIST"
    mean, std = 0.1307, 0.3081
    class_names = tuple(str(d) for d in range(10))


class FashionMNISTDataModule(IDXImageDataModule):
    """Zalando's clothes (Xiao et al. 2017): MNIST's format, far from solved by an MLP.

    Debian and Ubuntu install the official files with `apt-get install dataset-fashion-mnist`; they are
    read in place. `hflip=True` mirrors training images (sensible for clothes, not for digits).
    """

    name = "FashionMNIST"
    mean, std = 0.2860, 0.3530
    class_names = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")
    installed_dirs = ("/usr/share/datasets/fashion-mnist",)
    install_hint = "on Debian or Ubuntu: apt-get install dataset-fashion-mnist"
