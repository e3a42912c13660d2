"""The entries of recently read cases: a case read before is not read again, only what was stored
since; the oldest cases give way when the budget of entries is spent. The store here is a list
standing in for the events table (its reads are counted); the real one is read by the page tests."""

from __future__ import annotations

import uuid
from uuid import UUID

from events.entries import Entry, GoalSet
from service.write.recent import RecentEntries, Recorded
from tests.unit.builders import STABILITY, make

CASE, OTHER = uuid.uuid4(), uuid.uuid4()


class Store:
    """Entries per case, and every read asked of it: (case, after)."""

    def __init__(self) -> None:
        self.cases: dict[UUID, list[Entry]] = {CASE: [], OTHER: []}
        self.reads: list[tuple[UUID, int]] = []

    def add(self, case_id: UUID, count: int) -> None:
        self.cases[case_id] += [
            make(GoalSet, case_id=case_id, domain=STABILITY, in_own_words="sleep") for _ in range(count)
        ]

    def fetch(self, case_id: UUID, after: int) -> Recorded:
        self.reads.append((case_id, after))
        return [(version, entry) for version, entry in enumerate(self.cases[case_id], 1) if version > after]


def test_a_case_read_again_reads_only_what_was_stored_since() -> None:
    store = Store()
    store.add(CASE, 3)
    recent = RecentEntries(store.fetch)
    first = recent.all_of(CASE)
    store.add(CASE, 2)
    second = recent.all_of(CASE)
    assert [v for v, _ in first] == [1, 2, 3]
    assert [v for v, _ in second] == [1, 2, 3, 4, 5]
    assert [e for _, e in second] == store.cases[CASE]
    assert store.reads == [(CASE, 0), (CASE, 3)]


def test_the_cases_read_longest_ago_give_way_when_the_budget_is_spent() -> None:
    store = Store()
    store.add(CASE, 3)
    store.add(OTHER, 3)
    recent = RecentEntries(store.fetch, budget=4)
    recent.all_of(CASE)
    recent.all_of(OTHER)  # 6 entries held: over budget, so CASE goes
    recent.all_of(OTHER)
    recent.all_of(CASE)
    assert store.reads == [(CASE, 0), (OTHER, 0), (OTHER, 3), (CASE, 0)]
