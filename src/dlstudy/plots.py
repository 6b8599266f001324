"""The summariser's figures: learning curves per setting (mean and 95% band over seeds), a metric against a
swept setting (mean and 95% error bars over seeds)."""

import math

import numpy as np
from matplotlib.figure import Figure

from dlstudy.stats import Group, describe


def _number(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _name(settings: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in settings.items())


def mean_curve(series: list[list[tuple[int, float]]]) -> tuple[list, list, list, list]:
    """Steps, mean, and the 95% interval's ends over the runs that logged each step (finite values only)."""
    at: dict[int, list[float]] = {}
    for points in series:
        for s, v in points:
            at.setdefault(s, []).append(v)
    steps, mean, lo, hi = [], [], [], []
    for s in sorted(at):
        d = describe(at[s])
        if d.n:
            steps.append(s), mean.append(d.mean), lo.append(d.lo), hi.append(d.hi)
    return steps, mean, lo, hi


def curves_figure(jobs: list[dict], tag: str, settings: list[str]) -> Figure:
    """`tag` against the step, one line per setting: the mean over its seeds, with a 95% band where n > 1."""
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    by: dict[tuple, list] = {}
    for j in jobs:
        by.setdefault(tuple(j["params"].get(k) for k in settings), []).append(j["series"].get(tag, []))
    for key, series in by.items():
        steps, mean, lo, hi = mean_curve(series)
        if steps:
            n = sum(bool(s) for s in series)
            line, = ax.plot(steps, mean, lw=1, label=(_name(dict(zip(settings, key))) or tag) + f" (n={n})")
            if n > 1:
                ax.fill_between(steps, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
    values = [v for j in jobs for _, v in j["series"].get(tag, []) if math.isfinite(v) and v > 0]
    if tag.endswith("loss") and values and max(values) / min(values) > 100:
        ax.set_yscale("log")
    ax.set(xlabel="step", ylabel=tag, title=f"{tag}: mean over seeds, 95% band")
    ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def metric_figure(groups: list[Group], param: str, metric: str) -> Figure:
    """`metric` against `param`: the mean over seeds with its 95% interval, one line per other setting."""
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    others = [k for k in groups[0].settings if k != param]
    lines: dict[tuple, list] = {}
    for g in groups:
        d = g.summaries[metric]
        if d.n:
            lines.setdefault(tuple(g.settings[o] for o in others), []).append((g.settings[param], d))
    numeric = all(_number(x) is not None for pts in lines.values() for x, _ in pts)
    for key, pts in lines.items():
        pts.sort(key=lambda p: _number(p[0]) if numeric else str(p[0]))
        xs = [_number(x) if numeric else str(x) for x, _ in pts]
        ys = np.array([d.mean for _, d in pts])
        err = np.array([[d.mean - d.lo, d.hi - d.mean] if d.n > 1 else [0, 0] for _, d in pts]).T
        ax.errorbar(xs, ys, yerr=err, fmt="o-", capsize=3,
                    label=", ".join(f"{o}={v}" for o, v in zip(others, key)) or None)
    ys = [d.mean for pts in lines.values() for _, d in pts]
    log_x = False
    if numeric and lines:
        xs = [_number(x) for pts in lines.values() for x, _ in pts]
        log_x = min(xs) > 0 and max(xs) / min(xs) >= 32
        if log_x:
            ax.set_xscale("log")
    if ys and min(ys) > 0 and max(ys) / min(ys) >= (10 if log_x else 1000):  # log-log for scaling laws
        ax.set_yscale("log")  # an interval reaching below 0 is drawn down to the axis' bottom
        ax.set_ylim(bottom=min(ys) / 10)
    n = sorted({d.n for pts in lines.values() for _, d in pts})
    ax.set(xlabel=param, ylabel=metric, title=f"{metric} against {param} (n={','.join(map(str, n))}; 95% CI)")
    if others:
        ax.legend(fontsize=7)
    ax.tick_params(axis="x", labelrotation=30)
    fig.tight_layout()
    return fig
