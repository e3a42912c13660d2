"""Forms that write to a record: the values checked field by field against the API's own request
types, then the entry written through the same write path, rules and conditions as the API (If-Match
with the case version the form was opened at). What went wrong comes back per field, in the words
the API's problems use; nothing typed is lost."""

from __future__ import annotations

import functools
import typing
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec

from events.entries import Entry
from events.errors import CaseRuleBroken, InvalidEntry
from events.values import Actor
from service.http.auth import authorise_write
from service.http.field_errors import FieldError, convert, first_error
from service.http.inputs import build_entry, input_type
from service.write.application import CaseRecords, Receipt, VersionMismatch, WriteRequest

__all__ = ["FormResult", "check_fields", "write_entry"]


@dataclass
class FormResult:
    """A form's outcome: the receipt of the write, or errors per field (and a stale form's current
    version)."""

    receipt: Receipt | None = None
    errors: dict[str, str] = field(default_factory=dict)
    stale_version: int | None = None


def _message(error: FieldError) -> str:
    """What to send instead, in the API's own words (never the value that was sent)."""
    if "allowed" in error:
        return "Choose one of the options."
    text = error["message"]
    return text[0].upper() + text[1:]


def check_fields(cls: type[Entry], values: dict[str, Any]) -> dict[str, str]:
    """Each value checked alone against its field's type in the API's request body, so every field
    that is wrong is named at once (the API names the first)."""
    body = input_type(cls)
    hints = typing.get_type_hints(body, include_extras=True)
    errors = {}
    for info in msgspec.structs.fields(body):
        if info.required and values.get(info.name) in (None, {}, []):
            errors[info.name] = "Required: enter a value."
    for name, value in values.items():
        if value is None or name not in hints or name in errors:
            continue
        hint = hints[name]
        if isinstance(value, dict) and typing.get_origin(_bare(hint)) is dict:
            item_type = typing.get_args(_bare(hint))[1]
            for key, item in value.items():
                try:
                    convert(item, item_type)
                except msgspec.ValidationError:
                    errors[f"{name}.{key}"] = _message(first_error(item, item_type, f"{name}.{key}"))
            continue
        try:
            convert(value, hint)
        except msgspec.ValidationError:
            errors[name] = _message(first_error(value, hint, name))
    return errors


@functools.cache
def _bare(hint: Any) -> Any:
    return typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Annotated else hint


def write_entry(
    records: CaseRecords,
    actor: Actor,
    case_id: UUID,
    cls: type[Entry],
    *,
    values: dict[str, Any],
    version: int | None,
    server_values: dict[str, Any] | None = None,
    care_team_only: bool = True,
) -> FormResult:
    """Check and write one entry as the API does; blocking (call it in a worker thread).
    ``care_team_only`` off: anyone may write it (a break-glass grant, from outside the team)."""
    errors = check_fields(cls, values)
    if errors:
        return FormResult(errors=errors)
    try:
        body = convert(values, input_type(cls))
    except msgspec.ValidationError:
        error = first_error(values, input_type(cls))
        return FormResult(errors={error["field"]: _message(error)})
    authorise = functools.partial(authorise_write, actor) if care_team_only else None
    request = WriteRequest(authorise=authorise, expected_version=version)
    try:
        entry = build_entry(cls, body, case_id=case_id, actor=actor, **(server_values or {}))
        return FormResult(receipt=records.record(case_id, entry, request))
    except (CaseRuleBroken, InvalidEntry) as broken:
        return FormResult(errors={broken.field or "form": broken.message})
    except VersionMismatch as moved:
        return FormResult(stale_version=moved.current)
