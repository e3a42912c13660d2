"""Opening a case, reading it as it stands and as it stood, conditional reads, and the care team."""

from __future__ import annotations

from typing import Any

import pytest

from service.bootstrap import Runtime
from tests.api.helpers import (
    DOMAIN,
    ESCALATION,
    GOAL,
    OTHER_DOMAIN,
    REVIEW,
    Body,
    Client,
    assert_problem,
    history,
    open_case,
    opening,
    post,
    user,
)
from tests.support.tokens import TokenFactory


async def test_opening_a_case_answers_201_with_location_etag_and_receipt(
    client: Client, auth: TokenFactory
) -> None:
    clinician_id, colleague = user(), user()
    clinician = auth("clinician", clinician_id)
    response = await client.post("/cases", json=opening(care_team=[colleague]), headers=clinician)
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert set(receipt) >= {"case_id", "version", "position"}
    assert receipt["version"] == 1
    assert isinstance(receipt["position"], int)
    assert response.headers["location"] == f"/cases/{receipt['case_id']}"
    assert response.headers["etag"] == '"1"'
    case = await client.get(response.headers["location"], headers=clinician)
    assert case.status_code == 200
    assert case.json()["care_team"] == [colleague, clinician_id]
    assert case.json()["status"] == "open"
    assert case.json()["domains"] == [DOMAIN, OTHER_DOMAIN]


async def test_a_clinician_already_on_the_team_is_not_added_twice(client: Client, auth: TokenFactory) -> None:
    clinician_id, colleague = user(), user()
    clinician = auth("clinician", clinician_id)
    case_id = await open_case(client, clinician, care_team=[clinician_id, colleague, colleague])
    case = (await client.get(f"/cases/{case_id}", headers=clinician)).json()
    assert case["care_team"] == [clinician_id, colleague]


async def test_a_full_care_team_plus_the_opening_clinician_is_422_and_nothing_is_stored(
    client: Client, auth: TokenFactory, runtime: Runtime
) -> None:
    clinician = auth("clinician", user())
    recorder = runtime.records.case_recorder
    before = recorder.max_notification_id()
    refused = await client.post(
        "/cases", json=opening(care_team=[user() for _ in range(50)]), headers=clinician
    )
    problem = assert_problem(refused, 422)
    assert problem["field"] == "care_team"
    assert recorder.max_notification_id() == before
    # With 49 others the opening clinician makes 50, and the case reads back.
    case_id = await open_case(client, clinician, care_team=[user() for _ in range(49)])
    case = await client.get(f"/cases/{case_id}", headers=clinician)
    assert len(case.json()["care_team"]) == 50
    assert len(await history(client, clinician, case_id)) == 1


OPENING_REJECTIONS = {
    "400-malformed": (400, "clinician", {"content": b'{"person_ref": '}),
    "401-no-token": (401, None, {"json": opening()}),
    "403-governance": (403, "governance", {"json": opening()}),
    "413-too-big": (413, "clinician", {"content": b"{" + b" " * (256 * 1024) + b"}"}),
    "415-not-json": (415, "clinician", {"content": b"person_ref=P-1", "content_type": "text/plain"}),
    "422-invalid": (422, "clinician", {"json": opening(domains=["not_a_domain"])}),
}


@pytest.mark.parametrize("rejection", OPENING_REJECTIONS.values(), ids=OPENING_REJECTIONS.keys())
async def test_a_rejected_opening_adds_nothing_to_the_log(
    client: Client, auth: TokenFactory, runtime: Runtime, rejection: tuple[int, str | None, dict[str, Any]]
) -> None:
    status, role, request = rejection
    headers = auth(role, user()) if role else {}
    before = runtime.records.case_recorder.max_notification_id()
    if "content" in request:
        headers["Content-Type"] = request.get("content_type", "application/json")
        response = await client.post("/cases", content=request["content"], headers=headers)
    else:
        response = await client.post("/cases", json=request["json"], headers=headers)
    assert_problem(response, status)
    assert "location" not in response.headers
    assert runtime.records.case_recorder.max_notification_id() == before


async def test_the_case_as_it_stands(client: Client, auth: TokenFactory) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    base = f"/cases/{case_id}"
    goal = (await post(client, clinician, f"{base}/goals", GOAL))["entry_id"]
    await post(
        client, clinician, f"{base}/goals/{goal}/revisions", {"reason": "r", "achievement": "improving"}
    )
    milestone = (
        await post(client, clinician, f"{base}/milestones", {"goal_id": goal, "description": "shop"})
    )["entry_id"]
    await post(client, clinician, f"{base}/milestones/{milestone}/reached", {"evidence": "did it"})
    resolved = (await post(client, clinician, f"{base}/escalations", ESCALATION))["entry_id"]
    await post(client, clinician, f"{base}/escalations/{resolved}/resolution", {"resolution": "settled"})
    still_open = (await post(client, clinician, f"{base}/escalations", {**ESCALATION, "severity": 4}))[
        "entry_id"
    ]
    review = (await post(client, clinician, f"{base}/reviews", REVIEW))["entry_id"]
    await post(
        client,
        clinician,
        f"{base}/plan-changes",
        {
            "rationale": "r",
            "because_of": [review],
            "support_hours_per_week": 4.5,
            "strategies_added": ["diary"],
            "review_interval_weeks": 6,
        },
    )
    response = await client.get(base, headers=clinician)
    assert response.status_code == 200
    case = response.json()
    assert response.headers["etag"] == f'"{case["version"]}"' == '"10"'
    assert case["status"] == "open"
    [goal_view] = case["goals"]
    assert (goal_view["goal_id"], goal_view["achievement"], goal_view["domain"]) == (
        goal,
        "improving",
        DOMAIN,
    )
    assert [m["milestone_id"] for m in goal_view["milestones"]] == [milestone]
    assert goal_view["milestones"][0]["reached_at"] is not None
    assert [(e["escalation_id"], e["severity"]) for e in case["open_escalations"]] == [(still_open, 4)]
    assert case["plan"] == {
        "support_hours_per_week": 4.5,
        "approach": None,
        "strategies": ["diary"],
        "review_interval_weeks": 6,
    }
    assert case["last_review"]["entry_id"] == review
    assert case["last_review"]["ratings"] == {DOMAIN: 6}


async def test_closing_and_reopening_show_in_the_status(client: Client, auth: TokenFactory) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    await post(client, clinician, f"/cases/{case_id}/closure", {"reason": "goals_met"})
    assert (await client.get(f"/cases/{case_id}", headers=clinician)).json()["status"] == "closed"
    await post(client, clinician, f"/cases/{case_id}/reopening", {"reason": "re-referral"})
    assert (await client.get(f"/cases/{case_id}", headers=clinician)).json()["status"] == "open"


@pytest.mark.parametrize("tag", ['"{v}"', 'W/"{v}"', '"99", "{v}"', "*"])
async def test_if_none_match_with_the_current_etag_answers_304(
    client: Client, auth: TokenFactory, tag: str
) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    await post(client, clinician, f"/cases/{case_id}/goals", GOAL)
    unchanged = await client.get(f"/cases/{case_id}", headers={**clinician, "If-None-Match": tag.format(v=2)})
    assert unchanged.status_code == 304
    assert unchanged.headers["etag"] == '"2"'
    assert unchanged.content == b""


async def test_if_none_match_with_an_old_etag_answers_200_with_the_new_one(
    client: Client, auth: TokenFactory
) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    first = await client.get(f"/cases/{case_id}", headers=clinician)
    await post(client, clinician, f"/cases/{case_id}/goals", GOAL)
    moved = await client.get(
        f"/cases/{case_id}", headers={**clinician, "If-None-Match": first.headers["etag"]}
    )
    assert moved.status_code == 200
    assert moved.headers["etag"] == '"2"'
    assert moved.json()["version"] == 2


async def test_a_case_replayed_as_it_stood_at_each_version(client: Client, auth: TokenFactory) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    base = f"/cases/{case_id}"
    goal = (await post(client, clinician, f"{base}/goals", GOAL))["entry_id"]  # v2
    escalation = (await post(client, clinician, f"{base}/escalations", ESCALATION))["entry_id"]  # v3
    await post(client, clinician, f"{base}/reviews", REVIEW)  # v4
    await post(client, clinician, f"{base}/escalations/{escalation}/resolution", {"resolution": "ok"})  # v5
    await post(client, clinician, f"{base}/reviews", {**REVIEW, "ratings": {DOMAIN: 9}})  # v6
    await post(client, clinician, f"{base}/closure", {"reason": "goals_met"})  # v7

    async def at(version: int) -> Body:
        response = await client.get(f"{base}?version={version}", headers=clinician)
        assert response.status_code == 200
        assert response.headers["etag"] == f'"{version}"'
        body: Body = response.json()
        assert body["version"] == version
        return body

    assert (await at(1))["goals"] == []
    assert [g["goal_id"] for g in (await at(2))["goals"]] == [goal]
    assert (await at(2))["open_escalations"] == []
    assert [e["escalation_id"] for e in (await at(3))["open_escalations"]] == [escalation]
    assert (await at(3))["last_review"] is None
    assert (await at(4))["last_review"]["ratings"] == {DOMAIN: 6}
    assert (await at(5))["open_escalations"] == []
    assert (await at(6))["last_review"]["ratings"] == {DOMAIN: 9}
    assert (await at(6))["status"] == "open"
    assert (await at(7))["status"] == "closed"
    old = await client.get(f"{base}?version=4", headers={**clinician, "If-None-Match": '"4"'})
    assert old.status_code == 304
    beyond = await client.get(f"{base}?version=8", headers=clinician)
    assert_problem(beyond, 404, "/problems/version-not-found")


async def test_an_admin_replaces_the_care_team(client: Client, auth: TokenFactory) -> None:
    clinician = auth("clinician", user())
    newcomer_id, admin_id = user(), user("a")
    case_id = await open_case(client, clinician)
    response = await client.put(
        f"/cases/{case_id}/care-team",
        json={"care_team": [newcomer_id], "reason": "keyworker changed"},
        headers=auth("admin", admin_id),
    )
    assert response.status_code == 201, response.text
    assert set(response.json()) >= {"entry_id", "version", "position"}
    assert response.headers["etag"] == '"2"'
    newcomer = auth("clinician", newcomer_id)
    assert (await client.get(f"/cases/{case_id}", headers=newcomer)).json()["care_team"] == [newcomer_id]
    assert_problem(await client.get(f"/cases/{case_id}", headers=clinician), 403)
    assert_problem(await client.post(f"/cases/{case_id}/goals", json=GOAL, headers=clinician), 403)
    changed = (await history(client, newcomer, case_id))[-1]
    assert changed["type"] == "care_team_changed"
    assert changed["actor"] == {"id": admin_id, "role": "admin"}
    assert changed["data"]["reason"] == "keyworker changed"
