"""Direction of travel for one person, continued: per-domain labels at their boundaries, the last 90 days
against the 90 before, escalation rates per open day and gaps. Expected figures are worked by hand in the
comment beside them."""

from __future__ import annotations

import pytest

from projections.statistics import DirectionLabel, Reading, compare_windows, direction, gaps, rate_comparison


def readings(*points: tuple[float, float]) -> list[Reading]:
    return [Reading(day, value) for day, value in points]


# --- Per-domain direction labels (threshold 5, higher is better unless said) ------------------------


@pytest.mark.parametrize(
    ("points", "label"),
    [
        (((0, 18), (25, 20), (60, 23)), DirectionLabel.RELIABLE_IMPROVEMENT),  # 3 readings, 60 days, +5
        (((0, 18), (25, 20), (59, 23)), DirectionLabel.INSUFFICIENT_DATA),  # spans 59 days < 60
        (((0, 18), (120, 26)), DirectionLabel.INSUFFICIENT_DATA),  # two readings < 3
        (((0, 24), (40, 21), (80, 19)), DirectionLabel.RELIABLE_DETERIORATION),  # -5; steps -3, -2
        (((0, 20), (45, 23), (90, 24)), DirectionLabel.STABLE),  # +4 < 5
        (((0, 10), (30, 15), (60, 20)), DirectionLabel.RELIABLE_IMPROVEMENT),  # two rises, no fall: +10
        (((0, 18), (30, 24), (60, 19), (90, 20)), DirectionLabel.FLUCTUATING),  # +6 then -5 (exactly)
        (((0, 15), (30, 22), (60, 16), (90, 23)), DirectionLabel.FLUCTUATING),  # +7, -6, +7: net +8 too
        (((0, 18), (30, 24), (60, 19.5), (90, 20)), DirectionLabel.STABLE),  # +6, -4.5 (< 5), +0.5; net +2
        (((60, 23), (0, 18), (25, 20)), DirectionLabel.RELIABLE_IMPROVEMENT),  # sorted by day first
    ],
)
def test_direction_labels(points: tuple[tuple[float, float], ...], label: DirectionLabel) -> None:
    found = direction(readings(*points), threshold=5, higher_is_better=True)
    days = sorted(day for day, _ in points)
    values = [value for _, value in sorted(points)]
    assert found.label is label
    assert (found.n, found.span_days, found.last_day) == (len(points), days[-1] - days[0], days[-1])
    assert found.change == values[-1] - values[0]


def test_the_boundary_series_carries_its_trend() -> None:
    # Slopes of (0,18) (25,20) (60,23): 2/25 = 0.08, 5/60 = 0.083333, 3/35 = 0.085714; median 0.083333.
    # n = 3: C = 3.753, ranks clamp to 1 and 3: [0.08, 0.085714]; per 90 days 7.5 in [7.2, 7.714286].
    found = direction(readings((0, 18), (25, 20), (60, 23)), threshold=5, higher_is_better=True)
    assert found.trend is not None
    assert found.trend.per_90_days == pytest.approx(7.5)
    assert found.trend.lower_per_90_days == pytest.approx(7.2)
    assert found.trend.upper_per_90_days == pytest.approx(7.714286, abs=1e-6)


def test_insufficient_data_still_reports_n_span_last_day_and_any_trend() -> None:
    short = direction(readings((0, 18), (25, 20), (59, 23)), threshold=5, higher_is_better=True)
    assert (short.label, short.n, short.span_days, short.last_day, short.change) == (
        DirectionLabel.INSUFFICIENT_DATA,
        3,
        59,
        59,
        5,
    )
    assert short.trend is not None  # 3 readings: the trend is computed, the label still withheld
    two = direction(readings((0, 18), (120, 26)), threshold=5, higher_is_better=True)
    assert (two.span_days, two.change, two.trend) == (120, 8, None)
    one = direction(readings((7, 18)), threshold=5, higher_is_better=True)
    assert (one.n, one.span_days, one.last_day, one.change, one.trend) == (1, 0, 7, None, None)
    none = direction([], threshold=5, higher_is_better=True)
    assert (none.label, none.n, none.span_days, none.last_day, none.change) == (
        DirectionLabel.INSUFFICIENT_DATA,
        0,
        0,
        None,
        None,
    )


def test_more_readings_can_be_required_and_the_trend_still_comes_from_three() -> None:
    found = direction(
        readings((0, 18), (25, 20), (60, 23)), threshold=5, higher_is_better=True, min_readings=4
    )
    assert found.label is DirectionLabel.INSUFFICIENT_DATA
    assert found.trend is not None
    wider = direction(
        readings((0, 18), (25, 20), (60, 23)), threshold=5, higher_is_better=True, min_span_days=90
    )
    assert wider.label is DirectionLabel.INSUFFICIENT_DATA


@pytest.mark.parametrize(
    ("points", "label", "change"),
    [
        (((0, 18), (40, 14), (80, 12)), DirectionLabel.RELIABLE_IMPROVEMENT, -6),  # 6 down on PHQ-9
        (((0, 8), (40, 11), (80, 14)), DirectionLabel.RELIABLE_DETERIORATION, 6),  # 6 up
        (((0, 18), (40, 15), (80, 13)), DirectionLabel.STABLE, -5),  # 5 down < 6
        (((0, 18), (40, 12), (80, 18)), DirectionLabel.FLUCTUATING, 0),  # -6 then +6
    ],
)
def test_direction_labels_lower_is_better(
    points: tuple[tuple[float, float], ...], label: DirectionLabel, change: float
) -> None:
    found = direction(readings(*points), threshold=6, higher_is_better=False)
    assert (found.label, found.change) == (label, change)


def test_decimal_scores_reach_the_threshold_despite_binary_rounding() -> None:
    # 0.3 - 0.1 = 0.2: a reliable improvement at threshold 0.2; the steps of 0.1 are no swings.
    found = direction(readings((0, 0.1), (30, 0.2), (60, 0.3)), threshold=0.2, higher_is_better=True)
    assert found.label is DirectionLabel.RELIABLE_IMPROVEMENT


# --- The last 90 days against the 90 before -------------------------------------------------------


def test_window_means_and_their_boundary_days() -> None:
    # today 200: recent (110, 200], before (20, 110].
    # Day 20 is in neither (the before window is open at 20); 20.5 and 110 are before: mean (4 + 6)/2 = 5.
    # 110.5 and 200 are recent: mean (9 + 11)/2 = 10; day 200.5 is after today. Difference 10 - 5 = 5.
    found = compare_windows(
        readings((20, 100), (20.5, 4), (110, 6), (110.5, 9), (200, 11), (200.5, 50)), today=200
    )
    assert (found.recent_mean, found.recent_n) == (10, 2)
    assert (found.before_mean, found.before_n) == (5, 2)
    assert found.difference == 5


def test_window_comparison_with_an_empty_window_and_other_widths() -> None:
    # days 30, today 100: recent (70, 100] holds 80 and 100; before (40, 70] holds nothing.
    found = compare_windows(readings((40, 1), (80, 3), (100, 6)), today=100, days=30)
    assert (found.recent_mean, found.recent_n, found.before_mean, found.before_n) == (4.5, 2, None, 0)
    assert found.difference is None


# --- Escalations per open day, and gaps between them -----------------------------------------------


def test_rates_per_open_day_with_a_case_closed_for_part_of_a_window() -> None:
    # today 180; open [0, 120) and from 150 on (closed days 120-150).
    # Recent (90, 180]: events 95, 160, 180 -> 3; open 90-120 and 150-180 -> 30 + 30 = 60 days; 3/60 = 0.05.
    # Before (0, 90]: events 45, 90 -> 2 (day 0 is outside, 181 after today); open 90 days; 2/90 = 0.022222.
    # Ratio 0.05 / (2/90) = 0.05 x 45 = 2.25.
    found = rate_comparison([0, 45, 90, 95, 160, 180, 181], today=180, open_intervals=[(0, 120), (150, 400)])
    assert (found.recent_count, found.recent_exposure_days) == (3, 60)
    assert (found.before_count, found.before_exposure_days) == (2, 90)
    assert found.recent_rate == pytest.approx(0.05)
    assert found.before_rate == pytest.approx(0.022222, abs=1e-6)
    assert found.ratio == pytest.approx(2.25)


def test_no_ratio_without_an_earlier_rate() -> None:
    # Open all along, one event on day 100: before 0/90 = 0, so no ratio (not infinity); recent 1/90.
    none_before = rate_comparison([100], today=180, open_intervals=[(0, 180)])
    assert (none_before.before_rate, none_before.ratio) == (0, None)
    assert none_before.recent_rate == pytest.approx(1 / 90)
    # Opened on day 100: no open day before (rate unknown, not 0); recent open days 100-180 = 80.
    opened_late = rate_comparison([150], today=180, open_intervals=[(100, 180)])
    assert (opened_late.before_exposure_days, opened_late.before_rate, opened_late.ratio) == (0, None, None)
    assert opened_late.recent_exposure_days == 80
    # Closed on day 90: no open day recently, so no recent rate and no ratio.
    closed = rate_comparison([45], today=180, open_intervals=[(0, 90)])
    assert (closed.recent_rate, closed.ratio) == (None, None)
    assert closed.before_rate == pytest.approx(1 / 90)


def test_overlapping_open_intervals_count_each_day_once() -> None:
    # [0, 100) and [50, 150) cover [0, 150): before (0, 90] -> 90 days; recent (90, 180] -> 90-150 = 60.
    found = rate_comparison([], today=180, open_intervals=[(0, 100), (50, 150)])
    assert (found.before_exposure_days, found.recent_exposure_days) == (90, 60)


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ([45, 10, 40], [30, 5]),  # sorted 10, 40, 45
        ([0, 10, 30, 60], [10, 20, 30]),  # growing gaps
        ([5, 5], [0]),  # two on the same day
        ([7], []),
        ([], []),
    ],
)
def test_gaps_between_events(days: list[float], expected: list[float]) -> None:
    assert gaps(days) == expected
