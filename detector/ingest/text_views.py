"""Parts of a string array's values looked at by Arrow's string kernels without cutting them out first.

A part of each value (from `starts` to `ends`, positions in the array's own data buffer) becomes every second row
of a string array over that same buffer: the parts and the gaps between them (as `byte_spans.spans` takes them).
A search or a test over that array (`pc.find_substring`, `pc.ascii_is_decimal`) costs what it costs on the parts'
bytes, where a split at a mark (`pc.split_pattern` and `list_item`) copies every part and every list; only the
results that are columns are then cut out (`byte_spans.spans`). Bytes most parts lack are found by numpy over the
parts' bytes instead (`first_of`). The parts must be in order and not overlap, and be cut at ASCII bytes (UTF-8
stays valid).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.layout_bytes import line_bytes


def places(text: pa.Array) -> tuple[pa.Buffer, np.ndarray, np.ndarray, np.ndarray]:
    """A string array's data buffer, each row's start and end in it (int64; a slice's own rows of a larger buffer,
    no copy), and which rows are valid."""
    buffer, _, offsets = line_bytes(text)
    valid = np.ones(len(text), bool) if not text.null_count else pc.is_valid(text).to_numpy(zero_copy_only=False)
    return buffer, offsets[:-1], offsets[1:], valid


def views(buffer: pa.Buffer, starts: np.ndarray, ends: np.ndarray) -> pa.Array:
    """The parts `buffer[start:end]` as the even rows (0, 2, ...) of a string array over `buffer` (no copy); the odd
    rows are the gaps between them. An end before its start is an empty part."""
    count = len(starts)
    bounds = np.empty(2 * count + 1, np.int32)
    bounds[0:-1:2], bounds[1:-1:2] = starts, np.maximum(ends, starts)
    bounds[-1] = bounds[-2] if count else 0
    return pa.Array.from_buffers(pa.string(), 2 * count, [None, pa.py_buffer(bounds), buffer])


def find(buffer: pa.Buffer, starts: np.ndarray, ends: np.ndarray, pattern: str) -> np.ndarray:
    """Where `pattern` first occurs in each part (bytes from its start; -1: nowhere). The search runs over one row
    per part, each running on to the next part's start (no gap rows: Arrow's search costs ~10 ns a row besides its
    bytes), and a match that ends past its part's end is none."""
    count = len(starts)
    if not count:
        return np.zeros(0, np.int64)
    bounds = np.empty(count + 1, np.int32)
    bounds[:-1], bounds[-1] = starts, max(ends[-1], starts[-1])
    found = pc.find_substring(pa.Array.from_buffers(pa.string(), count, [None, pa.py_buffer(bounds), buffer]),
                              pattern).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.where(found + len(pattern.encode()) <= ends - starts, found, -1)


def digits_only(buffer: pa.Buffer, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Whether each part is one or more ASCII digits."""
    return pc.ascii_is_decimal(views(buffer, starts, ends)).to_numpy(zero_copy_only=False)[0::2]


def first_of(buffer: pa.Buffer, starts: np.ndarray, ends: np.ndarray, characters: bytes) -> np.ndarray:
    """Where the first of the (single-byte) `characters` occurs in each part (bytes from its start; -1: nowhere).
    For bytes most parts lack (a URL's `?`): Arrow's search reads every byte of a part without one at ~1 ns a byte,
    a comparison of the parts' bytes in numpy a tenth of that, and their places are few."""
    count = len(starts)
    if not count:
        return np.zeros(0, np.int64)
    first, last = int(starts[0]), int(max(ends[-1], starts[-1]))
    data = np.frombuffer(buffer, np.uint8)[first:last]
    found = data == characters[0]
    for character in characters[1:]:
        found |= data == character
    places = np.flatnonzero(found) + first
    at = np.searchsorted(places, starts)
    place = places[np.minimum(at, len(places) - 1)] if len(places) else np.zeros(count, np.int64)
    return np.where((at < len(places)) & (place < ends), place - starts, -1)
