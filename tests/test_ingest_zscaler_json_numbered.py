"""Zscaler NSS JSON lines read by their layout, with each value numbered by its text (or copied out where a field has
many distinct texts) line by line (`zscaler._values_between`), against Python's own reading of the same lines
(`json.loads`) and against Arrow's `dictionary_encode` of the same values: the values, and each field's dictionary in
order of first appearance. Lines built from the JSON output type's documented layout ("NSS Feed Output Format: Web
Logs", https://help.zscaler.com/zia/nss-feed-output-format-web-logs: `{"sourcetype":"zscalernss-web","event":{...}}`,
every value a string), with our own values: repeated and distinct ones, empty and multi-byte ones, a syslog header
before the object, slices small enough that a field turns from numbered to copied between them."""

from __future__ import annotations

import json
import random

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from detector.ingest import zscaler
from detector.ingest.distinct_sql import plain

FIELDS = ("time", "login", "proto", "eurl", "action", "appname", "reqsize", "respsize", "cip", "sip", "reqmethod",
          "respcode", "ua", "urlcat", "dept", "location")


def line_of(rng: random.Random, distinct: float, header: bool) -> tuple[str, dict[str, str]]:
    """One NSS JSON web line and its values (`distinct`: the share of values drawn from a large set)."""
    values = {}
    for name in FIELDS:
        if rng.random() < distinct:
            value = f"{name}-{rng.randrange(10**6)}" + rng.choice(["", "é", "€/x", "😀", "a b"])
        else:
            value = rng.choice(["", "None", "chatgpt.com/", "Allowed", "10.0.0.1", "gemeente.nl/é", "x" * 40])
        values[name] = value
    event = ",".join(f'"{name}":"{value}"' for name, value in values.items())
    line = '{"sourcetype":"zscalernss-web","event":{' + event + "}}"
    return ("Mar 11 08:02:14 zscaler-nss NSS " + line if header else line), values


def lines_table(lines: list[str], chunk: int) -> pa.Table:
    arrays = [pa.array(lines[i:i + chunk], pa.string()) for i in range(0, len(lines), chunk)]
    return pa.table({"line_no": pa.chunked_array([pa.array(np.arange(len(lines)), pa.int64())]),
                     "line": pa.chunked_array(arrays, pa.string())})


@pytest.mark.parametrize(("seed", "distinct", "header"), [(0, 0.0, False), (1, 0.5, False), (2, 1.0, True),
                                                          (3, 0.3, True)])
def test_layout_values_as_json_reads_them(monkeypatch: pytest.MonkeyPatch, seed: int, distinct: float,
                                          header: bool) -> None:
    monkeypatch.setattr(zscaler, "TOKEN_BYTES", 8 << 10)  # (many slices: numbered first, copied later)
    rng = random.Random(seed)
    built = [line_of(rng, distinct, header) for _ in range(3000)]
    lines = [line for line, _ in built]
    for chunk in (3000, 777):
        table = lines_table(lines, chunk)
        read = zscaler._json_table(duckdb.connect(), table, zscaler.LAYOUTS_PER_BATCH)
        assert read["parse_error"].null_count == len(lines)
        for canonical, name in (("login", "login"), ("url", "eurl"), ("ua", "ua"), ("cip", "cip"),
                                ("urlcat", "urlcat"), ("reqsize", "reqsize")):
            assert plain(read[canonical]).to_pylist() == [values[name] for _, values in built], canonical
        assert [json.loads(line[line.index("{"):])["event"]["login"] for line in lines[:50]] \
            == plain(read["login"]).to_pylist()[:50]


@pytest.mark.parametrize("seed", range(6))
def test_numbered_and_copied_parts_encode_as_arrow_does(seed: int) -> None:
    """Spans of a buffer over several slices (its last bytes included): the parts put together give the values and
    the dictionary (order of first appearance) that Arrow's `dictionary_encode` of all the values gives."""
    from detector.ingest import texts_scan

    rng = random.Random(seed)
    alphabet = ["a", "b", "é", "€", "😀", ",", '"']
    distinct = texts_scan.DistinctTexts()
    parts, expected, read_lines = [], [[], []], 0
    for _ in range(5):
        texts = [["".join(rng.choice(alphabet) for _ in range(rng.randrange(4 if field else 30)))
                  for field in range(2)] for _ in range(rng.randrange(0, 400))]
        data = "".join(a + b for a, b in texts).encode()
        at, place = np.zeros((len(texts), 3), np.int64), 0
        for row, (a, b) in enumerate(texts):
            at[row] = place, place + len(a.encode()), place + len((a + b).encode())
            place = int(at[row, 2])
        begin, end = np.ascontiguousarray(at[:, :2], np.int32), np.ascontiguousarray(at[:, 1:], np.int32)
        parts.append(zscaler._values_between(np.frombuffer(data, np.uint8), begin, end, [0, 1], distinct, read_lines))
        read_lines += len(texts)
        for field in range(2):
            expected[field] += [row[field] for row in texts]
    items = zscaler._numbered_items([0, 1], parts, distinct)
    for field in range(2):
        reference = pc.dictionary_encode(pa.array(expected[field], pa.string()))
        assert items[field].to_pylist() == expected[field]
        assert items[field].dictionary.equals(reference.dictionary)
    assert any(not isinstance(part[0], np.ndarray) for part in parts[1:]) or len(set(expected[0])) * 4 <= len(
        expected[0])
