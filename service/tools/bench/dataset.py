"""The benchmark dataset: at least N demo events in the benchmark database."""

from __future__ import annotations

import time
from collections.abc import Callable

from service.bootstrap import Runtime
from service.tools.demo import DemoPlan, write_demo

__all__ = ["ensure_events"]

ENTRIES_PER_PERSON_MONTH = 2.4
"""About how many entries the demo writes per person per month (measured on the demo generator)."""


def ensure_events(
    runtime: Runtime, events: int, progress: Callable[[int, int], None] | None = None, *, months: int = 24
) -> int:
    """Top the database up to at least ``events`` events with demo data over the last ``months``
    months; return the event count."""
    current = runtime.records.recorder.max_notification_id() or 0
    seed = int(time.time())
    while current < events:
        people = max(1, int((events - current) / (ENTRIES_PER_PERSON_MONTH * months)) + 1)
        write_demo(
            runtime.records, DemoPlan(people=people, months=months, seed=seed, batch_cases=100), progress
        )
        current = runtime.records.recorder.max_notification_id() or 0
        seed += 1
    return current
