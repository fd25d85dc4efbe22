"""The fields of generic CSV lines: most lines read by Arrow's CSV reader, the others by the quote-aware split.

A line is *regular* when Arrow's CSV reader and the split (PROXY_MACROS' `split_quoted`) read it alike:
every field plain (no quote) or quoted as a whole (`""` for a quote inside, not opening with one unless the
field is just `""`), no carriage return and none of the split's placeholders (chr(1), chr(2)); see
`csv_generic.regular_line_pattern`. Deciding that with a regular expression cost as much as the CSV reader
itself; here it is decided on the quote marks alone, with numpy: pairing each line's quotes in order (an
opening one, a closing one), a line is regular when each opening quote starts a field or doubles the quote
just closed, each closing quote ends a field or is doubled by the next, and no field opens with three quotes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa

from detector.ingest.arrow_ops import fields_in_slices
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.proxy_columns import leading_marked, placed, read_regular_lines

QUOTE = ord('"')
# Bytes that make a line irregular wherever they are: the split's placeholders (and NUL), a carriage return.
PLACEHOLDER_BELOW = 3
CARRIAGE_RETURN = 13


def regular_lines(text: pa.Array, delimiter: str) -> np.ndarray:
    """Whether each line is regular (see the module docstring): `regular_line_pattern(delimiter)`'s match,
    but a pass over the bytes for the quotes and then work per quote, not per byte."""
    return regular_lines_and_quotes(text, delimiter)[0]


def regular_lines_and_quotes(text: pa.Array, delimiter: str) -> tuple[np.ndarray, np.ndarray]:
    """`regular_lines`, and the places of the quotes (in the text's data buffer) of the lines with an even number
    of them (the others are not regular), for a caller that looks at the quotes too."""
    _, data, offsets = line_bytes(text)
    start, end = int(offsets[0]), int(offsets[-1])
    body = data[start:end]
    starts, ends = offsets[:-1], offsets[1:]
    regular = ends > starts
    # (the smallest byte rules both out at once where no byte is below a carriage return: no tab either)
    smallest = int(body.min()) if len(body) else QUOTE
    if smallest < PLACEHOLDER_BELOW or (smallest <= CARRIAGE_RETURN and (body == CARRIAGE_RETURN).any()):
        odd = np.flatnonzero((body < PLACEHOLDER_BELOW) | (body == CARRIAGE_RETURN)) + start
        regular[np.searchsorted(offsets, odd, "right") - 1] = False
    quotes = np.flatnonzero(body == QUOTE) + start
    if not len(quotes):
        return regular, quotes
    counts = np.diff(np.searchsorted(quotes, offsets))
    unbalanced = counts % 2 == 1
    if unbalanced.any():  # irregular; their quotes are left out, so that the others pair up line by line
        regular &= ~unbalanced
        quotes = quotes[np.repeat(~unbalanced, counts)]
        counts = np.where(unbalanced, 0, counts)
    sep = ord(delimiter)
    opening, closing = quotes[0::2], quotes[1::2]
    row = np.repeat(np.arange(len(counts)), counts // 2)
    # (data[-1] for a quote at the buffer's start, or data[end] past the last line's end: the line's start or
    # end decides there anyway)
    field_start = (opening == starts[row]) | (data[opening - 1] == sep)
    field_end = (closing + 1 == ends[row]) | (data[np.minimum(closing + 1, len(data) - 1)] == sep)
    doubles_last = np.zeros(len(opening), bool)  # opens right where the quote before it closed: `""` inside
    doubles_last[1:] = (opening[1:] == closing[:-1] + 1) & (row[1:] == row[:-1])
    doubled_next = np.append(doubles_last[1:], False)
    opens_with_doubled = field_start & (closing == opening + 1) & doubled_next  # three quotes
    ok = (field_start | doubles_last) & (field_end | doubled_next) & ~opens_with_doubled
    regular[row[~ok]] = False
    return regular, quotes


def delimited_fields(text: pa.Array, delimiter: str, column_count: int, positions: Sequence[int],
                     split: Callable[[pa.Array], pa.ListArray], clean: Callable[[pa.DictionaryArray], pa.Array]
                     ) -> tuple[np.ndarray, np.ndarray, dict[int, pa.Array]]:
    """Which lines are regular, each line's number of fields, and its fields at `positions` (0-based),
    dictionary-encoded and `clean`ed once per distinct value: regular lines through Arrow's CSV reader,
    the others through `split` (slower). As proxy_columns.delimited_fields, with the numpy check."""
    rows = len(text)
    is_regular = regular_lines(text, delimiter)
    # The CSV reader drops a byte order mark at the start of what it reads: the first line it reads (the file's
    # first, or the first regular one after lines split instead) must not start with one.
    if is_regular.any() and text[int(np.argmax(is_regular))].as_py().startswith("\ufeff"):
        regular = np.flatnonzero(is_regular)
        is_regular[regular[:leading_marked(text.take(pa.array(regular)))]] = False
    counts = np.zeros(rows, np.int64)
    parts: dict[int, list[tuple[np.ndarray, pa.Array]]] = {position: [] for position in positions}
    if is_regular.any():
        every = is_regular.all()
        read_rows = np.arange(rows) if every else np.flatnonzero(is_regular)
        counts[read_rows], kept, values = read_regular_lines(text if every else text.filter(pa.array(is_regular)),
                                                        delimiter, column_count, positions)
        for position in positions:
            parts[position].append((read_rows[kept], values[position]))
    if not is_regular.all():
        split_rows = np.flatnonzero(~is_regular)
        split_counts, fields = fields_in_slices(text.take(pa.array(split_rows)), split, positions)
        counts[split_rows] = split_counts.to_numpy(zero_copy_only=False)
        for position, field in zip(positions, fields, strict=True):
            parts[position].append((split_rows, field))
    return is_regular, counts, {position: clean(placed(rows, parts[position])) for position in positions}
