"""Break-glass accesses for governance to review: each grant (a ``break_glass_granted`` entry in the
log), open until governance closes it with an outcome.

The grants are read from the events table itself (a partial index keeps them to hand), never from
a projection: a rebuild must never lose an alert. The outcomes are kept in ``break_glass_reviews``,
one row per grant, written once."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from projections.queries import Reader
from projections.schema import EVENTS_TABLE
from projections.sealed import KEYS_TABLE, opened

__all__ = [
    "REVIEWS_TABLE",
    "AlreadyReviewed",
    "BreakGlassAccess",
    "BreakGlassPage",
    "GrantNotFound",
    "ReviewOutcome",
    "break_glass_accesses",
    "close_review",
]

REVIEWS_TABLE = "break_glass_reviews"


class ReviewOutcome(enum.StrEnum):
    """How governance judged a break-glass access."""

    APPROPRIATE = "appropriate"
    INAPPROPRIATE = "inappropriate"


class BreakGlassAccess(msgspec.Struct, frozen=True):
    """One break-glass access: who opened which record, why, until when, and (once reviewed) the
    outcome, what follows from it, who reviewed it and when."""

    position: int
    entry_id: UUID
    case_id: UUID
    clinician: str
    reason: str
    detail: str
    granted_at: datetime
    expires_at: datetime
    outcome: ReviewOutcome | None
    follow_up: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None


class BreakGlassPage(msgspec.Struct, frozen=True):
    """Accesses in the order granted; pass ``next_after`` as ``after`` for the next page."""

    items: list[BreakGlassAccess]
    next_after: int | None


class GrantNotFound(Exception):
    """No break-glass grant has this entry id."""


class AlreadyReviewed(Exception):
    """This break-glass access was already closed with an outcome."""


_GRANT = "convert_from(e.state, 'UTF8')::jsonb"
_SELECT = (
    f"SELECT e.notification_id AS position, ({_GRANT} ->> 'entry_id')::uuid AS entry_id,"
    f" e.originator_id AS case_id, {_GRANT} -> 'actor' ->> 'id' AS clinician,"
    f" {_GRANT} ->> 'reason' AS reason,"
    f" {_GRANT} ->> 'detail' AS detail, ({_GRANT} ->> 'recorded_at')::timestamptz AS granted_at,"
    f" ({_GRANT} ->> 'expires_at')::timestamptz AS expires_at,"
    " r.outcome, r.follow_up, r.reviewed_by, r.reviewed_at,"
    " e.state, e.originator_id, e.originator_version, k.master, k.wrapped,"
    " k.originator_id IS NOT NULL AS sealed"
    f" FROM {EVENTS_TABLE} e LEFT JOIN {REVIEWS_TABLE} r ON r.entry_id = ({_GRANT} ->> 'entry_id')::uuid"
    f" LEFT JOIN {KEYS_TABLE} k USING (originator_id, originator_version)"
    " WHERE e.topic = 'break_glass_granted'"
)
_STORED = frozenset({"state", "originator_id", "originator_version", "master", "wrapped", "sealed"})


class _Detail(msgspec.Struct):
    detail: str


def _access(row: asyncpg.Record) -> BreakGlassAccess:
    """An access from its row; a sealed grant's free text opened (or read as erased) first."""
    values = {name: value for name, value in row.items() if name not in _STORED}
    if row["sealed"]:
        (grant,) = opened([row])
        values["detail"] = msgspec.json.decode(grant["state"], type=_Detail).detail
    return msgspec.convert(values, BreakGlassAccess)


async def break_glass_accesses(conn: Reader, *, open_only: bool, after: int, limit: int) -> BreakGlassPage:
    """Accesses in the order granted, after a position; only those not yet reviewed if ``open_only``."""
    still_open = " AND r.entry_id IS NULL" if open_only else ""
    rows = await conn.fetch(
        f"{_SELECT}{still_open} AND e.notification_id > $1 ORDER BY e.notification_id LIMIT $2",
        after,
        limit + 1,
    )
    items = [_access(row) for row in rows[:limit]]
    return BreakGlassPage(items, items[-1].position if len(rows) > limit else None)


async def close_review(
    conn: Reader, entry_id: UUID, outcome: ReviewOutcome, follow_up: str | None, reviewer: str
) -> BreakGlassAccess:
    """Close one access with its outcome, once; GrantNotFound or AlreadyReviewed otherwise."""
    found = await conn.fetchrow(f"{_SELECT} AND {_GRANT} ->> 'entry_id' = $1", str(entry_id))
    if found is None:
        raise GrantNotFound
    inserted = await conn.fetchval(
        f"INSERT INTO {REVIEWS_TABLE} (entry_id, case_id, outcome, follow_up, reviewed_by)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (entry_id) DO NOTHING RETURNING reviewed_at",
        entry_id,
        found["case_id"],
        outcome.value,
        follow_up,
        reviewer,
    )
    if inserted is None:
        raise AlreadyReviewed
    reviewed = {"outcome": outcome, "follow_up": follow_up, "reviewed_by": reviewer, "reviewed_at": inserted}
    return msgspec.structs.replace(_access(found), **reviewed)
