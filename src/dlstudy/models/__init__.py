"""Lightning systems: a net that learns with a loss, an optimizer and metrics."""

from dlstudy.models.classifier import Classifier
from dlstudy.models.regressor import Regressor
from dlstudy.models.system import System

__all__ = ["Classifier", "Regressor", "System"]
