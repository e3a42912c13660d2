"""The replay control in Chromium: "as recorded on" a day before a correction shows the original value
with a banner, and a "learned since" panel lists the correction and the late entry; a day after it shows
the corrected value; the charts are the trajectory as it stood; links carry the date; each replay is
in the access log with its time; and the whole control works without JavaScript.

The history is written through the application with recorded times in the past (the API always
records "now"), as ``waymark demo`` writes its cases."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from events.entries import CaseOpened, EntryCorrected, ReviewRecorded, StatementAdded
from events.values import Actor, OutcomeDomain, ReviewKind, Role
from service.database import DatabaseAddress
from tests.pages.records import CORRECTED, ORIGINAL
from tests.pages.test_record import sign_in
from tests.support.databases import query
from tests.support.oidc_provider import LocalOpenIDProvider
from tests.support.pages import DESKTOP, Served, assert_accessible

pytestmark = pytest.mark.slow  # drives Chromium through the replay pages: seconds a test

CLINICIAN = f"c-replay-{secrets.token_hex(4)}"
NOW = datetime.now(UTC)


def _days_ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


@dataclass(frozen=True)
class History:
    case_id: uuid.UUID
    review_id: uuid.UUID
    statement_id: uuid.UUID
    corrected_on: date


@pytest.fixture(scope="module")
def history(served: Served) -> History:
    """Opened 30 days ago; a review recorded 20 days ago; its correction recorded 5 days ago; a late
    statement recorded 3 days ago about the day 25 days ago."""
    records, actor = served.runtime.records, Actor(id=CLINICIAN, role=Role.CLINICIAN)
    case_id, review_id, statement_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def meta(recorded: int, occurred: int) -> dict[str, Any]:
        return {
            "entry_id": uuid.uuid4(),
            "case_id": case_id,
            "actor": actor,
            "recorded_at": _days_ago(recorded),
            "occurred_at": _days_ago(occurred),
        }

    domain = OutcomeDomain.STABILITY_SELF_MANAGEMENT
    records.open_case(
        CaseOpened(
            **meta(30, 30),
            person_ref="P-replay",
            service="north",
            opened_on=_days_ago(30).date(),
            care_team=(CLINICIAN,),
            domains=(domain,),
        )
    )
    records.record(
        case_id,
        ReviewRecorded(
            **{**meta(20, 20), "entry_id": review_id},
            kind=ReviewKind.ROUTINE,
            ratings={domain: 5},
            confidence=5,
            autonomy=5,
            easier_now=ORIGINAL,
        ),
    )
    records.correct(
        case_id,
        EntryCorrected(
            **meta(5, 5),
            corrects=review_id,
            reason="misheard",
            changes={"easier_now": CORRECTED},
        ),
    )
    records.record(
        case_id,
        StatementAdded(
            **{**meta(3, 25), "entry_id": statement_id},
            text="That week was harder than noted",
        ),
    )
    return History(case_id, review_id, statement_id, _days_ago(5).date())


def test_as_recorded_before_the_correction_shows_the_original_and_what_was_learned_since(
    page: Page, oidc_provider: LocalOpenIDProvider, history: History
) -> None:
    sign_in(page, oidc_provider, CLINICIAN)
    page.goto(f"/app/cases/{history.case_id}")
    page.get_by_label("As recorded on").fill((history.corrected_on - timedelta(days=2)).isoformat())
    page.get_by_role("button", name="Show the record as it stood").click()
    expect(page.locator("#replay-banner")).to_contain_text("As recorded on")
    review = page.locator(f"#entry-{history.review_id}")
    expect(review).to_contain_text(ORIGINAL)
    expect(review).not_to_contain_text(CORRECTED)
    expect(review.locator("del")).to_have_count(0)
    learned = page.locator("section").filter(has_text="Learned since")
    expect(learned).to_contain_text("Correction of")
    expect(learned).to_contain_text("misheard")
    expect(learned).to_contain_text("Late entry")
    expect(page.locator(f"#entry-{history.statement_id}")).to_have_count(0)
    assert_accessible(page)
    # The date travels with the page: a filter keeps the replay.
    page.get_by_label("Kind of entry").select_option("review_recorded")
    page.get_by_role("button", name="Filter").click()
    day = (history.corrected_on - timedelta(days=2)).isoformat()
    expect(page).to_have_url(re.compile(rf"\?on={day}&kind=review_recorded"))
    expect(page.locator("#replay-banner")).to_be_visible()


def test_as_recorded_after_the_correction_shows_the_corrected_value(
    page: Page, oidc_provider: LocalOpenIDProvider, history: History
) -> None:
    sign_in(page, oidc_provider, CLINICIAN)
    page.goto(f"/app/cases/{history.case_id}?on={(history.corrected_on + timedelta(days=1)).isoformat()}")
    review = page.locator(f"#entry-{history.review_id}")
    expect(review.locator("del")).to_contain_text(ORIGINAL)
    expect(review.locator("ins")).to_contain_text(CORRECTED)
    learned = page.locator("section").filter(has_text="Learned since")
    expect(learned).not_to_contain_text("Correction of")
    expect(learned).to_contain_text("Late entry")


def test_the_replay_control_works_without_javascript(
    browser: Browser, served: Served, oidc_provider: LocalOpenIDProvider, history: History
) -> None:
    context = browser.new_context(base_url=served.url, viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, oidc_provider, CLINICIAN)
    page.goto(f"/app/cases/{history.case_id}")
    page.get_by_label("or the day of a past review").select_option(index=1)
    page.get_by_role("button", name="Show the record as it stood").click()
    expect(page.locator("#replay-banner")).to_contain_text("As recorded on")
    expect(page.locator(f"#entry-{history.review_id}")).to_contain_text(ORIGINAL)
    context.close()


def test_the_charts_are_the_trajectory_as_it_stood_and_the_replay_is_logged_with_its_day(
    page: Page, oidc_provider: LocalOpenIDProvider, history: History, database: DatabaseAddress
) -> None:
    sign_in(page, oidc_provider, CLINICIAN)
    page.goto(f"/app/cases/{history.case_id}")
    expect(page.locator("figure.waymark-chart").first).to_be_visible()
    before_review = _days_ago(25).date()
    page.goto(f"/app/cases/{history.case_id}?on={before_review.isoformat()}")
    expect(page.locator("#replay-banner")).to_be_visible()
    expect(page.locator("figure.waymark-chart")).to_have_count(0)  # no review recorded by then
    expect(page.get_by_text("No ratings or outcome measures recorded yet.")).to_be_visible()
    after_review = _days_ago(10).date()
    page.goto(f"/app/cases/{history.case_id}?on={after_review.isoformat()}")
    expect(page.locator("figure.waymark-chart").first).to_be_visible()
    views = query(
        database,
        "SELECT view FROM case_record_views WHERE actor_id = %s AND case_id = %s ORDER BY viewed_at",
        (CLINICIAN, history.case_id),
    )
    day_end = datetime.combine(before_review + timedelta(days=1), datetime.min.time(), UTC)
    assert {
        "view": f"record-page?recorded_until={day_end.isoformat().replace(':', '%3A').replace('+', '%2B')}"
    } in views
