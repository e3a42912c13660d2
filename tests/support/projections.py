"""Read-side helpers: bring projections up to date (or keep them so, with a projector running beside the
app), fingerprint their tables, and write entries through the write side with the metadata every
entry carries."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TypedDict

import asyncpg
import psycopg

from events.entries import CaseOpened
from events.values import Actor, OutcomeDomain, Role
from projections.generations import prepare_read_side, step
from projections.models import MODELS, ReadModel
from service.bootstrap import projector
from service.database import DatabaseAddress
from service.write.application import CaseRecords
from tests.support.polling import wait_until

CLINICIAN = Actor(id="clin-p", role=Role.CLINICIAN)


def models() -> list[ReadModel]:
    """One instance of every read model."""
    return [model() for model in MODELS.values()]


async def catch_up(dsn: str) -> None:
    """Bring every projection's live generation up to the head of the log, batch by batch."""
    conn = await asyncpg.connect(dsn)
    try:
        await prepare_read_side(conn, models())
        for model in models():
            while await step(conn, model, "live", 500) > 0:
                pass
    finally:
        await conn.close()


async def fingerprints(dsn: str) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent hash of every read table and summary, as served through
    ``read``."""
    conn = await asyncpg.connect(dsn)
    try:
        result = {}
        for model in models():
            for name in model.served():  # the tables and the summaries kept beside them
                row = await conn.fetchrow(
                    f"SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"  # noqa: S608
                    f" AS digest FROM read.{name} t"
                )
                assert row is not None  # an aggregate always answers one row
                result[name] = (row["n"], row["digest"])
        return result
    finally:
        await conn.close()


class EntryMeta(TypedDict):
    """The fields every entry carries."""

    entry_id: uuid.UUID
    case_id: uuid.UUID
    actor: Actor
    recorded_at: datetime
    occurred_at: datetime


def meta(case_id: uuid.UUID, *, days_ago: float = 0.0, actor: Actor = CLINICIAN) -> EntryMeta:
    """The fields every entry carries, for an entry that happened ``days_ago``."""
    now = datetime.now(UTC)
    return {
        "entry_id": uuid.uuid4(),
        "case_id": case_id,
        "actor": actor,
        "recorded_at": now,
        "occurred_at": now - timedelta(days=days_ago),
    }


def open_case(
    records: CaseRecords,
    *,
    days_ago: int = 400,
    service: str = "north",
    domains: tuple[OutcomeDomain, ...] = (OutcomeDomain.STABILITY_SELF_MANAGEMENT,),
) -> uuid.UUID:
    """Open a case that started ``days_ago`` days ago."""
    case_id = uuid.uuid4()
    records.open_case(
        CaseOpened(
            **meta(case_id, days_ago=days_ago),
            person_ref=f"P-{case_id.hex[:6]}",
            service=service,
            opened_on=date.today() - timedelta(days=days_ago),
            care_team=(CLINICIAN.id,),
            domains=domains,
        )
    )
    return case_id


@contextlib.contextmanager
def projector_beside(records: CaseRecords, address: DatabaseAddress) -> Iterator[None]:
    """The projector running in a thread of its own beside an app that serves without one, as
    ``waymark project`` runs beside API replicas, once it has caught up with the log as it stood (as a
    projector kept running would have). Its own thread and event loop: the test client blocks the
    test's loop while a request runs, and a request waiting for a position needs the projector to move
    meanwhile."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    failures: list[BaseException] = []
    running = projector(address)
    try:  # its read side set up (views replaced) before any test reads, as an app's lifespan does
        loop.run_until_complete(running.setup())
    except BaseException:
        loop.close()
        raise

    def run() -> None:
        try:
            loop.run_until_complete(running.run(stop))
        except BaseException as failure:  # re-raised in the test's thread below
            failures.append(failure)

    thread = threading.Thread(target=run, name="projector")
    thread.start()
    try:
        head = records.recorder.max_notification_id() or 0
        with psycopg.connect(**address.connect_kwargs(), autocommit=True) as conn:  # one for every poll
            wait_until(
                lambda: failures or _every_projection_at(conn, head),
                seconds=60,
                failure=f"the projections never reached {head}",
            )
        if not failures:
            yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join()
        loop.close()
    if failures:
        raise failures[0]


def _every_projection_at(conn: psycopg.Connection, head: int) -> bool:
    rows = conn.execute("SELECT position FROM read_meta.generations WHERE status = 'live'").fetchall()
    return len(rows) == len(MODELS) and all(position >= head for (position,) in rows)
