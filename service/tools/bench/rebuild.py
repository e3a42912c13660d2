"""Rebuild rate of each projection over the whole log, beside a raw asyncpg baseline that reads the
same events and writes rows equivalent to the audit trail's (one per event, same columns and indexes)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from projections.batch import read_events
from projections.generations import live_generation, prepare_read_side, step
from projections.models import MODELS, AuditTrail
from projections.rebuild import rebuild

__all__ = ["project_all", "raw_audit_rebuild", "rebuild_rate"]

_LATE = timedelta(hours=24)


async def rebuild_rate(dsn: str, name: str, batch_size: int) -> float:
    """Rebuild one projection from scratch; events per second (including building its indexes)."""
    conn = await asyncpg.connect(dsn)
    try:
        await prepare_read_side(conn, [m() for m in MODELS.values()])
    finally:
        await conn.close()
    return (await rebuild(dsn, MODELS[name](), batch_size=batch_size)).rate


async def raw_audit_rebuild(dsn: str, batch_size: int) -> float:
    """The baseline: plain asyncpg, untyped JSON decoding, one COPY per batch into an unindexed
    table, position in the same transaction, then the audit trail's indexes. Events per second."""
    conn = await asyncpg.connect(dsn)
    schema = "bench_raw"
    table = AuditTrail.tables[0]
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
        await conn.execute(table.create(schema))
        await conn.execute(f"CREATE TABLE {schema}.position (position bigint NOT NULL)")
        await conn.execute(f"INSERT INTO {schema}.position VALUES (0)")
        started, position, events = time.perf_counter(), 0, 0
        while True:
            async with conn.transaction():
                records = await read_events(conn, position, batch_size)
                if not records:
                    break
                rows = [_raw_row(record) for record in records]
                await conn.copy_records_to_table(
                    table.name, records=rows, columns=table.column_names, schema_name=schema
                )
                position = records[-1]["notification_id"]
                await conn.execute(f"UPDATE {schema}.position SET position = $1", position)
                events += len(records)
        for statement in table.create_indexes(schema):
            await conn.execute(statement)
        return events / (time.perf_counter() - started)
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


def _raw_row(record: asyncpg.Record) -> tuple[Any, ...]:
    data: dict[str, Any] = msgspec.json.decode(record["state"])
    recorded = datetime.fromisoformat(data["recorded_at"])
    occurred = datetime.fromisoformat(data["occurred_at"])
    corrects = data.get("corrects")
    corrected = data.get("corrected") or {}
    names_cause = (
        bool(data.get("because_of"))
        if record["topic"] == "plan_changed"
        else bool(corrected.get("because_of"))
        if corrected.get("type") == "plan_changed"
        else None
    )
    return (
        UUID(data["entry_id"]),
        False,
        record["notification_id"],
        record["originator_id"],
        record["originator_version"],
        record["topic"],
        data["actor"]["id"],
        data["actor"]["role"],
        recorded,
        occurred,
        recorded - occurred > _LATE,
        UUID(corrects) if corrects else None,
        names_cause,
    )


async def project_all(dsn: str) -> None:
    """Bring every projection to the head of the log: a rebuild for one far behind (the benchmark
    data is written in bulk), batches for the rest."""
    conn = await asyncpg.connect(dsn)
    try:
        models = [model() for model in MODELS.values()]
        await prepare_read_side(conn, models)
        head = await conn.fetchval("SELECT coalesce(max(notification_id), 0) FROM case_records_events")
        for model in models:
            live = await live_generation(conn, model)
            if live is None or live["position"] < head - 5_000:
                await rebuild(dsn, model)
            while await step(conn, model, "live", 2_000) > 0:
                pass
    finally:
        await conn.close()
