"""dlstudy: small, honest deep-learning studies with Lightning and Hydra."""

__version__ = "0.1.0"

from dlstudy.resolvers import PROJECT_ROOT, register

# conf/ sits at the project root beside src/ (the package is installed editable: pip install -e .)
CONF_DIR = str(PROJECT_ROOT / "conf")
register()
