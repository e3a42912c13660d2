"""Invalid input is a 422 problem naming the field; coded fields list what they accept; a submitted value
is never echoed back; nothing is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.helpers import (
    DOMAIN,
    ESCALATION,
    GOAL,
    MEASURE,
    REVIEW,
    SETBACK,
    WRITE_ROUTES,
    Client,
    assert_problem,
    each_route,
    opening,
    prepare,
    user,
)
from tests.support.tokens import TokenFactory


def fields_named(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem["errors"]]


@pytest.mark.parametrize("name", each_route(WRITE_ROUTES))
async def test_an_unknown_field_is_422_naming_it_and_writes_nothing(
    client: Client, auth: TokenFactory, name: str
) -> None:
    write = await prepare(client, auth, name)
    before = await write.state()
    problem = assert_problem(
        await write.send(body={**write.body, "diagnosis": "x"}), 422, "/problems/invalid-input"
    )
    assert fields_named(problem) == ["diagnosis"]
    assert "diagnosis" in problem["detail"]
    assert await write.state() == before


INVALID = [
    ("reviews", {**REVIEW, "confidence": 11}, "confidence"),
    ("reviews", {**REVIEW, "ratings": {DOMAIN: 0}}, "ratings"),
    ("reviews", {**REVIEW, "ratings": {}}, "ratings"),
    ("reviews", {k: v for k, v in REVIEW.items() if k != "kind"}, "kind"),
    ("reviews", {**REVIEW, "occurred_at": "2026-01-01T10:00:00"}, "occurred_at"),  # no offset
    ("reviews", {**REVIEW, "occurred_at": "last tuesday"}, "occurred_at"),
    ("reviews", {**REVIEW, "easier_now": "x" * 10_001}, "easier_now"),
    ("reviews", {**REVIEW, "easier_now": "nul \u0000 inside"}, "easier_now"),
    ("reviews", {**REVIEW, "measure_ids": ["not-a-uuid"]}, "measure_ids[0]"),
    ("goals", {**GOAL, "in_own_words": ""}, "in_own_words"),
    ("measures", {**MEASURE, "items": []}, "items"),
    ("setbacks", {**SETBACK, "domains": []}, "domains"),
    ("escalations", {**ESCALATION, "severity": 5}, "severity"),
    ("escalations", {**ESCALATION, "escalation_plan_used_early": "yes"}, "escalation_plan_used_early"),
    ("plan-changes", {"rationale": "r", "support_hours_per_week": 169}, "support_hours_per_week"),
    ("plan-confirmations", {"rationale": "r", "because_of": []}, "because_of"),
    ("corrections", {"corrects": "x", "reason": "r", "changes": {"a": 1}}, "corrects"),
    (
        "corrections",
        {"corrects": "00000000-0000-0000-0000-000000000000", "reason": "r", "changes": {}},
        "changes",
    ),
    ("care-team", {"care_team": [], "reason": "r"}, "care_team"),
    ("care-team", {"care_team": ["has space"], "reason": "r"}, "care_team[0]"),
]


@pytest.mark.parametrize(("name", "body", "field"), INVALID, ids=[f"{n}-{f}" for n, _, f in INVALID])
async def test_an_invalid_field_is_422_naming_it_and_writes_nothing(
    client: Client, auth: TokenFactory, name: str, body: dict[str, Any], field: str
) -> None:
    write = await prepare(client, auth, name)
    before = await write.state()
    problem = assert_problem(await write.send(body=body), 422, "/problems/invalid-input")
    assert field in fields_named(problem)
    assert all(error["message"] for error in problem["errors"])
    assert await write.state() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (opening(opened_on="next week"), "opened_on"),
        (opening(domains=[]), "domains"),
        (opening(person_ref=""), "person_ref"),
        (opening(care_team=["no spaces allowed"]), "care_team[0]"),
        ({k: v for k, v in opening().items() if k != "service"}, "service"),
    ],
)
async def test_an_invalid_opening_is_422_naming_the_field(
    client: Client, auth: TokenFactory, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/cases", json=body, headers=auth("clinician", user()))
    assert field in fields_named(assert_problem(response, 422, "/problems/invalid-input"))


@pytest.mark.parametrize("body", [b"[]", b"null", b'"text"', b"3"], ids=["array", "null", "string", "number"])
async def test_a_body_that_is_not_an_object_is_422_naming_the_body(
    client: Client, auth: TokenFactory, body: bytes
) -> None:
    write = await prepare(client, auth, "reviews")
    problem = assert_problem(await write.send(content=body, extra={"Content-Type": "application/json"}), 422)
    assert fields_named(problem) == ["body"]


DOMAINS = [
    "stability_self_management",
    "daily_living_independence",
    "connection_participation",
    "crisis_pattern_reduction",
]
ENUMS = [
    ("reviews", lambda v: {**REVIEW, "kind": v}, "kind", ["routine", "formal", "mdt", "supervision"]),
    ("reviews", lambda v: {**REVIEW, "ratings": {v: 5}}, "ratings", DOMAINS),
    ("goals", lambda v: {**GOAL, "domain": v}, "domain", DOMAINS),
    ("measures", lambda v: {**MEASURE, "instrument": v}, "instrument", None),
    ("setbacks", lambda v: {**SETBACK, "contributing_factors": [v]}, "contributing_factors[0]", None),
    ("statements", lambda v: {"text": "t", "made_by": v}, "made_by", ["person", "representative"]),
    ("closure", lambda v: {"reason": v}, "reason", None),
    ("goals/revisions", lambda v: {"reason": "r", "achievement": v}, "achievement", None),
]
CLINICAL = [
    "Mrs Jones disclosed thoughts of self-harm",
    "Tom's voices told him he'd be better off gone",
    'She said "I can\'t keep myself safe"',
]


@pytest.mark.parametrize("value", CLINICAL, ids=["plain", "apostrophes", "quotes"])
@pytest.mark.parametrize("coded", ENUMS, ids=[e[2] for e in ENUMS])
async def test_a_coded_field_lists_what_it_accepts_and_never_echoes_what_was_sent(
    client: Client, auth: TokenFactory, coded: tuple[str, Any, str, list[str] | None], value: str
) -> None:
    name, make, field, allowed = coded
    write = await prepare(client, auth, name)
    before = await write.state()
    response = await write.send(body=make(value))
    problem = assert_problem(response, 422)
    [error] = problem["errors"]
    assert error["field"] == field
    assert error["message"] == "Not one of the accepted values."
    assert error["allowed"]
    if allowed is not None:
        assert error["allowed"] == allowed
    for fragment in (value, "Jones", "self-harm", "voices", "better off", "safe"):
        assert fragment not in response.text
    assert await write.state() == before


async def test_a_clinical_value_in_a_correction_is_not_echoed(client: Client, auth: TokenFactory) -> None:
    write = await prepare(client, auth, "reviews")
    review = (await write.send()).json()["entry_id"]
    before = await write.state()
    secret = "Mrs Jones said she'd end it tonight"
    response = await write.client.post(
        f"/cases/{write.case_id}/corrections",
        json={"corrects": review, "reason": "r", "changes": {"kind": secret}},
        headers=write.headers,
    )
    assert_problem(response, 422)
    assert "Jones" not in response.text
    assert "tonight" not in response.text
    assert await write.state() == before


def at(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


DOMAIN_422 = [
    ("reviews", {**REVIEW, "occurred_at": at(timedelta(days=1))}, "occurred-in-future", "occurred_at"),
    (
        "goals",
        {**GOAL, "occurred_at": at(-timedelta(days=400))},
        "occurred-before-case-opened",
        "occurred_at",
    ),
    ("plan-changes", {"rationale": "same as before"}, "nothing-changed", "support_hours_per_week"),
    ("measures", {"instrument": "gad7", "items": [1, 2]}, "invalid-entry", "items"),
    ("measures", {"instrument": "gad7", "items": [0, 0, 0, 0, 0, 0, 9]}, "invalid-entry", "items[6]"),
]


@pytest.mark.parametrize("case", DOMAIN_422, ids=[d[2] for d in DOMAIN_422])
async def test_an_entry_breaking_its_own_rules_is_422_with_its_problem_type(
    client: Client, auth: TokenFactory, case: tuple[str, dict[str, Any], str, str]
) -> None:
    name, body, problem_type, field = case
    write = await prepare(client, auth, name)
    before = await write.state()
    problem = assert_problem(await write.send(body=body), 422, f"/problems/{problem_type}")
    assert problem["field"] == field
    assert fields_named(problem) == [field]
    assert await write.state() == before


async def test_a_goal_revision_that_changes_nothing_is_422(client: Client, auth: TokenFactory) -> None:
    write = await prepare(client, auth, "goals/revisions")
    before = await write.state()
    problem = assert_problem(await write.send(body={"reason": "nothing new"}), 422, "/problems/invalid-entry")
    assert problem["field"] == "achievement"
    assert await write.state() == before
