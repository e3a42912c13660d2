"""A rebuild from scratch gives exactly the rows the live projector built, and a rebuild killed with
SIGKILL resumes and ends equal to a clean rebuild."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time

import asyncpg
import pytest

from events.case import CaseEvent
from events.entries import (
    CaseClosed,
    CaseReopened,
    EntryCorrected,
    MeasureRecorded,
    PlanChanged,
    ReviewRecorded,
    StoryAgreed,
    StoryConsentWithdrawn,
)
from events.errors import CaseIsClosed
from events.values import ClosureReason, StatementMaker
from projections.models import MODELS
from projections.models.base import CORRECTION
from projections.rebuild import rebuild
from service.database import DatabaseAddress
from service.tools.demo import DemoPlan, write_demo
from service.write.application import CaseRecords
from tests.support.processes import WAYMARK
from tests.support.projections import catch_up, fingerprints, meta, models


def _write_history(records: CaseRecords) -> None:
    """Demo cases, corrections of reviews, measures, setbacks and plan changes, then more demo
    cases: both paths meet corrections, and a rebuild's bulk load meets them mid-way."""
    write_demo(records, DemoPlan(people=12, months=8, seed=11))
    wanted = {"review_recorded": 3, "measure_recorded": 3, "setback_recorded": 3, "plan_changed": 2}
    for notification in records.recorder.select_notifications(start=1, limit=100_000):
        if wanted.get(notification.topic, 0) > 0:
            event = records.mapper.to_domain_event(notification)
            assert isinstance(event, CaseEvent)
            original = event.entry
            correction = EntryCorrected(
                **meta(original.case_id),
                corrects=original.entry_id,
                reason="entered in error",
                changes=_changes_for(original),
            )
            records.correct(original.case_id, correction)
            wanted[notification.topic] -= 1
    assert not any(wanted.values())
    _close_and_reopen(records)
    _share_stories(records)
    write_demo(records, DemoPlan(people=3, months=4, seed=12))


def _close_and_reopen(records: CaseRecords) -> None:
    """Two cases closed and reopened, one reopening dated before its closure (a backdated entry): the
    open change of each status row is judged against the row before it in time, live and on rebuild."""
    cases = []
    for notification in records.recorder.select_notifications(start=1, limit=100_000, topics=["case_opened"]):
        event = records.mapper.to_domain_event(notification)
        assert isinstance(event, CaseEvent)
        cases.append(event.entry.case_id)
    for case_id, (closed, reopened) in zip(cases[1:3], ((10, 5), (3, 20)), strict=True):
        closure = CaseClosed(**meta(case_id, days_ago=closed), reason=ClosureReason.TRANSFERRED)
        records.record(case_id, closure)
        records.record(case_id, CaseReopened(**meta(case_id, days_ago=reopened), reason="re-referral"))


def _share_stories(records: CaseRecords) -> None:
    """Two stories on the first open case (the demo writes none), one of them withdrawn."""
    for notification in records.recorder.select_notifications(start=1, limit=100_000, topics=["case_opened"]):
        event = records.mapper.to_domain_event(notification)
        assert isinstance(event, CaseEvent)
        case_id = event.entry.case_id
        person = StatementMaker.PERSON
        try:
            kept = StoryAgreed(
                **meta(case_id), story="I cook again.", consent_given_by=person, de_identified=True
            )
            records.record(case_id, kept)
        except CaseIsClosed:
            continue
        withdrawn = StoryAgreed(
            **meta(case_id), story="I sing again.", consent_given_by=person, de_identified=True
        )
        records.record(case_id, withdrawn)
        withdrawal = StoryConsentWithdrawn(
            **meta(case_id), story_id=withdrawn.entry_id, withdrawn_by=StatementMaker.PERSON
        )
        records.record(case_id, withdrawal)
        return
    raise AssertionError("no open case to share a story on")


def _changes_for(original: object) -> dict[str, object]:
    if isinstance(original, ReviewRecorded):
        return {"confidence": 10 if original.confidence != 10 else 1}
    if isinstance(original, MeasureRecorded):
        return {"items": [4] * 10}
    if isinstance(original, PlanChanged):  # whether it names a cause is the audit trail's to keep
        return {"rationale": "Corrected rationale."}
    return {"learning": "Corrected learning."}


@pytest.fixture
async def live(records: CaseRecords, fresh_database: DatabaseAddress) -> dict[str, tuple[int, str]]:
    """The history above, projected live: the fingerprints of the live tables."""
    _write_history(records)
    await catch_up(fresh_database.url)
    return await fingerprints(fresh_database.url)


@pytest.fixture(scope="module")
async def projected(module_records: CaseRecords, module_database: DatabaseAddress) -> DatabaseAddress:
    """The history above, projected live once for the tests that only read the live tables."""
    _write_history(module_records)
    await catch_up(module_database.url)
    return module_database


@pytest.mark.slow  # rebuilds every read model: about 1.5 s
async def test_rebuild_gives_the_same_rows_as_the_live_projection(
    live: dict[str, tuple[int, str]], fresh_database: DatabaseAddress
) -> None:
    assert all(count > 0 for count, _ in live.values()), live
    for model in models():
        result = await rebuild(fresh_database.url, model, batch_size=97)
        assert result.generation == 2
    conn = await asyncpg.connect(fresh_database.url)
    try:
        statuses = await conn.fetch("SELECT name, generation, status FROM read_meta.generations")
    finally:
        await conn.close()
    assert await fingerprints(fresh_database.url) == live
    assert {(r["name"], r["generation"], r["status"]) for r in statuses} == {
        (m.name, g, s) for m in models() for g, s in ((1, "retired"), (2, "live"))
    }


class _Interrupted(Exception):
    pass


@pytest.mark.slow  # a rebuild interrupted and resumed: about 2 s
async def test_a_bulk_load_interrupted_after_noting_corrections_applies_each_once_when_resumed(
    live: dict[str, tuple[int, str]], fresh_database: DatabaseAddress
) -> None:
    conn = await asyncpg.connect(fresh_database.url)
    noted = "SELECT count(*) FROM read_meta.deferred_corrections"

    def interrupt_once_noted(position: int, head: int, applied: int) -> None:
        if position > first_correction:
            raise _Interrupted

    try:
        first_correction = await conn.fetchval(
            "SELECT min(notification_id) FROM case_records_events WHERE topic = 'entry_corrected'"
        )
        for model in models():
            if not model.reads(CORRECTION):
                continue  # care teams never change by correction
            with pytest.raises(_Interrupted):
                await rebuild(fresh_database.url, model, batch_size=20, progress=interrupt_once_noted)
            assert await conn.fetchval(noted) > 0, model.name
            await rebuild(fresh_database.url, model, batch_size=20)  # resumes the same generation
            assert await conn.fetchval(noted) == 0, model.name
    finally:
        await conn.close()
    assert await fingerprints(fresh_database.url) == live


def _rebuild_process(database: DatabaseAddress) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database.url}
    command = [
        WAYMARK,
        "projections",
        "rebuild",
        "care",
        "--batch-size",
        "5",
    ]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


_BUILDING = "SELECT position FROM read_meta.generations WHERE name = 'care' AND status = 'building'"


async def _building_position(dsn: str) -> int | None:
    conn = await asyncpg.connect(dsn)
    try:
        position: int | None = await conn.fetchval(_BUILDING)
        return position
    finally:
        await conn.close()


async def _kill_after_first_batch(dsn: str, process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the rebuild as soon as it has committed a batch: polling on one connection every few
    milliseconds lands inside catch-up (batches of 5) however fast the machine is."""
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + 60
        while not await conn.fetchval(_BUILDING):
            assert time.monotonic() < deadline, "rebuild made no progress"
            assert process.poll() is None, "rebuild finished before it could be killed"
            await asyncio.sleep(0.002)
        process.send_signal(signal.SIGKILL)
    finally:
        await conn.close()


@pytest.mark.slow  # a rebuild process killed and resumed
@pytest.mark.usefixtures("live")
async def test_a_rebuild_killed_mid_way_resumes_and_ends_equal_to_a_clean_one(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    head = records.recorder.max_notification_id() or 0
    process = _rebuild_process(fresh_database)
    try:
        await _kill_after_first_batch(fresh_database.url, process)
    finally:
        process.wait()
    killed_at = await _building_position(fresh_database.url)
    assert killed_at is not None
    assert 0 < killed_at < head
    resumed = _rebuild_process(fresh_database)
    assert resumed.wait(timeout=120) == 0
    assert await _building_position(fresh_database.url) is None
    after_resume = await fingerprints(fresh_database.url)
    clean = await rebuild(fresh_database.url, MODELS["care"]())  # from the first event, into a new generation
    assert clean.events == head
    assert await fingerprints(fresh_database.url) == after_resume


async def test_status_days_summary_counts_the_status_rows_as_they_stand(projected: DatabaseAddress) -> None:
    # Each status row's change judged anew against the row before it in time, summed per service
    # and day: the same rows the triggers kept through the derived values.
    conn = await asyncpg.connect(projected.url)
    try:
        kept = await conn.fetch("SELECT * FROM read.status_days ORDER BY 1, 2")
        counted = await conn.fetch(
            "SELECT service, (occurred_at AT TIME ZONE 'UTC')::date AS day, count(*) AS rows,"
            " sum(change) AS change, sum(change * extract(epoch FROM occurred_at)) AS moment"
            " FROM (SELECT c.service, s.occurred_at, (s.status = 'open')::int - coalesce((lag(s.status)"
            " OVER (PARTITION BY s.case_id ORDER BY s.occurred_at, s.entry_id) = 'open')::int, 0) AS change"
            " FROM read.case_status s JOIN read.cases c ON c.case_id = s.case_id) x"
            " WHERE change <> 0 GROUP BY 1, 2 ORDER BY 1, 2"
        )
        changes = await conn.fetch("SELECT open_change, count(*) FROM read.case_status GROUP BY 1 ORDER BY 1")
    finally:
        await conn.close()
    assert [tuple(r) for r in kept] == [tuple(r) for r in counted]
    # Two closures (-1), one reopening after its closure (+1), one before it (0), and the openings.
    assert [(r["open_change"], r["count"]) for r in changes][:2] == [(-1, 2), (0, 1)]


@pytest.mark.parametrize(
    ("summary", "counted"),
    [
        (
            "SELECT * FROM read.escalation_days ORDER BY 1, 2",
            "SELECT c.service, (e.occurred_at AT TIME ZONE 'UTC')::date, count(*) FROM read.escalations e"
            " JOIN read.cases c ON c.case_id = e.case_id GROUP BY 1, 2 ORDER BY 1, 2",
        ),
        (
            "SELECT * FROM read.setback_factor_days ORDER BY 1, 2, 3",
            "SELECT c.service, (s.occurred_at AT TIME ZONE 'UTC')::date, f, count(*) FROM read.setbacks s"
            " JOIN read.cases c ON c.case_id = s.case_id, unnest(s.contributing_factors) f"
            " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        ),
        (
            "SELECT * FROM read.strategy_days ORDER BY 1, 2, 3",
            "SELECT c.service, (i.occurred_at AT TIME ZONE 'UTC')::date, i.strategy, count(*),"
            " count(i.after - i.before), coalesce(sum(round((i.after - i.before)::numeric, 15)), 0)"
            " FROM read.strategy_introductions i JOIN read.cases c ON c.case_id = i.case_id"
            " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        ),
    ],
)
async def test_per_day_summaries_count_the_rows_as_they_stand(
    projected: DatabaseAddress, summary: str, counted: str
) -> None:
    # Each row's service derived after its batch (and again for a corrected case): the summaries
    # hold what counting the rows with their case's service gives now, corrections included.
    conn = await asyncpg.connect(projected.url)
    try:
        kept, fresh = await conn.fetch(summary), await conn.fetch(counted)
    finally:
        await conn.close()
    assert kept
    assert [tuple(r) for r in kept] == [tuple(r) for r in fresh]


async def test_every_reading_holds_its_cases_service(projected: DatabaseAddress) -> None:
    # The trajectory model derives it from its own copy of each opening (corrections included).
    conn = await asyncpg.connect(projected.url)
    try:
        counts = await conn.fetchrow(
            "SELECT count(*) AS measures, count(*) FILTER (WHERE m.service IS DISTINCT FROM c.service)"
            " AS wrong FROM read.measures m LEFT JOIN read.cases c ON c.case_id = m.case_id"
        )
    finally:
        await conn.close()
    assert counts is not None
    assert counts["measures"] > 0
    assert counts["wrong"] == 0


async def test_review_days_summary_counts_the_reviews_as_they_stand(projected: DatabaseAddress) -> None:
    # Kept live by triggers through decisions, corrections and derived values: the same rows as
    # counting the reviews now.
    conn = await asyncpg.connect(projected.url)
    try:
        kept = await conn.fetch("SELECT * FROM read.review_days ORDER BY 1, 2, 3, 4, 5, 6")
        counted = await conn.fetch(
            "SELECT service, (occurred_at AT TIME ZONE 'UTC')::date AS day, changed, actioned,"
            " first_decided_at IS NOT NULL AS decided,"
            " coalesce((date_part('epoch', first_decided_at - occurred_at) / 8640)::int, 0) AS tenths,"
            " count(*) AS reviews FROM read.reviews GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6"
        )
    finally:
        await conn.close()
    assert [tuple(r) for r in kept] == [tuple(r) for r in counted]
    assert any(r["decided"] for r in kept)
    assert any(not r["decided"] for r in kept)
