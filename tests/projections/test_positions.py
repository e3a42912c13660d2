"""Read-your-writes trusts only committed positions: a NOTIFY on the positions channel is a hint to
re-read them from read_meta.generations, never a position in itself (any login may send one)."""

from __future__ import annotations

import asyncpg
import pytest

from events.entries import ReviewRecorded
from events.values import OutcomeDomain, ReviewKind
from projections.models import MODELS
from projections.schema import POSITIONS_CHANNEL
from service.database import DatabaseAddress
from service.http.positions import PositionWatcher, ProjectionBehind
from service.write.application import CaseRecords
from tests.support.projections import catch_up, meta, open_case

NAMES = list(MODELS)
NEVER = 3600.0
"""A poll interval no test lasts: only a notification can make the watcher look again."""


def _review(records: CaseRecords) -> int:
    """Record a review; return its position in the log."""
    case_id = open_case(records)
    receipt = records.record(
        case_id,
        ReviewRecorded(
            **meta(case_id),
            kind=ReviewKind.ROUTINE,
            ratings={OutcomeDomain.STABILITY_SELF_MANAGEMENT: 5},
            confidence=5,
            autonomy=5,
        ),
    )
    assert receipt.position is not None
    return receipt.position


@pytest.mark.slow  # waits out a forged notification: about 1 s
async def test_a_forged_notification_moves_no_position_and_a_real_one_still_arrives(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    await catch_up(fresh_database.url)
    first = _review(records)
    await catch_up(fresh_database.url)
    watcher = PositionWatcher(fresh_database.url, poll_seconds=NEVER)
    await watcher.start()
    forger = await asyncpg.connect(fresh_database.url)
    try:
        await watcher.wait_for(NAMES, first, 10)  # its first read: it is listening from here on
        await forger.execute("SELECT pg_notify($1, $2)", POSITIONS_CHANNEL, "audit:999999999")
        await forger.execute("SELECT pg_notify($1, $2)", POSITIONS_CHANNEL, f"care:{first + 1}")
        with pytest.raises(ProjectionBehind):
            await watcher.wait_for(["audit"], 999_999_999, 0.3)
        with pytest.raises(ProjectionBehind):
            await watcher.wait_for(["care"], first + 1, 0.3)
        assert watcher.positions == dict.fromkeys(NAMES, first)

        second = _review(records)
        await catch_up(fresh_database.url)  # commits the new positions and notifies
        await watcher.wait_for(NAMES, second, 10)
    finally:
        await forger.close()
        await watcher.stop()
