"""The reporting outlets measured: a year of every reporting view exported over HTTP (CSV, Parquet)
beside PostgreSQL's own ``COPY ... TO STDOUT`` of the same tables, and the live feed's latency from
an acknowledged write to a subscriber receiving its change, beside a raw NOTIFY-woken reader."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from events.values import Role
from projections.queries.exports import EXPORTS, ExportView
from service.tools.bench.commands import open_cases
from service.tools.bench.lag import Advances, LagRun, raw_tailing, write_steadily
from service.tools.bench.rebuild import project_all
from service.tools.bench.report import Figure
from service.tools.bench.serving import projector
from service.tools.bench.suites import Bench, p
from service.tools.feed_client import events
from service.write.application import CaseRecords

__all__ = [
    "ExportRun",
    "export_period",
    "measure_exports",
    "measure_feed",
    "run_exports",
    "run_feed",
]

_RAW_TABLES = {
    ExportView.PEOPLE: "cases",
    ExportView.PLAN_DECISIONS: "decisions",
    ExportView.OUTCOME_MEASURES: "measures",
}
"""The ``read`` table behind each reporting view, where its name differs."""


@dataclass
class ExportRun:
    """Seconds to export every reporting view for the period, per format, and the raw COPY's."""

    seconds: dict[str, float]
    rows: int
    megabytes: dict[str, float]


def export_period() -> tuple[datetime, datetime]:
    """The year exported: the 366 days up to tomorrow."""
    end = datetime.now(UTC) + timedelta(days=1)
    return end - timedelta(days=366), end


async def measure_exports(port: int, token: str, dsn: str) -> ExportRun:
    """Every view over HTTP as CSV, then as Parquet, then the raw COPY of the read tables."""
    start, end = export_period()
    params = {"from": start.isoformat(), "to": end.isoformat()}
    seconds, sizes = {}, {}
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}, timeout=600
    ) as client:
        for format_ in ("csv", "parquet"):
            started, size = time.perf_counter(), 0
            for view in ExportView:
                async with client.stream(
                    "GET", f"/exports/{view.value}", params={**params, "format": format_}
                ) as r:
                    r.raise_for_status()
                    async for chunk in r.aiter_raw():
                        size += len(chunk)
            seconds[format_], sizes[format_] = time.perf_counter() - started, size / 1e6
    started = time.perf_counter()
    rows, size = await _raw_copy(dsn, start, end)
    seconds["raw"], sizes["raw"] = time.perf_counter() - started, size / 1e6
    return ExportRun(seconds, rows, sizes)


async def _raw_copy(dsn: str, start: datetime, end: datetime) -> tuple[int, int]:
    """The read tables behind the views for the same period, straight out of COPY as CSV: no
    pseudonyms, no joins, nothing between PostgreSQL and the bytes."""
    conn, size = await asyncpg.connect(dsn), 0

    async def sink(data: bytes) -> None:
        nonlocal size
        size += len(data)

    rows = 0
    try:
        for view, export in EXPORTS.items():
            table = _RAW_TABLES.get(view, view.value)
            status = await conn.copy_from_query(
                f"SELECT * FROM read.{table} WHERE {export.period}",  # the same columns in read
                start,
                end,
                output=sink,
                format="csv",
                header=True,
            )
            rows += int(status.split()[-1])
    finally:
        await conn.close()
    return rows, size


async def measure_feed(
    records: CaseRecords, port: int, token: str, dsn: str, *, seconds: float, rate: float
) -> LagRun:
    """Write reviews at a steady rate while one subscriber follows the feed from the head; per write,
    the time from its acknowledgement to the first event at or past its position."""
    received, raw = Advances(), Advances()
    cases = await asyncio.to_thread(open_cases, records, 50)
    head = records.recorder.max_notification_id() or 0
    async with (
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=httpx.Timeout(10, read=None)
        ) as client,
        _subscribed(client, token, head, received),
        raw_tailing(dsn, raw),
    ):
        await asyncio.sleep(1.0)
        acks = await write_steadily(records, cases, seconds=seconds, rate=rate)
        await asyncio.sleep(2.0)
    run = LagRun()
    for position, acked in acks:
        if (lag := received.lag_ms(position, acked)) is not None:
            run.lags_ms.append(lag)
        if (lag := raw.lag_ms(position, acked)) is not None:
            run.raw_lags_ms.append(lag)
    return run


@contextlib.asynccontextmanager
async def _subscribed(
    client: httpx.AsyncClient, token: str, after: int, advances: Advances
) -> AsyncIterator[None]:
    async def follow() -> None:
        async for event in events(client, token, str(after)):
            advances.add(int(event.id))

    task = asyncio.create_task(follow())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def run_exports(runner: Bench, kind: str) -> None:
    """Every reporting view for a year, over HTTP as CSV and as Parquet, beside the raw COPY."""
    dsn = runner.runtime.address.url
    asyncio.run(project_all(dsn))
    process = runner.serve(kind)
    try:
        token, port = runner.token(Role.REPORTING, "bench-reporting"), process.port or 0
        runs = runner.repeat(
            f"exports over HTTP ({kind})", lambda: asyncio.run(measure_exports(port, token, dsn))
        )
        runner.note_peak("service", process)
    finally:
        process.stop()
    raw = [r.seconds["raw"] for r in runs]
    for format_, label in (("csv", "CSV"), ("parquet", "Parquet (zstd)")):
        runner.report.add(
            Figure(
                f"export of a year, all 9 reporting views, {label} ({kind})",
                "s",
                [r.seconds[format_] for r in runs],
                raw,
                "raw COPY (SELECT * FROM read.<table>) TO STDOUT, CSV",
                target="seconds",
                higher_is_better=False,
            )
        )
    last = runs[-1]
    sizes = ", ".join(f"{name} {mb:,.0f} MB" for name, mb in last.megabytes.items())
    runner.report.notes.append(f"exports: {last.rows:,} rows in the year's views; {sizes}")


def run_feed(runner: Bench, kind: str, *, rate: float) -> None:
    """A subscriber on the live feed while reviews are written at ``rate`` a second."""
    dsn = runner.runtime.address.url
    asyncio.run(project_all(dsn))
    watcher = projector(runner.env)
    process = runner.serve(kind)
    try:
        token, port = runner.token(Role.REPORTING, "bench-reporting"), process.port or 0
        runs = runner.repeat(
            f"feed at {rate:.0f} writes/s ({kind})",
            lambda: asyncio.run(
                measure_feed(runner.runtime.records, port, token, dsn, seconds=runner.seconds, rate=rate)
            ),
        )
        runner.note_peak("service", process)
    finally:
        process.stop()
        watcher.stop()
    add = runner.report.add
    add(
        Figure(
            f"feed latency p50, write to subscriber ({kind})",
            "ms",
            [p(r.lags_ms, 50) for r in runs],
            higher_is_better=False,
        )
    )
    add(
        Figure(
            f"feed latency p99, write to subscriber ({kind})",
            "ms",
            [p(r.lags_ms, 99) for r in runs],
            [p(r.raw_lags_ms, 99) for r in runs],
            "raw NOTIFY-woken reader of the log p99",
            target="<= 500 ms",
            higher_is_better=False,
        )
    )
    missed = sum(1 for r in runs for _ in range(len(r.raw_lags_ms) - len(r.lags_ms)))
    runner.report.notes.append(f"feed ({kind}): {missed} acknowledged writes never reached the subscriber")
