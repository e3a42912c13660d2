"""Synthetic but realistic case records, written through the real write path in batched saves.

Recovery is not linear here either: each person's domains drift (mostly towards improvement), with
fluctuation, setbacks and escalations; reviews mostly, but not always, lead to a plan decision.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from events.case import Case
from events.corrections import derive_fields
from events.entries import (
    CaseOpened,
    Entry,
    EscalationRaised,
    EscalationResolved,
    GoalSet,
    MeasureRecorded,
    MilestoneAdded,
    MilestoneReached,
    PlanChanged,
    PlanConfirmed,
    ReviewRecorded,
    SetbackRecorded,
)
from events.values import Actor, ContributingFactor, OutcomeDomain, ReviewKind, Role
from service.write.application import CaseRecords

__all__ = ["DEMO_CLINICIAN", "DemoPlan", "write_demo"]

DEMO_CLINICIAN = "demo-clinician"
SERVICES = ("north-community", "south-community", "east-recovery", "west-recovery", "crisis-step-down")
STRATEGIES = (
    "graded exposure",
    "peer support group",
    "daily routine plan",
    "sleep hygiene",
    "budgeting support",
    "walking group",
    "coping card",
    "medication review",
    "volunteering placement",
    "family sessions",
)
APPROACHES = ("recovery coaching", "solution-focused", "assertive outreach", "skills-based", "peer-led")
GOALS = (
    "go to the shops on my own",
    "feel calmer in the mornings",
    "see my friends again",
    "cook for myself most days",
    "get through a bad night without calling the crisis line",
)


@dataclass(frozen=True)
class DemoPlan:
    """How much demo data to write."""

    people: int = 24
    months: int = 12
    seed: int = 7
    batch_cases: int = 40


@dataclass
class _Person:
    """One synthetic person's latent course: a level per domain and a drift."""

    rng: random.Random
    case_id: uuid.UUID
    domains: list[OutcomeDomain]
    levels: dict[OutcomeDomain, float]
    drift: float
    wobble: float
    clinician: Actor
    strategies: list[str] = field(default_factory=list)


def write_demo(
    records: CaseRecords, plan: DemoPlan, progress: Callable[[int, int], None] | None = None
) -> int:
    """Write ``plan.people`` cases over ``plan.months`` months; return the number of entries written."""
    rng = random.Random(plan.seed)
    written, batch = 0, []
    for index in range(plan.people):
        batch.append(_case(rng, index, plan.months))
        if len(batch) >= plan.batch_cases or index == plan.people - 1:
            # Each case is new, so its version is the number of entries it is about to save.
            written += sum(case.version for case in batch)
            records.save(*batch)
            batch = []
            if progress:
                progress(index + 1, written)
    return written


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _case(rng: random.Random, index: int, months: int) -> Case:
    start = datetime.now(UTC) - timedelta(days=30 * months)
    clinician = Actor(id=DEMO_CLINICIAN if index < 12 else f"clinician-{index % 20:02d}", role=Role.CLINICIAN)
    domains = rng.sample(list(OutcomeDomain), k=rng.randint(2, 4))
    person = _Person(
        rng=rng,
        case_id=_uuid(rng),
        domains=domains,
        levels={d: rng.uniform(2.5, 5.5) for d in domains},
        drift=rng.choice([0.3, 0.3, 0.25, 0.0, -0.2]),
        wobble=rng.choice([0.4, 0.8, 1.5]),
        clinician=clinician,
    )
    opened = CaseOpened(
        **_meta(person, start),
        person_ref=f"P-{index:06d}",
        service=SERVICES[index % len(SERVICES)],
        opened_on=start.date(),
        care_team=(clinician.id,),
        domains=tuple(domains),
    )
    case = Case.open(opened)
    for entry in _course(person, start, months):
        case.record(entry)
    return case


def _meta(person: _Person, occurred: datetime) -> dict[str, Any]:
    # Most entries are recorded the same day; about one in twenty is a late entry.
    now = datetime.now(UTC)
    occurred = min(occurred, now - timedelta(minutes=1))
    delay = timedelta(days=person.rng.randint(2, 6)) if person.rng.random() < 0.05 else timedelta(hours=2)
    recorded = min(occurred + delay, now)
    return {
        "entry_id": _uuid(person.rng),
        "case_id": person.case_id,
        "actor": person.clinician,
        "recorded_at": recorded,
        "occurred_at": occurred,
    }


def _course(person: _Person, start: datetime, months: int) -> Iterator[Entry]:
    """The person's entries, in time order."""
    rng, day, end = person.rng, 1, 30 * months
    goals = [
        GoalSet(**_meta(person, start + timedelta(hours=1)), domain=d, in_own_words=rng.choice(GOALS))
        for d in person.domains[:2]
    ]
    yield from goals
    milestones = [
        MilestoneAdded(
            **_meta(person, start + timedelta(hours=2)),
            goal_id=g.entry_id,
            description="first graded step",
            target_on=(start + timedelta(days=60)).date(),
        )
        for g in goals
    ]
    yield from milestones
    pending: list[MilestoneAdded] = list(milestones)
    while day < end:
        day += rng.randint(5, 12)
        when = start + timedelta(days=day)
        if when >= datetime.now(UTC) - timedelta(hours=1):
            break
        _drift(person, day)
        yield from _events_of_the_week(person, when, day, pending)


def _drift(person: _Person, day: int) -> None:
    for number, domain in enumerate(person.domains):
        swing = person.wobble * math.sin(day / 45 + number)
        person.levels[domain] += person.drift * 0.25 + person.rng.gauss(0, 0.15) + swing * 0.05
        person.levels[domain] = min(9.5, max(1.0, person.levels[domain]))


def _events_of_the_week(
    person: _Person, when: datetime, day: int, milestones: list[MilestoneAdded]
) -> Iterator[Entry]:
    rng = person.rng
    mean_level = sum(person.levels.values()) / len(person.levels)
    if day % 35 < 9:
        review = _review(person, when)
        yield review
        if day % 90 < 12:
            yield _measure(person, when)
        decision = rng.random()
        if decision < 0.7:
            yield _plan_change(person, when + timedelta(days=rng.randint(0, 20)), [review.entry_id])
        elif decision < 0.9:
            yield PlanConfirmed(
                **_meta(person, when + timedelta(days=rng.randint(0, 10))),
                rationale="No change, because the current support is working.",
                because_of=(review.entry_id,),
            )
    if rng.random() < 0.06 * (6 - mean_level) / 3:
        yield from _setback(person, when)
    if rng.random() < 0.04 * (6 - mean_level) / 3:
        yield from _escalation(person, when)
    if milestones and mean_level > 5 and rng.random() < 0.2:
        reached = milestones.pop(0)
        yield MilestoneReached(**_meta(person, when), milestone_id=reached.entry_id, evidence="did it twice")


def _rating(person: _Person, level: float) -> int:
    return min(10, max(1, round(level + person.rng.gauss(0, 0.7))))


def _review(person: _Person, when: datetime) -> ReviewRecorded:
    mean_level = sum(person.levels.values()) / len(person.levels)
    return ReviewRecorded(
        **_meta(person, when),
        kind=person.rng.choice(list(ReviewKind)),
        ratings={d: _rating(person, level) for d, level in person.levels.items()},
        confidence=_rating(person, mean_level),
        autonomy=_rating(person, mean_level - 0.5),
        easier_now="Getting out of the house.",
        most_difficult="Evenings alone.",
        helpful_strategies="Planning the week.",
        next_step="Try the bus with support.",
    )


def _measure(person: _Person, when: datetime) -> MeasureRecorded:
    mean_level = sum(person.levels.values()) / len(person.levels)
    target = round(max(0, min(40, 32 - 3.2 * mean_level + person.rng.gauss(0, 2))))
    items = [target // 10 + (1 if i < target % 10 else 0) for i in range(10)]
    values = {**_meta(person, when), "instrument": "core10", "items": tuple(min(4, i) for i in items)}
    return MeasureRecorded(**derive_fields(MeasureRecorded, values))


def _plan_change(person: _Person, when: datetime, because_of: list[uuid.UUID]) -> PlanChanged:
    rng = person.rng
    added = rng.choice([s for s in STRATEGIES if s not in person.strategies])
    removed = (person.strategies.pop(0),) if len(person.strategies) >= 4 else ()
    person.strategies.append(added)
    return PlanChanged(
        **_meta(person, when),
        rationale="Adjusting support to what the review found.",
        because_of=tuple(because_of),
        support_hours_per_week=round(rng.uniform(1, 8) * 2) / 2,
        approach=rng.choice(APPROACHES),
        strategies_added=(added,),
        strategies_removed=removed,
    )


def _setback(person: _Person, when: datetime) -> Iterator[Entry]:
    rng = person.rng
    setback = SetbackRecorded(
        **_meta(person, when),
        domains=(rng.choice(person.domains),),
        what_happened="Stopped going out for a week.",
        contributing_factors=tuple(rng.sample(list(ContributingFactor), k=rng.randint(1, 3))),
        risk_management="Daily check-in calls.",
        learning="Early warning signs were there.",
        adaptation="Add a mid-week call.",
    )
    yield setback
    if rng.random() < 0.6:
        yield _plan_change(person, when + timedelta(days=rng.randint(1, 10)), [setback.entry_id])


def _escalation(person: _Person, when: datetime) -> Iterator[Entry]:
    rng = person.rng
    raised = EscalationRaised(
        **_meta(person, when),
        severity=rng.choices([1, 2, 3, 4], weights=[4, 3, 2, 1])[0],
        trigger="Anniversary of a loss.",
        response="Crisis plan followed, same-day visit.",
        escalation_plan_used_early=rng.random() < 0.6,
    )
    yield raised
    resolved_at = when + timedelta(days=rng.randint(1, 14))
    yield EscalationResolved(
        **_meta(person, resolved_at), escalation_id=raised.entry_id, resolution="Settled with extra support."
    )
    if rng.random() < 0.5:
        yield _plan_change(person, resolved_at, [raised.entry_id])
