"""Messages split at single spaces, read by position per row: SQL's `t[i]`, `list_position(t, x)` and
`array_to_string(t[i:j], ' ')` with numpy indices instead of per-row SQL (dnsmasq, Unbound).

A message's fields move with its kind (dnsmasq's optional serial and client, Unbound's syslog or own-file
prefix, a local action's zone), so each row reads its fields at its own positions: one take per field from
the flattened tokens, then Arrow's kernels (a take and a kernel cost less than numpy's gathers on byte
offsets would). Spans of tokens are slices of the messages' own buffer, copied once.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


class Tokens:
    """The tokens of `text` split at ' ' (as DuckDB's `string_split(text, ' ')`: '' is one empty token);
    rows that are null or not `valid` have none. Positions are 0-based; one out of its row's range, or
    negative, reads null (or false)."""

    def __init__(self, text: pa.Array, valid: np.ndarray | None = None) -> None:
        if text.type != pa.string():
            text = text.cast(pa.string())
        self.text = text
        lists = pc.split_pattern(text, " ")
        offsets = lists.offsets.to_numpy().astype(np.int64)
        usable = lists.is_valid().to_numpy(zero_copy_only=False)
        if valid is not None:
            usable = usable & valid
        self.lists = lists
        self.values = lists.values
        self.value_offsets = np.frombuffer(self.values.buffers()[1], np.int32, len(self.values) + 1,
                                           self.values.offset * 4)
        self.starts = offsets[:-1]
        self.counts = np.where(usable, np.diff(offsets), 0)
        self.rows = len(text)

    def piece(self, position: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Per row (or per row of `rows`), the token's index in `values`; -1 where there is none."""
        starts, counts = (self.starts, self.counts) if rows is None else (self.starts[rows], self.counts[rows])
        return np.where((position >= 0) & (position < counts), starts + position, -1)

    def at(self, position: np.ndarray, rows: np.ndarray | None = None) -> pa.Array:
        """Per row (or per row of `rows`), the token at `position` (an int array, one per row read)."""
        piece = self.piece(position, rows)
        return self.values.take(pa.array(np.maximum(piece, 0), mask=piece < 0))

    def equal(self, position: np.ndarray, word: str, rows: np.ndarray | None = None) -> np.ndarray:
        """Per row, whether the token at `position` is `word`."""
        return mask(pc.equal(self.at(position, rows), word))

    def length(self, position: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Per row, the byte length of the token at `position`; -1 where there is none."""
        piece = self.piece(position, rows)
        safe = np.maximum(piece, 0)
        return np.where(piece >= 0, self.value_offsets[safe + 1] - self.value_offsets[safe], -1)

    def first_byte(self, position: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Per row, the first byte of the token at `position`; -1 where there is none or it is empty."""
        piece = self.piece(position, rows)
        safe = np.maximum(piece, 0)
        begin = self.value_offsets[safe]
        data = self.values.buffers()[2]
        if data is None or data.size == 0:
            return np.full(len(piece), -1, dtype=np.int16)
        byte = np.frombuffer(data, np.uint8)[np.minimum(begin, data.size - 1)].astype(np.int16)
        return np.where((piece >= 0) & (self.value_offsets[safe + 1] > begin), byte, -1)

    def first(self, word: str) -> np.ndarray:
        """Per row, the position of the first token equal to `word`, -1 where none is."""
        hits = np.flatnonzero(mask(pc.equal(self.values, word)))
        row = pc.list_parent_indices(self.lists).to_numpy()[hits - (self.starts[0] if self.rows else 0)]
        position = hits - self.starts[row]
        keep = position < self.counts[row]
        row, position = row[keep], position[keep]
        first_of_row = np.ones(len(row), dtype=bool)
        first_of_row[1:] = row[1:] != row[:-1]
        found = np.full(self.rows, -1, dtype=np.int64)
        found[row[first_of_row]] = position[first_of_row]
        return found

    def span(self, rows: np.ndarray, start: np.ndarray, stop: np.ndarray | None = None) -> pa.Array:
        """For each of `rows` (ascending), its tokens from `start` up to `stop` (exclusive; None: to the end)
        as written, i.e. joined with ' ' ('' when none): a slice of its text, copied once."""
        counts = self.counts[rows]
        start = np.clip(start, 0, counts)
        stop = counts if stop is None else np.clip(stop, start, counts)
        text_offsets = np.frombuffer(self.text.buffers()[1], np.int32, self.rows + 1, self.text.offset * 4)
        # a token's byte offset in its row: the lengths of the tokens before it, and a space after each
        first = self.value_offsets[self.starts[rows]]
        # (past the last token: the row's end, with no space after it)
        begin = np.minimum(text_offsets[rows] + self.value_offsets[self.starts[rows] + start] - first + start,
                           text_offsets[rows + 1])
        end = np.where(stop > start,
                       text_offsets[rows] + self.value_offsets[self.starts[rows] + stop] - first + stop - 1, begin)
        if len(rows) == 0:
            return pa.array([], pa.string())
        bounds = np.append(np.column_stack([begin, end]).ravel(), end[-1])
        data = self.text.buffers()[2]
        spans = pa.StringArray.from_buffers(len(bounds) - 1, pa.py_buffer(bounds.astype(np.int32)),
                                            data if data is not None else pa.py_buffer(b""))
        return spans.take(pa.array(np.arange(0, len(bounds) - 1, 2)))


def constant(text: str, rows: int) -> pa.DictionaryArray:
    """`text` on every row, as a dictionary array (no per-row copy)."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int32)), pa.array([text], pa.string()))


def mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean column as numpy, null as false."""
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def indices(values: pa.DictionaryArray) -> np.ndarray:
    """A dictionary array's indices as int64, -1 for null."""
    return pc.fill_null(values.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def codes(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Integer codes of a column's values, equal for equal values (a dictionary may hold a value twice),
    -1 for null."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        return lookup(indices(pc.dictionary_encode(values.dictionary)), indices(values), -1)
    return indices(pc.dictionary_encode(values))


def lookup(values: np.ndarray, index: np.ndarray, default: object) -> np.ndarray:
    """`values[index]`, `default` where the index is -1."""
    return np.append(values, np.array([default], dtype=values.dtype))[index]


def nullable(positions: np.ndarray) -> pa.Array:
    """Positions for a take, null where -1."""
    return pa.array(np.maximum(positions, 0), mask=positions < 0)


def is_one_of(values: pa.ChunkedArray, wanted: list[str] | tuple[str, ...], null: bool = False) -> np.ndarray:
    """Per row, whether the value is one of `wanted` (`null` for null); a dictionary column is tested on its
    dictionary."""
    values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        hit = pc.is_in(values.dictionary, pa.array(wanted, values.type.value_type)).to_numpy(zero_copy_only=False)
        return lookup(hit, indices(values), null)
    return pc.fill_null(pc.is_in(values, pa.array(wanted, values.type)), null).to_numpy(zero_copy_only=False)


def folded(parts: list[np.ndarray], room: int = 1) -> np.ndarray:
    """Key parts (non-negative codes, -1 for null, which folds as a value of its own) folded into one
    int64 per row: equal keys, equal numbers. Renumbered densely (a sort) only when the number times
    `room` (e.g. the line numbers to place after it) would not fit."""
    key = np.zeros(len(parts[0]) if parts else 0, dtype=np.int64)
    for part in parts:
        width = int(part.max(initial=0)) + 2
        if (int(key.max(initial=0)) + 1) * width * room >= 2**62:
            key = np.unique(key, return_inverse=True)[1].astype(np.int64).ravel()
        key = key * width + part + 1
    return key
