"""Sealing (events/sealing.py): every kind of entry seals its text and identifiers and opens to what
was sealed; opened without its key it reads as erased and still decodes; a sealed value moved to
another entry does not open; a document sealed once still opens (the stored format is a promise)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import msgspec
import pytest

from events.codec import ENTRY_TYPES, decode_entry, encode_entry, type_name
from events.entries import Entry
from events.sealing import ERASED, SEALED_PREFIX, Keyring, SealBroken, open_state, sealed_fields
from tests.unit.builders import sample

KEYRING = Keyring(bytes(range(32)))
CASE = uuid.UUID("00000000-0000-0000-0000-000000000001")
GOLDEN = Path(__file__).parent.parent / "fixtures" / "sealed" / "review_recorded.json"


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _texts(item)]
    return []


@pytest.mark.parametrize("cls", list(ENTRY_TYPES.values()), ids=type_name)
def test_every_kind_seals_its_text_and_opens_to_it(cls: type[Entry]) -> None:
    entry = sample(cls)
    plain = encode_entry(entry)
    sealed, wrapped = KEYRING.seal(plain, CASE, 3)
    values, stored = msgspec.to_builtins(entry), msgspec.json.decode(sealed)
    for name in sealed_fields(cls):
        # Each text is stored sealed in its place. (A search for the text in the stored bytes would
        # fail now and then: a short text such as "GP" turns up in random base64 by chance.)
        texts = _texts(values.get(name))
        assert len(_texts(stored.get(name))) == len(texts), name
        assert all(text.startswith(SEALED_PREFIX) for text in _texts(stored.get(name))), name
        assert not set(texts) & set(_texts(stored.get(name))), name
    assert decode_entry(type_name(cls), KEYRING.open(sealed, KEYRING.current, wrapped, CASE, 3)) == entry


@pytest.mark.parametrize("cls", list(ENTRY_TYPES.values()), ids=type_name)
def test_without_its_key_an_entry_reads_as_erased_and_keeps_its_structure(cls: type[Entry]) -> None:
    entry = sample(cls)
    sealed, _ = KEYRING.seal(encode_entry(entry), CASE, 3)
    erased = decode_entry(type_name(cls), open_state(sealed, None, CASE, 3))
    values, before = msgspec.to_builtins(erased), msgspec.to_builtins(entry)
    for name in sealed_fields(cls):
        assert all(text == ERASED for text in _texts(values.get(name))), name
    kept = sealed_fields(cls) | {"corrected", "changes"}  # a correction's own text: tested apart
    assert {k: v for k, v in values.items() if k not in kept} == {
        k: v for k, v in before.items() if k not in kept
    }


def test_a_sealed_entry_moved_to_another_place_does_not_open() -> None:
    sealed, wrapped = KEYRING.seal(encode_entry(sample(ENTRY_TYPES["goal_set"])), CASE, 3)
    with pytest.raises(SealBroken):
        KEYRING.open(sealed, KEYRING.current, wrapped, CASE, 4)


def test_a_document_sealed_once_still_opens() -> None:
    golden = json.loads(GOLDEN.read_text())
    assert golden["master"] == KEYRING.current
    case_id, version = uuid.UUID(golden["case_id"]), golden["version"]
    opened = KEYRING.open(
        golden["state"].encode(), golden["master"], bytes.fromhex(golden["wrapped"]), case_id, version
    )
    assert decode_entry("review_recorded", opened) == decode_entry(
        "review_recorded", golden["plain"].encode()
    )


def test_a_correction_s_changed_text_and_corrected_entry_read_as_erased() -> None:
    correction = sample(ENTRY_TYPES["entry_corrected"])
    sealed, _ = KEYRING.seal(encode_entry(correction), CASE, 3)
    erased = msgspec.json.decode(open_state(sealed, None, CASE, 3))
    assert erased["changes"] == {"in_own_words": ERASED}
    assert erased["corrected"]["in_own_words"] == ERASED
    assert erased["reason"] == ERASED
