"""Direction of travel for one person: reliable change (Jacobson & Truax) and the Theil-Sen trend with
Sen's interval. Every expected figure is worked by hand in the comment beside it. Labels, windows and
rates are in test_statistics_travel.py; the XmR chart for service series in test_statistics_spc.py."""

from __future__ import annotations

import pytest

from projections.statistics import (
    ChangeCategory,
    Reading,
    Trend,
    change_category,
    direction,
    reliable_change_threshold,
    theil_sen,
)


def readings(*points: tuple[float, float]) -> list[Reading]:
    return [Reading(day, value) for day, value in points]


# --- Reliable change (Jacobson & Truax 1991) -------------------------------------------------------


@pytest.mark.parametrize(
    ("sd", "r", "z", "expected"),
    [
        (5, 0.8, 1.96, 6.198064),  # 1.96 x 5 x sqrt(2) x sqrt(0.2) = 9.8 x sqrt(0.4) = 9.8 x 0.6324555
        (10, 0.5, 1.96, 19.6),  # sqrt(2) x sqrt(0.5) = 1, so 1.96 x 10
        (10, 0.5, 1.645, 16.45),  # a 90% threshold: 1.645 x 10
        (7, 1.0, 1.96, 0.0),  # a perfectly reliable measure: any change is reliable
    ],
)
def test_jacobson_truax_threshold(sd: float, r: float, z: float, expected: float) -> None:
    assert reliable_change_threshold(sd, r, z) == pytest.approx(expected, abs=1e-6)


def test_the_threshold_defaults_to_z_of_1_96() -> None:
    assert reliable_change_threshold(10, 0.5) == pytest.approx(19.6)


@pytest.mark.parametrize(
    ("baseline", "latest", "clinical", "expected"),
    [
        # ReQoL-10 style: higher is better, clinical below 24, RC 5.
        (18, 26, (True, False), ChangeCategory.RECOVERED),  # +8 >= 5, and out of the clinical range
        (18, 23, (True, True), ChangeCategory.RELIABLY_IMPROVED),  # +5 exactly: reliable, still clinical
        (25, 31, (False, False), ChangeCategory.RELIABLY_IMPROVED),  # never clinical: cannot "recover"
        (18, 26, (True, None), ChangeCategory.RELIABLY_IMPROVED),  # latest side of the cut-off unknown
        (18, 26, (None, None), ChangeCategory.RELIABLY_IMPROVED),  # no cut-off for this measure
        (18, 22, (True, True), ChangeCategory.NO_RELIABLE_CHANGE),  # +4 < 5
        (18, 14, (True, True), ChangeCategory.NO_RELIABLE_CHANGE),  # -4 < 5
        (25, 20, (False, True), ChangeCategory.RELIABLY_DETERIORATED),  # -5 exactly
    ],
)
def test_change_categories_higher_is_better(
    baseline: float, latest: float, clinical: tuple[bool | None, bool | None], expected: ChangeCategory
) -> None:
    found = change_category(
        baseline,
        latest,
        threshold=5,
        higher_is_better=True,
        clinical_at_baseline=clinical[0],
        clinical_at_latest=clinical[1],
    )
    assert found is expected


@pytest.mark.parametrize(
    ("baseline", "latest", "clinical", "expected"),
    [
        # PHQ-9 style: higher is worse, clinical at 10 or more, RC 6.
        (16, 9, (True, False), ChangeCategory.RECOVERED),  # 7 points down, below the cut-off
        (16, 10, (True, True), ChangeCategory.RELIABLY_IMPROVED),  # 6 down exactly, but 10 is clinical
        (16, 11, (True, True), ChangeCategory.NO_RELIABLE_CHANGE),  # 5 down < 6
        (8, 14, (False, True), ChangeCategory.RELIABLY_DETERIORATED),  # 6 up: worse, however far it went
        (8, 3, (False, False), ChangeCategory.NO_RELIABLE_CHANGE),  # 5 down < 6
    ],
)
def test_change_categories_lower_is_better(
    baseline: float, latest: float, clinical: tuple[bool | None, bool | None], expected: ChangeCategory
) -> None:
    found = change_category(
        baseline,
        latest,
        threshold=6,
        higher_is_better=False,
        clinical_at_baseline=clinical[0],
        clinical_at_latest=clinical[1],
    )
    assert found is expected


def test_a_change_equal_to_the_threshold_in_decimals_is_reliable() -> None:
    # 0.3 - 0.1 = 0.2 exactly, though in binary floating point it is 0.19999999999999998.
    assert 0.3 - 0.1 < 0.2
    found = change_category(
        0.1, 0.3, threshold=0.2, higher_is_better=True, clinical_at_baseline=None, clinical_at_latest=None
    )
    assert found is ChangeCategory.RELIABLY_IMPROVED


@pytest.mark.parametrize("threshold", [0, -6, float("nan")])
def test_a_threshold_that_is_not_positive_is_refused(threshold: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        change_category(
            16,
            9,
            threshold=threshold,
            higher_is_better=False,
            clinical_at_baseline=True,
            clinical_at_latest=False,
        )
    with pytest.raises(ValueError, match="positive"):
        direction([], threshold=threshold, higher_is_better=True)


# --- Theil-Sen slope and Sen's interval ------------------------------------------------------------

# Five readings on irregular days. The 10 pairwise slopes (value change / day change):
#   (0,10)-(10,12) 2/10 = 0.2        (10,12)-(30,13) 1/20 = 0.05      (30,13)-(60,19) 6/30 = 0.2
#   (0,10)-(30,13) 3/30 = 0.1        (10,12)-(60,19) 7/50 = 0.14      (30,13)-(100,20) 7/70 = 0.1
#   (0,10)-(60,19) 9/60 = 0.15       (10,12)-(100,20) 8/90 = 0.08889  (60,19)-(100,20) 1/40 = 0.025
#   (0,10)-(100,20) 10/100 = 0.1
# Sorted: 0.025, 0.05, 0.08889, 0.1, 0.1, 0.1, 0.14, 0.15, 0.2, 0.2 (N = 10); median (0.1 + 0.1)/2 = 0.1.
FIVE = readings((0, 10), (10, 12), (30, 13), (60, 19), (100, 20))


def test_theil_sen_slope_on_irregular_days_and_per_90_days() -> None:
    # 95%: z = 1.959964; no tied days or values: sd = sqrt(5 x 4 x 15 / 18) = 4.082483, z x sd = 8.001519.
    # Lower: round((10 - 8.001519)/2) - 1 = round(0.99924) - 1 = 0 -> the 1st slope, 0.025;
    # upper: round((10 + 8.001519)/2) = round(9.00076) = 9 -> the 10th slope, 0.2.
    trend = theil_sen(FIVE)
    assert trend is not None
    assert trend.slope_per_day == pytest.approx(0.1)
    assert (trend.lower_per_day, trend.upper_per_day) == pytest.approx((0.025, 0.2))
    assert (trend.n, trend.confidence) == (5, 0.95)
    # Per 90 days: 0.1 x 90 = 9; 0.025 x 90 = 2.25; 0.2 x 90 = 18.
    assert trend.per_90_days == pytest.approx(9)
    assert trend.lower_per_90_days == pytest.approx(2.25)
    assert trend.upper_per_90_days == pytest.approx(18)
    assert trend.direction(higher_is_better=True) == "improving"
    assert trend.direction(higher_is_better=False) == "worsening"


def test_sens_interval_takes_whole_order_statistics() -> None:
    # 80%: z = 1.281552; z x sd = 1.281552 x 4.082483 = 5.231912.
    # Lower: round((10 - 5.231912)/2) - 1 = round(2.384044) - 1 = 1 -> the 2nd slope, 0.05 (not a value
    # interpolated between the 2nd and 3rd); upper: round((10 + 5.231912)/2) = round(7.615956) = 8 -> the
    # 9th slope, 0.2.
    trend = theil_sen(FIVE, confidence=0.80)
    assert trend is not None
    assert trend.slope_per_day == pytest.approx(0.1)
    assert (trend.lower_per_day, trend.upper_per_day) == (0.05, 0.2)


def test_sens_variance_is_corrected_for_tied_days_and_values() -> None:
    # Ratings 4, 4 on day 0, 6, 6 on day 30, then 7 on days 60 and 90 (n = 6). Slopes (the two same-day
    # pairs give none): 4 x 2/30 = 0.0667, 2 x 3/60 = 0.05, 2 x 3/90 = 0.0333, 2 x 1/30 = 0.0333,
    # 2 x 1/60 = 0.0167, 0/30 = 0. Sorted (N = 13): 0, 0.0167, 0.0167, 0.0333 x 4, 0.05 x 2, 0.0667 x 4.
    # Tied days 2 x (2 x 1 x 9) = 36, tied values 3 x 18 = 54: var = (6 x 5 x 17 - 36 - 54)/18 = 23.333,
    # sd = 4.830459, z x sd = 9.467531. Lower: round((13 - 9.467531)/2) - 1 = round(1.766) - 1 = 1 -> the
    # 2nd slope, 0.016667; upper: round(11.234) = 11 -> the 12th, 0.066667. The interval excludes 0:
    # improving. Uncorrected, z x sd = 10.432705 gives positions 0 and 12: [0, 0.0667], no direction.
    trend = theil_sen(readings((0, 4), (0, 4), (30, 6), (30, 6), (60, 7), (90, 7)))
    assert trend is not None
    assert trend.slope_per_day == pytest.approx(1 / 30)
    assert (trend.lower_per_day, trend.upper_per_day) == pytest.approx((1 / 60, 2 / 30))
    assert trend.direction(higher_is_better=True) == "improving"


def test_no_interval_when_ties_leave_sen_s_variance_negative() -> None:
    # Days 0, 0, 10 and one value throughout: 3 x 2 x 11 = 66, less 18 (tied days) and 66 (tied values)
    # is negative: scipy answers nan; Waymark reports no interval and no direction.
    trend = theil_sen(readings((0, 4), (0, 4), (10, 4)))
    assert trend is not None
    assert (trend.slope_per_day, trend.lower_per_day, trend.upper_per_day) == (0, None, None)
    assert (trend.lower_per_90_days, trend.upper_per_90_days) == (None, None)
    assert trend.direction(higher_is_better=True) is None


def test_no_direction_when_the_interval_reaches_zero() -> None:
    # As FIVE but day 10 reads 10: slopes 0/10 = 0, 3/30, 9/60, 10/100, 3/20, 9/50, 10/90, 6/30, 7/70, 1/40.
    # Sorted: 0, 0.025, 0.1, 0.1, 0.1, 0.11111, 0.15, 0.15, 0.18, 0.2; median (0.1 + 0.11111)/2 = 0.105556.
    # 95%: day 0 and 10 both read 10 (t = 2: 18): sd = sqrt((300 - 18)/18) = 3.958114, z x sd = 7.757765;
    # positions round(1.121) - 1 = 0 and round(8.879) = 9: [0, 0.2] includes 0, so no direction either way.
    trend = theil_sen(readings((0, 10), (10, 10), (30, 13), (60, 19), (100, 20)))
    assert trend is not None
    assert trend.slope_per_day == pytest.approx(0.105556, abs=1e-6)
    assert trend.lower_per_day == 0
    assert trend.upper_per_day == pytest.approx(0.2)
    assert trend.direction(higher_is_better=True) is None
    assert trend.direction(higher_is_better=False) is None


def test_direction_of_a_trend_by_the_side_of_its_interval() -> None:
    assert Trend(-0.1, -0.2, -0.05, 5, 0.95).direction(higher_is_better=True) == "worsening"
    assert Trend(-0.1, -0.2, -0.05, 5, 0.95).direction(higher_is_better=False) == "improving"
    assert Trend(0.05, -0.1, 0.2, 5, 0.95).direction(higher_is_better=True) is None
    assert Trend(-0.05, -0.2, 0.0, 5, 0.95).direction(higher_is_better=False) is None  # upper end is 0


def test_a_falling_score_on_a_lower_is_better_measure_is_improving() -> None:
    # Slopes: (0,20)-(30,17) -3/30, (0,20)-(90,11) -9/90, (30,17)-(90,11) -6/60: all -0.1.
    # n = 3: z x sd = 1.959964 x sqrt(3 x 2 x 11 / 18) = 3.753; positions 0 and 2: [-0.1, -0.1].
    trend = theil_sen(readings((0, 20), (30, 17), (90, 11)))
    assert trend is not None
    assert trend.per_90_days == pytest.approx(-9)
    assert trend.upper_per_90_days == pytest.approx(-9)
    assert trend.direction(higher_is_better=False) == "improving"


def test_pairs_on_the_same_day_give_no_slope() -> None:
    # (0,1)-(0,3) is skipped; (0,1)-(10,5) 4/10 = 0.4, (0,3)-(10,5) 2/10 = 0.2; median 0.3.
    # n counts all 3 readings, less the tied days (t = 2: 18): z x sd = 1.959964 x sqrt(48/18) = 3.2006;
    # positions max(round(-0.6) - 1, 0) = 0 and min(round(2.6), 1) = 1: [0.2, 0.4].
    trend = theil_sen(readings((0, 1), (0, 3), (10, 5)))
    assert trend is not None
    assert trend.slope_per_day == pytest.approx(0.3)
    assert trend.n == 3
    assert (trend.lower_per_day, trend.upper_per_day) == pytest.approx((0.2, 0.4))


@pytest.mark.parametrize("points", [(), ((5, 1),), ((3, 1), (3, 2))])
def test_no_trend_without_two_different_days(points: tuple[tuple[float, float], ...]) -> None:
    assert theil_sen(readings(*points)) is None


def test_a_confidence_outside_0_and_1_is_refused() -> None:
    with pytest.raises(ValueError, match="confidence"):
        theil_sen(FIVE, confidence=1.0)
