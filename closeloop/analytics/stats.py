"""The statistics the reports use, written out so each figure can be checked by hand.

- Rates are shares of whole numbers; shown as percentages with one decimal, half rounded up.
- Intervals are Wilson score intervals at 95 % (z = 1.96), which stay sensible for small counts
  and for rates near 0 or 100 % (the plain ± interval does neither).
- "Significantly above" is a one-sided two-proportion z-test with a pooled proportion at the
  5 % level (z ≥ 1.645), only where both groups have at least `MIN_SAMPLE` deals.
- Medians and 75th percentiles are taken from counts of durations in tenths of a day, with the
  nearest-rank method: the p-th percentile is the smallest value with at least p % of the values
  at or below it. The database counts; Python walks the (short) list of distinct values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

Z95 = 1.959963984540054  # two-sided 95 %
Z_ONE_SIDED_95 = 1.6448536269514722
MIN_SAMPLE = 20  # fewer deals than this in a group and no insight is drawn from it


def percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """part / whole as a percentage with one decimal; None when there is nothing to divide."""
    if not whole:
        return None
    return (Decimal(100) * Decimal(part) / Decimal(whole)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


@dataclass(frozen=True)
class Rate:
    """k successes out of n, with its Wilson 95 % interval (all as percentages)."""

    k: int
    n: int

    @property
    def value(self) -> Decimal | None:
        return percent(self.k, self.n)

    @property
    def interval(self) -> tuple[Decimal, Decimal] | None:
        if not self.n:
            return None
        low, high = wilson_interval(self.k, self.n)
        return _pct(low), _pct(high)

    @property
    def low(self) -> Decimal | None:
        return self.interval[0] if self.interval else None

    @property
    def high(self) -> Decimal | None:
        return self.interval[1] if self.interval else None


def _pct(x: float) -> Decimal:
    return (Decimal(repr(x)) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for k successes in n trials, as fractions in [0, 1]."""
    if n <= 0:
        raise ValueError("n must be positive")
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def two_proportion_z(k1: int, n1: int, k2: int, n2: int) -> float | None:
    """z for "k1/n1 is above k2/n2" with the pooled proportion; None if it cannot be computed."""
    if not n1 or not n2:
        return None
    pooled = (k1 + k2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        return None
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return (k1 / n1 - k2 / n2) / se


def significantly_above(k1: int, n1: int, k2: int, n2: int) -> float | None:
    """z when k1/n1 is significantly above k2/n2 (one-sided, 5 %) with enough data, else None."""
    if n1 < MIN_SAMPLE or n2 < MIN_SAMPLE:
        return None
    z = two_proportion_z(k1, n1, k2, n2)
    return z if z is not None and z >= Z_ONE_SIDED_95 else None


def percentile_of_counts(counts: Iterable[tuple[int, int]], p: float) -> int | None:
    """The nearest-rank p-th percentile (0 < p ≤ 100) of values given as (value, how many)."""
    pairs = sorted((v, c) for v, c in counts if c)
    total = sum(c for _, c in pairs)
    if not total:
        return None
    rank = max(1, math.ceil(p / 100 * total))
    seen = 0
    for value, count in pairs:
        seen += count
        if seen >= rank:
            return value
    return pairs[-1][0]


def days(tenths: int | None) -> Decimal | None:
    """Tenths of a day as days with one decimal."""
    return None if tenths is None else Decimal(tenths) / 10
