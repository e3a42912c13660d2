"""How far behind each projection is (position, lag in events and in seconds), and how many events
it has parked because it could not apply them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import msgspec

from projections.batch import head_position
from projections.schema import EVENTS_TABLE

__all__ = ["ProjectionStatus", "projection_status"]


class _Recorded(msgspec.Struct):
    recorded_at: datetime


@dataclass(frozen=True)
class ProjectionStatus:
    """One generation of a projection and how far it has got."""

    name: str
    generation: int
    state: str
    position: int
    head: int
    lag_events: int
    lag_seconds: float
    updated_at: datetime
    stalled: str | None
    parked: int


async def projection_status(conn: asyncpg.Connection) -> list[ProjectionStatus]:
    """Every live or building generation, with its lag behind the head of the log."""
    head = await head_position(conn)
    rows = await conn.fetch(
        "SELECT name, generation, status, position, updated_at, stalled,"
        " (SELECT count(*) FROM read_meta.parked_events p"
        "  WHERE p.name = g.name AND p.generation = g.generation) AS parked"
        " FROM read_meta.generations g WHERE status <> 'retired' ORDER BY name, generation"
    )
    return [
        ProjectionStatus(
            name=row["name"],
            generation=row["generation"],
            state=row["status"],
            position=row["position"],
            head=int(head),
            lag_events=await _lag_events(conn, row["position"]),
            lag_seconds=await _lag_seconds(conn, row["position"]),
            updated_at=row["updated_at"],
            stalled=row["stalled"],
            parked=row["parked"],
        )
        for row in rows
    ]


async def _lag_events(conn: asyncpg.Connection, position: int) -> int:
    count = await conn.fetchval(
        f"SELECT count(*) FROM {EVENTS_TABLE} WHERE notification_id > $1",
        position,
    )
    return int(count)


async def _lag_seconds(conn: asyncpg.Connection, position: int) -> float:
    """How long the oldest event not yet applied has been waiting."""
    state = await conn.fetchval(
        f"SELECT state FROM {EVENTS_TABLE} WHERE notification_id > $1 ORDER BY notification_id LIMIT 1",
        position,
    )
    if state is None:
        return 0.0
    recorded = msgspec.json.decode(state, type=_Recorded).recorded_at
    return max(0.0, (datetime.now(UTC) - recorded).total_seconds())
