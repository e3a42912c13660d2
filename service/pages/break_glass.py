"""Break-glass from the pages: the page refusing a record to a clinician outside its care team offers
to open it by stating a reason and why; the grant is written through the API's own write path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import anyio.to_thread
from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from events.entries import BreakGlassGranted
from events.values import BreakGlassReason, Role
from service.http.auth import AccessDenied
from service.pages.forms import write_entry
from service.pages.web import Pages, actor_of, check_form, render, session_of
from service.write.application import CaseRecords

__all__ = ["BREAK_GLASS_ROUTES", "REASON_LABELS", "refused_record"]

REASON_LABELS = {
    BreakGlassReason.EMERGENCY: "An emergency",
    BreakGlassReason.DUTY_COVER: "Covering for a colleague on duty",
    BreakGlassReason.SAFEGUARDING: "A safeguarding concern",
}


def _refused_page(
    request: Request[Any, Any, Any], pages: Pages, *, errors: dict[str, str], form: dict[str, str]
) -> Response[Any]:
    actor = session_of(request, pages).actor
    case_id = request.path_params.get("case_id")
    offer = actor is not None and actor.role is Role.CLINICIAN and case_id is not None
    hours = pages.settings.break_glass_seconds / 3600
    return render(
        request,
        pages,
        "refused.jinja",
        status=403 if not errors else 422,
        case_id=case_id,
        offer=offer,
        reasons=REASON_LABELS.items(),
        hours=f"{hours:g}",
        errors=errors,
        form=form,
    )


def refused_record(request: Request[Any, Any, Any], _: AccessDenied) -> Response[Any]:
    """The page for a record the reader may not open; a clinician may break glass from it."""
    pages: Pages = request.app.state["pages"]
    return _refused_page(request, pages, errors={}, form={})


@post("/cases/{case_id:uuid}/break-glass", status_code=200)
async def break_glass(
    request: Request[Any, Any, Any],
    pages: NamedDependency[Pages],
    records: NamedDependency[CaseRecords],
    case_id: FromPath[UUID],
) -> Response[Any]:
    """Record the grant and open the record; a missing reason or text is named next to its field."""
    actor = actor_of(request, pages)
    if actor.role is not Role.CLINICIAN:
        raise AccessDenied
    form = await check_form(request, pages)
    values = {"reason": form.get("reason") or None, "detail": form.get("detail") or None}
    expires = datetime.now(UTC) + timedelta(seconds=pages.settings.break_glass_seconds)
    result = await anyio.to_thread.run_sync(
        lambda: write_entry(
            records,
            actor,
            case_id,
            BreakGlassGranted,
            values=values,
            version=None,
            server_values={"expires_at": expires},
            care_team_only=False,
        )
    )
    if result.receipt is None:
        return _refused_page(request, pages, errors=result.errors, form=form)
    return Redirect(f"/app/cases/{case_id}", status_code=303)


BREAK_GLASS_ROUTES = [break_glass]
