"""GET /feed as JSON pages: the reporting role only, pseudonymised changes in position order, never
past the horizon, each position once across pages, and bad paging refused by name. (The live
stream, under load and dropped connections, is tests/integration/test_feed_stream.py.)"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.helpers import REVIEW, assert_problem, open_case, post, user
from tests.support.polling import eventually
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.usefixtures("projector")  # its tests read projections

Client = AsyncTestClient[Litestar]


async def _page(client: Client, headers: dict[str, str], after: int, limit: int) -> dict[str, Any]:
    answer = await client.get("/feed", params={"after": after, "limit": limit}, headers=headers)
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


async def test_a_review_shows_in_the_feed_as_pseudonymised_changes_in_order(
    client: Client, auth: TokenFactory
) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician, care_team=[])
    receipt = await post(client, clinician, f"/cases/{case_id}/reviews", REVIEW)
    position = receipt["position"]
    reporting = auth("reporting", "bi-feed")

    async def reached() -> dict[str, Any]:
        page = await _page(client, reporting, position - 1, 500)
        return page if page["horizon"] >= position else {}

    page = await eventually(reached, seconds=10)
    views = {change["view"] for p in page["positions"] for change in p["changes"]}
    assert {"reviews", "ratings"} <= views
    numbers = [p["position"] for p in page["positions"]]
    assert numbers == sorted(set(numbers))
    assert all(position <= n <= page["horizon"] for n in numbers)
    text = str(page)
    assert case_id not in text
    assert uuid.UUID(case_id).hex not in text
    assert all(len(c["entry_key"]) == 64 for p in page["positions"] for c in p["changes"])


async def test_pages_follow_on_without_repeating_a_position(client: Client, auth: TokenFactory) -> None:
    clinician, reporting = auth("clinician", user()), auth("reporting", "bi-pages")
    case_id = await open_case(client, clinician, care_team=[])
    for _ in range(3):
        position = (await post(client, clinician, f"/cases/{case_id}/reviews", REVIEW))["position"]
    start = max(position - 40, 0)  # some positions other tests wrote, and these three

    async def everything() -> list[int]:
        whole = await _page(client, reporting, start, 500)
        return [p["position"] for p in whole["positions"]] if whole["horizon"] >= position else []

    expected = await eventually(everything, seconds=10)
    seen, after = [], start
    while after < expected[-1]:
        page = await _page(client, reporting, after, 2)
        assert len(page["positions"]) <= 2
        seen += [p["position"] for p in page["positions"]]
        after = page["next_after"]
    assert seen == expected


async def test_the_feed_is_for_the_reporting_role_only(client: Client, auth: TokenFactory) -> None:
    for role in ("clinician", "governance", "admin"):
        answer = await client.get("/feed", headers=auth(role, user()))
        assert_problem(answer, 403)


async def test_bad_paging_is_refused_naming_what_to_send(client: Client, auth: TokenFactory) -> None:
    reporting = auth("reporting", "bi-bad")
    for params, headers, field in (
        ({"limit": 0}, {}, "limit"),
        ({"after": -1}, {}, "after"),
        ({}, {"Last-Event-ID": "seven"}, "Last-Event-ID"),
        ({}, {"Last-Event-ID": str(2**63)}, "Last-Event-ID"),
    ):
        answer = await client.get("/feed", params=params, headers={**reporting, **headers})
        problem = assert_problem(answer, 422)
        assert field.lower() in str(problem).lower(), problem
