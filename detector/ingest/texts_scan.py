"""Compiled kernels that take the values of a chunk of lines out of its bytes, wherever a format's own kernel found
them (`begin`/`end`/`missing`: each line's span per field, byte positions in the chunk's buffer; see compiled.py):
text fields numbered by their texts (`DistinctTexts`: each distinct text copied out once, the field then
dictionary-encoded as Arrow's `dictionary_encode` would give it; number fields of plain digits read as int64), or,
for fields whose values mostly differ, copied out whole (`copied_texts`) for Arrow to encode.

Written for Zscaler's name=value and CSV feeds (zscaler_scan finds their spans) and used as they are by the generic
JSON walk (json_read) and Umbrella's cloud firewall lines (umbrella_fw).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from detector.ingest.compiled import kernel, load_word, store_word


@kernel
def copied_texts(data, begin, end, missing, fields, base, offsets, out):
    """The values of the fields `fields` (columns of `begin`/`end`/`missing`, see the module docstring) copied out of
    `data` one after the other per field: field k's from `out[base[k]]`, `offsets[k]` its Arrow offsets (from 0).
    Line by line, each line's values while it is in the cache, eight bytes at a time (`out` needs eight bytes to
    spare after each field's values; the bytes past a value are overwritten by the next one). Where Arrow's `take`
    of each field's spans went down the whole chunk once per field: measured ~540 -> ~150 ns a line for 17 fields
    of the benchmark's name=value lines."""
    safe = len(data) - 8  # (a whole word loads from here on; the buffer's last bytes go one by one)
    cursor = base.copy()
    for k in range(len(fields)):
        offsets[k, 0] = 0
    for line in range(begin.shape[0]):
        for k in range(len(fields)):
            field = fields[k]
            at = cursor[k]
            if not missing[line, field]:
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
                cursor[k] = at
            offsets[k, line + 1] = at - base[k]


# Multiplier of the texts' hash (2^64 / the golden ratio, as in Fibonacci hashing).
MIXER = np.uint64(0x9E3779B97F4A7C15)
# A hash table slot's second word: entry number + 1 (0: a free slot), the entry's number in its field, its field.
ENTRY_BITS = np.uint64(28)
ENTRY_MASK = np.uint64((1 << 28) - 1)
FIELD_SHIFT = np.uint64(56)


@kernel
def _text_bytes(begin, end, missing, texts, line):
    """The bytes of a line's values of the text fields `texts` (what `numbered_fields` may copy of it)."""
    total = 0
    for k in range(len(texts)):
        if texts[k] >= 0 and not missing[line, texts[k]]:
            total += max(np.int64(end[line, texts[k]]) - np.int64(begin[line, texts[k]]), 0)
    return total


@kernel
def numbered_fields(data, begin, end, missing, texts, numbers, codes, values, plain, table, owner, offsets, text,
                    known, first_line, count):
    """The fields of a chunk's lines (columns of `begin`/`end`/`missing`, see the module docstring), line by line while
    each line is in the cache: the text fields `texts` numbered by their text, per field in order of first
    appearance, into `codes` (one row per text field, -1 where missing; a field given as -1 is passed over); the
    number fields `numbers` read where plain digits (1 to 18: they fit an int64, and mean what a cast reads) into
    `values` (one row per number field), `plain[k]` set False where a value of field k is not (the caller then reads
    its text; set True before the first call).
    The texts are numbered across calls (the chunks of a slice of lines, each on a buffer of its own) in a hash table
    (open addressing, linear probing): `table` holds two words a slot, the text's hash and its entry number + 1 (0: a
    free slot), number in its field and field (ENTRY_BITS, FIELD_SHIFT), so that a probe reads one cache line; an
    entry's field is also in `owner`, its bytes are copied to `text` at `offsets`; `known[k]` counts text field k's
    texts. Texts are hashed and compared eight bytes at a time. Starts at line `first_line` with `count` entries;
    returns the line where it stopped (all: done; else the table or `text` might not hold that line's texts: the
    caller grows them and calls again) and the entry count."""
    safe = len(data) - 8  # (a whole word loads from here on; the buffer's last bytes are read one by one)
    slots = len(table) // 2
    mask = np.uint64(slots - 1)
    for line in range(first_line, begin.shape[0]):
        if 2 * (count + len(texts)) > slots or offsets[count] + _text_bytes(begin, end, missing, texts, line) + 8 \
                > len(text):
            return line, count
        for k in range(len(texts)):
            field = texts[k]
            if field < 0:  # (a field not numbered in this chunk)
                continue
            if missing[line, field]:
                codes[k, line] = -1
                continue
            start = np.int64(begin[line, field])
            length = max(np.int64(end[line, field]) - start, 0)
            h = np.uint64(length) ^ (np.uint64(k + 1) * MIXER)
            j = 0
            while j < length:
                rest = length - j
                if start + j <= safe:
                    word = load_word(data, start + j)
                    if rest < 8:
                        word &= (np.uint64(1) << np.uint64(rest * 8)) - np.uint64(1)
                else:
                    word = np.uint64(0)
                    for i in range(min(8, rest)):
                        word |= np.uint64(data[start + j + i]) << np.uint64(8 * i)
                h = (h ^ word) * MIXER
                j += 8
            h ^= h >> np.uint64(29)
            at = np.int64(h & mask)
            code = -1
            while True:
                entry = table[2 * at + 1]
                if entry == 0:
                    break
                if table[2 * at] == h and (entry >> FIELD_SHIFT) == np.uint64(k):
                    other = np.int64(entry & ENTRY_MASK) - 1
                    earlier = offsets[other]
                    same = offsets[other + 1] - earlier == length
                    i = 0
                    while same and i + 8 <= length and start + i <= safe:
                        if load_word(data, start + i) != load_word(text, earlier + i):
                            same = False
                        i += 8
                    if same:
                        for rest_at in range(i, length):
                            if data[start + rest_at] != text[earlier + rest_at]:
                                same = False
                                break
                    if same:
                        code = np.int64((entry >> ENTRY_BITS) & ENTRY_MASK)
                        break
                at = np.int64((at + 1) & mask)
            if code < 0:  # a new text
                code = known[k]
                known[k] += 1
                table[2 * at] = h
                table[2 * at + 1] = np.uint64(count + 1) | (np.uint64(code) << ENTRY_BITS) \
                    | (np.uint64(k) << FIELD_SHIFT)
                owner[count] = k
                into = offsets[count]
                for i in range(length):
                    text[into + i] = data[start + i]
                offsets[count + 1] = into + length
                count += 1
            codes[k, line] = code
        for k in range(len(numbers)):
            field = numbers[k]
            values[k, line] = 0
            if missing[line, field]:
                continue
            length = end[line, field] - begin[line, field]
            if length < 1 or length > 18:
                plain[k] = False
                continue
            value = 0
            for at in range(begin[line, field], end[line, field]):
                digit = np.int64(data[at]) - 48
                if digit < 0 or digit > 9:
                    plain[k] = False
                    break
                value = value * 10 + digit
            values[k, line] = value
    return begin.shape[0], count


@kernel
def placed_entries(table, grown):
    """The entries of `table` placed in `grown` (empty, twice as many slots) by their hashes."""
    mask = np.uint64(len(grown) // 2 - 1)
    for slot in range(len(table) // 2):
        if table[2 * slot + 1] != 0:
            at = np.int64(table[2 * slot] & mask)
            while grown[2 * at + 1] != 0:
                at = np.int64((at + 1) & mask)
            grown[2 * at], grown[2 * at + 1] = table[2 * slot], table[2 * slot + 1]


class DistinctTexts:
    """A slice's text fields numbered by their texts across its chunks (`numbered_fields`): each distinct text is
    copied out of the lines once, where Arrow's `dictionary_encode` hashed a copy of every value. `dictionaries`
    gives each field's texts in order of first appearance (as `dictionary_encode` orders them)."""

    def __init__(self) -> None:
        self.table = np.zeros(2 << 12, np.uint64)
        self.owner = np.empty(1 << 11, np.int32)
        self.offsets = np.zeros((1 << 11) + 1, np.int64)
        self.text = np.empty(1 << 16, np.uint8)
        self.known = np.zeros(0, np.int64)
        self.copied = np.zeros(0, bool)
        self.count = 0

    def many_texts(self, fields: int, read_lines: int, share: int) -> np.ndarray:
        """Which text fields have more than one distinct text per `share` of the `read_lines` lines read so far, or
        had before: to be copied out from now on, not numbered."""
        if len(self.known) < fields:
            self.known = np.concatenate([self.known, np.zeros(fields - len(self.known), np.int64)])
            self.copied = np.concatenate([self.copied, np.zeros(fields - len(self.copied), bool)])
        self.copied |= self.known[:fields] * share > read_lines
        return self.copied[:fields].copy()

    def read(self, data: np.ndarray, begin: np.ndarray, end: np.ndarray, missing: np.ndarray, texts: np.ndarray,
             numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A chunk's fields (`numbered_fields`): the text fields' codes, the number fields' values, and whether each
        number field was all plain digits."""
        if len(self.known) < len(texts):
            self.known = np.concatenate([self.known, np.zeros(len(texts) - len(self.known), np.int64)])
        codes = np.empty((len(texts), begin.shape[0]), np.int32)
        values = np.empty((len(numbers), begin.shape[0]), np.int64)
        plain = np.ones(len(numbers), bool)
        line = 0
        while True:
            line, self.count = numbered_fields(
                data, begin, end, missing, texts, numbers, codes, values, plain, self.table, self.owner, self.offsets,
                self.text, self.known, line, self.count)
            if line == begin.shape[0]:
                return codes, values, plain
            if 2 * (self.count + len(texts)) > len(self.table) // 2:
                self._grow_table()
            needed = int(self.offsets[self.count] + _text_bytes(begin, end, missing, texts, line) + 8)
            if needed > len(self.text):
                self.text = np.concatenate([self.text, np.empty(max(needed, 2 * len(self.text)) - len(self.text),
                                                                np.uint8)])

    def _grow_table(self) -> None:
        grown = np.zeros(2 * len(self.table), np.uint64)
        placed_entries(self.table, grown)
        self.table = grown
        entries = len(grown) // 4  # (at most half the slots hold an entry)
        self.owner = np.concatenate([self.owner, np.empty(entries - len(self.owner), np.int32)])
        self.offsets = np.concatenate([self.offsets, np.zeros(entries + 1 - len(self.offsets), np.int64)])

    def dictionaries(self, fields: int) -> list[pa.Array]:
        """Each text field's distinct texts (as numbered: its codes index them)."""
        offsets = self.offsets[:self.count + 1].astype(np.int32)  # (a slice's texts: at most its lines' bytes)
        every = pa.Array.from_buffers(pa.string(), self.count, [
            None, pa.py_buffer(offsets), pa.py_buffer(self.text[:self.offsets[self.count]].copy())])
        owner = self.owner[:self.count]
        return [every.filter(pa.array(owner == k)) for k in range(fields)]
