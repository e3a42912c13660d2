"""Request bodies: derived from the entry types so each field is defined once, in ``events``, and
converted by Waymark so an invalid field is named from the type (``field_errors``)."""

from __future__ import annotations

import functools
import typing
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID, uuid4

import msgspec
from litestar import Request

from events.codec import META_FIELDS
from events.corrections import derive_fields
from events.entries import Entry
from events.errors import InvalidEntry
from events.values import Actor
from service.http.field_errors import convert, first_error
from service.http.problems import InvalidInput

__all__ = ["ValidatingRequest", "build_entry", "input_type"]

E = TypeVar("E", bound=Entry)

OccurredAt = Annotated[
    datetime,
    msgspec.Meta(
        tz=True,
        description="When it happened (RFC 3339 with offset); defaults to now. "
        "More than a day before it is recorded marks the entry late.",
    ),
]


@functools.cache
def input_type(cls: type[Entry]) -> type[msgspec.Struct]:
    """The request body for recording an entry of ``cls``: its own fields plus an optional occurred_at."""
    hints = typing.get_type_hints(cls, include_extras=True)
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for info in msgspec.structs.fields(cls):
        if info.name in META_FIELDS or info.name in cls.server_fields:
            continue
        if info.required:
            fields.append((info.name, hints[info.name]))
        elif info.default_factory is not msgspec.NODEFAULT:
            fields.append((info.name, hints[info.name], msgspec.field(default_factory=info.default_factory)))
        else:
            fields.append((info.name, hints[info.name], info.default))
    fields.append(("occurred_at", OccurredAt | None, None))
    name = cls.__name__ + "Request"
    return msgspec.defstruct(
        name, fields, kw_only=True, frozen=True, forbid_unknown_fields=True, module=__name__
    )


class ValidatingRequest(Request[Any, Any, Any]):
    """A request whose JSON body is converted to the handler's body type here rather than by Litestar,
    so the first invalid field is found by walking that type (Litestar then takes the result as is)."""

    async def json(self) -> Any:
        """The body, decoded, then converted to the handler's ``data`` type: or a 422 naming the field."""
        value = await super().json()
        data = self.route_handler.parsed_data_field
        if data is None:
            return value
        try:
            return convert(value, data.annotation)
        except msgspec.ValidationError:
            raise InvalidInput([first_error(value, data.annotation)]) from None


def build_entry(
    cls: type[E],
    body: msgspec.Struct,
    *,
    case_id: UUID,
    actor: Actor,
    **server_values: Any,
) -> E:
    """An entry of ``cls`` from a validated request body, stamped with who recorded it and when."""
    values = {name: getattr(body, name) for name in body.__struct_fields__}
    now = datetime.now(UTC)
    values["occurred_at"] = values.get("occurred_at") or now
    values.update(server_values)
    derive_fields(cls, values)
    entry = cls(entry_id=uuid4(), case_id=case_id, actor=actor, recorded_at=now, **values)
    _check_storable(entry)
    return entry


def _check_storable(entry: Entry) -> None:
    """Refuse an entry that would not decode once stored.

    Constructing a Struct checks no constraints, and values the service adds (the opening clinician
    joining the care team, derived fields) can break one; such an entry would make the case unreadable.
    """
    try:
        msgspec.json.decode(msgspec.json.encode(entry), type=type(entry))
    except msgspec.ValidationError:
        error = first_error(msgspec.to_builtins(entry), type(entry))
        raise InvalidEntry(
            f"{error['field']} is not valid with the values the service adds (such as the opening "
            f"clinician joining the care team): {error['message']}",
            field=error["field"],
        ) from None
