"""Rows with names: each read model's tables are made from the typed rows its builders return (mypy
checks every builder against them), so a column and the value written to it cannot drift apart.
These tests check what mypy cannot: that each column's SQL type fits its Python type, and that the
rows built from a sample of every kind of entry have one value of that type per column."""

from __future__ import annotations

import typing
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from types import NoneType, UnionType
from typing import Any

import pytest

from events.codec import type_name
from events.entries import ENTRY_KINDS, Entry
from projections.models import MODELS, EventAt, ReadModel
from projections.schema import Column, Table, tables_of
from tests.unit.builders import sample

SQL_TYPES: dict[str, Any] = {
    "uuid": uuid.UUID,
    "timestamptz": datetime,
    "date": date,
    "text": str,
    "text[]": Sequence[str],
    "timestamptz[]": Sequence[datetime],
    "double precision[]": Sequence[float],
    "boolean[]": Sequence[bool | None],
    "smallint": int,
    "integer": int,
    "bigint": int,
    "boolean": bool,
    "double precision": float,
}
"""The Python type a row holds for each SQL type the read models use."""

TABLES = [(model, table) for model in MODELS.values() for table in model.tables]


def _python_type(element: Any) -> tuple[Any, bool]:
    """A row element's Python type and whether it may be None."""
    hint = typing.get_args(element)[0]  # Annotated[hint, Column(...)]
    if typing.get_origin(hint) in (typing.Union, UnionType):
        others = [arg for arg in typing.get_args(hint) if arg is not NoneType]
        return (others[0] if len(others) == 1 else None), len(others) < len(typing.get_args(hint))
    return hint, False


@pytest.mark.parametrize(("model", "table"), TABLES, ids=lambda v: getattr(v, "name", ""))
def test_each_column_s_sql_type_fits_its_python_type(model: type[ReadModel], table: Table) -> None:
    for element, (name, sql) in zip(typing.get_args(table.row), table.columns, strict=True):
        python, nullable = _python_type(element)
        assert python == SQL_TYPES[sql.split(" NOT NULL")[0]], f"{table.name}.{name}"
        assert nullable == ("NOT NULL" not in sql), f"{table.name}.{name}: nullable in one, not the other"


def _fits(value: Any, element: Any) -> bool:
    python, nullable = _python_type(element)
    if value is None:
        return nullable
    if typing.get_origin(python) is Sequence:  # the arrays: text, or derived after each batch
        (item,) = typing.get_args(python)
        return isinstance(value, Sequence) and all(isinstance(v, item) for v in value)
    return isinstance(value, python) and not (python is int and isinstance(value, bool))


def _built(model: ReadModel, entry: Entry) -> list[tuple[str, tuple[Any, ...]]]:
    return list(model.rows(entry, EventAt(7, entry.case_id, 3)))


KINDS_READ = [
    (model, kind) for model in MODELS.values() for kind in ENTRY_KINDS if model().reads(type_name(kind))
]


@pytest.mark.parametrize(
    ("model", "kind"), KINDS_READ, ids=lambda v: getattr(v, "name", None) or type_name(v)
)
def test_each_row_built_has_one_value_of_its_column_s_type_per_column(
    model: type[ReadModel], kind: type[Entry]
) -> None:
    tables = {table.name: table for table in model.tables}
    for name, values in _built(model(), sample(kind)):
        table = tables[name]
        named = table.named(values)  # refuses a row of the wrong length
        misfits = [
            column
            for element, (column, value) in zip(typing.get_args(table.row), named.items(), strict=True)
            if not _fits(value, element)
        ]
        assert misfits == [], f"{name}: {misfits}"


def test_a_table_is_made_from_its_typed_row() -> None:
    row = tuple[
        typing.Annotated[uuid.UUID, Column("case_id", "uuid NOT NULL")],
        typing.Annotated[str | None, Column("note", "text")],
    ]
    (table,) = tables_of(tuple[typing.Literal["notes"], row], indexes={"notes": ("case_id",)})
    assert (table.name, table.columns, table.indexes) == (
        "notes",
        (("case_id", "uuid NOT NULL"), ("note", "text")),
        ("case_id",),
    )
    assert table.position("note") == 3  # after entry_id and corrected, as rows are written
    assert table.named((uuid.UUID(int=1), None)) == {"case_id": uuid.UUID(int=1), "note": None}
    with pytest.raises(ValueError, match=r"shorter|longer"):
        table.named((uuid.UUID(int=1),))


def test_indexes_for_a_table_with_no_row_type_are_refused() -> None:
    row = tuple[typing.Annotated[uuid.UUID, Column("case_id", "uuid NOT NULL")]]
    with pytest.raises(ValueError, match="notes"):
        tables_of(tuple[typing.Literal["cases"], row], indexes={"notes": ("case_id",)})
