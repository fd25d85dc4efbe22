"""Compiled kernels that copy a batch's EVE values out per record type (suricata_eve_walk; see compiled.py for why
compiled): each line's values of its record type's paths, where json_scan's walk found them, copied in one pass over
the lines in batch order (each line's bytes read once, while they are in the cache) into one run of bytes per type
and path, as texts_scan.copied_texts does for one group of lines.
"""

from __future__ import annotations

import numpy as np

from detector.ingest.compiled import kernel, load_word, store_word


@kernel
def group_sizes(begin, end, missing, group, fields, sizes, counts):
    """Per group (row of `fields`: the span columns it copies, -1 after the last) and field, the bytes of its lines'
    values (`sizes`), and per group its lines (`counts`); a line of group -1 or less is in none."""
    for line in range(begin.shape[0]):
        g = group[line]
        if g < 0:
            continue
        counts[g] += 1
        for k in range(fields.shape[1]):
            field = fields[g, k]
            if field < 0:
                break
            if not missing[line, field]:
                sizes[g, k] += max(np.int64(end[line, field]) - np.int64(begin[line, field]), 0)


@kernel
def copied_by_group(data, begin, end, missing, group, fields, base, offset_base, out, offsets, absent):
    """Each line's values of its group's fields copied to `out`: group g's field k from `base[g, k]` (eight bytes to
    spare after each run: words are stored whole), its Arrow offsets (from 0) at `offset_base[g, k]` in `offsets`,
    one more than the group's lines, and whether each line's value is missing at the same place in `absent`."""
    safe = len(data) - 8  # (a whole word loads from here on; the buffer's last bytes go one by one)
    cursor = base.copy()
    row = np.zeros(fields.shape[0], np.int64)
    for g in range(fields.shape[0]):
        for k in range(fields.shape[1]):
            if fields[g, k] >= 0:
                offsets[offset_base[g, k]] = 0
    for line in range(begin.shape[0]):
        g = group[line]
        if g < 0:
            continue
        r = row[g]
        row[g] += 1
        for k in range(fields.shape[1]):
            field = fields[g, k]
            if field < 0:
                break
            at = cursor[g, k]
            gone = missing[line, field]
            if not gone:
                start = np.int64(begin[line, field])
                length = np.int64(end[line, field]) - start
                j = 0
                while j < length:
                    if start + j <= safe:
                        store_word(out, at + j, load_word(data, start + j))
                    else:
                        for i in range(min(8, length - j)):
                            out[at + j + i] = data[start + j + i]
                    j += 8
                if length > 0:
                    at += length
                cursor[g, k] = at
            offsets[offset_base[g, k] + r + 1] = at - base[g, k]
            absent[offset_base[g, k] + r] = gone


@kernel
def named_groups(data, begin, end, missing, slot, names, starts, lengths, numbers, other, groups):
    """Each line's group by the text of its value at span column `slot`: `numbers[k]` where it is name k
    (`names[starts[k]:starts[k] + lengths[k]]`, compared byte by byte as written), `other` for any other text, -1
    where missing."""
    for line in range(begin.shape[0]):
        if missing[line, slot]:
            groups[line] = -1
            continue
        start = np.int64(begin[line, slot])
        length = np.int64(end[line, slot]) - start
        group = other
        for k in range(len(starts)):
            if lengths[k] != length:
                continue
            same = True
            for i in range(length):
                if data[start + i] != names[starts[k] + i]:
                    same = False
                    break
            if same:
                group = numbers[k]
                break
        groups[line] = group
