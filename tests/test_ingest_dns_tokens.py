"""message_tokens.Tokens (the token reading of dnsmasq and Unbound) against DuckDB's string_split, and the
dnsmasq/Unbound edge cases its positions and spans must survive."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from detector.ingest import FORMATS
from detector.ingest.base import ParseContext, open_parse_connection
from detector.ingest.message_tokens import Tokens, folded

TEXTS = ["query[A] chatgpt.com from 10.0.0.5", "", " ", "a  b", "reply x is", "is", None, "x is y is z", "é ü"]


def test_tokens_read_as_duckdb_splits() -> None:
    tokens = Tokens(pa.array(TEXTS, pa.string()))
    expected = [row[0] for row in duckdb.sql(
        "select string_split(t, ' ') from (select unnest($texts) as t, generate_subscripts($texts, 1) as i) order by i",
        params={"texts": TEXTS}).fetchall()]
    for position in range(-1, 6):
        wanted = [None if split is None or not 0 <= position < len(split) else split[position] for split in expected]
        assert tokens.at(np.full(len(TEXTS), position)).to_pylist() == wanted, position
    assert list(tokens.counts) == [0 if split is None else len(split) for split in expected]
    assert list(tokens.first("is")) == [-1, -1, -1, -1, 2, 0, -1, 1, -1]


def test_spans_are_the_tokens_joined() -> None:
    tokens = Tokens(pa.array(TEXTS, pa.string()))
    rows = np.arange(len(TEXTS))
    for start in range(0, 5):
        for stop in range(start, 6):
            spans = tokens.span(rows, np.full(len(rows), start), np.full(len(rows), stop)).to_pylist()
            wanted = ["" if text is None else " ".join(text.split(" ")[start:stop]) for text in TEXTS]
            assert spans == wanted, (start, stop)
    assert tokens.span(rows, np.zeros(len(rows), np.int64)).to_pylist() == [text or "" for text in TEXTS]


def test_folded_keys_are_equal_exactly_when_their_parts_are() -> None:
    parts = [np.array([0, 0, 1, -1, -1]), np.array([5, 5, 5, 5, 2])]
    key = folded(parts, room=1 << 40)
    assert key[0] == key[1] and len(set(key.tolist())) == 4


@pytest.mark.parametrize("key", ["dnsmasq", "unbound"])
@pytest.mark.parametrize("lines", [
    ["Jun  5 10:00:32 dnsmasq[1]: ", "Jun  5 10:00:32 unbound[1]: [1:0] info:"],
    ["Jun  5 10:00:32 dnsmasq: query[A] a.b from 10.0.0.5", "Jun  5 10:00:32 dnsmasq: reply a.b is 1.2.3.4"],
    ["[1717574432] unbound[1:0] info: 10.0.0.5", "[1717574432] unbound[1:0] info: 10.0.0.5 a. A IN NOERROR 1. 0 1"],
    # an epoch past the year 9999: a line whose time is not understood, not a failed batch
    ["[99999999999999] unbound[1:0] info: 10.0.0.5 chatgpt.com. A IN"],
])
def test_short_and_pid_less_lines_are_all_accounted_for(key: str, lines: list[str]) -> None:
    parse = FORMATS[key].new_parser(ParseContext("/tmp/dns-20240605.log", "UTC", open_parse_connection()))
    result = parse(pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": pa.array(lines)}))
    assert result.events.num_rows + result.rejects.num_rows + result.ignored == len(lines)
