"""The values of a run of W3C data lines under one space-separated field list, read by proxysg_scan's compiled pass
where it is sure of a line (the lines' bytes read once; only the values the plan reads numbered by their text), by
`w3c.data_fields` (Arrow's CSV reader, which materialises every value of every line) for the others.

Imported by `w3c` when it makes a parser (Numba is loaded with it, not with the registry). A line the pass reads has
the values and count `w3c.data_fields` finds in it (tests/test_w3c_values.py compares them): values separated by runs of
spaces, each plain or quoted whole without a quote inside; a line with a tab or another control byte, a quote inside a
value, two spaces inside quotes, a space first or last, a byte order mark or another number of values than the field
list's is left to data_fields.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from detector.ingest import proxysg_scan
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.proxy_columns import VALUE_SLICE, placed

# Each line's number of values, and its values at the positions read (as w3c.data_fields gives them)
Fields = tuple[pa.Array, dict[int, pa.DictionaryArray]]
# Lines left to data_fields beyond which the whole run is left to it (read a slice at a time, as w3c reads it
# without the pass: its values of a whole batch at once would take several times the batch's size).
MOST_LEFT = VALUE_SLICE


class Scanned(proxysg_scan.Layouts):
    """What the pass is told of one field list: one layout, of its count, reading the values at `positions`."""

    def __init__(self, fields: int, positions: list[int]) -> None:
        super().__init__([(fields, positions)])
        self.fields = fields


def scanned_fields(scanned: Scanned, text: pa.Array, left: Callable[[pa.Array], Fields],
                   clean: Callable[[pa.DictionaryArray], pa.DictionaryArray]) -> Fields | None:
    """Each line's number of values and its values at the positions read (dictionary-encoded, `clean`ed), as
    w3c.data_fields gives them: the lines the pass reads from its indices and distinct values, the others by `left`
    (data_fields of those lines). None where the pass reads no line or leaves more than MOST_LEFT to `left`."""
    buffer, data, offsets = line_bytes(text)
    read = scanned.read(buffer, data, offsets, bare=True)
    sure = read.layout == 0
    every = bool(sure.all())
    if not every and (not sure.any() or len(text) - int(sure.sum()) > MOST_LEFT):
        return None
    rows = len(text)
    sure_rows = np.flatnonzero(sure)
    values = scanned.values(read, 0, None if every else sure_rows, clean)
    if every:
        return pa.array(np.full(rows, scanned.fields, np.int64)), values
    left_rows = np.flatnonzero(~sure)
    left_counts, left_values = left(text.take(pa.array(left_rows)))
    counts = np.full(rows, scanned.fields, np.int64)
    counts[left_rows] = left_counts.to_numpy(zero_copy_only=False)
    return pa.array(counts), {position: placed(rows, [(sure_rows, values[position]),
                                                      (left_rows, left_values[position])])
                              for position in scanned.positions[0]}
