"""Every route answers every method it is asked with without a 500: OPTIONS without a token (which
the authentication middleware lets through, as CORS preflight needs) lists the allowed methods, and a
method a route does not serve is a 405 problem."""

from __future__ import annotations

import re
import uuid

import pytest
from litestar import Litestar, get
from litestar.exceptions import ImproperlyConfiguredException
from litestar.testing import AsyncTestClient

from service.http.problems import exception_handlers
from tests.api.helpers import Client, assert_problem

_PARAM = re.compile(r"\{(\w+):?(\w*)\}")


def concrete(path: str) -> str:
    """A route path with its parameters filled in: ids for uuids, a metric name for the rest."""
    return _PARAM.sub(
        lambda m: str(uuid.uuid4()) if m.group(2) == "uuid" else "reviews-leading-to-change", path
    )


def api_paths(app: Litestar) -> list[str]:
    """Every route path of the app but the OpenAPI documents."""
    return sorted({concrete(route.path) for route in app.routes if not route.path.startswith("/schema")})


async def test_options_without_a_token_lists_the_methods_on_every_route(client: Client) -> None:
    paths = api_paths(client.app)
    assert len(paths) > 20
    for path in paths:
        response = await client.options(path)
        assert response.status_code == 204, (path, response.text)
        assert response.headers["allow"], path


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
async def test_a_method_a_route_does_not_serve_is_405(client: Client, method: str) -> None:
    for path in api_paths(client.app):
        response = await client.request(method, path)
        assert response.status_code in (401, 405), (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_server_error_the_framework_raises_is_a_problem_without_its_message() -> None:
    """Litestar's own 5xx exceptions carry messages about its insides: they are answered like any
    unexpected error."""

    @get("/broken")
    async def broken() -> None:
        raise ImproperlyConfiguredException("'user' is not defined in scope, install an AuthMiddleware")

    app = Litestar([broken], exception_handlers=exception_handlers())
    async with AsyncTestClient(app) as test_client:
        problem = assert_problem(await test_client.get("/broken"), 500, "/problems/internal-error")
    assert "install" not in problem["detail"]
