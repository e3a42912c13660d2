"""Correction rules: a correction names an entry of the case, changes only what a clinician may change,
and yields a valid entry; derived values (a measure's score) are recomputed and stored with it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from events.case import Case
from events.corrections import correctable_fields
from events.entries import (
    CaseOpened,
    Entry,
    EntryCorrected,
    EscalationResolved,
    GoalRevised,
    GoalSet,
    MeasureRecorded,
    MilestoneReached,
)
from events.errors import (
    CauseNotAllowed,
    CorrectionNotAllowed,
    DomainNotInCase,
    EntryNotFound,
    InvalidEntry,
    OccurredBeforeCaseOpened,
    OccurredInFuture,
)
from events.instruments import InstrumentCode
from events.values import Actor, GoalAchievement, Role
from tests.unit.builders import (
    CONNECTION,
    DAILY_LIVING,
    NOW,
    OPENED_ON,
    STABILITY,
    correction,
    escalation,
    goal,
    make,
    measure,
    milestone,
    plan_change,
    review,
)

PHQ9_12 = (2, 2, 1, 1, 2, 1, 1, 1, 1)
"""PHQ-9 items summing to 12: moderate, in the clinical range."""
PHQ9_7 = (1, 1, 1, 1, 1, 1, 1, 0, 0)
"""PHQ-9 items summing to 7: mild, not in the clinical range."""


def test_a_correction_keeps_the_original_and_stores_the_entry_as_it_now_reads(opened_case: Case) -> None:
    original = goal(opened_case, words="feel calmer in the mornigns")
    stored = correction(opened_case, original, in_own_words="feel calmer in the mornings")
    assert stored.changes == {"in_own_words": "feel calmer in the mornings"}
    assert stored.corrected == msgspec.structs.replace(original, in_own_words="feel calmer in the mornings")
    assert original.in_own_words == "feel calmer in the mornigns"
    assert opened_case.state.ref(original.entry_id) is not None
    assert opened_case.state.ref(stored.entry_id) is not None


def test_a_correction_must_name_an_entry_of_the_case(opened_case: Case) -> None:
    never_recorded = make(GoalSet, domain=STABILITY, in_own_words="x")
    with pytest.raises(EntryNotFound) as raised:
        correction(opened_case, never_recorded, in_own_words="y")
    assert raised.value.field == "corrects"


def test_the_current_entry_must_be_the_one_corrected(opened_case: Case) -> None:
    first, second = goal(opened_case), goal(opened_case)
    entry = make(EntryCorrected, corrects=first.entry_id, reason="typo", changes={"in_own_words": "y"})
    with pytest.raises(EntryNotFound) as raised:
        opened_case.correct(entry, second)
    assert raised.value.field == "corrects"


def test_a_correction_cannot_be_corrected(opened_case: Case) -> None:
    first = correction(opened_case, goal(opened_case), in_own_words="y")
    with pytest.raises(CorrectionNotAllowed) as raised:
        correction(opened_case, first, reason="z")
    assert raised.value.field == "corrects"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("entry_id", "37571072-2441-4ade-9cc8-a163a571d722"),
        ("case_id", "c0a1600f-f307-436d-ab72-ad1b254fc3eb"),
        ("actor", {"id": "clin-9", "role": "clinician"}),
        ("recorded_at", "2026-05-01T10:00:00Z"),
        ("class_version", 2),
    ],
)
def test_who_recorded_an_entry_and_when_cannot_be_corrected(opened_case: Case, name: str, value: Any) -> None:
    with pytest.raises(CorrectionNotAllowed) as raised:
        correction(opened_case, goal(opened_case), **{name: value})
    assert raised.value.field == f"changes.{name}"


def _goal_revised(case: Case) -> Entry:
    goal_id = goal(case).entry_id
    return case.record(make(GoalRevised, goal_id=goal_id, reason="r", achievement=GoalAchievement.IMPROVING))


def _milestone_reached(case: Case) -> Entry:
    milestone_id = milestone(case, goal(case).entry_id).entry_id
    return case.record(make(MilestoneReached, milestone_id=milestone_id, evidence="went twice"))


def _escalation_resolved(case: Case) -> Entry:
    raised = escalation(case)
    return case.record(make(EscalationResolved, escalation_id=raised.entry_id, resolution="settled"))


@pytest.mark.parametrize(
    ("record", "name", "value"),
    [
        (_goal_revised, "goal_id", str(uuid.uuid4())),
        (_milestone_reached, "milestone_id", str(uuid.uuid4())),
        (_escalation_resolved, "escalation_id", str(uuid.uuid4())),
        (measure, "score", {"raw_total": 0}),
    ],
    ids=["goal_id", "milestone_id", "escalation_id", "score"],
)
def test_what_the_service_fills_in_cannot_be_corrected(
    opened_case: Case, record: Any, name: str, value: Any
) -> None:
    with pytest.raises(CorrectionNotAllowed) as raised:
        correction(opened_case, record(opened_case), **{name: value})
    assert raised.value.field == f"changes.{name}"


def test_an_unknown_field_is_named_only_if_it_is_a_plain_name(opened_case: Case) -> None:
    goal_set = goal(opened_case)
    with pytest.raises(CorrectionNotAllowed) as plain:
        correction(opened_case, goal_set, mood="low")
    assert plain.value.field == "changes.mood"
    assert "occurred_at, domain, in_own_words" in plain.value.message
    with pytest.raises(CorrectionNotAllowed) as unsafe:
        correction(opened_case, goal_set, **{"Hears Voices": "x"})
    assert unsafe.value.field == "changes.a field"
    assert "Voices" not in unsafe.value.message


def test_correctable_fields_are_the_entry_s_own_values_and_when_it_happened() -> None:
    assert correctable_fields(GoalRevised) == ["occurred_at", "reason", "in_own_words", "achievement"]
    assert correctable_fields(MeasureRecorded) == ["occurred_at", "instrument", "items", "domain"]


@pytest.mark.parametrize(
    "changes",
    [{"domain": "I can't cope with mornings"}, {"in_own_words": ""}, {"domain": None}],
    ids=["not_a_domain", "empty_words", "missing_domain"],
)
def test_a_corrected_value_must_be_valid(opened_case: Case, changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidEntry) as raised:
        correction(opened_case, goal(opened_case), **changes)
    assert type(raised.value) is InvalidEntry
    assert raised.value.field == "changes"
    assert "cope" not in raised.value.message


def test_when_an_entry_happened_can_be_corrected(opened_case: Case) -> None:
    goal_set = goal(opened_case)
    earlier = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    stored = correction(opened_case, goal_set, occurred_at=earlier.isoformat())
    assert stored.corrected is not None
    assert stored.corrected.occurred_at == earlier
    assert opened_case.state.goals[goal_set.entry_id].set_at == earlier


@pytest.mark.parametrize(
    ("occurred_at", "error"),
    [
        (datetime(2026, 1, 4, 12, 0, tzinfo=UTC), OccurredBeforeCaseOpened),
        (NOW + timedelta(hours=1), OccurredInFuture),
    ],
)
def test_a_corrected_time_follows_the_timing_rules(
    opened_case: Case, occurred_at: datetime, error: type[InvalidEntry]
) -> None:
    with pytest.raises(error):
        correction(opened_case, goal(opened_case), occurred_at=occurred_at.isoformat())


def test_correcting_a_measure_s_items_recomputes_its_score(opened_case: Case) -> None:
    recorded = measure(opened_case, InstrumentCode.PHQ9, items=PHQ9_7)
    assert (recorded.score.raw_total, recorded.score.band, recorded.score.clinical_range) == (
        7,
        "mild",
        False,
    )
    stored = correction(opened_case, recorded, items=list(PHQ9_12))
    assert isinstance(stored.corrected, MeasureRecorded)
    assert (stored.corrected.score.raw_total, stored.corrected.score.band) == (12, "moderate")
    assert stored.corrected.score.clinical_range is True
    assert stored.changes["items"] == list(PHQ9_12)
    assert stored.changes["score"] == msgspec.to_builtins(stored.corrected.score)
    assert stored.changes["score"]["raw_total"] == 12


def test_a_measure_correction_that_keeps_the_score_stores_only_what_changed(opened_case: Case) -> None:
    recorded = measure(opened_case, InstrumentCode.PHQ9, items=PHQ9_12, domain=STABILITY)
    stored = correction(opened_case, recorded, domain=CONNECTION)
    assert stored.changes == {"domain": CONNECTION}


def test_correcting_a_measure_s_instrument_rescores_it(opened_case: Case) -> None:
    recorded = measure(opened_case, InstrumentCode.PHQ9, items=PHQ9_12)
    stored = correction(opened_case, recorded, instrument="gad7", items=[1, 1, 1, 1, 1, 1, 2])
    assert isinstance(stored.corrected, MeasureRecorded)
    assert stored.corrected.score.raw_total == 8
    assert stored.corrected.score.thresholds.cutoff == 8
    assert stored.corrected.score.band == "mild"


@pytest.mark.parametrize(
    ("items", "field"),
    [([1] * 8, "changes.items"), ([1, 1, 1, 4, 1, 1, 1, 1, 1], "changes.items[3]")],
    ids=["too_few", "out_of_range"],
)
def test_corrected_items_are_checked_like_new_ones(opened_case: Case, items: list[int], field: str) -> None:
    recorded = measure(opened_case, InstrumentCode.PHQ9, items=PHQ9_12)
    with pytest.raises(InvalidEntry) as raised:
        correction(opened_case, recorded, items=items)
    assert raised.value.field == field


def test_an_entry_can_be_corrected_again_from_how_it_now_reads(opened_case: Case) -> None:
    goal_set = goal(opened_case)
    first = correction(opened_case, goal_set, in_own_words="first wording")
    assert first.corrected is not None
    second = correction(opened_case, first.corrected, domain=CONNECTION)
    assert second.corrected == msgspec.structs.replace(
        goal_set, in_own_words="first wording", domain=CONNECTION
    )
    assert opened_case.state.corrections_of(goal_set.entry_id) == [first.entry_id, second.entry_id]


def test_a_correction_is_recorded_by_its_own_actor(opened_case: Case) -> None:
    """The corrected entry keeps its original author; the correction carries who corrected it."""
    goal_set = goal(opened_case)
    other = Actor(id="clin-2", role=Role.CLINICIAN)
    entry = msgspec.structs.replace(
        make(EntryCorrected, corrects=goal_set.entry_id, reason="typo", changes={"in_own_words": "y"}),
        actor=other,
    )
    stored = opened_case.correct(entry, goal_set)
    assert stored.actor == other
    assert stored.corrected is not None
    assert stored.corrected.actor == goal_set.actor


def test_a_corrected_entry_keeps_the_rules_on_its_own_values(opened_case: Case) -> None:
    """A correction cannot smuggle in what recording would refuse: a foreign domain, a cause that
    cannot cause, a strategy both added and removed."""
    goal_set = goal(opened_case)
    with pytest.raises(DomainNotInCase):
        correction(opened_case, goal_set, domain=DAILY_LIVING.value)
    change = plan_change(opened_case, support_hours_per_week=3.0, because_of=(review(opened_case).entry_id,))
    with pytest.raises(CauseNotAllowed):
        correction(opened_case, change, because_of=[str(goal_set.entry_id)])
    with pytest.raises(InvalidEntry) as both:
        correction(opened_case, change, strategies_added=["walk"], strategies_removed=["walk"])
    assert both.value.field == "strategies_removed"
    assert opened_case.state.corrections_of(change.entry_id) == []


def test_a_case_opening_corrects_its_details_but_not_its_domains_or_a_later_date(
    opened_case: Case,
) -> None:
    """Its care team and person cannot be corrected either (test_corrections_access)."""
    opening = next(e for e in opened_case.state.stateful.values() if isinstance(e, CaseOpened))
    for changes, field in (
        ({"domains": [CONNECTION.value]}, "changes.domains"),
        ({"opened_on": (OPENED_ON + timedelta(days=1)).isoformat()}, "changes.opened_on"),
    ):
        with pytest.raises(CorrectionNotAllowed) as raised:
            correction(opened_case, opening, **changes)
        assert raised.value.field == field
    correction(opened_case, opening, service="south", opened_on=(OPENED_ON - timedelta(days=3)).isoformat())
    assert opened_case.state.service == "south"
    assert opened_case.state.opened_on == OPENED_ON - timedelta(days=3)
