"""Arrow building blocks for parsers that split lines with pyarrow.compute instead of one SQL query.

pyarrow's string kernels cost a few nanoseconds per value where DuckDB's string functions cost 40-60,
so a format whose lines split cleanly into tokens parses 2-3x cheaper this way. The semantics that
formats share (host normalisation, result codes, URL decoding) stay in the SQL macros of `base.py`:
`per_distinct` applies them to the distinct values of a low-cardinality column only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# An integer that fits int64 (at most 18 digits), optionally signed: what DuckDB's try_cast accepts.
WHOLE_NUMBER = r"^[+-]?[0-9]{1,18}$"


def list_item(lists: pa.ListArray, index: int) -> pa.Array:
    """Item `index` of each list (0-based; -1 is the last); null where a list is too short.

    (pc.list_element raises on a short list, and has no "last".)
    """
    offsets = lists.offsets.to_numpy()
    lengths = np.diff(offsets)
    if index >= 0:
        missing, positions = lengths <= index, offsets[:-1] + index
    else:
        missing, positions = lengths < -index, offsets[1:] + index
    return lists.values.take(pa.array(positions, mask=missing if missing.any() else None))


def only_where(values: pa.Array, keep: pa.Array) -> pa.Array:
    """`values`, null where `keep` is false or null: a new validity bitmap, no copy of the values."""
    keep = pc.fill_null(keep, False)
    if pc.all(keep).as_py():
        return values
    if pa.types.is_dictionary(values.type):  # the indices nulled: the dictionary stays as it is, encoded
        return pa.DictionaryArray.from_arrays(only_where(values.indices, keep), values.dictionary)
    if values.offset or pa.types.is_nested(values.type):
        # a slice (its buffers start before it: the new bitmap would not line up), or child arrays
        return pc.if_else(keep, values, pa.scalar(None, values.type))
    validity = pc.and_(pc.is_valid(values), keep)  # a new array: its bitmap starts at bit 0
    return pa.Array.from_buffers(values.type, len(values), [validity.buffers()[1], *values.buffers()[1:]])


def whole_number(text: pa.Array) -> tuple[pa.Array, pa.Array]:
    """`text` as int64, and the mask of values that are whole numbers (the others read as 0)."""
    plain = pc.fill_null(pc.and_(pc.ascii_is_decimal(text), pc.less_equal(pc.binary_length(text), 18)), False)
    if pc.all(plain).as_py():  # the usual case; the regular expression costs 5x more
        return pc.cast(text, pa.int64()), plain
    valid = pc.fill_null(pc.match_substring_regex(text, WHOLE_NUMBER), False)
    unsigned = pc.replace_substring_regex(text, r"^\+", "")  # Arrow's cast takes '-' but not '+'
    return pc.cast(pc.if_else(valid, unsigned, "0"), pa.int64()), valid


def trimmed(text: pa.Array) -> pa.Array:
    """`text` without leading or trailing ASCII whitespace; the same array (no copy) when none has any."""
    if len(text) == 0 or text.null_count or text.type != pa.string():
        return pc.ascii_trim_whitespace(text)
    offsets = np.frombuffer(text.buffers()[1], np.int32, len(text) + 1, text.offset * 4)
    data = np.frombuffer(text.buffers()[2], np.uint8)
    filled = offsets[1:] > offsets[:-1]
    edges = np.concatenate([data[offsets[:-1][filled]], data[offsets[1:][filled] - 1]])
    if np.isin(edges, _ASCII_WHITESPACE).any():
        return pc.ascii_trim_whitespace(text)
    return text


_ASCII_WHITESPACE = np.frombuffer(b" \t\n\v\f\r", np.uint8)


class DistinctQuery:
    """A SQL query over `distinct_values(value)`, with its results kept across the batches of a file.

    Each distinct value goes through SQL once per file: after the first batches, result codes, methods
    and content types need no query at all, and hosts or users only their new values. Thread-safe (a
    file's batches are parsed on two threads); at most `limit` values are kept (memory stays bounded:
    past it, the query starts afresh).
    """

    def __init__(self, query: str, limit: int = 100_000) -> None:
        self.query = query
        self._limit = limit
        self._values: pa.Array | None = None
        self._results: pa.Table | None = None
        self._lock = threading.Lock()

    def results_for(self, connection: duckdb.DuckDBPyConnection, values: pa.Array) -> pa.Table:
        """The query's rows for `values` (distinct, no nulls), in their order."""
        with self._lock:
            if self._values is not None and len(self._values) + len(values) > self._limit:
                self._values = self._results = None
            if self._values is None or self._results is None:  # every value is new (even none: for the columns)
                self._values, self._results = values, self.run(connection, values).combine_chunks()
                return self._results
            # One lookup among the known values (a hash table of up to `limit` of them, built per call) finds the
            # known values' rows and which are new; the new ones' rows follow the known ones, in their order.
            at = pc.index_in(values, value_set=self._values)
            if at.null_count:
                rows = pc.fill_null(at, -1).to_numpy(zero_copy_only=False).astype(np.int64)
                new = rows < 0
                unknown = values.filter(pa.array(new))
                found = self.run(connection, unknown)
                rows[new] = np.arange(len(self._values), len(self._values) + len(unknown))
                self._values = pa.concat_arrays([self._values, unknown])
                self._results = pa.concat_tables([self._results, found]).combine_chunks()
                at = pa.array(rows)
            results = self._results
        return results.take(at)

    def run(self, connection: duckdb.DuckDBPyConnection, values: pa.Array) -> pa.Table:
        """The query's rows for `values` (distinct, no nulls), in their order, without the file's cache."""
        connection.register("distinct_values", pa.table({"value": values}))
        try:
            return connection.sql(self.query).to_arrow_table()
        finally:
            connection.unregister("distinct_values")


def per_distinct(
    connection: duckdb.DuckDBPyConnection, values: pa.Array, query: DistinctQuery, where: pa.Array | None = None
) -> dict[str, pa.Array]:
    """Run `query` on the distinct values of `values` and spread its columns back to the rows.

    For columns with few distinct values per batch (result codes, methods, hosts, users) this turns
    per-row SQL into per-distinct SQL. Rows where `where` is false get nulls. Text columns come back
    dictionary-encoded, as the lake writes them, so no per-row copy is made at all.

    Where most of the batch's values differ (more distinct values than MOSTLY_DISTINCT of its rows), they go
    through the query without the file's cache: looking each batch's values up among up to 100k others, and
    copying the cache, cost more than the query does (Defender's inspection records whose every host, SNI and
    user agent differ: ~1.25 s CPU per 308k lines without the cache, ~1.54 s with it).
    """
    encoded = pc.dictionary_encode(values)
    indices = encoded.indices if where is None else only_where(encoded.indices, where)
    if len(encoded.dictionary) > MOSTLY_DISTINCT * len(values):
        return spread(query.run(connection, encoded.dictionary), indices)
    return spread(query.results_for(connection, encoded.dictionary), indices)


MOSTLY_DISTINCT = 0.25


def spread(result: pa.Table, indices: pa.Array) -> dict[str, pa.Array]:
    """Per-distinct answers (one row per dictionary value) spread back to the rows that `indices` point
    at (null where an index is null); text columns stay dictionary-encoded."""
    columns = {}
    for name in result.column_names:
        column = result.column(name).combine_chunks()
        columns[name] = dictionary_array(indices, column) if pa.types.is_string(column.type) else column.take(indices)
    return columns


def dictionary_array(indices: pa.Array, values: pa.Array) -> pa.DictionaryArray:
    """A dictionary array whose nulls are all in its indices (Parquet writers and kernels expect that)."""
    if values.null_count:
        indices = only_where(indices, pc.is_valid(values).take(indices))
        values = pc.fill_null(values, "")
    return pa.DictionaryArray.from_arrays(indices, values)


def authority_and_path(rest: pa.Array) -> tuple[pa.Array, pa.Array]:
    """URL text after `scheme://` -> authority (`user@host:port`) and path (`/...`, no query or fragment).

    Plain splits at '/', '?' and '#' rather than one regular expression: RE2 with groups costs ~0.5 us
    per URL, the splits a tenth of that. A query or fragment right after the authority is rare and
    handled separately.
    """
    at_slash = pc.split_pattern(rest, "/", max_splits=1)
    authority, tail = list_item(at_slash, 0), list_item(at_slash, 1)
    tail = _cut_at(_cut_at(tail, "?"), "#")
    path = pc.binary_join_element_wise("/", pc.fill_null(tail, ""), "")
    # host?query or host#fragment: no '/' before the query or fragment
    early = pc.fill_null(pc.or_(pc.match_substring(authority, "?"), pc.match_substring(authority, "#")), False)
    if pc.any(early).as_py():
        authority = pc.if_else(early, list_item(pc.split_pattern_regex(authority, "[?#]", max_splits=1), 0),
                               authority)
        path = pc.if_else(early, "/", path)
    return authority, path


def _cut_at(text: pa.Array, mark: str) -> pa.Array:
    """`text` up to (without) the first `mark`."""
    return list_item(pc.split_pattern(text, mark, max_splits=1), 0)


def flattened(lists: pa.ListArray) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """A list array's items, the row of each, and which items are the last of their row."""
    offsets = lists.offsets.to_numpy()
    offsets = offsets - offsets[0]
    lengths = np.diff(offsets)
    rows = np.repeat(np.arange(len(lengths)), lengths)
    last = np.zeros(offsets[-1], bool)
    last[offsets[1:][lengths > 0] - 1] = True
    return lists.flatten(), rows, last


def split_quoted(text: pa.Array, sep: str) -> pa.ListArray:
    """`text` split at `sep`, except where `sep` is inside "..." (with "" for a quote): PROXY_MACROS'
    `split_quoted` in pyarrow. Tokens keep their quotes and carry its placeholders (chr(2) for a `sep` inside
    quotes, chr(1) for ""); `quoted_value` turns them back. Only the lines with a quote take the long way."""
    has_quote = pc.fill_null(pc.match_substring(text, '"'), False)
    if pc.any(has_quote).as_py():
        every = pc.all(has_quote).as_py()
        quoted = text if every else text.filter(has_quote)
        if pc.any(pc.match_substring(quoted, '""')).as_py():
            quoted = pc.replace_substring(quoted, '""', "\x01")
        parts_of = pc.split_pattern(quoted, '"')
        parts, rows, _ = flattened(parts_of)
        offsets = parts_of.offsets.to_numpy() - parts_of.offsets[0].as_py()
        inside = pa.array((np.arange(len(parts)) - offsets[rows]) % 2 == 1)  # every second part is quoted
        marked = pc.binary_join_element_wise('"', pc.replace_substring(parts.filter(inside), sep, "\x02"), '"', "")
        joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets, pa.int32()),
                                                         pc.replace_with_mask(parts, inside, marked)), "")
        text = joined if every else pc.replace_with_mask(text, has_quote, joined)
    return pc.split_pattern(text, sep)


def quoted_value(tokens: pa.Array, sep: str) -> pa.Array:
    """A token of `split_quoted` as its text: without its quotes, placeholders back (PROXY_MACROS' `quoted_value`)."""
    quoted = pc.fill_null(pc.and_(pc.and_(pc.starts_with(tokens, '"'), pc.ends_with(tokens, '"')),
                                  pc.greater_equal(pc.binary_length(tokens), 2)), False)
    text = pc.if_else(quoted, pc.utf8_slice_codeunits(tokens, 1, -1), tokens) if pc.any(quoted).as_py() else tokens
    if has_bytes(text, b"\x01\x02"):
        text = pc.if_else(pc.equal(tokens, "\x01"), "",
                          pc.replace_substring(pc.replace_substring(text, "\x02", sep), "\x01", '"'))
    return text


def has_bytes(text: pa.Array, characters: bytes) -> bool:
    """Whether any of the (single-byte) `characters` occurs in `text`'s data: a scan of its buffer, no copy.
    (The buffer of a slice may hold text outside it: a false yes costs only the work it would have saved.)"""
    data = text.buffers()[2] if len(text) else None
    if data is None:
        return False
    octets = np.frombuffer(data, np.uint8)
    return any(bool((octets == character).any()) for character in characters)  # ~8x faster than np.isin


def space_trimmed(text: pa.Array) -> pa.Array:
    """`text` without leading or trailing spaces (only spaces, as DuckDB's `trim`); the same array (no copy)
    when none has any."""
    if len(text) == 0 or text.type != pa.string():
        return pc.utf8_trim(text, " ")
    offsets = np.frombuffer(text.buffers()[1], np.int32, len(text) + 1, text.offset * 4)
    data = np.frombuffer(text.buffers()[2], np.uint8) if text.buffers()[2] is not None else np.zeros(0, np.uint8)
    filled = offsets[1:] > offsets[:-1]
    if (data[offsets[:-1][filled]] == 32).any() or (data[offsets[1:][filled] - 1] == 32).any():
        return pc.utf8_trim(text, " ")
    return text


def without_empty(lists: pa.ListArray) -> pa.ListArray:
    """Each list without its empty strings."""
    items, rows, _ = flattened(lists)
    keep = pc.greater(pc.binary_length(items), 0).to_numpy(zero_copy_only=False)
    counts = np.bincount(rows[keep], minlength=len(lists))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), items.filter(pa.array(keep)))


def fields_in_slices(text: pa.Array, split: Callable[[pa.Array], pa.ListArray], positions: Sequence[int],
                     slice_lines: int = 8_192) -> tuple[pa.Array, list[pa.DictionaryArray]]:
    """The number of fields `split` finds on each line, and the fields at `positions` (0-based; null where a
    line has fewer), dictionary-encoded: most fields repeat a few values, which can then be read once each.
    A slice of lines at a time: the token lists of a whole batch would take several times its size at once
    (and small slices stay in the CPU's caches)."""
    counts: list[pa.Array] = []
    columns: list[list[pa.Array]] = [[] for _ in positions]
    for start in range(0, max(len(text), 1), slice_lines):
        tokens = split(text.slice(start, slice_lines))
        counts.append(pc.list_value_length(tokens))
        for column, position in zip(columns, positions, strict=True):
            column.append(pc.dictionary_encode(list_item(tokens, position)))
    return pa.concat_arrays(counts), [pa.chunked_array(column).unify_dictionaries().combine_chunks()
                                      for column in columns]


def first_bytes(text: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Each line's first byte (0 for an empty or null line), read through the offsets: which lines are headers,
    comments or JSON objects, without a string kernel's pass over the whole text."""
    chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
    parts = [np.zeros(0, np.uint8)]
    for chunk in chunks:
        if len(chunk) == 0:
            continue
        offsets = np.frombuffer(chunk.buffers()[1], np.int32, len(chunk) + 1, chunk.offset * 4)
        filled = offsets[1:] > offsets[:-1]
        if chunk.null_count:
            filled &= pc.is_valid(chunk).to_numpy(zero_copy_only=False)
        first = np.zeros(len(chunk), np.uint8)
        if filled.any():
            first[filled] = np.frombuffer(chunk.buffers()[2], np.uint8)[offsets[:-1][filled]]
        parts.append(first)
    return np.concatenate(parts)


def cut_at(text: pa.Array, mark: str) -> pa.Array:
    """`text` up to (without) its first `mark` (one ASCII character); the same array, uncopied, when its data
    has no `mark` at all (a byte comparison over the buffer costs a fraction of the split)."""
    data = text.buffers()[2] if len(text) else None
    if data is None or not (np.frombuffer(data, np.uint8) == ord(mark)).any():
        return text
    return list_item(pc.split_pattern(text, mark, max_splits=1), 0)


def taken(column: pa.ChunkedArray, positions: np.ndarray) -> pa.Array:
    """`column.take(positions)` (-1 for a null) without copying its chunks into one first, as pyarrow's take of a
    chunked array does: a batch's window of context lines is three chunks of ~30 MB, of which a few lines are
    wanted."""
    if column.num_chunks == 1:
        return column.chunk(0).take(pa.array(positions, mask=positions < 0))
    starts = np.cumsum([0, *(len(chunk) for chunk in column.chunks)])
    chunk_of = np.searchsorted(starts, positions, side="right") - 1
    pieces = []
    for at, chunk in enumerate(column.chunks):
        here = chunk_of == at
        if here.any():
            local = positions[here] - starts[at]
            pieces.append((np.flatnonzero(here), chunk.take(pa.array(local, mask=positions[here] < 0))))
    nulls = np.flatnonzero(positions < 0)
    if len(nulls):
        pieces.append((nulls, pa.nulls(len(nulls), column.type)))
    if not pieces:
        return pa.array([], column.type)
    order = np.concatenate([rows for rows, _ in pieces])
    values = pa.concat_arrays([values for _, values in pieces])
    return values if (np.diff(order) > 0).all() else values.take(pa.array(np.argsort(order)))


def one_array(column: pa.ChunkedArray) -> pa.Array:
    """A column as one array: its only chunk as it is (pyarrow's combine_chunks copies even a single chunk:
    ~0.2 ms per MB, ~10 ms for a batch's lines), several chunks combined."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def positions(column: pa.DictionaryArray) -> np.ndarray:
    """Each row's index into the column's dictionary (int32), -1 where the row is null."""
    indices = column.indices
    return np.asarray(pc.fill_null(indices, -1) if indices.null_count else indices).astype(np.int32, copy=False)


def flags(per_value: pa.Array, column: pa.DictionaryArray | None = None) -> np.ndarray:
    """A boolean (null as false) per value, or with `column`: per row of it, through its indices (false
    where the row is null)."""
    values = pc.fill_null(per_value, False).to_numpy(zero_copy_only=False)
    return values if column is None else np.append(values, False)[positions(column)]
