"""What an invalid field's message says, over HTTP: what to send instead, described from the field's
type (bounds, lengths, formats, accepted values), for body fields and for path and query parameters
alike. Bodies keep the coercions Litestar applied before Waymark converted them itself."""

from __future__ import annotations

import pytest

from tests.api.helpers import ESCALATION, REVIEW, Client, assert_problem, prepare, user
from tests.support.tokens import TokenFactory

KINDS = ["routine", "formal", "mdt", "supervision"]
PLAN = {"rationale": "r", "support_hours_per_week": 169}
OFFSET = "Expected an RFC 3339 date and time (with an offset, such as 2026-01-01T09:30:00Z)."
CASES = {
    "confidence": ("reviews", {**REVIEW, "confidence": 11}, "Expected an integer (at least 1, at most 10)."),
    "measure_ids[0]": ("reviews", {**REVIEW, "measure_ids": ["x"]}, "Expected a UUID."),
    "ratings": ("reviews", {**REVIEW, "ratings": {}}, "Expected an object (at least 1 long)."),
    "escalation_plan_used_early": (
        "escalations",
        {**ESCALATION, "escalation_plan_used_early": 3},
        "Expected true or false.",
    ),
    "support_hours_per_week": ("plan-changes", PLAN, "Expected a number (at least 0, at most 168)."),
    "occurred_at": ("reviews", {**REVIEW, "occurred_at": "2026-01-01T10:00:00"}, OFFSET),
}


@pytest.mark.parametrize("field", CASES)
async def test_an_invalid_body_field_says_what_to_send(
    client: Client, auth: TokenFactory, field: str
) -> None:
    name, body, message = CASES[field]
    write = await prepare(client, auth, name)
    problem = assert_problem(await write.send(body=body), 422, "/problems/invalid-input")
    assert problem["errors"] == [{"field": field, "message": message}]


async def test_text_over_its_limit_names_the_limit(client: Client, auth: TokenFactory) -> None:
    write = await prepare(client, auth, "reviews")
    problem = assert_problem(await write.send(body={**REVIEW, "easier_now": "x" * 10_001}), 422)
    assert problem["errors"][0]["message"].startswith("Expected text (at least 1 long, at most 10000 long")


@pytest.mark.parametrize("value", [5, True, ["routine"], None])
async def test_a_coded_field_sent_as_another_type_lists_what_it_accepts(
    client: Client, auth: TokenFactory, value: object
) -> None:
    write = await prepare(client, auth, "reviews")
    problem = assert_problem(await write.send(body={**REVIEW, "kind": value}), 422)
    assert problem["errors"] == [
        {"field": "kind", "message": "Not one of the accepted values.", "allowed": KINDS}
    ]


async def test_a_missing_coded_field_is_required_and_lists_what_it_accepts(
    client: Client, auth: TokenFactory
) -> None:
    write = await prepare(client, auth, "reviews")
    body = {key: value for key, value in REVIEW.items() if key != "kind"}
    problem = assert_problem(await write.send(body=body), 422)
    message = "Required: send one of the accepted values."
    assert problem["errors"] == [{"field": "kind", "message": message, "allowed": KINDS}]


async def test_numbers_sent_as_strings_are_still_taken(client: Client, auth: TokenFactory) -> None:
    """Litestar converted request bodies leniently before Waymark did it itself; clients may rely on it."""
    write = await prepare(client, auth, "reviews")
    response = await write.send(
        body={**REVIEW, "confidence": "5", "ratings": {"stability_self_management": "6"}}
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "path", ["/governance/review-impact", "/service/learning", "/service/spc/reviews-leading-to-change"]
)
async def test_required_query_parameters_left_out_are_named(
    client: Client, auth: TokenFactory, path: str
) -> None:
    response = await client.get(path, headers=auth("governance", user("g")))
    problem = assert_problem(response, 422, "/problems/invalid-input")
    assert [error["field"] for error in problem["errors"]] == ["from", "to"]
    assert all(
        error["message"].startswith("Required: send an RFC 3339 date and time") for error in problem["errors"]
    )


async def test_a_query_parameter_out_of_bounds_says_the_bounds(client: Client, auth: TokenFactory) -> None:
    response = await client.get("/audit/entries?limit=501", headers=auth("governance", user("g")))
    problem = assert_problem(response, 422, "/problems/invalid-input")
    assert problem["errors"] == [
        {"field": "limit", "message": "Expected an integer (at least 1, at most 500)."}
    ]


async def test_an_unknown_path_value_lists_what_is_accepted(client: Client, auth: TokenFactory) -> None:
    period = "from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z"
    response = await client.get(f"/service/spc/Mrs-Jones?{period}", headers=auth("governance", user("g")))
    problem = assert_problem(response, 422, "/problems/invalid-input")
    [error] = problem["errors"]
    assert error["field"] == "metric"
    assert set(error["allowed"]) == {
        "escalations-per-1000-open-days",
        "reviews-leading-to-change",
        "reviews-leading-to-action",
    }
    assert "Jones" not in str(problem["errors"]) + problem["detail"]


async def test_the_schema_documents_every_problem_member(client: Client) -> None:
    schemas = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]
    assert {"field", "header", "current_version", "errors"} <= set(schemas["Problem"]["properties"])
    assert schemas["FieldError"]["properties"]["allowed"]["type"] == "array"
    assert schemas["FieldError"]["required"] == ["field", "message"]
