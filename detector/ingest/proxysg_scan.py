"""ProxySG's headerless ELFF lines read in one compiled pass over each line's bytes (see compiled.py): the syslog header
cut, the values counted, the layout chosen and the values the layout's columns read dictionary-encoded, without
materialising the others.

proxysg read every line twice over (the header cut as a copy of the batch, its values counted, then every value of
every line materialised by Arrow's CSV reader over the lines joined again): half of a parse was the CSV reader, and a
syslog-wrapped log paid a fifth more for the cut. Here each line's bytes are read once: past its header (the
expression proxysg.SYSLOG_HEAD, read byte by byte: `<PRI>`, `1 `, an RFC 3164, ISO or BSD-with-year time, then the
first ELFF date and time after a space), its values found (runs of spaces outside quotes separate them; a quoted value
is the text inside its quotes), its layout taken from its number of values (and for 25 and 27, main's status and
s-action as 5th and 6th values, proxysg.MAIN_SHAPE), and the values its layout reads hashed into one dictionary per
field name (an entry is a span of the lines' own bytes): only the indices and the distinct values come out.

A line it is not sure of is left to proxysg's reading of values (`layout` -1), whose outcome is the same for a line
however its batch is made up: a byte below a space (a tab, the split's placeholders), a `#` before the ELFF start (a
directive may be the header's end), a quote inside a value or a quoted value not followed by a space, two spaces
inside quotes, a space at the line's end, a first value that is not a digit's (no header, no date), no ELFF date and
time after a header, a count of no layout, a quoted value among the first six of a count of two layouts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pyarrow as pa

from detector.ingest.byte_spans import spans
from detector.ingest.compiled import inlined, kernel, load_word

MOST_VALUES = 64  # a line of more values is left to the reading of values (no layout has as many)
_SPACE, _QUOTE, _HASH, _LESS, _GREATER, _COLON, _DASH, _DOT, _T, _Z, _PLUS = (ord(c) for c in ' "#<>:-.TZ+')
_BYTE_ORDER_MARK = 0xEF  # (its first byte)
_MIXER = np.uint64(0x9E3779B97F4A7C15)


class Read:
    """A batch's lines as the pass read them: each line's layout (an index into proxysg.LAYOUTS, -1 where left to the
    reading of values), and per field name (a slot) each line's index into that slot's distinct values."""

    def __init__(self, layout: np.ndarray, indices: np.ndarray, dictionaries: list[pa.Array]) -> None:
        self.layout, self.indices, self.dictionaries = layout, indices, dictionaries


class Layouts:
    """What the pass is told of the layouts it may read (which layout each number of values has, and the slot of each
    value a layout reads), and the values it finds put back by position: one builder for proxysg's predefined layouts
    and w3c's field list under #Fields, which had each written these tables."""

    def __init__(self, layouts: Sequence[tuple[int, Sequence[int]]], names: Sequence[Sequence[str]] | None = None,
                 shared: Mapping[int, tuple[int, int]] | None = None) -> None:
        """`layouts`: per layout (its index is its number in `Read.layout`) its number of values and the positions of
        the values it reads. A count's layout is its first; `shared[count]`: (main, other) of a count of two layouts,
        told apart by main's shape. `names[layout][position]`: a value's field name, values of one name in any layout
        sharing a slot (slots in the names' sorted order); without names a position is its own name."""
        self.positions = [list(positions) for _, positions in layouts]
        self.layout_of_count = np.full(MOST_VALUES + 1, -1, np.int64)
        self.other_of_count = np.full(MOST_VALUES + 1, -1, np.int64)
        for index, (count, _) in reversed(list(enumerate(layouts))):
            if count <= MOST_VALUES:
                self.layout_of_count[count] = index
        for count, (main, other) in (shared or {}).items():
            self.layout_of_count[count], self.other_of_count[count] = main, other
        keys = [[names[index][position] if names else position for position in positions]
                for index, positions in enumerate(self.positions)]
        ordered = sorted({key for read in keys for key in read})
        self.slot_of = np.full((len(layouts), MOST_VALUES), -1, np.int64)
        for index, (positions, read) in enumerate(zip(self.positions, keys, strict=True)):
            for position, key in zip(positions, read, strict=True):
                if position < MOST_VALUES:
                    self.slot_of[index, position] = ordered.index(key)
        self.slots = len(ordered)

    def read(self, buffer: pa.Buffer, data: np.ndarray, offsets: np.ndarray, bare: bool = False) -> Read:
        """The lines read by the pass (see `read`) under these layouts."""
        return read(buffer, data, offsets, self.layout_of_count, self.other_of_count, self.slot_of, self.slots, bare)

    def values(self, scanned: Read, index: int, rows: np.ndarray | None,
               clean: Callable[[pa.DictionaryArray], pa.DictionaryArray]) -> dict[int, pa.DictionaryArray]:
        """The values layout `index` reads, of its lines `rows` (None: every line), by position, each `clean`ed."""
        values = {}
        for position in self.positions[index]:
            slot = int(self.slot_of[index, position])
            indices = scanned.indices[slot] if rows is None else scanned.indices[slot][rows]
            values[position] = clean(pa.DictionaryArray.from_arrays(pa.array(indices), scanned.dictionaries[slot]))
        return values


def read(buffer: pa.Buffer, data: np.ndarray, offsets: np.ndarray, layout_of_count: np.ndarray,
         other_of_count: np.ndarray, slot_of: np.ndarray, slots: int, bare: bool = False) -> Read:
    """The lines data[offsets[i]:offsets[i + 1]] (`buffer`'s bytes) read: `layout_of_count[n]` is the layout of n
    values (-1 none; for a count of two layouts its main, `other_of_count[n]` its bcreportermain_v1), `slot_of[layout,
    position]` the slot of a layout's value read (-1: not read). `bare`: lines without a syslog header, their values
    from their first byte (w3c's lines under #Fields: a line starting with a space or a byte order mark is left)."""
    lines = len(offsets) - 1
    layout = np.full(lines, -1, np.int8)
    indices = np.zeros((slots, lines), np.int32)
    offsets = offsets.astype(np.int64, copy=False)
    table = Table(1 << 12, slots)
    line = 0
    while True:  # (the table and the entries grown where a line might not fit: a few times for all-distinct values)
        line = _read(data, offsets, layout_of_count, other_of_count, slot_of, layout, indices, table.places,
                     table.hashes, table.starts, table.ends, table.slots, table.numbers, table.distinct, table.found,
                     line, bare)
        if line == lines:
            break
        table = table.grown()
    found, starts, ends, entry_slots = int(table.found[0]), table.starts, table.ends, table.slots
    dictionaries = []
    for slot in range(slots):
        mine = entry_slots[:found] == slot
        dictionaries.append(spans(buffer, starts[:found][mine], ends[:found][mine]))
    return Read(layout, indices, dictionaries)


class Table:
    """The hash table of the distinct values (open addressing, linear probing: per place a value's hash and its entry
    + 1, 0 where free) and its entries (where each value is in the lines' bytes, its slot and its number in its slot's
    dictionary). The pass stops at a line whose values might not fit; the caller grows it and the pass goes on."""

    def __init__(self, capacity: int, slots: int) -> None:
        self.places = np.zeros(2 * capacity, np.uint64)
        room = capacity // 2
        self.hashes = np.empty(room, np.uint64)
        self.starts, self.ends = np.empty(room, np.int64), np.empty(room, np.int64)
        self.slots, self.numbers = np.empty(room, np.int32), np.empty(room, np.int32)
        self.distinct = np.zeros(max(slots, 1), np.int32)
        self.found = np.zeros(1, np.int64)

    def grown(self) -> Table:
        """Twice the room, the entries placed again."""
        larger = Table(len(self.places), len(self.distinct))
        found = int(self.found[0])
        for mine, theirs in ((self.hashes, larger.hashes), (self.starts, larger.starts), (self.ends, larger.ends),
                             (self.slots, larger.slots), (self.numbers, larger.numbers)):
            theirs[:found] = mine[:found]
        larger.distinct[:] = self.distinct
        larger.found[0] = found
        _placed(larger.places, larger.hashes, found)
        return larger


@kernel
def _placed(places, hashes, found):
    capacity = len(places) // 2
    for entry in range(found):
        place = np.int64(hashes[entry] & np.uint64(capacity - 1))
        while places[2 * place + 1] != 0:
            place = (place + 1) & (capacity - 1)
        places[2 * place], places[2 * place + 1] = hashes[entry], np.uint64(entry + 1)


@inlined
def _digits(data, at, count):
    """Whether data[at:at + count] are digits (the caller makes sure they are in the line)."""
    for i in range(count):  # noqa: SIM110 (a generator does not compile)
        if not 48 <= data[at + i] <= 57:
            return False
    return True


@inlined
def _time_end(data, at, end):
    """SYSLOG_HEAD's time (BSD_TIME, ISO_TIME or BSD_YEAR_TIME) and the space after it from data[at]: the position after
    that space, else -1."""
    if at + 15 > end:
        return -1
    byte = data[at]
    if 65 <= byte <= 90:  # `Mmm +d{1,2} ` then `HH:MM:SS` or `YYYY HH:MM:SS`
        if not (97 <= data[at + 1] <= 122 and 97 <= data[at + 2] <= 122):
            return -1
        at += 3
        if data[at] != _SPACE:
            return -1
        while at < end and data[at] == _SPACE:
            at += 1
        day = at
        while at < end and 48 <= data[at] <= 57:
            at += 1
        if at - day < 1 or at - day > 2 or at >= end or data[at] != _SPACE:
            return -1
        at += 1
        if at + 5 <= end and _digits(data, at, 4) and data[at + 4] == _SPACE:
            at += 5
        if at + 8 > end or not (_digits(data, at, 2) and data[at + 2] == _COLON and _digits(data, at + 3, 2)
                                and data[at + 5] == _COLON and _digits(data, at + 6, 2)):
            return -1
        at += 8
    elif 48 <= byte <= 57:  # `YYYY-MM-DDTHH:MM:SS`, then a zone
        if at + 19 > end or not (_digits(data, at, 4) and data[at + 4] == _DASH and _digits(data, at + 5, 2)
                                 and data[at + 7] == _DASH and _digits(data, at + 8, 2) and data[at + 10] == _T
                                 and _digits(data, at + 11, 2) and data[at + 13] == _COLON
                                 and _digits(data, at + 14, 2) and data[at + 16] == _COLON
                                 and _digits(data, at + 17, 2)):
            return -1
        at += 19
        if at + 1 < end and data[at] == _DOT and 48 <= data[at + 1] <= 57:
            at += 1
            while at < end and 48 <= data[at] <= 57:
                at += 1
        if at < end and data[at] == _Z:
            at += 1
        elif at < end and (data[at] == _PLUS or data[at] == _DASH):
            if at + 3 > end or not _digits(data, at + 1, 2):
                return -1
            at += 3
            if at < end and data[at] == _COLON:
                at += 1
            if at + 2 > end or not _digits(data, at, 2):
                return -1
            at += 2
        return at + 1 if at < end and data[at] == _SPACE else -1
    else:
        return -1
    if at + 1 < end and data[at] == _DOT and 48 <= data[at + 1] <= 57:  # (a BSD time's fraction)
        at += 1
        while at < end and 48 <= data[at] <= 57:
            at += 1
    return at + 1 if at < end and data[at] == _SPACE else -1


@inlined
def _elff_at(data, at, end):
    """Whether `YYYY-MM-DD HH:MM:SS ` (proxysg.ELFF_START) is at data[at:]."""
    return (at + 20 <= end and _digits(data, at, 4) and data[at + 4] == _DASH and _digits(data, at + 5, 2)
            and data[at + 7] == _DASH and _digits(data, at + 8, 2) and data[at + 10] == _SPACE
            and _digits(data, at + 11, 2) and data[at + 13] == _COLON and _digits(data, at + 14, 2)
            and data[at + 16] == _COLON and _digits(data, at + 17, 2) and data[at + 19] == _SPACE)


@inlined
def _values_start(data, start, end):
    """Where the ELFF values of the line data[start:end] begin: after its syslog header (SYSLOG_HEAD: `<PRI>`, `1 `, a
    space, a time, then anything up to the first ELFF date and time after a space), at its start for a line without
    one that starts with a digit; -1 where the reading of values decides (no ELFF start after a header, a `#` before
    it, a line starting otherwise)."""
    at = start
    if at < end and data[at] == _LESS:
        at += 1
        digits = at
        while at < end and at - digits < 4 and 48 <= data[at] <= 57:
            at += 1
        if at == digits or at - digits > 3 or at >= end or data[at] != _GREATER:
            return -1
        at += 1
        if at + 1 < end and data[at] == 49 and data[at + 1] == _SPACE:
            at += 2
        if at < end and data[at] == _SPACE:
            at += 1
    elif at < end and 48 <= data[at] <= 57 and not (at + 10 < end and data[at + 10] == _T):
        return start  # (a line that starts with a digit, not an ISO time: no header)
    at = _time_end(data, at, end)
    if at < 0:
        return -1
    while at + 20 <= end:  # (a tab would be a space to the expression, which proxysg.unwrapped reads after)
        byte = data[at]
        if byte == _HASH or byte < _SPACE:
            return -1
        if data[at - 1] == _SPACE and 48 <= byte <= 57 and _elff_at(data, at, end):
            return at
        at += 1
    return -1


@inlined
def _word(data, at, rest, safe):
    """The (up to) eight bytes of data[at:at + rest] as a word, the bytes past them zero."""
    if at <= safe:
        word = load_word(data, at)
        if rest < 8:
            word &= (np.uint64(1) << np.uint64(rest * 8)) - np.uint64(1)
        return word
    word = np.uint64(0)
    for i in range(min(8, rest)):
        word |= np.uint64(data[at + i]) << np.uint64(8 * i)
    return word


@inlined
def _hash(data, start, end, slot, safe):
    """A value's hash, eight bytes at a time (texts_scan's), its slot mixed in."""
    length = end - start
    value = np.uint64(length) ^ (np.uint64(slot + 1) * _MIXER)
    j = 0
    while j < length:
        value = (value ^ _word(data, start + j, length - j, safe)) * _MIXER
        j += 8
    return value ^ (value >> np.uint64(29))


@inlined
def _same(data, start, end, other_start, other_end, safe):
    """Whether data[start:end] and data[other_start:other_end] hold the same bytes."""
    length = end - start
    if other_end - other_start != length:
        return False
    j = 0
    while j < length:
        if _word(data, start + j, length - j, safe) != _word(data, other_start + j, length - j, safe):
            return False
        j += 8
    return True


@kernel
def _read(data, offsets, layout_of_count, other_of_count, slot_of, layout, indices, places, hashes, entry_start,
          entry_end, entry_slot, entry_index, distinct, counted, first_line, bare):
    """The lines from `first_line` read into `layout` and `indices`, their distinct values into the table (Table's
    arrays; `counted[0]` its entries): the line where it stopped (all lines: done; else the table is to be grown)."""
    lines = len(offsets) - 1
    capacity = len(places) // 2
    room = len(hashes)
    slots = len(distinct)
    safe = len(data) - 8  # (a whole word loads from here on)
    found = counted[0]
    value_start = np.empty(MOST_VALUES, np.int64)
    value_end = np.empty(MOST_VALUES, np.int64)
    value_quoted = np.zeros(MOST_VALUES, np.bool_)
    for line in range(first_line, lines):
        if 2 * (found + slots) > capacity or found + slots > room:
            counted[0] = found
            return line
        start, end = offsets[line], offsets[line + 1]
        if bare:
            at = start if start < end and data[start] != _SPACE and data[start] != _BYTE_ORDER_MARK else -1
        else:
            at = _values_start(data, start, end)
        if at < 0:
            continue
        count = 0
        sure = True
        while at < end:  # at a value's first byte
            if count == MOST_VALUES:
                sure = False
                break
            byte = data[at]
            if byte == _QUOTE:
                close = at + 1
                while close < end:
                    inner = data[close]
                    if inner == _QUOTE:
                        break
                    if inner < _SPACE or (inner == _SPACE and close + 1 < end and data[close + 1] == _SPACE):
                        sure = False
                        break
                    close += 1
                if not sure or close >= end:
                    sure = False
                    break
                value_start[count], value_end[count], value_quoted[count] = at + 1, close, True
                at = close + 1
                if at < end and data[at] != _SPACE:
                    sure = False
                    break
            else:
                after = at
                while after < end:
                    inner = data[after]
                    if inner == _SPACE:
                        break
                    if inner < _SPACE or inner == _QUOTE:
                        sure = False
                        break
                    after += 1
                if not sure:
                    break
                value_start[count], value_end[count], value_quoted[count] = at, after, False
                at = after
            count += 1
            if at < end:  # spaces, then a value (a space at the line's end: the reading of values decides)
                while at < end and data[at] == _SPACE:
                    at += 1
                if at == end:
                    sure = False
                    break
        if not sure or count >= len(layout_of_count):
            continue
        chosen = layout_of_count[count]
        if chosen < 0:
            continue
        other = other_of_count[count]
        if other >= 0:  # main when its 5th and 6th values are `\d{1,3}` and `[A-Z][A-Z0-9_]*` (MAIN_SHAPE)
            if value_quoted[0] or value_quoted[1] or value_quoted[2] or value_quoted[3] or value_quoted[4] \
                    or value_quoted[5]:
                continue
            status = value_end[4] - value_start[4]
            shaped = 1 <= status <= 3 and _digits(data, value_start[4], status)
            first = value_start[5]
            if shaped and 65 <= data[first] <= 90:
                for at in range(first + 1, value_end[5]):
                    byte = data[at]
                    if not (65 <= byte <= 90 or 48 <= byte <= 57 or byte == 95):
                        shaped = False
                        break
            else:
                shaped = False
            if not shaped:
                chosen = other
        layout[line] = chosen
        for position in range(count):
            slot = slot_of[chosen, position]
            if slot < 0:
                continue
            begin, finish = value_start[position], value_end[position]
            hashed = _hash(data, begin, finish, slot, safe)
            place = np.int64(hashed & np.uint64(capacity - 1))
            entry = -1
            while True:
                known = places[2 * place + 1]
                if known == 0:
                    break
                if places[2 * place] == hashed:
                    other = np.int64(known) - 1
                    if entry_slot[other] == slot and _same(data, begin, finish, entry_start[other], entry_end[other],
                                                           safe):
                        entry = other
                        break
                place = (place + 1) & (capacity - 1)
            if entry < 0:
                entry = found
                hashes[entry], entry_start[entry], entry_end[entry], entry_slot[entry] = hashed, begin, finish, slot
                entry_index[entry] = distinct[slot]
                distinct[slot] += 1
                places[2 * place], places[2 * place + 1] = hashed, np.uint64(entry + 1)
                found += 1
            indices[slot, line] = entry_index[entry]
    counted[0] = found
    return lines
