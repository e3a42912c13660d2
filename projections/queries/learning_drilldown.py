"""Governance's drill-down into setbacks and escalations: every one in a period, a page at a time
(keyset, no cap), with what was learned, the plan decisions that named it and what they changed,
and how domain ratings moved around the first of them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from projections.queries import Reader, days
from projections.queries.follow_up import (
    Cursor,
    DomainMovement,
    FollowingDecision,
    decisions_naming,
    domain_movements,
)

__all__ = ["LearningFilter", "LearningFollowUp", "LearningPage", "escalations_page", "setbacks_page"]


class LearningFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which setbacks or escalations: a period (half-open), optionally a service, a member of the
    case's current care team, whether a plan change named them, a contributing factor (setbacks) and
    a least severity (escalations)."""

    start: datetime
    end: datetime
    service: str | None = None
    care_team_member: str | None = None
    named_by_change: bool | None = None
    factor: str | None = None
    least_severity: int | None = None


class LearningFollowUp(msgspec.Struct, frozen=True, omit_defaults=True):
    """One setback or escalation: what happened and was learned (``setback`` or ``escalation``), the
    decisions naming it with what each changed, and how domains moved around the first decision."""

    entry_id: UUID
    kind: str
    case_id: UUID
    service: str
    occurred_at: datetime
    corrected: bool
    days_to_first_decision: float | None
    decisions: list[FollowingDecision]
    domains: list[DomainMovement]
    setback: dict[str, object] | None = None
    escalation: dict[str, object] | None = None


class LearningPage(msgspec.Struct, frozen=True):
    """One page, newest first; ``next_after`` fetches the next page (null on the last)."""

    items: list[LearningFollowUp]
    next_after: str | None


_COMMON = """
WHERE x.occurred_at >= $1 AND x.occurred_at < $2 AND ($3::text IS NULL OR c.service = $3)
  AND ($4::text IS NULL OR EXISTS (
        SELECT 1 FROM (SELECT t.members FROM read.care_teams t
                        WHERE t.case_id = x.case_id ORDER BY t.version DESC LIMIT 1) latest
         WHERE $4 = ANY(latest.members)))
  AND ($5::boolean IS NULL OR $5 = EXISTS (
        SELECT 1 FROM read.decision_causes dc
         WHERE dc.cause_id = x.entry_id AND dc.decision_kind = 'plan_changed'))
  AND ($6::timestamptz IS NULL OR (x.occurred_at, x.entry_id) < ($6, $7::uuid))
  AND {only}
ORDER BY x.occurred_at DESC, x.entry_id DESC
LIMIT $8
"""
_SETBACKS = "SELECT x.*, c.service FROM read.setbacks x JOIN read.cases c ON c.case_id = x.case_id" + _COMMON
_ESCALATIONS = (
    "SELECT x.*, c.service, r.occurred_at AS resolved_at, r.resolution FROM read.escalations x"
    " JOIN read.cases c ON c.case_id = x.case_id"
    " LEFT JOIN read.escalation_resolutions r ON r.escalation_id = x.entry_id" + _COMMON
)


async def setbacks_page(
    conn: Reader, where: LearningFilter, *, after: Cursor | None, limit: int
) -> LearningPage:
    """A page of setbacks: contributing factors, risk management, learning and adaptation."""
    only = "($9::text IS NULL OR $9 = ANY(x.contributing_factors))"
    rows = await _fetch(conn, _SETBACKS.format(only=only), where, after=after, limit=limit, only=where.factor)
    return await _page(conn, rows, limit, "setback", _setback)


async def escalations_page(
    conn: Reader, where: LearningFilter, *, after: Cursor | None, limit: int
) -> LearningPage:
    """A page of escalations: severity, trigger, response, whether the plan was used early, resolution."""
    only = "($9::smallint IS NULL OR x.severity >= $9)"
    rows = await _fetch(
        conn, _ESCALATIONS.format(only=only), where, after=after, limit=limit, only=where.least_severity
    )
    return await _page(conn, rows, limit, "escalation", _escalation)


async def _fetch(
    conn: Reader, sql: str, where: LearningFilter, *, after: Cursor | None, limit: int, only: object
) -> list[asyncpg.Record]:
    return await conn.fetch(
        sql,
        where.start,
        where.end,
        where.service,
        where.care_team_member,
        where.named_by_change,
        None if after is None else after.occurred_at,
        None if after is None else after.entry_id,
        limit + 1,
        only,
    )


def _setback(row: asyncpg.Record) -> dict[str, object]:
    details: dict[str, object] = {
        name: row[name] for name in ("what_happened", "risk_management", "learning", "adaptation")
    }
    details["contributing_factors"] = list(row["contributing_factors"])
    details["domains"] = list(row["domains"])
    return details


def _escalation(row: asyncpg.Record) -> dict[str, object]:
    resolved = row["resolved_at"]
    return {
        "severity": row["severity"],
        "trigger": row["trigger"],
        "response": row["response"],
        "escalation_plan_used_early": row["plan_used_early"],
        "domains": list(row["domains"]),
        "resolved_at": resolved,
        "resolution": row["resolution"],
        "days_to_resolution": None if resolved is None else days(resolved - row["occurred_at"]),
    }


async def _page(
    conn: Reader,
    rows: list[asyncpg.Record],
    limit: int,
    kind: str,
    details: Callable[[asyncpg.Record], dict[str, object]],
) -> LearningPage:
    more, rows = len(rows) > limit, rows[:limit]
    decisions = await decisions_naming(conn, [(r["entry_id"], r["occurred_at"]) for r in rows])
    firsts = {key: named[0].occurred_at for key, named in decisions.items() if named}
    moved = await domain_movements(
        conn, [(r["entry_id"], r["case_id"], firsts[r["entry_id"]]) for r in rows if r["entry_id"] in firsts]
    )
    items = []
    for r in rows:
        first = firsts.get(r["entry_id"])
        items.append(
            LearningFollowUp(
                entry_id=r["entry_id"],
                kind=kind,
                case_id=r["case_id"],
                service=r["service"],
                occurred_at=r["occurred_at"],
                corrected=r["corrected"],
                days_to_first_decision=None if first is None else days(first - r["occurred_at"]),
                decisions=decisions.get(r["entry_id"], []),
                domains=moved.get(r["entry_id"], []),
                setback=details(r) if kind == "setback" else None,
                escalation=details(r) if kind == "escalation" else None,
            )
        )
    last = rows[-1] if more else None
    cursor = None if last is None else Cursor(last["occurred_at"], last["entry_id"]).encode()
    return LearningPage(items, cursor)
