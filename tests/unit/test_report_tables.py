"""The report's published tables: shares only where every count behind them is shown, reviews split
into exclusive counts so "led to action" cannot give a hidden count back, charts withheld under 5
people, and the "Making Data Count" variation of the latest month."""

from __future__ import annotations

from datetime import date

from projections.queries.impact import MonthShare
from projections.queries.report_outcomes import OutcomeCounts
from projections.report_tables import chart, delivery_month, outcome, variation
from projections.spc import xmr
from projections.suppression import TOO_FEW


def _counts(**cells: int) -> OutcomeCounts:
    values = {
        "recovered": 0,
        "reliably_improved": 0,
        "no_reliable_change": 0,
        "reliably_deteriorated": 0,
        "too_few_readings": 0,
    } | cells
    return OutcomeCounts(group="phq9", people=sum(values.values()), **values)


def test_an_outcome_row_with_no_small_count_shows_its_shares() -> None:
    row = outcome(_counts(recovered=5, reliably_improved=10, no_reliable_change=5, too_few_readings=5))
    assert (row.people, row.reliably_improved) == (25, 10)
    assert row.share_with_enough_readings == 0.8
    assert row.share_reliably_improved_or_recovered == 0.75


def test_a_hidden_count_withholds_every_share_it_would_give_back() -> None:
    row = outcome(_counts(reliably_improved=3, no_reliable_change=12, too_few_readings=6))
    assert (row.reliably_improved, row.no_reliable_change, row.too_few_readings) == ("<5", 12, "*")
    assert row.share_with_enough_readings is None
    assert row.share_reliably_improved_or_recovered is None


def test_reviews_split_into_change_no_change_because_and_no_action() -> None:
    month = MonthShare("north", date(2026, 5, 1), 20, 3, 15, 0.15, 4.5, 15, 0.75)
    shown = delivery_month(month)
    assert (shown.led_to_change, shown.no_change_because, shown.no_action_within_28_days) == ("<5", 12, "*")
    assert shown.share_led_to_action is None  # 15 of 20 and 12 would give the 3 back
    assert shown.median_days_to_decision == 4.5


def test_a_chart_on_fewer_than_5_people_is_withheld() -> None:
    drawn = xmr([(f"2026-{m:02d}", float(m % 3)) for m in range(1, 13)])
    withheld = chart("reviews-leading-to-action", True, (4, 9), (drawn, drawn))
    assert (withheld.this_period, withheld.people, withheld.withheld) == (None, "<5", TOO_FEW)
    assert withheld.last_period == drawn
    shown = chart("reviews-leading-to-action", True, (5, 4), (drawn, drawn))
    assert (shown.this_period, shown.last_period, shown.withheld) == (drawn, None, None)


def test_the_variation_is_the_latest_month_s_nature_and_side() -> None:
    steady = [(f"m{i:02d}", 10.0 + (i % 2)) for i in range(12)]
    assert variation(xmr(steady), higher_is_better=False) == "common cause"
    spike = xmr([*steady, ("m12", 40.0)])
    assert variation(spike, higher_is_better=False) == "special cause concern (high)"
    assert variation(spike, higher_is_better=True) == "special cause improvement (high)"
