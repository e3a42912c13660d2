"""Conditional writes (If-Match) and idempotent retries (Idempotency-Key), on every write route."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.api.helpers import (
    GOAL,
    REVIEW,
    STATEMENT,
    WRITE_ROUTES,
    Client,
    PreparedWrite,
    assert_problem,
    each_route,
    history,
    open_case,
    opening,
    prepare,
    user,
)
from tests.support.tokens import TokenFactory


async def moved_on(write: PreparedWrite) -> int:
    """Make sure the case is past version 1 (so If-Match "1" is stale); return its version."""
    version, _ = await write.state()
    if version == 1:
        await write.entry("statements", STATEMENT)
        version = 2
    return version


@pytest.mark.parametrize("name", each_route(WRITE_ROUTES))
async def test_if_match_on_an_old_version_is_412_with_the_current_etag_and_writes_nothing(
    client: Client, auth: TokenFactory, name: str
) -> None:
    write = await prepare(client, auth, name)
    current = await moved_on(write)
    before = await write.state()
    response = await write.send(extra={"If-Match": '"1"'})
    problem = assert_problem(response, 412, "/problems/version-mismatch")
    assert response.headers["etag"] == f'"{current}"'
    assert problem["current_version"] == current
    assert await write.state() == before


@pytest.mark.parametrize("name", each_route(WRITE_ROUTES))
async def test_if_match_on_the_current_version_writes(client: Client, auth: TokenFactory, name: str) -> None:
    write = await prepare(client, auth, name)
    version, length = await write.state()
    response = await write.send(extra={"If-Match": f'"{version}"'})
    assert response.status_code == 201, response.text
    assert response.headers["etag"] == f'"{version + 1}"'
    assert await write.state() == (version + 1, length + 1)


async def test_a_weak_if_match_never_matches(client: Client, auth: TokenFactory) -> None:
    """If-Match compares strongly (RFC 9110), so even the current version as a weak tag is a 412."""
    write = await prepare(client, auth, "reviews")
    version, length = await write.state()
    response = await write.send(extra={"If-Match": f'W/"{version}"'})
    assert_problem(response, 412, "/problems/version-mismatch")
    assert await write.state() == (version, length)


async def test_if_match_star_writes_whatever_the_version(client: Client, auth: TokenFactory) -> None:
    write = await prepare(client, auth, "reviews")
    await moved_on(write)
    assert (await write.send(extra={"If-Match": "*"})).status_code == 201


@pytest.mark.parametrize("value", ["seven", "7", '"seven"', '"-1"', "W/", '"1', ""])
async def test_a_malformed_if_match_is_400_naming_the_header(
    client: Client, auth: TokenFactory, value: str
) -> None:
    write = await prepare(client, auth, "reviews")
    before = await write.state()
    problem = assert_problem(await write.send(extra={"If-Match": value}), 400, "/problems/bad-header")
    assert problem["header"] == "If-Match"
    assert "If-Match" in problem["detail"]
    assert await write.state() == before


async def test_concurrent_writes_on_the_same_version_let_exactly_one_through(
    client: Client, auth: TokenFactory
) -> None:
    write = await prepare(client, auth, "goals")
    responses = await asyncio.gather(*(write.send(extra={"If-Match": '"1"'}) for _ in range(5)))
    assert sorted(r.status_code for r in responses) == [201, 412, 412, 412, 412]
    assert await write.state() == (2, 2)


@pytest.mark.parametrize("name", each_route(WRITE_ROUTES))
async def test_a_retry_with_the_same_key_and_body_returns_the_first_response_and_records_nothing(
    client: Client, auth: TokenFactory, name: str
) -> None:
    write = await prepare(client, auth, name)
    key = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
    first = await write.send(extra=key)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    after_first = await write.state()
    again = await write.send(extra=key)
    assert again.status_code == 201
    assert again.json() == first.json()  # same entry_id, version and position
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await write.state() == after_first


async def test_a_retried_opening_returns_the_same_case_and_location(
    client: Client, auth: TokenFactory
) -> None:
    keyed = auth("clinician", user(), **{"Idempotency-Key": "open-once"})
    first = await client.post("/cases", json=opening(), headers=keyed)
    again = await client.post("/cases", json=opening(), headers=keyed)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    reused = await client.post("/cases", json=opening(service="south"), headers=keyed)
    assert_problem(reused, 422, "/problems/idempotency-key-reused")


async def test_the_same_key_with_a_different_body_is_422_and_writes_nothing(
    client: Client, auth: TokenFactory
) -> None:
    write = await prepare(client, auth, "reviews")
    key = {"Idempotency-Key": "k-reviews"}
    assert (await write.send(extra=key)).status_code == 201
    before = await write.state()
    problem = assert_problem(
        await write.send(body={**REVIEW, "confidence": 9}, extra=key), 422, "/problems/idempotency-key-reused"
    )
    assert problem["field"] == "Idempotency-Key"
    assert await write.state() == before


async def test_the_same_key_on_another_case_is_422(client: Client, auth: TokenFactory) -> None:
    clinician_id = user()
    clinician = auth("clinician", clinician_id)
    keyed = auth("clinician", clinician_id, **{"Idempotency-Key": "k-goal"})
    first, second = await open_case(client, clinician), await open_case(client, clinician)
    assert (await client.post(f"/cases/{first}/goals", json=GOAL, headers=keyed)).status_code == 201
    reused = await client.post(f"/cases/{second}/goals", json=GOAL, headers=keyed)
    assert_problem(reused, 422, "/problems/idempotency-key-reused")
    assert len(await history(client, clinician, second)) == 1


async def test_keys_belong_to_the_user_who_sent_them(client: Client, auth: TokenFactory) -> None:
    one, other = user(), user()
    case_id = await open_case(client, auth("clinician", one), care_team=[other])
    path = f"/cases/{case_id}/goals"
    first = await client.post(path, json=GOAL, headers=auth("clinician", one, **{"Idempotency-Key": "k"}))
    second = await client.post(path, json=GOAL, headers=auth("clinician", other, **{"Idempotency-Key": "k"}))
    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in second.headers
    assert second.json()["entry_id"] != first.json()["entry_id"]


async def test_concurrent_retries_with_one_key_record_one_entry(client: Client, auth: TokenFactory) -> None:
    write = await prepare(client, auth, "goals")
    key = {"Idempotency-Key": "k-concurrent"}
    responses = await asyncio.gather(*(write.send(extra=key) for _ in range(5)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["entry_id"] for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 4
    assert await write.state() == (2, 2)


@pytest.mark.parametrize("key", ["x" * 256, "has space", "tab\tkey", "del\x7f"])
async def test_a_malformed_idempotency_key_is_400_naming_the_header(
    client: Client, auth: TokenFactory, key: str
) -> None:
    write = await prepare(client, auth, "reviews")
    before = await write.state()
    response = await write.send(extra={"Idempotency-Key": key})
    assert_problem(response, 400, "/problems/bad-header")
    assert response.json()["header"] == "Idempotency-Key"
    assert await write.state() == before
