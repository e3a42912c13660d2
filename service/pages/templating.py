"""The pages' Jinja environment: our templates, then the NHS design system's macros; autoescaping on
for every template, so clinical text always renders as text."""

from __future__ import annotations

import functools
import hashlib
from datetime import date, datetime
from pathlib import Path

import nhsuk_frontend_jinja
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, PackageLoader
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template import TemplateConfig

from events.values import OutcomeDomain

__all__ = ["DOMAIN_NAMES", "KIND_NAMES", "STATIC", "domain_name", "static_url", "template_config"]

STATIC = Path(__file__).parent / "static"

DOMAIN_NAMES = {
    OutcomeDomain.STABILITY_SELF_MANAGEMENT: "Stability and self-management",
    OutcomeDomain.DAILY_LIVING_INDEPENDENCE: "Daily living and independence",
    OutcomeDomain.CONNECTION_PARTICIPATION: "Connection and participation",
    OutcomeDomain.CRISIS_PATTERN_REDUCTION: "Crisis pattern reduction",
}
KIND_NAMES = {
    "case_opened": "Case opened",
    "care_team_changed": "Care team changed",
    "break_glass_granted": "Break-glass access",
    "goal_set": "Goal set",
    "goal_revised": "Goal revised",
    "milestone_added": "Milestone added",
    "milestone_reached": "Milestone reached",
    "review_recorded": "Review",
    "measure_recorded": "Outcome measure",
    "setback_recorded": "Setback",
    "escalation_raised": "Escalation",
    "escalation_resolved": "Escalation resolved",
    "plan_changed": "Plan change",
    "plan_confirmed": "No change, because ...",
    "statement_added": "Statement by the person",
    "case_closed": "Case closed",
    "case_reopened": "Case reopened",
    "entry_corrected": "Correction",
}
"""Entry kinds in the words clinicians use."""


def domain_name(value: str) -> str:
    """An outcome domain (or a self-rating or instrument) as people say it."""
    try:
        return DOMAIN_NAMES[OutcomeDomain(value)]
    except ValueError:
        return {"confidence": "Confidence", "autonomy": "Autonomy"}.get(value, value.upper())


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%-d %b %Y, %H:%M UTC")


def _day(value: date | datetime | None) -> str:
    return "" if value is None else value.strftime("%-d %b %Y")


@functools.cache
def static_url(name: str) -> str:
    """A static file's address with its content's fingerprint, so browsers may cache it for a year."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"/static/{name}?v={digest}"


def environment() -> Environment:
    """Our templates first, then nhsuk-frontend-jinja's (its README asks for ChainableUndefined)."""
    env = Environment(
        loader=ChoiceLoader(
            [PackageLoader("service.pages", "templates"), PackageLoader(nhsuk_frontend_jinja.__name__)]
        ),
        undefined=ChainableUndefined,
        autoescape=True,
        # Templates ship with the package and never change while serving: no file check per use
        # (a record page includes its entry template a hundred times).
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=_when, day=_day, domain=domain_name, kind=lambda k: KIND_NAMES.get(k, k))
    env.globals["static_url"] = static_url
    return env


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """Litestar's template configuration around the pages' environment."""
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment()))
