"""XmR charts with the four special-cause rules (NHS England, "Making Data Count"): a point beyond
the limits, a run of seven on one side of the mean, a trend of seven, two of three beyond two sigma.

Limits screen large moving ranges by default, as the NHS-R NHSRplotthedots package does: moving
ranges at or above 3.267 x their mean are left out once and the mean moving range is taken over the
rest. Unscreened, one spike widens the limits (by 45% in the worked example in the unit tests) and
can hide later signals; unscreened limits are those of the NHS Excel tool.

Pure functions over plain numbers, like ``projections.statistics``.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MIN_SPC_POINTS", "XmRChart", "XmRPoint", "xmr"]

MIN_SPC_POINTS = 12  # "Making Data Count": fewer points give limits too unsteady to act on
LIMIT = 2.66
"""Process limits: mean +/- 2.66 x mean moving range (3 sigma, as 3 / 1.128)."""
NEAR_LIMIT = 2 * (LIMIT / 3)
"""The outer third begins here (2 sigma), derived from the limit as NHSRplotthedots does."""
SCREEN_AT = 3.267
"""Moving ranges at or above this many times their mean are screened out (the upper range limit)."""


@dataclass(frozen=True, slots=True)
class XmRPoint:
    """One point of an XmR chart with its segment's limits and which special-cause rules it meets."""

    label: str
    value: float
    moving_range: float | None
    moving_range_screened_out: bool
    mean: float
    upper: float
    lower: float
    outside_limits: bool
    run_of_seven: bool
    trend_of_seven: bool
    two_of_three_outer: bool

    @property
    def special_cause(self) -> bool:
        return self.outside_limits or self.run_of_seven or self.trend_of_seven or self.two_of_three_outer


@dataclass(frozen=True, slots=True)
class XmRChart:
    """An XmR chart; ``screened`` says whether large moving ranges were left out of the limits;
    ``warning`` is set when a segment has too few points to trust its limits."""

    points: list[XmRPoint]
    warning: str | None
    screened: bool


def xmr(
    values: Sequence[tuple[str, float]], *, rebase_at: Sequence[str] = (), screen: bool = True
) -> XmRChart:
    """Limits = mean +/- 2.66 x mean moving range, per segment (a segment starts at each rebase label,
    so a known service change does not blur the limits before and after it); with ``screen``, the
    mean moving range leaves out moving ranges at or above 3.267 x their mean."""
    segments: list[list[tuple[str, float]]] = []
    for label, value in values:
        if not segments or label in rebase_at:
            segments.append([])
        segments[-1].append((label, value))
    points = [point for segment in segments for point in _segment(segment, screen=screen)]
    shortest = min((len(s) for s in segments), default=0)
    where = "points" if len(segments) <= 1 else "points in the shortest rebased segment"
    warning = f"only {shortest} {where}: limits are unreliable under {MIN_SPC_POINTS}"
    return XmRChart(points, warning if shortest < MIN_SPC_POINTS else None, screen)


def _side(value: float, reference: float) -> int:
    """1 above, -1 below, 0 on the reference (a difference lost to rounding counts as on it)."""
    if math.isclose(value, reference, rel_tol=1e-9, abs_tol=1e-12):
        return 0
    return 1 if value > reference else -1


def _screened(ranges: Sequence[float]) -> list[bool]:
    """Which moving ranges are at or above 3.267 x their mean (screened once, never again)."""
    if not ranges:
        return []
    at = SCREEN_AT * statistics.fmean(ranges)
    return [r >= at for r in ranges]


def _segment(segment: Sequence[tuple[str, float]], *, screen: bool) -> list[XmRPoint]:
    values = [v for _, v in segment]
    ranges = [abs(b - a) for a, b in itertools.pairwise(values)]
    out = _screened(ranges) if screen else [False] * len(ranges)
    kept = [r for r, dropped in zip(ranges, out, strict=True) if not dropped]
    # All ranges 0 are all "at or above" a mean of 0: a series without variation keeps none.
    mean_range = statistics.fmean(kept) if kept else 0.0
    mean = statistics.fmean(values)
    spread, near = LIMIT * mean_range, NEAR_LIMIT * mean_range
    sides = [_side(v, mean) for v in values]
    steps = [_side(b, a) for a, b in itertools.pairwise(values)]
    # With no variation at all (spread 0) nothing is special; rounding must not make it so.
    outside = [spread > 0 and abs(v - mean) > spread for v in values]
    outer = [s if spread > 0 and abs(v - mean) > near else 0 for v, s in zip(values, sides, strict=True)]
    runs = _runs(sides, 7, len(values))
    # Six rises (or falls) in a row move seven points: step j leads from point j to point j + 1.
    trends = _runs(steps, 6, len(values), extend=1)
    pairs = _two_of_three(outer)
    upper, lower = mean + spread, mean - spread
    return [
        XmRPoint(
            label,
            v,
            ranges[i - 1] if i else None,
            bool(i) and out[i - 1],
            mean,
            upper,
            lower,
            beyond,
            run,
            trend,
            pair,
        )
        for i, ((label, v), beyond, run, trend, pair) in enumerate(
            zip(segment, outside, runs, trends, pairs, strict=True)
        )
    ]


def _runs(signs: Sequence[int], length: int, size: int, extend: int = 0) -> list[bool]:
    """Flags for ``size`` points: every point of each stretch of at least ``length`` equal, non-zero
    signs (a zero breaks a stretch), and the ``extend`` points after it."""
    flags = [False] * size
    start = 0
    for i in range(1, len(signs) + 1):
        if i == len(signs) or signs[i] != signs[start]:
            if signs[start] != 0 and i - start >= length:
                flags[start : i + extend] = [True] * (i + extend - start)
            start = i
    return flags


def _two_of_three(outer: Sequence[int]) -> list[bool]:
    """Flag the points in the outer third (or beyond the limits) when at least 2 of 3 consecutive
    points are there on the same side; the third point of the window is not flagged."""
    flags = [False] * len(outer)
    for i, side in itertools.product(range(len(outer) - 2), (1, -1)):
        window = range(i, i + 3)
        if sum(outer[j] == side for j in window) >= 2:
            for j in window:
                flags[j] = flags[j] or outer[j] == side
    return flags
