"""The relu_prime section of docs/studies.md, written from a Section 3 measurement and a training sweep.

    dlstudy-relu-prime-report --section3 relu_prime_section3.json --sweep outputs/sweeps/<relu_prime sweep> ...

replaces what lies between `<!-- results:relu_prime -->` and `<!-- /results -->` in the document.
"""

import argparse
import json
import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from dlstudy.stats import describe, welch_p
from dlstudy.summarize import job_rows

# Bertoin et al. (NeurIPS 2021), paper_results/section_3 of their repository: fractions of 1,000 inits whose
# first-layer gradients differed over one pass of MNIST's 60,000 training images (batches of 256).
PAPER_IMAGES = 60_000
PAPER_DEPTH = {1: {"float32": 0.054, "float16": 0.871}, 2: {"float32": 0.258, "float16": 0.999},  # width 256
               3: {"float32": 0.463, "float16": 1.0}, 5: {"float32": 0.647, "float16": 1.0},
               6: {"float32": 0.697, "float16": 1.0}}
PAPER_WIDTH = {16: {"float32": 0.021, "float16": 0.333}, 64: {"float32": 0.163, "float16": 1.0},  # depth 3
               256: {"float32": 0.478, "float16": 1.0}, 512: {"float32": 0.582, "float16": 1.0},
               1024: {"float32": 0.873, "float16": 1.0}}


def rescaled(p: float, images: int) -> float:
    """The paper's fraction over 60,000 images, carried to `images` at a constant rate per image: 1 - (1 - p)^(n/N)."""
    return 1 - (1 - p) ** (images / PAPER_IMAGES) if p < 1 else math.nan


def fmt_fraction(r: dict) -> str:
    return f"{r['fraction']:.2f} [{r['low']:.2f}, {r['high']:.2f}] ({r['k']}/{r['n']})"


def paper_value(cell: dict) -> float | None:
    if cell["batch_norm"] or cell["precision"] not in ("float32", "float16"):
        return None
    if cell["width"] == 256 and cell["depth"] in PAPER_DEPTH:
        return PAPER_DEPTH[cell["depth"]][cell["precision"]]
    if cell["depth"] == 3 and cell["width"] in PAPER_WIDTH:
        return PAPER_WIDTH[cell["width"]][cell["precision"]]
    return None


def section3_tables(result: dict) -> list[str]:
    """One table per curve: measured fractions with Clopper-Pearson intervals beside the paper's."""
    rows, n_img = result["rows"], result["images"]
    out = [f"Measured on {result['data']}, batches of {result['batch_size']} in file order, "
           f"{result['inits']} inits per cell, rule `{result['rule']}`; fraction of inits whose first-layer "
           f"gradient differed, [Clopper-Pearson 95% interval] (k/n). Paper: 1,000 inits over MNIST's 60,000 "
           f"training images; \"paper at {n_img:,}\" carries it to this pass length at a constant rate per image.", ""]
    out += ["| MLP | precision | batch norm | measured | paper (60,000 images) | paper at this pass length |",
            "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        p = paper_value(r)
        paper = "" if p is None else f"{p:.3f}"
        at_n = "" if p is None else ("saturated" if p >= 1 else f"{rescaled(p, n_img):.3f}")
        out.append(f"| {r['depth']} x {r['width']} | {r['precision']} | {'yes' if r['batch_norm'] else 'no'} | "
                   f"{fmt_fraction(r)} | {paper} | {at_n} |")
    return out


def _trend(points: list[tuple[int, float]]) -> str:
    """Spearman's rank correlation of (size, fraction), or why there is none."""
    if len(points) < 3:
        return "too few sizes for a trend"
    if len({f for _, f in points}) == 1:
        return "the same at every size: no trend"
    return f"Spearman {stats.spearmanr(*zip(*points)).statistic:.2f}"


def section3_findings(result: dict) -> list[str]:
    """Sentences computed from the rows: what reproduced and what did not."""
    rows = result["rows"]
    by = {(r["precision"], r["depth"], r["width"], r["batch_norm"]): r for r in rows}
    f64 = [r for r in rows if r["precision"] == "float64"]
    lines = [f"- float64: {sum(r['k'] for r in f64)} differing inits of {sum(r['n'] for r in f64)} "
             f"({'reproduced' if all(r['k'] == 0 for r in f64) else 'NOT reproduced'}: the paper reports 0)."]
    pairs = [(by[k], by[("float16", *k[1:])]) for k in by if k[0] == "float32" and ("float16", *k[1:]) in by]
    more = sum(h["fraction"] > s["fraction"] for s, h in pairs)
    lines.append(f"- float16 differs more often than float32 in {more} of {len(pairs)} architectures "
                 f"({'reproduced' if more == len(pairs) else 'partly reproduced'}).")
    for bn in (False, True):
        depth = sorted((r["depth"], r["fraction"]) for r in rows
                       if r["precision"] == "float32" and r["width"] == 256 and r["batch_norm"] == bn)
        width = sorted((r["width"], r["fraction"]) for r in rows
                       if r["precision"] == "float32" and r["depth"] == 3 and r["batch_norm"] == bn)
        if len(depth) < 3 and len(width) < 3:
            continue
        lines.append(f"- float32{' with batch norm' if bn else ''}: fraction by depth "
                     + ", ".join(f"{d}: {f:.2f}" for d, f in depth) + f" ({_trend(depth)}); by width "
                     + ", ".join(f"{w}: {f:.2f}" for w, f in width) + f" ({_trend(width)}).")
    head = by.get(("float32", 3, 256, False))
    if head:
        expected = rescaled(PAPER_DEPTH[3]["float32"], result["images"])
        inside = head["low"] <= expected <= head["high"]
        lines.append(f"- The paper's float32 headline, 0.463 over 60,000 images, is {expected:.3f} at "
                     f"{result['images']:,} images; measured {fmt_fraction(head)}: "
                     + ("within the interval." if inside else "outside the interval: NOT reproduced on this CPU."))
    return lines


def changes_table(changes: list[dict]) -> list[str]:
    """How far ReLU'(0) = 1 moves a first-layer gradient, under backpropagation's rule and under the paper's."""
    out = ["| MLP | precision | batch norm | exact zeros among ReLU inputs | rule | |g(1) - g(0)| / |g(0)|, "
           "median over inits | largest |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for c in changes:
        out.append(f"| {c['depth']} x {c['width']} | {c['precision']} | {'yes' if c['batch_norm'] else 'no'} | "
                   f"{c['zero_frac']:.1e} | {c['rule']} | {c['median']:.3g} | {c['max']:.3g} |")
    return out


def figure(result: dict) -> Figure:
    """Fraction of inits against depth (width 256) and width (depth 3), with intervals, beside the paper's."""
    fig = Figure(figsize=(10, 4))
    for ax, (axis, fixed, paper) in zip(fig.subplots(1, 2), (("depth", ("width", 256), PAPER_DEPTH),
                                                              ("width", ("depth", 3), PAPER_WIDTH))):
        for (precision, bn), style in zip([(p, bn) for p in ("float32", "float16") for bn in (False, True)],
                                          ("o-C0", "s--C0", "o-C3", "s--C3")):
            rows = sorted((r for r in result["rows"] if r["precision"] == precision and r["batch_norm"] == bn
                           and r[fixed[0]] == fixed[1]), key=lambda r: r[axis])
            if rows:
                x, f = [r[axis] for r in rows], np.array([r["fraction"] for r in rows])
                err = [f - [r["low"] for r in rows], [r["high"] for r in rows] - f]
                ax.errorbar(x, f, err, fmt=style, capsize=3, label=f"{precision}{' + batch norm' if bn else ''}")
        for precision, color in (("float32", "C0"), ("float16", "C3")):
            ax.plot(list(paper), [v[precision] for v in paper.values()], ":", color=color, alpha=0.6,
                    label=f"paper, {precision}, 60,000 images")
        ax.set(xlabel=axis, ylabel="fraction of inits with different gradients", ylim=(-0.03, 1.03),
               title=f"by {axis} ({fixed[0]} {fixed[1]})", xscale="log" if axis == "width" else "linear")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def final(series: dict, tag: str) -> float:
    return series[tag][-1][1] if series.get(tag) else math.nan


def mean_ci(values: list[float]) -> tuple[float, float, float]:
    """Mean and Student-t 95% interval over seeds (the mean alone for fewer than two)."""
    s = describe(values)
    return (s.mean, s.mean, s.mean) if s.n < 2 else (s.mean, s.lo, s.hi)


def training_groups(sweeps: list[Path]) -> dict[tuple, list[dict]]:
    """Finished jobs of the sweeps by (alpha, rule, batch_norm): test/acc, last train/loss, ReLU'(0) use per layer."""
    groups: dict[tuple, list[dict]] = {}
    for job in (j for sweep in sweeps for j in job_rows(sweep)):
        if job["status"] != "finished":
            continue
        p = job["params"]
        bn = p["model.net.batch_norm"].lower() == "true"
        key = (float(p["model.net.activation.alpha"]), p["model.net.activation.rule"], bn)
        used = {t.split("/")[1]: np.mean([v for _, v in pts]) for t, pts in job["series"].items()
                if t.endswith("/alpha_used_frac")}
        if any(r["seed"] == p.get("seed") for r in groups.get(key, [])):
            continue  # the same run in two pooled sweeps counts once
        groups.setdefault(key, []).append({"seed": p.get("seed"), "acc": final(job["series"], "test/acc"),
                                           "loss": final(job["series"], "train/loss"), "used": used})
    return groups


def training_table(groups: dict[tuple, list[dict]]) -> list[str]:
    """Test accuracy and final training loss over seeds, each alpha = 1 group against alpha = 0 (Welch's t-test)."""
    out = ["| ReLU'(0) | rule | batch norm | n | test acc, mean [95% t interval] | Welch p vs alpha 0 | "
           "last train loss, mean [95% t interval] | ReLU'(0) used, mean fraction per layer |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for (alpha, rule, bn), runs in sorted(groups.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1])):
        acc, loss = ([r[k] for r in runs] for k in ("acc", "loss"))
        base = groups.get((0.0, "chain", bn), [])
        p = welch_p(acc, [r["acc"] for r in base]) if alpha and len(base) > 1 else None
        layers = sorted({k for r in runs for k in r["used"]})
        used = ", ".join(f"{np.mean([r['used'][k] for r in runs]):.1e}" for k in layers)
        out.append(f"| {alpha:g} | {rule} | {'yes' if bn else 'no'} | {len(runs)} | "
                   f"{'%.4f [%.4f, %.4f]' % mean_ci(acc)} | "
                   f"{'' if p is None else ('n/a (identical)' if math.isnan(p) else f'{p:.3g}')} | "
                   f"{'%.4f [%.4f, %.4f]' % mean_ci(loss)} | {used} |")
    return out


def training_findings(groups: dict[tuple, list[dict]]) -> list[str]:
    """Per batch-norm setting: does alpha = 1 change test accuracy under each rule, and are the alpha = 0 runs equal?"""
    lines, significant = [], {"chain": False, "paper": False}
    for bn in (False, True):
        zero_chain, zero_paper = groups.get((0.0, "chain", bn), []), groups.get((0.0, "paper", bn), [])
        same = sorted((r["seed"], r["acc"], r["loss"]) for r in zero_chain) == \
            sorted((r["seed"], r["acc"], r["loss"]) for r in zero_paper)
        verdicts = []
        for rule in ("chain", "paper"):
            one = [r["acc"] for r in groups.get((1.0, rule, bn), [])]
            base = [r["acc"] for r in zero_chain]
            if len(one) < 2 or len(base) < 2:
                continue
            diff = np.mean(one) - np.mean(base)
            p = welch_p(one, base)
            sig = not math.isnan(p) and p < 0.05
            significant[rule] |= sig
            verdicts.append(f"alpha = 1 under the {rule} rule changes test accuracy by {diff:+.4f} "
                            f"({'significant' if sig else 'not significant'}, Welch p = {p:.3g})")
        lines.append(f"- {'With' if bn else 'Without'} batch norm: " + "; ".join(verdicts)
                     + f". alpha = 0 under both rules: {'identical runs' if same else 'runs DIFFER'}.")
    verdict = ("ReLU'(0) itself changes training" if significant["chain"] else
               "the change comes from the paper's rule, not from ReLU'(0)" if significant["paper"] else
               "neither ReLU'(0) = 1 nor the paper's rule changes test accuracy significantly here: "
               "the paper's training effect is not reproduced at this scale")
    return lines + [f"- Verdict: {verdict}."]


def sweep_seconds(sweep: Path) -> float:
    """From the first job's composed config to the last job's final status."""
    starts = [p.stat().st_mtime for p in sweep.glob("*/.hydra/config.yaml")]
    ends = [p.stat().st_mtime for p in sweep.glob("*/status.json")]
    return max(ends) - min(starts) if starts and ends else math.nan


def section(result: dict, sweeps: list[Path]) -> str:
    """The markdown between the markers."""
    cpu = sum(r["cpu_seconds"] for r in result["rows"])
    lines = ["### Section 3: how often ReLU'(0) changes a gradient, without training", "",
             "![](studies/relu_prime.png)", ""]
    lines += section3_tables(result) + [""] + section3_findings(result)
    if result.get("changes"):
        lines += ["", "Size of the change, on the first batch of 256 images, 20 inits: under the chain rule "
                      "ReLU'(0) = 1 adds alpha times a gradient that is already there; the paper's rule writes a 1.",
                  ""] + changes_table(result["changes"])
    planned = result.get("cells", len(result["rows"]))
    if len(result["rows"]) < planned:
        lines += ["", f"Only {len(result['rows'])} of the grid's {planned} cells were measured (the run was stopped)."]
    lines += ["", f"Wall time: {result['seconds']:.0f} s for {len(result['rows'])} cells in {result['jobs']} worker "
                  f"processes ({cpu:.0f} s of CPU time in all; torch {result['torch']}, CPU)."]
    if sweeps:
        groups = training_groups(sweeps)
        lines += ["", "### Training: alpha in {0, 1}, both rules, with and without batch norm", ""]
        lines += training_table(groups) + [""] + training_findings(groups)
        seconds = " + ".join(f"{sweep_seconds(s):.0f} s" for s in sweeps)
        lines += ["", f"Wall time of the sweep{'s' if len(sweeps) > 1 else ''}: {seconds} "
                      f"({sum(len(v) for v in groups.values())} finished runs)."]
    return "\n".join(lines)


def write_block(doc: Path, text: str) -> None:
    """Replace the text between the relu_prime markers of `doc`."""
    from dlstudy.reports.docs import write_block as write

    write(doc, "relu_prime", text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="dlstudy-relu-prime-report", description=__doc__.split("\n")[0])
    parser.add_argument("--section3", type=Path, required=True, help="the JSON that dlstudy-relu-prime wrote")
    parser.add_argument("--sweep", type=Path, nargs="*", default=[],
                        help="sweep folders of experiment=relu_prime (several: their seeds are pooled)")
    parser.add_argument("--doc", type=Path, default=Path("docs/studies.md"))
    args = parser.parse_args(argv)
    try:
        result = json.loads(args.section3.read_text())
        for sweep in args.sweep:
            if not list(sweep.glob("*/.hydra")):
                raise ValueError(f"{sweep} is not a sweep folder (no job folders with .hydra/ inside)")
        write_block(args.doc, section(result, args.sweep))
        (args.doc.parent / "studies").mkdir(exist_ok=True)
        figure(result).savefig(args.doc.parent / "studies" / "relu_prime.png", dpi=100)
    except (OSError, ValueError, KeyError) as e:
        parser.error(str(e))
    print(f"relu_prime results written to {args.doc}")


if __name__ == "__main__":
    main()
