"""Callbacks: TensorBoard diagnostics and figures, run guards, and the run config in each checkpoint."""

from dlstudy.callbacks.figures import TestFigures
from dlstudy.callbacks.guards import DivergenceGuard, Diverged, GracefulStop, Interrupted
from dlstudy.callbacks.histograms import WeightHistograms
from dlstudy.callbacks.run_config import RunConfig

__all__ = ["DivergenceGuard", "Diverged", "GracefulStop", "Interrupted", "RunConfig", "TestFigures",
           "WeightHistograms"]
