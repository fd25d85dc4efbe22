"""Suricata EVE lines read by json_scan's compiled walk (as the format `json` reads its lines, json_read): one pass
over each line's bytes validates it and finds where every wanted path's value is; each line's record type is read
from there, and its type's values copied out as text in one more pass over the lines (suricata_eve_scan), a run per
type and path, as DuckDB's query gave them.

What EVE needs beside json_read:
- values copied out as text, not numbered by their texts: most of an EVE line's values differ from line to line
  (times, ports, flow ids), and the format's columns are made per record type from text (suricata_eve's notes);
- paths with an array index (`dns.queries[0].rrname`): the walk finds the array (`dns.queries`), whose items the
  caller reads once per distinct array text; a line where such a path holds a string is doubtful;
- a container read whole (DNS `answers`) written with whitespace between its tokens makes its line doubtful
  (json_read minifies it: Suricata writes compact JSON, so such lines are rare enough for DuckDB).
The walk itself makes those two kinds of line doubtful (json_scan's PathTrie `containers` and `compact`), where numpy
looked at every line's spans after it (the spaced flags of all ~37 slots, the bytes before each array's value): ~7 ms
per 131k dns_versions lines, ~4 % of their parse.

Doubtful lines (see json_scan: anything the walk cannot vouch for) are read by the caller with DuckDB, which decides
what they hold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from detector.ingest.json_read import BACKSLASH, holds_byte, unescaped, walked_lines
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.row_edits import with_rows

if TYPE_CHECKING:
    from detector.ingest.json_scan import PathTrie


def walked_path(path: str) -> str:
    """The path the walk reads for `path`: itself, or for `a.b[0].c` the array `a.b`."""
    return path.split("[", 1)[0]


class Walk:
    """The compiled walk of a file's lines, the key trie of each set of paths it is asked for, and whether it is
    still tried: not after a batch where it doubted most lines (DuckDB then reads them alone)."""

    def __init__(self) -> None:
        # (Numba only when a parser is made: see compiled.py)
        from detector.ingest import json_scan, suricata_eve_scan

        self._module = json_scan
        self._scan = suricata_eve_scan
        self._tries: dict[tuple[str, ...], tuple[dict[str, int], PathTrie, np.ndarray]] = {}
        self.tried = True

    def _trie(self, paths: tuple[str, ...]) -> tuple[dict[str, int], PathTrie, np.ndarray]:
        """Each walked path's slot for dotted `paths` (a path with an array index read as its array), their trie,
        and the slots that are such arrays (made once per set of paths)."""
        if paths not in self._tries:
            walked = tuple(dict.fromkeys(walked_path(path) for path in paths))
            arrays = np.array([at for at, path in enumerate(walked) if any(
                walked_path(wanted) == path and wanted != path for wanted in paths)], np.int64)
            # (a spaced container read whole, or an array's path holding a string: doubtful, DuckDB says what it is)
            trie = self._module.PathTrie([tuple(path.split(".")) for path in walked], containers=arrays.tolist(),
                                         compact=True)
            self._tries[paths] = {path: at for at, path in enumerate(walked)}, trie, arrays
        return self._tries[paths]

    def grouped(self, text: pa.Array, paths: tuple[str, ...], key: str, named: dict[str, int], other: int,
                group_paths: dict[int, tuple[str, ...]]) -> tuple[np.ndarray, dict[int, Group]]:
        """The lines grouped by the text of their `key` path (`named`: a text's group, compared as written, no
        escape read; `other` for any other text; -1 where a line has none, -2 where the walk doubts it), and per group
        of `group_paths` (numbered from 0) its rows and those paths' values as text (null where missing). `paths`:
        every path of every group. The whole batch is walked at once, then its values copied out in one pass over the
        lines, each line's values while it is in the cache (suricata_eve_scan)."""
        slots, trie, _ = self._trie(paths)
        data, begin, end, missing, doubtful = walked_lines(text, trie)
        names = [name.encode() for name in named]
        groups = np.empty(len(text), np.int64)
        self._scan.named_groups(data, begin, end, missing, slots[key], np.frombuffer(b"".join(names) + b" ", np.uint8),
                                np.cumsum([0] + [len(name) for name in names[:-1]]).astype(np.int64),
                                np.array([len(name) for name in names], np.int64),
                                np.array(list(named.values()), np.int64), other, groups)
        groups[doubtful] = -2
        count = max(group_paths) + 1 if group_paths else 0
        fields = np.full((count, max((len(wanted) for wanted in group_paths.values()), default=0)), -1, np.int64)
        for number, wanted in group_paths.items():
            fields[number, :len(wanted)] = [slots[path] for path in wanted]
        copied = np.where(groups < count, groups, -1)
        sizes = np.zeros(fields.shape, np.int64)
        counts = np.zeros(count, np.int64)
        self._scan.group_sizes(begin, end, missing, copied, fields, sizes, counts)
        base = np.concatenate([[0], np.cumsum(sizes + 8)])[:-1].reshape(fields.shape).astype(np.int64)
        runs = np.where(fields >= 0, counts[:, None] + 1, 0)
        offset_base = np.concatenate([[0], np.cumsum(runs)])[:-1].reshape(fields.shape).astype(np.int64)
        out = np.empty(int(sizes.sum() + 8 * sizes.size), np.uint8)
        value_offsets = np.empty(int(runs.sum()), np.int32)
        absent = np.empty(int(runs.sum()), bool)
        self._scan.copied_by_group(data, begin, end, missing, copied, fields, base, offset_base, out, value_offsets,
                                   absent)
        escaped = _escaped_lines(text, data) if holds_byte(text, BACKSLASH) else None
        found = {}
        for number, wanted in group_paths.items():
            if not counts[number]:
                continue
            rows = np.flatnonzero(groups == number)
            values = {}
            for k, path in enumerate(wanted):
                at, lines = offset_base[number, k], counts[number]
                gone = absent[at:at + lines]
                missed = int(gone.sum())
                values[path] = pa.Array.from_buffers(pa.string(), lines, [
                    pa.py_buffer(np.packbits(~gone, bitorder="little")) if missed else None,
                    pa.py_buffer(value_offsets[at:at + lines + 1]),
                    pa.py_buffer(out[base[number, k]:base[number, k] + sizes[number, k]])], null_count=missed)
            if escaped is not None and escaped[rows].any():
                at_escaped = np.flatnonzero(escaped[rows])
                values = {path: _unescaped_rows(column, at_escaped) for path, column in values.items()}
            found[number] = Group(rows, values)
        return groups, found


class Group:
    """A group's rows (in batch order) and its paths' values on them."""

    def __init__(self, rows: np.ndarray, values: dict[str, pa.Array]) -> None:
        self.rows, self.values = rows, values


def _escaped_lines(text: pa.Array, data: np.ndarray) -> np.ndarray:
    """Which lines hold a backslash (the only lines whose values may have escapes to read)."""
    _, _, offsets = line_bytes(text)
    lines = np.zeros(len(text), bool)
    at = np.flatnonzero(data[offsets[0]:offsets[-1]] == BACKSLASH) + offsets[0]
    lines[np.searchsorted(offsets, at, side="right") - 1] = True
    return lines


def _unescaped_rows(values: pa.Array, rows: np.ndarray) -> pa.Array:
    """Plain text values with the escapes of these rows' values read (json_read.unescaped, once per distinct
    text); the other rows as they are."""
    read = unescaped(values.take(pa.array(rows)))
    if isinstance(read, pa.DictionaryArray):
        read = read.dictionary_decode()
    return with_rows(values, rows, read)
