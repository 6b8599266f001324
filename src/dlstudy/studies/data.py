"""Which data a study runs on: Fashion-MNIST where its files are installed, the experiment's own digits otherwise."""

import tempfile
from pathlib import Path

FASHION = ["data=fashion_mnist", "data.download=false"]


def fashion_or_digits(experiment: str, *overrides: str) -> list[str]:
    """The overrides that put `experiment` on Fashion-MNIST (with `overrides`), or [] where it cannot read it."""
    from hydra.utils import instantiate

    from dlstudy.build import compose_train

    chosen = [*FASHION, *overrides]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            dm = instantiate(compose_train(f"experiment={experiment}", *chosen, output_dir=Path(tmp)).data)
            dm.prepare_data()
    except Exception as e:  # no config, no files: say so and go on with digits
        print(f"[{experiment}] Fashion-MNIST not available ({type(e).__name__}: {e}); using digits", flush=True)
        return []
    return chosen


def conv_vs_mlp() -> list[str]:
    return fashion_or_digits("conv_vs_mlp")


def loss_comparison() -> list[str]:
    return fashion_or_digits("loss_comparison", "trainer.max_epochs=5")
