"""CEF/LEEF located on the lines' bytes: escaped separators, slices of lines, values per distinct value."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from detector.ingest import FORMATS
from detector.ingest.base import ParseContext, open_parse_connection
from tests.golden import parse_lines

CEF = "CEF:0|Gemeente Voorbeeld|Secure Web Gateway|2.4|100|Web request|1|"


def parse(tmp_path: Path, key: str, *lines: str) -> tuple[list[dict], list[dict], int]:
    events, rejects, report = parse_lines(tmp_path / "gateway-20240311.log", key, lines)
    return events.to_pylist(), rejects.to_pylist(), report.ignored


def test_a_backslash_escapes_the_byte_after_it_in_runs_of_backslashes(tmp_path: Path) -> None:
    r"""`\\|` is an escaped backslash, then a real bar; `\\\=` a backslash, then an escaped '='."""
    line = (r"CEF:0|Vendor\\|Product|1|100|Web|1|rt=1710140533000 src=10.20.9.3 suser=GEMEENTE\\ "
            r"request=https://x.ai/a?q\\\=1&b\=2 dpt=443")
    events, rejects, _ = parse(tmp_path, "cef", line)
    assert not rejects
    assert events[0]["user_name"] == "GEMEENTE\\"
    assert (events[0]["host"], events[0]["url_path"], events[0]["dst_port"]) == ("x.ai", "/a", 443)


def test_values_are_trimmed_and_empty_values_are_none(tmp_path: Path) -> None:
    line = CEF + "rt=1710140533000 suser=   src=10.20.1.15  dhost=  Claude.AI   act=  allowed"
    events, rejects, _ = parse(tmp_path, "cef", line)
    assert not rejects
    event = events[0]
    assert (event["user_name"], event["src_ip"], event["host"], event["action"]) == (
        None, "10.20.1.15", "claude.ai", "allowed")


def test_many_lines_with_repeated_and_distinct_values() -> None:
    """Every line's own values (distinct: the kernel's table of distinct texts grows several times) and shared
    ones (repeated) land on it. (The parser itself: the golden settings' batches are of 7 lines.)"""
    count = 20_000
    cef = [CEF + f"rt={1710140533000 + n} src=10.{n // 250 % 250}.{n % 250}.1 dhost=h{n}.example act=allowed "
           f"out={n} cs1Label=Category cs1=AI {n % 3}" for n in range(count)]
    leef = ["LEEF:1.0|Z|NSS|4.1|Allowed|" + "\t".join([f"devTime={1710140533000 + n}", f"src=10.1.{n % 250}.2",
                                                       f"url=h{n}.example/p", "action=Blocked", f"srcBytes={n}"])
            for n in range(count)]
    for key, text in (("cef", cef), ("leef", leef)):
        parse = FORMATS[key].new_parser(ParseContext("gateway-20240311.log", "Europe/Amsterdam",
                                                     open_parse_connection()))
        result = parse(pa.table({"line_no": pa.array(range(1, count + 1), pa.int64()), "line": text}))
        assert (result.events.num_rows, result.rejects.num_rows, result.ignored) == (count, 0, 0)
        events = result.events.select(["host", "bytes_out", "action"]).to_pylist()
        for n in (0, 4_095, 4_096, 8_192, count - 1):
            assert (events[n]["host"], events[n]["bytes_out"]) == (f"h{n}.example", n)
        assert {event["action"] for event in events} == {"allowed" if key == "cef" else "blocked"}
