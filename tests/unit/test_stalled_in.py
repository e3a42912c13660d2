"""The time to action judges a domain at every reading in one pass (``stalled_in``): at each, the
same answer as the action list's ``stall_reason`` on the readings up to it, on random series like a
domain's ratings (1-10, irregular dates, several on one day, long gaps and steady runs)."""

from __future__ import annotations

import random
from collections import Counter

from projections.queries.stalled import stall_reason, stalled_in
from projections.statistics import Reading


def _series(rng: random.Random) -> list[Reading]:
    day, readings = rng.uniform(0, 50), []
    steady = rng.randint(1, 10)
    for _ in range(rng.randint(1, 30)):
        day += rng.choice((0.0, rng.uniform(1, 30), rng.uniform(30, 90), rng.uniform(90, 240)))
        value = steady if rng.random() < 0.5 else max(1, min(10, steady + rng.randint(-4, 3)))
        readings.append(Reading(day, float(value)))
    return readings


def test_stalled_in_answers_as_stall_reason_at_every_reading() -> None:
    rng = random.Random(20261203)
    reasons: Counter[str | None] = Counter()
    for _ in range(2_000):
        readings = _series(rng)
        first = rng.randint(0, len(readings))
        expected = [stall_reason(readings[: j + 1]) for j in range(first, len(readings))]
        assert stalled_in([(readings, first)])[0] == [r is not None for r in expected], readings
        reasons.update(expected)
    # The corpus exercises both rules and readings found not stalled.
    assert reasons["reliable deterioration"] >= 300
    assert reasons["no reliable change, flat for 6 months"] >= 300
    assert reasons[None] >= 1_000
