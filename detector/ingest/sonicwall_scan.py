"""Where the values of wanted keys are in SonicOS `key=value` lines, for the lines that may be events only: one
compiled pass over each line's bytes, which stops at a line's message id `m=` when that id is not an event's.

The keys and values are FortiGate's (`fortigate_scan`, whose rules this scan follows byte for byte: a PRI is
skipped, an `=` inside double quotes ends no key, a key's first occurrence counts, a value runs to its closing
double quote, else to a space, a quote mark or just past another `=`). SonicOS adds values in single quotes
(`appName='General HTTPS'`): a value that opens with `'` is read to the next `'` of its line (or the line's end).

Why a scan of its own rather than FortiGate's spans and numpy passes over them: a third to two fifths of a
SonicOS log is messages that are not events (a session's start, system, VPN), read to their end before and only
counted; the spans came line-major and were gathered and turned key-major for the lines read; and finding the
single quotes and the colons of `src=`/`dst=` took a numpy pass over every byte of the slice each.

`gathered` then copies the values read for events out of the kept lines, all keys of a line at once (its bytes
come from memory once), instead of one Arrow take over the slice per key. Spans and colons are int32 (places in a
batch's buffer, whose Arrow offsets are int32 too): half the fresh memory the system zeroes on first touch. The scan
writes them line-major (a line's spans side by side) and a found key's unquoted value is not read again by the loop
looking for the next `=`: the scan of the benchmark's 131k-line slices (best of 12, one thread) 58 -> 47 ms default
layout, 81 -> 61 ms enhanced, where key-major rows had it write to ~80 places apart per line.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from detector.ingest.compiled import WantedKeys, kernel

_QUOTE, _SINGLE_QUOTE, _SPACE, _EQUALS, _LESS, _GREATER, _COLON, _ZERO = (
    ord('"'), ord("'"), ord(" "), ord("="), ord("<"), ord(">"), ord(":"), ord("0"))
# The most digits of a message id read here (more: not read here, the line is kept for SQL to read)
_LONGEST_ID = 9
# The most bytes of a key compared as one number (ASCII keys of up to 8 bytes fit an int64)
_PACKED = 8
# The bytes before a key: a space, an `=`, or a quote mark (then it is none)
_BEFORE_KEY = np.zeros(256, np.bool_)
_BEFORE_KEY[[_SPACE, _EQUALS, _QUOTE]] = True


class Scanned:
    """What the scan found in the lines it kept (in line order), key-major: `rows` (their places among the
    lines), per key `found`, `starts`, `ends`, per address key `one`, `two` (its first and second colon, else its
    value's end) and `colons` (how many), and per line `head_end` (the earliest of the head keys' value starts,
    less the key and its `=`; the line's end when it has none of them). The key-major arrays are views of the
    line-major ones the kernel fills (`by_line`: found, starts, ends, one, two)."""

    def __init__(self, data: np.ndarray, offsets: np.ndarray, keys: WantedKeys, message: str,
                 events: tuple[int, ...], address_keys: tuple[str, ...], head_keys: tuple[str, ...]) -> None:
        lines = len(offsets) - 1
        count = len(keys.keys)
        # filled line-major (a line's spans side by side: the kernel writes one run of memory per line, where
        # key-major rows had it write to ~80 places apart), given key-major as views
        found = np.empty((lines, count), np.bool_)
        starts = np.empty((lines, count), np.int32)
        ends = np.empty((lines, count), np.int32)
        one = np.empty((lines, len(address_keys)), np.int32)
        two = np.empty((lines, len(address_keys)), np.int32)
        colons = np.empty((lines, len(address_keys)), np.int32)
        self.head_end = np.empty(lines, np.int64)
        rows = np.empty(lines, np.int64)
        address = np.array([keys.keys.index(key) for key in address_keys], np.int64)
        heads = np.array([keys.keys.index(key) for key in head_keys], np.int64)
        head_lengths = np.array([len(key.encode()) + 1 for key in head_keys], np.int64)
        packed = np.array([int.from_bytes(keys.keys[number].encode()[:_PACKED], "big") for number in keys.number],
                          np.int64)
        kept = _scan(data, offsets, keys.text, keys.start, packed, keys.number, keys.first, keys.count,
                     keys.keys.index(message), np.array(sorted(events), np.int64), address, heads, head_lengths,
                     rows, found, starts, ends, one, two, colons, self.head_end)
        self.rows = rows[:kept]
        self.by_line = found[:kept], starts[:kept], ends[:kept], one[:kept], two[:kept]
        self.found, self.starts, self.ends = found[:kept].T, starts[:kept].T, ends[:kept].T
        self.one, self.two, self.colons = one[:kept].T, two[:kept].T, colons[:kept].T
        self.head_end = self.head_end[:kept]
        self.address = address


@kernel
def _scan(data, offsets, key_text, key_start, key_packed, key_number, first_of_length, count_of_length, message, events,
          address, heads, head_lengths, rows, found, starts, ends, one, two, colons, head_end):
    """Fill the outputs' first columns, one per kept line; return how many lines were kept."""
    longest = len(first_of_length) - 1
    kept = 0
    for line in range(len(offsets) - 1):
        line_start, line_end = offsets[line], offsets[line + 1]
        found[kept, :] = False
        dropped = False
        text = line_start
        if line_end > line_start and data[line_start] == _LESS:
            for at in range(line_start, line_end):
                if data[at] == _GREATER:
                    text = at + 1
                    break
                if data[at] == _QUOTE:
                    break
        head = line_end
        at = text
        while at < line_end:
            byte = data[at]
            if byte == _QUOTE:
                # FortiGate's scan reads on in the quoted text, which ends no key (its `=`s are inside quotes, and
                # until the next space a word holds the closing quote mark): it is skipped to its closing mark
                at += 1
                while at < line_end and data[at] != _QUOTE:
                    at += 1
            elif byte == _EQUALS:
                # the key: back to the previous space or `=` (or the text's start), as FortiGate's scan keeps it
                # while reading forward; one holding a quote mark is none
                # while its bytes (up to 8) are gathered into one number, compared with each key's at once
                word = at
                packed = 0
                while word > text and at - word <= longest:
                    before = data[word - 1]
                    if _BEFORE_KEY[before]:
                        break
                    word -= 1
                    if at - word <= _PACKED:
                        packed |= np.int64(before) << (8 * (at - 1 - word))
                length = at - word
                skip = at
                if length <= longest and not (word > text and data[word - 1] == _QUOTE):
                    for candidate in range(first_of_length[length], first_of_length[length] + count_of_length[length]):
                        if length <= _PACKED:
                            same = packed == key_packed[candidate]
                        else:
                            same = True
                            for i in range(length):
                                if data[word + i] != key_text[key_start[candidate] + i]:
                                    same = False
                                    break
                        if same:
                            key = key_number[candidate]
                            if not found[kept, key]:
                                found[kept, key] = True
                                if at + 1 < line_end and data[at + 1] == _QUOTE:
                                    begin = end = at + 2
                                    while end < line_end and data[end] != _QUOTE:
                                        end += 1
                                    skip = end  # (the quoted value is not read again: on from its closing mark)
                                else:
                                    begin = end = at + 1
                                    while end < line_end and data[end] != _QUOTE and data[end] != _SPACE:
                                        end += 1
                                        if data[end - 1] == _EQUALS:
                                            break
                                    # on from the value's last byte: before it none is a quote mark or an `=`,
                                    # which is all the loop looks for (a value's `=` is its last byte)
                                    skip = max(at, end - 2)
                                for h in range(len(heads)):
                                    if heads[h] == key:
                                        head = min(head, begin - head_lengths[h])
                                if end > begin and data[begin] == _SINGLE_QUOTE:
                                    begin += 1
                                    end = begin
                                    while end < line_end and data[end] != _SINGLE_QUOTE:
                                        end += 1
                                starts[kept, key], ends[kept, key] = begin, end
                                if key == message and 0 < end - begin <= _LONGEST_ID:
                                    number = 0
                                    for i in range(begin, end):
                                        digit = data[i] - _ZERO
                                        if digit < 0 or digit > 9:
                                            number = -1
                                            break
                                        number = number * 10 + digit
                                    if number >= 0:
                                        dropped = True
                                        for event in events:
                                            if event == number:
                                                dropped = False
                                                break
                            break
                if dropped:
                    break
                at = skip
            at += 1
        if dropped:
            continue
        rows[kept] = line
        head_end[kept] = max(head, line_start)
        for a in range(len(address)):
            key = address[a]
            first = second = line_start  # (no value: an empty span at the line's start, as the others)
            count = 0
            if found[kept, key]:
                first = second = ends[kept, key]
                for i in range(starts[kept, key], ends[kept, key]):
                    if data[i] == _COLON:
                        if count == 0:
                            first = i
                        elif count == 1:
                            second = i
                        count += 1
            one[kept, a], two[kept, a], colons[kept, a] = first, second, count
        kept += 1
    return kept


# What a gathered column holds: a key's value, or the address (before the first colon) or the port (between the
# first and the second colon) of an address key's value
VALUE, ADDRESS, PORT = range(3)


def gathered(data: np.ndarray, scanned: Scanned, columns: list[tuple[int, int]]) -> list[pa.Array]:
    """The text of each column, (VALUE, key number) or (ADDRESS | PORT, address key's place), for the kept lines:
    null where the line has no such value (an address or a port where that part is empty); copied in one pass
    over the lines (gather_scan)."""
    from detector.ingest.gather_scan import gathered as copied

    kinds = np.array([kind for kind, _ in columns], np.int64)
    numbers = np.array([number for _, number in columns], np.int64)
    lines = len(scanned.rows)
    starts = np.empty((len(columns), lines), np.int32)
    ends = np.empty((len(columns), lines), np.int32)
    valid = np.empty((len(columns), lines), np.bool_)
    _column_spans(*scanned.by_line, scanned.address, kinds, numbers, starts, ends, valid)
    return copied(data, starts, ends, valid)


# Lines read at a time by _column_spans: their spans stay in the cache while each column's are written
_BLOCK = 256


@kernel
def _column_spans(found, starts, ends, one, two, address, kinds, numbers, column_starts, column_ends, valid):
    """Each column's span per line, and whether the line has one (an address or a port part must not be empty).
    The scan's spans are line-major, the columns' column-major: a block of lines at a time, column by column."""
    lines = found.shape[0]
    for block in range(0, lines, _BLOCK):
        last = min(block + _BLOCK, lines)
        for column in range(len(kinds)):
            kind, number = kinds[column], numbers[column]
            key = number if kind == VALUE else address[number]
            for line in range(block, last):
                begin, end = starts[line, key], ends[line, key]
                present = found[line, key]
                if kind == ADDRESS:
                    end = one[line, number]
                    present = present and end > begin
                elif kind == PORT:
                    begin, end = min(one[line, number] + 1, two[line, number]), two[line, number]
                    present = present and end > begin
                column_starts[column, line], column_ends[column, line] = begin, end
                valid[column, line] = present
