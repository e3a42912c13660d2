"""Over HTTP: a clinician on the care team cannot use a correction to change who can read the record."""

from __future__ import annotations

from tests.api.helpers import Client, assert_problem, history, open_case, record_state, user
from tests.support.tokens import TokenFactory


async def test_a_correction_cannot_rewrite_the_care_team(client: Client, auth: TokenFactory) -> None:
    member_id, outsider_id = user(), user("x")
    member, outsider = auth("clinician", member_id), auth("clinician", outsider_id)
    governance = auth("governance", user("g"))
    case_id = await open_case(client, auth("clinician", user()))
    put = await client.put(
        f"/cases/{case_id}/care-team",
        json={"care_team": [member_id], "reason": "keyworker changed"},
        headers=auth("admin", user("a")),
    )
    assert put.status_code == 201, put.text
    before = await record_state(client, governance, case_id)
    correction = {
        "corrects": put.json()["entry_id"],
        "reason": "wrong team",
        "changes": {"care_team": [outsider_id]},
    }
    response = await client.post(f"/cases/{case_id}/corrections", json=correction, headers=member)
    problem = assert_problem(response, 409, "/problems/correction-not-allowed")
    assert problem["field"] == "changes.care_team"
    assert "/care-team" in problem["detail"]
    assert await record_state(client, governance, case_id) == before
    assert (await client.get(f"/cases/{case_id}", headers=member)).status_code == 200
    assert (await client.get(f"/cases/{case_id}", headers=outsider)).status_code == 403


async def test_a_correction_cannot_point_a_record_at_another_person(
    client: Client, auth: TokenFactory
) -> None:
    clinician = auth("clinician", user())
    governance = auth("governance", user("g"))
    case_id = await open_case(client, clinician, person_ref="P-right")
    opening = (await history(client, governance, case_id))[0]
    before = await record_state(client, governance, case_id)
    correction = {"corrects": opening["entry_id"], "reason": "misfiled", "changes": {"person_ref": "P-other"}}
    response = await client.post(f"/cases/{case_id}/corrections", json=correction, headers=clinician)
    problem = assert_problem(response, 409, "/problems/correction-not-allowed")
    assert problem["field"] == "changes.person_ref"
    assert "misfiled-record procedure" in problem["detail"]
    assert "P-other" not in response.text
    assert await record_state(client, governance, case_id) == before
    assert (await client.get(f"/cases/{case_id}?purpose=audit", headers=governance)).json()[
        "person_ref"
    ] == "P-right"
