"""Who may do what: 401 for any token that is missing or not to be trusted (with WWW-Authenticate), 403
for the wrong role or no care-team relationship; nothing is written either way."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from service.settings import Settings
from tests.api.helpers import (
    ENTRY_ROUTES,
    GOAL,
    WRITE_ROUTES,
    Client,
    assert_problem,
    each_route,
    history,
    open_case,
    opening,
    prepare,
    user,
)
from tests.support.tokens import TokenFactory

Claims = dict[str, Any]


def claims(settings: Settings, **overrides: Any) -> Claims:
    now = int(time.time())
    base: Claims = {
        "sub": user(),
        "role": "clinician",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 600,
    }
    return {k: v for k, v in {**base, **overrides}.items() if v is not None}


def signed(settings: Settings, **overrides: Any) -> str:
    assert settings.jwt_secret
    return jwt.encode(claims(settings, **overrides), settings.jwt_secret, algorithm="HS256")


BAD_AUTHORIZATION: dict[str, Callable[[Settings], str | None]] = {
    "no-token": lambda s: None,
    "forged-signature": lambda s: "Bearer " + jwt.encode(claims(s), "not-the-secret-" * 3, algorithm="HS256"),
    "tampered-payload": lambda s: "Bearer " + tamper(signed(s)),
    "expired": lambda s: "Bearer " + signed(s, exp=int(time.time()) - 60),
    "wrong-audience": lambda s: "Bearer " + signed(s, aud="another-api"),
    "wrong-issuer": lambda s: "Bearer " + signed(s, iss="someone-else"),
    "alg-none": lambda s: "Bearer " + jwt.encode(claims(s), "", algorithm="none"),  # "": no key
    "no-exp": lambda s: "Bearer " + signed(s, exp=None),
    "no-sub": lambda s: "Bearer " + signed(s, sub=None),
    "unknown-role": lambda s: "Bearer " + signed(s, role="superuser"),
    "no-role": lambda s: "Bearer " + signed(s, role=None),
    "not-a-jwt": lambda s: "Bearer not.a.jwt",
    "basic-scheme": lambda s: "Basic dXNlcjpwYXNz",
    "bare-token": signed,
}


def tamper(token: str) -> str:
    """The same signature over a payload that claims the admin role."""
    header, _, signature = token.split(".")
    payload = jwt.utils.base64url_encode(b'{"sub":"x","role":"admin"}').decode()
    return f"{header}.{payload}.{signature}"


def assert_unauthenticated(response: Any) -> None:
    problem = assert_problem(response, 401, "/problems/unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "token" in problem["detail"]


@pytest.mark.parametrize("bad", BAD_AUTHORIZATION.values(), ids=BAD_AUTHORIZATION.keys())
async def test_reading_without_a_trusted_token_is_401(
    client: Client, auth: TokenFactory, settings: Settings, bad: Callable[[Settings], str | None]
) -> None:
    case_id = await open_case(client, auth("clinician", user()))
    authorization = bad(settings)
    headers = {"Authorization": authorization} if authorization else {}
    assert_unauthenticated(await client.get(f"/cases/{case_id}", headers=headers))
    assert_unauthenticated(await client.get(f"/cases/{case_id}/history", headers=headers))
    assert_unauthenticated(await client.post("/cases", json=opening(), headers=headers))


@pytest.mark.parametrize("name", each_route(WRITE_ROUTES))
@pytest.mark.parametrize("bad", ["no-token", "forged-signature", "expired", "alg-none"])
async def test_writing_without_a_trusted_token_is_401_and_writes_nothing(
    client: Client, auth: TokenFactory, settings: Settings, name: str, bad: str
) -> None:
    write = await prepare(client, auth, name)
    before = await write.state()
    authorization = BAD_AUTHORIZATION[bad](settings)
    author = {"Authorization": authorization} if authorization else {}
    assert_unauthenticated(await write.send(author=author))
    assert await write.state() == before


async def test_a_token_signed_with_the_secret_is_accepted(
    client: Client, auth: TokenFactory, settings: Settings
) -> None:
    clinician_id = user()
    case_id = await open_case(client, auth("clinician", clinician_id))
    token = signed(settings, sub=clinician_id)
    response = await client.get(f"/cases/{case_id}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


@pytest.mark.parametrize("name", each_route(ENTRY_ROUTES))
@pytest.mark.parametrize("role", ["reporting", "admin", "governance"])
async def test_only_clinicians_write_entries(
    client: Client, auth: TokenFactory, name: str, role: str
) -> None:
    write = await prepare(client, auth, name)
    before = await write.state()
    problem = assert_problem(await write.send(author=auth(role, user(role[0]))), 403)
    assert "clinician" in problem["detail"]
    assert await write.state() == before


@pytest.mark.parametrize("role", ["clinician", "governance", "reporting"])
async def test_only_admins_change_the_care_team(client: Client, auth: TokenFactory, role: str) -> None:
    write = await prepare(client, auth, "care-team")
    before = await write.state()
    member = write.clinician if role == "clinician" else auth(role, user(role[0]))
    assert_problem(await write.send(author=member), 403)
    assert await write.state() == before


@pytest.mark.parametrize("role", ["reporting", "admin", "governance"])
async def test_only_clinicians_open_cases(client: Client, auth: TokenFactory, role: str) -> None:
    assert_problem(await client.post("/cases", json=opening(), headers=auth(role, user(role[0]))), 403)


@pytest.mark.parametrize("name", each_route(WRITE_ROUTES))
async def test_a_clinician_not_on_the_care_team_cannot_write(
    client: Client, auth: TokenFactory, name: str
) -> None:
    write = await prepare(client, auth, name)
    before = await write.state()
    stranger = auth("clinician", user())
    response = await write.send(author=stranger)
    expected = "/problems/forbidden" if name == "care-team" else "/problems/not-on-care-team"
    assert_problem(response, 403, expected)
    assert await write.state() == before


@pytest.mark.parametrize("path", ["", "/history", "?version=1"])
async def test_a_clinician_not_on_the_care_team_cannot_read(
    client: Client, auth: TokenFactory, path: str
) -> None:
    case_id = await open_case(client, auth("clinician", user()))
    stranger = auth("clinician", user())
    assert_problem(
        await client.get(f"/cases/{case_id}{path}", headers=stranger), 403, "/problems/not-on-care-team"
    )


@pytest.mark.parametrize("path", ["", "/history", "?version=1", "/learning-log", "/trajectory", "/fhir"])
@pytest.mark.parametrize("role", ["admin", "reporting"])
async def test_admin_and_reporting_cannot_read_a_case(
    client: Client, auth: TokenFactory, path: str, role: str
) -> None:
    case_id = await open_case(client, auth("clinician", user()))
    assert_problem(await client.get(f"/cases/{case_id}{path}", headers=auth(role, user(role[0]))), 403)


async def test_governance_reads_every_case_but_writes_none(client: Client, auth: TokenFactory) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    await client.post(f"/cases/{case_id}/goals", json=GOAL, headers=clinician)
    governance = auth("governance", user("g"))
    case = await client.get(f"/cases/{case_id}?purpose=audit", headers=governance)
    assert case.status_code == 200
    assert case.headers["etag"] == '"2"'
    assert len(case.json()["goals"]) == 1
    assert [i["type"] for i in await history(client, governance, case_id)] == ["case_opened", "goal_set"]
    assert (await client.get(f"/cases/{case_id}?version=1&purpose=audit", headers=governance)).json()[
        "goals"
    ] == []
    assert_problem(await client.post(f"/cases/{case_id}/goals", json=GOAL, headers=governance), 403)
    assert len(await history(client, governance, case_id)) == 2


async def test_a_clinician_added_to_the_care_team_gains_access(client: Client, auth: TokenFactory) -> None:
    joiner_id = user()
    joiner = auth("clinician", joiner_id)
    case_id = await open_case(client, auth("clinician", user()), care_team=[joiner_id])
    assert (await client.get(f"/cases/{case_id}", headers=joiner)).status_code == 200
    assert (await client.post(f"/cases/{case_id}/goals", json=GOAL, headers=joiner)).status_code == 201
