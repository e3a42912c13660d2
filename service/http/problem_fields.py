"""What a validation error is about: the field (as a dotted path), a message safe to show (no
values echoed), and for a coded field the values it accepts."""

from __future__ import annotations

import enum
import re
import typing
from typing import Annotated, Any

from litestar import Request

from events.codec import safe_message

__all__ = [
    "allowed_values",
    "body_missing",
    "clean_message",
    "error_field",
    "field_error",
    "parameter_name",
]


def field_error(request: Request[Any, Any, Any], field: str, message: str) -> dict[str, Any]:
    """One invalid field; for a coded field, the values it accepts."""
    error: dict[str, Any] = {"field": field, "message": message}
    if message.startswith("Invalid enum value") and (allowed := allowed_values(request, field)):
        error["message"] = "Not one of the accepted values."
        error["allowed"] = allowed
    return error


def allowed_values(request: Request[Any, Any, Any], field: str) -> list[str] | None:
    """The values an enum-typed body field accepts, found from the handler's body type."""
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return None
    body = (
        typing.get_args(data.annotation)[0]
        if typing.get_origin(data.annotation) is Annotated
        else data.annotation
    )
    name = re.split(r"[.\[]", field, maxsplit=1)[0]
    pending = (
        [typing.get_type_hints(body, include_extras=True).get(name)]
        if hasattr(body, "__struct_fields__")
        else []
    )
    while pending:
        hint = pending.pop()
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return [str(member.value) for member in hint]
        pending.extend(typing.get_args(hint))
    return None


def parameter_name(request: Request[Any, Any, Any], key: str) -> str:
    """The name a client sends a parameter under (``from``) for the handler's own name (``from_``)."""
    definition = request.route_handler.parsed_fn_signature.parameters.get(key)
    kwarg = getattr(definition, "kwarg_definition", None)
    alias = getattr(kwarg, "query", None) or getattr(kwarg, "name", None)
    return alias if isinstance(alias, str) else key


def body_missing(item: dict[str, Any]) -> bool:
    """Litestar reports an empty body as the handler's missing ``data`` parameter (a KeyError)."""
    return item.get("source") == "body" and item.get("key") == "data" and item.get("message") == "'data'"


_NAMED = re.compile(r"(?:unknown|required) field `([A-Za-z0-9_]{1,64})`")


def error_field(item: dict[str, Any]) -> str:
    """The field an error is about, as a dotted path: ``ratings``, ``items[2]``, ``actor.role``."""
    message = str(item.get("message") or "")
    path = message.rsplit("- at `$", 1)[1].rstrip("`").lstrip(".") if "- at `$" in message else ""
    if named := _NAMED.search(message):
        path = f"{path}.{named.group(1)}" if path else named.group(1)
    # msgspec writes "[...]" for a dict value's key; the field is the dict itself. An error about the
    # body as a whole names the body, not the handler's ``data`` parameter.
    key = str(item.get("key") or "body")
    if item.get("source") == "body" and key == "data":
        key = "body"
    return (path or key).replace("[...]", "")


def clean_message(message: str) -> str:
    return safe_message(message).split(" - at ")[0]
