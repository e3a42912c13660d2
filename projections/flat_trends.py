"""Whether Theil-Sen intervals hold 0, for many short series at once: the flat-trend test of the
action loop's stall rule, at every reading of a year of a service (tens of thousands of six-month
windows), where one ``theil_sen`` call each cost more than the rest of the rule.

The same sums as ``projections.statistics.theil_sen``, on numpy arrays of the series of one length:
the pairwise slopes in the same order and float operations, Sen's variance corrected for ties from
the same integer counts, the interval's ends at the same whole positions of the sorted slopes. A
unit test holds it to ``theil_sen`` on random series."""

from __future__ import annotations

import statistics

import numpy as np

__all__ = ["interval_holds_zero"]

Floats = np.ndarray[tuple[int], np.dtype[np.float64]]
Indices = np.ndarray[tuple[int], np.dtype[np.intp]]
Flags = np.ndarray[tuple[int], np.dtype[np.bool_]]
Grid = np.ndarray[tuple[int, int], np.dtype[np.float64]]


def interval_holds_zero(
    days: Floats, values: Floats, starts: Indices, stops: Indices, confidence: float = 0.95
) -> Flags:
    """For each window ``days[start:stop]`` (with its ``values``; days in order): True when
    ``theil_sen`` of it gives a trend whose interval holds 0 (an end at 0 included) or has no
    interval (Sen's variance negative under heavy ties); False when it gives none (all readings on
    one day) or the interval excludes 0. Windows of one length are worked out together."""
    holds = np.zeros(len(starts), dtype=np.bool_)
    lengths = stops - starts
    z = statistics.NormalDist().inv_cdf((1 - confidence) / 2)
    for n in np.unique(lengths).tolist():
        if n < 2:
            continue
        which = np.flatnonzero(lengths == n)
        at = starts[which, None] + np.arange(n)
        holds[which] = _holds(days[at], values[at], z)
    return holds


def _holds(days: Grid, values: Grid, z: float) -> Flags:
    n = days.shape[1]
    first, second = np.triu_indices(n, k=1)  # the pairs in itertools.combinations' order
    apart = days[:, second] - days[:, first]
    differ = apart != 0
    slopes = np.full(apart.shape, np.inf)  # pairs on one day sort after every slope
    np.divide(values[:, second] - values[:, first], apart, out=slopes, where=differ)
    total = differ.sum(axis=1)
    ties = _tied(days) + _tied(values)
    variance = 1 / 18 * (n * (n - 1) * (2 * n + 5) - ties)
    interval = variance >= 0
    spread = z * np.sqrt(np.where(interval, variance, 0.0))
    lower_at = np.maximum(np.rint((total + spread) / 2).astype(np.int64) - 1, 0)
    upper_at = np.minimum(np.rint((total - spread) / 2).astype(np.int64), total - 1)
    ranked = np.sort(slopes, axis=1)
    rows = np.arange(len(days))
    lower, upper = ranked[rows, np.maximum(lower_at, 0)], ranked[rows, np.maximum(upper_at, 0)]
    holds: Flags = (total > 0) & (~interval | ((lower <= 0) & (upper >= 0)))
    return holds


def _tied(grid: Grid) -> np.ndarray[tuple[int], np.dtype[np.int64]]:
    """Sen's t(t - 1)(2t + 5) over each group of t equal values, per row: each of a group's t
    members counts t equal to it, so the sum over members of (t - 1)(2t + 5) is the group's term."""
    equal = (grid[:, :, None] == grid[:, None, :]).sum(axis=2)
    tied: np.ndarray[tuple[int], np.dtype[np.int64]] = ((equal - 1) * (2 * equal + 5)).sum(axis=1)
    return tied
