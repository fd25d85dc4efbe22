"""Compiled kernels that read Zscaler NSS name=value and CSV lines on their bytes, one pass per line (see
compiled.py), and JSON lines of a learned layout (`json_layout_spans`, at the end).

Each kernel walks a chunk of lines (an Arrow string array's data buffer and its offsets) once and writes where
the wanted values are: `starts[line, slot]`, `ends[line, slot]` (byte positions in the buffer, -1 where a line
has none). `field_spans` picks each field's span among its names' slots; texts_scan then reads each line's
fields while the line is in the cache (`numbered_fields`: text fields numbered by their texts, `DistinctTexts`,
each distinct text copied once; number fields of plain digits as int64); a text field with many distinct texts is
copied out by `texts_scan.copied_texts` instead (and dictionary-encoded by Arrow).

- CSV: the line split at every `","` (the feed quotes every field), as `pc.split_pattern(line, '","')` does.
- name=value: tab-separated items; an item's name is the last space-separated word before its first `=` (the
  first item may follow a syslog or time prefix), its value what follows that `=`, without its quotes if quoted;
  the first item with a wanted name counts. This is the reading the SQL by name did for lines off the batch's
  layouts (`list_position` of the name, `substr` after the first `=`, `trim` of quotes), now for every line.

name=value lines are read eight bytes at a time where a feed's template allows: an item that starts with the name
the line before had at its place, then `=`, is compared with it a 64-bit word at a time (no search for its `=`, no
look-up), and a value's tab is found a word at a time. Measured per 12,143-line chunk of the benchmark's lines
(~690 bytes, 33 items each): 825 -> 565 ns a line (byte by byte, only the template's name reused: 825; with the
tab found a word at a time: ~740); a plain byte-by-byte count of a line's tabs costs ~360 ns here. Items whose
bytes differ from the line before's are read byte by byte, their names compared with the wanted names of the
same length in the kernel's own loop (measured: the look-up as a function of its own, by hash, or by 64-bit
words, cost 3 to 4 times more).
"""

from __future__ import annotations

import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from detector.ingest.compiled import kernel, load_word

QUOTE, COMMA, EQUALS, SPACE, TAB = 34, 44, 61, 32, 9
# A tab in each byte of a 64-bit word, and the low seven bits of each byte: a word's tabs are the bytes where
# `word ^ TABS` is zero, the only bytes with neither their top bit nor a carry into it after `(x & LOW) + LOW`.
TABS = np.uint64(0x0909090909090909)
LOW_SEVEN_BITS = np.uint64(0x7F7F7F7F7F7F7F7F)
ALL_BITS = np.uint64(0xFFFFFFFFFFFFFFFF)


@kernel
def csv_items(data, offsets, slot_of_column, starts, ends, columns):
    """Each line split at every `","` (left to right, not overlapping): the items of columns with a slot
    (`slot_of_column[i] >= 0`) into `starts`/`ends`, each line's item count into `columns`."""
    wanted = len(slot_of_column)
    for line in range(len(offsets) - 1):
        begin, end = offsets[line], offsets[line + 1]
        item, item_start, at = 0, begin, begin
        while at + 2 < end:
            if data[at] == QUOTE and data[at + 1] == COMMA and data[at + 2] == QUOTE:
                if item < wanted and slot_of_column[item] >= 0:
                    starts[line, slot_of_column[item]] = item_start
                    ends[line, slot_of_column[item]] = at
                item += 1
                item_start = at + 3
                at += 3
            else:
                at += 1
        if item < wanted and slot_of_column[item] >= 0:  # the last item runs to the line's end
            starts[line, slot_of_column[item]] = item_start
            ends[line, slot_of_column[item]] = end
        columns[line] = item + 1


@kernel
def _word_at(words, at):
    """The eight bytes of `data` from position `at` as one word (little-endian: the byte at `at` lowest), from the
    aligned word holding it and the next one (`at >> 3` + 1 must exist). Inlined where called."""
    shift = np.uint64((at & 7) * 8)
    # (the next word shifted by 64 - shift in two steps: a shift by 64 would be undefined where shift is 0)
    return (words[at >> 3] >> shift) | ((words[(at >> 3) + 1] << (np.uint64(63) - shift)) << np.uint64(1))


@kernel
def kv_items(data, words, offsets, key_text, key_start, key_number, first, count, starts, ends, items, before):
    """Tab-separated `[prefix ]name=value` items: the value of each wanted name's first item into
    `starts`/`ends` (unquoted: quotes trimmed from both ends when it starts with one), each line's item count into
    `items`. An item without `=` is named by its last word and valued as a whole (as the SQL reading did).
    `words`: `data` as 64-bit words, read eight bytes from any position (`_word_at`): a value's tab is looked for
    a word at a time, a name compared a word at a time.
    `before` (items x 4, zeros): per item number, the name the line before had there (start, length), its slot + 1
    and whether that item was `name=` from its first byte. A feed's lines share a template (the names in the same
    order, whatever the values): an item that starts with those bytes and then `=` has that name and slot, found
    without reading it byte by byte or looking it up (the same reading: such a name holds no space, tab or `=`,
    so the item's first `=` follows it and no word precedes it)."""
    loadable = len(words) * 8 - 16  # (`_word_at` reads from any position up to here)
    for line in range(len(offsets) - 1):
        end = offsets[line + 1]
        item_start, found = offsets[line], 0
        while True:
            slot, length, equals = -1, -1, -1
            if found < len(before) and before[found, 3]:
                # the line before had `name=` at this item's start: the same bytes and `=` here?
                length = before[found, 1]
                earlier = before[found, 0]
                if item_start + length < end and data[item_start + length] == EQUALS \
                        and item_start + length <= loadable and earlier + length <= loadable:
                    for j in range(0, length, 8):  # (eight bytes at a time, the last word's bytes past it masked)
                        rest = length - j
                        mask = ALL_BITS if rest >= 8 else (np.uint64(1) << np.uint64(rest * 8)) - np.uint64(1)
                        if (_word_at(words, item_start + j) ^ _word_at(words, earlier + j)) & mask:
                            length = -1
                            break
                else:
                    length = -1
            if length >= 0:
                equals = item_start + length
                slot = before[found, 2] - 1
                at = equals
            else:
                # the name: from the last space before the item's first `=` (or its end) to there
                at, space = item_start, item_start - 1
                while at < end:
                    byte = data[at]
                    if byte == EQUALS:
                        equals = at
                        break
                    if byte == TAB:
                        break
                    if byte == SPACE:
                        space = at
                    at += 1
                name_start, length = space + 1, at - space - 1
                known = found < len(before) and before[found, 1] == length and before[found, 2] > 0
                if known:  # the name the line before had here?
                    earlier = before[found, 0]
                    for j in range(length):
                        if data[name_start + j] != data[earlier + j]:
                            known = False
                            break
                if known:
                    slot = before[found, 2] - 1
                elif length < len(first):  # (the look-up: the names of this length, byte by byte)
                    for k in range(first[length], first[length] + count[length]):
                        same = True
                        for j in range(length):
                            if data[name_start + j] != key_text[key_start[k] + j]:
                                same = False
                                break
                        if same:
                            slot = key_number[k]
                            break
                if found < len(before):
                    before[found, 0], before[found, 1], before[found, 2] = name_start, length, slot + 1
                    before[found, 3] = 1 if equals >= 0 and name_start == item_start else 0
            if equals >= 0:  # the value: to the tab, eight bytes at a time
                at += 1
                while at < end:
                    if at > loadable:  # (the buffer's last bytes: byte by byte)
                        while at < end and data[at] != TAB:
                            at += 1
                        break
                    other = _word_at(words, at) ^ TABS
                    hits = ~(((other & LOW_SEVEN_BITS) + LOW_SEVEN_BITS) | other | LOW_SEVEN_BITS)
                    if hits:  # the first tab (one past the line's end: the value runs to the end)
                        at = min(at + (trailing_zeros(hits) >> 3), end)
                        break
                    at += 8
                at = min(at, end)
            if slot >= 0 and starts[line, slot] < 0:
                value_start = equals + 1 if equals >= 0 else item_start
                value_end = at
                if value_start < value_end and data[value_start] == QUOTE:
                    while value_start < value_end and data[value_start] == QUOTE:
                        value_start += 1
                    while value_end > value_start and data[value_end - 1] == QUOTE:
                        value_end -= 1
                starts[line, slot] = value_start
                ends[line, slot] = value_end
            found += 1
            if at >= end:
                break
            item_start = at + 1
        items[line] = found


@kernel
def field_spans(starts, ends, choices, begin, end, missing, sizes):
    """Each field's span per line: field f is the first of the slots `choices[f]` (-1 ends the list) that the
    line has, into `begin[line, f]`, `end[line, f]`; where the line has none, `missing[line, f]` set and an empty
    span at the end of the field's span before it (the spans, gaps included, stay in order for
    `key_values.spans_of`). `sizes[f]`: the bytes of field f's values. (Line by line, as the scans write the slots
    and `numbered_fields` / `copied_texts` read the fields: arrays of one row per line, read along their rows, cost a
    third of the same read down the columns of arrays of one row per field.)"""
    last = np.zeros(choices.shape[0], np.int64)
    sizes[:] = 0
    for line in range(starts.shape[0]):
        for field in range(choices.shape[0]):
            begin[line, field], end[line, field], missing[line, field] = last[field], last[field], True
            for choice in range(choices.shape[1]):
                slot = choices[field, choice]
                if slot < 0:
                    break
                if starts[line, slot] >= 0:
                    last[field] = ends[line, slot]
                    begin[line, field], end[line, field], missing[line, field] = starts[line, slot], last[field], False
                    sizes[field] += max(last[field] - starts[line, slot], 0)
                    break


# JSON lines of a learned layout (zscaler._JsonLayout: the constant pieces between string values), walked one piece
# and one value after the other. A value runs to the first byte that is a quote, backslash or control character
# (below 0x20), found eight bytes at a time: a quote ends it (the next piece starts with it), the others leave the
# line to DuckDB, as a `[` does in a line opening with `<` behind a header (RFC 5424 structured data may hold
# braces: the header DuckDB takes off may end elsewhere).
BACKSLASHES = np.uint64(0x5C5C5C5C5C5C5C5C)
QUOTES = np.uint64(0x2222222222222222)
BRACKETS = np.uint64(0x5B5B5B5B5B5B5B5B)
HIGH_THREE_BITS = np.uint64(0xE0E0E0E0E0E0E0E0)
BACKSLASH, BRACE, BRACKET, ANGLE = 92, 123, 91, 60


@kernel
def _zero_bytes(x):
    """The top bit of each zero byte of `x` set, nothing else (exact: no carry from one byte into the next)."""
    return ~(((x & LOW_SEVEN_BITS) + LOW_SEVEN_BITS) | x | LOW_SEVEN_BITS)


@kernel
def _piece_here(data, safe, at, pieces, start, length):
    """Whether `pieces[start:start + length]` is at `data[at:]` (the caller checked that it fits the line), eight
    bytes at a time where `data` has eight to load (`pieces` has eight bytes to spare after each piece)."""
    j = 0
    while j < length:
        rest = length - j
        if at + j <= safe:
            mask = ALL_BITS if rest >= 8 else (np.uint64(1) << np.uint64(rest * 8)) - np.uint64(1)
            if (load_word(data, at + j) ^ load_word(pieces, start + j)) & mask:
                return False
        else:
            for i in range(min(8, rest)):
                if data[at + j + i] != pieces[start + j + i]:
                    return False
        j += 8
    return True


@kernel
def json_layout_spans(data, offsets, valid, pieces, piece_start, piece_length, first_piece, prefixed, bracketed,
                      column_of, layout_of, begin, end):
    """Each line's layout (`layout_of[line]`: the first of the layouts it fits, -1 for none) and where the values
    read are (`begin`/`end[line, column]`, `column_of[value]` >= 0 for a value read; other columns untouched).
    Layout k is pieces `first_piece[k]` to `first_piece[k + 1]` (`piece_start`/`piece_length` in `pieces`), value i
    of it between its pieces i and i + 1 (value number `first_piece[k] - k + i`). A line fits a layout when it is
    its pieces in order with values between them that hold no quote, backslash or control character, the last
    piece at its end; for a `prefixed` layout after a header that holds none of these either nor a brace (the
    object starts at the line's first brace), and not in a line opening with `<` that holds a `[` anywhere
    (`bracketed[k]`: a piece of layout k holds one). `valid`: the line is not null."""
    safe = len(data) - 8  # (a whole word loads from here on; the buffer's last bytes are read one by one)
    for line in range(len(offsets) - 1):
        layout_of[line] = -1
        if not valid[line]:
            continue
        line_start, line_end = offsets[line], offsets[line + 1]
        angled = line_end > line_start and data[line_start] == ANGLE
        opening = -2  # (where the object starts after a header: found once, for the first prefixed layout)
        for k in range(len(first_piece) - 1):
            at = line_start
            if prefixed[k]:
                if opening == -2:
                    opening = -1
                    for i in range(line_start, line_end):
                        byte = data[i]
                        if byte == BRACE:
                            opening = i
                            break
                        if byte in (QUOTE, BACKSLASH) or byte < 32 or (angled and byte == BRACKET):
                            break
                if opening < 0:
                    continue
                at = opening
            # (a `[` in a line opening with `<` leaves it to DuckDB where a header is taken off: RFC 5424 structured
            # data may hold braces)
            look_for_bracket = angled and prefixed[k]
            if look_for_bracket and bracketed[k]:
                continue
            fits = True
            last = first_piece[k + 1] - 1
            for piece in range(first_piece[k], last + 1):
                length = piece_length[piece]
                if at + length > line_end or not _piece_here(data, safe, at, pieces, piece_start[piece], length):
                    fits = False
                    break
                at += length
                if piece == last:
                    break
                # the value: to its closing quote, eight bytes at a time
                value_start = at
                while at < line_end:
                    if at > safe:
                        while at < line_end:
                            byte = data[at]
                            if byte in (QUOTE, BACKSLASH) or byte < 32 or (look_for_bracket and byte == BRACKET):
                                break
                            at += 1
                        break
                    word = load_word(data, at)
                    hits = _zero_bytes(word ^ QUOTES) | _zero_bytes(word ^ BACKSLASHES) \
                        | _zero_bytes(word & HIGH_THREE_BITS)
                    if look_for_bracket:
                        hits |= _zero_bytes(word ^ BRACKETS)
                    if hits:
                        at += trailing_zeros(hits) >> 3
                        break
                    at += 8
                if at >= line_end or data[at] != QUOTE:
                    fits = False
                    break
                column = column_of[piece - k]
                if column >= 0:
                    begin[line, column] = value_start
                    end[line, column] = at
            if fits and at == line_end:
                layout_of[line] = k
                break
