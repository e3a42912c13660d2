"""Projection reads from a streaming replica (``READ_DATABASE_URL``): writes, the access log and the
projector stay on the primary, reads are served by the replica, and ``min_position`` waits until the
replica has replayed that far. The replica is a real one, streaming from a primary the test starts."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import psycopg
import pytest
from litestar.testing import AsyncTestClient

from events.values import Role
from service.bootstrap import Runtime
from service.http.app import create_app
from service.http.auth import issue_token
from service.settings import Settings
from service.tools.replica import Replicated, replicated_postgres
from tests.api.helpers import Client, open_case, post
from tests.support.polling import eventually

pytestmark = pytest.mark.slow


class Reading(NamedTuple):
    """The app reading from the replica, and a clinician's and a reporting user's headers."""

    http: Client
    clinician: dict[str, str]
    reporting: dict[str, str]


@pytest.fixture(scope="module")
def replicated() -> Iterator[Replicated]:
    with replicated_postgres() as pair:
        yield pair


@pytest.fixture
async def client(replicated: Replicated, tmp_path: Path) -> AsyncIterator[Reading]:
    settings = Settings(
        database_url=replicated.primary.url,
        read_database_url=replicated.replica.url,
        jwt_secret=secrets.token_urlsafe(32),
        data_dir=tmp_path,
    )
    runtime = Runtime.start(settings)
    try:
        async with AsyncTestClient(app=create_app(runtime)) as test_client:
            token = issue_token(settings, sub="replica-clinician", role=Role.CLINICIAN, ttl_seconds=600)
            reporting = issue_token(settings, sub="replica-bi", role=Role.REPORTING, ttl_seconds=600)
            yield Reading(
                test_client, {"Authorization": f"Bearer {token}"}, {"Authorization": f"Bearer {reporting}"}
            )
    finally:
        runtime.close()


def setback(what: str) -> dict[str, Any]:
    return {
        "domains": ["stability_self_management"],
        "what_happened": what,
        "contributing_factors": ["housing"],
        "risk_management": "daily calls",
        "learning": "early signs",
        "adaptation": "calls moved earlier",
        "occurred_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
    }


def primary_position(replicated: Replicated) -> int:
    """How far the primary's projections have got (the projector runs there)."""
    with psycopg.connect(**replicated.primary.connect_kwargs()) as conn:
        row = conn.execute("SELECT min(position) FROM read_meta.generations WHERE status = 'live'").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


async def learning_log(client: Client, headers: dict[str, str], case_id: str, query: str = "") -> list[str]:
    response = await client.get(f"/cases/{case_id}/learning-log{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [item["setback"]["what_happened"] for item in response.json()["items"] if item.get("setback")]


async def test_reads_come_from_the_replica_and_min_position_waits_for_its_replay(
    replicated: Replicated, client: Reading
) -> None:
    http, headers, _ = client
    case_id = await open_case(http, headers, care_team=["replica-clinician"])
    first = await post(http, headers, f"/cases/{case_id}/setbacks", setback("first"))
    assert await learning_log(http, headers, case_id, f"?min_position={first['position']}") == ["first"]

    replicated.pause_replay()
    try:
        second = await post(
            http, headers, f"/cases/{case_id}/setbacks", setback("second")
        )  # the primary takes it

        async def primary_has_it() -> bool:
            return await asyncio.to_thread(primary_position, replicated) >= int(second["position"])

        await eventually(primary_has_it, seconds=10, failure="the primary never projected the setback")
        # The primary's projection holds the second setback; the replica, paused, does not: reads are
        # served by the replica, and a read asking for the position is refused rather than served stale.
        assert await learning_log(http, headers, case_id) == ["first"]
        behind = await http.get(
            f"/cases/{case_id}/learning-log?min_position={second['position']}", headers=headers
        )
        assert behind.status_code == 503, behind.text
        assert behind.headers.get("retry-after")
        # The test client serves each request to its end before this coroutine goes on, so the replay
        # resumes from another thread while the read waits.
        resume = threading.Timer(0.3, replicated.resume_replay)
        resume.start()
        waited = await learning_log(http, headers, case_id, f"?min_position={second['position']}")
        resume.join()
    finally:
        replicated.resume_replay()
    assert sorted(waited) == ["first", "second"]  # the wait ended as the replica replayed it


async def feed_horizon(reading: Reading) -> int:
    """How far the feed says the reporting views have got, as the server reading them sees it."""
    answer = await reading.http.get("/feed", params={"after": 0, "limit": 1}, headers=reading.reporting)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["horizon"])


async def test_the_feed_is_read_from_the_replica(replicated: Replicated, client: Reading) -> None:
    http, headers, _ = client
    case_id = await open_case(http, headers, care_team=["replica-clinician"])
    first = await post(http, headers, f"/cases/{case_id}/setbacks", setback("first"))

    async def feed_has(position: int) -> bool:
        return await feed_horizon(client) >= position

    await eventually(lambda: feed_has(first["position"]), seconds=10, failure="the feed never reached it")
    replicated.pause_replay()
    try:
        second = await post(http, headers, f"/cases/{case_id}/setbacks", setback("second"))

        async def primary_has_it() -> bool:
            return await asyncio.to_thread(primary_position, replicated) >= int(second["position"])

        await eventually(primary_has_it, seconds=10, failure="the primary never projected the setback")
        assert await feed_horizon(client) < second["position"]  # the replica has not replayed it
    finally:
        replicated.resume_replay()
    await eventually(lambda: feed_has(second["position"]), seconds=10, failure="the replica never caught up")
