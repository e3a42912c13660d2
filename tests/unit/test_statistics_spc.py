"""The XmR chart for service series (NHS "Making Data Count"): limits worked by hand, each special-cause
rule triggered in isolation by a series built for it, the short-series warning, and rebasing."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from projections.spc import XmRChart, xmr

RULES = ("outside_limits", "run_of_seven", "trend_of_seven", "two_of_three_outer")


def chart(values: Sequence[float], rebase_at: tuple[str, ...] = ()) -> XmRChart:
    return xmr([(f"m{i}", v) for i, v in enumerate(values)], rebase_at=rebase_at)


def flagged(found: XmRChart) -> dict[str, list[int]]:
    """Which points each rule flags, by position."""
    return {rule: [i for i, p in enumerate(found.points) if getattr(p, rule)] for rule in RULES}


# Twelve points and no special cause. Mean 120/12 = 10. Moving ranges 8, 8, 8, 6, 0, 1, 1, 1, 1, 1, 4:
# sum 39, MRbar 39/11 = 3.545455. Limits 10 +/- 2.66 x 3.545455 = 10 +/- 9.430909 -> 0.569091 .. 19.430909;
# outer third beyond 10 +/- 6.287273 (3.71 .. 16.29): 14 and 6 stay inside it. Sides - + - + - - - 0 + + + -
# (longest run 3); 8, 9, 10, 11, 12, 13 rise six points in a row (one short of a trend; 8 -> 8 is no rise).
CALM = [6, 14, 6, 14, 8, 8, 9, 10, 11, 12, 13, 9]


def test_limits_moving_ranges_and_no_special_cause() -> None:
    found = chart(CALM)
    assert [p.moving_range for p in found.points] == [None, 8, 8, 8, 6, 0, 1, 1, 1, 1, 1, 4]
    for point in found.points:
        assert point.mean == pytest.approx(10)
        assert (point.lower, point.upper) == pytest.approx((0.569091, 19.430909), abs=1e-6)
    assert [p.label for p in found.points][:2] == ["m0", "m1"]
    assert not any(p.special_cause for p in found.points)
    assert found.warning is None  # 12 points


def test_a_point_outside_the_limits() -> None:
    # Mean (6 x 0 + 5 x 10 + 65)/12 = 115/12 = 9.583333. Moving ranges nine of 10 and 65, 65 around the spike:
    # 220/11 = 20. Upper limit 9.583333 + 2.66 x 20 = 62.783333 < 65. The rest alternate about the mean, and
    # the spike is alone in the outer third (beyond 9.583333 + 35.466667 = 45.05).
    found = chart([0, 10, 0, 10, 0, 65, 0, 10, 0, 10, 0, 10])
    assert found.points[5].upper == pytest.approx(62.783333, abs=1e-6)
    assert flagged(found) == {
        "outside_limits": [5],
        "run_of_seven": [],
        "trend_of_seven": [],
        "two_of_three_outer": [],
    }
    assert [p.special_cause for p in found.points] == [i == 5 for i in range(12)]


def test_seven_points_on_one_side_of_the_mean() -> None:
    # Mean (6 + 14 + 6 + 14 + 6 + 4 x 11 + 3 x 10.5)/12 = 121.5/12 = 10.125: the last 7 (11 and 10.5) are
    # above it; 14 at m3 is cut off by 6 at m4. Moving ranges 8, 8, 8, 8, 5 and six of 0.5: 40/11 = 3.636364;
    # limits 10.125 +/- 9.672727; outer third beyond +/- 6.448485 (3.68 .. 16.57): every point inside.
    # No two rises in a row.
    found = chart([6, 14, 6, 14, 6, 11, 10.5, 11, 10.5, 11, 10.5, 11])
    assert found.points[0].mean == pytest.approx(10.125)
    assert flagged(found) == {
        "outside_limits": [],
        "run_of_seven": [5, 6, 7, 8, 9, 10, 11],
        "trend_of_seven": [],
        "two_of_three_outer": [],
    }


def test_a_point_on_the_mean_breaks_a_run() -> None:
    # Mean (4 + 14 + 6 + 14 + 6 + 6 x 11 + 10)/12 = 120/12 = 10: m8 (10) is on the mean, so m5..m11 are
    # runs of 3 and 3 above it (with 11 at m8 they would be one run of 7).
    # Moving ranges 10, 8, 8, 8, 5, 0, 0, 1, 1, 0, 0: 41/11; limits 10 +/- 9.914545;
    # outer third beyond 10 +/- 6.609697: nothing.
    found = chart([4, 14, 6, 14, 6, 11, 11, 11, 10, 11, 11, 11])
    assert not any(p.special_cause for p in found.points)


def test_six_points_on_one_side_are_not_yet_a_signal() -> None:
    # Mean (3 x 14 + 3 x 6 + 3 x 11 + 3 x 10.5)/12 = 124.5/12 = 10.375: m6..m11 (11 and 10.5) are six above.
    # Moving ranges five of 8, 5, five of 0.5: 47.5/11 = 4.318182; limits 10.375 +/- 11.486364;
    # outer third beyond +/- 7.657576 (2.72 .. 18.03): every point inside; the values alternate.
    found = chart([14, 6, 14, 6, 14, 6, 11, 10.5, 11, 10.5, 11, 10.5])
    assert not any(p.special_cause for p in found.points)


def test_seven_points_rising_and_falling() -> None:
    # 7, 8, 9, 10, 11, 12, 13 at m5..m11: six rises in a row, seven points. Mean 118/12 = 9.833333, so the
    # rise crosses it (sides - + - + - - - - + + + +: longest run 4). Moving ranges 8, 8, 8, 6 and seven of 1:
    # 37/11 = 3.363636; limits 9.833333 +/- 8.947273; outer third beyond +/- 5.964848 (3.87 .. 15.80).
    rising = [6, 14, 6, 14, 8, 7, 8, 9, 10, 11, 12, 13]
    assert flagged(chart(rising)) == {
        "outside_limits": [],
        "run_of_seven": [],
        "trend_of_seven": [5, 6, 7, 8, 9, 10, 11],
        "two_of_three_outer": [],
    }
    # The same values backwards: the same mean and moving ranges, a fall over m0..m6.
    falling = flagged(chart(rising[::-1]))
    assert falling["trend_of_seven"] == [0, 1, 2, 3, 4, 5, 6]
    assert not falling["outside_limits"] + falling["run_of_seven"] + falling["two_of_three_outer"]


def test_two_of_three_in_the_outer_third_on_one_side() -> None:
    # Mean (6 x 8 + 4 x 12 + 2 x 22)/12 = 140/12 = 11.666667. Moving ranges eight of 4, 14, 0, 14: 60/11 =
    # 5.454545; 2.66 x MRbar = 14.509091, upper limit 26.175758 > 22; outer third beyond 11.666667 + (2/3) x
    # 14.509091 = 21.339394 < 22. So m5 and m6 are two of three (m4..m6, m5..m7) in the outer third; the third
    # point of each window is not flagged. Sides alternate; no three rises.
    found = chart([8, 12, 8, 12, 8, 22, 22, 8, 12, 8, 12, 8])
    assert flagged(found) == {
        "outside_limits": [],
        "run_of_seven": [],
        "trend_of_seven": [],
        "two_of_three_outer": [5, 6],
    }


def test_two_just_inside_the_outer_third_are_no_signal() -> None:
    # As above with 20 for 22: mean 136/12 = 11.333333; moving ranges eight of 4, 12, 0, 12: 56/11 = 5.090909;
    # 2.66 x MRbar = 13.541818; outer third beyond 11.333333 + 9.027879 = 20.361212 > 20 (though 20 is past
    # the half-way mark 11.333333 + 6.770909 = 18.104242).
    found = chart([8, 12, 8, 12, 8, 20, 20, 8, 12, 8, 12, 8])
    assert not any(p.special_cause for p in found.points)


def test_two_in_the_outer_third_on_opposite_sides_are_no_signal() -> None:
    # Mean 120/12 = 10. Moving ranges five of 4, 12, 28, 12, three of 4: 84/11 = 7.636364; limits 10 +/-
    # 20.312727; outer third beyond 10 +/- 13.541818: 24 above and -4 below, one on each side.
    found = chart([8, 12, 8, 12, 8, 12, 24, -4, 8, 12, 8, 12])
    assert not any(p.special_cause for p in found.points)


def test_a_series_without_variation_has_no_special_cause() -> None:
    # Mean 0.1 and MRbar 0, though the mean of twelve 0.1s in binary is 0.10000000000000002: no point may be
    # "outside" limits of zero width or "below" the mean by rounding.
    found = chart([0.1] * 12)
    assert [p.moving_range for p in found.points[1:]] == [0] * 11
    assert not any(p.special_cause for p in found.points)


def test_a_warning_under_twelve_points() -> None:
    # Mean (10 + 12 + 11 + 13 + 12)/5 = 58/5 = 11.6; moving ranges 2, 1, 2, 1 -> MRbar 1.5;
    # limits 11.6 +/- 2.66 x 1.5 = 11.6 +/- 3.99 -> 7.61 .. 15.59.
    found = chart([10, 12, 11, 13, 12])
    assert (found.points[0].lower, found.points[0].upper) == pytest.approx((7.61, 15.59))
    assert found.warning is not None
    assert found.warning.startswith("only 5 points")
    assert chart(CALM[:11]).warning is not None
    empty = chart([])
    assert (empty.points, empty.warning is not None) == ([], True)


def test_rebasing_gives_each_segment_its_own_limits() -> None:
    # m0..m4: mean 11.6, MRbar 1.5, limits 7.61 .. 15.59 (as above).
    # m5..m8 after the change: mean (20 + 24 + 22 + 26)/4 = 23; moving ranges 4, 2, 4 -> 10/3;
    # limits 23 +/- 2.66 x 10/3 = 23 +/- 8.866667 -> 14.133333 .. 31.866667.
    # The jump 12 -> 20 is no moving range: each segment's ranges start afresh.
    found = chart([10, 12, 11, 13, 12, 20, 24, 22, 26], rebase_at=("m5",))
    assert [p.mean for p in found.points] == pytest.approx([11.6] * 5 + [23] * 4)
    assert [p.moving_range for p in found.points] == [None, 2, 1, 2, 1, None, 4, 2, 4]
    first, second = ((p.lower, p.upper) for p in found.points[::5])
    assert first == pytest.approx((7.61, 15.59))
    assert second == pytest.approx((14.133333, 31.866667), abs=1e-6)
    assert found.warning is not None
    # Without the rebase, one mean: (58 + 92)/9 = 16.666667.
    assert chart([10, 12, 11, 13, 12, 20, 24, 22, 26]).points[0].mean == pytest.approx(16.666667, abs=1e-6)


def test_a_short_segment_after_rebasing_is_warned_of() -> None:
    # 12 + 12 points: each segment has enough. 12 + 5: the chart has 17, but the new limits rest on 5.
    assert chart(CALM + CALM, rebase_at=("m12",)).warning is None
    short = chart([*CALM, 10, 12, 11, 13, 12], rebase_at=("m12",))
    assert short.warning is not None
    assert short.warning.startswith("only 5 points")
    # A rebase at the first label, or at a label not in the series, leaves one segment.
    assert chart(CALM, rebase_at=("m0", "m99")).points[0].mean == pytest.approx(10)
