"""Copies of a case: snapshots restore the same case, a deep copy is equal but independent; and late
entries."""

from __future__ import annotations

import copy
from datetime import timedelta

import msgspec
import pytest

from events.case import Case, CaseSnapshot
from events.entries import EscalationResolved, GoalSet, MilestoneReached
from tests.unit.builders import (
    DAILY_LIVING,
    NOW,
    STABILITY,
    correction,
    escalation,
    goal,
    make,
    measure,
    milestone,
    plan_change,
    review,
    setback,
)


@pytest.fixture
def busy_case(opened_case: Case) -> Case:
    """A case with something of everything the state holds, including a correction."""
    goal_set = goal(opened_case)
    step = milestone(opened_case, goal_set.entry_id)
    opened_case.record(make(MilestoneReached, milestone_id=step.entry_id, evidence="did it"))
    first, _ = escalation(opened_case, severity=2), escalation(opened_case, severity=3)
    opened_case.record(make(EscalationResolved, escalation_id=first.entry_id, resolution="ok"))
    cause = setback(opened_case)
    plan_change(
        opened_case, because_of=(cause.entry_id,), support_hours_per_week=4.0, domains_added=(DAILY_LIVING,)
    )
    review(opened_case, measure_ids=(measure(opened_case).entry_id,))
    correction(opened_case, goal_set, in_own_words="corrected words")
    opened_case.collect_events()
    return opened_case


def test_a_snapshot_round_trips_through_json_to_the_same_case(busy_case: Case) -> None:
    snapshot = CaseSnapshot.take(busy_case)
    restored_snapshot = msgspec.json.decode(msgspec.json.encode(snapshot), type=CaseSnapshot)
    restored = restored_snapshot.mutate(None)
    assert restored.state == busy_case.state
    assert (restored.id, restored.version, restored.created_on, restored.modified_on) == (
        busy_case.id,
        busy_case.version,
        busy_case.created_on,
        busy_case.modified_on,
    )
    assert restored.state.corrections_of(next(iter(busy_case.state.goals)))


def test_a_restored_case_keeps_applying_the_rules(busy_case: Case) -> None:
    restored = msgspec.json.decode(msgspec.json.encode(CaseSnapshot.take(busy_case)), type=CaseSnapshot)
    case = restored.mutate(None)
    goal_set = goal(case, domain=DAILY_LIVING)
    assert case.version == busy_case.version + 1
    assert [event.entry for event in case.collect_events()] == [goal_set]


def test_a_snapshot_is_of_the_case_as_it_stands(busy_case: Case) -> None:
    snapshot = CaseSnapshot.take(busy_case)
    assert (snapshot.originator_id, snapshot.originator_version) == (busy_case.id, busy_case.version)
    assert snapshot.modified_on == busy_case.modified_on == NOW


def test_a_deep_copy_is_equal_but_independent(busy_case: Case) -> None:
    copied = copy.deepcopy(busy_case)
    assert copied.state == busy_case.state
    assert (copied.id, copied.version, copied.created_on, copied.modified_on) == (
        busy_case.id,
        busy_case.version,
        busy_case.created_on,
        busy_case.modified_on,
    )
    goal_id = next(iter(copied.state.goals))
    copied.state.goals[goal_id].in_own_words = "changed in the copy"
    goal(copied)
    assert busy_case.state.goals[goal_id].in_own_words == "corrected words"
    assert busy_case.version == copied.version - 1
    assert len(busy_case.state.goals) == len(copied.state.goals) - 1


def test_a_deep_copy_has_its_own_pending_entries(opened_case: Case) -> None:
    pending = goal(opened_case)
    copied = copy.deepcopy(opened_case)
    goal(copied)
    assert [event.entry for event in opened_case.collect_events()] == [pending]
    assert len(copied.collect_events()) == 2


def _goal_recorded_after(delay: timedelta) -> GoalSet:
    return make(GoalSet, occurred_at=NOW - delay, domain=STABILITY, in_own_words="x")


@pytest.mark.parametrize(
    ("delay", "late"),
    [
        (timedelta(0), False),
        (timedelta(hours=23), False),
        (timedelta(hours=24), False),
        (timedelta(hours=24, seconds=1), True),
        (timedelta(days=30), True),
    ],
    ids=["at_once", "same_day", "exactly_24h", "just_over_24h", "a_month"],
)
def test_an_entry_recorded_more_than_24_hours_after_it_happened_is_late(delay: timedelta, late: bool) -> None:
    assert _goal_recorded_after(delay).late is late
