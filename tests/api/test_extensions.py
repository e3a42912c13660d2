"""The seam pages, reports and feeds use: ``create_app`` applies each extension (an ``on_app_init``
hook from the composition root) after the API's own set-up, so an extension's routes are served
beside the API, may opt out of the bearer check, and stay out of the API's OpenAPI document."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import get
from litestar.config.app import AppConfig
from litestar.testing import AsyncTestClient

from service.bootstrap import Runtime
from service.http.app import create_app
from tests.api.helpers import Client


@get("/extension/greeting", include_in_schema=False, opt={"exclude_from_auth": True})
async def greeting() -> str:
    """A page-like route that signs its users in by other means than a bearer token."""
    return "hello"


def add_greeting(app_config: AppConfig) -> AppConfig:
    app_config.route_handlers.append(greeting)
    return app_config


@pytest.fixture
async def extended(runtime: Runtime) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(runtime, run_projector=False, extensions=[add_greeting])) as c:
        yield c


@pytest.mark.slow  # an app of its own and two OpenAPI documents: about 0.9 s
async def test_an_extension_s_routes_are_served_beside_the_api(extended: Client, client: Client) -> None:
    assert (await extended.get("/extension/greeting")).text == "hello"
    assert (await extended.get("/cases/00000000-0000-0000-0000-000000000000")).status_code == 401
    assert (await client.get("/extension/greeting")).status_code == 404, "only the app given it serves it"
    ours = (await extended.get("/schema/openapi.json")).json()["paths"]
    assert ours.keys() == (await client.get("/schema/openapi.json")).json()["paths"].keys()
