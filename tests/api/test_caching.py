"""No cache keeps a person's record: every API response, problems included, says Cache-Control:
no-store; only the public OpenAPI documents may be cached."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.helpers import GOAL, Client, open_case, prepare, user
from tests.support.tokens import TokenFactory

PERIOD = {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}


def assert_not_stored(response: httpx.Response) -> None:
    assert response.headers.get("cache-control") == "no-store", (response.request.url, response.headers)


async def test_every_read_of_a_person_s_record_is_not_stored(client: Client, auth: TokenFactory) -> None:
    clinician = auth("clinician", user())
    governance = auth("governance", user("g"))
    case_id = await open_case(client, clinician)
    await client.post(f"/cases/{case_id}/goals", json=GOAL, headers=clinician)
    reads: list[tuple[str, dict[str, Any], dict[str, str]]] = [
        (f"/cases/{case_id}", {}, clinician),
        (f"/cases/{case_id}", {"version": "1", "purpose": "complaint"}, governance),
        (f"/cases/{case_id}/history", {}, clinician),
        (f"/cases/{case_id}/trajectory", {}, clinician),
        (f"/cases/{case_id}/learning-log", {}, clinician),
        ("/audit/entries", {"case_id": case_id, "purpose": "audit"}, governance),
        ("/governance/review-impact", {**PERIOD, "purpose": "audit"}, governance),
        ("/service/learning", PERIOD, governance),
        ("/service/spc/reviews-leading-to-change", PERIOD, governance),
        ("/service/spc/escalations-per-1000-open-days", PERIOD, governance),
    ]
    for path, params, headers in reads:
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 200, (path, response.text)
        assert_not_stored(response)


async def test_a_not_modified_answer_is_not_stored(client: Client, auth: TokenFactory) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    response = await client.get(f"/cases/{case_id}", headers={**clinician, "If-None-Match": '"1"'})
    assert response.status_code == 304
    assert_not_stored(response)


@pytest.mark.parametrize("name", ["reviews", "corrections", "care-team"])
async def test_a_write_s_receipt_is_not_stored(client: Client, auth: TokenFactory, name: str) -> None:
    write = await prepare(client, auth, name)
    response = await write.send()
    assert response.status_code == 201, response.text
    assert_not_stored(response)


async def test_problems_are_not_stored(client: Client, auth: TokenFactory) -> None:
    case_id = await open_case(client, auth("clinician", user()))
    for response in (
        await client.get(f"/cases/{case_id}"),
        await client.get(f"/cases/{case_id}", headers=auth("clinician", user())),
        await client.get(f"/cases/{case_id}", params={"version": "0"}, headers=auth("governance", user("g"))),
        await client.get("/no-such-route"),
    ):
        assert response.status_code >= 400
        assert_not_stored(response)


@pytest.mark.slow  # builds the OpenAPI document: about 1.5 s
async def test_the_public_schema_may_be_cached(client: Client) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("cache-control", "")
