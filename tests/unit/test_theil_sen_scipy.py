"""Waymark's Theil-Sen trend equals scipy.stats.theilslopes(y, x, alpha=0.95) (a test-only
dependency) on random irregular series like the ones Waymark reports: ratings and measure scores
with tied values, escalation severities (1-4) and gaps, several readings on one day."""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import pytest
from scipy import stats  # type: ignore[import-untyped]  # scipy ships no type hints

from projections.statistics import Reading, theil_sen

SERIES = 1_500


def _series(rng: random.Random) -> list[Reading]:
    """3-40 readings on irregular days within a year and a half, some on the same day (or at the same
    moment), with values from a short scale (many ties), a finer one, or one value throughout."""
    n = rng.randint(3, 40)
    pool = [
        rng.randint(0, 540) + rng.choice((0.0, 0.0, 0.25, rng.random())) for _ in range(rng.randint(2, 3 * n))
    ]
    days = [rng.choice(pool) for _ in range(n)]
    scale = rng.choice(("rating", "severity", "score", "gap", "steady"))
    if scale == "steady":  # the same rating every time: ties that can leave Sen's variance negative
        values = [float(rng.randint(1, 10))] * n
    elif scale == "rating":
        values = [float(rng.randint(1, 10)) for _ in days]
    elif scale == "severity":
        values = [float(rng.randint(1, 4)) for _ in days]
    elif scale == "score":
        values = [round(rng.uniform(0, 40), rng.choice((0, 1, 2))) for _ in days]
    else:
        values = [round(rng.expovariate(1 / 30), 1) for _ in days]
    return [Reading(d, v) for d, v in zip(days, values, strict=True)]


def _scipy(readings: list[Reading]) -> tuple[float, float, float]:
    x = np.array([r.day for r in readings])
    y = np.array([r.value for r in readings])
    # Heavy ties can make Sen's variance negative: scipy then answers nan bounds (after numpy's warning).
    with np.errstate(invalid="ignore"):
        found = stats.theilslopes(y, x, alpha=0.95)
    return float(found.slope), float(found.low_slope), float(found.high_slope)


@pytest.mark.slow  # hundreds of random series through scipy
def test_theil_sen_equals_scipy_on_random_irregular_series() -> None:
    rng = random.Random(20261202)
    checked, tied_days, tied_values, no_interval = 0, 0, 0, 0
    for _ in range(SERIES):
        readings = _series(rng)
        if len({r.day for r in readings}) < 2:
            assert theil_sen(readings) is None
            continue
        trend = theil_sen(readings)
        assert trend is not None
        slope, low, high = _scipy(readings)
        assert trend.slope_per_day == slope, readings
        if math.isnan(low):
            assert (trend.lower_per_day, trend.upper_per_day) == (None, None), readings
            assert trend.direction(higher_is_better=True) is None
            no_interval += 1
        else:
            assert (trend.lower_per_day, trend.upper_per_day) == (low, high), readings
        checked += 1
        tied_days += max(Counter(r.day for r in readings).values()) > 1
        tied_values += max(Counter(r.value for r in readings).values()) > 1
    # The corpus exercises what the tie correction is for, and scipy's answer with no interval.
    assert checked >= 1_000
    assert tied_days >= 500
    assert tied_values >= 500
    assert no_interval >= 1


@pytest.mark.parametrize("confidence", [0.80, 0.90, 0.99])
def test_other_confidences_equal_scipy_too(confidence: float) -> None:
    rng = random.Random(int(confidence * 100))
    for _ in range(200):
        readings = _series(rng)
        trend = theil_sen(readings, confidence=confidence)
        if trend is None or trend.lower_per_day is None:
            continue
        x = np.array([r.day for r in readings])
        y = np.array([r.value for r in readings])
        found = stats.theilslopes(y, x, alpha=confidence)
        assert (trend.lower_per_day, trend.upper_per_day) == (found.low_slope, found.high_slope), readings
