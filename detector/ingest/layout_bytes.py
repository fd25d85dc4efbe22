"""Lines of a known layout read on their bytes: separators found with numpy, constant text checked in
8-byte windows, values cut out of the lines' own buffer.

Zscaler's NSS feeds repeat one template per feed: every line is the same names (or JSON keys, or CSV
columns) in the same order with only the values changing. Splitting such lines with pyarrow copies every
item of every line; here the separator bytes of a batch are found with one numpy comparison, each line's
constant text (a name and its `=`, a JSON key and its quotes) is compared as a few unaligned 64-bit words
at its expected place, and only the values read become strings (Arrow takes them from the buffer, see
`byte_spans.spans`). A line that does not fit the layout is left to the caller's slower general reading.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

WORD = 8  # bytes compared at once


def line_bytes(text: pa.Array) -> tuple[pa.Buffer, np.ndarray, np.ndarray]:
    """A string array's data buffer, its bytes and each line's start in them (then the end), as int64. A slice
    of a larger array keeps the whole buffer: its offsets point into it (nothing is copied)."""
    offsets = np.frombuffer(text.buffers()[1], np.int32, len(text) + 1, text.offset * 4).astype(np.int64) \
        if len(text) else np.zeros(1, np.int64)
    buffer = text.buffers()[2] if len(text) and text.buffers()[2] is not None else pa.py_buffer(b"")
    return buffer, np.frombuffer(buffer, np.uint8), offsets


def byte_places(data: np.ndarray, offsets: np.ndarray, byte: int) -> tuple[np.ndarray, np.ndarray]:
    """Where `byte` occurs in the lines (sorted positions in `data`), and per line the index of its first one
    among them (then the end): line i holds places[first[i]:first[i + 1]]."""
    start, end = int(offsets[0]), int(offsets[-1])
    places = np.flatnonzero(data[start:end] == byte) + start
    return places, np.searchsorted(places, offsets)


def each_row(places: np.ndarray, first: np.ndarray, rows: np.ndarray, count: int) -> np.ndarray:
    """The `count` places of each of `rows` (each must have exactly that many), one row of the result per row."""
    if len(rows) == len(first) - 1 and len(places) == len(rows) * count:  # every line: a view, no gather
        return places.reshape(len(rows), count)
    return places[first[rows][:, None] + np.arange(count)]


class ConstantText:
    """Texts expected at given places of each line (a name and its `=`, a JSON key between its values), compared
    as 64-bit words: one word for a text of up to 8 bytes, two (overlapping) for up to 16, and so on."""

    def __init__(self, texts: Sequence[bytes]) -> None:
        self.lengths = np.array([len(text) for text in texts], np.int64)
        slots, shifts, expected, masks = [], [], [], []
        for slot, text in enumerate(texts):
            if not text:
                continue
            for shift in [*range(0, len(text) - WORD, WORD), max(len(text) - WORD, 0)]:
                word = text[shift:shift + WORD]
                slots.append(slot)
                shifts.append(shift)
                expected.append(int.from_bytes(word.ljust(WORD, b"\0"), "little"))
                masks.append(int.from_bytes(b"\xff" * len(word) + b"\0" * (WORD - len(word)), "little"))
        self.slots = np.array(slots, np.int64)
        self.shifts = np.array(shifts, np.int64)
        self.expected = np.array(expected, np.uint64)
        self.masks = np.array(masks, np.uint64)
        self.whole_words = bool((self.masks == np.uint64(2**64 - 1)).all())  # (no bytes masked off)

    def found(self, data: np.ndarray, places: np.ndarray) -> np.ndarray:
        """Per row of `places` (rows x texts: where each text should start), whether every text is there. The
        caller makes sure a text cannot run past its line's end (a separator it does not contain after it)."""
        if not len(self.slots) or not len(places):
            return np.ones(len(places), bool)
        # (take along the rows keeps the places in row order: the gather then walks the buffer once)
        starts = places.take(self.slots, axis=1)
        starts += self.shifts  # (in place: one array of rows x words less)
        words = _words_at(data, starts)
        if not self.whole_words:
            np.bitwise_and(words, self.masks, out=words)
        return (words == self.expected).all(axis=1)


def _words_at(data: np.ndarray, places: np.ndarray) -> np.ndarray:
    """The 8 bytes starting at each place, as little-endian uint64 (zeros past the end of `data`)."""
    size = len(data)
    words = np.ndarray((max(size - WORD + 1, 0),), "<u8", data, 0, (1,))
    if places.size and places.max() <= size - WORD:  # (the usual case: no mask of late places needed)
        return words[places]
    late = places > size - WORD
    if not late.any():
        return words[places]
    tail_start = max(size - 2 * WORD, 0)
    tail = np.zeros(size - tail_start + WORD, np.uint8)
    tail[: size - tail_start] = data[tail_start:]
    tail_words = np.ndarray((len(tail) - WORD + 1,), "<u8", tail, 0, (1,))
    found = words[np.where(late, 0, places)] if len(words) else np.zeros(places.shape, np.uint64)
    found[late] = tail_words[np.minimum(places[late], size) - tail_start]
    return found


def texts_between(buffer: pa.Buffer, starts: Sequence[np.ndarray], ends: Sequence[np.ndarray]) -> list[pa.Array]:
    """`buffer[start:end]` of each row as text, for each pair of columns `starts[k]`, `ends[k]` (an end before its
    start: empty); within a column the spans must be in order and not overlap (one per line, in line order). As
    `byte_spans.spans` per column, with the columns' bounds laid out once, contiguous and 32-bit: the columns of
    a layout's places are views across their rows, and reading such a view per column costs more than the copy."""
    if not len(starts) or not len(starts[0]):
        return [pa.array([], pa.string()) for _ in starts]
    rows = len(starts[0])
    bounds = np.empty((len(starts), 2 * rows), np.int32)
    for k, (start, end) in enumerate(zip(starts, ends, strict=True)):
        bounds[k, 0::2] = start
        np.maximum(end, start, out=bounds[k, 1::2], casting="unsafe")
    picks = pa.array(np.arange(0, 2 * rows, 2, dtype=np.int32))  # (the spans; the others are the gaps between)
    return [pa.StringArray.from_buffers(2 * rows - 1, pa.py_buffer(bounds[k]), buffer).take(picks)
            for k in range(len(starts))]
