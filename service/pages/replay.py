"""The replay control: the record "as recorded on" a date (or at a version), the dates of past reviews
to jump to, and what was learned later about the time before that date.

Until the replay API of issue 10 part 1 (``recorded_until`` and ``learned-since``) is on main, a date
is turned into the last case version recorded by the end of that day and the case is replayed at that
version, and "learned since" is worked out here from the history items (marked below). When that API
lands, ``pick_version`` and ``learned_since`` give way to it; the page and its tests stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from events.entries import Entry, EntryCorrected, ReviewRecorded

__all__ = ["Replay", "ReviewMark", "learned_since", "parse_day", "pick_version"]


@dataclass(frozen=True)
class ReviewMark:
    """A past review to jump to: the day it was recorded."""

    recorded_on: date
    occurred_at: datetime
    kind: str


@dataclass(frozen=True)
class Replay:
    """What the replay control shows: the point replayed (if any) and where else to jump."""

    version: int | None = None
    """The version shown; None for the record as it stands."""
    on: date | None = None
    recorded_at: datetime | None = None
    problem: str | None = None
    reviews: list[ReviewMark] = field(default_factory=list)
    learned: list[tuple[int, Entry]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        """Whether the page shows the record as it stood, not as it stands."""
        return self.version is not None


def parse_day(text: str | None) -> date | None:
    """A YYYY-MM-DD date, or None when absent or malformed (the control then says so)."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def pick_version(entries: list[tuple[int, Entry]], day: date) -> int | None:
    """The last version recorded by the end of ``day`` (UTC); None if the case was not opened yet.

    Stand-in for ``recorded_until`` (part 1 of issue 10)."""
    until = _end_of(day)
    found = None
    for version, entry in entries:
        if entry.recorded_at < until:
            found = version
    return found


def learned_since(
    entries: list[tuple[int, Entry]], known: int, boundary: datetime
) -> list[tuple[int, Entry]]:
    """Entries recorded after version ``known`` about things that happened before ``boundary``: late
    entries, and corrections of entries known by then. Stand-in for ``learned-since`` (issue 10, part 1)."""
    known_ids = {e.entry_id for v, e in entries if v <= known}
    learned: list[tuple[int, Entry]] = []
    for version, entry in entries:
        if version <= known:
            continue
        if isinstance(entry, EntryCorrected):
            if entry.corrects in known_ids:
                learned.append((version, entry))
        elif entry.occurred_at < boundary:
            learned.append((version, entry))
    return learned


LONGEST_REVIEW_LIST = 60
"""Past review days offered to jump to (the most recent); any other day goes in the date field."""


def review_marks(entries: list[tuple[int, Entry]]) -> list[ReviewMark]:
    """Days on which reviews were recorded, newest first, to jump to the record as it stood then."""
    days: dict[date, ReviewMark] = {}
    for _, e in entries:
        if isinstance(e, ReviewRecorded):
            days[e.recorded_at.date()] = ReviewMark(e.recorded_at.date(), e.occurred_at, e.kind.value)
    return sorted(days.values(), key=lambda m: m.recorded_on, reverse=True)[:LONGEST_REVIEW_LIST]


def replay_of(
    entries: list[tuple[int, Entry]], *, current: int, version: int | None, on: str | None
) -> Replay:
    """The replay asked for: a date (``on``) wins over a version; the current version is no replay."""
    reviews = review_marks(entries)
    if on:
        day = parse_day(on)
        if day is None:
            return Replay(problem="Enter the date as a real date, such as 2026-03-03.", reviews=reviews)
        picked = pick_version(entries, day)
        if picked is None:
            return Replay(problem=f"The record was not yet opened on {day:%-d %b %Y}.", reviews=reviews)
        version = picked
    else:
        day = None
    if version is None or version >= current:
        return Replay(on=day, reviews=reviews)
    at = next(e.recorded_at for v, e in entries if v == version)
    learned = learned_since(entries, version, _end_of(day) if day else at)
    return Replay(version=version, on=day, recorded_at=at, reviews=reviews, learned=learned)
