"""How a batch's values of the chosen keys are read (format `json`): by the compiled walk of json_scan, each value
numbered by its text as Zscaler's are (texts_scan.DistinctTexts: dictionary-encoded, each distinct text copied
once), and the lines the walk doubts by one DuckDB query (`json_extract_string` with the list of the keys' paths),
which decides what they hold. Both give the same table: `parsed` and a column `k{at}` per key read.
"""

from __future__ import annotations

import ctypes
import json
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest import byte_spans
from detector.ingest.arrow_ops import one_array
from detector.ingest.base import QUERY_ERRORS, query_in_halves
from detector.ingest.distinct_sql import even_parts
from detector.ingest.json_keys import Layout
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.proxy_columns import placed

if TYPE_CHECKING:
    from detector.ingest.json_scan import PathTrie


class Hint:
    """Whether the file's last slice read tolerantly held a line that is no valid JSON: the next slice is then read
    with the tolerant query at once (a file of many broken lines), not with the strict one first, which fails at the
    first such line. Shared by the file's two parse threads: a race costs time, not output."""

    def __init__(self) -> None:
        self.broken = False


def found(connection: duckdb.DuckDBPyConnection, layout: Layout, text: pa.ChunkedArray, hint: Hint) -> pa.Table:
    """The layout's keys read from these texts: with the strict query (~25% less CPU) where every text is JSON, else
    with the tolerant one (the same values, and nulls where a text is no JSON)."""
    if not hint.broken:
        try:
            connection.register("lines", pa.table({"line": text}))
            return connection.sql(layout.strict_query).to_arrow_table()
        except QUERY_ERRORS:
            pass
    table = query_in_halves(connection, layout.query, text)
    hint.broken = not pc.all(table.column("parsed")).as_py()
    return table


class Scan:
    """The compiled reading of a file's lines (json_scan), its key tries per layout, and whether it is still tried:
    not after a slice where it doubted most lines (a file of Windows paths with backslashes, say), which DuckDB then
    reads alone, as without it."""

    def __init__(self) -> None:
        from detector.ingest import json_scan  # (Numba only for this format's parsers: see compiled.py)

        self.module = json_scan
        self.tries: dict[tuple[tuple[str, ...], ...], PathTrie] = {}
        self.tried = True

    def trie(self, layout: Layout) -> PathTrie:
        """The layout's keys as the walk looks for them (made once per layout)."""
        if layout.read_paths not in self.tries:
            self.tries[layout.read_paths] = self.module.PathTrie(layout.read_paths)
        return self.tries[layout.read_paths]


def scanned(connection: duckdb.DuckDBPyConnection, layout: Layout, text: pa.ChunkedArray, hint: Hint,
             scan: Scan) -> pa.Table:
    """The layout's keys read from these texts as `found` reads them: by the compiled walk (json_scan, `read_values`);
    the lines it doubts by DuckDB (`found`), their values put in their rows."""
    if not scan.tried or not layout.read or text.type != pa.string():  # (the walk reads 32-bit offsets)
        return found(connection, layout, text, hint)
    values, doubtful = read_values(text, scan.trie(layout))
    rows = len(text)
    parsed = np.ones(rows, bool)
    if len(doubtful):
        if 2 * len(doubtful) > rows:
            scan.tried = False
        read = found(connection, layout, pa.chunked_array([one_array(text).take(pa.array(doubtful))], text.type),
                     hint)
        kept = np.ones(rows, bool)
        kept[doubtful] = False
        kept_rows, mask = np.flatnonzero(kept), pa.array(kept)
        values = [placed(rows, [(kept_rows, value.filter(mask)), (doubtful, one_array(read.column(f"k{at}")))])
                  for value, at in zip(values, layout.read, strict=True)]
        parsed[doubtful] = pc.fill_null(read.column("parsed"), False).to_numpy(zero_copy_only=False)
    return pa.table({"parsed": parsed, **{f"k{at}": value for value, at in zip(values, layout.read, strict=True)}})


# A value column is numbered by its texts while it has at most one distinct text per DISTINCT_SHARE lines read so
# far; past that it is copied out and dictionary-encoded by Arrow (cheaper for mostly distinct texts), as zscaler.py
# does.
DISTINCT_SHARE = 4
# Lines read at a time: about a core's L2 cache of text (2 MiB), so that the numbering finds a line's bytes in the
# cache the walk left them in (as zscaler.TOKEN_BYTES).
SLICE_BYTES = 2 << 20


def walked_slices(text: pa.ChunkedArray, trie: PathTrie
                  ) -> Iterator[tuple[int, int, pa.Buffer, np.ndarray, tuple[np.ndarray, ...]]]:
    """The lines in slices of ~SLICE_BYTES, each walked by json_scan (a line without text doubtful: DuckDB says what it
    is): its first row, its length, its bytes (buffer and array) and the walk's (begin, end, missing, spaced, doubtful).
    Sliced so that a caller reads each slice's values while its lines are in the cache."""
    from detector.ingest import json_scan  # (Numba only for the parsers that walk: see compiled.py)

    for first_row, part in line_slices(text):
        buffer, data, offsets = line_bytes(part)
        spans = json_scan.spans(data, offsets, trie)
        if part.null_count:
            spans[4][:] |= ~pc.is_valid(part).to_numpy(zero_copy_only=False)
        yield first_row, len(part), buffer, data, spans


def line_slices(text: pa.ChunkedArray) -> Iterator[tuple[int, pa.Array]]:
    """The lines in slices of ~SLICE_BYTES of their chunks, each with its first row: walked and read one slice at a
    time, a slice's lines are still in the cache when its values are read."""
    first_row = 0
    for chunk in text.chunks:
        size = (pc.sum(pc.binary_length(chunk)).as_py() or 0) / SLICE_BYTES
        for start, length in even_parts(len(chunk), size):
            yield first_row, chunk.slice(start, length)
            first_row += length


def walked_lines(text: pa.Array, trie: PathTrie) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The lines walked by json_scan at once: their bytes and the walk's begin, end, missing and doubtful (a line
    without text doubtful: DuckDB says what it is; a doubtful line's values missing)."""
    from detector.ingest import json_scan  # (Numba only for the parsers that walk: see compiled.py)

    _, data, offsets = line_bytes(text)
    begin, end, missing, _, doubtful = json_scan.spans(data, offsets, trie)
    if text.null_count:
        doubtful |= ~pc.is_valid(text).to_numpy(zero_copy_only=False)
    if doubtful.any():
        missing[doubtful] = True
    return data, begin, end, missing, doubtful


def read_values(text: pa.ChunkedArray, trie: PathTrie) -> tuple[list[pa.Array], np.ndarray]:
    """Each slot's values on the lines (dictionary-encoded, or plain where copied out; null where missing or on a
    doubtful line), and the doubtful lines' numbers."""
    from detector.ingest import texts_scan  # (Numba only for this format's parsers: see compiled.py)

    distinct = texts_scan.DistinctTexts()
    parts: list[list[pa.Array | np.ndarray]] = [[] for _ in range(trie.slots)]
    spaced_parts: list[list[tuple[np.ndarray, pa.Array]]] = [[] for _ in range(trie.slots)]
    doubtful_rows = []
    for first_row, _, buffer, data, (begin, end, missing, spaced, doubtful) in walked_slices(text, trie):
        if doubtful.any():
            missing[doubtful] = True
            spaced[doubtful] = False
            doubtful_rows.append(np.flatnonzero(doubtful) + first_row)
        for slot in np.flatnonzero(spaced.any(axis=0)):  # (cut out as they are, minified below)
            rows = np.flatnonzero(spaced[:, slot])
            texts = byte_spans.spans(buffer, begin[rows, slot], end[rows, slot])
            spaced_parts[slot].append((rows + first_row, texts))
            missing[rows, slot] = True
        copied = distinct.many_texts(trie.slots, first_row, DISTINCT_SHARE)
        numbered = np.where(copied, -1, np.arange(trie.slots)).astype(np.int64)
        codes, _, _ = distinct.read(data, begin, end, missing, numbered, np.empty(0, np.int64))
        for slot in range(trie.slots):
            parts[slot].append(codes[slot] if not copied[slot] else None)
        if copied.any():
            for slot, values in copied_out(data, begin, end, missing, np.flatnonzero(copied)).items():
                parts[slot][-1] = values
    dictionaries = distinct.dictionaries(trie.slots)
    columns = []
    for slot in range(trie.slots):
        codes = [part for part in parts[slot] if isinstance(part, np.ndarray)]
        indices = np.concatenate(codes) if codes else np.empty(0, np.int32)
        numbered_values = pa.DictionaryArray.from_arrays(pa.array(indices, mask=indices < 0), dictionaries[slot])
        if len(codes) == len(parts[slot]):
            columns.append(numbered_values)
        else:  # (numbered in the first slices, copied out in the others)
            columns.append(pa.concat_arrays([numbered_values.dictionary_decode(), *parts[slot][len(codes):]]))
    for slot in range(trie.slots):
        if spaced_parts[slot]:
            rows = np.concatenate([at for at, _ in spaced_parts[slot]])
            others = np.ones(len(text), bool)
            others[rows] = False
            columns[slot] = placed(len(text), [
                (np.flatnonzero(others), columns[slot].filter(pa.array(others))),
                (rows, _minified(pa.concat_arrays([texts for _, texts in spaced_parts[slot]])))])
    rows = np.concatenate(doubtful_rows) if doubtful_rows else np.empty(0, np.int64)
    return [unescaped(column) for column in columns], rows


# JSON's whitespace between tokens, and strings without escapes (the walk sends containers with escapes to DuckDB)
_BETWEEN_TOKENS = re.compile(r'("[^"]*")|[ \t\n\r]+')


def _minified(values: pa.Array) -> pa.DictionaryArray:
    """Objects' and arrays' texts without the whitespace between their tokens, as yyjson writes them (the texts hold
    no escape), once per distinct text."""
    column = pc.dictionary_encode(values)
    texts = [_BETWEEN_TOKENS.sub(lambda found: found.group(1) or "", text) for text in column.dictionary.to_pylist()]
    return pa.DictionaryArray.from_arrays(column.indices, pa.array(texts, pa.string()))


def unescaped(values: pa.Array) -> pa.Array:
    """String values with their escapes read (the kernel let through only `\\`, `\\"`, `\\/`, `\\b`, `\\f`,
    `\\n`, `\\r`, `\\t`, and only in strings: a backslash in a value is one), once per distinct text."""
    dictionary = values.dictionary if isinstance(values, pa.DictionaryArray) else values
    if (pa.types.is_string(dictionary.type) or pa.types.is_large_string(dictionary.type)) and \
            not holds_byte(dictionary, BACKSLASH):  # (most columns hold none: no look at each text)
        return values
    escaped = pc.fill_null(pc.match_substring(dictionary, "\\"), False)
    if not pc.any(escaped).as_py():
        return values
    if not isinstance(values, pa.DictionaryArray):
        return unescaped(pc.dictionary_encode(values))
    texts = dictionary.to_pylist()
    for at in np.flatnonzero(escaped.to_numpy(zero_copy_only=False)):
        texts[at] = json.loads(f'"{texts[at]}"')
    return pa.DictionaryArray.from_arrays(values.indices, pa.array(texts, pa.string()))


def holds_byte(texts: pa.Array, byte: int) -> bool:
    """Whether a string array's text buffer holds `byte` (the C library's memchr, ~1.7 ms per 56 MB, no copy; numpy's
    `==` where ctypes finds no C library, ~11 ms). Arrow's match_substring of each text costs ~11 ms per 131k URLs."""
    buffer = texts.buffers()[2]
    if buffer is None or not buffer.size:
        return False
    if _MEMCHR is not None:
        return bool(_MEMCHR(buffer.address, byte, buffer.size))
    return bool((np.frombuffer(buffer, np.uint8) == byte).any())


def _libc_memchr() -> Callable[[int, int, int], int | None] | None:
    """libc's memchr, where ctypes finds the C library."""
    try:
        memchr = ctypes.CDLL(None).memchr
    except (OSError, AttributeError, TypeError):
        return None
    memchr.restype = ctypes.c_void_p
    memchr.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    return memchr  # type: ignore[no-any-return]


_MEMCHR = _libc_memchr()
BACKSLASH = 92


def copied_out(data: np.ndarray, begin: np.ndarray, end: np.ndarray, missing: np.ndarray, slots: np.ndarray
               ) -> dict[int, pa.Array]:
    """The values of `slots` copied out as plain texts (null where missing)."""
    from detector.ingest import texts_scan

    count = len(begin)
    wanted = slots.astype(np.int64)
    if len(wanted) == begin.shape[1] and (wanted == np.arange(len(wanted))).all():  # (every slot: no gather)
        sizes = np.maximum(end - begin, 0).sum(axis=0, dtype=np.int64)
    else:
        sizes = np.maximum(end[:, wanted] - begin[:, wanted], 0).sum(axis=0, dtype=np.int64)
    base = np.concatenate([[0], np.cumsum(sizes + 8)]).astype(np.int64)  # (8 bytes to spare each)
    offsets = np.empty((len(wanted), count + 1), np.int32)
    out = np.empty(int(base[-1]), np.uint8)
    texts_scan.copied_texts(data, begin, end, missing, wanted, base, offsets, out)
    values = {}
    for j, slot in enumerate(wanted):
        absent = missing[:, slot]
        validity = pa.py_buffer(np.packbits(~absent, bitorder="little")) if absent.any() else None
        values[int(slot)] = pa.Array.from_buffers(pa.string(), count, [
            validity, pa.py_buffer(offsets[j]), pa.py_buffer(out[base[j]:base[j] + sizes[j]])],
            null_count=int(absent.sum()))
    return values
