"""Stored form of entries: plain JSON, keyed by a stable type name, upcast on the way in.

Both sides use this module: the write side's mapper and the read side's projector decode the same
bytes with the same Struct types.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import msgspec

from events.entries import ENTRY_KINDS, Entry

__all__ = [
    "ENTRY_TYPES",
    "EntryTypeUnknown",
    "apply_changes",
    "current_version",
    "decode_entry",
    "encode_entry",
    "entry_data",
    "safe_message",
    "type_name",
]

META_FIELDS = frozenset({"class_version", "entry_id", "case_id", "actor", "recorded_at", "occurred_at"})


class EntryTypeUnknown(LookupError):
    """A stored entry names a type this version of Waymark does not know."""


def type_name(cls: type[Entry]) -> str:
    """The stable name an entry type is stored and shown under, such as ``review_recorded``."""
    tag = cls.__struct_config__.tag
    if not isinstance(tag, str):
        raise TypeError(f"{cls.__name__} has no stored type name")
    return tag


ENTRY_TYPES: dict[str, type[Entry]] = {type_name(cls): cls for cls in ENTRY_KINDS}
"""Every kind of entry by its stored type name: how a stored entry finds its Struct."""

_encoder = msgspec.json.Encoder()


@functools.cache
def _decoder(cls: type[Entry]) -> msgspec.json.Decoder[Entry]:
    return msgspec.json.Decoder(cls)


@functools.cache
def current_version(cls: type[Entry]) -> int:
    """The class version new entries of this type are written with."""
    default = next(f.default for f in msgspec.structs.fields(cls) if f.name == "class_version")
    return int(default)


def encode_entry(entry: Entry) -> bytes:
    """Serialise an entry to the JSON stored in the events table."""
    return _encoder.encode(entry)


def decode_entry(type_: str, state: bytes) -> Entry:
    """Decode stored JSON into the current Struct, upcasting entries written by older versions."""
    try:
        cls = ENTRY_TYPES[type_]
    except KeyError:
        raise EntryTypeUnknown(type_) from None
    try:
        entry = _decoder(cls).decode(state)
    except msgspec.ValidationError:
        return _upcast(cls, state)
    if entry.class_version != current_version(cls):
        return _upcast(cls, state)
    return entry


def _upcast(cls: type[Entry], state: bytes) -> Entry:
    """Slow path: bring an old stored shape up to date one version at a time."""
    data: dict[str, Any] = msgspec.json.decode(state)
    version = int(data.get("class_version", 1))
    target = current_version(cls)
    if version > target:
        raise EntryTypeUnknown(f"{type_name(cls)} v{version} is newer than this Waymark (v{target})")
    while version < target:
        getattr(cls, f"upcast_v{version}_v{version + 1}")(data)
        version += 1
    data["class_version"] = target
    return _decoder(cls).decode(_encoder.encode(data))


def entry_data(entry: Entry) -> dict[str, Any]:
    """An entry's own values, without the fields every entry carries."""
    data: dict[str, Any] = msgspec.to_builtins(entry)
    for name in (*META_FIELDS, "type"):
        data.pop(name, None)
    return data


# msgspec shows a bad value as Python's repr: single-quoted, or double-quoted when it holds an apostrophe.
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'" r'|"(?:[^"\\]|\\.)*"')
_BACKTICKED = re.compile(r"`([^`]*)`")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_$.\[\]]{1,64}")
"""A field name, type name or path; anything else in backticks could be a sender's own key."""


def safe_message(error: BaseException | str) -> str:
    """msgspec's message about bad input, with any value the sender wrote taken out.

    Messages name the field and the expected type; an enum value or an unknown key could carry
    clinical text, so quoted values are dropped and names that are not plain field names replaced.
    """
    message = _QUOTED.sub("", str(error))
    message = _BACKTICKED.sub(lambda m: m.group(0) if _PLAIN_NAME.fullmatch(m.group(1)) else "`…`", message)
    return message.replace("  ", " ")


def apply_changes(original: Entry, changes: dict[str, Any]) -> Entry:
    """The original entry with a correction's changes laid over it, decoded as the same type."""
    values: dict[str, Any] = msgspec.to_builtins(original)
    values.update(changes)
    return _decoder(type(original)).decode(_encoder.encode(values))
