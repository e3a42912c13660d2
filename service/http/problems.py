"""RFC 9457 problems. Litestar's ``ProblemDetailsPlugin`` carries the envelope; Waymark adds which
exception is which problem (type, title, a detail saying what to send instead), the instance, and
the field errors (``field_errors``). No detail echoes a submitted value."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import asyncpg
import msgspec
from eventsourcing.persistence import PersistenceError
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.params import QueryParameter
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from litestar.types import ExceptionHandlersMap

from events.errors import CaseRuleBroken, InvalidEntry
from events.sealing import KeyUnavailable, SealBroken
from projections.queries.break_glass import AlreadyReviewed, GrantNotFound
from service.http.auth import AccessDenied
from service.http.field_errors import FieldError, describe
from service.http.positions import ProjectionBehind
from service.http.reading import QueryTooLong
from service.write.application import (
    CaseNotFound,
    IdempotencyKeyReused,
    StoreUnavailable,
    VersionMismatch,
    VersionNotFound,
    WriteContention,
)
from service.write.keys import NotErasable

__all__ = ["PROBLEM", "HttpProblem", "InvalidInput", "RuleRefusal", "exception_handlers", "problem_details"]

log = logging.getLogger("waymark.problems")
PROBLEM = "waymark.problem"
"""The scope state key a problem answer leaves its type (and whether a rule refused) under."""
Answer = Response[dict[str, Any]]
Headers = dict[str, str] | None


class HttpProblem(ProblemDetailsException):
    """A problem answer: status, type ``/problems/<slug>``, title, a detail saying what to send
    instead, and members of its own (``field``, ``errors``, ``current_version``, ``header``)."""

    rule = False
    """Whether a record-keeping rule refused the request (counted apart in the metrics)."""

    def __init__(
        self, status: int, slug: str, title: str, detail: str, *, headers: Headers = None, **members: Any
    ):
        problem_type = f"/problems/{slug}"
        self.slug = slug
        super().__init__(
            detail=detail, status_code=status, headers=headers, extra=members, type_=problem_type, title=title
        )

    def to_response(self, request: Request[Any, Any, Any]) -> Answer:
        """The answer, its instance being the path asked for; its type is left in the scope's state for
        the metrics."""
        self.instance = request.url.path
        request.scope.setdefault("state", {})[PROBLEM] = (self.slug, self.rule)
        return super().to_response(request)


class RuleRefusal(HttpProblem):
    """A record-keeping rule refused the entry: 409 (the case's state) or 422 (the entry itself)."""

    rule = True


class InvalidInput(HttpProblem):
    """422: values that cannot be used, each field named with what to send instead."""

    def __init__(self, errors: list[FieldError]) -> None:
        detail = f"Fix these fields and send again: {', '.join(error['field'] for error in errors)}."
        super().__init__(422, "invalid-input", "Invalid input", detail, errors=errors)


def _down(_: Exception) -> HttpProblem:
    detail = "The case record store is unavailable: nothing was recorded, retry shortly."
    return HttpProblem(503, "unavailable", "Service unavailable", detail, headers={"Retry-After": "1"})


def _slow(_: Exception) -> HttpProblem:
    detail = (
        "The query ran past the read side's limits (time or temporary space):"
        " narrow the period or filter by service."
    )
    return HttpProblem(503, "query-too-long", "Query took too long", detail, headers={"Retry-After": "5"})


def _upgrading(error: Exception) -> HttpProblem:
    # A projection whose tables this version changed is rebuilt in the background at start-up; until
    # it switches, its read views have the old columns, which this version's queries may name. Logged:
    # a query naming what no generation has is a defect, and only the log tells the two apart.
    log_behind(error)
    detail = "The read side is being rebuilt for this version of Waymark: retry in a few minutes."
    return HttpProblem(
        503, "read-side-rebuilding", "Being brought up to date", detail, headers={"Retry-After": "60"}
    )


def log_behind(error: Exception) -> None:
    """Note a read that named a column or table the live generation lacks (the database's words name
    only the column or table)."""
    log.warning("a read named what the live read side lacks (rebuilding after an upgrade?): %s", error)


_MALFORMED = "malformed-body", "Malformed body"
# fmt: off
PROBLEMS: Mapping[type[Exception], Callable[[Any], HttpProblem]] = {
    CaseRuleBroken: lambda e: RuleRefusal(409, e.rule, "Case rule broken", e.message, field=e.field),
    InvalidEntry: lambda e: RuleRefusal(422, e.rule, "Invalid entry", e.message, field=e.field,
        errors=[{"field": e.field, "message": e.message}]),
    CaseNotFound: lambda e: HttpProblem(
        404, "case-not-found", "Case not found", f"There is no case {e.case_id}: check the case id."),
    VersionMismatch: lambda e: HttpProblem(
        412, "version-mismatch", "The case has moved on", f"The case is now at version {e.current}: read it "
        f'again and resend with If-Match: "{e.current}" if your entry still applies.',
        headers={"ETag": f'"{e.current}"'}, current_version=e.current),
    VersionNotFound: lambda e: HttpProblem(404, "version-not-found", "No such version",
        f"The case has {e.current} versions: ask for version 1 to {e.current}.", field="version"),
    ProjectionBehind: lambda e: HttpProblem(503, "projection-behind", "Not yet up to date",
        f"The projections have not yet reached position {e.position}: retry shortly.",
        headers={"Retry-After": "1"}),
    AccessDenied: lambda _: HttpProblem(403, "not-on-care-team", "No access to this record",
        "Only the person's care team (and governance, for reading) may use this record."),
    GrantNotFound: lambda _: HttpProblem(404, "grant-not-found", "No such break-glass access",
        "No break-glass grant has this entry id: take it from GET /governance/break-glass."),
    AlreadyReviewed: lambda _: HttpProblem(409, "already-reviewed", "Already reviewed",
        "This break-glass access was already closed with an outcome."),
    IdempotencyKeyReused: lambda _: HttpProblem(422, "idempotency-key-reused", "Idempotency-Key reused",
        "This Idempotency-Key was used for a different request: send a new key.", field="Idempotency-Key"),
    WriteContention: lambda _: HttpProblem(503, "unavailable", "Service unavailable",
        "Too many writers are changing this case at once: retry shortly.", headers={"Retry-After": "1"}),
    UnicodeDecodeError: lambda _: HttpProblem(
        400, *_MALFORMED, "The body is not valid UTF-8 JSON: send a JSON object encoded as UTF-8."),
    RecursionError: lambda _: HttpProblem(
        400, *_MALFORMED, "The body is nested too deeply: send the flat JSON object the schema describes."),
    QueryTooLong: _slow, asyncpg.QueryCanceledError: _slow,
    asyncpg.UndefinedColumnError: _upgrading, asyncpg.UndefinedTableError: _upgrading,
    NotErasable: lambda e: HttpProblem(409, "not-erasable", "Cannot be erased", f"{e}: nothing was erased."),
    SealBroken: lambda _: HttpProblem(500, "record-integrity", "Record altered outside Waymark",
        "An entry of this record does not open under its key: it was changed in the database, not through"
        " Waymark. Nothing of it is served; ask an administrator to run `waymark audit verify`."),
    KeyUnavailable: lambda _: HttpProblem(503, "key-unavailable", "Record key unavailable",
        "This record is sealed under a key this server does not hold: set WAYMARK_RECORD_KEY."),
    StoreUnavailable: _down, PersistenceError: _down, ConnectionError: _down,
    asyncpg.PostgresConnectionError: _down, asyncpg.InterfaceError: _down,
}
"""Every Waymark exception, and the problem that answers it."""
_HTTP = {  # Litestar's own refusals: type slug, title, and a detail where Litestar's would not help.
    400: ("malformed-body", "Malformed request", None),
    401: ("unauthenticated", "Authentication required",
          "Send a valid bearer token: signed, unexpired, with the right issuer and audience."),
    403: ("forbidden", "Forbidden", None),
    404: ("not-found", "Not found", None),
    405: ("method-not-allowed", "Method not allowed", None),
    413: ("body-too-large", "Body too large", "The body is over the size limit: send a smaller body."),
}
# fmt: on


def problem_details() -> ProblemDetailsPlugin:
    """Litestar's RFC 9457 plugin, answering each Waymark exception with its problem."""
    return ProblemDetailsPlugin(ProblemDetailsConfig(exception_to_problem_detail_map=PROBLEMS))


def exception_handlers() -> ExceptionHandlersMap:
    """Answers for what Litestar raises itself, and for anything unexpected."""
    return {ValidationException: _validation, HTTPException: _http, Exception: _unexpected}


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Answer:
    if exc.status_code >= 500:
        # The framework's own 5xx messages describe its insides, not what the client can change.
        return _unexpected(request, exc)
    slug, title, detail = _HTTP.get(exc.status_code, ("http-error", "Request failed", None))
    headers = {"WWW-Authenticate": 'Bearer realm="waymark"'} if exc.status_code == 401 else exc.headers
    return HttpProblem(exc.status_code, slug, title, detail or exc.detail, headers=headers).to_response(
        request
    )


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Answer:
    """Path and query parameters Litestar refused (a body is checked by ``inputs.ValidatingRequest``;
    Litestar itself only reports a body missing altogether)."""
    items = [item for item in (exc.extra if isinstance(exc.extra, list) else []) if isinstance(item, dict)]
    if any(item.get("source") == "body" for item in items):
        return HttpProblem(400, *_MALFORMED, "The body is empty: send a JSON object.").to_response(request)
    errors = _parameter_errors(request, [str(item["key"]) for item in items if "key" in item])
    if not errors:
        detail = "The body is not valid JSON (UTF-8): send a JSON object."
        return HttpProblem(400, *_MALFORMED, detail).to_response(request)
    return InvalidInput(errors).to_response(request)


def _parameter_errors(request: Request[Any, Any, Any], keys: list[str]) -> list[FieldError]:
    """Each parameter named under the name a client sends (``from`` for ``from_``), described from the
    handler's signature; with no keys, the required query parameters that were not sent."""
    handler = request.route_handler
    hints = {field.name: field.type for field in msgspec.structs.fields(handler.signature_model)}
    parameters = handler.parsed_fn_signature.parameters
    names = {
        key: getattr(p.kwarg_definition, "query", None) or getattr(p.kwarg_definition, "name", None) or key
        for key, p in parameters.items()
    }
    errors = [describe(hints[key], names[key]) for key in keys if key in hints and key in names]
    missing = [
        key
        for key, parameter in parameters.items()
        if isinstance(parameter.kwarg_definition, QueryParameter)
        and not (parameter.has_default or parameter.is_optional or names[key] in request.query_params)
    ]
    return errors or [describe(hints[key], names[key], missing=True) for key in missing]


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Answer:
    # The route's template, not the path; the log handler keeps the exception's type and frames only
    # (service/logs.py): exception messages can carry request values.
    log.error(
        "unexpected %s on %s %s",
        type(exc).__name__,
        request.method,
        request.scope.get("path_template", "unmatched"),
        exc_info=exc,
    )
    detail = "Something went wrong on our side; nothing half-written was kept."
    return HttpProblem(500, "internal-error", "Internal error", detail).to_response(request)
