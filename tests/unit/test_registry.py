"""Guards for the registry of entry kinds (``events.entries.CorrectableEntry`` and ``AnyEntry``): each
place that must decide what to do with a kind of entry fails here when a new kind is left out of it.
docs/adding-an-entry.md walks through them in order. Elsewhere: a golden-corpus document per kind
(tests/unit/test_golden_corpus.py), a sample per kind (tests/unit/test_codec.py), bounds for every
date a request carries (tests/api/test_dates.py)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterable

import pytest

import events
from events.codec import ENTRY_TYPES, type_name
from events.entries import CORRECTABLE_KINDS, ENTRY_KINDS, Entry, EntryCorrected
from events.state import NOT_FOLDED, STATEFUL
from projections.models import MODELS, ReadModel
from service.http.routes.entries import ELSEWHERE, ROUTES
from tests.api.helpers import ENTRY_ROUTES


def _defined_in_events() -> set[type[Entry]]:
    """Every entry kind defined in a module of the ``events`` package."""
    found: set[type[Entry]] = set()
    for module in pkgutil.iter_modules(events.__path__, "events."):
        for value in vars(importlib.import_module(module.name)).values():
            if isinstance(value, type) and issubclass(value, Entry) and value is not Entry:
                found.add(value)
    return found


def _names(kinds: Iterable[type[Entry]]) -> list[str]:
    return sorted(type_name(kind) for kind in kinds)


def _path(path: str) -> str:
    """A route's path under /cases/{case_id}/ with its placeholders unnamed."""
    return re.sub(r"\{[^}]*\}", "{}", path).lstrip("/")


def test_every_kind_defined_in_events_is_in_the_registry() -> None:
    """A kind left out of ``CorrectableEntry`` would be stored and then never decode."""
    assert _names(_defined_in_events() - set(ENTRY_KINDS)) == []


def test_the_decoder_knows_every_registered_kind_under_its_own_name() -> None:
    assert len(set(ENTRY_KINDS)) == len(ENTRY_KINDS)
    assert list(ENTRY_TYPES.values()) == list(ENTRY_KINDS)  # two kinds sharing a name would lose one


def test_a_correction_can_carry_every_kind_but_a_correction() -> None:
    assert set(CORRECTABLE_KINDS) == set(ENTRY_KINDS) - {EntryCorrected}


def test_the_current_state_folds_each_kind_or_says_why_not() -> None:
    """A kind in neither list would never reach the case as it stands."""
    folded, not_folded = set(STATEFUL), set(NOT_FOLDED)
    assert _names(folded & not_folded) == []
    assert _names(set(ENTRY_KINDS) - folded - not_folded) == []
    assert all(NOT_FOLDED.values())


def test_each_kind_is_written_by_an_entry_route_or_says_where_instead() -> None:
    routed = [route.entry_type for route in ROUTES]
    assert len(set(routed)) == len(routed)
    assert _names(set(routed) & set(ELSEWHERE)) == []
    assert _names(set(ENTRY_KINDS) - set(routed) - set(ELSEWHERE)) == []
    assert all(ELSEWHERE.values())


@pytest.mark.parametrize("model", MODELS.values(), ids=lambda model: model.name)
def test_every_read_model_decides_what_to_do_with_each_kind(model: type[ReadModel]) -> None:
    """Handled (a row builder) or deliberately ignored (with why); a model that reads every kind alike
    (``decisions`` None, the audit trail) builds its rows from what every entry carries."""
    if model.decisions is None:
        assert model.topics is None
        return
    assert _names(set(ENTRY_KINDS) - set(model.decisions)) == []
    assert _names(set(model.decisions) - set(ENTRY_KINDS)) == []


def test_every_entry_route_has_a_body_in_the_api_test_helpers() -> None:
    """The API tests (auth, validation, conditions, hostile input, dates) run once per helper route."""
    served = {_path(route.path): type_name(route.entry_type) for route in ROUTES}
    assert {_path(route.path): route.type for route in ENTRY_ROUTES.values()} == served
