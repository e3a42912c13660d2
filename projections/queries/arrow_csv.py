"""PostgreSQL's ``COPY ... (FORMAT csv, HEADER)`` output as Arrow tables, parsed by pyarrow's CSV reader
(C++) with the types of the query's columns: the Parquet exports' rows never become Python objects.

The text is what COPY writes in a session with ``TimeZone = 'UTC'`` and ``DateStyle = 'ISO'``: NULL an
unquoted empty field, the empty string ``""``, booleans ``t``/``f``, timestamps
``2026-01-01 10:00:00.123456+00``, arrays as literals ``{a,b}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

__all__ = ["ARROW_TYPES", "CsvBatches", "arrow_schema", "csv_table"]

ARROW_TYPES: Mapping[str, pa.DataType] = {
    "text": pa.string(),
    "text[]": pa.list_(pa.string()),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "float8": pa.float64(),
    "int2": pa.int16(),
    "int4": pa.int32(),
    "int8": pa.int64(),
    "timestamptz": pa.timestamp("us", tz="UTC"),
}
"""The Arrow type of each PostgreSQL type (by asyncpg's name) the exported views use."""

_LIST = pa.list_(pa.string())
_EMPTY_LIST = pa.scalar([], _LIST)
_NULL_TEXT = pa.scalar(None, pa.string())
# An array literal this module reads exactly: braces around unquoted elements, nothing nested.
_SIMPLE_ARRAY = r'^\{[^{}"]*\}$'
_PARSE = pacsv.ParseOptions(newlines_in_values=True)  # a quoted value may hold a line break


def arrow_schema(columns: Iterable[tuple[str, str]]) -> pa.Schema:
    """The Arrow schema of columns given as (name, PostgreSQL type name)."""
    return pa.schema([(name, ARROW_TYPES[type_name]) for name, type_name in columns])


def csv_table(block: bytes, schema: pa.Schema, *, header: bool) -> pa.Table:
    """Complete CSV lines as a table of ``schema``; ``header``: the block starts with the header line,
    which must name the schema's columns in order."""
    # One thread: the block is parsed beside COPY already, and the reader's own threads raised the
    # service's peak RSS by about 90 MB (memory the allocator keeps per thread) for no time to speak of.
    read = pacsv.ReadOptions(column_names=None if header else schema.names, use_threads=False)
    convert = pacsv.ConvertOptions(
        column_types={f.name: pa.string() if f.type == _LIST else f.type for f in schema},
        true_values=["t"],
        false_values=["f"],
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    table = pacsv.read_csv(pa.py_buffer(block), read, _PARSE, convert)
    if table.column_names != schema.names:
        raise ValueError(f"COPY's columns {table.column_names} are not the view's {schema.names}")
    columns = [
        _lists(column) if field.type == _LIST else column
        for column, field in zip(table.columns, schema, strict=True)
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def _lists(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Array literals (``{a,b}``, ``{}``) as lists of strings; NULL stays null, a ``NULL`` element is a
    null element. An element PostgreSQL had to quote (it holds a comma, quote, brace, backslash or
    space, or is empty) or a nested array is refused, not guessed at: the exported arrays hold codes."""
    if not pc.all(pc.match_substring_regex(column, _SIMPLE_ARRAY), min_count=0).as_py():
        raise ValueError("an array value has quoted elements or nesting, which exports cannot split")
    return pa.chunked_array([_split(chunk) for chunk in column.chunks], type=_LIST)


def _split(chunk: pa.StringArray) -> pa.ListArray:
    inner = pc.utf8_slice_codeunits(chunk, 1, -1)
    lists = pc.if_else(pc.equal(inner, ""), _EMPTY_LIST, pc.split_pattern(inner, ","))
    values = pc.if_else(pc.equal(lists.values, "NULL"), _NULL_TEXT, lists.values)
    return pa.ListArray.from_arrays(lists.offsets, values, mask=lists.is_null())


class CsvBatches:
    """Cuts COPY's chunks into blocks of complete CSV records, about ``rows`` lines each: a line break
    ends a record only after an even number of quotes (quotes come in pairs around and inside values)."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.pending: list[bytes] = []
        self.lines = 0

    def feed(self, data: bytes) -> list[bytes]:
        """The blocks ``data`` completes (usually none)."""
        self.pending.append(data)
        self.lines += data.count(b"\n")
        if self.lines < self.rows:
            return []
        text = b"".join(self.pending)
        cut = text.rfind(b"\n")
        while cut >= 0 and text.count(b'"', 0, cut) % 2:
            cut = text.rfind(b"\n", 0, cut)
        rest = text[cut + 1 :]
        self.pending, self.lines = [rest], rest.count(b"\n")
        return [text[: cut + 1]] if cut >= 0 else []

    def end(self) -> list[bytes]:
        """The last block, once COPY is done."""
        text, self.pending, self.lines = b"".join(self.pending), [], 0
        return [text] if text else []
