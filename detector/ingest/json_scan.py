"""One JSON object per line, walked once by a compiled kernel: where each wanted key path's value is, and
whether the line is a well-formed JSON object.

The kernel reads each byte once, without the GIL: it checks the JSON grammar and notes, for the wanted paths
only, the span of each value in the batch's own buffer (one small state machine: a stack of open brackets, the
wanted paths as a trie of keys); the values are then cut out of the buffer by Arrow (`key_values.spans_of`), and
only those that need decoding (a string holding a backslash escape, a number DuckDB would spell otherwise, an
array or object) go through DuckDB, once per distinct value.

What the caller gets (`scan`): per line `exact` (the kernel judged the line: a JSON object in standard JSON, read
exactly as DuckDB reads it), per path and line the value's raw span and its kind (`MISSING` for an absent key
or a JSON null). Lines that are not `exact` are the caller's to read as before (DuckDB): the kernel judges only
what it can judge exactly, and leaves to DuckDB every line that is malformed or merely unusual: DuckDB's reader
accepts more than standard JSON (NaN, Infinity, trailing commas) and refuses lone surrogate escapes; a line
with an escaped key, a repeated wanted key (DuckDB reads the first, the kernel would have to too), a surrogate
pair or more than `MAX_DEPTH` open brackets. So `exact` lines are valid for DuckDB too, and the others are
decided by DuckDB.

`Scan.text` gives a path's values as `json_extract_string(line, path)` gives them: strings unescaped, numbers as
DuckDB writes them (the kernel passes a number's own text where DuckDB keeps it: integers, and decimals it would
write back digit for digit), `true`/`false`, arrays and objects as compact JSON text (or, with
`raw_containers`, their text as written, for a caller that parses them again anyway), null where missing or
JSON null. `Scan.raw` gives each value's JSON text as written, to read a path inside it (`$[0].rrname`) with
DuckDB once per distinct value.

Paths are tuples of keys, outermost first: EVE's `("dns", "rrname")` is `$.dns.rrname`, Zeek's flat
`("id.orig_h",)` is `$."id.orig_h"`. Array elements are not followed (read them from `Scan.raw`).

Measured (CPU per 131,072-line batch, one thread, load ~7): the walk costs ~1.2-1.5 ns a byte (Suricata EVE's
427-byte lines 0.08-0.09 s, Zeek http's 479-byte lines ~0.10 s), the values cut out ~20 ns each (~0.045 s for
Zeek http's 15 fields), and Numba's start ~0.6 s per run. DuckDB's one `json_extract_string` query, which
parses with yyjson (~1 GB/s) and gives every column at once, costs about as much: EVE 0.145 s, Zeek http 0.135,
conn 0.093, dns 0.108, ssl 0.059. So neither format uses this kernel (see their module docs); what was left
out of the walk to reach this speed: per-line initialising in the kernel (numpy writes the MISSING spans),
function calls in the common paths (plain strings and integers are read inline), a lookup per key of a
non-wanted length (a bit mask per object). A bare walk over strings and brackets, without checks, lookups or
outputs, still costs ~1 ns a byte: a byte-at-a-time loop does not reach yyjson's speed.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, per_distinct
from detector.ingest.compiled import kernel
from detector.ingest.key_values import spans_of
from detector.ingest.layout_bytes import line_bytes

# A value's kind (`Scan.kind`).
MISSING = 0  # no such key, a JSON null, or a path through a value that is not an object
TEXT = 1  # a string without escapes: its text is the span inside the quotes
ESCAPED = 2  # a string with a backslash escape: decoded by DuckDB
PLAIN = 3  # a number or true/false that DuckDB writes as it is written
NUMBER = 4  # a number DuckDB writes otherwise (exponent, trailing zeros, -0, many digits): decoded by DuckDB
ARRAY = 5
OBJECT = 6

MAX_DEPTH = 64  # open brackets followed in a line; deeper lines are left to DuckDB

# A JSON value's text as `json_extract_string` gives it; `$[0].rrname` etc. read a path inside a raw value.
DECODE_SQL = "select json_extract_string(value, '$') as value from distinct_values"


def path_query(path: str) -> str:
    """SQL reading the JSON path `path` (such as `$[0].rrname`) from each distinct raw value's text."""
    return f"select json_extract_string(value, '{path}') as value from distinct_values"


class Paths:
    """Wanted key paths compiled for the kernel: a trie of their keys, each node's children grouped by parent
    and key length, so that a key read in a followed object is compared only with its same-length siblings."""

    def __init__(self, paths: Sequence[tuple[str, ...]]) -> None:
        self.paths = tuple(paths)
        nodes: dict[tuple[str, ...], int] = {(): 0}
        for path in self.paths:
            for depth in range(1, len(path) + 1):
                nodes.setdefault(path[:depth], len(nodes))
        keys = [prefix[-1].encode() if prefix else b"" for prefix in nodes]
        self.longest = max((len(key) for key in keys), default=0)
        width = self.longest + 1
        self.slot = np.full(len(nodes), -1, np.int64)
        for number, path in enumerate(self.paths):
            self.slot[nodes[path]] = number
        self.followed = np.zeros(len(nodes), np.bool_)  # an object here may hold a wanted key
        groups: dict[int, list[int]] = {}  # parent * width + key length -> nodes
        for prefix, node in nodes.items():
            if prefix:
                parent = nodes[prefix[:-1]]
                self.followed[parent] = True
                groups.setdefault(parent * width + len(keys[node]), []).append(node)
        self.child_begin = np.zeros(len(nodes) * width, np.int64)
        self.child_end = np.zeros(len(nodes) * width, np.int64)
        children: list[int] = []
        for group, members in sorted(groups.items()):
            self.child_begin[group] = len(children)
            children.extend(members)
            self.child_end[group] = len(children)
        self.children = np.array(children, np.int64)
        self.length_mask = np.zeros(len(nodes), np.uint64)  # per node: bit n set if a child's key has n bytes
        for group in groups:
            parent, length = divmod(group, width)
            if length < 64:
                self.length_mask[parent] |= np.uint64(1 << length)
        self.key_start = np.cumsum([0] + [len(key) for key in keys])[:-1].astype(np.int64)
        self.key_bytes = np.frombuffer(b"".join(keys) + b"\0", np.uint8)


class Scan:
    """A batch's lines scanned for `paths`: `exact` per line, and per path (row) and line (column) the raw
    span `start:end` of the value (positions in the lines' buffer; an empty span at the line's start where
    MISSING) and its `kind`. Values of lines that are not `exact` mean nothing."""

    def __init__(self, text: pa.Array, paths: Paths) -> None:
        self.lines, self.paths = text, paths
        _, data, offsets = line_bytes(text)
        self.data = data if len(data) else np.zeros(1, np.uint8)
        count = len(text)
        self.exact = np.zeros(count, np.bool_)
        # MISSING until found: an empty span at the line's start (written by numpy: the kernel writes only
        # the values it finds, a path's row of the arrays at a time for the caller's reads)
        self.start = np.repeat(offsets[None, :-1].astype(np.int32), len(paths.paths), axis=0)
        self.end = self.start.copy()
        self.kind = np.zeros((len(paths.paths), count), np.int8)
        _scan_lines(self.data, offsets, paths.key_bytes, paths.key_start, paths.slot, paths.followed, paths.length_mask,
                    paths.child_begin, paths.child_end, paths.children, paths.longest, self.exact, self.start,
                    self.end, self.kind)

    def raw(self, path: int, rows: np.ndarray | None = None) -> pa.Array:
        """The JSON text of `path`'s value on `rows` (increasing; None: every line), as written in the line (a
        string with its quotes); null where MISSING."""
        every = slice(None) if rows is None else rows
        return self._strings(self.start[path, every], self.end[path, every], self.kind[path, every] == MISSING)

    def text(self, path: int, rows: np.ndarray | None, connection: duckdb.DuckDBPyConnection,
             decode: DistinctQuery, raw_containers: bool = False) -> pa.Array:
        """`path`'s value on `rows` (increasing; None: every line) as `json_extract_string` reads it (see the
        module doc); `decode` is a DistinctQuery of DECODE_SQL (kept by the caller: it remembers values across
        batches)."""
        every = slice(None) if rows is None else rows
        kind = self.kind[path, every]
        start, end = self.start[path, every], self.end[path, every]
        is_text = kind == TEXT
        values = self._strings(start + is_text, end - is_text, kind == MISSING)
        decoded = (kind == ESCAPED) | (kind == NUMBER)
        if not raw_containers:
            decoded |= kind >= ARRAY
        if not decoded.any():
            return values
        written = per_distinct(connection, self._strings(start, end, ~decoded), decode)["value"]
        return pc.if_else(pa.array(decoded), written.dictionary_decode(), values)

    def _strings(self, begin: np.ndarray, end: np.ndarray, missing: np.ndarray) -> pa.Array:
        """The bytes `begin:end` of the lines' buffer as a string array (null where `missing`): one Arrow take
        over the buffer (`key_values.spans_of`; the spans of increasing rows are in increasing order)."""
        return spans_of(self.lines, begin, end, missing)


def scan(text: pa.Array, paths: Paths) -> Scan:
    """`text`'s lines (a string array, read in place) scanned for `paths` (see Scan)."""
    return Scan(text, paths)


# Byte values the kernel compares with.
_QUOTE, _BACKSLASH, _COLON, _COMMA, _SPACE = 34, 92, 58, 44, 32
_OPEN_OBJECT, _CLOSE_OBJECT, _OPEN_ARRAY, _CLOSE_ARRAY = 123, 125, 91, 93
_MINUS, _PLUS, _POINT, _ZERO, _ONE, _NINE = 45, 43, 46, 48, 49, 57
_ESCAPE_LETTERS = np.zeros(256, np.bool_)  # the letters after a backslash other than `u`: " \ / b f n r t
_ESCAPE_LETTERS[np.frombuffer(b'"\\/bfnrt', np.uint8)] = True
_STRING_STOPS = np.zeros(256, np.bool_)  # the bytes that end a run of plain string bytes: " \ and control bytes
_STRING_STOPS[:32] = _STRING_STOPS[_QUOTE] = _STRING_STOPS[_BACKSLASH] = True
_NUMBER_ENDS = np.zeros(256, np.bool_)  # the bytes after an integer in compact JSON: , } ]
_NUMBER_ENDS[_COMMA] = _NUMBER_ENDS[_CLOSE_OBJECT] = _NUMBER_ENDS[_CLOSE_ARRAY] = True


@kernel
def _is_space(byte: int) -> bool:
    return byte == _SPACE or byte == 9 or byte == 10 or byte == 13  # JSON's spaces: space, tab, LF, CR


@kernel
def _spaces_end(data: np.ndarray, i: int, stop: int) -> int:
    """The first byte at or after `i` that is no JSON space (called where `data[i]` may be one: compact JSON
    has none, told by one comparison in the caller)."""
    while i < stop and _is_space(data[i]):
        i += 1
    return i


@kernel
def _hex_digit(byte: int) -> int:
    """The value of a hexadecimal digit; -1 for any other byte."""
    if 48 <= byte <= 57:
        return byte - 48
    if 97 <= byte <= 102:
        return byte - 87
    if 65 <= byte <= 70:
        return byte - 55
    return -1


@kernel
def _string_end(data: np.ndarray, i: int, stop: int) -> tuple[int, bool]:
    """The end (past the closing quote) of the JSON string whose opening quote is at `i` (-1 if it breaks the
    grammar or is left to DuckDB), and whether it holds an escape."""
    i += 1
    escaped = False
    while True:
        while i < stop and not _STRING_STOPS[data[i]]:
            i += 1
        if i >= stop or data[i] < 32:
            return -1, False  # no closing quote, or a raw control byte
        if data[i] == _QUOTE:
            return i + 1, escaped
        escaped = True  # a backslash
        if i + 1 >= stop:
            return -1, False
        letter = data[i + 1]
        if letter == 117:  # \uXXXX
            if i + 5 >= stop:
                return -1, False
            code = 0
            for k in range(2, 6):
                digit = _hex_digit(data[i + k])
                if digit < 0:
                    return -1, False
                code = code * 16 + digit
            if 0xD800 <= code <= 0xDFFF:
                return -1, False  # a surrogate: DuckDB refuses a lone one (pairs left to it too)
            i += 6
        elif _ESCAPE_LETTERS[letter]:
            i += 2
        else:
            return -1, False


@kernel
def _number_end(data: np.ndarray, i: int, stop: int) -> tuple[int, bool]:
    """The end of the JSON number at `i` (-1 if it breaks the grammar) and whether DuckDB writes it as it is
    written: an integer other than -0 (DuckDB keeps big ones as text), or a decimal without exponent whose
    shortest double spelling is its own text: no trailing zero in the fraction (`1.50` -> `1.5`; `1.0` stays),
    at least 0.1 in size (`0.0000001` -> `1e-7`), and at most 15 significant digits, or ten digits before the
    point below 4e9 and at most six after (Zeek's epoch times), where neighbouring decimals are further apart
    than neighbouring doubles."""
    negative = data[i] == _MINUS
    if negative:
        i += 1
    if i >= stop:
        return -1, False
    whole_from = i
    if data[i] == _ZERO:
        i += 1
    elif _ONE <= data[i] <= _NINE:
        while i < stop and _ZERO <= data[i] <= _NINE:
            i += 1
    else:
        return -1, False
    whole = i - whole_from
    zero_whole = data[whole_from] == _ZERO
    fraction = 0
    if i < stop and data[i] == _POINT:
        i += 1
        fraction_from = i
        while i < stop and _ZERO <= data[i] <= _NINE:
            i += 1
        fraction = i - fraction_from
        if fraction == 0:
            return -1, False
    if i < stop and (data[i] == 101 or data[i] == 69):  # e E: DuckDB writes the double
        i += 1
        if i < stop and (data[i] == _PLUS or data[i] == _MINUS):
            i += 1
        exponent_from = i
        while i < stop and _ZERO <= data[i] <= _NINE:
            i += 1
        return (-1 if i == exponent_from else i), False
    if fraction == 0:
        return i, not (negative and zero_whole)
    last, first = data[i - 1], data[i - fraction]
    if fraction == 1 and last == _ZERO:  # `1.0`, `-0.0` (written so), if the whole part fits a double's digits
        return i, whole <= 15
    if last == _ZERO or (zero_whole and first == _ZERO):
        return i, False
    digits = fraction if zero_whole else whole + fraction
    return i, digits <= 15 or (whole == 10 and data[whole_from] <= 51 and fraction <= 6)


@kernel
def _scan_lines(data: np.ndarray, offsets: np.ndarray, key_bytes: np.ndarray, key_start: np.ndarray,
                slot_of: np.ndarray, followed: np.ndarray, length_mask: np.ndarray, child_begin: np.ndarray,
                child_end: np.ndarray, children: np.ndarray, longest: int, exact: np.ndarray, start: np.ndarray,
                end: np.ndarray, kind: np.ndarray) -> None:
    """Every line walked once. Each round of the inner loop reads one member of the open object (key, colon,
    value) or one element of the open array, then its comma or the closing brackets that follow. A stack holds
    the open objects and arrays: whether each is an array, the trie node it is at (-1 where no wanted path goes)
    and the slot whose raw span it is, if any. Any doubt ends the walk: the line is not `exact`."""
    width = longest + 1
    seen = np.full(slot_of.shape[0], -1, np.int64)  # the last line in which each trie node's key was read
    open_node = np.empty(MAX_DEPTH, np.int64)
    open_array = np.zeros(MAX_DEPTH, np.bool_)
    open_slot = np.empty(MAX_DEPTH, np.int64)
    open_from = np.empty(MAX_DEPTH, np.int64)
    for line in range(offsets.shape[0] - 1):
        i, stop = offsets[line], offsets[line + 1]
        exact[line] = False
        if i < stop and data[i] <= _SPACE:
            i = _spaces_end(data, i, stop)
        if i >= stop or data[i] != _OPEN_OBJECT:
            continue
        depth, in_array, parent = 0, False, 0  # the open container: an object at the trie's root
        open_node[0], open_array[0], open_slot[0] = 0, False, -1
        i += 1
        just_opened = True  # (the container may close at once)
        while True:
            if i < stop and data[i] <= _SPACE:
                i = _spaces_end(data, i, stop)
            if i >= stop:
                break
            byte = data[i]
            closing = just_opened and byte == (_CLOSE_ARRAY if in_array else _CLOSE_OBJECT)
            just_opened = False
            node = -1  # the trie node of the value read next (-1: not wanted)
            if not closing and not in_array:  # a member's key and colon
                if byte != _QUOTE:
                    break  # (also a `}` after a comma: DuckDB allows it, JSON does not)
                i += 1
                key_from = i
                while i < stop and not _STRING_STOPS[data[i]]:
                    i += 1
                if i >= stop or data[i] != _QUOTE:
                    break  # an escaped key (DuckDB matches it unescaped), a control byte, no end
                length = i - key_from
                i += 1
                # a wanted key: among the open object's children of this length (the mask: any at all?)
                if parent >= 0 and length < 64 and (length_mask[parent] >> length) & 1:
                    group = parent * width + length
                    for child in range(child_begin[group], child_end[group]):
                        candidate = children[child]
                        at, k = key_start[candidate], 0
                        while k < length and data[key_from + k] == key_bytes[at + k]:
                            k += 1
                        if k == length:
                            node = candidate
                            break
                    if node >= 0:
                        if seen[node] == line:
                            break  # a wanted key repeated: DuckDB reads the first
                        seen[node] = line
                if i < stop and data[i] <= _SPACE:
                    i = _spaces_end(data, i, stop)
                if i >= stop or data[i] != _COLON:
                    break
                i += 1
                if i < stop and data[i] <= _SPACE:
                    i = _spaces_end(data, i, stop)
                if i >= stop:
                    break
                byte = data[i]
            if not closing:  # a value at `i`
                slot = slot_of[node] if node >= 0 else -1
                value_from, value_kind = i, PLAIN
                if byte == _QUOTE:
                    i += 1
                    while i < stop and not _STRING_STOPS[data[i]]:
                        i += 1
                    if i < stop and data[i] == _QUOTE:
                        i += 1
                        value_kind = TEXT
                    else:  # an escape (or a malformed string): read again, with its escapes checked
                        i, _ = _string_end(data, value_from, stop)
                        value_kind = ESCAPED
                elif byte == _OPEN_OBJECT or byte == _OPEN_ARRAY:  # noqa: SIM109 (compiled: two comparisons)
                    depth += 1
                    if depth >= MAX_DEPTH:
                        break
                    in_array = byte == _OPEN_ARRAY
                    parent = node if not in_array and node >= 0 and followed[node] else -1
                    open_array[depth], open_node[depth] = in_array, parent
                    open_slot[depth], open_from[depth] = slot, value_from
                    i += 1
                    just_opened = True
                    continue
                elif byte == _MINUS or _ZERO <= byte <= _NINE:
                    digits_from = digits_end = i + (byte == _MINUS)  # the usual number: digits from 1-9, then
                    if digits_end < stop and _ONE <= data[digits_end] <= _NINE:  # a delimiter
                        digits_end += 1
                        while digits_end < stop and _ZERO <= data[digits_end] <= _NINE:
                            digits_end += 1
                    if digits_end > digits_from and digits_end < stop and _NUMBER_ENDS[data[digits_end]]:
                        i = digits_end
                    else:
                        i, plain = _number_end(data, i, stop)
                        value_kind = PLAIN if plain else NUMBER
                elif (byte == 116 and i + 4 <= stop and data[i + 1] == 114 and data[i + 2] == 117
                      and data[i + 3] == 101):  # true
                    i += 4
                elif (byte == 102 and i + 5 <= stop and data[i + 1] == 97 and data[i + 2] == 108
                      and data[i + 3] == 115 and data[i + 4] == 101):  # false
                    i += 5
                elif (byte == 110 and i + 4 <= stop and data[i + 1] == 117 and data[i + 2] == 108
                      and data[i + 3] == 108):  # null: as missing
                    i += 4
                    slot = -1
                else:
                    break  # NaN, Infinity, a bare word: left to DuckDB
                if i < 0:
                    break
                if slot >= 0:
                    start[slot, line], end[slot, line], kind[slot, line] = value_from, i, value_kind
                if i < stop and data[i] <= _SPACE:
                    i = _spaces_end(data, i, stop)
                if i >= stop:
                    break
            # after a value (or at a container that closes at once): closing brackets, each followed by spaces
            while closing or data[i] == (_CLOSE_ARRAY if in_array else _CLOSE_OBJECT):
                closing = False
                i += 1
                slot = open_slot[depth]
                if slot >= 0:
                    start[slot, line], end[slot, line] = open_from[depth], i
                    kind[slot, line] = ARRAY if in_array else OBJECT
                depth -= 1
                if i < stop and data[i] <= _SPACE:
                    i = _spaces_end(data, i, stop)
                if depth < 0 or i >= stop:
                    break
                in_array, parent = open_array[depth], open_node[depth]
            if depth < 0:  # the line's object closed: only spaces may follow
                exact[line] = i == stop
                break
            if i >= stop or data[i] != _COMMA:
                break
            i += 1  # (a closing bracket after the comma is refused: DuckDB allows it, JSON does not)

