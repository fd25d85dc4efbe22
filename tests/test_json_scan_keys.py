"""json_scan's key lookup (a hash table of parent, length and first eight bytes) finds exactly the wanted keys, and a
slot that takes fractions reads a number with decimals as written only where its text is the number yyjson writes.

Keys chosen to meet in the table: the same first eight bytes, the same length, one key under two parents, keys that are
a wanted key's prefix or extension, keys shorter than a word at the end of the buffer. JSON numbers as RFC 8259 writes
them (https://www.rfc-editor.org/rfc/rfc8259#section-6); DuckDB's `json_extract_string` of a double gives yyjson's
shortest text of it (https://duckdb.org/docs/stable/data/json/json_functions).
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import numpy as np
import pytest

from detector.ingest import json_scan

PATHS = (("abcdefgh1",), ("abcdefgh2",), ("a", "abcdefgh1"), ("b", "a"), ("a",), ("ab",), ("abcdefghij",),
         ("b", "abcdefgh2"))


def _spans(lines: list[bytes], paths: tuple[tuple[str, ...], ...], fractions: tuple[int, ...] = ()
           ) -> list[list[str | None] | None]:
    """Each line's value per slot (text as it stands), None for a doubtful line."""
    data = np.frombuffer(b"".join(lines) or b" ", np.uint8)
    offsets = np.concatenate([[0], np.cumsum([len(line) for line in lines])]).astype(np.int64)
    begin, end, missing, _, doubtful = json_scan.spans(data, offsets, json_scan.PathTrie(paths, fractions))
    read: list[list[str | None] | None] = []
    for line in range(len(lines)):
        read.append(None if doubtful[line] else [
            None if missing[line, slot] else bytes(data[begin[line, slot]:end[line, slot]]).decode()
            for slot in range(len(paths))])
    return read


def test_each_wanted_key_found_and_no_other() -> None:
    line = (b'{"abcdefgh3":0,"abcdefgh2":"two","abcdefgh1":"one","abcdefghi":9,"abcdefghij":"ten",'
            b'"a":{"abcdefgh1":"inner","abcdefgh2":"not wanted","a":1},"b":{"a":"ba","abcdefgh1":"x"},"ab":"AB",'
            b'"abc":"c","":"empty"}')
    assert _spans([line], PATHS) == [["one", "two", "inner", "ba", '{"abcdefgh1":"inner","abcdefgh2":"not wanted","a":1}',
                                      "AB", "ten", None]]


@pytest.mark.parametrize("key", ["a", "ab", "abcdefgh1", "abcdefghij", "b"])
def test_a_key_at_the_end_of_the_buffer(key: str) -> None:
    # (the last line's key read byte by byte: fewer than eight bytes after it)
    assert _spans([b'{"x":1}', f'{{"{key}":7}}'.encode()], ((key,), ("zz",))) == [[None, None], ["7", None]]


def test_a_repeated_wanted_key_is_doubtful_but_not_one_under_another_parent() -> None:
    assert _spans([b'{"a":{"a":1},"ab":1,"ab":2}', b'{"b":{"a":1},"a":{"abcdefgh1":2}}'], PATHS)[0] is None
    assert _spans([b'{"b":{"a":"x"},"a":{"abcdefgh1":"y"}}'], PATHS)[0][2:4] == ["y", "x"]


# number as written -> read in a slot that takes fractions (its text) or doubtful (None)
FRACTIONS = {"1.5": "1.5", "1763452840.123456": "1763452840.123456", "1763452840.100000": "1763452840.100000",
             "8589934591.999999": "8589934591.999999", "-2.25": "-2.25", "0.000001": "0.000001", "12": "12",
             "8589934592.5": None, "1763452840.1234567": None, "1.5e3": None, "1E2": None, "-0.5": None,
             "12345678901.5": None}


@pytest.mark.parametrize(("number", "read"), FRACTIONS.items())
def test_fractions_read_as_written_where_yyjson_writes_the_same_number(number: str, read: str | None) -> None:
    lines = [f'{{"ts":{number},"n":{number}}}'.encode(), f'{{"ts":{number}}}'.encode(),
             f'{{"ts":1,"v":[{number}]}}'.encode()]
    found = _spans(lines, (("ts",), ("n",), ("v",)), fractions=(0, 2))
    whole = "." not in number and "e" not in number.lower()
    assert found[0] == ([read, number, None] if whole else None)  # (`n` takes no fraction)
    assert found[1] == (None if read is None else [read, None, None])
    assert found[2] == ([number and "1", None, f"[{number}]"] if whole else None)  # (none inside an array)
    if read is not None:  # the same number as DuckDB's text of the line's double
        text = duckdb.sql(f"select json_extract_string('{lines[1].decode()}', '$.ts')").fetchall()[0][0]
        assert Decimal(text) == Decimal(read)


def test_a_string_where_a_container_is_read_is_doubtful() -> None:
    lines = [b'{"q":[{"n":"a"}],"s":"x"}', b'{"q":"[{\\"n\\":\\"a\\"}]","s":"x"}', b'{"q":{"n":1},"s":"x"}',
             b'{"q":7,"s":"x"}', b'{"s":"x"}']
    found = _spans(lines, (("q",), ("s",)))
    assert found[1] == ['[{\\"n\\":\\"a\\"}]', "x"]  # (the caller reads such a string itself)
    walked = json_scan.spans(np.frombuffer(b"".join(lines), np.uint8),
                             np.concatenate([[0], np.cumsum([len(line) for line in lines])]).astype(np.int64),
                             json_scan.PathTrie((("q",), ("s",)), containers=(0,)))
    assert walked[4].tolist() == [False, True, False, False, False]


def test_a_spaced_container_is_doubtful_where_the_caller_reads_compact_ones_only() -> None:
    lines = [b'{"q":[1,2], "s":"x"}', b'{"q":[1, 2],"s":"x"}', b'{"q":{"a" : 1},"s":"x"}', b'{"q":[ ],"s":"x"}']
    data = np.frombuffer(b"".join(lines), np.uint8)
    offsets = np.concatenate([[0], np.cumsum([len(line) for line in lines])]).astype(np.int64)
    for compact, doubtful in ((False, [False] * 4), (True, [False, True, True, True])):
        _, _, _, spaced, walked = json_scan.spans(data, offsets, json_scan.PathTrie((("q",), ("s",)), compact=compact))
        assert walked.tolist() == doubtful
        if not compact:  # (a doubtful line's slots say nothing)
            assert spaced[:, 0].tolist() == [False, True, True, True]
