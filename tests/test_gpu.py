"""The GPU path; skipped with a reason where CUDA is absent."""

import pytest
import torch

from tests.conftest import scalars

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available here")]


def test_short_fit_on_gpu(train):
    run = train("trainer=gpu", "debug=fast")
    assert torch.isfinite(torch.tensor(scalars(run)["train/loss"])).all()
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True, map_location="cpu")
    assert ckpt["dlstudy_config"]["trainer"]["accelerator"] == "gpu"
