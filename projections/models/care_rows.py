"""The rows each entry adds to the care model.

Reviews and plan decisions are most of the log, so stored ones are read through views of the few
fields the model needs: without re-checking every text field's pattern (they were checked when
written) a decision decodes in half the time. Entries stored in an older shape take the full
decoder, which upcasts them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from functools import partial
from typing import Any
from uuid import UUID

import msgspec

from events.codec import current_version, encode_entry, type_name
from events.entries import (
    BreakGlassGranted,
    CareTeamChanged,
    CaseClosed,
    CaseOpened,
    CaseReopened,
    Entry,
    EntryCorrected,
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
from events.values import Actor
from projections.models.base import Decision, Ignored, Row, applies_corrections
from projections.models.care_tables import CareRow

__all__ = ["DECISIONS", "OUTCOME_SOURCES", "entry_rows", "start_of", "stored_rows"]


class _View(msgspec.Struct, kw_only=True):
    class_version: int = 1
    entry_id: UUID
    case_id: UUID
    occurred_at: datetime


class _ReviewView(_View, kw_only=True):
    kind: str
    actor: Actor
    ratings: dict[str, int]


class _DecisionView(_View, kw_only=True):
    rationale: str
    because_of: tuple[UUID, ...] = ()
    support_hours_per_week: float | None = None
    approach: str | None = None
    strategies_added: tuple[str, ...] = ()
    strategies_removed: tuple[str, ...] = ()
    domains_added: tuple[str, ...] = ()
    review_interval_weeks: int | None = None


def _review(e: _ReviewView) -> list[CareRow]:
    # service, first_decided_at, changed and actioned are derived after the batch (see
    # review_outcomes). Domain ratings only (not confidence or autonomy), for how domains moved
    # around a change.
    ratings = (sum(e.ratings.values()), len(e.ratings))
    return [("reviews", (e.case_id, e.occurred_at, e.kind, e.actor.id, *ratings, None, None, False, False))]


def _decision(kind: str, e: _DecisionView) -> list[CareRow]:
    case_id, at = e.case_id, e.occurred_at
    plan = (
        kind,
        e.support_hours_per_week,
        e.approach,
        e.strategies_added,
        e.strategies_removed,
        e.domains_added,
        e.review_interval_weeks,
    )
    rows: list[CareRow] = [("decisions", (case_id, at, *plan, e.rationale, bool(e.because_of)))]
    # Each cause row carries the decision's kind and time, so "what followed this review, and how
    # fast" is answered from one index without joining the decisions.
    for cause in e.because_of:
        rows.append(("decision_causes", (case_id, cause, kind, at)))
    for strategy in {s.strip().lower(): None for s in e.strategies_added}:
        rows.append(("strategy_introductions", (case_id, at, strategy, None, None, None)))
    return rows


_VIEWS: dict[str, tuple[int, msgspec.json.Decoder[Any], Callable[[Any], list[CareRow]]]] = {
    type_name(cls): (current_version(cls), msgspec.json.Decoder(view), build)
    for cls, view, build in (
        (ReviewRecorded, _ReviewView, _review),
        (PlanChanged, _DecisionView, partial(_decision, "plan_changed")),
        (PlanConfirmed, _DecisionView, partial(_decision, "plan_confirmed")),
    )
}


def stored_rows(topic: str, state: bytes) -> tuple[UUID, list[CareRow]] | None:
    """The entry id and rows of a stored review or decision in the current shape; None otherwise."""
    view = _VIEWS.get(topic)
    if view is None:
        return None
    version, decoder, build = view
    decoded = decoder.decode(state)
    return (decoded.entry_id, build(decoded)) if decoded.class_version == version else None


def entry_rows(entry: Entry) -> list[Row]:
    """The rows of a decoded entry (a corrected one, or one stored in an older shape)."""
    decision = DECISIONS[type(entry)]
    return [] if isinstance(decision, Ignored) else list(decision(entry))


def _through_view(entry: Entry) -> list[CareRow]:
    """A decoded review or decision's rows, built as a stored one's are, so both give the same rows."""
    _, decoder, build = _VIEWS[type_name(type(entry))]
    return build(decoder.decode(encode_entry(entry)))


def start_of(day: date) -> datetime:
    """The first moment of a day (UTC), from which a case opened on that day counts as open."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def _opened(e: CaseOpened) -> list[CareRow]:
    # A case is open from the start of its opened_on date, not from when the opening was typed in
    # (occurred_at, "now" when a request leaves it out): entries dated from opened_on are accepted,
    # so open days counted from occurred_at could be none at all around a year of escalations.
    # Closures and reopenings count from when they happened (their occurred_at).
    return [
        ("cases", (e.case_id, e.person_ref, e.service, e.opened_on, e.domains)),
        ("case_status", (e.case_id, start_of(e.opened_on), "open", None, None, 0)),
    ]


def _closed(e: CaseClosed) -> list[CareRow]:
    return [("case_status", (e.case_id, e.occurred_at, "closed", e.reason.value, None, 0))]


def _reopened(e: CaseReopened) -> list[CareRow]:
    return [("case_status", (e.case_id, e.occurred_at, "open", None, None, 0))]


def _setback(e: SetbackRecorded) -> list[CareRow]:
    texts = (e.what_happened, e.contributing_factors, e.factors_detail, e.risk_management, e.learning)
    return [("setbacks", (e.case_id, e.occurred_at, e.domains, *texts, e.adaptation, None))]


def _escalation(e: EscalationRaised) -> list[CareRow]:
    plan_used_early = e.escalation_plan_used_early
    return [
        (
            "escalations",
            (e.case_id, e.occurred_at, e.severity, e.trigger, e.response, plan_used_early, e.domains, None),
        )
    ]


def _resolution(e: EscalationResolved) -> list[CareRow]:
    return [("escalation_resolutions", (e.case_id, e.occurred_at, e.escalation_id, e.resolution))]


def _story(e: StoryAgreed) -> list[CareRow]:
    return [("stories", (e.case_id, e.occurred_at, e.story, e.consent_given_by.value, e.domains))]


def _withdrawal(e: StoryConsentWithdrawn) -> list[CareRow]:
    return [("story_withdrawals", (e.case_id, e.occurred_at, e.story_id))]


OUTCOME_SOURCES = (CaseOpened, ReviewRecorded, PlanChanged, PlanConfirmed)
"""Entries whose correction changes what reviews led to, or how domains moved around a strategy."""

_NOT_DELIVERY = "not what happened in care or what it led to: read from the case itself"

DECISIONS: dict[type[Entry], Decision] = {
    CaseOpened: _opened,
    CareTeamChanged: Ignored("who may read the record is not care delivery"),
    GoalSet: Ignored(_NOT_DELIVERY),
    GoalRevised: Ignored(_NOT_DELIVERY),
    MilestoneAdded: Ignored(_NOT_DELIVERY),
    MilestoneReached: Ignored(_NOT_DELIVERY),
    ReviewRecorded: _through_view,
    MeasureRecorded: Ignored("scored measures are the trajectory model's"),
    SetbackRecorded: _setback,
    EscalationRaised: _escalation,
    EscalationResolved: _resolution,
    EscalationPlanAgreed: Ignored(
        "the plan in force is read from the case itself; no report counts plans yet"
    ),
    PlanChanged: _through_view,
    PlanConfirmed: _through_view,
    StatementAdded: Ignored("the person's statements are read from the case history"),
    StoryAgreed: _story,
    StoryConsentWithdrawn: _withdrawal,
    CaseClosed: _closed,
    CaseReopened: _reopened,
    BreakGlassGranted: Ignored("access to the record, not care: governance reviews it from the log"),
    ErasureApproved: Ignored("a governance decision; the projector blanks the text once it is carried out"),
    TextErased: Ignored("the projector re-reads the case's entries, now erased, into every model"),
    EntryCorrected: applies_corrections,
}
"""What the care model does with every kind of entry."""
