"""Break-glass grants in the case's state: a clinician outside the care team may read the record until
their grant ends, and not a moment after; nobody else gains anything from it. The clock is a value
here (``may_read(user, now)``), so expiry is tested without waiting."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events.entries import BreakGlassGranted, CareTeamChanged
from events.errors import OnCareTeam
from events.values import Actor, BreakGlassReason, Role
from tests.unit.builders import NOW, SAMPLE_FIELDS, make, meta, open_case

OUTSIDER = Actor(id="clin-outside", role=Role.CLINICIAN)


def _grant(hours: float, actor: Actor = OUTSIDER) -> BreakGlassGranted:
    return BreakGlassGranted(
        **meta(actor=actor),
        reason=BreakGlassReason.EMERGENCY,
        detail="keyworker unreachable",
        expires_at=NOW + timedelta(hours=hours),
    )


def test_a_grant_opens_the_record_to_its_holder_until_it_ends() -> None:
    case = open_case()
    before = case.state.may_read(OUTSIDER.id, NOW)
    case.record(_grant(4))
    end = NOW + timedelta(hours=4)
    assert (before, case.state.may_read(OUTSIDER.id, NOW)) == (False, True)
    assert case.state.may_read(OUTSIDER.id, end - timedelta(microseconds=1))
    assert not case.state.may_read(OUTSIDER.id, end)
    assert not case.state.may_read("clin-other", NOW)


def test_a_later_grant_extends_and_an_earlier_ending_one_never_shortens() -> None:
    case = open_case()
    case.record(_grant(4))
    case.record(_grant(1))
    assert case.state.may_read(OUTSIDER.id, NOW + timedelta(hours=3))
    case.record(_grant(6))
    assert case.state.may_read(OUTSIDER.id, NOW + timedelta(hours=5))


def test_a_care_team_change_leaves_grants_as_they_were() -> None:
    case = open_case()
    case.record(_grant(4))
    case.record(make(CareTeamChanged, care_team=("clin-2",), reason="handover"))
    assert case.state.may_read(OUTSIDER.id, NOW)
    assert not case.state.may_read("clin-1", NOW)
    assert case.state.grants == {OUTSIDER.id: NOW + timedelta(hours=4)}


def test_the_sample_names_a_reason_from_the_short_list() -> None:
    assert SAMPLE_FIELDS[BreakGlassGranted]["reason"] in set(BreakGlassReason)


def test_a_member_of_the_care_team_needs_no_break_glass() -> None:
    case = open_case()
    with pytest.raises(OnCareTeam):
        case.record(_grant(4, actor=Actor(id="clin-1", role=Role.CLINICIAN)))
    assert case.state.grants == {}
