"""Outcome measure scoring, worked by hand from each instrument's scoring guide (see domain.md)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from events.errors import InvalidEntry
from events.instruments import InstrumentCode, MeasureScore, catalogue, score

RAW_CATALOGUE = json.loads(resources.files("events").joinpath("instruments.json").read_text())


def labels(result: MeasureScore) -> tuple[int, float, bool | None, str | None]:
    return result.raw_total, result.score, result.clinical_range, result.band


def test_phq9_items_summing_to_12_are_moderate_and_clinical() -> None:
    result = score(InstrumentCode.PHQ9, [2, 2, 1, 1, 2, 1, 1, 1, 1])
    assert labels(result) == (12, 12.0, True, "moderate")
    assert result.higher_is_better is False


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([0] * 9, (0, 0.0, False, "minimal")),
        ([1, 1, 1, 1, 1, 1, 1, 1, 1], (9, 9.0, False, "mild")),
        ([2, 1, 1, 1, 1, 1, 1, 1, 1], (10, 10.0, True, "moderate")),
        ([2, 2, 2, 2, 2, 2, 2, 1, 0], (15, 15.0, True, "moderately severe")),
        ([3] * 9, (27, 27.0, True, "severe")),
    ],
)
def test_phq9_cut_off_10_and_bands(items: list[int], expected: tuple[object, ...]) -> None:
    assert labels(score(InstrumentCode.PHQ9, items)) == expected


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([1, 1, 1, 1, 1, 1, 1], (7, 7.0, False, "mild")),
        ([2, 1, 1, 1, 1, 1, 1], (8, 8.0, True, "mild")),
        ([2, 2, 2, 1, 1, 1, 1], (10, 10.0, True, "moderate")),
        ([3] * 7, (21, 21.0, True, "severe")),
    ],
)
def test_gad7_cut_off_8(items: list[int], expected: tuple[object, ...]) -> None:
    assert labels(score(InstrumentCode.GAD7, items)) == expected


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([1] * 10, (10, 10.0, False, "low")),
        ([2, 1, 1, 1, 1, 1, 1, 1, 1, 1], (11, 11.0, True, "mild")),
        ([0] * 10, (0, 0.0, False, "healthy")),
        ([4] * 10, (40, 40.0, True, "severe")),
    ],
)
def test_core10_cut_off_11(items: list[int], expected: tuple[object, ...]) -> None:
    assert labels(score(InstrumentCode.CORE10, items)) == expected


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 4], (23, 23.0, True, None)),
        ([3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 0], (24, 24.0, False, None)),
        ([4] * 10 + [0], (40, 40.0, False, None)),
    ],
)
def test_reqol10_scores_ten_of_its_eleven_items_below_24_clinical(
    items: list[int], expected: tuple[object, ...]
) -> None:
    """Item 11 (physical health) is asked but not scored: 4 on it does not lift 23 out of range."""
    result = score(InstrumentCode.REQOL10, items)
    assert labels(result) == expected
    assert result.higher_is_better is True


def test_reqol10_still_checks_the_unscored_item() -> None:
    with pytest.raises(InvalidEntry) as raised:
        score(InstrumentCode.REQOL10, [2] * 10 + [5])
    assert raised.value.field == "items[10]"


@pytest.mark.parametrize(
    ("items", "raw", "metric"),
    [
        ([1] * 7, 7, 7.0),
        ([2, 1, 1, 1, 1, 1, 1], 8, 9.51),
        ([3, 3, 3, 3, 3, 3, 2], 20, 18.59),
        ([4, 4, 4, 4, 4, 4, 4], 28, 25.03),
        ([5] * 7, 35, 35.0),
    ],
)
def test_swemwbs_raw_total_is_converted_to_the_metric_score(
    items: list[int], raw: int, metric: float
) -> None:
    assert labels(score(InstrumentCode.SWEMWBS, items)) == (raw, metric, None, None)


def test_swemwbs_conversion_table_covers_every_raw_total_and_rises() -> None:
    metric = catalogue()[InstrumentCode.SWEMWBS].metric
    assert metric is not None
    assert sorted(metric) == list(range(7, 36))
    values = [metric[raw] for raw in range(7, 36)]
    assert values == sorted(set(values))


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([3] * 12 + [2, 2], (40, 40.0, True, None)),
        ([3] * 13 + [2], (41, 41.0, False, None)),
        ([1] * 14, (14, 14.0, True, None)),
        ([5] * 14, (70, 70.0, False, None)),
    ],
)
def test_wemwbs_40_or_below_is_probable_depression(items: list[int], expected: tuple[object, ...]) -> None:
    assert labels(score(InstrumentCode.WEMWBS, items)) == expected


COUNTS = {code: instrument.item_count for code, instrument in catalogue().items()}


@pytest.mark.parametrize("code", list(InstrumentCode))
@pytest.mark.parametrize("delta", [-1, 1])
def test_the_wrong_number_of_items_is_invalid(code: InstrumentCode, delta: int) -> None:
    item_min = catalogue()[code].item_min
    with pytest.raises(InvalidEntry) as raised:
        score(code, [item_min] * (COUNTS[code] + delta))
    assert raised.value.field == "items"
    assert f"{COUNTS[code]} items" in raised.value.message


@pytest.mark.parametrize("code", list(InstrumentCode))
@pytest.mark.parametrize("end", ["below", "above"])
def test_an_item_out_of_range_is_named(code: InstrumentCode, end: str) -> None:
    instrument = catalogue()[code]
    items = [instrument.item_min] * instrument.item_count
    items[2] = instrument.item_min - 1 if end == "below" else instrument.item_max + 1
    with pytest.raises(InvalidEntry) as raised:
        score(code, items)
    assert raised.value.field == "items[2]"
    assert "item 3 is out of range" in raised.value.message


@pytest.mark.parametrize("code", list(InstrumentCode))
def test_every_score_carries_its_version_and_thresholds_from_the_data(code: InstrumentCode) -> None:
    instrument = catalogue()[code]
    result = score(code, [instrument.item_max] * instrument.item_count)
    raw = RAW_CATALOGUE[code.value]
    assert result.instrument_version == raw["version"] == "1.0"
    assert result.thresholds.cutoff == raw["thresholds"]["cutoff"]
    assert result.thresholds.clinical_when == raw["thresholds"]["clinical_when"]
    assert result.thresholds.reliable_change == raw["thresholds"]["reliable_change"]
    assert result.thresholds.source == raw["thresholds"]["source"]
    assert len(result.thresholds.source) > 20
    assert result.higher_is_better is raw["higher_is_better"]


def test_the_catalogue_has_every_instrument_and_which_way_is_better() -> None:
    assert {code: catalogue()[code].higher_is_better for code in InstrumentCode} == {
        InstrumentCode.REQOL10: True,
        InstrumentCode.SWEMWBS: True,
        InstrumentCode.WEMWBS: True,
        InstrumentCode.CORE10: False,
        InstrumentCode.PHQ9: False,
        InstrumentCode.GAD7: False,
    }


@pytest.mark.parametrize("code", [code for code in InstrumentCode if catalogue()[code].bands])
def test_bands_cover_every_possible_total_once(code: InstrumentCode) -> None:
    instrument = catalogue()[code]
    totals = range(
        instrument.scored_items * instrument.item_min, instrument.scored_items * instrument.item_max + 1
    )
    for total in totals:
        assert sum(band.min <= total <= band.max for band in instrument.bands) == 1, total
