"""Query parameters the database cannot take are 422 problems naming the parameter, on every read
route: times without an offset or outside 1900-01-01 .. a year from now (which reached PostgreSQL as
-infinity, ran for seconds and wrote gigabytes of temporary files, or failed to convert), NUL in a
text filter, whole numbers beyond bigint. The sent value is never echoed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.helpers import Client, assert_problem, open_case, user
from tests.support.tokens import TokenFactory

PERIOD_ROUTES = [
    "/governance/review-impact",
    "/service/learning",
    "/service/spc/escalations-per-1000-open-days",
    "/service/spc/reviews-leading-to-change",
]
AUDIT = "/audit/entries"
GOOD_FROM, GOOD_TO = "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"
NEXT_YEAR = (datetime.now(UTC) + timedelta(days=400)).strftime("%Y-%m-%dT00:00:00Z")
BAD_TIMES = {
    "year-1": "0001-01-01T00:00:00Z",
    "year-1-converts-to-year-0": "0001-01-01T00:00:00+14:00",
    "year-9999-converts-to-10000": "9999-12-31T23:59:59.999999-14:00",
    "last-microsecond": "9999-12-31T23:59:59.999999Z",
    "before-1900": "1899-12-31T23:59:59Z",
    "over-a-year-ahead": NEXT_YEAR,
    "no-offset": "2025-03-03T10:00:00",
}


def field_of(response: Any) -> list[str]:
    problem = assert_problem(response, 422, "/problems/invalid-input")
    return [error["field"] for error in problem["errors"]]


async def get(client: Client, auth: TokenFactory, path: str, **params: str) -> Any:
    return await client.get(path, params=params, headers=auth("governance", user("g")))


@pytest.mark.parametrize("path", [*PERIOD_ROUTES, AUDIT])
@pytest.mark.parametrize("end", ["from", "to"])
@pytest.mark.parametrize("bad", BAD_TIMES.values(), ids=BAD_TIMES.keys())
async def test_a_time_out_of_bounds_or_without_an_offset_is_422_naming_it(
    client: Client, auth: TokenFactory, path: str, end: str, bad: str
) -> None:
    params = {"from": GOOD_FROM, "to": GOOD_TO, end: bad}
    response = await get(client, auth, path, **params)
    assert field_of(response) == [end]
    assert bad[:10] not in response.text, "the sent time is not echoed"


@pytest.mark.parametrize("path", [*PERIOD_ROUTES, AUDIT])
async def test_a_naive_start_with_an_aware_end_is_422_not_a_500(
    client: Client, auth: TokenFactory, path: str
) -> None:
    response = await get(client, auth, path, **{"from": "2026-01-01T00:00:00", "to": GOOD_TO})
    assert field_of(response) == ["from"]
    assert "offset" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("path", [*PERIOD_ROUTES, AUDIT])
async def test_times_with_any_offset_inside_the_bounds_are_answered(
    client: Client, auth: TokenFactory, path: str
) -> None:
    params = {"from": "1900-01-01T00:00:00Z", "to": "1909-01-01T00:00:00-14:00", "purpose": "audit"}
    response = await get(client, auth, path, **params)
    assert response.status_code == 200, response.text


async def test_a_backwards_audit_period_is_422_naming_to(client: Client, auth: TokenFactory) -> None:
    assert field_of(await get(client, auth, AUDIT, **{"from": GOOD_TO, "to": GOOD_FROM})) == ["to"]


@pytest.mark.parametrize(
    ("path", "name"),
    [*((path, "service") for path in PERIOD_ROUTES), (AUDIT, "actor"), (AUDIT, "type")],
)
@pytest.mark.parametrize(
    "bad", ["\x00", "a\x00b", "\x1b[31m", "x" * 201], ids=["nul", "inner-nul", "escape", "long"]
)
async def test_a_text_filter_postgresql_cannot_take_is_422_naming_it(
    client: Client, auth: TokenFactory, path: str, name: str, bad: str
) -> None:
    response = await get(client, auth, path, **{"from": GOOD_FROM, "to": GOOD_TO, name: bad})
    assert field_of(response) == [name]


BIGINT_PLUS_ONE = str(2**63)


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (AUDIT, "after"),
        (AUDIT, "min_position"),
        (AUDIT, "limit"),
        *((path, "min_position") for path in PERIOD_ROUTES),
        ("/cases/{case_id}", "version"),
        ("/cases/{case_id}/history", "after"),
        ("/cases/{case_id}/trajectory", "min_position"),
        ("/cases/{case_id}/learning-log", "min_position"),
    ],
)
async def test_a_number_beyond_bigint_is_422_naming_it(
    client: Client, auth: TokenFactory, path: str, name: str
) -> None:
    case_id = await open_case(client, auth("clinician", user()))
    params = {"from": GOOD_FROM, "to": GOOD_TO, name: BIGINT_PLUS_ONE}
    response = await get(client, auth, path.format(case_id=case_id), **params)
    assert field_of(response) == [name]
    assert BIGINT_PLUS_ONE not in response.text


@pytest.mark.parametrize("bad", ["0001-01-01", "9999-12-01"])
async def test_a_rebase_month_out_of_bounds_is_422_naming_it(
    client: Client, auth: TokenFactory, bad: str
) -> None:
    path = "/service/spc/reviews-leading-to-change"
    response = await get(client, auth, path, **{"from": GOOD_FROM, "to": GOOD_TO, "rebase": bad})
    assert field_of(response) == ["rebase"]
