"""relu_prime, Section 3 of Bertoin et al. (NeurIPS 2021): how often ReLU'(0) changes a gradient without training,
measured by dlstudy-relu-prime, set beside the paper's own fractions: tables, findings and the figure."""

import math

import numpy as np
from matplotlib.figure import Figure
from scipy import stats

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
