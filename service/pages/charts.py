"""Trajectory charts as server-rendered SVG: the geometry of one series (readings, the band of no
reliable change around the baseline, the clinical cut-off, the Theil-Sen line and its interval, and
markers for setbacks, escalations and plan changes), its text summary and its readings as a table.

Pure functions of a ``projections.queries.trajectory.Series``: the chart shows what the API answers.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from markupsafe import Markup

from projections.queries.trajectory import Series

__all__ = ["WIDTH", "Chart", "Marker", "chart", "summary"]

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 48, WIDTH - 16, 16, HEIGHT - 48
"""The plot area inside the drawing; markers sit under it, on the time axis."""
RATING_SCALE = (1.0, 10.0)
_DAY = 86400.0


@dataclass(frozen=True)
class Marker:
    """A setback, escalation or plan change to mark on the time axis, linking to its entry."""

    kind: str
    at: datetime
    entry_id: UUID
    label: str


@dataclass(frozen=True)
class Point:
    """A reading where it is drawn."""

    x: float
    y: float
    at: datetime
    value: float
    corrected: bool


@dataclass(frozen=True)
class Chart:
    """Everything the chart template draws, in drawing coordinates."""

    name: str
    points: list[Point]
    band: tuple[float, float] | None
    """Top and bottom of the band of no reliable change around the baseline."""
    baseline: float | None
    cutoff: float | None
    trend: tuple[float, float, float, float] | None
    interval: list[tuple[float, float]] | None
    markers: list[tuple[float, Marker]]
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    summary: str

    def readings_path(self, *, corrected: bool) -> str:
        """The readings (or only the corrected ones) as one path of dots: one element, not one per
        reading, so a series of a thousand readings draws quickly. Their values are in the table."""
        return " ".join(
            f"M{p.x - 4:.1f},{p.y:.1f}a4,4 0 1,0 8,0a4,4 0 1,0 -8,0"
            for p in self.points
            if p.corrected is corrected
        )

    def rows_html(self) -> Markup:
        """The readings as table rows (date, value, whether corrected), built here rather than by a
        template loop: a long series has a thousand of them, and formatting each through Markup and
        strftime took 30 ms for a record's three thousand rows. Nothing here needs escaping: every
        cell is a date, a number or Yes/No that this function writes itself."""
        return Markup(  # noqa: S704 - no cell holds text from outside (see above)
            "".join(
                f"<tr><td>{_day(p.at)}</td><td>{p.value:g}</td><td>{'Yes' if p.corrected else 'No'}</td></tr>"
                for p in self.points
            )
        )


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day(at: datetime) -> str:
    """A day as people write it, "3 Mar 2026" (strftime's "%-d %b %Y" without its cost)."""
    return f"{at.day} {_MONTHS[at.month - 1]} {at.year}"


@dataclass(frozen=True)
class _Scale:
    start: datetime
    days: float
    low: float
    high: float

    def x(self, at: datetime) -> float:
        return LEFT + (RIGHT - LEFT) * ((at - self.start).total_seconds() / _DAY) / self.days

    def x_of_day(self, day: float) -> float:
        return LEFT + (RIGHT - LEFT) * day / self.days

    def y(self, value: float) -> float:
        clamped = min(max(value, self.low), self.high)
        return BOTTOM - (BOTTOM - TOP) * (clamped - self.low) / (self.high - self.low)


def _threshold(series: Series, key: str) -> float | None:
    value = series.thresholds.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _scale(series: Series, change: float | None, cutoff: float | None) -> _Scale:
    values = [p.value for p in series.readings]
    start, end = series.readings[0].occurred_at, series.readings[-1].occurred_at
    days = max((end - start).total_seconds() / _DAY, 1.0)
    if "instrument_version" not in series.thresholds:
        low, high = RATING_SCALE  # a 1-10 rating of a domain, confidence or autonomy
    else:
        extra = [cutoff] if cutoff is not None else []
        if change is not None:
            extra += [values[0] - change, values[0] + change]
        low, high = min(0.0, *values, *extra), max(*values, *extra)
        high = high + (high - low) * 0.05 or 1.0
    return _Scale(start, days, low, high)


def chart(series: Series, markers: list[Marker]) -> Chart | None:
    """The chart of one series; None when it has no readings to draw."""
    if not series.readings:
        return None
    change, cutoff = _threshold(series, "reliable_change"), _threshold(series, "cutoff")
    scale = _scale(series, change, cutoff)
    points = [
        Point(scale.x(p.occurred_at), scale.y(p.value), p.occurred_at, p.value, p.corrected)
        for p in series.readings
    ]
    baseline = series.readings[0].value
    band = (scale.y(baseline + change), scale.y(baseline - change)) if change else None
    trend, interval = _trend(series, scale)
    placed = [
        (scale.x(m.at), m)
        for m in markers
        if series.readings[0].occurred_at <= m.at <= series.readings[-1].occurred_at
    ]
    return Chart(
        name=series.name,
        points=points,
        band=band,
        baseline=scale.y(baseline),
        cutoff=scale.y(cutoff) if cutoff is not None else None,
        trend=trend,
        interval=interval,
        markers=placed,
        x_ticks=_x_ticks(scale),
        y_ticks=[(scale.y(v), f"{v:g}") for v in _nice_values(scale.low, scale.high)],
        summary=summary(series),
    )


def _trend(
    series: Series, scale: _Scale
) -> tuple[tuple[float, float, float, float] | None, list[tuple[float, float]] | None]:
    """The Theil-Sen line through (median day, median value), as scipy's intercept puts it, and the
    wedge between the lines of the interval's two slopes through the same point."""
    if series.trend is None:
        return None, None
    days = [(p.occurred_at - scale.start).total_seconds() / _DAY for p in series.readings]
    centre_day = statistics.median(days)
    centre = statistics.median(p.value for p in series.readings)
    first, last = days[0], days[-1]

    def at(day: float, per_90: float) -> tuple[float, float]:
        return scale.x_of_day(day), scale.y(centre + per_90 / 90 * (day - centre_day))

    slope = series.trend.slope_per_90_days
    line = (*at(first, slope), *at(last, slope))
    lower, upper = series.trend.lower_per_90_days, series.trend.upper_per_90_days
    if lower is None or upper is None:
        return line, None
    return line, [at(first, lower), at(last, lower), at(last, upper), at(first, upper)]


def _nice_values(low: float, high: float) -> list[float]:
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100) if (high - low) / s <= 6)
    first = int(low // step + (1 if low % step else 0)) * step
    return [float(v) for v in range(int(first), int(high) + 1, step)]


def _x_ticks(scale: _Scale) -> list[tuple[float, str]]:
    count = 4 if scale.days > 2 else 1
    ticks = []
    for i in range(count + 1):
        day = scale.days * i / count
        when = datetime.fromtimestamp(scale.start.timestamp() + day * _DAY, tz=scale.start.tzinfo)
        ticks.append((scale.x_of_day(day), when.strftime("%-d %b %Y")))
    return ticks


_CATEGORY = {
    "recovered": "recovered since baseline (reliable improvement out of the clinical range)",
    "reliably improved": "reliably improved since baseline",
    "no reliable change": "no reliable change since baseline",
    "reliably deteriorated": "reliably deteriorated since baseline",
}


def summary(series: Series) -> str:
    """The chart in a sentence: change since baseline, trend per 90 days with its interval, and how
    many readings over how many days."""
    parts = [_CATEGORY.get(series.change_category or "", series.label)]
    trend = series.trend
    if trend is not None:
        text = f"trend {trend.slope_per_90_days:+.1f} per 90 days"
        if trend.lower_per_90_days is not None and trend.upper_per_90_days is not None:
            text += f", interval {trend.lower_per_90_days:.1f} to {trend.upper_per_90_days:.1f}"
        parts.append(text)
    readings = "reading" if series.n == 1 else "readings"
    parts.append(f"{series.n} {readings} over {series.span_days:.0f} days")
    return f"{parts[0]}; {', '.join(parts[1:])}"
