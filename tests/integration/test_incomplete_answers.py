"""One entry no projection can apply does not hold up the read side: every other case stays current
(read-your-writes answers at once), the entry's case answers with its projections marked incomplete,
/ready says "degraded" (not down), and ``waymark projections status|retry`` show and retry it."""

from __future__ import annotations

import os
import subprocess
from uuid import UUID

import pytest

from events.codec import encode_entry
from events.values import Role
from service.database import DatabaseAddress
from service.http.auth import issue_token
from service.settings import Settings
from tests.api.helpers import REVIEW, SETBACK, Client, open_case, post
from tests.projections.dead_letters import YEAR_ONE, insert_event, review
from tests.support.processes import WAYMARK

pytestmark = pytest.mark.slow  # starts a server and the waymark command: about 5 s

INCOMPLETE = {"entries_not_projected": 1, "detail": "1 entry could not be projected"}


@pytest.fixture
def app(own_app: tuple[Client, Settings]) -> tuple[Client, Settings]:
    """Waymark on a database of this test's own: a parked event there degrades no other test's /ready."""
    return own_app


def _headers(settings: Settings, role: Role, sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, sub=sub, role=role, ttl_seconds=600)}"}


def _waymark(database: DatabaseAddress, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": database.url, "COLUMNS": "200"}
    done = subprocess.run([WAYMARK, *args], env=env, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


async def test_an_entry_no_projection_can_apply_marks_only_its_case_incomplete(
    app: tuple[Client, Settings], fresh_database: DatabaseAddress
) -> None:
    client, settings = app
    clinician = _headers(settings, Role.CLINICIAN, "c-incomplete")
    governance = _headers(settings, Role.GOVERNANCE, "g-incomplete")
    bad, good = await open_case(client, clinician), await open_case(client, clinician)
    await post(client, clinician, f"/cases/{bad}/reviews", REVIEW)
    entry = review(UUID(bad), occurred_at=YEAR_ONE)
    at = await insert_event(fresh_database.url, UUID(bad), "review_recorded", encode_entry(entry))
    position = (await post(client, clinician, f"/cases/{good}/setbacks", SETBACK))["position"]

    current = await client.get(
        f"/cases/{good}/learning-log",
        params={"min_position": position, "purpose": "audit"},
        headers=governance,
    )
    assert current.status_code == 200, current.text
    assert (len(current.json()["items"]), current.json()["incomplete"]) == (1, None)
    for view in ("learning-log", "trajectory"):
        answer = await client.get(
            f"/cases/{bad}/{view}", params={"min_position": position, "purpose": "audit"}, headers=governance
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["incomplete"] == INCOMPLETE

    # The write side still reads the case, the entry's time as it was stored.
    for view in ("", "/history"):
        shown = await client.get(f"/cases/{bad}{view}", params={"purpose": "audit"}, headers=governance)
        assert shown.status_code == 200, shown.text

    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert {key: ready.json()[key] for key in ("status", "parked_events", "cases_incomplete")} == {
        "status": "degraded",
        "parked_events": {"audit": 1, "care": 1, "trajectory": 1},
        "cases_incomplete": 1,
    }

    status = _waymark(fresh_database, "projections", "status")
    rows = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in status.splitlines()
        if line.startswith("│")
    ]
    # Care teams do not read reviews, so nothing of theirs is parked.
    expected = {("audit", "1"), ("care", "1"), ("trajectory", "1"), ("care_teams", "0")}
    assert {(row[0], row[-1]) for row in rows} == expected, status
    retried = _waymark(fresh_database, "projections", "retry")
    for name in ("audit", "care", "trajectory"):
        assert f"{name}: 0 parked events applied, 1 still parked" in retried
    assert f"position {at:,} (case {bad}, entry {entry.entry_id}): OverflowError" in retried
