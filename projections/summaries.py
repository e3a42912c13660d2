"""Summaries: counts kept beside a read model's table, so a question over a year of a large service
reads a few hundred rows instead of every row of the year.

A summary is kept by statement-level triggers on its source table (with transition tables), so it
changes in the same transaction as the rows it counts, whatever wrote them: a batch's rows, the
values derived after it, a correction replacing rows, a retry of parked events. That is exactly once
like the rest of the projection, and nothing that writes rows has to remember the summary. A
rebuild's bulk load has no triggers while it loads; once the derived values are filled and the
tables indexed, ``fill`` counts the whole table and the triggers are created (``keep``).

Rows whose counts fall to zero are deleted, so a summary kept live and one filled by a rebuild hold
the same rows (``tests/projections/test_rebuild.py`` compares them). A ``numeric`` count declares its
scale and each row's contribution is rounded to it before it is summed: numeric sums are exact but
keep the largest scale they added, so a sum kept by adding and taking away would otherwise print
apart from the same sum counted anew (the kill test compares them as text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from projections.triggers import statement_triggers

__all__ = ["Summary"]


@dataclass(frozen=True)
class Summary:
    """Counts of a source table's rows grouped by ``key``.

    ``columns``: the summary's columns as (name, SQL type), the key's first, then the counts.
    ``select``: the key's values and each count's contribution per source row, as SQL expressions
    over ``r`` (a source row), in ``columns`` order; ``where``: which source rows count."""

    name: str
    source: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    select: tuple[str, ...]
    where: str = "true"
    lateral: str = ""
    """More of the FROM clause after the source row ``r`` (", unnest(r.xs) f(x)"): a row may count
    under several keys."""

    def __post_init__(self) -> None:
        for name, kind in self.columns:
            if name in self.counts and kind.startswith("numeric") and _scale(kind) is None:
                raise ValueError(f"{self.name}.{name}: give a numeric count its scale, numeric(p, s)")

    @property
    def counts(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns if name not in self.key)

    def definition(self) -> str:
        """What a change to needs a rebuild (part of the model's layout fingerprint)."""
        return repr((self.name, self.source, self.columns, self.key, self.select, self.where, self.lateral))

    def create(self, schema: str) -> list[str]:
        """DDL for the summary table and its key (the triggers come with ``keep``)."""
        columns = ", ".join(f"{name} {kind} NOT NULL" for name, kind in self.columns)
        table = f"{schema}.{self.name}"
        return [
            f"CREATE TABLE IF NOT EXISTS {table} ({columns})",
            f"CREATE UNIQUE INDEX IF NOT EXISTS {self.name}_key ON {table} ({', '.join(self.key)})",
        ]

    def _grouped(self, schema: str, rows: str, sign: str) -> str:
        """Upsert the counts of ``rows`` (a table or transition table), added or taken away."""
        values = ", ".join(
            f"{sign}sum({_at_scale(expr, kind)})" if name in self.counts else expr
            for (name, kind), expr in zip(self.columns, self.select, strict=True)
        )
        keys = ", ".join(str(i + 1) for i in range(len(self.key)))
        updates = ", ".join(f"{c} = t.{c} + excluded.{c}" for c in self.counts)
        return (
            f"INSERT INTO {schema}.{self.name} AS t SELECT {values}"
            f" FROM {rows} r{self.lateral} WHERE {self.where}"
            f" GROUP BY {keys} ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET {updates}"
        )

    def fill(self, schema: str) -> list[str]:
        """Count the whole source table anew (after a bulk load, or when resuming one)."""
        return [f"TRUNCATE {schema}.{self.name}", self._grouped(schema, f"{schema}.{self.source}", "")]

    def keep(self, schema: str) -> list[str]:
        """The trigger function and the triggers that keep the summary with its source table."""
        function = f"{schema}.{self.name}_keep"
        # Only keys this statement took from can have fallen to zero (every count with the first).
        keys = ", ".join(self.select[: len(self.key)])
        matched = " AND ".join(f"t.{k} = k.{k}" for k in self.key)
        emptied = (
            f"DELETE FROM {schema}.{self.name} t USING (SELECT DISTINCT {keys} FROM old_rows r{self.lateral}"
            f" WHERE {self.where}) k({', '.join(self.key)}) WHERE {matched} AND t.{self.counts[0]} = 0"
        )
        body = f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        {self._grouped(schema, "old_rows", "-")};
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {self._grouped(schema, "new_rows", "")};
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        {emptied};
    END IF;
    RETURN NULL;
END
$body$"""
        return [body, *statement_triggers(f"{schema}.{self.source}", self.name, function)]


def _scale(kind: str) -> int | None:
    """The scale of a ``numeric(p, s)`` type, or None."""
    declared = re.fullmatch(r"numeric\(\s*\d+\s*,\s*(\d+)\s*\)", kind)
    return int(declared.group(1)) if declared else None


def _at_scale(expr: str, kind: str) -> str:
    """A numeric count's contribution rounded to the count's scale (other counts as they are)."""
    scale = _scale(kind)
    return expr if scale is None else f"round({expr}, {scale})"
