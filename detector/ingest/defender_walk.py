"""Defender streaming API records read by a compiled walk (json_scan.read_inside: json_scan's walk of the line, with
AdditionalFields read where it stands), where defender.QUERY (DuckDB's JSON reader) read every line: the same columns,
the lines the walk doubts still read by that query.

One walk of each line finds the record's values (defender.PATHS); the category and an inspection ActionType are
compared where they stand (defender_scan.named); the other values are numbered by their texts while they repeat and
copied out once they mostly differ (texts_scan, as json_read reads the format `json`), their escapes read once per
distinct text (json_read.unescaped). An inspection record's AdditionalFields (a JSON string holding the Zeek record's
JSON, or that object itself) is read by the same walk where it stands (in its escaped text, or the object as written):
the inspection keys' values (defender_inspection.KEYS; each row keeps only its kind's, as kind_keys_sql reads them)
copied into a buffer, the outer escapes read; where that reading gives up (json_scan.read_inside says on what), its
text is copied there whole and json_scan walks the copy, as before. The values in that buffer are numbered or copied
out (defender_scan.unescaped). The time is cast, and the keys whose columns the query made per row
(defender_inspection.PER_ROW) are made, by DuckDB once per distinct text, with the query's own SQL.

A line is doubtful (read by the query, which decides) where the walk doubts it (see json_scan), where a container it
reads is spaced, where AdditionalFields of an inspection record is neither a string nor an object, or where the
walk doubts that record's inner JSON (no JSON object, a repeated key, a fraction at a key read ...).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest import defender_inspection as inspection
from detector.ingest.arrow_ops import DistinctQuery, only_where, per_distinct
from detector.ingest.distinct_sql import plain
from detector.ingest.json_read import DISTINCT_SHARE, copied_out, line_slices, unescaped
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.proxy_columns import placed

if TYPE_CHECKING:
    from detector.ingest.json_scan import PathTrie
    from detector.ingest.texts_scan import DistinctTexts

QUOTE, OPEN_BRACE = 34, 123
# The paths' slots (defender.PATHS' order)
CATEGORY, TIME, ACTION, FIELDS = 0, 1, 2, 11
# Each kind's keys among inspection.KEYS (a row keeps only its kind's)
KIND_KEEPS = np.array([[key in keys for key in inspection.KEYS] for keys in inspection.KIND_KEYS])


class Walk:
    """The compiled walk of a file's lines (its kernels imported when first needed: a file of Event Hubs messages
    never loads Numba), and whether it is still tried: not after a batch where it doubted most lines."""

    def __init__(self, paths: tuple[str, ...], names: tuple[str, ...], categories: tuple[str, str]) -> None:
        self.paths, self.names, self.categories = paths, names, categories
        self.tried = True
        self._lock = threading.Lock()
        self._ready = False
        self.time = DistinctQuery("select try_cast(value as timestamptz) as ts from distinct_values")
        self.per_row = {key: DistinctQuery(f"select {columns.format('value')} from distinct_values")
                        for key, columns in inspection.KEY_COLUMNS if key in inspection.PER_ROW}

    def _load(self) -> None:
        with self._lock:
            if self._ready:
                return
            from detector.ingest import defender_scan, json_scan  # (Numba only when a batch is walked)

            self.json_scan, self.scan = json_scan, defender_scan
            self.outer: PathTrie = json_scan.PathTrie([tuple(path.split(".")) for path in self.paths])
            self.inner: PathTrie = json_scan.PathTrie([(key,) for key in inspection.KEYS])
            self.category_names = _names(self.categories)
            self.action_names = _names(inspection.INSPECTED_ACTIONS)
            self._ready = True

    def columns(self, connection: duckdb.DuckDBPyConnection, text: pa.ChunkedArray
                ) -> tuple[dict[str, pa.Array], np.ndarray]:
        """The query's columns (by name, as defender._values_query gives them) of the lines the walk reads, null on
        the lines it doubts; and those lines' numbers."""
        self._load()
        slots = self.outer.slots
        distinct, inner_distinct = self.scan_texts(), self.scan_texts()
        parts: list[list[pa.Array | np.ndarray | None]] = [[] for _ in range(slots)]
        tables, inner_parts, doubtful_rows = [], [], []
        for first_row, length, data, (begin, end, missing, spaced, doubtful), read_fields in self._slices(text):
            doubtful |= spaced.any(axis=1)
            missing[doubtful] = True
            table = np.empty(length, np.int64)
            self.scan.named(data, begin, end, missing, CATEGORY, *self.category_names, False, table)
            kind = np.empty(length, np.int64)
            self.scan.named(data, begin, end, missing, ACTION, *self.action_names, True, kind)
            kind = np.where((table == 0) & (kind < len(inspection.INSPECTED_ACTIONS)), kind, -1)
            inner, bad = self._inner(data, begin, end, missing, kind, read_fields, inner_distinct, first_row)
            if bad.any():
                doubtful |= bad
                missing[bad] = True
                table[bad] = -1
            if doubtful.any():
                doubtful_rows.append(np.flatnonzero(doubtful) + first_row)
            tables.append(table)
            inner_parts.append(inner)
            copied = distinct.many_texts(slots, first_row, DISTINCT_SHARE)
            copied[[CATEGORY, FIELDS]] = False
            numbered = np.where(copied, -1, np.arange(slots)).astype(np.int64)
            numbered[[CATEGORY, FIELDS]] = -1
            codes, _, _ = distinct.read(data, begin, end, missing, numbered, np.empty(0, np.int64))
            for slot in range(slots):
                parts[slot].append(codes[slot] if numbered[slot] >= 0 else None)
            if copied.any():
                for slot, values in copied_out(data, begin, end, missing, np.flatnonzero(copied)).items():
                    parts[slot][-1] = values
        dictionaries = distinct.dictionaries(slots)
        found: dict[str, pa.Array] = {}
        for slot, name in enumerate(self.names):
            if slot in (CATEGORY, FIELDS):
                continue
            codes = [part for part in parts[slot] if isinstance(part, np.ndarray)]
            indices = np.concatenate(codes) if codes else np.empty(0, np.int32)
            numbered_values = pa.DictionaryArray.from_arrays(pa.array(indices, mask=indices < 0), dictionaries[slot])
            if len(codes) == len(parts[slot]):
                found[name] = unescaped(numbered_values)
            else:
                found[name] = unescaped(pa.concat_arrays([numbered_values.dictionary_decode(),
                                                           *parts[slot][len(codes):]]))
        table = np.concatenate(tables) if tables else np.empty(0, np.int64)
        rows = np.concatenate(doubtful_rows) if doubtful_rows else np.empty(0, np.int64)
        parsed = np.ones(len(text), bool)
        parsed[rows] = False
        time_text = found.pop(self.names[TIME])
        ts = per_distinct(connection, time_text, self.time)["ts"]
        columns: dict[str, pa.Array] = {
            "parsed": pa.array(parsed),
            "ts": ts,
            "table_code": pa.array(np.minimum(table, 2).astype(np.int8), mask=table < 0),
            "time_text": plain(only_where(time_text, pc.is_null(ts))),
            **found,
        }
        inner_columns = _put_together(inner_parts, inner_distinct.dictionaries(len(inspection.KEYS)),
                                      inspection.KEYS)
        for key, names in inspection.PER_ROW.items():
            made = per_distinct(connection, inner_columns.pop(key), self.per_row[key])
            columns.update({name: made[name] for name in names})
        columns.update({f"key_{key}": values for key, values in inner_columns.items()})
        return columns, rows

    def scan_texts(self) -> DistinctTexts:
        """A batch's numbering of texts."""
        from detector.ingest import texts_scan

        return texts_scan.DistinctTexts()

    def _slices(self, text: pa.ChunkedArray) -> Iterator[tuple[int, int, np.ndarray, tuple[np.ndarray, ...],
                                                                tuple[np.ndarray, ...]]]:
        """The lines in slices of ~json_read.SLICE_BYTES (read while they are in the cache), each walked by
        json_scan.read_inside (a line without text doubtful: the query says what it is): its first row, its length, its
        bytes, the walk's (begin, end, missing, spaced, doubtful) and what it read of AdditionalFields (the inner
        keys' begin, end, missing; `again`; its text and offsets)."""
        for first_row, part in line_slices(text):
            _, data, offsets = line_bytes(part)
            spans, inner, again, fields_text, fields_offsets = self.json_scan.read_inside(data, offsets, self.outer,
                                                                                         FIELDS, self.inner)
            if part.null_count:
                spans[4][:] |= ~pc.is_valid(part).to_numpy(zero_copy_only=False)
            yield first_row, len(part), data, spans, (*inner, again, fields_text, fields_offsets)

    def _inner(self, data: np.ndarray, begin: np.ndarray, end: np.ndarray, missing: np.ndarray, kind: np.ndarray,
               fields: tuple[np.ndarray, ...], distinct: DistinctTexts, first_row: int
               ) -> tuple[list[np.ndarray | pa.Array], np.ndarray]:
        """The inspection keys' values of the lines of an inspection record (`kind` >= 0; null elsewhere, and on keys
        of another kind), as the walk read them from their AdditionalFields (`fields`: the keys' spans in its text,
        where the values were copied with their escapes read; on the lines it gave up, `again`, json_scan walks the
        copy of AdditionalFields in that text): per key, its codes among the texts `distinct` numbers (while they
        repeat) or its texts copied out, escapes read; and the lines whose AdditionalFields the walk doubts (their
        values null)."""
        lines = len(kind)
        keys = len(inspection.KEYS)
        wanted = (kind >= 0) & ~missing[:, FIELDS]
        bad = np.zeros(lines, bool)
        if not wanted.any():
            return [np.full(lines, -1, np.int32)] * keys, bad
        fields_begin = begin[:, FIELDS].astype(np.int64)
        before = data[np.maximum(fields_begin - 1, 0)] if len(data) else np.zeros(lines, np.uint8)
        first = data[np.minimum(fields_begin, max(len(data) - 1, 0))] if len(data) else np.zeros(lines, np.uint8)
        quoted = before == QUOTE
        bad |= wanted & ~quoted & (first != OPEN_BRACE)
        wanted &= ~bad
        inner_begin, inner_end, inner_missing, again, text, offsets = fields
        walk = np.flatnonzero(wanted & again)
        if len(walk):  # (AdditionalFields copied out whole: json_scan walks the copies)
            starts, lengths = offsets[walk], offsets[walk + 1] - offsets[walk]
            placed_at = np.concatenate([[0], np.cumsum(lengths)])
            shift = starts - placed_at[:-1]
            copies = text[np.repeat(shift, lengths) + np.arange(placed_at[-1])]
            found_begin, found_end, found_missing, spaced, doubtful = self.json_scan.spans(copies, placed_at,
                                                                                         self.inner)
            inner_begin[walk] = found_begin + shift[:, None]
            inner_end[walk] = found_end + shift[:, None]
            inner_missing[walk] = found_missing
            bad[walk] |= doubtful | spaced.any(axis=1)
        keep = wanted & ~bad
        inner_missing[~keep] = True
        at = np.flatnonzero(keep)
        inner_missing[at] |= ~KIND_KEEPS[kind[at]]
        copied = distinct.many_texts(keys, first_row, DISTINCT_SHARE)
        numbered = np.where(copied, -1, np.arange(keys)).astype(np.int64)
        codes, _, _ = distinct.read(text, inner_begin, inner_end, inner_missing, numbered, np.empty(0, np.int64))
        values: list[np.ndarray | pa.Array] = [codes[slot] for slot in range(keys)]
        for slot in np.flatnonzero(copied):
            absent = inner_missing[:, slot]
            out = np.empty(int(np.where(absent, 0, inner_end[:, slot] - inner_begin[:, slot]).sum()) + 8, np.uint8)
            value_offsets = np.empty(lines + 1, np.int32)
            self.scan.unescaped(text, inner_begin[:, slot], inner_end[:, slot], absent, ~absent, out, value_offsets,
                                bad)
            values[slot] = pa.Array.from_buffers(pa.string(), lines, [
                pa.py_buffer(np.packbits(~absent, bitorder="little")), pa.py_buffer(value_offsets),
                pa.py_buffer(out)], null_count=int(absent.sum()))
        return values, bad


def _put_together(parts: list[list[np.ndarray | pa.Array]], dictionaries: list[pa.Array], keys: tuple[str, ...]
                  ) -> dict[str, pa.Array]:
    """Each key's values of a batch's slices (codes into its dictionary, or texts copied out with their escapes read)
    as one column, the numbered texts' escapes read (json_read.unescaped: once per distinct text)."""
    found = {}
    for slot, key in enumerate(keys):
        pieces: list[pa.Array] = []
        codes: list[np.ndarray] = []
        for part in parts:
            if isinstance(part[slot], np.ndarray):
                codes.append(part[slot])
                continue
            if codes:
                pieces.append(_numbered(codes, dictionaries[slot]))
                codes = []
            pieces.append(part[slot])
        if codes or not pieces:
            pieces.append(_numbered(codes, dictionaries[slot]))
        found[key] = pieces[0] if len(pieces) == 1 else pa.concat_arrays([plain(piece) for piece in pieces])
    return found


def _numbered(codes: list[np.ndarray], dictionary: pa.Array) -> pa.DictionaryArray:
    """Codes (-1: null) into `dictionary` (texts as written), as one dictionary array, escapes read."""
    indices = np.concatenate(codes) if codes else np.empty(0, np.int32)
    return unescaped(pa.DictionaryArray.from_arrays(pa.array(indices, mask=indices < 0), dictionary))


def _names(names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Names as defender_scan.named compares them: their bytes one after the other, each one's start and length."""
    encoded = [name.encode() for name in names]
    lengths = np.array([len(name) for name in encoded], np.int64)
    return (np.frombuffer(b"".join(encoded) + b" ", np.uint8).copy(),
            np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64), lengths)


def put_together(rows: int, walked: dict[str, pa.Array], doubtful: np.ndarray, read: dict[str, pa.Array]
                 ) -> dict[str, pa.Array]:
    """The walk's columns with the query's on the lines it doubted (`read`: those lines' columns, in their order)."""
    if not len(doubtful):
        return walked
    kept = np.ones(rows, bool)
    kept[doubtful] = False
    kept_rows, mask = np.flatnonzero(kept), pa.array(kept)
    order = np.empty(rows, np.int64)
    order[kept_rows] = np.arange(len(kept_rows))
    order[doubtful] = len(kept_rows) + np.arange(len(doubtful))
    index = pa.array(order)
    together = {}
    for name, column in read.items():
        mine = walked[name]
        if pa.types.is_dictionary(mine.type) or pa.types.is_string(mine.type):
            together[name] = placed(rows, [(kept_rows, mine.filter(mask)), (doubtful, column)])
            if name == "time_text":
                together[name] = plain(together[name])
        else:
            together[name] = pa.concat_arrays([mine.filter(mask), column.cast(mine.type)]).take(index)
    return together
