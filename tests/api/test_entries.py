"""Every entry route: 201 with {entry_id, version, position} and an ETag, the entry in the history,
and positions that increase through the global log."""

from __future__ import annotations

import pytest

from service.bootstrap import Runtime
from tests.api.helpers import (
    DOMAIN,
    ENTRY_ROUTES,
    GOAL,
    MEASURE,
    REVIEW,
    WRITE_ROUTES,
    Client,
    assert_problem,
    history,
    open_case,
    post,
    prepare,
    user,
)
from tests.support.tokens import TokenFactory


@pytest.mark.parametrize("name", WRITE_ROUTES)
async def test_a_write_answers_201_with_its_receipt_and_the_new_version_as_etag(
    client: Client, auth: TokenFactory, runtime: Runtime, name: str
) -> None:
    write = await prepare(client, auth, name)
    version_before, _ = await write.state()
    response = await write.send()
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/json")
    receipt = response.json()
    assert set(receipt) >= {"entry_id", "version", "position"}
    assert receipt["case_id"] == write.case_id
    assert receipt["version"] == version_before + 1
    assert response.headers["etag"] == f'"{receipt["version"]}"'
    assert receipt["position"] == runtime.records.case_recorder.max_notification_id()  # its place in the log
    assert "location" not in response.headers


@pytest.mark.parametrize("name", WRITE_ROUTES)
async def test_the_entry_written_is_the_last_in_the_history_with_its_author(
    client: Client, auth: TokenFactory, name: str
) -> None:
    write = await prepare(client, auth, name)
    receipt = (await write.send()).json()
    last = (await history(client, write.reader, write.case_id))[-1]
    assert last["entry_id"] == receipt["entry_id"]
    assert last["version"] == receipt["version"]
    expected_type = "care_team_changed" if write.method == "PUT" else ENTRY_ROUTES[name].type
    assert last["type"] == expected_type
    role = "admin" if write.method == "PUT" else "clinician"
    assert last["actor"] == {"id": write.author_id, "role": role}


async def test_positions_increase_through_the_log_across_cases(client: Client, auth: TokenFactory) -> None:
    clinician = auth("clinician", user())
    first, second = await open_case(client, clinician), await open_case(client, clinician)
    positions = []
    for case_id in (first, second, first, second):
        positions.append((await post(client, clinician, f"/cases/{case_id}/goals", GOAL))["position"])
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)


async def test_every_kind_of_entry_in_one_case_in_order(client: Client, auth: TokenFactory) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    base = f"/cases/{case_id}"
    goal = (await post(client, clinician, f"{base}/goals", GOAL))["entry_id"]
    receipts = [
        await post(
            client, clinician, f"{base}/goals/{goal}/revisions", {"reason": "r", "achievement": "improving"}
        ),
        milestone := await post(
            client, clinician, f"{base}/milestones", {"goal_id": goal, "description": "d"}
        ),
        await post(
            client, clinician, f"{base}/milestones/{milestone['entry_id']}/reached", {"evidence": "e"}
        ),
        measure := await post(client, clinician, f"{base}/measures", MEASURE),
        review := await post(
            client, clinician, f"{base}/reviews", {**REVIEW, "measure_ids": [measure["entry_id"]]}
        ),
        escalation := await post(
            client,
            clinician,
            f"{base}/escalations",
            {"severity": 3, "trigger": "t", "response": "r", "escalation_plan_used_early": False},
        ),
        await post(
            client, clinician, f"{base}/escalations/{escalation['entry_id']}/resolution", {"resolution": "r"}
        ),
        await post(
            client,
            clinician,
            f"{base}/plan-changes",
            {"rationale": "r", "because_of": [escalation["entry_id"]], "approach": "graded exposure"},
        ),
        await post(
            client,
            clinician,
            f"{base}/plan-confirmations",
            {"rationale": "r", "because_of": [review["entry_id"]]},
        ),
        await post(
            client,
            clinician,
            f"{base}/corrections",
            {"corrects": review["entry_id"], "reason": "r", "changes": {"autonomy": 6}},
        ),
        await post(
            client, clinician, f"{base}/statements", {"text": "I disagree", "about": [review["entry_id"]]}
        ),
        await post(client, clinician, f"{base}/closure", {"reason": "moved_away"}),
        await post(client, clinician, f"{base}/reopening", {"reason": "moved back"}),
    ]
    assert [r["version"] for r in receipts] == list(range(3, 3 + len(receipts)))
    positions = [r["position"] for r in receipts]
    assert positions == sorted(set(positions))
    types = [item["type"] for item in await history(client, clinician, case_id)]
    assert types == [
        "case_opened",
        "goal_set",
        "goal_revised",
        "milestone_added",
        "milestone_reached",
        "measure_recorded",
        "review_recorded",
        "escalation_raised",
        "escalation_resolved",
        "plan_changed",
        "plan_confirmed",
        "entry_corrected",
        "statement_added",
        "case_closed",
        "case_reopened",
    ]


@pytest.mark.parametrize(
    ("route", "path_field"),
    [
        ("goals/revisions", "goal_id"),
        ("milestones/reached", "milestone_id"),
        ("escalations/resolution", "escalation_id"),
    ],
)
async def test_a_nested_route_takes_the_entry_it_names_from_the_path_not_the_body(
    client: Client, auth: TokenFactory, route: str, path_field: str
) -> None:
    write = await prepare(client, auth, route)
    named_in_path = write.path.split("/")[-2]
    refused = await write.send(body={**write.body, path_field: named_in_path})
    assert path_field in [e["field"] for e in assert_problem(refused, 422)["errors"]]
    receipt = (await write.send()).json()
    last = (await history(client, write.reader, write.case_id))[-1]
    assert last["entry_id"] == receipt["entry_id"]
    assert last["data"][path_field] == named_in_path


async def test_a_measure_is_scored_by_the_service_and_a_sent_score_is_refused(
    client: Client, auth: TokenFactory
) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    refused = await client.post(
        f"/cases/{case_id}/measures", json={**MEASURE, "score": {"raw_total": 0}}, headers=clinician
    )
    assert "score" in [e["field"] for e in assert_problem(refused, 422)["errors"]]
    await post(
        client, clinician, f"/cases/{case_id}/measures", {**MEASURE, "items": [2] * 9, "domain": DOMAIN}
    )
    measure = (await history(client, clinician, case_id))[-1]["data"]
    assert measure["score"]["raw_total"] == 18
    assert measure["score"]["instrument_version"]
