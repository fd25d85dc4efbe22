"""Messages split at single spaces, read by position per row: SQL's `t[i]`, `list_position(t, x)` and
`array_to_string(t[i:j], ' ')` with numpy indices instead of per-row SQL (dnsmasq, Unbound).

A message's fields move with its kind (dnsmasq's optional serial and client, Unbound's syslog or own-file
prefix, a local action's zone), so each row reads its fields at its own positions: one take per field
from the flattened tokens, whatever the positions.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


class Tokens:
    """The tokens of `text` split at ' ' (as DuckDB's `string_split(text, ' ')`; null text: no tokens).
    Positions are 0-based; a position out of its row's range, or negative, reads null."""

    def __init__(self, text: pa.Array) -> None:
        lists = pc.split_pattern(text, " ")
        offsets = lists.offsets.to_numpy().astype(np.int64)
        valid = lists.is_valid().to_numpy(zero_copy_only=False)
        self.values = lists.values
        self.starts = offsets[:-1]
        self.counts = np.where(valid, np.diff(offsets), 0)
        self.rows = len(text)

    def at(self, position: np.ndarray, rows: np.ndarray | None = None) -> pa.Array:
        """Per row (or per row of `rows`), the token at `position` (an int array, one per row read)."""
        starts, counts = (self.starts, self.counts) if rows is None else (self.starts[rows], self.counts[rows])
        inside = (position >= 0) & (position < counts)
        return self.values.take(pa.array(np.where(inside, starts + position, 0), mask=~inside))

    def first(self, token: str) -> np.ndarray:
        """Per row, the position of the first token equal to `token`, -1 where none is."""
        hits = np.flatnonzero(pc.equal(self.values, token).to_numpy(zero_copy_only=False))
        row = np.searchsorted(self.starts, hits, side="right") - 1
        keep = (row >= 0) & (hits - self.starts[np.maximum(row, 0)] < self.counts[np.maximum(row, 0)])
        hits, row = hits[keep], row[keep]
        first_of_row = np.ones(len(row), dtype=bool)
        first_of_row[1:] = row[1:] != row[:-1]
        found = np.full(self.rows, -1, dtype=np.int64)
        found[row[first_of_row]] = hits[first_of_row] - self.starts[row[first_of_row]]
        return found

    def joined(self, rows: np.ndarray, start: np.ndarray, stop: np.ndarray | None = None) -> pa.Array:
        """For each of `rows`, its tokens from `start` up to `stop` (exclusive; None: to the end), joined
        with ' ' ('' when none)."""
        start = np.clip(start, 0, self.counts[rows])
        stop = self.counts[rows] if stop is None else np.clip(stop, start, self.counts[rows])
        lengths = stop - start
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        # each kept token's place in `values`: its row's first token, plus its rank within the row's range
        first = np.repeat(self.starts[rows] + start - offsets[:-1], lengths) + np.arange(offsets[-1])
        items = self.values.take(pa.array(first, pa.int64()))
        return pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), items), " ")
