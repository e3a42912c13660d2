"""A person's timeline: every entry in the order things happened (not the order they were typed in),
with each correction beside the entry it corrects and each statement beside what it is about.

Built from the API's own history items (``service.views.history_item``), so the page and
``GET /cases/{id}/history`` never disagree about what an entry says; an entry's item is made only
when a page shows it (a record of a thousand entries shows a page of them).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from events.case import Case
from events.codec import type_name
from events.entries import Entry, EntryCorrected, StatementAdded
from service.http.views import HistoryItem, history_item
from service.pages.templating import KIND_NAMES

__all__ = ["FIELD_LABELS", "EntryNames", "Field", "TimelineEntry", "domains_of", "timeline"]

FIELD_LABELS = {
    "easier_now": "What feels easier now than three months ago",
    "most_difficult": "What still feels most difficult",
    "helpful_strategies": "Which support strategies help most",
    "next_step": "What is a realistic next step",
    "kind": "Kind",
    "ratings": "Ratings per domain (1-10)",
    "confidence": "Confidence (1-10)",
    "autonomy": "Autonomy (1-10)",
    "in_own_words": "In their own words",
    "domain": "Domain",
    "domains": "Domains",
    "achievement": "Status",
    "description": "Milestone",
    "evidence": "Evidence",
    "target_on": "Target date",
    "instrument": "Measure",
    "items": "Item scores",
    "score": "Score",
    "what_happened": "What happened",
    "contributing_factors": "Contributing factors",
    "factors_detail": "About the factors",
    "risk_management": "How risk was managed",
    "learning": "What was learned",
    "adaptation": "What was adapted",
    "severity": "Severity (1 low to 4 crisis)",
    "trigger": "Trigger",
    "response": "Response",
    "escalation_plan_used_early": "Escalation plan used early",
    "resolution": "Resolution",
    "rationale": "Rationale",
    "because_of": "Because of",
    "support_hours_per_week": "Support hours per week",
    "approach": "Approach",
    "strategies_added": "Strategies added",
    "strategies_removed": "Strategies removed",
    "domains_added": "Domains added",
    "review_interval_weeks": "Weeks between reviews",
    "text": "Statement",
    "made_by": "Made by",
    "about": "About",
    "reason": "Reason",
    "note": "Note",
    "person_ref": "Person reference",
    "service": "Service",
    "opened_on": "Opened on",
    "care_team": "Care team",
}
"""Field names in the words of the record; the review's four recovery questions first."""
_LINKS = frozenset({"because_of", "about", "goal_id", "milestone_id", "escalation_id", "measure_ids"})
"""Fields naming other entries: shown as links to them on the same page."""


@dataclass(frozen=True)
class Field:
    """One value of an entry; ``was`` holds the original when a correction changed it."""

    name: str
    label: str
    value: Any
    was: Any = None
    corrected: bool = False
    links: tuple[UUID, ...] = ()


@dataclass
class TimelineEntry:
    """An entry with its corrections and the person's statements about it."""

    case: Case
    version: int
    entry: Entry
    corrections: list[HistoryItem] = field(default_factory=list)
    statements: list[HistoryItem] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """The entry's stored type name, such as ``review_recorded``."""
        return type_name(type(self.entry))

    @functools.cached_property
    def item(self) -> HistoryItem:
        """The entry as the API's history gives it (made only for the entries a page shows)."""
        return history_item(self.case, self.version, self.entry)

    @functools.cached_property
    def fields(self) -> list[Field]:
        """The entry's values as they now read, each corrected one with its original (worked out
        only for the entries a page shows)."""
        return _fields(self.item, self.corrections)

    @property
    def occurred_at(self) -> datetime:
        """When it happened, as its latest correction says if one changed it."""
        for correction in reversed(self.corrections):
            corrected = correction.data.get("corrected") or {}
            if "occurred_at" in (correction.data.get("changes") or {}) and "occurred_at" in corrected:
                return datetime.fromisoformat(str(corrected["occurred_at"]))
        return self.entry.occurred_at

    @property
    def domains(self) -> set[str]:
        """The outcome domains this entry is about."""
        return domains_of(self.item.data)


class EntryNames:
    """How to name an entry when another names it: its kind and the day it happened (worked out
    only for the entries a page links to)."""

    def __init__(self, entries: list[tuple[int, Entry]]) -> None:
        self._recorded = entries

    @functools.cached_property
    def _entries(self) -> dict[UUID, Entry]:
        # Looked up only when a page renders a link it has not rendered before.
        return {e.entry_id: e for _, e in self._recorded}

    def get(self, entry_id: str, default: str) -> str:
        """The entry's name, or ``default`` for one this page does not hold."""
        try:
            entry = self._entries.get(UUID(entry_id))
        except ValueError:
            entry = None
        if entry is None:
            return default
        kind = type_name(type(entry))
        return f"{KIND_NAMES.get(kind, kind)} of {entry.occurred_at:%-d %b %Y}"


def domains_of(data: dict[str, Any]) -> set[str]:
    """Outcome domains an entry's values name (rated, set, affected or added)."""
    found: set[str] = set()
    for name in ("domain", "domains", "domains_added"):
        value = data.get(name)
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, list | tuple):
            found.update(v for v in value if isinstance(v, str))
    if isinstance(ratings := data.get("ratings"), dict):
        found.update(ratings)
    if isinstance(corrected := data.get("corrected"), dict):
        found |= domains_of(corrected)
    return found


def _fields(item: HistoryItem, corrections: list[HistoryItem]) -> list[Field]:
    current = dict(item.data)
    changed: set[str] = set()
    for correction in corrections:
        changes = correction.data.get("changes") or {}
        current.update({k: v for k, v in changes.items() if k in current or k in FIELD_LABELS})
        changed.update(changes)
    order = list(FIELD_LABELS) + sorted(set(current) - FIELD_LABELS.keys())
    shown = []
    for name in order:
        if name not in current or (current[name] in (None, [], (), {}) and name not in changed):
            continue
        value = current[name]
        links = (
            tuple(UUID(str(v)) for v in (value if isinstance(value, list | tuple) else [value]))
            if name in _LINKS
            else ()
        )
        was = item.data.get(name) if name in changed else None
        label = FIELD_LABELS.get(name, name.replace("_", " ").capitalize())
        shown.append(Field(name, label, value, was, name in changed, links))
    return shown


def timeline(case: Case, entries: Iterable[tuple[int, Entry]]) -> list[TimelineEntry]:
    """Entries in the order things happened, newest first (ties in the order they were recorded);
    corrections beside what they correct, statements beside what they are about."""
    entries = list(entries)
    corrections: dict[UUID, list[HistoryItem]] = {}
    statements: dict[UUID, list[HistoryItem]] = {}
    for version, entry in entries:
        if isinstance(entry, EntryCorrected):
            corrections.setdefault(entry.corrects, []).append(history_item(case, version, entry))
        elif isinstance(entry, StatementAdded):
            item = history_item(case, version, entry)
            for about in item.data.get("about") or ():
                statements.setdefault(UUID(str(about)), []).append(item)
    shown = [
        TimelineEntry(
            case, version, entry, corrections.get(entry.entry_id, []), statements.get(entry.entry_id, [])
        )
        for version, entry in entries
        if not isinstance(entry, EntryCorrected)
    ]
    shown.sort(key=lambda e: (e.occurred_at, e.version), reverse=True)
    return shown
