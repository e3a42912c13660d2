"""What the write side stores: the library's table layout (the read side depends on it), plain JSON
entries, no database-function inserts whatever the process environment says, and snapshots that load
to the same case as replaying every entry."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

from events.case import SNAPSHOT_TOPIC, Case, CaseEvent, CaseSnapshot
from service.bootstrap import Runtime
from service.database import DatabaseAddress
from service.write.application import CaseRecords
from tests.api.helpers import DOMAIN, REVIEW, Client, open_case
from tests.support.databases import case_records, query, wait_for_blocked_append
from tests.support.tokens import TokenFactory
from tests.unit.builders import opened

Step = Callable[[dict[str, str], int], tuple[str, dict[str, Any], str]]
"""Given the ids written so far and the cycle number: the path, the body, and a name for the new id."""
STEPS: list[Step] = [
    lambda ids, i: ("goals", {"domain": DOMAIN, "in_own_words": f"goal {i}"}, "goal"),
    lambda ids, i: ("milestones", {"goal_id": ids["goal"], "description": f"step {i}"}, "milestone"),
    lambda ids, i: (f"milestones/{ids['milestone']}/reached", {"evidence": f"did {i}"}, "reached"),
    lambda ids, i: ("measures", {"instrument": "phq9", "items": [i % 4] * 9}, "measure"),
    lambda ids, i: (
        "reviews",
        {**REVIEW, "ratings": {DOMAIN: 1 + i % 10}, "measure_ids": [ids["measure"]]},
        "review",
    ),
    lambda ids, i: (
        "setbacks",
        {
            "domains": [DOMAIN],
            "what_happened": f"setback {i}",
            "contributing_factors": ["isolation"],
            "risk_management": "calls",
            "learning": "signs",
            "adaptation": "visits",
        },
        "setback",
    ),
    lambda ids, i: (
        "escalations",
        {"severity": 1 + i % 3, "trigger": "t", "response": "r", "escalation_plan_used_early": i % 2 == 0},
        "escalation",
    ),
    lambda ids, i: (f"escalations/{ids['escalation']}/resolution", {"resolution": "ok"}, "resolved"),
    lambda ids, i: (
        "plan-changes",
        {"rationale": "more", "because_of": [ids["setback"]], "support_hours_per_week": i + 1},
        "plan",
    ),
    lambda ids, i: (
        "corrections",
        {"corrects": ids["review"], "reason": "typo", "changes": {"confidence": 1 + i % 9}},
        "correction",
    ),
    lambda ids, i: ("statements", {"text": f"said {i}", "about": [ids["setback"]]}, "statement"),
    lambda ids, i: (
        f"goals/{ids['goal']}/revisions",
        {"reason": "r", "achievement": "improving"},
        "revision",
    ),
]


@pytest.fixture(scope="module")
async def long_case(client: Client, auth: TokenFactory) -> UUID:
    """A case of 205 entries of every kind the steps write: snapshots at versions 100 and 200."""
    headers = auth("clinician", "snap-1")
    case_id = await open_case(client, headers)
    ids: dict[str, str] = {}
    version = 1
    while version < 205:
        path, body, name = STEPS[(version - 1) % len(STEPS)](ids, (version - 1) // len(STEPS))
        response = await client.post(f"/cases/{case_id}/{path}", json=body, headers=headers)
        assert response.status_code == 201, (path, response.text)
        ids[name] = response.json()["entry_id"]
        version = response.json()["version"]
    return UUID(case_id)


def _records(database: DatabaseAddress) -> CaseRecords:
    return case_records(database)


def _replayed(app: CaseRecords, case_id: UUID, version: int | None = None) -> Case:
    """The case built by applying every stored entry in order, without any snapshot."""
    case: Case | None = None
    for event in app.events.get(case_id, lte=version):
        assert isinstance(event, CaseEvent)
        case = event.mutate(case)
    assert case is not None
    return case


def test_the_events_table_has_the_library_layout(database: DatabaseAddress, runtime: Runtime) -> None:
    assert runtime.address.dbname == database.dbname  # its CaseRecords created the tables
    columns = query(
        database,
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = 'case_records_events'"
        " ORDER BY ordinal_position",
    )
    assert [(c["column_name"], c["data_type"], c["is_nullable"]) for c in columns] == [
        ("originator_id", "uuid", "NO"),
        ("originator_version", "bigint", "NO"),
        ("topic", "text", "YES"),
        ("state", "bytea", "YES"),
        ("notification_id", "bigint", "NO"),
    ]
    indexes = query(
        database,
        "SELECT i.indisprimary AS primary, i.indisunique AS unique,"
        " array_agg(a.attname::text ORDER BY array_position(i.indkey::int2[], a.attnum)) AS columns"
        " FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
        " WHERE i.indrelid = 'case_records_events'::regclass"
        # Waymark's own partial index (break-glass grants, for governance) is not the library's layout.
        " AND i.indpred IS NULL"
        " GROUP BY i.indexrelid, i.indisprimary, i.indisunique ORDER BY i.indisprimary DESC",
    )
    assert [(x["primary"], x["unique"], x["columns"]) for x in indexes] == [
        (True, True, ["originator_id", "originator_version"]),
        (False, True, ["notification_id"]),
    ]


@pytest.mark.slow  # the 205-entry case they share takes seconds to write
async def test_stored_state_is_plain_json_whose_type_is_the_topic(
    database: DatabaseAddress, long_case: UUID
) -> None:
    rows = query(
        database,
        "SELECT originator_version, topic, state FROM case_records_events WHERE originator_id = %s",
        [long_case],
    )
    assert len(rows) == 205
    assert len({row["topic"] for row in rows}) == len(STEPS) + 1
    for row in rows:
        stored = json.loads(bytes(row["state"]).decode("utf-8"))
        assert stored["type"] == row["topic"]
        assert stored["case_id"] == str(long_case)
    mismatched = query(
        database,
        "SELECT count(*) AS n FROM case_records_events"
        " WHERE convert_from(state, 'UTF8')::jsonb ->> 'type' IS DISTINCT FROM topic",
    )
    assert mismatched[0]["n"] == 0


@pytest.mark.parametrize(
    "variable", ["POSTGRES_ENABLE_DB_FUNCTIONS", "CASE_RECORDS_POSTGRES_ENABLE_DB_FUNCTIONS"]
)
async def test_appends_take_the_table_lock_whatever_the_process_environment_says(
    monkeypatch: pytest.MonkeyPatch, database: DatabaseAddress, variable: str
) -> None:
    # The library's database-function insert takes no table lock, and a tailing reader then skips
    # events; a stray variable must not switch it on. Hold the lock and see the append wait for it.
    monkeypatch.setenv(variable, "y")
    app = _records(database)
    try:
        with psycopg.connect(**database.connect_kwargs()) as blocker:
            blocker.execute("LOCK TABLE case_records_events IN EXCLUSIVE MODE")
            appending = asyncio.create_task(asyncio.to_thread(app.open_case, opened(case_id=uuid4())))
            await wait_for_blocked_append(database)
            assert not appending.done()
        receipt = await appending
        assert app.get_case(receipt.case_id).version == 1
    finally:
        app.close()


@pytest.mark.slow  # the 205-entry case they share takes seconds to write
async def test_snapshots_every_hundred_versions_load_to_the_replayed_case(
    database: DatabaseAddress, long_case: UUID
) -> None:
    rows = query(
        database,
        "SELECT originator_version, topic FROM case_records_snapshots"
        " WHERE originator_id = %s ORDER BY originator_version",
        [long_case],
    )
    assert [(r["originator_version"], r["topic"]) for r in rows] == [
        (100, SNAPSHOT_TOPIC),
        (200, SNAPSHOT_TOPIC),
    ]
    app = _records(database)  # a new application: nothing cached, so loading starts from a snapshot
    try:
        assert app.snapshots is not None  # snapshotting is on
        for snapshot in app.snapshots.get(long_case):
            assert isinstance(snapshot, CaseSnapshot)
            assert snapshot.state == _replayed(app, long_case, snapshot.originator_version).state
        for version in (None, 150, 205):
            loaded, replayed = app.get_case(long_case, version), _replayed(app, long_case, version)
            assert loaded.version == replayed.version == (version or 205)
            assert loaded.state == replayed.state
            assert (loaded.created_on, loaded.modified_on) == (replayed.created_on, replayed.modified_on)
    finally:
        app.close()


@pytest.mark.slow  # the 205-entry case they share takes seconds to write
async def test_a_snapshot_under_a_stale_layout_is_dropped_when_case_records_starts(
    database: DatabaseAddress, long_case: UUID
) -> None:
    stale_topic = "case_snapshot:000000000000"
    assert stale_topic != SNAPSHOT_TOPIC
    # Newer than every real snapshot, so loading would start from it if it were left in place.
    query(
        database,
        "INSERT INTO case_records_snapshots (originator_id, originator_version, topic, state)"
        " SELECT originator_id, 205, %s, state FROM case_records_snapshots"
        " WHERE originator_id = %s AND originator_version = 200",
        [stale_topic, long_case],
    )
    assert query(database, "SELECT 1 FROM case_records_snapshots WHERE topic = %s", [stale_topic])
    app = _records(database)
    try:
        stale = query(database, "SELECT 1 FROM case_records_snapshots WHERE topic <> %s", [SNAPSHOT_TOPIC])
        assert stale == []
        kept = query(
            database,
            "SELECT originator_version FROM case_records_snapshots WHERE originator_id = %s"
            " ORDER BY originator_version",
            [long_case],
        )
        assert [row["originator_version"] for row in kept] == [100, 200]
        assert app.get_case(long_case).state == _replayed(app, long_case).state
    finally:
        app.close()
