"""Changing some values of a batch's column and keeping the others, without a pass over all of them.

Why: a header or prefix before a format's own text (a syslog header before a Squid line, `@cee: ` before an
EVE object) is on few lines, or on none in a file the product wrote itself. Replacing it with Arrow's regular
expressions over the whole batch costs a pass over every line; over the few lines that have one, then one
`take` that puts them back in their places, it costs only theirs (and one copy of the batch's text, where any
line changes). Squid's and Suricata EVE's unwrapping had each written this out.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def with_rows(values: pa.Array, rows: np.ndarray, replacements: pa.Array) -> pa.Array:
    """`values` with the values at `rows` (positions, ascending) replaced by `replacements` (one each, in their
    order, of the same type), the others as they are."""
    index = np.arange(len(values))
    index[rows] = len(values) + np.arange(len(rows))
    return pa.concat_arrays([values, replacements]).take(pa.array(index))


def first_match_replaced(text: pa.Array, rows: np.ndarray, pattern: str, replacement: str) -> pa.Array:
    """`text` with the first match of the regular expression `pattern` in the values at `rows` replaced by
    `replacement`; the other values, and the whole array where `rows` is empty, as they are."""
    if not len(rows):
        return text
    taken = text.take(pa.array(rows))
    return with_rows(text, rows, pc.replace_substring_regex(taken, pattern, replacement, max_replacements=1))
