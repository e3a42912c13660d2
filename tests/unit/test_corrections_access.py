"""A correction never changes who can read a record: the care team changes only through the admin's
care team route, and re-pointing a record to another person is a misfiled-record procedure."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from events.case import Case
from events.corrections import correctable_fields
from events.entries import CareTeamChanged, CaseOpened, Entry
from events.errors import CorrectionNotAllowed
from tests.unit.builders import CLINICIAN, correction, make


def _opening(case: Case) -> Entry:
    return next(e for e in case.state.stateful.values() if isinstance(e, CaseOpened))


def _team_change(case: Case) -> Entry:
    return case.record(make(CareTeamChanged, care_team=(CLINICIAN.id, "clin-2"), reason="keyworker changed"))


@pytest.mark.parametrize(
    ("current", "changes", "field", "instead"),
    [
        (_team_change, {"care_team": [CLINICIAN.id, "outsider"]}, "care_team", "/care-team"),
        (_opening, {"care_team": [CLINICIAN.id, "outsider"]}, "care_team", "/care-team"),
        (_opening, {"person_ref": "P-000002"}, "person_ref", "misfiled-record"),
    ],
    ids=["team_change_s_team", "opening_s_team", "opening_s_person"],
)
def test_a_correction_cannot_change_who_can_read_the_record(
    opened_case: Case, current: Any, changes: dict[str, Any], field: str, instead: str
) -> None:
    entry = current(opened_case)
    team_before = list(opened_case.state.care_team)
    person_before = opened_case.state.person_ref
    with pytest.raises(CorrectionNotAllowed) as raised:
        correction(opened_case, entry, **changes)
    assert raised.value.field == f"changes.{field}"
    assert instead in raised.value.message
    assert opened_case.state.care_team == team_before
    assert opened_case.state.person_ref == person_before
    assert opened_case.state.corrections_of(entry.entry_id) == []


def test_the_fields_that_decide_access_are_never_correctable() -> None:
    assert correctable_fields(CareTeamChanged) == ["occurred_at", "reason"]
    assert "care_team" not in correctable_fields(CaseOpened)
    assert "person_ref" not in correctable_fields(CaseOpened)


def test_a_team_change_s_reason_and_time_can_still_be_corrected(opened_case: Case) -> None:
    changed = _team_change(opened_case)
    stored = correction(opened_case, changed, reason="keyworker on leave")
    assert stored.corrected == msgspec.structs.replace(changed, reason="keyworker on leave")
    assert opened_case.state.care_team == [CLINICIAN.id, "clin-2"]
