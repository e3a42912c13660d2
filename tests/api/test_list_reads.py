"""Lists that name case ids are person-level reads: every case an audit list, review impact or a
drill-down names is in the access log as read by whoever asked, with the purpose they stated, before
the list is served; a list that cannot be logged is refused (503), never served unlogged."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from projections.queries.disclosure import Disclosure, DisclosurePage
from service.database import DatabaseAddress
from service.http.listing import named_cases
from tests.api.helpers import REVIEW, Body, Client, assert_problem, open_case, opening, post, user
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.usefixtures("projector")  # its tests read projections

_BLOCK = "ALTER TABLE case_record_views ADD CONSTRAINT no_list_logging CHECK (false) NOT VALID"
_UNBLOCK = "ALTER TABLE case_record_views DROP CONSTRAINT no_list_logging"


def _run(database: DatabaseAddress, statement: str) -> None:
    with psycopg.connect(**database.connect_kwargs(), autocommit=True) as conn:
        conn.execute(statement)


async def _reads_by(client: Client, auth: TokenFactory, reader: str) -> list[Body]:
    views = {"actor": reader, "purpose": "audit"}
    answer = await client.get("/audit/views", params=views, headers=auth("governance", user("g")))
    assert answer.status_code == 200, answer.text
    items: list[Body] = answer.json()["items"]
    return items


async def test_the_audit_list_is_logged_as_a_read_of_every_case_it_names(
    client: Client, auth: TokenFactory
) -> None:
    keyworker = user()
    headers = auth("clinician", keyworker)
    first = await open_case(client, headers)
    opened = await post(client, headers, "/cases", opening())
    second = opened["case_id"]
    reader = user("g")
    asked = {"actor": keyworker, "purpose": "audit", "min_position": opened["position"]}
    listed = await client.get("/audit/entries", params=asked, headers=auth("governance", reader))
    assert listed.status_code == 200, listed.text
    assert {i["case_id"] for i in listed.json()["items"]} == {first, second}
    logged = {
        (i["case_id"], i["view"], i["role"], i["outcome"], i["purpose"])
        for i in await _reads_by(client, auth, reader)
    }
    assert logged == {
        (first, "list audit-entries", "governance", "served", "audit"),
        (second, "list audit-entries", "governance", "served", "audit"),
    }


async def test_review_impact_is_logged_as_a_read_of_the_cases_it_names(
    client: Client, auth: TokenFactory
) -> None:
    service, keyworker = f"svc-{uuid.uuid4().hex[:8]}", user()
    headers = auth("clinician", keyworker)
    case_id = await open_case(client, headers, service=service)
    reviewed = await client.post(f"/cases/{case_id}/reviews", json=REVIEW, headers=headers)
    assert reviewed.status_code == 201, reviewed.text
    now = datetime.now(UTC)
    params = {
        "from": (now - timedelta(days=30)).isoformat(),
        "to": (now + timedelta(days=1)).isoformat(),
        "service": service,
        "min_position": str(reviewed.json()["position"]),
        "purpose": "incident_review",
    }
    reader = user("g")
    answer = await client.get("/governance/review-impact", params=params, headers=auth("governance", reader))
    assert answer.status_code == 200, answer.text
    assert case_id in answer.text
    logged = [(i["case_id"], i["view"], i["purpose"]) for i in await _reads_by(client, auth, reader)]
    assert logged == [(case_id, "list review-impact", "incident_review")]


async def test_a_list_that_cannot_be_logged_is_refused(
    client: Client, auth: TokenFactory, database: DatabaseAddress
) -> None:
    keyworker = user()
    opened = await post(client, auth("clinician", keyworker), "/cases", opening())
    case_id = opened["case_id"]
    governance = auth("governance", user("g"))
    # Asked at the opening's position: a list read before the audit trail holds the case names no
    # case, needs no log and would be served.
    listed = {"actor": keyworker, "purpose": "audit", "min_position": opened["position"]}
    _run(database, _BLOCK)
    try:
        answer = await client.get("/audit/entries", params=listed, headers=governance)
        assert_problem(answer, 503)
        assert case_id not in answer.text
    finally:
        _run(database, _UNBLOCK)
    assert (await client.get("/audit/entries", params=listed, headers=governance)).status_code == 200


def test_every_case_id_an_answer_names_is_found_once() -> None:
    one, two = uuid.uuid4(), uuid.uuid4()
    at = datetime.now(UTC)
    items = [
        Disclosure(n, at, "u", "governance", case, "case", None, "served", None)
        for n, case in enumerate([one, two, one])
    ]
    assert named_cases(DisclosurePage(items, None)) == [one, two]
    assert named_cases({"nested": [DisclosurePage(items[1:2], None)]}) == [two]
    assert named_cases(DisclosurePage([], None)) == []


async def test_a_governance_list_without_a_purpose_is_refused_naming_it_and_logs_nothing(
    client: Client, auth: TokenFactory
) -> None:
    keyworker, reader = user(), user("g")
    case_id = await open_case(client, auth("clinician", keyworker))
    for path, params in (
        ("/audit/entries", {"actor": keyworker}),
        ("/audit/views", {"case_id": case_id}),
        ("/audit/views.csv", {"case_id": case_id}),
    ):
        refused = assert_problem(
            await client.get(path, params=params, headers=auth("governance", reader)),
            422,
            "/problems/purpose-required",
        )
        assert refused["field"] == "purpose"
        assert case_id not in str(refused)
    assert await _reads_by(client, auth, reader) == []


async def test_who_reads_the_access_log_is_in_it(client: Client, auth: TokenFactory) -> None:
    keyworker, auditor = user(), user("g")
    case_id = await open_case(client, auth("clinician", keyworker))
    assert (await client.get(f"/cases/{case_id}", headers=auth("clinician", keyworker))).status_code == 200
    for path in ("/audit/views", "/audit/views.csv"):
        params = {"case_id": case_id, "purpose": "complaint"}
        answer = await client.get(path, params=params, headers=auth("governance", auditor))
        assert answer.status_code == 200, answer.text
    logged = [(i["case_id"], i["view"], i["purpose"]) for i in await _reads_by(client, auth, auditor)]
    assert logged == [
        (case_id, "list disclosures", "complaint"),
        (case_id, "list disclosures.csv", "complaint"),
    ]
