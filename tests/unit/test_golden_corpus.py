"""The golden corpus: the guard that entries stored by earlier versions of Waymark always decode.

``tests/fixtures/entries/<type>.json`` holds one stored document per entry type, exactly the bytes
``encode_entry`` wrote when the file was added. The files are fixed: never regenerate or edit them.
When an entry's shape changes, its class_version is bumped with an upcast and the old file must still
decode (add a file for the new shape alongside, if wanted, under another name). A failure here means
events already in the store would no longer load.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from events.codec import ENTRY_TYPES, current_version, decode_entry, encode_entry, type_name
from events.entries import EntryCorrected, GoalSet, MeasureRecorded, PlanChanged

CORPUS = Path(__file__).parents[1] / "fixtures" / "entries"
STORED = sorted(CORPUS.glob("*.json"))


def test_the_corpus_has_a_document_for_every_entry_type() -> None:
    assert {path.stem for path in STORED} >= set(ENTRY_TYPES)


@pytest.mark.parametrize("path", STORED, ids=lambda path: path.stem)
def test_every_stored_document_still_decodes(path: Path) -> None:
    raw = path.read_bytes()
    entry = decode_entry(path.stem, raw)
    assert type_name(type(entry)) == path.stem
    assert entry.class_version == current_version(type(entry))


@pytest.mark.parametrize("path", STORED, ids=lambda path: path.stem)
def test_no_stored_value_is_lost_while_the_version_is_unchanged(path: Path) -> None:
    """Until a type's class_version is bumped, every stored field decodes to the same value."""
    stored = msgspec.json.decode(path.read_bytes())
    entry = decode_entry(path.stem, path.read_bytes())
    if stored.get("class_version", 1) == entry.class_version:
        assert msgspec.json.decode(encode_entry(entry)) == stored


def test_stored_values_decode_to_their_meaning() -> None:
    """Spot checks that a stored document means today what it meant when it was written."""
    measure = decode_entry("measure_recorded", (CORPUS / "measure_recorded.json").read_bytes())
    assert isinstance(measure, MeasureRecorded)
    assert (measure.score.raw_total, measure.score.band, measure.score.clinical_range) == (12, "mild", True)
    assert measure.score.thresholds.cutoff == 11
    change = decode_entry("plan_changed", (CORPUS / "plan_changed.json").read_bytes())
    assert isinstance(change, PlanChanged)
    assert (change.support_hours_per_week, change.strategies_added) == (6.5, ("peer group",))
    correction = decode_entry("entry_corrected", (CORPUS / "entry_corrected.json").read_bytes())
    assert isinstance(correction, EntryCorrected)
    assert isinstance(correction.corrected, GoalSet)
    assert correction.corrected.entry_id == correction.corrects
