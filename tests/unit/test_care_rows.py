"""The care model reads stored reviews and decisions through narrow views; they give the rows the
full entry gives, and an entry stored in another shape is left to the full decoder (which upcasts)."""

from __future__ import annotations

import msgspec
import pytest

from events.codec import encode_entry, type_name
from events.entries import PlanChanged, PlanConfirmed, ReviewRecorded
from projections.models.base import Row
from projections.models.care_rows import entry_rows, stored_rows
from projections.models.care_tables import TABLES
from tests.unit.builders import sample

VIEWED = (ReviewRecorded, PlanChanged, PlanConfirmed)


def _expected(entry: ReviewRecorded | PlanChanged | PlanConfirmed) -> list[Row]:
    """The rows written out from the full entry's fields."""
    when = (entry.case_id, entry.occurred_at)
    if isinstance(entry, ReviewRecorded):
        ratings = (sum(entry.ratings.values()), len(entry.ratings))
        return [("reviews", (*when, entry.kind.value, entry.actor.id, *ratings, None, None, False, False))]
    kind = type_name(type(entry))
    if isinstance(entry, PlanChanged):
        plan = (
            entry.support_hours_per_week,
            entry.approach,
            entry.strategies_added,
            entry.strategies_removed,
            entry.domains_added,
            entry.review_interval_weeks,
        )
    else:
        plan = (None, None, (), (), (), None)
    caused = bool(entry.because_of)
    return [
        ("decisions", (*when, kind, *plan, entry.rationale, caused)),
        *(("decision_causes", (entry.case_id, cause, kind, entry.occurred_at)) for cause in entry.because_of),
        *(("strategy_introductions", (*when, s.strip().lower(), None, None, None)) for s in plan[2]),
    ]


@pytest.mark.parametrize("cls", VIEWED, ids=type_name)
def test_a_stored_entry_read_through_its_view_gives_the_rows_of_the_full_entry(
    cls: type[ReviewRecorded | PlanChanged | PlanConfirmed],
) -> None:
    entry = sample(cls)
    fast = stored_rows(type_name(cls), encode_entry(entry))
    assert fast is not None
    assert fast == (entry.entry_id, _expected(entry))
    assert entry_rows(entry) == _expected(entry)


def test_a_plan_change_gives_a_decision_its_causes_and_each_new_strategy_once() -> None:
    change = sample(PlanChanged)
    change = msgspec.structs.replace(
        change, strategies_added=("Walking group ", "walking group", "peer support")
    )
    tables = [table for table, _ in entry_rows(change)]
    assert tables.count("decisions") == 1
    assert tables.count("decision_causes") == len(change.because_of)
    introductions = next(table for table in TABLES if table.name == "strategy_introductions")
    strategies = [
        introductions.named(values)["strategy"]
        for table, values in entry_rows(change)
        if table == "strategy_introductions"
    ]
    assert strategies == ["walking group", "peer support"]


@pytest.mark.parametrize("cls", VIEWED, ids=type_name)
def test_an_entry_stored_in_another_shape_is_left_to_the_full_decoder(
    cls: type[ReviewRecorded | PlanChanged | PlanConfirmed],
) -> None:
    document = msgspec.to_builtins(sample(cls)) | {"class_version": 0}
    assert stored_rows(type_name(cls), msgspec.json.encode(document)) is None
