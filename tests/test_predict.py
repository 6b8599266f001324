"""dlstudy-predict: a checkpoint's own preprocessing on PNG folders and .npy arrays."""

import csv
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from dlstudy.build import build
from dlstudy.callbacks.run_config import KEY
from omegaconf import OmegaConf


def predict(monkeypatch, tmp_path, ckpt, source):
    from dlstudy.predict import main

    out = tmp_path / "pred" / "p.csv"
    monkeypatch.setattr(sys, "argv", ["dlstudy-predict", f"hydra.run.dir={tmp_path / 'pred'}", f"ckpt_path={ckpt}",
                                      f"input={source}", f"output={out}"])
    main()
    with open(out) as f:
        return list(csv.DictReader(f))


def reference(ckpt_path, pixels):
    """What the trained system predicts for these uint8 images through the training-time batch path."""
    ckpt = torch.load(ckpt_path, weights_only=True)
    dm, system = build(OmegaConf.create(ckpt[KEY]))
    system.load_state_dict(ckpt["state_dict"])
    X, _ = dm.on_after_batch_transfer((pixels, torch.zeros(len(pixels), dtype=torch.long)), 0)
    with torch.no_grad():
        return system.eval()(X).softmax(-1).max(-1)


@pytest.mark.parametrize("model", ["mlp_classifier", "cnn_classifier", "rnn_classifier"])
def test_png_folder_and_npy_give_the_systems_predictions(train, fake_mnist, monkeypatch, tmp_path, model):
    run = train("data=mnist", f"model={model}", f"paths.data_dir={fake_mnist}", "debug=fast")
    ckpt = run / "checkpoints" / "last.ckpt"
    pixels = torch.randint(0, 256, (5, 1, 28, 28), dtype=torch.uint8)
    folder = tmp_path / "pngs"
    folder.mkdir()
    for i, img in enumerate(pixels):
        Image.fromarray(img[0].numpy(), mode="L").save(folder / f"digit{i}.png")
    np.save(tmp_path / "digits.npy", pixels[:, 0].numpy())

    p_ref, label_ref = reference(ckpt, pixels)
    for rows, names in ((predict(monkeypatch, tmp_path, ckpt, folder), [f"digit{i}.png" for i in range(5)]),
                        (predict(monkeypatch, tmp_path, ckpt, tmp_path / "digits.npy"),
                         [f"digits.npy[{i}]" for i in range(5)])):
        assert [r["input"] for r in rows] == names
        assert [int(r["predicted_class"]) for r in rows] == label_ref.tolist()
        assert [float(r["probability"]) for r in rows] == pytest.approx(p_ref.tolist(), abs=1e-5)


def test_images_of_another_size_or_mode_are_one_line_errors(train, fake_mnist, monkeypatch, tmp_path, capsys):
    run = train("data=mnist", f"paths.data_dir={fake_mnist}", "debug=fast")
    for name, image in (("big", Image.new("L", (32, 32))), ("colour", Image.new("RGB", (28, 28)))):
        folder = tmp_path / name
        folder.mkdir()
        image.save(folder / "x.png")
        with pytest.raises(SystemExit):
            predict(monkeypatch, tmp_path, run / "checkpoints" / "last.ckpt", folder)
        errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "this model reads 28x28 mode L" in errors[0]


def test_predictions_name_the_class_of_the_checkpoints_data_set(train, monkeypatch, tmp_path):
    from dlstudy.data import FashionMNISTDataModule
    from tests.data.test_fashion_mnist import fake_set

    data = fake_set(tmp_path / "data", n=200)
    run = train("data=fashion_mnist", f"paths.data_dir={data}", "data.val_size=50", "debug=fast")
    pixels = torch.randint(0, 256, (6, 28, 28), dtype=torch.uint8)
    np.save(tmp_path / "clothes.npy", pixels.numpy())
    rows = predict(monkeypatch, tmp_path, run / "checkpoints" / "last.ckpt", tmp_path / "clothes.npy")
    names = FashionMNISTDataModule.class_names
    assert [r["class_name"] for r in rows] == [names[int(r["predicted_class"])] for r in rows]


def test_every_checkpoint_and_input_error_is_one_line_with_exit_2(train, monkeypatch, tmp_path, capsys):
    run = train("debug=fast")  # digits: 8x8 images
    good = run / "checkpoints" / "last.ckpt"
    truncated, foreign, other = tmp_path / "truncated.ckpt", tmp_path / "foreign.ckpt", tmp_path / "other.ckpt"
    truncated.write_bytes(good.read_bytes()[:100])
    torch.save({"state_dict": {}, "epoch": 0}, foreign)
    ckpt = torch.load(good, weights_only=True)
    ckpt[KEY]["model"]["net"]["num_hiddens"] = [32]
    torch.save(ckpt, other)
    pixels = np.zeros((3, 8, 8), dtype=np.uint8)
    for name, array in (("ok", pixels), ("float", pixels.astype(np.float32)), ("shape", np.zeros((3, 9, 9), np.uint8))):
        np.save(tmp_path / f"{name}.npy", array)
    cases = [(tmp_path / "missing.ckpt", "ok", "no such file"), (truncated, "ok", "cannot read"),
             (foreign, "ok", "is not a dlstudy checkpoint"), (other, "ok", "do not fit"),
             (good, "float", "holds float32 of shape (3, 8, 8); this model reads uint8 images of shape (N, 1, 8, 8)"),
             (good, "shape", "holds uint8 of shape (3, 9, 9)")]
    for ckpt_path, source, message in cases:
        with pytest.raises(SystemExit) as e:
            predict(monkeypatch, tmp_path, ckpt_path, tmp_path / f"{source}.npy")
        assert e.value.code == 2, message
        errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and message in errors[0], errors
    assert len(predict(monkeypatch, tmp_path, good, tmp_path / "ok.npy")) == 3
