"""The query parameters the read routes share, and the rules every period and time keeps.

They live in one place so a bound or a refusal is the same on every route: whole numbers stay within
PostgreSQL's bigint, text filters within what a stored value can be (never NUL, which PostgreSQL
text cannot hold), and times carry an offset and lie between 1900-01-01 and a year from now.
"""

from __future__ import annotations

import typing
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from litestar.params import QueryParameter

from events.rules import CLOCK_SKEW, EARLIEST
from events.values import ShortText, UserId
from service.http.problems import InvalidInput

__all__ = [
    "LONGEST_PERIOD_DAYS",
    "After",
    "AtVersion",
    "From",
    "Limit",
    "MinPosition",
    "OccurredUntil",
    "PersonFilter",
    "Rebase",
    "RecordedAfter",
    "RecordedFrom",
    "RecordedTo",
    "RecordedUntil",
    "ServiceFilter",
    "To",
    "TypeFilter",
    "UserFilter",
    "invalid",
    "like",
    "period",
    "recorded_between",
    "replay_instant",
    "replay_time",
    "report_dates",
]

BIGINT = 2**63 - 1
"""The largest position, version or count PostgreSQL stores (bigint)."""
REPORT_HORIZON = timedelta(days=366)
"""How far ahead a period may reach: a year, enough for a report on the months to come."""
LONGEST_PERIOD_DAYS = 3660
"""Monthly series cover at most ten years: 120 points is already more than a chart can show."""


def like(alias: Any) -> dict[str, Any]:
    """The constraints of a stored value type, for a query parameter that filters on it."""
    meta = typing.get_args(alias)[1]
    return {"min_length": meta.min_length, "max_length": meta.max_length, "pattern": meta.pattern}


MinPosition = Annotated[
    int | None,
    QueryParameter(ge=1, le=BIGINT, description="Wait (bounded) until this write position is reflected"),
]
Limit = Annotated[int, QueryParameter(ge=1, le=500, description="Rows per page (1-500)")]
After = Annotated[
    int, QueryParameter(ge=0, le=BIGINT, description="Return rows after this one: the last page's next_after")
]
AtVersion = Annotated[
    int | None, QueryParameter(ge=1, le=BIGINT, description="Replay the case as it stood at this version")
]
ServiceFilter = Annotated[str | None, QueryParameter(description="Only this service", **like(ShortText))]
UserFilter = Annotated[str | None, QueryParameter(description="Only entries by this user", **like(UserId))]
PersonFilter = Annotated[
    str | None,
    QueryParameter(description="Every case of this person (their reference)", **like(ShortText)),
]
TypeFilter = Annotated[
    str | None,
    QueryParameter(name="type", pattern="^[a-z_]{1,40}$", description="Only this entry type (goal_set, ...)"),
]
From = Annotated[
    datetime, QueryParameter(name="from", description="Start (inclusive), RFC 3339 with an offset")
]
To = Annotated[datetime, QueryParameter(description="End (exclusive), RFC 3339 with an offset")]
RecordedFrom = Annotated[
    datetime | None, QueryParameter(name="from", description="Recorded at or after (RFC 3339 with an offset)")
]
RecordedTo = Annotated[
    datetime | None, QueryParameter(description="Recorded before (RFC 3339 with an offset)")
]
RecordedUntil = Annotated[
    datetime | None,
    QueryParameter(
        description="The record exactly as it stood at this time: entries and corrections recorded"
        " later are left out (RFC 3339 with an offset)"
    ),
]
OccurredUntil = Annotated[
    datetime | None,
    QueryParameter(
        description="Only what happened by this time, with every correction known (as of"
        " `recorded_until` when both are sent; RFC 3339 with an offset)"
    ),
]
RecordedAfter = Annotated[
    datetime,
    QueryParameter(description="What was recorded after this time about the time before it (RFC 3339)"),
]
Rebase = Annotated[
    list[date] | None, QueryParameter(description="Months of known service changes (YYYY-MM-DD)")
]


def invalid(name: str, message: str) -> InvalidInput:
    """A 422 naming the query parameter and what to send instead."""
    return InvalidInput([{"field": name, "message": message}])


def period(
    start: datetime, end: datetime, *, longest_days: int = LONGEST_PERIOD_DAYS
) -> tuple[datetime, datetime]:
    """A period as UTC times: both ends in bounds, the end after the start, at most ``longest_days``."""
    start, end = _time("from", start), _time("to", end)
    if end <= start:
        raise invalid("to", "Must be later than `from`: send an end after the start.")
    if (end - start).days > longest_days:
        raise invalid(
            "to",
            f"The period is longer than {longest_days} days: send an end at most that long after `from`.",
        )
    return start, end


def recorded_between(start: datetime | None, end: datetime | None) -> tuple[datetime | None, datetime | None]:
    """Optional ends of a period, each in bounds (UTC), the end after the start when both are sent."""
    start = None if start is None else _time("from", start)
    end = None if end is None else _time("to", end)
    if start is not None and end is not None and end <= start:
        raise invalid("to", "Must be later than `from`: send an end after the start.")
    return start, end


def report_dates(name: str, days: list[date] | None) -> list[date]:
    """Dates a report is asked about, each within the same bounds as a period."""
    latest = _latest().date()
    if any(not EARLIEST <= day <= latest for day in days or []):
        raise invalid(name, f"Send dates between {EARLIEST} and {latest}.")
    return days or []


def _latest() -> datetime:
    return datetime.now(UTC) + REPORT_HORIZON


def replay_time(name: str, value: datetime | None) -> datetime | None:
    """A time to replay a record at: with an offset, between 1900-01-01 and now (plus the clock skew
    an entry's ``occurred_at`` is allowed), in UTC. A record has no future to replay."""
    return None if value is None else replay_instant(name, value)


def replay_instant(name: str, value: datetime) -> datetime:
    """A required replay time, checked as ``replay_time`` checks one."""
    return _time(name, value, latest=datetime.now(UTC) + CLOCK_SKEW, horizon="now")


def _time(
    name: str, value: datetime, *, latest: datetime | None = None, horizon: str = "a year from now"
) -> datetime:
    """A time with an offset between 1900-01-01 and a year from now, in UTC.

    Compared before it is converted: a time near year 1 or 9999 with an offset would not convert.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise invalid(
            name, "The time has no offset: send it as RFC 3339 with one, such as 2026-01-01T00:00:00Z."
        )
    earliest, latest = datetime.combine(EARLIEST, time(), UTC), latest or _latest()
    if not earliest <= value <= latest:
        raise invalid(name, f"Send a time between {earliest:%Y-%m-%d} and {latest:%Y-%m-%d} ({horizon}).")
    return value.astimezone(UTC)
