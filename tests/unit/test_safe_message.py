"""safe_message: msgspec's message about bad input, with whatever the sender wrote taken out, so no
clinical text reaches an error response or a log."""

from __future__ import annotations

import msgspec
import pytest

from events.codec import safe_message
from events.entries import ReviewRecorded
from events.values import OutcomeDomain


class Shape(msgspec.Struct, forbid_unknown_fields=True):
    domain: OutcomeDomain | None = None
    ratings: dict[OutcomeDomain, int] = {}


def error_for(document: bytes, type_: type = Shape) -> msgspec.ValidationError:
    with pytest.raises(msgspec.ValidationError) as raised:
        msgspec.json.decode(document, type=type_)
    return raised.value


@pytest.mark.parametrize(
    "value",
    [
        "hearing voices at night",
        "I don't want to go on",
        'she said "enough"',
        'it\'s "all" too much',
        "back\\slash and\nnew line",
    ],
    ids=["plain", "apostrophe", "double_quotes", "both_quotes", "escapes"],
)
def test_an_enum_value_never_reaches_the_message(value: str) -> None:
    error = error_for(msgspec.json.encode({"domain": value}))
    assert safe_message(error) == "Invalid enum value - at `$.domain`"


def test_a_dict_key_never_reaches_the_message() -> None:
    error = error_for(b'{"ratings": {"low mood since the funeral": 3}}')
    assert safe_message(error) == "Invalid enum value - at `key` in `$.ratings`"


def test_a_message_without_values_is_kept() -> None:
    error = error_for(b'{"kind": "routine", "ratings": {}}', ReviewRecorded)
    assert safe_message(error) == str(error)
    assert safe_message(error) == "Expected `object` of length >= 1 - at `$.ratings`"


def test_a_long_backtick_name_is_shortened() -> None:
    name = "my_keyworker_never_listens_to_me_about_the_medication_side_effects"
    assert len(name) > 64
    error = error_for(msgspec.json.encode({name: 1}))
    assert safe_message(error) == "Object contains unknown field `…`"


def test_a_backtick_name_of_64_characters_is_kept() -> None:
    name = "x" * 64
    assert (
        safe_message(f"Object contains unknown field `{name}`") == f"Object contains unknown field `{name}`"
    )


def test_the_error_itself_or_its_text_can_be_made_safe() -> None:
    error = error_for(b'{"domain": "private"}')
    assert safe_message(error) == safe_message(str(error)) == "Invalid enum value - at `$.domain`"


def test_an_unknown_key_that_is_not_a_plain_name_is_replaced() -> None:
    message = safe_message("Object contains unknown field `patient is suicidal` - at `$.actor`")
    assert "suicidal" not in message
    assert message == "Object contains unknown field `…` - at `$.actor`"
