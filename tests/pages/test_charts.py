"""The geometry of a trajectory chart, worked by hand: where readings, the band of no reliable change,
the cut-off, the Theil-Sen line and its interval, and the markers fall; and its summary sentence."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from projections.queries.trajectory import Point, Series, TrendView
from service.pages.charts import BOTTOM, LEFT, RIGHT, TOP, Marker, chart, summary

START = datetime(2026, 1, 1, tzinfo=UTC)
RATING_THRESHOLDS: dict[str, object] = {"reliable_change": 2.0, "higher_is_better": True, "source": "test"}


def _series(
    values: list[float], *, days: list[int], trend: TrendView | None = None, **extra: object
) -> Series:
    defaults: dict[str, object] = {
        "name": "stability_self_management",
        "higher_is_better": True,
        "label": "reliable improvement",
        "n": len(values),
        "span_days": float(days[-1] - days[0]),
        "last_reading": START + timedelta(days=days[-1]),
        "change_since_baseline": values[-1] - values[0],
        "change_category": "reliably improved",
        "trend": trend,
        "last_90_days_mean": None,
        "previous_90_days_mean": None,
        "last_90_vs_previous_90": None,
        "thresholds": RATING_THRESHOLDS,
    }
    readings = [Point(START + timedelta(days=d), v, False) for d, v in zip(days, values, strict=True)]
    return Series(readings=readings, **{**defaults, **extra})  # type: ignore[arg-type]


def _y(value: float, low: float = 1.0, high: float = 10.0) -> float:
    return BOTTOM - (BOTTOM - TOP) * (value - low) / (high - low)


def test_readings_span_the_plot_and_higher_values_sit_higher() -> None:
    drawn = chart(_series([1.0, 10.0, 5.5], days=[0, 90, 180]), [])
    assert drawn is not None
    xs = [p.x for p in drawn.points]
    ys = [p.y for p in drawn.points]
    assert xs == pytest.approx([LEFT, (LEFT + RIGHT) / 2, RIGHT])
    assert ys == pytest.approx([BOTTOM, TOP, (TOP + BOTTOM) / 2])


def test_the_band_of_no_reliable_change_is_the_baseline_plus_and_minus_the_threshold() -> None:
    drawn = chart(_series([4.0, 6.0, 7.0], days=[0, 30, 60]), [])
    assert drawn is not None
    assert drawn.band == pytest.approx((_y(6.0), _y(2.0)))
    assert drawn.baseline == pytest.approx(_y(4.0))
    assert drawn.cutoff is None


def test_a_measure_draws_its_cut_off_on_a_scale_from_zero() -> None:
    thresholds: dict[str, object] = {"instrument_version": "1", "cutoff": 10.0, "reliable_change": 6.0}
    drawn = chart(_series([18.0, 12.0, 8.0], days=[0, 60, 120], name="phq9", thresholds=thresholds), [])
    assert drawn is not None
    high = 24.0 * 1.05  # baseline + reliable change, plus 5% headroom
    assert drawn.cutoff == pytest.approx(_y(10.0, 0.0, high))
    assert drawn.points[0].y == pytest.approx(_y(18.0, 0.0, high))


def test_the_trend_passes_through_the_median_reading_with_its_interval_around_it() -> None:
    trend = TrendView(
        slope_per_90_days=3.0, lower_per_90_days=1.5, upper_per_90_days=4.5, n=3, direction="improving"
    )
    drawn = chart(_series([3.0, 6.0, 9.0], days=[0, 90, 180], trend=trend), [])
    assert drawn is not None
    assert drawn.trend == pytest.approx((LEFT, _y(3.0), RIGHT, _y(9.0)))
    assert drawn.interval is not None
    (x0, lower_start), (x1, lower_end), (_, upper_end), (_, upper_start) = drawn.interval
    assert (x0, x1) == pytest.approx((LEFT, RIGHT))
    assert lower_start == pytest.approx(_y(4.5))  # 6 - 1.5 going back 90 days
    assert lower_end == pytest.approx(_y(7.5))
    assert upper_end == pytest.approx(_y(10.0))  # 6 + 4.5 = 10.5, drawn at the top of the scale
    assert upper_start == pytest.approx(_y(1.5))


def test_markers_sit_on_their_day_and_those_outside_the_readings_are_left_out() -> None:
    inside = Marker("setback", START + timedelta(days=45), uuid.uuid4(), "Setback")
    outside = Marker("escalation", START + timedelta(days=400), uuid.uuid4(), "Escalation")
    drawn = chart(_series([3.0, 4.0, 5.0], days=[0, 90, 180]), [inside, outside])
    assert drawn is not None
    ((x, marker),) = drawn.markers
    assert marker.kind == "setback"
    assert x == pytest.approx(LEFT + (RIGHT - LEFT) / 4)


def test_the_summary_says_change_trend_interval_readings_and_span() -> None:
    trend = TrendView(
        slope_per_90_days=0.7, lower_per_90_days=0.0, upper_per_90_days=1.1, n=11, direction=None
    )
    series = _series([3.0] * 11, days=list(range(0, 351, 35)), trend=trend)
    expected = (
        "reliably improved since baseline; trend +0.7 per 90 days, interval 0.0 to 1.1, "
        "11 readings over 350 days"
    )
    assert summary(series) == expected
    too_few = _series([3.0, 4.0], days=[0, 20], change_category=None, label="insufficient data")
    assert summary(too_few) == "insufficient data; 2 readings over 20 days"
