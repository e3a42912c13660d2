"""A person's learning log: setbacks and escalations, what was learned, and the decisions they led to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import msgspec

from projections.queries import Reader, RowLike, days
from projections.queries.completeness import Incomplete, incompleteness

__all__ = ["Decision", "LearningItem", "LearningLog", "learning_log", "learning_log_of"]


class Decision(msgspec.Struct, frozen=True):
    """A plan change or confirmation that named this setback or escalation, and how long it took."""

    entry_id: UUID
    kind: str
    occurred_at: datetime
    days_after: float
    support_hours_per_week: float | None
    approach: str | None
    strategies_added: list[str]
    strategies_removed: list[str]
    rationale: str
    corrected: bool


class LearningItem(msgspec.Struct, frozen=True, omit_defaults=True):
    """A setback or an escalation with its contributing factors, risk management and learning."""

    entry_id: UUID
    kind: str
    occurred_at: datetime
    corrected: bool
    decisions: list[Decision]
    domains: list[str]
    setback: dict[str, object] | None = None
    escalation: dict[str, object] | None = None


class LearningLog(msgspec.Struct, frozen=True):
    """Everything a case can learn from, oldest first (``incomplete`` when entries are missing)."""

    case_id: UUID
    items: list[LearningItem]
    incomplete: Incomplete | None = None


async def learning_log(conn: Reader, case_id: UUID) -> LearningLog:
    """The case's setbacks and escalations, each with the decisions that named it."""
    setbacks = await conn.fetch("SELECT * FROM read.setbacks WHERE case_id = $1", case_id)
    escalations = await conn.fetch(
        "SELECT e.*, r.occurred_at AS resolved_at, r.resolution FROM read.escalations e"
        " LEFT JOIN read.escalation_resolutions r ON r.escalation_id = e.entry_id WHERE e.case_id = $1",
        case_id,
    )
    decided = await conn.fetch(
        "SELECT dc.cause_id, d.* FROM read.decision_causes dc"
        " JOIN read.decisions d ON d.entry_id = dc.entry_id WHERE dc.case_id = $1 ORDER BY d.occurred_at",
        case_id,
    )
    incomplete = await incompleteness(conn, case_id, ["care"])
    return learning_log_of(case_id, setbacks, escalations, decided, incomplete)


def learning_log_of(
    case_id: UUID,
    setbacks: Sequence[RowLike],
    escalations: Sequence[RowLike],
    decided: Sequence[RowLike],
    incomplete: Incomplete | None = None,
) -> LearningLog:
    """The learning log from rows shaped as the read model's (``decided``: decisions with the
    ``cause_id`` they name, in the order they happened): one computation for the read and a replay."""
    by_cause: dict[UUID, list[RowLike]] = {}
    for row in decided:
        by_cause.setdefault(row["cause_id"], []).append(row)
    items = [_setback(row, by_cause) for row in setbacks] + [
        _escalation(row, by_cause) for row in escalations
    ]
    items.sort(key=lambda item: item.occurred_at)
    return LearningLog(case_id, items, incomplete)


def _decisions(row: RowLike, by_cause: dict[UUID, list[RowLike]]) -> list[Decision]:
    return [
        Decision(
            entry_id=d["entry_id"],
            kind=d["kind"],
            occurred_at=d["occurred_at"],
            days_after=days(d["occurred_at"] - row["occurred_at"]),
            support_hours_per_week=d["support_hours_per_week"],
            approach=d["approach"],
            strategies_added=list(d["strategies_added"]),
            strategies_removed=list(d["strategies_removed"]),
            rationale=d["rationale"],
            corrected=d["corrected"],
        )
        for d in by_cause.get(row["entry_id"], [])
    ]


def _setback(row: RowLike, by_cause: dict[UUID, list[RowLike]]) -> LearningItem:
    details = {
        name: row[name]
        for name in ("what_happened", "factors_detail", "risk_management", "learning", "adaptation")
    }
    details["contributing_factors"] = list(row["contributing_factors"])
    return LearningItem(
        row["entry_id"],
        "setback",
        row["occurred_at"],
        row["corrected"],
        _decisions(row, by_cause),
        list(row["domains"]),
        setback=details,
    )


def _escalation(row: RowLike, by_cause: dict[UUID, list[RowLike]]) -> LearningItem:
    resolved = row["resolved_at"]
    details = {
        "severity": row["severity"],
        "trigger": row["trigger"],
        "response": row["response"],
        "escalation_plan_used_early": row["plan_used_early"],
        "resolved_at": resolved,
        "resolution": row["resolution"],
        "days_to_resolution": None if resolved is None else days(resolved - row["occurred_at"]),
    }
    return LearningItem(
        row["entry_id"],
        "escalation",
        row["occurred_at"],
        row["corrected"],
        _decisions(row, by_cause),
        list(row["domains"]),
        escalation=details,
    )
