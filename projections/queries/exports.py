"""Exports of the reporting views for a period, streamed: CSV straight from PostgreSQL's COPY, Parquet in
row groups parsed from the same COPY's CSV by pyarrow. Only the ``reporting`` views are exported:
pseudonymised, no free text.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from projections.queries import Reader
from projections.queries.arrow_csv import CsvBatches, arrow_schema, csv_table

__all__ = ["EXPORTS", "Export", "ExportView", "csv_chunks", "parquet_chunks"]

ROWS_PER_GROUP = 50_000
"""Rows per Parquet row group: one group is built in memory at a time."""


class ExportView(StrEnum):
    """The reporting views that can be exported."""

    PEOPLE = "people"
    CASE_STATUS = "case_status"
    REVIEWS = "reviews"
    PLAN_DECISIONS = "plan_decisions"
    DECISION_CAUSES = "decision_causes"
    SETBACKS = "setbacks"
    ESCALATIONS = "escalations"
    RATINGS = "ratings"
    OUTCOME_MEASURES = "outcome_measures"


@dataclass(frozen=True)
class Export:
    """One reporting view and how a period selects its rows."""

    view: str
    period: str
    """A condition on the view's rows with $1 (start, inclusive) and $2 (end, exclusive)."""

    def sql(self) -> str:
        # Both names are fixed (EXPORTS below); only the period's ends are parameters.
        return f"SELECT * FROM reporting.{self.view} WHERE {self.period}"


_WHEN = "occurred_at >= $1 AND occurred_at < $2"
_PERIODS = {
    ExportView.PEOPLE: "opened_on < $2::timestamptz::date AND opened_on >= $1::timestamptz::date",
    # By the decision's own time, which each cause row carries: matching pseudonyms against the
    # decisions of the period made the planner compare every pair (minutes at 1M events).
    ExportView.DECISION_CAUSES: "decided_at >= $1 AND decided_at < $2",
}
EXPORTS: Mapping[ExportView, Export] = {
    view: Export(view.value, _PERIODS.get(view, _WHEN)) for view in ExportView
}
"""Every exportable view; people by the date their case opened, decision causes by their decision's time."""


async def csv_chunks(conn: Reader, export: Export, start: datetime, end: datetime) -> AsyncIterator[bytes]:
    """The view's rows in the period as CSV with a header line, in the chunks COPY sends them."""
    async with contextlib.aclosing(_copied(conn, export, start, end, cutter=_Chunks(), queued=16)) as chunks:
        async for chunk in chunks:
            yield chunk


class _Chunks:
    """COPY's chunks as they come."""

    def feed(self, data: bytes) -> list[bytes]:
        return [data]

    def end(self) -> list[bytes]:
        return []


class _Cutter(Protocol):
    def feed(self, data: bytes) -> list[bytes]: ...
    def end(self) -> list[bytes]: ...


async def _copied(
    conn: Reader, export: Export, start: datetime, end: datetime, *, cutter: _Cutter, queued: int
) -> AsyncGenerator[bytes, None]:
    """COPY's CSV (with a header line) as ``cutter`` cuts it, at most ``queued`` pieces ahead."""
    pieces: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=queued)

    async def output(data: bytes) -> None:
        # COPY hands over a buffer it may reuse: each chunk is copied before it is kept.
        for piece in cutter.feed(bytes(data)):
            await pieces.put(piece)

    async def copy() -> None:
        try:
            await conn.copy_from_query(export.sql(), start, end, output=output, format="csv", header=True)
            for piece in cutter.end():
                await pieces.put(piece)
        finally:
            await pieces.put(None)

    copying = asyncio.create_task(copy())
    try:
        while (piece := await pieces.get()) is not None:
            yield piece
        await copying  # a failure part-way ends the stream short, never as a complete-looking file
    finally:
        copying.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await copying


class _Sink:
    """A file for ParquetWriter that hands over what was written so far."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        taken, self.parts = b"".join(self.parts), []
        return taken


async def parquet_chunks(
    conn: Reader, export: Export, start: datetime, end: datetime
) -> AsyncIterator[bytes]:
    """The view's rows in the period as one Parquet file, sent a row group at a time: COPY's CSV parsed
    by pyarrow in blocks of about ``ROWS_PER_GROUP`` rows, off the event loop while COPY goes on."""
    statement = await conn.prepare(export.sql())
    schema = arrow_schema((a.name, a.type.name) for a in statement.get_attributes())
    sink = _Sink()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")
    async with _read_only(conn):
        blocks = _copied(conn, export, start, end, cutter=CsvBatches(ROWS_PER_GROUP), queued=1)
        async with contextlib.aclosing(blocks):
            header = True
            async for block in blocks:
                await asyncio.to_thread(_write, writer, block, schema, header)
                header = False
                if written := sink.take():  # a block of the header alone writes nothing
                    yield written
    writer.close()
    yield sink.take()


@contextlib.asynccontextmanager
async def _read_only(conn: Reader) -> AsyncIterator[None]:
    """A read-only transaction in which COPY writes the text ``csv_table`` reads. A failure part-way
    is raised as itself: the COPY cut off with it leaves the connection unable even to roll back."""
    transaction = conn.transaction(readonly=True)
    await transaction.start()
    try:
        await conn.execute(_TEXT_FORMAT)
        yield
    except BaseException:
        with contextlib.suppress(Exception):  # the pool closes a connection left in that state
            await transaction.rollback()
        raise
    await transaction.commit()


_TEXT_FORMAT = (
    "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, MDY'; SET LOCAL extra_float_digits = 1"
)
"""The text COPY writes that ``csv_table`` reads: UTC timestamps, ISO dates, floats that round-trip."""


def _write(writer: pq.ParquetWriter, block: bytes, schema: pa.Schema, header: bool) -> None:
    table = csv_table(block, schema, header=header)
    if table.num_rows:
        writer.write_table(table)
    # Hand the block's memory back now: the allocator otherwise keeps it, about 30 MB of peak RSS.
    del table
    pa.default_memory_pool().release_unused()
