"""Generic CSV: what host and URL values give is the same whether kept across batches (Places) or read afresh;
answers per distinct value reach the rows through the dictionary indices."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from detector.ingest import csv_generic
from detector.ingest.base import ParseContext, in_file_order, open_parse_connection

HEADER = "timestamp,host,url,dst_port,protocol,method,action,user"
ROWS = [
    "2026-03-13T08:15:02Z,chatgpt.com,https://chatgpt.com/c/1,443,HTTPS,GET,allowed,jan",
    "2026-03-13T08:15:03Z,,http://10.0.0.1:8080/x,,,POST,BLOCK,-",
    "2026-03-13T08:15:04Z,CLAUDE.ai:8443,gemini.google.com/app,,tcp,CONNECT,,",
    "2026-03-13T08:15:05Z,10.1.2.3,-,80x,,connect,weird,piet",
    '2026-03-13T08:15:06Z,"api.openai.com/v1/chat",/only/path,,,get,denied,"a, b"',
    "1773389880,-,ftp://u@h.com:21/f,65536,http,,observed,",
]


def parsed(lines: list[str]) -> list[dict[str, object]]:
    """The events of `lines` parsed in batches of three lines."""
    parse = in_file_order(csv_generic.new_parser(ParseContext("export.csv", "Europe/Amsterdam",
                                                              open_parse_connection())))
    events = []
    for start in range(0, len(lines), 3):
        part = lines[start:start + 3]
        batch = pa.table({"line_no": pa.array(range(start + 1, start + len(part) + 1), pa.int64()),
                          "line": pa.array(part, pa.string())})
        events.extend(parse(batch).events.to_pylist())
    return events


@pytest.mark.parametrize("limit", [0, 1, 3])
def test_places_kept_or_read_afresh_give_the_same_events(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    lines = [HEADER, *ROWS, *ROWS[::-1], *ROWS]
    expected = parsed(lines)
    monkeypatch.setattr(csv_generic.Places.__init__, "__defaults__", (limit,))  # keep at most `limit` values
    assert parsed(lines) == expected
    first = expected[0]
    assert (first["host"], first["dst_port"], first["network_protocol"], first["url_path"]) == (
        "chatgpt.com", 443, "https", "/c/1")


def test_int32_indices_are_null_where_negative() -> None:
    at = np.array([3, -1, 0, -2, 7])
    indices = csv_generic.int32_indices(at)
    assert indices.type == pa.int32() and indices.to_pylist() == [3, None, 0, None, 7]


def test_onto_rows_spreads_per_value_answers_to_the_rows_with_nulls_in_the_indices() -> None:
    column = pa.DictionaryArray.from_arrays(pa.array([0, 1, None, 2, 0], pa.int32()), pa.array(["a", "b", "c"]))
    spread = csv_generic.onto_rows(column, pa.array(["x", None, "z"]))
    assert spread.to_pylist() == ["x", None, None, "z", "x"]
    assert spread.dictionary.null_count == 0 and pc.is_null(spread).to_pylist() == [False, True, True, False, False]
