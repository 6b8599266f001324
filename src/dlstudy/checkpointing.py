"""Checkpoints written atomically, and read back with weights_only=True and one clear error."""

import os
from pathlib import Path

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from dlstudy.callbacks.run_config import KEY


class AtomicCheckpointIO(TorchCheckpointIO):
    """Write next to the target, then rename: a kill mid-write never leaves a half-written checkpoint."""

    def save_checkpoint(self, checkpoint: dict, path, storage_options=None) -> None:
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            super().save_checkpoint(checkpoint, tmp, storage_options)
            os.replace(tmp, path)
        except BaseException:  # a full disk, an unpicklable value, an interrupt: the old file stays, alone
            tmp.unlink(missing_ok=True)
            raise


def load_checkpoint(path: str) -> dict:
    """Load with weights_only=True; a missing, truncated or foreign file is one clear error."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ValueError(f"ckpt_path: no such file: {path}") from None
    except Exception as e:  # torch raises several types for a damaged zip
        raise ValueError(f"ckpt_path: cannot read {path} as a checkpoint ({type(e).__name__}: {_reason(e)})") from None
    if not isinstance(ckpt, dict) or KEY not in ckpt or "state_dict" not in ckpt:
        raise ValueError(f"ckpt_path: {path} is not a dlstudy checkpoint (it has no run config)")
    return ckpt


def _reason(e: Exception) -> str:
    """The line of torch's (often many-line) error that says what is wrong with the file."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    unpickler = [line for line in lines if line.startswith("WeightsUnpickler error:")]  # an object weights_only refuses
    return (unpickler or lines or [""])[0].split(". Please use")[0]


def load_weights(module: torch.nn.Module, ckpt: dict) -> None:
    """Load the checkpoint's weights; weights of another model config are one clear error."""
    try:
        module.load_state_dict(ckpt["state_dict"])
    except RuntimeError as e:
        details = [line.strip() for line in str(e).splitlines()[1:] if line.strip()]
        raise ValueError(f"ckpt_path: its weights do not fit the model its config builds "
                         f"({details[0] if details else e})") from None
