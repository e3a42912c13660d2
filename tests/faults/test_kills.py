"""Projectors killed with SIGKILL: during catch-up (again and again), and the leader with a standby
waiting. The service killed under write load is tests/integration/test_restart.py."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time

import asyncpg
import pytest

from projections.models import MODELS
from projections.rebuild import rebuild
from service.tools.demo import DemoPlan, write_demo
from tests.support.databases import case_records
from tests.support.polling import eventually
from tests.support.processes import WAYMARK, OwnPostgres
from tests.support.projections import fingerprints

pytestmark = pytest.mark.slow  # twenty kills and a take-over: about 40 s


def _project(database_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.Popen(
        [WAYMARK, "project", "--batch-size", "100"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _positions(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        return await _live_positions(conn)
    finally:
        await conn.close()


async def _live_positions(conn: asyncpg.Connection) -> dict[str, int]:
    if not await conn.fetchval("SELECT to_regclass('read_meta.generations') IS NOT NULL"):
        return {}
    rows = await conn.fetch("SELECT name, position FROM read_meta.generations WHERE status = 'live'")
    return {row["name"]: row["position"] for row in rows}


async def _kill_after_next_batch(dsn: str, applied: int) -> int:
    """Start a projector, SIGKILL it as soon as it has committed more than ``applied`` events in all
    (summed over the projections), and return what it had committed by then.

    Waiting for progress rather than for a time keeps every kill inside catch-up on a fast machine
    and still lets each run commit at least one batch on a slow one."""
    process = _project(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if sum((await _live_positions(conn)).values()) > applied:
                break
            await asyncio.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait()
        return sum((await _live_positions(conn)).values())
    finally:
        await conn.close()


async def _wait_for(dsn: str, head: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        positions = await _positions(dsn)
        if len(positions) == len(MODELS) and min(positions.values()) >= head:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_a_projector_killed_twenty_times_during_catch_up_ends_equal_to_a_clean_rebuild(
    own_postgres: OwnPostgres,
) -> None:
    dsn = own_postgres.address.url
    records = case_records(own_postgres.address)
    try:
        write_demo(records, DemoPlan(people=300, months=24, seed=3))
        head = records.recorder.max_notification_id() or 0
    finally:
        records.close()
    progress = [0]
    for _ in range(20):
        progress.append(await _kill_after_next_batch(dsn, progress[-1]))
    assert progress[-1] < head * len(MODELS), "the kills all landed during catch-up"
    assert progress == sorted(set(progress)), "each run committed a batch before it was killed"
    finisher = _project(dsn)
    try:
        assert await _wait_for(dsn, head, 120)
    finally:
        finisher.send_signal(signal.SIGTERM)
        finisher.wait(timeout=30)
    after_kills = await fingerprints(dsn)
    for model in MODELS.values():
        await rebuild(dsn, model())
    assert await fingerprints(dsn) == after_kills


async def _leaders(dsn: str) -> dict[int, int]:
    """How many projection leaderships each projector process (by pid) holds right now."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT a.application_name, count(*) AS held"
            " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'waymark-projector:%'"
            " GROUP BY 1"
        )
    finally:
        await conn.close()
    return {int(row["application_name"].split(":")[1]): row["held"] for row in rows}


async def _connections(dsn: str, pid: int) -> int:
    """How many connections a projector process (by pid) has open."""
    conn = await asyncpg.connect(dsn)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                f"waymark-projector:{pid}",
            )
        )
    finally:
        await conn.close()


async def test_the_standby_projector_takes_over_within_five_seconds_and_skips_nothing(
    own_postgres: OwnPostgres,
) -> None:
    dsn = own_postgres.address.url
    records = case_records(own_postgres.address)
    active, standby = _project(dsn), None
    try:
        write_demo(records, DemoPlan(people=20, months=6, seed=8))
        assert await _wait_for(dsn, records.recorder.max_notification_id() or 0, 60)
        standby = _project(dsn)
        waiting = standby.pid

        async def standing_by() -> bool:  # connected for every model, so trying every model's lock
            return await _connections(dsn, waiting) == len(MODELS)

        await eventually(standing_by, seconds=30, failure="the standby never connected for every projection")
        assert (await _leaders(dsn)).get(active.pid) == len(MODELS), (
            "the first projector leads every projection"
        )
        assert standby.pid not in await _leaders(dsn)
        active.send_signal(signal.SIGKILL)
        active.wait()
        killed = time.monotonic()
        while (await _leaders(dsn)).get(standby.pid) != len(MODELS):
            assert time.monotonic() - killed < 5, "the standby took over within 5 s"
            await asyncio.sleep(0.05)
        write_demo(records, DemoPlan(people=10, months=6, seed=9))
        head = records.recorder.max_notification_id() or 0
        assert await _wait_for(dsn, head, 30)
    finally:
        records.close()
        for process in (active, standby):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
    conn = await asyncpg.connect(dsn)
    try:
        audited = await conn.fetch("SELECT position FROM read.audit_entries ORDER BY 1")
        events = await conn.fetch("SELECT notification_id FROM case_records_events ORDER BY 1")
    finally:
        await conn.close()
    assert [r["position"] for r in audited] == [r["notification_id"] for r in events]
