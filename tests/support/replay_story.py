"""A case with a history on both time axes, for the replay tests: entries recorded with times in the
past (the API always records "now"), as ``waymark demo`` writes its cases. Days below are days ago."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from events.entries import (
    CaseOpened,
    EntryCorrected,
    EscalationRaised,
    ReviewRecorded,
    SetbackRecorded,
    StatementAdded,
)
from events.values import Actor, ContributingFactor, OutcomeDomain, ReviewKind, Role
from service.write.application import CaseRecords
from tests.api.helpers import Client

NOW = datetime.now(UTC)
DOMAIN = OutcomeDomain.STABILITY_SELF_MANAGEMENT
CLINICIAN, CORRECTOR = f"c-axes-{uuid.uuid4().hex[:8]}", f"c-fix-{uuid.uuid4().hex[:8]}"


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def stamp(days: float) -> str:
    return ago(days).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Story:
    case_id: uuid.UUID
    corrected_review: uuid.UUID
    late_review: uuid.UUID
    correction: uuid.UUID
    statement: uuid.UUID
    position: int


def write_story(records: CaseRecords) -> Story:
    """Opened 200 days ago; reviews rating 3, 4, 5, 6, 8 on days 190, 150, 110, 70, 30 (each recorded
    that day); escalations on days 160 and 40, a setback on day 120. On day 20 the review of day 30
    is corrected from 8 to 3 by another clinician; on day 10 a late review (7) about day 90 is
    recorded; on day 5 a statement about that day."""
    case_id = uuid.uuid4()

    def meta(recorded: float, occurred: float, who: str = CLINICIAN) -> dict[str, Any]:
        return {
            "entry_id": uuid.uuid4(),
            "case_id": case_id,
            "actor": Actor(id=who, role=Role.CLINICIAN),
            "recorded_at": ago(recorded),
            "occurred_at": ago(occurred),
        }

    def review(recorded: float, occurred: float, rating: int) -> ReviewRecorded:
        return ReviewRecorded(
            **meta(recorded, occurred),
            kind=ReviewKind.ROUTINE,
            ratings={DOMAIN: rating},
            confidence=5,
            autonomy=5,
        )

    records.open_case(
        CaseOpened(
            **meta(200, 200),
            person_ref="P-axes",
            service="north",
            opened_on=ago(200).date(),
            care_team=(CLINICIAN, CORRECTOR),
            domains=(DOMAIN,),
        )
    )
    reviews = {}
    for day, rating in ((190, 3), (160, None), (150, 4), (120, None), (110, 5), (70, 6), (40, None), (30, 8)):
        if day in (160, 40):
            escalation = EscalationRaised(
                **meta(day, day),
                severity=3 if day == 160 else 2,
                trigger="anniversary",
                response="same-day visit",
                escalation_plan_used_early=True,
            )
            records.record(case_id, escalation)
        elif day == 120:
            setback = SetbackRecorded(
                **meta(day, day),
                domains=(DOMAIN,),
                what_happened="stopped going out",
                contributing_factors=(ContributingFactor.HOUSING,),
                risk_management="daily calls",
                learning="early signs show in sleep",
                adaptation="mid-week call",
            )
            records.record(case_id, setback)
        else:
            assert rating is not None
            reviews[day] = records.record(case_id, review(day, day, rating)).entry_id
    correction = records.correct(
        case_id,
        EntryCorrected(
            **meta(20, 20, CORRECTOR),
            corrects=reviews[30],
            reason="entered on the wrong scale",
            changes={"ratings": {DOMAIN.value: 3}},
        ),
    )
    late = records.record(case_id, review(10, 90, 7))
    statement = records.record(case_id, StatementAdded(**meta(5, 5), text="better now"))
    assert statement.position is not None
    return Story(
        case_id, reviews[30], late.entry_id, correction.entry_id, statement.entry_id, statement.position
    )


def rating_of(case: dict[str, Any]) -> int:
    rating: int = case["last_review"]["ratings"][DOMAIN.value]
    return rating


async def get(client: Client, headers: dict[str, str], path: str, **params: Any) -> dict[str, Any]:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def entry_ids(history: dict[str, Any]) -> list[str]:
    return [item["entry_id"] for item in history["items"]]
