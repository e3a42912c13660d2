"""Retention: when a closed case reaches the end of its retention period, counted from the last
contact recorded in it (the English Records Management Code of Practice keeps mental-health
records 20 years after the last contact). Reaching it destroys nothing: it puts the case up for
appraisal, and only a recorded governance decision (``erasure_approved``) may lead to erasure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time

from events.entries import (
    BreakGlassGranted,
    CareTeamChanged,
    CaseOpened,
    Entry,
    EntryCorrected,
    ErasureApproved,
    TextErased,
)

__all__ = ["NOT_CONTACT", "last_contact", "retention_ends"]

NOT_CONTACT: tuple[type[Entry], ...] = (
    BreakGlassGranted,
    CareTeamChanged,
    EntryCorrected,
    ErasureApproved,
    TextErased,
)
"""Entries about access to the record, its accuracy or its governance, not contact with the person:
they never extend its retention (a correction happens when the record is put right)."""


def last_contact(entries: Iterable[Entry]) -> datetime:
    """When the last contact recorded in the case happened. The opening counts from its
    ``opened_on`` (its ``occurred_at`` is when it was typed in, which may be years later)."""
    return max(_contact(entry) for entry in entries if not isinstance(entry, NOT_CONTACT))


def _contact(entry: Entry) -> datetime:
    if isinstance(entry, CaseOpened):
        return datetime.combine(entry.opened_on, time(), UTC)
    return entry.occurred_at


def retention_ends(contact: date, years: int) -> date:
    """The day a case whose last contact was on ``contact`` passes its retention period (29 February
    moves to 28 February in a year without one)."""
    try:
        return contact.replace(year=contact.year + years)
    except ValueError:
        return contact.replace(year=contact.year + years, day=28)
