"""A subscriber to ``GET /feed`` as a reporting tool would write one: Server-Sent Events parsed as
they arrive (an event counts once its blank line has come), resumed with ``Last-Event-ID``. Used by
the feed's tests and by ``waymark bench``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

__all__ = ["FeedEvent", "events"]


@dataclass(frozen=True)
class FeedEvent:
    """One event of the stream: its id (a position), type and data."""

    id: str
    event: str
    data: str


async def events(
    client: httpx.AsyncClient, token: str, last_event_id: str | None = None
) -> AsyncIterator[FeedEvent]:
    """The stream's events from one connection, until it ends; comments (keep-alives) are skipped."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    async with client.stream("GET", "/feed", headers=headers) as response:
        response.raise_for_status()
        fields: dict[str, list[str]] = {}
        async for line in response.aiter_lines():
            if line == "":  # the end of an event: dispatched only now, as EventSource does
                if "data" in fields:
                    yield FeedEvent(
                        "".join(fields.get("id", [""])), "".join(fields.get("event", ["message"])),
                        "\n".join(fields["data"]),
                    )  # fmt: skip
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                fields.setdefault(name, []).append(value.removeprefix(" "))
