"""Signing in to the pages: through the (local) OpenID provider with PKCE, as a demo user, and what a
session cookie and every page's headers promise; forms without the session's CSRF token are refused."""

from __future__ import annotations

import re
import secrets

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.support.oidc_provider import LocalOpenIDProvider
from tests.support.pages import ConsoleErrors, Served, assert_accessible

pytestmark = pytest.mark.slow  # drives Chromium through OpenID sign-in: seconds a test


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def test_sign_in_through_the_openid_provider_comes_back_to_the_page_asked_for(
    page: Page, served: Served, oidc_provider: LocalOpenIDProvider
) -> None:
    user = f"oidc-{secrets.token_hex(4)}"
    oidc_provider.sign_in_as(user, "clinician", name="Ada Clinician")
    page.goto("/app/?q=P-none")
    expect(page).to_have_url(re.compile(r"/app/sign-in\?next="))
    assert_accessible(page)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{served.url}/app?q=P-none")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your caseload")
    expect(page.locator("header")).to_contain_text("Ada Clinician")
    assert_accessible(page)


def test_sign_in_still_works_after_the_provider_rotates_its_key(
    page: Page, oidc_provider: LocalOpenIDProvider
) -> None:
    oidc_provider.rotate_key(retire_old=True)
    oidc_provider.sign_in_as(f"oidc-{secrets.token_hex(4)}", ["staff", "Clinician"], name="Rotated Key")
    page.goto("/app/sign-in")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("header")).to_contain_text("Rotated Key")


def test_a_role_the_pages_do_not_serve_is_refused(
    page: Page, oidc_provider: LocalOpenIDProvider, console_errors: ConsoleErrors
) -> None:
    console_errors.allow_status(403)
    oidc_provider.sign_in_as(f"oidc-{secrets.token_hex(4)}", "reporting")
    page.goto("/app/sign-in")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are not signed in")
    page.goto("/app/")
    expect(page).to_have_url(re.compile(r"/app/sign-in"))


def test_a_callback_this_browser_did_not_start_is_refused(served: Served) -> None:
    with httpx.Client(base_url=served.url) as browser:
        answer = browser.get("/app/sign-in/callback", params={"code": "stolen", "state": "guessed"})
        assert answer.status_code == 403
        assert browser.get("/app/").status_code == 303


def test_demo_sign_in_then_sign_out(page: Page) -> None:
    page.goto("/app/sign-in")
    page.get_by_role("button", name="Sign in as demo-clinician").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your caseload")
    assert_accessible(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto("/app/")
    expect(page).to_have_url(re.compile(r"/app/sign-in"))


def test_a_form_without_this_sessions_csrf_token_is_refused(served: Served) -> None:
    with httpx.Client(base_url=served.url) as other:
        foreign_token = _csrf(other.get("/app/sign-in").text)
    with httpx.Client(base_url=served.url) as browser:
        token = _csrf(browser.get("/app/sign-in").text)
        for sent in ({}, {"csrf_token": ""}, {"csrf_token": foreign_token}):
            answer = browser.post("/app/sign-in/demo", data={"user": "demo-clinician", **sent})
            assert answer.status_code == 403, sent
            assert "This form has expired" in answer.text
            assert browser.get("/app/").status_code == 303, "not signed in"
        answer = browser.post("/app/sign-in/demo", data={"user": "demo-clinician", "csrf_token": token})
        assert answer.status_code == 303
        assert browser.get("/app/").status_code == 200


def test_the_session_cookie_is_httponly_lax_limited_to_the_pages_and_secure_over_https(
    served: Served,
) -> None:
    with httpx.Client(base_url=served.url) as browser:
        plain = browser.get("/app/sign-in").headers["set-cookie"]
    with httpx.Client(base_url=served.url, headers={"X-Forwarded-Proto": "https"}) as browser:
        https = browser.get("/app/sign-in").headers["set-cookie"]
    for cookie in (plain, https):
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Path=/app" in cookie
    assert "Secure" not in plain
    assert "Secure" in https


def test_every_page_answer_forbids_caching_framing_and_inline_script(served: Served) -> None:
    with httpx.Client(base_url=served.url) as browser:
        for path in ("/app/sign-in", "/app/", "/app/cases/00000000-0000-4000-8000-000000000000"):
            headers = browser.get(path).headers
            assert headers["cache-control"] == "no-store", path
            policy = headers["content-security-policy"]
            assert "script-src 'self';" in policy
            assert "unsafe-inline" not in policy
            assert "frame-ancestors 'none'" in policy


def test_pages_refuse_without_a_session_and_static_files_cache_long(served: Served) -> None:
    with httpx.Client(base_url=served.url) as browser:
        answer = browser.get("/app/?q=P-1")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/app/sign-in?next=/app%3Fq%3DP-1"
        css = browser.get("/static/nhsuk/nhsuk-frontend.min.css")
        assert css.status_code == 200
        assert "max-age=31536000" in css.headers["cache-control"]
