"""GET /cases/{id}/fhir over the real app: every entry written through the API maps into a Bundle that
validates; corrections are amendments and late entries are marked; it is read as GET /cases/{id} is
(care team or governance, never reporting or an outsider) and every read is logged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from service.database import DatabaseAddress
from service.interop.fhir.provenance import LATE_ENTRY
from tests.api.helpers import (
    GOAL,
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
from tests.fhir_checks import by_type, validate_bundle
from tests.support.databases import query
from tests.support.tokens import TokenFactory


async def _bundle(client: Client, headers: dict[str, str], case_id: str) -> dict[str, Any]:
    response = await client.get(f"/cases/{case_id}/fhir", params={"purpose": "audit"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert response.headers["cache-control"] == "no-store"
    bundle: dict[str, Any] = response.json()
    validate_bundle(bundle)
    return bundle


@pytest.mark.parametrize("name", WRITE_ROUTES)
async def test_every_kind_of_entry_written_maps_into_a_valid_bundle(
    client: Client, auth: TokenFactory, name: str
) -> None:
    write = await prepare(client, auth, name)
    assert (await write.send()).status_code == 201
    bundle = await _bundle(client, write.reader, write.case_id)
    entries = await history(client, write.reader, write.case_id)
    assert [p["id"] for p in by_type(bundle, "Provenance")] == [item["entry_id"] for item in entries]


async def test_a_correction_is_an_amendment_and_a_late_entry_is_marked(
    client: Client, auth: TokenFactory
) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    goal = (await post(client, clinician, f"/cases/{case_id}/goals", GOAL))["entry_id"]
    correction = {"corrects": goal, "reason": "misheard", "changes": {"in_own_words": "go out alone"}}
    corrected = (await post(client, clinician, f"/cases/{case_id}/corrections", correction))["entry_id"]
    days_ago = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    late = (await post(client, clinician, f"/cases/{case_id}/reviews", {**REVIEW, "occurred_at": days_ago}))[
        "entry_id"
    ]

    bundle = await _bundle(client, clinician, case_id)
    (found,) = by_type(bundle, "Goal")
    assert found["description"]["text"] == "go out alone"
    assert found["meta"]["versionId"] == "2"
    provenance = {p["id"]: p for p in by_type(bundle, "Provenance")}
    assert provenance[corrected]["activity"]["coding"][0]["code"] == "amend"
    assert provenance[corrected]["entity"][0]["what"]["identifier"]["value"] == goal
    assert provenance[late]["meta"]["tag"] == [LATE_ENTRY]
    assert "meta" not in provenance[goal]


async def test_the_care_team_and_governance_read_it_and_no_one_else(
    client: Client, auth: TokenFactory
) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    await _bundle(client, clinician, case_id)
    await _bundle(client, auth("governance", user("g")), case_id)
    for outsider in (auth("clinician", user()), auth("reporting", user("r")), auth("admin", user("a"))):
        assert_problem(await client.get(f"/cases/{case_id}/fhir", headers=outsider), 403)
    assert_problem(await client.get(f"/cases/{case_id}/fhir"), 401)


async def test_no_such_case_is_a_404(client: Client, auth: TokenFactory) -> None:
    missing = "00000000-0000-4000-8000-00000000f00d"
    assert_problem(await client.get(f"/cases/{missing}/fhir", headers=auth("governance", user("g"))), 404)


async def test_every_read_is_logged_and_a_refused_one_as_refused(
    client: Client, auth: TokenFactory, database: DatabaseAddress
) -> None:
    reader, outsider = user(), user()
    case_id = await open_case(client, auth("clinician", reader))
    assert (
        await client.get(f"/cases/{case_id}/fhir", headers=auth("clinician", outsider))
    ).status_code == 403
    await _bundle(client, auth("clinician", reader), case_id)
    rows = query(
        database,
        "SELECT actor_id, role, view, case_version, outcome FROM case_record_views WHERE case_id = %s"
        " ORDER BY view_id",
        [case_id],
    )
    assert [(r["actor_id"], r["role"], r["view"], r["case_version"], r["outcome"]) for r in rows] == [
        (outsider, "clinician", "fhir", None, "refused"),
        (reader, "clinician", "fhir", 1, "served"),
    ]
