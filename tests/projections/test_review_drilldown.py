"""The review drill-down (GET /service/reviews): every review in a period a page at a time, filtered,
with what followed each, what changed and how domain ratings moved around the first decision."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.helpers import DOMAIN, OTHER_DOMAIN, Client, assert_problem
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.usefixtures("projector")  # its tests read projections

NOW = datetime.now(UTC).replace(microsecond=0)


def ago(days: float) -> str:
    """A time so many days before the test started, RFC 3339."""
    return (NOW - timedelta(days=days)).isoformat()


class Story:
    """A case in a service of its own with four reviews and the decisions that named them."""

    def __init__(self, client: Client, auth: TokenFactory) -> None:
        self.client, self.service = client, f"svc-{uuid.uuid4().hex[:8]}"
        self.lead, self.other = f"dl-{uuid.uuid4().hex[:6]}", f"dl-{uuid.uuid4().hex[:6]}"
        self.headers = {who: auth("clinician", who) for who in (self.lead, self.other)}
        self.ids: dict[str, str] = {}
        self.position = 0

    async def post(self, who: str, path: str, body: dict[str, Any]) -> str:
        response = await self.client.post(
            f"/cases/{self.case_id}/{path}", json=body, headers=self.headers[who]
        )
        assert response.status_code == 201, response.text
        self.position = response.json()["position"]
        return str(response.json()["entry_id"])

    async def review(self, name: str, who: str, days: int, kind: str, ratings: dict[str, int]) -> None:
        body = {"kind": kind, "ratings": ratings, "confidence": 5, "autonomy": 5, "occurred_at": ago(days)}
        self.ids[name] = await self.post(who, "reviews", body)

    async def open(self, days_ago: int = 300) -> None:
        """Open the case ``days_ago`` days back, with both clinicians on its care team."""
        opening = {
            "person_ref": "P-drill",
            "service": self.service,
            "opened_on": (NOW.date() - timedelta(days=days_ago)).isoformat(),
            "care_team": [self.lead, self.other],
            "domains": [DOMAIN],
        }
        opened = await self.client.post("/cases", json=opening, headers=self.headers[self.lead])
        assert opened.status_code == 201, opened.text
        self.case_id, self.position = opened.json()["case_id"], opened.json()["position"]

    async def write(self) -> None:
        """Reviews a (120 days ago), d (60), b (30) and c (10) and the decisions naming a, d and b."""
        await self.open()
        await self.review("a", self.lead, 120, "routine", {DOMAIN: 4})
        change = {"rationale": "more support", "support_hours_per_week": 3, "strategies_added": ["walk"]}
        change |= {"domains_added": [OTHER_DOMAIN], "because_of": [self.ids["a"]], "occurred_at": ago(110)}
        self.ids["a-change"] = await self.post(self.lead, "plan-changes", change)
        await self.review("d", self.lead, 60, "supervision", {DOMAIN: 6})
        confirm = {"rationale": "no change, because it works", "because_of": [self.ids["d"]]}
        self.ids["d-confirm"] = await self.post(
            self.lead, "plan-confirmations", confirm | {"occurred_at": ago(58)}
        )
        await self.review("b", self.other, 30, "mdt", {DOMAIN: 7})
        change = {"rationale": "step up", "support_hours_per_week": 5, "strategies_removed": ["walk"]}
        change |= {"because_of": [self.ids["b"]], "occurred_at": ago(25)}
        self.ids["b-change"] = await self.post(self.other, "plan-changes", change)
        await self.review("c", self.lead, 10, "routine", {DOMAIN: 8, OTHER_DOMAIN: 3})

    def url(self, **filters: str | int) -> str:
        query = {
            "from": ago(200),
            "to": ago(-1),
            "service": self.service,
            "min_position": self.position,
            "purpose": "audit",
        }
        return "/service/reviews?" + "&".join(f"{k}={v}" for k, v in (query | filters).items()).replace(
            "+", "%2B"
        )


async def _pages(client: Client, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    reviews: list[dict[str, Any]] = []
    after = ""
    while True:
        response = await client.get(url + after, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        reviews += page["reviews"]
        if page["next_after"] is None:
            return reviews
        after = f"&after={page['next_after']}"


async def test_pages_walk_every_review_newest_first_with_what_followed(
    client: Client, auth: TokenFactory
) -> None:
    story = Story(client, auth)
    await story.write()
    governance = auth("governance", "dl-g")
    reviews = await _pages(client, story.url(limit=1), governance)
    by_name = {name: story.ids[name] for name in "abcd"}
    assert [r["entry_id"] for r in reviews] == [by_name[n] for n in "cbda"]
    a, d, b, c = (next(r for r in reviews if r["entry_id"] == by_name[n]) for n in "adbc")
    assert (a["outcome"], d["outcome"], b["outcome"], c["outcome"]) == (
        "plan changed",
        "plan confirmed",
        "plan changed",
        "awaiting decision",
    )
    assert (a["days_to_first_decision"], d["days_to_first_decision"], c["days_to_first_decision"]) == (
        10,
        2,
        None,
    )
    assert (b["reviewer"], b["kind"], b["person_ref"]) == (story.other, "mdt", "P-drill")
    [a_change] = a["decisions"]
    assert a_change["entry_id"] == story.ids["a-change"]
    assert (a_change["support_hours_before"], a_change["support_hours_after"]) == (None, 3)
    assert (a_change["strategies_added"], a_change["domains_added"]) == (["walk"], [OTHER_DOMAIN])
    [d_confirm] = d["decisions"]
    assert (d_confirm["kind"], d_confirm["rationale"]) == ("plan_confirmed", "no change, because it works")
    assert (d_confirm["support_hours_before"], d_confirm["support_hours_after"]) == (3, 3)
    [b_change] = b["decisions"]
    assert (b_change["support_hours_before"], b_change["support_hours_after"]) == (3, 5)
    assert b_change["strategies_removed"] == ["walk"]


def _moved(review: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        m["domain"]: (
            m["before_mean"],
            m["before_n"],
            m["after_mean"],
            m["after_n"],
            m["change"],
            m["status"],
        )
        for m in review["domains"]
    }


async def test_domain_ratings_90_days_after_the_decision_against_the_90_before(
    client: Client, auth: TokenFactory
) -> None:
    story = Story(client, auth)
    await story.write()
    reviews = await _pages(client, story.url(), auth("governance", "dl-g"))
    moved = {r["entry_id"]: _moved(r) for r in reviews}
    # a's change 110 days ago: before, a (4); after (to 20 days ago), d (6) and b (7).
    assert moved[story.ids["a"]] == {DOMAIN: (4, 1, 6.5, 2, 2.5, "rated higher")}
    # b's change 25 days ago: before, d and b; after, c, which also rated the domain added later.
    assert moved[story.ids["b"]] == {
        DOMAIN: (6.5, 2, 8, 1, 1.5, "rated higher"),
        OTHER_DOMAIN: (None, 0, 3, 1, None, "not enough readings"),
    }
    assert moved[story.ids["c"]] == {}  # no decision yet: nothing to compare around


async def test_filters_narrow_the_reviews(client: Client, auth: TokenFactory) -> None:
    story = Story(client, auth)
    await story.write()
    governance = auth("governance", "dl-g")

    async def names(**filters: str | int) -> list[str]:
        reviews = await _pages(client, story.url(**filters), governance)
        found = {v: k for k, v in story.ids.items()}
        return [found[r["entry_id"]] for r in reviews]

    assert await names(kind="mdt") == ["b"]
    assert await names(reviewer=story.lead) == ["c", "d", "a"]
    assert await names(led_to="change") == ["b", "a"]
    assert await names(led_to="action") == ["b", "d", "a"]
    assert await names(led_to="no-action") == ["c"]
    assert await names(led_to="no-decision") == []  # c is 10 days old: not yet overdue
    assert await names(care_team_member=story.other) == ["c", "b", "d", "a"]
    assert await names(care_team_member="nobody-here") == []
    assert await names(**{"from": ago(40)}) == ["c", "b"]


async def test_only_governance_drills_down_and_a_bad_cursor_is_named(
    client: Client, auth: TokenFactory
) -> None:
    story = Story(client, auth)
    story.position = 1
    for role in ("clinician", "reporting", "admin"):  # an admin reads no clinical content (rationales)
        response = await client.get(story.url(), headers=auth(role, "dl-x"))
        assert_problem(response, 403)
    response = await client.get(story.url(after="bm90LWEtY3Vyc29y"), headers=auth("governance", "dl-g"))
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["after"]
