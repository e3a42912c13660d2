"""The disclosure audit: who looked at a person's record, and what a user looked at (reads served
and reads refused), for governance and for a subject access request.

Read from the access log the write side keeps (``case_record_views``), in the order logged; a
person is found by their reference through the cases read model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import msgspec

from projections.queries import Reader

__all__ = ["CSV_COLUMNS", "Disclosure", "DisclosureFilter", "DisclosurePage", "disclosures"]


class Disclosure(msgspec.Struct, frozen=True):
    """One read of a person's record, or one refused, and its purpose of use."""

    view_id: int
    viewed_at: datetime
    actor_id: str
    role: str
    case_id: UUID
    view: str
    case_version: int | None
    outcome: str
    purpose: str | None
    """Why: direct_care (the care team), break_glass (a grant), or the purpose governance stated."""


CSV_COLUMNS = tuple(Disclosure.__struct_fields__)


class DisclosurePage(msgspec.Struct, frozen=True):
    """Reads in the order logged; pass ``next_after`` as ``after`` for the next page."""

    items: list[Disclosure]
    next_after: int | None


@dataclass(frozen=True)
class DisclosureFilter:
    """Whose record (a case, or every case of a person), whose reads, and when."""

    case_id: UUID | None = None
    person_ref: str | None = None
    actor: str | None = None
    viewed_from: datetime | None = None
    viewed_to: datetime | None = None


async def disclosures(conn: Reader, where: DisclosureFilter, *, after: int, limit: int) -> DisclosurePage:
    """Reads matching the filter, after a place in the log."""
    clauses, args = ["v.view_id > $1"], list[object]([after])
    for clause, value in (
        ("v.case_id = ${}", where.case_id),
        ("v.case_id IN (SELECT c.case_id FROM read.cases c WHERE c.person_ref = ${})", where.person_ref),
        ("v.actor_id = ${}", where.actor),
        ("v.viewed_at >= ${}", where.viewed_from),
        ("v.viewed_at < ${}", where.viewed_to),
    ):
        if value is not None:
            args.append(value)
            clauses.append(clause.format(len(args)))
    args.append(limit + 1)
    rows = await conn.fetch(
        f"SELECT {', '.join(CSV_COLUMNS)} FROM case_record_views v"
        f" WHERE {' AND '.join(clauses)} ORDER BY v.view_id LIMIT ${len(args)}",
        *args,
    )
    items = [Disclosure(**dict(row)) for row in rows[:limit]]
    return DisclosurePage(items, items[-1].view_id if len(rows) > limit else None)
