"""Columns the proxy formats (Squid common/extended, Cisco WSA, W3C, CSV) build alike from Arrow tokens.

A URL's scheme, host, port and path are read once per distinct URL (pyarrow splits on the dictionary,
the shared host macros once per distinct authority); a field read from one of several candidates per
row (the URL's host, else the SNI, else the Host header) is chosen on the dictionary indices, so text
columns stay dictionary-encoded down to the lake writer and no string is copied per row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from detector.ingest.arrow_ops import (
    DistinctQuery,
    dictionary_array,
    fields_in_slices,
    list_item,
    one_array,
    only_where,
    per_distinct,
    spread,
)
from detector.ingest.distinct_sql import HOSTPORT_SQL, encoded, url_parts
from detector.schema import TIMESTAMP

# Lines tokenised at once: each token of a slice is copied out of its lines, so a batch is parsed a slice at
# a time (Cisco WSA at 1M lines: 65,536-line slices 733 MiB peak, 16,384 515 MiB and a little less CPU).
TOKEN_SLICE = 16_384
# Lines read by the CSV reader at once (W3C, CSV): it copies only the values read, in bigger steps.
VALUE_SLICE = 65_536
TEXT_DICTIONARY = pa.dictionary(pa.int32(), pa.string())
# The memory pool of read_regular_lines' joined lines, a temporary freed once the CSV reader has read them: glibc's
# heap, which stages.tune_allocators keeps (a buffer under its 256 MiB mapping threshold is reused, not mapped anew).
JOIN_POOL = pa.system_memory_pool()
# `host` -> whether it is an address (PROXY_MACROS' is_ip_literal, in Arrow)
IP_LITERAL = r"^[0-9.]+$"
# One step per distinct value: the same query text for every format that reads a number this way.
DASH_BIGINT_SQL = "select try_cast(null_if_dash(value) as bigint) as value from distinct_values"
DASH_INTEGER_SQL = "select try_cast(null_if_dash(value) as integer) as value from distinct_values"
# Epoch seconds as `cast(try_cast(value as decimal(18, 6)) as double)` reads them, for what EPOCH_SECONDS misses
EPOCH_SQL = "select to_timestamp(cast(try_cast(value as decimal(18, 6)) as double)) as ts from distinct_values"
# time.ms as Squid writes it (%ts.%03tu); exact to the microsecond through float64 for 12-digit seconds
EPOCH_SECONDS = r"^[0-9]{1,12}(\.[0-9]{1,6})?$"


class UrlQueries:
    """The per-distinct query of a file's URL authorities (kept across its batches)."""

    def __init__(self) -> None:
        self.hostport = DistinctQuery(HOSTPORT_SQL)


def url_columns(connection: duckdb.DuckDBPyConnection, queries: UrlQueries, url: pa.Array,
                bare: str | None = None, bare_pattern: str = "^[^/]", connect: pa.Array | None = None
                ) -> dict[str, pa.Array]:
    """Per row of `url`: `scheme` (lower case; null without `://`), `has_rest` (it has `://`), `host` and
    `dst_port` of its authority and `url_path` (as url_scheme, url_rest, rest_authority, hostport_host,
    hostport_port and rest_path read it; null without `://`), and `connect_host` / `connect_port`, the
    URL read as a CONNECT target `host:port` (only on the rows `connect` marks, when given). With `bare`
    ("/" or "/?"), a URL without `://` that matches `bare_pattern` is read as `host[:port]/path` instead,
    its authority ending at the first of those characters (`split_part`), and `bare_path` is its path
    where it has one. All computed on the distinct URLs only."""
    urls = encoded(url)
    scheme, _, authority, path = url_parts(urls.dictionary)
    has_rest = pc.is_valid(scheme)
    by_url = {
        "scheme": pc.utf8_lower(scheme),
        "has_rest": has_rest,
        "url_path": only_where(path, has_rest),
    }
    if bare:
        without_scheme = urls.dictionary
        for mark in bare:
            without_scheme = list_item(pc.split_pattern(without_scheme, mark, max_splits=1), 0)
        is_bare = pc.and_(pc.invert(has_rest), pc.match_substring_regex(urls.dictionary, bare_pattern))
        authority = pc.if_else(has_rest, authority, only_where(without_scheme, is_bare))
        place = hostports(connection, queries, authority)
    else:
        place = hostports(connection, queries, only_where(authority, has_rest))
    by_url["host"], by_url["dst_port"] = place["host"], place["dst_port"]
    if bare:  # the path of a bare host/path (not of a path alone)
        by_url["bare_path"] = only_where(path, pc.and_(is_bare, pc.match_substring(urls.dictionary, "/")))
    else:  # as CONNECT targets: only the URLs of CONNECT lines, where the caller says which they are
        targets = urls.dictionary
        if connect is not None:
            read = np.zeros(len(targets), bool)
            read[pc.drop_null(urls.indices.filter(connect)).to_numpy(zero_copy_only=False)] = True
            targets = only_where(targets, pa.array(read))
        target = hostports(connection, queries, targets)
        by_url["connect_host"], by_url["connect_port"] = target["host"], target["dst_port"]
    return spread(pa.table(by_url), urls.indices)


def hostports(connection: duckdb.DuckDBPyConnection, queries: UrlQueries, authority: pa.Array) -> dict[str, pa.Array]:
    """`host` and `dst_port` of each authority (`user@host:port`; null where it is null), once per distinct one."""
    authorities = encoded(authority)
    return spread(queries.hostport.results_for(connection, authorities.dictionary), authorities.indices)


def is_ip_literal(host: pa.Array) -> pa.Array:
    """Whether each host is an address (digits and dots, or any ':'); null where the host is null."""
    hosts = encoded(host)
    words = hosts.dictionary
    literal = pc.or_(pc.match_substring_regex(words, IP_LITERAL), pc.match_substring(words, ":"))
    return literal.take(hosts.indices)


def leading_marked(text: pa.Array) -> int:
    """How many lines at the start of `text` begin with a byte order mark, which Arrow's CSV reader drops from
    the first line it reads (one vectorised pass, and only when the first line has one)."""
    if not len(text) or not (text[0].as_py() or "").startswith("\ufeff"):
        return 0
    marked = pc.fill_null(pc.starts_with(text, "\ufeff"), False).to_numpy(zero_copy_only=False)
    return len(text) if marked.all() else int(np.argmin(marked))


def text_data(text: pa.Array) -> np.ndarray:
    """The bytes of a string array's values (of a slice: only its own), without a copy."""
    if len(text) == 0 or text.buffers()[2] is None:
        return np.zeros(0, np.uint8)
    offsets = np.frombuffer(text.buffers()[1], np.int32, 2, text.offset * 4), \
        np.frombuffer(text.buffers()[1], np.int32, 1, (text.offset + len(text)) * 4)
    return np.frombuffer(text.buffers()[2], np.uint8)[offsets[0][0]:offsets[1][0]]


def last_bytes(text: pa.Array) -> np.ndarray:
    """The last byte of each value of `text` (0 where it is empty or null; arrow_ops.first_bytes: the first)."""
    if len(text) == 0 or text.buffers()[2] is None:
        return np.zeros(len(text), np.uint8)
    offsets = np.frombuffer(text.buffers()[1], np.int32, len(text) + 1, text.offset * 4)
    filled = offsets[1:] > offsets[:-1]
    if text.null_count:
        filled &= pc.is_valid(text).to_numpy(zero_copy_only=False)
    last = np.zeros(len(text), np.uint8)
    if filled.any():
        last[filled] = np.frombuffer(text.buffers()[2], np.uint8)[offsets[1:][filled] - 1]
    return last


def list_items(lists: pa.ListArray, indices: Sequence[int]) -> list[pa.Array]:
    """Items `indices` (0-based) of each list, null where a list is too short: as arrow_ops.list_item for each
    index, in one take (the columns one after the other in its result, each a slice of it)."""
    offsets = lists.offsets.to_numpy()
    wanted = np.asarray(indices)[:, None]
    missing = np.diff(offsets)[None, :] <= wanted
    positions = offsets[:-1][None, :] + wanted
    items = lists.values.take(pa.array(positions.ravel(), mask=missing.ravel() if missing.any() else None))
    rows = len(lists)
    return [items.slice(i * rows, rows) for i in range(len(indices))]


def has_text(text: pa.Array, needle: bytes) -> bool:
    """Whether `needle` (two bytes or more) occurs in any value of `text` (or across two of them: a false
    yes costs only the work it would have saved). A scan of the buffer for its first byte, then its places
    only: several times cheaper than pc.match_substring over a whole batch."""
    data = text_data(text)
    places = np.flatnonzero(data[: len(data) - len(needle) + 1] == needle[0])
    for shift, byte in enumerate(needle[1:], start=1):
        places = places[data[places + shift] == byte]
    return len(places) > 0


def has_control_bytes(text: pa.Array) -> bool:
    """Whether any value of `text` holds a control character (tab, newline, chr(1) ...: below a space). (The
    smallest byte: a reduction without the temporary array of a comparison, ~5x cheaper.)"""
    data = text_data(text)
    return bool(len(data)) and int(data.min()) < 32


def first_valid(*columns: pa.Array) -> pa.DictionaryArray:
    """Per row, the value of the first of `columns` that is not null there (SQL's coalesce), kept
    dictionary-encoded: the choice is made on the indices, the dictionaries are put one after the other.
    A column of one row stands for a constant (its value on every row)."""
    rows = max(len(column) for column in columns)
    chosen = np.full(rows, -1, np.int64)
    dictionaries: list[pa.Array] = []
    start = 0
    for column in columns:
        column = encoded(column)
        indices = pc.fill_null(column.indices, -1).to_numpy(zero_copy_only=False)
        if len(indices) < rows:  # a constant
            indices = np.broadcast_to(indices, rows)
        free = (chosen < 0) & (indices >= 0)
        chosen[free] = indices[free] + start
        dictionaries.append(column.dictionary)
        start += len(column.dictionary)
    missing = chosen < 0
    indices = pa.array(chosen.astype(np.int32), mask=missing if missing.any() else None)
    return dictionary_array(indices, pa.concat_arrays(dictionaries) if dictionaries else pa.array([], pa.string()))


def joined_pairs(left: pa.DictionaryArray, right: pa.DictionaryArray) -> pa.DictionaryArray:
    """`left || ' ' || right` per row (null where either is), the text made once per distinct pair."""
    left_at = pc.fill_null(left.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    right_at = pc.fill_null(right.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    missing = (left_at < 0) | (right_at < 0)
    width = max(len(right.dictionary), 1)
    pairs = pc.dictionary_encode(pa.array(left_at * width + right_at, mask=missing if missing.any() else None))
    pair = pairs.dictionary.to_numpy(zero_copy_only=False)
    text = pc.binary_join_element_wise(left.dictionary.take(pa.array(pair // width)),
                                       right.dictionary.take(pa.array(pair % width)), " ")
    return pa.DictionaryArray.from_arrays(pairs.indices, text)


def placed(rows: int, parts: list[tuple[np.ndarray, pa.Array]]) -> pa.DictionaryArray:
    """One dictionary-encoded column of `rows` rows put together from parts, each given as (the rows it
    covers, its values there): their dictionaries one after the other, each part's indices shifted past the
    ones before it; null on the rows no part covers. In int32, with a pass for nulls only where a part has any."""
    if len(parts) == 1 and len(parts[0][0]) == rows and (rows < 2 or (np.diff(parts[0][0]) > 0).all()):
        return encoded(parts[0][1])  # one part covering every row, in order
    chosen = np.full(rows, -1, np.int32)
    dictionaries: list[pa.Array] = []
    start = 0
    for part_rows, values in parts:
        values = encoded(values)
        if values.null_count:
            chosen[part_rows] = pc.fill_null(pc.add(values.indices, pa.scalar(start, pa.int32())), -1).to_numpy()
        else:
            chosen[part_rows] = np.asarray(values.indices).astype(np.int32, copy=False) + np.int32(start)
        dictionaries.append(values.dictionary)
        start += len(values.dictionary)
    missing = chosen < 0
    return dictionary_array(pa.array(chosen, mask=missing if missing.any() else None),
                            pa.concat_arrays(dictionaries) if dictionaries else pa.array([], pa.string()))


def delimited_fields(text: pa.Array, delimiter: str, column_count: int, positions: Sequence[int], regular: str,
                     split: Callable[[pa.Array], pa.ListArray], clean: Callable[[pa.DictionaryArray], pa.Array]
                     ) -> tuple[pa.Array, pa.Array, dict[int, pa.DictionaryArray]]:
    """Which lines are regular (match the pattern `regular`: lines Arrow's CSV reader and `split` read alike),
    each line's number of fields, and its fields at `positions` (0-based), dictionary-encoded and `clean`ed
    (once per distinct value). Regular lines are read by the CSV reader (`"` quotes, `""` for a quote inside),
    the others by `split` (a quote-aware split, slower)."""
    is_regular = bools(pc.fill_null(pc.and_(pc.match_substring_regex(text, regular),
                                            pc.greater(pc.binary_length(text), 0)), False))
    counts, values = fields_of_lines(text, delimiter, column_count, positions, is_regular, split, clean)
    return pa.array(is_regular), counts, values


def fields_of_lines(text: pa.Array, delimiter: str, column_count: int, positions: Sequence[int],
                    is_regular: np.ndarray, split: Callable[[pa.Array], pa.ListArray],
                    clean: Callable[[pa.DictionaryArray], pa.Array],
                    regular_instead: tuple[np.ndarray, pa.Array] | None = None
                    ) -> tuple[pa.Array, dict[int, pa.DictionaryArray]]:
    """Each line's number of fields, and its fields at `positions` (0-based), dictionary-encoded and `clean`ed
    (once per distinct value): the lines `is_regular` marks (those Arrow's CSV reader and `split` read alike)
    by the CSV reader (`"` quotes, `""` for a quote inside), the others by `split` (a quote-aware split,
    slower). As `delimited_fields`, for a caller that decides which lines are regular itself. `regular_instead`
    (rows, texts): lines that are not regular, given as regular texts `split` would read alike, which the CSV
    reader reads instead of `split` reading the lines."""
    rows = len(text)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, pa.Array]]] = []
    every = bool(is_regular.all())
    split_mask = ~is_regular
    if every or is_regular.any() or regular_instead is not None:
        read_rows = np.arange(rows) if every else np.flatnonzero(is_regular)
        # (copies of the lines read, temporaries of a slice's size: from JOIN_POOL as the joined lines)
        read_text = text if every else pc.filter(text, pa.array(is_regular), memory_pool=JOIN_POOL)
        if regular_instead is not None and len(regular_instead[0]):
            read_rows = np.concatenate([read_rows, regular_instead[0]])
            read_text = pa.concat_arrays([read_text, regular_instead[1]], memory_pool=JOIN_POOL)
            split_mask[regular_instead[0]] = False
        # The CSV reader drops a byte order mark at the start of what it reads, wherever the line stood in the
        # file (a file's first line, or one of a concatenated file's): such lines are split instead.
        if marked := leading_marked(read_text):
            split_mask[read_rows[:marked]] = True
            read_rows, read_text = read_rows[marked:], read_text.slice(marked)
        if len(read_rows):
            counts, kept, read = read_regular_lines(read_text, delimiter, column_count, positions)
            parts.append((read_rows, counts, read_rows if kept.all() else read_rows[kept], read))
    if split_mask.any():
        split_rows = np.flatnonzero(split_mask)
        counts, fields = fields_in_slices(text.take(pa.array(split_rows)), split, positions)
        parts.append((split_rows, counts.to_numpy(zero_copy_only=False), split_rows,
                      dict(zip(positions, fields, strict=True))))
    all_counts = np.zeros(rows, np.int64)
    for part_rows, counts, _, _ in parts:
        all_counts[part_rows] = counts
    values = {position: clean(placed(rows, [(value_rows, part_values[position])
                                            for _, _, value_rows, part_values in parts]))
              for position in positions}
    return pa.array(all_counts), values


def read_regular_lines(text: pa.Array, delimiter: str, column_count: int, positions: Sequence[int]
                       ) -> tuple[np.ndarray, np.ndarray, dict[int, pa.DictionaryArray]]:
    """Regular lines through Arrow's CSV reader: their field counts, which lines were read (a line with another
    number of fields is skipped by the reader and its count noted: its values are never read), and the fields
    at `positions` of those read, dictionary-encoded by the reader itself."""
    wrong: list[tuple[int, int]] = []

    def note(row: pacsv.InvalidRow) -> str:
        wrong.append((row.number, row.actual_columns))
        return "skip"

    names = [f"c{i}" for i in range(column_count)]
    # (the joined lines, a slice's size, taken from the C library's heap: from the pipeline's jemalloc pool each
    # one was fresh pages, faulted in again every slice, ~10 ms per 65,536 lines against ~2)
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(text)], pa.int32()), text), "\n",
                            memory_pool=JOIN_POOL)[0]
    table = pacsv.read_csv(
        pa.BufferReader(joined.as_buffer()),
        read_options=pacsv.ReadOptions(use_threads=False, column_names=names, block_size=1 << 20),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                                         newlines_in_values=False, ignore_empty_lines=False,
                                         invalid_row_handler=note),
        convert_options=pacsv.ConvertOptions(column_types={names[p]: TEXT_DICTIONARY for p in positions},
                                             include_columns=[names[p] for p in positions],
                                             strings_can_be_null=False, quoted_strings_can_be_null=False,
                                             check_utf8=False),
    )
    counts = np.full(len(text), column_count, np.int64)
    kept = np.ones(len(text), bool)
    if wrong:
        numbers, found = np.array(wrong).T
        counts[numbers - 1] = found
        kept[numbers - 1] = False
    # (the reader's blocks each have their own dictionary: combined, they are unified)
    return counts, kept, {p: table.column(names[p]).combine_chunks() for p in positions}


def where(condition: pa.Array, values: pa.Array) -> pa.Array:
    """`values` where `condition` is true, else null (SQL's `case when condition then values end`)."""
    return only_where(values, condition)


def no_text(rows: int) -> pa.DictionaryArray:
    """A text column of nulls, dictionary-encoded like the others (the runs of a batch concatenate)."""
    return pa.DictionaryArray.from_arrays(pa.nulls(rows, pa.int32()), pa.array([], pa.string()))


def constant_text(texts: pa.Array, choice: np.ndarray) -> pa.DictionaryArray:
    """A text column from a few constants: row i is `texts[choice[i]]` (null where choice is negative)."""
    missing = choice < 0
    return pa.DictionaryArray.from_arrays(
        pa.array(choice.astype(np.int32), mask=missing if missing.any() else None), texts)


def epoch_times(connection: duckdb.DuckDBPyConnection, query: DistinctQuery, text: pa.Array) -> pa.Array:
    """Epoch seconds (`time.ms`) -> timestamps, null where not a number of seconds. Plain `digits.digits`
    (up to 12 and 6) is read with float64 (exact to the microsecond, the same as the decimal cast); other
    spellings go through `query` once per distinct value."""
    plain_epoch = pc.fill_null(pc.match_substring_regex(text, EPOCH_SECONDS), False)
    micros = pc.round(pc.multiply(pc.cast(pc.if_else(plain_epoch, text, "0"), pa.float64()), 1e6))
    ts = pc.cast(pc.cast(micros, pa.int64()), TIMESTAMP)
    odd = pc.and_(pc.invert(plain_epoch), pc.is_valid(text))
    if pc.any(odd).as_py():
        spelled = per_distinct(connection, text, query, where=odd)["ts"]
        return pc.if_else(plain_epoch, ts, pc.cast(spelled, TIMESTAMP))
    return only_where(ts, plain_epoch)


def bools(mask: pa.Array) -> np.ndarray:
    """A boolean array (no nulls) as numpy."""
    return mask.to_numpy(zero_copy_only=False)


def first_reasons(reasons: list[tuple[pa.Array, str | Callable[[], pa.Array]]], rows: int) -> pa.Array:
    """Per row, the first reason whose condition holds (a text, or a function making one text per row,
    called only when some row needs it); null where none does."""
    conditions = [pc.fill_null(condition, False) for condition, _ in reasons]
    if not any(pc.any(condition).as_py() for condition in conditions):
        return pa.nulls(rows, pa.string())
    texts = [reason() if callable(reason) else reason for _, reason in reasons]
    # (a text null on some row gives no reason there, as `'...' || null` in SQL)
    return pc.case_when(pa.StructArray.from_arrays(conditions, names=[str(i) for i in range(len(conditions))]),
                        *texts)


# Tokens found with numpy on a string array's buffer: the places of a separator byte, then each wanted
# token gathered from them. A split with pyarrow copies every token of every line into a list array;
# this copies only the tokens read.

def read_in_slices(text: pa.Array, read: Callable[[pa.Array], tuple[list[pa.Array], list[pa.Array]]],
                   slice_lines: int = TOKEN_SLICE) -> tuple[list[pa.Array], list[pa.DictionaryArray]]:
    """`read` (a slice of lines -> columns kept as they are, text columns to encode) a slice at a time, put
    together. The columns to encode (those read once per distinct value) are dictionary-encoded per slice (the
    token lists of a slice are freed before the next; repeating values take little room encoded) and their
    dictionaries put one after the other, not unified (a value in several slices is then read once per slice;
    unifying all-distinct values costs more than encoding them). The columns are then made once for the batch:
    a step per slice costs a few hundred kernel calls, a tenth of a slice's work."""
    kept_parts: list[list[pa.Array]] = []
    encoded_parts: list[list[pa.DictionaryArray]] = []
    for start in range(0, max(len(text), 1), slice_lines):
        kept, to_encode = read(text.slice(start, slice_lines))
        kept_parts.append(kept)
        encoded_parts.append([encoded(column) for column in to_encode])
    if len(kept_parts) == 1:
        return kept_parts[0], encoded_parts[0]
    return ([pa.concat_arrays([part[i] for part in kept_parts]) for i in range(len(kept_parts[0]))],
            [_one_after_the_other([part[i] for part in encoded_parts]) for i in range(len(encoded_parts[0]))])


def _one_after_the_other(columns: list[pa.DictionaryArray]) -> pa.DictionaryArray:
    """Dictionary-encoded columns concatenated: their dictionaries one after the other, each column's indices
    shifted past the dictionaries before it."""
    shift = np.cumsum([0] + [len(column.dictionary) for column in columns[:-1]])
    indices = pa.concat_arrays([pc.add(column.indices, pa.scalar(int(start), pa.int32()))
                                for column, start in zip(columns, shift, strict=True)])
    return pa.DictionaryArray.from_arrays(indices, pa.concat_arrays([column.dictionary for column in columns]))


def line_text(lines: pa.Table) -> pa.Array:
    """A batch's lines as one array, without a copy when they are one chunk (as the reader mostly gives them)."""
    return one_array(lines.column("line"))
