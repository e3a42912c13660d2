"""Exports of the reporting views for a period, streamed: CSV straight from PostgreSQL's COPY, Parquet in
row groups built from a cursor. Only the ``reporting`` views are exported: pseudonymised, no free text.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from projections.queries import Reader

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

_ARROW_TYPES: Mapping[str, pa.DataType] = {
    "text": pa.string(),
    "text[]": pa.list_(pa.string()),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "float8": pa.float64(),
    "int2": pa.int16(),
    "int4": pa.int32(),
    "int8": pa.int64(),
    "timestamptz": pa.timestamp("us", tz="UTC"),
}


async def csv_chunks(conn: Reader, export: Export, start: datetime, end: datetime) -> AsyncIterator[bytes]:
    """The view's rows in the period as CSV with a header line, in the chunks COPY sends them."""
    chunks: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=16)

    async def copy() -> None:
        try:
            sql, put = export.sql(), _put(chunks)
            await conn.copy_from_query(sql, start, end, output=put, format="csv", header=True)
        finally:
            await chunks.put(None)

    copying = asyncio.create_task(copy())
    try:
        while (chunk := await chunks.get()) is not None:
            yield chunk
        await copying  # a failure part-way ends the stream short, never as a complete-looking file
    finally:
        copying.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await copying


def _put(chunks: asyncio.Queue[bytes | None]) -> Callable[[bytes], Coroutine[Any, Any, None]]:
    # COPY hands over a buffer it may reuse: each chunk is copied before it is queued.
    async def put(data: bytes) -> None:
        await chunks.put(bytes(data))

    return put


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
    """The view's rows in the period as one Parquet file, sent a row group at a time."""
    statement = await conn.prepare(export.sql())
    schema = pa.schema([(a.name, _ARROW_TYPES[a.type.name]) for a in statement.get_attributes()])
    sink = _Sink()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")
    async with conn.transaction(readonly=True):
        cursor = await statement.cursor(start, end)
        while rows := await cursor.fetch(ROWS_PER_GROUP):
            writer.write_table(_table(rows, schema))
            yield sink.take()
    writer.close()
    yield sink.take()


def _table(rows: list[Any], schema: pa.Schema) -> pa.Table:
    """A row group built column by column (a dict per row cost twice the time)."""
    columns = list(zip(*rows, strict=True))  # never empty: a cursor's empty fetch ends the loop
    return pa.Table.from_arrays(
        [pa.array(column, type=field.type) for column, field in zip(columns, schema, strict=True)],
        schema=schema,
    )
