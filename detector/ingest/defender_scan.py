"""Compiled kernels for Defender's streaming API lines read by json_scan's walk (defender_walk; see compiled.py for
why compiled): a value's text compared with a few names (the record's category, an inspection ActionType, ASCII case
folded as SQL's `lower` compares them), and values copied out with JSON's escapes read, eight bytes at a time between
backslashes: AdditionalFields' text (a JSON string holding JSON, every quote in it escaped) into a buffer the walk
reads again, and the values found in that buffer.
"""

from __future__ import annotations

import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from detector.ingest.compiled import kernel, load_word, store_word

QUOTE, BACKSLASH = 34, 92
ONES = np.uint64(0x0101010101010101)
BACKSLASHES = np.uint64(0x5C5C5C5C5C5C5C5C)
TOPS = np.uint64(0x8080808080808080)


@kernel
def named(data, begin, end, missing, slot, names, starts, lengths, fold, found):
    """Per line, k where its value at span column `slot` is name k (`names[starts[k]:starts[k] + lengths[k]]`, lower
    case where `fold`: the value's ASCII capitals compared as their small letters), len(starts) for another text, -1
    where missing."""
    others = len(starts)
    for line in range(begin.shape[0]):
        if missing[line, slot]:
            found[line] = -1
            continue
        start = np.int64(begin[line, slot])
        length = np.int64(end[line, slot]) - start
        choice = others
        for k in range(others):
            if lengths[k] != length:
                continue
            same = True
            for i in range(length):
                b = data[start + i]
                if fold and 65 <= b <= 90:
                    b += 32
                if b != names[starts[k] + i]:
                    same = False
                    break
            if same:
                choice = k
                break
        found[line] = choice


@kernel
def unescaped(data, begin, end, missing, escaped, out, offsets, bad):
    """Each line's span (`begin[line]:end[line]`; none where `missing`) copied to `out` one after the other (Arrow
    offsets in `offsets`, from 0): where `escaped`, a string's text with JSON's escapes read (the walk lets through
    only \\" \\\\ \\/ \\b \\f \\n \\r \\t: another escape sets `bad`). `out` needs eight bytes to spare past the
    spans' bytes (words are stored whole)."""
    at = 0
    offsets[0] = 0
    for line in range(begin.shape[0]):
        if not missing[line]:
            j = np.int64(begin[line])
            stop = np.int64(end[line])
            while j < stop:
                if j + 8 <= stop:
                    word = load_word(data, j)
                    store_word(out, at, word)
                    if not escaped[line]:
                        at += 8
                        j += 8
                        continue
                    x = word ^ BACKSLASHES
                    found = (x - ONES) & ~x & TOPS
                    if not found:
                        at += 8
                        j += 8
                        continue
                    n = np.int64(trailing_zeros(found) >> 3)
                    at += n
                    j += n
                else:
                    b = data[j]
                    if b != BACKSLASH or not escaped[line]:
                        out[at] = b
                        at += 1
                        j += 1
                        continue
                # a backslash at j
                if j + 1 >= stop:
                    bad[line] = True
                    break
                e = data[j + 1]
                if e in (QUOTE, BACKSLASH, 47):
                    c = e
                elif e == 98:
                    c = 8
                elif e == 102:
                    c = 12
                elif e == 110:
                    c = 10
                elif e == 114:
                    c = 13
                elif e == 116:
                    c = 9
                else:
                    bad[line] = True
                    break
                out[at] = c
                at += 1
                j += 2
        offsets[line + 1] = at
