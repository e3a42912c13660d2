"""Corrections in the current state: the state reads as if the corrected entry had been recorded so,
and every correction stays linked to the entry it corrects."""

from __future__ import annotations

from events.case import Case
from events.entries import EscalationResolved, GoalRevised, ReviewRecorded
from events.values import GoalAchievement, Plan
from tests.unit.builders import (
    CASE_DOMAINS,
    CONNECTION,
    DAILY_LIVING,
    correction,
    escalation,
    goal,
    make,
    milestone,
    opened,
    plan_change,
    review,
    setback,
)


def test_correcting_a_goal_s_words(opened_case: Case) -> None:
    goal_set = goal(opened_case, words="feel calmer in the mornigns")
    correction(opened_case, goal_set, in_own_words="feel calmer in the mornings")
    assert opened_case.state.goals[goal_set.entry_id].in_own_words == "feel calmer in the mornings"


def test_correcting_a_goal_keeps_what_later_entries_did_to_it(opened_case: Case) -> None:
    """The state is refolded: a later revision and milestones still apply, and apply once."""
    goal_set = goal(opened_case, words="first words")
    opened_case.record(make(GoalRevised, goal_id=goal_set.entry_id, reason="r", in_own_words="revised words"))
    opened_case.record(
        make(GoalRevised, goal_id=goal_set.entry_id, reason="r", achievement=GoalAchievement.IMPROVING)
    )
    first = milestone(opened_case, goal_set.entry_id)
    correction(opened_case, goal_set, domain=CONNECTION, in_own_words="corrected first words")
    current = opened_case.state.goals[goal_set.entry_id]
    assert (current.domain, current.in_own_words, current.achievement) == (
        CONNECTION,
        "revised words",
        GoalAchievement.IMPROVING,
    )
    assert current.milestone_ids == [first.entry_id]


def test_correcting_an_escalation_s_severity(opened_case: Case) -> None:
    raised = escalation(opened_case, severity=4)
    resolved = opened_case.record(make(EscalationResolved, escalation_id=raised.entry_id, resolution="ok"))
    correction(opened_case, raised, severity=2)
    current = opened_case.state.escalations[raised.entry_id]
    assert (current.severity, current.resolved_at) == (2, resolved.occurred_at)


def test_correcting_an_old_plan_change_refolds_the_plan(opened_case: Case) -> None:
    first = plan_change(opened_case, support_hours_per_week=10.0, strategies_added=("walks",))
    plan_change(opened_case, strategies_added=("music",))
    plan_change(opened_case, approach="coaching")
    correction(opened_case, first, support_hours_per_week=12.0, strategies_added=["swimming"])
    assert opened_case.state.plan == Plan(
        support_hours_per_week=12.0, approach="coaching", strategies=("swimming", "music")
    )


def test_correcting_a_plan_change_s_domains_refolds_the_case_s_domains(opened_case: Case) -> None:
    added = plan_change(opened_case, domains_added=(DAILY_LIVING,), support_hours_per_week=2.0)
    assert DAILY_LIVING in opened_case.state.domains
    correction(opened_case, added, domains_added=[])
    assert opened_case.state.domains == list(CASE_DOMAINS)


def test_correcting_the_case_s_service() -> None:
    opening = opened()
    case = Case.open(opening)
    goal_set = goal(case)
    correction(case, opening, service="south")
    assert (case.state.person_ref, case.state.service, case.state.domains) == (
        opening.person_ref,
        "south",
        list(CASE_DOMAINS),
    )
    assert list(case.state.goals) == [goal_set.entry_id]


def test_correcting_the_last_review(opened_case: Case) -> None:
    review(opened_case, confidence=2)
    last = review(opened_case, confidence=3)
    correction(opened_case, last, confidence=7)
    assert opened_case.state.last_review is not None
    assert (opened_case.state.last_review.entry_id, opened_case.state.last_review.confidence) == (
        last.entry_id,
        7,
    )


def test_correcting_an_earlier_review_leaves_the_last_review(opened_case: Case) -> None:
    earlier = review(opened_case, confidence=2)
    last = review(opened_case, confidence=3)
    stored = correction(opened_case, earlier, confidence=9)
    assert opened_case.state.last_review == last
    assert opened_case.state.corrections_of(earlier.entry_id) == [stored.entry_id]


def test_a_correction_of_a_review_stores_the_corrected_review(opened_case: Case) -> None:
    last = review(opened_case, confidence=3, next_step="bus")
    stored = correction(opened_case, last, next_step="train")
    assert isinstance(stored.corrected, ReviewRecorded)
    assert opened_case.state.last_review == stored.corrected
    assert opened_case.state.stateful[last.entry_id] == stored.corrected


def test_correcting_an_entry_the_state_does_not_hold_changes_nothing_else(opened_case: Case) -> None:
    goal(opened_case)
    recorded = setback(opened_case)
    goals, plan = dict(opened_case.state.goals), opened_case.state.plan
    stored = correction(opened_case, recorded, learning="early signs were missed")
    assert (opened_case.state.goals, opened_case.state.plan) == (goals, plan)
    assert recorded.entry_id not in opened_case.state.stateful
    assert opened_case.state.corrections_of(recorded.entry_id) == [stored.entry_id]


def test_corrections_are_linked_to_what_they_correct_oldest_first(opened_case: Case) -> None:
    goal_set, other = goal(opened_case), goal(opened_case)
    first = correction(opened_case, goal_set, in_own_words="one")
    assert first.corrected is not None
    second = correction(opened_case, first.corrected, in_own_words="two")
    state = opened_case.state
    assert state.corrections_of(goal_set.entry_id) == [first.entry_id, second.entry_id]
    assert state.corrections_of(other.entry_id) == []
    ref = state.ref(second.entry_id)
    assert ref is not None
    assert ref.type == "entry_corrected"
