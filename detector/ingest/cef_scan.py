r"""Compiled loops (see `compiled.py`) that read CEF and LEEF lines on their bytes, each line once.

`headers` finds each line's `CEF:` / `LEEF:` marker and the end of the header's |-separated fields; `values` then
walks the extension (CEF: `key=value key=value`, a value running to the space before the next key, an unescaped
'=' inside a value's first word kept in it; LEEF: items
cut at the line's delimiter, the key up to the item's first '=') and records, per line and per wanted field,
where the value of its most preferred key is (first occurrence), spaces trimmed; `distinct_values` numbers those
values by their text (a hash table), so that the caller builds one dictionary of distinct texts and no string
per line. Nothing else is copied.

Escapes: a backslash followed by `\`, `|` or `=` makes a pair that separates nothing (in a run of backslashes
the first, third ... escape the byte after them); a backslash before any other byte is an ordinary byte. The
values keep their backslashes: the caller undoes the escapes once per distinct value.

Wanted keys come as a table (`KeyTable`): their lower-case bytes found by a hash, and per key the field
(`slot`) it gives and its preference there (`rank`, 0 first). Keys are matched case-insensitively (ASCII).
Outputs are (lines x fields) int32 positions in the data buffer (a line's fields side by side); -1: no key of
that field on the line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from detector.ingest.compiled import kernel

BACKSLASH, BAR, EQUALS, HASH, SPACE, TAB = 92, 124, 61, 35, 32, 9
CUT_TAB, CUT_BARS, CUT_SPACES = 0, 1, 2  # how `cuts` finds a LEEF line's attributes cut
# How `values` reads a line (`cef_rule`): LEEF's items, CEF's rule, or CEF's rule where only a word without capitals
# is a key (Forcepoint's key=value format: a value holds a directory path's `OU=...,DC=...` unescaped)
LEEF_ITEMS, CEF_RULE, CEF_LOWER_KEYS = 0, 1, 2
NO_RANK = 1 << 30


BUCKETS = 256  # of the keys' hash table: a power of two, a few times the number of keys


def key_hash(key: bytes) -> int:
    """A key's hash, as the kernel computes it on the lower-case bytes."""
    h = len(key)
    for byte in key:
        h = (h * 31 + byte) & 0xFFFFFFFF
    return h


@dataclass
class KeyTable:
    """Wanted keys for the kernels (`fields[n]` lists field n's keys in order of preference), found by hash."""

    key_bytes: np.ndarray  # uint8: the keys, lower case, one after another
    key_starts: np.ndarray  # int64: where each key starts in key_bytes (then the end)
    buckets: np.ndarray  # int64: the keys by hash (open addressing, linear probing; -1: empty)
    slot: np.ndarray  # int64: per key, its field
    rank: np.ndarray  # int64: per key, its preference in its field

    @staticmethod
    def of(fields: Sequence[Sequence[str]]) -> KeyTable:
        keys = [(key.lower().encode(), slot, rank) for slot, keys in enumerate(fields) for rank, key in enumerate(keys)]
        buckets = np.full(BUCKETS, -1, np.int64)
        for number, (key, _, _) in enumerate(keys):
            at = key_hash(key) & (BUCKETS - 1)
            while buckets[at] >= 0:
                at = (at + 1) & (BUCKETS - 1)
            buckets[at] = number
        lengths = [len(key) for key, _, _ in keys]
        return KeyTable(np.frombuffer(b"".join(key for key, _, _ in keys), np.uint8).copy(),
                        np.cumsum([0, *lengths]).astype(np.int64), buckets,
                        np.array([slot for _, slot, _ in keys], np.int64),
                        np.array([rank for _, _, rank in keys], np.int64))

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        return self.key_bytes, self.key_starts, self.buckets, self.slot, self.rank


@kernel
def _pairs(data, p, end):
    r"""Whether the byte at `p` is a backslash escaping the next one (`\\`, `\|`, `\=`): the two are skipped."""
    if data[p] != BACKSLASH or p + 1 >= end:
        return False
    after = data[p + 1]
    return after in (BACKSLASH, BAR, EQUALS)


@kernel
def headers(data, offsets, marker, fields, delimiter_field, marker_at, rest_start, bar_count, field_end):
    """Per line: where its first `marker` (`CEF:`) starts (-1: none), where the text after the header's `fields`
    |-separated fields starts (the line's end when it has fewer), and how many real '|' follow the marker (all
    of them when fewer than `fields`). With `delimiter_field` (LEEF 2.0, whose first header byte is '2'): the
    place of the next real '|' when the field before it has no real '=' (it names the delimiter), else -1."""
    size = len(marker)
    for row in range(len(offsets) - 1):
        start, end = offsets[row], offsets[row + 1]
        marker_at[row], rest_start[row], bar_count[row], field_end[row] = -1, end, 0, -1
        at = -1
        for p in range(start, end - size + 1):
            if data[p] == marker[0]:
                same = True
                for i in range(1, size):
                    if data[p + i] != marker[i]:
                        same = False
                        break
                if same:
                    at = p
                    break
        if at < 0:
            continue
        marker_at[row] = at
        p, bars = at + size, 0
        while p < end and bars < fields:
            if _pairs(data, p, end):
                p += 2
                continue
            if data[p] == BAR:
                bars += 1
            p += 1
        bar_count[row] = bars
        if bars < fields:
            continue
        rest_start[row] = p
        if delimiter_field and data[at + size] == 50:  # '2'
            while p < end:
                if _pairs(data, p, end):
                    p += 2
                    continue
                if data[p] == EQUALS:
                    break
                if data[p] == BAR:
                    field_end[row] = p
                    break
                p += 1


@kernel
def _escaped_tab(data, p, end):
    """Whether `#011` is at `p`: a tab as rsyslog writes it (its default escapes control characters)."""
    return p + 4 <= end and data[p] == HASH and data[p + 1] == 48 and data[p + 2] == 49 and data[p + 3] == 49


@kernel
def _has_upper(data, start, end):
    """Whether `data[start:end]` holds a capital letter (ASCII)."""
    for p in range(start, end):  # noqa: SIM110 (a loop: Numba compiles no generator)
        if 65 <= data[p] <= 90:
            return True
    return False


@kernel
def _key_follows(data, p, end):
    """Whether a key (letters, digits, '_', '-', '.') and '=' start at `p`."""
    q = p
    while q < end and (48 <= data[q] <= 57 or 65 <= data[q] <= 90 or 97 <= data[q] <= 122 or data[q] == 95
                       or data[q] == 45 or data[q] == 46):
        q += 1
    return q > p and q < end and data[q] == EQUALS


@kernel
def cuts(data, offsets, rows, rest_start, cut):
    """For the `rows` given (LEEF lines with a complete header and no delimiter of their own), what their attributes
    are cut at when it is not a tab (`#011`, rsyslog's tab, counts as one): '|' where a real '|' comes before any tab
    and a key follows it (McAfee Web Gateway writes `|devTime=...|src=...|`); spaces where the line has no tab at
    all and a key follows a space (a relay or a copy turned the tabs into spaces), read by CEF's rule."""
    for i in range(len(rows)):
        row = rows[i]
        p, end = rest_start[row], offsets[row + 1]
        cut[i] = CUT_TAB
        spaced = False
        while p < end and data[p] != TAB and not _escaped_tab(data, p, end):
            if _pairs(data, p, end):
                p += 2
                continue
            if data[p] == BAR:
                if _key_follows(data, p + 1, end):
                    cut[i] = CUT_BARS
                spaced = False
                break
            if data[p] == SPACE and not spaced:
                spaced = _key_follows(data, p + 1, end)
            p += 1
        if spaced and p >= end:
            cut[i] = CUT_SPACES


@kernel
def _delimiter_at(data, p, end, delimiters, start, length):
    """Whether the line's delimiter (`delimiters[start:start + length]`) is at `p`, splitting no escape pair."""
    if p + length > end:
        return False
    for i in range(length):  # noqa: SIM110 (a loop: Numba compiles no generator)
        if data[p + i] != delimiters[start + i] or _pairs(data, p + i, end):
            return False
    return True


@kernel
def values(data, offsets, extension_start, cef_rule, delimiter_of_line, delimiters, delimiter_starts, delimiter_lengths,
           key_bytes, key_starts, buckets, slot_of, rank_of, value_start, value_end):
    """Per line, from `extension_start`, the items' keys and values; for each item whose key is wanted, its value
    (spaces trimmed) becomes its field's unless a more preferred key of the field came before.

    CEF (`cef_rule`, per line: CEF_RULE, or CEF_LOWER_KEYS where a key has no capitals): a key is the text after the
    last space before a real '='; its value runs from after the '=' to the space before the next key, the last one
    to the line's end. A real '=' with no space between it
    and the last key's '=' is the value's own (`request=https://a.ai/?q=1`: devices that do not escape it as the
    standard asks).
    LEEF: items are cut at the line's delimiter (number `delimiter_of_line` in `delimiter_starts`/`_lengths` of the
    bytes `delimiters`; where that is a tab, `#011` too); a key runs to the item's first real '=', its value after it;
    an item without '=' is its own key and value.

    (The key lookup is written out here, not called: a call that passes arrays costs ~60 ns, more than the walk.)"""
    best = np.empty(value_start.shape[1], np.int64)  # per field, the rank of the key that gave its value
    longest = np.max(key_starts[1:] - key_starts[:-1])
    for row in range(len(offsets) - 1):
        end = offsets[row + 1]
        for field in range(len(best)):  # (a loop: a slice's assignment costs more per line)
            best[field] = NO_RANK
            value_start[row, field] = -1
            value_end[row, field] = -1
        cut = delimiter_starts[delimiter_of_line[row]]
        cut_length = delimiter_lengths[delimiter_of_line[row]]
        cef = cef_rule[row] != LEEF_ITEMS
        lower_keys = cef_rule[row] == CEF_LOWER_KEYS
        p = extension_start[row]
        word_start = p  # CEF: after the last space or key's '='
        glued = False  # CEF: no space since the last key's '=' (an '=' now is inside that key's value)
        item_start, first_equals = p, -1  # LEEF: the current item and its first '='
        key_from, key_to, value_from = -1, -1, -1  # CEF: the key waiting for its value's end
        first_cut = delimiters[cut]
        tabbed = cut_length == 1 and first_cut == TAB  # `#011` cuts too
        this_cut = cut_length
        while True:
            # 1. find the next item: its key key_from..key_to and value value_from..value_to. (Bytes that can end
            # none are skipped in a tight loop first.)
            if cef:
                while p < end and data[p] != SPACE and data[p] != EQUALS and data[p] != BACKSLASH:
                    p += 1
            else:
                while p < end and data[p] != first_cut and data[p] != EQUALS and data[p] != BACKSLASH and not (
                        tabbed and data[p] == HASH):
                    p += 1
            last = p >= end
            if last:
                value_to = end
                if not cef:
                    key_from, key_to = item_start, first_equals if first_equals >= 0 else end
                    value_from = first_equals + 1 if first_equals >= 0 else item_start
            else:
                byte = data[p]
                if _pairs(data, p, end):
                    p += 2
                    continue
                if cef:
                    if byte == SPACE:
                        word_start = p + 1
                        glued = False
                    if byte != EQUALS or glued or (lower_keys and _has_upper(data, word_start, p)):
                        p += 1
                        continue
                    # a key ends here: the item before it ends before the key's start
                    value_to = word_start - 1
                    next_key = word_start
                    word_start = p + 1
                    glued = True
                else:
                    this_cut = cut_length
                    if tabbed and byte == HASH:
                        this_cut = 4 if _escaped_tab(data, p, end) else 0
                    elif byte != first_cut or (cut_length > 1 and not _delimiter_at(data, p, end, delimiters,
                                                                                       cut, cut_length)):
                        this_cut = 0
                    if this_cut == 0:
                        if byte == EQUALS and first_equals < 0:
                            first_equals = p
                        p += 1
                        continue
                    key_from, key_to = item_start, first_equals if first_equals >= 0 else p
                    value_from = first_equals + 1 if first_equals >= 0 else item_start
                    value_to = p
                    item_start, first_equals = p + this_cut, -1
            # 2. the key's number in the table (-1: not wanted), compared ASCII case-insensitively
            length = key_to - key_from
            k = -1
            if key_from >= 0 and 0 < length <= longest:
                h = length
                for i in range(length):
                    letter = data[key_from + i]
                    h = (h * 31 + (letter + 32 if 65 <= letter <= 90 else letter)) & 0xFFFFFFFF  # (A-Z lowered)
                at = h & (BUCKETS - 1)
                while buckets[at] >= 0:
                    candidate = buckets[at]
                    if key_starts[candidate + 1] - key_starts[candidate] == length:
                        same = True
                        for i in range(length):
                            letter = data[key_from + i]
                            if (letter + 32 if 65 <= letter <= 90 else letter) != key_bytes[key_starts[candidate] + i]:
                                same = False
                                break
                        if same:
                            k = candidate
                            break
                    at = (at + 1) & (BUCKETS - 1)
            # 3. its value, spaces trimmed, for its field if no more preferred key came before
            if k >= 0 and rank_of[k] < best[slot_of[k]]:
                slot = slot_of[k]
                best[slot] = rank_of[k]
                while value_from < value_to and data[value_from] == SPACE:
                    value_from += 1
                while value_to > value_from and data[value_to - 1] == SPACE:
                    value_to -= 1
                value_start[row, slot] = value_from
                value_end[row, slot] = max(value_to, value_from)
            if last:
                break
            if cef:
                key_from, key_to, value_from = next_key, p, p + 1
                p += 1
            else:
                p += this_cut


class DistinctTexts:
    """Values numbered by their text across calls (the chunks of a batch, each on its own buffer): a hash table
    (`_numbered`), grown here when full; the texts are copied into a buffer of their own."""

    def __init__(self) -> None:
        self.size = 1 << 12  # the table's: a power of two, at least twice the number of texts
        self.table, self.hashes = np.full(self.size, -1, np.int64), np.empty(self.size // 2, np.uint64)
        self.offsets, self.text = np.zeros(self.size // 2 + 1, np.int32), np.empty(1 << 16, np.uint8)
        self.count = 0

    def number(self, data: np.ndarray, value_start: np.ndarray, value_end: np.ndarray, codes: np.ndarray,
               present: np.ndarray) -> None:
        """Number the values found in `data` (`value_start`/`_end`: lines x fields): per field and line its number
        into `codes` (fields x lines; -1: none, -2: empty), and per field whether any line has it (`present`)."""
        row, fields = 0, value_start.shape[1]
        while True:
            row, self.count = _numbered(data, value_start, value_end, codes, present, self.table, self.hashes,
                                        self.offsets, self.text, row, self.count)
            if row == len(value_start):
                return
            if 2 * (self.count + fields) > self.size:
                self.size *= 2
                self.table = np.full(self.size, -1, np.int64)
                self.hashes = np.concatenate([self.hashes, np.empty(self.size // 2 - len(self.hashes), np.uint64)])
                self.offsets = np.concatenate([self.offsets, np.zeros(self.size // 2 + 1 - len(self.offsets),
                                                                      np.int32)])
                _placed(self.table, self.hashes, self.count)
            row_bytes = int(np.maximum(value_end[row] - value_start[row], 0).sum())
            if self.offsets[self.count] + row_bytes > len(self.text):
                self.text = np.concatenate([self.text, np.empty(len(self.text) + row_bytes, np.uint8)])

    def texts(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct texts, as Arrow's offsets (int32) and bytes."""
        return self.offsets[:self.count + 1].copy(), self.text[:self.offsets[self.count]].copy()


def distinct_values(data: np.ndarray, value_start: np.ndarray, value_end: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`DistinctTexts` of one buffer: the codes (fields x lines), the fields present, the texts' offsets and bytes."""
    codes = np.empty((value_start.shape[1], len(value_start)), np.int32)
    present = np.zeros(value_start.shape[1], bool)
    texts = DistinctTexts()
    texts.number(data, value_start, value_end, codes, present)
    return codes, present, *texts.texts()


@kernel
def _placed(table, hashes, count):
    """The first `count` texts placed in an (empty) grown table by their hashes."""
    mask = np.uint64(len(table) - 1)
    for number in range(count):
        at = np.int64(hashes[number] & mask)
        while table[at] >= 0:
            at = (at + 1) & (len(table) - 1)
        table[at] = number


@kernel
def _numbered(data, value_start, value_end, codes, present, table, hashes, offsets, text, first_row, count):
    """`DistinctTexts.number` from line `first_row`, `count` texts known: returns where it stopped (a line whose
    texts might not fit in the table or `text`; all lines: done) and the count. The texts are hashed 8 bytes at a
    time and compared byte by byte where hashes and lengths agree (open addressing, linear probing)."""
    lines, fields = value_start.shape
    mask = np.uint64(len(table) - 1)
    for row in range(first_row, lines):
        row_bytes = 0
        for field in range(fields):
            if value_start[row, field] >= 0:
                row_bytes += value_end[row, field] - value_start[row, field]
        if 2 * (count + fields) > len(table) or offsets[count] + row_bytes > len(text):
            return row, count
        for field in range(fields):
            start, end = value_start[row, field], value_end[row, field]
            codes[field, row] = -1
            if start < 0:
                continue
            present[field] = True
            if end <= start:
                codes[field, row] = -2
                continue
            h = np.uint64(end - start)
            for p in range(start, end, 8):
                word = np.uint64(0)
                if p + 8 <= end:  # (a whole word: a loop of fixed length, which the compiler unrolls)
                    for i in range(8):
                        word |= np.uint64(data[p + i]) << np.uint64(8 * i)
                else:
                    for i in range(end - p):
                        word |= np.uint64(data[p + i]) << np.uint64(8 * i)
                h = (h ^ word) * np.uint64(0x9E3779B97F4A7C15)
                h ^= h >> np.uint64(29)
            at = np.int64(h & mask)
            number = -1
            while table[at] >= 0:
                other = table[at]
                if hashes[other] == h and offsets[other + 1] - offsets[other] == end - start:
                    same = True
                    for i in range(end - start):
                        if text[offsets[other] + i] != data[start + i]:
                            same = False
                            break
                    if same:
                        number = other
                        break
                at = (at + 1) & (len(table) - 1)
            if number < 0:  # a new text
                number = count
                table[at] = number
                hashes[number] = h
                for i in range(end - start):
                    text[offsets[count] + i] = data[start + i]
                offsets[count + 1] = offsets[count] + end - start
                count += 1
            codes[field, row] = number
    return lines, count


@kernel
def renumbered(codes, distinct_count, indices, used, used_count):
    """Per field (a row of `codes`: numbers of distinct texts, -1: none), its own numbers for the texts it uses, in
    order of first use: `indices` (the same shape; -1: none) and `used[field, :used_count[field]]` (the texts
    used), so that each field's dictionary holds only its own values."""
    number_of = np.full(distinct_count, -1, np.int32)
    for field in range(codes.shape[0]):
        count = 0
        for row in range(codes.shape[1]):
            code = codes[field, row]
            if code < 0:
                indices[field, row] = -1
                continue
            if number_of[code] < 0:
                number_of[code] = count
                used[field, count] = code
                count += 1
            indices[field, row] = number_of[code]
        used_count[field] = count
        for number in range(count):  # (reset for the next field: as much work as it used)
            number_of[used[field, number]] = -1
