"""Windows Defender Firewall log (pfirewall.log): both layouts, directions, lost-event lines, times, sniffing.

Lines are written from Microsoft's documented layout, not copied from a log: "Configure Windows Firewall logging"
(https://learn.microsoft.com/en-us/windows/security/operating-system-security/network-security/windows-firewall/
configure-logging) and "Interpreting the Windows Firewall Log"
(https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-server-2003/cc758040(v=ws.10)):
`#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype
icmpcode info path`, and `pid` after `path` on Windows 10 and later.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector import db
from detector.classify.run import classify
from detector.config import load_settings
from detector.ingest import FORMATS, sniff_scores
from detector.ingest.base import ParseContext, in_file_order, open_parse_connection
from detector.ingest.pipeline import FileReport, ingest_paths, parse_file
from detector.ingest.windows_firewall import sniff
from tests.golden import golden_settings

NO_PID = ("#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin "
          "icmptype icmpcode info path")
PID = NO_PID + " pid"
HEADER = ("#Version: 1.5", "#Software: Microsoft Windows Firewall", "#Time Format: Local")
IIS = ("#Software: Microsoft Internet Information Services 10.0", "#Version: 1.0", "#Date: 2026-11-20 08:00:00",
       "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "
       "sc-status sc-substatus sc-win32-status time-taken",
       "2026-11-20 08:00:01 10.30.0.10 GET /loket/afspraak id=4 443 - 10.20.1.15 Mozilla/5.0 200 0 0 15",
       "2026-11-20 08:00:02 10.30.0.10 GET /favicon.ico - 443 - 10.20.1.15 Mozilla/5.0 404 0 2 0")


def parse(tmp_path: Path, *lines: str, timezone: str | None = None
          ) -> tuple[list[dict[str, object]], list[dict[str, object]], FileReport]:
    path = tmp_path / "pfirewall.log"
    path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
    options = replace(golden_settings(), timezone=timezone) if timezone else golden_settings()
    events, rejects, report = parse_file(path, FORMATS["windows_firewall"], options)
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist(), report


def test_windows_10_lines_with_pid_are_firewall_events_with_addresses_port_protocol_and_verdict(tmp_path: Path) -> None:
    events, rejects, report = parse(
        tmp_path, *HEADER, PID,
        "2026-11-20 09:14:02 ALLOW TCP 10.20.3.14 104.18.32.47 52011 443 0 - 0 0 0 - - - SEND 4312",
        "2026-11-20 09:14:04 DROP UDP 10.20.3.14 198.51.100.9 61544 3478 0 - - - - - - - SEND 2876",
    )
    assert not rejects and report.ignored == 4 and report.parsed == 2
    first, second = events
    assert (first["src_ip"], first["dst_ip"], first["dst_port"], first["network_protocol"], first["action"]) == \
        ("10.20.3.14", "104.18.32.47", 443, "tcp", "allowed")
    assert (second["network_protocol"], second["action"], second["dst_port"]) == ("udp", "blocked", 3478)
    assert first["ts"].isoformat() == "2026-11-20T08:14:02+00:00"  # Local: the configured Europe/Amsterdam
    assert first["source_kind"] == "firewall" and first["log_format"] == "windows_firewall"


def test_older_layout_without_pid_reads_the_same(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, *HEADER, NO_PID,
                               "2026-11-20 09:14:02 ALLOW TCP 10.20.3.14 104.18.32.47 52011 443 0 - 0 0 0 - - - SEND")
    assert not rejects
    assert (events[0]["dst_ip"], events[0]["dst_port"], events[0]["action"]) == ("104.18.32.47", 443, "allowed")


def test_a_line_with_pid_under_a_header_without_it_is_a_counted_reject(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, *HEADER, NO_PID,
                               "2026-11-20 09:14:02 ALLOW TCP 10.20.3.14 104.18.32.47 52011 443 0 - 0 0 0 - - - SEND 4")
    assert not events
    assert rejects[0]["reason"] == "18 values, where a Windows Firewall line has 17"


def test_lines_padded_with_runs_of_blanks_read_as_lines_of_single_spaces_in_their_place(tmp_path: Path) -> None:
    """Windows writes single spaces; a line re-spaced on the way (a collector, an editor) takes the general split."""
    line = "2026-11-20 09:14:0{i} ALLOW TCP 10.20.3.14 104.18.32.4{i} 5201{i} 443 0 - 0 0 0 - - - SEND 4312"
    events, rejects, _ = parse(
        tmp_path, *HEADER, PID, line.format(i=1), line.format(i=2).replace(" ALLOW ", "  ALLOW\t"),
        line.format(i=3), " " + line.format(i=4) + " ", line.format(i=5).replace(" - ", "  -  ", 1),
    )
    assert not rejects
    assert [(e["dst_ip"], e["dst_port"], e["action"]) for e in events] == [
        (f"104.18.32.4{i}", 443, "allowed") for i in range(1, 6)]


def test_packet_size_is_not_taken_for_bytes_sent(tmp_path: Path) -> None:
    events, _, _ = parse(tmp_path, *HEADER, PID,
                         "2026-11-20 09:14:07 DROP TCP 10.20.9.77 10.20.3.14 49822 445 52 S 3124877110 0 64240 - - - "
                         "RECEIVE 0")
    assert events[0].get("bytes_out") is None and events[0].get("bytes_in") is None


def test_receive_lines_keep_the_remote_client_as_source_and_the_local_machine_as_destination(tmp_path: Path) -> None:
    events, _, _ = parse(
        tmp_path, *HEADER, PID,
        "2026-11-20 09:14:07 DROP TCP 10.20.9.77 10.20.3.14 49822 445 52 S 3124877110 0 64240 - - - RECEIVE 0",
        "2026-11-20 09:14:09 ALLOW TCP 10.20.0.5 10.20.3.14 50112 3389 0 - 0 0 0 - - - RECEIVE 1180",
    )
    assert [(e["src_ip"], e["dst_ip"], e["dst_port"], e["action"]) for e in events] == [
        ("10.20.9.77", "10.20.3.14", 445, "blocked"), ("10.20.0.5", "10.20.3.14", 3389, "allowed")]


def test_ipv6_icmp_and_protocol_numbers_are_named_as_the_other_firewall_formats_name_them(tmp_path: Path) -> None:
    events, rejects, _ = parse(
        tmp_path, *HEADER, PID,
        "2026-11-20 09:14:12 DROP UDP fe80::8d1c:2f4a:1b3e:77a1%12 ff02::fb 5353 5353 0 - - - - - - - RECEIVE 0",
        "2026-11-20 09:14:13 ALLOW ICMPv6 2001:db8:20:3::14 2001:db8::1 - - 0 - - - - 128 0 - SEND 4",
        "2026-11-20 09:14:14 DROP ICMP 10.20.9.77 10.20.3.14 - - 60 - - - - 8 0 - RECEIVE 0",
        "2026-11-20 09:14:15 ALLOW 6 10.20.3.14 104.18.32.47 52011 443 0 - 0 0 0 - - - SEND 4312",
        "2026-11-20 09:14:16 ALLOW 2 10.20.3.14 224.0.0.22 - - 0 - - - - - - - SEND 4",
    )
    assert not rejects
    assert [e["network_protocol"] for e in events] == ["udp", "ipv6-icmp", "icmp", "tcp", "2"]
    assert [e["dst_port"] for e in events] == [5353, None, None, 443, None]
    assert events[0]["src_ip"] == "fe80::8d1c:2f4a:1b3e:77a1%12" and events[1]["dst_ip"] == "2001:db8::1"


def test_text_columns_keep_their_nulls_in_the_indices_not_in_the_dictionary() -> None:
    """The lake's Parquet writer cannot unify dictionaries holding a null (a protocol written `-`)."""
    texts = [*HEADER, PID, "2026-11-20 09:14:15 ALLOW - 10.20.3.14 10.1.0.53 - - 0 - - - - - - - SEND 4"]
    lines = pa.table({"line_no": pa.array(range(1, len(texts) + 1), pa.int64()), "line": pa.array(texts)})
    context = ParseContext("pfirewall.log", "Europe/Amsterdam", open_parse_connection())
    events = in_file_order(FORMATS["windows_firewall"].new_parser(context))(lines).events
    assert events.column("network_protocol").to_pylist() == [None]
    for column in events.columns:
        for chunk in column.chunks:
            if pa.types.is_dictionary(chunk.type):
                assert chunk.dictionary.null_count == 0, column


def test_info_events_lost_and_xp_close_lines_are_ignored_and_counted(tmp_path: Path) -> None:
    events, rejects, report = parse(
        tmp_path, *HEADER, PID,
        "2026-11-20 09:14:15 INFO-EVENTS-LOST - - - - - - - - - - - - 42 - -",
        "2026-11-20 09:14:16 INFO-EVENTS-LOST - - - - - - - - - - - - 7",  # (however many values it has)
        "2005-11-20 11:43:52 CLOSE TCP 192.168.0.6 207.46.248.254 4280 80 - - - - - - - - - -",
        "2005-11-20 11:48:36 OPEN TCP 192.168.0.6 66.102.7.104 4310 80 - - - - - - - - - -",
    )
    assert not rejects and report.ignored == 4 + 3 and report.parsed == 1
    assert (events[0]["dst_ip"], events[0]["action"]) == ("66.102.7.104", "allowed")


def test_broken_lines_are_rejects_that_say_why(tmp_path: Path) -> None:
    events, rejects, _ = parse(
        tmp_path, *HEADER, PID,
        "2026-11-20 09:14:22 ALLOW TCP 10.20.3.14 104.18.33.47",
        "2026-11-20 09:14:23 BLOCK TCP 10.20.3.14 104.18.32.47 52011 443 0 - 0 0 0 - - - SEND 4312",
        "2026-13-40 09:14:24 ALLOW TCP 10.20.3.14 104.18.32.47 52011 443 0 - 0 0 0 - - - SEND 4312",
        "2026-11-20 09:14:25 ALLOW TCP chatgpt.com 104.18.32.47 52011 443 0 - 0 0 0 - - - SEND 4312",
        "2026-11-20 09:14:26 ALLOW TCP 10.20.3.14 - 52011 443 0 - 0 0 0 - - - SEND 4312",
    )
    assert not events
    assert [r["reason"] for r in rejects] == [
        "6 values, where a Windows Firewall line has 18",
        "action is not one Windows Firewall logs (ALLOW, DROP, INFO-EVENTS-LOST): BLOCK",
        "date/time not understood: 2026-13-40 09:14:24",
        "src-ip is not an IP address: chatgpt.com",
        "dst-ip is not an IP address: -",
    ]


def test_local_times_follow_the_configured_zone_and_a_utc_log_is_read_as_utc(tmp_path: Path) -> None:
    line = "2026-07-01 12:00:00 ALLOW TCP 10.20.3.14 104.18.32.47 52011 443 0 - 0 0 0 - - - SEND 4312"
    local, _, _ = parse(tmp_path, *HEADER, PID, line, timezone="America/New_York")
    assert local[0]["ts"].isoformat() == "2026-07-01T16:00:00+00:00"
    utc, _, _ = parse(tmp_path, "#Time Format: UTC", PID, line, timezone="America/New_York")
    assert utc[0]["ts"].isoformat() == "2026-07-01T12:00:00+00:00"


def test_lines_without_a_fields_directive_are_read_in_the_documented_order_with_or_without_pid(tmp_path: Path) -> None:
    events, rejects, _ = parse(
        tmp_path,
        "2026-11-20 09:14:02 ALLOW TCP 10.20.3.14 104.18.32.47 52011 443 0 - 0 0 0 - - - SEND 4312",
        "2026-11-20 09:14:03 DROP TCP 10.20.3.14 104.18.32.48 52012 443 0 - 0 0 0 - - - SEND",
        "2026-11-20 09:14:04 ALLOW TCP 10.20.3.14 104.18.32.49 52013 443",
    )
    assert [e["dst_ip"] for e in events] == ["104.18.32.47", "104.18.32.48"]
    assert rejects[0]["reason"] == "8 values, where a Windows Firewall line has 17 or 18"


def test_fields_directive_changing_mid_file_and_across_batches_maps_each_line_by_its_header(tmp_path: Path) -> None:
    # golden_settings() reads 7 lines a batch: the rotated log's lines and the new header fall in other batches.
    old = [f"2026-11-19 17:00:0{i} ALLOW TCP 10.20.3.14 104.18.32.{i} 5201{i} 443 0 - 0 0 0 - - - SEND"
           for i in range(1, 7)]
    new = [f"2026-11-20 09:00:0{i} ALLOW UDP 10.20.3.14 162.159.140.{i} 5301{i} 443 0 - - - - - - - SEND 4312"
           for i in range(1, 4)]
    events, rejects, report = parse(tmp_path, *HEADER, NO_PID, *old, *HEADER, PID, *new)
    assert not rejects and report.ignored == 8
    assert [e["dst_ip"] for e in events] == [f"104.18.32.{i}" for i in range(1, 7)] + \
        [f"162.159.140.{i}" for i in range(1, 4)]


def test_a_fields_directive_without_the_addresses_rejects_its_lines_naming_what_is_missing(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, "#Fields: date time action protocol", "2026-11-20 09:14:02 ALLOW TCP")
    assert not events
    assert rejects[0]["reason"] == "#Fields names no src-ip, dst-ip: a Windows Firewall log line needs them"


def test_lines_relayed_through_syslog_are_read_behind_their_header(tmp_path: Path) -> None:
    events, rejects, _ = parse(
        tmp_path,
        "<134>Nov 20 09:14:02 WS-0142 " + PID,
        "<134>Nov 20 09:14:02 WS-0142 2026-11-20 09:14:02 ALLOW TCP 10.20.3.14 104.18.32.47 52011 443 0 - 0 0 0 - - - "
        "SEND 4312",
    )
    assert not rejects and events[0]["dst_ip"] == "104.18.32.47"


def test_a_firewall_log_sniffs_as_windows_firewall_and_web_server_and_proxy_logs_still_as_w3c() -> None:
    firewall = [*HEADER, PID, "2026-11-20 09:14:02 ALLOW TCP 10.20.3.14 104.18.32.47 52011 443 0 - 0 0 0 - - - SEND 4"]
    assert sniff_scores(firewall)[0] == ("windows_firewall", 1.0)
    assert sniff_scores(firewall[-1:])[0][0] == "windows_firewall"  # data lines only (no header)
    assert sniff_scores(list(IIS))[0][0] == "w3c" and sniff(IIS) == 0.0
    assert sniff_scores(list(IIS[:4]))[0][0] == "w3c"  # a header only
    proxysg = ("#Software: SGOS 6.7.4.130", "#Version: 1.0", "#Fields: date time time-taken c-ip cs-username "
               "sc-filter-result cs-method cs-uri-scheme cs-host cs-uri-port cs-uri-path",
               "2026-11-20 08:00:01 15 10.20.1.15 - OBSERVED GET https chatgpt.com 443 /")
    assert sniff_scores(list(proxysg))[0][0] == "w3c" and sniff(proxysg) == 0.0


def test_outbound_flows_are_named_through_dns_answers_and_inbound_ones_are_not(home: Path, tmp_path: Path) -> None:
    """What the format is for: a workstation's connection to an AI service's address is named by the DNS answer
    that address came in, and becomes AI traffic; an inbound one (the workstation as destination) is named by
    none."""
    logs = tmp_path / "logs"
    logs.mkdir()
    dns = {"ts": 1795680840.0, "uid": "D1", "id.orig_h": "10.20.3.14", "id.orig_p": 50000, "id.resp_h": "10.1.0.53",
           "id.resp_p": 53, "proto": "udp", "query": "chatgpt.com", "qtype_name": "A", "rcode_name": "NOERROR",
           "answers": ["104.18.32.47"], "TTLs": [300.0], "rejected": False}  # 2026-11-26 08:14:00 UTC
    (logs / "dns.log").write_text(json.dumps(dns) + "\n")
    (logs / "pfirewall.log").write_text("\n".join([
        *HEADER, PID,
        "2026-11-26 09:14:02 ALLOW TCP 10.20.3.14 104.18.32.47 52011 443 0 - 0 0 0 - - - SEND 4312",  # 08:14:02 UTC
        "2026-11-26 09:14:09 ALLOW TCP 104.18.32.47 10.20.3.14 50112 3389 0 - 0 0 0 - - - RECEIVE 1180", ""]))
    reports = list(ingest_paths(load_settings(home), [str(logs)]))
    assert sorted(r.format for r in reports) == ["windows_firewall", "zeek_dns"]
    classify(load_settings(home))
    with db.connect(load_settings(home)) as connection:
        flows = connection.sql("select source_kind, dst_ip, host from events where log_format = 'windows_firewall' "
                               "order by ts").to_arrow_table().to_pylist()
        ai = connection.execute("select count(*) from ai_events where log_format = 'windows_firewall'").fetchone()
    assert flows == [{"source_kind": "firewall", "dst_ip": "104.18.32.47", "host": "chatgpt.com"},
                     {"source_kind": "firewall", "dst_ip": "10.20.3.14", "host": None}]
    assert ai is not None and ai[0] == 1


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                              max_size=120), min_size=1, max_size=15))
def test_arbitrary_lines_never_crash_and_are_all_accounted_for(tmp_path: Path, lines: list[str]) -> None:
    _, _, report = parse(tmp_path, PID, *lines)
    assert report.lines == len(lines) + 1


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.lists(st.sampled_from(["-", "ALLOW", "DROP", "TCP", "10.0.0.1", "::1", "443", "2026-11-20",
                                                 "09:14:02", "SEND", "INFO-EVENTS-LOST", ""]),
                               min_size=0, max_size=19), min_size=1, max_size=12))
def test_lines_of_firewall_words_never_crash_and_are_all_accounted_for(tmp_path: Path, words: list[list[str]]) -> None:
    _, _, report = parse(tmp_path, PID, *(" ".join(line) for line in words))
    assert report.lines == len(words) + 1
