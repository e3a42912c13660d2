"""Idempotency keys are recorded in the same transaction as the event they produced: concurrent repeats
make one event, and a write that fails (a broken rule, or a lost race) leaves no key behind."""

from __future__ import annotations

import asyncio
import json
import uuid

import psycopg

from service.database import DatabaseAddress
from tests.api.helpers import REVIEW, Client, open_case, opening
from tests.support.concurrency import post_concurrently
from tests.support.databases import query, wait_for_blocked_append
from tests.support.tokens import TokenFactory


def _keys(database: DatabaseAddress, actor: str, key: str) -> list[dict[str, object]]:
    return query(
        database,
        "SELECT case_id, entry_id, case_version FROM idempotency_keys WHERE actor_id = %s AND key = %s",
        [actor, key],
    )


ROUNDS = 8
"""Pairs sent, each under its own key: which request of a pair wins the race varies from pair to pair."""


async def test_two_concurrent_writes_with_one_key_make_one_event_and_the_same_answer(
    client: Client,
    auth: TokenFactory,
    database: DatabaseAddress,
) -> None:
    headers = auth("clinician", "idem-1")
    case_id = await open_case(client, headers)
    receipts = []
    for pair in range(ROUNDS):
        keyed = {**headers, "Idempotency-Key": f"review-{uuid.uuid4()}"}

        first, second = await post_concurrently(client, [(f"/cases/{case_id}/reviews", REVIEW, keyed)] * 2)

        assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
        assert first.json() == second.json()
        assert first.json()["version"] == 2 + pair  # one event per pair
        (row,) = _keys(database, "idem-1", keyed["Idempotency-Key"])
        assert (str(row["entry_id"]), row["case_version"]) == (first.json()["entry_id"], 2 + pair)
        receipts.append(first.json()["entry_id"])
    history = (await client.get(f"/cases/{case_id}/history", headers=headers)).json()["items"]
    assert [item["entry_id"] for item in history[1:]] == receipts


async def test_two_concurrent_openings_with_one_key_open_one_case(
    client: Client,
    auth: TokenFactory,
    database: DatabaseAddress,
) -> None:
    for _ in range(ROUNDS):
        marker = f"P-{uuid.uuid4().hex[:12]}"
        keyed = auth("clinician", "idem-2", **{"Idempotency-Key": f"open-{marker}"})

        first, second = await post_concurrently(client, [("/cases", opening(person_ref=marker), keyed)] * 2)

        assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
        assert first.json() == second.json()
        opened = query(
            database,
            "SELECT originator_id FROM case_records_events WHERE topic = 'case_opened'"
            " AND convert_from(state, 'UTF8')::jsonb ->> 'person_ref' = %s",
            [marker],
        )
        assert [str(row["originator_id"]) for row in opened] == [first.json()["case_id"]]


async def test_a_write_refused_by_a_rule_leaves_no_key_so_the_same_key_works_once_the_rule_passes(
    client: Client,
    auth: TokenFactory,
    database: DatabaseAddress,
) -> None:
    headers = auth("clinician", "idem-3")
    case_id = await open_case(client, headers)
    closed = await client.post(f"/cases/{case_id}/closure", json={"reason": "goals_met"}, headers=headers)
    assert closed.status_code == 201
    key = f"review-{uuid.uuid4()}"
    keyed = {**headers, "Idempotency-Key": key}

    for _ in range(2):
        refused = await client.post(f"/cases/{case_id}/reviews", json=REVIEW, headers=keyed)
        assert refused.status_code == 409, refused.text
        assert _keys(database, "idem-3", key) == []

    reopened = await client.post(
        f"/cases/{case_id}/reopening", json={"reason": "re-referral"}, headers=headers
    )
    assert reopened.status_code == 201
    accepted = await client.post(f"/cases/{case_id}/reviews", json=REVIEW, headers=keyed)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["version"] == 4
    assert "idempotent-replayed" not in accepted.headers
    replayed = await client.post(f"/cases/{case_id}/reviews", json=REVIEW, headers=keyed)
    assert replayed.status_code == 201
    assert replayed.json() == accepted.json()
    assert replayed.headers["idempotent-replayed"] == "true"
    (row,) = _keys(database, "idem-3", key)
    assert (str(row["entry_id"]), row["case_version"]) == (accepted.json()["entry_id"], 4)


async def test_a_write_that_loses_a_version_race_leaves_no_key_and_is_retried_under_it(
    client: Client,
    auth: TokenFactory,
    database: DatabaseAddress,
) -> None:
    headers = auth("clinician", "idem-4")
    case_id = await open_case(client, headers)
    assert (await client.post(f"/cases/{case_id}/reviews", json=REVIEW, headers=headers)).status_code == 201
    (model,) = query(
        database,
        "SELECT state FROM case_records_events WHERE originator_id = %s AND originator_version = 2",
        [case_id],
    )
    competing = {**json.loads(bytes(model["state"])), "entry_id": str(uuid.uuid4())}
    key = f"review-{uuid.uuid4()}"

    # Another writer inserts version 3 and holds its transaction open while our write loads version 2
    # and waits for the table lock; then the other writer commits, and our write's transaction (its
    # key and its entry at version 3) fails on the entry.
    async with await psycopg.AsyncConnection.connect(**database.connect_kwargs()) as other:
        await other.execute(
            "INSERT INTO case_records_events (originator_id, originator_version, topic, state)"
            " VALUES (%s, 3, 'review_recorded', %s)",
            [case_id, json.dumps(competing).encode()],
        )
        keyed = {**headers, "Idempotency-Key": key}
        write = asyncio.create_task(post_concurrently(client, [(f"/cases/{case_id}/reviews", REVIEW, keyed)]))
        await wait_for_blocked_append(database)
        await other.commit()
        (response,) = await write

    assert response.status_code == 201, response.text
    receipt = response.json()
    assert receipt["version"] == 4  # retried after the collision, on top of the other writer's entry
    history = (await client.get(f"/cases/{case_id}/history", headers=headers)).json()["items"]
    assert [item["entry_id"] for item in history[2:]] == [competing["entry_id"], receipt["entry_id"]]
    # The key written with the failed attempt was rolled back with it; only the retry's key remains.
    (row,) = _keys(database, "idem-4", key)
    assert (str(row["entry_id"]), row["case_version"]) == (receipt["entry_id"], 4)
