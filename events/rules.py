"""The rules a case record keeps: one small check per kind of entry, run before it is recorded."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from events.codec import type_name
from events.entries import (
    BreakGlassGranted,
    CaseOpened,
    CaseReopened,
    Entry,
    ErasureApproved,
    EscalationPlanAgreed,
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
    StoryAgreed,
    StoryConsentWithdrawn,
    TextErased,
)
from events.errors import (
    CaseAlreadyOpen,
    CaseExists,
    CaseIsClosed,
    CauseNotAllowed,
    CorrectionNotAllowed,
    DateOutOfRange,
    DomainNotInCase,
    EntryNotFound,
    ErasureNotAllowed,
    EscalationNotOpen,
    GoalNotFound,
    InvalidEntry,
    MilestoneAlreadyReached,
    MilestoneNotFound,
    NothingChanged,
    OccurredBeforeCaseOpened,
    OccurredInFuture,
    OnCareTeam,
    StrategyNotInPlan,
)
from events.state import CaseState, CaseStatus
from events.values import ErasureGrounds, OutcomeDomain

__all__ = [
    "CAUSES",
    "CLOCK_SKEW",
    "EARLIEST",
    "PLANNING_HORIZON",
    "check_corrected",
    "check_dates",
    "check_entry",
    "check_occurred",
    "check_timing",
]

CLOCK_SKEW = timedelta(minutes=2)
"""How far ahead of the server clock a device's clock may run before occurred_at counts as future."""
EARLIEST = date(1900, 1, 1)
"""The earliest date a record (or a question about records) may name: no care history reaches
further back, and it keeps every time far from the limits of the types that store it."""
PLANNING_HORIZON = timedelta(days=3653)
"""How far ahead a milestone's target or an escalation plan's review may be set: ten years is beyond
any care plan, and a date further out is a mistyped year."""
AHEAD_OF_UTC = timedelta(hours=14)
"""The furthest any time zone runs ahead of UTC: a date is not in the future while it is today somewhere."""
_EARLIEST_TIME = datetime.combine(EARLIEST, time(), UTC)

Check = Callable[[CaseState, Any], None]

CAUSES = frozenset(
    type_name(kind) for kind in (ReviewRecorded, SetbackRecorded, EscalationRaised, EscalationResolved)
)
"""The kinds of entry a plan change or a plan confirmation may name as what caused it."""


def check_timing(state: CaseState | None, entry: Entry) -> None:
    """occurred_at is not in the future, not before 1900 and, once a case exists, not before it
    opened; the entry's other dates are within their bounds."""
    check_occurred(state, entry.occurred_at, now=entry.recorded_at)
    check_dates(entry, now=entry.recorded_at)


def check_occurred(state: CaseState | None, occurred_at: datetime, *, now: datetime) -> None:
    """A time something happened is not ahead of ``now``, not before 1900 and not before the case opened.

    Compared as sent: a time near year 1 with an offset cannot even be converted to UTC.
    """
    if occurred_at > now + CLOCK_SKEW:
        raise OccurredInFuture
    if occurred_at < _EARLIEST_TIME:
        raise DateOutOfRange("occurred_at", EARLIEST, now.date(), "the time it actually happened")
    if state is not None and occurred_at.date() < state.opened_on:
        raise OccurredBeforeCaseOpened


def check_dates(entry: Entry, *, now: datetime) -> None:
    """The dates an entry carries besides occurred_at: a case opens between 1900 and today (anywhere
    on Earth); a milestone's target lies between 1900 and ten years ahead (it may be in the past:
    a step recorded late); an escalation plan's review lies between the day it was agreed and ten
    years ahead."""
    if isinstance(entry, CaseOpened):
        _within("opened_on", entry.opened_on, (now + AHEAD_OF_UTC).date(), "the date the case opened")
    elif isinstance(entry, MilestoneAdded) and entry.target_on is not None:
        latest = (now + PLANNING_HORIZON).date()
        _within("target_on", entry.target_on, latest, "a target date within ten years")
    elif isinstance(entry, EscalationPlanAgreed) and entry.review_on is not None:
        latest, agreed = (now + PLANNING_HORIZON).date(), entry.occurred_at.date()
        send = "a review date from the day the plan was agreed to ten years ahead"
        _within("review_on", entry.review_on, latest, send, earliest=max(agreed, EARLIEST))


def _within(field: str, day: date, latest: date, send: str, *, earliest: date = EARLIEST) -> None:
    if not earliest <= day <= latest:
        raise DateOutOfRange(field, earliest, latest, send)


def check_entry(state: CaseState, entry: Entry) -> None:
    """Raise the domain error for the first rule the entry would break on this case."""
    if isinstance(entry, CaseOpened):
        raise CaseExists
    # A closed record may still need opening in an emergency (its history), so a grant is allowed;
    # erasure is decided and carried out on closed records (retention) as on open ones (misfiling).
    if state.status is CaseStatus.CLOSED and not isinstance(entry, _ON_CLOSED):
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
    for entry_id in because_of:
        ref = state.ref(entry_id)
        if ref is None:
            raise EntryNotFound(entry_id, field="because_of")
        if ref.type not in CAUSES:
            raise CauseNotAllowed(entry_id, ref.type)


_ON_CLOSED = (CaseReopened, BreakGlassGranted, ErasureApproved, TextErased)
"""Kinds a closed case still takes."""
_NOT_ERASABLE = frozenset({"case_opened", "erasure_approved", "text_erased"})
"""Kinds a misfiling approval may not name: the opening is the record itself (a record filed under
the wrong person goes through the misfiled-record procedure), and erasure entries hold no text."""


def _erasure_approved(state: CaseState, entry: ErasureApproved) -> None:
    if entry.grounds is ErasureGrounds.RETENTION_ENDED:
        if state.status is not CaseStatus.CLOSED:
            raise ErasureNotAllowed("Only a closed case reaches the end of its retention period.")
        if entry.entries:
            raise ErasureNotAllowed(
                "An approval at the end of retention covers the whole case: send no entries.", field="entries"
            )
        return
    if not entry.entries:
        raise ErasureNotAllowed("Name the misfiled entries in entries.", field="entries")
    for index, entry_id in enumerate(entry.entries):
        ref = state.ref(entry_id)
        if ref is None:
            raise EntryNotFound(entry_id, field=f"entries[{index}]")
        if ref.type in _NOT_ERASABLE:
            message = f"Entry {entry_id} is a {ref.type}: it cannot be erased."
            raise ErasureNotAllowed(message, field=f"entries[{index}]")


def _approval_named(state: CaseState, entry: TextErased) -> None:
    ref = state.ref(entry.approval_id)
    if ref is None or ref.type != type_name(ErasureApproved):
        raise EntryNotFound(entry.approval_id, field="approval_id")


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
        or (entry.review_interval_weeks not in (None, plan.review_interval_weeks))
        or set(entry.strategies_added) - set(plan.strategies)
        or entry.strategies_removed
        or set(entry.domains_added) - set(state.domains)
    ):
        raise NothingChanged


def _plan_confirmed(state: CaseState, entry: PlanConfirmed) -> None:
    _causes(state, entry.because_of)


def _statement(state: CaseState, entry: StatementAdded) -> None:
    _entries_exist(state, entry.about, "about")


def _story(state: CaseState, entry: StoryAgreed) -> None:
    if not entry.de_identified:
        raise InvalidEntry(
            "A story is shared only once its author has de-identified it: send de_identified true.",
            field="de_identified",
        )
    _domains_in_case(state, entry.domains, "domains")


def _story_named(state: CaseState, entry: StoryConsentWithdrawn) -> None:
    ref = state.ref(entry.story_id)
    if ref is None or ref.type != type_name(StoryAgreed):
        raise EntryNotFound(entry.story_id, field="story_id")


def _outside_care_team(state: CaseState, entry: BreakGlassGranted) -> None:
    if entry.actor.id in state.care_team:
        raise OnCareTeam


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
    StoryAgreed: _story,
    StoryConsentWithdrawn: _story_named,
}
_STATE: dict[type[Entry], Check] = {
    BreakGlassGranted: _outside_care_team,
    ErasureApproved: _erasure_approved,
    TextErased: _approval_named,
    CaseReopened: _reopened,
    GoalRevised: _goal_exists,
    MilestoneReached: _milestone_reached,
    EscalationResolved: _escalation_resolved,
    PlanChanged: _plan_changes_the_plan,
}


def check_corrected(state: CaseState, original: Entry, corrected: Entry, *, now: datetime) -> None:
    """A corrected entry keeps the rules on its own values and references; a case opening's domains
    change through a plan change, and its date may only move earlier. (Fields that decide who can
    read the record are never correctable: see ``events.corrections.ACCESS_FIELDS``.)"""
    try:
        check_occurred(state, corrected.occurred_at, now=now)
        check_dates(corrected, now=now)
    except InvalidEntry as error:
        # The corrected value came in the correction's changes: name it there.
        error.field = f"changes.{error.field}"
        raise
    if isinstance(original, CaseOpened) and isinstance(corrected, CaseOpened):
        if corrected.domains != original.domains:
            raise CorrectionNotAllowed(
                "Add outcome domains with a plan change (domains_added), not a correction.",
                field="changes.domains",
            )
        if corrected.opened_on > original.opened_on:
            raise CorrectionNotAllowed(
                "opened_on may only be corrected to an earlier date.", field="changes.opened_on"
            )
        return
    rule = _REFERENCES.get(type(corrected))
    if rule is not None:
        rule(state, corrected)
