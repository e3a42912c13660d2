"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Response, get
from litestar.di import NamedDependency

from projections.parking import parked_summary
from service.http.reading import ReadPools
from service.write.application import CaseRecords

__all__ = ["health", "ready"]

READ_WAIT_SECONDS = 2.0
"""Longest /ready waits for a read connection: a pool that stays busy for longer cannot serve reads."""


@get(
    "/health",
    operation_id="health",
    summary="The process is alive",
    tags=["Operations"],
    exclude_from_auth=True,
    security=[{}],  # no token: overrides the schema's app-wide bearer requirement
)
async def health() -> dict[str, str]:
    """Always 200 while the process serves requests."""
    return {"status": "ok"}


@get(
    "/ready",
    operation_id="ready",
    summary="The database answers",
    tags=["Operations"],
    exclude_from_auth=True,
    security=[{}],  # no token: overrides the schema's app-wide bearer requirement
)
async def ready(
    records: NamedDependency[CaseRecords], reads: NamedDependency[ReadPools]
) -> Response[dict[str, Any]]:
    """200 when the case record store answers: "ready", or "degraded" with counts when projections
    have parked events they could not apply; 503 (with Retry-After) when the store does not answer."""
    try:
        await anyio.to_thread.run_sync(records.ping)
        async with reads.person_pool.acquire(timeout=READ_WAIT_SECONDS) as conn:
            parked = await parked_summary(conn)
    except Exception:
        return Response({"status": "unavailable"}, status_code=503, headers={"Retry-After": "2"})
    if not parked.events:
        return Response({"status": "ready"})
    return Response(
        {
            "status": "degraded",
            "parked_events": parked.events,
            "cases_incomplete": parked.cases,
            "detail": "Some entries could not be projected; their cases' answers say they are incomplete."
            " See `waymark projections status`; after a fix, `waymark projections retry`.",
        }
    )
