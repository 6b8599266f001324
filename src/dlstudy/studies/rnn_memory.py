"""rnn_memory report: test MSE on the adding problem by sequence length and cell, the gradient reaching the
first step, and (optionally) the plain RNN with and without gradient clipping.

    make studies ARGS="rnn_memory rnn_clipping"        (or ARGS="--report-only ..." for the last sweeps)
"""

import math
from pathlib import Path

from dlstudy.data.sequences import AddingDataModule
from dlstudy.stats import describe, welch_p
from dlstudy.studies.report import ci, first_of, last_of, sweep_jobs, wall_seconds

SOLVED = 0.01  # test MSE below this: the task is solved (Le et al. 2015 call < 0.01 the baseline's beating)
CELLS = {"rnn": "tanh RNN", "lstm": "LSTM", "gru": "GRU"}


def by_setting(jobs: list[dict], *keys: str) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = {}
    for j in jobs:
        groups.setdefault(tuple(j["params"].get(k) for k in keys), []).append(j)
    return groups


def memory_rows(jobs: list[dict]) -> list[dict]:
    """One row per (T, cell): test MSE, solved fraction, log10 gradient ratio first/last step at init and at the end."""
    rows = []
    groups = by_setting(jobs, "data.seq_len", "model.net.cell")
    for (T, cell), group in sorted(groups.items(), key=lambda kv: (int(kv[0][0]), list(CELLS).index(kv[0][1]))):
        mse = [last_of(j, "test/mse") for j in group]
        rows.append({"T": int(T), "cell": cell, "mse": mse, "solved": sum(m < SOLVED for m in mse),
                     "n": len(group), "ratio_init": [first_of(j, "seqgrad/log10_ratio") for j in group],
                     "ratio_end": [last_of(j, "seqgrad/log10_ratio") for j in group]})
    return rows


def memory_table(rows: list[dict]) -> str:
    lines = ["| T | cell | test MSE, mean [95% CI] (n) | solved (MSE < 0.01) | "
             "log10 ‖∂ℓ/∂x₁‖ / ‖∂ℓ/∂x_T‖ at init | … after training | vs tanh RNN: Welch p (MSE) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    plain = {r["T"]: r["mse"] for r in rows if r["cell"] == "rnn"}
    for r in rows:
        p = welch_p(r["mse"], plain.get(r["T"], [])) if r["cell"] != "rnn" else math.nan
        lines.append(f"| {r['T']} | {CELLS[r['cell']]} | {ci(describe(r['mse']), '.2g')} | {r['solved']}/{r['n']} | "
                     f"{ci(describe(r['ratio_init']), '.2f')} | {ci(describe(r['ratio_end']), '.2f')} | "
                     f"{'' if math.isnan(p) else f'{p:.2g}'} |")
    return "\n".join(lines)


def longest_solved(rows: list[dict], cell: str) -> int | None:
    """The longest T at which every seed of `cell` solved the task."""
    solved = [r["T"] for r in rows if r["cell"] == cell and r["solved"] == r["n"]]
    return max(solved) if solved else None


def findings(rows: list[dict]) -> str:
    """Whether the direction of the references reproduced, in numbers from `rows`."""
    longest = max(r["T"] for r in rows)
    at = {r["cell"]: r for r in rows if r["T"] == longest}
    if not {"rnn", "lstm"} <= set(at):
        return ""
    rnn, lstm = at["rnn"], at["lstm"]
    gated = [c for c in ("lstm", "gru") if c in at]
    plain_fails = rnn["solved"] < rnn["n"]
    solving = [c for c in gated if at[c]["solved"] == at[c]["n"]]
    verdict = ("reproduced" if plain_fails and len(solving) == len(gated) else
               "partly reproduced" if plain_fails and solving else "not reproduced")
    per_cell = "; ".join(f"{CELLS[c]} {at[c]['solved']}/{at[c]['n']} seeds solved, test MSE "
                         f"{describe(at[c]['mse']).mean:.2g}" for c in ("rnn", *gated))
    init = describe(rnn["ratio_init"]).mean - describe(lstm["ratio_init"]).mean
    end = describe(rnn["ratio_end"]).mean - describe(lstm["ratio_end"]).mean
    return (f"Claim: a gated cell learns the long dependency, the plain tanh RNN does not. At T = {longest}: "
            f"{per_cell}: {verdict} (every seed of every gated cell must solve it, and not every seed of the tanh "
            f"RNN). The gradient reaching the first step: at initialisation the tanh RNN's ratio is {init:+.1f} "
            f"decades from the LSTM's (PyTorch's default init gives the LSTM no forget-gate bias, so both start "
            f"vanishing); after training {end:+.1f}.")


def clipping_rows(jobs: list[dict]) -> list[dict]:
    rows = []
    for (clip,), group in sorted(by_setting(jobs, "trainer.gradient_clip_val").items(), key=lambda kv: str(kv[0])):
        rows.append({"clip": clip, "n": len(group),
                     "max_norm": [math.log10(max(v for _, v in j["series"].get("grad/max_norm", [(0, math.nan)])))
                                  for j in group],
                     "mse": [last_of(j, "test/mse") for j in group],
                     "diverged": sum(j["status"] == "diverged" for j in group)})
    return rows


def clipping_table(rows: list[dict]) -> str:
    lines = ["| gradient clipping | log10 largest gradient norm, mean [95% CI] (n) | test MSE | diverged |",
             "| --- | --- | --- | --- |"]
    for r in rows:
        clip = "off" if r["clip"] in (None, "null", "0", "0.0") else f"norm ≤ {r['clip']}"
        lines.append(f"| {clip} | {ci(describe(r['max_norm']), '.2f')} | {ci(describe(r['mse']), '.2g')} | "
                     f"{r['diverged']}/{r['n']} |")
    return "\n".join(lines)


def report(sweep: Path, clipping: Path | None = None) -> str:
    """The markdown block of the study: tables, what reproduced, wall times."""
    rows = memory_rows(sweep_jobs(sweep))
    gated = {c: longest_solved(rows, c) for c in CELLS}
    text = [f"Trivial answer 1.0: MSE = 1/6 = {AddingDataModule.TRIVIAL_MSE:.3f}.\n", memory_table(rows)]
    says = ", ".join(f"{CELLS[c]} up to T = {t}" if t else f"{CELLS[c]} at no T" for c, t in gated.items())
    text.append(f"\nSolved by every seed: {says}. {findings(rows)} Whole sweep: {wall_seconds(sweep):.0f} s wall.")
    if clipping is not None:
        text.append(f"\nPlain tanh RNN, exploding regime, with and without clipping:\n\n"
                    f"{clipping_table(clipping_rows(sweep_jobs(clipping)))}\n\n"
                    f"Whole sweep: {wall_seconds(clipping):.0f} s wall.")
    return "\n".join(text) + "\n"


def study_report(sweep: Path, figures: Path) -> str:
    """The entry `make studies` calls (dlstudy.studies): the block for this sweep."""
    return report(sweep)


def clipping_study_report(sweep: Path, figures: Path) -> str:
    """The entry `make studies` calls for rnn_clipping: the plain RNN with and without gradient clipping."""
    return (f"Plain tanh RNN, exploding regime, with and without clipping:\n\n"
            f"{clipping_table(clipping_rows(sweep_jobs(sweep)))}\n\nWhole sweep: {wall_seconds(sweep):.0f} s wall.\n")
