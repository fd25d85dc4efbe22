"""The compiled reading of JSON lines (json_scan): what it reads equals DuckDB's `json_extract_string` of the same
paths, and every line outside its subset is left to DuckDB (doubtful).

Lines written from the JSON grammar (RFC 8259, https://www.rfc-editor.org/rfc/rfc8259: objects, arrays, strings
with their escapes, numbers with fraction and exponent, literals, whitespace between tokens) and DuckDB's JSON
extraction (https://duckdb.org/docs/stable/data/json/json_functions: `json_extract_string` gives a string's text
unescaped, any other value as JSON text, NULL for a JSON null or a missing key), with keys of the Elastic Common
Schema (https://www.elastic.co/guide/en/ecs/current/ecs-field-reference.html) and OCSF HTTP Activity
(https://schema.ocsf.io/classes/http_activity).
"""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.ingest import json_read, json_scan
from detector.ingest.json_keys import json_path

PATHS = (("@timestamp",), ("source", "ip"), ("url", "full"), ("http", "response", "status_code"), ("event", "type"),
         ("user", "name"), ("http", "request", "bytes"), ("url",))


def _duckdb_values(lines: list[str], paths: tuple[tuple[str, ...], ...]) -> list[list[str | None] | None]:
    """DuckDB's reading of each line (None where it is no valid JSON), one line at a time."""
    connection = duckdb.connect()
    listed = [json_path(path) for path in paths]
    read = []
    for line in lines:
        valid = connection.execute("select json_valid($l)", {"l": line}).fetchone()[0]
        read.append(connection.execute("select json_extract_string($l, $p)", {"l": line, "p": listed}).fetchone()[0]
                    if valid else None)
    return read


def _scanned(lines: list[str], paths: tuple[tuple[str, ...], ...]) -> tuple[list[list[str | None]], np.ndarray]:
    values, doubtful = json_read.read_values(pa.chunked_array([pa.array(lines, pa.string())]),
                                             json_scan.PathTrie(paths))
    rows = [list(row) for row in zip(*(value.to_pylist() for value in values), strict=True)]
    flags = np.zeros(len(lines), bool)
    flags[doubtful] = True
    return rows, flags


def _assert_as_duckdb(lines: list[str], paths: tuple[tuple[str, ...], ...] = PATHS) -> np.ndarray:
    """Every line read (not doubtful) has DuckDB's values; returns which lines were doubtful."""
    rows, doubtful = _scanned(lines, paths)
    expected = _duckdb_values(lines, paths)
    for line, row, flag, wanted in zip(lines, rows, doubtful, expected, strict=True):
        if not flag:
            assert wanted is not None, f"read a line DuckDB finds invalid: {line!r}"
            assert row == wanted, line
        else:
            assert row == [None] * len(paths), line  # (a doubtful line's values come from DuckDB)
    return doubtful


def test_ecs_and_ocsf_lines_are_read_as_duckdb_reads_them() -> None:
    lines = [
        '{"@timestamp":"2026-11-23T08:01:12.345Z","source":{"ip":"10.20.1.15","port":51544},"url":{"full":'
        '"https://chatgpt.com/backend-api/conversation"},"http":{"request":{"method":"POST","bytes":48211},'
        '"response":{"status_code":200}},"user":{"name":"j.devries"},"event":{"type":["connection","denied"]}}',
        # whitespace between tokens (json.dumps' default), a key missing, a null, booleans
        '{ "@timestamp" : 1795420872000 , "source" : { "ip" : null } , "url" : "plain text" ,'
        ' "http" : { "response" : { "status_code" : true } } , "event" : { "type" : false } }',
        # an escaped user name (DOMAIN\\user) and escapes JSON allows in a string, read unescaped
        '{"@timestamp":"a\\/b \\"q\\" \\t\\n\\r\\b\\f","user":{"name":"gemeente\\\\l.peters"}}',
        # values of other keys that hold anything JSON allows: fractions, exponents, \\u escapes, nesting
        '{"@timestamp":"t","other":{"x":[1.5e3,-0,{"y":"\\u00e9"}],"z":-12.25E-2},"source":{"ip":"::1"}}',
        # a wanted key whose value is an object or an array written without whitespace: its JSON text
        '{"@timestamp":"t","url":{"full":"https://a.example/","domain":"a.example"},"event":{"type":[]},'
        '"http":{"request":{"bytes":{}}}}',
        # integers at their limits: 19 digits unsigned, 18 with a sign
        '{"@timestamp":9999999999999999999,"http":{"request":{"bytes":-999999999999999999}}}',
        # a path through a value that is no object: missing
        '{"@timestamp":"t","source":"10.0.0.1","url":["full"],"http":{"response":3}}',
        # non-ASCII text and keys that only start like a wanted one
        '{"@timestamp":"ß","source":{"ipx":"1","ip":"2"},"user":{"name":"Zoë ☕"},"urls":{"full":"no"}}',
        '{}',
        # whitespace in a wanted object or array: its text without it (yyjson writes none), and a string with the
        # same text as such an array kept as it is
        '{"@timestamp":"t","event":{"type":[ "a" , [ 1 ,{ "k" : "v w" } ] ]},"url":{ "full" : "x" , "y" : [ ] }}',
        '{"@timestamp":"t","event":{"type":"[ 1 ]"}}',
        '{"@timestamp":"t","event":{"type":[ 1 ]}}',
        '{"@timestamp":"t","event":{"type":"[ 1 ]"}}',
    ]
    doubtful = _assert_as_duckdb(lines)
    assert not doubtful.any()


@pytest.mark.parametrize("line", [
    '{"@timestamp":"t","http":{"request":{"bytes":1.5}}}',  # a fraction at a wanted path (yyjson rewrites it)
    '{"@timestamp":"t","http":{"request":{"bytes":1e3}}}',  # an exponent
    '{"@timestamp":"t","http":{"request":{"bytes":-0}}}',
    '{"@timestamp":18446744073709551616}',  # 20 digits
    '{"@timestamp":-9223372036854775809}',  # 19 digits with a sign
    '{"@timestamp":"caf\\u00e9"}',  # a \\u escape at a wanted path
    '{"@timestamp":"t","event":{"type":[1.0]}}',  # a fraction in a wanted array
    '{"@timestamp":"t","event":{"type":["a\\"b"]}}',  # an escape in a wanted array
    '{"@timestamp":"t","@timestamp":"u"}',  # a wanted key twice
    '{"source":{"ip":"1"},"source":{"ip":"2"}}',  # a wanted key's parent twice
    '{"@timestamp":"t",}',  # a trailing comma (DuckDB's reader allows it)
    '{"@timestamp":"t","n":[1,]}',
    '{"@timestamp":NaN}',
    '{"@timestamp":"t"} x',  # text after the object
    '{"@timestamp":"t"',  # cut short
    '{"@timestamp":"t\tx"}',  # a control character in a string
    '{"@timestamp":"t","x":01}',  # a leading zero
    '{"@timestamp":"t","x":"\\x"}',  # an escape JSON does not have
    '{"@tim\\u0065stamp":"t"}',  # an escaped key
    '["@timestamp"]',  # not an object
    "",
    '{"@timestamp":"t","x":' + "[" * 70 + "]" * 70 + "}",  # deeper than MAX_DEPTH
])
def test_lines_outside_the_subset_are_left_to_duckdb(line: str) -> None:
    assert _assert_as_duckdb([line]).all()


def test_a_null_line_is_doubtful() -> None:
    values, doubtful = json_read.read_values(pa.chunked_array([pa.array(['{"@timestamp":"t"}', None])]),
                                             json_scan.PathTrie((("@timestamp",),)))
    assert list(doubtful) == [1]
    assert values[0].to_pylist() == ["t", None]


def test_many_distinct_values_are_copied_out_alike() -> None:
    """Past one distinct text per DISTINCT_SHARE lines a column is copied out, not numbered: the same values."""
    lines = [json.dumps({"@timestamp": f"2026-11-23T08:{i // 60 % 60:02}:{i % 60:02}Z",
                         "url": {"full": f"/p{i}" if i % 7 else None}, "user": {"name": "a" if i % 3 else None}},
                        separators=(",", ":")) for i in range(40_000)]
    rows, doubtful = _scanned(lines, PATHS)
    assert not doubtful.any()
    assert [row[0] for row in rows] == [json.loads(line)["@timestamp"] for line in lines]
    assert [row[2] for row in rows] == [f"/p{i}" if i % 7 else None for i in range(40_000)]
    assert [row[5] for row in rows] == ["a" if i % 3 else None for i in range(40_000)]


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(10 ** 20), 10 ** 20),
                     st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8))
_KEYS = st.sampled_from(["@timestamp", "source", "ip", "url", "full", "http", "response", "status_code", "event",
                         "type", "user", "name", "x"])
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(_KEYS, inner, max_size=4)), max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.dictionaries(_KEYS, _VALUES, max_size=6), st.sampled_from([0, 1, 2]),
                          st.booleans()), min_size=1, max_size=8))
def test_random_objects_are_read_as_duckdb_reads_them(objects: list[tuple[dict, int, bool]]) -> None:
    separators = [(",", ":"), (", ", ": "), (" , ", " : ")]
    lines = [json.dumps(value, separators=separators[spacing], ensure_ascii=ascii)
             for value, spacing, ascii in objects]
    _assert_as_duckdb(lines)
