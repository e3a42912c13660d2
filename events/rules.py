"""The rules a case record keeps: one small check per kind of entry, run before it is recorded."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from events.codec import type_name
from events.entries import (
    CaseOpened,
    CaseReopened,
    Entry,
    EscalationRaised,
    EscalationResolved,
    GoalRevised,
    GoalSet,
    MeasureRecorded,
    MilestoneAdded,
    MilestoneReached,
    PlanChanged,
    PlanConfirmed,
    ReviewRecorded,
    SetbackRecorded,
    StatementAdded,
)
from events.errors import (
    CaseAlreadyOpen,
    CaseExists,
    CaseIsClosed,
    CauseNotAllowed,
    CorrectionNotAllowed,
    DomainNotInCase,
    EntryNotFound,
    EscalationNotOpen,
    GoalNotFound,
    InvalidEntry,
    MilestoneAlreadyReached,
    MilestoneNotFound,
    NothingChanged,
    OccurredBeforeCaseOpened,
    OccurredInFuture,
    StrategyNotInPlan,
)
from events.state import CaseState, CaseStatus
from events.values import CausingKind, OutcomeDomain

__all__ = ["CLOCK_SKEW", "EARLIEST", "check_corrected", "check_entry", "check_occurred", "check_timing"]

CLOCK_SKEW = timedelta(minutes=2)
"""How far ahead of the server clock a device's clock may run before occurred_at counts as future."""
EARLIEST = date(1900, 1, 1)
"""The earliest date a record (or a question about records) may name: no care history reaches
further back, and it keeps every time far from the limits of the types that store it."""

Check = Callable[[CaseState, Any], None]


def check_timing(state: CaseState | None, entry: Entry) -> None:
    """occurred_at is not in the future and, once a case exists, not before it opened."""
    check_occurred(state, entry.occurred_at, now=entry.recorded_at)


def check_occurred(state: CaseState | None, occurred_at: datetime, *, now: datetime) -> None:
    """A time something happened is not ahead of ``now`` and not before the case opened."""
    if occurred_at > now + CLOCK_SKEW:
        raise OccurredInFuture
    if state is not None and occurred_at.date() < state.opened_on:
        raise OccurredBeforeCaseOpened


def check_entry(state: CaseState, entry: Entry) -> None:
    """Raise the domain error for the first rule the entry would break on this case."""
    if isinstance(entry, CaseOpened):
        raise CaseExists
    if state.status is CaseStatus.CLOSED and not isinstance(entry, CaseReopened):
        raise CaseIsClosed
    check_timing(state, entry)
    for rules in (_STATE, _REFERENCES):
        rule = rules.get(type(entry))
        if rule is not None:
            rule(state, entry)


def _domains_in_case(state: CaseState, domains: Iterable[OutcomeDomain], field: str) -> None:
    for domain in domains:
        if domain not in state.domains:
            raise DomainNotInCase(domain, field=field)


def _entries_exist(state: CaseState, entry_ids: Iterable[UUID], field: str) -> None:
    for entry_id in entry_ids:
        if state.ref(entry_id) is None:
            raise EntryNotFound(entry_id, field=field)


def _causes(state: CaseState, because_of: Iterable[UUID]) -> None:
    allowed = set(CausingKind)
    for entry_id in because_of:
        ref = state.ref(entry_id)
        if ref is None:
            raise EntryNotFound(entry_id, field="because_of")
        if ref.type not in allowed:
            raise CauseNotAllowed(entry_id, ref.type)


def _reopened(state: CaseState, _: CaseReopened) -> None:
    if state.status is CaseStatus.OPEN:
        raise CaseAlreadyOpen


def _goal_set(state: CaseState, entry: GoalSet) -> None:
    _domains_in_case(state, [entry.domain], "domain")


def _goal_revision_changes_something(_: CaseState, entry: GoalRevised) -> None:
    if entry.in_own_words is None and entry.achievement is None:
        raise InvalidEntry(
            "A goal revision must send in_own_words, achievement or both.", field="achievement"
        )


def _goal_exists(state: CaseState, entry: GoalRevised | MilestoneAdded) -> None:
    if entry.goal_id not in state.goals:
        raise GoalNotFound(entry.goal_id)


def _milestone_reached(state: CaseState, entry: MilestoneReached) -> None:
    milestone = state.milestones.get(entry.milestone_id)
    if milestone is None:
        raise MilestoneNotFound(entry.milestone_id)
    if milestone.reached_at is not None:
        raise MilestoneAlreadyReached(entry.milestone_id)


def _review(state: CaseState, entry: ReviewRecorded) -> None:
    _domains_in_case(state, entry.ratings, "ratings")
    for measure_id in entry.measure_ids:
        ref = state.ref(measure_id)
        if ref is None or ref.type != type_name(MeasureRecorded):
            raise EntryNotFound(measure_id, field="measure_ids")


def _measure(state: CaseState, entry: MeasureRecorded) -> None:
    if entry.domain is not None:
        _domains_in_case(state, [entry.domain], "domain")


def _domains(state: CaseState, entry: SetbackRecorded | EscalationRaised) -> None:
    _domains_in_case(state, entry.domains, "domains")


def _escalation_resolved(state: CaseState, entry: EscalationResolved) -> None:
    escalation = state.escalations.get(entry.escalation_id)
    if escalation is None or escalation.resolved_at is not None:
        raise EscalationNotOpen(entry.escalation_id)


def _plan_changed(state: CaseState, entry: PlanChanged) -> None:
    _causes(state, entry.because_of)
    if set(entry.strategies_added) & set(entry.strategies_removed):
        raise InvalidEntry(
            "A strategy cannot be both added and removed in one change.", field="strategies_removed"
        )


def _plan_changes_the_plan(state: CaseState, entry: PlanChanged) -> None:
    plan = state.plan
    if not set(entry.strategies_removed) <= set(plan.strategies):
        raise StrategyNotInPlan
    if not (
        (entry.support_hours_per_week not in (None, plan.support_hours_per_week))
        or (entry.approach not in (None, plan.approach))
        or set(entry.strategies_added) - set(plan.strategies)
        or entry.strategies_removed
        or set(entry.domains_added) - set(state.domains)
    ):
        raise NothingChanged


def _plan_confirmed(state: CaseState, entry: PlanConfirmed) -> None:
    _causes(state, entry.because_of)


def _statement(state: CaseState, entry: StatementAdded) -> None:
    _entries_exist(state, entry.about, "about")


# Checks of an entry's own values and what it refers to: they hold whenever the entry is recorded or
# corrected. Checks against the case as it stands only apply when an entry is recorded.
_REFERENCES: dict[type[Entry], Check] = {
    GoalSet: _goal_set,
    GoalRevised: _goal_revision_changes_something,
    MilestoneAdded: _goal_exists,
    ReviewRecorded: _review,
    MeasureRecorded: _measure,
    SetbackRecorded: _domains,
    EscalationRaised: _domains,
    PlanChanged: _plan_changed,
    PlanConfirmed: _plan_confirmed,
    StatementAdded: _statement,
}
_STATE: dict[type[Entry], Check] = {
    CaseReopened: _reopened,
    GoalRevised: _goal_exists,
    MilestoneReached: _milestone_reached,
    EscalationResolved: _escalation_resolved,
    PlanChanged: _plan_changes_the_plan,
}


def check_corrected(state: CaseState, original: Entry, corrected: Entry, *, now: datetime) -> None:
    """A corrected entry keeps the rules on its own values and references; a case opening's care team
    and domains change through their own entries, and its date may only move earlier."""
    check_occurred(state, corrected.occurred_at, now=now)
    if isinstance(original, CaseOpened) and isinstance(corrected, CaseOpened):
        if corrected.care_team != original.care_team or corrected.domains != original.domains:
            raise CorrectionNotAllowed(
                "Change the care team or domains with a care team change or a plan change, not a correction."
            )
        if corrected.opened_on > original.opened_on:
            raise CorrectionNotAllowed(
                "opened_on may only be corrected to an earlier date.", field="changes.opened_on"
            )
        return
    rule = _REFERENCES.get(type(corrected))
    if rule is not None:
        rule(state, corrected)
