"""Recently read cases kept in memory: a case read before is not read again, only what was stored
since (and not even that when enough is held); the oldest cases give way when the budget of entries
is spent; a moment turns into the versions recorded by then; and the case at any version, folded on
from the states kept, is the case folded from its first entry. The store here is a list standing in
for the events table (its reads are counted); the real one is read by the API and page tests."""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta
from uuid import UUID

import msgspec

from events.entries import Entry, GoalSet
from events.replay import case_of
from service.write.recent import RecentCases, Recorded, up_to
from tests.unit.builders import NOW, STABILITY, make, opened

CASE, OTHER = uuid.uuid4(), uuid.uuid4()


class Store:
    """Entries per case (each opened first), and every read asked of it: (case, after)."""

    def __init__(self) -> None:
        self.cases: dict[UUID, list[Entry]] = {c: [opened(case_id=c)] for c in (CASE, OTHER)}
        self.reads: list[tuple[UUID, int]] = []

    def add(self, case_id: UUID, count: int) -> None:
        start = len(self.cases[case_id])
        self.cases[case_id] += [
            msgspec.structs.replace(
                make(GoalSet, case_id=case_id, domain=STABILITY, in_own_words=f"goal {start + n}"),
                recorded_at=NOW + timedelta(minutes=start + n),
            )
            for n in range(count)
        ]

    def fetch(self, case_id: UUID, after: int) -> Recorded:
        self.reads.append((case_id, after))
        return [(version, entry) for version, entry in enumerate(self.cases[case_id], 1) if version > after]

    def recorded(self, case_id: UUID) -> Recorded:
        return list(enumerate(self.cases[case_id], 1))


def test_a_case_read_again_reads_only_what_was_stored_since() -> None:
    store = Store()
    store.add(CASE, 2)
    recent = RecentCases(store.fetch)
    first = recent.all_of(CASE)
    store.add(CASE, 2)
    second = recent.all_of(CASE)
    assert [v for v, _ in first] == [1, 2, 3]
    assert [v for v, _ in second] == [1, 2, 3, 4, 5]
    assert [e for _, e in second] == store.cases[CASE]
    assert store.reads == [(CASE, 0), (CASE, 3)]


def test_a_version_already_held_is_not_asked_of_the_store() -> None:
    store = Store()
    store.add(CASE, 4)
    recent = RecentCases(store.fetch)
    recent.all_of(CASE)
    assert len(recent.all_of(CASE, current=5)) == 5
    store.add(CASE, 1)
    assert len(recent.all_of(CASE, current=6)) == 6
    assert store.reads == [(CASE, 0), (CASE, 5)]


def test_the_cases_read_longest_ago_give_way_when_the_budget_is_spent() -> None:
    store = Store()
    store.add(CASE, 2)
    store.add(OTHER, 2)
    recent = RecentCases(store.fetch, budget=4)
    recent.all_of(CASE)
    recent.all_of(OTHER)  # 6 entries held: over budget, so CASE goes
    recent.all_of(OTHER)
    recent.all_of(CASE)
    assert store.reads == [(CASE, 0), (OTHER, 0), (OTHER, 3), (CASE, 0)]


def test_a_moment_turns_into_the_versions_recorded_by_then() -> None:
    store = Store()
    store.add(CASE, 4)  # versions 2..5 recorded 1..4 minutes after the opening
    recent = RecentCases(store.fetch)
    assert recent.versions_recorded_by(CASE, NOW - timedelta(seconds=1), 5) == 0
    assert recent.versions_recorded_by(CASE, NOW + timedelta(minutes=2), 5) == 3
    assert recent.versions_recorded_by(CASE, NOW + timedelta(minutes=9), 5) == 5
    assert recent.versions_recorded_by(CASE, NOW + timedelta(minutes=9), 4) == 4  # only 4 asked


def test_the_case_at_any_version_is_the_case_folded_from_its_first_entry() -> None:
    store = Store()
    store.add(CASE, 259)
    recent = RecentCases(store.fetch)
    entries = store.recorded(CASE)
    for version in (260, 1, 99, 100, 101, 250, 200, 150, 260):
        case = recent.case_at(CASE, version)
        whole = case_of(entries[:version], version=version)
        assert whole is not None
        assert case.version == version
        assert msgspec.json.encode(case.state) == msgspec.json.encode(whole.state), version
        assert case.modified_on == whole.modified_on
        assert len(case.state.goals) == version - 1


def test_a_case_handed_out_is_its_own_and_the_states_kept_stay_as_they_were() -> None:
    store = Store()
    store.add(CASE, 150)
    recent = RecentCases(store.fetch)
    first = recent.case_at(CASE, 120)
    before = copy.deepcopy(first)
    first.state.goals.clear()
    again = recent.case_at(CASE, 120)
    assert msgspec.json.encode(again.state) == msgspec.json.encode(before.state)
    assert len(recent.case_at(CASE, 100).state.goals) == 99


def test_the_entries_up_to_a_version_are_those_stored_at_it_and_before() -> None:
    store = Store()
    store.add(CASE, 4)
    entries = store.recorded(CASE)
    assert up_to(entries, 5) is entries
    assert up_to(entries, 9) is entries
    assert [v for v, _ in up_to(entries, 3)] == [1, 2, 3]
    assert up_to(entries, 0) == []
    assert [v for v, _ in up_to(entries[2:], 4)] == [3, 4]  # not from the first: filtered
