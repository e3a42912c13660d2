"""A write that breaks a rule of the case record is a 409 with the rule's own problem type, naming the
field, and nothing is written."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.api.helpers import (
    ESCALATION,
    GOAL,
    MEASURE,
    NOT_IN_CASE,
    REVIEW,
    SETBACK,
    WRITE_ROUTES,
    Client,
    PreparedWrite,
    assert_problem,
    each_route,
    prepare,
)
from tests.support.tokens import TokenFactory

Scenario = Callable[[PreparedWrite], Awaitable[tuple[str, dict[str, Any]]]]


def unknown() -> str:
    return str(uuid.uuid4())


async def resolve_unknown(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    return f"escalations/{unknown()}/resolution", {"resolution": "r"}


async def resolve_twice(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    escalation = await w.entry("escalations", ESCALATION)
    await w.entry(f"escalations/{escalation}/resolution", {"resolution": "r"})
    return f"escalations/{escalation}/resolution", {"resolution": "again"}


async def resolve_a_goal(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    return f"escalations/{await w.entry('goals', GOAL)}/resolution", {"resolution": "r"}


async def plan_because_of_goal(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    goal = await w.entry("goals", GOAL)
    return "plan-changes", {"rationale": "r", "because_of": [goal], "support_hours_per_week": 3}


async def confirmed_because_of_measure(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    return "plan-confirmations", {"rationale": "r", "because_of": [await w.entry("measures", MEASURE)]}


async def plan_because_of_unknown(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    return "plan-changes", {"rationale": "r", "because_of": [unknown()], "support_hours_per_week": 3}


async def statement_about_unknown(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    return "statements", {"text": "t", "about": [unknown()]}


async def correct_unknown(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    return "corrections", {"corrects": unknown(), "reason": "r", "changes": {"in_own_words": "x"}}


async def review_citing_a_review_as_measure(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    return "reviews", {**REVIEW, "measure_ids": [await w.entry("reviews", REVIEW)]}


async def milestone_for_unknown_goal(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    return "milestones", {"goal_id": unknown(), "description": "d"}


async def revise_unknown_goal(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    return f"goals/{unknown()}/revisions", {"reason": "r", "achievement": "achieved"}


async def reach_unknown_milestone(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    return f"milestones/{unknown()}/reached", {"evidence": "e"}


async def reach_twice(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    goal = await w.entry("goals", GOAL)
    milestone = await w.entry("milestones", {"goal_id": goal, "description": "d"})
    await w.entry(f"milestones/{milestone}/reached", {"evidence": "e"})
    return f"milestones/{milestone}/reached", {"evidence": "again"}


async def goal_outside_domains(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    return "goals", {**GOAL, "domain": NOT_IN_CASE}


async def setback_outside_domains(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    return "setbacks", {**SETBACK, "domains": [NOT_IN_CASE]}


async def review_outside_domains(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    return "reviews", {**REVIEW, "ratings": {NOT_IN_CASE: 5}}


async def remove_missing_strategy(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    return "plan-changes", {"rationale": "r", "strategies_removed": ["never added"]}


async def correct_a_correction(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    goal = await w.entry("goals", GOAL)
    correction = await w.entry(
        "corrections", {"corrects": goal, "reason": "r", "changes": {"in_own_words": "a"}}
    )
    return "corrections", {"corrects": correction, "reason": "r", "changes": {"reason": "b"}}


async def correct_a_derived_score(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    measure = await w.entry("measures", MEASURE)
    return "corrections", {"corrects": measure, "reason": "r", "changes": {"score": {"raw_total": 0}}}


async def correct_who_recorded(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    goal = await w.entry("goals", GOAL)
    return "corrections", {
        "corrects": goal,
        "reason": "r",
        "changes": {"actor": {"id": "x", "role": "admin"}},
    }


async def reopen_an_open_case(w: PreparedWrite) -> tuple[str, dict[str, Any]]:
    return "reopening", {"reason": "r"}


RULES: dict[str, tuple[Scenario, str, str | None]] = {
    "resolve-unknown": (resolve_unknown, "escalation-not-open", "escalation_id"),
    "resolve-twice": (resolve_twice, "escalation-not-open", "escalation_id"),
    "resolve-a-goal": (resolve_a_goal, "escalation-not-open", "escalation_id"),
    "plan-because-of-goal": (plan_because_of_goal, "cause-not-allowed", "because_of"),
    "confirmed-because-of-measure": (confirmed_because_of_measure, "cause-not-allowed", "because_of"),
    "plan-because-of-unknown": (plan_because_of_unknown, "entry-not-found", "because_of"),
    "statement-about-unknown": (statement_about_unknown, "entry-not-found", "about"),
    "correct-unknown": (correct_unknown, "entry-not-found", "corrects"),
    "review-citing-a-review": (review_citing_a_review_as_measure, "entry-not-found", "measure_ids"),
    "milestone-for-unknown-goal": (milestone_for_unknown_goal, "goal-not-found", "goal_id"),
    "revise-unknown-goal": (revise_unknown_goal, "goal-not-found", "goal_id"),
    "reach-unknown-milestone": (reach_unknown_milestone, "milestone-not-found", "milestone_id"),
    "reach-twice": (reach_twice, "milestone-already-reached", "milestone_id"),
    "goal-outside-domains": (goal_outside_domains, "domain-not-in-case", "domain"),
    "setback-outside-domains": (setback_outside_domains, "domain-not-in-case", "domains"),
    "review-outside-domains": (review_outside_domains, "domain-not-in-case", "ratings"),
    "remove-missing-strategy": (remove_missing_strategy, "strategy-not-in-plan", "strategies_removed"),
    "correct-a-correction": (correct_a_correction, "correction-not-allowed", "corrects"),
    "correct-a-derived-score": (correct_a_derived_score, "correction-not-allowed", "changes.score"),
    "correct-who-recorded": (correct_who_recorded, "correction-not-allowed", "changes.actor"),
    "reopen-an-open-case": (reopen_an_open_case, "case-already-open", None),
}


@pytest.mark.parametrize("rule", RULES.values(), ids=RULES.keys())
async def test_a_broken_rule_is_409_with_its_own_problem_type_and_writes_nothing(
    client: Client, auth: TokenFactory, rule: tuple[Scenario, str, str | None]
) -> None:
    scenario, problem_type, field = rule
    write = await prepare(client, auth, "goals")
    route, body = await scenario(write)
    before = await write.state()
    response = await client.post(f"/cases/{write.case_id}/{route}", json=body, headers=write.headers)
    problem = assert_problem(response, 409, f"/problems/{problem_type}")
    assert problem["title"]
    assert problem.get("field") == field
    assert problem["instance"] == f"/cases/{write.case_id}/{route}"
    assert await write.state() == before


@pytest.mark.parametrize("name", each_route([r for r in WRITE_ROUTES if r != "reopening"]))
async def test_a_closed_case_refuses_every_write_with_409_case_closed(
    client: Client, auth: TokenFactory, name: str
) -> None:
    write = await prepare(client, auth, name)
    await write.entry("closure", {"reason": "transferred"})
    before = await write.state()
    problem = assert_problem(await write.send(), 409, "/problems/case-closed")
    assert "reopen" in problem["detail"]
    assert await write.state() == before


async def test_a_reopened_case_takes_entries_again(client: Client, auth: TokenFactory) -> None:
    write = await prepare(client, auth, "reopening")
    assert (await write.send()).status_code == 201
    assert (
        await write.client.post(f"/cases/{write.case_id}/goals", json=GOAL, headers=write.headers)
    ).status_code == 201
    assert_problem(await write.send(), 409, "/problems/case-already-open")
