"""Concurrent writes to one case through the real app (requests overlapping, see post_concurrently):
If-Match lets exactly one through, and without it every write lands once, at its own version, in order."""

from __future__ import annotations

from itertools import pairwise

import pytest

from service.database import DatabaseAddress
from tests.api.helpers import REVIEW, Client, open_case
from tests.support.concurrency import post_concurrently
from tests.support.databases import query
from tests.support.tokens import TokenFactory


async def test_twenty_writes_with_the_same_if_match_give_one_201_and_nineteen_412(
    client: Client,
    auth: TokenFactory,
    database: DatabaseAddress,
) -> None:
    headers = auth("clinician", "conc-1")
    case_id = await open_case(client, headers)
    current = (await client.get(f"/cases/{case_id}", headers=headers)).headers["etag"]
    assert current == '"1"'

    conditional = {**headers, "If-Match": current}
    responses = await post_concurrently(client, [(f"/cases/{case_id}/reviews", REVIEW, conditional)] * 20)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [412] * 19
    (won,) = [r for r in responses if r.status_code == 201]
    assert won.json()["version"] == 2
    for lost in (r for r in responses if r.status_code == 412):
        assert lost.json()["current_version"] == 2
        assert lost.headers["etag"] == '"2"'
    after = await client.get(f"/cases/{case_id}", headers=headers)
    assert after.json()["version"] == 2
    rows = query(
        database, "SELECT count(*) AS n FROM case_records_events WHERE originator_id = %s", [case_id]
    )
    assert rows[0]["n"] == 2


@pytest.mark.slow  # two hundred concurrent writes
async def test_two_hundred_concurrent_writes_all_land_at_contiguous_versions(
    client: Client,
    auth: TokenFactory,
    database: DatabaseAddress,
) -> None:
    headers = auth("clinician", "conc-2")
    case_id = await open_case(client, headers)

    responses = await post_concurrently(client, [(f"/cases/{case_id}/reviews", REVIEW, headers)] * 200)

    assert [r.status_code for r in responses] == [201] * 200
    receipts = [r.json() for r in responses]
    versions = [r["version"] for r in receipts]
    assert sorted(versions) == list(range(2, 202))  # unique and contiguous
    by_version = sorted(receipts, key=lambda r: r["version"])
    positions = [r["position"] for r in by_version]
    assert all(a < b for a, b in pairwise(positions))

    history = await client.get(f"/cases/{case_id}/history?limit=500", headers=headers)
    items = history.json()["items"]
    assert [item["version"] for item in items] == list(range(1, 202))
    recorded = [item["entry_id"] for item in items]
    assert len(set(recorded)) == len(recorded)
    for receipt in receipts:
        assert recorded.count(receipt["entry_id"]) == 1
        assert items[receipt["version"] - 1]["entry_id"] == receipt["entry_id"]

    stored = query(
        database,
        "SELECT originator_version, notification_id FROM case_records_events"
        " WHERE originator_id = %s ORDER BY originator_version",
        [case_id],
    )
    assert [row["originator_version"] for row in stored] == list(range(1, 202))
    notification_ids = [row["notification_id"] for row in stored]
    assert all(a < b for a, b in pairwise(notification_ids))
    assert notification_ids[1:] == positions
