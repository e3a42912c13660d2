"""A token lives at most WAYMARK_JWT_MAX_LIFETIME_SECONDS (12 hours by default) from when it was
issued: a longer one, one without iat, or one issued in the future is a 401, however often it was
accepted by another app; and `waymark token` issues none the server would refuse."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from click.testing import CliRunner
from litestar.middleware import AuthenticationResult
from litestar.security.jwt import Token
from litestar.testing import AsyncTestClient

from service.bootstrap import Runtime
from service.cli import main
from service.http.app import create_app
from service.http.auth import VerifiedTokens
from service.settings import Settings
from tests.api.helpers import Client, assert_problem, open_case, user
from tests.support.tokens import TokenFactory

HOURS = 3600


def token(settings: Settings, *, lifetime: int | None, issued: int = 0, sub: str = "c-x") -> dict[str, str]:
    """A bearer header for a clinician token issued ``issued`` seconds from now, living ``lifetime``
    seconds (no iat claim when ``lifetime`` is None: then it expires in an hour)."""
    assert settings.jwt_secret
    now = int(time.time()) + issued
    claims: dict[str, Any] = {"sub": sub, "role": "clinician", "iss": settings.jwt_issuer}
    claims |= {"aud": settings.jwt_audience, "exp": now + (lifetime or HOURS)}
    if lifetime is not None:
        claims["iat"] = now
    return {"Authorization": "Bearer " + jwt.encode(claims, settings.jwt_secret, algorithm="HS256")}


async def read(client: Client, case_id: str, headers: dict[str, str]) -> int:
    return (await client.get(f"/cases/{case_id}", headers=headers)).status_code


@pytest.fixture
async def case_id(client: Client, auth: TokenFactory) -> str:
    return await open_case(client, auth("clinician", "c-x"))


@pytest.mark.parametrize(
    ("lifetime", "status"),
    [
        ((12 * HOURS, 0), 200),
        ((12 * HOURS - 60, -30), 200),
        ((12 * HOURS + 1, 0), 401),
        ((30 * 24 * HOURS, -10), 401),
        ((None, 0), 401),
        ((600, 3600), 401),
    ],
    ids=["12h", "under-12h", "a-second-over", "a-month", "no-iat", "issued-in-the-future"],
)
async def test_a_token_living_longer_than_the_maximum_is_refused(
    client: Client, settings: Settings, case_id: str, lifetime: tuple[int | None, int], status: int
) -> None:
    """``lifetime``: seconds from iat to exp, and when it was issued relative to now."""
    headers = token(settings, lifetime=lifetime[0], issued=lifetime[1])
    response = await client.get(f"/cases/{case_id}", headers=headers)
    assert response.status_code == status, response.text
    if status == 401:
        assert_problem(response, 401, "/problems/unauthenticated")


@pytest.fixture
async def lenient(settings: Settings, runtime: Runtime) -> AsyncIterator[Client]:
    """The app with tokens allowed to live two days."""
    longer = Runtime(replace(settings, jwt_max_lifetime_seconds=48 * HOURS), runtime.address, runtime.records)
    async with AsyncTestClient(app=create_app(longer, run_projector=False)) as test_client:
        yield test_client


async def test_the_maximum_is_a_setting_and_no_app_trusts_another_s_verdict(
    client: Client, lenient: Client, settings: Settings, case_id: str
) -> None:
    day = token(settings, lifetime=24 * HOURS)
    assert await read(lenient, case_id, day) == 200
    assert await read(client, case_id, day) == 401, "a token remembered as verified elsewhere is checked here"
    assert await read(lenient, case_id, day) == 200


@pytest.fixture
async def other_key(settings: Settings, runtime: Runtime) -> AsyncIterator[Client]:
    """An app in the same process that verifies tokens with another secret."""
    other = Runtime(replace(settings, jwt_secret=secrets.token_urlsafe(32)), runtime.address, runtime.records)
    async with AsyncTestClient(app=create_app(other, run_projector=False)) as test_client:
        yield test_client


async def test_a_token_verified_under_one_key_is_refused_under_another(
    client: Client, other_key: Client, settings: Settings, case_id: str
) -> None:
    headers = token(settings, lifetime=HOURS)
    assert await read(client, case_id, headers) == 200
    assert await read(other_key, case_id, headers) == 401, "a token remembered under another key is checked"
    assert await read(client, case_id, headers) == 200


def test_the_memory_of_verified_tokens_is_kept_per_key() -> None:
    verified = VerifiedTokens()
    now = datetime.now(UTC)
    result = AuthenticationResult(user=None, auth=Token(sub="c-x", exp=now + timedelta(hours=1), iat=now))
    verified.remember(b"key one", "a.token", result)
    assert verified.recall(b"key one", "a.token") is result
    assert verified.recall(b"key two", "a.token") is None


def test_settings_read_the_maximum_from_the_environment() -> None:
    env = {"WAYMARK_JWT_SECRET": "s", "WAYMARK_JWT_MAX_LIFETIME_SECONDS": "900"}
    assert Settings.from_env(env).jwt_max_lifetime_seconds == 900
    assert Settings.from_env({"WAYMARK_JWT_SECRET": "s"}).jwt_max_lifetime_seconds == 12 * HOURS


@pytest.mark.parametrize(
    ("maximum", "ttl", "issued"),
    [(None, 12 * HOURS, True), (None, 12 * HOURS + 1, False), ("600", 600, True), ("600", 601, False)],
)
def test_waymark_token_issues_only_tokens_the_server_accepts(
    tmp_path: Any, maximum: str | None, ttl: int, issued: bool
) -> None:
    env = {"WAYMARK_JWT_SECRET": "a-secret-for-this-test-only-0123456789", "DATABASE_URL": ""}
    if maximum:
        env["WAYMARK_JWT_MAX_LIFETIME_SECONDS"] = maximum
    args = ["token", "--sub", user(), "--role", "clinician", "--ttl", str(ttl), "--data-dir", str(tmp_path)]
    result = CliRunner().invoke(main, args, env=env)
    if issued:
        assert result.exit_code == 0, result.output
        claims = jwt.decode(result.output.strip(), options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == ttl
    else:
        assert result.exit_code != 0
        assert "--ttl" in result.output
        assert str(int(maximum or 12 * HOURS)) in result.output
