"""interval_holds_zero answers for many series at once what theil_sen answers for each: whether its
interval holds 0 (or there is none), on random short series with tied days and values."""

from __future__ import annotations

import random

import numpy as np

from projections.flat_trends import interval_holds_zero
from projections.statistics import Reading, theil_sen


def _window(rng: random.Random) -> list[Reading]:
    n = rng.randint(1, 16)  # both of theil_sen's ways: plain Python to 12 readings, numpy beyond
    pool = [rng.randint(0, 200) + rng.choice((0.0, 0.5, rng.random())) for _ in range(rng.randint(1, 2 * n))]
    days = sorted(rng.choice(pool) for _ in range(n))
    kind = rng.random()
    if kind < 0.2:  # one value throughout: ties that can leave Sen's variance negative
        values = [5.0] * n
    elif kind < 0.6:
        values = [float(rng.randint(1, 10)) for _ in days]
    else:
        values = [float(rng.choice((4, 5, 5, 6))) for _ in days]
    return [Reading(d, v) for d, v in zip(days, values, strict=True)]


def _holds(readings: list[Reading]) -> bool:
    trend = theil_sen(readings)
    return trend is not None and (
        trend.lower_per_day is None
        or trend.upper_per_day is None
        or trend.lower_per_day <= 0 <= trend.upper_per_day
    )


def test_interval_holds_zero_answers_as_theil_sen() -> None:
    rng = random.Random(20261203)
    windows = [_window(rng) for _ in range(10_000)]
    expected = [_holds(w) for w in windows]
    stops = np.cumsum([len(w) for w in windows])
    days = np.array([r.day for w in windows for r in w])
    values = np.array([r.value for w in windows for r in w])
    assert interval_holds_zero(days, values, stops - [len(w) for w in windows], stops).tolist() == expected
    # Both answers, and the cases theil_sen has no interval for, are in the corpus.
    assert 1_000 <= sum(expected) <= 9_000
    assert sum(1 for w in windows if (t := theil_sen(w)) is not None and t.lower_per_day is None) >= 100
