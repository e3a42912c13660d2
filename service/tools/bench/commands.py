"""One-event commands three ways: over HTTP to a real server, in process through the Application,
and as a raw psycopg insert taking the same table lock: the limit of the machine."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import msgspec
import psycopg

from events.codec import encode_entry
from events.entries import CaseOpened, ReviewRecorded
from events.values import Actor, OutcomeDomain, ReviewKind, Role
from service.database import DatabaseAddress
from service.tools.bench.client import HttpConnection, Timed
from service.write.application import CaseRecords

__all__ = [
    "BENCH_CLINICIAN",
    "http_closed_loop",
    "http_open_loop",
    "in_process",
    "open_cases",
    "raw_insert",
    "review",
]

BENCH_CLINICIAN = Actor(id="bench-clinician", role=Role.CLINICIAN)
DOMAIN = OutcomeDomain.STABILITY_SELF_MANAGEMENT
REVIEW_BODY = msgspec.json.encode(
    {"kind": "routine", "ratings": {DOMAIN.value: 6}, "confidence": 5, "autonomy": 5}
)


def review(case_id: uuid.UUID) -> ReviewRecorded:
    """A routine review by the benchmark clinician, happening now."""
    now = datetime.now(UTC)
    return ReviewRecorded(
        entry_id=uuid.uuid4(),
        case_id=case_id,
        actor=BENCH_CLINICIAN,
        recorded_at=now,
        occurred_at=now,
        kind=ReviewKind.ROUTINE,
        ratings={DOMAIN: 6},
        confidence=5,
        autonomy=5,
    )


def open_cases(records: CaseRecords, count: int) -> list[uuid.UUID]:
    """Cases on the benchmark clinician's care team, one per concurrent writer or more."""
    cases = []
    for _ in range(count):
        now, case_id = datetime.now(UTC), uuid.uuid4()
        records.open_case(
            CaseOpened(
                entry_id=uuid.uuid4(),
                case_id=case_id,
                actor=BENCH_CLINICIAN,
                recorded_at=now,
                occurred_at=now,
                person_ref="BENCH",
                service="bench",
                opened_on=date.today() - timedelta(days=1),
                care_team=(BENCH_CLINICIAN.id,),
                domains=(DOMAIN,),
            )
        )
        cases.append(case_id)
    return cases


async def http_closed_loop(
    port: int, token: str, cases: list[uuid.UUID], *, clients: int, seconds: float
) -> tuple[float, Timed]:
    """``clients`` connections posting reviews back to back; commands per second and latencies."""
    timed = Timed()
    deadline = time.perf_counter() + seconds

    async def client(mine: list[uuid.UUID]) -> None:
        async with HttpConnection("127.0.0.1", port, f"Bearer {token}") as http:
            i = 0
            while time.perf_counter() < deadline:
                await http.request("POST", f"/cases/{mine[i % len(mine)]}/reviews", REVIEW_BODY, timed)
                i += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(cases[i::clients]) for i in range(clients)))
    return len(timed.latencies_ms) / (time.perf_counter() - started), timed


async def http_open_loop(
    port: int, token: str, cases: list[uuid.UUID], *, rate: float, seconds: float
) -> Timed:
    """Reviews sent at a steady rate (on a pool of connections), whatever the latency: the p99 a user sees."""
    timed, pool = Timed(), asyncio.Queue[HttpConnection]()
    connections = [HttpConnection("127.0.0.1", port, f"Bearer {token}") for _ in range(16)]
    for connection in connections:
        await pool.put(await connection.__aenter__())

    async def one(case_id: uuid.UUID) -> None:
        http = await pool.get()
        try:
            await http.request("POST", f"/cases/{case_id}/reviews", REVIEW_BODY, timed)
        finally:
            pool.put_nowait(http)

    started = time.perf_counter()
    async with asyncio.TaskGroup() as tasks:
        for i in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
            tasks.create_task(one(cases[i % len(cases)]))
    for connection in connections:
        await connection.__aexit__()
    return timed


def in_process(records: CaseRecords, cases: list[uuid.UUID], *, threads: int, seconds: float) -> float:
    """The same command through the Application in ``threads`` threads; commands per second."""
    deadline, done, lock = time.perf_counter() + seconds, [0], threading.Lock()

    def work(mine: list[uuid.UUID]) -> None:
        i = 0
        while time.perf_counter() < deadline:
            records.record(mine[i % len(mine)], review(mine[i % len(mine)]))
            i += 1
        with lock:
            done[0] += i

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, [cases[i::threads] for i in range(threads)]))
    return done[0] / (time.perf_counter() - started)


def raw_insert(address: DatabaseAddress, *, threads: int, seconds: float) -> float:
    """Hand-written appends of the same stored entry, each in a transaction that takes the library's
    EXCLUSIVE table lock and sends NOTIFY; inserts per second. The ceiling for any write path."""
    table = "bench_raw_events"
    with psycopg.connect(**address.connect_kwargs(), autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute(
            f"CREATE TABLE {table} (originator_id uuid NOT NULL, originator_version bigint NOT NULL,"
            " topic text, state bytea, notification_id bigserial,"
            " PRIMARY KEY (originator_id, originator_version))"
        )
        conn.execute(f"CREATE UNIQUE INDEX ON {table} (notification_id)")
    deadline, done, lock = time.perf_counter() + seconds, [0], threading.Lock()
    state = encode_entry(review(uuid.uuid4()))

    def work(_: int) -> None:
        case_id, version = uuid.uuid4(), 0
        with psycopg.connect(**address.connect_kwargs()) as conn:
            while time.perf_counter() < deadline:
                version += 1
                with conn.transaction():
                    conn.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
                    conn.execute(
                        f"INSERT INTO {table} (originator_id, originator_version, topic, state)"
                        " VALUES (%s, %s, %s, %s) RETURNING notification_id",
                        (case_id, version, "review_recorded", state),
                    )
                    conn.execute(f"NOTIFY {table}")
        with lock:
            done[0] += version

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))
    rate = done[0] / (time.perf_counter() - started)
    with psycopg.connect(**address.connect_kwargs(), autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    return rate
