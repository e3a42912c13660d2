"""Conditional and idempotent writes: If-Match, If-None-Match, Idempotency-Key, ETag, and the JSON check."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from events.case import Case
from events.values import Actor
from service.http.problems import HttpProblem
from service.http.views import EntryWritten
from service.write.application import Receipt, WriteRequest
from service.write.persistence import IdempotencyKey

__all__ = ["etag", "json_body_required", "not_modified", "write_request", "written"]

_ETAG = re.compile(r'^\s*(W/)?"(\d{1,18})"\s*$')
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def etag(version: int) -> str:
    """The strong entity tag of a case version."""
    return f'"{version}"'


async def json_body_required(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: writes carry a JSON body (checked before the body is read)."""
    media_type = connection.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise HttpProblem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            "Send the body as JSON with Content-Type: application/json.",
        )


async def write_request(
    request: Request[Actor, Any, Any], authorise: Callable[[Case], None] | None = None
) -> WriteRequest:
    """The conditions on a write: who may make it, and the client's If-Match and Idempotency-Key."""
    expected: int | None = None
    if_match = request.headers.get("if-match")
    if if_match is not None and if_match.strip() != "*":
        matched = _ETAG.match(if_match)
        if matched is None:
            raise _bad_header("If-Match", 'If-Match must be a case version in quotes, such as "7".')
        # If-Match compares strongly (RFC 9110): a weak tag never matches, so the write gets a 412.
        expected = 0 if matched.group(1) else int(matched.group(2))
    key = request.headers.get("idempotency-key")
    idempotency = None
    if key is not None:
        if not _KEY.match(key):
            raise _bad_header("Idempotency-Key", "Idempotency-Key must be 1-255 visible ASCII characters.")
        fingerprint = IdempotencyKey.fingerprint(request.method, request.url.path, await request.body())
        idempotency = IdempotencyKey(request.user.id, key, fingerprint)
    return WriteRequest(authorise=authorise, expected_version=expected, idempotency=idempotency)


def _bad_header(header: str, detail: str) -> HttpProblem:
    return HttpProblem(400, "bad-header", "Malformed header", detail, header=header)


def not_modified(request: Request[Any, Any, Any], tag: str) -> bool:
    """Whether If-None-Match already names this entity tag (a version's, or a replay's)."""
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or tag in tags


def written(receipt: Receipt, *, location: str | None = None) -> Response[EntryWritten]:
    """201 with the receipt of a write; a replayed idempotent write answers exactly as the first time."""
    headers = {"ETag": etag(receipt.version)}
    if location:
        headers["Location"] = location
    if receipt.replayed:
        headers["Idempotent-Replayed"] = "true"
    body = EntryWritten(receipt.case_id, receipt.entry_id, receipt.version, receipt.position)
    return Response(body, status_code=201, headers=headers)
