"""Text cut out of lines' own buffer as spans: items are (start, end) positions in the data buffer, and only
the ones asked for become strings (Arrow takes them from the buffer: no byte-by-byte copy in Python or numpy).

Splitting lines into lists of items with pyarrow copies every item, most of which are never read. Whoever finds
the places (numpy over the bytes: BIND; a compiled kernel: FortiGate, CEF/LEEF, Zscaler, SRX, Check Point)
cuts the values out here.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def text_bytes(text: pa.Array) -> tuple[pa.Buffer, np.ndarray, np.ndarray]:
    """A string array's data buffer, its bytes, and each row's start in them (then the end): no copy, unless
    the array is a slice of a larger one (then it is compacted, so that every byte belongs to a row)."""
    if len(text) and (text.offset or text.buffers()[1] is None):
        text = pa.concat_arrays([text])
    offsets = np.frombuffer(text.buffers()[1], np.int32, len(text) + 1).astype(np.int64) if len(text) \
        else np.zeros(1, np.int64)
    if len(text) and offsets[0]:
        text = pa.concat_arrays([text])
        offsets = np.frombuffer(text.buffers()[1], np.int32, len(text) + 1).astype(np.int64)
    buffer = text.buffers()[2] if len(text) and text.buffers()[2] is not None else pa.py_buffer(b"")
    return buffer, np.frombuffer(buffer, np.uint8)[:offsets[-1]], offsets


def spans(data: pa.Buffer, starts: np.ndarray, ends: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """`data[start:end]` of each span as text (null where not `valid`; an end before its start: empty). The
    spans must be in order and not overlap: they are every second value of a string array over `data` itself
    (the spans and the gaps between them), which Arrow takes. Cut at ASCII separators, UTF-8 stays valid."""
    count = len(starts)
    bounds = np.empty(2 * count + 1, np.int32)
    bounds[0:-1:2], bounds[1:-1:2] = starts, np.maximum(ends, starts)
    bounds[-1] = bounds[-2] if count else 0
    bitmap = None if valid is None or valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    every = pa.Array.from_buffers(pa.string(), 2 * count, [None, pa.py_buffer(bounds), data])
    picks = pa.Array.from_buffers(pa.int32(), count, [bitmap, pa.py_buffer(np.arange(0, 2 * count, 2, np.int32))])
    return every.take(picks)
