"""The stored form of entries: JSON keyed by type name, decoded into the current Structs, with old
shapes upcast on the way in."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from events import codec
from events.codec import (
    ENTRY_TYPES,
    EntryTypeUnknown,
    current_version,
    decode_entry,
    encode_entry,
    entry_data,
    type_name,
)
from events.entries import Entry, GoalSet
from tests.unit.builders import SAMPLE_FIELDS, make, sample


@pytest.mark.parametrize("name", sorted(ENTRY_TYPES))
def test_every_entry_type_round_trips(name: str) -> None:
    entry = sample(ENTRY_TYPES[name])
    stored = encode_entry(entry)
    assert msgspec.json.decode(stored)["type"] == name
    assert decode_entry(name, stored) == entry


def test_the_samples_cover_every_entry_type() -> None:
    """A new entry type needs a sample here, so it is round-tripped too."""
    assert {type_name(cls) for cls in SAMPLE_FIELDS} | {"entry_corrected"} == set(ENTRY_TYPES)


def test_an_unknown_type_is_refused() -> None:
    with pytest.raises(EntryTypeUnknown, match="weather_recorded"):
        decode_entry("weather_recorded", encode_entry(sample(GoalSet)))


def test_a_document_stored_under_another_type_is_refused() -> None:
    """The stored type name decides the Struct; a goal's JSON cannot be read as a review."""
    with pytest.raises(msgspec.ValidationError):
        decode_entry("review_recorded", encode_entry(sample(GoalSet)))


def test_a_broken_document_is_refused_not_guessed() -> None:
    data = msgspec.to_builtins(sample(GoalSet))
    del data["in_own_words"]
    with pytest.raises(msgspec.ValidationError, match="in_own_words"):
        decode_entry("goal_set", msgspec.json.encode(data))


def test_entry_data_is_the_entry_s_own_values() -> None:
    entry = sample(GoalSet)
    assert entry_data(entry) == {"domain": "stability_self_management", "in_own_words": entry.in_own_words}


class SleepLogged(Entry, tag="test_sleep_logged", frozen=True, kw_only=True):
    """A test-only entry at version 2. Version 1 stored ``duration`` as text such as "7.5h"; version 2
    renamed it ``hours`` and made it a number."""

    class_version: int = 2
    hours: float
    note: str = ""

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["hours"] = float(state.pop("duration").removesuffix("h"))


class DoseLogged(Entry, tag="test_dose_logged", frozen=True, kw_only=True):
    """A test-only entry whose version 2 kept the shape but changed the unit of ``amount`` from grams
    to milligrams: a version 1 document decodes as version 2 but must still be upcast."""

    class_version: int = 2
    amount: float

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["amount"] = state["amount"] * 1000


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test-only types, known to the codec for this test only."""
    monkeypatch.setitem(codec.ENTRY_TYPES, "test_sleep_logged", SleepLogged)
    monkeypatch.setitem(codec.ENTRY_TYPES, "test_dose_logged", DoseLogged)


def stored(type_: str, **values: Any) -> bytes:
    """A document as an older Waymark stored it: the common fields, the type, and ``values``."""
    common = msgspec.to_builtins(make(GoalSet, domain="stability_self_management", in_own_words="x"))
    del common["domain"], common["in_own_words"]
    return msgspec.json.encode(common | {"type": type_, **values})


@pytest.mark.usefixtures("registered")
def test_a_stored_v1_shape_is_upcast_to_the_v2_struct() -> None:
    entry = decode_entry("test_sleep_logged", stored("test_sleep_logged", class_version=1, duration="7.5h"))
    assert isinstance(entry, SleepLogged)
    assert (entry.hours, entry.note, entry.class_version) == (7.5, "", 2)


@pytest.mark.usefixtures("registered")
def test_a_document_from_before_class_version_existed_is_version_1() -> None:
    entry = decode_entry("test_sleep_logged", stored("test_sleep_logged", duration="6h"))
    assert isinstance(entry, SleepLogged)
    assert (entry.hours, entry.class_version) == (6.0, 2)


@pytest.mark.usefixtures("registered")
def test_a_v1_document_that_fits_the_v2_shape_is_still_upcast() -> None:
    entry = decode_entry("test_dose_logged", stored("test_dose_logged", class_version=1, amount=0.25))
    assert isinstance(entry, DoseLogged)
    assert (entry.amount, entry.class_version) == (250.0, 2)


@pytest.mark.usefixtures("registered")
def test_a_current_document_is_not_upcast() -> None:
    entry = decode_entry("test_dose_logged", stored("test_dose_logged", class_version=2, amount=250.0))
    assert isinstance(entry, DoseLogged)
    assert entry.amount == 250.0


@pytest.mark.usefixtures("registered")
def test_an_upcast_entry_is_stored_again_at_the_current_version() -> None:
    entry = decode_entry("test_sleep_logged", stored("test_sleep_logged", class_version=1, duration="8h"))
    again = msgspec.json.decode(encode_entry(entry))
    assert (again["class_version"], again["hours"], "duration" in again) == (2, 8.0, False)
    assert decode_entry("test_sleep_logged", encode_entry(entry)) == entry


@pytest.mark.usefixtures("registered")
def test_a_stored_version_newer_than_the_code_is_refused() -> None:
    with pytest.raises(EntryTypeUnknown, match="v3 is newer"):
        decode_entry("test_dose_logged", stored("test_dose_logged", class_version=3, amount=1.0))


def test_every_real_entry_type_is_at_a_version_its_upcasts_reach() -> None:
    """Each version above 1 needs the upcast that leads to it."""
    for cls in ENTRY_TYPES.values():
        for version in range(1, current_version(cls)):
            assert callable(getattr(cls, f"upcast_v{version}_v{version + 1}", None)), cls.__name__
