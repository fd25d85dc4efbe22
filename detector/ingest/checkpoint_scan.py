"""Check Point Log Exporter's Splunk format (`time=1763452930|hostname=gw|action=Accept|src=...|`, sk122323) cut by
one compiled pass over each line's bytes, to the values checkpoint.SPLUNK_SQL's regular expressions find (RE2,
leftmost match first), instead of a regular expression per key and line.

The rules, as the expressions read them:
- a line is of the format when `time=`, digits and `|` follow the line's start or a whitespace byte (`\\s`: tab,
  line feed, form feed, carriage return, space);
- a key's value follows its first `|key=` in the line (`time=`: also at the line's start or after whitespace),
  escaped `|` or not: the expressions do not know about escapes before the key;
- the value runs to the first `|` not escaped by a backslash, or to a backslash ending the line; each escape
  (`\\` and the character after it) reads as the character.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from detector.ingest.compiled import WantedKeys, kernel

_BAR, _BACKSLASH, _EQUALS = ord("|"), ord("\\"), ord("=")
_TIME = np.frombuffer(b"time=", np.uint8)
# Bytes the pass stops at: 1 `|`, 2 whitespace (`\s`: \t \n \f \r and space; not \v)
_KIND = np.zeros(256, np.uint8)
_KIND[ord("|")] = 1
_KIND[[9, 10, 12, 13, ord(" ")]] = 2


def splunk_values(line: pa.Array, keys: WantedKeys, time_key: int) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """Which lines are of the Splunk format, and per key (`keys.keys`, each without its `=`) each line's value,
    escapes undone (null where the line lacks it or it is empty). `time_key` is the number of the key `time`."""
    from detector.ingest.key_values_scan import arrow_bytes

    data, offsets = arrow_bytes(line)
    lines = len(line)
    splunk = np.zeros(lines, np.bool_)
    begin = np.full((len(keys.keys), lines), -1, np.int32)
    end = np.zeros((len(keys.keys), lines), np.int32)
    _splunk_spans(data, offsets, keys.text, keys.start, keys.number, keys.first, keys.count, time_key, splunk,
                  begin, end)
    offsets_out, text, valid, nulls = _unescaped(data, begin, end)
    buffer = pa.py_buffer(text)
    columns = {}
    for number, key in enumerate(keys.keys):
        bitmap = pa.py_buffer(valid[number]) if nulls[number] else None
        columns[key] = pa.StringArray.from_buffers(lines, pa.py_buffer(offsets_out[number]), buffer, bitmap,
                                                   int(nulls[number]))
    return splunk, columns


@kernel
def _splunk_spans(data, offsets, key_text, key_start, key_number, first_of_length, count_of_length, time_key, splunk,
                  begin, end):
    longest = len(first_of_length) - 1
    for line in range(len(offsets) - 1):
        start, stop = offsets[line], offsets[line + 1]
        at = start - 1  # (the line's start: as if a whitespace byte came before it)
        while at < stop:
            kind = 2 if at < start else _KIND[data[at]]
            if kind == 0:
                at += 1
                continue
            after = at + 1
            key = -1
            value = 0
            if kind == 2:  # `time=` after whitespace or at the line's start
                matched = after + len(_TIME) <= stop
                for i in range(len(_TIME)):
                    if not matched or data[after + i] != _TIME[i]:
                        matched = False
                        break
                if matched:
                    key = time_key
                    value = after + len(_TIME)
                    digits = after + len(_TIME)
                    while digits < stop and 48 <= data[digits] <= 57:
                        digits += 1
                    if digits > after + len(_TIME) and digits < stop and data[digits] == _BAR:
                        splunk[line] = True
            else:  # `|key=`
                equals = after
                while equals < stop and equals - after <= longest and data[equals] != _EQUALS \
                        and data[equals] != _BAR:
                    equals += 1
                length = equals - after
                if equals < stop and data[equals] == _EQUALS and length <= longest:
                    for entry in range(first_of_length[length], first_of_length[length] + count_of_length[length]):
                        same = True
                        for i in range(length):
                            if data[after + i] != key_text[key_start[entry] + i]:
                                same = False
                                break
                        if same:
                            key = key_number[entry]
                            value = equals + 1
                            break
            if key >= 0 and begin[key, line] < 0:
                value_end = value
                while value_end < stop:
                    byte = data[value_end]
                    if byte == _BAR:
                        break
                    if byte == _BACKSLASH:
                        if value_end + 1 >= stop:
                            break
                        value_end += 2
                    else:
                        value_end += 1
                begin[key, line] = value
                end[key, line] = value_end
            at += 1


@kernel
def _unescaped(data, begin, end):
    """Each key's values (begin >= 0, not empty) copied into a region of one buffer, each `\\` dropped and the
    byte after it kept: (offsets per key, then the end; the buffer; validity bitmaps per key; null counts)."""
    keys, lines = begin.shape
    region = np.zeros(keys + 1, np.int64)
    for key in range(keys):
        size = 0
        for line in range(lines):
            if begin[key, line] >= 0:
                size += end[key, line] - begin[key, line]
        region[key + 1] = region[key] + size
    text = np.zeros(max(region[keys], 1), np.uint8)
    written = region[:keys].copy()
    offsets = np.empty((keys, lines + 1), np.int32)
    valid = np.zeros((keys, (lines + 7) // 8), np.uint8)
    nulls = np.zeros(keys, np.int64)
    for line in range(lines):
        for key in range(keys):
            offsets[key, line] = written[key]
            start = begin[key, line]
            if start < 0 or end[key, line] == start:  # (an empty value is none)
                nulls[key] += 1
                continue
            valid[key, line >> 3] |= np.uint8(1 << (line & 7))
            cursor = written[key]
            at = start
            while at < end[key, line]:
                if data[at] == _BACKSLASH:
                    at += 1
                text[cursor] = data[at]
                cursor += 1
                at += 1
            written[key] = cursor
    offsets[:, lines] = written
    return offsets, text, valid, nulls
