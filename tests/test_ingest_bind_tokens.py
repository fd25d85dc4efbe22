"""BIND/NIOS read in Arrow (head per line, message per distinct message) and the syslog header prefilter:
behaviour the golden files do not pin down."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from detector.ingest import FORMATS
from detector.ingest.pipeline import parse_file
from detector.ingest.syslog import may_have_header
from tests.golden import golden_settings

QUERY = "queries: info: client @0x7f3a2c01e568 10.0.0.5#53211 (chatgpt.com): query: chatgpt.com IN A +E(0)K (10.0.0.53)"


def parse(path: Path, key: str, *lines: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS[key], golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored
    return sorted(events.to_pylist(), key=lambda e: e["line_no"]), rejects.to_pylist()


def test_print_time_fractions_are_milliseconds_as_strptime_reads_them(tmp_path: Path) -> None:
    """Three digits are added in numpy, any other fraction goes through SQL whole: the same answers."""
    events, rejects = parse(tmp_path / "q.log", "bind_query", f"05-Jun-2024 08:00:32.046 {QUERY}",
                            f"05-Jun-2024 08:00:32.4 {QUERY}", f"05-Jun-2024 08:00:32 {QUERY}",
                            f"05-Jun-2024 08:00:32.1234 {QUERY}")
    assert [e["ts"].isoformat() for e in events] == [
        "2024-06-05T06:00:32.046000+00:00", "2024-06-05T06:00:32.400000+00:00", "2024-06-05T06:00:32+00:00"]
    assert [r["reason"] for r in rejects] == ["time stamp not understood: 05-Jun-2024 08:00:32.1234"]


def test_the_same_message_from_different_clients_and_times(tmp_path: Path) -> None:
    """A message is read once per distinct text; the client and the time stay each line's own."""
    lines = [f"05-Jun-2024 08:00:{s:02d}.{s:03d} queries: info: client @0x1 10.0.0.{s}#{1000 + s} (a.nl): "
             "query: a.nl IN A + (10.0.0.53)" for s in range(5)]
    events, _ = parse(tmp_path / "q.log", "bind_query", *lines)
    assert [(e["src_ip"], e["ts"].second, e["ts"].microsecond, e["host"]) for e in events] == [
        (f"10.0.0.{s}", s, s * 1000, "a.nl") for s in range(5)]


def test_nios_cef_without_a_source_keeps_an_empty_address(tmp_path: Path) -> None:
    line = ('<30>Jun  5 10:00:41 10.20.0.53 named[28468]: CEF:0|Infoblox|NIOS|9.0.3|RPZ-QNAME|PASSTHRU|7|'
            'app=DNS dst=10.20.0.53 qtype=A msg="rpz QNAME PASSTHRU rewrite gemini.google.com [A] via x.rpz" CAT=RPZ')
    events, rejects = parse(tmp_path / "nios-20240605.log", "infoblox_nios", line)
    assert not rejects
    assert [(e["src_ip"], e["host"], e["dst_ip"], e["action"]) for e in events] == [
        ("", "gemini.google.com", "10.20.0.53", "allowed")]


def test_may_have_header_reads_the_first_characters_of_each_line_also_in_a_slice() -> None:
    lines = pa.array(["x", "<30>Jun  5", "Jun  5 10:00:00", "2024-06-05T10:00:00", "05-Jun-2024 10:00", "", "2024"])
    assert may_have_header(lines).tolist() == [False, True, True, True, False, False, False]
    assert may_have_header(lines.slice(1, 3)).tolist() == [True, True, True]
    assert may_have_header(pa.array([], pa.string())).tolist() == []
