"""PostgreSQL stopped for five seconds in the middle of a write load, then started again."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx
import pytest

from tests.api.helpers import REVIEW, opening
from tests.support.processes import OwnPostgres, OwnServer

pytestmark = pytest.mark.slow  # thirteen seconds of write load around a five-second outage


@dataclass(frozen=True)
class Attempt:
    """One write: when it started and ended (monotonic seconds), and what came back."""

    started: float
    ended: float
    status: int
    entry_id: str | None
    retry_after: str | None
    content_type: str


async def write_steadily(
    client: httpx.AsyncClient, case_id: str, headers: dict[str, str], until: float
) -> list[Attempt]:
    """POST reviews back to back until ``until``; a transport error means the server is gone."""
    attempts = []
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            response = await client.post(f"/cases/{case_id}/reviews", json=REVIEW, headers=headers)
        except httpx.TransportError:
            await asyncio.sleep(0.05)
            continue
        entry_id = response.json().get("entry_id") if response.status_code == 201 else None
        attempts.append(
            Attempt(
                started,
                time.monotonic(),
                response.status_code,
                entry_id,
                response.headers.get("retry-after"),
                response.headers.get("content-type", ""),
            )
        )
        await asyncio.sleep(0.01)
    return attempts


async def open_cases(client: httpx.AsyncClient, headers: dict[str, str], count: int) -> list[str]:
    cases = []
    for _ in range(count):
        response = await client.post("/cases", json=opening(), headers=headers)
        assert response.status_code == 201, response.text
        cases.append(response.json()["case_id"])
    return cases


async def recorded_entries(
    client: httpx.AsyncClient, headers: dict[str, str], case_ids: list[str]
) -> list[str]:
    entries = []
    for case_id in case_ids:
        after: int | None = 0
        while after is not None:  # every page: a long load can pass one page's 500 entries
            response = await client.get(f"/cases/{case_id}/history?after={after}&limit=500", headers=headers)
            assert response.status_code == 200
            page = response.json()
            entries += [item["entry_id"] for item in page["items"]]
            after = page["next_after"]
    return entries


async def test_an_outage_answers_503_quickly_and_loses_nothing_acknowledged(
    own_postgres: OwnPostgres, serve: list[OwnServer]
) -> None:
    server = OwnServer(own_postgres.address)
    serve.append(server)
    server.start()
    headers = server.token("fault-writer")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        cases = await open_cases(client, headers, 8)
        began = time.monotonic()
        load = [asyncio.create_task(write_steadily(client, c, headers, began + 13)) for c in cases]
        # The timings are the scenario, not waits for a condition: three seconds of load, then an
        # outage held for five while the writers keep writing.
        await asyncio.sleep(3)
        await asyncio.to_thread(own_postgres.stop)
        down = time.monotonic()
        await asyncio.sleep(5)
        await asyncio.to_thread(own_postgres.start)
        up = time.monotonic()
        attempts = [a for result in await asyncio.gather(*load) for a in result]
        recorded = await recorded_entries(client, headers, cases)
    assert {a.status for a in attempts} <= {201, 503}, "only acknowledgements and 503s, never a 500"
    during = [a for a in attempts if a.started > down + 0.5 and a.ended < up]
    assert during, "writes were attempted while PostgreSQL was down"
    assert all(a.status == 503 for a in during)
    assert all(a.retry_after and a.content_type.startswith("application/problem+json") for a in during)
    assert max(a.ended - a.started for a in during) < 2.0, "no write hung while PostgreSQL was down"
    assert any(a.status == 201 for a in attempts if a.started > up + 1), "recovered without a restart"
    acknowledged = [a.entry_id for a in attempts if a.status == 201]
    assert len(acknowledged) > 50
    assert set(acknowledged) <= set(recorded)
    assert len(recorded) == len(set(recorded)), "nothing recorded twice"
