"""Escalation (crisis) plans over HTTP: agreed with the person, shown on the case as the plan in force,
superseded by the next, corrected like any entry, and readable as they stood at an earlier version."""

from __future__ import annotations

from tests.api.helpers import ESCALATION_PLAN, Body, Client, assert_problem, history, open_case, post, user
from tests.support.tokens import TokenFactory


async def agree(client: Client, headers: dict[str, str], case_id: str, **changes: object) -> Body:
    return await post(client, headers, f"/cases/{case_id}/escalation-plans", {**ESCALATION_PLAN, **changes})


async def test_the_plan_agreed_is_shown_on_the_case(client: Client, auth: TokenFactory) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    assert (await client.get(f"/cases/{case_id}", headers=clinician)).json()["escalation_plan"] is None
    receipt = await agree(client, clinician, case_id, review_on="2030-01-31")
    plan = (await client.get(f"/cases/{case_id}", headers=clinician)).json()["escalation_plan"]
    assert plan == {
        "plan_id": receipt["entry_id"],
        "agreed_at": plan["agreed_at"],
        "early_signs": ESCALATION_PLAN["early_signs"],
        "what_helps": ESCALATION_PLAN["what_helps"],
        "contacts": ESCALATION_PLAN["contacts"],
        "person_has_copy": True,
        "shared_with": ESCALATION_PLAN["shared_with"],
        "review_on": "2030-01-31",
        "supersedes": None,
        "corrected_by": [],
    }
    [item] = [
        item for item in await history(client, clinician, case_id) if item["entry_id"] == plan["plan_id"]
    ]
    assert item["type"] == "escalation_plan_agreed"


async def test_a_later_plan_supersedes_the_earlier_and_the_earlier_is_still_readable(
    client: Client, auth: TokenFactory
) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    first = await agree(client, clinician, case_id, what_helps=["music"])
    second = await agree(client, clinician, case_id, what_helps=["music", "a walk"])
    plan = (await client.get(f"/cases/{case_id}", headers=clinician)).json()["escalation_plan"]
    assert (plan["plan_id"], plan["supersedes"], plan["what_helps"]) == (
        second["entry_id"],
        first["entry_id"],
        ["music", "a walk"],
    )
    then = await client.get(f"/cases/{case_id}?version={first['version']}", headers=clinician)
    assert then.json()["escalation_plan"]["plan_id"] == first["entry_id"]


async def test_a_correction_of_the_plan_in_force_shows_on_the_case(
    client: Client, auth: TokenFactory
) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    plan_id = (await agree(client, clinician, case_id))["entry_id"]
    correction = await post(
        client,
        clinician,
        f"/cases/{case_id}/corrections",
        {"corrects": plan_id, "reason": "wrong number", "changes": {"contacts": ["crisis team, 24 hours"]}},
    )
    plan = (await client.get(f"/cases/{case_id}", headers=clinician)).json()["escalation_plan"]
    assert (plan["plan_id"], plan["contacts"]) == (plan_id, ["crisis team, 24 hours"])
    assert plan["corrected_by"] == [correction["entry_id"]]


async def test_a_plan_without_early_signs_is_422_naming_the_field(client: Client, auth: TokenFactory) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    response = await client.post(
        f"/cases/{case_id}/escalation-plans", json={**ESCALATION_PLAN, "early_signs": []}, headers=clinician
    )
    problem = assert_problem(response, 422)
    assert [error["field"] for error in problem["errors"]] == ["early_signs"]
