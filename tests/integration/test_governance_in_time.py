"""The governance page reads each of its parts within the read limits on its own: a part that takes
too long or too much temporary space (time to action for every service at a large provider, at 10M
events) says so and names what to narrow, and the page still answers with the rest, never a
whole-page 503 (or, for the space, a 500)."""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pytest

from events.values import Actor, Role
from service.bootstrap import Runtime, app_extensions
from service.http.app import create_app
from service.settings import Settings
from service.tools.bench.pages import session_cookie

pytestmark = pytest.mark.slow  # a Waymark of its own: about 1 s

LEAD = Actor(id="g-in-time", role=Role.GOVERNANCE)


@contextlib.asynccontextmanager
async def impatient_pages(
    settings: Settings, runtime: Runtime
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The real app with pages, whose read limit has passed before any read can answer, served in
    this task (a fixture's teardown runs in another, which the app's lifespan refuses)."""
    secret = secrets.token_urlsafe(32)
    impatient = dataclasses.replace(settings, read_timeout_ms=0, session_secret=secret)
    app = create_app(
        Runtime(impatient, runtime.address, runtime.records),
        extensions=app_extensions(impatient),
        run_projector=False,
    )
    transport = httpx.ASGITransport(app=cast(Any, app))
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://waymark") as http:
        yield http, session_cookie(secret, LEAD)


async def test_each_part_that_takes_too_long_says_so_and_the_page_still_shows(
    settings: Settings, runtime: Runtime
) -> None:
    async with impatient_pages(settings, runtime) as (http, cookie):
        await _says_what_took_too_long(http, cookie)


async def _says_what_took_too_long(http: httpx.AsyncClient, cookie: str) -> None:
    response = await http.get("/app/governance", headers={"Cookie": cookie})
    assert response.status_code == 200, response.text
    page = response.text
    assert "<h1>Governance</h1>" in page
    assert page.count("That took too long") == 3
    for part in ("the reviews and what they led to", "what needs action", "the time from flag to action"):
        assert f"Working out {part} for every service over this period needed more than a read" in page
    assert "may take (0 seconds, or its share of temporary space)" in page
    assert "Choose one service, or a shorter period." in page
    one = await http.get("/app/governance", params={"service": "north"}, headers={"Cookie": cookie})
    assert one.status_code == 200
    assert "for this service over this period" in one.text
    assert "Choose a shorter period." in one.text
