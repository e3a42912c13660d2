"""Direction of travel, by the methods in the domain brief: reliable change (Jacobson & Truax 1991),
Theil-Sen trend with Sen's interval over irregular dates, window comparisons and rates per open day.
XmR charts are in ``projections.spc``.

Pure functions over plain numbers, with no I/O; numpy only where a record's hundreds of readings make
half a million pairwise slopes (Theil-Sen), which pure Python sorted in a third of a second.
Comparisons against a threshold or a mean allow for binary rounding (0.3 - 0.1 reaches a threshold
of 0.2), so a label never depends on how a decimal score happens to be stored.
"""

from __future__ import annotations

import enum
import functools
import itertools
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np


def _positive(threshold: float) -> float:
    """Thresholds are data: a zero, negative or missing (NaN) one must fail, not label everyone."""
    if not threshold > 0:
        raise ValueError(f"a reliable change threshold must be positive, not {threshold}")
    return threshold


def reaches(change: float, threshold: float) -> bool:
    """``change >= threshold``, counting a difference lost to binary rounding as reaching it."""
    return change >= threshold or math.isclose(change, threshold, rel_tol=1e-9, abs_tol=1e-12)


@dataclass(frozen=True, slots=True)
class Reading:
    """A value on a day (days since any fixed origin; readings may be irregular)."""

    day: float
    value: float


def reliable_change_threshold(sd_baseline: float, reliability: float, z: float = 1.96) -> float:
    """Jacobson & Truax: the smallest change unlikely (p < .05) to be measurement error alone."""
    return z * sd_baseline * math.sqrt(2) * math.sqrt(1 - reliability)


class ChangeCategory(enum.StrEnum):
    """Jacobson & Truax categories of change between two readings."""

    RECOVERED = "recovered"
    RELIABLY_IMPROVED = "reliably improved"
    NO_RELIABLE_CHANGE = "no reliable change"
    RELIABLY_DETERIORATED = "reliably deteriorated"


def change_category(
    baseline: float,
    latest: float,
    *,
    threshold: float,
    higher_is_better: bool,
    clinical_at_baseline: bool | None,
    clinical_at_latest: bool | None,
) -> ChangeCategory:
    """Reliable when the change reaches the threshold; recovered only when reliably improved *and*
    known to have left the clinical range (an unknown cut-off never claims recovery)."""
    threshold = _positive(threshold)
    better = latest - baseline if higher_is_better else baseline - latest
    if reaches(-better, threshold):
        return ChangeCategory.RELIABLY_DETERIORATED
    if not reaches(better, threshold):
        return ChangeCategory.NO_RELIABLE_CHANGE
    if clinical_at_baseline is True and clinical_at_latest is False:
        return ChangeCategory.RECOVERED
    return ChangeCategory.RELIABLY_IMPROVED


@dataclass(frozen=True, slots=True)
class Trend:
    """A Theil-Sen slope per day with its confidence interval; reported per 90 days ("a quarter").

    The interval is None at both ends when ties are so heavy that Sen's variance comes out negative
    (scipy answers nan there): no interval, so no direction."""

    slope_per_day: float
    lower_per_day: float | None
    upper_per_day: float | None
    n: int
    confidence: float

    @property
    def per_90_days(self) -> float:
        return self.slope_per_day * 90

    @property
    def lower_per_90_days(self) -> float | None:
        return None if self.lower_per_day is None else self.lower_per_day * 90

    @property
    def upper_per_90_days(self) -> float | None:
        return None if self.upper_per_day is None else self.upper_per_day * 90

    def direction(self, higher_is_better: bool) -> Literal["improving", "worsening"] | None:
        """A direction only when the whole interval is on one side of zero (an end at 0 includes it)."""
        if self.lower_per_day is None or self.upper_per_day is None:
            return None
        if self.lower_per_day > 0:
            return "improving" if higher_is_better else "worsening"
        if self.upper_per_day < 0:
            return "worsening" if higher_is_better else "improving"
        return None


def _tied(values: Iterable[float]) -> int:
    """Sen's (1968) term t(t - 1)(2t + 5), summed over each group of t equal values."""
    return sum(t * (t - 1) * (2 * t + 5) for t in Counter(values).values())


def theil_sen(readings: Sequence[Reading], confidence: float = 0.95) -> Trend | None:
    """Median of the pairwise slopes over pairs on different days (robust to one odd reading and to
    irregular dates), with Sen's (1968) distribution-free interval as scipy.stats.theilslopes gives it.

    The variance of Kendall's S over all n readings is corrected for tied days and tied values:
    (n(n-1)(2n+5) - the tied term of the days - that of the values) / 18. With z the normal quantile
    of (1 - confidence)/2 (negative), sd the square root of that variance and N sorted slopes, the
    interval is the slopes at the whole 0-based positions round((N + z sd)/2) - 1 and
    round((N - z sd)/2) (halves to even), kept within the slopes: never interpolated between them.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    days = np.fromiter((r.day for r in readings), dtype=np.float64, count=len(readings))
    values = np.fromiter((r.value for r in readings), dtype=np.float64, count=len(readings))
    return _trend_of(days.tobytes(), values.tobytes(), confidence)


@functools.lru_cache(maxsize=2048)
def _trend_of(day_bytes: bytes, value_bytes: bytes, confidence: float) -> Trend | None:
    """The trend of readings given as the bytes of their float64 days and values. Remembered: a
    record is read far more often than it changes, and the same readings always give the same trend
    (a series of a thousand readings costs tens of milliseconds to work out)."""
    days, values = np.frombuffer(day_bytes), np.frombuffer(value_bytes)
    slopes = _pairwise_slopes(days, values)
    total = len(slopes)
    if not total:
        return None
    n = len(days)
    ties = _tied(days.tolist()) + _tied(values.tolist())
    # 1/18 times the count, in that order: the figures then match scipy's to the last bit.
    variance = 1 / 18 * (n * (n - 1) * (2 * n + 5) - ties)
    middle = sorted({(total - 1) // 2, total // 2})
    ends: list[int] = []
    if variance >= 0:
        spread = statistics.NormalDist().inv_cdf((1 - confidence) / 2) * math.sqrt(variance)
        ends = [max(round((total + spread) / 2) - 1, 0), min(round((total - spread) / 2), total - 1)]
    # Only these few order statistics are needed: a partial sort finds them in linear time.
    ranked = np.partition(slopes, sorted({*middle, *ends}))
    median = (float(ranked[middle[0]]) + float(ranked[middle[-1]])) / 2
    lower, upper = (float(ranked[ends[0]]), float(ranked[ends[1]])) if ends else (None, None)
    return Trend(median, lower, upper, n, confidence)


Floats = np.ndarray[tuple[int], np.dtype[np.float64]]


def _pairwise_slopes(days: Floats, values: Floats) -> Floats:
    """(later value - earlier value) / (later day - earlier day) for every pair of readings on
    different days, pairs taken in the readings' order as ``itertools.combinations`` takes them."""
    first, second = np.triu_indices(len(days), k=1)
    apart = days[second] - days[first]
    differ = apart != 0
    rises = values[second] - values[first]
    slopes: Floats = rises[differ] / apart[differ]
    return slopes


class DirectionLabel(enum.StrEnum):
    """The per-domain label of direction of travel."""

    RELIABLE_IMPROVEMENT = "reliable improvement"
    RELIABLE_DETERIORATION = "reliable deterioration"
    STABLE = "stable"
    FLUCTUATING = "fluctuating"
    INSUFFICIENT_DATA = "insufficient data"


@dataclass(frozen=True, slots=True)
class Direction:
    """A label, always with the number of readings, their span and the last reading's day."""

    label: DirectionLabel
    n: int
    span_days: float
    last_day: float | None
    change: float | None  # latest - baseline; None with fewer than two readings
    trend: Trend | None  # theil_sen over the readings whenever there are at least 3 (and it was asked)


MIN_SPAN_DAYS = 60
"""The span of readings a direction is judged over by default (days)."""


def direction(
    readings: Sequence[Reading],
    *,
    threshold: float,
    higher_is_better: bool,
    min_readings: int = 3,
    min_span_days: float = MIN_SPAN_DAYS,
    with_trend: bool = True,
) -> Direction:
    """Label a series. Recovery is not linear, so reliable swings both ways ("fluctuating") outrank
    the net change; the net change is judged against the reliable change threshold. The label never
    depends on the trend: ``with_trend=False`` leaves it out (None), the costly part, where only the
    label is wanted."""
    threshold = _positive(threshold)
    points = sorted(readings, key=lambda r: r.day)
    n = len(points)
    span = points[-1].day - points[0].day if points else 0.0
    last = points[-1].day if points else None
    change = points[-1].value - points[0].value if n >= 2 else None
    trend = theil_sen(points) if n >= 3 and with_trend else None
    if change is None or n < min_readings or span < min_span_days:
        return Direction(DirectionLabel.INSUFFICIENT_DATA, n, span, last, change, trend)
    steps = [b.value - a.value for a, b in itertools.pairwise(points)]
    better = change if higher_is_better else -change
    label = label_of(better, max(steps), min(steps), threshold)
    return Direction(label, n, span, last, change, trend)


def label_of(better: float, rise: float, fall: float, threshold: float) -> DirectionLabel:
    """``direction``'s label of a series long enough to judge, from its net change in the better
    direction and its largest step up and down (``reaches`` only grows with the change, so the
    largest rise and fall decide whether it swung reliably both ways)."""
    if reaches(rise, threshold) and reaches(-fall, threshold):
        return DirectionLabel.FLUCTUATING
    if reaches(better, threshold):
        return DirectionLabel.RELIABLE_IMPROVEMENT
    if reaches(-better, threshold):
        return DirectionLabel.RELIABLE_DETERIORATION
    return DirectionLabel.STABLE


@dataclass(frozen=True, slots=True)
class WindowComparison:
    """Mean of the last ``days`` against the ``days`` before ("easier than three months ago?")."""

    recent_mean: float | None
    recent_n: int
    before_mean: float | None
    before_n: int
    difference: float | None


def compare_windows(readings: Sequence[Reading], *, today: float, days: float = 90) -> WindowComparison:
    """Recent window (today - days, today]; the one before (today - 2 days, today - days]."""
    recent = [r.value for r in readings if today - days < r.day <= today]
    before = [r.value for r in readings if today - 2 * days < r.day <= today - days]
    recent_mean = statistics.fmean(recent) if recent else None
    before_mean = statistics.fmean(before) if before else None
    difference = recent_mean - before_mean if recent_mean is not None and before_mean is not None else None
    return WindowComparison(recent_mean, len(recent), before_mean, len(before), difference)


@dataclass(frozen=True, slots=True)
class RateComparison:
    """Events per open day in two windows: a closed case cannot escalate, so closed days don't count."""

    recent_count: int
    recent_exposure_days: float
    before_count: int
    before_exposure_days: float

    @property
    def recent_rate(self) -> float | None:
        return self.recent_count / self.recent_exposure_days if self.recent_exposure_days > 0 else None

    @property
    def before_rate(self) -> float | None:
        return self.before_count / self.before_exposure_days if self.before_exposure_days > 0 else None

    @property
    def ratio(self) -> float | None:
        """Recent rate over the earlier rate (below 1: fewer events per open day than before)."""
        recent, before = self.recent_rate, self.before_rate
        return recent / before if recent is not None and before else None


def _open_days(intervals: Sequence[tuple[float, float]], start: float, end: float) -> float:
    """Days of [start, end) covered by the union of the intervals (overlaps are counted once)."""
    covered, reach = 0.0, start
    for opened, closed in sorted(intervals):
        a, b = max(opened, reach), min(closed, end)
        if b > a:
            covered += b - a
            reach = b
    return covered


def rate_comparison(
    event_days: Sequence[float],
    *,
    today: float,
    open_intervals: Sequence[tuple[float, float]],
    days: float = 90,
) -> RateComparison:
    """Count events in the windows of ``compare_windows`` and the days the case was open within each."""
    return RateComparison(
        recent_count=sum(1 for d in event_days if today - days < d <= today),
        recent_exposure_days=_open_days(open_intervals, today - days, today),
        before_count=sum(1 for d in event_days if today - 2 * days < d <= today - days),
        before_exposure_days=_open_days(open_intervals, today - 2 * days, today - days),
    )


def gaps(event_days: Sequence[float]) -> list[float]:
    """Days between consecutive events; growing gaps between escalations mean improvement."""
    return [b - a for a, b in itertools.pairwise(sorted(event_days))]
