"""W3C batches whose lines come in several Arrow chunks (as the reader gives them where it cuts lines without
Numba) read as the same batch in one chunk: directives in any chunk change the header from their line on.

Lines written from the W3C extended log format's directives (https://www.w3.org/TR/WD-logfile) and ProxySG's
ELFF field names (Broadcom's access log formats page, see detector/ingest/proxysg.py).
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from detector.ingest import FORMATS
from detector.ingest.base import ParseContext, in_file_order, open_parse_connection
from detector.ingest.w3c import Header, header_after

FIELDS = "#Fields: date time time-taken c-ip sc-status s-action cs-method cs-host cs-uri-path cs(User-Agent)"
LINES = [
    "#Software: SGOS 7.3",
    FIELDS,
    '2026-11-02 08:15:04 312 10.20.1.15 200 TCP_NC_MISS POST chatgpt.com /backend-api "Mozilla/5.0 (X11)"',
    '2026-11-02 08:15:05 20 10.20.1.16 403 TCP_DENIED GET claude.ai / "-"',
    "  #Remark: a directive after blanks",
    "#Fields: date time c-ip cs-host",
    "2026-11-02 08:15:06 10.20.1.17 gemini.google.com",
    "#Date: 2026-11-02 08:00:00",
    "2026-11-02 08:15:07 10.20.1.18 www.example.org extra",
    "2026-11-02 08:15:08 10.20.1.19 api.mistral.ai",
]


def _table(chunk_sizes: list[int]) -> pa.Table:
    chunks, start = [], 0
    for size in chunk_sizes:
        chunks.append(pa.array(LINES[start:start + size], pa.string()))
        start += size
    assert start == len(LINES)
    return pa.table({"line_no": pa.array(range(1, len(LINES) + 1), pa.int64()),
                     "line": pa.chunked_array(chunks, pa.string())})


def _parsed(table: pa.Table) -> tuple[list[dict], list[dict], int]:
    context = ParseContext(path="chunks.log", timezone="Europe/Amsterdam", connection=open_parse_connection())
    result = in_file_order(FORMATS["w3c"].new_parser(context))(table)
    return result.events.to_pylist(), result.rejects.to_pylist(), result.ignored


@pytest.mark.parametrize("chunk_sizes", [[3, 3, 4], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [2, 0, 5, 3], [9, 1]])
def test_chunked_lines_read_as_one_chunk(chunk_sizes: list[int]) -> None:
    whole = _parsed(_table([len(LINES)]))
    events, rejects, ignored = _parsed(_table(chunk_sizes))
    assert (events, rejects, ignored) == whole
    assert ignored == 5
    assert [e["line_no"] for e in events] == [3, 4, 7, 10]
    assert [r["line_no"] for r in rejects] == [9]  # five values under a field list of four
    assert header_after(_table(chunk_sizes), Header()) == header_after(_table([len(LINES)]), Header())
    assert header_after(_table(chunk_sizes), Header()).fields == ("date", "time", "c-ip", "cs-host")
