"""dlstudy: small, honest deep-learning studies with Lightning and Hydra."""

__version__ = "0.1.0"

from pathlib import Path

from omegaconf import OmegaConf

# conf/ sits at the project root beside src/ (the package is installed editable: pip install -e .)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONF_DIR = str(PROJECT_ROOT / "conf")
OmegaConf.register_new_resolver("project_root", lambda: str(PROJECT_ROOT), replace=True)  # ${project_root:}


def _unique_dir(path: str) -> str:
    from dlstudy.runs import unique_dir

    return unique_dir(path)


# ${unique_dir:outputs/runs/<time>} makes the folder at once (path-1, path-2, ... if taken); cached, so
# resolving the run folder twice in one process gives the same folder.
OmegaConf.register_new_resolver("unique_dir", _unique_dir, replace=True, use_cache=True)
