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
from numba.cpython.unsafe.numbers import trailing_zeros

from detector.ingest.compiled import WantedKeys, kernel, load_word
from detector.ingest.layout_bytes import line_bytes

_COLON, _SPACE, _COMMA, _PERCENT = ord(":"), ord(" "), ord(","), ord("%")
# A byte in all eight bytes of a 64-bit word: a byte of `word ^ repeated` is zero where `word` holds it, and only a
# zero byte has neither its top bit nor a carry into it when its low seven bits are added to 0x7F
_EVERY_BYTE = np.uint64(0x0101010101010101)
_COLONS, _COMMAS = np.uint64(_COLON) * _EVERY_BYTE, np.uint64(_COMMA) * _EVERY_BYTE
_LOW_SEVEN_BITS = np.uint64(0x7F7F7F7F7F7F7F7F)


class FirepowerValues:
    """Per wanted key, each row's value (null where the row lacks the key or its value is empty)."""

    def __init__(self, line: pa.Array, rows: np.ndarray, keys: tuple[str, ...]) -> None:
        """Scan the `rows` of `line` (a string array, read in place: nothing is copied)."""
        self.data, data, offsets = line_bytes(line)
        self.keys = keys = _wanted(keys)
        self.begin = np.full((len(keys.keys), len(rows)), -1, np.int32)  # -1: the row lacks the key
        self.end = np.zeros((len(keys.keys), len(rows)), np.int32)
        # whether a value starts or ends with a byte of a multi-byte character (which may be white space)
        self.wide_edge = np.zeros(len(keys.keys), np.bool_)
        _value_spans(data, offsets, rows.astype(np.int64), keys.text, keys.start,
                     keys.number, keys.first, keys.count, self.begin, self.end, self.wide_edge)

    def columns(self) -> dict[str, pa.Array]:
        """Per key, its values as `utf8_trim_whitespace` and then null-if-empty would leave the items' rest."""
        rows = self.begin.shape[1]
        offsets, text, valid, nulls = _gathered(np.frombuffer(self.data, np.uint8), self.begin, self.end)
        buffer = pa.py_buffer(text)
        columns = {}
        for number, key in enumerate(self.keys.keys):
            if nulls[number] == rows:
                columns[key] = pa.nulls(rows, pa.string())
                continue
            validity = pa.py_buffer(valid[number]) if nulls[number] else None
            values = pa.StringArray.from_buffers(rows, pa.py_buffer(offsets[number]), buffer, validity,
                                                 int(nulls[number]))
            if self.wide_edge[number]:  # (a value may start or end with U+00A0 and the like)
                trimmed = pc.utf8_trim_whitespace(values)
                values = pc.if_else(pc.greater(pc.binary_length(trimmed), 0), trimmed, pa.scalar(None, pa.string()))
            columns[key] = values
        return columns


@functools.cache
def _wanted(keys: tuple[str, ...]) -> WantedKeys:
    return WantedKeys(keys)


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
        while item < line_end:
            # the item's key: the text before its first `:` (unless its `, ` comes first)
            at = item
            colon = -1
            while at < line_end:
                # (the next `:` or `,`, eight bytes at a time where the line has them)
                while at + 8 <= line_end:
                    word = load_word(data, at)
                    colons, commas = word ^ _COLONS, word ^ _COMMAS
                    hits = ~((((colons & _LOW_SEVEN_BITS) + _LOW_SEVEN_BITS) | colons | _LOW_SEVEN_BITS)
                             & (((commas & _LOW_SEVEN_BITS) + _LOW_SEVEN_BITS) | commas | _LOW_SEVEN_BITS))
                    if hits:
                        at += trailing_zeros(hits) >> 3
                        break
                    at += 8
                if at >= line_end:
                    break
                byte = data[at]
                if byte == _COLON:
                    colon = at
                    break
                if byte == _COMMA and at + 1 < line_end and data[at + 1] == _SPACE:
                    break
                at += 1
            if colon < 0:  # (no key: the next item, if any)
                item = at + 2
                continue
            key = -1
            length = colon - item
            # (a space after the colon: the item goes on past it, `, ` cannot start there)
            if colon + 1 < line_end and data[colon + 1] == _SPACE and length <= longest:
                for candidate in range(first_of_length[length], first_of_length[length] + count_of_length[length]):
                    same = True
                    for i in range(length):
                        if data[item + i] != key_text[key_start[candidate] + i]:
                            same = False
                            break
                    if same:
                        key = key_number[candidate]
                        break
            # the item's end: the next `, ` (or the line's end)
            stop = colon + 1
            while stop < line_end:
                # (the next `,`, eight bytes at a time where the line has them)
                while stop + 8 <= line_end:
                    commas = load_word(data, stop) ^ _COMMAS
                    hits = ~(((commas & _LOW_SEVEN_BITS) + _LOW_SEVEN_BITS) | commas | _LOW_SEVEN_BITS)
                    if hits:
                        stop += trailing_zeros(hits) >> 3
                        break
                    stop += 8
                if stop >= line_end:
                    stop = line_end
                    break
                if data[stop] == _COMMA and stop + 1 < line_end and data[stop + 1] == _SPACE:
                    break
                stop += 1
            if key >= 0 and begin[key, row] < 0:
                value, value_end = colon + 2, stop
                while value < value_end and data[value] == _SPACE:
                    value += 1
                while value_end > value and data[value_end - 1] == _SPACE:
                    value_end -= 1
                if value < value_end and (data[value] >= 0x80 or data[value_end - 1] >= 0x80):
                    wide_edge[key] = True
                begin[key, row], end[key, row] = value, value_end
            item = stop + 2


@kernel
def _gathered(data, begin, end):
    """Each key's values (begin < end) copied into a region of one buffer: (offsets[key] into the buffer per row,
    then the end; the buffer; validity bitmaps per key; null counts per key). Rows are read in order, each row's
    values at once."""
    keys, rows = begin.shape
    region = np.zeros(keys + 1, np.int64)
    for key in range(keys):
        size = 0
        for row in range(rows):
            if begin[key, row] >= 0 and end[key, row] > begin[key, row]:
                size += end[key, row] - begin[key, row]
        region[key + 1] = region[key] + size
    text = np.empty(max(region[keys], 1), np.uint8)
    written = region[:keys].copy()
    offsets = np.empty((keys, rows + 1), np.int32)
    valid = np.zeros((keys, (rows + 7) // 8), np.uint8)
    nulls = np.zeros(keys, np.int64)
    for row in range(rows):
        for key in range(keys):
            offsets[key, row] = written[key]
            start, stop = begin[key, row], end[key, row]
            if start < 0 or stop <= start:
                nulls[key] += 1
                continue
            valid[key, row >> 3] |= np.uint8(1 << (row & 7))
            cursor = written[key]
            for at in range(start, stop):
                text[cursor] = data[at]
                cursor += 1
            written[key] = cursor
    offsets[:, rows] = written
    return offsets, text, valid, nulls
