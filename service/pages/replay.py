"""The replay control: the record "as recorded on" a date (or at a version), the dates of past reviews
to jump to, and what was learned later about the time before that date.

A date is the API's ``recorded_until`` at the end of that day (UTC), and "learned since" is the API's
``learned-since`` from then (both from ``events.replay``, through ``service.http.replaying``), so the
page and ``GET /cases/{id}?recorded_until=`` cannot disagree about what was known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from events.entries import Entry, ReviewRecorded
from events.replay import Learned, learned_since

__all__ = ["Replay", "ReviewMark", "end_of", "parse_day", "replay_of", "review_marks"]


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
    """The moment replayed: the end of ``on``, or when ``version`` was recorded."""
    problem: str | None = None
    reviews: list[ReviewMark] = field(default_factory=list)
    learned: list[Learned] = field(default_factory=list)

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


def end_of(day: date) -> datetime:
    """The first moment after a day (UTC): "as recorded on" a day includes all of it."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


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
    entries: list[tuple[int, Entry]],
    *,
    version: int | None,
    day: date | None,
    problem: str | None = None,
    reviews: list[ReviewMark] | None = None,
) -> Replay:
    """The replay shown: ``version`` is the version the record is shown at (None or the current one:
    no replay), ``day`` the date asked for, if any; what was learned later is worked out from then.
    ``reviews``: the entries' ``review_marks``, when the caller already has them."""
    reviews = review_marks(entries) if reviews is None else reviews
    if problem is not None:
        return Replay(problem=problem, reviews=reviews)
    if version is None or version >= entries[-1][0]:
        return Replay(on=day, reviews=reviews)
    at = end_of(day) if day else next(e.recorded_at for v, e in entries if v == version)
    return Replay(version, day, at, reviews=reviews, learned=learned_since(entries, at))
