"""Recording a review and its decision from the pages, through the API's write path and rules: both
appear in the timeline; a broken rule shows next to its field; a stale form says so and keeps what was
typed; a clinician outside the care team cannot open the form."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.api.helpers import DOMAIN, OTHER_DOMAIN
from tests.pages.records import HOSTILE, OPENED
from tests.pages.test_record import sign_in
from tests.support.oidc_provider import LocalOpenIDProvider
from tests.support.pages import ConsoleErrors, Served, assert_accessible
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.slow  # drives Chromium through the review forms: seconds a test

CLINICIAN = f"c-forms-{secrets.token_hex(4)}"


@pytest.fixture
def case_id(served: Served, auth: TokenFactory) -> Iterator[str]:
    """A case of CLINICIAN's with two domains and a plan strategy."""
    with served.api(auth("clinician", CLINICIAN)) as api:
        body = {
            "person_ref": "P-forms",
            "service": "north",
            "opened_on": OPENED.isoformat(),
            "care_team": [],
            "domains": [DOMAIN, OTHER_DOMAIN],
        }
        opened = api.post("/cases", json=body).json()
        yield opened["case_id"]


def _fill_review(page: Page) -> None:
    page.get_by_label("MDT").check()
    page.get_by_label("What feels easier now than three months ago?").fill(HOSTILE)
    page.get_by_label("What is a realistic next step?").fill("The bus on Tuesday")
    page.get_by_label("Stability and self-management").select_option("7")
    page.get_by_label("Connection and participation").select_option("5")
    page.get_by_label("Confidence").select_option("6")
    page.get_by_label("Autonomy").select_option("4")


def test_record_a_review_and_its_decision_and_see_both_in_the_timeline(
    page: Page, oidc_provider: LocalOpenIDProvider, case_id: str
) -> None:
    sign_in(page, oidc_provider, CLINICIAN)
    page.goto(f"/app/cases/{case_id}")
    page.get_by_role("link", name="Record a review").click()
    assert_accessible(page)
    _fill_review(page)
    page.get_by_role("button", name="Record the review").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("What did the review lead to?")
    assert_accessible(page)
    page.get_by_label("No change, because ...").check()
    page.get_by_label("Why (the reason for the change, or for no change)").fill(
        "The current support is working"
    )
    page.get_by_role("button", name="Record the decision").click()
    timeline = page.locator("ol.waymark-timeline")
    decision = timeline.locator("li").filter(has_text="No change, because ...")
    expect(decision).to_contain_text("The current support is working")
    expect(decision.get_by_role("link", name="Review of")).to_be_visible()
    review = timeline.locator("li").filter(has_text="What feels easier now")
    expect(review).to_contain_text(HOSTILE)
    expect(review).to_contain_text("Stability and self-management: 7; Connection and participation: 5")
    expect(review).to_contain_text("mdt")


def test_a_broken_rule_shows_next_to_its_field_and_keeps_what_was_typed(
    page: Page, oidc_provider: LocalOpenIDProvider, case_id: str, console_errors: ConsoleErrors
) -> None:
    console_errors.allow_status(422)
    sign_in(page, oidc_provider, CLINICIAN)
    page.goto(f"/app/cases/{case_id}/reviews/new")
    _fill_review(page)
    page.get_by_label("When it took place (leave empty for today)").fill("2000-01-01")
    page.get_by_label("Confidence").select_option("")
    page.get_by_role("button", name="Record the review").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    expect(page.locator("#error-confidence")).to_contain_text("Required")
    expect(page.get_by_label("What is a realistic next step?")).to_have_value("The bus on Tuesday")
    page.get_by_label("Confidence").select_option("6")
    page.get_by_role("button", name="Record the review").click()
    expect(page.locator("#error-occurred_at")).to_contain_text("before the case was opened")
    expect(page.get_by_label("What feels easier now than three months ago?")).to_have_value(HOSTILE)
    assert_accessible(page)


def test_a_stale_form_says_so_keeps_what_was_typed_and_sends_once_checked(
    *,
    page: Page,
    oidc_provider: LocalOpenIDProvider,
    case_id: str,
    served: Served,
    auth: TokenFactory,
    console_errors: ConsoleErrors,
) -> None:
    console_errors.allow_status(409)
    sign_in(page, oidc_provider, CLINICIAN)
    page.goto(f"/app/cases/{case_id}/reviews/new")
    _fill_review(page)
    with served.api(auth("clinician", CLINICIAN)) as api:  # a colleague writes meanwhile
        goal = {"domain": DOMAIN, "in_own_words": "sleep through"}
        assert api.post(f"/cases/{case_id}/goals", json=goal).status_code == 201
    page.get_by_role("button", name="Record the review").click()
    expect(page.locator("#stale")).to_contain_text("Someone else wrote in this record")
    expect(page.get_by_label("What is a realistic next step?")).to_have_value("The bus on Tuesday")
    expect(page.get_by_label("Stability and self-management")).to_have_value("7")
    page.get_by_role("button", name="Record the review").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("What did the review lead to?")


def test_a_clinician_outside_the_care_team_cannot_open_the_form(
    page: Page, oidc_provider: LocalOpenIDProvider, case_id: str, console_errors: ConsoleErrors
) -> None:
    console_errors.allow_status(403)
    sign_in(page, oidc_provider, f"c-outsider-{secrets.token_hex(4)}")
    page.goto(f"/app/cases/{case_id}/reviews/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot open this record")
