"""Fields the service derives for an entry, and how a correction's changes yield the corrected entry."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from events.codec import META_FIELDS, apply_changes, safe_message, type_name
from events.entries import Entry, EntryCorrected, ErasureApproved, MeasureRecorded, TextErased
from events.errors import CorrectionNotAllowed, InvalidEntry
from events.instruments import InstrumentCode, score

__all__ = ["ACCESS_FIELDS", "correctable_fields", "corrected_entry", "derive_fields"]

_SAFE_NAME = re.compile(r"^[a-z_]{1,40}$")


def derive_fields(cls: type[Entry], values: dict[str, Any]) -> dict[str, Any]:
    """Add the fields the service computes, such as an outcome measure's score, to an entry's values."""
    if cls is MeasureRecorded:
        values["score"] = score(InstrumentCode(values["instrument"]), values["items"])
    return values


_FIXED = META_FIELDS - {"occurred_at"}

ACCESS_FIELDS: dict[str, str] = {
    "care_team": "the care team changes only through the care team route (PUT /cases/{case_id}/care-team, "
    "an admin's change)",
    "person_ref": "re-pointing a record to another person is a misfiled-record procedure for governance",
}
"""Fields that decide who can read a record, on whatever entry they appear, and how they change
instead: a correction never changes them, or a clinician could let an outsider in and lock the
care team out under nothing but an ``entry_corrected``."""


def correctable_fields(cls: type[Entry]) -> list[str]:
    """Fields a correction may change: the entry's own values and when it happened; never who
    recorded it, when it was recorded, what the service derives, or who can read the record."""
    fixed = _FIXED | cls.server_fields | ACCESS_FIELDS.keys()
    return [f for f in cls.__struct_fields__ if f not in fixed]


def corrected_entry(original: Entry, correction: EntryCorrected) -> tuple[Entry, dict[str, Any]]:
    """The entry as it currently reads with the correction's changes applied, and the complete changes.

    Derived fields are recomputed, so correcting a measure's items also corrects its score.
    """
    cls = type(original)
    if isinstance(original, EntryCorrected):
        raise CorrectionNotAllowed(
            "A correction cannot itself be corrected: correct the original entry.", field="corrects"
        )
    if isinstance(original, ErasureApproved | TextErased):
        raise CorrectionNotAllowed(
            "Erasure is governance's decision and is never corrected: record a new approval.",
            field="corrects",
        )
    allowed = correctable_fields(cls)
    for name in correction.changes:
        if name in ACCESS_FIELDS and name in cls.__struct_fields__:
            raise CorrectionNotAllowed(
                f"{name} decides who can read this record and is never corrected: "
                f"{ACCESS_FIELDS[name]}, not a correction.",
                field=f"changes.{name}",
            )
        if name not in allowed:
            shown = name if _SAFE_NAME.match(name) else "a field"
            raise CorrectionNotAllowed(
                f"{shown} cannot be corrected on a {type_name(cls)}; send changes to: {', '.join(allowed)}.",
                field=f"changes.{shown}",
            )
    try:
        corrected = apply_changes(original, correction.changes)
        if cls.server_fields:
            corrected = apply_changes(corrected, derive_fields(cls, msgspec.to_builtins(corrected)))
    except msgspec.ValidationError as error:
        raise InvalidEntry(
            f"The corrected {type_name(cls)} is not valid: {safe_message(error)}", field="changes"
        ) from None
    except InvalidEntry as error:
        raise InvalidEntry(error.message, field=f"changes.{error.field}") from None
    changes = dict(correction.changes)
    for name in cls.server_fields:
        if getattr(corrected, name) != getattr(original, name):
            changes[name] = msgspec.to_builtins(getattr(corrected, name))
    return corrected, changes
