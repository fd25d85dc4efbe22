"""Compiled kernels that split Umbrella's quoted CSV lines (the cloud firewall export, see umbrella_fw.py; the
proxy export, `split_spans`, see umbrella.py) on their bytes, one pass per line (see compiled.py).

It reads each line as umbrella_fw's Arrow reading did, without the copies that reading made of every line (the
split's list of every field, then a dictionary of them all): a line opening with a quote is split at every `","`
(left to right, not overlapping, as `pc.split_pattern` does) up to `MAX_SPLITS`; a line without any quote (Elastic's
test logs) at every comma; each field trimmed of quotes, blanks and carriage returns at both ends. A line whose
separators have blanks around their comma (Cisco's own examples: `"a", "b"`, the pattern
`"(?:[ \\t]+,[ \\t]*|,[ \\t]+)"`) is only marked: `plain_separators` rewrites such lines as umbrella_fw's
`_plain_separators` does in Arrow, and the caller splits the result again with `spaced_check` off. The fields'
spans then go to texts_scan.DistinctTexts, which numbers the text fields by their texts (each distinct text copied
once) and reads the number fields' plain digits.

Measured per line (the benchmark's basic sample, 65,536 lines, best of 10): csv_spans ~190 ns (~0.8 ns a byte);
plain_separators ~820 ns a spaced line with its three replacements always done, ~530 ns with the second and third
done only where the line has what they replace (Cisco's examples need neither). Measured and left: looking for the
next separator byte eight bytes at a time (as zscaler_scan's tab search) made csv_spans ~190 -> ~170 ns (under 1 % of
an ingest's CPU) and the spaced lines' copy no faster (a quote every few bytes).
"""

from __future__ import annotations

from detector.ingest.compiled import kernel

QUOTE, COMMA, SPACE, TAB, CR = 34, 44, 32, 9, 13
# `pc.split_pattern(..., max_splits=22)`: the fields after the 22nd separator stay one (never read)
MAX_SPLITS = 22


@kernel
def csv_spans(data, offsets, slot_of_column, is_number, spaced_check, begin, end, missing, count, quoted, bare,
              spaced):
    """Each line's fields of the columns with a slot (`slot_of_column[i] >= 0`) into `begin`/`end` (lines x slots,
    trimmed; `missing` where the line has no such field), its field count (at most MAX_SPLITS + 1) into `count`,
    whether it reads as quoted (opening with a quote, or without any quote: `bare`) into `quoted`. With
    `spaced_check`, a line with blanks at a separator is only marked in `spaced` (its other outputs left unset)."""
    wanted = len(slot_of_column)
    for line in range(len(offsets) - 1):
        start, stop = offsets[line], offsets[line + 1]
        for slot in range(begin.shape[1]):
            missing[line, slot] = True
        spaced[line] = False
        opening = stop > start and data[start] == QUOTE
        separator = QUOTE
        if not opening:  # a line without any quote is split at every comma
            separator = COMMA
            for at in range(start, stop):
                if data[at] == QUOTE:
                    separator = QUOTE
                    break
        bare[line] = separator == COMMA
        quoted[line] = opening or separator == COMMA
        item, item_start, at, next_split = 0, start, start, start
        while at < stop:
            while at < stop and data[at] != separator:  # (the tight loop most bytes go through)
                at += 1
            if at >= stop:
                break
            if separator == COMMA:  # (a line without quotes: nothing spaced)
                if item < MAX_SPLITS:
                    if item < wanted and slot_of_column[item] >= 0:
                        slot = slot_of_column[item]
                        begin[line, slot], end[line, slot], missing[line, slot] = item_start, at, False
                    item += 1
                    item_start = at + 1
                elif not spaced_check:
                    break
                at += 1
                continue
            if spaced_check:  # `"[ \t]+,[ \t]*"` or `",[ \t]+"` from this quote?
                j = at + 1
                if j < stop and data[j] == COMMA:
                    k = j + 1
                    while k < stop and (data[k] == SPACE or data[k] == TAB):
                        k += 1
                    if k > j + 1 and k < stop and data[k] == QUOTE:
                        spaced[line] = True
                        break
                else:
                    while j < stop and (data[j] == SPACE or data[j] == TAB):
                        j += 1
                    if j > at + 1 and j < stop and data[j] == COMMA:
                        k = j + 1
                        while k < stop and (data[k] == SPACE or data[k] == TAB):
                            k += 1
                        if k < stop and data[k] == QUOTE:
                            spaced[line] = True
                            break
            if at >= next_split and item < MAX_SPLITS and at + 2 < stop and data[at + 1] == COMMA \
                    and data[at + 2] == QUOTE:
                if item < wanted and slot_of_column[item] >= 0:
                    slot = slot_of_column[item]
                    begin[line, slot], end[line, slot], missing[line, slot] = item_start, at, False
                item += 1
                item_start = at + 3
                next_split = at + 3
            if item >= MAX_SPLITS and not spaced_check:
                break  # (no more splits: the rest is one field, never read)
            at += 1
        if spaced[line]:
            continue
        if item < wanted and slot_of_column[item] >= 0:  # the last field runs to the line's end
            slot = slot_of_column[item]
            begin[line, slot], end[line, slot], missing[line, slot] = item_start, stop, False
        count[line] = item + 1
        for slot in range(begin.shape[1]):  # each field trimmed of `" \t\r` at both ends
            if missing[line, slot]:
                continue
            first, last = begin[line, slot], end[line, slot]
            while first < last and (data[first] == QUOTE or data[first] == SPACE or data[first] == TAB
                                    or data[first] == CR):
                first += 1
            while last > first and (data[last - 1] == QUOTE or data[last - 1] == SPACE or data[last - 1] == TAB
                                    or data[last - 1] == CR):
                last -= 1
            begin[line, slot], end[line, slot] = first, last
            # (a number field left empty reads as no number: missing)
            missing[line, slot] = is_number[slot] and first == last


@kernel
def plain_separators(data, offsets, rows, out, out_offsets, first, second):
    """The lines `rows` with their separators made plain, one after the other into `out` (Arrow offsets from 0 in
    `out_offsets`), as umbrella_fw's `_plain_separators` did in Arrow: `", "` made `","`, then `" ,"`, then every
    `"[ \\t]*,[ \\t]*"` (left to right, not overlapping). `first`, `second`: room for the longest line."""
    out_offsets[0] = 0
    n = 0
    for r in range(len(rows)):
        i, stop = offsets[rows[r]], offsets[rows[r] + 1]
        length, before_comma, spaced = 0, False, False
        while i < stop:  # `", "` -> `","`, straight into `out`
            byte = data[i]
            if byte == QUOTE and i + 3 < stop and data[i + 1] == COMMA and data[i + 2] == SPACE \
                    and data[i + 3] == QUOTE:
                out[n + length], out[n + length + 1], out[n + length + 2] = QUOTE, COMMA, QUOTE
                length += 3
                i += 3  # (its last quote is looked at as any other: what follows it follows the new one)
                at = i + 1
                if at < stop and (data[at] == SPACE or data[at] == TAB or (
                        data[at] == COMMA and at + 1 < stop and (data[at + 1] == SPACE or data[at + 1] == TAB))):
                    spaced = True
                    if data[at] == SPACE and at + 1 < stop and data[at + 1] == COMMA:
                        before_comma = True
                i += 1
                continue
            if byte == QUOTE and i + 1 < stop:
                if data[i + 1] == SPACE or data[i + 1] == TAB:
                    spaced = True
                    if data[i + 1] == SPACE and i + 2 < stop and data[i + 2] == COMMA:
                        before_comma = True
                elif data[i + 1] == COMMA and i + 2 < stop and (data[i + 2] == SPACE or data[i + 2] == TAB):
                    spaced = True
            out[n + length] = byte
            length += 1
            i += 1
        if not spaced:
            # (no quote of the result is followed by a blank, or by a comma and a blank: no `"[ \t]+,[ \t]*"` or
            # `",[ \t]+"` left, so the last replacement would change nothing)
            n += length
            out_offsets[r + 1] = n
            continue
        for k in range(length):
            first[k] = out[n + k]
        source = first
        if before_comma:
            # `" ,"` -> `","` into `second`: only where the line has `" ,` (without one, neither the line nor the
            # first replacement's output has `" ,"`: that space would be the line's, after a quote of its own or
            # after a replaced `", "`'s last quote)
            i, replaced = 0, 0
            while i < length:
                byte = first[i]
                if byte == QUOTE and i + 3 < length and first[i + 1] == SPACE and first[i + 2] == COMMA \
                        and first[i + 3] == QUOTE:
                    second[replaced], second[replaced + 1], second[replaced + 2] = QUOTE, COMMA, QUOTE
                    replaced += 3
                    i += 4
                else:
                    second[replaced] = byte
                    replaced += 1
                    i += 1
            source, length = second, replaced
        i = 0
        while i < length:  # `"[ \t]*,[ \t]*"` -> `","` into `out`
            if source[i] == QUOTE:
                j = i + 1
                while j < length and (source[j] == SPACE or source[j] == TAB):
                    j += 1
                if j < length and source[j] == COMMA:
                    k = j + 1
                    while k < length and (source[k] == SPACE or source[k] == TAB):
                        k += 1
                    if k < length and source[k] == QUOTE:
                        out[n], out[n + 1], out[n + 2] = QUOTE, COMMA, QUOTE
                        n += 3
                        i = k + 1
                        continue
            out[n] = source[i]
            n += 1
            i += 1
        out_offsets[r + 1] = n


@kernel
def split_spans(data, offsets, max_splits, slot_of_column, begin, end, missing, count):
    """Each line split as `pc.split_pattern(line, '","', max_splits)` splits it (umbrella.py's proxy reading: left
    to right, not overlapping, the last field the rest of the line; nothing trimmed): the fields of the columns with
    a slot (`slot_of_column[i] >= 0`) into `begin`/`end` (lines x slots; `missing` where the line has no such field)
    and the number of fields into `count`. A line's bytes after its last split are not read."""
    wanted = len(slot_of_column)
    for line in range(len(offsets) - 1):
        start, stop = offsets[line], offsets[line + 1]
        for slot in range(begin.shape[1]):
            begin[line, slot], end[line, slot], missing[line, slot] = 0, 0, True
        item, item_start, at = 0, start, start
        while item < max_splits:
            while at + 2 < stop and not (data[at] == QUOTE and data[at + 1] == COMMA and data[at + 2] == QUOTE):
                at += 1
            if at + 2 >= stop:
                break
            if item < wanted and slot_of_column[item] >= 0:
                slot = slot_of_column[item]
                begin[line, slot], end[line, slot], missing[line, slot] = item_start, at, False
            item += 1
            at += 3
            item_start = at
        if item < wanted and slot_of_column[item] >= 0:  # the last field runs to the line's end
            slot = slot_of_column[item]
            begin[line, slot], end[line, slot], missing[line, slot] = item_start, stop, False
        count[line] = item + 1
