"""Zeek's JSON lines read by json_scan's compiled walk (as the formats json and suricata_eve read theirs): one pass
over each line's bytes validates it and finds where each wanted key's value is, and the values are copied out as
text in one more pass (texts_scan.copied_texts), as DuckDB's `json_extract_string` gives them. The lines the walk
doubts (escaped keys, a repeated key, a fraction it cannot vouch for, a spaced array, broken lines: see json_scan)
are read by zeek.py's DuckDB query, which decides what they hold.

What Zeek's logs need beside the format `json`'s reading:
- its times (`ts`, conn's `duration`) are numbers with decimals, which the walk leaves to DuckDB elsewhere (yyjson
  writes a double's shortest text: `1.50` as `1.5`); here they are read as written where json_scan vouches that it is
  the same number (PathTrie's `fractions`), and zeek.py reads both as that number;
- a vector read for its first element (http's `resp_mime_types`): the walk finds the array, whose first item is read
  once per distinct array text (FIRST_SQL); a line where such a key holds a string is doubtful (`$.key[0]` of a
  string is null, the string's text would be read as JSON).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa

from detector.ingest.arrow_ops import DistinctQuery, per_distinct
from detector.ingest.json_read import copied_out, unescaped, walked_lines

if TYPE_CHECKING:
    from detector.ingest.json_scan import PathTrie

# an array's text (as the walk copies it) -> its first item as `json_extract_string(line, '$.key[0]')` gives it
FIRST_SQL = "select json_extract_string(value, '$[0]') as value from distinct_values"


class Walk:
    """The compiled walk of a file's JSON lines (per set of keys its trie, made once), the per-distinct query of
    first items, and whether the walk is still tried: not after a batch where it doubted most lines (a file of
    spaced JSON, say), which DuckDB then reads alone."""

    def __init__(self) -> None:
        from detector.ingest import json_scan  # (Numba only once a file has JSON lines: see compiled.py)

        self._module = json_scan
        self._tries: dict[tuple[tuple[str, ...], tuple[int, ...]], PathTrie] = {}
        self.first = DistinctQuery(FIRST_SQL)
        self.tried = True

    def values(self, connection: duckdb.DuckDBPyConnection, text: pa.Array, keys: tuple[str, ...],
               firsts: tuple[int, ...], fractions: tuple[int, ...]) -> tuple[list[pa.Array], np.ndarray]:
        """Each key's value on the lines (text, null where missing or on a doubtful line; for the keys at `firsts`,
        their array's first item), numbers with decimals read as written at `fractions`; and the doubtful lines'
        numbers."""
        if (keys, fractions) not in self._tries:  # (`firsts` follow from the keys)
            # (a spaced array, or a string where a vector's first item is read: doubtful; Zeek writes compact JSON,
            # so such lines are rare enough for DuckDB; `$.key[0]` of a string is null, its text would be read as JSON)
            self._tries[keys, fractions] = self._module.PathTrie([(key,) for key in keys], fractions, firsts,
                                                                 compact=True)
        trie = self._tries[keys, fractions]
        data, begin, end, missing, doubtful = walked_lines(text, trie)
        copied = copied_out(data, begin, end, missing, np.arange(len(keys)))
        columns = [unescaped(copied[slot]) for slot in range(len(keys))]
        for slot in firsts:
            columns[slot] = per_distinct(connection, columns[slot], self.first)["value"]
        rows = np.flatnonzero(doubtful)
        if 2 * len(rows) > len(text):
            self.tried = False
        return [_plain(column) for column in columns], rows


def _plain(values: pa.Array) -> pa.Array:
    """A column as plain text (a dictionary-encoded one decoded)."""
    return values.dictionary_decode() if isinstance(values, pa.DictionaryArray) else values


class LazyWalk:
    """A Walk made (and Numba loaded) when a file's first JSON batch needs it: Zeek's TSV files never load it."""

    def __init__(self) -> None:
        self._walk: Walk | None = None

    @property
    def tried(self) -> bool:
        """Whether the walk is (still) tried for the file (Walk.tried)."""
        return self._walk is None or self._walk.tried

    def values(self, connection: duckdb.DuckDBPyConnection, text: pa.Array, keys: tuple[str, ...],
               firsts: tuple[int, ...], fractions: tuple[int, ...]) -> tuple[list[pa.Array], np.ndarray]:
        """Walk.values, the walk made first (two parse threads may each make one: the same walk)."""
        if self._walk is None:
            self._walk = Walk()
        return self._walk.values(connection, text, keys, firsts, fractions)


def read_lines(connection: duckdb.DuckDBPyConnection, walk: LazyWalk, text: pa.Array, names: tuple[str, ...],
               keys: tuple[str, ...], firsts: tuple[int, ...], fractions: tuple[int, ...],
               queried: Callable[[pa.Array], pa.Table]) -> pa.Table:
    """The table zeek's JSON query gives for these lines (`reject_reason` and a column per name, the value of its key),
    read by the walk; `queried` reads the lines it doubts (that query on just those lines), their values put in
    their rows."""
    values, doubtful = walk.values(connection, text, keys, firsts, fractions)
    reason = pa.nulls(len(text), pa.string())
    if len(doubtful):
        read = queried(text.take(pa.array(doubtful)))
        index = np.arange(len(text))
        index[doubtful] = len(text) + np.arange(len(doubtful))
        place = pa.array(index)

        def put(walked: pa.Array, column: pa.ChunkedArray) -> pa.Array:
            return pa.concat_arrays([walked, *column.cast(pa.string()).chunks]).take(place)

        reason = put(reason, read.column("reject_reason"))
        values = [put(value, read.column(name)) for value, name in zip(values, names, strict=True)]
    return pa.table({"reject_reason": reason, **dict(zip(names, values, strict=True))})
