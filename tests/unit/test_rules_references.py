"""Rules about what an entry refers to: the case's domains, its goals and milestones, its entries, and
when the entry happened."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.case import Case
from events.entries import (
    Entry,
    EscalationRaised,
    GoalRevised,
    GoalSet,
    MeasureRecorded,
    MilestoneReached,
    ReviewRecorded,
    SetbackRecorded,
    StatementAdded,
)
from events.errors import (
    DomainNotInCase,
    EntryNotFound,
    GoalNotFound,
    InvalidEntry,
    MilestoneAlreadyReached,
    MilestoneNotFound,
    OccurredBeforeCaseOpened,
    OccurredInFuture,
)
from events.instruments import InstrumentCode
from events.rules import CLOCK_SKEW
from events.values import GoalAchievement, ReviewKind
from tests.unit.builders import (
    CONNECTION,
    DAILY_LIVING,
    NOW,
    SAMPLE_FIELDS,
    STABILITY,
    goal,
    make,
    measure,
    milestone,
    open_case,
    plan_change,
    review,
)

# (entry type, values naming DAILY_LIVING, which the test case does not hold, and the field named)
OUTSIDE_THE_CASE: list[tuple[type[Entry], dict[str, Any], str]] = [
    (GoalSet, {"domain": DAILY_LIVING, "in_own_words": "cook twice a week"}, "domain"),
    (
        ReviewRecorded,
        {
            "kind": ReviewKind.ROUTINE,
            "ratings": {STABILITY: 5, DAILY_LIVING: 3},
            "confidence": 4,
            "autonomy": 4,
        },
        "ratings",
    ),
    (SetbackRecorded, SAMPLE_FIELDS[SetbackRecorded] | {"domains": (CONNECTION, DAILY_LIVING)}, "domains"),
    (EscalationRaised, SAMPLE_FIELDS[EscalationRaised] | {"domains": (DAILY_LIVING,)}, "domains"),
    (
        MeasureRecorded,
        {"instrument": InstrumentCode.GAD7, "items": (1,) * 7, "domain": DAILY_LIVING},
        "domain",
    ),
]


def _ids(value: object) -> str | None:
    return getattr(value, "__name__", None)


@pytest.mark.parametrize(("cls", "values", "field"), OUTSIDE_THE_CASE, ids=_ids)
def test_a_domain_outside_the_case_is_refused(
    opened_case: Case, cls: type[Entry], values: dict[str, Any], field: str
) -> None:
    with pytest.raises(DomainNotInCase) as raised:
        opened_case.record(make(cls, **values))
    assert raised.value.field == field


@pytest.mark.parametrize(("cls", "values"), [case[:2] for case in OUTSIDE_THE_CASE], ids=_ids)
def test_a_domain_added_by_a_plan_change_is_allowed(
    opened_case: Case, cls: type[Entry], values: dict[str, Any]
) -> None:
    plan_change(opened_case, domains_added=(DAILY_LIVING,))
    entry = opened_case.record(make(cls, **values))
    assert opened_case.state.ref(entry.entry_id) is not None


def test_an_entry_may_happen_up_to_the_clock_skew_ahead(opened_case: Case) -> None:
    """A device clock running a little ahead of the server's is not a future entry."""
    goal_set = make(GoalSet, occurred_at=NOW + CLOCK_SKEW, domain=STABILITY, in_own_words="x")
    opened_case.record(goal_set)
    assert opened_case.state.goals[goal_set.entry_id].set_at == NOW + CLOCK_SKEW


def test_an_entry_beyond_the_clock_skew_is_in_the_future(opened_case: Case) -> None:
    ahead = NOW + CLOCK_SKEW + timedelta(seconds=1)
    with pytest.raises(OccurredInFuture) as raised:
        opened_case.record(make(GoalSet, occurred_at=ahead, domain=STABILITY, in_own_words="x"))
    assert raised.value.field == "occurred_at"


def test_an_entry_may_happen_on_the_day_the_case_opened(opened_case: Case) -> None:
    first_moment = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
    opened_case.record(make(GoalSet, occurred_at=first_moment, domain=STABILITY, in_own_words="x"))
    assert opened_case.version == 2


def test_an_entry_cannot_happen_before_the_case_opened(opened_case: Case) -> None:
    day_before = datetime(2026, 1, 4, 23, 59, tzinfo=UTC)
    with pytest.raises(OccurredBeforeCaseOpened) as raised:
        opened_case.record(make(GoalSet, occurred_at=day_before, domain=STABILITY, in_own_words="x"))
    assert raised.value.field == "occurred_at"


def test_a_goal_can_be_revised(opened_case: Case) -> None:
    goal_id = goal(opened_case).entry_id
    opened_case.record(
        make(GoalRevised, goal_id=goal_id, reason="moving", achievement=GoalAchievement.IMPROVING)
    )
    assert opened_case.state.goals[goal_id].achievement is GoalAchievement.IMPROVING


def test_revising_an_unknown_goal(opened_case: Case) -> None:
    with pytest.raises(GoalNotFound) as raised:
        opened_case.record(make(GoalRevised, goal_id=uuid.uuid4(), reason="r", in_own_words="x"))
    assert raised.value.field == "goal_id"


def test_a_goal_revision_must_change_something(opened_case: Case) -> None:
    goal_id = goal(opened_case).entry_id
    with pytest.raises(InvalidEntry) as raised:
        opened_case.record(make(GoalRevised, goal_id=goal_id, reason="nothing new"))
    assert type(raised.value) is InvalidEntry
    assert raised.value.field == "achievement"


def test_a_milestone_for_an_unknown_goal(opened_case: Case) -> None:
    """A review id is an entry of the case, but not a goal."""
    with pytest.raises(GoalNotFound) as raised:
        milestone(opened_case, review(opened_case).entry_id)
    assert raised.value.field == "goal_id"


def test_a_milestone_is_reached_once(opened_case: Case) -> None:
    milestone_id = milestone(opened_case, goal(opened_case).entry_id).entry_id
    opened_case.record(make(MilestoneReached, milestone_id=milestone_id, evidence="went twice"))
    with pytest.raises(MilestoneAlreadyReached) as raised:
        opened_case.record(make(MilestoneReached, milestone_id=milestone_id, evidence="again"))
    assert raised.value.field == "milestone_id"


def test_reaching_an_unknown_milestone(opened_case: Case) -> None:
    goal_id = goal(opened_case).entry_id
    with pytest.raises(MilestoneNotFound) as raised:
        opened_case.record(make(MilestoneReached, milestone_id=goal_id, evidence="x"))
    assert raised.value.field == "milestone_id"


def test_a_review_may_carry_measures(opened_case: Case) -> None:
    measure_id = measure(opened_case).entry_id
    recorded = review(opened_case, measure_ids=(measure_id,))
    assert opened_case.state.last_review == recorded


@pytest.mark.parametrize("named", ["a goal", "nothing recorded"])
def test_a_review_s_measure_ids_must_name_measures(opened_case: Case, named: str) -> None:
    other_id = goal(opened_case).entry_id if named == "a goal" else uuid.uuid4()
    with pytest.raises(EntryNotFound) as raised:
        review(opened_case, measure_ids=(measure(opened_case).entry_id, other_id))
    assert raised.value.field == "measure_ids"


def test_a_statement_may_be_about_entries_of_the_case(opened_case: Case) -> None:
    about = (review(opened_case).entry_id, goal(opened_case).entry_id)
    statement = opened_case.record(make(StatementAdded, text="I disagree", about=about))
    assert opened_case.state.ref(statement.entry_id) is not None


def test_a_statement_cannot_be_about_another_case_s_entry(opened_case: Case) -> None:
    other_id = uuid.uuid4()
    other_case = open_case(case_id=other_id, person_ref="P-000002")
    elsewhere = other_case.record(
        make(GoalSet, case_id=other_id, domain=STABILITY, in_own_words="x")
    ).entry_id
    with pytest.raises(EntryNotFound) as raised:
        opened_case.record(make(StatementAdded, text="I disagree", about=(elsewhere,)))
    assert raised.value.field == "about"
