"""Where the values of wanted keys are in ProxySG `key=value` lines, and those values cut out and unquoted: one
compiled pass over each line's bytes (instead of a quote-aware Arrow split into ~25 tokens a line).

The rules (the same as the Arrow split they replace, `arrow_ops.split_quoted` + `quoted_value`):
- A line holding `Bluecoat|` (any case) is QRadar's: its tokens are separated by `|`, values are taken as written.
- Any other line's tokens are separated by spaces outside double quotes; `""` is a quote mark inside the text (it
  opens or closes nothing), a lone `"` opens or closes a quoted part.
- A token's key is its text before its first `=`, compared in ASCII lower case with `_` read as `-`; tokens
  without `=` name nothing. The first token naming a field (by any of its keys) in a line counts.
- A space-separated value is unquoted: the surrounding quote marks are dropped when it starts and ends with a lone
  `"` (two marks or more), `""` is `"`, and a value that is exactly `""` is empty; a quote left open is closed
  at the line's end. (Bytes 0x01 and 0x02, the
  Arrow split's placeholders, are read back as `"` and a space, as it did.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from detector.ingest.compiled import WantedKeys, kernel
from detector.ingest.key_values import spans_of
from detector.ingest.key_values_scan import arrow_bytes

_QUOTE, _SPACE, _EQUALS, _PIPE = ord('"'), ord(" "), ord("="), ord("|")
_UNDERSCORE, _DASH, _UPPER_A, _UPPER_Z = ord("_"), ord("-"), ord("A"), ord("Z")
_QUOTE_HOLDER, _SPACE_HOLDER = 1, 2  # the Arrow split's placeholders for `""` and a quoted space
_MARK = np.frombuffer(b"bluecoat", np.uint8)  # (before a `|`: QRadar's layout)
_SPLV = np.frombuffer(b"SPLV", np.uint8)
_DOT, _ZERO, _NINE = ord("."), ord("0"), ord("9")
# RE2's `\s` (no vertical tab), and the bytes no word before an `=` holds in the head's pattern (`[^\s|="]`)
_WHITESPACE = np.zeros(256, np.bool_)
_WHITESPACE[[ord(c) for c in "\t\n\f\r "]] = True
_ENDS_WORD = _WHITESPACE.copy()
_ENDS_WORD[[_PIPE, _EQUALS, _QUOTE]] = True
# The bytes that end, quote or split a token of a space-separated line (the others are passed over)
_SPECIAL = np.zeros(256, np.bool_)
_SPECIAL[[_QUOTE, _SPACE, _EQUALS]] = True
# The kinds of a value's pieces when it is unquoted
_TEXT, _TOGGLE, _LITERAL_QUOTE = 0, 1, 2


class Scanned:
    """What the scan of a slice's lines found: the values of the fields asked for one by one (`columns`) and each
    line's head."""

    def __init__(self, text: pa.Array, keys: WantedKeys, field_of_key: np.ndarray, fields: Sequence[str],
                 columns: Sequence[str]) -> None:
        """Scan `text` (a string array; nothing is copied) for `keys`; key `keys.keys[k]` names field
        `fields[field_of_key[k]]`; the first key of a field in a line counts."""
        self.text = text
        data, self.offsets = arrow_bytes(text)
        lines = len(text)
        begin = np.empty((lines, len(fields)), np.int32)
        end = np.empty((lines, len(fields)), np.int32)
        piped = np.empty(lines, np.bool_)
        self.head_end = np.empty(lines, np.int32)  # -1: no head (see `head`)
        _value_spans(data, self.offsets, _MARK, _SPLV, keys.text, keys.start, keys.number, keys.first, keys.count,
                     field_of_key.astype(np.int64), begin, end, piped, self.head_end)
        kept = np.array([field in columns for field in fields], np.bool_)
        own_offsets, buffer, valid, nulls = _gathered(data, begin, end, piped, kept)
        shared = pa.py_buffer(buffer)
        self.columns: dict[str, pa.Array] = {}
        for number, field in enumerate(fields):
            if not kept[number]:
                continue
            if nulls[number] == lines:
                self.columns[field] = pa.nulls(lines, pa.string())
                continue
            validity = pa.py_buffer(valid[number]) if nulls[number] else None
            self.columns[field] = pa.StringArray.from_buffers(lines, pa.py_buffer(own_offsets[number]), shared,
                                                              validity, int(nulls[number]))

    def head(self, rows: np.ndarray) -> pa.Array:
        """The text of lines `rows` before `SPLV<version> `, `Bluecoat|` (any case) or the first `word=`
        (`^(.*?)(?:SPLV[\\d.]*\\s|(?i:bluecoat)\\||[^\\s|="]+=)`), empty where none of them is found."""
        start = self.offsets[:-1][rows]
        end = self.head_end[rows]
        return spans_of(self.text, start, np.where(end < 0, start, end))


@kernel
def _value_spans(data, offsets, mark, splv, key_text, key_start, key_number, first_of_length, count_of_length,
                 field_of_key, begin, end, piped, head_end):
    longest = len(first_of_length) - 1
    for line in range(len(offsets) - 1):
        line_start, line_end = offsets[line], offsets[line + 1]
        begin[line, :] = -1
        # the head: the first place where `SPLV[\d.]*\s`, `bluecoat|` (any case) or `[^\s|="]+=` matches
        head_end[line] = -1
        ended_at_mark = False
        run_end = line_start  # where the run of key bytes holding `at` ends
        for at in range(line_start, line_end):
            if at + len(splv) < line_end and data[at] == splv[0]:
                same = True
                for i in range(len(splv)):
                    if data[at + i] != splv[i]:
                        same = False
                        break
                if same:
                    after = at + len(splv)
                    while after < line_end and (data[after] == _DOT or _ZERO <= data[after] <= _NINE):
                        after += 1
                    if after < line_end and _WHITESPACE[data[after]]:
                        head_end[line] = at
                        break
            if at + len(mark) < line_end and data[at + len(mark)] == _PIPE:
                same = True
                for i in range(len(mark)):
                    byte = data[at + i]
                    if _UPPER_A <= byte <= _UPPER_Z:
                        byte += 32
                    if byte != mark[i]:
                        same = False
                        break
                if same:
                    head_end[line] = at
                    ended_at_mark = True
                    break
            if at >= run_end:
                run_end = at
                while run_end < line_end:
                    byte = data[run_end]
                    if _ENDS_WORD[byte]:
                        break
                    run_end += 1
                if run_end > at and run_end < line_end and data[run_end] == _EQUALS:
                    head_end[line] = at
                    break
        # QRadar's layout: a `bluecoat|` anywhere. None starts before the head's end: the loop above looked for one
        # at every place before it (and stopped at the first found), and everywhere when it found no head at all.
        pipe = ended_at_mark
        for at in range(head_end[line] + len(mark) if head_end[line] >= 0 and not pipe else line_end, line_end):
            if data[at] == _PIPE:
                same = True
                for i in range(len(mark)):
                    byte = data[at - len(mark) + i]
                    if _UPPER_A <= byte <= _UPPER_Z:
                        byte += 32
                    if byte != mark[i]:
                        same = False
                        break
                if same:
                    pipe = True
                    break
        piped[line] = pipe
        at = line_start
        while at <= line_end:
            token = at
            equals = -1
            if pipe:
                while at < line_end:
                    byte = data[at]
                    if byte == _PIPE:
                        break
                    if byte == _EQUALS:
                        equals = at
                        at += 1
                        while at < line_end and data[at] != _PIPE:
                            at += 1
                        break
                    at += 1
            else:
                inside = False
                while at < line_end:
                    byte = data[at]
                    if not _SPECIAL[byte]:
                        at += 1
                        continue
                    if byte == _QUOTE:
                        if at + 1 < line_end and data[at + 1] == _QUOTE:  # `""`: a quote mark in the text
                            at += 2
                            continue
                        inside = not inside
                    elif byte == _SPACE:
                        if not inside:
                            break
                    elif byte == _EQUALS and equals < 0:
                        equals = at
                    at += 1
            # the token is [token, at); `at` is its separator or the line's end
            length = equals - token
            if equals >= 0 and length <= longest:
                for entry in range(first_of_length[length], first_of_length[length] + count_of_length[length]):
                    start = key_start[entry]
                    same = True
                    for i in range(length):
                        byte = data[token + i]
                        if _UPPER_A <= byte <= _UPPER_Z:
                            byte += 32
                        elif byte == _UNDERSCORE:
                            byte = _DASH
                        if byte != key_text[start + i]:
                            same = False
                            break
                    if same:
                        field = field_of_key[key_number[entry]]
                        if begin[line, field] < 0:
                            begin[line, field] = equals + 1
                            end[line, field] = at
                        break
            at += 1


@kernel
def _gathered(data, begin, end, piped, kept):
    """The values of the `kept` fields copied into a region of one buffer each (space-separated ones unquoted):
    (offsets[field] into the buffer per line, then the end; the buffer; validity bitmaps per field; null counts
    per field)."""
    lines, fields = begin.shape
    region = np.zeros(fields + 1, np.int64)  # where each field's values start (room for them all)
    longest = 0
    size = np.zeros(fields, np.int64)
    for line in range(lines):
        for field in range(fields):
            if kept[field] and begin[line, field] >= 0:
                length = end[line, field] - begin[line, field]
                size[field] += length + 1  # (a quote left open is closed)
                longest = max(longest, length)
    for field in range(fields):
        region[field + 1] = region[field] + size[field]
    text = np.empty(max(region[fields], 1), np.uint8)
    written = region[:fields].copy()
    offsets = np.empty((fields, lines + 1), np.int32)
    valid = np.zeros((fields, (lines + 7) // 8), np.uint8)
    nulls = np.zeros(fields, np.int64)
    piece = np.empty(longest + 2, np.uint8)  # a value's pieces: the byte each stands for, and its kind
    kind = np.empty(longest + 2, np.uint8)
    for line in range(lines):
        for field in range(fields):
            offsets[field, line] = written[field]
            start = begin[line, field]
            if not kept[field]:
                continue
            if start < 0:
                nulls[field] += 1
                continue
            direct = True  # the value is its bytes as written: [first, last) of `data`, else of `piece`
            stop = end[line, field]
            if not piped[line]:
                for at in range(start, stop):
                    if data[at] == _QUOTE or data[at] == _QUOTE_HOLDER or data[at] == _SPACE_HOLDER:
                        direct = False
                        break
            first, last = start, stop
            if not direct:
                pieces = 0
                at = start
                while at < stop:
                    byte = data[at]
                    if byte == _QUOTE and at + 1 < stop and data[at + 1] == _QUOTE:
                        piece[pieces], kind[pieces] = _QUOTE, _LITERAL_QUOTE
                        at += 2
                    elif byte == _QUOTE:
                        piece[pieces], kind[pieces] = _QUOTE, _TOGGLE
                        at += 1
                    elif byte == _QUOTE_HOLDER:
                        piece[pieces], kind[pieces] = _QUOTE, _LITERAL_QUOTE
                        at += 1
                    elif byte == _SPACE_HOLDER:
                        piece[pieces], kind[pieces] = _SPACE, _TEXT
                        at += 1
                    else:
                        piece[pieces], kind[pieces] = byte, _TEXT
                        at += 1
                    pieces += 1
                toggles = 0
                for i in range(pieces):
                    toggles += kind[i] == _TOGGLE
                if toggles % 2:  # a quote left open: the split closed it at the line's end
                    piece[pieces], kind[pieces] = _QUOTE, _TOGGLE
                    pieces += 1
                first, last = 0, pieces
                if pieces == 1 and kind[0] == _LITERAL_QUOTE:  # `""`: empty
                    last = 0
                elif pieces >= 2 and kind[0] == _TOGGLE and kind[pieces - 1] == _TOGGLE:
                    first, last = 1, pieces - 1
            valid[field, line >> 3] |= np.uint8(1 << (line & 7))
            cursor = written[field]
            for i in range(first, last):
                text[cursor] = data[i] if direct else piece[i]
                cursor += 1
            written[field] = cursor
    offsets[:, lines] = written
    for field in range(fields):  # (the room unquoting left unused: zeros, not whatever memory held)
        text[written[field]:region[field + 1]] = 0
    return offsets, text, valid, nulls
