"""Syslog headers, Suricata EVE, Sophos SFOS, Unbound and Zscaler against layouts documented by the standards
and vendors (RFC 3164/5424, Suricata's EVE format docs, Sophos's log-file reference, unbound.conf, Zscaler NSS
docs) and seen in public real-world logs: each test's lines are written here from the documented layout."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from detector.ingest.syslog import SyslogHeaders, define_head_macros, program_of
from tests.golden import parse_lines


def parse(path: Path, key: str, *lines: str) -> tuple[list[dict[str, object]], list[dict[str, object]], int]:
    events, rejects, report = parse_lines(path, key, lines)
    return sorted(events.to_pylist(), key=lambda e: e["line_no"]), rejects.to_pylist(), report.ignored


def utc(event: dict[str, object]) -> str:
    return event["ts"].isoformat().replace("+00:00", "Z")  # type: ignore[union-attr]


# --- Syslog headers: a space after the PRI; RFC 3164 without a TAG ---------------------------------------

HEADERS = (
    # RFC 3164 4.1.2: the time "will immediately follow" the '>'; some switches and relays write a space there
    "<14> Jun  5 10:00:30 sw-core-1 General[procLOG]: link up on port 7",
    "<30> 2024-06-05T10:00:31+02:00 gw dnsmasq[812]: cached chatgpt.com is 104.18.32.47",
    # RFC 3164 5.4, example 2: a host, then the message, no TAG
    "<13>Jun  5 10:00:32 10.20.0.9 Port 7 changed state to up",
    "<13> Jun  5 10:00:33 10.20.0.9 Port 8 changed state to down",
    # a time and a host but no message (cut short): no header
    "<13>Jun  5 10:00:34 10.20.0.9",
    # RFC 5424 is unchanged: '1' right after the '>'
    "<14>1 2024-06-05T10:00:35+02:00 gw dnsmasq 812 - - reply chatgpt.com is 104.18.32.47",
)


def _headers(lines: tuple[str, ...]) -> list[tuple[object, ...]]:
    connection = duckdb.connect()
    define_head_macros(connection)
    table = pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": list(lines)})
    connection.register("lines", table)
    whole = connection.sql("select header_ts, host, app, pid, msg from syslog_lines('UTC', '2024-06-05'::timestamp)"
                           ).fetchall()
    by_head = SyslogHeaders("UTC", datetime(2024, 6, 5)).read(connection, table)
    assert [tuple(row[c] for c in ("header_ts", "host", "app", "pid", "msg")) for row in by_head.to_pylist()] == whole
    return whole


def test_syslog_header_with_a_space_after_the_pri_or_without_a_tag_is_read() -> None:
    assert _headers(HEADERS) == [
        ("Jun  5 10:00:30", "sw-core-1", "General", "procLOG", "link up on port 7"),
        ("2024-06-05T10:00:31+02:00", "gw", "dnsmasq", "812", "cached chatgpt.com is 104.18.32.47"),
        ("Jun  5 10:00:32", "10.20.0.9", None, None, "Port 7 changed state to up"),
        ("Jun  5 10:00:33", "10.20.0.9", None, None, "Port 8 changed state to down"),
        ("", None, None, None, ""),
        ("2024-06-05T10:00:35+02:00", "gw", "dnsmasq", "812", "reply chatgpt.com is 104.18.32.47"),
    ]
    assert [program_of(line) for line in HEADERS] == ["General", "dnsmasq", None, None, None, "dnsmasq"]


def test_dnsmasq_and_filterlog_behind_a_space_after_the_pri_are_read(tmp_path: Path) -> None:
    events, rejects, ignored = parse(
        tmp_path / "dnsmasq-20240605.log", "dnsmasq",
        "<30> Jun  5 10:00:32 gw dnsmasq[812]: query[A] chatgpt.com from 10.20.1.15",
        "<30> 2024-06-05T10:00:33+02:00 gw dnsmasq[812]: query[AAAA] claude.ai from 10.20.1.16",
        # another device's line without a TAG in the same stream: not dnsmasq's, ignored (was "no syslog header")
        "<13>Jun  5 10:00:34 10.20.0.9 Port 7 changed state to up")
    assert rejects == [] and ignored == 1
    assert [(utc(e), e["host"], e["src_ip"]) for e in events] == [
        ("2024-06-05T08:00:32Z", "chatgpt.com", "10.20.1.15"), ("2024-06-05T08:00:33Z", "claude.ai", "10.20.1.16")]
    events, rejects, ignored = parse(
        tmp_path / "filterlog-20240605.log", "pfsense_filterlog",
        "<134> Jun  5 10:00:35 fw filterlog[4120]: 5,,,1000000103,igb1,match,block,in,4,0x0,,64,0,0,DF,6,tcp,60,"
        "10.20.1.15,104.18.32.47,50000,443,0,S,1,,64240,,mss")
    assert rejects == [] and ignored == 0
    assert [(utc(e), e["src_ip"], e["dst_ip"], e["dst_port"], e["action"]) for e in events] == [
        ("2024-06-05T08:00:35Z", "10.20.1.15", "104.18.32.47", 443, "blocked")]


# --- Suricata EVE: HTTP/2's :authority; the host an alert carries on DNS, QUIC and HTTP/2 flows -----------

_EVE_HEAD = '{"timestamp":"2025-11-18T09:00:01.102345+0100","flow_id":7,"in_iface":"eth0",'
_ALERT = '"alert":{"action":"%s","gid":1,"signature_id":9000001,"rev":1,"signature":"AI","category":"","severity":3},'


def test_eve_http2_authority_and_alert_hosts_are_read(tmp_path: Path) -> None:
    lines = (
        # Suricata 6-8 (rust/src/http2/logger.rs): the headers as name/value objects in `http.request_headers`;
        # `hostname` only from a Host header, which browsers do not send over HTTP/2
        _EVE_HEAD + '"event_type":"http","src_ip":"10.20.1.15","src_port":50000,"dest_ip":"104.18.32.47",'
        '"dest_port":443,"proto":"TCP","tx_id":0,"http":{"version":"2","request_headers":[{"name":":method",'
        '"value":"POST"},{"name":":authority","value":"chatgpt.com"},{"name":":path","value":"/backend-api/x"}],'
        '"response_headers":[{"name":":status","value":"200"}],"http_method":"POST","url":"/backend-api/x",'
        '"status":200,"http2":{"stream_id":1,"request":{},"response":{}}},"app_proto":"http2"}',
        # Suricata 6.0's first releases: `http.request.headers`
        _EVE_HEAD + '"event_type":"http","src_ip":"10.20.1.15","src_port":50001,"dest_ip":"104.18.32.48",'
        '"dest_port":443,"proto":"TCP","http":{"stream_id":3,"request":{"headers":[{"name":":authority",'
        '"value":"claude.ai:443"}]},"response":{}},"app_proto":"http2"}',
        # a Host header wins, as before
        _EVE_HEAD + '"event_type":"http","src_ip":"10.20.1.15","src_port":50002,"dest_ip":"104.18.32.49",'
        '"dest_port":80,"proto":"TCP","http":{"hostname":"www.rijksoverheid.nl","url":"/","http_method":"GET",'
        '"status":200},"app_proto":"http"}',
        # alerts with the flow's app-layer object: DNS (Suricata 6/7 `query` array, 8 `queries`), QUIC, HTTP/2
        _EVE_HEAD + '"event_type":"alert","src_ip":"10.20.1.15","src_port":50003,"dest_ip":"10.20.0.53",'
        '"dest_port":53,"proto":"UDP","tx_id":0,' + _ALERT % "allowed" + '"dns":{"query":[{"type":"query",'
        '"id":4711,"rrname":"api.openai.com","rrtype":"A","tx_id":0}]},"app_proto":"dns"}',
        _EVE_HEAD + '"event_type":"alert","src_ip":"10.20.1.15","src_port":50004,"dest_ip":"10.20.0.53",'
        '"dest_port":53,"proto":"UDP","tx_id":0,' + _ALERT % "blocked" + '"dns":{"version":3,"type":"request",'
        '"id":4712,"queries":[{"rrname":"gemini.google.com","rrtype":"AAAA"}]},"app_proto":"dns"}',
        _EVE_HEAD + '"event_type":"alert","src_ip":"10.20.1.15","src_port":50005,"dest_ip":"142.250.1.1",'
        '"dest_port":443,"proto":"UDP",' + _ALERT % "allowed" + '"quic":{"version":"1","sni":"gemini.google.com"},'
        '"app_proto":"quic"}',
        _EVE_HEAD + '"event_type":"alert","src_ip":"10.20.1.15","src_port":50006,"dest_ip":"104.18.32.47",'
        '"dest_port":443,"proto":"TCP",' + _ALERT % "allowed" + '"http":{"version":"2","request_headers":'
        '[{"name":":authority","value":"chatgpt.com"}],"http2":{"stream_id":5}},"app_proto":"http2"}',
        # an alert that carries no host keeps none
        _EVE_HEAD + '"event_type":"alert","src_ip":"10.20.1.15","src_port":50007,"dest_ip":"10.20.0.53",'
        '"dest_port":53,"proto":"UDP",' + _ALERT % "allowed" + '"app_proto":"dns"}',
    )
    events, rejects, ignored = parse(tmp_path / "eve.json", "suricata_eve", *lines)
    assert rejects == [] and ignored == 0
    assert [(e["host"], e["host_source"], e["network_protocol"], e["action"]) for e in events] == [
        ("chatgpt.com", "http_host", "http", "unknown"),
        ("claude.ai", "http_host", "http", "unknown"),
        ("www.rijksoverheid.nl", "http_host", "http", "unknown"),
        ("api.openai.com", "dns_query", "dns", "allowed"),
        ("gemini.google.com", "dns_query", "dns", "blocked"),
        ("gemini.google.com", "sni", "quic", "allowed"),
        ("chatgpt.com", "http_host", "http2", "allowed"),
        (None, "none", "dns", "allowed"),
    ]
    assert (events[0]["http_method"], events[0]["url_path"], events[0]["http_status"]) == (
        "POST", "/backend-api/x", 200)


def test_eve_behind_a_syslog_header_with_a_space_after_the_pri_is_read(tmp_path: Path) -> None:
    events, rejects, _ = parse(
        tmp_path / "eve.log", "suricata_eve",
        '<14> Nov 18 09:00:01 ids suricata[2211]: ' + _EVE_HEAD + '"event_type":"tls","src_ip":"10.20.1.15",'
        '"src_port":50008,"dest_ip":"104.18.32.47","dest_port":443,"proto":"TCP","tls":{"sni":"chatgpt.com"}}')
    assert rejects == [] and [(e["host"], e["host_source"]) for e in events] == [("chatgpt.com", "sni")]


# --- Sophos SFOS: Web Content Policy (DLP) lines: website, user, action -------------------------------

def test_sophos_web_content_policy_lines_are_read_with_their_site_and_decision(tmp_path: Path) -> None:
    lines = (
        # SFOS 18.5+: log_id 0584201..., `website`, `user`, `site_category`; `log_subtype` is "Alert" whatever
        # happened: `action` (the guide's status values Allow / Deny / ... / Would deny) is the decision
        'Mar 11 09:10:00 fw01 device_name="SFW" timestamp="2024-03-11T09:10:00+0100" device_model="XGS2100" '
        'device_serial_id="X21005ABCDEF123" log_id=058420116010 log_type="Content Filtering" '
        'log_component="Web Content Policy" log_subtype="Alert" log_version=1 severity="Alert" '
        'user="j.devries@gemeente-voorbeeld.nl" src_ip="10.20.1.15" transaction_id="0f1e2d3c-aa" '
        'dictionary_name="BSN" site_category="Generative AI" website="chatgpt.com" direction="out" action="Deny" '
        'file_name="notitie.txt" context_match="Not" context_prefix="nummer " context_suffix=" adres"',
        # SFOS 17-18 header fields; an allowed match; a policy in monitor mode ("Would deny": let through)
        'device="SFW" date=2024-03-11 time=09:11:00 timezone="GMT" device_name="SF01V" device_id=SFDemo-1 '
        'log_id=058420116010 log_type="Content Filtering" log_component="Web Content Policy" log_subtype="Alert" '
        'user="p.bakker" src_ip=10.20.3.41 dictionary_name="Custom" site_category=Translators '
        'website="www.deepl.com" direction="out" action="Allow" file_name="" context_match="x"',
        'device="SFW" date=2024-03-11 time=09:12:00 timezone="GMT" device_name="SF01V" device_id=SFDemo-1 '
        'log_id=058420116010 log_type="Content Filtering" log_component="Web Content Policy" log_subtype="Alert" '
        'user="p.bakker" src_ip=10.20.3.41 website="claude.ai" direction="out" action="Would deny"',
        # a quote inside a quoted value: read by the regular expression (PAIRS_QUERY), to the same meaning
        'device="SFW" date=2024-03-11 time=09:13:00 timezone="GMT" device_name="SF01V" device_id=SFDemo-1 '
        'log_id=058420116010 log_type="Content Filtering" log_component="Web Content Policy" log_subtype="Alert" '
        'user="p.bakker" src_ip=10.20.3.41 website="gemini.google.com" action="Deny" context_prefix="zegt "hoi"',
    )
    events, rejects, ignored = parse(tmp_path / "sophos.log", "sophos_xg", *lines)
    assert rejects == [] and ignored == 0
    assert [(utc(e), e["host"], e["host_source"], e["action"], e["src_ip"], e["vendor_category"]) for e in events] == [
        ("2024-03-11T08:10:00Z", "chatgpt.com", "http_host", "blocked", "10.20.1.15", "Generative AI"),
        ("2024-03-11T09:11:00Z", "www.deepl.com", "http_host", "allowed", "10.20.3.41", "Translators"),
        ("2024-03-11T09:12:00Z", "claude.ai", "http_host", "allowed", "10.20.3.41", None),
        ("2024-03-11T09:13:00Z", "gemini.google.com", "http_host", "blocked", "10.20.3.41", None),
    ]
    assert all(e["user_name"] is not None for e in events)


# --- Unbound: log-destaddr (1.19.1+): a reply line ends with `on TYPE ADDRESS PORT` -------------------

def test_unbound_reply_lines_with_log_destaddr_are_read(tmp_path: Path) -> None:
    lines = (
        "<30>Jun  5 10:00:32 gw unbound[812]: [812:0] info: 10.20.1.15 chatgpt.com. A IN",
        # unbound.conf: log-destaddr "prints the destination address, port and type in the log-replies output"
        "<30>Jun  5 10:00:32 gw unbound[812]: [812:0] info: 10.20.1.15 chatgpt.com. A IN NOERROR 0.031000 0 71 "
        "on udp 10.20.0.53 53",
        "<30>Jun  5 10:00:33 gw unbound[812]: [812:1] reply: 10.20.1.16 claude.ai. AAAA IN NOERROR 0.012000 1 99 "
        "on dot 10.20.0.53 853",
        "<30>Jun  5 10:00:34 gw unbound[812]: [812:1] reply: 2001:db8::15 gemini.google.com. A IN REFUSED 0.000000 "
        "1 12 on tcp 2001:db8::53 53",
        "[1717574435] unbound[812:0] info: 10.20.1.17 api.openai.com. A IN NOERROR 0.002000 1 80 on doh 10.20.0.53 443",
        # four more tokens that do not start with `on`: not a reply layout
        "<30>Jun  5 10:00:36 gw unbound[812]: [812:0] info: 10.20.1.18 x.nl. A IN NOERROR 0.002000 1 80 at udp a 53",
    )
    events, rejects, ignored = parse(tmp_path / "unbound-20240605.log", "unbound", *lines)
    assert ignored == 1  # the reply joined to its query
    assert [r["line_no"] for r in rejects] == [6]
    assert [(utc(e), e["src_ip"], e["host"], e["action"], e["dns_rcode"], e["duration_ms"]) for e in events] == [
        ("2024-06-05T08:00:32Z", "10.20.1.15", "chatgpt.com", "allowed", "NOERROR", 31),
        ("2024-06-05T08:00:33Z", "10.20.1.16", "claude.ai", "allowed", "NOERROR", 12),
        ("2024-06-05T08:00:34Z", "2001:db8::15", "gemini.google.com", "blocked", "REFUSED", 0),
        ("2024-06-05T08:00:35Z", "10.20.1.17", "api.openai.com", "allowed", "NOERROR", 2),
    ]
