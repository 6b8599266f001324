"""LightningDataModules that expose their shapes (`input_shape`, `num_inputs`, `num_classes`)."""

from dlstudy.data.base import InMemoryDataModule, RandomSplitDataModule
from dlstudy.data.batches import BatchLoader
from dlstudy.data.digits import DigitsDataModule
from dlstudy.data.mnist import FashionMNISTDataModule, MNISTDataModule
from dlstudy.data.sequences import AddingDataModule
from dlstudy.data.synthetic import SyntheticClassificationDataModule, SyntheticRegressionDataModule

__all__ = ["AddingDataModule", "BatchLoader", "DigitsDataModule", "FashionMNISTDataModule", "InMemoryDataModule",
           "MNISTDataModule", "RandomSplitDataModule", "SyntheticClassificationDataModule",
           "SyntheticRegressionDataModule"]
