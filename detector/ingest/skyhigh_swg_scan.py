"""A compiled kernel that reads Skyhigh SWG access lines (skyhigh_swg.py) on their bytes (see compiled.py).

An access line's quoted values sit at fixed places between its double quotes, so a line is read by the places of
its quotes. Where pyarrow split every line at its quotes (a copy of every part of every line), took the parts read
out of those lists (a second copy), tested the layout with some forty kernels over the batch and hashed the values
to dictionary-encode them, `access_spans` finds a line's quotes in one pass over its bytes, tests its layout there
and writes the spans of the values read, which texts_scan.DistinctTexts numbers by their texts (each distinct text
copied once). It reads each line as that Arrow reading did (see skyhigh_swg's PARTS comment):
- the parts are the texts between quote marks (a line of k quotes has k + 1 parts); the layouts have 15, 17 or 19
  (12 or 14 values, block_res quoted or not), told apart by the byte counts' part (10): trimmed of spaces at its
  ends (`utf8_trim(part, " ")`), no space left inside is one count, one space two (`split_pattern(..., " ")`);
- quoted (block_res in quotes): parts 14 (and 16 in the 14-value layout) a single space, the last part spaces only;
  bare: part 14 starts with a space, (14 values) the last part spaces only;
- parts 4, 6, 8 and 12 a single space; part 0 is `[...] ` of TIME_CHARS bytes; part 2 (client and status) one
  space inside once trimmed.
A line without that shape has no values (it is rejected for its shape).
"""

from __future__ import annotations

import numpy as np

from detector.ingest.compiled import inlined, kernel

QUOTE, SPACE, OPENING, CLOSING = 34, 32, 91, 93
# The quotes of the longest layout: 14 values with a quoted block_res (9 quoted values, 19 parts)
QUOTES = 18
TIME_CHARS = 29  # `[dd/Mon/yyyy:HH:MM:SS +zzzz] `
# The values' slots, in the order skyhigh_swg reads them
(TIME, USER, CLIENT, STATUS, REQUEST, CATEGORIES, MEDIA, TO_CLIENT, FROM_CLIENT, AGENT, BLOCK,
 APPLICATION) = range(12)
SLOTS = 12


@inlined
def _is_space(data, begin, end, k, parts):
    """Whether part `k` is there and a single space."""
    return k < parts and end[k] - begin[k] == 1 and data[begin[k]] == SPACE


@inlined
def _trim(data, first, last):
    """The span without the spaces at its ends."""
    while first < last and data[first] == SPACE:
        first += 1
    while last > first and data[last - 1] == SPACE:
        last -= 1
    return first, last


@inlined
def _inner_spaces(data, first, last):
    """The number of spaces in the span, and the place of the first (-1 for none)."""
    count, place = 0, -1
    for at in range(first, last):
        if data[at] == SPACE:
            if count == 0:
                place = at
            count += 1
    return count, place


@kernel
def access_spans(data, starts, ends, begin, end, missing, shaped, ascii_time):
    """Per line (its bytes `data[starts[line]:ends[line]]`): whether it has a layout's shape (`shaped`), and then
    the spans of its values (`begin`/`end`, lines x SLOTS, `missing` where the layout has no such value); whether
    the bytes before its first quote are ASCII (`ascii_time`: else its time is left missing, to be cut out by
    characters)."""
    part_begin = np.empty(QUOTES + 1, np.int64)
    part_end = np.empty(QUOTES + 1, np.int64)
    for line in range(len(starts)):
        start, stop = starts[line], ends[line]
        for slot in range(SLOTS):
            missing[line, slot] = True
            begin[line, slot], end[line, slot] = 0, 0
        shaped[line] = False
        found = 0
        high = False
        part_begin[0] = start
        for at in range(start, stop):
            byte = data[at]
            if byte == QUOTE:
                if found < QUOTES:
                    part_end[found] = at
                    part_begin[found + 1] = at + 1
                found += 1
            elif byte >= 128 and found == 0:
                high = True
        ascii_time[line] = not high
        parts = found + 1
        if parts != 15 and parts != 17 and parts != 19:
            continue
        part_end[found] = stop
        client_first, client_last = _trim(data, part_begin[2], part_end[2])
        client_spaces, client_space = _inner_spaces(data, client_first, client_last)
        size_first, size_last = _trim(data, part_begin[10], part_end[10])
        size_spaces, size_space = _inner_spaces(data, size_first, size_last)
        long = size_spaces == 1
        if size_spaces > 1 or client_spaces != 1:
            continue
        quoted = parts == (19 if long else 17)
        bare = parts == (17 if long else 15)
        if not quoted and not bare:
            continue
        last_first, last_stop = _trim(data, part_begin[found], stop)  # (the last part: spaces only)
        if quoted:
            tail = _is_space(data, part_begin, part_end, 14, parts) and (
                not long or _is_space(data, part_begin, part_end, 16, parts)) and last_first == last_stop
        else:
            tail = part_end[14] > part_begin[14] and data[part_begin[14]] == SPACE and (
                not long or last_first == last_stop)
        if not tail:
            continue
        if not (_is_space(data, part_begin, part_end, 4, parts) and _is_space(data, part_begin, part_end, 6, parts)
                and _is_space(data, part_begin, part_end, 8, parts)
                and _is_space(data, part_begin, part_end, 12, parts)):
            continue
        if not (part_end[0] - start == TIME_CHARS and data[start] == OPENING and data[part_end[0] - 2] == CLOSING
                and data[part_end[0] - 1] == SPACE):
            continue
        shaped[line] = True
        if not high:
            begin[line, TIME], end[line, TIME], missing[line, TIME] = start + 1, start + TIME_CHARS - 2, False
        for slot, k in ((USER, 1), (REQUEST, 3), (CATEGORIES, 5), (MEDIA, 9), (AGENT, 11)):
            begin[line, slot], end[line, slot], missing[line, slot] = part_begin[k], part_end[k], False
        begin[line, CLIENT], end[line, CLIENT], missing[line, CLIENT] = client_first, client_space, False
        begin[line, STATUS], end[line, STATUS], missing[line, STATUS] = client_space + 1, client_last, False
        if long:
            begin[line, TO_CLIENT], end[line, TO_CLIENT], missing[line, TO_CLIENT] = size_first, size_space, False
            begin[line, FROM_CLIENT], end[line, FROM_CLIENT] = size_space + 1, size_last
            missing[line, FROM_CLIENT] = False
            app = 17 if quoted else 15
            begin[line, APPLICATION], end[line, APPLICATION] = part_begin[app], part_end[app]
            missing[line, APPLICATION] = False
        else:
            begin[line, TO_CLIENT], end[line, TO_CLIENT], missing[line, TO_CLIENT] = size_first, size_last, False
        if quoted:
            begin[line, BLOCK], end[line, BLOCK] = part_begin[15], part_end[15]
        else:
            begin[line, BLOCK], end[line, BLOCK] = _trim(data, part_begin[14], part_end[14])
        missing[line, BLOCK] = False
