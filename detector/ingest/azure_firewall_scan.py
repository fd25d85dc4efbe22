"""A compiled walk (see `compiled.py`) over Azure Firewall's JSON records, each line once, finding the few values
azure_firewall.py reads: the envelope's category, time and message, or a structured record's properties, and a
legacy rule message's words.

Why: DuckDB's JSON reader builds a whole document per line (yyjson) and then looks each path up in it; the records
are 400-600 bytes of which a tenth is read. Here one loop checks the line's JSON syntax and notes where the wanted
keys' values are, at the top level and inside `properties` (or in the one record of an Event Hubs line
`{"records": [...]}`; a line of none or several is only counted: it is ignored or rejected as a whole); only those
values become text (gather_scan.gathered). A rule message is split into its first words while it is in the cache,
as azure_firewall.rule_words splits it (`from` the third or fourth word, and the words after it by position).
Keys and strings are passed eight bytes at a time to their first quote, backslash or control byte (found in the
word by its lowest flagged byte, not looked for again byte by byte).

What the walk accepts is strict JSON (RFC 8259: no trailing commas, NaN or comments, no raw control bytes in
strings) without the cases where DuckDB's text of a value would differ from its bytes: a wanted key's string with
an escape, a wanted key given twice (DuckDB reads the first), a number other than a plain integer of up to 18
digits (a duration may have a fraction: it is read as a double either way), an object or array where a value is
wanted, a key written with an escape, a `records` value that is no array or whose first record is no object, and a
trimmed value (a time, a DNS proxy message, a web category) with a byte above ASCII at its edge (DuckDB's and
Arrow's trims take Unicode spaces off too). Any such line is not ok: the caller reads it with DuckDB, as before, so
that every line's result is the same whichever way it is read.

Cost (CPU per ~270k lines of the benchmark files, load ~8): 0.135 s legacy records, 0.18 structured, 0.23 Log
Analytics rows (~20 keys each); before keys were passed eight bytes at a time and the first special byte was taken
from the word, 0.15, 0.22, 0.30. Of it, finding and comparing the keys and noting the values ~40 %, choosing the
values per record (and splitting a message) 0.025-0.05. Since (2026-11-30) a key is found by HashedKeys: one bucket
and three word compares, no branch: per 131k lines 0.097-0.120 -> 0.063-0.088 s structured, 0.090 -> 0.074 legacy,
0.133 -> 0.095 Log Analytics (interleaved, same outputs). Tried before it and left: a hash with its one candidate
compared byte by byte, or the candidates of the key's length compared eight bytes at a time: no faster (their branches,
taken differently key by key, were the cost, not the compares). Noted for kernels: a step per value written as an
inlined function (Numba IR inlining, arrays as arguments) cost ~8x the same code written in the loop.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from detector.ingest.compiled import inlined, kernel, load_word

QUOTE, BACKSLASH, COLON, COMMA, MINUS, DOT = 34, 92, 58, 44, 45, 46
OPEN_OBJECT, CLOSE_OBJECT, OPEN_ARRAY, CLOSE_ARRAY, SPACE = 123, 125, 91, 93, 32
MAX_DEPTH = 64
RECORDS_KEY = np.frombuffer(b'"records"', np.uint8)
# Containers: an object, an array, a record's properties, an Event Hubs message's `records`, a record.
OBJECT, ARRAY, PROPERTIES, RECORDS, RECORD = 0, 1, 2, 3, 4
ONES = np.uint64(0x0101010101010101)
HIGH_BITS = np.uint64(0x8080808080808080)
QUOTES = np.uint64(0x2222222222222222)
BACKSLASHES = np.uint64(0x5C5C5C5C5C5C5C5C)
CONTROLS = np.uint64(0x2020202020202020)
CAPITAL_WS = np.uint64(0x5757575757575757)  # (bytes below it are control bytes)

# Value kinds.
ABSENT, TEXT, INTEGER, DECIMAL, OTHER_NUMBER, LITERAL, NULL, CONTAINER = 0, 1, 2, 3, 4, 5, 6, 7

# Top-level keys (their numbers in the kernel), then the properties' keys at the top level (Log Analytics rows).
TOP_CATEGORY, TOP_TIME, TOP_TYPE, TOP_EXPORTED_CATEGORY, TOP_TIME_GENERATED, TOP_MSG_S, TOP_PROPERTIES, TOP_RECORDS = \
    range(8)
TOP_FIRST_PROPERTY = 8
NESTED_MSG = 0
NESTED_FIRST_PROPERTY = 1

# Record kinds (as azure_firewall.RECORDS_QUERY names them: rule_msg, dns_msg, rule, dns) by category number.
KIND_NONE, KIND_RULE_MSG, KIND_DNS_MSG, KIND_RULE, KIND_DNS = 0, 1, 2, 3, 4

# Output slots: the time, the legacy rule and DNS proxy messages, a rule message's words (as
# azure_firewall.rule_words reads them: `m_*`), then the properties.
SLOT_TIME, SLOT_RULE_MSG, SLOT_DNS_MSG = 0, 1, 2
SLOT_PROTO, SLOT_SRC, SLOT_DST, SLOT_PORT, SLOT_ACTION, SLOT_URL, SLOT_CATEGORY = range(3, 10)
SLOT_FIRST_PROPERTY = 10
WORDS = 11  # (a rule message's words read: up to the 7th after `from`, itself the 3rd or 4th)
FROM, TO, WAS, URL, ACTION = (np.frombuffer(word, np.uint8) for word in (b"from", b"to", b"was", b"Url:", b"Action:"))
WEB_CATEGORY = np.frombuffer(b"Web Category: ", np.uint8)


@inlined
def _special(word):
    """Per byte of `word` (its high bit): a quote, a backslash or a control byte; exact for the lowest one."""
    quotes = word ^ QUOTES
    backslashes = word ^ BACKSLASHES
    return (((quotes - ONES) & ~quotes) | ((backslashes - ONES) & ~backslashes) | ((word - CONTROLS) & ~word)) \
        & HIGH_BITS


@inlined
def _key_number(data, start, end, text, key_start, number, first, count):
    """The number of the wanted key `data[start:end]`, or -1."""
    length = end - start
    if length >= len(count):
        return -1
    for at in range(first[length], first[length] + count[length]):
        begin = key_start[at]
        same = True
        for offset in range(length):
            if text[begin + offset] != data[start + offset]:
                same = False
                break
        if same:
            return number[at]
    return -1


# Keys of up to this many bytes are compared whole by HashedKeys' three words (the first, the next and the last eight).
HASHED_MAX = 24
_MASK = (1 << 64) - 1
_MIDDLE_MIX, _LAST_MIX = 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F
MIDDLE_MIX, LAST_MIX = np.uint64(_MIDDLE_MIX), np.uint64(_LAST_MIX)


def _key_words(key: bytes) -> tuple[int, int, int]:
    """A key's bytes as `_hashed_number` reads them: its first eight (fewer, as one word), its bytes 8-16 where it is
    longer than 16, its last eight where it is longer than 8 (0 where not read)."""
    first = int.from_bytes(key[:8], "little")
    middle = int.from_bytes(key[8:16], "little") if len(key) > 16 else 0
    last = int.from_bytes(key[-8:], "little") if len(key) > 8 else 0
    return first, middle, last


def _bucket(words: tuple[int, int, int], length: int, multiplier: int, shift: int) -> int:
    first, middle, last = words
    mixed = first ^ ((middle * _MIDDLE_MIX) & _MASK) ^ ((last * _LAST_MIX) & _MASK) ^ length
    return ((mixed * multiplier) & _MASK) >> shift


def _spread(words: list[tuple[int, int, int]], lengths: list[int]) -> tuple[int, int, list[int]]:
    """A table size (bits), a multiplier and each key's bucket, no two keys in one: the smallest table where one of
    2,000 multipliers (the same ones every run) does it."""
    chooser = random.Random(len(words))
    for bits in range(8, 17):
        for _ in range(2000):
            multiplier = chooser.getrandbits(64) | 1
            buckets = [_bucket(word, length, multiplier, 64 - bits) for word, length in zip(words, lengths,
                                                                                            strict=True)]
            if len(set(buckets)) == len(buckets):
                return bits, multiplier, buckets
    raise ValueError("no table without two keys in one bucket")


class HashedKeys:
    """Wanted keys of up to HASHED_MAX bytes as `_hashed_number` finds them: a table of buckets, each holding at most
    one key (a multiplier found here that puts no two in one bucket), and per key its words, its length and its
    number (its place in the given order); row `len(keys)` is no key (length -1), where empty buckets point.

    Why: looking a key up among those of its length, byte by byte or eight bytes at a time, cost ~40 % of the walk
    of a structured record (its branches taken differently key by key); one bucket and three word compares, without
    a branch, cost a third of that."""

    def __init__(self, keys: Sequence[str]) -> None:
        encoded = [key.encode() for key in keys]
        if any(len(key) > HASHED_MAX for key in encoded):
            raise ValueError(f"keys longer than {HASHED_MAX} bytes are not hashed")
        if len(set(encoded)) != len(encoded):
            raise ValueError("a key given twice")
        words = [_key_words(key) for key in encoded]
        bits, multiplier, buckets = _spread(words, [len(key) for key in encoded])
        self.table = np.full(1 << bits, len(encoded), np.int64)
        self.table[buckets] = np.arange(len(encoded))
        self.words = np.array([*words, (0, 0, 0)], np.uint64)
        self.length = np.array([*(len(key) for key in encoded), -1], np.int64)
        self.number = np.array([*range(len(encoded)), -1], np.int64)
        self.multiplier = np.uint64(multiplier)
        self.shift = np.uint64(64 - bits)

    def arrays(self) -> tuple[np.ndarray | np.uint64, ...]:
        """What the kernel is given (`table, words, length, number, multiplier, shift`)."""
        return self.table, self.words, self.length, self.number, self.multiplier, self.shift


@inlined
def _hashed_number(data, start, end, table, words, lengths, number, multiplier, shift):
    """The number of the wanted key `data[start:end]` (HashedKeys' arrays), or -1."""
    length = end - start
    if start + 8 <= len(data):
        first = load_word(data, start)
    else:  # (a short key at the end of the buffer: not eight bytes to load)
        first = np.uint64(0)
        for offset in range(min(length, 8)):
            first |= np.uint64(data[start + offset]) << np.uint64(8 * offset)
    if length < 8:
        first &= (np.uint64(1) << np.uint64(8 * length)) - np.uint64(1)
    middle = load_word(data, start + 8) if length > 16 else np.uint64(0)
    last = load_word(data, end - 8) if length > 8 else np.uint64(0)
    at = table[((first ^ (middle * MIDDLE_MIX) ^ (last * LAST_MIX) ^ np.uint64(length)) * multiplier) >> shift]
    same = (words[at, 0] == first) & (words[at, 1] == middle) & (words[at, 2] == last) & (lengths[at] == length)
    return number[at] if same else -1


@inlined
def _is_space(byte):
    return byte == 32 or byte == 9 or byte == 10 or byte == 13


@inlined
def _is(data, start, end, word):
    """Whether `data[start:end]` is `word`."""
    same = end - start == len(word)
    for offset in range(len(word) if same else 0):
        if data[start + offset] != word[offset]:
            same = False
            break
    return same


@inlined
def _put(starts, ends, valid, slot, line, start, end):
    starts[slot, line] = start
    ends[slot, line] = end
    valid[slot, line] = True


@inlined
def _dots_off(data, start, end):
    """The end of `data[start:end]` without its trailing dots (Arrow's utf8_rtrim("."))."""
    while end > start and data[end - 1] == DOT:
        end -= 1
    return end


@inlined
def _address(data, start, end, starts, ends, valid, address_slot, port_slot, line):
    """azure_firewall._address of `data[start:end]`: `ip:port`, `ip`, `ip:`, `[v6]:port` or a bare IPv6 address."""
    if end > start and data[start] == OPEN_ARRAY:
        close = start + 1
        while close < end and data[close] != CLOSE_ARRAY:
            close += 1
        if close < end:
            _put(starts, ends, valid, address_slot, line, start + 1, close)
            port = close + 1
            if port < end and data[port] == COLON:
                port += 1
            if port_slot >= 0:
                _put(starts, ends, valid, port_slot, line, port, end)
        return
    colons = 0
    first_colon = end
    for at in range(start, end):
        if data[at] == COLON:
            colons += 1
            if colons == 1:
                first_colon = at
    if colons > 1:
        _put(starts, ends, valid, address_slot, line, start, end)
        return
    _put(starts, ends, valid, address_slot, line, start, first_colon)
    if colons == 1 and port_slot >= 0:
        _put(starts, ends, valid, port_slot, line, first_colon + 1, end)


@inlined
def _rule_words(data, first, last, word_start, word_end, starts, ends, valid, line):
    """A legacy rule message's words, as azure_firewall.rule_words reads them: (`m_ok`, `m_nat`), the texts into
    their slots; False, False where there is no `from`. False for the line as a whole (`ok`) where DuckDB's or
    Arrow's reading could differ (Unicode spaces around the web category): returned third."""
    words = 0
    at = first
    while words < WORDS:
        space = at
        while space < last and data[space] != SPACE:
            space += 1
        word_start[words] = at
        word_end[words] = space
        words += 1
        if space >= last:
            break
        at = space + 1
    _put(starts, ends, valid, SLOT_PROTO, line, word_start[0], word_end[0])
    # the web category: after the first `Web Category: `, spaces trimmed
    fine = True
    at = first
    stop = last - len(WEB_CATEGORY) + 1
    while at < stop:
        if at + 8 <= stop:  # eight bytes at a time while none is a `W`
            capitals = load_word(data, at) ^ CAPITAL_WS
            if not ((capitals - ONES) & ~capitals & HIGH_BITS):
                at += 8
                continue
        if data[at] != 87 or not _is(data, at, at + len(WEB_CATEGORY), WEB_CATEGORY):
            at += 1
            continue
        begin = at + len(WEB_CATEGORY)
        end = last
        while begin < end and data[begin] == SPACE:
            begin += 1
        while end > begin and data[end - 1] == SPACE:
            end -= 1
        if end > begin and (data[begin] >= 128 or data[end - 1] >= 128):
            fine = False  # (Arrow's trim takes other Unicode spaces off too)
        _put(starts, ends, valid, SLOT_CATEGORY, line, begin, end)
        break
    base = -1
    if words > 2 and _is(data, word_start[2], word_end[2], FROM):
        base = 2
    elif words > 3 and _is(data, word_start[3], word_end[3], FROM):
        base = 3
    if base < 0:
        return False, False, fine
    found = words - base  # words after `from` (and itself)
    has_to = found > 2 and _is(data, word_start[base + 2], word_end[base + 2], TO)
    nat = has_to and found > 4 and _is(data, word_start[base + 4], word_end[base + 4], WAS)
    with_url = has_to and found > 4 and _is(data, word_start[base + 4], word_end[base + 4], URL)
    action = -1
    if found > 2 and _is(data, word_start[base + 2], word_end[base + 2], ACTION):
        action = base + 3
    elif has_to and found > 4 and _is(data, word_start[base + 4], word_end[base + 4], ACTION):
        action = base + 5
    elif with_url and found > 6 and _is(data, word_start[base + 6], word_end[base + 6], ACTION):
        action = base + 7
    has_action = action >= 0 and action < words
    if has_action:
        _put(starts, ends, valid, SLOT_ACTION, line, word_start[action],
             _dots_off(data, word_start[action], word_end[action]))
    if found > 1:
        _address(data, word_start[base + 1], _dots_off(data, word_start[base + 1], word_end[base + 1]), starts, ends,
                 valid, SLOT_SRC, -1, line)
    if has_to and found > 3:
        _address(data, word_start[base + 3], _dots_off(data, word_start[base + 3], word_end[base + 3]), starts, ends,
                 valid, SLOT_DST, SLOT_PORT, line)
    if with_url and found > 5:
        _put(starts, ends, valid, SLOT_URL, line, word_start[base + 5],
             _dots_off(data, word_start[base + 5], word_end[base + 5]))
    return has_action or nat, nat, fine


@kernel
def scan(data, offsets, top, nested, categories, kinds, duration_top, duration_nested, properties):
    """Per line: `ok` (read here, else by DuckDB), its record kind (KIND_*), whether it is a NAT rule record, whether
    it has no category; and per slot (SLOT_*) the start, end and validity of the texts of the lines whose records
    the caller takes, one column each in line order: the lines `ok` but for those EVENTS_QUERY only counts as ignored
    (a record of no kind read, with a category, not a message of several records), whose texts are not gathered.
    `top` and `nested` are the wanted keys as HashedKeys' arrays, `categories` the category names as
    compiled.WantedKeys' (text, start, number, first, count); `kinds` the kind of each category number (-1: the NAT
    rule table, -2: `AzureDiagnostics`)."""
    lines = len(offsets) - 1
    top_count = TOP_FIRST_PROPERTY + properties
    nested_count = NESTED_FIRST_PROPERTY + properties
    slots = SLOT_FIRST_PROPERTY + properties
    ok = np.zeros(lines, np.bool_)
    kind = np.zeros(lines, np.int8)
    nat = np.zeros(lines, np.bool_)
    records = np.full(lines, -1, np.int64)
    m_ok = np.zeros(lines, np.bool_)
    m_nat = np.zeros(lines, np.bool_)
    word_start = np.zeros(WORDS, np.int64)
    word_end = np.zeros(WORDS, np.int64)
    no_category = np.zeros(lines, np.bool_)
    starts = np.zeros((slots, lines), np.int64)
    ends = np.zeros((slots, lines), np.int64)
    valid = np.zeros((slots, lines), np.bool_)
    top_kind = np.zeros(top_count, np.int8)
    top_start = np.zeros(top_count, np.int64)
    top_end = np.zeros(top_count, np.int64)
    nested_kind = np.zeros(nested_count, np.int8)
    nested_start = np.zeros(nested_count, np.int64)
    nested_end = np.zeros(nested_count, np.int64)
    stack = np.zeros(MAX_DEPTH, np.int8)  # per open container: OBJECT, ARRAY ...
    row = 0  # the column of the slots this line's texts go to
    for line in range(lines):
        if line > 0:  # the line before: its texts kept where the caller takes its record, else taken back
            before = line - 1
            if ok[before] and not (kind[before] == KIND_NONE and not no_category[before] and records[before] <= 1):
                row += 1
            else:
                for slot in range(slots):
                    valid[slot, row] = False
        top_kind[:] = ABSENT
        nested_kind[:] = ABSENT
        at = offsets[line]
        end = offsets[line + 1]
        # `{"records": [...]}` (RECORDS_QUERY's test: the line starts so): its first record is read
        key_at = at + 1 if at + 1 < end and data[at + 1] != SPACE else at + 2
        message = data[at] == OPEN_OBJECT if at < end else False
        if message and key_at + len(RECORDS_KEY) <= end:
            for offset in range(len(RECORDS_KEY)):
                if data[key_at + offset] != RECORDS_KEY[offset]:
                    message = False
        else:
            message = False
        records_seen = False
        count = 0
        while at < end and _is_space(data[at]):
            at += 1
        if at >= end or data[at] != OPEN_OBJECT:
            continue
        depth = 1
        stack[0] = OBJECT if message else RECORD
        at += 1
        good = True
        expect_key = True  # after `{` or `,` in an object: a key (or, right after `{`, the close)
        first_member = True
        while good:
            while at < end and _is_space(data[at]):
                at += 1
            if at >= end:
                good = False
                break
            container = stack[depth - 1]
            byte = data[at]
            wanted = -1
            outer_records = False
            in_top = container == RECORD
            in_properties = container == PROPERTIES
            if container != ARRAY and container != RECORDS:  # an object: a key, or its end
                if byte == CLOSE_OBJECT and first_member:
                    depth -= 1
                    at += 1
                    expect_key = False
                else:
                    if not expect_key or byte != QUOTE:
                        good = False
                        break
                    key_start = at + 1
                    at += 1
                    while at + 8 <= end:  # eight bytes at a time, to the first special byte
                        special = _special(load_word(data, at))
                        if special:
                            at += trailing_zeros(special) >> 3
                            break
                        at += 8
                    while at < end and data[at] != QUOTE and data[at] != BACKSLASH and data[at] >= 32:
                        at += 1
                    if at >= end or data[at] != QUOTE:
                        good = False  # an escaped or unterminated key, or a control byte
                        break
                    if in_top:
                        wanted = _hashed_number(data, key_start, at, top[0], top[1], top[2], top[3], top[4], top[5])
                        if wanted == TOP_RECORDS:
                            wanted = -1  # (not read from a record)
                    elif in_properties:
                        wanted = _hashed_number(data, key_start, at, nested[0], nested[1], nested[2], nested[3],
                                                nested[4], nested[5])
                    elif message and depth == 1:
                        outer_records = _hashed_number(data, key_start, at, top[0], top[1], top[2], top[3], top[4],
                                                       top[5]) == TOP_RECORDS
                    at += 1
                    while at < end and _is_space(data[at]):
                        at += 1
                    if at >= end or data[at] != COLON:
                        good = False
                        break
                    at += 1
                    while at < end and _is_space(data[at]):
                        at += 1
                    if at >= end:
                        good = False
                        break
                    byte = data[at]
            elif byte == CLOSE_ARRAY and first_member:
                depth -= 1
                at += 1
                expect_key = False
            if expect_key:  # a value follows
                first_member = False
                if outer_records or (container == RECORDS and count == 0):
                    if outer_records and (records_seen or byte != OPEN_ARRAY):
                        good = False  # (not one array: DuckDB's path)
                        break
                    if container == RECORDS and byte != OPEN_OBJECT:
                        good = False
                        break
                    if depth >= MAX_DEPTH:
                        good = False
                        break
                    records_seen = records_seen or outer_records
                    count += 1 if container == RECORDS else 0
                    stack[depth] = RECORDS if outer_records else RECORD
                    depth += 1
                    at += 1
                    first_member = True
                    continue
                if container == RECORDS:
                    count += 1
                if wanted >= 0 and ((in_top and top_kind[wanted] != ABSENT)
                                    or (not in_top and nested_kind[wanted] != ABSENT)):
                    good = False  # a wanted key given twice
                    break
                value_start = at
                value_end = at
                value_kind = ABSENT
                if byte == QUOTE:
                    at += 1
                    escaped = False
                    while at < end:
                        if at + 8 <= end:  # eight bytes at a time, to the first quote, backslash or control byte
                            special = _special(load_word(data, at))
                            if not special:
                                at += 8
                                continue
                            at += trailing_zeros(special) >> 3
                        byte = data[at]
                        if byte == QUOTE:
                            break
                        if byte < 32:
                            good = False
                            break
                        if byte == BACKSLASH:
                            escaped = True
                            at += 1
                            if at >= end:
                                good = False
                                break
                            byte = data[at]
                            if byte == 117:  # \uXXXX
                                if at + 4 >= end:
                                    good = False
                                    break
                                for offset in range(1, 5):
                                    digit = data[at + offset]
                                    if not (48 <= digit <= 57 or 65 <= digit <= 70 or 97 <= digit <= 102):
                                        good = False
                                if not good:
                                    break
                                at += 4
                            elif byte not in (QUOTE, BACKSLASH, 47, 98, 102, 110, 114, 116):  # \" \\ \/ \b \f \n \r \t
                                good = False
                                break
                        at += 1
                    if not good or at >= end:
                        good = False
                        break
                    if escaped and wanted >= 0:
                        good = False
                        break
                    value_start += 1
                    value_end = at
                    at += 1
                    value_kind = TEXT
                elif byte == MINUS or 48 <= byte <= 57:
                    at += 1 if byte == MINUS else 0
                    digits_start = at
                    if at < end and data[at] == 48:
                        at += 1
                    else:
                        while at < end and 48 <= data[at] <= 57:
                            at += 1
                    digits = at - digits_start
                    if digits == 0:
                        good = False
                        break
                    value_kind = INTEGER
                    if at < end and data[at] == DOT:
                        at += 1
                        fraction_start = at
                        while at < end and 48 <= data[at] <= 57:
                            at += 1
                        if at == fraction_start:
                            good = False
                            break
                        value_kind = DECIMAL
                    if at < end and (data[at] == 101 or data[at] == 69):
                        at += 1
                        if at < end and (data[at] == 43 or data[at] == MINUS):
                            at += 1
                        exponent_start = at
                        while at < end and 48 <= data[at] <= 57:
                            at += 1
                        if at == exponent_start:
                            good = False
                            break
                        value_kind = OTHER_NUMBER
                    if value_kind == INTEGER and (digits > 18 or (byte == MINUS and data[digits_start] == 48)):
                        value_kind = OTHER_NUMBER  # (DuckDB may write these otherwise)
                    if value_kind == DECIMAL and at - value_start > 24:
                        value_kind = OTHER_NUMBER
                    value_end = at
                elif byte == 116 or byte == 102 or byte == 110:  # true, false, null
                    size = 4 if byte != 102 else 5
                    if at + size > end:
                        good = False
                        break
                    word_ok = True
                    if byte == 116:
                        word_ok = data[at + 1] == 114 and data[at + 2] == 117 and data[at + 3] == 101
                    elif byte == 102:
                        word_ok = data[at + 1] == 97 and data[at + 2] == 108 and data[at + 3] == 115 \
                            and data[at + 4] == 101
                    else:
                        word_ok = data[at + 1] == 117 and data[at + 2] == 108 and data[at + 3] == 108
                    if not word_ok:
                        good = False
                        break
                    at += size
                    value_end = at
                    value_kind = NULL if byte == 110 else LITERAL
                elif byte in (OPEN_OBJECT, OPEN_ARRAY):
                    if depth >= MAX_DEPTH:
                        good = False
                        break
                    if wanted >= 0 and not (in_top and wanted == TOP_PROPERTIES and byte == OPEN_OBJECT):
                        good = False  # a container where a value is read (DuckDB writes it as JSON text)
                        break
                    stack[depth] = ARRAY if byte == OPEN_ARRAY else (PROPERTIES if wanted >= 0 else OBJECT)
                    depth += 1
                    at += 1
                    value_end = at
                    value_kind = CONTAINER
                else:
                    good = False
                    break
                if wanted >= 0:
                    if in_top:
                        top_kind[wanted] = value_kind
                        top_start[wanted] = value_start
                        top_end[wanted] = value_end
                    else:
                        nested_kind[wanted] = value_kind
                        nested_start[wanted] = value_start
                        nested_end[wanted] = value_end
                if value_kind == CONTAINER:
                    expect_key = True
                    first_member = True
                    continue
            # after a value or a container's end: `,` or the container's end, or the line's end at depth 0
            while depth > 0:
                while at < end and _is_space(data[at]):
                    at += 1
                if at >= end:
                    good = False
                    break
                byte = data[at]
                if byte == COMMA:
                    at += 1
                    expect_key = True
                    first_member = False
                    break
                if byte == (CLOSE_ARRAY if stack[depth - 1] == ARRAY or stack[depth - 1] == RECORDS
                            else CLOSE_OBJECT):
                    depth -= 1
                    at += 1
                    continue
                good = False
                break
            if not good or depth == 0:
                break
        if not good or depth != 0:
            continue
        while at < end and _is_space(data[at]):
            at += 1
        if at != end or (message and not records_seen):
            continue
        if message:
            records[line] = count
            if count != 1:  # (none: ignored; several: rejected, whatever they hold)
                ok[line] = True
                continue
        # the values DuckDB would give, chosen as RECORDS_QUERY chooses them
        bad_number = False
        for key in range(top_count):
            value_kind = top_kind[key]
            if value_kind == OTHER_NUMBER or (value_kind == DECIMAL and key != duration_top):
                bad_number = True
        for key in range(nested_count):
            value_kind = nested_kind[key]
            if value_kind == OTHER_NUMBER or (value_kind == DECIMAL and key != duration_nested):
                bad_number = True
        if bad_number:
            continue
        ok[line] = True
        has_category = top_kind[TOP_CATEGORY] != ABSENT and top_kind[TOP_CATEGORY] != NULL
        has_time = top_kind[TOP_TIME] != ABSENT and top_kind[TOP_TIME] != NULL
        has_type = top_kind[TOP_TYPE] != ABSENT and top_kind[TOP_TYPE] != NULL
        category = -1
        if has_category:
            category = TOP_CATEGORY
        else:
            if has_type:
                number = _key_number(data, top_start[TOP_TYPE], top_end[TOP_TYPE], categories[0], categories[1],
                                     categories[2], categories[3], categories[4])
                if number < 0 or kinds[number] != -2:
                    category = TOP_TYPE
            if category < 0 and top_kind[TOP_EXPORTED_CATEGORY] != ABSENT \
                    and top_kind[TOP_EXPORTED_CATEGORY] != NULL:
                category = TOP_EXPORTED_CATEGORY
        record_kind = KIND_NONE
        if category < 0:
            no_category[line] = True
        else:
            number = _key_number(data, top_start[category], top_end[category], categories[0], categories[1],
                                 categories[2], categories[3], categories[4])
            if number >= 0:
                record_kind = kinds[number]
                if record_kind == -1:
                    nat[line] = True
                    record_kind = KIND_RULE
                elif record_kind == -2:
                    record_kind = KIND_NONE
        kind[line] = record_kind
        time = TOP_TIME if has_time else TOP_TIME_GENERATED
        if top_kind[time] != ABSENT and top_kind[time] != NULL:
            first = top_start[time]
            last = top_end[time]
            while first < last and data[first] == SPACE:
                first += 1
            while last > first and data[last - 1] == SPACE:
                last -= 1
            if last > first and (data[first] >= 128 or data[last - 1] >= 128):
                ok[line] = False  # (DuckDB's trim takes other Unicode spaces off too)
            if last > first:
                starts[SLOT_TIME, row] = first
                ends[SLOT_TIME, row] = last
                valid[SLOT_TIME, row] = True
        if record_kind in (KIND_RULE_MSG, KIND_DNS_MSG):
            has_msg = nested_kind[NESTED_MSG] != ABSENT and nested_kind[NESTED_MSG] != NULL
            first = nested_start[NESTED_MSG]
            last = nested_end[NESTED_MSG]
            if not has_msg and (not has_category or not has_time):
                has_msg = top_kind[TOP_MSG_S] != ABSENT and top_kind[TOP_MSG_S] != NULL
                first = top_start[TOP_MSG_S]
                last = top_end[TOP_MSG_S]
            if has_msg and last > first:
                if record_kind == KIND_DNS_MSG:
                    while first < last and data[first] == SPACE:
                        first += 1
                    while last > first and data[last - 1] == SPACE:
                        last -= 1
                    if last > first and (data[first] >= 128 or data[last - 1] >= 128):
                        ok[line] = False
                slot = SLOT_RULE_MSG if record_kind == KIND_RULE_MSG else SLOT_DNS_MSG
                starts[slot, row] = first
                ends[slot, row] = last
                valid[slot, row] = True
                if record_kind == KIND_RULE_MSG:
                    read, nat_hit, fine = _rule_words(data, first, last, word_start, word_end, starts, ends, valid,
                                                      row)
                    m_ok[line] = read
                    m_nat[line] = nat_hit
                    if not fine:
                        ok[line] = False
        elif record_kind in (KIND_RULE, KIND_DNS):
            flat = has_type and not has_time
            for key in range(properties):
                if flat:
                    value_kind = top_kind[TOP_FIRST_PROPERTY + key]
                    first = top_start[TOP_FIRST_PROPERTY + key]
                    last = top_end[TOP_FIRST_PROPERTY + key]
                else:
                    value_kind = nested_kind[NESTED_FIRST_PROPERTY + key]
                    first = nested_start[NESTED_FIRST_PROPERTY + key]
                    last = nested_end[NESTED_FIRST_PROPERTY + key]
                if value_kind != ABSENT and value_kind != NULL:
                    starts[SLOT_FIRST_PROPERTY + key, row] = first
                    ends[SLOT_FIRST_PROPERTY + key, row] = last
                    valid[SLOT_FIRST_PROPERTY + key, row] = True
    return ok, kind, nat, records, no_category, m_ok, m_nat, starts, ends, valid
