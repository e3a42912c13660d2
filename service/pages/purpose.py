"""Governance states why it opens a person's record: a page asks for the purpose of use before the
record is read, and the purpose travels with the record page's own links and forms."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template

from events.values import Actor, Role
from service.http.access import Purpose
from service.pages.web import Pages, render

__all__ = ["PURPOSE_LABELS", "ask_purpose", "purpose_needed"]

PURPOSE_LABELS = {
    Purpose.AUDIT: "Audit",
    Purpose.COMPLAINT: "A complaint",
    Purpose.INCIDENT_REVIEW: "An incident review",
    Purpose.SUBJECT_ACCESS_REQUEST: "A subject access request",
    Purpose.LEGAL_REQUEST: "A legal request",
}


def purpose_needed(actor: Actor, purpose: Purpose | None) -> bool:
    """Whether the reader must state a purpose first (governance, without one)."""
    return actor.role is Role.GOVERNANCE and purpose is None


def ask_purpose(request: Request[Any, Any, Any], pages: Pages) -> Template:
    """The page asking why the record is opened (before anything of it is read); it sends the same
    address with ``purpose``."""
    return render(request, pages, "purpose.jinja", action=request.url.path, purposes=PURPOSE_LABELS.items())
