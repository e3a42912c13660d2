"""Which field of a request is invalid and what to send instead, found from the request's own type:
the path by walking its fields in the order msgspec checks them, the message from the expected type
(``msgspec.inspect``). No submitted value is echoed, and msgspec's English messages are never parsed."""

# No postponed annotations here: the OpenAPI schema must see ``NotRequired`` on FieldError.
import re
import typing
from types import NoneType, UnionType
from typing import Any, NotRequired, TypedDict

import msgspec
from msgspec import inspect

__all__ = ["FieldError", "convert", "describe", "first_error"]

_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
"""A key shown back as a field name; any other unknown key could be the sender's own words."""
_NOUNS = {
    inspect.IntType: "an integer", inspect.FloatType: "a number", inspect.StrType: "text",
    inspect.BoolType: "true or false", inspect.UUIDType: "a UUID", inspect.DateType: "a date (YYYY-MM-DD)",
    inspect.DateTimeType: "an RFC 3339 date and time", inspect.DictType: "an object",
    inspect.StructType: "a JSON object", inspect.ListType: "a list", inspect.VarTupleType: "a list",
}  # fmt: skip
_LIMITS = {
    "ge": "at least {}", "gt": "over {}", "le": "at most {}", "lt": "under {}",
    "min_length": "at least {} long", "max_length": "at most {} long", "pattern": "matching `{}`",
    "tz": "with an offset, such as 2026-01-01T09:30:00Z",
}  # fmt: skip


class FieldError(TypedDict):
    """One invalid field: a path such as ``ratings``, ``items[2]`` or ``steps[0].what``, what to send
    instead, and for a coded field the values it accepts."""

    field: str
    message: str
    allowed: NotRequired[list[str]]


def convert(value: Any, hint: Any) -> Any:
    """``value`` (decoded JSON) as ``hint``, with the coercions Litestar applies to request values."""
    return msgspec.convert(value, hint, strict=False, str_keys=True)


def first_error(value: Any, hint: Any, path: str = "") -> FieldError:
    """Where ``value`` first fails ``hint`` (in the order msgspec checks), and what to send there."""
    base = typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Annotated else hint
    origin, args = typing.get_origin(base), typing.get_args(base)
    if isinstance(value, dict) and isinstance(base, type) and issubclass(base, msgspec.Struct):
        return _in_struct(value, base, path)
    if isinstance(value, list) and origin in (list, tuple, set, frozenset) and args[1:] in ((), (...,)):
        for index, item in enumerate(value):
            if not _fits(item, args[0]):
                return first_error(item, args[0], f"{path}[{index}]")
    if isinstance(value, dict) and origin is dict:
        # A bad key or value is reported on the object itself: a key is the sender's.
        for pair in value.items():
            for part, part_hint in zip(pair, args, strict=True):
                if not _fits(part, part_hint):
                    return first_error(part, part_hint, path)
    members = [arg for arg in args if arg is not NoneType] if origin in (typing.Union, UnionType) else []
    if len(members) == 1 and value is not None:
        return first_error(value, members[0], path)
    return describe(hint, path or "body")


def _in_struct(value: dict[str, Any], cls: type[msgspec.Struct], path: str) -> FieldError:
    config = cls.__struct_config__
    fields = {field.encode_name: field for field in msgspec.structs.fields(cls)}
    for key, item in value.items():
        field = fields.get(key)
        if field is not None and not _fits(item, field.type):
            return first_error(item, field.type, f"{path}.{key}".lstrip("."))
        if field is None and config.forbid_unknown_fields and key != config.tag_field:
            named = f"{path}.{key}".lstrip(".") if _NAME.fullmatch(key) else path or "body"
            return {"field": named, "message": "This request takes no such field: leave it out."}
    for key, field in fields.items():
        if field.required and key not in value:
            return describe(field.type, f"{path}.{key}".lstrip("."), missing=True)
    return describe(cls, path or "body")


def describe(hint: Any, field: str, *, missing: bool = False) -> FieldError:
    """What a field of type ``hint`` takes (``missing``: that it must be sent), and for a coded field
    the values it accepts."""
    node = _bare(inspect.type_info(hint))
    if isinstance(node, inspect.EnumType | inspect.LiteralType):
        values = [member.value for member in node.cls] if isinstance(node, inspect.EnumType) else node.values
        message = (
            "Required: send one of the accepted values." if missing else "Not one of the accepted values."
        )
        return {"field": field, "message": message, "allowed": [str(value) for value in values]}
    return {"field": field, "message": f"{'Required: send' if missing else 'Expected'} {_what(node)}."}


def _what(node: inspect.Type) -> str:
    """What a value of this type is, with its limits: "an integer (at least 1, at most 10)"."""
    if isinstance(node, inspect.UnionType):
        return " or ".join(
            _what(_bare(member)) for member in node.types if not isinstance(member, inspect.NoneType)
        )
    limits = [
        text.format(_plain(limit))
        for name, text in _LIMITS.items()
        if _plain(limit := getattr(node, name, None)) is not None
    ]
    noun = _NOUNS.get(type(node), "a value of the type the schema gives")
    return f"{noun} ({', '.join(limits)})" if limits else noun


def _plain(limit: Any) -> Any:
    """A limit as written (168, not 168.0); None for no limit (``tz=False`` is none either)."""
    if limit is None or limit is False:
        return None
    return int(limit) if isinstance(limit, float) and limit.is_integer() else limit


def _bare(node: inspect.Type) -> inspect.Type:
    """The type under its metadata, and under ``| None``: a field that may be null takes its type."""
    while isinstance(node, inspect.Metadata):
        node = node.type
    if isinstance(node, inspect.UnionType):
        members = [member for member in node.types if not isinstance(member, inspect.NoneType)]
        return _bare(members[0]) if len(members) == 1 else node
    return node


def _fits(value: Any, hint: Any) -> bool:
    try:
        convert(value, hint)
    except msgspec.ValidationError:
        return False
    return True
