"""Statistics over seeds: means with Student-t 95% intervals and Welch's test (scipy.stats)."""

import math
from dataclasses import dataclass

from scipy import stats


@dataclass(frozen=True)
class Interval:
    """The mean of n values and its Student-t confidence interval [lo, hi] (nan for n < 2)."""

    mean: float
    lo: float
    hi: float
    n: int

    def fmt(self, spec: str = ".3g") -> str:
        if self.n == 0:
            return "–"
        if self.n < 2:
            return f"{self.mean:{spec}} (n=1)"
        return f"{self.mean:{spec}} [{self.lo:{spec}}, {self.hi:{spec}}] (n={self.n})"


def interval(values: list[float], confidence: float = 0.95) -> Interval:
    """Mean and t-interval of the finite values (a diverged run's nan or inf is left out of n)."""
    x = [v for v in values if math.isfinite(v)]
    n = len(x)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = sum(x) / n
    if n < 2:
        return Interval(mean, math.nan, math.nan, 1)
    sem = stats.sem(x)
    if sem == 0:
        return Interval(mean, mean, mean, n)
    lo, hi = stats.t.interval(confidence, n - 1, loc=mean, scale=sem)
    return Interval(mean, float(lo), float(hi), n)


def welch_p(a: list[float], b: list[float]) -> float:
    """Two-sided p-value of Welch's t-test (unequal variances); nan with fewer than two values a side."""
    a, b = [v for v in a if math.isfinite(v)], [v for v in b if math.isfinite(v)]
    if len(a) < 2 or len(b) < 2:
        return math.nan
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)
