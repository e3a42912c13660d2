"""Purpose of use: every logged read of a person's record says why. The care team reads for direct
care; governance states its purpose from a short closed list, and a governance read without one is
refused with a problem naming the parameter and the values it takes, and logged as refused."""

from __future__ import annotations

import pytest

from service.http.access import Purpose
from tests.api.helpers import Body, Client, assert_problem, open_case, user
from tests.support.tokens import TokenFactory

PERSON_LEVEL_READS = [
    "",
    "/history",
    "/learned-since?recorded_after=2026-01-01T00:00:00Z",
    "/trajectory",
    "/learning-log",
    "/actions",
    "/fhir",
]
"""Every API read of one person's record that governance may make."""


async def _log_of(client: Client, auth: TokenFactory, case_id: str) -> list[Body]:
    answer = await client.get(
        "/audit/views", params={"case_id": case_id, "purpose": "audit"}, headers=auth("governance", user("g"))
    )
    assert answer.status_code == 200, answer.text
    items: list[Body] = answer.json()["items"]
    return items


@pytest.mark.parametrize("route", PERSON_LEVEL_READS)
async def test_a_governance_read_without_a_purpose_is_refused_naming_it_and_the_values(
    client: Client, auth: TokenFactory, route: str
) -> None:
    case_id = await open_case(client, auth("clinician", user()))
    reader = user("g")
    answer = await client.get(f"/cases/{case_id}{route}", headers=auth("governance", reader))
    problem = assert_problem(answer, 422, "/problems/purpose-required")
    assert problem["field"] == "purpose"
    assert problem["allowed"] == [p.value for p in Purpose]
    assert all(p.value in problem["detail"] for p in Purpose)
    logged = [(i["actor_id"], i["outcome"], i["purpose"]) for i in await _log_of(client, auth, case_id)]
    assert logged == [(reader, "refused", None)]


@pytest.mark.parametrize("route", PERSON_LEVEL_READS)
async def test_a_governance_read_with_a_purpose_is_served_and_the_log_keeps_it(
    client: Client, auth: TokenFactory, route: str
) -> None:
    case_id = await open_case(client, auth("clinician", user()))
    reader = user("g")
    sep = "&" if "?" in route else "?"
    answer = await client.get(
        f"/cases/{case_id}{route}{sep}purpose=complaint", headers=auth("governance", reader)
    )
    assert answer.status_code == 200, answer.text
    logged = [(i["actor_id"], i["outcome"], i["purpose"]) for i in await _log_of(client, auth, case_id)]
    assert logged == [(reader, "served", "complaint")]


async def test_the_care_team_reads_for_direct_care_without_stating_it(
    client: Client, auth: TokenFactory
) -> None:
    keyworker = user()
    case_id = await open_case(client, auth("clinician", keyworker))
    assert (await client.get(f"/cases/{case_id}", headers=auth("clinician", keyworker))).status_code == 200
    logged = [(i["actor_id"], i["purpose"]) for i in await _log_of(client, auth, case_id)]
    assert logged == [(keyworker, "direct_care")]


async def test_a_purpose_off_the_list_is_refused_naming_the_parameter(
    client: Client, auth: TokenFactory
) -> None:
    case_id = await open_case(client, auth("clinician", user()))
    answer = await client.get(
        f"/cases/{case_id}", params={"purpose": "curiosity"}, headers=auth("governance", user("g"))
    )
    problem = assert_problem(answer, 422)
    assert problem["errors"] == [
        {
            "field": "purpose",
            "message": "Not one of the accepted values.",
            "allowed": [p.value for p in Purpose],
        }
    ]
    assert await _log_of(client, auth, case_id) == []


async def test_the_csv_for_a_subject_access_request_carries_the_purpose(
    client: Client, auth: TokenFactory
) -> None:
    case_id = await open_case(client, auth("clinician", user()))
    governance = auth("governance", user("g"))
    await client.get(f"/cases/{case_id}", params={"purpose": "subject_access_request"}, headers=governance)
    answer = await client.get(
        "/audit/views.csv", params={"case_id": case_id, "purpose": "audit"}, headers=governance
    )
    header, row = answer.text.splitlines()
    assert header.split(",")[-1] == "purpose"
    assert row.split(",")[-1] == "subject_access_request"
