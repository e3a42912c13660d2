"""A person's record page: header, goals and milestones, trajectory charts, and the timeline of every
entry, filterable by kind and domain, a page of it at a time. Read through the API's own functions
(``replay_case``, the history items, the replayed trajectory folded from the entries held, as of now
or the day replayed), and logged as a read of the record like any API read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

import anyio.to_thread
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Template

from events.case import Case
from events.entries import Entry, TextErased
from events.values import Actor
from projections.queries.replayed import replayed_trajectory
from service.http.access import Purpose, PurposeOfUse
from service.http.positions import PositionWatcher
from service.http.problems import InvalidInput
from service.http.replaying import ReplayPoint, replay_case
from service.http.routes.readmodels import read_consistently
from service.http.views import case_view
from service.pages.charts import Marker
from service.pages.fragments import Remembered, figures, timeline_entries
from service.pages.purpose import ask_purpose, purpose_needed
from service.pages.replay import Replay, ReviewMark, end_of, parse_day, replay_of, review_marks
from service.pages.templating import KIND_NAMES
from service.pages.timeline import EntryNames, TimelineEntry, timeline
from service.pages.web import Pages, actor_of, render
from service.write.application import CaseRecords
from service.write.recent import up_to

__all__ = ["RECORD_ROUTES", "read_record"]

PAGE_SIZE = 100
"""Timeline entries per page: a long record reads (and prints) in pages."""
_TIMELINES: Remembered[_Timeline] = Remembered(budget=16, size=lambda _: 1)
"""The timelines of the records viewed most recently, by case and version."""
_REVIEW_DAYS: Remembered[list[ReviewMark]] = Remembered(budget=64, size=lambda _: 1)
"""The days of past reviews of the records viewed most recently, by case and latest version."""
_MARKERS = {"setback_recorded": "setback", "escalation_raised": "escalation", "plan_changed": "plan"}

AtVersion = Annotated[int | None, QueryParameter(ge=1, description="The record as it stood at this version")]
AsRecordedOn = Annotated[str | None, QueryParameter(max_length=10, description="YYYY-MM-DD")]
Kind = Annotated[str | None, QueryParameter(max_length=40)]
Domain = Annotated[str | None, QueryParameter(max_length=40)]
PageNumber = Annotated[int, QueryParameter(ge=1, le=10_000)]
MinPosition = Annotated[int | None, QueryParameter(ge=1)]


@dataclass(frozen=True)
class _Timeline:
    """A record's timeline, its kinds of entry and the markers for its charts."""

    entries: list[TimelineEntry]
    kinds: list[str]
    markers: list[Marker]

    @classmethod
    def of(cls, record: Record) -> _Timeline:
        entries = timeline(record.case, record.known)
        kinds = sorted({e.kind for e in entries}, key=lambda k: KIND_NAMES.get(k, k))
        return cls(entries, kinds, markers_of(entries))


@dataclass(frozen=True)
class Record:
    """A case as it stands (or stood) and every entry of it up to then."""

    case: Case
    replay: Replay
    known: list[tuple[int, Entry]]
    """The entries shown, in the order they were recorded (the trajectory is folded from them)."""


def read_record(
    records: CaseRecords,
    actor: Actor,
    case_id: UUID,
    *,
    view: str,
    version: int | None,
    on: str | None,
    purpose: Purpose | None = None,
) -> Record:
    """The case and its entries as it stands, at ``version`` or as recorded on a date (``on``: the
    API's ``recorded_until`` at the end of that day); the read is logged once, with the version
    shown. Blocking: call it in a worker thread."""
    day, problem = parse_day(on), None
    if on and day is None:
        problem = "Enter the date as a real date, such as 2026-03-03."
    point = ReplayPoint(recorded_until=min(end_of(day), datetime.now(UTC))) if day else ReplayPoint()
    try:  # authorised (and a refusal logged) before any entry is read
        replayed = replay_case(
            records, actor, case_id, view, point, version=None if on else version, purpose=purpose
        )
    except InvalidInput:
        problem = f"The record was not yet opened on {day:%-d %b %Y}."
        replayed = replay_case(records, actor, case_id, view, ReplayPoint(), purpose=purpose)
    case = replayed.case
    entries = records.every_entry(case_id, replayed.current)
    entries = up_to(entries, replayed.current)  # not any written since the case was read
    known = up_to(entries, case.version)
    # The review days depend only on the entries: the same for every view until one is written.
    reviews = _REVIEW_DAYS.of((case_id, entries[-1][0]), lambda: review_marks(entries))
    replay = replay_of(entries, version=case.version, day=day, problem=problem, reviews=reviews)
    return Record(case, replay, known)


def markers_of(entries: list[TimelineEntry]) -> list[Marker]:
    """Setbacks, escalations and plan changes, for the charts' time axes."""
    return [
        Marker(_MARKERS[e.kind], e.occurred_at, e.entry.entry_id, KIND_NAMES[e.kind])
        for e in entries
        if e.kind in _MARKERS
    ]


def _query(**values: object) -> str:
    """A query string of the values given (the first page and empty values left out)."""
    return urlencode({k: v for k, v in values.items() if v not in (None, "") and (k != "page" or v != 1)})


@get("/cases/{case_id:uuid}")
async def record_page(
    *,
    request: Request[Any, Any, Any],
    pages: NamedDependency[Pages],
    records: NamedDependency[CaseRecords],
    positions: NamedDependency[PositionWatcher],
    case_id: FromPath[UUID],
    version: FromQuery[AtVersion] = None,
    on: FromQuery[AsRecordedOn] = None,
    review_on: FromQuery[AsRecordedOn] = None,
    kind: FromQuery[Kind] = None,
    domain: FromQuery[Domain] = None,
    page: FromQuery[PageNumber] = 1,
    min_position: FromQuery[MinPosition] = None,
    purpose: FromQuery[PurposeOfUse] = None,
) -> Template:
    """The record page (governance first says why it opens it)."""
    actor = actor_of(request, pages)
    if purpose_needed(actor, purpose):
        return ask_purpose(request, pages)
    on = on or review_on  # the date field, else the past review picked
    record = await anyio.to_thread.run_sync(
        lambda: read_record(
            records, actor, case_id, view="record-page", version=version, on=on, purpose=purpose
        )
    )
    # The same versions of a case always make the same timeline: worked out once for them.
    drawn = _TIMELINES.of((case_id, record.case.version), lambda: _Timeline.of(record))
    entries = drawn.entries
    shown = [e for e in entries if (not kind or e.kind == kind) and (not domain or domain in e.domains)]
    await read_consistently(positions, ["trajectory", "care"], min_position)
    # The trajectory folded from the entries held (as the API's replay does), as of the moment
    # replayed or now: the entries are in memory, so no query; the charts are drawn once per series.
    as_of = record.replay.recorded_at or datetime.now(UTC)
    markers = drawn.markers
    charts = await anyio.to_thread.run_sync(
        lambda: figures(replayed_trajectory(case_id, record.known, as_of), markers)
    )
    start = (page - 1) * PAGE_SIZE
    names = EntryNames(record.known)
    erasures = sum(1 for _, entry in record.known if isinstance(entry, TextErased))
    rendered = timeline_entries(case_id, shown[start : start + PAGE_SIZE], names, erasures)
    return render(
        request,
        pages,
        "record.jinja",
        case=case_view(record.case),
        replay=record.replay,
        entries=rendered,
        total=len(shown),
        page=page,
        pages_count=max(1, -(-len(shown) // PAGE_SIZE)),
        kinds=drawn.kinds,
        kind=kind or "",
        domain=domain or "",
        charts=charts,
        names=names,
        purpose=purpose.value if purpose else None,
        query_for=lambda number: _query(
            purpose=purpose.value if purpose else None,
            on=record.replay.on.isoformat() if record.replay.on else None,
            version=None if record.replay.on else record.replay.version,
            kind=kind,
            domain=domain,
            page=number,
        ),
    )


RECORD_ROUTES = [record_page]
