"""Operations for one app: a log line and a latency observation for every request, counters of entries
written and rules refused, and the Prometheus exposition at ``/metrics``.

Labels are route templates (``/cases/{case_id}/reviews``), entry kinds and problem types: a
bounded set that names no person. A request's log line carries who asked (user id and role), never
what they sent.
"""

from __future__ import annotations

import hmac
import logging
import time
import uuid
from typing import Any

import structlog
from litestar import Request, Response, get
from litestar.datastructures import MutableScopeHeaders, State
from litestar.di import NamedDependency
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from projections.schema import EVENTS_TABLE
from service.http.positions import PositionWatcher
from service.http.problems import PROBLEM, HttpProblem
from service.http.reading import ReadPools

__all__ = ["ENTRY_KIND", "Telemetry", "metrics"]

log = logging.getLogger("waymark.requests")

ENTRY_KIND = "entry_kind"
"""A write route's ``opt`` key: the kind of entry a 201 from it recorded."""

_HEAD = f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"  # noqa: S608 - a fixed name
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Telemetry:
    """The metrics of one app, in a registry of its own (apps in one process never share counts)."""

    def __init__(self, metrics_token: str | None = None) -> None:
        self.metrics_token = metrics_token
        self.registry = registry = CollectorRegistry()
        self.requests = Histogram(
            "waymark_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by route template and status.",
            ["route", "method", "status"],
            buckets=_SECONDS,
            registry=registry,
        )
        self.entries = Counter(
            "waymark_entries_written", "Entries recorded (201 answers), by kind.", ["kind"], registry=registry
        )
        self.refusals = Counter(
            "waymark_rule_refusals", "Writes a record-keeping rule refused.", ["rule"], registry=registry
        )
        self.problems = Counter(
            "waymark_problems", "Problem answers, by type and status.", ["type", "status"], registry=registry
        )
        self.positions = Gauge(
            "waymark_projection_position",
            "The log position each projection has applied.",
            ["projection"],
            registry=registry,
        )
        self.lag = Gauge(
            "waymark_projection_lag_events",
            "Entries stored but not yet applied, by projection.",
            ["projection"],
            registry=registry,
        )
        self.head = Gauge("waymark_log_position", "The newest position in the event log.", registry=registry)
        self.pools = Gauge(
            "waymark_pool_connections", "Connections by pool and state (in use, idle, waiting).",
            ["pool", "state"], registry=registry,
        )  # fmt: skip

        self.feed_subscribers = Gauge(
            "waymark_feed_subscribers", "Open connections to the live feed (GET /feed, Server-Sent Events).",
            registry=registry,
        )  # fmt: skip

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """The app, timed and logged request by request (404s and 405s included, which no route sees)."""

        async def observed(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            started, status = time.perf_counter(), 500
            request_id = uuid.uuid4().hex
            structlog.contextvars.bind_contextvars(request_id=request_id)

            async def sending(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    MutableScopeHeaders.from_message(message)["X-Request-ID"] = request_id
                await send(message)

            try:
                await app(scope, receive, sending)
            finally:
                self._observe(scope, status, time.perf_counter() - started)
                structlog.contextvars.unbind_contextvars("request_id")

        return observed

    def _observe(self, scope: HTTPScope, status: int, seconds: float) -> None:
        route = scope.get("path_template") or "unmatched"
        method = scope["method"]
        self.requests.labels(route, method, str(status)).observe(seconds)
        handler = scope.get("route_handler")
        kind = handler.opt.get(ENTRY_KIND) if handler is not None and status == 201 else None
        if kind:
            self.entries.labels(kind).inc()
        problem: tuple[str, bool] | None = scope.get("state", {}).get(PROBLEM)
        if problem is not None:
            self.problems.labels(problem[0], str(status)).inc()
            if problem[1]:
                self.refusals.labels(problem[0]).inc()
        user = scope.get("user")
        log.info(
            "request",
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "actor": getattr(user, "id", None),
                "role": str(getattr(user, "role", "")) or None,
            },
        )

    async def observe_read_side(self, reads: ReadPools, positions: PositionWatcher) -> None:
        """Read the log's head and the pools' use into the gauges, as of this scrape."""
        async with reads.service() as reader:
            head = await reader.fetchval(_HEAD)
        self.head.set(head)
        for name, position in positions.positions.items():
            self.positions.labels(name).set(position)
            self.lag.labels(name).set(max(head - position, 0))
        for name, pool in (("person_reads", reads.person_pool), ("service_reads", reads.service_pool)):
            idle = pool.get_idle_size()
            self.pools.labels(name, "in_use").set(pool.get_size() - idle)
            self.pools.labels(name, "idle").set(idle)

    def observe_write_side(self, recorder: Any) -> None:
        """The write side's psycopg pool, where the recorder has one."""
        pool = getattr(getattr(recorder, "datastore", None), "pool", None)
        if pool is None:
            return
        stats = pool.get_stats()
        available = stats.get("pool_available", 0)
        self.pools.labels("writes", "in_use").set(stats.get("pool_size", 0) - available)
        self.pools.labels("writes", "idle").set(available)
        self.pools.labels("writes", "waiting").set(stats.get("requests_waiting", 0))


def _allowed(request: Request[Any, Any, Any], token: str | None) -> bool:
    if token is None:
        return True
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


@get("/metrics", include_in_schema=False, opt={"exclude_from_auth": True})
async def metrics(
    request: Request[Any, Any, Any],
    state: State,
    reads: NamedDependency[ReadPools],
    positions: NamedDependency[PositionWatcher],
) -> Response[bytes]:
    """The Prometheus exposition; with ``WAYMARK_METRICS_TOKEN`` set, only for a scraper sending it."""
    telemetry: Telemetry = state.telemetry
    if not _allowed(request, telemetry.metrics_token):
        raise HttpProblem(
            401, "unauthenticated", "Authentication required",
            "Send the metrics token as a bearer token: Authorization: Bearer <WAYMARK_METRICS_TOKEN>.",
        )  # fmt: skip
    await telemetry.observe_read_side(reads, positions)
    telemetry.observe_write_side(state.records.recorder)
    return Response(generate_latest(telemetry.registry), media_type=CONTENT_TYPE_LATEST)
