"""Helpers for the API tests: valid bodies for every entry kind, a case prepared so each write route
can be called, and checks for problem responses and for "nothing was written"."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from _pytest.mark import ParameterSet
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.support.tokens import TokenFactory

Client = AsyncTestClient[Litestar]
Body = dict[str, Any]
PROBLEM = "application/problem+json"
DOMAIN = "stability_self_management"
OTHER_DOMAIN = "connection_participation"
NOT_IN_CASE = "crisis_pattern_reduction"


def user(prefix: str = "c") -> str:
    """A user id of its own, so idempotency keys and care teams never collide between tests."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def opening(**overrides: Any) -> Body:
    """A body for POST /cases."""
    return {
        "person_ref": "P-api",
        "service": "north",
        "opened_on": (date.today() - timedelta(days=30)).isoformat(),
        "care_team": [],
        "domains": [DOMAIN, OTHER_DOMAIN],
        **overrides,
    }


async def open_case(client: Client | httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> str:
    """Open a case and return its id."""
    response = await client.post("/cases", json=opening(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["case_id"])


async def post(client: Client, headers: dict[str, str], path: str, body: Body) -> Body:
    """POST a body that must be accepted; return the receipt."""
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    receipt: Body = response.json()
    return receipt


def assert_problem(response: httpx.Response, status: int, type_: str | None = None) -> Body:
    """An RFC 9457 problem response with this status (and problem type); returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: Body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if type_ is not None:
        assert body["type"] == type_, body
    return body


GOAL = {"domain": DOMAIN, "in_own_words": "go to the shops on my own"}
REVIEW = {
    "kind": "routine",
    "ratings": {DOMAIN: 6},
    "confidence": 5,
    "autonomy": 4,
    "easier_now": "mornings",
    "most_difficult": "crowds",
    "helpful_strategies": "planning the route",
    "next_step": "bus with support",
}
MEASURE = {"instrument": "phq9", "items": [1, 1, 1, 1, 1, 1, 1, 1, 1]}
SETBACK = {
    "domains": [DOMAIN],
    "what_happened": "stopped going out for a week",
    "contributing_factors": ["isolation", "housing"],
    "risk_management": "daily calls",
    "learning": "early signs show in sleep",
    "adaptation": "mid-week call",
}
ESCALATION = {
    "severity": 2,
    "trigger": "anniversary",
    "response": "same-day visit",
    "escalation_plan_used_early": True,
}
STATEMENT = {"text": "I see it differently", "made_by": "person"}
STORY = {
    "story": "I go to the allotment on Tuesdays now; in spring I could not leave the flat.",
    "consent_given_by": "person",
    "de_identified": True,
    "consent_note": "read back and agreed",
}
ESCALATION_PLAN = {
    "early_signs": ["sleeping less", "not answering texts"],
    "what_helps": ["a walk with my sister"],
    "contacts": ["keyworker via the team line", "crisis team out of hours"],
    "person_has_copy": True,
    "shared_with": ["GP"],
}


@dataclass
class Writer:
    """Posts prerequisite entries to one case."""

    client: Client
    headers: dict[str, str]
    case_id: str

    async def post(self, route: str, body: Body) -> str:
        return str(
            (await post(self.client, self.headers, f"/cases/{self.case_id}/{route}", body))["entry_id"]
        )


async def _nothing(_: Writer) -> dict[str, str]:
    return {}


async def _goal(w: Writer) -> dict[str, str]:
    return {"goal": await w.post("goals", GOAL)}


async def _milestone(w: Writer) -> dict[str, str]:
    ids = await _goal(w)
    ids["milestone"] = await w.post("milestones", {"goal_id": ids["goal"], "description": "corner shop"})
    return ids


async def _escalation(w: Writer) -> dict[str, str]:
    return {"escalation": await w.post("escalations", ESCALATION)}


async def _review(w: Writer) -> dict[str, str]:
    return {"review": await w.post("reviews", REVIEW)}


async def _story(w: Writer) -> dict[str, str]:
    return {"story": await w.post("stories", STORY)}


async def _closed(w: Writer) -> dict[str, str]:
    return {"closure": await w.post("closure", {"reason": "transferred"})}


@dataclass(frozen=True)
class EntryRoute:
    """A POST route under /cases/{case_id}/, the entry type it records, a valid body, and what it needs."""

    path: str
    type: str
    body: Callable[[dict[str, str]], Body]
    needs: Callable[[Writer], Awaitable[dict[str, str]]] = _nothing


ENTRY_ROUTES: dict[str, EntryRoute] = {
    "goals": EntryRoute("goals", "goal_set", lambda _: GOAL),
    "goals/revisions": EntryRoute(
        "goals/{goal}/revisions",
        "goal_revised",
        lambda _: {"reason": "her own words changed", "achievement": "improving"},
        _goal,
    ),
    "milestones": EntryRoute(
        "milestones",
        "milestone_added",
        lambda ids: {"goal_id": ids["goal"], "description": "bus to town", "target_on": "2030-01-31"},
        _goal,
    ),
    "milestones/reached": EntryRoute(
        "milestones/{milestone}/reached",
        "milestone_reached",
        lambda _: {"evidence": "went twice"},
        _milestone,
    ),
    "reviews": EntryRoute("reviews", "review_recorded", lambda _: REVIEW),
    "measures": EntryRoute("measures", "measure_recorded", lambda _: MEASURE),
    "setbacks": EntryRoute("setbacks", "setback_recorded", lambda _: SETBACK),
    "escalations": EntryRoute("escalations", "escalation_raised", lambda _: ESCALATION),
    "escalations/resolution": EntryRoute(
        "escalations/{escalation}/resolution",
        "escalation_resolved",
        lambda _: {"resolution": "settled after the visit"},
        _escalation,
    ),
    "escalation-plans": EntryRoute("escalation-plans", "escalation_plan_agreed", lambda _: ESCALATION_PLAN),
    "plan-changes": EntryRoute(
        "plan-changes",
        "plan_changed",
        lambda ids: {
            "rationale": "more support after the review",
            "because_of": [ids["review"]],
            "support_hours_per_week": 6,
            "strategies_added": ["walking group"],
        },
        _review,
    ),
    "plan-confirmations": EntryRoute(
        "plan-confirmations",
        "plan_confirmed",
        lambda ids: {"rationale": "no change, because it works", "because_of": [ids["review"]]},
        _review,
    ),
    "corrections": EntryRoute(
        "corrections",
        "entry_corrected",
        lambda ids: {"corrects": ids["goal"], "reason": "misheard", "changes": {"in_own_words": "go out"}},
        _goal,
    ),
    "statements": EntryRoute(
        "statements", "statement_added", lambda ids: {**STATEMENT, "about": [ids["review"]]}, _review
    ),
    "stories": EntryRoute("stories", "story_agreed", lambda _: STORY),
    "stories/consent-withdrawal": EntryRoute(
        "stories/{story}/consent-withdrawal",
        "story_consent_withdrawn",
        lambda _: {"withdrawn_by": "person"},
        _story,
    ),
    "closure": EntryRoute("closure", "case_closed", lambda _: {"reason": "goals_met"}),
    "reopening": EntryRoute("reopening", "case_reopened", lambda _: {"reason": "re-referral"}, _closed),
}
CARE_TEAM = "care-team"
WRITE_ROUTES = [*ENTRY_ROUTES, CARE_TEAM]
"""Every write to an existing case: the entry routes (clinician) and the care team (admin)."""
FAST_TIER_ROUTES = frozenset({"reviews", "corrections", CARE_TEAM, "open"})
"""The routes a route-by-route check of a cross-cutting rule (tokens, malformed bodies, dates, If-Match)
runs on in the fast tier: a plain entry, an entry that refers to another, the admin's care team, and
opening a case. The rules are enforced once for every route, so these find a broken rule quickly;
the whole suite (the README's command, .ci/run) still checks every route."""


def each_route(names: Iterable[str]) -> list[ParameterSet]:
    """Route names as test parameters, those outside FAST_TIER_ROUTES marked ``slow``."""
    return [pytest.param(name, marks=() if name in FAST_TIER_ROUTES else pytest.mark.slow) for name in names]


@dataclass
class PreparedWrite:
    """A case made ready for one write route: the request that would succeed, and ways to inspect it."""

    client: Client
    auth: TokenFactory
    case_id: str
    clinician: dict[str, str]
    method: str
    path: str
    body: Body
    headers: dict[str, str]
    author_id: str
    reader: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.reader = self.auth("governance", user("g"))

    async def send(
        self,
        *,
        body: Body | None = None,
        content: bytes | None = None,
        extra: dict[str, str] | None = None,
        author: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send the write as its author (or ``author``), with ``extra`` headers; ``content`` is sent raw."""
        headers = {**(self.headers if author is None else author), **(extra or {})}
        if content is not None:
            return await self.client.request(self.method, self.path, content=content, headers=headers)
        return await self.client.request(
            self.method, self.path, json=self.body if body is None else body, headers=headers
        )

    async def state(self) -> tuple[int, int]:
        """The case's version and the length of its history, read by governance."""
        return await record_state(self.client, self.reader, self.case_id)

    async def entry(self, route: str, body: Body) -> str:
        """Post another entry to the case, as its clinician."""
        return await Writer(self.client, self.clinician, self.case_id).post(route, body)


async def prepare(client: Client, auth: TokenFactory, name: str) -> PreparedWrite:
    """Open a case and post whatever the write route ``name`` needs first."""
    clinician_id = user()
    clinician = auth("clinician", clinician_id)
    case_id = await open_case(client, clinician)
    if name == CARE_TEAM:
        admin_id = user("a")
        body = {"care_team": [user(), user()], "reason": "keyworker changed"}
        path = f"/cases/{case_id}/care-team"
        headers = auth("admin", admin_id)
        return PreparedWrite(client, auth, case_id, clinician, "PUT", path, body, headers, admin_id)
    route = ENTRY_ROUTES[name]
    ids = await route.needs(Writer(client, clinician, case_id))
    path = f"/cases/{case_id}/{route.path.format(**ids)}"
    return PreparedWrite(
        client, auth, case_id, clinician, "POST", path, route.body(ids), clinician, clinician_id
    )


async def history(client: Client, headers: dict[str, str], case_id: str) -> list[Body]:
    """Every entry of a case, in order."""
    response = await client.get(f"/cases/{case_id}/history?limit=500&purpose=audit", headers=headers)
    assert response.status_code == 200, response.text
    items: list[Body] = response.json()["items"]
    return items


async def record_state(client: Client, headers: dict[str, str], case_id: str) -> tuple[int, int]:
    """A case's version (its last entry's) and the length of its history, in one read."""
    items = await history(client, headers, case_id)
    return int(items[-1]["version"]), len(items)
