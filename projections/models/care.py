"""Care delivery: cases and their open periods, reviews, plan decisions and what caused them,
setbacks and escalations. Feeds the learning log, review impact and service learning."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from events.entries import Entry
from projections.changes import Tracked
from projections.models.base import EventAt, ReadModel, Row, Statement
from projections.models.care_rows import DECISIONS, OUTCOME_SOURCES, stored_rows
from projections.models.care_summaries import SUMMARIES
from projections.models.care_tables import TABLES
from projections.models.case_services import SERVED_TABLES, derive_all_services, derive_services
from projections.models.open_spans import derive_all_open_changes, derive_open_changes
from projections.models.review_outcomes import derive_all_outcomes, derive_outcomes

__all__ = ["CareDelivery"]

_TABLE = {table.name: table for table in TABLES}


def _column(table: str, column: str) -> Callable[[tuple[Any, ...]], Any]:
    """Reads one column of a written row, by name."""
    return operator.itemgetter(_TABLE[table].position(column))


_REVIEW_ID, _REVIEW_CASE = _column("reviews", "entry_id"), _column("reviews", "case_id")
_CAUSE_ID = _column("decision_causes", "cause_id")
_INTRODUCED_IN = _column("strategy_introductions", "case_id")
_STATUS_CASE = _column("case_status", "case_id")
_SERVED_CASE = {table: _column(table, "case_id") for table in SERVED_TABLES}


class CareDelivery(ReadModel):
    """What happened in each person's care, and which decisions each review, setback or escalation led to."""

    name = "care"
    decisions = DECISIONS
    tables = TABLES
    summaries = SUMMARIES
    tracked = (
        Tracked("cases", "people"),
        Tracked("case_status", "case_status"),
        Tracked("reviews", "reviews"),
        Tracked("decisions", "plan_decisions"),
        Tracked("decision_causes", "decision_causes"),
        Tracked("setbacks", "setbacks"),
        Tracked("escalations", "escalations"),
        # A resolution shows as its escalation's resolved_at.
        Tracked("escalation_resolutions", "escalations", key="escalation_id", owner="escalations"),
    )

    def rows_from(self, topic: str, state: bytes, at: EventAt) -> tuple[UUID, Iterable[Row]]:
        return stored_rows(topic, state) or super().rows_from(topic, state, at)

    def after_batch(
        self, schema: str, written: dict[str, list[tuple[Any, ...]]], corrected: list[Entry]
    ) -> list[Statement]:
        # Reviews written now need their service; reviews named by a decision written now (or whose
        # decision or case was corrected) need their first decision again.
        # Strategies introduced in a case whose reviews or strategies changed need their ratings again.
        reviews = {_REVIEW_ID(row) for row in written["reviews"]}
        reviews |= {_CAUSE_ID(row) for row in written["decision_causes"]}
        corrected_cases = {e.case_id for e in corrected if isinstance(e, OUTCOME_SOURCES)}
        with_strategies = {_REVIEW_CASE(row) for row in written["reviews"]}
        with_strategies |= {_INTRODUCED_IN(row) for row in written["strategy_introductions"]}
        # Status rows written now, and every case with a correction (an opening's date or service, a
        # closure's time), need their service and open change again.
        statuses = {_STATUS_CASE(row) for row in written["case_status"]} | {e.case_id for e in corrected}
        outcomes = derive_outcomes(schema, reviews, corrected_cases, with_strategies | corrected_cases)
        served = {case for t, case_of in _SERVED_CASE.items() for case in map(case_of, written[t])}
        served |= {e.case_id for e in corrected}
        return outcomes + derive_open_changes(schema, statuses) + derive_services(schema, served)

    def after_retry(self, schema: str, cases: set[UUID]) -> list[Statement]:
        derived = derive_open_changes(schema, cases) + derive_services(schema, cases)
        return derive_outcomes(schema, (), cases, cases) + derived

    def derive_all(self, schema: str) -> list[list[Statement]]:
        return [*derive_all_outcomes(schema), derive_all_open_changes(schema), derive_all_services(schema)]
