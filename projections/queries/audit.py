"""Audit trail queries: who recorded or corrected what, in what role, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from events.values import Actor
from projections.queries import Reader

__all__ = ["AuditEntry", "AuditFilter", "AuditPage", "audit_entries"]


class AuditEntry(msgspec.Struct, frozen=True):
    """One entry in the global log, with its corrections (the original row stays)."""

    position: int
    entry_id: UUID
    case_id: UUID
    version: int
    type: str
    actor: Actor
    recorded_at: datetime
    occurred_at: datetime
    late: bool
    corrected: bool
    corrects: UUID | None
    corrections: list[UUID]


class AuditPage(msgspec.Struct, frozen=True):
    """A page of the audit trail in log order; pass ``next_after`` as ``after`` for the next page."""

    items: list[AuditEntry]
    next_after: int | None


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to list; times filter on when an entry was recorded."""

    case_id: UUID | None = None
    actor: str | None = None
    type: str | None = None
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None


async def audit_entries(conn: Reader, where: AuditFilter, *, after: int, limit: int) -> AuditPage:
    """Entries matching the filter, after a log position, in log order."""
    clauses, args = ["a.position > $1"], list[object]([after])
    for column, op, value in (
        ("case_id", "=", where.case_id),
        ("actor_id", "=", where.actor),
        ("type", "=", where.type),
        ("recorded_at", ">=", where.recorded_from),
        ("recorded_at", "<", where.recorded_to),
    ):
        if value is not None:
            args.append(value)
            clauses.append(f"a.{column} {op} ${len(args)}")
    args.append(limit + 1)
    rows = await conn.fetch(
        "SELECT a.*, array(SELECT c.entry_id FROM read.audit_entries c WHERE c.corrects = a.entry_id"
        " ORDER BY c.position) AS corrections"
        f" FROM read.audit_entries a WHERE {' AND '.join(clauses)} ORDER BY a.position LIMIT ${len(args)}",
        *args,
    )
    items = [_entry(row) for row in rows[:limit]]
    return AuditPage(items, items[-1].position if len(rows) > limit else None)


def _entry(row: asyncpg.Record) -> AuditEntry:
    return AuditEntry(
        position=row["position"],
        entry_id=row["entry_id"],
        case_id=row["case_id"],
        version=row["version"],
        type=row["type"],
        actor=msgspec.convert({"id": row["actor_id"], "role": row["role"]}, Actor),
        recorded_at=row["recorded_at"],
        occurred_at=row["occurred_at"],
        late=row["late"],
        corrected=row["corrected"],
        corrects=row["corrects"],
        corrections=list(row["corrections"]),
    )
