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

Measured (16,384 benchmark lines of ~390 bytes): the pass ~6.9 ms, copying the values out ~3.6 ms; a 1M-line file's
whole ingest ~2.5-2.8 s CPU (SPLUNK_SQL's expressions: ~9.5 s). Tried and left: the per-place step as a function of
its own inlined into the eight-byte loop was twice as slow as the two passes here; copying values without a
backslash as whole slices saves ~1 ms per 16,384 lines (~2 % of an ingest), not worth its code.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pyarrow as pa
from numba.cpython.unsafe.numbers import trailing_zeros

from detector.ingest.compiled import WantedKeys, inlined, kernel

_BAR, _BACKSLASH, _EQUALS = ord("|"), ord("\\"), ord("=")
_TIME = np.frombuffer(b"time=", np.uint8)
# Bytes the pass stops at: 1 `|`, 2 whitespace (`\s`: \t \n \f \r and space; not \v), 3 `[`
_KIND = np.zeros(256, np.uint8)
_KIND[ord("|")] = 1
_KIND[[9, 10, 12, 13, ord(" ")]] = 2
_KIND[ord("[")] = 3
# The same bytes sought eight at a time: `|`, space, `[` in all eight bytes of a word, and the bytes below 0x0E
_EVERY_BYTE = np.uint64(0x0101010101010101)
_BARS, _SPACES, _OPENS = (np.uint64(byte) * _EVERY_BYTE for byte in (ord("|"), ord(" "), ord("[")))
_CONTROLS = np.uint64(0x80 - 0x0E) * _EVERY_BYTE
_LOW_SEVEN_BITS = np.uint64(0x7F7F7F7F7F7F7F7F)
_TOP_BITS = np.uint64(0x8080808080808080)


class SplunkValues(NamedTuple):
    """Which lines are of the Splunk format, which hold a `[`, and per key each line's value (escapes undone; null
    where the line lacks it or it is empty)."""

    splunk: np.ndarray
    has_open: np.ndarray
    columns: dict[str, pa.Array]


def splunk_values(line: pa.Array, keys: WantedKeys, time_key: int) -> SplunkValues:
    """The Splunk format's values of `line` by key (`keys.keys`, each without its `=`; `time_key` the number of
    `time`), of every line, of the format or not."""
    from detector.ingest.key_values_scan import arrow_bytes

    data, offsets = arrow_bytes(line)
    lines = len(line)
    splunk = np.zeros(lines, np.bool_)
    has_open = np.zeros(lines, np.bool_)
    begin = np.full((lines, len(keys.keys)), -1, np.int32)  # (a line's keys together: one line at a time)
    end = np.zeros((lines, len(keys.keys)), np.int32)
    words = data[:len(data) // 8 * 8].view(np.uint64)
    starts_key = np.zeros(256, np.bool_)  # the first bytes of the wanted keys
    starts_key[keys.text[keys.start]] = True
    _splunk_spans(data, words, offsets, keys.text, keys.start, keys.number, keys.first, keys.count, starts_key,
                  time_key, splunk, has_open, begin, end)
    offsets_out, text, valid, nulls = _unescaped(data, begin, end)
    buffer = pa.py_buffer(text)
    columns = {}
    for number, key in enumerate(keys.keys):
        bitmap = pa.py_buffer(valid[number]) if nulls[number] else None
        columns[key] = pa.StringArray.from_buffers(lines, pa.py_buffer(offsets_out[number]), buffer, bitmap,
                                                   int(nulls[number]))
    return SplunkValues(splunk, has_open, columns)


@kernel
def _splunk_spans(data, words, offsets, key_text, key_start, key_number, first_of_length, count_of_length, starts_key,
                  time_key, splunk, has_open, begin, end):
    longest_key = len(first_of_length) - 1
    longest = 0
    for line in range(len(offsets) - 1):
        longest = max(longest, offsets[line + 1] - offsets[line])
    candidate = np.empty(longest + 2, np.int64)  # the places of the line's bytes that may matter
    for line in range(len(offsets) - 1):
        start, stop = offsets[line], offsets[line + 1]
        # pass 1: the places of `|`, `[`, whitespace and the bytes below 0x0E, eight bytes at a time (`words`:
        # `data` as 64-bit words), byte by byte only before the line's first whole word and after its last; the
        # line's start first (as if after whitespace)
        candidate[0] = start - 1
        found = 1
        at = start
        while at < stop and at & 7:
            candidate[found] = at
            found += _KIND[data[at]] > 0  # (written always, kept only if wanted: no branch per byte)
            at += 1
        while at + 8 <= stop:
            word = words[at >> 3]
            hits = _bytes_equal(word, _BARS) | _bytes_equal(word, _SPACES) | _bytes_equal(word, _OPENS) \
                | _bytes_below(word, _CONTROLS)
            while hits:
                candidate[found] = at + (trailing_zeros(hits) >> 3)
                found += 1
                hits &= hits - np.uint64(1)
            at += 8
        while at < stop:
            candidate[found] = at
            found += _KIND[data[at]] > 0
            at += 1
        # pass 2: what each begins: `time=` after whitespace, `|key=`, a `[`
        for item in range(found):
            at = candidate[item]
            kind = 2 if at < start else _KIND[data[at]]
            if kind == 0:  # (a control byte that is no whitespace)
                continue
            if kind == 3:
                has_open[line] = True
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
                    digits = value
                    while digits < stop and 48 <= data[digits] <= 57:
                        digits += 1
                    if digits > value and digits < stop and data[digits] == _BAR:
                        splunk[line] = True
            elif after < stop and starts_key[data[after]]:  # `|key=` (only where a wanted key starts so)
                equals = after
                while equals < stop and equals - after <= longest_key and data[equals] != _EQUALS \
                        and data[equals] != _BAR:
                    equals += 1
                length = equals - after
                if equals < stop and data[equals] == _EQUALS and length <= longest_key:
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
            if key >= 0 and begin[line, key] < 0:
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
                begin[line, key] = value
                end[line, key] = value_end


@inlined
def _bytes_equal(word, repeated):
    """The top bit of each byte of `word` equal to the byte `repeated` fills (see key_values_scan)."""
    other = word ^ repeated
    return ~(((other & _LOW_SEVEN_BITS) + _LOW_SEVEN_BITS) | other | _LOW_SEVEN_BITS)


@inlined
def _bytes_below(word, limits):
    """The top bit of each byte of `word` below 0x80 - (the byte `limits` fills), the other bits 0: the low seven
    bits plus it carry into the top bit only from the limit up (the sum stays below 0x100)."""
    return ~(((word & _LOW_SEVEN_BITS) + limits) | word) & _TOP_BITS


@kernel
def _unescaped(data, begin, end):
    """Each key's values (begin >= 0, not empty) copied into a region of one buffer, each `\\` dropped and the
    byte after it kept: (offsets per key, then the end; the buffer; validity bitmaps per key; null counts)."""
    lines, keys = begin.shape
    region = np.zeros(keys + 1, np.int64)
    for line in range(lines):
        for key in range(keys):
            if begin[line, key] >= 0:
                region[key + 1] += end[line, key] - begin[line, key]
    for key in range(keys):
        region[key + 1] += region[key]
    text = np.zeros(max(region[keys], 1), np.uint8)
    written = region[:keys].copy()
    offsets = np.empty((keys, lines + 1), np.int32)
    valid = np.zeros((keys, (lines + 7) // 8), np.uint8)
    nulls = np.zeros(keys, np.int64)
    for line in range(lines):
        for key in range(keys):
            offsets[key, line] = written[key]
            start = begin[line, key]
            if start < 0 or end[line, key] == start:  # (an empty value is none)
                nulls[key] += 1
                continue
            valid[key, line >> 3] |= np.uint8(1 << (line & 7))
            cursor = written[key]
            at = start
            while at < end[line, key]:
                if data[at] == _BACKSLASH:
                    at += 1
                text[cursor] = data[at]
                cursor += 1
                at += 1
            written[key] = cursor
    offsets[:, lines] = written
    return offsets, text, valid, nulls
