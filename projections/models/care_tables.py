"""The care model's tables, declared as the typed rows its builders return (``CareRow``): each
element of a row names its column, so a column added here and not to a builder fails mypy, and the
tables (``TABLES``) are made from these types."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from projections.schema import Column, Table, tables_of

__all__ = ["TABLES", "CareRow"]

CaseId = Annotated[UUID, Column("case_id", "uuid NOT NULL")]
OccurredAt = Annotated[datetime, Column("occurred_at", "timestamptz NOT NULL")]
Texts = Sequence[str]

CaseRow = tuple[
    CaseId,
    Annotated[str, Column("person_ref", "text NOT NULL")],
    Annotated[str, Column("service", "text NOT NULL")],
    Annotated[date, Column("opened_on", "date NOT NULL")],
    Annotated[Texts, Column("domains", "text[] NOT NULL")],
]
# An opening counts from the start of its opened_on date, closures and reopenings from when they
# happened: open days and escalation rates are counted from these rows.
# service and open_change (+1 became open, -1 stopped being open, 0 neither) are derived after each
# batch (see open_spans), so open days are summed per day (read.status_days).
CaseStatusRow = tuple[
    CaseId,
    OccurredAt,
    Annotated[str, Column("status", "text NOT NULL")],
    Annotated[str | None, Column("reason", "text")],
    Annotated[str | None, Column("service", "text")],
    Annotated[int, Column("open_change", "smallint NOT NULL DEFAULT 0")],
]
# service, first_decided_at, changed and actioned are derived after each batch (see
# review_outcomes), so "which reviews led to action, and how fast" reads one table.
ReviewRow = tuple[
    CaseId,
    OccurredAt,
    Annotated[str, Column("kind", "text NOT NULL")],
    Annotated[str, Column("actor_id", "text NOT NULL")],
    # Domain ratings only (not confidence or autonomy), for how domains moved around a change.
    Annotated[int, Column("rating_sum", "integer NOT NULL")],
    Annotated[int, Column("rating_count", "integer NOT NULL")],
    Annotated[str | None, Column("service", "text")],
    Annotated[datetime | None, Column("first_decided_at", "timestamptz")],
    # Led to change: a plan change named it within 28 days. Led to action: a plan change or a
    # "no change, because ..." confirmation named it within 28 days.
    Annotated[bool, Column("changed", "boolean NOT NULL DEFAULT false")],
    Annotated[bool, Column("actioned", "boolean NOT NULL DEFAULT false")],
]
DecisionRow = tuple[
    CaseId,
    OccurredAt,
    Annotated[str, Column("kind", "text NOT NULL")],
    Annotated[float | None, Column("support_hours_per_week", "double precision")],
    Annotated[str | None, Column("approach", "text")],
    Annotated[Texts, Column("strategies_added", "text[] NOT NULL")],
    Annotated[Texts, Column("strategies_removed", "text[] NOT NULL")],
    # Domains a plan change brought into the plan, for governance's "what changed" drill-down.
    Annotated[Texts, Column("domains_added", "text[] NOT NULL")],
    # Weeks between reviews from this change on (null: unchanged), for reviews due or overdue.
    Annotated[int | None, Column("review_interval_weeks", "smallint")],
    Annotated[str, Column("rationale", "text NOT NULL")],
    Annotated[bool, Column("caused", "boolean NOT NULL")],
]
# One row per strategy a plan change adds; service and the mean domain rating in the 90 days before
# and after are derived after each batch, so "which strategies help" reads one table.
StrategyIntroductionRow = tuple[
    CaseId,
    OccurredAt,
    Annotated[str, Column("strategy", "text NOT NULL")],
    Annotated[str | None, Column("service", "text")],
    Annotated[float | None, Column("before", "double precision")],
    Annotated[float | None, Column("after", "double precision")],
]
DecisionCauseRow = tuple[
    CaseId,
    Annotated[UUID, Column("cause_id", "uuid NOT NULL")],
    Annotated[str, Column("decision_kind", "text NOT NULL")],
    Annotated[datetime, Column("decided_at", "timestamptz NOT NULL")],
]
SetbackRow = tuple[
    CaseId,
    OccurredAt,
    Annotated[Texts, Column("domains", "text[] NOT NULL")],
    Annotated[str, Column("what_happened", "text NOT NULL")],
    Annotated[Texts, Column("contributing_factors", "text[] NOT NULL")],
    Annotated[str | None, Column("factors_detail", "text")],
    Annotated[str, Column("risk_management", "text NOT NULL")],
    Annotated[str, Column("learning", "text NOT NULL")],
    Annotated[str, Column("adaptation", "text NOT NULL")],
    # Derived after each batch (see case_services), for per-day counts of factors by service.
    Annotated[str | None, Column("service", "text")],
]
EscalationRow = tuple[
    CaseId,
    OccurredAt,
    Annotated[int, Column("severity", "smallint NOT NULL")],
    Annotated[str, Column("trigger", "text NOT NULL")],
    Annotated[str, Column("response", "text NOT NULL")],
    Annotated[bool, Column("plan_used_early", "boolean NOT NULL")],
    Annotated[Texts, Column("domains", "text[] NOT NULL")],
    # Derived after each batch (see case_services), for per-day counts by service.
    Annotated[str | None, Column("service", "text")],
]
EscalationResolutionRow = tuple[
    CaseId,
    OccurredAt,
    Annotated[UUID, Column("escalation_id", "uuid NOT NULL")],
    Annotated[str, Column("resolution", "text NOT NULL")],
]
# A story agreed for sharing, and each withdrawal of consent naming one: a report shows the stories
# no withdrawal names (a corrected withdrawal's rows are replaced, so it names its corrected story).
StoryRow = tuple[
    CaseId,
    OccurredAt,
    Annotated[str, Column("story", "text NOT NULL")],
    Annotated[str, Column("consent_given_by", "text NOT NULL")],
    Annotated[Texts, Column("domains", "text[] NOT NULL")],
]
StoryWithdrawalRow = tuple[
    CaseId,
    OccurredAt,
    Annotated[UUID, Column("story_id", "uuid NOT NULL")],
]

CareRow = (
    tuple[Literal["cases"], CaseRow]
    | tuple[Literal["case_status"], CaseStatusRow]
    | tuple[Literal["reviews"], ReviewRow]
    | tuple[Literal["decisions"], DecisionRow]
    | tuple[Literal["strategy_introductions"], StrategyIntroductionRow]
    | tuple[Literal["decision_causes"], DecisionCauseRow]
    | tuple[Literal["setbacks"], SetbackRow]
    | tuple[Literal["escalations"], EscalationRow]
    | tuple[Literal["escalation_resolutions"], EscalationResolutionRow]
    | tuple[Literal["stories"], StoryRow]
    | tuple[Literal["story_withdrawals"], StoryWithdrawalRow]
)
"""One row of the care model: its table's name and its values, typed column by column."""

TABLES: tuple[Table, ...] = tables_of(
    CareRow,
    indexes={
        "cases": ("case_id", "service, opened_on"),
        # By time too: the part days at the ends of a period are counted from the rows.
        "case_status": ("case_id, occurred_at", "occurred_at"),
        "reviews": (
            "case_id, occurred_at",
            "occurred_at",
            # Covering: review impact's monthly shares read the index alone.
            "service, occurred_at INCLUDE changed, actioned, first_decided_at",
            "service, occurred_at WHERE first_decided_at IS NULL",
        ),
        "decisions": (
            "case_id, occurred_at",
            "occurred_at",
            "occurred_at WHERE kind = 'plan_changed' AND NOT caused",
            # The review interval in force at a time: a probe per review for time to action, where
            # the case index read every decision of the case up to it (most set no interval).
            "case_id, occurred_at WHERE review_interval_weeks IS NOT NULL",
        ),
        "strategy_introductions": (
            "case_id",
            "service, occurred_at INCLUDE strategy, before, after",
            "occurred_at",
        ),
        "decision_causes": ("cause_id, decided_at, decision_kind",),
        "setbacks": ("case_id, occurred_at", "occurred_at"),
        "escalations": ("case_id, occurred_at", "occurred_at"),
        "escalation_resolutions": ("escalation_id",),
        "stories": ("case_id", "occurred_at"),
        "story_withdrawals": ("story_id",),
    },
)
