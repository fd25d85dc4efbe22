"""Syslog times that carry their year: `May 13 2022 12:05:52` (syslog templates with the year, as an
Infoblox relay writes) and ctime's `Sun Nov 29 20:11:56 2026` (OpenWrt's `logread`, `facility.level` where a
host would be). They were "no syslog header" rejects; their year is taken as written, not from the file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from detector.ingest import sniff
from detector.ingest.syslog import SyslogHeaders, define_head_macros, program_of
from tests.golden import parse_lines

LINES = (
    "May 13 2022 12:05:52 10.0.0.1 named[3362]: client 10.1.2.3#53211 (chatgpt.com): query: chatgpt.com IN A + (ns)",
    "<30>May  3 2022 12:05:53.250 ns1 named[3362]: client 10.1.2.4#53212 (claude.ai): query: claude.ai IN AAAA +E(0)"
    " (10.0.0.1)",
    "Sun Nov 29 20:11:56 2026 daemon.info dnsmasq[1234]: query[A] chatgpt.com from 192.168.1.23",
    "<30>Tue Dec  1 08:00:01 2026 daemon.info dnsmasq[1234]: query[AAAA] claude.ai from 192.168.1.24",
    # an ordinary BSD time still gets its year from the file's reference date
    "Jun  5 10:00:30 gw dnsmasq[812]: query[A] gemini.google.com from 192.168.1.25",
)


def test_times_with_their_year_are_read_by_line_and_by_distinct_header() -> None:
    connection = duckdb.connect()
    define_head_macros(connection)
    table = pa.table({"line_no": pa.array(range(1, len(LINES) + 1), pa.int64()), "line": list(LINES)})
    connection.register("lines", table)
    whole = connection.sql("select header_ts, host, app, pid, timezone('UTC', ts) as ts "
                           "from syslog_lines('UTC', '2024-06-05'::timestamp)").fetchall()
    assert whole == [
        ("May 13 2022 12:05:52", "10.0.0.1", "named", "3362", datetime(2022, 5, 13, 12, 5, 52)),
        ("May  3 2022 12:05:53.250", "ns1", "named", "3362", datetime(2022, 5, 3, 12, 5, 53, 250000)),
        ("Sun Nov 29 20:11:56 2026", "daemon.info", "dnsmasq", "1234", datetime(2026, 11, 29, 20, 11, 56)),
        ("Tue Dec  1 08:00:01 2026", "daemon.info", "dnsmasq", "1234", datetime(2026, 12, 1, 8, 0, 1)),
        ("Jun  5 10:00:30", "gw", "dnsmasq", "812", datetime(2024, 6, 5, 10, 0, 30)),
    ]
    by_head = SyslogHeaders("UTC", datetime(2024, 6, 5)).read(connection, table)
    assert [tuple(row[c] for c in ("header_ts", "host", "app", "pid")) for row in by_head.to_pylist()] == [
        row[:4] for row in whole]
    assert [program_of(line) for line in LINES] == ["named", "named", "dnsmasq", "dnsmasq", "dnsmasq"]


def test_openwrt_dnsmasq_and_bind_with_a_year_are_recognised_and_read(tmp_path: Path) -> None:
    assert sniff(LINES[2:4]).name == "dnsmasq" and sniff(LINES[:2]).name == "bind_query"
    events, rejects, _ = parse_lines(tmp_path / "openwrt.log", "dnsmasq", LINES[2:4])
    assert rejects.num_rows == 0
    assert sorted((e["host"], e["src_ip"], e["ts"].year) for e in events.to_pylist()) == [
        ("chatgpt.com", "192.168.1.23", 2026), ("claude.ai", "192.168.1.24", 2026)]
    events, rejects, _ = parse_lines(tmp_path / "named.log", "bind_query", LINES[:2])
    assert rejects.num_rows == 0
    assert sorted((e["host"], e["ts"].year) for e in events.to_pylist()) == [("chatgpt.com", 2022), ("claude.ai", 2022)]
