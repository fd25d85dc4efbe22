"""Key/value lines with quoted values (Check Point `key:"value";`, Junos structured data `key="value"`),
read with numpy and pyarrow instead of a list search per key in SQL.

A line's quote marks alternate: text outside quotes, then a quoted value, so words inside a quoted value (a
message, a user agent) can never pass for a key. The text before each opening mark ends with the key of the
value after it (`; src:`, ` source-address=`); before the first, with the header and the first key.
`quote_marks` finds the marks with numpy in the text's buffer, giving every line an even number of them, so
that marks 0, 2, 4, ... open values for all lines at once; `marked_values` matches the text before each
opening mark against the wanted keys by one hash lookup each, places each key's first mark in a line into a
key-by-line grid, cuts all those values out of the same buffer in one pass in its order (no copy of the text),
and takes each key's column from them. `quote_marks` also keeps where the escaped quotes (`\\"`) it skipped
are, so only the values that hold one are rewritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import has_bytes, list_item, only_where
from detector.ingest.distinct_sql import plain
from detector.ingest.layout_bytes import line_bytes

# An escaped quote (`\"`) is not a quote mark: its value keeps it as this character (as the SQL parsers did).
HIDDEN_QUOTE = "\x1e"


def last_words(text: pa.Array) -> pa.Array:
    """The text after the last space (all of it when there is none)."""
    return list_item(pc.split_pattern(text, " ", max_splits=1, reverse=True), -1)


def spans_of(text: pa.Array, begin: np.ndarray, end: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """The text from `begin` to `end` (positions in `text`'s buffer, see `layout_bytes.line_bytes`, in increasing
    order, spans not overlapping), null where `missing`: one `take` of a string array over the buffer whose items
    are the spans and the gaps between them."""
    count = len(begin)
    bounds = np.empty(2 * count + 1, np.int32)
    bounds[0:-1:2], bounds[1::2] = begin, end
    bounds[-1] = end[-1] if count else 0
    valid = None if missing is None or not missing.any() else pa.py_buffer(np.packbits(~missing, bitorder="little"))
    buffer = (text.buffers()[2] if len(text) else None) or pa.py_buffer(b"")
    view = pa.Array.from_buffers(pa.string(), 2 * count, [None, pa.py_buffer(bounds), buffer])
    even = pa.py_buffer(np.arange(0, 2 * count, 2, dtype=np.int32))
    return view.take(pa.Array.from_buffers(pa.int32(), count, [valid, even]))


def key_numbers(keys: pa.Array, wanted: Sequence[str]) -> np.ndarray:
    """The number of each of `keys` among the `wanted` keys (int16); -1 for any other text."""
    found = pc.index_in(keys, value_set=pa.array(wanted, pa.string()))
    numbers = np.frombuffer(found.buffers()[1], np.int32, len(found), found.offset).astype(np.int16)
    if found.null_count:  # the validity bitmap read as bytes: cheaper than filling the nulls in Arrow
        valid = np.unpackbits(np.frombuffer(found.buffers()[0], np.uint8), count=found.offset + len(found),
                              bitorder="little")[found.offset:]
        numbers = np.where(valid.view(bool), numbers, np.int16(-1))
    return numbers


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


# --- Quote marks as positions ------------------------------------------------------------------------
# Only the positions of the marks are read (cheaper than a string item per piece, with line starts inserted
# among them): once every line has an even number of marks, marks 0, 2, 4, ... (in buffer order) open values
# and 1, 3, 5, ... close them, for all lines at once.


@dataclass(frozen=True)
class QuoteMarks:
    """The quote marks of lines, as positions in the lines' buffer, in order. A line with an odd number of
    marks gets one more, of no width, at its end (its last value runs to the end of the line, as an unclosed
    quote reads), so every line has an even number: value m of the lines is the text between marks 2m and
    2m + 1, and the text between marks 2m - 1 and 2m is its key piece (` key=`), or before a line's first
    mark, its head (the header and the first key)."""

    text: pa.Array
    starts: np.ndarray  # each line's first byte in the buffer; one more item: the end of the last line
    at: np.ndarray  # each mark's first byte
    first: np.ndarray  # each line's first mark; one more item: the number of marks
    added: np.ndarray  # the marks added at the end of a line (no width), in order
    typographic: bool  # whether any mark is a “ or ” (3 bytes)
    # the escaped quotes (`\"`, no marks) by position, in order; None: not known (any value may hold one)
    escaped: np.ndarray | None = None

    def after(self, marks: np.ndarray) -> np.ndarray:
        """The byte after each of the given marks (a mark's width is read only where it is asked for)."""
        at = self.at[marks]
        if self.typographic:
            _, data, _ = line_bytes(self.text)
            after = at + np.where(data[np.minimum(at, len(data) - 1)] == 0xE2, 3, 1)
        else:
            after = at + 1
        if len(self.added):
            after[np.isin(marks, self.added)] = at[np.isin(marks, self.added)]
        return after

    def head(self) -> pa.Array:
        """Each line's text before its first mark (all of it when it has none)."""
        if len(self.at) == 0:
            return self.spans(self.starts[:-1], self.starts[1:])
        marked = self.first[1:] > self.first[:-1]
        end = np.where(marked, self.at[np.minimum(self.first[:-1], len(self.at) - 1)], self.starts[1:])
        return self.spans(self.starts[:-1], end)

    def keyed_pieces(self) -> pa.Array:
        """A string array over the buffer whose item k is the text between marks k - 1 and k, with mark k - 1:
        `" key=` for the marks that open a value (item 0, and each line's first, start in the line before)."""
        offsets = np.empty(len(self.at) + 1, np.int32)
        offsets[0], offsets[1:] = self.starts[0], self.at
        return pa.Array.from_buffers(pa.string(), len(self.at), [None, pa.py_buffer(offsets), self._buffer()])

    def key_marks(self, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The marks opening a value, but for each line's first, in the `lines` (a mask), and the line of each."""
        first, end = self.first[:-1][lines], self.first[1:][lines]
        counts = np.maximum((end - first - 2) // 2, 0)  # marks 2, 4, ... of the line
        start = np.repeat(first + 2 - 2 * np.cumsum(np.concatenate([[0], counts[:-1]])), counts)
        return start + 2 * np.arange(counts.sum()), np.repeat(np.flatnonzero(lines), counts)

    def key_texts(self, marks: np.ndarray) -> pa.Array:
        """The key pieces before the given (opening, not first in their line) marks, without the marks."""
        return self.spans(self.after(marks - 1), self.at[marks])

    def spans(self, begin: np.ndarray, end: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
        """The text from `begin` to `end` (positions in the buffer, in increasing order, spans not overlapping),
        null where `missing`."""
        return spans_of(self.text, begin, end, missing)

    def _buffer(self) -> pa.Buffer:
        return self.text.buffers()[2] or pa.py_buffer(b"")


def quote_marks(text: pa.Array, typographic: bool = False) -> QuoteMarks:
    """The double quotes of `text`, except escaped ones (after a backslash, not at a line's start); with
    `typographic`, “ and ” too."""
    _, data, starts = line_bytes(text)
    base = int(starts[0])
    inside = data[base:starts[-1]]
    is_mark = inside == ord('"')
    curly = _typographic_quotes(text) if typographic else np.zeros(0, np.int64)
    if len(curly):
        is_mark[curly - base] = True
    at = np.flatnonzero(is_mark)
    # the byte before each mark: cheaper than a scan for backslashes (the first mark's, from the end of the
    # text, is never taken: a mark opening a line is never escaped); the positions moved in place, not copied
    at -= 1
    kept = inside[at] != ord("\\")
    at += base + 1
    escaped = np.flatnonzero(~kept)
    if len(escaped):
        # a quote (not a typographic one) after a backslash, but for one opening a line
        kept[escaped[(data[at[escaped]] != ord('"')) | np.isin(at[escaped], starts)]] = True
        escaped = at[~kept]
        at = at[kept]
    first = np.searchsorted(at, starts)
    odd = np.flatnonzero(np.diff(first) % 2)
    added = first[odd + 1] + np.arange(len(odd))  # (their numbers once inserted)
    if len(odd):  # one mark more, of no width, at the end of each line with an odd number
        at = np.insert(at, first[odd + 1], starts[odd + 1])
        first = first + np.searchsorted(odd, np.arange(len(first)), side="left")
    return QuoteMarks(text, starts, at, first, added, bool(len(curly)), escaped)


def _typographic_quotes(text: pa.Array) -> np.ndarray:
    """Where “ and ” begin in `text`'s buffer: sought only in the lines with a byte that could begin one (the
    largest byte of each line is cheap to find), copied together; each found in the copy and moved back by its
    line's shift."""
    _, data, starts = line_bytes(text)
    inside = data[starts[0]:starts[-1]]
    if len(inside) < 3 or inside.max() < 0xE2:
        return np.zeros(0, np.int64)
    filled = np.flatnonzero(starts[1:] > starts[:-1])
    rows = filled[np.maximum.reduceat(inside, starts[:-1][filled] - starts[0]) >= 0xE2]
    _, some_data, some_starts = line_bytes(text.take(pa.array(rows)))
    some = some_data[:some_starts[-1]]
    lead = np.flatnonzero(some[some_starts[0]:] == 0xE2) + some_starts[0]
    row = np.repeat(np.arange(len(rows)), np.diff(np.searchsorted(lead, some_starts)))  # (leads are in order)
    # the two bytes after a lead, read in the copy where they are in the same line (else in the text)
    within = lead + 2 < some_starts[1:][row]
    near = lead[within]
    quote = np.zeros(len(lead), bool)
    quote[within] = (some[near + 1] == 0x80) & ((some[near + 2] == 0x9C) | (some[near + 2] == 0x9D))
    lead += (starts[rows] - some_starts[:-1])[row]  # from the copy to the text
    crossing = np.flatnonzero(~within)
    if len(crossing):
        at = lead[crossing]
        inner = at + 2 < len(data)
        at = at[inner]
        quote[crossing[inner]] = (data[at + 1] == 0x80) & ((data[at + 2] == 0x9C) | (data[at + 2] == 0x9D))
    return lead[quote]


def marked_values(marks: QuoteMarks, first_keys: pa.Array, numbers: np.ndarray, wanted: Sequence[str],
                  read: np.ndarray | None = None) -> dict[str, pa.Array]:
    """Per line, the value of each of the `wanted` keys (null where the line lacks the key, or where `read`, if
    given, is false: no value of those lines is cut out): the value after the key's first occurrence.
    `first_keys` names the key in each line's head; `numbers` are the `key_numbers` of `marks.keyed_pieces()`,
    of which only the marks opening a value count (a line's first: its head, read as `first_keys`). An escaped
    quote in a value reads as HIDDEN_QUOTE."""
    opening = numbers[0::2].copy()  # the marks opening a value: every other one (each line has an even number)
    marked = marks.first[1:] > marks.first[:-1]
    opening[marks.first[:-1][marked] // 2] = key_numbers(first_keys, wanted)[marked]
    found_at = np.flatnonzero(opening >= 0)  # in buffer order: line by line
    lines = len(marks.starts) - 1
    rows = np.repeat(np.arange(lines, dtype=np.int32), np.diff(marks.first) // 2)[found_at]
    if read is not None:
        kept = read[rows]
        found_at, rows = found_at[kept], rows[kept]
    matched = 2 * found_at
    cells = opening[found_at].astype(np.int64) * lines + rows  # (int64: key numbers are int16)
    # each (key, line) cell's opening mark: any of its marks by one assignment, then, only where a key occurs
    # twice in a line (told by a mark that did not stay), the first of them
    slot = np.full(len(wanted) * lines, len(marks.at), np.int64)
    slot[cells] = matched
    if not np.array_equal(slot[cells], matched):
        np.minimum.at(slot, cells, matched)
        first = slot[cells] == matched
        matched, cells = matched[first], cells[first]
    # all values cut out in one pass over the buffer, in its order (the keys' values of a line lie close
    # together: one `take` per key would cross the whole text once each), then each key's values taken from them
    begin, end = marks.after(matched), marks.at[matched + 1]
    every = _with_hidden_quotes(marks, marks.spans(begin, end), begin, end)
    rank = np.zeros(len(slot), np.int32)
    rank[cells] = np.arange(len(matched), dtype=np.int32)
    found = np.zeros(len(slot), bool)
    found[cells] = True
    valid = np.packbits(found.reshape(len(wanted), lines), axis=1, bitorder="little")
    values = {}
    for number, key in enumerate(wanted):
        row = slice(number * lines, (number + 1) * lines)
        if not found[row].any():
            values[key] = pa.nulls(lines, pa.string())
            continue
        validity = None if found[row].all() else pa.py_buffer(valid[number])
        values[key] = every.take(pa.Array.from_buffers(pa.int32(), lines, [validity, pa.py_buffer(rank[row])]))
    return values


def _with_hidden_quotes(marks: QuoteMarks, values: pa.Array, begin: np.ndarray, end: np.ndarray) -> pa.Array:
    """`values` (the text from `begin` to `end`, in buffer order) with their escaped quotes as HIDDEN_QUOTE:
    replaced only in the values that hold one (where `quote_marks` saw them), not in all values of the lines."""
    if marks.escaped is None:
        return pc.replace_substring(values, '\\"', HIDDEN_QUOTE) if has_bytes(values, b"\\") else values
    if not len(marks.escaped) or not len(values):
        return values
    holder = np.searchsorted(begin, marks.escaped, side="right") - 1
    holder = np.unique(holder[(holder >= 0) & (marks.escaped < end[np.maximum(holder, 0)])])
    if not len(holder):
        return values
    replaced = pc.replace_substring(values.take(pa.array(holder)), '\\"', HIDDEN_QUOTE)
    mask = np.zeros(len(values), bool)
    mask[holder] = True
    return pc.replace_with_mask(values, pa.array(mask), replaced)
