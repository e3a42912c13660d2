"""Retention and the governance decision before any erasure: `waymark retention list` names closed
cases past their retention period (20 years after the last contact by default); an approval at the
end of retention is refused for a case still within it; erasure is refused without an approval, and
only governance decides either."""

from __future__ import annotations

from datetime import UTC, datetime

import anyio.to_thread
import pytest
from click.testing import CliRunner

from service.cli.root import main
from service.settings import Settings
from tests.api.helpers import GOAL, Body, Client, assert_problem, open_case, post, user
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.usefixtures("projector")  # its tests read projections

LONG_AGO = "2001-03-04T10:00:00+00:00"
"""A last contact more than 20 years ago."""


async def _closed_case(client: Client, team: dict[str, str], *, long_ago: bool) -> str:
    if long_ago:
        case_id = await open_case(client, team, opened_on="2000-01-10")
        await post(client, team, f"/cases/{case_id}/goals", {**GOAL, "occurred_at": LONG_AGO})
        closure: Body = {"reason": "goals_met", "occurred_at": LONG_AGO}
    else:
        case_id = await open_case(client, team)
        closure = {"reason": "goals_met"}
    await post(client, team, f"/cases/{case_id}/closure", closure)
    return case_id


def _retention(case_id: str) -> Body:
    return {"grounds": "retention_ended", "decision_ref": "IG panel 2026-11, item 4"}


async def test_an_approval_at_the_end_of_retention_needs_the_period_passed(
    client: Client, auth: TokenFactory
) -> None:
    team, governance = auth("clinician", user()), auth("governance", user("g"))
    recent = await _closed_case(client, team, long_ago=False)
    refused = assert_problem(
        await client.post(f"/cases/{recent}/erasure-approvals", json=_retention(recent), headers=governance),
        409,
    )
    assert refused["field"] == "grounds"
    old = await _closed_case(client, team, long_ago=True)
    assert_problem(
        await client.post(f"/cases/{old}/erasure-approvals", json=_retention(old), headers=team), 403
    )
    await post(client, governance, f"/cases/{old}/erasure-approvals", _retention(old))


async def test_erasure_needs_a_recorded_approval(client: Client, auth: TokenFactory) -> None:
    team, governance = auth("clinician", user()), auth("governance", user("g"))
    case_id = await open_case(client, team)
    goal = await post(client, team, f"/cases/{case_id}/goals", GOAL)
    refused = assert_problem(
        await client.post(
            f"/cases/{case_id}/erasures", json={"approval_id": goal["entry_id"]}, headers=governance
        ),
        409,
    )
    assert refused["field"] == "approval_id"
    not_in_case = assert_problem(
        await client.post(
            f"/cases/{case_id}/erasure-approvals",
            json={"grounds": "misfiled", "decision_ref": "IG 9", "entries": [case_id]},
            headers=governance,
        ),
        409,
    )
    assert not_in_case["field"] == "entries[0]"
    misfiled = {"grounds": "misfiled", "decision_ref": "IG 9", "entries": [goal["entry_id"]]}
    assert_problem(await client.post(f"/cases/{case_id}/erasure-approvals", json=misfiled, headers=team), 403)
    await post(client, governance, f"/cases/{case_id}/erasure-approvals", misfiled)
    # Carrying an approval out is tests/api/test_erasure.py's.


async def test_retention_list_names_closed_cases_past_their_period_with_the_decision(
    client: Client, auth: TokenFactory, settings: Settings
) -> None:
    team, governance = auth("clinician", user()), auth("governance", user("g"))
    old, undecided, recent = (
        await _closed_case(client, team, long_ago=True),
        await _closed_case(client, team, long_ago=True),
        await _closed_case(client, team, long_ago=False),
    )
    approval = await post(client, governance, f"/cases/{old}/erasure-approvals", _retention(old))
    read = await client.get(f"/cases/{old}/learning-log?min_position={approval['position']}", headers=team)
    assert read.status_code == 200, read.text
    env = {"DATABASE_URL": settings.database_url}
    # The command runs its own event loop: in a thread, beside the test's.
    result = await anyio.to_thread.run_sync(lambda: CliRunner().invoke(main, ["retention", "list"], env=env))
    assert result.exit_code == 0, result.output
    lines = {line.split("\t")[0]: line.split("\t") for line in result.stdout.splitlines()}
    assert recent not in lines
    assert lines[undecided][1:] == ["north", "2001-03-04", "2021-03-04", "awaiting appraisal"]
    assert lines[old][4] == "erasure approved (IG panel 2026-11, item 4), not yet carried out"
    assert "awaiting a governance decision" in result.stderr
    assert datetime.now(UTC).year - 20 > 2001


async def test_an_erasure_approval_is_never_corrected(client: Client, auth: TokenFactory) -> None:
    team, governance = auth("clinician", user()), auth("governance", user("g"))
    case_id = await open_case(client, team)
    goal = await post(client, team, f"/cases/{case_id}/goals", GOAL)
    misfiled = {"grounds": "misfiled", "decision_ref": "IG 9", "entries": [goal["entry_id"]]}
    approval = await post(client, governance, f"/cases/{case_id}/erasure-approvals", misfiled)
    correction = {
        "corrects": approval["entry_id"],
        "reason": "wrong entry",
        "changes": {"decision_ref": "IG 10"},
    }
    refused = assert_problem(
        await client.post(f"/cases/{case_id}/corrections", json=correction, headers=team), 409
    )
    assert refused["field"] == "corrects"
