"""Replaying a long case at moments spread over its life (issue 10): the case as recorded then, the
case as it happened by then, and the trajectory as recorded then; over HTTP, beside the same replay
done in process without HTTP, authorisation or the access log (the raw baseline)."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote

from events.replay import case_of, happened_by, unbroken
from projections.queries.replayed import replayed_trajectory
from service.tools.bench.client import HttpConnection, Timed
from service.write.application import CaseRecords

__all__ = ["REPLAYS", "moments", "replays_in_process", "replays_over_http"]

REPLAYS = {
    "case as recorded": "GET /cases/{id}?recorded_until=T",
    "case as happened": "GET /cases/{id}?occurred_until=T",
    "trajectory as recorded": "GET /cases/{id}/trajectory?recorded_until=T",
}
"""Each replay measured, and the request it is."""
_PARAMETER = {"case as recorded": "recorded_until", "case as happened": "occurred_until"}


def moments(records: CaseRecords, case_id: uuid.UUID, count: int) -> list[datetime]:
    """Moments at random over the case's recorded life (the same ones in every run)."""
    entries = records.every_entry(case_id)
    first, last = entries[0][1].recorded_at, entries[-1][1].recorded_at
    pick = random.Random(2).random
    return [first + (last - first) * pick() for _ in range(count)]


def _path(name: str, case_id: uuid.UUID, at: datetime) -> str:
    if name == "trajectory as recorded":
        return f"/cases/{case_id}/trajectory?recorded_until={quote(at.isoformat())}"
    return f"/cases/{case_id}?{_PARAMETER[name]}={quote(at.isoformat())}"


async def replays_over_http(
    port: int, token: str, case_id: uuid.UUID, at: list[datetime]
) -> dict[str, Timed]:
    """Each replay once per moment, over one keep-alive connection."""
    timed = {name: Timed() for name in REPLAYS}
    async with HttpConnection("127.0.0.1", port, f"Bearer {token}") as http:
        for moment in at:
            for name in REPLAYS:
                await http.request("GET", _path(name, case_id, moment), timed=timed[name])
    return timed


def replays_in_process(records: CaseRecords, case_id: uuid.UUID, at: list[datetime]) -> dict[str, Timed]:
    """The same replays through the Application and the pure replay functions, as the service does
    them (from the entries and states held in memory)."""

    def as_recorded(moment: datetime) -> object:
        cut = records.versions_recorded_by(case_id, moment, records.get_case(case_id, copy=False).version)
        return records.case_at(case_id, cut)

    def as_happened(moment: datetime) -> object:
        current = records.get_case(case_id, copy=False).version
        kept = happened_by(records.every_entry(case_id, current), moment)
        start = unbroken(kept)
        return case_of(kept, version=current, start=records.case_at(case_id, start) if start else None)

    def trajectory_then(moment: datetime) -> object:
        cut = records.versions_recorded_by(case_id, moment, records.get_case(case_id, copy=False).version)
        known = [(v, e) for v, e in records.every_entry(case_id) if v <= cut]
        return replayed_trajectory(case_id, known, moment)

    replays: dict[str, Callable[[datetime], object]] = {
        "case as recorded": as_recorded,
        "case as happened": as_happened,
        "trajectory as recorded": trajectory_then,
    }
    timed = {name: Timed() for name in REPLAYS}
    for moment in at:
        for name, replay in replays.items():
            started = time.perf_counter()
            replay(moment)
            timed[name].latencies_ms.append((time.perf_counter() - started) * 1000)
    return timed
