"""Where the values of wanted keys are in ProxySG `key=value` lines, and those values cut out and unquoted: one
compiled pass over each line's bytes (instead of a quote-aware Arrow split into ~25 tokens a line).

The rules (the same as the Arrow split they replace, `arrow_ops.split_quoted` + `quoted_value`):
- A line holding `Bluecoat|` (any case) is QRadar's: its tokens are separated by `|`, values are taken as written.
- Any other line's tokens are separated by spaces outside double quotes; `""` is a quote mark inside the text (it
  opens or closes nothing), a lone `"` opens or closes a quoted part.
- A token's key is its text before its first `=`, compared in ASCII lower case with `_` read as `-`; tokens
  without `=` name nothing. The first token naming a field (by any of its keys) in a line counts.
- A space-separated value is unquoted: the surrounding quote marks are dropped when it starts and ends with a lone
  `"` (two marks or more), `""` is `"`, and a value that is exactly `""` is empty; a quote left open is closed
  at the line's end. (Bytes 0x01 and 0x02, the
  Arrow split's placeholders, are read back as `"` and a space, as it did.)

How: `_value_spans` first finds a line's `"`, spaces, `=` and `|` eight bytes at a time (64-bit words, as
`key_values_scan` does), then reads the head, the layout and the tokens from those places only (~50 of a line's ~500
bytes); a line after one of QRadar's layout is first read as one: only its `|` are found at first, and each token's
`=` when it is read. A token's key is looked up by a hash of its length and its first and last 8 bytes (read as
64-bit words, folded to lower case eight bytes at a time) and compared word by word with the one or two keys in its
slot, unless the line before's token of the same number was written with the same bytes (a key of up to 16 bytes): a
file's lines mostly hold their keys in one order (the appliance's custom format), so most tokens take the key found
for the line before without folding, hashing or comparing. It notes which values hold a quote mark (a value written
`"text"` is noted as the text inside), so that `_gathered` copies the others as they are, without looking at their
bytes again; and for the fields asked for encoded, it writes each distinct value once and each line's number for it
(a hash table per field), so that no copy of every value is made to be hashed again by Arrow.

CPU per 262,144 benchmark lines (process_time, 2-core machine under load): finding the pairs took 296 ms (Splunk kv)
and 178 ms (QRadar) looking at every byte, ~160 ms each then, of which finding the bytes is ~55-75 ms; copying the
values and Arrow's dictionary encoding of 18 fields took ~345 ms with the pair-finding, ~300 ms then. Of the ~165 ms
`_value_spans` took (either sample), ~95 ms were the keys' look-ups and ~35 ms finding the bytes and heads (measured
by leaving each out). With the line before's keys, and QRadar's `|` alone, it takes ~105 ms on QRadar lines (1M
lines, 3 passes interleaved with the code before, in a thread: 1.92-1.98 -> 1.20-1.24 s); ~160 ms still on the
benchmark's Splunk lines (1.93 -> 1.85 s), whose three layouts alternate line by line, so that each token number's
key changes at every line: a real appliance's file keeps one order.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba.cpython.unsafe.numbers import trailing_zeros

from detector.ingest.compiled import WantedKeys, inlined, kernel
from detector.ingest.key_values import spans_of
from detector.ingest.key_values_scan import arrow_bytes

_QUOTE, _SPACE, _EQUALS, _PIPE = ord('"'), ord(" "), ord("="), ord("|")
_UNDERSCORE, _DASH, _UPPER_A, _UPPER_Z = ord("_"), ord("-"), ord("A"), ord("Z")
_QUOTE_HOLDER, _SPACE_HOLDER = 1, 2  # the Arrow split's placeholders for `""` and a quoted space
_MARK = np.frombuffer(b"bluecoat", np.uint8)  # (before a `|`: QRadar's layout)
_SPLV = np.frombuffer(b"SPLV", np.uint8)
_DOT, _ZERO, _NINE = ord("."), ord("0"), ord("9")
# RE2's `\s` (no vertical tab), and the bytes no word before an `=` holds in the head's pattern (`[^\s|="]`)
_WHITESPACE = np.zeros(256, np.bool_)
_WHITESPACE[[ord(c) for c in "\t\n\f\r "]] = True
_ENDS_WORD = _WHITESPACE.copy()
_ENDS_WORD[[_PIPE, _EQUALS, _QUOTE]] = True
# The bytes that end, quote or split a token (the others are passed over), one by one and eight at a time (each in
# all eight bytes of a 64-bit word; a space and a quote mark differ only in the bit 0x02)
_SPECIAL = np.zeros(256, np.uint8)
_SPECIAL[[_QUOTE, _SPACE, _EQUALS, _PIPE]] = 1
_EVERY_BYTE = np.uint64(0x0101010101010101)
_QUOTES, _EQUALS_WORD, _PIPES = (np.uint64(byte) * _EVERY_BYTE for byte in (_QUOTE, _EQUALS, _PIPE))
_BIT_TWOS = np.uint64(0x02) * _EVERY_BYTE
_LOW_TWO_BITS = np.uint64(0x03) * _EVERY_BYTE  # (bytes 0-3 with these set are all 0x03)
_LOW_SEVEN_BITS = np.uint64(0x7F7F7F7F7F7F7F7F)
_TOP_BITS = np.uint64(0x8080808080808080)
_FROM_A, _AFTER_Z = np.uint64(0x80 - _UPPER_A) * _EVERY_BYTE, np.uint64(0x80 - _UPPER_Z - 1) * _EVERY_BYTE
_UNDERSCORES = np.uint64(_UNDERSCORE) * _EVERY_BYTE
_UNDERSCORE_TO_DASH = np.uint64(_UNDERSCORE ^ _DASH)
# The keys' table: a key's slot is a hash of its length and its first and last 8 bytes (constants of splitmix64)
_GOLDEN, _MIX = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9)
_SLOT_BITS = 10
_SLOT_SHIFT = np.uint64(64 - _SLOT_BITS)
# The kinds of a value's pieces when it is unquoted
_TEXT, _TOGGLE, _LITERAL_QUOTE = 0, 1, 2


class Scanned:
    """What the scan of a slice's lines found: the values of the fields asked for one by one (`columns`) or
    dictionary-encoded (`encoded`), and each line's head."""

    def __init__(self, text: pa.Array, keys: WantedKeys, field_of_key: np.ndarray, fields: Sequence[str],
                 columns: Sequence[str], encoded: Sequence[str] = ()) -> None:
        """Scan `text` (a string array; nothing is copied) for `keys`; key `keys.keys[k]` names field
        `fields[field_of_key[k]]`; the first key of a field in a line counts. The values of the fields named in
        `columns` come as text, those named in `encoded` as `pyarrow.compute.dictionary_encode` gives them
        (distinct values in the order first seen, nulls where a line lacks the field)."""
        self.text = text
        data, self.offsets = arrow_bytes(text)
        lines = len(text)
        begin = np.empty((lines, len(fields)), np.int32)
        end = np.empty((lines, len(fields)), np.int32)
        plain = np.empty((lines, len(fields)), np.bool_)  # the value is its bytes as written (no quote to undo)
        piped = np.empty(lines, np.bool_)
        self.head_end = np.empty(lines, np.int32)  # -1: no head (see `head`)
        words = data[:len(data) // 8 * 8].view(np.uint64)
        # (the word at each byte: a view with a stride of one byte, over all but the last 7 bytes)
        unaligned = np.ndarray((max(len(data) - 7, 0),), np.uint64, data if len(data) >= 8 else bytes(8), 0, (1,))
        table = _key_table(keys.keys)
        size = np.zeros(len(fields), np.int64)
        longest = _value_spans(data, words, unaligned, self.offsets, _MARK, _SPLV, *table,
                               field_of_key.astype(np.int64), begin, end, plain, piped, self.head_end, size)
        kept = np.array([field in columns or field in encoded for field in fields], np.bool_)
        to_encode = np.array([field in encoded for field in fields], np.bool_)
        if to_encode.any():
            to_encode &= ~_mostly_distinct(data, unaligned, begin, end, plain, to_encode, longest)
        region = np.concatenate([[0], np.cumsum(np.where(kept, size, 0))])
        # The buffers come from Arrow's memory pool, which keeps freed memory for the next slice: fresh pages (as
        # numpy's or Numba's allocations of ~100 MiB get) cost ~15-20 ms a slice in page faults. The text has 8
        # bytes more, so that a word may be read at any of its bytes.
        buffer = pa.allocate_buffer(int(region[-1]) + 8)
        text_bytes = np.frombuffer(buffer, np.uint8)
        room = (lines + 1) * 4
        offsets_buffer = pa.allocate_buffer(len(fields) * room)
        indices_buffer = pa.allocate_buffer(max(len(fields) * lines * 4, 1))
        bitmap = (lines + 7) // 8
        valid_buffer = pa.allocate_buffer(max(len(fields) * bitmap, 1))
        valid = np.frombuffer(valid_buffer, np.uint8)[:len(fields) * bitmap].reshape(len(fields), bitmap)
        valid[:] = 0
        offsets = np.frombuffer(offsets_buffer, np.int32).reshape(len(fields), lines + 1)
        nulls, distinct = _gathered(
            data, unaligned, begin, end, plain, kept, to_encode, region, longest, text_bytes,
            np.ndarray((len(text_bytes) - 7,), np.uint64, text_bytes, 0, (1,)), offsets, valid,
            np.frombuffer(indices_buffer, np.int32)[:len(fields) * lines].reshape(len(fields), lines))
        self.columns: dict[str, pa.Array] = {}
        self.encoded: dict[str, pa.DictionaryArray] = {}
        for number, field in enumerate(fields):
            if not kept[number]:
                continue
            validity = valid_buffer.slice(number * bitmap, bitmap) if nulls[number] else None
            if field in encoded and not to_encode[number]:  # (mostly distinct: encoded by Arrow, one at a time)
                self.encoded[field] = pc.dictionary_encode(self._text(lines, offsets_buffer.slice(
                    number * room, room), buffer, validity, int(nulls[number])))
            elif to_encode[number]:
                # (the distinct values copied out, so that the events keep them, not the slice's whole buffer)
                bounds = offsets[number, :distinct[number] + 1]
                values = pa.StringArray.from_buffers(int(distinct[number]), pa.py_buffer(bounds - bounds[0]),
                                                     pa.py_buffer(text_bytes[bounds[0]:bounds[-1]].copy()))
                numbers = pa.Array.from_buffers(pa.int32(), lines, [validity, indices_buffer.slice(
                    number * lines * 4, lines * 4)], int(nulls[number]))
                self.encoded[field] = pa.DictionaryArray.from_arrays(numbers, values)
            else:
                self.columns[field] = self._text(lines, offsets_buffer.slice(number * room, room), buffer, validity,
                                                 int(nulls[number]))

    @staticmethod
    def _text(lines: int, offsets: pa.Buffer, buffer: pa.Buffer, validity: pa.Buffer | None, nulls: int) -> pa.Array:
        if nulls == lines:
            return pa.nulls(lines, pa.string())
        return pa.StringArray.from_buffers(lines, offsets, buffer, validity, nulls)

    def head(self, rows: np.ndarray) -> pa.Array:
        """The text of lines `rows` before `SPLV<version> `, `Bluecoat|` (any case) or the first `word=`
        (`^(.*?)(?:SPLV[\\d.]*\\s|(?i:bluecoat)\\||[^\\s|="]+=)`), empty where none of them is found."""
        start = self.offsets[:-1][rows]
        end = self.head_end[rows]
        return spans_of(self.text, start, np.where(end < 0, start, end))


@kernel
def _bytes_equal(word, repeated):
    """The top bit of each byte of `word` equal to the byte `repeated` fills, the other bits 0 (as
    `key_values_scan._bytes_equal`: the zero bytes of `word ^ repeated` are the only ones with neither their top
    bit nor a carry into it when their low seven bits are added to 0x7F)."""
    other = word ^ repeated
    return ~(((other & _LOW_SEVEN_BITS) + _LOW_SEVEN_BITS) | other | _LOW_SEVEN_BITS)


# Fields are dictionary-encoded by the scan unless more than half the values of a slice's first SAMPLE_LINES lines
# differ (URLs, durations, counts): with many such fields, tables as large as the slice each, read line by line
# all at once, miss the CPU's caches (~15% slower than Arrow's encoding, one field after the other, on lines whose
# every number differs).
SAMPLE_LINES = 4096


def _mostly_distinct(data: np.ndarray, unaligned: np.ndarray, begin: np.ndarray, end: np.ndarray, plain: np.ndarray,
                     candidates: np.ndarray, longest: int) -> np.ndarray:
    """Which of the `candidates` fields have more distinct values than half their values in the first
    SAMPLE_LINES lines."""
    rows = min(len(begin), SAMPLE_LINES)
    begin, end, plain = begin[:rows], end[:rows], plain[:rows]
    found = begin >= 0
    size = np.where(found & candidates, end - begin + 1, 0).sum(axis=0)
    region = np.concatenate([[0], np.cumsum(size)])
    text = np.empty(int(region[-1]) + 8, np.uint8)
    fields = begin.shape[1]
    nulls, distinct = _gathered(data, unaligned, begin, end, plain, candidates, candidates, region, longest, text,
                                np.ndarray((len(text) - 7,), np.uint64, text, 0, (1,)),
                                np.empty((fields, rows + 1), np.int32), np.zeros((fields, (rows + 7) // 8), np.uint8),
                                np.empty((fields, rows), np.int32))
    return candidates & (2 * distinct > rows - nulls)


@functools.lru_cache(maxsize=8)
def _key_table(keys: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The keys as `_value_spans` looks them up: each one's bytes as 64-bit words (zeros after its end), its
    length, and per slot (`_SLOT_BITS` of a hash of the length and the first and last words) the keys there
    (`slot_key[slot_start[slot]:slot_start[slot + 1]]`)."""
    encoded = [key.encode() for key in keys]
    most = max((len(key) + 7) // 8 for key in encoded) if encoded else 1
    key_words = np.zeros((len(encoded), most), np.uint64)
    for number, key in enumerate(encoded):
        padded = key + bytes(-len(key) % 8)
        key_words[number, :len(padded) // 8] = np.frombuffer(padded, np.uint64) if padded else []
    key_length = np.array([len(key) for key in encoded], np.int64)
    count = (key_length + 7) // 8
    last = key_words[np.arange(len(encoded)), np.maximum(count - 1, 0)]
    with np.errstate(over="ignore"):
        slot = (((key_words[:, 0] ^ (last * _GOLDEN) ^ key_length.astype(np.uint64)) * _MIX) >> _SLOT_SHIFT
                ).astype(np.int64)
    slot_key = np.argsort(slot, kind="stable").astype(np.int64)
    slot_start = np.searchsorted(slot[slot_key], np.arange((1 << _SLOT_BITS) + 1)).astype(np.int64)
    return key_words, key_length, slot_start, slot_key


@kernel
def _tail_word(data, at):
    """The bytes of `data` from `at` to its end (fewer than 8) as a 64-bit word (little-endian), zeros after them:
    what `unaligned[at]` would be (`_value_spans` reads words of a key there, and masks what is after it)."""
    word = np.uint64(0)
    for i in range(len(data) - at):
        word |= np.uint64(data[at + i]) << np.uint64(8 * i)
    return word


@kernel
def _folded(word):
    """`word` with its ASCII capitals in lower case and its `_` as `-` (the keys as they are compared): a byte below
    0x80 is a capital when adding 0x3F to it sets its top bit and adding 0x25 does not (no carries: both sums stay
    below 0x100)."""
    seven = word & _LOW_SEVEN_BITS
    capital = ((seven + _FROM_A) & ~(seven + _AFTER_Z)) & ~word & _TOP_BITS
    underscore = _bytes_equal(word, _UNDERSCORES) >> np.uint64(7)
    return (word | (capital >> np.uint64(2))) ^ (underscore * _UNDERSCORE_TO_DASH)


@inlined
def _mark_before(data, place, line_start, mark):
    """Whether the line's bytes just before `place` (from `line_start` on) spell `mark`, in any case (ASCII)."""
    if place - len(mark) < line_start:
        return False
    for i in range(len(mark)):
        letter = data[place - len(mark) + i]
        if _UPPER_A <= letter <= _UPPER_Z:
            letter += 32
        if letter != mark[i]:
            return False
    return True


@kernel
def _value_spans(data, words, unaligned, offsets, mark, splv, key_words, key_length, slot_start, slot_key, field_of_key,
                 begin, end, plain, piped, head_end, size):
    """The spans of the wanted fields' values (`begin`, `end`, -1: none), whether each is `plain`, whether each line is
    `piped` and its head's end; `size` per field: its values' lengths plus one each (room for them all once
    unquoted). Returns the longest line's length."""
    lines = len(offsets) - 1
    longest_line = 0
    for line in range(lines):
        longest_line = max(longest_line, offsets[line + 1] - offsets[line])
    candidate = np.empty(longest_line + 1, np.int64)  # the places of a line's `"`, spaces, `=` and `|`
    longest = key_words.shape[1] * 8
    guess_pipe = False  # (the line before was of QRadar's layout)
    # each token number's key as last looked up: its length (-1: none yet), first and last words, and which key
    memo_length = np.full(longest_line + 2, -1, np.int64)
    memo_first = np.zeros(longest_line + 2, np.uint64)
    memo_last = np.zeros(longest_line + 2, np.uint64)
    memo_key = np.zeros(longest_line + 2, np.int64)
    for line in range(lines):
        line_start, line_end = offsets[line], offsets[line + 1]
        begin[line, :] = -1
        # A line of QRadar's layout after another: only its `|` are looked for at first (pass 1 below notes every
        # space and quote mark too, which such a line's tokens pass over; each token's `=` is found when it is read),
        # then its head as below. Without the mark it is read as any other line.
        fast = False
        if guess_pipe:
            found = 0
            at = line_start
            while at < line_end and at & 7:
                candidate[found] = at
                found += np.int64(data[at] == _PIPE)
                at += 1
            while at + 8 <= line_end:
                hits = _bytes_equal(words[at >> 3], _PIPES)
                while hits:
                    candidate[found] = at + np.int64(trailing_zeros(hits) >> np.uint64(3))
                    found += 1
                    hits &= hits - np.uint64(1)
                at += 8
            while at < line_end:
                candidate[found] = at
                found += np.int64(data[at] == _PIPE)
                at += 1
            mark_at = line_end
            for item in range(found):
                place = candidate[item]
                if _mark_before(data, place, line_start, mark):
                    mark_at = place - len(mark)
                    break
            if mark_at < line_end:
                fast = True
                low = np.uint64(0)
                word_at = line_end  # (the first `=` after a word byte, then the start of that word)
                at = line_start
                while at < line_end and word_at == line_end:
                    if at & 7 == 0 and at + 8 <= line_end:
                        hits = _bytes_equal(words[at >> 3], _EQUALS_WORD)
                        while hits:
                            place = at + np.int64(trailing_zeros(hits) >> np.uint64(3))
                            if place > line_start and not _ENDS_WORD[data[place - 1]]:
                                word_at = place
                                break
                            hits &= hits - np.uint64(1)
                        at += 8
                    else:
                        if data[at] == _EQUALS and at > line_start and not _ENDS_WORD[data[at - 1]]:
                            word_at = at
                        at += 1
                if word_at < line_end:
                    word_at -= 1
                    while word_at > line_start and not _ENDS_WORD[data[word_at - 1]]:
                        word_at -= 1
        if not fast:
            # pass 1: the places of the bytes that may matter, eight bytes at a time (`words`: `data` as 64-bit
            # words), byte by byte only before the line's first whole word and after its last; and whether the line
            # holds a byte below 4 (the placeholders 0x01 and 0x02 among them: its values are all unquoted with care)
            found = 0
            low = np.uint64(0)
            at = line_start
            while at < line_end and at & 7:
                candidate[found] = at
                found += _SPECIAL[data[at]]  # (written always, kept only if wanted: no branch per byte)
                low |= np.uint64(data[at] < 4)
                at += 1
            while at + 8 <= line_end:
                word = words[at >> 3]
                hits = (_bytes_equal(word | _BIT_TWOS, _QUOTES) | _bytes_equal(word, _EQUALS_WORD)
                        | _bytes_equal(word, _PIPES))
                low |= _bytes_equal(word | _LOW_TWO_BITS, _LOW_TWO_BITS)
                while hits:
                    candidate[found] = at + (trailing_zeros(hits) >> 3)
                    found += 1
                    hits &= hits - np.uint64(1)
                at += 8
            while at < line_end:
                candidate[found] = at
                found += _SPECIAL[data[at]]
                low |= np.uint64(data[at] < 4)
                at += 1
            # the head: the first place where `SPLV[\d.]*\s`, `bluecoat|` (any case) or `[^\s|="]+=` matches. A word
            # before an `=` starts a match at its first byte (the run of word bytes up to it); the first `|` after
            # `bluecoat` starts one 8 bytes before it; SPLV is looked for only before the earlier of those.
            word_at = line_end
            mark_at = line_end
            for item in range(found):
                place = candidate[item]
                byte = data[place]
                if byte == _EQUALS and word_at == line_end and place > line_start and not _ENDS_WORD[data[place - 1]]:
                    word_at = place - 1
                    while word_at > line_start and not _ENDS_WORD[data[word_at - 1]]:
                        word_at -= 1
                elif byte == _PIPE and mark_at == line_end and _mark_before(data, place, line_start, mark):
                    mark_at = place - len(mark)
                if mark_at < line_end and word_at < line_end:
                    break
        pipe = mark_at < line_end  # QRadar's layout: a `bluecoat|` anywhere
        head_end[line] = min(word_at, mark_at) if min(word_at, mark_at) < line_end else -1
        for at in range(line_start, min(word_at, mark_at)):
            if at + len(splv) < line_end and data[at] == splv[0]:
                same = True
                for i in range(len(splv)):
                    if data[at + i] != splv[i]:
                        same = False
                        break
                if same:
                    after = at + len(splv)
                    while after < line_end and (data[after] == _DOT or _ZERO <= data[after] <= _NINE):
                        after += 1
                    if after < line_end and _WHITESPACE[data[after]]:
                        head_end[line] = at
                        break
        piped[line] = pipe
        guess_pipe = pipe
        # the tokens: [token, separator), the key before the first `=` (at `equals`)
        token = line_start
        equals = -1
        inside = False
        quoted = low > 0  # a quote mark (or a placeholder) in the value: unquoted with care
        toggles = 0  # the value's lone quote marks (not `""`): the first and the last at `opened`, `closed`
        opened = closed = -1
        item = 0
        number = 0  # (the token's number in the line)
        while item <= found:
            place = candidate[item] if item < found else line_end
            item += 1
            if fast:  # (each place a `|`) the token's first `=`, looked for only as far as a key may reach
                equals = -1
                limit = min(place, token + longest + 1)
                at = token
                while at < limit:
                    hits = _bytes_equal(unaligned[at] if at < len(unaligned) else _tail_word(data, at), _EQUALS_WORD)
                    if hits:
                        equals = at + np.int64(trailing_zeros(hits) >> np.uint64(3))
                        equals = equals if equals < limit else -1
                        break
                    at += 8
            elif place < line_end:
                byte = data[place]
                if byte == _EQUALS:
                    if equals < 0:
                        equals = place
                    continue
                if pipe:
                    if byte != _PIPE:
                        continue
                elif byte == _QUOTE:
                    quoted = quoted or equals >= 0
                    if place + 1 < line_end and data[place + 1] == _QUOTE:  # `""`: a quote mark in the text
                        item += 1  # (the next place is that second mark)
                        toggles += 3 * (equals >= 0)  # (such a value is unquoted with care)
                        continue
                    inside = not inside
                    if equals >= 0:
                        toggles += 1
                        opened = place if toggles == 1 else opened
                        closed = place
                    continue
                elif byte != _SPACE or inside:
                    continue
            length = equals - token
            if equals >= 0 and 0 < length <= longest:
                # the key's first and last 8 bytes (as 64-bit words, zeros after its end) are those of the line
                # before's token of this number (a file's lines mostly hold their keys in one order): the same key,
                # when it has no other bytes. Else, folded to lower case with `_` as `-`, they pick the keys it may
                # be; those are compared word by word.
                count = (length + 7) >> 3
                first = unaligned[token] if token < len(unaligned) else _tail_word(data, token)
                if length < 8:
                    first &= (np.uint64(1) << np.uint64(8 * length)) - np.uint64(1)
                last = first
                if count > 1:
                    at = token + 8 * (count - 1)
                    last = unaligned[at] if at < len(unaligned) else _tail_word(data, at)
                    if length & 7:
                        last &= (np.uint64(1) << np.uint64(8 * (length & 7))) - np.uint64(1)
                if count <= 2 and memo_length[number] == length and memo_first[number] == first and \
                        memo_last[number] == last:
                    key = memo_key[number]
                else:
                    key = -1
                    folded_first = _folded(first)
                    folded_last = _folded(last) if count > 1 else folded_first
                    slot = np.int64(((folded_first ^ (folded_last * _GOLDEN) ^ np.uint64(length)) * _MIX)
                                    >> _SLOT_SHIFT)
                    for entry in range(slot_start[slot], slot_start[slot + 1]):
                        candidate_key = slot_key[entry]
                        if key_length[candidate_key] != length or key_words[candidate_key, 0] != folded_first or \
                                key_words[candidate_key, count - 1] != folded_last:
                            continue
                        same = True
                        for word in range(1, count - 1):
                            at = token + 8 * word
                            if _folded(unaligned[at] if at < len(unaligned) else _tail_word(data, at)) != \
                                    key_words[candidate_key, word]:
                                same = False
                                break
                        if same:
                            key = candidate_key
                            break
                    if count <= 2:
                        memo_length[number], memo_first[number], memo_last[number] = length, first, last
                        memo_key[number] = key
                if key >= 0:
                    field = field_of_key[key]
                    if begin[line, field] < 0:
                        begin[line, field] = equals + 1
                        end[line, field] = place
                        plain[line, field] = pipe or not quoted
                        if quoted and low == 0 and toggles == 2 and opened == equals + 1 and closed == place - 1:
                            # `"text"` (no other quote mark): the text as written
                            begin[line, field] = equals + 2
                            end[line, field] = place - 1
                            plain[line, field] = True
                        size[field] += place - equals  # (a quote left open is closed)
            number += 1
            token = place + 1
            equals = -1
            quoted = low > 0
            toggles = 0
    return longest_line


@kernel
def _gathered(data, unaligned, begin, end, plain, kept, encoded, region, longest, text, text_words, offsets, valid,
              indices):
    """The values of the `kept` fields (those not `plain` unquoted) written into `text`, from `region[field]` on
    for each, and `valid` (zeros) set for each value there: every value of a field not `encoded` (its line's
    offset into `text` in `offsets[field]`, then the end), and of an `encoded` one each distinct value once, in
    the order first seen (offsets[field] of each distinct value, then the end; each line's number in
    `indices[field]`). Returns the null count and the distinct count of each field.

    Lines are read in order, each line's values at once (field by field, every field would read the lines' bytes
    from memory once more). A field's distinct values are found with a table of its own (open addressing, twice as
    many places as values at least), keyed by a hash of the value's 64-bit words (read where the value is when
    it is plain, else from the small buffer it is unquoted into); a candidate is compared word by word with the
    text written for it (`text_words[at]`: the word at byte `at` of `text`)."""
    lines, fields = begin.shape
    written = region[:fields].copy()
    nulls = np.zeros(fields, np.int64)
    distinct = np.zeros(fields, np.int64)
    most = 64  # places of a table: a power of two, at least twice the values of a slice
    while most < 2 * lines:
        most *= 2
    places = np.full(fields, 64, np.int64)  # the places in use: [0, places[field]) of its row
    table = np.empty((fields, most), np.int32)  # a distinct value's number, -1: free (rows set up as they are used)
    for field in range(fields):
        if kept[field] and encoded[field]:
            table[field, :64] = -1
    hashes = np.empty((fields, lines), np.uint64)  # each distinct value's hash
    piece = np.empty(longest + 2, np.uint8)  # a value's pieces when unquoted: the byte each stands for, and its kind
    kind = np.empty(longest + 2, np.uint8)
    value_words = np.zeros((longest + 2) // 8 + 2, np.uint64)  # an encoded value's words (zeros after its end)
    value = value_words.view(np.uint8)
    for line in range(lines):
        for field in range(fields):
            start = begin[line, field]
            if not kept[field]:
                continue
            if not encoded[field]:
                offsets[field, line] = written[field]
            if start < 0:
                nulls[field] += 1
                indices[field, line] = 0
                continue
            valid[field, line >> 3] |= np.uint8(1 << (line & 7))
            stop = end[line, field]
            is_plain = plain[line, field]
            if is_plain:
                length = stop - start
                if not encoded[field]:
                    text[written[field]:written[field] + length] = data[start:stop]
                    written[field] += length
                    continue
            else:
                pieces = 0
                at = start
                while at < stop:
                    byte = data[at]
                    if byte == _QUOTE and at + 1 < stop and data[at + 1] == _QUOTE:
                        piece[pieces], kind[pieces] = _QUOTE, _LITERAL_QUOTE
                        at += 2
                    elif byte == _QUOTE:
                        piece[pieces], kind[pieces] = _QUOTE, _TOGGLE
                        at += 1
                    elif byte == _QUOTE_HOLDER:
                        piece[pieces], kind[pieces] = _QUOTE, _LITERAL_QUOTE
                        at += 1
                    elif byte == _SPACE_HOLDER:
                        piece[pieces], kind[pieces] = _SPACE, _TEXT
                        at += 1
                    else:
                        piece[pieces], kind[pieces] = byte, _TEXT
                        at += 1
                    pieces += 1
                toggles = 0
                for i in range(pieces):
                    toggles += kind[i] == _TOGGLE
                if toggles % 2:  # a quote left open: the split closed it at the line's end
                    piece[pieces], kind[pieces] = _QUOTE, _TOGGLE
                    pieces += 1
                first, last = 0, pieces
                if pieces == 1 and kind[0] == _LITERAL_QUOTE:  # `""`: empty
                    last = 0
                elif pieces >= 2 and kind[0] == _TOGGLE and kind[pieces - 1] == _TOGGLE:
                    first, last = 1, pieces - 1
                length = last - first
                if not encoded[field]:
                    text[written[field]:written[field] + length] = piece[first:last]
                    written[field] += length
                    continue
                value[:length] = piece[first:last]
                value[length:(length + 7) // 8 * 8] = 0
            # an encoded field: the number of this value among the field's distinct ones
            count = (length + 7) >> 3
            hashed = np.uint64(length) * _GOLDEN
            for word in range(count):
                if is_plain:
                    at = start + 8 * word
                    loaded = unaligned[at] if at < len(unaligned) else _tail_word(data, at)
                    rest = length - 8 * word
                    if rest < 8:
                        loaded &= (np.uint64(1) << np.uint64(8 * rest)) - np.uint64(1)
                    value_words[word] = loaded
                hashed = (hashed ^ value_words[word]) * _MIX
                hashed ^= hashed >> np.uint64(29)
            mask = places[field] - 1
            place = np.int64(hashed & np.uint64(mask))
            number = table[field, place]
            while number >= 0:
                at = offsets[field, number]
                if hashes[field, number] == hashed and offsets[field, number + 1] - at == length:
                    same = True
                    for word in range(count):
                        loaded = text_words[at + 8 * word]
                        rest = length - 8 * word
                        if rest < 8:
                            loaded &= (np.uint64(1) << np.uint64(8 * rest)) - np.uint64(1)
                        if loaded != value_words[word]:
                            same = False
                            break
                    if same:
                        break
                place = (place + 1) & mask
                number = table[field, place]
            if number < 0:  # a value not seen before
                number = distinct[field]
                distinct[field] = number + 1
                hashes[field, number] = hashed
                table[field, place] = number
                offsets[field, number] = written[field]
                text[written[field]:written[field] + length] = value[:length]
                written[field] += length
                offsets[field, number + 1] = written[field]
                if 2 * distinct[field] > places[field]:  # twice the places, the values placed again
                    places[field] *= 2
                    mask = places[field] - 1
                    table[field, :places[field]] = -1
                    for again in range(distinct[field]):
                        place = np.int64(hashes[field, again] & np.uint64(mask))
                        while table[field, place] >= 0:
                            place = (place + 1) & mask
                        table[field, place] = again
            indices[field, line] = number
    for field in range(fields):
        if kept[field] and not encoded[field]:
            offsets[field, lines] = written[field]
        # (the room unquoting and repeated values left unused: zeros, not whatever memory held)
        text[written[field]:region[field + 1]] = 0
    return nulls, distinct
