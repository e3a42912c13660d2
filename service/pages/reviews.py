"""Recording a review and then its decision from the pages: the four recovery questions, domain
ratings, confidence and autonomy; then a plan change or a "no change, because ..." confirmation
naming the review. Written through ``service.pages.forms`` (the API's write path and rules)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from events.entries import PlanChanged, PlanConfirmed, ReviewRecorded
from events.values import ReviewKind
from service.http.routes.readmodels import read_case
from service.http.views import CaseView, case_view
from service.pages.forms import FormResult, write_entry
from service.pages.web import Pages, actor_of, check_form, render
from service.write.application import CaseRecords

__all__ = ["REVIEW_ROUTES"]

QUESTIONS = (
    ("easier_now", "What feels easier now than three months ago?"),
    ("most_difficult", "What still feels most difficult?"),
    ("helpful_strategies", "Which support strategies help most?"),
    ("next_step", "What is a realistic next step?"),
)


def _text(form: dict[str, str], name: str) -> str | None:
    return form.get(name) or None


def _occurred(form: dict[str, str]) -> str | None:
    """A past day the review took place on (noon UTC); today or nothing means now."""
    day = form.get("occurred_on")
    try:
        parsed = date.fromisoformat(day) if day else None
    except ValueError:
        return "not-a-date"  # the API's own check names the field
    if parsed is None or parsed >= datetime.now(UTC).date():
        return None
    return datetime.combine(parsed, time(12), tzinfo=UTC).isoformat()


def review_values(form: dict[str, str], domains: list[str]) -> dict[str, Any]:
    """The API's review body from the form's fields."""
    ratings = {d: form[f"rating-{d}"] for d in domains if form.get(f"rating-{d}")}
    values: dict[str, Any] = {
        "kind": _text(form, "kind"),
        "ratings": ratings,
        "confidence": _text(form, "confidence"),
        "autonomy": _text(form, "autonomy"),
        "occurred_at": _occurred(form),
    }
    values.update({name: _text(form, name) for name, _ in QUESTIONS})
    return values


def decision_values(
    form: dict[str, str], review_id: UUID
) -> tuple[type[PlanChanged | PlanConfirmed], dict[str, Any]]:
    """A plan change or a confirmation naming the review, from the decision form."""
    common = {"rationale": _text(form, "rationale"), "because_of": [str(review_id)]}
    if form.get("decision") == "confirm":
        return PlanConfirmed, common
    lines = [line.strip() for line in (form.get("strategies_added") or "").splitlines() if line.strip()]
    removed = [key.removeprefix("remove-") for key in form if key.startswith("remove-")]
    return PlanChanged, {
        **common,
        "support_hours_per_week": _text(form, "support_hours_per_week"),
        "approach": _text(form, "approach"),
        "strategies_added": lines,
        "strategies_removed": [form[f"remove-{i}"] for i in removed if form.get(f"remove-{i}")],
    }


def _case(records: CaseRecords, pages: Pages, request: Request[Any, Any, Any], case_id: UUID) -> CaseView:
    return case_view(read_case(records, actor_of(request, pages), case_id, "review-form"))


@get("/cases/{case_id:uuid}/reviews/new")
async def review_form(
    request: Request[Any, Any, Any],
    pages: NamedDependency[Pages],
    records: NamedDependency[CaseRecords],
    case_id: FromPath[UUID],
) -> Template:
    """The review form, for the case as it stands."""
    case = await anyio.to_thread.run_sync(_case, records, pages, request, case_id)
    return _review_page(request, pages, case, form={}, result=FormResult(), version=case.version)


def _review_page(
    request: Request[Any, Any, Any],
    pages: Pages,
    case: CaseView,
    *,
    form: dict[str, str],
    result: FormResult,
    version: int,
) -> Template:
    status = 200 if not (result.errors or result.stale_version) else (409 if result.stale_version else 422)
    return render(
        request,
        pages,
        "review_form.jinja",
        status=status,
        case=case,
        form=form,
        errors=result.errors,
        stale=result.stale_version,
        version=result.stale_version or version,
        kinds=[k.value for k in ReviewKind],
        questions=QUESTIONS,
    )


@post("/cases/{case_id:uuid}/reviews/new", status_code=200)
async def record_review(
    request: Request[Any, Any, Any],
    pages: NamedDependency[Pages],
    records: NamedDependency[CaseRecords],
    case_id: FromPath[UUID],
) -> Response[Any]:
    """Record the review; on success go on to its decision."""
    actor = actor_of(request, pages)
    form = await check_form(request, pages)
    case = await anyio.to_thread.run_sync(_case, records, pages, request, case_id)
    values = review_values(form, [d.value for d in case.domains])
    version = _version(form)
    result = await anyio.to_thread.run_sync(
        lambda: write_entry(records, actor, case_id, ReviewRecorded, values=values, version=version)
    )
    if result.receipt is None:
        return _review_page(request, pages, case, form=form, result=result, version=version)
    receipt = result.receipt
    return Redirect(f"/app/cases/{case_id}/reviews/{receipt.entry_id}/decision", status_code=303)


def _version(form: dict[str, str]) -> int:
    try:
        return int(form.get("version", "0"))
    except ValueError:
        return 0


@get("/cases/{case_id:uuid}/reviews/{review_id:uuid}/decision")
async def decision_form(
    request: Request[Any, Any, Any],
    pages: NamedDependency[Pages],
    records: NamedDependency[CaseRecords],
    case_id: FromPath[UUID],
    review_id: FromPath[UUID],
) -> Template:
    """What the review led to: a plan change or "no change, because ..."."""
    case = await anyio.to_thread.run_sync(_case, records, pages, request, case_id)
    return _decision_page(request, pages, case, review_id, form={}, result=FormResult(), version=case.version)


def _decision_page(
    request: Request[Any, Any, Any],
    pages: Pages,
    case: CaseView,
    review_id: UUID,
    *,
    form: dict[str, str],
    result: FormResult,
    version: int,
) -> Template:
    status = 200 if not (result.errors or result.stale_version) else (409 if result.stale_version else 422)
    return render(
        request,
        pages,
        "decision_form.jinja",
        status=status,
        case=case,
        review_id=review_id,
        form=form,
        errors=result.errors,
        stale=result.stale_version,
        version=result.stale_version or version,
    )


@post("/cases/{case_id:uuid}/reviews/{review_id:uuid}/decision", status_code=200)
async def record_decision(
    request: Request[Any, Any, Any],
    pages: NamedDependency[Pages],
    records: NamedDependency[CaseRecords],
    case_id: FromPath[UUID],
    review_id: FromPath[UUID],
) -> Response[Any]:
    """Record the decision; then show the record at it."""
    actor = actor_of(request, pages)
    form = await check_form(request, pages)
    case = await anyio.to_thread.run_sync(_case, records, pages, request, case_id)
    cls, values = decision_values(form, review_id)
    version = _version(form)
    result = await anyio.to_thread.run_sync(
        lambda: write_entry(records, actor, case_id, cls, values=values, version=version)
    )
    if result.receipt is None:
        return _decision_page(request, pages, case, review_id, form=form, result=result, version=version)
    receipt = result.receipt
    position = f"?min_position={receipt.position}" if receipt.position else ""
    return Redirect(f"/app/cases/{case_id}{position}#entry-{receipt.entry_id}", status_code=303)


REVIEW_ROUTES = [review_form, record_review, decision_form, record_decision]
