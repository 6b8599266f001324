"""dlstudy-predict ckpt_path=... input=<folder of PNGs | file.npy>: one CSV row per input image."""

import csv
import logging
from pathlib import Path

import hydra
import numpy as np
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from PIL import Image

from dlstudy import CONF_DIR
from dlstudy.build import build_system, one_line
from dlstudy.callbacks.run_config import KEY
from dlstudy.checkpointing import load_checkpoint, load_weights
from dlstudy.train import fail

log = logging.getLogger(__name__)


def read_inputs(path: Path, shape: tuple[int, int, int]) -> tuple[list[str], torch.Tensor]:
    """Names and uint8 pixels (N, C, H, W) from PNG files or an .npy array; any other size or mode is an error."""
    C, H, W = shape
    mode = {1: "L", 3: "RGB"}[C]
    if path.suffix == ".npy":
        array = np.load(path, allow_pickle=False)
        if array.dtype != np.uint8 or array.reshape(len(array), -1).shape[1] != C * H * W:
            raise ValueError(f"input: {path} holds {array.dtype} of shape {array.shape}; "
                             f"this model reads uint8 images of shape (N, {C}, {H}, {W})")
        return [f"{path.name}[{i}]" for i in range(len(array))], torch.from_numpy(array).reshape(-1, C, H, W)
    files = sorted(path.glob("*.png")) if path.is_dir() else []
    if not files:
        raise ValueError(f"input: {path} is neither a folder of .png images nor an .npy file")
    images = []
    for f in files:
        with Image.open(f) as im:
            if im.size != (W, H) or im.mode != mode:
                raise ValueError(f"input: {f.name} is {im.size[0]}x{im.size[1]} mode {im.mode}; "
                                 f"this model reads {W}x{H} mode {mode}")
            images.append(torch.from_numpy(np.array(im)).reshape(C, H, W))
    return [f.name for f in files], torch.stack(images)


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="predict")
def main(cfg: DictConfig) -> None:
    try:
        ckpt = load_checkpoint(cfg.ckpt_path)
        run_cfg = OmegaConf.create(ckpt[KEY])
        datamodule = instantiate(run_cfg.data)
        system = build_system(run_cfg, datamodule)
        if system.task != "classification" or not hasattr(datamodule, "from_uint8"):
            raise ValueError(f"ckpt_path: predict reads images for a classifier; this run is "
                             f"{system.task} on {type(datamodule).__name__}")
        load_weights(system, ckpt)
        inputs, pixels = read_inputs(Path(cfg.input), tuple(datamodule.input_shape))
    except (ValueError, TypeError, RuntimeError, OSError, InstantiationException) as e:
        fail(one_line(e))
    system.eval()
    with torch.no_grad():
        probs = torch.cat([system(datamodule.from_uint8(chunk)).softmax(-1) for chunk in pixels.split(cfg.batch_size)])
    p, label = probs.max(-1)  # (N,), (N,)
    names = getattr(datamodule, "class_names", None) or [str(k) for k in range(probs.shape[-1])]
    Path(cfg.output).parent.mkdir(parents=True, exist_ok=True)
    with open(cfg.output, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["input", "predicted_class", "class_name", "probability"])
        classes = label.tolist()
        writer.writerows(zip(inputs, classes, (names[k] for k in classes), (round(x, 6) for x in p.tolist())))
    log.info("%d predictions written to %s", len(inputs), cfg.output)


if __name__ == "__main__":
    main()
