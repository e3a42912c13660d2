"""The OpenAPI schema's problem responses, documented in one place for every operation, so clients
(and schemathesis in the fault suite) know each status an operation can answer with."""

from __future__ import annotations

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec

from service.http.field_errors import FieldError

__all__ = ["Problem", "document_problems"]


class Problem(msgspec.Struct):
    """An RFC 9457 problem; the members after ``instance`` come with the problem types that use them."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError] | None = None
    field: str | None = None
    header: str | None = None
    current_version: int | None = None


_WHY = {
    400: "Malformed input: the problem names the field or header and what to send instead",
    401: "No valid bearer token",
    403: "The caller's role or care team does not allow this",
    404: "No such case or entry",
    409: "A record-keeping rule was broken; the problem type names the rule",
    412: "If-Match names a version the case has moved on from",
    413: "The body is over the size limit",
    415: "The body is not JSON",
    422: "Values that cannot be used (named in `errors`), or an Idempotency-Key reused with another body",
    503: "The store is unavailable, or the projections have not reached min_position; see Retry-After",
}
_OPEN = frozenset({"health", "ready"})


def _statuses(handler: HTTPRouteHandler, path: str) -> set[int]:
    if handler.handler_name in _OPEN:
        return {503} if handler.handler_name == "ready" else set()
    statuses = {400, 401, 403, 422, 503}
    if "{" in path:
        statuses.add(404)
    if handler.http_methods & {"POST", "PUT"}:
        statuses |= {409, 412, 413, 415}
    return statuses


def document_problems(app: Litestar) -> None:
    """Add the problem responses each route can give to its OpenAPI operation (built lazily, on the
    first request for the schema, so this runs right after the app is created)."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if not isinstance(handler, HTTPRouteHandler) or not handler.resolve_include_in_schema():
                continue
            problems = {
                status: ResponseSpec(Problem, description=_WHY[status], media_type="application/problem+json")
                for status in sorted(_statuses(handler, route.path))
            }
            handler.responses = {**problems, **(handler.responses or {})}
