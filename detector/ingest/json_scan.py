"""A compiled reading of JSON lines (format `json`): one pass over each line's bytes that validates it and writes
where the values of the wanted key paths are, so that DuckDB's JSON reader is needed only for the lines this reading
doubts (see compiled.py for why compiled); json_read puts the two together and numbers the values by their texts.

What it reads is a subset of JSON on which its answer is the one `json_extract_string(line, path)` gives: an object
(whitespace between tokens allowed) whose strings hold no control character and only JSON's escapes (`\\u` with four hex
digits, no surrogate, only in values not read; a value read has its escapes read once per distinct text, json_read's
`unescaped`), whose keys hold no escape and, on a wanted path, appear once per object, and whose values at wanted paths
are strings (their text), integers of at most 18 digits (19 without a sign; not `-0`), `true` / `false`, `null`
(missing), or objects and arrays with no escape and only such integers inside (their text, less any whitespace between
tokens: json_read's `_minified`; what yyjson writes them as). Any other line, valid JSON or not (fractions and exponents
at wanted paths, trailing commas, NaN, a repeated key, text after the object, nesting deeper than MAX_DEPTH), is
`doubtful`: the caller reads it with DuckDB, which decides.

The wanted paths are a trie of keys (`PathTrie`): node 0 is the object itself, each other node one key under its
parent; a node that ends a wanted path has a slot, its value's column. Strings are scanned eight bytes at a time (a
quote, a backslash or a control character found in a 64-bit word); a key in an object that holds wanted keys is looked
up in a hash table of (parent node, length, first eight bytes) and compared with the one it finds eight bytes at a
time. Where a node's wanted children were each compared by length (and the one of its length by its bytes), the
lookup cost grew with the children (~16 at the top of a Suricata record, ~20 in OCSF): with the table the walk of the
captured batches of every JSON sample (json, defender_network, azure_firewall, suricata_eve; 300k lines, old and new
kernel in one process, 6 interleaved rounds, load ~5-10) costs 12-14 % less CPU (json 46-47 -> 40-42 ms, Defender
54-56 -> 46-48, Suricata 29-31 -> 26-27), a 131k-line batch of the dns_versions benchmark sample 0.068 -> 0.058 s; the
same spans on 2 x 30k mutated lines (near-miss keys, repeated and escaped keys, cuts) and every captured key set.
A slot may also take numbers with a fraction as written (PathTrie's `fractions`: Zeek's times): see MAX_DECIMALS.
Before the table (key compared by length, then eight bytes at a time), on 131,072 lines of the benchmark's files
(CPU, load ~8-15): the walk ~0.47 us a line of ECS (~500 bytes), ~0.64 of OCSF (~640 bytes); with keys compared byte
by byte ~0.55 and ~0.75 (0.072 -> 0.062 s and 0.099 -> 0.084 per 131k lines, 3 interleaved runs), with strings too
~0.7 and ~0.9. A plain count of one byte over the same lines costs ~0.28 us a line (reading them from memory); the same
walk for a single key ~0.5 us on OCSF. Tried and left: children sorted by length (no change), whitespace tests with a
fast path for bytes above a space (no change), the walk and the copy of its values (suricata_eve_walk) done per slice
of ~2,000 lines while they are in the cache (dns_versions: 0.092 -> 0.082-0.086 s per 131k lines before the values'
runs are joined, which copies them again; Zeek http 0.084-0.090 -> 0.090-0.094 s with the join).

`read_inside` is the same walk reading one slot's value where it stands when it is a JSON object, written as a string
(Defender's AdditionalFields, every quote of it escaped) or as an object of the line, with the same key table (a flag
of the kernel: `spans` compiles without it; spans_copying, which only copied the value out whole, is gone since nothing
called it: read_inside's copy where it gives up is that copy). Kernel-only CPU per line of the benchmark's Defender
files (200k lines, best of 7, interleaved with the walk it replaces: json_scan's walk copied into defender_lines,
objects copied out and walked again): DNS inspection 0.93-1.00 -> 0.88-0.89 us, HTTP/TLS 1.06-1.08 ->
0.83-0.85, Storage records 0.63 -> 0.55. Measured and left: steps of the walk as inlined helpers (Numba IR inlining).
The walk of the line's key lookup inlined cost Suricata's walk ~60 % more (dns_versions 0.38 -> 0.61 us a line), called
as a kernel ~30 %; a number helper ~5-10 %; the inner reading's number and literal steps as helpers cost a DNS
inspection line ~35 % (0.93 -> 1.25 us), its object reading inlined beside the string one ~25 %. So the walk's steps
stay written out where they run (the reading's number scan is the walk's, written again), and only the inner key lookup
(_key_node) and the object reading (_read_object) are calls.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from detector.ingest.compiled import inlined, kernel, load_word, store_word

# Containers deeper than this (objects and arrays) make a line doubtful.
MAX_DEPTH = 64
# A number with a fraction, in a slot that takes them (PathTrie's `fractions`): at most this many decimals, no
# exponent, less than FRACTION_LIMIT (2 ** 33: doubles there are less than 1e-6 apart, so that the number's text and
# yyjson's shortest text of its double are the same number); any other makes its line doubtful.
MAX_DECIMALS = 6
FRACTION_LIMIT = 1 << 33

QUOTE, BACKSLASH, SLASH, COMMA, COLON, MINUS, DOT = 34, 92, 47, 44, 58, 45, 46
OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET = 123, 125, 91, 93
SPACE, TAB, NEWLINE, RETURN = 32, 9, 10, 13
# Eight bytes at a time: a byte equal to a quote or backslash is a zero byte of the word XORed with QUOTES or
# BACKSLASHES, found with one of below a control character by the borrow into each byte's top bit (`word - ONES`
# and `word - SPACES`, masked by `~word & TOPS`); the lowest such byte is the first (little-endian words), exactly.
ONES = np.uint64(0x0101010101010101)
SPACES = np.uint64(0x2020202020202020)
QUOTES = np.uint64(0x2222222222222222)
BACKSLASHES = np.uint64(0x5C5C5C5C5C5C5C5C)
TOPS = np.uint64(0x8080808080808080)


class PathTrie:
    """Key paths as the kernel reads them: per node its key's UTF-8 bytes (`text[start[n]:start[n] + length[n]]`),
    its parent (`parent[n]`; node 0, the object itself, has none) and its slot (-1 where no wanted path ends there).
    Slot k is `paths[k]`. A key is found among its parent's children by a hash table (`table`, 2 ** `bits` entries,
    open addressing: -1 ends a probe) of (parent, length, first eight bytes): key_hash. `fractions`: the slots whose
    numbers may have a fraction (MAX_DECIMALS); a caller that reads them as numbers, not as text. `containers`: the
    slots whose value the caller reads as an object or array (its items: a string there makes the line doubtful);
    `compact`: an object or array read whole with whitespace between its tokens makes its line doubtful (the caller
    does not minify them)."""

    def __init__(self, paths: Sequence[tuple[str, ...]], fractions: Sequence[int] = (), containers: Sequence[int] = (),
                 compact: bool = False) -> None:
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
        # numbered breadth first (each node's children one after the other: a probe's candidates are near each other)
        order, keys, parents = [0], [b""], [-1]
        new_number = {0: 0}
        at = 0
        while at < len(order):
            for key, child in children[order[at]].items():
                new_number[child] = len(order)
                order.append(child)
                keys.append(key)
                parents.append(at)
            at += 1
        count = len(order)
        self.slots = len(paths)
        self.parent = np.array(parents, np.int64)
        self.length = np.array([len(key) for key in keys], np.int64)
        self.start = np.concatenate([[0], np.cumsum(self.length)[:-1]]).astype(np.int64)
        self.text = np.frombuffer(b"".join(keys) + bytes(8), np.uint8).copy()  # (eight bytes to spare: words)
        self.slot = np.array([slot_of.get(old, -1) for old in order], np.int64)
        self.fractions = np.zeros(max(len(paths), 1), np.bool_)
        self.fractions[list(fractions)] = True
        self.containers = np.zeros(max(len(paths), 1), np.bool_)
        self.containers[list(containers)] = True
        self.compact = compact
        self.bits = max(4, (4 * count - 1).bit_length())  # (at most a quarter full: short probes)
        self.table = np.full(1 << self.bits, -1, np.int64)
        for node in range(1, count):
            at = key_hash(int(self.parent[node]), keys[node], self.bits)
            while self.table[at] >= 0:
                at = (at + 1) & ((1 << self.bits) - 1)
            self.table[at] = node


# The multiplier of key_hash (2 ** 64 / the golden ratio: Fibonacci hashing)
HASH_FACTOR = 0x9E3779B97F4A7C15
WORD_BITS = (1 << 64) - 1


def key_hash(parent: int, key: bytes, bits: int) -> int:
    """A key's place in PathTrie.table, as the kernel computes it: its first eight bytes as a little-endian word (the
    key's bytes only), its length and its parent node mixed, times HASH_FACTOR, the top `bits` bits."""
    word = int.from_bytes(key[:8].ljust(8, b"\0"), "little")
    mixed = word ^ ((parent << 40) & WORD_BITS) ^ ((len(key) << 56) & WORD_BITS)
    return ((mixed * HASH_FACTOR) & WORD_BITS) >> (64 - bits)


def spans(data: np.ndarray, offsets: np.ndarray, trie: PathTrie) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                          np.ndarray, np.ndarray]:
    """Per line (`data[offsets[i]:offsets[i + 1]]`) and slot: where its value starts and ends in `data`, whether it
    is missing (or null), whether it is an object or array with whitespace between its tokens (`spaced`: its text
    without that whitespace is what yyjson writes); and per line whether it is doubtful (then its slots say
    nothing)."""
    return _walked(data, offsets, trie)


def read_inside(data: np.ndarray, offsets: np.ndarray, trie: PathTrie, slot: int, inner: PathTrie
                ) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...], np.ndarray, np.ndarray, np.ndarray]:
    """`spans`, with the value of `slot` read where it stands where it is a string holding a JSON object (Defender's
    AdditionalFields: every quote of that JSON escaped, `\\"`): the `inner` trie's first-level keys' (begin, end,
    missing) in `text`, where their values are copied with the outer escapes read (their own escapes kept); per line
    whether the reading gave up (`again`: the line's `text` then holds the slot's value copied out whole, a string's
    text with its escapes read, an object's or array's text as it stands, for `spans` to walk, which decides; nothing
    where the line is doubtful); and `text` with its per-line `text_offsets`. Where the value is an object of the
    line, it is read so too if the walk of the line would take it whole as a slot's value (no whitespace, no escape,
    no fraction, no nested container: else given up, and what it is decided as before). In a string, the reading takes
    an object of keys without escapes and of strings, numbers, true, false or null, spaces only between tokens, a
    string's escaped escapes only \\" \\\\ \\/ \\b \\f \\n \\r \\t, integers only at a key read (as `spans` reads them);
    on anything else (a `\\u`, an escaped control character or whitespace, a nested container, a repeated key read, no
    object ...) it gives up.
    Where it reads, its answer is `spans`' on the copy, without the copy and the second walk (the walks alone per
    line of the benchmark's files: DNS inspection 1.45 -> 0.93-0.97 us, HTTP/TLS 1.31 -> 0.88)."""
    lines = len(offsets) - 1
    inner_spans = (np.zeros((lines, inner.slots), np.int32), np.zeros((lines, inner.slots), np.int32),
                   np.ones((lines, inner.slots), bool))
    again = np.zeros(lines, bool)
    text = np.empty(int(offsets[-1] - offsets[0]) + 8, np.uint8)  # (the lines' bytes at most; eight to spare: words)
    text_offsets = np.zeros(len(offsets), np.int64)
    walked = _walked(data, offsets, trie, slot, text, text_offsets, inner, inner_spans, again)
    return walked, inner_spans, again, text, text_offsets


def _walked(data: np.ndarray, offsets: np.ndarray, trie: PathTrie, read_slot: int = -1, text: np.ndarray | None = None,
            text_offsets: np.ndarray | None = None, inner: PathTrie | None = None,
            inner_spans: tuple[np.ndarray, ...] | None = None, again: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The walk's arrays, the kernel run (without `again`, Numba compiles it without read_inside's code)."""
    lines = len(offsets) - 1
    begin = np.zeros((lines, trie.slots), np.int32)
    end = np.zeros((lines, trie.slots), np.int32)
    missing = np.ones((lines, trie.slots), bool)
    spaced = np.zeros((lines, trie.slots), bool)
    doubtful = np.zeros(lines, bool)
    inner_begin, inner_end, inner_missing = inner_spans if inner_spans is not None else (None, None, None)
    _spans(data, offsets, trie.text, trie.start, trie.length, trie.parent, trie.table, np.int64(trie.bits), trie.slot,
           trie.fractions, trie.containers, trie.compact, begin, end, missing, spaced, doubtful, np.int64(read_slot),
           text, text_offsets, *_inner_trie(inner), inner_begin, inner_end, inner_missing, again)
    return begin, end, missing, spaced, doubtful


def _inner_trie(inner: PathTrie | None) -> tuple:
    """read_inside's trie as the kernel takes it (None for each part without one)."""
    if inner is None:
        return (None,) * 7
    return inner.text, inner.start, inner.length, inner.parent, inner.table, np.int64(inner.bits), inner.slot


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


@inlined
def _string_copy(data, q, stop, out, at, copy, escaped):
    """A string's text from `q`, eight bytes at a time between its backslashes: where it ends, where its copy to `out`
    from `at` ends (only where `copy`), and whether it closed. A string of the line (`escaped` false) stops at its
    closing quote, its escapes read in the copy (\\" \\\\ \\/ \\b \\f \\n \\r \\t); a string inside an escaped JSON
    text (`escaped`: read_inside) ends past its escaped closing quote `\\"`, its copy as that JSON writes it (the outer
    escapes read: `\\\\\\"` -> `\\"`, `\\/` -> `/`). Not closed where the walk doubts it (a control character, `\\u`
    or another escape, the line's end; inside, an outer quote or \\n ... too): one flag for both, since the loop is
    the same (Defender's two copies of it were the same 30 lines)."""
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
        if data[q] != BACKSLASH or q + 1 >= stop:  # (its closing quote, a control character or a cut escape)
            return q, at, not escaped and data[q] == QUOTE
        e = data[q + 1]
        if escaped:
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
            continue
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
            return q, at, False
        at += 1
        q += 2


@kernel
def _whole(data, start, stop):
    """The number the digits `data[start:stop]` write (at most 18 of them)."""
    value = np.int64(0)
    for i in range(start, stop):
        value = value * 10 + (data[i] - 48)
    return value


@kernel
def _hex_digits(data, at):
    """Whether the four bytes from `at` are hexadecimal digits."""
    for i in range(at, at + 4):
        b = data[i]
        if not (48 <= b <= 57 or 65 <= b <= 70 or 97 <= b <= 102):
            return False
    return True


@kernel
def _key_node(data, k, size, parent, key_text, key_start, key_length, node_parent, table, bits):
    """The trie node of the key `data[k:k + size]` among `parent`'s children (-1: none): found in the trie's hash
    table by key_hash (its first word, its length and the parent), compared eight bytes at a time where eight can be
    loaded (`key_text` has them)."""
    if k + 8 <= len(data):
        word = load_word(data, k)
    else:
        word = np.uint64(0)
        for i in range(min(size, 8)):
            word |= np.uint64(data[k + i]) << np.uint64(8 * i)
    if size < 8:
        word &= (np.uint64(1) << np.uint64(8 * size)) - np.uint64(1)
    mixed = word ^ (np.uint64(parent) << np.uint64(40)) ^ (np.uint64(size) << np.uint64(56))
    at_hash = np.int64((mixed * np.uint64(HASH_FACTOR)) >> np.uint64(64 - bits))
    table_mask = (np.int64(1) << bits) - 1
    while True:
        child = table[at_hash]
        if child < 0:
            return np.int64(-1)
        at_hash = (at_hash + 1) & table_mask
        if node_parent[child] != parent or key_length[child] != size:
            continue
        at = key_start[child]
        same = True
        i = 0
        while i < size:
            if k + i + 8 <= len(data):
                differ = load_word(data, k + i) ^ load_word(key_text, at + i)
                if size - i < 8:
                    differ &= (np.uint64(1) << np.uint64(8 * (size - i))) - np.uint64(1)
                if differ:
                    same = False
                    break
                i += 8
            else:
                if data[k + i] != key_text[at + i]:
                    same = False
                    break
                i += 1
        if same:
            return child


@inlined
def _read_inside(data, p, stop, key_text, key_start, key_length, node_parent, table, bits, node_slot, seen, line,
                 inner_begin, inner_end, inner_missing, out, at, escaped):
    """The JSON object from `p` read where it stands (read_inside): the values of the keys of the trie's first level
    that have a slot copied to `out` from `at` (their spans in `inner_*`). `escaped`: the object is the text of the
    string whose text starts at `p` (its quotes `\\"`, spaces allowed between its tokens); else `p` is the `{` of an
    object of the line, read only as the walk of the line would take it as a slot's value: no whitespace, no escape,
    integers only (of at most 18 digits, not -0). Returns where the string's closing quote is (escaped) or where the
    object ends, where the copy ends, and whether it was read (false: given up, see read_inside; the caller copies the
    value out instead)."""
    while escaped and p < stop and data[p] == SPACE:
        p += 1
    if p >= stop or data[p] != OPEN_BRACE:
        return p, at, False
    p += 1
    while escaped and p < stop and data[p] == SPACE:
        p += 1
    quote_size = 2 if escaped else 1  # (\" or ")
    if p < stop and data[p] == CLOSE_BRACE:
        p += 1
    else:
        while True:
            # a key: \"...\" or "..." (no escape in it)
            if p + quote_size > stop or data[p + quote_size - 1] != QUOTE or (escaped and data[p] != BACKSLASH):
                return p, at, False
            k = p + quote_size
            q = _string_end(data, k, stop)
            if q + quote_size > stop or data[q + quote_size - 1] != QUOTE or (escaped and data[q] != BACKSLASH):
                return p, at, False
            node = _key_node(data, k, q - k, 0, key_text, key_start, key_length, node_parent, table, bits)
            slot = np.int64(-1)
            if node >= 0:
                if seen[node] == line + 1:  # a wanted key twice
                    return p, at, False
                seen[node] = line + 1
                slot = node_slot[node]
            p = q + quote_size
            while escaped and p < stop and data[p] == SPACE:
                p += 1
            if p >= stop or data[p] != COLON:
                return p, at, False
            p += 1
            while escaped and p < stop and data[p] == SPACE:
                p += 1
            if p >= stop:
                return p, at, False
            c = data[p]
            if escaped and c == BACKSLASH:  # a string: \"...\"
                if p + 1 >= stop or data[p + 1] != QUOTE:
                    return p, at, False
                q, copied, ok = _string_copy(data, p + 2, stop, out, at, slot >= 0, True)
                if not ok:
                    return p, at, False
                if slot >= 0:
                    inner_begin[line, slot] = at
                    inner_end[line, slot] = copied
                    inner_missing[line, slot] = False
                    at = copied
                p = q
            elif not escaped and c == QUOTE:  # a string: "..." (no escape)
                q = _string_end(data, p + 1, stop)
                if q >= stop or data[q] != QUOTE:
                    return p, at, False
                if slot >= 0:
                    inner_begin[line, slot] = at
                    for i in range(p + 1, q):
                        out[at] = data[i]
                        at += 1
                    inner_end[line, slot] = at
                    inner_missing[line, slot] = False
                p = q + 1
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
                if slot >= 0 or not escaped:
                    count = integer_end - digits
                    signed = digits > p
                    if q != integer_end or count > (18 if signed else 19) or (signed and data[digits] == 48):
                        return p, at, False
                if slot >= 0:
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
            while escaped and p < stop and data[p] == SPACE:
                p += 1
            if p >= stop:
                return p, at, False
            if data[p] == COMMA:
                p += 1
                while escaped and p < stop and data[p] == SPACE:
                    p += 1
                continue
            if data[p] != CLOSE_BRACE:
                return p, at, False
            p += 1
            break
    if not escaped:
        return p, at, True
    while p < stop and data[p] == SPACE:
        p += 1
    if p >= stop or data[p] != QUOTE:
        return p, at, False
    return p, at, True


@kernel
def _read_object(data, p, stop, key_text, key_start, key_length, node_parent, table, bits, node_slot, seen, line,
                 inner_begin, inner_end, inner_missing, out, at):
    """_read_inside of an object of the line (not escaped), as a call (one line in seven of the HTTP/TLS inspection
    sample has one; inlined too, the walk of a DNS inspection line cost ~25 % more)."""
    return _read_inside(data, p, stop, key_text, key_start, key_length, node_parent, table, bits, node_slot, seen,
                        line, inner_begin, inner_end, inner_missing, out, at, False)


@kernel
def _spans(data, offsets, key_text, key_start, key_length, node_parent, table, bits, node_slot, slot_fractions,
           slot_containers, compact, begin, end, missing, spaced, doubtful, read_slot, text, text_offsets,
           inner_text, inner_start, inner_length, inner_parent, inner_table, inner_bits, inner_slot,
           inner_begin, inner_end, inner_missing, again):
    """`spans`' kernel: each line walked once, with a stack of the containers it is in; the value of `read_slot`
    read where it stands by _read_inside, or copied to `text` where that gives up, as `read_inside` says (only where
    `again` is not None: Numba compiles `spans`' call without that code, which made the walk ~5 % slower)."""
    nodes = len(node_slot)
    seen = np.zeros(nodes, np.int64)  # (the line + 1 where a node's key was last seen: no reset per line)
    if again is not None:
        inner_seen = np.zeros(len(inner_slot), np.int64)
    stack_node = np.empty(MAX_DEPTH, np.int64)  # the trie node of an object (-1: no wanted path under it)
    stack_slot = np.empty(MAX_DEPTH, np.int64)  # the slot a container is the value of (-1: none)
    stack_start = np.empty(MAX_DEPTH, np.int64)  # where it starts
    stack_array = np.empty(MAX_DEPTH, np.bool_)
    stack_spaces = np.empty(MAX_DEPTH, np.int64)  # `spaces` when it opened
    copied = np.int64(0)  # where the next copy starts in `text`
    for line in range(len(offsets) - 1):
        if again is not None:
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
                    # (Numba leaves this out where nothing is read inside: `spans`)
                    if again is not None and slot == read_slot and slot >= 0 and recording == 0:
                        q, copied_end, read = _read_inside(
                            data, p + 1, stop, inner_text, inner_start, inner_length, inner_parent, inner_table,
                            inner_bits, inner_slot, inner_seen, line, inner_begin, inner_end, inner_missing, text,
                            copied, True)
                        if not read:
                            inner_missing[line, :] = True
                            q = np.int64(-1)
                        if q < 0:  # (given up: the string copied out whole, its escapes read)
                            q, copied_end, closed = _string_copy(data, p + 1, stop, text, copied, True, False)
                            if not closed:
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
                        if slot_containers[slot]:  # (a string where the caller reads an object or array)
                            break
                        begin[line, slot] = p + 1
                        end[line, slot] = q
                        missing[line, slot] = False
                    p = q + 1
                    state = 2
                elif c in (OPEN_BRACE, OPEN_BRACKET):
                    if depth >= MAX_DEPTH:
                        break
                    if again is not None and c == OPEN_BRACE and slot == read_slot and slot >= 0 and recording == 0:
                        q, copied_end, read = _read_object(
                            data, p, stop, inner_text, inner_start, inner_length, inner_parent, inner_table,
                            inner_bits, inner_slot, inner_seen, line, inner_begin, inner_end, inner_missing, text,
                            copied)
                        if read:  # (the object read where it stands: its span is the slot's value)
                            begin[line, slot] = p
                            end[line, slot] = q
                            missing[line, slot] = False
                            copied = copied_end
                            p = q
                            state = 2
                            continue
                        inner_missing[line, :] = True  # (given up: walked as it stands, copied whole at its end)
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
                    fraction_end = q
                    if q < stop and data[q] == DOT:
                        q += 1
                        fraction = q
                        while q < stop and 48 <= data[q] <= 57:
                            q += 1
                        if q == fraction:
                            break
                        fraction_end = q
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
                        if signed and data[digits] == 48:
                            break
                        if q != integer_end:  # (a fraction: as written only in a slot that takes them, PathTrie)
                            if recording > 0 or not slot_fractions[slot] or q != fraction_end \
                                    or fraction_end - integer_end - 1 > MAX_DECIMALS or count > 10 \
                                    or (count == 10 and _whole(data, digits, integer_end) >= FRACTION_LIMIT):
                                break
                        elif count > (18 if signed else 19):
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
                if parent >= 0:  # (its key_hash: the key's first word, its length and the parent)
                    size = q - p - 1
                    if p + 9 <= len(data):
                        word = load_word(data, p + 1)
                    else:
                        word = np.uint64(0)
                        for i in range(min(size, 8)):
                            word |= np.uint64(data[p + 1 + i]) << np.uint64(8 * i)
                    if size < 8:
                        word &= (np.uint64(1) << np.uint64(8 * size)) - np.uint64(1)
                    mixed = word ^ (np.uint64(parent) << np.uint64(40)) ^ (np.uint64(size) << np.uint64(56))
                    at_hash = np.int64((mixed * np.uint64(HASH_FACTOR)) >> np.uint64(64 - bits))
                    table_mask = (np.int64(1) << bits) - 1
                    while True:
                        child = table[at_hash]
                        if child < 0:
                            break
                        at_hash = (at_hash + 1) & table_mask
                        if node_parent[child] != parent or key_length[child] != size:
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
                        if compact and spaces > stack_spaces[top]:  # (the caller reads compact containers only)
                            break
                        recording -= 1
                        if again is not None and stack_slot[top] == read_slot:  # (as it stands: walked again)
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
        if not ok:
            doubtful[line] = True
        if again is not None:
            if ok:
                text_offsets[line + 1] = copied
            else:  # (a doubtful line's copy dropped)
                copied = text_offsets[line + 1]
                again[line] = False
