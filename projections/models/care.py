"""Care delivery: cases and their open periods, reviews, plan decisions and what caused them,
setbacks and escalations. Feeds the learning log, review impact and service learning."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from events.entries import Entry
from projections.models.base import EventAt, ReadModel, Row, Statement
from projections.models.care_rows import DECISIONS, OUTCOME_SOURCES, stored_rows
from projections.models.review_outcomes import derive_all_outcomes, derive_outcomes
from projections.schema import Table

__all__ = ["CareDelivery"]

_WHEN = ("case_id", "uuid NOT NULL"), ("occurred_at", "timestamptz NOT NULL")


class CareDelivery(ReadModel):
    """What happened in each person's care, and which decisions each review, setback or escalation led to."""

    name = "care"
    decisions = DECISIONS
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
            # An opening counts from the start of its opened_on date, closures and reopenings from
            # when they happened: open days and escalation rates are counted from these rows.
            "case_status",
            (*_WHEN, ("status", "text NOT NULL"), ("reason", "text")),
            indexes=("case_id, occurred_at",),
        ),
        Table(
            "reviews",
            # service, first_decided_at, changed and actioned are derived after each batch (see
            # after_batch), so "which reviews led to action, and how fast" reads one table.
            (
                *_WHEN,
                ("kind", "text NOT NULL"),
                ("actor_id", "text NOT NULL"),
                # Domain ratings only (not confidence or autonomy), for how domains moved around a change.
                ("rating_sum", "integer NOT NULL"),
                ("rating_count", "integer NOT NULL"),
                ("service", "text"),
                ("first_decided_at", "timestamptz"),
                # Led to change: a plan change named it within 28 days. Led to action: a plan change
                # or a "no change, because ..." confirmation named it within 28 days.
                ("changed", "boolean NOT NULL DEFAULT false"),
                ("actioned", "boolean NOT NULL DEFAULT false"),
            ),
            indexes=(
                "case_id, occurred_at",
                "occurred_at",
                # Covering: review impact's monthly shares read the index alone.
                "service, occurred_at INCLUDE changed, actioned, first_decided_at",
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
        return stored_rows(topic, state) or super().rows_from(topic, state, at)

    def after_batch(
        self, schema: str, written: dict[str, list[tuple[Any, ...]]], corrected: list[Entry]
    ) -> list[Statement]:
        # Reviews written now need their service; reviews named by a decision written now (or whose
        # decision or case was corrected) need their first decision again.
        # Strategies introduced in a case whose reviews or strategies changed need their ratings again.
        reviews = {row[0] for row in written["reviews"]} | {row[3] for row in written["decision_causes"]}
        corrected_cases = {e.case_id for e in corrected if isinstance(e, OUTCOME_SOURCES)}
        with_strategies = {row[2] for row in (*written["reviews"], *written["strategy_introductions"])}
        return derive_outcomes(schema, reviews, corrected_cases, with_strategies | corrected_cases)

    def after_retry(self, schema: str, cases: set[UUID]) -> list[Statement]:
        return derive_outcomes(schema, (), cases, cases)

    def derive_all(self, schema: str) -> list[list[Statement]]:
        return derive_all_outcomes(schema)
