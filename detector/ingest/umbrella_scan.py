"""A compiled kernel that splits Umbrella's quoted CSV lines (the cloud firewall export, see umbrella_fw.py) on
their bytes, one pass per line (see compiled.py).

It reads each line as umbrella_fw's Arrow reading did, without the copies that reading made of every line (the
split's list of every field, then a dictionary of them all): a line opening with a quote is split at every `","`
(left to right, not overlapping, as `pc.split_pattern` does) up to `MAX_SPLITS`; a line without any quote (Elastic's
test logs) at every comma; each field trimmed of quotes, blanks and carriage returns at both ends. A line whose
separators have blanks around their comma (Cisco's own examples: `"a", "b"`, the pattern
`"(?:[ \\t]+,[ \\t]*|,[ \\t]+)"`) is only marked: `plain_separators` rewrites such lines as umbrella_fw's
`_plain_separators` does in Arrow, and the caller splits the result again with `spaced_check` off. The fields'
spans then go to zscaler_scan.DistinctTexts, which numbers the text fields by their texts (each distinct text copied
once) and reads the number fields' plain digits.
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
def _replaced(source, start, length, target, spaced_first):
    """`source[start:start + length]` into `target` with each `", "` (with `spaced_first`, else each `" ,"`) made
    `","`, left to right, not overlapping (as `pc.replace_substring`); returns the new length."""
    second, third = (COMMA, SPACE) if spaced_first else (SPACE, COMMA)
    i, n, stop = start, 0, start + length
    while i < stop:
        byte = source[i]
        if byte == QUOTE and i + 3 < stop and source[i + 1] == second and source[i + 2] == third \
                and source[i + 3] == QUOTE:
            target[n], target[n + 1], target[n + 2] = QUOTE, COMMA, QUOTE
            n += 3
            i += 4
        else:
            target[n] = byte
            n += 1
            i += 1
    return n


@kernel
def plain_separators(data, offsets, rows, out, out_offsets, first, second):
    """The lines `rows` with their separators made plain, one after the other into `out` (Arrow offsets from 0 in
    `out_offsets`), as umbrella_fw's `_plain_separators` did in Arrow: `", "` made `","`, then `" ,"`, then every
    `"[ \\t]*,[ \\t]*"` (left to right, not overlapping). `first`, `second`: room for the longest line."""
    out_offsets[0] = 0
    n = 0
    for r in range(len(rows)):
        start = offsets[rows[r]]
        length = offsets[rows[r] + 1] - start
        length = _replaced(data, start, length, second, True)
        length = _replaced(second, 0, length, first, False)
        i = 0
        while i < length:
            if first[i] == QUOTE:
                j = i + 1
                while j < length and (first[j] == SPACE or first[j] == TAB):
                    j += 1
                if j < length and first[j] == COMMA:
                    k = j + 1
                    while k < length and (first[k] == SPACE or first[k] == TAB):
                        k += 1
                    if k < length and first[k] == QUOTE:
                        out[n], out[n + 1], out[n + 2] = QUOTE, COMMA, QUOTE
                        n += 3
                        i = k + 1
                        continue
            out[n] = first[i]
            n += 1
            i += 1
        out_offsets[r + 1] = n
