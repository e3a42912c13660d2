"""The live feed under load: 50 subscribers to a served Waymark while reviews are written at 100 a
second, each dropping its connection at random moments and resuming with ``Last-Event-ID``. Every
subscriber ends with every change exactly once, in log order; the subscribers gauge counts them."""

from __future__ import annotations

import asyncio
import json
import random
import re

import asyncpg
import httpx
import pytest

from service.database import DatabaseAddress
from service.tools.bench.commands import open_cases
from service.tools.bench.lag import write_steadily
from service.tools.feed_client import events
from tests.support.databases import case_records
from tests.support.polling import eventually
from tests.support.processes import OwnServer

pytestmark = pytest.mark.slow

SUBSCRIBERS = 50
Received = list[tuple[int, str, str]]


class Subscriber:
    """One reporting tool: what it received, and how often its connection was dropped."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.received: Received = []
        self.last: str | None = None
        self.drops = 0

    def done(self, target: asyncio.Future[int]) -> bool:
        return target.done() and self.last is not None and int(self.last) >= target.result()

    async def run(self, client: httpx.AsyncClient, token: str, target: asyncio.Future[int]) -> None:
        """Read until the target position, dropping the connection at random moments."""
        while not self.done(target):
            try:
                async with asyncio.timeout(self.rng.uniform(0.2, 3.0)):  # dropped mid-stream
                    async for event in events(client, token, self.last):
                        changes = json.loads(event.data)["changes"]
                        self.received += [(int(event.id), c["view"], c["entry_key"]) for c in changes]
                        self.last = event.id
                        if self.done(target) or self.rng.random() < 0.05:  # dropped after an event
                            break
            except TimeoutError:
                pass
            self.drops += 1


async def _subscribers_gauge(client: httpx.AsyncClient) -> float:
    text = (await client.get("/metrics")).text
    found = re.search(r"^waymark_feed_subscribers (\S+)$", text, re.MULTILINE)
    assert found is not None, "the gauge is exposed"
    return float(found.group(1))


async def _everything(dsn: str) -> Received:
    """Every change once both projections have applied the whole log, in the feed's order."""
    conn = await asyncpg.connect(dsn)
    try:

        async def caught_up() -> bool:
            head = await conn.fetchval("SELECT coalesce(max(notification_id), 0) FROM case_records_events")
            return bool(await conn.fetchval("SELECT position FROM reporting.horizon") >= head)

        await eventually(caught_up, seconds=60)
        rows = await conn.fetch("SELECT position, view, entry_key FROM reporting.changes ORDER BY 1, 2, 3")
    finally:
        await conn.close()
    return [(row["position"], row["view"], row["entry_key"]) for row in rows]


async def test_every_subscriber_receives_every_change_once_in_order(fresh_database: DatabaseAddress) -> None:
    server = OwnServer(fresh_database)
    await asyncio.to_thread(server.start)
    records = case_records(fresh_database, overflow=8)
    token = server.token("bi-stream", "reporting")["Authorization"].removeprefix("Bearer ")
    target: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    subscribers = [Subscriber(seed) for seed in range(SUBSCRIBERS)]
    try:
        cases = await asyncio.to_thread(open_cases, records, 20)
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            tasks = [asyncio.create_task(s.run(client, token, target)) for s in subscribers]
            await write_steadily(records, cases, seconds=6, rate=100)
            connected = await _subscribers_gauge(client)
            expected = await _everything(fresh_database.url)
            target.set_result(expected[-1][0])
            async with asyncio.timeout(120):
                await asyncio.gather(*tasks)
            await eventually(lambda: _no_subscribers(client), seconds=10)
    finally:
        records.close()
        server.kill()
    assert 0 < connected <= SUBSCRIBERS
    assert len(expected) > 1200  # 600 reviews and their ratings, with the 20 openings
    assert sum(s.drops for s in subscribers) > 2 * SUBSCRIBERS
    for subscriber in subscribers:
        assert subscriber.received == expected


async def _no_subscribers(client: httpx.AsyncClient) -> bool:
    return await _subscribers_gauge(client) == 0
