"""A case's history: every entry in order with who, when and what; corrections linked both ways; late
entries marked; cursor paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.helpers import (
    DOMAIN,
    GOAL,
    REVIEW,
    Body,
    Client,
    assert_problem,
    history,
    open_case,
    post,
    user,
)
from tests.support.tokens import TokenFactory


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


async def test_every_entry_in_order_with_who_when_and_what(client: Client, auth: TokenFactory) -> None:
    clinician_id = user()
    clinician = auth("clinician", clinician_id)
    case_id = await open_case(client, clinician)
    goal = await post(client, clinician, f"/cases/{case_id}/goals", GOAL)
    review = await post(client, clinician, f"/cases/{case_id}/reviews", REVIEW)
    response = await client.get(f"/cases/{case_id}/history", headers=clinician)
    assert response.status_code == 200
    page = response.json()
    assert page["case_id"] == case_id
    assert page["next_after"] is None
    items = page["items"]
    assert [i["version"] for i in items] == [1, 2, 3]
    assert [i["type"] for i in items] == ["case_opened", "goal_set", "review_recorded"]
    assert [i["entry_id"] for i in items[1:]] == [goal["entry_id"], review["entry_id"]]
    for item in items:
        assert set(item) >= {
            "entry_id",
            "type",
            "version",
            "recorded_at",
            "occurred_at",
            "late",
            "actor",
            "data",
        }
        assert item["actor"] == {"id": clinician_id, "role": "clinician"}
        assert item["late"] is False
        assert item["corrects"] is None
        assert item["corrected_by"] == []
        assert parse(item["occurred_at"]) <= parse(item["recorded_at"])
        assert not {"entry_id", "actor", "recorded_at", "type"} & set(item["data"])
    assert items[1]["data"] == GOAL
    assert items[2]["data"]["ratings"] == {DOMAIN: 6}
    assert items[2]["data"]["easier_now"] == REVIEW["easier_now"]


async def test_corrections_are_linked_both_ways_and_the_original_stays(
    client: Client, auth: TokenFactory
) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    base = f"/cases/{case_id}"
    review = (await post(client, clinician, f"{base}/reviews", REVIEW))["entry_id"]
    first = await post(
        client,
        clinician,
        f"{base}/corrections",
        {"corrects": review, "reason": "misread", "changes": {"confidence": 7}},
    )
    second = await post(
        client,
        clinician,
        f"{base}/corrections",
        {"corrects": review, "reason": "again", "changes": {"confidence": 8}},
    )
    items = {i["entry_id"]: i for i in await history(client, clinician, case_id)}
    original = items[review]
    assert original["corrected_by"] == [first["entry_id"], second["entry_id"]]
    assert original["data"]["confidence"] == 5
    assert original["corrects"] is None
    for receipt, value in ((first, 7), (second, 8)):
        correction = items[receipt["entry_id"]]
        assert correction["type"] == "entry_corrected"
        assert correction["corrects"] == review
        assert correction["corrected_by"] == []
        assert correction["data"]["changes"] == {"confidence": value}
        assert correction["data"]["corrected"]["confidence"] == value
    case = (await client.get(base, headers=clinician)).json()
    assert case["last_review"]["confidence"] == 8
    assert case["last_review"]["corrected_by"] == [first["entry_id"], second["entry_id"]]


async def test_correcting_a_measure_rescores_it(client: Client, auth: TokenFactory) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    measure = await post(
        client, clinician, f"/cases/{case_id}/measures", {"instrument": "gad7", "items": [0] * 7}
    )
    await post(
        client,
        clinician,
        f"/cases/{case_id}/corrections",
        {"corrects": measure["entry_id"], "reason": "typed in the wrong row", "changes": {"items": [3] * 7}},
    )
    correction = (await history(client, clinician, case_id))[-1]
    assert correction["data"]["changes"]["items"] == [3] * 7
    assert correction["data"]["changes"]["score"]["raw_total"] == 21
    assert correction["data"]["corrected"]["score"]["raw_total"] == 21


@pytest.mark.parametrize(
    ("ago", "late"),
    [(timedelta(days=3), True), (timedelta(hours=25), True), (timedelta(hours=23), False), (None, False)],
    ids=["three-days", "25-hours", "23-hours", "now"],
)
async def test_an_entry_recorded_over_a_day_after_it_happened_is_late(
    client: Client, auth: TokenFactory, ago: timedelta | None, late: bool
) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    body: Body = dict(REVIEW)
    if ago is not None:
        body["occurred_at"] = (datetime.now(UTC) - ago).isoformat()
    receipt = await post(client, clinician, f"/cases/{case_id}/reviews", body)
    item = (await history(client, clinician, case_id))[-1]
    assert item["entry_id"] == receipt["entry_id"]
    assert item["late"] is late
    if ago is not None:
        assert parse(item["occurred_at"]) == parse(body["occurred_at"])


async def test_a_late_correction_of_when_something_happened_marks_the_corrected_entry(
    client: Client, auth: TokenFactory
) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    goal = (await post(client, clinician, f"/cases/{case_id}/goals", GOAL))["entry_id"]
    earlier = (datetime.now(UTC) - timedelta(days=5)).isoformat()
    await post(
        client,
        clinician,
        f"/cases/{case_id}/corrections",
        {"corrects": goal, "reason": "set at the last visit", "changes": {"occurred_at": earlier}},
    )
    items = await history(client, clinician, case_id)
    assert items[1]["late"] is False  # the original, as recorded
    assert parse(items[2]["data"]["corrected"]["occurred_at"]) == parse(earlier)


async def test_history_pages_with_a_cursor_until_next_after_is_null(
    client: Client, auth: TokenFactory
) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    for _ in range(6):
        await post(client, clinician, f"/cases/{case_id}/reviews", REVIEW)
    seen: list[int] = []
    after: int | None = 0
    pages = 0
    while after is not None:
        response = await client.get(f"/cases/{case_id}/history?after={after}&limit=3", headers=clinician)
        assert response.status_code == 200
        page = response.json()
        assert len(page["items"]) <= 3
        seen.extend(i["version"] for i in page["items"])
        after = page["next_after"]
        if after is not None:
            assert after == page["items"][-1]["version"]
        pages += 1
    assert seen == list(range(1, 8))
    assert pages == 3  # 1-3, 4-6, 7
    all_at_once = await history(client, clinician, case_id)
    assert [i["version"] for i in all_at_once] == seen


async def test_a_page_ending_on_the_last_entry_has_no_next_page(client: Client, auth: TokenFactory) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    await post(client, clinician, f"/cases/{case_id}/goals", GOAL)
    exact = (await client.get(f"/cases/{case_id}/history?limit=2", headers=clinician)).json()
    assert [i["version"] for i in exact["items"]] == [1, 2]
    assert exact["next_after"] is None
    beyond = (await client.get(f"/cases/{case_id}/history?after=2", headers=clinician)).json()
    assert beyond["items"] == []
    assert beyond["next_after"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("limit=501", "limit"), ("limit=ten", "limit"), ("after=-1", "after")],
)
async def test_a_bad_cursor_or_limit_is_422_naming_it(
    client: Client, auth: TokenFactory, query: str, field: str
) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    problem = assert_problem(await client.get(f"/cases/{case_id}/history?{query}", headers=clinician), 422)
    assert [e["field"] for e in problem["errors"]] == [field]
