"""Firewall formats: PAN-OS, FortiGate, Cisco ASA, pfSense/OPNsense, Juniper SRX, Check Point.

What the registry-driven golden tests do not pin down: which records are events, the client side of an ASA
teardown, time zones, quoting, and the vendors' own test lines (wazuh rule-test files built into inputs).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.ingest import FORMATS, sniff_scores
from detector.ingest.base import open_parse_connection
from detector.ingest.pipeline import parse_file
from detector.ingest.syslog import SyslogHeaders, define_head_macros, define_macros
from tests.golden import golden_settings, parse_lines
from tests.syslog_headers import headers_read_both_ways

FIREWALLS = ("panos", "fortigate", "cisco_asa", "pfsense_filterlog", "juniper_srx", "checkpoint")


def parse(tmp_path: Path, key: str, *lines: str, name: str = "fw-20251118.log"):  # type: ignore[no-untyped-def]
    """Parse inline lines (golden settings: Europe/Amsterdam; the name dates year-less syslog times)."""
    events, rejects, report = parse_lines(tmp_path / name, key, lines)
    return events.to_pylist(), rejects.to_pylist(), report


def ini_lines(path: Path) -> list[str]:
    """The sample lines of a wazuh rule-test file: `log N pass = <line>` (commented `;` lines left out)."""
    return [m.group(1) for m in re.finditer(r"^log \d+ pass = ?(.*)$", path.read_text(encoding="utf-8"), re.M)]


def utc(event: dict[str, object]) -> str:
    return event["ts"].isoformat().replace("+00:00", "Z")  # type: ignore[union-attr]


# --- Cisco ASA ---------------------------------------------------------------------------------------

ASA = "Nov 18 2025 09:03:04: %ASA-6-"


def test_asa_counts_a_connection_once_at_its_teardown(tmp_path: Path) -> None:
    events, _, report = parse(
        tmp_path, "cisco_asa",
        ASA + "302013: Built outbound TCP connection 7 for outside:104.18.32.47/443 (104.18.32.47/443) "
              "to inside:10.20.3.14/52011 (192.0.2.10/41022)",
        ASA + "302014: Teardown TCP connection 7 for outside:104.18.32.47/443 to inside:10.20.3.14/52011 "
              "duration 1:02:03 bytes 960257 TCP FINs",
    )
    assert (report.parsed, report.ignored) == (1, 1)
    (event,) = events
    assert (event["src_ip"], event["dst_ip"], event["dst_port"], event["duration_ms"]) == (
        "10.20.3.14", "104.18.32.47", 443, 3_723_000)
    # `bytes` is the total of both directions: neither upload nor download.
    assert (event["bytes_out"], event["bytes_in"]) == (None, None)


@pytest.mark.parametrize(("for_side", "to_side", "client", "user"), [
    # outbound: the inside client is printed second
    ("outside:104.18.32.47/443", "inside:10.20.3.14/52011", "10.20.3.14", None),
    # inbound: the outside client is printed first, the server listens on the low port
    ("outside:198.51.100.23/51000", "dmz:10.1.2.80/443", "198.51.100.23", None),
    # an identity-firewall user marks the client, whatever the ports say
    ("outside:67.43.156.15/50120(LOCAL\\jdevries)", "inside:192.168.0.1/53", "67.43.156.15", "LOCAL\\jdevries"),
    ("outside:162.159.140.245/443", "inside:10.20.7.101/50544(GEMEENTE\\pvanleeuwen)", "10.20.7.101",
     "GEMEENTE\\pvanleeuwen"),
    # equal ports: the usual case, a client inside going out
    ("outside:10.44.4.4/500", "inside:10.44.2.2/500", "10.44.2.2", None),
    ("OUTSIDE:2606:4700::6812:2020/443", "INSIDE:fd00:20:7::65/50600", "fd00:20:7::65", None),
])
def test_asa_teardown_client_side(tmp_path: Path, for_side: str, to_side: str, client: str, user: str | None) -> None:
    (event,), _, _ = parse(tmp_path, "cisco_asa",
                           ASA + f"302016: Teardown UDP connection 9 for {for_side} to {to_side} duration 0:00:01 "
                                 "bytes 100")
    assert (event["src_ip"], event["user_name"]) == (client, user)
    assert event["dst_ip"] != client


@pytest.mark.parametrize(("stamp", "expected"), [
    ("Nov 18 2025 09:00:00", "2025-11-18T08:00:00Z"),  # no zone: the configured one (Europe/Amsterdam)
    ("Nov 18 2025 09:00:00 EDT", "2025-11-18T13:00:00Z"),
    ("Jul 18 2025 09:00:00 CEST", "2025-07-18T07:00:00Z"),
    ("Nov 18 2025 09:00:00 UTC", "2025-11-18T09:00:00Z"),
    ("Nov 18 2025 09:00:00 AMS", "2025-11-18T08:00:00Z"),  # a name of the admin's own: the configured zone
])
def test_asa_time_stamp_zones(tmp_path: Path, stamp: str, expected: str) -> None:
    (event,), _, _ = parse(tmp_path, "cisco_asa", f"{stamp}: %ASA-4-106023: Deny tcp src inside:10.20.9.3/61000 "
                                                  'dst outside:3.120.45.8/443 by access-group "in" [0x0, 0x0]')
    assert utc(event) == expected
    assert event["action"] == "blocked"


def test_asa_acl_and_url_messages(tmp_path: Path) -> None:
    events, _, _ = parse(
        tmp_path, "cisco_asa",
        ASA + "106100: access-list in permitted tcp inside/10.20.4.31(51234)(GEMEENTE\\jdevries) -> "
              "outside/104.18.33.45(443) hit-cnt 1 first hit [0x71a87d94, 0x0]",
        ASA + "106100: access-list in denied icmp inside/10.20.4.31(8) -> outside/104.18.33.45(0) hit-cnt 1 "
              "first hit [0x71a87d94, 0x0]",
        ASA + "304001: mbakker@10.20.4.42(GEMEENTE\\mbakker) Accessed URL 3.120.45.8:http://www.DeepL.com/translator",
        ASA + "304002: Access denied URL http://chatgpt.com/ SRC 10.20.9.4 DEST 104.18.32.47 on interface inside",
    )
    assert [(e["src_ip"], e["dst_port"], e["action"], e["user_name"]) for e in events] == [
        ("10.20.4.31", 443, "allowed", "GEMEENTE\\jdevries"), ("10.20.4.31", None, "blocked", None),
        ("10.20.4.42", None, "allowed", "GEMEENTE\\mbakker"), ("10.20.9.4", None, "blocked", None)]
    assert [(e["host"], e["host_source"], e["url_path"]) for e in events[2:]] == [
        ("www.deepl.com", "url", "/translator"), ("chatgpt.com", "url", "/")]


def test_asa_other_messages_are_ignored_and_broken_ones_rejected(tmp_path: Path) -> None:
    _, rejects, report = parse(
        tmp_path, "cisco_asa",
        ASA + "305011: Built dynamic TCP translation from inside:10.20.9.4/61020 to outside:192.0.2.10/41100",
        ASA + "111008: User 'admin' executed the 'write memory' command.",
        ASA + "302014: Teardown TCP connection 7 for outside:104.18.32.47/443 garbled",
        "asa01: logging queue full",
    )
    assert (report.ignored, report.rejected) == (2, 2)
    assert [r["reason"] for r in rejects] == ["Teardown message not in the documented layout",
                                              "not a Cisco ASA/FTD message (no %ASA-n-NNNNNN)"]


def test_asa_vendor_sample_every_identity_stays_with_its_client(vendor_samples: Path) -> None:
    events, _, _ = parse_file(vendor_samples / "cisco-asa/test-sample.log", FORMATS["cisco_asa"], golden_settings())
    by_line = {e["line_no"]: e for e in events.to_pylist()}
    assert (by_line[83]["src_ip"], by_line[83]["dst_ip"], by_line[83]["user_name"]) == (
        "67.43.156.15", "1.128.3.4", "LOCAL\\domain\\USER001")
    assert by_line[89]["user_name"] == "LOCAL\\Speciäl Ö01"
    assert utc(by_line[3]) == "2014-04-15T13:34:34Z"  # EDT
    built_and_icmp = {7, 9, 11, 14, 16, 40, 43, 44, 51, 52, 72, 74, 75, 76, 77, 78, 80, 81, 84, 86}
    assert not built_and_icmp & set(by_line)
    assert {12, 13, 45, 46, 53, 54, 83, 85, 88} <= set(by_line)  # the teardowns


# --- PAN-OS ------------------------------------------------------------------------------------------

def panos(kind: str, subtype: str, action: str, misc: str = "", tail: int = 40) -> str:
    fields = ["1", "2025/11/18 09:00:05", "012801096514", kind, subtype, "2561", "2025/11/18 09:00:04", "10.20.3.14",
              "104.18.32.47", "192.0.2.10", "104.18.32.47", "allow-internet", "gemeente\\jdevries", "", "ssl", "vsys1",
              "trust", "untrust", "ethernet1/2", "ethernet1/1", "fwd", "2025/11/18 09:00:00", "118423", "1", "52011",
              "443", "41022", "443", "0x400053", "tcp", action]
    fields += [misc] if kind == "THREAT" else ["960257", "48213", "912044", "42", "2025/11/18 08:57:00", "184", "ai"]
    return "<14>Nov 18 09:00:05 PA-3220 " + ",".join(fields + ["0"] * tail)


def test_panos_session_end_and_url_records_are_events(tmp_path: Path) -> None:
    events, _, report = parse(
        tmp_path, "panos",
        panos("TRAFFIC", "start", "allow"), panos("TRAFFIC", "end", "allow"), panos("TRAFFIC", "deny", "deny"),
        panos("THREAT", "url", "block-url", '"chatgpt.com/c/1,2?x=""y"""'), panos("THREAT", "spyware", "alert"),
    )
    assert (report.parsed, report.ignored) == (3, 2)
    assert [(e["action"], e["bytes_out"], e["host"]) for e in events] == [
        ("allowed", 48213, None), ("blocked", 48213, None), ("blocked", None, "chatgpt.com")]
    assert events[2]["url_path"] == "/c/1,2"
    assert utc(events[0]) == "2025-11-18T08:00:04Z"  # generated time, read in the configured zone


# --- FortiGate ---------------------------------------------------------------------------------------

FG = ('<189>date=2025-11-18 time=09:00:04 devname="fw" logid="0000000013" type="traffic" subtype="forward" '
      'srcip=10.20.3.14 dstip=104.18.32.47 dstport=443 proto=6 action="close" sentbyte=10 rcvdbyte=20 duration=3')


@pytest.mark.parametrize("eventtime", ["1763452804", "1763452804000", "1763452804000000", "1763452804000000000"])
def test_fortigate_eventtime_in_any_unit_is_the_same_instant(tmp_path: Path, eventtime: str) -> None:
    (event,), _, _ = parse(tmp_path, "fortigate", FG + f" eventtime={eventtime} tz=\"-0500\"")
    assert utc(event) == "2025-11-18T08:00:04Z"


@pytest.mark.parametrize(("extra", "expected"), [
    (' tz="-0500"', "2025-11-18T14:00:04Z"),  # date and time with the device's offset
    ("", "2025-11-18T08:00:04Z"),  # neither: the configured zone
])
def test_fortigate_without_eventtime_reads_date_and_time(tmp_path: Path, extra: str, expected: str) -> None:
    (event,), _, _ = parse(tmp_path, "fortigate", FG + extra)
    assert utc(event) == expected


def test_fortigate_quoted_values_with_spaces_and_equals_signs(tmp_path: Path) -> None:
    line = ('<188>date=2025-11-18 time=09:02:00 logid="0316013056" type="utm" subtype="webfilter" '
            'msg="user action=allow hostname=evil.example in text" srcip=10.20.3.14 dstip=104.18.32.47 '
            'dstport=443 proto=6 user="Jan de Vries" hostname="chatgpt.com" action="blocked" '
            'url="/backend-api/conversation?model=gpt-4o&x=1" catdesc="Artificial Intelligence Technology"')
    (event,), _, _ = parse(tmp_path, "fortigate", line)
    assert (event["user_name"], event["host"], event["url_path"], event["action"]) == (
        "Jan de Vries", "chatgpt.com", "/backend-api/conversation", "blocked")


def test_fortigate_session_start_and_other_types_are_ignored(tmp_path: Path) -> None:
    events, rejects, report = parse(
        tmp_path, "fortigate", FG.replace('action="close"', 'action="start"'), FG,
        FG.replace('type="traffic"', 'type="event"'), FG.replace('type="traffic" subtype="forward"',
                                                               'type="utm" subtype="virus"'),
        "fw: connection to log server lost",
    )
    assert (report.parsed, report.ignored, report.rejected) == (1, 3, 1)
    assert events[0]["duration_ms"] == 3000 and rejects[0]["reason"].startswith("not a FortiGate")


# --- pfSense / OPNsense ------------------------------------------------------------------------------

def test_pfsense_ipv4_ipv6_and_other_programs(tmp_path: Path) -> None:
    events, rejects, report = parse(
        tmp_path, "pfsense_filterlog",
        "<134>Nov 18 09:00:00 filterlog[1]: 112,,,1000000103,igb1,match,pass,in,4,0x0,,64,38211,0,DF,6,tcp,60,"
        "10.20.3.14,104.18.32.47,52011,443,0,S,2847112310,,64240,,mss",
        "<134>Nov 18 09:00:01 fw filterlog[1]: 113,,,1000000104,igb1,match,block,in,6,0x00,0x8e2b1,64,udp,17,40,"
        "fd00:20:7::65,2606:4700::6812:2020,50600,443,32",
        "<30>Nov 18 09:04:01 unbound[75499]: [26931:0] info: 10.20.3.14 chatgpt.com. A IN",
    )
    assert (report.parsed, report.ignored, report.rejected) == (2, 1, 0) and not rejects
    assert [(e["src_ip"], e["dst_ip"], e["dst_port"], e["network_protocol"], e["action"]) for e in events] == [
        ("10.20.3.14", "104.18.32.47", 443, "tcp", "allowed"),
        ("fd00:20:7::65", "2606:4700::6812:2020", 443, "udp", "blocked")]
    assert utc(events[0]) == "2025-11-18T08:00:00Z"


def test_pfsense_year_less_time_takes_its_year_from_the_file_name(tmp_path: Path) -> None:
    line = ("<134>Dec 31 23:59:59 filterlog[1]: 5,,,1,igb1,match,pass,in,4,0x0,,64,1,0,DF,17,udp,40,"
            "10.0.0.1,9.9.9.9,5000,53,12")
    (event,), _, _ = parse(tmp_path, "pfsense_filterlog", line, name="filterlog-20260105.log")
    assert utc(event) == "2025-12-31T22:59:59Z"


# --- Juniper SRX -------------------------------------------------------------------------------------

SD = ('reason="TCP FIN" source-address="10.20.3.14" source-port="52011" destination-address="104.18.32.47" '
      'destination-port="443" service-name="junos-https" protocol-id="6" policy-name="allow" '
      'bytes-from-client="48213" bytes-from-server="912044" elapsed-time="184" username="jdevries"')


def test_srx_structured_and_text_close_give_the_same_session(tmp_path: Path) -> None:
    structured = f"<14>1 2025-11-18T09:03:04+01:00 srx RT_FLOW - RT_FLOW_SESSION_CLOSE [junos@2636.1.1.1.2.129 {SD}]"
    text = ("<14>Nov 18 09:03:04 srx RT_FLOW: RT_FLOW_SESSION_CLOSE: session closed TCP FIN: "
            "10.20.3.14/52011->104.18.32.47/443 0x0 junos-https 192.0.2.10/41022->104.18.32.47/443 0x0 "
            "source rule nat N/A N/A 6 allow trust untrust 118423 420(48213) 610(912044) 184 SSL UNKNOWN "
            "jdevries(medewerkers) ge-0/0/1.0 UNKNOWN N/A N/A -1")
    events, rejects, _ = parse(tmp_path, "juniper_srx", structured, text)
    assert not rejects
    columns = ("ts", "src_ip", "user_name", "dst_ip", "dst_port", "network_protocol", "action", "bytes_out",
               "bytes_in", "duration_ms")
    first, second = ({c: e[c] for c in columns} for e in events)
    assert first == second
    assert (first["bytes_out"], first["user_name"]) == (48213, "jdevries")


def test_srx_create_is_ignored_deny_is_blocked_and_typographic_quotes_are_read(tmp_path: Path) -> None:
    events, _, report = parse(
        tmp_path, "juniper_srx",
        f"<14>1 2025-11-18T09:00:00Z srx RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636 {SD}]",
        "<14>1 2025-11-18T09:01:00Z srx RT_FLOW - RT_FLOW_SESSION_DENY [junos@2636 source-address=“10.20.9.3” "
        "source-port=“61000” destination-address=“3.120.45.8” destination-port=“443” protocol-id=“6”]",
    )
    assert (report.parsed, report.ignored) == (1, 1)
    assert (events[0]["action"], events[0]["src_ip"], events[0]["dst_port"]) == ("blocked", "10.20.9.3", 443)


def test_srx_wazuh_sample_lines(vendor_samples: Path, tmp_path: Path) -> None:
    lines = ini_lines(vendor_samples / "juniper-srx/junos.ini")
    events, _rejects, report = parse(tmp_path, "juniper_srx", *lines, name="junos-20171001.log")
    assert (report.parsed, report.ignored, report.rejected) == (1, 2, 0)  # screen and multicast: not sessions
    (event,) = events
    assert (event["src_ip"], event["dst_ip"], event["dst_port"], event["action"], utc(event)) == (
        "192.168.1.1", "192.168.1.2", 8010, "blocked", "2017-09-23T13:54:54.803000Z")


# --- Check Point -------------------------------------------------------------------------------------

def test_checkpoint_wazuh_sample_lines(vendor_samples: Path, tmp_path: Path) -> None:
    lines = ini_lines(vendor_samples / "checkpoint/checkpoint_smart1.ini")
    assert len(lines) == 18
    events, rejects, report = parse(tmp_path, "checkpoint", *lines)
    by_action = {e["line_no"]: e["action"] for e in events}
    assert by_action[1] == "blocked"  # Drop
    assert report.ignored == 12  # Key Install, Login, Monitored, ... (several are cut short in the file)
    # Encrypt and Block lines cut short before their src: decisions without a source are rejects.
    assert sorted(r["reason"] for r in rejects) == ["Block log without src and dst", "Encrypt log without src and dst"]


def test_checkpoint_url_filtering_and_accounting(tmp_path: Path) -> None:
    line = ('<134>1 2025-11-18T08:02:10Z gw CheckPoint 2817 - [action:"Accept"; time:"1763452930"; '
            'src:"10.20.7.101"; dst:"162.159.140.245"; proto:"6"; service:"443"; user:"P. van Leeuwen (pvl)"; '
            'resource:"https://API.OPENAI.COM:443/v1/chat/completions?stream=true"; method:"post"; '
            'client_outbound_bytes:"4100"; server_outbound_bytes:"9000"; elapsed:"2"; '
            '__policy_id_tag:"product=VPN-1 & FireWall-1[db_tag={x};policy_name=Standard\\]"]')
    (event,), _, _ = parse(tmp_path, "checkpoint", line)
    assert (event["host"], event["url_path"], event["http_method"], event["dst_port"]) == (
        "api.openai.com", "/v1/chat/completions", "POST", 443)
    assert (event["bytes_out"], event["bytes_in"], event["duration_ms"], event["user_name"]) == (
        4100, 9000, 2000, "P. van Leeuwen (pvl)")
    assert utc(event) == "2025-11-18T08:02:10Z"


# --- The vendors' own application and category ------------------------------------------------------

def test_vendor_application_and_category_are_kept_as_the_firewall_names_them(tmp_path: Path) -> None:
    (forti,), _, _ = parse(tmp_path, "fortigate", FG + ' app="ChatGPT" appcat="unscanned"')
    (forti_web,), _, _ = parse(tmp_path, "fortigate", FG.replace('type="traffic" subtype="forward"',
                                                              'type="utm" subtype="webfilter"')
                               + ' hostname="chatgpt.com" catdesc="Artificial Intelligence Technology" appcat="x"')
    (check_point,), _, _ = parse(
        tmp_path, "checkpoint",
        '<134>1 2025-11-18T08:02:00Z gw CheckPoint 1 - [action:"Block"; src:"10.0.0.1"; dst:"10.0.0.2"; '
        'appi_name:"ChatGPT"; matched_category:"Artificial Intelligence"; resource:"https://chatgpt.com/"]')
    assert (forti["vendor_app"], forti["vendor_category"]) == ("ChatGPT", None)  # "unscanned" is no category
    assert forti_web["vendor_category"] == "Artificial Intelligence Technology"  # the web filter's, first
    assert (check_point["vendor_app"], check_point["vendor_category"]) == ("ChatGPT", "Artificial Intelligence")


# --- RFC 5424 structured data (syslog_lines) ----------------------------------------------------------

@pytest.mark.parametrize(("line", "app", "msg"), [
    ('<14>1 2025-11-18T09:00:00Z fw RT_FLOW - X [junos@2636 a="1" b="2"]', "RT_FLOW", ""),
    ('<14>1 2025-11-18T09:00:00Z fw RT_FLOW - X [a x="1"] the message', "RT_FLOW", "the message"),
    ('<14>1 2025-11-18T09:00:00Z fw RT_FLOW - X - the message', "RT_FLOW", "the message"),
    ('<14>1 2025-11-18T09:00:00Z fw RT_FLOW - X [a x="1"][b y="2"] two elements', "RT_FLOW", "two elements"),
    ('<14>1 2025-11-18T09:00:00Z fw RT_FLOW - X [a x="1\\] b"] escaped', "RT_FLOW", "escaped"),
    ('<14>1 2025-11-18T09:00:00Z fw] RT_FLOW - X [a x="1"] bracket in host', "RT_FLOW", "bracket in host"),
    ('<14>1 2025-11-18T09:00:00Z fw RT_FLOW - X [a x="1"] a] [b] in the message', "RT_FLOW", "a] [b] in the message"),
    ('<14>1 2025-11-18T09:00:00Z fw RT_FLOW - X [a x="1"', None, None),  # unterminated: no header
])
def test_syslog_5424_structured_data_ends_where_the_rfc_says(line: str, app: str | None, msg: str | None) -> None:
    """The fast path (one element, no escapes) and the expression that skips escapes find the same end."""
    connection = open_parse_connection()
    define_macros(connection)
    connection.register("lines", pa.table({"line_no": [1], "line": [line]}))
    ((header_ts, found_app, found_msg),) = connection.execute(
        "select header_ts, app, msg from syslog_lines('UTC', timestamp '2025-11-18')").fetchall()
    assert (found_app, found_msg if header_ts else None) == (app, msg)
    assert (header_ts == "2025-11-18T09:00:00Z") == (app is not None)


# --- Headers read once per distinct header (syslog.SyslogHeaders) ----------------------------------------

HEADER_LINES = [
    "<134>Nov 18 09:00:00 filterlog[31337]: 112,,,1000000103,igb1,match,pass",
    "Nov 18 09:00:00 fw filterlog[31337]: 112,,,a: b",
    "<134>Nov  8 09:00:00.123 a b c filterlog: x",
    "2025-11-18T09:00:00.5+01:00 host app[1]: message: with colons",
    "2025-11-18T09:00:00 host app[: odd tag",
    "Nov 18 2025 09:00:00: %ASA-6-302014: Teardown",
    "Nov 18 2025 09:00:17 asa-stadhuis : %ASA-6-302014: Teardown",
    "<134>1 2025-11-18T09:03:00.123456+01:00 fw filterlog 31337 - - 112,,,1000000103",
    "<134>1 2025-11-18T09:03:00Z fw filterlog 31337 -   spaces before: the message",
    "<134>1 2025-11-18T09:03:00Z fw filterlog 31337 - -",
    "<134>1 2025-11-18T09:03:00Z fw  filterlog 31337 - - two spaces in the header",
    '<134>1 2025-11-18T09:03:10+01:00 OPN filterlog 76404 - [meta sequenceId="7"] 124,,,fae5',
    "<1: >Nov 18 09:00:00 x: y", "<12>: short", "no header: at all", "no colon at all", "ends with a colon:",
    "", ": starts with one", "<1>1 ", "Nov 18 09:00:00 host tag:",
]


def _headers_both_ways(lines: list[str]) -> list[dict[str, object]]:
    """`syslog_lines` over the lines, and SyslogHeaders.read over them (twice: the second from its cache)."""
    return headers_read_both_ways(lines, datetime(2025, 11, 18))


def test_headers_read_once_per_distinct_header_are_those_of_the_whole_line() -> None:
    expected = _headers_both_ways(HEADER_LINES)
    # the cases are exercised: BSD, ISO and RFC 5424 headers (with and without structured data), lines without one
    by_line = {row["line"]: row for row in expected}
    assert by_line[HEADER_LINES[3]]["msg"] == "message: with colons"
    assert (by_line[HEADER_LINES[7]]["app"], by_line[HEADER_LINES[7]]["msg"]) == ("filterlog", "112,,,1000000103")
    assert (by_line[HEADER_LINES[11]]["app"], by_line[HEADER_LINES[11]]["msg"]) == ("filterlog", "124,,,fae5")
    assert by_line["no header: at all"]["header_ts"] == ""
    whole = [HEADER_LINES[11], "no colon at all"]  # none has a header to read once: all read whole
    _headers_both_ways(whole)
    with open_parse_connection().cursor() as cursor:
        define_head_macros(cursor)
        lines = pa.table({"line_no": pa.array([1, 2], pa.int64()), "line": whole})
        assert SyslogHeaders("UTC", datetime(2025, 11, 18)).read_by_header(cursor, lines) is None


@settings(max_examples=40, deadline=None)
@given(st.lists(st.builds(
    lambda pri, time, host, tag, sep, rest: pri + time + host + tag + sep + rest,
    st.sampled_from(["", "<134>", "<1>", "<134>1 ", "<9999>"]),
    st.sampled_from(["Nov 18 09:00:00 ", "Nov  8 09:00:00 ", "2025-11-18T09:00:00Z ", "2025-11-18T09:00:00 ",
                     "Nov 18 2025 09:00:00", ""]),
    st.sampled_from(["", "fw ", "a b ", "fw : ", "- "]),
    st.sampled_from(["filterlog[1]", "app", "x[", "- -", "t]", ""]),
    st.sampled_from([": ", ":", " ", " - ", ": : "]),
    st.text(alphabet=" :-[]<>1abc", max_size=12)), min_size=1, max_size=8))
def test_headers_read_once_per_distinct_header_agree_on_any_line(lines: list[str]) -> None:
    _headers_both_ways(lines)


# --- All ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", FIREWALLS)
def test_firewall_samples_are_not_mistaken_for_another_firewall(key: str) -> None:
    from tests.golden import samples

    for sample in samples(key):
        lines = [line for line in sample.read_text(encoding="utf-8").splitlines() if line.strip()]
        scores = dict(sniff_scores(lines))
        assert max(scores[other] for other in FIREWALLS if other != key) < 0.5, sample.name


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
                        max_size=120), min_size=1, max_size=6))
def test_arbitrary_lines_never_crash_and_are_all_accounted_for(tmp_path: Path, lines: list[str]) -> None:
    noisy = [*lines, "<134>Nov 18 09:00:00 fw " + "".join(lines)[:200]]
    for key in FIREWALLS:
        parse(tmp_path, key, *noisy)
