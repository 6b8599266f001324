"""The studies' own machinery: step-size limit, diagnostics, information terms, the summariser, launchers."""

import json
import os

import pytest
import yaml
import torch
from lightning.pytorch.loggers import TensorBoardLogger

from dlstudy.callbacks import Diagnostics
from dlstudy.data import DigitsDataModule, SyntheticRegressionDataModule
from dlstudy.models import Classifier
from dlstudy.nets import MLP, ReLUAlpha
from dlstudy.resolvers import gd_step_limit
from dlstudy.runs import read_status
from dlstudy.summarize import main as summarize
from tests.conftest import quick_trainer, scalars


def test_step_size_limit_separates_convergence_from_divergence():
    """Plain full-batch gradient descent on MSE: 0.99 x the limit converges to least squares, 1.01 x blows up."""
    dm = SyntheticRegressionDataModule(num_samples=300, num_features=4, seed=3)
    dm.setup()
    X, y = dm.splits["train"]
    A, y = torch.cat([X, torch.ones(len(X), 1)], 1).double(), y.double()
    solution = torch.linalg.lstsq(A, y).solution
    limit = gd_step_limit(X)

    def run(factor):
        theta = torch.zeros(A.shape[1], 1, dtype=torch.float64)
        for _ in range(3000):
            theta -= factor * limit * (2 / len(A)) * A.T @ (A @ theta - y)  # gradient of mean (A theta - y)^2
        return (theta - solution).norm().item()
    assert run(0.99) < 1e-6
    assert run(1.01) > 1e3


def test_diagnostics_see_exact_zeros_and_where_relu_prime_matters(tmp_path):
    torch.manual_seed(0)
    net = MLP(64, [32], 10, activation=lambda: ReLUAlpha(0.5))
    with torch.no_grad():  # the first layer outputs exact zeros: every ReLU input is 0
        net.layers[1].weight.zero_()
        net.layers[1].bias.zero_()
    system = Classifier(net, num_classes=10)
    trainer = quick_trainer(max_steps=1, limit_val_batches=0, logger=TensorBoardLogger(tmp_path, name="", version=""),
                            callbacks=[Diagnostics(every_n_steps=1)])
    trainer.fit(system, datamodule=DigitsDataModule())
    s = scalars(tmp_path)
    assert s["diag/net.layers.2/preact_zero_frac"] == [1.0]
    assert s["diag/net.layers.2/alpha_used_frac"] == [1.0], "alpha meets the non-zero gradient everywhere"
    assert s["diag/net.layers.2/dead_frac"] == [1.0] and s["diag/net.layers.2/act_std"] == [0.0]
    assert s["diag/net.layers.3/grad_norm"][0] == 0.0, "the last layer sees zero activations: zero gradient"
    assert s["diag/net.layers.1/grad_norm"][0] > 0, "ReLU'(0) = 0.5 lets the gradient through"


def test_entropy_kl_terms_add_up(train):
    run = train("experiment=entropy_kl", "loss=label_smoothing", "trainer.max_epochs=2")
    s = scalars(run)
    for h, ce, kl, loss in zip(s["val/target_entropy"], s["val/cross_entropy"], s["val/kl"], s["val/loss"]):
        assert h == pytest.approx(0.5003, abs=1e-4)
        assert ce == pytest.approx(h + kl, rel=1e-5)
        assert ce == pytest.approx(loss, rel=1e-4), "the logged cross-entropy is the loss"
        assert kl > 0
    assert len(s["train/kl"]) == 2, "the training-set terms too, once per epoch"
    for h, ce, kl in zip(s["train/target_entropy"], s["train/cross_entropy"], s["train/kl"]):
        assert h == pytest.approx(0.5003, abs=1e-4) and ce == pytest.approx(h + kl, rel=1e-5)


def md_table(lines: list[str], title: str) -> list[dict]:
    """The rows of the markdown table under the heading `title` of a summary.md."""
    start = lines.index(title) + 2
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    body = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        body.append(dict(zip(header, (c.strip() for c in line.strip("|").split("|")))))
    return body


def test_summariser_on_a_sweep_with_a_diverged_job(train, tmp_path, capsys):
    sweep = train("-m", "model=linear_regression", "optimizer=sgd", "optimizer.lr=0.01,0.05,1e10", "debug=fast",
                  "trainer.log_every_n_steps=1", run_dir=tmp_path / "sweep")
    (next(sweep.glob("1_*")) / "status.json").unlink()  # a job still running, or of unknown state
    summarize([str(sweep), "--metric", "test/loss"])
    out = capsys.readouterr().out
    assert "3 jobs in 3 settings: 1 finished, 1 diverged, 0 failed" in out
    assert "One run per setting (seed not swept): no intervals and no tests" in out
    lines = (sweep / "summary.md").read_text().splitlines()
    rows = md_table(lines, "## Jobs")
    assert len(rows) == 3 and {r["status"] for r in rows[:2]} == {"finished", "unknown"}
    assert rows[-1]["status"] == "diverged" and rows[-1]["test/loss"] == "", "no test after divergence: sorted last"
    assert float(rows[0]["test/loss"]) <= float(rows[1]["test/loss"])
    groups = md_table(lines, "## Settings (one run per setting)")
    assert [g["n"] for g in groups] == ["1", "1", "1"] and "test/loss 95% CI" not in groups[0]
    assert (sweep / "summary.csv").exists() and (sweep / "groups.csv").exists()
    assert (sweep / "curves_train_loss.png").exists() and (sweep / "test_loss_vs_optimizer.lr.png").exists()


@pytest.mark.slow
def test_summariser_groups_seeds_with_intervals_and_welch_tests(train, tmp_path, capsys):
    from scipy import stats as sps

    sweep = train("-m", "model=linear_regression", "optimizer=sgd", "optimizer.lr=0.001,0.1,0.101", "seed=0,1,2",
                  "debug=fast", "trainer.limit_train_batches=10", run_dir=tmp_path / "sweep")
    summarize([str(sweep), "--metric", "test/loss"])
    out = capsys.readouterr().out
    lines = (sweep / "summary.md").read_text().splitlines()
    groups = md_table(lines, "## Settings (over seeds: mean, 95% CI (Student's t), std)")
    jobs = md_table(lines, "## Jobs")
    assert [g["n"] for g in groups] == ["3", "3", "3"] and "seed" not in groups[0]
    by_lr = {lr: [float(j["test/loss"]) for j in jobs if j["optimizer.lr"] == lr] for lr in ("0.001", "0.1", "0.101")}
    best, *rest = groups
    assert best["p (Welch)"] == "reference"
    assert float(best["test/loss"]) == pytest.approx(min(sum(v) / 3 for v in by_lr.values()), rel=1e-3)
    for g in groups:
        x = by_lr[g["optimizer.lr"]]
        lo, hi = sps.t.interval(0.95, 2, loc=sum(x) / 3, scale=sps.sem(x))
        assert [float(v) for v in g["test/loss 95% CI"].strip("[]").split(",")] == pytest.approx([lo, hi], rel=2e-3)
        if g is not best:
            p = sps.ttest_ind(x, by_lr[best["optimizer.lr"]], equal_var=False).pvalue
            assert float(g["p (Welch)"]) == pytest.approx(p, rel=1e-3)
            assert g["significant"] == ("yes" if p < 0.05 else "no")
    assert "optimizer.lr=0.001 (p=" in out.split("Significantly different")[1], "the small step is clearly worse"
    near = next(g for g in groups if g["optimizer.lr"] in ("0.1", "0.101") and g is not best)
    assert near["significant"] == "no" and f"NOT significantly different from optimizer.lr={best['optimizer.lr']}" in out
    summarize([str(sweep), "--metric", "test/loss", "--reference", "optimizer.lr=0.001"])
    assert "different from optimizer.lr=0.001 in test/loss" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        summarize([str(sweep), "--reference", "optimizer.lr=7"])
    assert "matches 0 groups" in capsys.readouterr().err


@pytest.mark.slow
def test_joblib_sweep_runs_jobs_in_parallel_with_their_share_of_threads(train, tmp_path):
    sweep = train("-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "debug=fast", "loss=cross_entropy,square",
                  run_dir=tmp_path / "sweep")
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir())
    assert [p.name for p in jobs] == ["0_loss=cross_entropy", "1_loss=square"]
    assert [read_status(p)["status"] for p in jobs] == ["finished", "finished"]
    share = max(1, (os.cpu_count() or 1) // 2)
    assert {json.loads((p / "status.json").read_text()).get("threads") for p in jobs} == {share}


SEARCH = {"optimizer.lr": "choice(-1.0, 0.01, 0.003)", "width": "choice(16, 32)", "depth": "range(1, 3)"}


def replay(jobs: list, n_startup_trials: int, n_jobs: int) -> None:
    """Ask a fresh TPE study what the sweeper asked, trial by trial, telling it what each job returned:
    each job's settings are TPE's suggestion only if the sweeper told TPE the right results."""
    import optuna
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra_plugins.dlstudy_optuna_sweeper.optuna_sweeper import sampler, suggest

    parsed = OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in SEARCH.items()])
    space = {o.get_key_element(): o.value() for o in parsed}
    study = optuna.create_study(sampler=sampler(0, n_startup_trials))
    for first in range(0, len(jobs), n_jobs):
        batch = jobs[first:first + n_jobs]
        trials = [study.ask() for _ in batch]
        for trial, job in zip(trials, batch):  # the whole batch is suggested before any result is told
            overrides = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text())
            assert {f"{k}={suggest(trial, k, s)}" for k, s in space.items()} <= set(overrides), job.name
        for trial, job in zip(trials, batch):
            status = read_status(job)
            if status["status"] == "finished":
                study.tell(trial, status["metrics"]["val/loss"])
            else:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)


@pytest.mark.slow
def test_optuna_tpe_search_with_failed_and_parallel_trials(train, tmp_path):
    """Six trials asked two at a time (what hydra/launcher=joblib runs in parallel), TPE after two random ones;
    trials with lr = -1 fail and are told so."""
    space = "hydra.sweeper.params={" + ",".join(f"{k}:'{v}'" for k, v in SEARCH.items()) + "}"
    sweep = train("-m", "hparams_search=digits_mlp", "hydra.sweeper.n_trials=6", "hydra.sweeper.n_startup_trials=2",
                  "hydra.sweeper.n_jobs=2", space, "debug=fast",
                  "callbacks.histograms=null", run_dir=tmp_path / "search")
    jobs = sorted((p for p in sweep.iterdir() if p.is_dir()), key=lambda p: int(p.name.split("_")[0]))
    assert len(jobs) == 6
    replay(jobs, n_startup_trials=2, n_jobs=2)
    with pytest.raises(AssertionError):  # random throughout would have asked otherwise: TPE did choose
        replay(jobs, n_startup_trials=6, n_jobs=2)
    statuses = [read_status(p) for p in jobs]
    assert {s["status"] for s in statuses} == {"finished", "failed"}
    results = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    finished = [s["metrics"]["val/loss"] for s in statuses if s["status"] == "finished"]
    assert (results["trials_completed"], results["trials_failed"]) == (len(finished), 6 - len(finished))
    assert results["best_value"] == pytest.approx(min(finished))
    assert set(results["best_params"]) == {"optimizer.lr", "width", "depth"}


# Each claim docs/studies.md makes, asserted on a reduced configuration of its study (the same claims() code that
# writes the document's "reproduced" column), so a change that breaks a conclusion fails here.
REDUCED = {
    "lr_stability": ["lr_factor=0.95,1.05", "seed=0,1", "trainer.max_epochs=120"],
    "nonlinearity": ["depth=1,2", "seed=0,1,2"],  # identity vs ReLU at depths 1 and 2, the study's own 60 epochs
    "universal_approximation": ["width=2,64", "seed=0,1,2", "optimizer.lr=0.03", "trainer.max_epochs=80"],
    "loss_comparison": ["loss=cross_entropy,square", "seed=range(8)"],  # 8 seeds: enough to bound the gap
    "init_depth": ["init=kaiming_normal,xavier_normal,zeros", "seed=0,1,2"],  # the study's own 30 epochs
    "entropy_kl": ["seed=0,1,2", "trainer.max_epochs=25"],
}
FAST = ["callbacks.checkpoint=null", "++trainer.enable_checkpointing=false"]


@pytest.mark.slow
@pytest.mark.parametrize("study", list(REDUCED))
def test_every_claim_of_the_study_holds_on_a_reduced_run(study, train, tmp_path):
    from dlstudy.studies.runner import load
    from dlstudy.studies import STUDIES

    sweep = train("-m", f"experiment={study}", *REDUCED[study], *FAST, run_dir=tmp_path / study)
    entry = next(s for s in STUDIES if s.name == study)
    block = load(entry.report)(sweep, tmp_path / "figures")
    assert "| yes |" in block and "**no**" not in block, block
    assert list((tmp_path / "figures").glob("*.png")), "the study draws its figure"




def test_summariser_reach_gives_the_first_step_at_or_past_the_target():
    from dlstudy.summarize import table

    def job(name, points):
        return {"job": name, "params": {"lr": name}, "status": "finished", "series": {"val/acc": points}}

    jobs = [job("a", [(10, 0.5), (20, 0.95), (30, 0.99)]), job("b", [(10, 0.96), (20, 0.9)]), job("c", [(10, 0.94)])]
    _, rows = table(jobs, {"val/acc": 0.95})
    assert [r["steps to val/acc>=0.95"] for r in rows] == [20, 10, ""]


@pytest.mark.slow
def test_submitit_local_runs_a_two_job_sweep(train, tmp_path):
    sweep = train("-m", "hydra/launcher=submitit_local", "debug=fast", "loss=cross_entropy,square",
                  "callbacks.histograms=null", run_dir=tmp_path / "sweep")
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert [p.name for p in jobs] == ["0_callbacks.histograms=null,loss=cross_entropy",
                                      "1_callbacks.histograms=null,loss=square"]
    statuses = [read_status(p) for p in jobs]
    assert [s["status"] for s in statuses] == ["finished", "finished"]
    assert os.getpid() not in {s["pid"] for s in statuses}, "each job ran in a process submitit started"
    assert all("test/acc" in s["metrics"] for s in statuses)
