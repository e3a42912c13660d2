"""Rules about the case's own life: opening, closing, reopening, and how entries join its stream."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from events.case import Case, CaseEvent
from events.codec import ENTRY_TYPES
from events.entries import (
    BreakGlassGranted,
    CaseClosed,
    CaseOpened,
    CaseReopened,
    Entry,
    EntryCorrected,
    ErasureApproved,
    GoalSet,
    TextErased,
)
from events.errors import CaseAlreadyOpen, CaseExists, CaseIsClosed, EntryNotFound, OccurredInFuture
from events.state import CaseStatus
from tests.unit.builders import NOW, STABILITY, goal, make, opened, outsider_grant, sample

_GOVERNANCE = (ErasureApproved, TextErased)
"""Erasure is decided and carried out on closed cases too (retention)."""
RECORDABLE = sorted(
    (
        cls
        for cls in ENTRY_TYPES.values()
        if cls
        not in (CaseOpened, CaseReopened, EntryCorrected, BreakGlassGranted, ErasureApproved, TextErased)
    ),
    key=lambda cls: cls.__name__,
)


def close(case: Case) -> CaseClosed:
    return case.record(make(CaseClosed, reason="goals_met"))


def test_opening_a_case_records_its_first_entry() -> None:
    entry = opened()
    case = Case.open(entry)
    assert (case.id, case.version, case.state.status) == (entry.case_id, 1, CaseStatus.OPEN)
    assert [event.entry for event in case.collect_events()] == [entry]


def test_a_case_cannot_open_in_the_future() -> None:
    with pytest.raises(OccurredInFuture):
        Case.open(opened(occurred_at=NOW + timedelta(hours=1)))


def test_an_open_case_cannot_be_opened_twice(opened_case: Case) -> None:
    with pytest.raises(CaseExists):
        opened_case.record(opened())


def test_a_closed_case_cannot_be_opened_again_only_reopened(opened_case: Case) -> None:
    close(opened_case)
    with pytest.raises(CaseExists):
        opened_case.record(opened())


@pytest.mark.parametrize("cls", RECORDABLE, ids=lambda cls: cls.__name__)
def test_a_closed_case_refuses_every_entry_but_reopening(opened_case: Case, cls: type[Entry]) -> None:
    close(opened_case)
    with pytest.raises(CaseIsClosed):
        opened_case.record(sample(cls))
    assert opened_case.version == 2


def test_a_closed_case_may_still_be_opened_by_break_glass(opened_case: Case) -> None:
    """An emergency may need a closed record's history: a grant is the one entry a closed case takes."""
    close(opened_case)
    opened_case.record(outsider_grant())
    assert (opened_case.version, opened_case.state.status) == (3, CaseStatus.CLOSED)


def test_a_closed_case_refuses_corrections(opened_case: Case) -> None:
    goal_set = goal(opened_case)
    close(opened_case)
    correction = make(
        EntryCorrected, corrects=goal_set.entry_id, reason="typo", changes={"in_own_words": "x"}
    )
    with pytest.raises(CaseIsClosed):
        opened_case.correct(correction, goal_set)


def test_closing_and_reopening_a_case(opened_case: Case) -> None:
    close(opened_case)
    closed = opened_case.state.status
    opened_case.record(make(CaseReopened, reason="re-referral"))
    assert (closed, opened_case.state.status) == (CaseStatus.CLOSED, CaseStatus.OPEN)
    goal(opened_case)
    assert opened_case.version == 4


def test_an_open_case_cannot_be_reopened(opened_case: Case) -> None:
    with pytest.raises(CaseAlreadyOpen):
        opened_case.record(make(CaseReopened, reason="re-referral"))


def test_record_refuses_a_correction(opened_case: Case) -> None:
    """Corrections need the entry as it currently reads, so they only go through Case.correct."""
    goal_set = goal(opened_case)
    correction = make(
        EntryCorrected, corrects=goal_set.entry_id, reason="typo", changes={"in_own_words": "x"}
    )
    with pytest.raises(TypeError, match=r"Case\.correct"):
        opened_case.record(correction)
    assert opened_case.state.corrections_of(goal_set.entry_id) == []


def test_a_refused_entry_leaves_the_case_unchanged(opened_case: Case) -> None:
    before = opened_case.state.index.copy()
    with pytest.raises(CaseAlreadyOpen):
        opened_case.record(make(CaseReopened, reason="re-referral"))
    assert (opened_case.version, opened_case.state.index) == (1, before)
    assert opened_case.collect_events() == []


def test_recorded_entries_are_pending_until_collected(opened_case: Case) -> None:
    first, second = goal(opened_case), goal(opened_case)
    events = opened_case.collect_events()
    assert [(e.originator_id, e.originator_version, e.entry) for e in events] == [
        (opened_case.id, 2, first),
        (opened_case.id, 3, second),
    ]
    assert opened_case.collect_events() == []


def test_an_event_is_timestamped_when_its_entry_was_recorded() -> None:
    entry = opened()
    assert CaseEvent(entry.case_id, 1, entry).timestamp == entry.recorded_at == NOW


def test_a_stream_must_start_with_the_case_opening() -> None:
    entry = make(GoalSet, domain="stability_self_management", in_own_words="x")
    with pytest.raises(TypeError, match="case_opened"):
        CaseEvent(entry.case_id, 1, entry).mutate(None)


def test_an_event_must_follow_the_case_version(opened_case: Case) -> None:
    entry = make(GoalSet, domain="stability_self_management", in_own_words="x")
    with pytest.raises(ValueError, match="does not follow"):
        CaseEvent(opened_case.id, 3, entry).mutate(opened_case)
    assert opened_case.version == 1


def test_entry_version_names_where_an_entry_sits(opened_case: Case) -> None:
    goal(opened_case)
    goal_set = goal(opened_case)
    assert opened_case.entry_version(goal_set.entry_id, field="goal_id") == 3


def test_entry_version_of_an_unknown_entry(opened_case: Case) -> None:
    never_recorded = make(GoalSet, domain="stability_self_management", in_own_words="x")
    with pytest.raises(EntryNotFound) as raised:
        opened_case.entry_version(never_recorded.entry_id, field="goal_id")
    assert raised.value.field == "goal_id"


def test_an_entry_of_another_case_is_refused(opened_case: Case) -> None:
    stray = make(GoalSet, case_id=uuid.uuid4(), domain=STABILITY, in_own_words="elsewhere")
    with pytest.raises(ValueError, match="another case"):
        opened_case.record(stray)
    assert opened_case.version == 1
