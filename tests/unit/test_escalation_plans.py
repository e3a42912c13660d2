"""Escalation (crisis) plans: each plan agreed supersedes the one before, a correction of the plan in
force changes it, and its review date lies between the day it was agreed and ten years ahead."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import msgspec
import pytest

from events.case import Case
from events.entries import EscalationPlanAgreed
from events.errors import DateOutOfRange
from events.state import CaseState
from tests.unit.builders import NOW, SAMPLE_FIELDS, correction, make


def agree(case: Case, **fields: Any) -> EscalationPlanAgreed:
    return case.record(make(EscalationPlanAgreed, **(SAMPLE_FIELDS[EscalationPlanAgreed] | fields)))


def test_a_case_has_no_escalation_plan_until_one_is_agreed(opened_case: Case) -> None:
    assert (opened_case.state.escalation_plan, opened_case.state.superseded_plan) == (None, None)


def test_the_plan_agreed_last_is_in_force_and_names_the_one_it_superseded(opened_case: Case) -> None:
    first = agree(opened_case, early_signs=("sleeping less",))
    second = agree(opened_case, early_signs=("sleeping less", "skipping meals"))
    third = agree(opened_case, what_helps=("music",))
    assert opened_case.state.escalation_plan == third
    assert opened_case.state.superseded_plan == second.entry_id
    # Only the plan in force is kept in full; the earlier ones stay in the case's history.
    assert third.entry_id in opened_case.state.stateful
    assert {first.entry_id, second.entry_id}.isdisjoint(opened_case.state.stateful)


def test_correcting_the_plan_in_force_changes_it(opened_case: Case) -> None:
    first = agree(opened_case)
    plan = agree(opened_case, contacts=("crisis team",))
    correction(opened_case, plan, contacts=("crisis team out of hours",))
    current = opened_case.state.escalation_plan
    assert current is not None
    assert (current.entry_id, current.contacts) == (plan.entry_id, ("crisis team out of hours",))
    assert opened_case.state.superseded_plan == first.entry_id
    assert opened_case.state.corrections_of(plan.entry_id)


def test_correcting_a_superseded_plan_leaves_the_plan_in_force(opened_case: Case) -> None:
    first = agree(opened_case, contacts=("keyworker",))
    plan = agree(opened_case)
    correction(opened_case, first, contacts=("keyworker on weekdays",))
    assert opened_case.state.escalation_plan == plan


def test_the_plan_in_force_survives_a_snapshot(opened_case: Case) -> None:
    plan = agree(opened_case)
    state = msgspec.json.decode(msgspec.json.encode(opened_case.state), type=CaseState)
    assert state.escalation_plan == plan


@pytest.mark.parametrize(
    ("days_after_agreed", "accepted"),
    [(-1, False), (0, True), (180, True), (3653, True), (3654, False)],
)
def test_a_review_date_is_from_the_day_agreed_to_ten_years_ahead(
    opened_case: Case, days_after_agreed: int, accepted: bool
) -> None:
    agreed = NOW - timedelta(hours=1)  # the builders' occurred_at
    review_on: date = agreed.date() + timedelta(days=days_after_agreed)
    if accepted:
        assert agree(opened_case, review_on=review_on).review_on == review_on
        return
    with pytest.raises(DateOutOfRange) as raised:
        agree(opened_case, review_on=review_on)
    assert raised.value.field == "review_on"


def test_a_correction_cannot_move_the_review_before_the_day_agreed(opened_case: Case) -> None:
    plan = agree(opened_case)
    with pytest.raises(DateOutOfRange) as raised:
        correction(opened_case, plan, review_on=plan.occurred_at.date() - timedelta(days=1))
    assert raised.value.field == "changes.review_on"
    assert opened_case.state.escalation_plan == plan
