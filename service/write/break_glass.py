"""The tables behind break-glass reviews, made with the rest of the write side's tables: governance's
outcome for each break-glass grant, and an index that finds the grants in the log."""

from __future__ import annotations

from psycopg.sql import SQL, Composed, Identifier, Literal

__all__ = ["break_glass_statements"]


def break_glass_statements(schema: str, events_table: str) -> list[Composed]:
    """Statements run at every start-up: each creates only what is missing."""
    index = f"{events_table}_break_glass"
    return [
        SQL(
            "CREATE TABLE IF NOT EXISTS {} (entry_id uuid PRIMARY KEY, case_id uuid NOT NULL,"
            " outcome text NOT NULL CHECK (outcome IN ('appropriate', 'inappropriate')), follow_up text,"
            " reviewed_by text NOT NULL, reviewed_at timestamptz NOT NULL DEFAULT clock_timestamp())"
        ).format(Identifier(schema, "break_glass_reviews")),
        # Only when missing: CREATE INDEX takes its lock on the events table before it looks, and
        # every start-up runs this.
        SQL(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_indexes WHERE schemaname = {} AND indexname = {})"
            " THEN CREATE INDEX {} ON {} (notification_id) WHERE topic = 'break_glass_granted'; END IF;"
            " END $$"
        ).format(Literal(schema), Literal(index), Identifier(index), Identifier(schema, events_table)),
    ]
