"""Rules for escalations and plan decisions: what can be resolved, what can cause a plan decision, and
that a plan change changes something."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from events.case import Case
from events.entries import Entry, EscalationResolved, GoalSet, PlanChanged, PlanConfirmed
from events.errors import CauseNotAllowed, EntryNotFound, EscalationNotOpen, NothingChanged, StrategyNotInPlan
from tests.unit.builders import DAILY_LIVING, STABILITY, escalation, goal, make, plan_change, review, setback


def resolve(case: Case, escalation_id: uuid.UUID) -> EscalationResolved:
    return case.record(make(EscalationResolved, escalation_id=escalation_id, resolution="settled"))


def test_an_open_escalation_can_be_resolved(opened_case: Case) -> None:
    raised = escalation(opened_case)
    resolve(opened_case, raised.entry_id)
    assert opened_case.state.open_escalations == []


def test_resolving_an_unknown_escalation(opened_case: Case) -> None:
    with pytest.raises(EscalationNotOpen) as raised:
        resolve(opened_case, uuid.uuid4())
    assert raised.value.field == "escalation_id"


def test_resolving_an_entry_that_is_not_an_escalation(opened_case: Case) -> None:
    with pytest.raises(EscalationNotOpen):
        resolve(opened_case, goal(opened_case).entry_id)


def test_an_escalation_cannot_be_resolved_twice(opened_case: Case) -> None:
    raised = escalation(opened_case)
    resolve(opened_case, raised.entry_id)
    with pytest.raises(EscalationNotOpen) as refused:
        resolve(opened_case, raised.entry_id)
    assert refused.value.field == "escalation_id"


def _resolved(case: Case) -> Entry:
    return resolve(case, escalation(case).entry_id)


CAUSES: dict[str, Callable[[Case], Entry]] = {
    "review": review,
    "setback": setback,
    "escalation_raised": escalation,
    "escalation_resolved": _resolved,
}


def _decision(kind: type[Entry], cause: uuid.UUID) -> Entry:
    if kind is PlanChanged:
        return make(PlanChanged, rationale="more support", because_of=(cause,), support_hours_per_week=4)
    return make(PlanConfirmed, rationale="no change, because it helps", because_of=(cause,))


@pytest.mark.parametrize("kind", [PlanChanged, PlanConfirmed], ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("cause", CAUSES.values(), ids=CAUSES.keys())
def test_a_plan_decision_can_name_its_cause(
    opened_case: Case, kind: type[Entry], cause: Callable[[Case], Entry]
) -> None:
    cause_id = cause(opened_case).entry_id
    decision = opened_case.record(_decision(kind, cause_id))
    assert opened_case.state.ref(decision.entry_id) is not None


@pytest.mark.parametrize("kind", [PlanChanged, PlanConfirmed], ids=lambda cls: cls.__name__)
def test_a_plan_decision_cannot_name_an_unknown_cause(opened_case: Case, kind: type[Entry]) -> None:
    with pytest.raises(EntryNotFound) as raised:
        opened_case.record(_decision(kind, uuid.uuid4()))
    assert raised.value.field == "because_of"


@pytest.mark.parametrize("kind", [PlanChanged, PlanConfirmed], ids=lambda cls: cls.__name__)
def test_a_goal_cannot_cause_a_plan_decision(opened_case: Case, kind: type[Entry]) -> None:
    with pytest.raises(CauseNotAllowed) as raised:
        opened_case.record(_decision(kind, goal(opened_case).entry_id))
    assert raised.value.field == "because_of"
    assert "goal_set" in raised.value.message


def test_a_plan_change_cannot_be_caused_by_another_plan_change(opened_case: Case) -> None:
    earlier = plan_change(opened_case, support_hours_per_week=2)
    with pytest.raises(CauseNotAllowed):
        opened_case.record(_decision(PlanChanged, earlier.entry_id))


def test_every_cause_is_checked_not_only_the_first(opened_case: Case) -> None:
    change = make(
        PlanChanged,
        rationale="more support",
        because_of=(review(opened_case).entry_id, goal(opened_case).entry_id),
        support_hours_per_week=4,
    )
    with pytest.raises(CauseNotAllowed):
        opened_case.record(change)


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"support_hours_per_week": 3.0},
        {"approach": "coaching"},
        {"strategies_added": ("walks",)},
        {"domains_added": (STABILITY,)},
        {"review_interval_weeks": 6},
    ],
    ids=[
        "empty",
        "same_hours",
        "same_approach",
        "strategy_already_there",
        "domain_already_there",
        "same_interval",
    ],
)
def test_a_plan_change_that_changes_nothing(opened_case: Case, change: dict[str, object]) -> None:
    plan_change(
        opened_case,
        support_hours_per_week=3.0,
        approach="coaching",
        strategies_added=("walks",),
        review_interval_weeks=6,
    )
    with pytest.raises(NothingChanged) as raised:
        plan_change(opened_case, **change)
    assert raised.value.field == "support_hours_per_week"


def test_no_hours_on_a_new_plan_is_no_change(opened_case: Case) -> None:
    """A new case's plan has 0 hours a week, so sending 0 changes nothing."""
    with pytest.raises(NothingChanged):
        plan_change(opened_case, support_hours_per_week=0.0)


@pytest.mark.parametrize(
    "change",
    [
        {"support_hours_per_week": 5.0},
        {"approach": "peer support"},
        {"strategies_added": ("walks", "music")},
        {"strategies_removed": ("walks",)},
        {"domains_added": (DAILY_LIVING,)},
        {"review_interval_weeks": 4},
    ],
    ids=["hours", "approach", "a_new_strategy", "removal", "new_domain", "review_interval"],
)
def test_a_plan_change_that_changes_one_thing(opened_case: Case, change: dict[str, object]) -> None:
    plan_change(opened_case, support_hours_per_week=3.0, approach="coaching", strategies_added=("walks",))
    plan_change(opened_case, **change)
    assert opened_case.version == 3


def test_removing_a_strategy_not_in_the_plan(opened_case: Case) -> None:
    plan_change(opened_case, strategies_added=("walks",))
    with pytest.raises(StrategyNotInPlan) as raised:
        plan_change(opened_case, strategies_removed=("walks", "music"))
    assert raised.value.field == "strategies_removed"
    assert opened_case.state.plan.strategies == ("walks",)


def test_domains_added_by_a_plan_change_become_the_case_s(opened_case: Case) -> None:
    plan_change(opened_case, domains_added=(DAILY_LIVING,))
    goal_set = goal(opened_case, domain=DAILY_LIVING)
    assert isinstance(goal_set, GoalSet)
    assert opened_case.state.goals[goal_set.entry_id].domain is DAILY_LIVING
