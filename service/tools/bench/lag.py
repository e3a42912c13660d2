"""Lag from append to queryable at a steady write rate, beside a raw tailing reader's lag.

Writes are acknowledged appends (the real write path); "queryable" is the moment every projection
has committed that position. The baseline is a bare asyncpg reader woken by the same NOTIFY that
only selects the new rows: the floor for any tailing projector.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg

from projections.models import MODELS
from projections.projector import Projector
from projections.schema import EVENTS_CHANNEL, EVENTS_TABLE, POSITIONS_CHANNEL
from service.tools.bench.commands import open_cases, review
from service.write.application import CaseRecords

__all__ = ["Advances", "LagRun", "measure_lag", "raw_tailing", "write_steadily"]


@dataclass
class LagRun:
    """Per acknowledged write, how long until it was queryable (ms), and the raw reader's figure."""

    lags_ms: list[float] = field(default_factory=list)
    raw_lags_ms: list[float] = field(default_factory=list)


@dataclass
class Advances:
    """When a reader had first seen each position: (position, time) in time order."""

    positions: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    def add(self, position: int) -> None:
        if not self.positions or position > self.positions[-1]:
            self.positions.append(position)
            self.times.append(time.perf_counter())

    def lag_ms(self, position: int, acked: float) -> float | None:
        index = bisect.bisect_left(self.positions, position)
        return None if index == len(self.positions) else max(0.0, self.times[index] - acked) * 1000


async def measure_lag(records: CaseRecords, dsn: str, *, seconds: float, rate: float) -> LagRun:
    """Write ``rate`` reviews per second for ``seconds`` with the projector live; return the lags."""
    stop = asyncio.Event()
    projector = Projector(dsn, [model() for model in MODELS.values()])
    task = asyncio.create_task(projector.run(stop))
    projected, raw = Advances(), Advances()
    try:
        async with _following_projections(dsn, projected), raw_tailing(dsn, raw):
            cases = await asyncio.to_thread(open_cases, records, 50)
            await asyncio.sleep(1.0)
            acks = await write_steadily(records, cases, seconds=seconds, rate=rate)
            await asyncio.sleep(1.0)
    finally:
        stop.set()
        await task
    run = LagRun()
    for position, acked in acks:
        if (lag := projected.lag_ms(position, acked)) is not None:
            run.lags_ms.append(lag)
        if (lag := raw.lag_ms(position, acked)) is not None:
            run.raw_lags_ms.append(lag)
    return run


@contextlib.asynccontextmanager
async def _following_projections(dsn: str, advances: Advances) -> AsyncIterator[None]:
    """Note when every projection has committed a position (from the projectors' NOTIFY)."""
    conn = await asyncpg.connect(dsn)
    positions = dict.fromkeys(MODELS, 0)

    def on_notify(_c: object, _p: int, _ch: str, payload: object) -> None:
        name, _, position = str(payload).rpartition(":")
        if name in positions:
            positions[name] = max(positions[name], int(position))
            advances.add(min(positions.values()))

    await conn.add_listener(POSITIONS_CHANNEL, on_notify)
    try:
        yield
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def raw_tailing(dsn: str, advances: Advances) -> AsyncIterator[None]:
    """The baseline reader: woken by the append's NOTIFY, it selects the new positions and nothing else."""
    listen, reader = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    woken = asyncio.Event()
    await listen.add_listener(EVENTS_CHANNEL, lambda *_: woken.set())
    last = await reader.fetchval(f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}")
    select = f"SELECT notification_id FROM {EVENTS_TABLE} WHERE notification_id > $1 ORDER BY 1"

    async def tail(last: int) -> None:
        while True:
            await woken.wait()
            woken.clear()
            if rows := await reader.fetch(select, last):
                last = rows[-1]["notification_id"]
                advances.add(last)

    tailing = asyncio.create_task(tail(last))
    try:
        yield
    finally:
        tailing.cancel()
        await listen.close()
        await reader.close()


async def write_steadily(
    records: CaseRecords, cases: list[uuid.UUID], *, seconds: float, rate: float
) -> list[tuple[int, float]]:
    """Append at a steady rate (each write in a thread, so a slow one never delays the schedule)."""
    acks: list[tuple[int, float]] = []

    async def one(case_id: uuid.UUID) -> None:
        receipt = await asyncio.to_thread(records.record, case_id, review(case_id))
        acks.append((receipt.position or 0, time.perf_counter()))

    started, writes = time.perf_counter(), int(seconds * rate)
    async with asyncio.TaskGroup() as tasks:
        for i in range(writes):
            await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
            tasks.create_task(one(cases[i % len(cases)]))
    return acks
