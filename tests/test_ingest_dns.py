"""DNS formats (BIND, Infoblox, Unbound, dnsmasq, Windows DNS) and the shared syslog header: behaviour the
golden files do not pin down: year rules, date orders, joins across batch boundaries, sniffing."""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.ingest import FORMATS, reader, sniff_scores
from detector.ingest.base import ParseContext, ParseResult, in_file_order, open_parse_connection
from detector.ingest.pipeline import parse_file
from detector.ingest.reader import LINES_SCHEMA
from detector.ingest.syslog import define_macros, program_of, reference_time
from tests.golden import GOLDEN_TIMEZONE, golden_settings, samples

DNS_FORMATS = ("bind_query", "infoblox_nios", "unbound", "dnsmasq", "windows_dns")


def parse(path: Path, key: str, *lines: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS[key], golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored
    return sorted(events.to_pylist(), key=lambda e: e["line_no"]), rejects.to_pylist()


def batches(key: str, *batch_lines: list[str], path: str = "dns-20240605.log") -> list[ParseResult]:
    """Parse consecutive batches of one file with one parser, as the pipeline does for a large file."""
    parser = in_file_order(FORMATS[key].new_parser(ParseContext(path, GOLDEN_TIMEZONE, open_parse_connection())))
    results, first = [], 1
    for lines in batch_lines:
        numbers = pa.array(range(first, first + len(lines)), pa.int64())
        results.append(parser(pa.Table.from_arrays([numbers, pa.array(lines, pa.string())], schema=LINES_SCHEMA)))
        first += len(lines)
    return results


def rows(result: ParseResult) -> list[dict[str, object]]:
    return sorted(result.events.to_pylist(), key=lambda e: e["line_no"])  # type: ignore[arg-type,return-value]


def utc(event: dict[str, object]) -> str:
    return event["ts"].isoformat().replace("+00:00", "Z")  # type: ignore[union-attr]


# --- syslog headers and the year of year-less dates ---------------------------------------------------


def test_year_comes_from_a_date_in_the_file_name(tmp_path: Path) -> None:
    lines = ("Dec 31 23:59:58 dnsmasq[1]: query[A] chatgpt.com from 10.0.0.5",
             "Jan  2 00:00:01 dnsmasq[1]: query[A] www.deepl.com from 10.0.0.5")
    events, _ = parse(tmp_path / "pihole.log-20250103", "dnsmasq", *lines)
    assert [utc(e) for e in events] == ["2024-12-31T22:59:58Z", "2025-01-01T23:00:01Z"]


def test_year_comes_from_the_modification_time_without_a_name_date(tmp_path: Path) -> None:
    path = tmp_path / "pihole.log.1"
    path.write_text("Dec 31 23:59:58 dnsmasq[1]: query[A] chatgpt.com from 10.0.0.5\n")
    stamp = datetime(2025, 1, 3, 12, 0).timestamp()
    os.utime(path, (stamp, stamp))
    events, _, _ = parse_file(path, FORMATS["dnsmasq"], golden_settings())
    assert utc(events.to_pylist()[0]) == "2024-12-31T22:59:58Z"


def test_dates_up_to_30_days_after_the_reference_keep_its_year(tmp_path: Path) -> None:
    lines = ("Jul  5 10:00:00 ns1 named[9]: client 10.0.0.5#5353 (a.nl): query: a.nl IN A + (10.0.0.53)",
             "Jul  6 10:00:00 ns1 named[9]: client 10.0.0.5#5353 (b.nl): query: b.nl IN A + (10.0.0.53)")
    events, _ = parse(tmp_path / "named-2024-06-05.log", "bind_query", *lines)
    assert [utc(e)[:10] for e in events] == ["2024-07-05", "2023-07-06"]


def test_feb_29_is_kept_in_a_leap_year_and_rejected_in_another(tmp_path: Path) -> None:
    line = "Feb 29 10:00:00 dnsmasq[1]: query[A] chatgpt.com from 10.0.0.5"
    events, _ = parse(tmp_path / "pihole-20240310.log", "dnsmasq", line)
    assert utc(events[0]) == "2024-02-29T09:00:00Z"
    events, rejects = parse(tmp_path / "pihole-20250310.log", "dnsmasq", line)
    assert not events and rejects[0]["reason"] == "no timestamp"


def test_reference_time_ignores_digits_that_are_not_a_date(tmp_path: Path) -> None:
    path = tmp_path / "named-20231345.log"
    path.write_text("")
    stamp = datetime(2022, 5, 1, 8, 0).timestamp()
    os.utime(path, (stamp, stamp))
    assert reference_time(str(path), "UTC").date().isoformat() == "2022-05-02"  # the day after it was written


def test_a_date_after_the_file_was_written_is_of_the_year_before(tmp_path: Path) -> None:
    """A file last written on 1 December cannot hold a line of 17 December of that year."""
    path = tmp_path / "named.log"
    path.write_text("Dec 17 08:05:30 ns1 named[9]: client 10.0.0.5#5353 (a.nl): query: a.nl IN A + (10.0.0.53)\n"
                    "Dec  1 09:00:00 ns1 named[9]: client 10.0.0.5#5353 (b.nl): query: b.nl IN A + (10.0.0.53)\n")
    stamp = datetime(2026, 12, 1, 12, 0).timestamp()
    os.utime(path, (stamp, stamp))
    events, _, _ = parse_file(path, FORMATS["bind_query"], golden_settings())
    assert [utc(e)[:10] for e in events.to_pylist()] == ["2025-12-17", "2026-12-01"]


def test_sql_header_and_python_sniffer_agree_on_the_program() -> None:
    """The sniffers read headers in Python, the parsers in SQL: both must find the same program."""
    lines = [line for key in DNS_FORMATS for sample in samples(key) if sample.suffix == ".log"
             for line in sample.read_text(encoding="utf-8").splitlines() if line.strip()]
    lines += ["<134>1 2020-03-29T13:19:22Z gw CheckPoint 1930 - [k:\"v\"; a:\"b\\]\"] hello",
              "Jun  5 10:00:32 fe80::1 named[1]: client x", "Jun  5 10:00:32 host named:", "no header: here"]
    connection = open_parse_connection()
    define_macros(connection)
    connection.register("lines", pa.table({"line_no": range(len(lines)), "line": lines}))
    rows = connection.sql("select line_no, header_ts, app from syslog_lines('UTC', timestamp '2024-06-05')"
                          " order by line_no").fetchall()
    assert [(app if header else None) for _, header, app in rows] == [program_of(line) for line in lines]


# --- BIND and Infoblox --------------------------------------------------------------------------------


def test_wazuh_named_denied_queries_are_blocked_events(tmp_path: Path, vendor_samples: Path) -> None:
    """The wazuh rule-test file is not a log: its sample lines follow `log N pass|fail = `."""
    text = (vendor_samples / "bind-named" / "named.ini").read_text(encoding="utf-8")
    lines = [m.group(1).rstrip() for m in re.finditer(r"^log \d+ \w+ = (.*)$", text, re.M)]
    events, rejects = parse(tmp_path / "named-20240830.log", "bind_query", *lines)
    assert [(e["src_ip"], e["action"], e["host"]) for e in events] == [
        ("217.148.39.3", "blocked", None), ("217.148.39.4", "blocked", None),
        ("217.148.39.3", "blocked", None), ("217.148.39.4", "blocked", None),
    ]
    # The last one stops at `query (cache)`: a truncated line, rejected with its reason.
    assert [r["line_no"] for r in rejects] == [5] and "access-control line not understood" in rejects[0]["reason"]


def test_bind_iso8601_print_time_with_and_without_offset(tmp_path: Path) -> None:
    tail = "queries: info: client @0x7f3a2c01e568 10.0.0.5#53211 (chatgpt.com): query: chatgpt.com IN A +E(0)K (10.0.0.53)"
    events, rejects = parse(tmp_path / "q.log", "bind_query", f"2024-06-05T08:00:32.123Z {tail}",
                            f"2024-06-05T10:00:33.000 {tail}")
    assert not rejects
    assert [utc(e) for e in events] == ["2024-06-05T08:00:32.123000Z", "2024-06-05T08:00:33Z"]


def test_bind_zone_transfer_requests_and_query_errors_are_ignored(tmp_path: Path) -> None:
    lines = ("05-Jun-2024 08:00:46.300 queries: info: client @0x1 10.0.0.54#45678 (zone.nl): query: zone.nl IN AXFR -T (10.0.0.53)",
             "05-Jun-2024 08:01:09.731 query-errors: info: client @0x1 10.0.0.5#52001 (x.nl): query failed (SERVFAIL) for x.nl/IN/A at query.c:7375",
             "05-Jun-2024 08:01:10.000 query-errors: info: client @0x1 10.0.0.5#52001 (x.nl): query (cache) 'x.nl/A/IN' approved")
    events, rejects = parse(tmp_path / "q.log", "bind_query", *lines)
    assert not events and not rejects


def test_infoblox_vendor_file_lookups_and_their_actions(vendor_samples: Path) -> None:
    events, rejects, report = parse_file(vendor_samples / "infoblox-nios" / "test-dns.log", FORMATS["infoblox_nios"],
                                         golden_settings())
    assert rejects.num_rows == 0 and report.ignored == 15
    by_line = {e["line_no"]: e for e in events.to_pylist()}
    assert by_line[2]["action"] == "blocked" and by_line[2]["dns_rcode"] == "REFUSED"
    assert by_line[5]["dns_answers"] == ["192.168.0.2", "192.168.0.3"]
    cef = by_line[11]
    assert (cef["host"], cef["src_ip"], cef["dst_ip"], cef["action"]) == ("nxd1.com", "192.168.0.1", "192.168.0.1",
                                                                         "blocked")
    assert by_line[23]["action"] == "unknown"  # a queries: line is logged before any policy applies
    # Line 26: a TXT answer whose quoted text holds `;`: no address, no CNAME, no false record.
    assert by_line[26]["dns_answers"] is None and by_line[26]["dns_rcode"] == "NOERROR"


def test_sniffing_tells_bind_from_infoblox(vendor_samples: Path) -> None:
    infoblox = (vendor_samples / "infoblox-nios" / "test-dns.log").read_text().splitlines()
    assert sniff_scores(infoblox)[0][0] == "infoblox_nios"
    bind_lines = [line for line in infoblox if "queries:" in line]  # query logging alone looks like BIND
    assert sniff_scores(bind_lines)[0][0] == "bind_query"


# --- Unbound ------------------------------------------------------------------------------------------


def test_unbound_reply_and_local_action_join_their_query(tmp_path: Path) -> None:
    lines = ("[1717574432] unbound[1:0] info: 10.0.0.5 chatgpt.com. A IN",
             "[1717574432] unbound[1:0] info: chatgpt.com. always_null 10.0.0.5@5353 chatgpt.com. A IN",
             "[1717574432] unbound[1:0] info: 10.0.0.5 chatgpt.com. A IN NOERROR 0.000000 0 60",
             "[1717574433] unbound[1:0] info: 10.0.0.6 chatgpt.com. A IN NOERROR 0.120000 0 60")
    events, _ = parse(tmp_path / "u.log", "unbound", *lines)
    assert [(e["line_no"], e["src_ip"], e["action"], e["dns_rcode"], e["duration_ms"]) for e in events] == [
        (1, "10.0.0.5", "blocked", "NOERROR", 0),
        (4, "10.0.0.6", "allowed", "NOERROR", 120),  # a reply without its query line is the event itself
    ]


# --- dnsmasq ------------------------------------------------------------------------------------------


def test_dnsmasq_lines_of_other_programs_are_ignored_not_rejected(tmp_path: Path) -> None:
    lines = ("Jun  5 10:00:32 gw dnsmasq[1]: query[A] chatgpt.com from 10.0.0.5",
             "Jun  5 10:00:32 gw sshd[2]: Accepted publickey for beheer from 10.0.0.10 port 51122 ssh2",
             "Jun  5 10:00:32 gw dnsmasq-dhcp[1]: DHCPACK(eth0) 10.0.0.5 00:15:5d:0a:1b:2c ws0142")
    events, rejects = parse(tmp_path / "syslog-20240605", "dnsmasq", *lines)
    assert [e["host"] for e in events] == ["chatgpt.com"] and not rejects


# --- Windows DNS --------------------------------------------------------------------------------------

PACKET = "{date} 0E70 PACKET  000001E8A1C40A10 UDP Rcv 10.0.0.5        4a3f   Q [0001   D   NOERROR] A      (7)chatgpt(3)com(0)"


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("6/5/2024 10:00:32 AM", "2024-06-05T08:00:32Z"),  # en-US: month first, 12-hour clock
        ("05/06/2024 10:00:32", "2024-06-05T08:00:32Z"),  # en-GB, fr-FR: day first, 24-hour clock
        ("5-6-2024 22:00:32", "2024-06-05T20:00:32Z"),  # nl-NL
        ("05.06.2024 10:00:32", "2024-06-05T08:00:32Z"),  # de-DE
        ("2024-06-05 12:00:32", "2024-06-05T10:00:32Z"),  # ISO, sv-SE
        ("2024/6/5 10:00:32", "2024-06-05T08:00:32Z"),  # zh-CN
        ("20240605 10:00:32", "2024-06-05T08:00:32Z"),  # Windows Server 2003
        ("6/5/24 12:00:32 AM", "2024-06-04T22:00:32Z"),  # two-digit year; 12 AM is midnight
    ],
)
def test_windows_dns_dates_by_locale(tmp_path: Path, date: str, expected: str) -> None:
    events, rejects = parse(tmp_path / "dns.log", "windows_dns", PACKET.format(date=date))
    assert not rejects and utc(events[0]) == expected


def test_windows_dns_day_above_12_settles_the_order_for_the_rest_of_the_file() -> None:
    ambiguous = PACKET.format(date="5/6/2024 10:00:32 AM")
    alone = batches("windows_dns", [ambiguous])[0]
    assert utc(rows(alone)[0]).startswith("2024-05-06")  # AM/PM with `/`: month first
    _, later = batches("windows_dns", [PACKET.format(date="13/6/2024 10:00:32 AM")], [ambiguous])
    assert utc(rows(later)[0]).startswith("2024-06-05")  # learned from the first batch


def test_windows_dns_contradicting_dates_settle_nothing() -> None:
    lines = [PACKET.format(date="13/6/2024 10:00:32 AM"), PACKET.format(date="6/14/2024 10:00:32 AM"),
             PACKET.format(date="5/6/2024 10:00:32 AM")]
    (result,) = batches("windows_dns", lines)
    assert [utc(e)[:10] for e in rows(result)] == ["2024-06-14", "2024-05-06"]
    assert result.rejects.column("reason").to_pylist() == ["date not understood: 13/6/2024"]


def test_windows_dns_header_block_alone_is_recognised(tmp_path: Path) -> None:
    sample = next(p for p in samples("windows_dns") if p.name == "en_us.log")
    head = [line for line in sample.read_text().splitlines() if line.strip()][:25]
    assert all("PACKET" not in line for line in head)
    assert sniff_scores(head)[0][0] == "windows_dns"


# --- lines of one event in two batches ------------------------------------------------------------
PAIRED = ("dnsmasq", "unbound", "windows_dns")


def paired_lines(key: str, count: int) -> list[str]:
    """`count` lookups whose answer lines come two lookups later, so that batch boundaries fall between."""
    def query(i: int) -> list[str]:
        host, client, stamp = f"host{i % 97}.example", f"10.0.{i % 5}.{i % 200}", 1717574400 + i // 10
        if key == "dnsmasq":
            return [f"Jun  5 10:{i // 600 % 60:02d}:{i // 10 % 60:02d} dnsmasq[7]: query[A] {host} from {client}"]
        if key == "unbound":
            return [f"[{stamp}] unbound[7:0] query: {client} {host}. A IN"]
        labels = "".join(f"({len(label)}){label}" for label in host.split(".")) + "(0)"
        return [f"6/5/2024 10:{i // 600 % 60:02d}:{i // 10 % 60:02d} AM 0E70 PACKET  000001E8A1C40A10 UDP Rcv "
                f"{client:<15} {i % 65536:04x}   Q [0001   D   NOERROR] A      {labels}"]

    def answer(i: int) -> list[str]:
        host, client, stamp = f"host{i % 97}.example", f"10.0.{i % 5}.{i % 200}", 1717574400 + i // 10
        time = f"10:{i // 600 % 60:02d}:{i // 10 % 60:02d}"
        if key == "dnsmasq":
            if i % 4 == 0:
                return [f"Jun  5 {time} dnsmasq[7]: gravity blocked {host} is 0.0.0.0"]
            return [f"Jun  5 {time} dnsmasq[7]: forwarded {host} to 10.20.0.53",
                    f"Jun  5 {time} dnsmasq[7]: reply {host} is <CNAME>",
                    f"Jun  5 {time} dnsmasq[7]: reply edge{i % 7}.cdn.example is 192.0.2.{i % 250}"]
        if key == "unbound":
            return [f"[{stamp}] unbound[7:0] reply: {client} {host}. A IN {'REFUSED' if i % 4 == 0 else 'NOERROR'}"
                    f" 0.0{i % 10}0000 0 60"]
        labels = "".join(f"({len(label)}){label}" for label in host.split(".")) + "(0)"
        return [f"6/5/2024 {time} AM 0E74 PACKET  000001E8A1C40A10 UDP Snd {client:<15} {i % 65536:04x} R Q "
                f"[8081   DR  {'REFUSED' if i % 4 == 0 else 'NOERROR'}] A      {labels}"]

    lines: list[str] = []
    for i in range(count + 2):
        lines += (query(i) if i < count else []) + (answer(i - 2) if i >= 2 else [])
    return lines


def outcome(path: Path, key: str, batch_lines: int, monkeypatch: pytest.MonkeyPatch, context_lines: int | None = None
            ) -> tuple[list[dict[str, object]], list[dict[str, object]], dict[str, object]]:
    """Events, rejects and counts of a file parsed in batches of about `batch_lines` lines."""
    monkeypatch.setattr(reader, "MIN_CHUNK_BYTES", 64)  # batches of `batch_lines` lines even in a small file
    fmt = FORMATS[key] if context_lines is None else dataclasses.replace(FORMATS[key], context_lines=context_lines)
    events, rejects, report = parse_file(path, fmt, dataclasses.replace(golden_settings(), batch_lines=batch_lines))
    assert report.lines == report.parsed + report.rejected + report.ignored
    return (sorted(events.to_pylist(), key=lambda e: e["line_no"]),
            sorted(rejects.to_pylist(), key=lambda r: r["line_no"]), report.to_dict())


@pytest.mark.parametrize("key", PAIRED)
def test_a_pair_split_by_a_batch_boundary_is_joined_as_in_one_batch(tmp_path: Path, key: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "dns-20240605.log"
    path.write_text("".join(line + "\n" for line in paired_lines(key, 20)), encoding="utf-8")
    whole = outcome(path, key, 100_000, monkeypatch)
    assert len(whole[0]) == 20 and not whole[1]
    assert {e["action"] for e in whole[0]} == {"allowed", "blocked"}  # every lookup joined with its answer
    for batch_lines in (1, 3, 7):  # every line a batch; batches that cut between a query and its answer
        assert outcome(path, key, batch_lines, monkeypatch) == whole, batch_lines
    # Without the context the same batches lose answers: the files above did split pairs.
    assert outcome(path, key, 3, monkeypatch, context_lines=0)[0] != whole[0]


@pytest.mark.parametrize("key", PAIRED)
def test_samples_parse_alike_in_any_batch_size(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for sample in samples(key):
        whole = outcome(sample, key, 100_000, monkeypatch)
        for batch_lines in (1, 4, 7):
            assert outcome(sample, key, batch_lines, monkeypatch) == whole, (sample.name, batch_lines)


def test_answers_farther_than_the_context_are_not_joined_across_batches(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The bound: a query whose answer comes more than `context_lines` lines later, in the next batch."""
    lines = paired_lines("unbound", 1)
    path = tmp_path / "u.log"
    path.write_text("\n".join([lines[0], *[f"[1717574400] unbound[7:0] info: resolving x{i}." for i in range(9)],
                               lines[1]]) + "\n", encoding="utf-8")
    near = outcome(path, "unbound", 2, monkeypatch, context_lines=10)[0]
    far = outcome(path, "unbound", 2, monkeypatch, context_lines=5)[0]
    assert [(e["line_no"], e["action"]) for e in near] == [(1, "blocked")]  # REFUSED
    assert [(e["line_no"], e["action"]) for e in far] == [(1, "unknown"), (11, "blocked")]


# --- every format: arbitrary input never crashes and every line is accounted for -------------------

NOISE = st.text(alphabet=st.sampled_from(list("ab 0123:.#@()[]<>/-_'\"|=\tQRZTdnsmaq")), max_size=60)
PREFIXES = st.sampled_from([
    "", "Jun  5 10:00:32 dnsmasq[1]: ", "<30>Jun  5 10:00:32 ns1 named[9]: client 10.0.0.5#53 ",
    "05-Jun-2024 08:00:32.123 queries: info: client @0x1 10.0.0.5#5 (x): ", "[1717574432] unbound[1:0] info: ",
    "6/5/2024 10:00:32 AM 0E70 PACKET  00AB UDP Rcv 10.0.0.5 4a3f R Q [", "<30>1 2024-06-05T10:00:32Z h unbound 1 - - ",
    "Jun  5 10:00:32 dnsmasq[1]: 7 10.0.0.5/53 query[A] ", "CEF:0|Infoblox|NIOS|9|RPZ-QNAME|",
])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.tuples(PREFIXES, NOISE).map("".join), min_size=1, max_size=8))
def test_arbitrary_lines_never_crash_and_are_all_accounted_for(lines: list[str]) -> None:
    lines = [line for line in lines if line.strip()] or ["x"]
    for key in DNS_FORMATS:
        (result,) = batches(key, lines)
        assert result.events.num_rows + result.rejects.num_rows + result.ignored == len(lines), key


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.tuples(PREFIXES, NOISE).map("".join), min_size=2, max_size=8))
def test_arbitrary_lines_parse_alike_in_any_batch_size(lines: list[str]) -> None:
    """Whatever the lines, parsing them line by line (each batch with its neighbours) equals one batch."""
    import tempfile

    original, reader.MIN_CHUNK_BYTES = reader.MIN_CHUNK_BYTES, 64
    try:
        with tempfile.TemporaryDirectory() as work:
            path = Path(work) / "dns-20240605.log"
            path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
            for key in PAIRED:
                outcomes = []
                for batch_lines in (1, 100_000):
                    settings_ = dataclasses.replace(golden_settings(), batch_lines=batch_lines)
                    events, rejects, report = parse_file(path, FORMATS[key], settings_)
                    assert report.lines == report.parsed + report.rejected + report.ignored == len(lines)
                    outcomes.append((sorted(map(str, events.to_pylist())), sorted(map(str, rejects.to_pylist())),
                                     report.to_dict()))
                assert outcomes[0] == outcomes[1], key
    finally:
        reader.MIN_CHUNK_BYTES = original
