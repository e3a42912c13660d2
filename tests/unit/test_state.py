"""The case's current state, folded from its entries in order."""

from __future__ import annotations

from datetime import date, timedelta

from events.case import Case
from events.entries import (
    CareTeamChanged,
    CaseClosed,
    EscalationResolved,
    GoalRevised,
    MilestoneAdded,
    MilestoneReached,
    PlanConfirmed,
    StatementAdded,
)
from events.state import CaseStatus, EntryRef
from events.values import GoalAchievement, Plan
from tests.unit.builders import (
    CASE_DOMAINS,
    CLINICIAN,
    CONNECTION,
    DAILY_LIVING,
    NOW,
    OPENED_ON,
    STABILITY,
    escalation,
    goal,
    make,
    measure,
    milestone,
    open_case,
    plan_change,
    review,
    setback,
)


def test_a_new_case_s_state(opened_case: Case) -> None:
    state = opened_case.state
    assert (state.person_ref, state.service, state.opened_on) == ("P-000001", "north", OPENED_ON)
    assert (state.status, state.care_team, state.domains) == (
        CaseStatus.OPEN,
        [CLINICIAN.id],
        list(CASE_DOMAINS),
    )
    assert (state.goals, state.milestones, state.escalations, state.last_review) == ({}, {}, {}, None)
    assert state.plan == Plan()
    assert list(state.index.values()) == [EntryRef("case_opened", 1)]


def test_the_care_team_is_replaced(opened_case: Case) -> None:
    opened_case.record(make(CareTeamChanged, care_team=("clin-2", "clin-3"), reason="new keyworker"))
    assert opened_case.state.care_team == ["clin-2", "clin-3"]


def test_a_goal_is_set_in_progress(opened_case: Case) -> None:
    goal_set = goal(opened_case, domain=CONNECTION, words="go to the allotment")
    current = opened_case.state.goals[goal_set.entry_id]
    assert (current.goal_id, current.domain, current.in_own_words) == (
        goal_set.entry_id,
        CONNECTION,
        "go to the allotment",
    )
    assert (current.achievement, current.set_at, current.milestone_ids) == (
        GoalAchievement.IN_PROGRESS,
        goal_set.occurred_at,
        [],
    )


def test_a_goal_revision_changes_only_what_it_sends(opened_case: Case) -> None:
    goal_id = goal(opened_case, words="first words").entry_id
    opened_case.record(make(GoalRevised, goal_id=goal_id, reason="r", achievement=GoalAchievement.IMPROVING))
    opened_case.record(make(GoalRevised, goal_id=goal_id, reason="r", in_own_words="second words"))
    current = opened_case.state.goals[goal_id]
    assert (current.in_own_words, current.achievement) == ("second words", GoalAchievement.IMPROVING)


def test_milestones_belong_to_their_goal_in_order(opened_case: Case) -> None:
    goal_id = goal(opened_case).entry_id
    other_goal = goal(opened_case).entry_id
    first = milestone(opened_case, goal_id)
    second = opened_case.record(
        make(MilestoneAdded, goal_id=goal_id, description="take the bus", target_on=date(2026, 7, 1))
    )
    state = opened_case.state
    assert state.goals[goal_id].milestone_ids == [first.entry_id, second.entry_id]
    assert state.goals[other_goal].milestone_ids == []
    assert (state.milestones[second.entry_id].target_on, state.milestones[second.entry_id].reached_at) == (
        date(2026, 7, 1),
        None,
    )


def test_a_milestone_is_reached_when_it_happened(opened_case: Case) -> None:
    milestone_id = milestone(opened_case, goal(opened_case).entry_id).entry_id
    reached_at = NOW - timedelta(days=3)
    opened_case.record(
        make(MilestoneReached, milestone_id=milestone_id, evidence="x", occurred_at=reached_at)
    )
    assert opened_case.state.milestones[milestone_id].reached_at == reached_at


def test_escalations_open_and_resolve(opened_case: Case) -> None:
    first, second = escalation(opened_case, severity=2), escalation(opened_case, severity=4)
    assert [e.escalation_id for e in opened_case.state.open_escalations] == [first.entry_id, second.entry_id]
    resolved = opened_case.record(make(EscalationResolved, escalation_id=first.entry_id, resolution="ok"))
    state = opened_case.state
    assert [e.escalation_id for e in state.open_escalations] == [second.entry_id]
    assert state.escalations[first.entry_id].resolved_at == resolved.occurred_at
    assert (state.escalations[second.entry_id].severity, state.escalations[second.entry_id].raised_at) == (
        4,
        second.occurred_at,
    )
    assert state.escalations[second.entry_id].escalation_plan_used_early is True


def test_plan_changes_fold_in_order(opened_case: Case) -> None:
    plan_change(
        opened_case, support_hours_per_week=3.0, approach="coaching", strategies_added=("walks", "diary")
    )
    plan_change(opened_case, strategies_removed=("walks",), strategies_added=("music",))
    plan_change(opened_case, support_hours_per_week=1.5, domains_added=(DAILY_LIVING,))
    state = opened_case.state
    assert state.plan == Plan(support_hours_per_week=1.5, approach="coaching", strategies=("diary", "music"))
    assert state.domains == [STABILITY, CONNECTION, DAILY_LIVING]


def test_only_the_latest_review_is_kept_in_full(opened_case: Case) -> None:
    first = review(opened_case, confidence=3)
    second = review(opened_case, confidence=6)
    state = opened_case.state
    assert state.last_review == second
    assert first.entry_id not in state.stateful
    assert state.ref(first.entry_id) == EntryRef("review_recorded", 2)


def test_every_entry_is_indexed_but_only_stateful_ones_are_kept(opened_case: Case) -> None:
    kept = [goal(opened_case), escalation(opened_case), plan_change(opened_case, support_hours_per_week=2.0)]
    cause = setback(opened_case)
    indexed_only = [
        cause,
        measure(opened_case),
        opened_case.record(make(PlanConfirmed, rationale="r", because_of=(cause.entry_id,))),
        opened_case.record(make(StatementAdded, text="I disagree")),
        opened_case.record(make(CaseClosed, reason="goals_met")),
    ]
    state = opened_case.state
    assert [state.ref(e.entry_id) for e in kept + indexed_only] == [
        EntryRef(name, version)
        for version, name in enumerate(
            [
                "goal_set",
                "escalation_raised",
                "plan_changed",
                "setback_recorded",
                "measure_recorded",
                "plan_confirmed",
                "statement_added",
                "case_closed",
            ],
            start=2,
        )
    ]
    assert all(e.entry_id in state.stateful for e in kept)
    assert not any(e.entry_id in state.stateful for e in indexed_only)
    assert state.status is CaseStatus.CLOSED


def test_each_case_folds_only_its_own_entries() -> None:
    first, second = open_case(), open_case()
    goal(first)
    assert second.state.goals == {}
