"""Cutting many texts out of a batch's bytes at once: spans found by a format's compiled scan become Arrow string
columns in one pass over the lines (see compiled.py for kernels; a kernel calls only kernels of its own module,
so this one is called from Python, once per slice).

Why one pass: a line's values lie together in its bytes; copying them line by line reads each line from memory
once and takes all its values from the cache, where one Arrow take per column would read the slice once per column.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from detector.ingest.compiled import kernel


def gathered(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, valid: np.ndarray) -> list[pa.Array]:
    """Per row of `starts`/`ends`/`valid` (columns x lines), the text `data[start:max(end, start)]` of each line
    where valid, else null. All columns are copied in one pass over the lines (each line's bytes read from memory
    once, all its values then taken from the cache) instead of one Arrow take over the whole slice each."""
    columns, lines = starts.shape
    offsets, text = _gathered(data, starts, ends, valid)
    buffer = pa.py_buffer(text)
    arrays = []
    for column in range(columns):
        nulls = lines - int(np.count_nonzero(valid[column]))
        bitmap = pa.py_buffer(np.packbits(valid[column], bitorder="little")) if nulls else None
        arrays.append(pa.StringArray.from_buffers(lines, pa.py_buffer(offsets[column]), buffer, bitmap, nulls))
    return arrays


@kernel
def _gathered(data, starts, ends, valid):
    """Each column's text in a region of one buffer: offsets per column and line (then the end), and the buffer."""
    columns, lines = starts.shape
    region = np.zeros(columns + 1, np.int64)
    for column in range(columns):
        size = 0
        for line in range(lines):
            if valid[column, line] and ends[column, line] > starts[column, line]:
                size += ends[column, line] - starts[column, line]
        region[column + 1] = region[column] + size
    text = np.empty(max(region[columns], 1), np.uint8)
    written = region[:columns].copy()
    offsets = np.empty((columns, lines + 1), np.int32)
    for line in range(lines):
        for column in range(columns):
            offsets[column, line] = written[column]
            if valid[column, line]:
                cursor = written[column]
                for at in range(starts[column, line], ends[column, line]):
                    text[cursor] = data[at]
                    cursor += 1
                written[column] = cursor
    for column in range(columns):
        offsets[column, lines] = written[column]
    return offsets, text
