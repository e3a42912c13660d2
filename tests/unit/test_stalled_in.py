"""The time to action judges a domain at every reading in one pass (``stalled_in``): at each, the
same answer as the action list's ``stall_reason`` on the readings up to it, on random series like a
domain's ratings (1-10, irregular dates, several on one day, long gaps and steady runs)."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np

from projections.queries.stalled import stall_reason, stalled_in
from projections.statistics import Reading


def _series(rng: random.Random) -> list[Reading]:
    day, readings = rng.uniform(0, 50), []
    steady = rng.randint(1, 10)
    # Half the series in whole days, some steps the rule's own spans, so readings fall exactly on
    # the edges of the six-month window and the spans it needs.
    whole = rng.random() < 0.5
    for _ in range(rng.randint(1, 30)):
        if whole:
            day = float(int(day)) + rng.choice((0, 1, 7, 30, 60, 63, 120, 183, rng.randint(1, 240)))
        else:
            day += rng.choice((0.0, rng.uniform(1, 30), rng.uniform(30, 90), rng.uniform(90, 240)))
        value = steady if rng.random() < 0.5 else max(1, min(10, steady + rng.randint(-4, 3)))
        readings.append(Reading(day, float(value)))
    return readings


def test_stalled_in_answers_as_stall_reason_at_every_reading() -> None:
    rng = random.Random(20261203)
    reasons: Counter[str | None] = Counter()
    corpus = [_series(rng) for _ in range(2_000)]
    firsts = [rng.randint(0, len(readings)) for readings in corpus]
    offsets = np.cumsum([0] + [len(readings) for readings in corpus])
    judged = np.zeros(offsets[-1], dtype=np.bool_)
    for offset, first, readings in zip(offsets, firsts, corpus, strict=False):
        judged[offset + first : offset + len(readings)] = True
    days = np.array([r.day for readings in corpus for r in readings])
    values = np.array([r.value for readings in corpus for r in readings])
    stalled = stalled_in(days, values, offsets, judged).tolist()  # every series at once
    for offset, first, readings in zip(offsets, firsts, corpus, strict=False):
        expected = [stall_reason(readings[: j + 1]) for j in range(len(readings))]
        found = stalled[offset : offset + len(readings)]
        assert found == [j >= first and r is not None for j, r in enumerate(expected)], readings
        reasons.update(expected[first:])
    # The corpus exercises both rules and readings found not stalled.
    assert reasons["reliable deterioration"] >= 300
    assert reasons["no reliable change, flat for 6 months"] >= 300
    assert reasons[None] >= 1_000
