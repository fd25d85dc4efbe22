"""The compiled walk of Defender streaming API lines (defender_walk), with an inspection record's AdditionalFields read
where they stand: one pass over each line finds the record's values and, inside AdditionalFields' escaped text, the
inspection keys' values (see compiled.py for why compiled).

The walk of the line is json_scan's (`spans_copying`, copied here with the old helpers it calls, since json_scan's
kernels are json_read's to change): same spans, same doubts. Where it copied AdditionalFields' text out with its escapes
read, for json_scan to walk that copy again for the inspection keys, it now reads the Zeek record's JSON in the escaped
text itself (`\\"` its quote mark, `\\\\` its backslash) and copies out only the wanted keys' values, escapes read
once (what the copy would have held at their places). That reading takes a subset of JSON whose answer is plainly
json_scan's on the copy: an object of keys without escapes and of strings, numbers, true, false or null, spaces only
between tokens; a string's escaped escapes only \\" \\\\ \\/ \\b \\f \\n \\r \\t. On anything else (a `\\u`, an
escaped control character or whitespace, a nested container, a repeated key, a fraction at a key read, no object ...)
it gives the line up (`again`): AdditionalFields is copied out whole as before and json_scan walks that copy, which
decides. An AdditionalFields that is an object (not a string) is copied out as it stands and walked so too.

Measured (30 Nov 2026, seventeenth session; the walks alone over 2 MiB slices of 200k lines of the benchmark's files,
CPU, best of 7, load 4-6): DNS inspection 1.45 -> 0.93-0.97 us a line (json_scan's walk of the line copying
AdditionalFields, then its walk of the copy), HTTP/TLS 1.31 -> 0.88, Storage records 0.67 -> 0.62. The reading's steps
are compiled into its place (`inlined`: as calls, 1.05 us a DNS line); _string_end inlined too was dearer (1.12).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from detector.ingest.compiled import inlined, kernel, load_word, store_word

MAX_DEPTH = 64
QUOTE, BACKSLASH, SLASH, COMMA, COLON, MINUS, DOT = 34, 92, 47, 44, 58, 45, 46
OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET = 123, 125, 91, 93
SPACE, TAB, NEWLINE, RETURN = 32, 9, 10, 13
ONES = np.uint64(0x0101010101010101)
SPACES = np.uint64(0x2020202020202020)
QUOTES = np.uint64(0x2222222222222222)
BACKSLASHES = np.uint64(0x5C5C5C5C5C5C5C5C)
TOPS = np.uint64(0x8080808080808080)


class PathTrie:
    """Key paths as the kernel reads them (json_scan's trie as it was when this walk was copied from it): per node its
    key's UTF-8 bytes (`text[start[n]:start[n] + length[n]]`), its children (`child_first[n]`, `child_count[n]`:
    nodes numbered so that each node's children are consecutive) and its slot (-1 where no wanted path ends there).
    Slot k is `paths[k]`."""

    def __init__(self, paths: Sequence[tuple[str, ...]]) -> None:
        children: list[dict[bytes, int]] = [{}]
        slot_of: dict[int, int] = {}
        for slot, path in enumerate(paths):
            node = 0
            for key in path:
                encoded = key.encode()
                if encoded not in children[node]:
                    children[node][encoded] = len(children)
                    children.append({})
                node = children[node][encoded]
            slot_of.setdefault(node, slot)
        # renumbered breadth first, so that each node's children are consecutive
        order, keys = [0], [b""]
        new_number = {0: 0}
        at = 0
        while at < len(order):
            for key, child in children[order[at]].items():
                new_number[child] = len(order)
                order.append(child)
                keys.append(key)
            at += 1
        count = len(order)
        self.slots = len(paths)
        self.length = np.array([len(key) for key in keys], np.int64)
        self.start = np.concatenate([[0], np.cumsum(self.length)[:-1]]).astype(np.int64)
        self.text = np.frombuffer(b"".join(keys) + bytes(8), np.uint8).copy()  # (eight bytes to spare: words)
        self.child_first = np.zeros(count, np.int64)
        self.child_count = np.zeros(count, np.int64)
        self.slot = np.full(count, -1, np.int64)
        for number, old in enumerate(order):
            kids = [new_number[child] for child in children[old].values()]
            self.child_first[number] = min(kids) if kids else 0
            self.child_count[number] = len(kids)
            self.slot[number] = slot_of.get(old, -1)


def walked(data: np.ndarray, offsets: np.ndarray, outer: PathTrie, inner: PathTrie, copy_slot: int
           ) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...], np.ndarray, np.ndarray, np.ndarray]:
    """Per line (`data[offsets[i]:offsets[i + 1]]`): json_scan.spans' (begin, end, missing, spaced, doubtful) of the
    `outer` paths; the `inner` keys' (begin, end, missing) in `text`, where the walk read them in the escaped
    AdditionalFields (slot `copy_slot`); whether it gave that up (`again`: the line's `text` then holds AdditionalFields
    as json_scan.spans_copying copies it, for json_scan to walk); and `text` with its per-line `text_offsets`."""
    lines = len(offsets) - 1
    begin = np.zeros((lines, outer.slots), np.int32)
    end = np.zeros((lines, outer.slots), np.int32)
    missing = np.ones((lines, outer.slots), bool)
    spaced = np.zeros((lines, outer.slots), bool)
    doubtful = np.zeros(lines, bool)
    inner_begin = np.zeros((lines, inner.slots), np.int32)
    inner_end = np.zeros((lines, inner.slots), np.int32)
    inner_missing = np.ones((lines, inner.slots), bool)
    again = np.zeros(lines, bool)
    text = np.empty(int(offsets[-1] - offsets[0]) + 8, np.uint8)  # (the lines' bytes at most; eight to spare: words)
    text_offsets = np.zeros(len(offsets), np.int64)
    _walk(data, offsets, outer.text, outer.start, outer.length, outer.child_first, outer.child_count, outer.slot,
          inner.text, inner.start, inner.length, inner.child_first, inner.child_count, inner.slot,
          begin, end, missing, spaced, doubtful, np.int64(copy_slot), inner_begin, inner_end, inner_missing, again,
          text, text_offsets)
    return (begin, end, missing, spaced, doubtful), (inner_begin, inner_end, inner_missing), again, text, text_offsets


@kernel
def _string_end(data, q, stop):
    """Where the string whose text starts at `q` stops: at its closing quote, a backslash or a control character
    (the caller tells which), or `stop`; eight bytes at a time while eight are left."""
    while q + 8 <= stop:
        word = load_word(data, q)
        quote = word ^ QUOTES
        backslash = word ^ BACKSLASHES
        found = (((quote - ONES) & ~quote) | ((backslash - ONES) & ~backslash) | ((word - SPACES) & ~word)) & TOPS
        if found:
            return q + (trailing_zeros(found) >> 3)
        q += 8
    while q < stop:
        b = data[q]
        if b in (QUOTE, BACKSLASH) or b < 32:
            return q
        q += 1
    return q


@kernel
def _copied_string(data, q, stop, out, at):
    """The string whose text starts at `q` copied to `out` from `at` with its escapes read (\\" \\\\ \\/ \\b \\f
    \\n \\r \\t); where it stopped and where the copy ends: at its closing quote, or elsewhere where the walk doubts
    it (a control character, `\\u` or another escape, the line's end)."""
    while True:
        if q + 8 <= stop:
            word = load_word(data, q)
            store_word(out, at, word)
            quote = word ^ QUOTES
            backslash = word ^ BACKSLASHES
            found = (((quote - ONES) & ~quote) | ((backslash - ONES) & ~backslash) | ((word - SPACES) & ~word)) & TOPS
            if not found:
                q += 8
                at += 8
                continue
            n = np.int64(trailing_zeros(found) >> 3)
            q += n
            at += n
        elif q < stop:
            b = data[q]
            if b != QUOTE and b != BACKSLASH and b >= 32:
                out[at] = b
                q += 1
                at += 1
                continue
        else:
            return q, at
        if data[q] != BACKSLASH or q + 1 >= stop:  # (its closing quote, a control character or a cut escape)
            return q, at
        e = data[q + 1]
        if e in (QUOTE, BACKSLASH, SLASH):
            out[at] = e
        elif e == 110:  # n
            out[at] = NEWLINE
        elif e == 116:  # t
            out[at] = TAB
        elif e == 114:  # r
            out[at] = RETURN
        elif e == 98:  # b
            out[at] = 8
        elif e == 102:  # f
            out[at] = 12
        else:
            return q, at
        at += 1
        q += 2


@kernel
def _hex_digits(data, at):
    """Whether the four bytes from `at` are hexadecimal digits."""
    for i in range(at, at + 4):
        b = data[i]
        if not (48 <= b <= 57 or 65 <= b <= 70 or 97 <= b <= 102):
            return False
    return True


@inlined
def _escaped_string(data, q, stop, out, at, copy):
    """An inner string in an escaped text (its text from `q`, up to its escaped closing quote `\\"`): where it ends
    (past that quote) and, where `copy`, its text copied to `out` from `at` as the inner JSON writes it (the outer
    escapes read: `\\\\\\"` -> `\\"`, `\\/` -> `/` ...); ok false where the reading gives up (see the module)."""
    while True:
        if q + 8 <= stop:
            word = load_word(data, q)
            if copy:
                store_word(out, at, word)
            quote = word ^ QUOTES
            backslash = word ^ BACKSLASHES
            found = (((quote - ONES) & ~quote) | ((backslash - ONES) & ~backslash) | ((word - SPACES) & ~word)) & TOPS
            if not found:
                q += 8
                at += 8
                continue
            n = np.int64(trailing_zeros(found) >> 3)
            q += n
            at += n
        elif q < stop:
            b = data[q]
            if b != QUOTE and b != BACKSLASH and b >= 32:
                if copy:
                    out[at] = b
                q += 1
                at += 1
                continue
        else:
            return q, at, False
        if data[q] != BACKSLASH or q + 1 >= stop:
            return q, at, False
        e = data[q + 1]
        if e == QUOTE:  # the inner string's closing quote
            return q + 2, at, True
        if e == SLASH:
            if copy:
                out[at] = SLASH
            at += 1
            q += 2
            continue
        if e != BACKSLASH or q + 2 >= stop:  # (an outer \n, \t ... is a control character in the inner string)
            return q, at, False
        # an inner escape: its backslash, then its letter (itself escaped where it is a quote, backslash or slash)
        f = data[q + 2]
        if f == BACKSLASH:
            if q + 3 >= stop:
                return q, at, False
            g = data[q + 3]
            if g != QUOTE and g != BACKSLASH and g != SLASH:
                return q, at, False
            step = 4
        elif f == SLASH or f == 98 or f == 102 or f == 110 or f == 114 or f == 116:  # / b f n r t
            g = f
            step = 3
        else:
            return q, at, False
        if copy:
            out[at] = BACKSLASH
            out[at + 1] = g
        at += 2
        q += step


@inlined
def _read_in_place(data, p, stop, key_text, key_start, key_length, child_first, child_count, node_slot, seen, line,
                   inner_begin, inner_end, inner_missing, out, at):
    """The JSON object in the escaped string whose text starts at `p` read where it stands: the keys of the trie's
    first level (node 0's children) with a slot have their values copied to `out` from `at` (their spans in
    `inner_*`). Returns where the string's closing quote is, where the copy ends, and whether it was read (false:
    given up, see the module; the caller copies the string out instead)."""
    while p < stop and data[p] == SPACE:
        p += 1
    if p >= stop or data[p] != OPEN_BRACE:
        return p, at, False
    p += 1
    while p < stop and data[p] == SPACE:
        p += 1
    if p < stop and data[p] == CLOSE_BRACE:
        p += 1
    else:
        while True:
            # a key: \"...\" (no escape in it)
            if p + 1 >= stop or data[p] != BACKSLASH or data[p + 1] != QUOTE:
                return p, at, False
            k = p + 2
            q = _string_end(data, k, stop)
            if q + 1 >= stop or data[q] != BACKSLASH or data[q + 1] != QUOTE:
                return p, at, False
            size = q - k
            node = np.int64(-1)
            first = child_first[0]
            for child in range(first, first + child_count[0]):
                if key_length[child] != size:
                    continue
                start = key_start[child]
                same = True
                for i in range(size):
                    if data[k + i] != key_text[start + i]:
                        same = False
                        break
                if same:
                    node = child
                    break
            slot = np.int64(-1)
            if node >= 0:
                if seen[node] == line + 1:  # a wanted key twice
                    return p, at, False
                seen[node] = line + 1
                slot = node_slot[node]
            p = q + 2
            while p < stop and data[p] == SPACE:
                p += 1
            if p >= stop or data[p] != COLON:
                return p, at, False
            p += 1
            while p < stop and data[p] == SPACE:
                p += 1
            if p >= stop:
                return p, at, False
            c = data[p]
            if c == BACKSLASH:  # a string: \"...\"
                if p + 1 >= stop or data[p + 1] != QUOTE:
                    return p, at, False
                q, copied, ok = _escaped_string(data, p + 2, stop, out, at, slot >= 0)
                if not ok:
                    return p, at, False
                if slot >= 0:
                    inner_begin[line, slot] = at
                    inner_end[line, slot] = copied
                    inner_missing[line, slot] = False
                    at = copied
                p = q
            elif c == MINUS or (48 <= c <= 57):
                q = p
                if data[q] == MINUS:
                    q += 1
                digits = q
                if q < stop and data[q] == 48:
                    q += 1
                else:
                    while q < stop and 48 <= data[q] <= 57:
                        q += 1
                if q == digits:
                    return p, at, False
                integer_end = q
                if q < stop and data[q] == DOT:
                    q += 1
                    fraction = q
                    while q < stop and 48 <= data[q] <= 57:
                        q += 1
                    if q == fraction:
                        return p, at, False
                if q < stop and (data[q] == 101 or data[q] == 69):  # e, E
                    q += 1
                    if q < stop and (data[q] == 43 or data[q] == MINUS):
                        q += 1
                    exponent = q
                    while q < stop and 48 <= data[q] <= 57:
                        q += 1
                    if q == exponent:
                        return p, at, False
                if slot >= 0:
                    count = integer_end - digits
                    signed = digits > p
                    if q != integer_end or count > (18 if signed else 19) or (signed and data[digits] == 48):
                        return p, at, False
                    inner_begin[line, slot] = at
                    for i in range(p, q):
                        out[at] = data[i]
                        at += 1
                    inner_end[line, slot] = at
                    inner_missing[line, slot] = False
                p = q
            else:
                size = 0
                if c == 116 and p + 4 <= stop and data[p + 1] == 114 and data[p + 2] == 117 and data[p + 3] == 101:
                    size = 4  # true
                elif c == 102 and p + 5 <= stop and data[p + 1] == 97 and data[p + 2] == 108 \
                        and data[p + 3] == 115 and data[p + 4] == 101:
                    size = 5  # false
                elif c == 110 and p + 4 <= stop and data[p + 1] == 117 and data[p + 2] == 108 \
                        and data[p + 3] == 108:
                    size = -4  # null: the value is missing
                if size == 0:
                    return p, at, False
                if size > 0 and slot >= 0:
                    inner_begin[line, slot] = at
                    for i in range(p, p + size):
                        out[at] = data[i]
                        at += 1
                    inner_end[line, slot] = at
                    inner_missing[line, slot] = False
                p += abs(size)
            while p < stop and data[p] == SPACE:
                p += 1
            if p >= stop:
                return p, at, False
            if data[p] == COMMA:
                p += 1
                while p < stop and data[p] == SPACE:
                    p += 1
                continue
            if data[p] != CLOSE_BRACE:
                return p, at, False
            p += 1
            break
    while p < stop and data[p] == SPACE:
        p += 1
    if p >= stop or data[p] != QUOTE:
        return p, at, False
    return p, at, True


@kernel
def _walk(data, offsets, key_text, key_start, key_length, child_first, child_count, node_slot,
          inner_text, inner_start, inner_length, inner_first, inner_count, inner_slot,
          begin, end, missing, spaced, doubtful, copy_slot, inner_begin, inner_end, inner_missing, again,
          text, text_offsets):
    """`walked`'s kernel: json_scan's walk of each line (with a stack of the containers it is in), the string value
    of `copy_slot` read where it stands by _read_in_place, else copied out whole (`again`)."""
    nodes = len(node_slot)
    seen = np.zeros(nodes, np.int64)  # (the line + 1 where a node's key was last seen: no reset per line)
    inner_seen = np.zeros(len(inner_slot), np.int64)
    stack_node = np.empty(MAX_DEPTH, np.int64)  # the trie node of an object (-1: no wanted path under it)
    stack_slot = np.empty(MAX_DEPTH, np.int64)  # the slot a container is the value of (-1: none)
    stack_start = np.empty(MAX_DEPTH, np.int64)  # where it starts
    stack_array = np.empty(MAX_DEPTH, np.bool_)
    stack_spaces = np.empty(MAX_DEPTH, np.int64)  # `spaces` when it opened
    copied = np.int64(0)  # where the next copy starts in `text`
    for line in range(len(offsets) - 1):
        text_offsets[line + 1] = copied
        p = np.int64(offsets[line])
        stop = np.int64(offsets[line + 1])
        ok = False
        depth = 0
        recording = 0  # containers open that are a slot's value (no escape, only plain integers inside)
        spaces = 0  # whitespace found in them so far
        node = np.int64(0)  # the trie node of the value to read next (-1: none)
        slot = np.int64(-1)
        # state 0: a value is next; 1: a key (or the object's end) is next; 2: a value has ended
        state = 0
        while p < stop and (data[p] == SPACE or data[p] == TAB or data[p] == NEWLINE or data[p] == RETURN):
            p += 1
        if p >= stop or data[p] != OPEN_BRACE:
            doubtful[line] = True
            continue
        while True:
            if state == 0:
                if p >= stop:
                    break
                c = data[p]
                if c == QUOTE:
                    q = np.int64(-1)
                    if slot == copy_slot and slot >= 0 and recording == 0:
                        q, copied_end, read = _read_in_place(
                            data, p + 1, stop, inner_text, inner_start, inner_length, inner_first, inner_count,
                            inner_slot, inner_seen, line, inner_begin, inner_end, inner_missing, text, copied)
                        if not read:
                            inner_missing[line, :] = True
                            q, copied_end = _copied_string(data, p + 1, stop, text, copied)
                            if q >= stop or data[q] != QUOTE:
                                break
                            again[line] = True
                        copied = copied_end
                    if q < 0:
                        q = _string_end(data, p + 1, stop)
                        plain = True
                        while q < stop and data[q] == BACKSLASH:  # (escapes in a slot's container: doubtful)
                            e = data[q + 1] if q + 1 < stop else 0
                            if recording > 0:
                                plain = False
                                break
                            if e == 117:  # `\u` and four hex digits: only in a value not read, and no surrogate
                                if slot >= 0 or q + 6 > stop or not _hex_digits(data, q + 2) \
                                        or data[q + 2] == 100 or data[q + 2] == 68:
                                    plain = False
                                    break
                                q = _string_end(data, q + 6, stop)
                                continue
                            if e not in (QUOTE, BACKSLASH, SLASH, 98, 102, 110, 114, 116):  # \" \\ \/ \b \f \n \r \t
                                plain = False
                                break
                            q = _string_end(data, q + 2, stop)
                        if not plain or q >= stop or data[q] != QUOTE:
                            break
                    if slot >= 0:
                        begin[line, slot] = p + 1
                        end[line, slot] = q
                        missing[line, slot] = False
                    p = q + 1
                    state = 2
                elif c in (OPEN_BRACE, OPEN_BRACKET):
                    if depth >= MAX_DEPTH:
                        break
                    stack_array[depth] = c == OPEN_BRACKET
                    stack_node[depth] = node if c == OPEN_BRACE else -1
                    stack_slot[depth] = slot
                    stack_start[depth] = p
                    stack_spaces[depth] = spaces
                    depth += 1
                    if slot >= 0:
                        recording += 1
                    p += 1
                    moved = p
                    while p < stop and (data[p] == SPACE or data[p] == TAB or data[p] == NEWLINE or data[p] == RETURN):
                        p += 1
                    if p > moved and recording > 0:
                        spaces += 1
                    if p < stop and data[p] == (CLOSE_BRACKET if c == OPEN_BRACKET else CLOSE_BRACE):
                        state = 2  # (an empty container: closed below)
                    elif c == OPEN_BRACKET:
                        node, slot = np.int64(-1), np.int64(-1)
                        state = 0
                    else:
                        state = 1
                elif c == MINUS or (48 <= c <= 57):
                    q = p
                    if data[q] == MINUS:
                        q += 1
                    digits = q
                    if q < stop and data[q] == 48:
                        q += 1
                    else:
                        while q < stop and 48 <= data[q] <= 57:
                            q += 1
                    if q == digits:
                        break
                    integer_end = q
                    if q < stop and data[q] == DOT:
                        q += 1
                        fraction = q
                        while q < stop and 48 <= data[q] <= 57:
                            q += 1
                        if q == fraction:
                            break
                    if q < stop and (data[q] == 101 or data[q] == 69):  # e, E
                        q += 1
                        if q < stop and (data[q] == 43 or data[q] == MINUS):
                            q += 1
                        exponent = q
                        while q < stop and 48 <= data[q] <= 57:
                            q += 1
                        if q == exponent:
                            break
                    if slot >= 0 or recording > 0:
                        count = integer_end - digits
                        signed = digits > p
                        if q != integer_end or count > (18 if signed else 19) or (signed and data[digits] == 48):
                            break
                    if slot >= 0:
                        begin[line, slot] = p
                        end[line, slot] = q
                        missing[line, slot] = False
                    p = q
                    state = 2
                else:
                    size = 0
                    if c == 116 and p + 4 <= stop and data[p + 1] == 114 and data[p + 2] == 117 and data[p + 3] == 101:
                        size = 4  # true
                    elif c == 102 and p + 5 <= stop and data[p + 1] == 97 and data[p + 2] == 108 \
                            and data[p + 3] == 115 and data[p + 4] == 101:
                        size = 5  # false
                    elif c == 110 and p + 4 <= stop and data[p + 1] == 117 and data[p + 2] == 108 \
                            and data[p + 3] == 108:
                        size = -4  # null: the value is missing
                    if size == 0:
                        break
                    if size > 0 and slot >= 0:
                        begin[line, slot] = p
                        end[line, slot] = p + size
                        missing[line, slot] = False
                    p += abs(size)
                    state = 2
            elif state == 1:  # in an object, after `{` or `,` (and whitespace): a key
                if p >= stop or data[p] != QUOTE:
                    break
                q = _string_end(data, p + 1, stop)
                if q >= stop or data[q] != QUOTE:
                    break
                parent = stack_node[depth - 1]
                node = np.int64(-1)
                if parent >= 0:
                    size = q - p - 1
                    first = child_first[parent]
                    for child in range(first, first + child_count[parent]):
                        if key_length[child] != size:
                            continue
                        at = key_start[child]
                        same = True
                        i = 0
                        while i < size:  # (eight bytes at a time where eight can be loaded; `key_text` has them)
                            if p + 1 + i + 8 <= len(data):
                                differ = load_word(data, p + 1 + i) ^ load_word(key_text, at + i)
                                if size - i < 8:
                                    differ &= (np.uint64(1) << np.uint64(8 * (size - i))) - np.uint64(1)
                                if differ:
                                    same = False
                                    break
                                i += 8
                            else:
                                if data[p + 1 + i] != key_text[at + i]:
                                    same = False
                                    break
                                i += 1
                        if same:
                            node = child
                            break
                if node >= 0:
                    if seen[node] == line + 1:  # a wanted key twice in one object
                        break
                    seen[node] = line + 1
                slot = node_slot[node] if node >= 0 else np.int64(-1)
                p = q + 1
                moved = p
                while p < stop and (data[p] == SPACE or data[p] == TAB or data[p] == NEWLINE or data[p] == RETURN):
                    p += 1
                if p >= stop or data[p] != COLON:
                    break
                p += 1
                while p < stop and (data[p] == SPACE or data[p] == TAB or data[p] == NEWLINE or data[p] == RETURN):
                    p += 1
                if p > moved + 1 and recording > 0:
                    spaces += 1
                state = 0
            else:  # a value has ended at p (or a container is empty: its closing bracket is at p)
                moved = p
                while p < stop and (data[p] == SPACE or data[p] == TAB or data[p] == NEWLINE or data[p] == RETURN):
                    p += 1
                if p > moved and recording > 0:
                    spaces += 1
                if p >= stop:
                    break
                c = data[p]
                top = depth - 1
                if c == COMMA:
                    p += 1
                    while p < stop and (data[p] == SPACE or data[p] == TAB or data[p] == NEWLINE or data[p] == RETURN):
                        p += 1
                    if p > moved + 1 and recording > 0:
                        spaces += 1
                    if p >= stop or data[p] == CLOSE_BRACE or data[p] == CLOSE_BRACKET:  # a trailing comma
                        break
                    if stack_array[top]:
                        node, slot = np.int64(-1), np.int64(-1)
                        state = 0
                    else:
                        state = 1
                elif c == (CLOSE_BRACKET if stack_array[top] else CLOSE_BRACE):
                    p += 1
                    depth -= 1
                    if stack_slot[top] >= 0:
                        begin[line, stack_slot[top]] = stack_start[top]
                        end[line, stack_slot[top]] = p
                        missing[line, stack_slot[top]] = False
                        spaced[line, stack_slot[top]] = spaces > stack_spaces[top]
                        recording -= 1
                        if stack_slot[top] == copy_slot:  # (an object as it stands: walked again)
                            for i in range(stack_start[top], p):
                                text[copied] = data[i]
                                copied += 1
                            again[line] = True
                    if depth == 0:
                        while p < stop and (data[p] == SPACE or data[p] == TAB or data[p] == NEWLINE
                                            or data[p] == RETURN):
                            p += 1
                        ok = p == stop
                        break
                else:
                    break
        if ok:
            text_offsets[line + 1] = copied
        else:  # (a doubtful line's copy dropped)
            doubtful[line] = True
            copied = text_offsets[line + 1]
            again[line] = False
