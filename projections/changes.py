"""Which reporting rows changed at which log position: the change log behind incremental reading and
the live feed.

The unit of change is "the rows of one entry in one reporting view": a correction replaces an
entry's rows, a derived value (led to change, resolved at) updates them, and a reader replaces all of
that entry's rows when it sees a change (none left: the change is a removal, a tombstone). Each
tracked table has statement-level triggers that note, in the same transaction as the rows, the
entries whose rows changed:

- ``<model>_changes`` is the log: one row per (position, view, entry), ``removed`` when the entry has
  no rows in the view after that batch. Kept, never updated after its batch commits.
- ``<model>_row_versions`` holds each entry's last change, which the reporting views show as every
  row's ``position`` and ``updated_at``, and the entry's pseudonym (``entry_key``, the keyed hash the
  views name it by), made once when its rows change rather than for every row each time a view is
  read: two SHA-256 a row were most of an export's time. Replacing the pseudonym key rewrites them
  (``projections.reporting.rotate_pseudonym_key``). Every version has one, as the views rely on: the
  key is made with read_meta, before anything writes a version, and the column refuses none.

The position is the last log position of the batch that made the change (``waymark.position``,
set for the transaction by whoever applies events: ``mark_position``). A trigger without it fails the
transaction: a change the log does not name would be invisible to incremental readers.

Triggers rather than a row-level change view: derived values and corrections rewrite rows after the
event that caused them, so "when did this row last change" cannot be computed from the rows; and a
view has nothing to show for rows that are gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from projections.triggers import statement_triggers

__all__ = [
    "POSITION_SETTING",
    "Tracked",
    "change_tables",
    "fill",
    "keep",
    "keyed_hash",
    "mark_position",
    "store_entry_keys",
    "tables",
]

POSITION_SETTING = "waymark.position"
RELOAD = "*"
"""The view name of a log row meaning "everything before this is gone: read the views afresh"."""


@dataclass(frozen=True)
class Tracked:
    """A table whose rows a reporting view shows, and how a changed row names the view's entry."""

    table: str
    view: str
    key: str = "entry_id"
    """The column naming the entry whose view rows changed (a resolution names its escalation)."""
    owner: str = ""
    """The table holding the view's rows of that entry (default: ``table``)."""
    unseen: tuple[str, ...] = ()
    """Derived columns the view does not show: an update of these alone changes none of its rows (a
    reading's link to the next, set again whenever a later reading arrives)."""

    @property
    def rows_of(self) -> str:
        return self.owner or self.table


def keyed_hash(column: str) -> str:
    """SQL for the HMAC-SHA256 of a uuid column under the pseudonym key ``k`` (read_meta.pseudonym_key,
    joined), in hex: ``read_meta.keyed_hash`` (``META_DDL``), which the reporting views call too."""
    return f"read_meta.keyed_hash(k.inner_pad, k.outer_pad, {column})"


_KEY = "LEFT JOIN read_meta.pseudonym_key k ON true"
"""Joined where versions are written; with no key the pseudonym is null, which the column refuses."""


def change_tables(model: str) -> tuple[str, str]:
    """The names of a model's change log and row versions (served as ``read`` views by these names)."""
    return f"{model}_changes", f"{model}_row_versions"


def tables(schema: str, model: str) -> list[str]:
    """DDL for a generation's change log and row versions."""
    log, versions = change_tables(model)
    return [
        f"CREATE TABLE IF NOT EXISTS {schema}.{log} (position bigint NOT NULL, view text NOT NULL,"
        " entry_id uuid NOT NULL, removed boolean NOT NULL, updated_at timestamptz NOT NULL,"
        " PRIMARY KEY (position, view, entry_id))",
        f"CREATE TABLE IF NOT EXISTS {schema}.{versions} (view text NOT NULL, entry_id uuid NOT NULL,"
        " position bigint NOT NULL, updated_at timestamptz NOT NULL, entry_key text NOT NULL,"
        " PRIMARY KEY (view, entry_id))",
        # A reader's "rows changed after P" reads a few recent versions, never all of them.
        f"CREATE INDEX IF NOT EXISTS {versions}_by_position ON {schema}.{versions} (view, position)",
    ]


def _changed(tracked: Tracked, columns: Sequence[str]) -> dict[str, str]:
    """A statement's changed entries, by operation: an update counts only rows it really changed
    (derived values are often set again to what they were), in the columns the view can show."""
    k = tracked.key
    shown = ", ".join(c for c in columns if c not in tracked.unseen) if tracked.unseen else "*"
    new, old = f"SELECT {shown} FROM new_rows", f"SELECT {shown} FROM old_rows"
    return {
        "INSERT": f"SELECT DISTINCT {k} FROM new_rows",
        "DELETE": f"SELECT DISTINCT {k} FROM old_rows",
        "UPDATE": f"SELECT {k} FROM ({new} EXCEPT {old}) n UNION SELECT {k} FROM ({old} EXCEPT {new}) o",
    }


def _log(schema: str, model: str, tracked: Tracked, changed: str) -> str:
    """One statement noting the changed entries in the log and as their rows' last version."""
    log, versions = change_tables(model)
    return f"""WITH changed(id) AS ({changed}), logged AS (
        INSERT INTO {schema}.{log} (position, view, entry_id, removed, updated_at)
        SELECT at, '{tracked.view}', id, NOT EXISTS
            (SELECT 1 FROM {schema}.{tracked.rows_of} r WHERE r.entry_id = id), clock_timestamp()
        FROM changed
        ON CONFLICT (position, view, entry_id)
        DO UPDATE SET removed = excluded.removed, updated_at = excluded.updated_at)
    INSERT INTO {schema}.{versions} (view, entry_id, position, updated_at, entry_key)
        SELECT '{tracked.view}', id, at, clock_timestamp(), {keyed_hash("id")} FROM changed {_KEY}
        ON CONFLICT (view, entry_id)
        DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at,
                      entry_key = excluded.entry_key"""


def keep(schema: str, model: str, tracked: Tracked, columns: Sequence[str]) -> list[str]:
    """The trigger function and triggers that log a tracked table's changes (``columns``: the
    table's, in order)."""
    function = f"{schema}.{tracked.table}_changes"
    branches = "\n".join(
        f"    {'IF' if i == 0 else 'ELSIF'} TG_OP = '{op}' THEN\n        {_log(schema, model, tracked, sql)};"
        for i, (op, sql) in enumerate(_changed(tracked, columns).items())
    )
    body = f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
    at bigint := nullif(current_setting('{POSITION_SETTING}', true), '')::bigint;
BEGIN
    IF at IS NULL THEN
        RAISE EXCEPTION 'a change to {tracked.table} without {POSITION_SETTING}';
    END IF;
{branches}
    END IF;
    RETURN NULL;
END
$body$"""
    return [body, *statement_triggers(f"{schema}.{tracked.table}", f"{tracked.table}_changes", function)]


def fill(schema: str, model: str, tracked: tuple[Tracked, ...], position: int) -> list[str]:
    """After a bulk load: every loaded entry's rows date from the load's position, and the log
    starts with a reload mark there (its earlier changes belonged to the generation replaced)."""
    log, versions = change_tables(model)
    statements = [
        f"INSERT INTO {schema}.{versions} (view, entry_id, position, updated_at, entry_key)"
        f" SELECT '{t.view}', id, {position}, now(), {keyed_hash('id')}"
        f" FROM (SELECT DISTINCT {t.key} AS id FROM {schema}.{t.table}) x {_KEY}"
        " ON CONFLICT (view, entry_id) DO NOTHING"
        for t in tracked
    ]
    statements.append(
        f"INSERT INTO {schema}.{log} VALUES ({position}, '{RELOAD}', '00000000-0000-0000-0000-000000000000',"
        " true, now()) ON CONFLICT DO NOTHING"
    )
    return statements


def store_entry_keys(schema: str, model: str) -> str:
    """Set every version's pseudonym under the key as it now stands (after the key is replaced, or
    for versions written before the column was)."""
    versions = change_tables(model)[1]
    key = keyed_hash("entry_id")
    return f"UPDATE {schema}.{versions} SET entry_key = {key} FROM read_meta.pseudonym_key k"


async def mark_position(conn: asyncpg.Connection, position: int) -> None:
    """Name the position the rest of this transaction's changes belong to."""
    await conn.execute("SELECT set_config($1, $2, true)", POSITION_SETTING, str(position))
