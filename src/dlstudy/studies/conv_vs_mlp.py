"""conv_vs_mlp report: a CNN and an MLP of matched parameter counts, on test images as they are and shifted.

    make studies ARGS=conv_vs_mlp        (or ARGS="--report-only conv_vs_mlp" for the last sweep)
"""

import statistics
from pathlib import Path

from dlstudy.studies.rnn_memory import by_setting
from dlstudy.stats import describe, welch_p
from dlstudy.studies.report import ci, first_of, last_of, sweep_jobs, wall_seconds

NETS = {"cnn": "CNN", "mlp": "MLP"}


def shifts_of(jobs: list[dict]) -> list[int]:
    tags = {t for j in jobs for t in j["series"] if t.startswith("test/acc_shift")}
    return sorted(int(t.removeprefix("test/acc_shift")) for t in tags)


def rows_of(jobs: list[dict]) -> list[dict]:
    """One row per (size, net): parameters, test accuracy unshifted and per shift, seconds per epoch."""
    shifts = shifts_of(jobs)
    rows = []
    for (size, arch), group in sorted(by_setting(jobs, "size", "arch").items(), key=lambda kv: (int(kv[0][0]), kv[0][1])):
        rows.append({"size": int(size), "arch": arch, "n": len(group), "params": int(first_of(group[0], "cost/params")),
                     "acc": [last_of(j, "test/acc") for j in group],
                     "shifted": {s: [last_of(j, f"test/acc_shift{s}") for j in group] for s in shifts},
                     "epoch_s": [statistics.median(v for _, v in j["series"]["cost/epoch_s"]) for j in group
                                 if j["series"].get("cost/epoch_s")]})
    return rows


def table(rows: list[dict]) -> str:
    shifts = sorted(rows[0]["shifted"]) if rows else []
    lines = ["| CNN channels | net | parameters | test acc, mean [95% CI] (n) | "
             + " | ".join(f"shifted {s} px" for s in shifts) + " | s / epoch |",
             "|" + " --- |" * (5 + len(shifts))]
    for r in rows:
        cells = [ci(describe(r["shifted"][s]), ".3f") for s in shifts]
        lines.append(f"| {r['size']} | {NETS[r['arch']]} | {r['params']:,} | {ci(describe(r['acc']), '.3f')} | "
                     + " | ".join(cells) + f" | {ci(describe(r['epoch_s']), '.2g')} |")
    return "\n".join(lines)


def verdict(rows: list[dict]) -> str:
    """Where the CNN's accuracy beats the matched MLP's (Welch's test, p < 0.05), per size and shift."""
    lines, wins = [], []
    for size in sorted({r["size"] for r in rows}):
        nets = {r["arch"]: r for r in rows if r["size"] == size}
        if set(nets) != {"cnn", "mlp"}:
            continue
        cnn, mlp = nets["cnn"], nets["mlp"]
        parts = []
        for name, a, b in [("unshifted", cnn["acc"], mlp["acc"])] + [
                (f"{s} px", cnn["shifted"][s], mlp["shifted"][s]) for s in sorted(cnn["shifted"])]:
            gap, p = describe(a).mean - describe(b).mean, welch_p(a, b)
            parts.append(f"{name} {gap:+.3f} (p = {p:.2g})")
            wins.append((name, gap > 0 and p < 0.05, gap < 0 and p < 0.05))
        lines.append(f"- {size} channels ({cnn['params']:,} vs {mlp['params']:,} parameters): CNN − MLP accuracy "
                     + ", ".join(parts))
    shifted = [w for w in wins if w[0] != "unshifted"]
    ahead, behind = sum(w[1] for w in shifted), sum(w[2] for w in shifted)
    result = ("reproduced" if shifted and ahead == len(shifted) else "partly reproduced" if ahead > behind
              else "not reproduced")
    lines.append(f"\nOn shifted images the CNN is significantly ahead (Welch p < 0.05) in {ahead} of {len(shifted)} "
                 f"comparisons and significantly behind in {behind}: {result}.")
    return "\n".join(lines)


def report(sweep: Path) -> str:
    rows = rows_of(sweep_jobs(sweep))
    return (f"{table(rows)}\n\n{verdict(rows)}\n\nWhole sweep: {wall_seconds(sweep):.0f} s wall.\n")


def study_report(sweep: Path, figures: Path) -> str:
    """The entry `make studies` calls (dlstudy.studies): the block for this sweep."""
    return report(sweep)
