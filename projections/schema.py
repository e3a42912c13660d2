"""Where read models live: one schema per projection generation, stable views in ``read``.

A rebuild fills a fresh generation while the live one keeps serving; switching is one transaction
that moves the ``read`` views to the new tables. Positions live in ``read_meta.generations``, events
a generation could not apply in ``read_meta.parked_events`` (the live ones in ``read.unprojected_entries``).
"""

from __future__ import annotations

import hashlib
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import asyncpg

__all__ = [
    "EVENTS_TABLE",
    "META_DDL",
    "Column",
    "Table",
    "generation_of",
    "generation_schema",
    "install_views",
    "key_of",
    "tables_of",
]

EVENTS_TABLE = "case_records_events"
"""The eventsourcing library's events table for the CaseRecords application (layout pinned by a test)."""
EVENTS_CHANNEL = EVENTS_TABLE
"""The library sends NOTIFY on a channel named after the table with every append."""
POSITIONS_CHANNEL = "waymark_projections"
"""Projectors NOTIFY ``name:position`` here after each committed batch."""

META_DDL = """
CREATE SCHEMA IF NOT EXISTS read_meta;
CREATE SCHEMA IF NOT EXISTS read;
CREATE TABLE IF NOT EXISTS read_meta.generations (
    name text NOT NULL,
    generation integer NOT NULL,
    status text NOT NULL CHECK (status IN ('live', 'building', 'retired')),
    position bigint NOT NULL DEFAULT 0,
    layout text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, generation)
);
ALTER TABLE read_meta.generations ADD COLUMN IF NOT EXISTS stalled text;
CREATE UNIQUE INDEX IF NOT EXISTS one_live_generation ON read_meta.generations (name) WHERE status = 'live';
CREATE UNIQUE INDEX IF NOT EXISTS one_building_generation ON read_meta.generations (name)
    WHERE status = 'building';
CREATE TABLE IF NOT EXISTS read_meta.deferred_corrections (
    schema_name text NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (schema_name, position)
);
CREATE TABLE IF NOT EXISTS read_meta.parked_events (
    name text NOT NULL,
    generation integer NOT NULL,
    position bigint NOT NULL,
    case_id uuid NOT NULL,
    entry_id uuid,
    error text NOT NULL,
    parked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, generation, position)
);
CREATE INDEX IF NOT EXISTS parked_events_by_case ON read_meta.parked_events (case_id);
CREATE TABLE IF NOT EXISTS read_meta.installed_scripts (
    name text PRIMARY KEY,
    fingerprint text NOT NULL,
    views text NOT NULL,
    installed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS read_meta.pseudonym_key (
    only_one boolean PRIMARY KEY DEFAULT true CHECK (only_one),
    inner_pad bytea NOT NULL CHECK (length(inner_pad) = 64),
    outer_pad bytea NOT NULL CHECK (length(outer_pad) = 64),
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE read_meta.pseudonym_key IS
    'The HMAC key of reporting pseudonyms (as its 64-byte pads); replacing it changes every pseudonym.';
REVOKE ALL ON read_meta.pseudonym_key FROM PUBLIC;
CREATE OR REPLACE FUNCTION read_meta.keyed_hash(inner_pad bytea, outer_pad bytea, id uuid) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
    AS $$ SELECT encode(sha256(outer_pad || sha256(inner_pad || uuid_send(id))), 'hex') $$;
COMMENT ON FUNCTION read_meta.keyed_hash(bytea, bytea, uuid) IS
    'HMAC-SHA256 (RFC 2104) of an id under a key given as its pads, in hex: useless without the key.';
CREATE OR REPLACE VIEW read.unprojected_entries AS
    SELECT p.name AS projection, p.position, p.case_id, p.entry_id, p.error, p.parked_at
    FROM read_meta.parked_events p
    JOIN read_meta.generations g ON g.name = p.name AND g.generation = p.generation AND g.status = 'live';
"""


class Column(NamedTuple):
    """One column of a read-model table, as a typed row declares it: ``Annotated[int, Column(...)]``."""

    name: str
    sql: str


@dataclass(frozen=True)
class Table:
    """A read-model table. Every row belongs to the entry that produced it (``entry_id``), so a
    correction can replace exactly those rows, and says whether that entry was corrected.

    Made by ``tables_of`` from a typed row, a tuple type whose elements name their columns: the
    columns cannot differ from what the row builders are type-checked against."""

    name: str
    columns: tuple[tuple[str, str], ...]
    indexes: tuple[str, ...] = ()
    row: Any = field(default=None, compare=False)
    """The typed row the columns come from: ``tuple[Annotated[UUID, Column("case_id", ...)], ...]``."""

    @property
    def column_names(self) -> list[str]:
        """Column names in COPY order, starting with the two every table has."""
        return ["entry_id", "corrected", *(name for name, _ in self.columns)]

    def position(self, column: str) -> int:
        """Where a column sits in a row as written (COPY order), to read written rows by name."""
        return self.column_names.index(column)

    def named(self, values: tuple[Any, ...]) -> dict[str, Any]:
        """A built row's values by column name; a row of the wrong length is refused."""
        return dict(zip((name for name, _ in self.columns), values, strict=True))

    def create(self, schema: str) -> str:
        """DDL for the table in a generation schema (indexes separately, after a bulk load)."""
        columns = ", ".join(f"{name} {kind}" for name, kind in self.columns)
        return (
            f"CREATE TABLE IF NOT EXISTS {schema}.{self.name} "
            f"(entry_id uuid NOT NULL, corrected boolean NOT NULL DEFAULT false, {columns})"
        )

    def create_indexes(self, schema: str) -> list[str]:
        """DDL for the table's indexes: ``columns``, with ``INCLUDE columns`` for a covering index
        and ``WHERE condition`` for a partial one; ``entry_id`` is always indexed, for corrections."""
        statements = []
        for i, spec in enumerate(("entry_id", *self.indexes)):
            columns, _, where = spec.partition(" WHERE ")
            columns, _, include = columns.partition(" INCLUDE ")
            extra = (f" INCLUDE ({include})" if include else "") + (f" WHERE {where}" if where else "")
            statements.append(
                f"CREATE INDEX IF NOT EXISTS {self.name}_{i} ON {schema}.{self.name} ({columns}){extra}"
            )
        return statements


def tables_of(rows: Any, indexes: Mapping[str, tuple[str, ...]]) -> tuple[Table, ...]:
    """A model's tables from the union of its typed rows, ``tuple[Literal["table"], TableRow] | ...``
    (the type its row builders return), with each table's indexes."""
    union = typing.get_origin(rows) in (typing.Union, types.UnionType)
    tables = []
    for member in typing.get_args(rows) if union else (rows,):
        literal, row = typing.get_args(member)
        (name,) = typing.get_args(literal)
        columns = tuple(_column(element) for element in typing.get_args(row))
        tables.append(Table(name, tuple((c.name, c.sql) for c in columns), indexes.get(name, ()), row))
    unknown = set(indexes) - {table.name for table in tables}
    if unknown:
        raise ValueError(f"indexes for tables that have no row type: {sorted(unknown)}")
    return tuple(tables)


def _column(element: Any) -> Column:
    column = next((m for m in getattr(element, "__metadata__", ()) if isinstance(m, Column)), None)
    if column is None:
        raise TypeError(f"{element} does not name its column: Annotated[type, Column(name, sql)]")
    return column


def generation_schema(name: str, generation: int) -> str:
    """The schema holding one generation of a projection's tables."""
    return f"read_{name}_g{generation}"


def generation_of(schema: str) -> int:
    """The generation whose tables a schema holds (``generation_schema``'s number)."""
    return int(schema.rpartition("_g")[2])


def layout_of(tables: tuple[Table, ...], summaries: Sequence[str] = ()) -> str:
    """A fingerprint of the tables' layout (and the summaries' definitions, if any): a change means
    the projection must be rebuilt."""
    text = repr([(t.name, t.columns, t.indexes) for t in tables])
    if summaries:  # without any, the fingerprint is what it was before summaries existed
        text += repr(list(summaries))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def key_of(name: str) -> int:
    """A stable 63-bit advisory-lock key for a projection name."""
    return int.from_bytes(hashlib.sha256(f"waymark:{name}".encode()).digest()[:8], "big") >> 1


async def install_views(conn: asyncpg.Connection, schema: str, tables: Iterable[str]) -> None:
    """Point the stable ``read.<table>`` views at a generation's tables (by name)."""
    for name in tables:
        statement = f"CREATE OR REPLACE VIEW read.{name} AS SELECT * FROM {schema}.{name}"
        try:
            async with conn.transaction():
                await conn.execute(statement)
        except asyncpg.InvalidTableDefinitionError:
            # The columns changed shape: replace the view (and anything built on it, such as the
            # reporting views, which are installed again afterwards).
            await conn.execute(f"DROP VIEW IF EXISTS read.{name} CASCADE")
            await conn.execute(statement)
