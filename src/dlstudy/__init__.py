"""dlstudy: small, honest deep-learning studies with Lightning and Hydra."""

__version__ = "0.1.0"

from pathlib import Path

from omegaconf import OmegaConf

# conf/ sits at the project root beside src/ (the package is installed editable: pip install -e .)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONF_DIR = str(PROJECT_ROOT / "conf")
OmegaConf.register_new_resolver("project_root", lambda: str(PROJECT_ROOT), replace=True)  # ${project_root:}
