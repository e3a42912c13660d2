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
                ("service", "text"),
                ("first_decided_at", "timestamptz"),
                ("changed", "boolean NOT NULL DEFAULT false"),
            ),
            indexes=(
                "case_id, occurred_at",
                "occurred_at",
                "service, occurred_at",
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
            return review.entry_id, [
                _review_row(review.case_id, review.occurred_at, review.kind, review.actor.id)
            ]
        return super().rows_from(topic, state, at)

    def after_batch(
        self, schema: str, written: dict[str, list[tuple[Any, ...]]], corrected: list[Entry]
    ) -> list[Statement]:
        # Reviews written now need their service; reviews named by a decision written now (or whose
        # decision or case was corrected) need their first decision again.
        reviews = {row[0] for row in written["reviews"]} | {row[3] for row in written["decision_causes"]}
        cases = {e.case_id for e in corrected if isinstance(e, (CaseOpened, PlanChanged, PlanConfirmed))}
        statements = []
        if reviews:
            statements.append(
                Statement(_DERIVE.format(s=schema, which="r.entry_id = ANY($1::uuid[])"), (list(reviews),))
            )
        if cases:
            statements.append(
                Statement(_DERIVE.format(s=schema, which="r.case_id = ANY($1::uuid[])"), (list(cases),))
            )
        return statements

    def derive_all(self, schema: str) -> list[Statement]:
        return [Statement(_DERIVE_ALL.format(s=schema), ())]

    def rows(self, entry: Entry, at: EventAt | None) -> Iterator[Row]:
        handler = _HANDLERS.get(type(entry))
        return iter(handler(entry)) if handler else iter(())


class _Review(msgspec.Struct):
    entry_id: UUID
    case_id: UUID
    occurred_at: datetime
    kind: str
    actor: Actor


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
    return [_review_row(e.case_id, e.occurred_at, e.kind.value, e.actor.id)]


def _review_row(case_id: UUID, occurred_at: datetime, kind: str, actor_id: str) -> Row:
    # service, first_decided_at and changed are derived after the batch (see _DERIVE).
    return Row("reviews", (case_id, occurred_at, kind, actor_id, None, None, False))


_DERIVE = """
UPDATE {s}.reviews r SET
    service = (SELECT c.service FROM {s}.cases c WHERE c.case_id = r.case_id LIMIT 1),
    (first_decided_at, changed) = (
        SELECT min(dc.decided_at), coalesce(bool_or(dc.decision_kind = 'plan_changed'), false)
        FROM {s}.decision_causes dc WHERE dc.cause_id = r.entry_id)
WHERE {which}
"""

# The same for every review at once, by hash joins, for a bulk load that has no indexes yet.
_DERIVE_ALL = """
UPDATE {s}.reviews r SET service = x.service, first_decided_at = x.first_decided_at, changed = x.changed
FROM (
    SELECT r2.entry_id, c.service, o.first_decided_at, coalesce(o.changed, false) AS changed
    FROM {s}.reviews r2
    JOIN {s}.cases c ON c.case_id = r2.case_id
    LEFT JOIN (
        SELECT cause_id, min(decided_at) AS first_decided_at,
               bool_or(decision_kind = 'plan_changed') AS changed
        FROM {s}.decision_causes GROUP BY cause_id
    ) o ON o.cause_id = r2.entry_id
) x
WHERE r.entry_id = x.entry_id
"""


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
