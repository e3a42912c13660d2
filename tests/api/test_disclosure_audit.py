"""The disclosure audit: governance asks who looked at a person's record (by case or by the person's
reference, reads served and refused) and what a user looked at, as JSON pages or as CSV for a
subject access request; nobody else may ask."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from tests.api.helpers import Body, Client, assert_problem, opening, user
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.usefixtures("projector")  # its tests read projections


async def _open(
    client: Client, headers: dict[str, str], care_team: list[str], person: str
) -> tuple[str, int]:
    answer = await client.post(
        "/cases", json=opening(person_ref=person, care_team=care_team), headers=headers
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["case_id"]), int(answer.json()["position"])


async def _views(client: Client, headers: dict[str, str], **params: str | int) -> Body:
    answer = await client.get("/audit/views", params={"purpose": "audit", **params}, headers=headers)
    assert answer.status_code == 200, answer.text
    body: Body = answer.json()
    return body


@pytest.fixture
async def person(client: Client, auth: TokenFactory) -> dict[str, str]:
    """A person with two cases, read by their clinician, and one refused to an outsider."""
    ref, keyworker, outsider = f"P-{uuid.uuid4().hex[:8]}", user(), user()
    mine = auth("clinician", keyworker)
    first, _ = await _open(client, mine, [keyworker], ref)
    second, position = await _open(client, mine, [keyworker], ref)
    assert (await client.get(f"/cases/{first}", headers=mine)).status_code == 200
    assert (await client.get(f"/cases/{second}/history", headers=mine)).status_code == 200
    assert (await client.get(f"/cases/{first}", headers=auth("clinician", outsider))).status_code == 403
    return {"ref": ref, "first": first, "second": second, "keyworker": keyworker, "outsider": outsider} | {
        "position": str(position)
    }


async def test_governance_sees_who_looked_at_a_case_served_and_refused(
    client: Client, auth: TokenFactory, person: dict[str, str]
) -> None:
    page = await _views(client, auth("governance", user("g")), case_id=person["first"])
    seen = [(i["actor_id"], i["role"], i["view"], i["outcome"]) for i in page["items"]]
    assert seen == [
        (person["keyworker"], "clinician", "case", "served"),
        (person["outsider"], "clinician", "case", "refused"),
    ]
    assert page["next_after"] is None


async def test_a_person_s_reference_finds_the_reads_of_every_case_of_theirs(
    client: Client, auth: TokenFactory, person: dict[str, str]
) -> None:
    governance = auth("governance", user("g"))
    page = await _views(client, governance, person_ref=person["ref"], min_position=person["position"])
    assert {(i["case_id"], i["view"]) for i in page["items"]} == {
        (person["first"], "case"),
        (person["second"], "history"),
    }
    assert (await _views(client, governance, person_ref="P-nobody"))["items"] == []


async def test_what_a_user_looked_at_pages_in_the_order_logged(
    client: Client, auth: TokenFactory, person: dict[str, str]
) -> None:
    governance = auth("governance", user("g"))
    first = await _views(client, governance, actor=person["keyworker"], limit=1)
    assert [i["case_id"] for i in first["items"]] == [person["first"]]
    rest = await _views(client, governance, actor=person["keyworker"], after=first["next_after"])
    assert [i["case_id"] for i in rest["items"]] == [person["second"]]


async def test_a_subject_access_request_gets_the_reads_as_csv(
    client: Client, auth: TokenFactory, person: dict[str, str]
) -> None:
    answer = await client.get(
        "/audit/views.csv",
        params={"person_ref": person["ref"], "min_position": person["position"], "purpose": "audit"},
        headers=auth("governance", user("g")),
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert sorted((r["actor_id"], r["view"], r["outcome"]) for r in rows) == sorted(
        [
            (person["keyworker"], "case", "served"),
            (person["keyworker"], "history", "served"),
            (person["outsider"], "case", "refused"),
        ]
    )


@pytest.mark.parametrize("role", ["clinician", "admin", "reporting"])
async def test_only_governance_reads_the_disclosure_audit(
    client: Client, auth: TokenFactory, person: dict[str, str], role: str
) -> None:
    for path in ("/audit/views", "/audit/views.csv"):
        answer = await client.get(path, params={"case_id": person["first"]}, headers=auth(role, user()))
        assert_problem(answer, 403)


@pytest.mark.parametrize("path", ["/audit/views", "/audit/views.csv"])
async def test_a_filter_that_cannot_name_a_person_is_a_problem_naming_it(
    client: Client, auth: TokenFactory, path: str
) -> None:
    answer = await client.get(path, params={"person_ref": "x\x00y"}, headers=auth("governance", user("g")))
    assert "person_ref" in str(assert_problem(answer, 422))
