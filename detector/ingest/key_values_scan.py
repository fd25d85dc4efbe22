"""Quoted key/value lines (Junos structured data `key="value"`, Check Point `key:"value";`) read by one compiled
pass over each line's bytes, instead of numpy passes over every quote mark and Arrow takes.

`_quoted_values` walks a line in three steps, all in the CPU's cache: it finds the bytes that may matter (`"`,
`[`, `]`, the first byte of “ and ”) eight at a time; it keeps of them the quote marks (`"` not after a
backslash unless it opens the line; with `typographic`, “ and ” too) and notes what the brackets tell; then it
reads the marks in pairs (a line with an odd number has one more, of no width, at its end): mark 2m opens value
m and mark 2m + 1 closes it. The text before a value's opening mark names its key: the head (the text before a
line's first mark) by its last word, every other key piece (the text between the previous value's closing mark
and this opening one) as `prefix` + key exactly, or by its last word in lines of another layout (see
`LastWordLines`). A key's first occurrence in a line counts. `_gathered` then copies the values line by line
into one region per key, an escaped quote (`\\"`) as HIDDEN_QUOTE.

Costs per 16,384-line slice of the benchmark's lines (500-600 bytes each), values cut out included: numpy's
passes took ~22 ms for Check Point and ~30 ms for SRX, these kernels ~11 ms (~4 of it finding the bytes).
Importing Numba and loading the first cached kernel costs ~0.5 s CPU once per process; a 1M-line file's parse
still costs 1.86 s CPU instead of 3.0 (SRX) and 1.67 instead of 2.3 (Check Point).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import pyarrow as pa
from numba.cpython.unsafe.numbers import trailing_zeros

from detector.ingest.compiled import WantedKeys, kernel
from detector.ingest.key_values import spans_of

_QUOTE, _BACKSLASH, _SPACE, _OPEN, _CLOSE = ord('"'), ord("\\"), ord(" "), ord("["), ord("]")
_TYPOGRAPHIC_LEAD, _TYPOGRAPHIC_SECOND, _LEFT_LAST, _RIGHT_LAST = 0xE2, 0x80, 0x9C, 0x9D  # “ and ” in UTF-8
_HIDDEN_QUOTE = 0x1E  # key_values.HIDDEN_QUOTE

# What a line's brackets tell (bits of `QuotedValues.brackets`)
PAIRED = 1  # a `]` followed by `[` (one SD element closing, the next opening)
DATA_ENDS_LINE = 2  # the last byte is `]`, every other `]` is followed by `[`, and no `]` follows a backslash
HAS_OPEN = 4  # a `[`


# The bytes the scan looks at: 1 (of “ and ”, 3 bytes, the lead is enough)
_WANTED = np.zeros(256, np.uint8)
_WANTED[[_QUOTE, _OPEN, _CLOSE, _TYPOGRAPHIC_LEAD]] = 1
# The same, each in all eight bytes of a 64-bit word
_EVERY_BYTE = np.uint64(0x0101010101010101)
_QUOTES, _OPENS, _CLOSES, _LEADS = (np.uint64(byte) * _EVERY_BYTE
                                    for byte in (_QUOTE, _OPEN, _CLOSE, _TYPOGRAPHIC_LEAD))
_LOW_SEVEN_BITS = np.uint64(0x7F7F7F7F7F7F7F7F)


class LastWordLines(IntEnum):
    """The lines whose key pieces are read by their last word rather than as `prefix` + key exactly."""

    PAIRED = 1  # lines with a `][` (several SD elements: `"][elem key="`)
    NOT_PREFIXED = 2  # lines with two marks or more whose text after the second does not start with `prefix`


class QuotedValues:
    """Where each line's values of the wanted keys are, and what else the scan saw, per line."""

    def __init__(self, line: pa.Array, keys: WantedKeys, prefix: str, last_word_lines: LastWordLines,
                 typographic: bool = False, strip_bracket: bool = False, head_spaces: int = 0) -> None:
        """Scan `line` (a string array; nothing is copied). With `strip_bracket` a last word's leading `[`s are
        not part of its key (`[src:`). The first `head_spaces` spaces of each head are noted (`head_words`)."""
        self.line = line
        self.keys = keys
        self.data, self.offsets = arrow_bytes(line)
        lines = len(line)
        self.begin = np.full((len(keys.keys), lines), -1, np.int32)  # -1: the line lacks the key
        self.end = np.empty((len(keys.keys), lines), np.int32)
        self.head_end = np.empty(lines, np.int32)  # where the head ends: the first mark, else the line's end
        self.values = np.empty(lines, np.int32)  # how many quoted values
        self.brackets = np.empty(lines, np.uint8)  # PAIRED | DATA_ENDS_LINE | HAS_OPEN
        self.head_space = np.empty((lines, head_spaces), np.int32)  # the head's first spaces; -1: no more
        words = self.data[:len(self.data) // 8 * 8].view(np.uint64)
        _quoted_values(self.data, words, self.offsets, typographic, np.frombuffer(prefix.encode(), np.uint8),
                       strip_bracket, int(last_word_lines), keys.text, keys.start, keys.number, keys.first, keys.count,
                       self.begin, self.end, self.head_end, self.values, self.brackets, self.head_space)

    def data_ends_line(self) -> np.ndarray:
        """Lines whose last byte is `]`, every other `]` followed by `[`, no `]` after a backslash."""
        return (self.brackets & DATA_ENDS_LINE) > 0

    def has_open(self) -> np.ndarray:
        """Lines holding a `[`."""
        return (self.brackets & HAS_OPEN) > 0

    def head(self) -> pa.Array:
        """Each line's text before its first quote mark (all of it when it has none)."""
        return spans_of(self.line, self.offsets[:-1], self.head_end)

    def head_words(self) -> list[pa.Array]:
        """The heads cut at their first `head_spaces` spaces, as `split_pattern(head, " ", max_splits)` with
        the missing parts empty: one column per part."""
        parts = []
        begin = self.offsets[:-1]
        for space in self.head_space.T:
            found = space >= 0
            end = np.where(found, space, self.head_end)
            parts.append(spans_of(self.line, begin, end))
            begin = np.where(found, space + 1, self.head_end)  # (past the end: an empty part)
        return [*parts, spans_of(self.line, begin, self.head_end)]

    def columns(self, read: np.ndarray | None = None) -> dict[str, pa.Array]:
        """Per key, each line's value (null where the line lacks it, or where `read`, if given, is false),
        escaped quotes as HIDDEN_QUOTE."""
        lines = len(self.line)
        if read is None:
            read = np.ones(lines, np.bool_)
        offsets, text, valid, nulls = _gathered(self.data, self.begin, self.end, read)
        buffer = pa.py_buffer(text)
        columns = {}
        for number, key in enumerate(self.keys.keys):
            if nulls[number] == lines:
                columns[key] = pa.nulls(lines, pa.string())
                continue
            validity = pa.py_buffer(valid[number]) if nulls[number] else None
            own = pa.py_buffer(offsets[number])
            columns[key] = pa.StringArray.from_buffers(lines, own, buffer, validity, int(nulls[number]))
        return columns


def arrow_bytes(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A string array's bytes and its int32 offsets into them (the array's own buffers: nothing is copied)."""
    # (read-only arrays, as the buffers' views are: other array types would compile the kernels once more)
    if not len(text):
        return np.frombuffer(b"", np.uint8), np.frombuffer(bytes(4), np.int32)
    offsets = np.frombuffer(text.buffers()[1], np.int32, len(text) + 1, text.offset * 4)
    data = text.buffers()[2]
    return np.frombuffer(data if data is not None else b"", np.uint8), offsets


@kernel
def _bytes_equal(word, repeated):
    """The top bit of each byte of `word` equal to the byte `repeated` fills, the other bits 0: equal bytes are
    the zero bytes of `word ^ repeated`, and only a zero byte has neither its top bit nor a carry into it when
    its low seven bits are added to 0x7F."""
    other = word ^ repeated
    return ~(((other & _LOW_SEVEN_BITS) + _LOW_SEVEN_BITS) | other | _LOW_SEVEN_BITS)


@kernel
def _quoted_values(data, words, offsets, typographic, prefix, strip_bracket, last_word_lines, key_text, key_start,
                   key_number, first_of_length, count_of_length, begin, end, head_end, values, brackets, head_space):
    lines = len(offsets) - 1
    longest = 0
    for line in range(lines):
        longest = max(longest, offsets[line + 1] - offsets[line])
    candidate = np.empty(longest + 1, np.int64)  # the places of the line's bytes that may matter
    mark_at = np.empty(longest + 2, np.int64)  # the line's marks: first byte, and the byte after
    mark_after = np.empty(longest + 2, np.int64)
    for line in range(lines):
        line_start, line_end = offsets[line], offsets[line + 1]
        # pass 1: the places of the bytes that may matter (`"`, `[`, `]`, and the lead byte of “ and ”), eight
        # bytes at a time (`words`: `data` as 64-bit words), byte by byte only before the line's first whole word
        # and after its last
        found = 0
        at = line_start
        while at < line_end and at & 7:
            candidate[found] = at
            found += _WANTED[data[at]]  # (written always, kept only if wanted: no branch per byte)
            at += 1
        while at + 8 <= line_end:
            word = words[at >> 3]
            hits = (_bytes_equal(word, _QUOTES) | _bytes_equal(word, _OPENS) | _bytes_equal(word, _CLOSES)
                    | _bytes_equal(word, _LEADS))
            while hits:
                candidate[found] = at + (trailing_zeros(hits) >> 3)
                found += 1
                hits &= hits - np.uint64(1)
            at += 8
        while at < line_end:
            candidate[found] = at
            found += _WANTED[data[at]]
            at += 1
        # pass 2: which of them are quote marks, and what the brackets tell
        marks = 0
        paired = False
        stray_close = False  # a `]` neither last nor followed by `[`, or after a backslash
        has_open = False
        for item in range(found):
            at = candidate[item]
            byte = data[at]
            if byte == _QUOTE:
                if at == line_start or data[at - 1] != _BACKSLASH:
                    mark_at[marks] = at
                    mark_after[marks] = at + 1
                    marks += 1
            elif byte == _TYPOGRAPHIC_LEAD:
                if (typographic and at + 2 < line_end and data[at + 1] == _TYPOGRAPHIC_SECOND
                        and (data[at + 2] == _LEFT_LAST or data[at + 2] == _RIGHT_LAST)):
                    mark_at[marks] = at
                    mark_after[marks] = at + 3
                    marks += 1
            elif byte == _CLOSE:
                if at > line_start and data[at - 1] == _BACKSLASH:
                    stray_close = True
                if at + 1 < line_end:
                    if data[at + 1] == _OPEN:
                        paired = True
                    else:
                        stray_close = True
            else:
                has_open = True
        ends_line = line_end > line_start and data[line_end - 1] == _CLOSE and not stray_close
        brackets[line] = (PAIRED if paired else 0) | (DATA_ENDS_LINE if ends_line else 0) | (HAS_OPEN if has_open
                                                                                                 else 0)
        if marks % 2:  # the last value runs to the line's end
            mark_at[marks] = line_end
            mark_after[marks] = line_end
            marks += 1
        values[line] = marks // 2
        head_end[line] = mark_at[0] if marks else line_end
        spaces = 0
        for at in range(line_start, head_end[line]):
            if spaces == head_space.shape[1]:
                break
            if data[at] == _SPACE:
                head_space[line, spaces] = at
                spaces += 1
        head_space[line, spaces:] = -1
        # pass 2: each value's key
        by_last_word = False
        if last_word_lines == 1:
            by_last_word = paired
        elif marks >= 2:
            second_end = mark_after[1]
            by_last_word = second_end + len(prefix) > line_end
            for i in range(len(prefix)):
                if by_last_word or data[second_end + i] != prefix[i]:
                    by_last_word = True
                    break
        # (the key's text is compared here, not in a function of its own: a call per value, with its arrays'
        # reference counts, cost five times the comparison)
        for value in range(marks // 2):
            opening = 2 * value
            piece_start = line_start if value == 0 else mark_after[opening - 1]
            piece_end = mark_at[opening]
            if value == 0 or by_last_word:  # the text after the last space, without `[`s if asked
                word = piece_start
                for at in range(piece_end - 1, piece_start - 1, -1):
                    if data[at] == _SPACE:
                        word = at + 1
                        break
                if strip_bracket:
                    while word < piece_end and data[word] == _OPEN:
                        word += 1
            else:  # `prefix` + key
                word = piece_start + len(prefix)
                if word > piece_end:
                    continue
                for i in range(len(prefix)):
                    if data[piece_start + i] != prefix[i]:
                        word = -1
                        break
                if word < 0:
                    continue
            key = -1
            length = piece_end - word
            if length < len(first_of_length):
                for entry in range(first_of_length[length], first_of_length[length] + count_of_length[length]):
                    start = key_start[entry]
                    same = True
                    for i in range(length):
                        if data[word + i] != key_text[start + i]:
                            same = False
                            break
                    if same:
                        key = key_number[entry]
                        break
            if key >= 0 and begin[key, line] < 0:
                begin[key, line] = mark_after[opening]
                end[key, line] = mark_at[opening + 1]


@kernel
def _gathered(data, begin, end, read):
    """Each key's values (begin[key, line] >= 0 and read[line]) copied into a region of one buffer, `\\"` as
    HIDDEN_QUOTE: (offsets[key] into the buffer per line, then the end; the buffer; validity bitmaps per key;
    null counts per key). Lines are read in order, each line's values at once: key by key, every key would read
    the lines' bytes from memory once more."""
    keys, lines = begin.shape
    region = np.zeros(keys + 1, np.int64)  # where each key's values start (room for them all, unescaped)
    for key in range(keys):
        size = 0
        for line in range(lines):
            if begin[key, line] >= 0 and read[line]:
                size += end[key, line] - begin[key, line]
        region[key + 1] = region[key] + size
    text = np.empty(max(region[keys], 1), np.uint8)
    written = region[:keys].copy()
    offsets = np.empty((keys, lines + 1), np.int32)
    valid = np.zeros((keys, (lines + 7) // 8), np.uint8)
    nulls = np.zeros(keys, np.int64)
    for line in range(lines):
        for key in range(keys):
            offsets[key, line] = written[key]
            start = begin[key, line]
            if start < 0 or not read[line]:
                nulls[key] += 1
                continue
            valid[key, line >> 3] |= np.uint8(1 << (line & 7))
            stop = end[key, line]
            at = start
            cursor = written[key]
            while at < stop:
                byte = data[at]
                if byte == _BACKSLASH and at + 1 < stop and data[at + 1] == _QUOTE:
                    text[cursor] = _HIDDEN_QUOTE
                    at += 2
                else:
                    text[cursor] = byte
                    at += 1
                cursor += 1
            written[key] = cursor
    offsets[:, lines] = written
    for key in range(keys):  # (the room escaped quotes left unused: zeros, not whatever memory held)
        text[written[key]:region[key + 1]] = 0
    return offsets, text, valid, nulls
