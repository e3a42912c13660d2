"""The session cookie on its own: signed (a changed byte signs the user out), idle for longer than the
setting or older than the longest session means signed out, Secure when the public address is https."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar.testing import RequestFactory

from events.values import Actor, Role
from service.pages.session import COOKIE, LONGEST_SESSION, PageSession, SessionSigner, signed_in

IDLE = 30 * 60


def _signer(public_url: str | None = None) -> SessionSigner:
    return SessionSigner(b"k" * 32, idle_seconds=IDLE, public_url=public_url)


def _request_with(cookie_header: str) -> Any:
    value = cookie_header.split(";", 1)[0].split("=", 1)[1]
    return RequestFactory().get("/app/", headers={"Cookie": f"{COOKIE}={value}"})


def _signed_in_cookie(signer: SessionSigner) -> str:
    actor = Actor(id="c-1", role=Role.CLINICIAN)
    return signer.cookie(signed_in(PageSession(), actor, "C One"), https=False)


def test_a_signed_session_reads_back_and_a_changed_one_does_not() -> None:
    signer = _signer()
    cookie = _signed_in_cookie(signer)
    session, new = signer.load(_request_with(cookie))
    assert not new
    assert session.actor == Actor(id="c-1", role=Role.CLINICIAN)
    name, _, rest = cookie.partition("=")
    payload, _, signature = rest.split(";", 1)[0].rpartition(".")
    forged = payload.replace(payload[10], "A" if payload[10] != "A" else "B", 1)
    session, new = signer.load(_request_with(f"{name}={forged}.{signature}"))
    assert new
    assert session.actor is None
    other = SessionSigner(b"x" * 32, idle_seconds=IDLE, public_url=None)
    assert other.load(_request_with(cookie))[0].actor is None


@pytest.mark.parametrize(
    ("idle", "since_start", "signed_out"),
    [(IDLE - 5, 60, False), (IDLE + 5, 60, True), (60, LONGEST_SESSION + 5, True)],
    ids=["in use", "idle too long", "past the longest session"],
)
def test_an_idle_or_old_session_is_signed_out(
    monkeypatch: pytest.MonkeyPatch, idle: int, since_start: int, signed_out: bool
) -> None:
    signer = _signer()
    start = time.time()
    monkeypatch.setattr(time, "time", lambda: start)
    cookie = signer.cookie(signed_in(PageSession(), Actor(id="c-1", role=Role.CLINICIAN), "C"), https=False)
    # Last used ``idle`` seconds ago, signed in ``since_start`` seconds ago.
    monkeypatch.setattr(time, "time", lambda: start + idle)
    session = signer.load(_request_with(cookie))[0]
    session.started = start + idle - since_start
    again = signer.cookie(session, https=False)
    monkeypatch.setattr(time, "time", lambda: start + 2 * idle)
    assert (signer.load(_request_with(again))[0].actor is None) is signed_out


def test_the_cookie_is_secure_when_the_public_address_is_https() -> None:
    assert "Secure" in _signed_in_cookie(_signer("https://waymark.example.org"))
    assert "Secure" not in _signed_in_cookie(_signer("http://localhost:8000"))
