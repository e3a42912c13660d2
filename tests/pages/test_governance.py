"""Governance pages and the caseload's action list, in Chromium: drill from a figure to the reviews
behind it and on to the person's record (a logged read); an overdue review is listed on the caseload
and leaves only when a review is recorded."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from service.database import DatabaseAddress
from service.pages.governance import CASES_PER_ACTION_PAGE
from tests.api.helpers import DOMAIN
from tests.pages.test_record import sign_in
from tests.support.databases import query
from tests.support.oidc_provider import LocalOpenIDProvider
from tests.support.pages import DESKTOP, PHONE, ConsoleErrors, Served, assert_accessible
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.slow  # drives Chromium through the governance pages: seconds a test

REVIEW = {"kind": "mdt", "ratings": {DOMAIN: 6}, "confidence": 5, "autonomy": 5}


def _open(api: httpx.Client, person_ref: str, service: str, opened_days_ago: int) -> str:
    body = {
        "person_ref": person_ref,
        "service": service,
        "opened_on": (date.today() - timedelta(days=opened_days_ago)).isoformat(),
        "care_team": [],
        "domains": [DOMAIN],
    }
    opened = api.post("/cases", json=body)
    assert opened.status_code == 201, opened.text
    return str(opened.json()["case_id"])


def _post(api: httpx.Client, path: str, body: Mapping[str, object]) -> dict[str, object]:
    answer = api.post(path, json=body)
    assert answer.status_code == 201, answer.text
    written: dict[str, object] = answer.json()
    return written


def _reload_until(page: Page, done: object, seconds: float = 10) -> None:
    """Reload until ``done()`` (the projections catch up in the background; pages have no wait)."""
    deadline = time.monotonic() + seconds
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the page never caught up"
        time.sleep(0.2)
        page.reload()


@dataclass(frozen=True)
class Reviewed:
    """A case in a service of its own, reviewed 3 days ago and its plan changed for it, projected."""

    service: str
    person: str
    case_id: str


def _reviewed(served: Served, auth: TokenFactory) -> Reviewed:
    service, person = f"svc-{secrets.token_hex(4)}", f"P-gov-{secrets.token_hex(3)}"
    with served.api(auth("clinician", f"c-gov-{secrets.token_hex(4)}")) as api:
        case_id = _open(api, person, service, 60)
        at = datetime.now(UTC) - timedelta(days=3)
        review = _post(api, f"/cases/{case_id}/reviews", REVIEW | {"occurred_at": at.isoformat()})
        change = {
            "rationale": "a weekly walk",
            "support_hours_per_week": 3,
            "strategies_added": ["walk"],
            "because_of": [review["entry_id"]],
        }
        written = _post(api, f"/cases/{case_id}/plan-changes", change)
    with served.api(auth("governance", "g-wait")) as governance:  # wait until the projections have it
        period = {"from": (at - timedelta(days=1)).isoformat(), "to": datetime.now(UTC).isoformat()}
        waited = governance.get(
            "/service/reviews",
            params=period
            | {"service": service, "min_position": str(written["position"]), "purpose": "audit"},
        )
        assert waited.status_code == 200, waited.text
    return Reviewed(service, person, case_id)


def test_drill_from_a_figure_to_a_review_to_the_record(
    page: Page,
    oidc_provider: LocalOpenIDProvider,
    served: Served,
    auth: TokenFactory,
    database: DatabaseAddress,
) -> None:
    reviewed = _reviewed(served, auth)
    service, person, case_id = reviewed.service, reviewed.person, reviewed.case_id
    lead = f"g-{secrets.token_hex(4)}"
    sign_in(page, oidc_provider, lead, "governance")
    page.goto(f"/app/governance?service={service}")
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(f"led to action, {service}")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Reviews in {service}")
    card = page.locator(".waymark-review").filter(has_text=person)
    expect(card).to_contain_text("Outcome: plan changed")
    expect(card).to_contain_text("Strategies added: walk")
    assert_accessible(page)
    card.get_by_role("link", name=f"Open {person}'s record").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Why are you opening this record?")
    assert_accessible(page)
    page.get_by_label("An incident review").check()
    page.get_by_role("button", name="Open the record").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(person)
    views = (
        "SELECT view, role, purpose FROM case_record_views"
        " WHERE actor_id = %s AND case_id = %s AND view NOT LIKE 'list %%'"
    )
    assert query(database, views, (lead, case_id)) == [
        {"view": "record-page", "role": "governance", "purpose": "incident_review"}
    ]


def test_an_overdue_review_is_on_the_caseload_until_a_review_is_recorded(
    page: Page, oidc_provider: LocalOpenIDProvider, served: Served, auth: TokenFactory
) -> None:
    clinician, person = f"c-due-{secrets.token_hex(4)}", f"P-due-{secrets.token_hex(3)}"
    with served.api(auth("clinician", clinician)) as api:
        case_id = _open(api, person, "north", 120)  # never reviewed: due 36 days ago
    sign_in(page, oidc_provider, clinician)
    overdue = page.locator(".waymark-actions li").filter(has_text="Review overdue").filter(has_text=person)
    _reload_until(page, lambda: overdue.count() == 1)
    assert_accessible(page)
    with served.api(auth("clinician", clinician)) as api:
        _post(api, f"/cases/{case_id}/reviews", REVIEW)
    _reload_until(page, lambda: overdue.count() == 0)
    expect(page.get_by_role("link", name=person)).to_have_count(1)  # still on the caseload itself


def test_the_action_list_on_the_governance_page_pages_by_case(
    page: Page, oidc_provider: LocalOpenIDProvider, served: Served, auth: TokenFactory
) -> None:
    service = f"svc-{secrets.token_hex(4)}"
    people = [f"P-page-{i:02d}-{secrets.token_hex(2)}" for i in range(CASES_PER_ACTION_PAGE + 1)]
    with served.api(auth("clinician", f"c-page-{secrets.token_hex(4)}")) as api:
        cases = {_open(api, person, service, 120): person for person in people}  # each overdue
    first_page = sorted(cases)[:CASES_PER_ACTION_PAGE]  # a page is cases in case id order
    last = cases[sorted(cases)[-1]]
    sign_in(page, oidc_provider, f"g-{secrets.token_hex(4)}", "governance")
    page.goto(f"/app/governance?service={service}")
    listed = page.locator(".waymark-actions li")
    _reload_until(page, lambda: listed.count() == CASES_PER_ACTION_PAGE)
    expect(listed.filter(has_text=last)).to_have_count(0)
    for case_id in first_page:
        expect(listed.filter(has_text=cases[case_id])).to_have_count(1)
    page.get_by_role("link", name="Next page of the action list").click()
    expect(listed).to_have_count(1)
    expect(listed.filter(has_text=last)).to_contain_text("Review overdue")
    expect(page.get_by_role("link", name="Next page of the action list")).to_have_count(0)


@pytest.mark.parametrize(("width", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_governance_pages_are_accessible_and_photographed(
    *,
    browser: Browser,
    served: Served,
    oidc_provider: LocalOpenIDProvider,
    auth: TokenFactory,
    tmp_path: Path,
    width: str,
    viewport: ViewportSize,
) -> None:
    """At both widths; kept in WAYMARK_SCREENSHOTS (docs/screenshots) when set, as the other pages are."""
    reviewed = _reviewed(served, auth)
    context = browser.new_context(base_url=served.url, viewport=viewport)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, oidc_provider, f"g-{secrets.token_hex(4)}", "governance")
    keep = os.environ.get("WAYMARK_SCREENSHOTS")
    for name, address in (
        ("governance", f"/app/governance?service={reviewed.service}"),
        ("governance-reviews", f"/app/governance/reviews?service={reviewed.service}"),
    ):
        page.goto(address)
        expect(page.locator("main h1")).to_be_visible()
        assert_accessible(page)
        shot = tmp_path / f"{name}-{width}.png"
        page.screenshot(path=shot, full_page=True)
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(keep) / shot.name)
    context.close()
    assert errors == []


def test_a_clinician_cannot_open_the_governance_pages(
    page: Page, oidc_provider: LocalOpenIDProvider, console_errors: ConsoleErrors
) -> None:
    console_errors.allow_status(403)
    sign_in(page, oidc_provider, f"c-{secrets.token_hex(4)}")
    for address in ("/app/governance", "/app/governance/reviews"):
        response = page.goto(address)
        assert response is not None
        assert response.status == 403


def test_time_to_action_on_the_page_equals_the_api_for_a_stalled_domain(
    page: Page, oidc_provider: LocalOpenIDProvider, served: Served, auth: TokenFactory
) -> None:
    """A domain worsening 8, 7, 5 is flagged at its third review; a decision names that review 10
    days later: the page's row for it shows the API's figures, the new column included."""
    service, now = f"svc-{secrets.token_hex(4)}", datetime.now(UTC)
    with served.api(auth("clinician", f"c-stall-{secrets.token_hex(4)}")) as api:
        case_id = _open(api, f"P-stall-{secrets.token_hex(3)}", service, 300)
        reviews = {}
        for days, rating in ((200, 8), (150, 7), (100, 5)):
            at = (now - timedelta(days=days)).isoformat()
            body = REVIEW | {"ratings": {DOMAIN: rating}, "occurred_at": at}
            reviews[days] = _post(api, f"/cases/{case_id}/reviews", body)["entry_id"]
        confirm = {"rationale": "no change, because", "because_of": [reviews[100]]}
        written = _post(
            api,
            f"/cases/{case_id}/plan-confirmations",
            confirm | {"occurred_at": (now - timedelta(days=90)).isoformat()},
        )
    first, last = now.date() - timedelta(days=365), now.date()
    period = {"from": first.isoformat(), "to": last.isoformat()}  # the page's whole days
    with served.api(auth("governance", "g-stall")) as governance:
        times = {
            "from": datetime.combine(first, datetime.min.time(), UTC).isoformat(),
            "to": datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC).isoformat(),
        }
        answer = governance.get(
            "/service/time-to-action",
            params=times | {"service": service, "min_position": str(written["position"])},
        )
        assert answer.status_code == 200, answer.text
    (figures,) = [f for f in answer.json() if f["kind"] == "stalled or worsening"]
    assert (figures["flagged"], figures["actioned"], figures["median_days_to_action"]) == (1, 1, 10.0)
    sign_in(page, oidc_provider, f"g-{secrets.token_hex(4)}", "governance")
    page.goto(f"/app/governance?{urlencode(period | {'service': service})}")
    row = page.locator("tr").filter(has_text="Stalled or worsening")
    expect(row).to_have_count(1)
    cells = [" ".join((text or "").split()) for text in row.locator("td").all_text_contents()]
    assert cells[3:] == [
        f"Flagged {figures['flagged']}",
        f"Actioned {figures['actioned']}",
        f"Still open {figures['still_open']}",
        f"Ended without action {figures['ended_without_action']}",
        f"Median days to action {figures['median_days_to_action']}",
        f"Actioned within 28 days {figures['actioned_within_28_days']}"
        f" ({figures['share_within_28_days'] * 100:.0f}%)",
    ]
