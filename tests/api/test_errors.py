"""Requests the service cannot take: malformed JSON (400), unknown cases (404), wrong methods (405),
bodies over the limit (413) and wrong content types (415), all as problem details, never a 500, and
nothing written."""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from typing import Any

import pytest

from service.settings import Settings
from tests.api.helpers import (
    ENTRY_ROUTES,
    PROBLEM,
    REVIEW,
    WRITE_ROUTES,
    Client,
    assert_problem,
    each_route,
    open_case,
    opening,
    prepare,
    user,
)
from tests.support.tokens import TokenFactory

JSON = {"Content-Type": "application/json"}
MALFORMED = {
    "not-json": b"{not json",
    "truncated": b'{"kind": "routine"',
    "not-utf8": b'{"kind": "\xff\xfe"}',
    "empty": b"",
    "whitespace": b"   ",
    "lone-surrogate": b'{"kind": "\\ud800"}',
    "number-out-of-range": b'{"confidence": 1e400}',
    "trailing-garbage": b'{"kind": "routine"} x',
    "too-deep": b'{"ratings": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
}


@pytest.mark.parametrize("name", each_route(WRITE_ROUTES))
@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_json_is_400_and_writes_nothing(
    client: Client, auth: TokenFactory, name: str, body: bytes
) -> None:
    write = await prepare(client, auth, name)
    before = await write.state()
    assert_problem(await write.send(content=body, extra=JSON), 400, "/problems/malformed-body")
    assert await write.state() == before


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_json_opening_a_case_is_400(client: Client, auth: TokenFactory, body: bytes) -> None:
    response = await client.post("/cases", content=body, headers={**auth("clinician", user()), **JSON})
    assert_problem(response, 400, "/problems/malformed-body")


def unknown_case_path(template: str) -> str:
    return re.sub(r"\{\w+\}", lambda _: str(uuid.uuid4()), template)


@pytest.mark.parametrize("name", each_route(ENTRY_ROUTES))
async def test_writing_to_an_unknown_case_is_404(client: Client, auth: TokenFactory, name: str) -> None:
    route = ENTRY_ROUTES[name]
    body = route.body(defaultdict(lambda: str(uuid.uuid4())))
    path = unknown_case_path(f"/cases/{{case_id}}/{route.path}")
    response = await client.post(path, json=body, headers=auth("clinician", user()))
    assert_problem(response, 404, "/problems/case-not-found")


UNKNOWN_CASE_REQUESTS = {
    "get-clinician": ("clinician", "GET", "/cases/{case_id}", None),
    "get-governance": ("governance", "GET", "/cases/{case_id}", None),
    "get-at-version": ("clinician", "GET", "/cases/{case_id}?version=1", None),
    "history-clinician": ("clinician", "GET", "/cases/{case_id}/history", None),
    "history-governance": ("governance", "GET", "/cases/{case_id}/history", None),
    "care-team": ("admin", "PUT", "/cases/{case_id}/care-team", {"care_team": ["c-1"], "reason": "r"}),
}


@pytest.mark.parametrize("request_", UNKNOWN_CASE_REQUESTS.values(), ids=UNKNOWN_CASE_REQUESTS.keys())
async def test_reading_or_changing_an_unknown_case_is_404(
    client: Client, auth: TokenFactory, request_: tuple[str, str, str, dict[str, Any] | None]
) -> None:
    role, method, path, body = request_
    case_id = str(uuid.uuid4())
    response = await client.request(
        method, path.format(case_id=case_id), json=body, headers=auth(role, user())
    )
    problem = assert_problem(response, 404, "/problems/case-not-found")
    assert case_id in problem["detail"]


@pytest.mark.parametrize("path", ["/cases/not-a-uuid", "/cases/not-a-uuid/history", "/nowhere"])
async def test_a_path_that_names_nothing_is_a_404_problem(
    client: Client, auth: TokenFactory, path: str
) -> None:
    assert_problem(await client.get(path, headers=auth("clinician", user())), 404)


@pytest.mark.parametrize(
    ("method", "path"), [("DELETE", "/cases/{id}"), ("PATCH", "/cases/{id}"), ("GET", "/cases")]
)
async def test_a_method_a_route_does_not_take_is_a_405_problem(
    client: Client, auth: TokenFactory, method: str, path: str
) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    response = await client.request(method, path.format(id=case_id), headers=clinician)
    assert_problem(response, 405)
    assert len((await client.get(f"/cases/{case_id}/history", headers=clinician)).json()["items"]) == 1


@pytest.mark.parametrize("name", each_route(WRITE_ROUTES))
async def test_a_body_over_the_limit_is_413_and_writes_nothing(
    client: Client, auth: TokenFactory, settings: Settings, name: str
) -> None:
    assert settings.max_body_bytes == 256 * 1024
    write = await prepare(client, auth, name)
    before = await write.state()
    padding = b" " * (settings.max_body_bytes + 1 - len(b"{}"))
    assert_problem(
        await write.send(content=b"{" + padding + b"}", extra=JSON), 413, "/problems/body-too-large"
    )
    assert await write.state() == before


async def test_a_body_at_the_limit_is_read_and_validated(
    client: Client, auth: TokenFactory, settings: Settings
) -> None:
    write = await prepare(client, auth, "goals")
    template = b'{"domain": "stability_self_management", "in_own_words": "%s"}'
    body = template % (b"x" * (settings.max_body_bytes - len(template) + 2))
    assert len(body) == settings.max_body_bytes
    problem = assert_problem(await write.send(content=body, extra=JSON), 422)  # too long a text, not too big
    assert [e["field"] for e in problem["errors"]] == ["in_own_words"]
    assert_problem(await write.send(content=body + b" ", extra=JSON), 413)


async def test_a_streamed_body_over_the_limit_is_413(
    client: Client, auth: TokenFactory, settings: Settings
) -> None:
    """Without Content-Length the limit is enforced while the body arrives."""
    write = await prepare(client, auth, "goals")
    before = await write.state()
    chunk = b" " * 10_000
    chunks = [b"{", *[chunk] * (settings.max_body_bytes // len(chunk) + 1), b"}"]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        body = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": body, "more_body": bool(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = {**write.headers, **JSON}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": write.path,
        "raw_path": write.path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await client.app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 413
    assert dict(start["headers"])[b"content-type"].decode().startswith(PROBLEM)
    assert await write.state() == before


@pytest.mark.parametrize("name", each_route(WRITE_ROUTES))
async def test_a_body_that_is_not_json_is_415_and_writes_nothing(
    client: Client, auth: TokenFactory, name: str
) -> None:
    write = await prepare(client, auth, name)
    before = await write.state()
    response = await write.send(content=b"kind=routine", extra={"Content-Type": "text/plain"})
    problem = assert_problem(response, 415, "/problems/unsupported-media-type")
    assert "application/json" in problem["detail"]
    assert await write.state() == before


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
    ],
)
async def test_every_non_json_content_type_is_415(
    client: Client, auth: TokenFactory, content_type: str | None
) -> None:
    write = await prepare(client, auth, "reviews")
    extra = {"Content-Type": content_type} if content_type else {}
    assert_problem(await write.send(content=b'{"kind": "routine"}', extra=extra), 415)
    assert_problem(
        await write.client.post("/cases", content=b"{}", headers={**auth("clinician", user()), **extra}), 415
    )


async def test_json_with_a_charset_or_a_json_suffix_is_accepted(client: Client, auth: TokenFactory) -> None:
    write = await prepare(client, auth, "reviews")
    body = json.dumps(REVIEW).encode()
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = await write.send(content=body, extra={"Content-Type": content_type})
        assert response.status_code == 201, response.text


HOSTILE_VALUES: list[object] = [None, 10**30, -1, "", "\u0000", [[[]]], {"$ne": 1}, True, 1.5]


@pytest.mark.parametrize("name", each_route([*WRITE_ROUTES, "open"]))
@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=repr)
async def test_a_hostile_value_in_any_field_is_a_4xx_problem_never_a_500(
    client: Client, auth: TokenFactory, name: str, value: object
) -> None:
    if name == "open":
        clinician = auth("clinician", user())
        for field in opening():
            response = await client.post("/cases", json=opening(**{field: value}), headers=clinician)
            assert response.status_code in (201, 400, 409, 422), response.text
            assert response.status_code == 201 or response.headers["content-type"].startswith(PROBLEM)
        return
    write = await prepare(client, auth, name)
    for field in [*write.body, "occurred_at"]:
        response = await write.send(body={**write.body, field: value})
        assert response.status_code in (201, 400, 409, 422), response.text
        assert response.status_code == 201 or response.headers["content-type"].startswith(PROBLEM)
