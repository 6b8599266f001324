"""The summariser's figures: learning curves per job, and a metric against a swept setting."""

import math

from matplotlib.figure import Figure


def _number(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def curves_figure(jobs: list[dict], tag: str, swept: list[str]) -> Figure:
    """`tag` against the step, one line per job, labelled by its swept settings."""
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    for j in jobs:
        points = [(s, v) for s, v in j["series"].get(tag, []) if math.isfinite(v)]
        if points:
            ax.plot(*zip(*points), label=" ".join(f"{k}={j['params'].get(k)}" for k in swept) or j["job"], lw=1)
    values = [v for j in jobs for _, v in j["series"].get(tag, []) if math.isfinite(v) and v > 0]
    if tag.endswith("loss") and values and max(values) / min(values) > 100:
        ax.set_yscale("log")
    ax.set(xlabel="step", ylabel=tag, title=tag)
    ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def metric_figure(rows: list[dict], param: str, others: list[str], metric: str) -> Figure:
    """`metric` against `param`, one line per combination of the other swept settings."""
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    groups: dict[tuple, list] = {}
    for r in rows:
        if isinstance(r.get(metric), float) and math.isfinite(r[metric]):
            groups.setdefault(tuple(r[o] for o in others), []).append((r[param], r[metric]))
    numeric = all(_number(x) is not None for pts in groups.values() for x, _ in pts)
    for key, pts in groups.items():
        pts.sort(key=lambda p: _number(p[0]) if numeric else str(p[0]))
        xs = [_number(x) if numeric else str(x) for x, _ in pts]
        ax.plot(xs, [y for _, y in pts], "o-", label=", ".join(f"{o}={v}" for o, v in zip(others, key)) or None)
    ys, log_x = [y for pts in groups.values() for _, y in pts], False
    if numeric and groups:
        xs = [_number(x) for pts in groups.values() for x, _ in pts]
        log_x = min(xs) > 0 and max(xs) / min(xs) >= 32
        if log_x:
            ax.set_xscale("log")
    if ys and min(ys) > 0 and max(ys) / min(ys) >= (10 if log_x else 1000):  # log-log for scaling laws
        ax.set_yscale("log")
    ax.set(xlabel=param, ylabel=metric, title=f"{metric} against {param}")
    if others:
        ax.legend(fontsize=7)
    ax.tick_params(axis="x", labelrotation=30)
    fig.tight_layout()
    return fig
