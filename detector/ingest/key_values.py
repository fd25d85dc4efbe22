"""Helpers for key/value lines with quoted values (Check Point `key:"value";`, Junos structured data
`key="value"`) and for other formats that cut values out of a text buffer.

The values themselves are found by `key_values_scan` (one compiled pass over each line: quote marks, keys,
first occurrences); an escaped quote in a value reads as HIDDEN_QUOTE. Here: spans of a buffer as strings
(`spans_of`), which rows hold given bytes, placeholders as nulls, milliseconds, and two tables of outcomes put
back in line order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import only_where
from detector.ingest.byte_spans import spans
from detector.ingest.distinct_sql import plain
from detector.ingest.layout_bytes import line_bytes

# An escaped quote (`\"`) is not a quote mark: its value keeps it as this character (as the SQL parsers did).
HIDDEN_QUOTE = "\x1e"


def spans_of(text: pa.Array, begin: np.ndarray, end: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """`byte_spans.spans` over `text`'s own buffer (positions as `layout_bytes.line_bytes` gives them), null
    where `missing`."""
    buffer = (text.buffers()[2] if len(text) else None) or pa.py_buffer(b"")
    return spans(buffer, begin, end, None if missing is None else ~missing)


def byte_positions(text: pa.Array, characters: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Where any of the (single-byte) `characters` occurs in `text`: positions in its buffer (see
    `layout_bytes.line_bytes`), and the row of each."""
    _, data, offsets = line_bytes(text)
    inside = data[offsets[0]:offsets[-1]]
    found = inside == characters[0]
    for character in characters[1:]:
        found |= inside == character
    positions = np.flatnonzero(found) + offsets[0]
    return positions, np.searchsorted(offsets, positions, side="right") - 1


def rows_with(text: pa.Array, characters: bytes) -> np.ndarray:
    """Which rows of `text` hold any of the (single-byte) `characters`: one scan of the buffer, no copy."""
    marked = np.zeros(len(text), bool)
    if len(text):
        marked[byte_positions(text, characters)[1]] = True
    return marked


def without_text(values: pa.Array, placeholders: Sequence[str]) -> pa.Array:
    """`values`, null where the value is one of `placeholders` (SQL's nested `nullif`)."""
    return only_where(values, pc.invert(pc.is_in(values, pa.array(placeholders, pa.string()))))


# The largest number of seconds whose milliseconds fit an int64.
_MAX_SECONDS = (2**63 - 1) // 1000


def milliseconds(seconds: pa.Array) -> pa.Array:
    """Whole seconds as milliseconds; null where that would not fit an int64 (SQL's `* 1000` raised an error)."""
    fits = pc.less_equal(pc.abs(seconds), _MAX_SECONDS)
    return pc.multiply(only_where(seconds, fits), 1000)


def in_line_order(first: pa.Table, second: pa.Table, in_first: np.ndarray) -> pa.Table:
    """Two tables of outcomes, for the lines where `in_first` is true and the others, as one table in line
    order. Columns are decoded where the two differ in type (plain in one, dictionary-encoded in the other)."""
    names = first.column_names
    columns = {}
    for name in names:
        a, b = first.column(name).combine_chunks(), second.column(name).combine_chunks()
        if a.type != b.type:
            a, b = plain(a), plain(b)
        if a.type != b.type:  # a column of nulls only, or a wider type in one of them
            a, b = (a.cast(b.type), b) if pa.types.is_null(a.type) else (a, b.cast(a.type))
        columns[name] = pa.concat_arrays([a, b])
    order = np.empty(len(in_first), np.int64)
    order[np.concatenate([np.flatnonzero(in_first), np.flatnonzero(~in_first)])] = np.arange(len(in_first))
    return pa.table(columns).take(pa.array(order))
