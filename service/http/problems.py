"""RFC 9457 problem responses: every error names what was wrong, where, and what to send instead."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from eventsourcing.persistence import PersistenceError
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.types import ExceptionHandlersMap

from events.errors import CaseRuleBroken, InvalidEntry
from service.http.auth import AccessDenied
from service.http.problem_fields import body_missing, clean_message, error_field, field_error, parameter_name
from service.http.reading import QueryTooLong
from service.write.application import (
    CaseNotFound,
    IdempotencyKeyReused,
    StoreUnavailable,
    VersionMismatch,
    VersionNotFound,
    WriteContention,
)

__all__ = ["BadHeader", "UnsupportedMediaType", "exception_handlers", "problem"]

log = logging.getLogger("waymark.problems")
MEDIA_TYPE = "application/problem+json"


class BadHeader(HTTPException):
    """A request header is malformed."""

    status_code = 400

    def __init__(self, header: str, detail: str) -> None:
        super().__init__(detail=detail)
        self.header = header


class UnsupportedMediaType(HTTPException):
    """The body is not JSON."""

    status_code = 415


def problem(
    request: Request[Any, Any, Any],
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    """A problem details response."""
    body = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _always(
    status: int, slug: str, title: str, detail: str, *, retry_after: int | None = None, **extra: Any
) -> Callable[[Request[Any, Any, Any], Exception], Response[dict[str, Any]]]:
    """A handler for an exception whose answer does not depend on the exception's details."""

    def handle(request: Request[Any, Any, Any], _: Exception) -> Response[dict[str, Any]]:
        headers = None if retry_after is None else {"Retry-After": str(retry_after)}
        return problem(request, status, slug, title, detail, headers=headers, **extra)

    return handle


def _malformed(request: Request[Any, Any, Any], detail: str) -> Response[dict[str, Any]]:
    return problem(request, 400, "malformed-body", "Malformed body", detail)


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    items = [item for item in (exc.extra if isinstance(exc.extra, list) else []) if isinstance(item, dict)]
    if any(body_missing(item) for item in items):
        return _malformed(request, "The body is empty: send a JSON object.")
    errors = [
        field_error(request, _field(request, item), clean_message(item.get("message", ""))) for item in items
    ]
    if not errors or any("malformed" in e["message"].lower() for e in errors):
        return _malformed(request, "The body is not valid JSON (UTF-8): send a JSON object.")
    fields = ", ".join(e["field"] for e in errors)
    return problem(
        request,
        422,
        "invalid-input",
        "Invalid input",
        f"Fix these fields and send again: {fields}.",
        errors=errors,
    )


def _field(request: Request[Any, Any, Any], item: dict[str, Any]) -> str:
    field = error_field(item)
    return parameter_name(request, field) if item.get("source") == "query" else field


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    if status >= 500:
        # The framework's own 5xx messages describe its insides, not what the client can change.
        return _unexpected(request, exc)
    if isinstance(exc, BadHeader):
        return problem(request, 400, "bad-header", "Malformed header", exc.detail, header=exc.header)
    if isinstance(exc, NotAuthorizedException) or status == 401:
        return problem(
            request,
            401,
            "unauthenticated",
            "Authentication required",
            "Send a valid bearer token: signed, unexpired, with the right issuer and audience.",
            headers={"WWW-Authenticate": 'Bearer realm="waymark"'},
        )
    titles = {
        400: ("malformed-body", "Malformed request"),
        403: ("forbidden", "Forbidden"),
        404: ("not-found", "Not found"),
        405: ("method-not-allowed", "Method not allowed"),
        413: ("body-too-large", "Body too large"),
        415: ("unsupported-media-type", "Unsupported media type"),
    }
    slug, title = titles.get(status, ("http-error", "Request failed"))
    details = {
        413: "The body is over the size limit: send a smaller body.",
        415: "Send the body as JSON with Content-Type: application/json.",
    }
    return problem(request, status, slug, title, details.get(status, exc.detail), headers=exc.headers)


def _case_rule(request: Request[Any, Any, Any], exc: CaseRuleBroken) -> Response[dict[str, Any]]:
    return problem(request, 409, exc.rule, "Case rule broken", exc.message, field=exc.field)


def _invalid_entry(request: Request[Any, Any, Any], exc: InvalidEntry) -> Response[dict[str, Any]]:
    return problem(
        request,
        422,
        exc.rule,
        "Invalid entry",
        exc.message,
        field=exc.field,
        errors=[{"field": exc.field, "message": exc.message}],
    )


def _not_found(request: Request[Any, Any, Any], exc: CaseNotFound) -> Response[dict[str, Any]]:
    return problem(
        request,
        404,
        "case-not-found",
        "Case not found",
        f"There is no case {exc.case_id}: check the case id.",
    )


def _version(request: Request[Any, Any, Any], exc: VersionMismatch) -> Response[dict[str, Any]]:
    return problem(
        request,
        412,
        "version-mismatch",
        "The case has moved on",
        f"The case is now at version {exc.current}: read it again and resend with "
        f'If-Match: "{exc.current}" if your entry still applies.',
        headers={"ETag": f'"{exc.current}"'},
        current_version=exc.current,
    )


def _no_version(request: Request[Any, Any, Any], exc: VersionNotFound) -> Response[dict[str, Any]]:
    return problem(
        request,
        404,
        "version-not-found",
        "No such version",
        f"The case has {exc.current} versions: ask for version 1 to {exc.current}.",
        field="version",
    )


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    # Type and traceback only: exception messages can carry request values.
    log.error(
        "unexpected %s on %s %s",
        type(exc).__name__,
        request.method,
        request.url.path,
        exc_info=(type(exc), exc, None),
    )
    return problem(
        request,
        500,
        "internal-error",
        "Internal error",
        "Something went wrong on our side; nothing half-written was kept.",
    )


_CONTENTION = _always(
    503,
    "unavailable",
    "Service unavailable",
    "Too many writers are changing this case at once: retry shortly.",
    retry_after=1,
)
_TOO_LONG = _always(
    503,
    "query-too-long",
    "Query took too long",
    "The query ran past the read time limit: narrow the period or filter by service.",
    retry_after=5,
)
_STORE_DOWN = _always(
    503,
    "unavailable",
    "Service unavailable",
    "The case record store is unavailable: nothing was recorded, retry shortly.",
    retry_after=1,
)


def exception_handlers() -> ExceptionHandlersMap:
    """Every exception Waymark answers, mapped to its problem response."""
    return {
        ValidationException: _validation,
        HTTPException: _http,
        CaseRuleBroken: _case_rule,
        InvalidEntry: _invalid_entry,
        CaseNotFound: _not_found,
        AccessDenied: _always(
            403,
            "not-on-care-team",
            "No access to this record",
            "Only the person's care team (and governance, for reading) may use this record.",
        ),
        VersionMismatch: _version,
        VersionNotFound: _no_version,
        IdempotencyKeyReused: _always(
            422,
            "idempotency-key-reused",
            "Idempotency-Key reused",
            "This Idempotency-Key was used for a different request: send a new key.",
            field="Idempotency-Key",
        ),
        WriteContention: _CONTENTION,
        StoreUnavailable: _STORE_DOWN,
        UnicodeDecodeError: _always(
            400,
            "malformed-body",
            "Malformed body",
            "The body is not valid UTF-8 JSON: send a JSON object encoded as UTF-8.",
        ),
        RecursionError: _always(
            400,
            "malformed-body",
            "Malformed body",
            "The body is nested too deeply: send the flat JSON object the schema describes.",
        ),
        PersistenceError: _STORE_DOWN,
        QueryTooLong: _TOO_LONG,
        asyncpg.QueryCanceledError: _TOO_LONG,
        asyncpg.PostgresConnectionError: _STORE_DOWN,
        asyncpg.InterfaceError: _STORE_DOWN,
        ConnectionError: _STORE_DOWN,
        Exception: _unexpected,
    }
