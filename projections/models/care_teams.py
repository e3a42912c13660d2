"""Care teams: who has a legitimate relationship to each case, version by version, so a clinician's
caseload is one indexed query (the write side knows a case's team only once the case is loaded)."""

from __future__ import annotations

from collections.abc import Iterator

from events.entries import CareTeamChanged, CaseOpened, Entry
from projections.models.base import EventAt, ReadModel, Row
from projections.schema import Table

__all__ = ["CareTeams"]


class CareTeams(ReadModel):
    """One row per opening or care team change; a case's team is the row with its highest version.

    Corrections are not read: a correction never changes a care team (``events.corrections``)."""

    name = "care_teams"
    topics = frozenset({"case_opened", "care_team_changed"})
    tables = (
        Table(
            "care_teams",
            (("case_id", "uuid NOT NULL"), ("version", "integer NOT NULL"), ("members", "text[] NOT NULL")),
            indexes=("case_id, version",),
        ),
    )

    def rows(self, entry: Entry, at: EventAt | None) -> Iterator[Row]:
        if at is not None and isinstance(entry, CaseOpened | CareTeamChanged):
            yield ("care_teams", (entry.case_id, at.version, list(entry.care_team)))
