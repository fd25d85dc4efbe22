"""Conformance pass 13: layouts met in other projects' public sample logs (elastic/integrations' pfSense, Azure,
Sophos and Juniper pipeline tests, SEKOIA-IO intake-formats, public pfirewall.log excerpts), written here from the
vendors' documentation: each test says which documented shape it stands for. No line is copied from a sample."""

from __future__ import annotations

from pathlib import Path

from detector.ingest import sniff
from tests.golden import parse_lines


def parse(tmp_path: Path, key: str, *lines: str) -> tuple[list[dict], list[dict]]:
    events, rejects, report = parse_lines(tmp_path / f"{key}.log", key, lines)
    assert report.lines == len(lines)
    return sorted(events.to_pylist(), key=lambda e: e["line_no"]), rejects.to_pylist()


def utc(event: dict) -> str:
    return event["ts"].isoformat().replace("+00:00", "Z")


# --- Squid access log sent to syslog ------------------------------------------------------------------------
# squid.conf `access_log syslog:facility.priority [logformat]` (http://www.squid-cache.org/Doc/config/access_log/)
# sends each access.log line to syslog; the file a syslog daemon or relay writes puts its header before it. Squid
# 4+'s worker processes name themselves `(squid-1)`, so a BSD header's tag is `(squid-1)[pid]` (pfSense and
# OPNsense write them so, without a host). The line after the header is the logformat's own
# (https://wiki.squid-cache.org/Features/LogFormat: native `%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un
# %Sh/%<a %mt`; common `%>a %[ui %[un [%tl] "%rm %ru HTTP/%rv" %>Hs %<st %Ss:%Sh`).
SQUID_NATIVE = "1717574401.250    312 10.20.1.15 TCP_TUNNEL/200 6120 CONNECT chatgpt.com:443 jdevries " \
               "HIER_DIRECT/104.18.32.47 -"
SQUID_NATIVE_GET = "1717574402.004     41 10.20.1.16 TCP_MISS/200 1420 GET http://claude.ai/login - " \
                   "HIER_DIRECT/160.79.104.10 text/html"


def test_squid_native_lines_behind_a_syslog_header_are_read_with_squids_own_time(tmp_path: Path) -> None:
    lines = (
        f"<166>Jun  5 10:00:01 (squid-1)[4711]: {SQUID_NATIVE}",          # pfSense: no host, Squid 4+'s kid name
        f"<166>Jun  5 10:00:02 fw01.gemeente.local (squid-1)[4711]: {SQUID_NATIVE_GET}",
        f"Jun  5 10:00:01 proxy01 squid[812]: {SQUID_NATIVE}",            # a syslog daemon's file (no PRI)
        f"2024-06-05T10:00:01+02:00 proxy01 squid: {SQUID_NATIVE}",       # rsyslog's ISO file format
        f"<166>1 2024-06-05T10:00:01.300+02:00 proxy01 squid 812 - - {SQUID_NATIVE}",  # RFC 5424
        SQUID_NATIVE,                                                     # Squid's own file, unchanged
    )
    events, rejects = parse(tmp_path, "squid", *lines)
    assert rejects == []
    assert [(utc(e), e["src_ip"], e["user_name"], e["host"], e["dst_port"], e["dst_ip"], e["action"], e["bytes_in"])
            for e in events] == [
        ("2024-06-05T08:00:01.250000Z", "10.20.1.15", "jdevries", "chatgpt.com", 443, "104.18.32.47", "allowed", 6120),
        ("2024-06-05T08:00:02.004000Z", "10.20.1.16", None, "claude.ai", None, "160.79.104.10", "allowed", 1420),
    ] + [("2024-06-05T08:00:01.250000Z", "10.20.1.15", "jdevries", "chatgpt.com", 443, "104.18.32.47", "allowed",
          6120)] * 4
    assert events[1]["url_path"] == "/login" and events[1]["content_type"] == "text/html"


def test_squid_lines_behind_a_syslog_header_are_recognised(tmp_path: Path) -> None:
    path = tmp_path / "syslog-squid.log"
    path.write_text("".join(f"<166>Jun  5 10:00:0{i} (squid-1)[4711]: {SQUID_NATIVE}\n" for i in range(4)))
    assert sniff(path.read_text().splitlines()).name == "squid"
    common = '10.20.1.15 - jdevries [05/Jun/2024:10:00:01 +0200] "GET https://chatgpt.com/ HTTP/1.1" 200 512 ' \
             "TCP_MISS:HIER_DIRECT"
    path.write_text(f"Jun  5 10:00:01 proxy01 squid[812]: {common}\n" * 3)
    assert sniff(path.read_text().splitlines()).name == "squid_common"
    events, rejects = parse(tmp_path, "squid_common", f"Jun  5 10:00:01 proxy01 squid[812]: {common}", common)
    assert rejects == []
    assert [(utc(e), e["src_ip"], e["user_name"], e["host"], e["action"]) for e in events] == [
        ("2024-06-05T08:00:01Z", "10.20.1.15", "jdevries", "chatgpt.com", "allowed")] * 2


def test_squid_syslog_line_of_another_shape_is_still_a_counted_reject(tmp_path: Path) -> None:
    # a cache.log message sent to the same facility is not an access-log line: rejected with the reason, not read
    events, rejects = parse(tmp_path, "squid", "<166>Jun  5 10:00:03 (squid-1)[4711]: WARNING: disk space low",
                            f"<166>Jun  5 10:00:04 (squid-1)[4711]: {SQUID_NATIVE}")
    assert [e["line_no"] for e in events] == [2]
    assert [(r["line_no"], r["reason"]) for r in rejects] == [
        (1, "expected 10 space-separated fields (Squid native), found 4")]


# --- JSON objects behind a syslog header ----------------------------------------------------------------------
# A JSON log forwarded through syslog (rsyslog/syslog-ng with a JSON template; OPNsense's Squid with its JSON log
# format, stored with a BSD header and the `(squid-1)[pid]` tag) keeps a header (RFC 3164 / RFC 5424) before the
# object. The object's keys here are ECS's (https://www.elastic.co/guide/en/ecs/current/ecs-field-reference.html).
ECS_OBJECT = ('{"@timestamp":"2024-06-05T08:00:01Z","source":{"ip":"10.20.1.15"},"user":{"name":"jdevries"},'
              '"url":{"original":"https://chatgpt.com/backend-api/conversation"},"http":{"request":{"method":"POST"},'
              '"response":{"bytes":2048}},"event":{"action":"allowed"}}')


def test_json_objects_behind_a_syslog_header_are_read(tmp_path: Path) -> None:
    lines = (
        f"<166>Jun  5 10:00:01 fw01.gemeente.local (squid-1)[4711]: {ECS_OBJECT}",
        f"<134>1 2024-06-05T10:00:01+02:00 relay01 shipper 812 - - {ECS_OBJECT}",
        f"2024-06-05T10:00:01.123+02:00 relay01 shipper[812]: {ECS_OBJECT}",
        ECS_OBJECT,
        "<166>Jun  5 10:00:02 fw01.gemeente.local (squid-1)[4711]: proxy restarted",  # no object: a reject
        # rsyslog's and syslog-ng's CEE cookie before a structured message (rsyslog mmjsonparse documentation)
        f"<134>Jun  5 10:00:01 relay01 shipper[812]: @cee: {ECS_OBJECT}",
        f"@cee:{ECS_OBJECT}",
    )
    path = tmp_path / "relayed.json"
    path.write_text("".join(line + "\n" for line in lines[:4]))
    assert sniff(path.read_text().splitlines()).name == "json"
    events, rejects = parse(tmp_path, "json", *lines)
    assert [(r["line_no"], r["reason"]) for r in rejects] == [(5, "not a JSON object")]
    assert [(e["line_no"], utc(e), e["src_ip"], e["user_name"], e["host"], e["url_path"], e["action"], e["bytes_in"])
            for e in events] == [
        (n, "2024-06-05T08:00:01Z", "10.20.1.15", "jdevries", "chatgpt.com", "/backend-api/conversation", "allowed",
         2048) for n in (1, 2, 3, 4, 6, 7)]


# --- Squid: a 407 is a request for credentials, not a verdict -------------------------------------------------
# https://wiki.squid-cache.org/Features/Authentication: without an Authorization header "Squid returns an HTTP reply
# with status 407 (Proxy Authentication Required)", and the browser sends its credentials "for subsequent requests".
# With NTLM/Negotiate every new connection starts so: TCP_DENIED/407 lines (as Wazuh's squid tests log them, "Proxy
# Authentication Required") precede the request that goes through. They say nothing of the site: action unknown.
# A refusal by the proxy's rules (TCP_DENIED/403) stays blocked.
def test_squid_authentication_challenge_is_no_verdict_in_every_squid_layout(tmp_path: Path) -> None:
    native = ("1717574401.250      0 10.20.1.15 TCP_DENIED/407 3950 CONNECT chatgpt.com:443 - HIER_NONE/- text/html",
              "1717574401.270    312 10.20.1.15 TCP_TUNNEL/200 6120 CONNECT chatgpt.com:443 jdevries "
              "HIER_DIRECT/104.18.32.47 -",
              "1717574402.000      0 10.20.1.15 TCP_DENIED/403 3950 CONNECT chat.deepseek.com:443 jdevries HIER_NONE/- "
              "text/html")
    events, rejects = parse(tmp_path, "squid", *native)
    assert rejects == []
    assert [(e["host"], e["http_status"], e["action"]) for e in events] == [
        ("chatgpt.com", 407, "unknown"), ("chatgpt.com", 200, "allowed"), ("chat.deepseek.com", 403, "blocked")]
    common = ('10.20.1.15 - - [05/Jun/2024:10:00:01 +0200] "CONNECT chatgpt.com:443 HTTP/1.1" 407 3950 '
              "TCP_DENIED:HIER_NONE",
              '10.20.1.15 - jdevries [05/Jun/2024:10:00:01 +0200] "CONNECT chatgpt.com:443 HTTP/1.1" 200 6120 '
              "TCP_TUNNEL:HIER_DIRECT",
              '10.20.1.15 - jdevries [05/Jun/2024:10:00:02 +0200] "CONNECT chat.deepseek.com:443 HTTP/1.1" 403 3950 '
              "TCP_DENIED:HIER_NONE")
    events, rejects = parse(tmp_path, "squid_common", *common)
    assert rejects == []
    assert [(e["http_status"], e["action"]) for e in events] == [(407, "unknown"), (200, "allowed"), (403, "blocked")]
    # the extended logformat (19 fields, quoted referer, agent, Host, X-Forwarded-For, then 2 fields)
    extended = tuple(
        f"1717574401.250 0 10.20.1.15 51010 {code} 3950 180 250 180 3700 CONNECT {host}:443 1.1 - HIER_NONE/- - "
        f'text/html - - "-" "Mozilla/5.0" "{host}" "-" 0 -'
        for code, host in (("TCP_DENIED/407", "chatgpt.com"), ("TCP_DENIED/403", "chat.deepseek.com")))
    events, rejects = parse(tmp_path, "squid_extended", *extended)
    assert rejects == []
    assert [(e["host"], e["http_status"], e["action"]) for e in events] == [
        ("chatgpt.com", 407, "unknown"), ("chat.deepseek.com", 403, "blocked")]


# --- Firepower connection events from NGIPS devices -------------------------------------------------------------
# Cisco's "Firepower Threat Defense Syslog Messages", Security Event Syslog Messages: connection events 430002
# (beginning) and 430003 (end) as `Key: value, ...` (EventPriority, DeviceUUID, InstanceID, FirstPacketSecond,
# ConnectionID, AccessControlRuleAction, SrcIP, DstIP, SrcPort, DstPort, Protocol, ..., User, InitiatorBytes,
# ResponderBytes, URL, ...). Firepower devices that are not FTD (NGIPS) tag them `%NGIPS-n-4300nn` instead of
# `%FTD-n-4300nn`; the fields are the same.
def firepower_event(tag: str, action: str, url: str) -> str:
    return (f"<113>2024-06-05T08:00:12Z fp-sensor01 {tag}: EventPriority: Low, DeviceUUID: "
            "0f0e0d0c-0b0a-4090-8070-605040302010, InstanceID: 2, FirstPacketSecond: 2024-06-05T08:00:00Z, "
            f"ConnectionID: 77, AccessControlRuleAction: {action}, SrcIP: 10.20.1.15, DstIP: 104.18.32.47, "
            "SrcPort: 51234, DstPort: 443, Protocol: tcp, IngressInterface: inside, EgressInterface: outside, "
            "ACPolicy: Gemeente, AccessControlRuleName: Web, User: GEMEENTE\\jdevries, Client: SSL client, "
            "ApplicationProtocol: HTTPS, ConnectionDuration: 12, InitiatorPackets: 20, ResponderPackets: 18, "
            f"InitiatorBytes: 4200, ResponderBytes: 9100, URL: {url}")


def test_firepower_connection_events_of_ngips_devices_are_read_as_ftds(tmp_path: Path) -> None:
    lines = (firepower_event("%NGIPS-1-430003", "Allow", "https://chatgpt.com"),
             firepower_event("%NGIPS-1-430002", "Block with reset", "https://chat.deepseek.com"),
             firepower_event("%NGIPS-1-430002", "Allow", "https://chatgpt.com"),   # an allowed start: not counted
             firepower_event("%FTD-1-430003", "Allow", "https://chatgpt.com"))
    path = tmp_path / "firepower.log"
    path.write_text("".join(line + "\n" for line in lines[:3]))
    assert sniff(path.read_text().splitlines()).name == "cisco_asa"
    events, rejects = parse(tmp_path, "cisco_asa", *lines)
    assert rejects == []
    assert [(e["line_no"], e["src_ip"], e["user_name"], e["host"], e["dst_port"], e["action"], e["bytes_out"],
             e["bytes_in"]) for e in events] == [
        (1, "10.20.1.15", "GEMEENTE\\jdevries", "chatgpt.com", 443, "allowed", 4200, 9100),
        (2, "10.20.1.15", "GEMEENTE\\jdevries", "chat.deepseek.com", 443, "blocked", 4200, 9100),
        (4, "10.20.1.15", "GEMEENTE\\jdevries", "chatgpt.com", 443, "allowed", 4200, 9100)]


# --- Windows DNS debug log forwarded through syslog -----------------------------------------------------------
# dns.log's packet lines in the layout its own "Message logging key" documents (DATE TIME THREAD PACKET ID UDP|TCP
# Snd|Rcv REMOTE-IP XID [R] OPCODE [FLAGS RCODE] QTYPE QNAME), sent on by a log forwarder (NXLog's to_syslog_bsd,
# Snare, a relay): RFC 3164 header with a tag, RFC 3164 without one (section 5.4: host, then the message, as a
# public syslog-shipper test shows a DNS debug line received), and RFC 5424 (nil structured data).
def dns_packet(stamp: str, direction: str, xid: str, flags: str, name: str) -> str:
    return f"{stamp} 0E70 PACKET  000001E8A1C4DD80 UDP {direction} 10.20.1.15      {xid} {flags} A      {name}"


def test_windows_dns_debug_lines_behind_a_syslog_header_are_read(tmp_path: Path) -> None:
    lines = (
        "<13>Jun  5 10:00:01 DC01 dns: DNS Server log file creation at 6/5/2024 10:00:00 AM",
        "<13>Jun  5 10:00:01 DC01 dns: " + dns_packet("6/5/2024 10:00:01 AM", "Rcv", "4a41", "  Q [0001   D   NOERROR]",
                                                       "(7)chatgpt(3)com(0)"),
        "<13>Jun  5 10:00:01 DC01 dns: " + dns_packet("6/5/2024 10:00:01 AM", "Snd", "4a41", "R Q [8081   DR  NOERROR]",
                                                       "(7)chatgpt(3)com(0)"),
        "<14>Jun  5 10:00:02 10.20.0.53 " + dns_packet("6/5/2024 10:00:02 AM", "Rcv", "4a42", "  Q [0001   D   NOERROR]",
                                                       "(6)claude(2)ai(0)"),
        "<14>1 2024-06-05T10:00:03+02:00 DC01 dns - - - " + dns_packet(
            "6/5/2024 10:00:03 AM", "Rcv", "4a43", "  Q [0001   D   NOERROR]", "(6)gemini(6)google(3)com(0)"),
        "<13>Jun  5 10:00:04 DC01 dns: Agent restarted",  # a forwarder's own message: not this log's, a reject
    )
    path = tmp_path / "dns-forwarded.log"
    path.write_text("".join(line + "\n" for line in lines))
    assert sniff(path.read_text().splitlines()).name == "windows_dns"
    events, rejects = parse(tmp_path, "windows_dns", *lines)
    assert [(r["line_no"], r["reason"]) for r in rejects] == [(6, "not a Windows DNS debug log line")]
    assert [(e["line_no"], utc(e), e["src_ip"], e["host"], e["dns_qtype"], e["action"]) for e in events] == [
        (2, "2024-06-05T08:00:01Z", "10.20.1.15", "chatgpt.com", "A", "allowed"),   # joined with its response
        (4, "2024-06-05T08:00:02Z", "10.20.1.15", "claude.ai", "A", "unknown"),
        (5, "2024-06-05T08:00:03Z", "10.20.1.15", "gemini.google.com", "A", "unknown")]


# --- CSV: a request method and user agent named as web-gateway reports name them ------------------------------
# Forcepoint Web Security Cloud's report exports name their columns in words ("HTTP Request Method", "User Agent
# String", as Elastic's forcepoint_web integration reads them: http_request_method, user_agent_string); the method
# is written in title case (`Connect`, `Get`).
def test_csv_http_request_method_and_user_agent_string_columns_are_read(tmp_path: Path) -> None:
    header = ('"Date","Time","User","Category","Action","URL","Destination IP","Source IP","User Agent String",'
              '"HTTP Status Code","HTTP Request Method"')
    rows = ('"05/06/2024","10:00:01","GEMEENTE\\jdevries","Generative AI","Allowed","chatgpt.com:443/",'
            '"104.18.32.47","10.20.1.15","Mozilla/5.0 (Windows NT 10.0)","200","Connect"',
            '"05/06/2024","10:00:02","GEMEENTE\\jdevries","Generative AI","Blocked","https://claude.ai/chats",'
            '"160.79.104.10","10.20.1.15","Mozilla/5.0 (Windows NT 10.0)","403","Get"')
    events, rejects = parse(tmp_path, "csv", header, *rows)
    assert rejects == []
    assert [(e["host"], e["host_source"], e["dst_port"], e["http_method"], e["user_agent"], e["action"])
            for e in events] == [
        ("chatgpt.com", "connect", 443, "CONNECT", "Mozilla/5.0 (Windows NT 10.0)", "allowed"),
        ("claude.ai", "url", None, "GET", "Mozilla/5.0 (Windows NT 10.0)", "blocked")]


# --- FortiGate / FortiProxy HTTP transaction logs ---------------------------------------------------------------
# FortiOS Log Message Reference, LOG_ID_TRAFFIC_HTTP_TRANSACTION (type traffic, category http-transaction; FortiProxy's
# log reference the same): one HTTP request of a proxy policy, with `hostname`, the full `url`, `httpmethod`, request
# and response lengths, and the security profiles' verdict `utmaction` but no session `action` (as SEKOIA-IO's
# FortiGate/FortiProxy tests show them).
def test_fortigate_http_transaction_gives_the_url_path_and_the_profiles_verdict(tmp_path: Path) -> None:
    def transaction(url: str, verdict: str) -> str:
        host = url.split("/")[2]
        return ('date=2024-06-05 time=10:00:01 devname="fgt-stadhuis" devid="FG100FTK00000000" eventtime=1717574401000000000 '
                'tz="+0200" logid="0000000026" type="traffic" subtype="http-transaction" level="notice" vd="root" '
                'srcip=10.20.1.15 dstip=104.18.32.47 scheme="https" srcport=51234 dstport=443 '
                f'hostname="{host}" url="{url}" httpmethod="POST" policyid=7 sessionid=4711 reqlength=2048 '
                f'resplength=512 user="jdevries" catdesc="Artificial Intelligence" utmaction="{verdict}"')
    events, rejects = parse(tmp_path, "fortigate", transaction("https://chatgpt.com/backend-api/conversation", "allow"),
                            transaction("https://chat.deepseek.com/api/v0/chat?x=1", "block"))
    assert rejects == []
    assert [(e["src_ip"], e["user_name"], e["host"], e["url_path"], e["action"]) for e in events] == [
        ("10.20.1.15", "jdevries", "chatgpt.com", "/backend-api/conversation", "allowed"),
        ("10.20.1.15", "jdevries", "chat.deepseek.com", "/api/v0/chat", "blocked")]


# --- CEF: a dash is no content type -----------------------------------------------------------------------------
# Forcepoint Web Security's CEF (as Trellix's "Forcepoint Websense log format and field mapping" page shows it: `act=
# permitted app=http ... suser=LDAP://... requestMethod=GET ... cs3Label=ContentType cs3=text/plain;charset\=UTF-8
# cn1Label=DispositionCode ... request=http://...`) writes `cs3=-` for a response without a content type.
def test_cef_dash_content_type_is_none(tmp_path: Path) -> None:
    def forcepoint(content_type: str) -> str:
        return ("<159>Jun  5 10:00:01 wsg01 CEF:0|Forcepoint|Security|8.5.4|194|Transaction permitted|1| act=permitted "
                "app=https dvc=10.20.0.5 dst=104.18.32.47 dhost=chatgpt.com src=10.20.1.15 spt=51234 dpt=443 "
                "requestMethod=POST requestClientApplication=Mozilla/5.0 reason=- cs1Label=Policy cs1=role-8**Default "
                f"cs3Label=ContentType cs3={content_type} cn1Label=DispositionCode cn1=1048 "
                "request=https://chatgpt.com/backend-api/conversation out=4200 in=9100")
    events, rejects = parse(tmp_path, "cef", forcepoint("-"), forcepoint("text/event-stream"))
    assert rejects == []
    assert [(e["host"], e["content_type"], e["network_protocol"], e["action"]) for e in events] == [
        ("chatgpt.com", None, "https", "allowed"), ("chatgpt.com", "text/event-stream", "https", "allowed")]
