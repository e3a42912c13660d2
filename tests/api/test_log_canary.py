"""No clinical text in any log line: a canary phrase is sent through every string field of every write
route (stored when the field is free text, refused when it is not) and through every way a request can
go wrong (malformed, unknown or oversized bodies; paths, queries and headers; broken rules; pages),
and the log, formatted exactly as `waymark serve` formats it, never holds a word of it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.helpers import WRITE_ROUTES, Client, PreparedWrite, each_route, opening, prepare, user
from tests.support.logs import LogLines, captured_logs
from tests.support.tokens import TokenFactory

CANARY = "tangerine lighthouse whispers quietly"  # no word that hex ids or times could hold
WORDS = CANARY.split()
JSON = {"Content-Type": "application/json"}


def string_fields(body: dict[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path to every string (or list of strings) in a body, nested objects included."""
    for key, item in body.items():
        if isinstance(item, dict):
            yield from string_fields(item, (*prefix, key))
        elif isinstance(item, str) or (isinstance(item, list) and all(isinstance(i, str) for i in item)):
            yield (*prefix, key)


def with_canary(body: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    head, *rest = path
    if rest:
        return {**body, head: with_canary(body[head], tuple(rest))}
    return {**body, head: [CANARY] if isinstance(body[head], list) else CANARY}


def assert_no_canary(logs: LogLines, answers: list[httpx.Response]) -> None:
    assert len(logs.requests()) >= len(answers), "every request was logged"
    for word in WORDS:
        assert word not in logs.text, f"{word!r} reached a log line"


async def send_canaries(write: PreparedWrite) -> list[httpx.Response]:
    answers = [await write.send(body=with_canary(write.body, path)) for path in string_fields(write.body)]
    answers.append(await write.send(body={**write.body, CANARY: CANARY}))
    answers.append(await write.send(content=f'{{"{CANARY}": "{CANARY}'.encode(), extra=JSON))
    return answers


@pytest.mark.parametrize("name", each_route(WRITE_ROUTES))
async def test_a_canary_in_every_string_of_a_write_route_reaches_no_log_line(
    client: Client, auth: TokenFactory, name: str
) -> None:
    with captured_logs() as logs:
        answers = await send_canaries(await prepare(client, auth, name))
    # Stored where the field is free text, refused where it is a code or an id; malformed always.
    assert 400 in {answer.status_code for answer in answers}
    assert_no_canary(logs, answers)


async def test_a_canary_in_every_string_of_a_case_opening_reaches_no_log_line(
    client: Client, auth: TokenFactory
) -> None:
    clinician = auth("clinician", user())
    with captured_logs() as logs:
        answers = [
            await client.post("/cases", json=with_canary(opening(), path), headers=clinician)
            for path in string_fields(opening())
        ]
    assert {201, 422} <= {answer.status_code for answer in answers}
    assert_no_canary(logs, answers)


async def test_a_canary_in_every_error_path_reaches_no_log_line(client: Client, auth: TokenFactory) -> None:
    write = await prepare(client, auth, "setbacks")
    await write.entry("closure", {"reason": "transferred"})
    case = f"/cases/{write.case_id}"
    canary_body = dict.fromkeys(write.body, CANARY)
    with captured_logs() as logs:
        answers = [
            await write.send(body={**write.body, "what_happened": CANARY}),  # a broken rule: case closed
            await write.send(content=CANARY.encode() * 20_000, extra=JSON),  # over the body limit
            await write.send(content=f'{{"what_happened": "{CANARY}'.encode(), extra=JSON),  # not JSON
            await write.send(body=canary_body, extra={"If-Match": CANARY, "Idempotency-Key": CANARY}),
            await write.send(body=write.body, author={"Authorization": f"Bearer {CANARY}"}),
            await write.send(body=write.body, extra={"X-Request-ID": CANARY, "User-Agent": CANARY}),
            await client.get(f"/cases/{CANARY}", headers=write.clinician),
            await client.get(f"/{CANARY}/{uuid.uuid4()}", headers=write.clinician),
            await client.get(f"{case}/history", params={"limit": CANARY}, headers=write.clinician),
            await client.get(case, params={"recorded_until": CANARY}, headers=write.clinician),
            await client.get("/service/learning", params={"from": CANARY}, headers=auth("governance", "g")),
            await client.delete(case, headers=write.clinician),
            await client.post(f"/app{case}/reviews/new", data={"what_went_well": CANARY}),
            await client.post("/sign-in/demo", data={"user": CANARY}),
        ]
    statuses = {answer.status_code for answer in answers}
    assert {400, 401, 404, 405, 409, 413, 422} <= statuses, statuses
    assert_no_canary(logs, answers)
