"""Every date and time a request body carries lies within bounds, or the request is a 422 naming the
field and nothing is written: occurred_at from 1900-01-01 to now, opened_on from 1900-01-01 to today,
a milestone's target_on from 1900-01-01 to ten years ahead, an escalation plan's review_on from the
day it was agreed to ten years ahead, and the same through a correction's changes. A year-1 opening
was accepted before, and the projector then failed on it."""

from __future__ import annotations

import typing
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from events.codec import ENTRY_TYPES
from service.http.inputs import input_type
from tests.api.helpers import (
    WRITE_ROUTES,
    Client,
    assert_problem,
    each_route,
    history,
    opening,
    prepare,
    user,
)
from tests.support.tokens import TokenFactory

BOUNDED = {"occurred_at", "opened_on", "target_on", "review_on"}
"""Every date or time field of a request body; a new one needs its bounds (and a case below)."""
TOO_EARLY = {
    "year-1-converting-to-year-0": "0001-01-01T00:00:00+14:00",
    "year-1": "0001-01-01T00:00:00Z",
    "before-1900": "1899-12-31T23:59:59Z",
    "1900-in-utc-minus-offset": "1900-01-01T00:00:00+01:00",
}
IN_TEN_YEARS = date.today() + timedelta(days=3650)


def dated_fields(body: Any) -> set[str]:
    """The fields of a request body type that hold a date or a time."""
    return {
        name
        for name, hint in typing.get_type_hints(body).items()
        if any(t in (date, datetime) for t in (hint, *typing.get_args(hint)))
    }


def test_every_date_a_request_body_carries_is_bounded() -> None:
    found = set().union(*(dated_fields(input_type(cls)) for cls in ENTRY_TYPES.values()))
    assert found == BOUNDED


def invalid(response: Any, field: str) -> dict[str, Any]:
    problem = assert_problem(response, 422)
    assert problem["field"] == field, problem
    assert [error["field"] for error in problem["errors"]] == [field]
    return problem


@pytest.mark.parametrize("name", each_route(WRITE_ROUTES))
@pytest.mark.parametrize("when", TOO_EARLY.values(), ids=TOO_EARLY.keys())
async def test_an_entry_that_happened_before_1900_is_422_and_writes_nothing(
    client: Client, auth: TokenFactory, name: str, when: str
) -> None:
    write = await prepare(client, auth, name)
    before = await write.state()
    response = await write.send(body={**write.body, "occurred_at": when})
    invalid(response, "occurred_at")
    assert when not in response.text
    assert await write.state() == before


@pytest.mark.parametrize(
    "overrides",
    [
        {"opened_on": "0001-01-01", "occurred_at": "0001-01-01T00:00:00+14:00"},
        {"opened_on": "0001-01-01"},
        {"opened_on": "1899-12-31"},
        {"opened_on": (date.today() + timedelta(days=2)).isoformat()},
        {"opened_on": "9999-12-31"},
    ],
    ids=["year-1-both", "year-1", "before-1900", "the-day-after-tomorrow", "year-9999"],
)
async def test_a_case_opened_before_1900_or_in_the_future_is_422(
    client: Client, auth: TokenFactory, overrides: dict[str, str]
) -> None:
    clinician_id = user()
    response = await client.post("/cases", json=opening(**overrides), headers=auth("clinician", clinician_id))
    problem = assert_problem(response, 422)
    assert problem["field"] in ("opened_on", "occurred_at")
    assert "opened_on" in overrides or problem["field"] == "occurred_at"


@pytest.mark.parametrize("opened_on", ["1900-01-01", date.today().isoformat()])
async def test_a_case_opened_on_the_bounds_is_accepted(
    client: Client, auth: TokenFactory, opened_on: str
) -> None:
    response = await client.post(
        "/cases", json=opening(opened_on=opened_on), headers=auth("clinician", user())
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("target_on", "accepted"),
    [
        ("0001-01-01", False),
        ("1899-12-31", False),
        ("2999-01-01", False),
        ((IN_TEN_YEARS + timedelta(days=5)).isoformat(), False),
        (IN_TEN_YEARS.isoformat(), True),
        ("2020-01-01", True),
    ],
)
async def test_a_milestone_target_is_within_ten_years(
    client: Client, auth: TokenFactory, target_on: str, accepted: bool
) -> None:
    write = await prepare(client, auth, "milestones")
    before = await write.state()
    response = await write.send(body={**write.body, "target_on": target_on})
    if accepted:
        assert response.status_code == 201, response.text
        return
    problem = invalid(response, "target_on")
    assert "ten years" in problem["detail"]
    assert await write.state() == before


TODAY = datetime.now(UTC).date()
WEEK_AGO = datetime.now(UTC) - timedelta(days=7)


@pytest.mark.parametrize(
    ("review_on", "occurred_at", "accepted"),
    [
        ("0001-01-01", None, False),
        ((TODAY - timedelta(days=1)).isoformat(), None, False),
        ((IN_TEN_YEARS + timedelta(days=5)).isoformat(), None, False),
        ((WEEK_AGO.date() - timedelta(days=1)).isoformat(), WEEK_AGO.isoformat(), False),
        (TODAY.isoformat(), None, True),
        (IN_TEN_YEARS.isoformat(), None, True),
        ((WEEK_AGO.date() + timedelta(days=3)).isoformat(), WEEK_AGO.isoformat(), True),
    ],
    ids=[
        "year-1",
        "before-agreed",
        "beyond-ten-years",
        "before-agreed-late",
        "today",
        "ten-years",
        "past-late",
    ],
)
async def test_an_escalation_plan_review_is_from_the_day_agreed_to_ten_years_ahead(
    client: Client, auth: TokenFactory, review_on: str, occurred_at: str | None, accepted: bool
) -> None:
    write = await prepare(client, auth, "escalation-plans")
    before = await write.state()
    when = {"occurred_at": occurred_at} if occurred_at else {}
    response = await write.send(body={**write.body, "review_on": review_on, **when})
    if accepted:
        assert response.status_code == 201, response.text
        return
    problem = invalid(response, "review_on")
    assert "the day the plan was agreed" in problem["detail"]
    assert await write.state() == before


async def correct(write: Any, corrects: str, changes: dict[str, Any]) -> Any:
    return await write.send(body={"corrects": corrects, "reason": "wrong date", "changes": changes})


@pytest.mark.parametrize("when", TOO_EARLY.values(), ids=TOO_EARLY.keys())
async def test_a_correction_cannot_move_an_entry_before_1900(
    client: Client, auth: TokenFactory, when: str
) -> None:
    write = await prepare(client, auth, "corrections")
    before = await write.state()
    response = await correct(write, write.body["corrects"], {"occurred_at": when})
    invalid(response, "changes.occurred_at")
    assert await write.state() == before


@pytest.mark.parametrize("opened_on", ["0001-01-01", "1899-12-31"])
async def test_a_correction_cannot_move_an_opening_before_1900(
    client: Client, auth: TokenFactory, opened_on: str
) -> None:
    write = await prepare(client, auth, "corrections")
    opened = (await history(client, write.reader, write.case_id))[0]
    before = await write.state()
    response = await correct(write, opened["entry_id"], {"opened_on": opened_on})
    invalid(response, "changes.opened_on")
    assert await write.state() == before


@pytest.mark.parametrize("target_on", ["0001-01-01", "2999-01-01"])
async def test_a_correction_cannot_move_a_milestone_target_out_of_bounds(
    client: Client, auth: TokenFactory, target_on: str
) -> None:
    write = await prepare(client, auth, "milestones/reached")
    milestone = next(
        item
        for item in await history(client, write.reader, write.case_id)
        if item["type"] == "milestone_added"
    )
    before = await write.state()
    path = f"/cases/{write.case_id}/corrections"
    body = {"corrects": milestone["entry_id"], "reason": "wrong date", "changes": {"target_on": target_on}}
    invalid(await client.post(path, json=body, headers=write.clinician), "changes.target_on")
    assert await write.state() == before


async def test_a_correction_cannot_move_an_escalation_plan_review_before_it_was_agreed(
    client: Client, auth: TokenFactory
) -> None:
    write = await prepare(client, auth, "escalation-plans")
    plan = await write.entry("escalation-plans", {**write.body, "review_on": TODAY.isoformat()})
    before = await write.state()
    path = f"/cases/{write.case_id}/corrections"
    body = {"corrects": plan, "reason": "wrong date", "changes": {"review_on": "2000-01-01"}}
    invalid(await client.post(path, json=body, headers=write.clinician), "changes.review_on")
    assert await write.state() == before


async def test_a_time_just_inside_the_bounds_is_kept_as_sent(client: Client, auth: TokenFactory) -> None:
    write = await prepare(client, auth, "reviews")
    when = datetime(1900, 1, 1, tzinfo=UTC)
    opened = await client.post("/cases", json=opening(opened_on="1900-01-01"), headers=write.clinician)
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    response = await client.post(
        f"/cases/{case_id}/reviews",
        json={**write.body, "occurred_at": when.isoformat()},
        headers=write.clinician,
    )
    assert response.status_code == 201, response.text
