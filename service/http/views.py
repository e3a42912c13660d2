"""What the API answers with: receipts for writes, a case as it stands, and its history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec

from events.case import Case
from events.codec import entry_data, type_name
from events.entries import Entry, EntryCorrected
from events.state import CaseState, Goal
from events.values import Actor, OutcomeDomain, Plan

__all__ = [
    "CaseView",
    "EntryWritten",
    "EscalationPlanView",
    "HistoryItem",
    "HistoryPage",
    "LearnedItem",
    "LearnedSince",
    "case_view",
    "history_item",
]


class EntryWritten(msgspec.Struct, frozen=True):
    """A write's receipt: the entry made, the case version after it, and its position in the global log.

    Pass ``position`` as ``min_position`` to a projection query to read your own write.
    """

    case_id: UUID
    entry_id: UUID
    version: int
    position: int | None


class MilestoneView(msgspec.Struct, frozen=True):
    milestone_id: UUID
    description: str
    target_on: date | None
    reached_at: datetime | None


class GoalView(msgspec.Struct, frozen=True):
    goal_id: UUID
    domain: OutcomeDomain
    in_own_words: str
    achievement: str
    set_at: datetime
    milestones: list[MilestoneView]


class EscalationView(msgspec.Struct, frozen=True):
    escalation_id: UUID
    severity: int
    raised_at: datetime
    escalation_plan_used_early: bool


class EscalationPlanView(msgspec.Struct, frozen=True):
    """The escalation (crisis) plan in force: the last one agreed with the person."""

    plan_id: UUID
    agreed_at: datetime
    early_signs: list[str]
    what_helps: list[str]
    contacts: list[str]
    person_has_copy: bool
    shared_with: list[str]
    review_on: date | None
    supersedes: UUID | None
    corrected_by: list[UUID]


class CaseView(msgspec.Struct, frozen=True):
    """A case as it stands (or stood, at an earlier version), with corrections applied."""

    case_id: UUID
    version: int
    status: str
    person_ref: str
    service: str
    opened_on: date
    care_team: list[str]
    domains: list[OutcomeDomain]
    goals: list[GoalView]
    open_escalations: list[EscalationView]
    plan: Plan
    last_review: dict[str, Any] | None
    updated_at: datetime
    escalation_plan: EscalationPlanView | None = None


class HistoryItem(msgspec.Struct, frozen=True):
    """One entry as recorded; a correction names what it corrects; a corrected entry lists its corrections."""

    entry_id: UUID
    type: str
    version: int
    recorded_at: datetime
    occurred_at: datetime
    late: bool
    actor: Actor
    data: dict[str, Any]
    corrects: UUID | None
    corrected_by: list[UUID]


class HistoryPage(msgspec.Struct, frozen=True):
    """A page of history; pass ``next_after`` as ``after`` for the next page (null on the last)."""

    case_id: UUID
    items: list[HistoryItem]
    next_after: int | None


class LearnedItem(msgspec.Struct, frozen=True):
    """A late entry or a correction recorded after the moment asked about, about the time before it:
    ``entry`` has both its times and who recorded it; ``reason`` says why (a correction's reason)."""

    kind: str
    about_occurred_at: datetime
    reason: str | None
    entry: HistoryItem


class LearnedSince(msgspec.Struct, frozen=True):
    """What was learned later: entries recorded after ``recorded_after`` about the time before it."""

    case_id: UUID
    recorded_after: datetime
    items: list[LearnedItem]


def case_view(case: Case) -> CaseView:
    """The current-state view of a case."""
    state = case.state
    review = state.last_review
    return CaseView(
        case_id=case.id,
        version=case.version,
        status=state.status.value,
        person_ref=state.person_ref,
        service=state.service,
        opened_on=state.opened_on,
        care_team=list(state.care_team),
        domains=list(state.domains),
        goals=[_goal(goal, case) for goal in state.goals.values()],
        open_escalations=[
            EscalationView(e.escalation_id, e.severity, e.raised_at, e.escalation_plan_used_early)
            for e in state.open_escalations
        ],
        plan=state.plan,
        last_review=None
        if review is None
        else {
            "entry_id": review.entry_id,
            "occurred_at": review.occurred_at,
            **entry_data(review),
            "corrected_by": state.corrections_of(review.entry_id),
        },
        updated_at=case.modified_on,
        escalation_plan=_escalation_plan(state),
    )


def _escalation_plan(state: CaseState) -> EscalationPlanView | None:
    plan = state.escalation_plan
    if plan is None:
        return None
    return EscalationPlanView(
        plan_id=plan.entry_id,
        agreed_at=plan.occurred_at,
        early_signs=list(plan.early_signs),
        what_helps=list(plan.what_helps),
        contacts=list(plan.contacts),
        person_has_copy=plan.person_has_copy,
        shared_with=list(plan.shared_with),
        review_on=plan.review_on,
        supersedes=state.superseded_plan,
        corrected_by=state.corrections_of(plan.entry_id),
    )


def _goal(goal: Goal, case: Case) -> GoalView:
    milestones = [case.state.milestones[m] for m in goal.milestone_ids]
    return GoalView(
        goal.goal_id,
        goal.domain,
        goal.in_own_words,
        goal.achievement.value,
        goal.set_at,
        [MilestoneView(m.milestone_id, m.description, m.target_on, m.reached_at) for m in milestones],
    )


def history_item(case: Case, version: int, entry: Entry) -> HistoryItem:
    """One entry of a case's history, linked to its corrections."""
    data = entry_data(entry)
    return HistoryItem(
        entry_id=entry.entry_id,
        type=type_name(type(entry)),
        version=version,
        recorded_at=entry.recorded_at,
        occurred_at=entry.occurred_at,
        late=entry.late,
        actor=entry.actor,
        data=data,
        corrects=entry.corrects if isinstance(entry, EntryCorrected) else None,
        corrected_by=case.state.corrections_of(entry.entry_id),
    )
