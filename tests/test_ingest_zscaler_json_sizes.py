"""Zscaler NSS JSON sizes and times (`reqsize`, `respsize`, `ctime`: strings in the JSON feed) with many distinct
values read as int64 from the lines' bytes where they are plain digits, as name=value fields are, and read alike
where they are not (signs, spaces, placeholders, too many digits: cast as text). Lines built from the JSON output
type's documented layout ("NSS Feed Output Format: Web Logs", https://help.zscaler.com/zia/nss-feed-output-format-web-logs,
every value a string); the values are our own."""

from __future__ import annotations

import json
import random

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from detector.ingest import zscaler
from detector.ingest.base import ParseContext, open_parse_connection, parse_cursor

ODD = ["", "12a", "-5", "0012", "+7", " 7", "1.5", "None", "999999999999999999", "9999999999999999999"]


def line_of(sizes: tuple[str, str, str]) -> str:
    event = {"time": "Mon Mar 11 08:02:13 2024", "login": "j@x.nl", "eurl": "chatgpt.com/", "reqmethod": "GET",
             "reqsize": sizes[0], "respsize": sizes[1], "ctime": sizes[2], "urlcat": "AI & ML Applications"}
    return json.dumps({"sourcetype": "zscalernss-web", "event": event}, separators=(",", ":"))


def table_of(lines: list[str]) -> pa.Table:
    return pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": pa.array(lines)})


def casts(texts: set[str]) -> dict[str, int | None]:
    """What DuckDB's try_cast(... as bigint) reads of each text."""
    values = pa.table({"value": pa.array(sorted(texts), pa.string())})
    with parse_cursor(open_parse_connection()) as cursor:
        cursor.register("texts", values)
        rows = cursor.execute("select value, try_cast(value as bigint) from texts").fetchall()
    return dict(rows)


@pytest.mark.parametrize(("seed", "odd_share"), [(0, 0.0), (1, 0.002), (2, 0.05)])
def test_distinct_sizes_are_read_as_a_cast_reads_them(monkeypatch: pytest.MonkeyPatch, seed: int,
                                                      odd_share: float) -> None:
    monkeypatch.setattr(zscaler, "TOKEN_BYTES", 16 << 10)  # (many slices: numbered first, read as numbers later)
    rng = random.Random(seed)

    def size() -> str:
        return rng.choice(ODD) if rng.random() < odd_share else str(rng.randrange(10 ** rng.randrange(1, 12)))

    sizes = [(size(), size(), size()) for _ in range(4000)]
    lines = [line_of(row) for row in sizes]
    parse = zscaler.JSON.new_parser(ParseContext("/tmp/nss.log", "UTC", open_parse_connection(), {}))
    events = parse(table_of(lines)).events
    read = casts({text for row in sizes for text in row})
    for column, k in (("bytes_out", 0), ("bytes_in", 1), ("duration_ms", 2)):
        assert events.column(column).to_pylist() == [read[row[k]] for row in sizes], column


def test_plain_distinct_sizes_come_as_int64_without_a_dictionary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zscaler, "TOKEN_BYTES", 16 << 10)
    rng = random.Random(3)
    sizes = [(str(rng.randrange(10**9)), str(rng.randrange(10**9)), str(rng.randrange(10**4))) for _ in range(3000)]
    with parse_cursor(open_parse_connection()) as cursor:
        read = zscaler._json_table(cursor, table_of([line_of(row) for row in sizes]), zscaler.LAYOUTS_PER_BATCH)
    assert read["reqsize"].type == pa.int64()
    assert read["reqsize"].to_pylist() == [int(row[0]) for row in sizes]
    # a line DuckDB reads (an escape) among them: its size cast as text, the others kept as read
    lines = [line_of(row) for row in sizes]
    lines[1500] = lines[1500].replace("j@x.nl", "j\\u0040x.nl")
    with parse_cursor(open_parse_connection()) as cursor:
        read = zscaler._json_table(cursor, table_of(lines), zscaler.LAYOUTS_PER_BATCH)
    assert pc.cast(read["reqsize"], pa.int64()).to_pylist() == [int(row[0]) for row in sizes]
    assert read["login"].dictionary_decode().to_pylist()[1500] == "j@x.nl"
