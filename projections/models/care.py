"""Care delivery: cases and their open periods, reviews, plan decisions and what caused them,
setbacks and escalations. Feeds the learning log, review impact and service learning."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from events.entries import (
    CaseClosed,
    CaseOpened,
    CaseReopened,
    Entry,
    EscalationRaised,
    EscalationResolved,
    PlanChanged,
    PlanConfirmed,
    ReviewRecorded,
    SetbackRecorded,
)
from events.values import Actor
from projections.models.base import CORRECTION, EventAt, ReadModel, Row, Statement
from projections.models.review_outcomes import derive_all_outcomes, derive_outcomes
from projections.schema import Table

__all__ = ["CareDelivery"]

_WHEN = ("case_id", "uuid NOT NULL"), ("occurred_at", "timestamptz NOT NULL")


class CareDelivery(ReadModel):
    """What happened in each person's care, and which decisions each review, setback or escalation led to."""

    name = "care"
    topics = frozenset(
        {
            "case_opened",
            "case_closed",
            "case_reopened",
            "review_recorded",
            "plan_changed",
            "plan_confirmed",
            "setback_recorded",
            "escalation_raised",
            "escalation_resolved",
            CORRECTION,
        }
    )
    tables = (
        Table(
            "cases",
            (
                ("case_id", "uuid NOT NULL"),
                ("person_ref", "text NOT NULL"),
                ("service", "text NOT NULL"),
                ("opened_on", "date NOT NULL"),
                ("domains", "text[] NOT NULL"),
            ),
            indexes=("case_id", "service, opened_on"),
        ),
        Table(
            "case_status",
            (*_WHEN, ("status", "text NOT NULL"), ("reason", "text")),
            indexes=("case_id, occurred_at",),
        ),
        Table(
            "reviews",
            # service, first_decided_at and changed are derived after each batch (see after_batch),
            # so "which reviews led to action, and how fast" reads one table.
            (
                *_WHEN,
                ("kind", "text NOT NULL"),
                ("actor_id", "text NOT NULL"),
                # Domain ratings only (not confidence or autonomy), for how domains moved around a change.
                ("rating_sum", "integer NOT NULL"),
                ("rating_count", "integer NOT NULL"),
                ("service", "text"),
                ("first_decided_at", "timestamptz"),
                ("changed", "boolean NOT NULL DEFAULT false"),
            ),
            indexes=(
                "case_id, occurred_at",
                "occurred_at",
                # Covering: review impact's monthly shares read the index alone.
                "service, occurred_at INCLUDE changed, first_decided_at",
                "service, occurred_at WHERE first_decided_at IS NULL",
            ),
        ),
        Table(
            "decisions",
            (
                *_WHEN,
                ("kind", "text NOT NULL"),
                ("support_hours_per_week", "double precision"),
                ("approach", "text"),
                ("strategies_added", "text[] NOT NULL"),
                ("strategies_removed", "text[] NOT NULL"),
                ("rationale", "text NOT NULL"),
                ("caused", "boolean NOT NULL"),
            ),
            indexes=(
                "case_id, occurred_at",
                "occurred_at",
                "occurred_at WHERE kind = 'plan_changed' AND NOT caused",
            ),
        ),
        Table(
            "strategy_introductions",
            # One row per strategy a plan change adds; service and the mean domain rating in the 90
            # days before and after are derived after each batch, so "which strategies help" reads one table.
            (
                *_WHEN,
                ("strategy", "text NOT NULL"),
                ("service", "text"),
                ("before", "double precision"),
                ("after", "double precision"),
            ),
            indexes=("case_id", "service, occurred_at INCLUDE strategy, before, after", "occurred_at"),
        ),
        Table(
            "decision_causes",
            (
                ("case_id", "uuid NOT NULL"),
                ("cause_id", "uuid NOT NULL"),
                ("decision_kind", "text NOT NULL"),
                ("decided_at", "timestamptz NOT NULL"),
            ),
            indexes=("cause_id, decided_at, decision_kind",),
        ),
        Table(
            "setbacks",
            (
                *_WHEN,
                ("domains", "text[] NOT NULL"),
                ("what_happened", "text NOT NULL"),
                ("contributing_factors", "text[] NOT NULL"),
                ("factors_detail", "text"),
                ("risk_management", "text NOT NULL"),
                ("learning", "text NOT NULL"),
                ("adaptation", "text NOT NULL"),
            ),
            indexes=("case_id, occurred_at", "occurred_at"),
        ),
        Table(
            "escalations",
            (
                *_WHEN,
                ("severity", "smallint NOT NULL"),
                ("trigger", "text NOT NULL"),
                ("response", "text NOT NULL"),
                ("plan_used_early", "boolean NOT NULL"),
                ("domains", "text[] NOT NULL"),
            ),
            indexes=("case_id, occurred_at", "occurred_at"),
        ),
        Table(
            "escalation_resolutions",
            (*_WHEN, ("escalation_id", "uuid NOT NULL"), ("resolution", "text NOT NULL")),
            indexes=("escalation_id",),
        ),
    )

    def rows_from(self, topic: str, state: bytes, at: EventAt) -> tuple[UUID, Iterable[Row]]:
        if topic == "review_recorded":
            # Reviews are the most frequent entry and this model needs four of their fields.
            review = _REVIEW.decode(state)
            return review.entry_id, [_review_row(review)]
        return super().rows_from(topic, state, at)

    def after_batch(
        self, schema: str, written: dict[str, list[tuple[Any, ...]]], corrected: list[Entry]
    ) -> list[Statement]:
        # Reviews written now need their service; reviews named by a decision written now (or whose
        # decision or case was corrected) need their first decision again.
        # Strategies introduced in a case whose reviews or strategies changed need their ratings again.
        reviews = {row[0] for row in written["reviews"]} | {row[3] for row in written["decision_causes"]}
        corrected_cases = {e.case_id for e in corrected if isinstance(e, _OUTCOME_SOURCES)}
        with_strategies = {row[2] for row in (*written["reviews"], *written["strategy_introductions"])}
        return derive_outcomes(schema, reviews, corrected_cases, with_strategies | corrected_cases)

    def derive_all(self, schema: str) -> list[Statement]:
        return derive_all_outcomes(schema)

    def rows(self, entry: Entry, at: EventAt | None) -> Iterator[Row]:
        handler = _HANDLERS.get(type(entry))
        return iter(handler(entry)) if handler else iter(())


class _Review(msgspec.Struct):
    entry_id: UUID
    case_id: UUID
    occurred_at: datetime
    kind: str
    actor: Actor
    ratings: dict[str, int]


_REVIEW = msgspec.json.Decoder(_Review)


def _opened(e: CaseOpened) -> list[Row]:
    return [
        Row("cases", (e.case_id, e.person_ref, e.service, e.opened_on, list(e.domains))),
        Row("case_status", (e.case_id, e.occurred_at, "open", None)),
    ]


def _closed(e: CaseClosed) -> list[Row]:
    return [Row("case_status", (e.case_id, e.occurred_at, "closed", e.reason.value))]


def _reopened(e: CaseReopened) -> list[Row]:
    return [Row("case_status", (e.case_id, e.occurred_at, "open", None))]


def _review(e: ReviewRecorded) -> list[Row]:
    return [_review_row(e)]


def _review_row(e: ReviewRecorded | _Review) -> Row:
    # service, first_decided_at and changed are derived after the batch (see review_outcomes).
    kind = e.kind if isinstance(e.kind, str) else e.kind.value
    ratings = (sum(e.ratings.values()), len(e.ratings))
    return Row("reviews", (e.case_id, e.occurred_at, kind, e.actor.id, *ratings, None, None, False))


def _decision(e: PlanChanged | PlanConfirmed) -> list[Row]:
    if isinstance(e, PlanChanged):
        plan = (
            "plan_changed",
            e.support_hours_per_week,
            e.approach,
            list(e.strategies_added),
            list(e.strategies_removed),
        )
    else:
        plan = ("plan_confirmed", None, None, [], [])
    rows = [Row("decisions", (e.case_id, e.occurred_at, *plan, e.rationale, bool(e.because_of)))]
    # Each cause row carries the decision's kind and time, so "what followed this review, and how
    # fast" is answered from one index without joining the decisions.
    rows.extend(Row("decision_causes", (e.case_id, cause, plan[0], e.occurred_at)) for cause in e.because_of)
    rows.extend(
        Row("strategy_introductions", (e.case_id, e.occurred_at, strategy, None, None, None))
        for strategy in dict.fromkeys(s.strip().lower() for s in plan[3])
    )
    return rows


def _setback(e: SetbackRecorded) -> list[Row]:
    return [
        Row(
            "setbacks",
            (
                e.case_id,
                e.occurred_at,
                list(e.domains),
                e.what_happened,
                list(e.contributing_factors),
                e.factors_detail,
                e.risk_management,
                e.learning,
                e.adaptation,
            ),
        )
    ]


def _escalation(e: EscalationRaised) -> list[Row]:
    return [
        Row(
            "escalations",
            (
                e.case_id,
                e.occurred_at,
                e.severity,
                e.trigger,
                e.response,
                e.escalation_plan_used_early,
                list(e.domains),
            ),
        )
    ]


def _resolution(e: EscalationResolved) -> list[Row]:
    return [Row("escalation_resolutions", (e.case_id, e.occurred_at, e.escalation_id, e.resolution))]


_OUTCOME_SOURCES = (CaseOpened, ReviewRecorded, PlanChanged, PlanConfirmed)
"""Entries whose correction changes what reviews led to, or how domains moved around a strategy."""

_HANDLERS: dict[type[Entry], Callable[[Any], list[Row]]] = {
    CaseOpened: _opened,
    CaseClosed: _closed,
    CaseReopened: _reopened,
    ReviewRecorded: _review,
    PlanChanged: _decision,
    PlanConfirmed: _decision,
    SetbackRecorded: _setback,
    EscalationRaised: _escalation,
    EscalationResolved: _resolution,
}
