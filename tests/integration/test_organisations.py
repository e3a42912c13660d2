"""Several organisations on one installation (``WAYMARK_ORGANISATIONS``): each organisation's records
in a database of its own, chosen by the token's organisation claim. One organisation's users, whatever
their role, reach none of another's records, and nothing of one is written into the other's database."""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from events.values import Role
from service.bootstrap import Runtime
from service.database import DatabaseAddress
from service.http.app import create_app
from service.http.auth import issue_token
from service.http.organisations import organisations_app
from service.settings import Settings, SettingsError
from tests.api.helpers import Client, assert_problem, open_case, post
from tests.support.databases import Copies, Drops, query

VIEWS = ["people", "case_status", "reviews", "setbacks"]
PERIOD = {
    "from": (datetime.now(UTC) - timedelta(days=400)).isoformat(),
    "to": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
}


@dataclass
class Installation:
    client: Client
    settings: Settings
    databases: dict[str, DatabaseAddress]

    def headers(self, role: str, organisation: str | None, sub: str = "same-user-id") -> dict[str, str]:
        token = issue_token(
            self.settings, sub=sub, role=Role(role), ttl_seconds=600, organisation=organisation
        )
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def installation(copies: Copies, drops: Drops, tmp_path: Path) -> AsyncIterator[Installation]:
    databases = {"north": copies.take(), "south": copies.take()}
    settings = Settings(
        organisations={name: database.url for name, database in databases.items()},
        jwt_secret=secrets.token_urlsafe(32),
        data_dir=tmp_path,
    )
    # The test client drives any ASGI app (lifespan included); its type parameter only names Litestar.
    router = cast("Litestar", organisations_app(settings, run_projector=True))
    try:
        async with AsyncTestClient(app=router) as client:
            yield Installation(client, settings, databases)
    finally:
        for database in databases.values():
            drops.drop(database)


async def north_record(installation: Installation) -> tuple[str, int]:
    """A case in the north with a review and a setback; its id and the last write's position."""
    clinician = installation.headers("clinician", "north")
    case_id = await open_case(
        installation.client, clinician, care_team=["same-user-id"], service="shared-name"
    )
    ratings = {"kind": "routine", "ratings": {"stability_self_management": 4}, "confidence": 5, "autonomy": 5}
    await post(installation.client, clinician, f"/cases/{case_id}/reviews", ratings)
    setback = {
        "domains": ["stability_self_management"],
        "what_happened": "north-only text",
        "contributing_factors": ["housing"],
        "risk_management": "daily calls",
        "learning": "early signs",
        "adaptation": "calls moved earlier",
    }
    receipt = await post(installation.client, clinician, f"/cases/{case_id}/setbacks", setback)
    return case_id, int(receipt["position"])


async def exported_rows(
    installation: Installation, organisation: str, view: str, position: int | None
) -> list[Any]:
    params: dict[str, Any] = {**PERIOD} if position is None else {**PERIOD, "min_position": position}
    answer = await installation.client.get(
        f"/exports/{view}", params=params, headers=installation.headers("governance", organisation)
    )
    assert answer.status_code == 200, answer.text
    return list(csv.reader(io.StringIO(answer.text)))[1:]


@pytest.mark.slow
async def test_one_organisation_reaches_nothing_of_another(installation: Installation) -> None:
    case_id, position = await north_record(installation)
    client = installation.client
    # The same user id and role in the south: the north's record does not exist for them.
    south_clinician = installation.headers("clinician", "south")
    for path in ("", "/history", "/trajectory", "/learning-log"):
        assert_problem(await client.get(f"/cases/{case_id}{path}", headers=south_clinician), 404)
    south_governance = installation.headers("governance", "south")
    answer = await client.get(f"/cases/{case_id}", params={"purpose": "audit"}, headers=south_governance)
    assert_problem(answer, 404)
    south_writes = await client.post(
        f"/cases/{case_id}/reviews",
        json={"kind": "routine", "ratings": {"stability_self_management": 9}, "confidence": 5, "autonomy": 5},
        headers=south_clinician,
    )
    assert_problem(south_writes, 404)
    # Every export of the south is empty (the south has written nothing, so it waits for no
    # position); the north's hold the record.
    for view in VIEWS:
        assert await exported_rows(installation, "north", view, position), view
        assert await exported_rows(installation, "south", view, None) == [], view
    # Nothing of the north was written into the south's database, and the north has it all.
    count = "SELECT count(*) AS n FROM case_records_events WHERE originator_id = %s"
    assert query(installation.databases["south"], count, (case_id,))[0]["n"] == 0
    assert query(installation.databases["north"], count, (case_id,))[0]["n"] == 3
    north_clinician = installation.headers("clinician", "north")
    assert (await client.get(f"/cases/{case_id}", headers=north_clinician)).status_code == 200


@pytest.mark.slow
@pytest.mark.parametrize("organisation", [None, "west", ""])
async def test_a_token_naming_no_organisation_served_here_is_refused(
    installation: Installation, organisation: str | None
) -> None:
    headers = installation.headers("clinician", organisation)
    problem = assert_problem(await installation.client.get("/cases", headers=headers), 401)
    assert problem["type"] == "/problems/unknown-organisation"
    assert "'org' claim" in problem["detail"]


@pytest.mark.slow
async def test_public_paths_answer_without_a_token(installation: Installation) -> None:
    assert (await installation.client.get("/health")).status_code == 200
    assert (await installation.client.get("/schema/openapi.json")).status_code == 200


@pytest.mark.slow  # a runtime of its own: about 0.6 s
async def test_each_waymark_refuses_a_token_of_another_organisation(
    settings: Settings, fresh_database: DatabaseAddress
) -> None:
    """The second lock: reached directly, one organisation's Waymark refuses a valid token naming
    another, so a fault in the router could not hand one organisation's requests to another."""
    north = replace(settings, database_url=fresh_database.url, organisation="north")
    runtime = Runtime.start(north)
    try:
        async with AsyncTestClient(app=create_app(runtime)) as client:
            for organisation, status in (("south", 401), (None, 401), ("north", 200)):
                token = issue_token(
                    north, sub="u", role=Role.GOVERNANCE, ttl_seconds=60, organisation=organisation
                )
                answer = await client.get(
                    "/audit/entries",
                    params={"purpose": "audit"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert answer.status_code == status, (organisation, answer.text)
    finally:
        runtime.close()


@pytest.mark.parametrize(
    "given", ["[]", "{}", '{"north": ""}', "north=postgresql://x", '{"": "postgresql://x"}']
)
def test_organisations_that_are_not_a_json_object_of_urls_are_a_settings_error(given: str) -> None:
    with pytest.raises(SettingsError, match="WAYMARK_ORGANISATIONS must be a JSON object"):
        Settings.from_env({"WAYMARK_ORGANISATIONS": given})


def test_organisations_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "WAYMARK_ORGANISATIONS": '{"north": "postgresql://n/w", "south": "postgresql://s/w"}',
            "WAYMARK_ORGANISATION_CLAIM": "org_code",
        }
    )
    assert settings.organisations == {"north": "postgresql://n/w", "south": "postgresql://s/w"}
    assert settings.organisation_claim == "org_code"
