"""dlstudy: small, honest deep-learning studies with Lightning and Hydra."""

__version__ = "0.1.0"

from pathlib import Path

# conf/ sits at the project root beside src/ (the package is installed editable: pip install -e .)
CONF_DIR = str(Path(__file__).resolve().parents[2] / "conf")
