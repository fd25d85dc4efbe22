"""Texts cut out of a batch's lines by their (start, end) places, copied by a compiled loop (Numba).

For kernels that find fields' places (panos_scan, cisco_wsa_scan): Arrow's take over a string array of the
places (`byte_spans.spans`) reads the whole batch once per field, a cache miss per line each time (a batch is
far larger than the CPU's caches). Here the lines are read once, in order, every field of a line at once.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from detector.ingest.compiled import kernel


def texts(buffer: pa.Buffer, starts: np.ndarray, ends: np.ndarray, valid: np.ndarray) -> list[pa.Array]:
    """`buffer[start:end]` of each place as text, null where not `valid`: one string array per row of the int32
    arrays (a field), one item per column (a line). The arrays share one new buffer, where each field's texts
    follow those of the fields before it."""
    fields, lines = valid.shape
    offsets = np.empty((fields, lines + 1), np.int32)
    values = _copy_spans(np.frombuffer(buffer, np.uint8), starts, ends, valid, offsets)
    bitmaps = np.packbits(valid, axis=1, bitorder="little")
    values_buffer = pa.py_buffer(values)
    return [pa.StringArray.from_buffers(lines, pa.py_buffer(offsets[field]), values_buffer,
                                        None if valid[field].all() else pa.py_buffer(bitmaps[field]))
            for field in range(fields)]


@kernel
def _copy_spans(data, starts, ends, valid, offsets):
    fields, lines = starts.shape
    total = 0  # field j's texts start after those of fields 0 .. j - 1
    for field in range(fields):
        offsets[field, 0] = total
        for line in range(lines):
            if valid[field, line]:
                total += ends[field, line] - starts[field, line]
            offsets[field, line + 1] = total
    values = np.empty(total, np.uint8)
    for line in range(lines):
        for field in range(fields):
            start = starts[field, line] - offsets[field, line]
            for at in range(offsets[field, line], offsets[field, line + 1]):
                values[at] = data[start + at]
    return values
