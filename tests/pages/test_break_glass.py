"""Break-glass from the pages, in Chromium: a clinician outside the care team is refused a record,
and the refusal page offers to open it by stating a reason and why; a missing reason is named next to
its field; once granted the record opens, and the grant is in the record's timeline."""

from __future__ import annotations

import secrets
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from service.database import DatabaseAddress
from tests.api.helpers import DOMAIN
from tests.pages.test_record import sign_in
from tests.support.databases import query
from tests.support.oidc_provider import LocalOpenIDProvider
from tests.support.pages import ConsoleErrors, Served, assert_accessible
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.slow  # drives Chromium: seconds a test


def test_an_outsider_breaks_glass_from_the_refused_record_page(
    *,
    page: Page,
    oidc_provider: LocalOpenIDProvider,
    served: Served,
    auth: TokenFactory,
    database: DatabaseAddress,
    console_errors: ConsoleErrors,
) -> None:
    console_errors.allow_status(403)  # the refused record
    console_errors.allow_status(422)  # the form sent without a reason
    person, outsider = f"P-bg-{secrets.token_hex(3)}", f"c-bg-{secrets.token_hex(4)}"
    body = {
        "person_ref": person,
        "service": "north",
        "opened_on": date.today().isoformat(),
        "domains": [DOMAIN],
    }
    with served.api(auth("clinician", f"c-team-{secrets.token_hex(4)}")) as api:
        opened = api.post("/cases", json=body | {"care_team": []})
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["case_id"]
    sign_in(page, oidc_provider, outsider)
    page.goto(f"/app/cases/{case_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot open this record")
    assert person not in page.content()
    assert_accessible(page)
    page.get_by_label("Why you need the record now").fill("duty doctor tonight; the person is in A&E")
    page.get_by_role("button", name="Open the record").click()
    expect(page.locator("#error-reason")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("An emergency").check()
    page.get_by_role("button", name="Open the record").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(person)
    expect(page.locator(".waymark-entry").filter(has_text="Break-glass access")).to_have_count(1)
    views = (
        "SELECT outcome, purpose FROM case_record_views WHERE actor_id = %s AND case_id = %s ORDER BY view_id"
    )
    logged = query(database, views, (outsider, case_id))
    assert logged[0] == {"outcome": "refused", "purpose": None}
    assert logged[-1] == {"outcome": "served", "purpose": "break_glass"}
