"""Events a read model cannot apply (dead letters) are parked, so one event never holds a projection up.

An event is parked for one model when its own data is at fault: it does not decode, or it holds a
value the model's tables cannot store (a year-1 time that overflows in UTC, a number out of a
column's range, a broken constraint). Its position, case, entry id and the error's class are noted,
never the error's text (it may quote clinical text), in the same transaction as the batch's other
rows and the model's new position, so every other event still applies exactly once. Later events of
the same case apply as usual (a correction of a parked entry shows the corrected entry); the case's
answers say they are incomplete until ``waymark projections retry`` applies it (``projections.retry``).

Errors that are not the event's (PostgreSQL unreachable, a table missing, a lock timeout) park
nothing: the whole batch rolls back and is tried again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg
import msgspec

from projections.queries import Reader

__all__ = [
    "Apply",
    "Parked",
    "ParkedSummary",
    "apply_or_park",
    "entry_id_of",
    "is_event_fault",
    "park",
    "parked_summary",
]

log = logging.getLogger("waymark.projector")

Apply = Callable[[Sequence[asyncpg.Record]], Awaitable[None]]
"""Applies stored events, in log order, to a model's tables (inside the caller's transaction)."""

_EVENT_FAULTS = frozenset({"22", "23"})
"""SQLSTATE classes caused by the values written: data exception, integrity constraint violation."""

_NOT_THE_EVENT = (OSError, TimeoutError, MemoryError, asyncpg.InternalClientError)


class _EntryId(msgspec.Struct):
    entry_id: UUID | None = None


_ENTRY_ID = msgspec.json.Decoder(_EntryId)


def entry_id_of(record: asyncpg.Record) -> UUID | None:
    """The entry id a stored event carries, if it can be read at all."""
    try:
        return _ENTRY_ID.decode(record["state"]).entry_id
    except msgspec.MsgspecError:
        return None


@dataclass(frozen=True)
class Parked:
    """An event a model could not apply: its position, case and entry, and the error's class."""

    position: int
    case_id: UUID
    entry_id: UUID | None
    error: str

    @classmethod
    def of(cls, record: asyncpg.Record, error: Exception) -> Parked:
        """The note for a stored event that failed with ``error`` (its class only, never its text)."""
        return cls(
            record["notification_id"], record["originator_id"], entry_id_of(record), type(error).__name__
        )


def is_event_fault(error: Exception) -> bool:
    """Whether the event's own data made applying it fail (park it), rather than the database or the
    read side itself (roll back and retry the batch)."""
    if isinstance(error, asyncpg.PostgresError):
        return (error.sqlstate or "")[:2] in _EVENT_FAULTS
    if isinstance(error, asyncpg.InterfaceError):
        return isinstance(error, ValueError)  # asyncpg's DataError: a value it cannot send
    return not isinstance(error, _NOT_THE_EVENT)


async def apply_or_park(
    conn: asyncpg.Connection,
    records: Sequence[asyncpg.Record],
    apply: Apply,
    note: Callable[[Parked], Awaitable[None]] | None = None,
) -> list[Parked]:
    """Apply events in a savepoint. If an event's data makes that fail, apply each half the same way
    (in log order), down to the single events that fail, and return those; other errors propagate.

    ``note`` is called with each event that fails alone before the events after it are applied:
    an erasure later in the batch reads the case's parked events to leave them out, as it would
    had the event been parked by an earlier batch."""
    if not records:
        return []
    try:
        async with conn.transaction():
            await apply(records)
    except Exception as error:
        if not is_event_fault(error):
            raise
        if len(records) == 1:
            parked = Parked.of(records[0], error)
            if note is not None:
                await note(parked)
            return [parked]
    else:
        return []
    half = len(records) // 2
    return [
        *await apply_or_park(conn, records[:half], apply, note),
        *await apply_or_park(conn, records[half:], apply, note),
    ]


async def park(conn: asyncpg.Connection, name: str, generation: int, parked: Sequence[Parked]) -> None:
    """Note events a generation could not apply, in the caller's transaction (again: the error is updated)."""
    if not parked:
        return
    await conn.executemany(
        "INSERT INTO read_meta.parked_events (name, generation, position, case_id, entry_id, error)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name, generation, position)"
        " DO UPDATE SET error = excluded.error, parked_at = now()",
        [(name, generation, p.position, p.case_id, p.entry_id, p.error) for p in parked],
    )
    for p in parked:
        log.error(
            "projection %s: parked the event at position %d (case %s): %s",
            name,
            p.position,
            p.case_id,
            p.error,
        )


@dataclass(frozen=True)
class ParkedSummary:
    """Events the live projections could not apply: how many per projection, and in how many cases."""

    events: dict[str, int]
    cases: int


async def parked_summary(conn: Reader) -> ParkedSummary:
    """How many events each live projection has parked, and how many cases they belong to."""
    rows = await conn.fetch("SELECT projection, count(*) FROM read.unprojected_entries GROUP BY projection")
    cases = await conn.fetchval("SELECT count(DISTINCT case_id) FROM read.unprojected_entries")
    return ParkedSummary({row["projection"]: row["count"] for row in rows}, int(cases))
