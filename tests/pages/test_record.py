"""Caseload to a person's record in Chromium: header, goals, charts with their summaries and data
tables, the timeline in the order things happened (late entries marked, corrections beside the
original, statements beside what they are about, clinical text shown as text), filters, the learning
log; every view logged; a clinician outside the care team refused."""

from __future__ import annotations

import secrets

import httpx
import pytest
from playwright.sync_api import Dialog, Page, expect

from service.database import DatabaseAddress
from tests.pages.records import (
    CORRECTED,
    HOSTILE,
    ORIGINAL,
    WrittenRecord,
    wait_on_caseload,
    wait_projected,
    write_record,
)
from tests.support.databases import query
from tests.support.oidc_provider import LocalOpenIDProvider
from tests.support.pages import ConsoleErrors, Served, assert_accessible
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.slow  # drives Chromium through the record pages: seconds a test

CLINICIAN = f"c-record-{secrets.token_hex(4)}"
PERSON = f"P-rec-{secrets.token_hex(3)}"


@pytest.fixture(scope="module")
def written(served: Served, auth: TokenFactory) -> WrittenRecord:
    """One person's record, on the caseload of CLINICIAN."""
    with served.api(auth("clinician", CLINICIAN)) as api:
        record = write_record(api, PERSON)
        wait_projected(api, record.case_id, record.position)
    with httpx.Client(base_url=served.url) as browser:
        token = browser.get("/app/sign-in").text.split('name="csrf_token" value="')[1].split('"')[0]
        browser.post("/app/sign-in/demo", data={"user": "demo-governance", "csrf_token": token})
        wait_on_caseload(lambda: browser.get("/app/", params={"q": PERSON}).text, PERSON)
    return record


def sign_in(page: Page, provider: LocalOpenIDProvider, user: str, role: str = "clinician") -> None:
    """Sign in through the local OpenID provider."""
    provider.sign_in_as(user, role, name=user)
    page.goto("/app/sign-in")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("header")).to_contain_text(user)


def test_caseload_to_record_shows_the_whole_record(
    page: Page, oidc_provider: LocalOpenIDProvider, written: WrittenRecord
) -> None:
    sign_in(page, oidc_provider, CLINICIAN)
    row = page.get_by_role("row").filter(has_text=PERSON)
    expect(row).to_contain_text("Stability and self-management: reliable improvement")
    assert_accessible(page)
    row.get_by_role("link", name=PERSON).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(PERSON)
    expect(page.get_by_role("heading", name="go to the shops on my own")).to_be_visible()
    expect(page.get_by_text("bus with support: not yet reached")).to_be_visible()
    chart = page.locator("figure.waymark-chart").filter(
        has=page.locator("#chart-stability_self_management-title")
    )
    summary = (
        "Reliably improved since baseline; trend +3.0 per 90 days, interval 3.0 to 3.0, "
        "6 readings over 150 days."
    )
    expect(chart.locator("p").first).to_have_text(summary)
    expect(chart.locator("a[href^='#entry-']")).to_have_count(3)  # setback, escalation, plan change
    expect(page.locator("#chart-phq9-title")).to_be_visible()
    assert_accessible(page)


def test_the_timeline_marks_late_entries_and_shows_corrections_and_statements_beside_the_original(
    page: Page, oidc_provider: LocalOpenIDProvider, written: WrittenRecord
) -> None:
    sign_in(page, oidc_provider, CLINICIAN)
    page.goto(f"/app/cases/{written.case_id}")
    review = page.locator(f"#entry-{written.corrected_review}")
    expect(review.locator("del")).to_contain_text(ORIGINAL)
    expect(review.locator("ins")).to_contain_text(CORRECTED)
    expect(review).to_contain_text("Reason: wrong words noted")
    expect(review.locator("blockquote")).to_contain_text("I was not asked about the bus")
    expect(review).to_contain_text("What feels easier now than three months ago")
    late = page.locator(f"#entry-{written.late_entry}")
    expect(late).to_contain_text("Late entry")
    expect(late).to_contain_text("Happened")
    expect(late).to_contain_text("Recorded")
    # Newest first by when things happened: the oldest review comes after the newer ones.
    order = page.locator("ol.waymark-timeline > li").evaluate_all("items => items.map(i => i.id)")
    assert order.index(f"entry-{written.review_ids[-1]}") < order.index(f"entry-{written.review_ids[0]}")


def test_clinical_text_that_looks_like_script_or_sql_is_shown_as_text(
    page: Page, oidc_provider: LocalOpenIDProvider, written: WrittenRecord
) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    sign_in(page, oidc_provider, CLINICIAN)
    page.goto(f"/app/cases/{written.case_id}")
    expect(page.locator(f"#entry-{written.review_ids[1]}")).to_contain_text(HOSTILE)
    assert dialogs == []
    assert page.locator("script:not([src])").count() == 0


def test_the_timeline_filters_by_kind_and_domain(
    page: Page, oidc_provider: LocalOpenIDProvider, written: WrittenRecord
) -> None:
    sign_in(page, oidc_provider, CLINICIAN)
    page.goto(f"/app/cases/{written.case_id}")
    page.get_by_label("Kind of entry").select_option("setback_recorded")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("ol.waymark-timeline > li")).to_have_count(1)
    expect(page.locator(f"#entry-{written.setback_id}")).to_be_visible()
    page.get_by_label("Kind of entry").select_option("")
    page.get_by_label("Domain").select_option("connection_participation")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("ol.waymark-timeline > li")).to_have_count(7)  # the opening and six reviews
    assert_accessible(page)


def test_the_learning_log_page_shows_what_each_setback_led_to(
    page: Page, oidc_provider: LocalOpenIDProvider, written: WrittenRecord
) -> None:
    sign_in(page, oidc_provider, CLINICIAN)
    page.goto(f"/app/cases/{written.case_id}")
    page.get_by_role("link", name="Learning log").click()
    setback = page.locator("section").filter(has_text="Setback on")
    expect(setback).to_contain_text("early signs show in sleep")
    expect(setback).to_contain_text("Plan change after 5.0 days")
    expect(page.locator("section").filter(has_text="Escalation on")).to_contain_text(
        "No decision names it yet."
    )
    assert_accessible(page)


def test_every_page_view_of_a_record_is_logged_and_an_outsider_is_refused(
    page: Page,
    oidc_provider: LocalOpenIDProvider,
    written: WrittenRecord,
    database: DatabaseAddress,
    console_errors: ConsoleErrors,
) -> None:
    views = (
        "SELECT view, role FROM case_record_views WHERE actor_id = %s AND case_id = %s"
        " AND outcome = 'served' ORDER BY view_id"
    )
    refused = views.replace("'served'", "'refused'")
    outsider = f"c-outsider-{secrets.token_hex(4)}"
    sign_in(page, oidc_provider, outsider)
    console_errors.allow_status(403)
    page.goto(f"/app/cases/{written.case_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot open this record")
    expect(page.get_by_text(HOSTILE)).to_have_count(0)
    page.goto(f"/app/cases/{written.case_id}/learning-log")
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot open this record")
    assert query(database, views, (outsider, written.case_id)) == []
    assert [row["view"] for row in query(database, refused, (outsider, written.case_id))] == [
        "record-page",
        "learning-log-page",
    ]
    before = len(query(database, views, (CLINICIAN, written.case_id)))
    sign_in(page, oidc_provider, CLINICIAN)
    page.goto(f"/app/cases/{written.case_id}")
    page.goto(f"/app/cases/{written.case_id}/learning-log")
    logged = query(database, views, (CLINICIAN, written.case_id))[before:]
    assert logged == [
        {"view": "record-page", "role": "clinician"},
        {"view": "learning-log-page", "role": "clinician"},
    ]
