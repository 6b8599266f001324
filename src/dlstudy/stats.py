"""Statistics over seeds: n, mean, standard deviation and Student-t interval per group; Welch's test between groups."""

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95  # of every interval
ALPHA = 0.05  # a difference with Welch's p below this is called significant


@dataclass(frozen=True)
class Summary:
    """A sample of finite values: n, mean, standard deviation (ddof=1) and the t interval of the mean."""

    n: int
    mean: float
    std: float
    lo: float
    hi: float

    def __str__(self) -> str:
        if self.n == 0:
            return "n=0"
        if self.n == 1:
            return f"{self.mean:.4g} (n=1)"
        return f"{self.mean:.4g} ± {self.std:.2g} [{self.lo:.4g}, {self.hi:.4g}] (n={self.n})"


def finite(values) -> list[float]:
    return [float(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v)]


def describe(values, confidence: float = CONFIDENCE) -> Summary:
    """Summary of the finite values; with n = 1 the spread and the interval are NaN (unknown, not zero)."""
    x = np.asarray(finite(values))
    n = len(x)
    if n == 0:
        return Summary(0, math.nan, math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if n == 1:
        return Summary(1, mean, math.nan, math.nan, math.nan)
    std = float(x.std(ddof=1))
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * std / math.sqrt(n)
    return Summary(n, mean, std, mean - half, mean + half)


def welch_p(a, b) -> float:
    """Two-sided p of Welch's t-test (unequal variances); NaN when a side has fewer than two values.

    Two samples without any spread (deterministic runs) get p = 1 if their means are equal, else 0.
    """
    a, b = np.asarray(finite(a)), np.asarray(finite(b))
    if len(a) < 2 or len(b) < 2:
        return math.nan
    if a.std() == 0 and b.std() == 0:
        return 1.0 if a.mean() == b.mean() else 0.0
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def welch_diff(a, b, confidence: float = CONFIDENCE) -> Summary:
    """mean(a) - mean(b) and its Welch interval (unequal variances, Welch-Satterthwaite degrees of freedom), as a
    Summary whose n is the smaller side's; the interval is NaN when a side has fewer than two values.

    "a is as good as b within a margin m" is the interval's lower end above -m (non-inferiority): unlike "not
    significantly worse", it does not become easier to claim with fewer seeds, nor fail on a tiny gap with many.
    """
    a, b = np.asarray(finite(a)), np.asarray(finite(b))
    n = min(len(a), len(b))
    diff = float(a.mean() - b.mean()) if n else math.nan
    if n < 2:
        return Summary(n, diff, math.nan, math.nan, math.nan)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return Summary(n, diff, 0.0, diff, diff)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(stats.t.ppf((1 + confidence) / 2, df)) * se
    return Summary(n, diff, se, diff - half, diff + half)


def significant(p: float, alpha: float = ALPHA) -> bool | None:
    """True / False, or None when the test could not be made."""
    return None if math.isnan(p) else p < alpha


@dataclass
class Group:
    """The runs of one setting (every swept value but the seed), and their metrics over seeds."""

    settings: dict
    runs: list[dict]
    summaries: dict[str, Summary]
    p: float = math.nan  # Welch's test of the compared metric against the reference group
    diff: float = math.nan  # this group's mean minus the reference's

    @property
    def n(self) -> int:
        return len(self.runs)

    def values(self, metric: str) -> list[float]:
        return finite(r.get(metric) for r in self.runs)


def group_runs(rows: list[dict], keys: list[str], metrics: list[str]) -> list[Group]:
    """Rows (one per run) grouped by their values of `keys`, in first-seen order, each metric described."""
    by: dict[tuple, list[dict]] = {}
    for r in rows:
        by.setdefault(tuple(str(r.get(k, "")) for k in keys), []).append(r)
    return [Group(dict(zip(keys, key)), runs, {m: describe(r.get(m) for r in runs) for m in metrics})
            for key, runs in by.items()]


def compare(groups: list[Group], metric: str, reference: Group) -> None:
    """Fill each group's difference of means from `reference` and Welch's p for `metric`."""
    ref = reference.values(metric)
    for g in groups:
        g.diff = g.summaries[metric].mean - reference.summaries[metric].mean
        g.p = math.nan if g is reference else welch_p(g.values(metric), ref)
