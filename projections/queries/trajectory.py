"""A person's trajectory: direction of travel per outcome domain and per standard measure, with
reliable change and trend, not targets; and how their escalations are changing."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from uuid import UUID

import msgspec

from projections.queries import Reader, RowLike
from projections.queries.completeness import Incomplete, incompleteness
from projections.statistics import (
    Direction,
    Reading,
    Trend,
    change_category,
    compare_windows,
    direction,
    gaps,
    rate_comparison,
    theil_sen,
)

__all__ = ["Readings", "Series", "Trajectory", "readings_of", "trajectory", "trajectory_of"]

_DAY = 86400.0


class TrendView(msgspec.Struct, frozen=True):
    """Theil-Sen slope per 90 days with its 95% interval (as scipy.stats.theilslopes gives it); a
    direction only when the interval excludes 0. No interval (null ends) when the readings are so
    tied that Sen's variance has none."""

    slope_per_90_days: float
    lower_per_90_days: float | None
    upper_per_90_days: float | None
    n: int
    direction: str | None


class Point(msgspec.Struct, frozen=True):
    occurred_at: datetime
    value: float
    corrected: bool


class Series(msgspec.Struct, frozen=True):
    """Readings of one domain, self-rating or instrument, and what they say about direction of travel."""

    name: str
    higher_is_better: bool
    readings: list[Point]
    label: str
    n: int
    span_days: float
    last_reading: datetime | None
    change_since_baseline: float | None
    change_category: str | None
    trend: TrendView | None
    last_90_days_mean: float | None
    previous_90_days_mean: float | None
    last_90_vs_previous_90: float | None
    thresholds: dict[str, object]


class WindowRate(msgspec.Struct, frozen=True):
    escalations: int
    open_days: float
    per_90_open_days: float | None


class Escalations(msgspec.Struct, frozen=True):
    """Escalation rate in the last 90 days against the 90 before, severity trend, gaps between them."""

    total: int
    unresolved: int
    last_90_days: WindowRate
    previous_90_days: WindowRate
    rate_ratio: float | None
    severity_trend: TrendView | None
    gaps_days: list[float]
    gap_trend: TrendView | None


class Trajectory(msgspec.Struct, frozen=True):
    """Direction of travel for one person, as of now (``incomplete`` when entries are missing)."""

    case_id: UUID
    as_of: datetime
    domains: list[Series]
    self_ratings: list[Series]
    instruments: list[Series]
    escalations: Escalations
    incomplete: Incomplete | None = None


@functools.cache
def _thresholds() -> dict[str, dict[str, object]]:
    raw = resources.files("projections").joinpath("thresholds.json").read_bytes()
    return msgspec.json.decode(raw, type=dict[str, dict[str, object]])


async def trajectory(conn: Reader, case_id: UUID, now: datetime) -> Trajectory:
    """The trajectory of one case from its projected readings."""
    ratings = await conn.fetch(
        "SELECT measure, occurred_at, value, corrected FROM read.ratings WHERE case_id = $1"
        " ORDER BY occurred_at",
        case_id,
    )
    measures = await conn.fetch(
        "SELECT * FROM read.measures WHERE case_id = $1 ORDER BY occurred_at", case_id
    )
    status = await conn.fetch(
        "SELECT occurred_at, status FROM read.case_status WHERE case_id = $1 ORDER BY occurred_at", case_id
    )
    escalations = await conn.fetch(
        "SELECT e.occurred_at, e.severity, r.occurred_at AS resolved_at FROM read.escalations e"
        " LEFT JOIN read.escalation_resolutions r ON r.escalation_id = e.entry_id"
        " WHERE e.case_id = $1 ORDER BY e.occurred_at",
        case_id,
    )
    incomplete = await incompleteness(conn, case_id, ["trajectory", "care"])
    return trajectory_of(
        case_id,
        now,
        ratings=ratings,
        measures=measures,
        status=status,
        escalations=escalations,
        incomplete=incomplete,
    )


def trajectory_of(
    case_id: UUID,
    now: datetime,
    *,
    ratings: Sequence[RowLike],
    measures: Sequence[RowLike],
    status: Sequence[RowLike],
    escalations: Sequence[RowLike],
    incomplete: Incomplete | None = None,
) -> Trajectory:
    """The trajectory as of ``now`` from rows shaped as the read model's (each list in the order
    things happened): the one computation behind the current read and a replay."""
    return readings_of(ratings, measures, status, escalations).at(case_id, now, incomplete)


@dataclass(frozen=True)
class _Fixed:
    """What one series says whenever it is asked: its readings, label, trend and change."""

    name: str
    higher: bool
    readings: list[Reading]
    points: list[Point]
    found: Direction
    category: str | None
    thresholds: dict[str, object]
    last_reading: datetime | None


@dataclass(frozen=True)
class Readings:
    """A person's readings and what they say that does not depend on when it is asked; ``at`` adds
    the windows counted back from "now". Kept by a caller that reads the same rows again."""

    origin: datetime | None
    domains: list[_Fixed]
    self_ratings: list[_Fixed]
    instruments: list[_Fixed]
    status: Sequence[RowLike]
    escalations: Sequence[RowLike]

    def at(self, case_id: UUID, now: datetime, incomplete: Incomplete | None = None) -> Trajectory:
        """The trajectory as of ``now``."""
        origin = now if self.origin is None else self.origin
        today = (now - origin).total_seconds() / _DAY
        return Trajectory(
            case_id=case_id,
            as_of=now,
            domains=[_series(f, today) for f in self.domains],
            self_ratings=[_series(f, today) for f in self.self_ratings],
            instruments=[_series(f, today) for f in self.instruments],
            escalations=_escalations(self.escalations, self.status, origin, today),
            incomplete=incomplete,
        )


def readings_of(
    ratings: Sequence[RowLike],
    measures: Sequence[RowLike],
    status: Sequence[RowLike],
    escalations: Sequence[RowLike],
) -> Readings:
    """The readings of rows shaped as the read model's (each list in the order things happened)."""
    origin = min([r["occurred_at"] for r in (*status, *ratings, *measures)], default=None)
    by_name: dict[str, list[RowLike]] = {}
    for row in ratings:
        by_name.setdefault(row["measure"], []).append(row)
    rating = _thresholds()["ratings"]
    series = [
        _fixed(
            name,
            rows,
            column="value",
            origin=origin,
            thresholds=rating,
            threshold=float(str(rating["reliable_change"])),
            clinical=False,
        )
        for name, rows in by_name.items()
    ]
    return Readings(
        origin=origin,
        domains=[s for s in series if s.name not in ("confidence", "autonomy")],
        self_ratings=[s for s in series if s.name in ("confidence", "autonomy")],
        instruments=_instruments(measures, origin),
        status=status,
        escalations=escalations,
    )


def _instruments(measures: Sequence[RowLike], origin: datetime | None) -> list[_Fixed]:
    by_instrument: dict[str, list[RowLike]] = {}
    for row in measures:
        by_instrument.setdefault(row["instrument"], []).append(row)
    result = []
    for name, rows in by_instrument.items():
        latest = rows[-1]  # the thresholds in force for the latest reading are reported and used
        limits = {
            key: latest[key]
            for key in (
                "instrument_version",
                "cutoff",
                "clinical_when",
                "reliable_change",
                "source",
                "higher_is_better",
            )
        }
        threshold = latest["reliable_change"]
        result.append(
            _fixed(
                name,
                rows,
                column="score",
                origin=origin,
                thresholds=limits,
                threshold=float("inf") if threshold is None else threshold,
                clinical=True,
            )
        )
    return result


def _fixed(
    name: str,
    rows: Sequence[RowLike],
    *,
    column: str,
    origin: datetime | None,
    thresholds: dict[str, object],
    threshold: float,
    clinical: bool,
) -> _Fixed:
    higher = bool(thresholds.get("higher_is_better", True))
    start = origin or rows[0]["occurred_at"]
    readings = [Reading((r["occurred_at"] - start).total_seconds() / _DAY, float(r[column])) for r in rows]
    category = None
    if len(rows) >= 2 and threshold != float("inf"):
        category = change_category(
            readings[0].value,
            readings[-1].value,
            threshold=threshold,
            higher_is_better=higher,
            clinical_at_baseline=rows[0]["clinical_range"] if clinical else None,
            clinical_at_latest=rows[-1]["clinical_range"] if clinical else None,
        ).value
    return _Fixed(
        name=name,
        higher=higher,
        readings=readings,
        points=[Point(r["occurred_at"], float(r[column]), r["corrected"]) for r in rows],
        found=direction(readings, threshold=threshold, higher_is_better=higher),
        category=category,
        thresholds=thresholds,
        last_reading=rows[-1]["occurred_at"] if rows else None,
    )


def _series(fixed: _Fixed, today: float) -> Series:
    found, windows = fixed.found, compare_windows(fixed.readings, today=today)
    return Series(
        name=fixed.name,
        higher_is_better=fixed.higher,
        readings=fixed.points,
        label=found.label.value,
        n=found.n,
        span_days=round(found.span_days, 1),
        last_reading=fixed.last_reading,
        change_since_baseline=found.change,
        change_category=fixed.category,
        trend=_trend(found.trend, fixed.higher),
        last_90_days_mean=windows.recent_mean,
        previous_90_days_mean=windows.before_mean,
        last_90_vs_previous_90=windows.difference,
        thresholds=fixed.thresholds,
    )


def _trend(trend: Trend | None, higher_is_better: bool) -> TrendView | None:
    if trend is None:
        return None
    lower, upper = trend.lower_per_90_days, trend.upper_per_90_days
    return TrendView(
        round(trend.per_90_days, 3),
        None if lower is None else round(lower, 3),
        None if upper is None else round(upper, 3),
        trend.n,
        trend.direction(higher_is_better),
    )


def _open_intervals(status: Sequence[RowLike], origin: datetime, today: float) -> list[tuple[float, float]]:
    intervals, opened = [], None
    for row in status:
        day = (row["occurred_at"] - origin).total_seconds() / _DAY
        if row["status"] == "open" and opened is None:
            opened = day
        elif row["status"] == "closed" and opened is not None:
            intervals.append((opened, day))
            opened = None
    if opened is not None:
        intervals.append((opened, today))
    return intervals


def _escalations(
    rows: Sequence[RowLike], status: Sequence[RowLike], origin: datetime, today: float
) -> Escalations:
    seconds = [(r["occurred_at"] - origin).total_seconds() for r in rows]
    days = [s / _DAY for s in seconds]
    rates = rate_comparison(days, today=today, open_intervals=_open_intervals(status, origin, today))
    # Gaps from whole seconds, then in days: two gaps of 20 days are then equal, as Sen's tie
    # correction needs (differences of fractional days differ in the last bits).
    between = [gap / _DAY for gap in gaps(seconds)]
    gap_readings = [Reading(day, gap) for day, gap in zip(days[1:], between, strict=True)]
    severity = [Reading(day, float(r["severity"])) for day, r in zip(days, rows, strict=True)]
    return Escalations(
        total=len(rows),
        unresolved=sum(1 for r in rows if r["resolved_at"] is None),
        last_90_days=_window(rates.recent_count, rates.recent_exposure_days, rates.recent_rate),
        previous_90_days=_window(rates.before_count, rates.before_exposure_days, rates.before_rate),
        rate_ratio=None if rates.ratio is None else round(rates.ratio, 3),
        severity_trend=(
            _trend(
                theil_sen(severity),
                higher_is_better=bool(_thresholds()["escalation_severity"]["higher_is_better"]),
            )
            if len(severity) >= 3
            else None
        ),
        gaps_days=[round(g, 1) for g in between],
        gap_trend=_trend(theil_sen(gap_readings), higher_is_better=True) if len(gap_readings) >= 3 else None,
    )


def _window(count: int, exposure: float, rate: float | None) -> WindowRate:
    return WindowRate(count, round(exposure, 1), None if rate is None else round(rate * 90, 3))
