"""Bertoin et al.'s Section 3 measurement: oracles for each part, and the study's conclusions on a reduced grid."""

import pytest
import torch

from dlstudy.relu_prime import (Cell, first_difference, gradient_change, grid, load_images, main, make_net,
                                measure_cell, mini_batches, proportion, relative_change, study_grid)
from tests.conftest import SHARED_MNIST


def images_like_mnist(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 (n, 28, 28) with MNIST's many exact-zero pixels, and labels."""
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 28, 28), generator=g) * (torch.rand(n, 28, 28, generator=g) < 0.2)
    return images.to(torch.uint8), torch.randint(0, 10, (n,), generator=g)


def test_float64_gradients_never_differ():
    images, labels = images_like_mnist(512)
    batches = mini_batches(images, labels, 128, torch.float64)
    for seed in range(2):
        assert first_difference(make_net(Cell("float64", 2, 64), seed), batches, exhaustive=True) is None


def planted_zero_net(rule: str = "chain", reaches_output: bool = True):
    """Unit 0 of the first layer computes pixel_0 - 128/255: exactly 0 on an image whose first pixel is 128."""
    net = make_net(Cell("float32", 1, 8), seed=0, rule=rule)
    with torch.no_grad():
        net.layers[1].weight[0] = 0
        net.layers[1].weight[0, 0] = 1
        net.layers[1].bias[0] = -torch.tensor(128 / 255)
        if not reaches_output:
            net.layers[3].weight[:, 0] = 0  # unit 0 sends nothing on: its incoming gradient is 0
    return net


def planted_images():
    images, labels = images_like_mnist(40, seed=1)
    images[:, 0, 0] = 0
    images[25, 0, 0] = 128  # batch 2 of size 10
    return images, labels


@pytest.mark.parametrize("exhaustive", [False, True])
def test_an_exact_zero_pre_activation_makes_the_gradients_differ_at_its_batch(exhaustive):
    images, labels = planted_images()
    batches = mini_batches(images, labels, 10, torch.float32)
    assert first_difference(planted_zero_net(), batches, exhaustive=exhaustive) == 2
    images[25, 0, 0] = 127
    assert first_difference(planted_zero_net(), mini_batches(images, labels, 10, torch.float32)) is None


def test_the_papers_rule_differs_even_where_no_gradient_arrives():
    batches = mini_batches(*planted_images(), 10, torch.float32)
    assert first_difference(planted_zero_net("chain", reaches_output=False), batches) is None
    assert first_difference(planted_zero_net("paper", reaches_output=False), batches) == 2


def test_skipping_batches_without_zeros_changes_no_answer():
    """Backpropagating only batches with an exact zero gives the same first differing batch as backpropagating all."""
    images, labels, differed = *images_like_mnist(768), []
    for cell in (Cell("float16", 2, 48), Cell("bfloat16", 1, 32, batch_norm=True), Cell("float32", 1, 32)):
        batches = mini_batches(images, labels, 256, torch.float16 if cell.precision == "float16" else
                               torch.bfloat16 if cell.precision == "bfloat16" else torch.float32)
        for seed in range(3):
            found = first_difference(make_net(cell, seed), batches)
            assert found == first_difference(make_net(cell, seed), batches, exhaustive=True)
            differed.append(found is not None)
    assert any(differed), "some init must differ, or the comparison proves nothing"


def test_the_papers_rule_moves_the_gradient_more_than_the_chain_rule():
    images, labels = planted_images()
    images[:, 0, 0] = 128  # every image puts an exact 0 into unit 0 of the first layer
    X, y = mini_batches(images, labels, 40, torch.float32)[0]
    (chain, zeros), (paper, same_zeros) = (relative_change(planted_zero_net(rule), X, y) for rule in ("chain", "paper"))
    assert zeros == same_zeros == 1 / 8
    assert 0 < chain < paper


def test_gradient_change_is_zero_where_no_input_is_zero():
    images, labels = images_like_mnist(64)
    row = gradient_change(Cell("float64", 2, 16), images, labels, 3, "paper")
    assert row["zero_frac"] == 0 and row["max"] == 0 and row["rule"] == "paper"


def test_proportion_and_its_clopper_pearson_interval():
    p = proportion([None, 0, 7, None])
    assert (p["k"], p["n"], p["fraction"]) == (2, 4, 0.5)
    none = proportion([None] * 100)
    assert none["low"] == 0 and none["high"] == pytest.approx(1 - 0.025 ** (1 / 100))  # closed form at k = 0
    every = proportion([0] * 100)
    assert every["high"] == 1 and every["low"] == pytest.approx(0.025 ** (1 / 100))


def test_grid_holds_the_papers_two_curves():
    cells = grid((1, 3), (16, 256), ("float32",), batch_norms=(False,))
    assert [(c.depth, c.width) for c in cells] == [(1, 256), (3, 16), (3, 256)]
    assert {c.precision for c in study_grid()} == {"float64", "float32", "bfloat16", "float16"}


@pytest.mark.skipif(not SHARED_MNIST.exists(), reason="real MNIST digits not present")
def test_the_studys_conclusions_on_real_digits():
    """docs/studies.md: float64 never differs; float16 differs more often than float32; batch norm in half, always."""
    images, labels, _ = load_images("mnist", SHARED_MNIST)
    images, labels = images[:1024], labels[:1024]
    row = {c: measure_cell(c, images, labels, inits=8) for c in
           (Cell("float64", 2, 128), Cell("float32", 2, 128, True), Cell("float16", 2, 128, True))}
    f64, f32, f16 = (r["fraction"] for r in row.values())
    assert f64 == 0 and f16 > f32 and f16 == 1


def test_cli_refuses_bad_input_in_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["--folder", str(tmp_path), "--out", str(tmp_path / "x.json")])
    err = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2 and "no mnist images and labels under" in err[-1]
    with pytest.raises(SystemExit) as e:
        main(["--inits", "0"])
    assert e.value.code == 2 and "--inits must be a positive integer" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()
