"""Erasure by crypto-shredding, attacked: a case's text is sealed at rest (never in the events table
as written); once governance's approval is carried out, the text is gone from every API read, the
FHIR export, the reporting exports, every read-model table, the events and snapshots tables, while
the entries' structure stays and `waymark audit verify` still holds. A misfiled entry is erased
alone, its correction with it."""

from __future__ import annotations

import base64
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import psycopg
import pytest
from litestar.testing import AsyncTestClient

from events.codec import encode_entry
from events.sealing import Keyring, KeyUnavailable
from service.bootstrap import Runtime, app_extensions
from service.database import DatabaseAddress
from service.http.app import create_app
from service.settings import Settings
from service.write.checkpoints import verify_chain
from service.write.keys import rewrap
from tests.api.helpers import GOAL, REVIEW, SETBACK, Body, Client, assert_problem, open_case, post, user
from tests.projections.dead_letters import YEAR_ONE, insert_event, review
from tests.support.tokens import TokenFactory

KEY = base64.b64encode(bytes(range(32))).decode()
CANARY = "saffron lighthouse"
"""A phrase written into every kind of text the case holds, looked for everywhere afterwards."""
LONG_AGO = "2001-03-04T10:00:00+00:00"


@pytest.fixture
async def sealed(
    fresh_database: DatabaseAddress, settings: Settings
) -> AsyncIterator[tuple[Client, DatabaseAddress]]:
    """The real app on a database of its own, sealing with a master key."""
    sealing = dataclasses.replace(settings, database_url=fresh_database.url, record_key=KEY)
    runtime = Runtime.start(sealing)
    try:
        app = create_app(runtime, extensions=app_extensions(sealing, demo=True))
        async with AsyncTestClient(app=app) as client:
            yield client, fresh_database
    finally:
        runtime.close()


def _canary(text: str) -> str:
    return f"{text} ({CANARY})"


async def _record(
    client: Client, team: dict[str, str], outsider: dict[str, str]
) -> tuple[str, dict[str, str]]:
    """A closed case, long ago, with the canary in its person reference and in every kind of text."""
    case_id = await open_case(client, team, opened_on="2000-01-10", person_ref=f"P-{CANARY}")
    at: Body = {"occurred_at": LONG_AGO}
    goal = await post(
        client, team, f"/cases/{case_id}/goals", {**GOAL, "in_own_words": _canary("shops"), **at}
    )
    review = {**REVIEW, "easier_now": _canary("mornings"), **at}
    await post(client, team, f"/cases/{case_id}/reviews", review)
    setback = {**SETBACK, "what_happened": _canary("a hard week"), **at}
    await post(client, team, f"/cases/{case_id}/setbacks", setback)
    plan = {"rationale": _canary("more support"), "approach": _canary("coaching"), **at}
    await post(client, team, f"/cases/{case_id}/plan-changes", plan)
    correction = {
        "corrects": goal["entry_id"],
        "reason": _canary("misheard"),
        "changes": {"in_own_words": CANARY},
    }
    await post(client, team, f"/cases/{case_id}/corrections", correction)
    await post(
        client, team, f"/cases/{case_id}/closure", {"reason": "goals_met", "note": _canary("ended"), **at}
    )
    grant = {"reason": "emergency", "detail": _canary("seen out of hours")}
    await post(client, outsider, f"/cases/{case_id}/break-glass", grant)
    return case_id, {"goal": goal["entry_id"]}


def _stored(database: DatabaseAddress, case_id: str) -> list[str]:
    """Every stored row of the case, as text: events, snapshots, and every table of every schema
    but the write side's own logs (which hold no text)."""
    found: list[str] = []
    with psycopg.connect(**database.connect_kwargs()) as conn:
        found += [
            bytes(state).decode()
            for (state,) in conn.execute(
                "SELECT state FROM case_records_events WHERE originator_id = %s"
                " UNION ALL SELECT state FROM case_records_snapshots WHERE originator_id = %s",
                (case_id, case_id),
            )
        ]
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema LIKE 'read_%%' AND table_type = 'BASE TABLE'"
        ).fetchall()
        for schema, table in tables:
            rows = conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t').fetchall()  # noqa: S608
            found += [row[0] for row in rows]
    return found


async def _record_page(client: Client, case_id: str) -> httpx.Response:
    """The record page, read by the demo governance lead (signed in through the page's own form)."""
    form = (await client.get("/app/sign-in")).text
    token = form.split('name="csrf_token" value="')[1].split('"')[0]
    await client.post("/app/sign-in/demo", data={"user": "demo-governance", "csrf_token": token})
    return await client.get(f"/app/cases/{case_id}", params={"purpose": "audit"})


async def _reads(
    client: Client, case_id: str, team: dict[str, str], governance: dict[str, str], until: str
) -> list[str]:
    """Every read of the case a person or a tool can make, as text."""
    paths = ["", "/history", "/learning-log", "/trajectory", "/fhir", "/actions"]
    paths += [f"/learning-log?recorded_until={until}", f"/trajectory?recorded_until={until}"]
    answers = [await client.get(f"/cases/{case_id}{path}", headers=team) for path in paths]
    answers.append(await _record_page(client, case_id))
    alerts = {"open": "false", "purpose": "audit"}
    answers.append(await client.get("/governance/break-glass", params=alerts, headers=governance))
    for view in ("people", "plan_decisions", "setbacks", "reviews"):
        params = {"from": "2000-01-01T00:00:00Z", "to": "2002-01-01T00:00:00Z", "format": "csv"}
        answers.append(await client.get(f"/exports/{view}", params=params, headers=governance))
    assert all(answer.status_code == 200 for answer in answers), [
        a.text for a in answers if a.status_code != 200
    ]
    return [answer.text for answer in answers]


@pytest.mark.slow  # reads every outlet and table of a database of its own: about 3 s
async def test_a_shredded_case_reads_as_erased_everywhere_and_the_chain_holds(
    sealed: tuple[Client, DatabaseAddress], auth: TokenFactory
) -> None:
    client, database = sealed
    team, governance = auth("clinician", user()), auth("governance", user("g"))
    case_id, _ = await _record(client, team, auth("clinician", user()))
    assert not any(CANARY in row for row in _stored(database, case_id)[:8]), (
        "sealed at rest in the events table"
    )
    until = datetime.now(UTC).isoformat().replace("+00:00", "Z")  # a replay from before the erasure
    before = await _reads(client, case_id, team, governance, until)
    # The case, its history, the replayed learning log, the page, the alerts:
    assert all(CANARY in text for text in [*before[:2], before[6], before[8], before[9]])

    approval = {"grounds": "retention_ended", "decision_ref": "IG panel 2026-11, item 4"}
    approved = await post(client, governance, f"/cases/{case_id}/erasure-approvals", approval)
    erased = await post(
        client, governance, f"/cases/{case_id}/erasures", {"approval_id": approved["entry_id"]}
    )
    await client.get(f"/cases/{case_id}/learning-log?min_position={erased['position']}", headers=team)

    reads = await _reads(client, case_id, team, governance, until)
    assert not [text for text in reads if CANARY in text]
    assert not [row for row in _stored(database, case_id) if CANARY in row]
    history = (await client.get(f"/cases/{case_id}/history", headers=team)).json()["items"]
    assert [item["type"] for item in history][-2:] == ["erasure_approved", "text_erased"]
    assert len(history) == 10  # the structure stays: every entry, each with its kind, times and author
    assert "[erased]" in reads[0]
    verdict = verify_chain(database, None, [])
    assert verdict.broken is None
    assert verdict.checked >= 10


@pytest.mark.slow  # a database and a runtime of its own: about 2 s
async def test_a_misfiled_entry_is_erased_alone_with_its_correction(
    sealed: tuple[Client, DatabaseAddress], auth: TokenFactory
) -> None:
    client, database = sealed
    team, governance = auth("clinician", user()), auth("governance", user("g"))
    case_id, ids = await _record(client, team, auth("clinician", user()))
    misfiled = {"grounds": "misfiled", "decision_ref": "IG 12", "entries": [ids["goal"]]}
    approved = await post(client, governance, f"/cases/{case_id}/erasure-approvals", misfiled)
    erased = await post(
        client, governance, f"/cases/{case_id}/erasures", {"approval_id": approved["entry_id"]}
    )
    log = await client.get(f"/cases/{case_id}/learning-log?min_position={erased['position']}", headers=team)
    assert log.status_code == 200
    history = (await client.get(f"/cases/{case_id}/history", headers=team)).json()["items"]
    goal = next(item for item in history if item["entry_id"] == ids["goal"])
    assert CANARY not in str(goal)
    assert "[erased]" in str(goal)
    correction = next(item for item in history if item["type"] == "entry_corrected")
    assert CANARY not in str(correction)
    assert any(CANARY in str(item) for item in history if item["type"] == "setback_recorded")
    assert verify_chain(database, None, []).broken is None
    again = await client.post(
        f"/cases/{case_id}/erasures", json={"approval_id": approved["entry_id"]}, headers=governance
    )
    assert again.status_code == 201  # erasing again destroys nothing more, and is recorded too


async def test_without_sealing_nothing_can_be_erased(client: Client, auth: TokenFactory) -> None:
    team, governance = auth("clinician", user()), auth("governance", user("g"))
    case_id = await open_case(client, team)
    goal = await post(client, team, f"/cases/{case_id}/goals", GOAL)
    misfiled = {"grounds": "misfiled", "decision_ref": "IG 12", "entries": [goal["entry_id"]]}
    approved = await post(client, governance, f"/cases/{case_id}/erasure-approvals", misfiled)
    refused = await client.post(
        f"/cases/{case_id}/erasures", json={"approval_id": approved["entry_id"]}, headers=governance
    )
    assert_problem(refused, 409, "/problems/not-erasable")


@pytest.mark.slow  # three runtimes on a database of its own: about 4 s
async def test_a_rotated_master_key_opens_every_entry_and_the_old_one_none(
    sealed: tuple[Client, DatabaseAddress], auth: TokenFactory, settings: Settings
) -> None:
    client, database = sealed
    team = auth("clinician", user())
    case_id = await open_case(client, team, person_ref=f"P-{CANARY}")
    await post(client, team, f"/cases/{case_id}/goals", {**GOAL, "in_own_words": CANARY})
    new = bytes(range(32, 64))
    assert rewrap(database, Keyring(new, [base64.b64decode(KEY)])) == 2
    for key, opens in ((new, True), (base64.b64decode(KEY), False)):
        reader = dataclasses.replace(
            settings, database_url=database.url, record_key=base64.b64encode(key).decode()
        )
        runtime = Runtime.start(reader)
        try:
            if opens:
                texts = [str(entry) for _, entry in runtime.records.every_entry(uuid.UUID(case_id))]
                assert all(CANARY in text for text in texts)
            else:
                with pytest.raises(KeyUnavailable):
                    runtime.records.every_entry(uuid.UUID(case_id))
        finally:
            runtime.close()


@pytest.mark.slow  # a second runtime on a database of its own: about 2 s
async def test_another_process_that_read_the_case_reads_it_erased_afterwards(
    sealed: tuple[Client, DatabaseAddress], auth: TokenFactory, settings: Settings
) -> None:
    client, database = sealed
    team, governance = auth("clinician", user()), auth("governance", user("g"))
    case_id, ids = await _record(client, team, auth("clinician", user()))
    other = Runtime.start(dataclasses.replace(settings, database_url=database.url, record_key=KEY))
    try:
        case = uuid.UUID(case_id)
        assert CANARY in str(other.records.get_case(case).state)  # now cached in that process
        assert any(CANARY in str(entry) for _, entry in other.records.every_entry(case))
        misfiled = {"grounds": "misfiled", "decision_ref": "IG 12", "entries": [ids["goal"]]}
        approved = await post(client, governance, f"/cases/{case_id}/erasure-approvals", misfiled)
        await post(client, governance, f"/cases/{case_id}/erasures", {"approval_id": approved["entry_id"]})
        goals = other.records.get_case(case).state.goals
        assert CANARY not in str(goals)
        assert "[erased]" in str(goals)
        goal = next(
            entry for _, entry in other.records.every_entry(case) if entry.entry_id == uuid.UUID(ids["goal"])
        )
        assert CANARY not in str(goal)
    finally:
        other.close()


@pytest.mark.slow  # a database and a runtime of its own: about 2 s
async def test_an_erasure_applies_to_a_case_with_an_entry_its_models_parked(
    sealed: tuple[Client, DatabaseAddress], auth: TokenFactory
) -> None:
    client, database = sealed
    team, governance = auth("clinician", user()), auth("governance", user("g"))
    case_id, ids = await _record(client, team, auth("clinician", user()))
    unappliable = review(uuid.UUID(case_id), occurred_at=YEAR_ONE)
    await insert_event(database.url, uuid.UUID(case_id), "review_recorded", encode_entry(unappliable))
    misfiled = {"grounds": "misfiled", "decision_ref": "IG 12", "entries": [ids["goal"]]}
    approved = await post(client, governance, f"/cases/{case_id}/erasure-approvals", misfiled)
    erased = await post(
        client, governance, f"/cases/{case_id}/erasures", {"approval_id": approved["entry_id"]}
    )
    await client.get(f"/cases/{case_id}/learning-log?min_position={erased['position']}", headers=team)
    with psycopg.connect(**database.connect_kwargs()) as conn:
        parked = conn.execute(
            "SELECT DISTINCT entry_id FROM read.unprojected_entries WHERE case_id = %s", (case_id,)
        ).fetchall()
    assert parked == [(unappliable.entry_id,)]  # the erasure itself applied
    goal_rows = [row for row in _stored(database, case_id) if "shops" in row]
    assert goal_rows == []


@pytest.mark.slow  # a database and a runtime of its own: about 2 s
async def test_an_erasure_leaves_no_text_where_another_generation_parked_an_entry(
    sealed: tuple[Client, DatabaseAddress], auth: TokenFactory
) -> None:
    """A rebuild's generation parked an entry the live one applied: the live erasure still replaces
    that entry's rows (it left them, text and all, when it read every generation's parked events)."""
    client, database = sealed
    team, governance = auth("clinician", user()), auth("governance", user("g"))
    case_id = await open_case(client, team)
    setback = {**SETBACK, "what_happened": _canary("a hard week")}
    entry_id = (await post(client, team, f"/cases/{case_id}/setbacks", setback))["entry_id"]
    with psycopg.connect(**database.connect_kwargs()) as conn:
        conn.execute(
            "INSERT INTO read_meta.parked_events (name, generation, position, case_id, entry_id, error)"
            " SELECT g.name, g.generation + 1, e.notification_id, %s, %s, 'parked by a rebuild'"
            " FROM read_meta.generations g, case_records_events e"
            " WHERE g.status = 'live' AND e.originator_id = %s AND e.topic = 'setback_recorded'",
            (case_id, entry_id, case_id),
        )
    misfiled = {"grounds": "misfiled", "decision_ref": "IG 12", "entries": [entry_id]}
    approved = await post(client, governance, f"/cases/{case_id}/erasure-approvals", misfiled)
    erased = await post(
        client, governance, f"/cases/{case_id}/erasures", {"approval_id": approved["entry_id"]}
    )
    await client.get(f"/cases/{case_id}/learning-log?min_position={erased['position']}", headers=team)
    assert [row for row in _stored(database, case_id) if "a hard week" in row] == []
