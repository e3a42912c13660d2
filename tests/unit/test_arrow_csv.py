"""COPY's CSV as Arrow: the values PostgreSQL writes in text (NULL against the empty string, ``t``/``f``,
array literals, timestamps with and without a fraction, dates, floats) become exactly the Arrow values
the Parquet exports held when they were built from asyncpg's rows; blocks are cut between records only."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa
import pytest

from projections.queries.arrow_csv import CsvBatches, arrow_schema, csv_table

SCHEMA = arrow_schema(
    [
        ("key", "text"),
        ("flag", "bool"),
        ("codes", "text[]"),
        ("at", "timestamptz"),
        ("on", "date"),
        ("score", "float8"),
        ("small", "int2"),
        ("count", "int4"),
        ("position", "int8"),
    ]
)
HEADER = b"key,flag,codes,at,on,score,small,count,position\n"
LINES = (
    b'"",t,{},2026-01-01 10:00:00.123456+00,2026-01-01,0.1,-3,70000,9007199254740993\n'
    b',f,"{a,b}",2026-01-01 10:00:00+00,1999-12-31,-1.5e-07,0,-1,0\n'
    b"x,,,,,,,,\n"
    b'"a ""quoted"", line\nbreak",t,"{a,NULL}",2026-06-30 23:59:59.5+00,2026-06-30,Infinity,1,2,3\n'
)


def test_each_tricky_value_becomes_the_arrow_value_asyncpg_gave() -> None:
    table = csv_table(HEADER + LINES, SCHEMA, header=True)
    assert table.schema == SCHEMA
    assert table.column("key").to_pylist() == ["", None, "x", 'a "quoted", line\nbreak']
    assert table.column("flag").to_pylist() == [True, False, None, True]
    assert table.column("codes").to_pylist() == [[], ["a", "b"], None, ["a", None]]
    assert table.column("at").to_pylist() == [
        datetime(2026, 1, 1, 10, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 1, 1, 10, 0, 0, tzinfo=UTC),
        None,
        datetime(2026, 6, 30, 23, 59, 59, 500000, tzinfo=UTC),
    ]
    assert table.column("on").to_pylist() == [date(2026, 1, 1), date(1999, 12, 31), None, date(2026, 6, 30)]
    assert table.column("score").to_pylist() == [0.1, -1.5e-07, None, float("inf")]
    assert table.column("small").to_pylist() == [-3, 0, None, 1]
    assert table.column("count").to_pylist() == [70000, -1, None, 2]
    assert table.column("position").to_pylist() == [9007199254740993, 0, None, 3]


def test_a_block_after_the_first_has_no_header_line() -> None:
    table = csv_table(LINES, SCHEMA, header=False)
    assert table.num_rows == 4
    assert table.column("codes").to_pylist()[1] == ["a", "b"]


def test_a_header_other_than_the_view_s_columns_is_refused() -> None:
    with pytest.raises(ValueError, match="not the view's"):
        csv_table(b"key,flag\nx,t\n", arrow_schema([("flag", "bool"), ("key", "text")]), header=True)


@pytest.mark.parametrize("literal", ['"{""a b"",c}"', '"{{a,b},{c,d}}"', '"[0:1]={a,b}"'])
def test_an_array_with_quoted_elements_or_nesting_is_refused_not_split_wrongly(literal: str) -> None:
    schema = arrow_schema([("codes", "text[]")])
    with pytest.raises(ValueError, match="array"):
        csv_table(f"codes\n{{a}}\n{literal}\n".encode(), schema, header=True)


def test_header_only_is_an_empty_table_of_the_schema() -> None:
    table = csv_table(HEADER, SCHEMA, header=True)
    assert table.num_rows == 0
    assert table.schema == SCHEMA


def test_blocks_end_between_records_never_inside_a_quoted_line_break() -> None:
    batches = CsvBatches(rows=2)
    data = HEADER + LINES
    pieces = [data[i : i + 7] for i in range(0, len(data), 7)]
    blocks = [block for piece in pieces for block in batches.feed(piece)] + batches.end()
    assert b"".join(blocks) == data
    assert len(blocks) > 1
    tables = [csv_table(block, SCHEMA, header=i == 0) for i, block in enumerate(blocks)]
    assert pa.concat_tables(tables) == csv_table(data, SCHEMA, header=True)
