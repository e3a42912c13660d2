"""Field errors found from the request's own type: the path is built by walking its fields in the
order msgspec checks them, the message says what to send, and nothing the sender wrote comes back."""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
import pytest

from service.http.field_errors import FieldError, describe, first_error

Rating = Annotated[int, msgspec.Meta(ge=1, le=10)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=20, pattern=r"^[a-z ]+$")]


class Mood(enum.Enum):
    """A coded value."""

    CALM = "calm"
    LOW = "low"


class Step(msgspec.Struct, forbid_unknown_fields=True):
    """A nested object."""

    what: Name
    done: bool = False


class Body(msgspec.Struct, forbid_unknown_fields=True):
    """A request body with every shape the walk goes through."""

    mood: Mood
    ratings: Annotated[dict[Mood, Rating], msgspec.Meta(min_length=1)]
    steps: Annotated[list[Step], msgspec.Meta(max_length=3)] = []
    hours: Annotated[float, msgspec.Meta(ge=0, le=168)] | None = None
    when: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    refs: tuple[UUID, ...] = ()
    size: Literal["small", "large"] = "small"


VALID: dict[str, Any] = {"mood": "calm", "ratings": {"low": 5}, "steps": [{"what": "bus"}]}
SECRET = "Mrs Jones said she would end it"


CODED = "Not one of the accepted values."
WHAT = "text (at least 1 long, at most 20 long, matching `^[a-z ]+$`)"
WHEN = "an RFC 3339 date and time (with an offset, such as 2026-01-01T09:30:00Z)"
CASES: list[tuple[dict[str, Any], str, str, list[str] | None]] = [
    ({"mood": "x"}, "mood", CODED, ["calm", "low"]),
    ({"mood": 3}, "mood", CODED, ["calm", "low"]),
    ({"ratings": {"low": 11}}, "ratings", "Expected an integer (at least 1, at most 10).", None),
    ({"ratings": {}}, "ratings", "Expected an object (at least 1 long).", None),
    ({"ratings": {"x": 1}}, "ratings", CODED, ["calm", "low"]),
    ({"steps": [{"what": "bus"}, {"what": "BUS"}]}, "steps[1].what", f"Expected {WHAT}.", None),
    ({"steps": [{"what": "a"}] * 4}, "steps", "Expected a list (at most 3 long).", None),
    ({"steps": [{}]}, "steps[0].what", f"Required: send {WHAT}.", None),
    ({"steps": [{"what": "a", "done": "maybe"}]}, "steps[0].done", "Expected true or false.", None),
    ({"hours": 200}, "hours", "Expected a number (at least 0, at most 168).", None),
    ({"when": "2026-01-01T10:00:00"}, "when", f"Expected {WHEN}.", None),
    ({"refs": ["a", "b"]}, "refs[0]", "Expected a UUID.", None),
    ({"size": "huge"}, "size", CODED, ["large", "small"]),
    ({"extra": 1}, "extra", "This request takes no such field: leave it out.", None),
]


@pytest.mark.parametrize(("change", "field", "message", "allowed"), CASES)
def test_the_first_invalid_field_is_named_with_what_to_send(
    change: dict[str, Any], field: str, message: str, allowed: list[str] | None
) -> None:
    body = {**VALID, **change}
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(body, Body, strict=False)
    expected: FieldError = {"field": field, "message": message}
    if allowed is not None:
        expected["allowed"] = allowed
    assert first_error(body, Body) == expected


def test_a_missing_field_says_it_is_required_and_what_it_takes() -> None:
    assert first_error({"ratings": {"low": 1}}, Body) == {
        "field": "mood",
        "message": "Required: send one of the accepted values.",
        "allowed": ["calm", "low"],
    }


@pytest.mark.parametrize("body", [[], None, 3, "text"])
def test_a_body_that_is_not_an_object_is_named_body(body: Any) -> None:
    assert first_error(body, Body) == {"field": "body", "message": "Expected a JSON object."}


def test_the_field_reported_is_the_first_msgspec_meets() -> None:
    """Keys in the order sent, then missing fields: the same field msgspec's own error is about."""
    body = {"steps": [{"what": "A"}], "mood": "x"}
    assert first_error(body, Body)["field"] == "steps[0].what"
    assert first_error({"mood": "x"}, Body)["field"] == "mood"  # invalid before missing (ratings)


def test_an_unknown_key_in_the_senders_words_is_not_shown_back() -> None:
    for body in ({**VALID, SECRET: 1}, {**VALID, "steps": [{"what": "a", SECRET: 1}]}):
        error = first_error(body, Body)
        assert SECRET not in json.dumps(error)
    assert first_error({**VALID, SECRET: 1}, Body)["field"] == "body"
    assert first_error({**VALID, "steps": [{"what": "a", SECRET: 1}]}, Body)["field"] == "steps[0]"


@pytest.mark.parametrize("field", ["mood", "ratings", "steps", "hours", "when", "refs", "size"])
def test_a_submitted_value_is_never_echoed(field: str) -> None:
    for value in (SECRET, [SECRET], {SECRET: SECRET}, {"low": SECRET}):
        error = first_error({**VALID, field: value}, Body)
        assert SECRET not in json.dumps(error), error


class Tagged(msgspec.Struct, tag="tagged", forbid_unknown_fields=True):
    """A stored entry carries its tag beside its fields."""

    rating: Rating


def test_a_tag_is_not_an_unknown_field() -> None:
    assert first_error({"type": "tagged", "rating": 0}, Tagged)["field"] == "rating"


def test_describe_gives_every_limit_as_written() -> None:
    assert describe(Annotated[float, msgspec.Meta(gt=0.5, lt=2.0)], "x")["message"] == (
        "Expected a number (over 0.5, under 2)."
    )
    assert describe(Annotated[str, msgspec.Meta(max_length=5)] | None, "x")["message"] == (
        "Expected text (at most 5 long)."
    )
    assert describe(int | str, "x")["message"] == "Expected an integer or text."
