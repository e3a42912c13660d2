"""Care teams: who has a legitimate relationship to each case, version by version, so a clinician's
caseload is one indexed query (the write side knows a case's team only once the case is loaded)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Annotated, Literal
from uuid import UUID

from events.entries import ENTRY_KINDS, CareTeamChanged, CaseOpened, Entry, EntryCorrected
from projections.models.base import Decision, EventAt, Ignored, ReadModel, Row
from projections.schema import Column, tables_of

__all__ = ["CareTeams"]

CareTeamRow = tuple[
    Literal["care_teams"],
    tuple[
        Annotated[UUID, Column("case_id", "uuid NOT NULL")],
        Annotated[int, Column("version", "integer NOT NULL")],
        Annotated[Sequence[str], Column("members", "text[] NOT NULL")],
    ],
]


def _built_in_rows(entry: Entry) -> list[Row]:
    """Never called: a team's row needs the case version the entry was stored at, which only
    ``CareTeams.rows`` is given."""
    raise AssertionError(f"CareTeams.rows builds the rows of {type(entry).__name__}")


_NOT_THE_TEAM = Ignored("does not change who is on the care team")
_DECISIONS: dict[type[Entry], Decision] = dict.fromkeys(ENTRY_KINDS, _NOT_THE_TEAM)
_DECISIONS.update(
    {
        CaseOpened: _built_in_rows,
        CareTeamChanged: _built_in_rows,
        EntryCorrected: Ignored("a correction never changes a care team (events.corrections)"),
    }
)
"""What the care team model does with every kind of entry."""


class CareTeams(ReadModel):
    """One row per opening or care team change; a case's team is the row with its highest version."""

    name = "care_teams"
    decisions = _DECISIONS
    tables = tables_of(CareTeamRow, indexes={"care_teams": ("case_id, version",)})

    def rows(self, entry: Entry, at: EventAt | None) -> Iterator[CareTeamRow]:
        if at is not None and isinstance(entry, CaseOpened | CareTeamChanged):
            yield ("care_teams", (entry.case_id, at.version, list(entry.care_team)))
