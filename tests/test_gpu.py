"""The GPU path; skipped with a reason where CUDA is absent."""

import json

import pytest
import torch

from tests.conftest import scalars

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available here")]


def test_short_fit_on_gpu(train, tmp_path):
    """trainer=gpu trains on the GPU: the weights and the batches are there, not only the config says so."""
    where = tmp_path / "devices.json"
    run = train("trainer=gpu", "debug=fast",
                f"+callbacks.devices={{_target_:tests.helpers.devices.RecordDevices,path:'{where}'}}")
    assert torch.isfinite(torch.tensor(scalars(run)["train/loss"])).all()
    assert json.loads(where.read_text()) == {"weights": "cuda:0", "batch": "cuda:0"}


def test_on_device_data_lives_on_the_gpu(tmp_path, fake_mnist):
    from dlstudy.build import build, build_trainer, compose_train

    cfg = compose_train("trainer=gpu", "data=mnist", f"paths.data_dir={fake_mnist}", "data.on_device=true",
                        "debug=fast", "trainer.precision=bf16-mixed", "callbacks.progress_bar=null", output_dir=tmp_path)
    datamodule, system = build(cfg)
    build_trainer(cfg).fit(system, datamodule=datamodule)
    assert datamodule.splits["train"][0].is_cuda, "the whole training set moved to the GPU once"


def test_divergence_on_gpu_names_the_first_bad_step():
    """On a GPU the guard reads losses in groups of 50 (no wait for the device each step)."""
    from dlstudy.callbacks import DivergenceGuard, Diverged
    from tests.callbacks.test_guards import NaNAt, loader
    from tests.conftest import quick_trainer

    trainer = quick_trainer(accelerator="gpu", max_epochs=1, callbacks=[DivergenceGuard()])
    with pytest.raises(Diverged, match="at step 2 "):
        trainer.fit(NaNAt(bad_step=2), train_dataloaders=loader(batch_size=1))  # 64 steps
    assert trainer.global_step == 50, "the first 50 losses were read together"
