"""The chapter reports' view of dlstudy.stats: a mean with its Student-t interval, formatted; Welch's test."""

from dataclasses import dataclass

from dlstudy.stats import describe, welch_p

__all__ = ["Interval", "interval", "welch_p"]


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
    """Mean and t-interval of the finite values (a diverged run's nan or inf is left out of n), from dlstudy.stats."""
    s = describe(values, confidence)
    return Interval(s.mean, s.lo, s.hi, s.n)
