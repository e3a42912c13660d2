"""The access log: every read of a person's record, served or refused, with who, role, which case and
view, the version shown and the purpose of use (issue 12). Kept beside the events in the write side's
database, so a read that cannot be logged is refused (the insert fails, the read is not served)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg.sql import SQL, Composed, Identifier, Literal

__all__ = ["AccessLog", "access_log_statements"]

_TABLE = "case_record_views"


def access_log_statements(schema: str) -> list[Composed]:
    """Statements run at every start-up: each creates or adds only what is missing."""
    table = Identifier(schema, _TABLE)
    missing = "DO $$ BEGIN IF NOT EXISTS (SELECT FROM information_schema.columns WHERE table_schema = {}"
    return [
        SQL(
            "CREATE TABLE IF NOT EXISTS {} ("
            " viewed_at timestamptz NOT NULL DEFAULT clock_timestamp(), actor_id text NOT NULL,"
            " role text NOT NULL, case_id uuid NOT NULL, view text NOT NULL, case_version bigint)"
        ).format(table),
        # Refused reads and purposes of use came later; a log made before gains the columns. Only when
        # missing: ALTER TABLE takes its lock before it looks, and every start-up runs this.
        SQL(
            missing + " AND table_name = 'case_record_views' AND column_name = 'view_id')"
            " THEN ALTER TABLE {} ADD COLUMN outcome text NOT NULL DEFAULT 'served',"
            " ADD COLUMN view_id bigint GENERATED ALWAYS AS IDENTITY; END IF; END $$"
        ).format(Literal(schema), table),
        SQL(
            missing + " AND table_name = 'case_record_views' AND column_name = 'purpose')"
            " THEN ALTER TABLE {} ADD COLUMN purpose text; END IF; END $$"
        ).format(Literal(schema), table),
        SQL("CREATE INDEX IF NOT EXISTS case_record_views_case ON {} (case_id, view_id)").format(table),
        SQL("CREATE INDEX IF NOT EXISTS case_record_views_actor ON {} (actor_id, view_id)").format(table),
    ]


class AccessLog:
    """Writing the access log of one database."""

    def __init__(self, schema: str) -> None:
        table = Identifier(schema, _TABLE)
        self._insert_view = SQL(
            "INSERT INTO {} (actor_id, role, case_id, view, case_version, outcome, purpose)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)"
        ).format(table)
        self._insert_list_view = SQL(
            "INSERT INTO {} (actor_id, role, case_id, view, outcome, purpose)"
            " SELECT %s, %s, case_id, %s, 'served', %s FROM unnest(%s::uuid[]) AS named(case_id)"
        ).format(table)

    def view(self, curs: Any, row: tuple[Any, ...]) -> None:
        """One read: (actor, role, case, view, version, outcome, purpose)."""
        curs.execute(self._insert_view, row, prepare=True)

    def list_view(self, curs: Any, row: tuple[str, str, str, str | None], case_ids: Sequence[UUID]) -> None:
        """A list's read, (actor, role, view, purpose), of every case it names, in one statement (a
        page may name hundreds)."""
        curs.execute(self._insert_list_view, (*row, list(case_ids)), prepare=True)
