"""The compiled reading of Umbrella cloud firewall lines (umbrella_fw._Scanned, umbrella_scan.py) reads every line as
the Arrow reading (umbrella_fw._Fields) does: the same fields, counts, quoting and numbers, whatever the quoting.

Lines are written from the documented field order (Cloud Firewall Log Formats,
https://docs.umbrella.com/umbrella-user-guide/docs/cloud-firewall-log-formats, and the v10 fields of
https://docs.sse.cisco.com/sse-user-guide/docs/cloud-firewall-log-formats), with our own values; the spaced
separators follow Cisco's own examples (`"Passive Monitor", "CDFW Tunnel Device"`), the unquoted lines Elastic's
cisco_umbrella test logs (https://github.com/elastic/integrations/tree/main/packages/cisco_umbrella).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.ingest import umbrella_fw
from detector.ingest.base import open_parse_connection
from tests.test_ingest_umbrella_fw import COUNTS, HEAD, csv, parse

TEXTS, NUMBERS = (0, 2, 3, 5, 7, 9, 10, 13), (16, 17, 20, 21)

LINES = [
    csv(*HEAD), csv(*HEAD, "chat.example-ai.test", "12"), csv(*HEAD, *COUNTS), csv(*HEAD, *COUNTS, "192.0.2.44", "TRUE"),
    '"' + '", "'.join((*HEAD, *COUNTS)) + '"',  # Cisco's examples: a space after each separating comma
    '"' + '" ,"'.join(HEAD) + '"', '"' + '" , "'.join(HEAD) + '"', '"' + '"\t,\t"'.join(HEAD) + '"',
    csv(*HEAD[:3]) + ', ' + csv(*HEAD[3:]),  # a spaced separator among plain ones
    ",".join((*HEAD, *COUNTS)),  # Elastic's test logs: no quotes at all
    ",".join(HEAD[:2]) + ',"Vries, Jan de",AD Users,' + ",".join(HEAD[4:]),  # a quote somewhere: not bare
    csv(*HEAD, *COUNTS[:6], " 61234 ", "+7", *COUNTS[8:]), csv(*HEAD, *COUNTS[:6], "1234567890123456789", "-1"),
    csv(*HEAD, *COUNTS[:6], "99999999999999999999", "1e3"), csv(*HEAD, *COUNTS[:6], "", " "),
    csv(*HEAD[:2], 'Stadhuis "Oost"', *HEAD[3:]), csv(*HEAD) + "\r", csv(*HEAD) + " ", '"', "", ",", '","',
    '", "', '"2026-04-07 10:22:31" , "x"', 'timestamp,identities', csv("timestamp", "origin IDs", "identities"),
    csv(*HEAD[:13]), csv(*HEAD, *COUNTS, *["x"] * 20), '"' + HEAD[0] + '",,"' + '","'.join(HEAD[1:]) + '"',
]


def _readings(lines: list[str], chunks: int = 1) -> tuple[umbrella_fw._Scanned, umbrella_fw._Fields]:
    text = pa.array(lines, pa.string())
    cut = [len(lines) * part // chunks for part in range(chunks + 1)]
    column = pa.chunked_array([text.slice(a, b - a) for a, b in itertools.pairwise(cut)], pa.string())
    table = pa.table({"line_no": pa.array(range(len(lines)), pa.int64()), "line": column})
    return umbrella_fw._Scanned(table, TEXTS, NUMBERS), umbrella_fw._Fields(table, columns=22)


def _assert_same(lines: list[str], chunks: int = 1) -> None:
    scanned, fields = _readings(lines, chunks)
    assert scanned.count.to_pylist() == fields.count.to_pylist()
    assert scanned.quoted.to_pylist() == fields.quoted.to_pylist()
    assert scanned.bare.to_pylist() == fields.bare.to_pylist()
    for at in TEXTS:
        assert scanned.column(at).to_pylist() == fields.column(at).to_pylist(), at
    connection, queries = open_parse_connection(), umbrella_fw._Queries()
    for at in NUMBERS:
        expected = umbrella_fw._bigints(connection, queries, fields.column(at)).to_pylist()
        assert scanned.number(connection, queries, at).to_pylist() == expected, at


@pytest.mark.parametrize("chunks", [1, 3])
def test_compiled_reading_reads_every_quoting_as_the_arrow_reading(chunks: int) -> None:
    _assert_same(LINES, chunks)


def test_numbers_other_than_plain_digits_read_as_sql_casts_them(tmp_path: Path) -> None:
    def line(sent: str, received: str) -> str:
        return csv(*HEAD, *COUNTS[:6], sent, received, *COUNTS[8:])
    events, rejects, _ = parse(tmp_path, "umbrella_firewall", line("61234", "0012"), line(" 5 ", "+7"),
                               line("1234567890123456789", "99999999999999999999"), line("", "1e3"))
    assert not rejects
    assert [(e["bytes_out"], e["bytes_in"]) for e in events] == [
        (61234, 12), (5, 7), (1234567890123456789, None), (None, 1000)]


def test_spaced_lines_in_a_later_chunk_read_as_in_one() -> None:
    spaced = '"' + '", "'.join((*HEAD, *COUNTS)) + '"'
    lines = [csv(*HEAD, *COUNTS)] * 5 + [spaced] * 3 + [",".join(HEAD)] * 2 + [spaced]
    _assert_same(lines, chunks=4)
    scanned, _ = _readings(lines, chunks=4)
    assert scanned.number(duckdb.connect(), umbrella_fw._Queries(), 21).to_pylist()[-1] == 1048576


_PIECES = st.sampled_from(['"', '","', '", "', '" ,"', '" , "', ',', ' ', '\t', '\r', 'a', '17', 'é', *HEAD[:2]])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_PIECES, max_size=30).map("".join), min_size=1, max_size=12))
def test_arbitrary_lines_read_the_same(lines: list[str]) -> None:
    _assert_same(lines, chunks=min(2, len(lines)))


def _kernel_plain_separators(lines: list[str]) -> list[str]:
    from detector.ingest import umbrella_scan
    from detector.ingest.layout_bytes import line_bytes

    _, data, offsets = line_bytes(pa.array(lines, pa.string()))
    rows = np.arange(len(lines), dtype=np.int64)
    longest = max(int(np.diff(offsets).max()), 1)
    out, out_offsets = np.empty(max(int(offsets[-1] - offsets[0]), 1), np.uint8), np.empty(len(lines) + 1, np.int64)
    umbrella_scan.plain_separators(data, offsets, rows, out, out_offsets, np.empty(longest, np.uint8),
                                   np.empty(longest, np.uint8))
    return [out[a:b].tobytes().decode() for a, b in itertools.pairwise(out_offsets)]


_BLANK_PIECES = st.sampled_from(['"', '"', ',', ' ', '\t', 'a', '", "', '" ,"', '","', '" , "'])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_BLANK_PIECES, max_size=16).map("".join), min_size=1, max_size=8))
def test_spaced_separators_made_plain_as_arrow_makes_them(lines: list[str]) -> None:
    expected = umbrella_fw._plain_separators(pa.array(lines, pa.string())).to_pylist()
    assert _kernel_plain_separators(lines) == expected


def test_a_spaced_comma_after_a_replaced_separator_is_made_plain_too() -> None:
    lines = ['"a", " ,"b"', '"a", "\t, "b"', '"a" ,", "b"', '"a",\t", "b"', '" ,", "']
    assert _kernel_plain_separators(lines) == umbrella_fw._plain_separators(pa.array(lines)).to_pylist()
