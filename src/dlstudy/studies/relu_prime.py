"""relu_prime in `make studies`: the training sweep (experiment=relu_prime), then Bertoin et al.'s Section 3 grid
(dlstudy-relu-prime) written beside the jobs, and one block from both (dlstudy.relu_prime_report)."""

import json
from pathlib import Path

from dlstudy.resolvers import PROJECT_ROOT

SECTION3 = "section3.json"
SHARED_MNIST = PROJECT_ROOT.parent / "shared" / "data" / "mnist" / "raw"


def section3(sweep: Path) -> None:
    """The grid without training: MNIST's images where ../shared has them, else Fashion-MNIST's first 10,000."""
    from dlstudy.relu_prime import main

    data = ["--data", "mnist", "--folder", str(SHARED_MNIST)] if SHARED_MNIST.is_dir() else ["--data", "fashion"]
    main([*data, "--images", "10000", "--out", str(sweep / SECTION3)])


def report(sweep: Path, figures: Path) -> str:
    from dlstudy.relu_prime_report import figure, section

    result = json.loads((sweep / SECTION3).read_text())
    figures.mkdir(parents=True, exist_ok=True)
    figure(result).savefig(figures / "relu_prime.png", dpi=100)
    return section(result, [sweep])
