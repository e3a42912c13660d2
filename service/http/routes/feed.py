"""The live feed of reporting changes, for reporting tools: Server-Sent Events for a subscriber that
holds a connection (resumed with ``Last-Event-ID``), one JSON page at a time for a tool that polls.

Each event is one log position and the pseudonymised changes at it (``projections.queries.feed``):
keyed-hash entry keys, view names and times, never free text. Its id is the position, so a
subscriber that reconnects with the last id it received carries on with the next position.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from events.values import Role
from projections.queries.feed import FEED_PROJECTIONS, FeedPage, read_feed
from service.http.auth import requires
from service.http.positions import PositionWatcher, ProjectionBehind
from service.http.reading import ReadPools
from service.http.routes.parameters import BIGINT, After, Limit
from service.http.telemetry import Telemetry

__all__ = ["KEEP_ALIVE_SECONDS", "FeedController"]

KEEP_ALIVE_SECONDS = 15.0
"""A quiet stream sends a comment this often, so proxies keep it open and a dead peer is noticed."""
_STREAM_PAGE = 500

LastEventId = Annotated[
    int | None,
    HeaderParameter(
        name="Last-Event-ID",
        ge=0,
        le=BIGINT,
        description="The id (position) of the last event received: the stream resumes after it",
    ),
]


class FeedController(Controller):
    """Changes to the reporting views, position by position."""

    path = "/feed"
    tags = ("Reporting",)
    guards = (requires(Role.REPORTING),)

    @get(
        "/",
        operation_id="readFeed",
        summary="Changes to the reporting views: a live stream or one page",
        responses={200: ResponseSpec(FeedPage, description="One page (without Accept: text/event-stream)")},
    )
    async def feed(
        self,
        *,
        request: Request[Any, Any, Any],
        state: State,
        reads: NamedDependency[ReadPools],
        positions: NamedDependency[PositionWatcher],
        after: After = 0,
        limit: Limit = 100,
        last_event_id: LastEventId = None,
    ) -> Response[Any]:
        """With `Accept: text/event-stream`, a stream of `changes` events (id = position, data = the
        position's changes) that stays open; resume with `Last-Event-ID`. Otherwise one JSON page of
        up to `limit` positions after `after`; poll again with its `next_after`. Each change names a
        reporting view and the `entry_key` whose rows to read again (`removed`: none left); view `*`
        means the views were rebuilt. Only positions both projections have reached are sent."""
        start = after if last_event_id is None else last_event_id
        if "text/event-stream" in request.headers.get("accept", ""):
            telemetry: Telemetry = state.telemetry
            return ServerSentEvent(_stream(reads, positions, telemetry, start))
        async with reads.service() as conn:
            page = await read_feed(conn, start, limit)
        return Response(page)


async def _stream(
    reads: ReadPools, positions: PositionWatcher, telemetry: Telemetry, after: int
) -> AsyncIterator[ServerSentEventMessage]:
    """Pages of changes as they come, each position one event; a comment while nothing changes."""
    telemetry.feed_subscribers.inc()
    try:
        while True:
            async with reads.service() as conn:  # held for a page, never while waiting
                page = await read_feed(conn, after, _STREAM_PAGE)
            for position in page.positions:
                data = msgspec.json.encode(position).decode()
                yield ServerSentEventMessage(data=data, id=str(position.position), event="changes")
            after = page.next_after
            if len(page.positions) < _STREAM_PAGE and not await _moved(positions, page.horizon):
                yield ServerSentEventMessage(comment="keep-alive")
    finally:
        telemetry.feed_subscribers.dec()


async def _moved(positions: PositionWatcher, horizon: int) -> bool:
    """Wait until both projections pass the horizon (True), or the keep-alive interval (False)."""
    try:
        await positions.wait_for(FEED_PROJECTIONS, horizon + 1, wait_seconds=KEEP_ALIVE_SECONDS)
    except ProjectionBehind:
        return False
    return True
