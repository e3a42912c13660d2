"""The commissioner report's tables as published: every count of people through small-number
suppression (``projections.suppression``), shares withheld where they would rest on fewer than 5 people
or give a hidden count back, and SPC charts with their "Making Data Count" variation."""

from __future__ import annotations

from datetime import date

import msgspec

from projections.queries.impact import MonthShare
from projections.queries.report_context import CaseMix
from projections.queries.report_outcomes import OutcomeCounts
from projections.queries.report_stalled import StalledCounts
from projections.spc import XmRChart
from projections.suppression import TOO_FEW, Published, published_count, published_row, published_share

__all__ = [
    "ContextRow",
    "DeliveryMonth",
    "PublishedOutcome",
    "ReportChart",
    "StalledDelivery",
    "chart",
    "context_rows",
    "delivery_month",
    "outcome",
    "stalled",
    "variation",
]


class PublishedOutcome(msgspec.Struct, frozen=True):
    """One row of an outcome table: people measured and how they divide, as published. Shares are of
    those with enough readings (two or more, on an instrument with a reliable-change threshold)."""

    group: str
    people: Published
    recovered: Published
    reliably_improved: Published
    no_reliable_change: Published
    reliably_deteriorated: Published
    too_few_readings: Published
    share_with_enough_readings: float | None
    share_reliably_improved_or_recovered: float | None


def outcome(counts: OutcomeCounts) -> PublishedOutcome:
    cells, people = published_row(counts.cells(), counts.people)
    enough = counts.people - counts.too_few_readings
    improved = counts.recovered + counts.reliably_improved
    # Shares need every count behind them shown: a share and a published count give a hidden one back.
    shown_enough = people if isinstance(cells["too_few_readings"], int) else cells["too_few_readings"]
    both = cells["recovered"] if isinstance(cells["reliably_improved"], int) else cells["reliably_improved"]
    return PublishedOutcome(
        group=counts.group,
        people=people,
        **cells,
        share_with_enough_readings=published_share(
            shown_enough, people, round(enough / counts.people, 4) if counts.people else None
        ),
        share_reliably_improved_or_recovered=published_share(
            both, _enough_shown(cells), round(improved / enough, 4) if enough else None
        ),
    )


def _enough_shown(cells: dict[str, Published]) -> Published:
    counted = [
        cells[k] for k in ("recovered", "reliably_improved", "no_reliable_change", "reliably_deteriorated")
    ]
    return sum(c for c in counted if isinstance(c, int)) if all(isinstance(c, int) for c in counted) else "*"


class ReportChart(msgspec.Struct, frozen=True):
    """An XmR chart of this period and one of the period before, or why it is not drawn."""

    metric: str
    higher_is_better: bool
    people: Published
    this_period: XmRChart | None
    last_period: XmRChart | None
    variation: str | None
    withheld: str | None = None


def variation(chart: XmRChart, *, higher_is_better: bool) -> str:
    """The "Making Data Count" variation icon of the latest point: common cause, or special cause of
    an improving or concerning nature, high or low."""
    if not chart.points:
        return "no data"
    last = chart.points[-1]
    if not last.special_cause:
        return "common cause"
    high = last.value > last.mean
    nature = "improvement" if high == higher_is_better else "concern"
    return f"special cause {nature} ({'high' if high else 'low'})"


def chart(
    metric: str, higher_is_better: bool, people: tuple[int, int], charts: tuple[XmRChart, XmRChart]
) -> ReportChart:
    """A chart is drawn for a period only when 5 or more people are behind it."""
    now, before = people
    this = charts[0] if now >= 5 else None
    last = charts[1] if before >= 5 else None
    return ReportChart(
        metric=metric,
        higher_is_better=higher_is_better,
        people=published_count(now),
        this_period=this,
        last_period=last,
        variation=None if this is None else variation(this, higher_is_better=higher_is_better),
        withheld=None if this is not None else TOO_FEW,
    )


class DeliveryMonth(msgspec.Struct, frozen=True):
    """Reviews in one service and month and what they led to within 28 days, as published."""

    service: str
    month: date
    reviews: Published
    led_to_change: Published
    no_change_because: Published
    no_action_within_28_days: Published
    share_led_to_action: float | None
    median_days_to_decision: float | None


def delivery_month(m: MonthShare) -> DeliveryMonth:
    exclusive = {
        "led_to_change": m.led_to_change,
        "no_change_because": m.led_to_action - m.led_to_change,
        "no_action_within_28_days": m.reviews - m.led_to_action,
    }
    cells, reviews = published_row(exclusive, m.reviews)
    acted = [cells["led_to_change"], cells["no_change_because"]]
    numerator: Published = m.led_to_action if all(isinstance(c, int) for c in acted) else "*"
    return DeliveryMonth(
        service=m.service,
        month=m.month,
        reviews=reviews,
        **cells,
        share_led_to_action=published_share(numerator, reviews, m.share_led_to_action),
        median_days_to_decision=m.median_days_to_decision if isinstance(reviews, int) else None,
    )


class ContextRow(msgspec.Struct, frozen=True):
    """People in the period divided one way (by a domain chosen, time in service, setbacks ...)."""

    measure: str
    counts: dict[str, Published]
    people: Published


def context_rows(mix: CaseMix) -> list[ContextRow]:
    """Each division of the people in the period is a row adding up to them, so its complement is
    protected with it."""
    divisions = [
        (f"chose {domain.replace('_', ' ')}", {"yes": n, "no": mix.people - n})
        for domain, n in mix.domains_chosen.items()
    ]
    divisions.append(("time in service", dict(mix.time_in_service)))
    divisions.append(("had a setback", {"yes": mix.with_setbacks, "no": mix.people - mix.with_setbacks}))
    divisions.append(
        ("had an escalation", {"yes": mix.with_escalations, "no": mix.people - mix.with_escalations})
    )
    rows = []
    for measure, cells in divisions:
        shown, people = published_row(cells, mix.people)
        rows.append(ContextRow(measure, shown, people))
    return rows


class StalledDelivery(msgspec.Struct, frozen=True):
    """People whose outcome stalled and what followed, as published."""

    people: Published
    plan_changed: Published
    plan_confirmed_only: Published
    no_decision_yet: Published
    median_days_to_first_decision: float | None


def stalled(counts: StalledCounts) -> StalledDelivery:
    cells = {
        "plan_changed": counts.plan_changed,
        "plan_confirmed_only": counts.plan_confirmed_only,
        "no_decision_yet": counts.no_decision_yet,
    }
    shown, people = published_row(cells, counts.people)
    median = counts.median_days_to_first_decision
    return StalledDelivery(
        people=people, **shown, median_days_to_first_decision=median if counts.people >= 5 else None
    )
