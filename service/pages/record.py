"""A person's record page: header, goals and milestones, trajectory charts, and the timeline of every
entry, filterable by kind and domain. Read through the API's own functions (``read_case``, the
history items, the trajectory query), and logged as a read of the record like any API read."""

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

from events.entries import Entry
from events.values import Actor
from projections.queries.replayed import replayed_trajectory
from projections.queries.trajectory import Series, Trajectory, trajectory
from service.http.access import Purpose, PurposeOfUse, authorise_logged
from service.http.positions import PositionWatcher
from service.http.problems import InvalidInput
from service.http.reading import ReadPools
from service.http.replaying import ReplayPoint, replay_case
from service.http.routes.readmodels import read_case, read_consistently
from service.http.views import CaseView, HistoryItem, case_view, history_item
from service.pages.caseload import LABEL_TAGS
from service.pages.charts import Chart, Marker, chart
from service.pages.purpose import ask_purpose, purpose_needed
from service.pages.replay import Replay, end_of, parse_day, replay_of
from service.pages.templating import KIND_NAMES
from service.pages.timeline import TimelineEntry, timeline
from service.pages.web import Pages, actor_of, render
from service.write.application import CaseRecords

__all__ = ["RECORD_ROUTES", "read_record"]

PAGE_SIZE = 100
"""Timeline entries per page: a long record reads (and prints) in pages."""
_MARKERS = {"setback_recorded": "setback", "escalation_raised": "escalation", "plan_changed": "plan"}

AtVersion = Annotated[int | None, QueryParameter(ge=1, description="The record as it stood at this version")]
AsRecordedOn = Annotated[str | None, QueryParameter(max_length=10, description="YYYY-MM-DD")]
Kind = Annotated[str | None, QueryParameter(max_length=40)]
Domain = Annotated[str | None, QueryParameter(max_length=40)]
PageNumber = Annotated[int, QueryParameter(ge=1, le=10_000)]
MinPosition = Annotated[int | None, QueryParameter(ge=1)]


@dataclass(frozen=True)
class Record:
    """A case as it stands (or stood) and every entry of it up to then, as the API gives them."""

    view: CaseView
    items: list[HistoryItem]
    replay: Replay
    known: list[tuple[int, Entry]]
    """The entries shown, in the order they were recorded (a replay's trajectory is folded from them)."""


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
    # Before any entry is read (the purpose is checked again, and logged, with each read below).
    authorise_logged(records, actor, records.get_case(case_id, copy=False), view, purpose)
    entries = records.every_entry(case_id)
    day, problem, case = parse_day(on), None, None
    if on and day is None:
        problem = "Enter the date as a real date, such as 2026-03-03."
    elif day is not None:
        point = ReplayPoint(recorded_until=min(end_of(day), datetime.now(UTC)))
        try:
            case = replay_case(records, actor, case_id, view, point, purpose=purpose).case
        except InvalidInput:
            problem = f"The record was not yet opened on {day:%-d %b %Y}."
    if case is None:
        case = read_case(records, actor, case_id, view, version=None if on else version, purpose=purpose)
    known = [(v, e) for v, e in entries if v <= case.version]
    replay = replay_of(entries, version=case.version, day=day, problem=problem)
    return Record(case_view(case), [history_item(case, v, e) for v, e in known], replay, known)


def markers_of(entries: list[TimelineEntry]) -> list[Marker]:
    """Setbacks, escalations and plan changes, for the charts' time axes."""
    return [
        Marker(_MARKERS[e.item.type], e.occurred_at, e.item.entry_id, KIND_NAMES[e.item.type])
        for e in entries
        if e.item.type in _MARKERS
    ]


def _charts(found: Trajectory, markers: list[Marker]) -> list[tuple[str, Chart, Series]]:
    """One chart per domain, self-rating and scored measure with readings."""
    groups = (("domain", found.domains), ("self", found.self_ratings), ("measure", found.instruments))
    drawn = []
    for group, series in groups:
        for one in series:
            if (made := chart(one, markers)) is not None:
                drawn.append((group, made, one))
    return drawn


class EntryNames:
    """How to name an entry when another names it: its kind and the day it happened (worked out
    only for the entries a page links to)."""

    def __init__(self, items: list[HistoryItem]) -> None:
        self._items = {str(i.entry_id): i for i in items}

    def get(self, entry_id: str, default: str) -> str:
        """The entry's name, or ``default`` for one this page does not hold."""
        item = self._items.get(entry_id)
        if item is None:
            return default
        return f"{KIND_NAMES.get(item.type, item.type)} of {item.occurred_at:%-d %b %Y}"


def _query(**values: object) -> str:
    """A query string of the values given (the first page and empty values left out)."""
    return urlencode({k: v for k, v in values.items() if v not in (None, "") and (k != "page" or v != 1)})


@get("/cases/{case_id:uuid}")
async def record_page(
    *,
    request: Request[Any, Any, Any],
    pages: NamedDependency[Pages],
    records: NamedDependency[CaseRecords],
    reads: NamedDependency[ReadPools],
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
    entries = timeline(record.items)
    shown = [e for e in entries if (not kind or e.item.type == kind) and (not domain or domain in e.domains)]
    await read_consistently(positions, ["trajectory", "care"], min_position)
    if (as_of := record.replay.recorded_at) is not None:  # the trajectory as it stood, as the API's
        found = await anyio.to_thread.run_sync(lambda: replayed_trajectory(case_id, record.known, as_of))
    else:
        async with reads.person() as conn:
            found = await trajectory(conn, case_id, datetime.now(UTC))
    start = (page - 1) * PAGE_SIZE
    return render(
        request,
        pages,
        "record.jinja",
        case=record.view,
        replay=record.replay,
        entries=shown[start : start + PAGE_SIZE],
        total=len(shown),
        page=page,
        pages_count=max(1, -(-len(shown) // PAGE_SIZE)),
        kinds=sorted({e.item.type for e in entries}, key=lambda k: KIND_NAMES.get(k, k)),
        kind=kind or "",
        domain=domain or "",
        charts=_charts(found, markers_of(entries)),
        tags=LABEL_TAGS,
        names=EntryNames(record.items),
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
