"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Response, get
from litestar.di import NamedDependency

from service.application import CaseRecords

__all__ = ["health", "ready"]


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
async def ready(records: NamedDependency[CaseRecords]) -> Response[dict[str, Any]]:
    """200 when the case record store answers, 503 (with Retry-After) when it does not."""
    try:
        await anyio.to_thread.run_sync(records.ping)
    except Exception:
        return Response({"status": "unavailable"}, status_code=503, headers={"Retry-After": "2"})
    return Response({"status": "ready"})
