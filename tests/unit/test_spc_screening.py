"""XmR limits screen large moving ranges by default, as NHSRplotthedots does: moving ranges at or
above 3.267 x their mean are left out once and the mean moving range is taken over the rest.
Unscreened limits (the NHS Excel tool's) on request. Figures worked by hand beside each test."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from projections.spc import XmRChart, xmr


def chart(values: Sequence[float], *, screen: bool = True) -> XmRChart:
    return xmr([(f"m{i}", v) for i, v in enumerate(values)], screen=screen)


# The NHSRplotthedots vignette's series: 18 daily points, one spike of 10.
VIGNETTE = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]


def test_screening_leaves_out_moving_ranges_at_or_above_3_267_times_their_mean() -> None:
    # Mean 35/18 = 1.944444. Moving ranges: fifteen of 1, then 8 (2 -> 10) and 9 (10 -> 1): 32/17 = 1.882353;
    # screened at 3.267 x 1.882353 = 6.149647, so 8 and 9 go and the mean of the fifteen left is 1.
    # Limits 1.944444 +/- 2.66 x 1 = -0.715556 .. 4.604444 (the vignette's -0.72 and 4.6); outer third
    # from 1.944444 +/- 2 x (2.66 / 3) x 1 = 1.944444 +/- 1.773333.
    found = chart(VIGNETTE)
    assert found.screened is True
    assert [p.moving_range_screened_out for p in found.points] == [i in (4, 5) for i in range(18)]
    assert [p.moving_range for p in found.points][4:6] == [8, 9]  # shown as they are, screened or not
    for point in found.points:
        assert point.mean == pytest.approx(1.944444, abs=1e-6)
        assert (point.lower, point.upper) == pytest.approx((-0.715556, 4.604444), abs=1e-6)
    assert [i for i, p in enumerate(found.points) if p.special_cause] == [4]


def test_unscreened_limits_are_the_excel_tool_s() -> None:
    # Limits 1.944444 +/- 2.66 x 1.882353 = 1.944444 +/- 5.007059 = -3.062614 .. 6.951503 (the vignette's
    # -3.06 and 6.95, "the same output as Excel").
    found = chart(VIGNETTE, screen=False)
    assert found.screened is False
    assert not any(p.moving_range_screened_out for p in found.points)
    assert (found.points[0].lower, found.points[0].upper) == pytest.approx((-3.062614, 6.951503), abs=1e-6)


# 24 months alternating 10 and 14, with a spike of 40 at m5 and 27 at m18 (a later signal).
SPIKE = [40 if i == 5 else 27 if i == 18 else 10 if i % 2 == 0 else 14 for i in range(24)]


def test_one_spike_widens_unscreened_limits_and_hides_a_later_signal() -> None:
    # Mean (12 x 10 + 12 x 14 + 26 + 17)/24 = 331/24 = 13.791667. Moving ranges: nineteen of 4, 30 and 30
    # around the spike, 13 and 13 around m18: 162/23 = 7.043478. Screened at 3.267 x 7.043478 = 23.011043:
    # the two 30s go; 102/21 = 4.857143 is left. Screened limits 13.791667 +/- 12.92 = 0.871667 .. 26.711667:
    # 27 at m18 is beyond them. Unscreened 13.791667 +/- 18.735652 = -4.943986 .. 32.527319: 45% wider
    # (7.043478 / 4.857143 = 1.450), and m18 looks like common cause.
    screened, unscreened = chart(SPIKE), chart(SPIKE, screen=False)
    assert (screened.points[0].lower, screened.points[0].upper) == pytest.approx(
        (0.871667, 26.711667), abs=1e-6
    )
    assert (unscreened.points[0].lower, unscreened.points[0].upper) == pytest.approx(
        (-4.943986, 32.527319), abs=1e-6
    )
    assert [i for i, p in enumerate(screened.points) if p.special_cause] == [5, 18]
    assert [i for i, p in enumerate(unscreened.points) if p.special_cause] == [5]


def test_screening_applies_once() -> None:
    # Moving ranges: ten of 1, then 6 (0 -> 6) and 30 (6 -> 36): mean 46/12 = 3.833333, screened at
    # 12.523: 30 goes. The ranges left average 16/11 = 1.454545; 6 is above 3.267 x 1.454545 = 4.752 but
    # stays: screening is not repeated. Limits mean +/- 2.66 x 1.454545 = mean +/- 3.869091.
    found = chart([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 6, 36])
    assert [p.moving_range_screened_out for p in found.points] == [i == 12 for i in range(13)]
    assert found.points[0].upper - found.points[0].mean == pytest.approx(3.869091, abs=1e-6)


def test_a_series_without_variation_keeps_flat_limits() -> None:
    found = chart([5.0] * 12)
    assert all((p.lower, p.upper) == (5.0, 5.0) for p in found.points)
    assert not any(p.special_cause for p in found.points)
