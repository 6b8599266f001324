"""Callbacks: TensorBoard diagnostics and figures, run guards, and the run config in each checkpoint."""

from dlstudy.callbacks.cost import Cost
from dlstudy.callbacks.diagnostics import Diagnostics
from dlstudy.callbacks.figures import TestFigures
from dlstudy.callbacks.guards import DivergenceGuard, Diverged, GracefulStop, Interrupted
from dlstudy.callbacks.histograms import WeightHistograms
from dlstudy.callbacks.information import InformationTerms
from dlstudy.callbacks.run_config import RunConfig
from dlstudy.callbacks.sequences import SequenceGradients
from dlstudy.callbacks.shifts import ShiftedTestAccuracy
from dlstudy.callbacks.test_curve import TestCurve

__all__ = ["Cost", "Diagnostics", "DivergenceGuard", "Diverged", "GracefulStop", "InformationTerms", "Interrupted",
           "RunConfig", "SequenceGradients", "ShiftedTestAccuracy", "TestCurve", "TestFigures", "WeightHistograms"]
