"""Standard outcome measures: item validation and scoring, with thresholds kept as data.

The catalogue lives in ``instruments.json`` so a change of norms is a data change, and every score
stores the instrument version, the thresholds used and their source so its labels can be re-derived.
Items are the coded item scores as each instrument's scoring guide defines them (reverse-keyed items
already keyed).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Sequence
from importlib import resources
from typing import Literal

import msgspec

from events.errors import InvalidEntry

__all__ = [
    "Band",
    "Instrument",
    "InstrumentCode",
    "MeasureScore",
    "Thresholds",
    "catalogue",
    "score",
]


class InstrumentCode(enum.StrEnum):
    """Outcome measures Waymark can score."""

    REQOL10 = "reqol10"
    SWEMWBS = "swemwbs"
    WEMWBS = "wemwbs"
    CORE10 = "core10"
    PHQ9 = "phq9"
    GAD7 = "gad7"


class Thresholds(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The cut-off and reliable-change threshold a label was derived with, and where they come from."""

    cutoff: float | None
    clinical_when: Literal["below", "at_or_above", "at_or_below"] | None
    reliable_change: float | None
    source: str


class Band(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A named severity band of total scores, inclusive at both ends."""

    min: int
    max: int
    label: str


class Instrument(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How one outcome measure is validated and scored."""

    name: str
    version: str
    item_count: int
    scored_items: int
    item_min: int
    item_max: int
    higher_is_better: bool
    thresholds: Thresholds
    bands: tuple[Band, ...] = ()
    metric: dict[int, float] | None = None


class MeasureScore(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A scored outcome measure: raw total, reported score and the labels derived from them."""

    raw_total: int
    score: float
    higher_is_better: bool
    clinical_range: bool | None
    band: str | None
    instrument_version: str
    thresholds: Thresholds


@functools.cache
def catalogue() -> dict[InstrumentCode, Instrument]:
    """The instrument catalogue, read once from the package data."""
    raw = resources.files("events").joinpath("instruments.json").read_bytes()
    return msgspec.json.decode(raw, type=dict[InstrumentCode, Instrument])


def score(code: InstrumentCode, items: Sequence[int]) -> MeasureScore:
    """Validate item scores for an instrument and compute its score and labels."""
    instrument = catalogue()[code]
    _check_items(instrument, items)
    raw_total = sum(items[: instrument.scored_items])
    value = instrument.metric[raw_total] if instrument.metric else float(raw_total)
    return MeasureScore(
        raw_total=raw_total,
        score=value,
        higher_is_better=instrument.higher_is_better,
        clinical_range=_clinical_range(instrument.thresholds, value),
        band=next((b.label for b in instrument.bands if b.min <= raw_total <= b.max), None),
        instrument_version=instrument.version,
        thresholds=instrument.thresholds,
    )


def _check_items(instrument: Instrument, items: Sequence[int]) -> None:
    if len(items) != instrument.item_count:
        raise InvalidEntry(
            f"{instrument.name} has {instrument.item_count} items; {len(items)} were sent.",
            field="items",
        )
    for index, item in enumerate(items):
        if not instrument.item_min <= item <= instrument.item_max:
            raise InvalidEntry(
                f"{instrument.name} items are scored {instrument.item_min}-{instrument.item_max}; "
                f"item {index + 1} is out of range.",
                field=f"items[{index}]",
            )


def _clinical_range(thresholds: Thresholds, value: float) -> bool | None:
    cutoff = thresholds.cutoff
    match thresholds.clinical_when:
        case "below" if cutoff is not None:
            return value < cutoff
        case "at_or_above" if cutoff is not None:
            return value >= cutoff
        case "at_or_below" if cutoff is not None:
            return value <= cutoff
        case _:
            return None
