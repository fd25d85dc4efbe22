"""The JSON kernel (json_scan): on the lines it judges exact, every wanted path's value is what DuckDB's
json_extract_string reads; every other line is left to DuckDB."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from detector.ingest import json_scan
from detector.ingest.arrow_ops import DistinctQuery

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"

PATHS = [("event_type",), ("timestamp",), ("src_ip",), ("dest_port",), ("tls", "sni"), ("http", "hostname"),
         ("http", "url"), ("dns", "rrname"), ("dns", "answers"), ("dns", "grouped"), ("dns", "queries"),
         ("flow", "bytes_toserver"), ("dns",), ("ts",), ("id.orig_h",), ("id.resp_p",), ("query",), ("answers",),
         ("duration",), ("uri",), ("resp_mime_types",), ("a",), ("a", "b")]
PIECES = ['"', "\\", '\\"', "\\u00e9", "\\ud83d", "\\/", ",", "}", "{", "[", "]", ":", " ", "\t", "null", "true",
          "1.50", "-0", "1e5", "NaN", "0.0000001", "12.0", "01", "-", "é", "\x01", '"a":{"b":"c\\n"},', '"a":5,',
          '"event_type":"dns",', '"dns":{"rrname":"x"},', '"dns":[1, 2],', '"ts":1763452840.1,', '"answers":["a"],',
          '"uri":"\\/x?y",', '"duration":0.000123,', '"x":[1, {"y": 2}],', '"id.orig_h":null,']


def extract(lines: list[str], paths: list[tuple[str, ...]]) -> list[list[str | None] | None]:
    """DuckDB's reading of each line: every path's value, None for a line DuckDB does not read."""
    listed = ", ".join("'$." + ".".join('"' + key + '"' for key in path) + "'" for path in paths)
    connection = duckdb.connect()
    connection.register("lines", pa.table({"line": pa.array(lines, pa.string())}))
    query = f"select try(json_extract_string(line, [{listed}])) as j from lines"
    return connection.sql(query).to_arrow_table().column("j").to_pylist()


def scanned_values(lines: list[str], paths: list[tuple[str, ...]], raw_containers: bool = False
                   ) -> tuple[np.ndarray, list[list[str | None]]]:
    scanned = json_scan.scan(pa.array(lines, pa.string()), json_scan.Paths(paths))
    rows = np.flatnonzero(scanned.exact)
    connection, decode = duckdb.connect(), DistinctQuery(json_scan.DECODE_SQL)
    columns = [scanned.text(path, rows, connection, decode, raw_containers).to_pylist() for path in range(len(paths))]
    return scanned.exact, [list(values) for values in zip(*columns, strict=True)]


def mutated(count: int, seed: int) -> list[str]:
    sources = [line for name in ("suricata_eve/basic.log", "zeek_http/json.log", "zeek_dns/json.log",
                                 "zeek_conn/json.log")
               for line in (SAMPLES / name).read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    chance = random.Random(seed)
    lines = []
    for _ in range(count):
        line = chance.choice(sources)
        for _ in range(chance.randint(0, 3)):
            place, roll = chance.randint(0, len(line)), chance.random()
            if roll < 0.65:
                line = line[:place] + chance.choice(PIECES) + line[place:]
            elif roll < 0.85:
                line = line[:place] + line[place + chance.randint(1, 5):]
            else:
                line = line[:place]
        lines.append(line)
    return lines


@pytest.mark.parametrize("seed", [1, 2])
def test_exact_lines_read_as_duckdb_reads_them(seed: int) -> None:
    lines = mutated(4000, seed)
    exact, values = scanned_values(lines, PATHS)
    expected = extract(lines, PATHS)
    assert all(expected[row] is not None for row in np.flatnonzero(exact))  # exact lines are valid for DuckDB
    assert values == [expected[row] for row in np.flatnonzero(exact)]
    valid = sum(value is not None for value in expected)
    assert exact.sum() > 0.9 * valid  # (most valid lines are judged by the kernel)


def test_numbers_spelled_as_duckdb_writes_them() -> None:
    numbers = ["0", "-0", "7", "-12", "1.5", "1.50", "1.0", "-0.0", "10.0", "0.1", "0.05", "0.000123", "1e3", "1E-2",
               "-1.25e+2", "12345678901234567890", "123456789012345678901.0", "1763452840.123456", "1763452840.1",
               "1763452840.1234567", "4999999999.5", "123456789012345.6", "1234567890123456.7", "9007199254740993.0"]
    lines = ['{"a":' + number + "}" for number in numbers]
    exact, values = scanned_values(lines, [("a",)])
    assert exact.all()
    assert values == extract(lines, [("a",)])


@pytest.mark.parametrize("line", [
    '{"a":NaN}', '{"a":Infinity}', '{"a":1,}', '{"a":[1,]}', '{"\\u0061":1}', '{"a":1,"a":2}', '{"a":{"b":1},"a":{}}',
    '{"a":"\\ud800"}', '{"a":"\\ud83d\\ude00"}', '{"a":"\x01"}', '{"a":1} x', '{"a":01}', '{"a":1.}', '{"a":"\\x41"}',
    '[1]', '', '   ', '{"a":' + "[" * 70 + "]" * 70 + "}", '{"a":"b"', '{"a" "b"}', '{"a":tru}',
])
def test_lines_left_to_duckdb(line: str) -> None:
    """Malformed lines, and JSON that DuckDB reads otherwise than standard JSON (or that the kernel does not
    follow): not exact, whatever DuckDB then makes of them."""
    exact, _ = scanned_values([line], [("a",), ("a", "b")])
    assert not exact[0]


def test_spaces_escapes_and_containers() -> None:
    lines = [' { "a" : { "b" : "x\\ty\\u00e9\\/" , "c" : [ 1 , { "b" : 2 } ] } , "z" : [ ] , "e" : { } } \t',
             '{"a":{"c":{"b":"deeper"},"b":true}}', '{"a":[{"b":1}]}', '{"z":{"a":{"b":"not here"}}}', "{}"]
    paths = [("a",), ("a", "b"), ("a", "c"), ("z",), ("e",)]
    exact, values = scanned_values(lines, paths)
    assert exact.all()
    assert values == extract(lines, paths)
    assert values[0][1] == "x\tyé/"
    # arrays and objects as written, for a caller that parses them again
    _, raw = scanned_values(lines[:1], paths, raw_containers=True)
    assert raw[0][2] == '[ 1 , { "b" : 2 } ]' and raw[0][3] == "[ ]"


def test_raw_text_and_paths_inside_it() -> None:
    lines = ['{"q":[{"n":"a.com","t":"A"}]}', '{"q":"[{\\"n\\":1}]"}', '{"x":1}', '{"q":null}']
    scanned = json_scan.scan(pa.array(lines), json_scan.Paths([("q",)]))
    raw = scanned.raw(0)
    assert raw.to_pylist() == ['[{"n":"a.com","t":"A"}]', '"[{\\"n\\":1}]"', None, None]
    connection = duckdb.connect()
    connection.register("distinct_values", pa.table({"value": raw}))
    first = connection.sql(json_scan.path_query("$[0].n")).fetchall()
    assert [row[0] for row in first] == ["a.com", None, None, None]  # (a string holding JSON is no array)
