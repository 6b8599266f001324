"""Callbacks: TensorBoard diagnostics and figures, and the run config in each checkpoint."""

from dlstudy.callbacks.figures import TestFigures
from dlstudy.callbacks.histograms import WeightHistograms
from dlstudy.callbacks.run_config import RunConfig

__all__ = ["RunConfig", "TestFigures", "WeightHistograms"]
