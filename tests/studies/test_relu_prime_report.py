"""The relu_prime section of docs/studies.md: its verdicts follow the numbers, and it lands between its markers."""

import math

import pytest

from dlstudy.relu_prime import proportion
from dlstudy.studies.relu_prime import main, section, write_block
from dlstudy.studies.relu_prime_section3 import rescaled, section3_findings
from dlstudy.studies.relu_prime_training import training_findings, training_table


def row(precision, depth, width, bn, firsts):
    return {"precision": precision, "depth": depth, "width": width, "batch_norm": bn, **proportion(firsts),
            "first_batches": firsts, "seconds": 1.0, "cpu_seconds": 1.0}


def result(rows, images=10_000):
    return {"data": "toy", "images": images, "batch_size": 256, "inits": 40, "rule": "chain", "jobs": 2,
            "torch": "x", "seconds": 3.0, "rows": rows}


def test_rescaling_the_papers_fraction_to_a_shorter_pass():
    assert rescaled(0.463, 60_000) == pytest.approx(0.463)
    assert rescaled(0.75, 30_000) == pytest.approx(0.5)  # half the images: survival 0.25 -> 0.5
    assert math.isnan(rescaled(1.0, 10_000)), "a saturated fraction says nothing about its rate"


def test_findings_say_what_reproduced_and_what_did_not():
    rows = [row("float64", 3, 256, False, [None] * 40), row("float32", 3, 256, False, [None] * 36 + [1] * 4),
            row("float16", 3, 256, False, [0] * 30 + [None] * 10), row("float32", 1, 256, False, [None] * 40),
            row("float16", 1, 256, False, [None] * 40)]
    text = "\n".join(section3_findings(result(rows)))
    assert "float64: 0 differing inits of 40 (reproduced" in text
    assert "float16 differs more often than float32 in 1 of 2 architectures (partly reproduced)" in text
    assert "0.098 at 10,000 images; measured 0.10 [" in text and "within the interval" in text
    rows[0] = row("float64", 3, 256, False, [None] * 39 + [5])
    assert "NOT reproduced" in "\n".join(section3_findings(result(rows)))


def groups_of(acc_by_key):
    return {k: [{"seed": str(i), "acc": a, "loss": 1.0 - a, "used": {"net.layers.2": 1e-3}} for i, a in enumerate(v)]
            for k, v in acc_by_key.items()}


def test_training_verdicts_use_welch_and_check_the_alpha_zero_control():
    base = [0.90, 0.91, 0.92, 0.90, 0.91]
    groups = groups_of({(0.0, "chain", True): base, (0.0, "paper", True): base,
                        (1.0, "chain", True): [a + 0.001 for a in base][::-1],
                        (1.0, "paper", True): [0.50, 0.52, 0.49, 0.51, 0.50]})
    text = "\n".join(training_findings(groups))
    assert "With batch norm: alpha = 1 under the chain rule changes test accuracy by +0.0010 (not significant" in text
    assert "under the paper rule changes test accuracy by -0.4040 (significant" in text
    assert "alpha = 0 under both rules: identical runs" in text
    assert "Verdict: the change comes from the paper's rule, not from ReLU'(0)." in text
    table = "\n".join(training_table(groups))
    assert "| 1 | paper | yes | 5 | 0.5040 [" in table and "1.0e-03" in table
    groups[(0.0, "paper", True)][0]["acc"] = 0.5
    assert "runs DIFFER" in "\n".join(training_findings(groups))


def test_write_block_replaces_only_its_own_block(tmp_path):
    doc = tmp_path / "studies.md"
    doc.write_text("intro\n<!-- results:relu_prime -->\nold\n<!-- /results -->\nafter\n<!-- /results -->\n")
    write_block(doc, "new")
    assert doc.read_text() == "intro\n<!-- results:relu_prime -->\nnew\n<!-- /results -->\nafter\n<!-- /results -->\n"
    text = section(result([row("float64", 3, 256, False, [None] * 40)]), [])
    assert "| 3 x 256 | float64 | no | 0.00 [0.00, 0.09] (0/40) |" in text and "Wall time: 3 s for 1 cells" in text


def test_cli_refuses_a_document_without_markers(tmp_path, capsys):
    import json

    (tmp_path / "s3.json").write_text(json.dumps(result([row("float64", 3, 256, False, [None] * 40)])))
    (tmp_path / "doc.md").write_text("no markers\n")
    with pytest.raises(SystemExit) as e:
        main(["--section3", str(tmp_path / "s3.json"), "--doc", str(tmp_path / "doc.md")])
    assert e.value.code == 2 and "no '<!-- results:relu_prime -->'" in capsys.readouterr().err
    assert (tmp_path / "doc.md").read_text() == "no markers\n"


def test_cli_writes_the_block_and_the_figure(tmp_path):
    import json

    rows = [row(p, d, w, bn, [None] * 30 + [0] * (10 * (p == "float16"))) for p in ("float32", "float16")
            for bn in (False, True) for d, w in ((1, 256), (3, 256), (3, 64))]
    changes = [{"precision": "float16", "depth": 3, "width": 256, "batch_norm": True, "rule": "paper",
                "median": 145.0, "max": 157.0, "zero_frac": 1.9e-4}]
    (tmp_path / "s3.json").write_text(json.dumps(result(rows) | {"changes": changes}))
    (tmp_path / "doc.md").write_text("# x\n<!-- results:relu_prime -->\n<!-- /results -->\n")
    main(["--section3", str(tmp_path / "s3.json"), "--doc", str(tmp_path / "doc.md")])
    text = (tmp_path / "doc.md").read_text()
    assert "| 1 x 256 | float32 | no | 0.00 [0.00, 0.12] (0/30) | 0.054 | 0.009 |" in text
    assert "float16 differs more often than float32 in 6 of 6 architectures (reproduced)" in text
    assert "| 3 x 256 | float16 | yes | 1.9e-04 | paper | 145 | 157 |" in text
    assert (tmp_path / "studies" / "relu_prime.png").stat().st_size > 10_000


def test_the_papers_rule_not_relu_prime_itself_moves_training(train, tmp_path):
    """The section's training conclusion on a few float16 steps with batch norm, through the real sweep and report:
    alpha = 1 under the paper's rule changes the training loss more than alpha = 1 under the chain rule."""
    from dlstudy.studies.relu_prime_training import training_groups

    sweep = train("-m", "experiment=relu_prime", "seed=0", "model.net.batch_norm=true", "trainer.max_epochs=1",
                  "trainer.limit_train_batches=5", "trainer.log_every_n_steps=1", run_dir=tmp_path / "sweep")
    groups = training_groups([sweep, sweep])
    assert sorted(groups) == [(0.0, "chain", True), (0.0, "paper", True), (1.0, "chain", True), (1.0, "paper", True)]
    assert all(len(runs) == 1 for runs in groups.values()), "a run pooled twice counts once"
    loss = {k: runs[0]["loss"] for k, runs in groups.items()}
    assert loss[(0.0, "chain", True)] == loss[(0.0, "paper", True)], "the rules agree at alpha = 0"
    assert abs(loss[(1.0, "paper", True)] - loss[(0.0, "chain", True)]) > \
        abs(loss[(1.0, "chain", True)] - loss[(0.0, "chain", True)])
    used = groups[(1.0, "paper", True)][0]["used"]
    assert len(used) == 3 and sum(used.values()) > 0, "a counter per layer, and ReLU'(0) was used"
