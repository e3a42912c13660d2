"""Limits that keep one request from holding the read side: a bounded period for monthly series, and
a statement timeout on every projection query."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.bootstrap import Runtime
from service.http.app import create_app
from service.settings import Settings
from tests.support.tokens import TokenFactory

Client = AsyncTestClient[Litestar]
SERIES = ["/service/learning", "/service/spc/reviews-leading-to-change", "/governance/review-impact"]


@pytest.mark.parametrize("path", SERIES)
@pytest.mark.parametrize(
    ("period", "says"),
    [
        (("1990-01-01T00:00:00Z", "2026-01-01T00:00:00Z"), "longer than 3660 days"),
        (("2026-05-01T00:00:00Z", "2026-05-01T00:00:00Z"), "later than `from`"),
        (("2026-05-01T00:00:00Z", "2025-05-01T00:00:00Z"), "later than `from`"),
    ],
)
async def test_a_period_too_long_or_backwards_is_422_naming_to(
    client: Client, auth: TokenFactory, path: str, period: tuple[str, str], says: str
) -> None:
    params = {"from": period[0], "to": period[1]}
    response = await client.get(path, params=params, headers=auth("governance", "g-lim"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    [error] = response.json()["errors"]
    assert error["field"] == "to"
    assert says in error["message"]


async def test_ten_years_is_answered(client: Client, auth: TokenFactory) -> None:
    params = {"from": "2016-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
    response = await client.get("/service/learning", params=params, headers=auth("governance", "g-lim"))
    assert response.status_code == 200, response.text


@pytest.fixture
async def impatient(settings: Settings, runtime: Runtime) -> AsyncIterator[Client]:
    """The app with a read time limit no query can meet (the write side is shared)."""
    limited = Runtime(replace(settings, read_timeout_ms=1), runtime.address, runtime.records)
    async with AsyncTestClient(app=create_app(limited, run_projector=False)) as test_client:
        yield test_client


async def test_a_query_over_the_read_time_limit_is_503_and_the_next_one_is_served(
    impatient: Client, client: Client, auth: TokenFactory
) -> None:
    params = {"from": "2016-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
    headers = auth("governance", "g-lim")
    slow = await impatient.get("/service/learning", params=params, headers=headers)
    assert slow.status_code == 503, slow.text
    assert slow.json()["type"] == "/problems/query-too-long"
    assert "retry-after" in slow.headers
    assert (await client.get("/service/learning", params=params, headers=headers)).status_code == 200
