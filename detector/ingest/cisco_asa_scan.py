"""Where the values of wanted keys are in Firepower connection events (`TAG: Key: value, Key: value, ...`): one
compiled pass over each line's bytes (see compiled.py), instead of splitting every line into a list of items and
testing every item once per key.

The rules (cisco_asa_layouts.connection_event; Cisco's "Connection and Security-Related Connection Event
Fields" name the keys):
- The body is the text after the first `: ` (the tag's) of the text after the line's first `%`.
- The body's items are separated by `, ` (left to right, as pyarrow's split_pattern cuts them).
- An item holds a key's value when it starts with the key and `: `; a key's first such item counts.
- The value is the rest of the item, without spaces at its ends (other white space: see `FirepowerValues`).
"""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.compiled import WantedKeys, kernel

_COLON, _SPACE, _COMMA, _PERCENT = ord(":"), ord(" "), ord(","), ord("%")


class FirepowerValues:
    """Per wanted key, each row's value (null where the row lacks the key or its value is empty)."""

    def __init__(self, line: pa.Array, rows: np.ndarray, keys: tuple[str, ...]) -> None:
        """Scan the `rows` of `line` (a string array, read in place: nothing is copied)."""
        offsets = np.frombuffer(line.buffers()[1], np.int32, len(line) + 1, line.offset * 4)
        data = line.buffers()[2]
        self.data = data if data is not None else pa.py_buffer(b"")
        self.keys = keys = _wanted(keys)
        self.begin = np.full((len(keys.keys), len(rows)), -1, np.int32)  # -1: the row lacks the key
        self.end = np.zeros((len(keys.keys), len(rows)), np.int32)
        # whether a value starts or ends with a byte of a multi-byte character (which may be white space)
        self.wide_edge = np.zeros(len(keys.keys), np.bool_)
        _value_spans(np.frombuffer(self.data, np.uint8), offsets, rows.astype(np.int64), keys.text, keys.start,
                     keys.number, keys.first, keys.count, self.begin, self.end, self.wide_edge)

    def column(self, key: str) -> pa.Array:
        """`key`'s values, as `utf8_trim_whitespace` and then null-if-empty would leave the items' rest."""
        number = self.keys.keys.index(key)
        begin, end = self.begin[number], self.end[number]
        found = (begin >= 0) & (end > begin)
        values = _spans(self.data, np.where(found, begin, 0), np.where(found, end, 0), found)
        if self.wide_edge[number]:  # (a value may start or end with U+00A0 and the like)
            trimmed = pc.utf8_trim_whitespace(values)
            values = pc.if_else(pc.greater(pc.binary_length(trimmed), 0), trimmed, pa.scalar(None, pa.string()))
        return values


@functools.cache
def _wanted(keys: tuple[str, ...]) -> WantedKeys:
    return WantedKeys(keys)


def _spans(data: pa.Buffer, starts: np.ndarray, ends: np.ndarray, valid: np.ndarray) -> pa.Array:
    """`data[start:end]` of each span (in order, not overlapping, or empty) as text, null where not `valid`: the
    spans are every second value of a string array over `data` itself, which Arrow takes."""
    count = len(starts)
    reached = np.maximum.accumulate(np.where(valid, ends, 0)) if count else ends
    starts = np.where(valid, starts, reached)  # (an empty span where the row has no value, in order)
    ends = np.where(valid, ends, starts)
    bounds = np.empty(2 * count + 1, np.int32)
    bounds[0:-1:2], bounds[1:-1:2] = starts, ends
    bounds[-1] = bounds[-2] if count else 0
    bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    every = pa.Array.from_buffers(pa.string(), 2 * count, [None, pa.py_buffer(bounds), data])
    picks = pa.Array.from_buffers(pa.int32(), count, [bitmap, pa.py_buffer(np.arange(0, 2 * count, 2, np.int32))])
    return every.take(picks)


@kernel
def _value_spans(data, offsets, rows, key_text, key_start, key_number, first_of_length, count_of_length, begin, end,
                 wide_edge):
    longest = len(first_of_length) - 1
    for row in range(len(rows)):
        line = rows[row]
        line_start, line_end = offsets[line], offsets[line + 1]
        at = line_start
        while at < line_end and data[at] != _PERCENT:
            at += 1
        # the body: after the first `: ` after the `%`
        at += 1
        while at + 1 < line_end and not (data[at] == _COLON and data[at + 1] == _SPACE):
            at += 1
        if at + 1 >= line_end:
            continue
        item = at + 2
        while item <= line_end:
            # the item's end: the next `, ` (or the line's end)
            stop = item
            while stop < line_end and not (data[stop] == _COMMA and stop + 1 < line_end and data[stop + 1] == _SPACE):
                stop += 1
            # its key: the text before its first `:`, followed by a space
            colon = item
            while colon < stop and data[colon] != _COLON:
                colon += 1
            length = colon - item
            if colon + 1 < stop and data[colon + 1] == _SPACE and length <= longest:
                for candidate in range(first_of_length[length], first_of_length[length] + count_of_length[length]):
                    same = True
                    for i in range(length):
                        if data[item + i] != key_text[key_start[candidate] + i]:
                            same = False
                            break
                    if same:
                        key = key_number[candidate]
                        if begin[key, row] < 0:
                            value, value_end = colon + 2, stop
                            while value < value_end and data[value] == _SPACE:
                                value += 1
                            while value_end > value and data[value_end - 1] == _SPACE:
                                value_end -= 1
                            if value < value_end and (data[value] >= 0x80 or data[value_end - 1] >= 0x80):
                                wide_edge[key] = True
                            begin[key, row], end[key, row] = value, value_end
                        break
            item = stop + 2
