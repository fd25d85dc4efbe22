"""Arrow columns through SQL once per distinct value: the shared macros' semantics at Arrow's speed.

Formats that tokenise their lines with pyarrow.compute (see arrow_ops.py) still want DuckDB's meaning of
a host, a time or a number. Most fields of a log have far fewer distinct values than lines (hosts, users,
methods, result codes, even times: many lines per second), so each column is dictionary-encoded once and
only its dictionary goes through a `DistinctQuery`; the answers come back dictionary-encoded. These
helpers work on such encoded columns, so a column is hashed once however many queries read it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, authority_and_path, list_item, only_where, spread
from detector.ingest.base import URL_SCHEME, BatchParser, ParseContext, ParseResult, parse_cursor, split_outcomes

# The number casts formats read counts, ports and sizes with, once per distinct value.
INTEGER_SQL = "select try_cast(value as integer) as value from distinct_values"
BIGINT_SQL = "select try_cast(value as bigint) as value from distinct_values"


def sql_literal(text: str) -> str:
    """`text` as a SQL string literal, for what DuckDB takes no parameter for (a time zone in a per-distinct
    query's text, a macro's argument)."""
    return "'" + text.replace("'", "''") + "'"


def in_time_zone(query: str, timezone: str) -> str:
    """A per-distinct query for logs written without a zone: its `@TZ@` placeholders as the configured
    zone (a DistinctQuery takes no parameters)."""
    return query.replace("@TZ@", sql_literal(timezone))


def encoded(values: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    """`values` dictionary-encoded (nulls in the indices, a dictionary without nulls)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        return values
    return pc.dictionary_encode(values)


def without(values: pa.DictionaryArray, placeholders: Sequence[str]) -> pa.DictionaryArray:
    """`values`, null where the value is one of `placeholders` ("no value" spelled as text)."""
    is_placeholder = pc.is_in(values.dictionary, value_set=pa.array(placeholders, pa.string()))
    if not pc.any(is_placeholder).as_py():
        return values
    return only_where(values, pc.invert(is_placeholder).take(values.indices))


def through(
    connection: duckdb.DuckDBPyConnection, query: DistinctQuery, values: pa.DictionaryArray
) -> dict[str, pa.Array]:
    """`query`'s columns for each row of `values` (null where the value is null); text columns stay
    dictionary-encoded."""
    return spread(query.results_for(connection, values.dictionary), values.indices)


def plain(values: pa.Array) -> pa.Array:
    """A dictionary array decoded (for kernels without dictionary support); any other array as it is."""
    return values.dictionary_decode() if pa.types.is_dictionary(values.type) else values


def integers(
    connection: duckdb.DuckDBPyConnection, query: DistinctQuery, values: pa.Array, target: pa.DataType
) -> pa.Array:
    """Text -> integers of type `target` as `query` (`try_cast(value as ...) as value` over distinct values)
    reads them. Plain digits, the usual case, are cast by Arrow without SQL (the same answer); anything
    else (signs, spaces, decimals, placeholders) goes through the query once per distinct value."""
    if not pa.types.is_dictionary(values.type):
        longest = 18 if target.bit_width == 64 else 9  # digits that always fit `target`
        digits = pc.and_(pc.ascii_is_decimal(values), pc.less_equal(pc.binary_length(values), longest))
        if pc.all(pc.fill_null(digits, True)).as_py():
            return pc.cast(values, target)
    return pc.cast(through(connection, query, encoded(values))["value"], target)


# A URL's authority (`user@host:port`, see url_parts) -> host and port, with the shared macros
HOSTPORT_SQL = """
select hostport <> '' as has_hostport, hostport_host(hostport) as host, hostport_port(hostport) as dst_port
from (select authority_hostport(value) as hostport from distinct_values)
"""


def split_scheme(url: pa.Array) -> tuple[pa.Array, pa.Array]:
    """URLs -> each one's scheme as written (null where it has none), and the rest after `scheme://` (the whole
    URL where it has no scheme)."""
    at_scheme = pc.split_pattern(url, "://", max_splits=1)
    first = list_item(at_scheme, 0)
    has_scheme = pc.fill_null(pc.and_(pc.equal(pc.list_value_length(at_scheme), 2),
                                      pc.match_substring_regex(first, f"^{URL_SCHEME}$")), False)
    return only_where(first, has_scheme), pc.if_else(has_scheme, list_item(at_scheme, -1), url)


def url_parts(url: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """URLs with or without a scheme -> scheme (as written; null without one, see base.URL_SCHEME), rest (after `://`,
    else the whole URL, as `url_rest`), authority and path (as `rest_authority` / `rest_path`: null where `url`
    is)."""
    scheme, rest = split_scheme(url)
    authority, path = authority_and_path(rest)
    return scheme, rest, authority, only_where(path, pc.is_valid(rest))


def item_at(lists: pa.ListArray, index: pa.Array) -> pa.Array:
    """Item `index[i]` (0-based, per row) of each list; null where the index is null or past the end."""
    offsets = lists.offsets.to_numpy()
    lengths = np.diff(offsets)
    at = pc.fill_null(index, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    missing = (at < 0) | (at >= lengths) | ~pc.is_valid(index).to_numpy(zero_copy_only=False)
    positions = np.where(missing, 0, offsets[:-1] + at)
    return lists.values.take(pa.array(positions, mask=missing if missing.any() else None))


# Splitting a line into all its fields makes a copy as big as the line, and the fields read from it another:
# a batch parsed in slices of this many lines holds those copies for one slice at a time, not the batch.
SLICE_LINES = 65_536


def in_slices(lines: pa.Table, columns: Callable[[pa.Table], pa.Table], rows: int = SLICE_LINES) -> pa.Table:
    """`columns(lines)` computed slice by slice and put together (a column whose type differs between
    slices, plain in one and dictionary-encoded in another, is decoded)."""
    if lines.num_rows <= rows:
        return columns(lines)
    return put_together([columns(lines.slice(start, rows)) for start in range(0, lines.num_rows, rows)])


def put_together(parts: list[pa.Table]) -> pa.Table:
    """Tables of the same columns computed on parts of a batch (`in_slices`' slices, or parts a format cut
    itself) as one: a column plain in one part and dictionary-encoded in another is decoded."""
    if len(parts) == 1:
        return parts[0]
    names = parts[0].column_names
    mixed = {name for name in names if len({part.schema.field(name).type for part in parts}) > 1}
    if mixed:
        parts = [pa.table({name: plain(part.column(name).combine_chunks()) if name in mixed else part.column(name)
                           for name in names}) for part in parts]
    return pa.concat_tables(parts)


def sliced_parser(context: ParseContext, columns: Callable[[duckdb.DuckDBPyConnection, pa.Table], pa.Table],
                  rows: int = SLICE_LINES) -> BatchParser:
    """A batch parsed slice by slice (`in_slices`) on a cursor of its own: `columns(cursor, slice)` gives the
    slice's `reject_reason` and `is_ignored` beside its event columns."""

    def parse(lines: pa.Table) -> ParseResult:
        with parse_cursor(context.connection) as cursor:
            return split_outcomes(in_slices(lines, lambda part: columns(cursor, part), rows), lines)

    return parse


def chunk_sliced_parser(context: ParseContext, columns: Callable[[duckdb.DuckDBPyConnection, pa.Table], pa.Table],
                        rows: int = SLICE_LINES) -> BatchParser:
    """`sliced_parser`, but no slice straddles two chunks of the batch's line column (the reader's reads of the
    file): a slice's lines are then one array on its chunk's own buffer, where a slice across two chunks has
    them copied into one (`one_array`; for long lines a few per cent of a parse)."""

    def parse(lines: pa.Table) -> ParseResult:
        with parse_cursor(context.connection) as cursor:
            return split_outcomes(in_chunk_slices(lines, lambda part: columns(cursor, part), rows), lines)

    return parse


def even_parts(length: int, wanted: float) -> list[tuple[int, int]]:
    """(start, length) of `length` rows cut into the whole number of about equal parts nearest to `wanted`
    (at least one; no empty part)."""
    parts = max(1, round(wanted))
    cuts = [length * part // parts for part in range(parts + 1)]
    return [(begin, end - begin) for begin, end in itertools.pairwise(cuts) if end > begin]


def in_chunk_slices(lines: pa.Table, columns: Callable[[pa.Table], pa.Table], rows: int = SLICE_LINES) -> pa.Table:
    """`in_slices`, with slices cut at the chunks of the `line` column too: each chunk in as many slices of about
    equal size as are nearest to `rows` lines each (a chunk a little longer than `rows` is one slice, not a full
    one and a small one: each slice has a cost of its own)."""
    bounds = []
    start = 0
    for chunk in lines.column("line").chunks:
        bounds += [(start + begin, length) for begin, length in even_parts(len(chunk), len(chunk) / rows)]
        start += len(chunk)
    if len(bounds) <= 1:
        return columns(lines)
    return put_together([columns(lines.slice(start, length)) for start, length in bounds])
