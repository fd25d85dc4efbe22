"""WatchGuard Firebox (Fireware) syslog: what the golden files do not show.

Test lines are written from the documented layouts, not copied from any log:
- https://www.watchguard.com/help/docs/help-center/en-US/Content/en-US/Fireware/logging/read_log-msg.html
  (dispositions, traffic fields, sent_bytes / rcvd_bytes on session messages);
- the Fireware Log Message Catalog (msg_id 3000-0148 / 3000-0151 traffic, 1AFF-0024 HTTP request);
- DataDog/integrations-core watchguard_firebox/assets/logs/watchguard-firebox.yaml (the syslog header with the
  serial number and `(ISO time)`, and the grammar of traffic and proxy messages).
"""

from __future__ import annotations

from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from detector.ingest import FORMATS, sniff
from tests.golden import parse_lines

HEAD = "<142>Nov 27 10:21:56 fw-stadhuis 80AB0C1D2E3F4 (2026-11-27T09:21:56) "
SESSION = ('firewall: msg_id="3000-0151" Allow 1-Trusted 0-External tcp 10.20.1.15 104.18.32.47 52011 443 '
           'duration="14" sent_pkts="22" rcvd_pkts="31" sent_bytes="48211" rcvd_bytes="912345"  (HTTPS-00)')
PACKET = ('firewall: msg_id="3000-0148" Allow 1-Trusted 0-External 60 tcp 20 64 10.20.1.15 104.18.32.47 52011 443 '
          'offset 10 S 123456789 win 64240  (HTTPS-00)')
REQUEST = ('http-proxy[2101]: msg_id="1AFF-0024" Allow 1-Trusted 0-External tcp 10.20.1.16 203.0.113.9 50122 80 '
           'msg="HTTP request" proxy_act="HTTP-Client.Standard" op="get" dstname="API.Example.org:80" '
           'arg="/v1/chat?x=1" sent_bytes="2048" rcvd_bytes="512" elapsed_time="0.211 sec(s)" '
           'user="jan@gemeente.local"  (HTTP-proxy-00)')


def parse(tmp_path: Path, *lines: str) -> tuple[list[dict], list[dict], int]:
    events, rejects, report = parse_lines(tmp_path / "firebox-20261127.log", "watchguard", lines)
    return events.to_pylist(), rejects.to_pylist(), report.ignored


def test_sniffing_recognises_firebox_lines_with_and_without_headers() -> None:
    assert sniff([HEAD + SESSION, HEAD + PACKET, HEAD + REQUEST]).name == "watchguard"
    bare = "<142>Nov 27 10:21:56 fw-stadhuis "
    assert sniff([bare + SESSION, bare + REQUEST]).name == "watchguard"
    assert sniff([SESSION, PACKET, REQUEST]).name == "watchguard"  # no syslog header at all
    assert sniff(["80AB0C1D2E3F4 (2026-11-27T09:21:56) " + SESSION] * 2).name == "watchguard"


def test_sniffing_leaves_other_firewalls_alone() -> None:
    fortigate = ('date=2026-11-27 time=10:00:00 logid="0000000013" type="traffic" subtype="forward" '
                 'srcip=10.0.0.1 dstip=192.0.2.1 dstport=443 action="accept" sentbyte=1 rcvdbyte=2')
    sonicwall = ('id=firewall sn=0040103CE114 time="2026-11-27 10:00:00 UTC" fw=192.0.2.1 pri=6 c=1024 m=537 '
                 'msg="Connection Closed" src=10.0.0.1:5000:X0 dst=192.0.2.9:443:X1 proto=tcp/https sent=1 rcvd=2')
    junos = ('<14>1 2026-11-27T10:00:00.000+01:00 srx RT_FLOW - RT_FLOW_SESSION_CLOSE [junos@2636.1.1.1.2.129 '
             'source-address="10.0.0.1" destination-address="192.0.2.1"]')
    for line in (fortigate, sonicwall, junos):
        assert FORMATS["watchguard"].sniff([line]) == 0.0


def test_the_firebox_time_stamp_is_utc_whatever_the_header_says(tmp_path: Path) -> None:
    # the header's clock (India, +05:30) differs; the parenthesised Firebox time is UTC (the golden zone: Amsterdam)
    events, _, _ = parse(tmp_path, "<142>Nov 27 14:51:56 fw 80AB0C1D2E3F4 (2026-11-27T09:21:56) " + SESSION)
    assert events[0]["ts"].isoformat() == "2026-11-27T09:21:56+00:00"


def test_without_the_time_stamp_the_header_time_is_read_in_its_zone(tmp_path: Path) -> None:
    events, _, _ = parse(
        tmp_path,
        "<142>Jul  1 10:21:56 fw " + SESSION,  # year-less BSD: the configured zone (CEST)
        "2026-07-01T10:21:57+02:00 fw 80AB0C1D2E3F4 " + SESSION,  # a relay's ISO header, with the serial
        '<142>1 2026-07-01T08:21:58Z fw firewall 1201 - - msg_id="3000-0151" Allow Trusted External tcp '
        '10.20.1.15 104.18.32.47 52011 443 sent_bytes="1" rcvd_bytes="2"  (HTTPS-00)',  # RFC 5424
        "80AB0C1D2E3F4 (2026-07-01T08:21:59) " + SESSION,  # no syslog header: the Firebox time alone
    )
    assert [event["ts"].isoformat() for event in events] == [
        "2026-07-01T08:21:56+00:00", "2026-07-01T08:21:57+00:00", "2026-07-01T08:21:58+00:00",
        "2026-07-01T08:21:59+00:00"]


def test_a_traffic_message_without_any_time_is_rejected(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, SESSION)
    assert events == []
    assert rejects[0]["reason"] == "no time: neither a syslog header nor the Firebox time stamp"


def test_session_bytes_are_client_upload_and_download_and_packets_have_none(tmp_path: Path) -> None:
    events, _, _ = parse(tmp_path, HEAD + SESSION, HEAD + PACKET)
    session, packet = events
    assert (session["bytes_out"], session["bytes_in"], session["duration_ms"]) == (48211, 912345, 14000)
    assert (session["src_ip"], session["dst_ip"], session["dst_port"]) == ("10.20.1.15", "104.18.32.47", 443)
    assert (packet["bytes_out"], packet["bytes_in"], packet["duration_ms"]) == (None, None, None)
    assert packet["network_protocol"] == "tcp" and packet["action"] == "allowed"


def test_interface_names_with_spaces_and_digits_do_not_shift_the_fields(tmp_path: Path) -> None:
    events, _, _ = parse(
        tmp_path,
        HEAD + 'firewall: msg_id="3000-0148" Deny Guest Wi-Fi 2 Any External 52 udp 20 127 10.30.4.2 192.0.2.53 '
               '41000 53  (Unhandled Internal Packet-00)',
        HEAD + 'firewall: msg_id="3000-0151" Drop VLAN 20 Trusted 0-External 17 10.30.4.3 192.0.2.54 41001 123 '
               'duration="0"  (NTP-00)',
    )
    assert [(e["src_ip"], e["dst_ip"], e["dst_port"], e["network_protocol"], e["action"]) for e in events] == [
        ("10.30.4.2", "192.0.2.53", 53, "udp", "blocked"), ("10.30.4.3", "192.0.2.54", 123, "udp", "blocked")]


def test_icmp_type_and_code_are_not_ports(tmp_path: Path) -> None:
    events, _, _ = parse(tmp_path, HEAD + 'firewall: msg_id="3000-0148" Allow 1-Trusted Firebox 60 icmp 20 128 '
                                          '10.20.1.15 10.20.1.1 8 0 id=1 seq=59033  (Ping-00)')
    assert events[0]["dst_port"] is None and events[0]["network_protocol"] == "icmp"


def test_proxy_request_host_path_method_user(tmp_path: Path) -> None:
    events, _, _ = parse(tmp_path, HEAD + REQUEST)
    event = events[0]
    assert (event["host"], event["host_source"], event["url_path"]) == ("api.example.org", "http_host", "/v1/chat")
    assert (event["http_method"], event["network_protocol"], event["duration_ms"]) == ("GET", "http", 211)
    assert (event["bytes_out"], event["bytes_in"]) == (2048, 512)
    assert event["user_name"] == "jan@gemeente.local"


def test_host_is_the_urls_then_the_sni_then_dstname(tmp_path: Path) -> None:
    proxy = 'https-proxy[2102]: msg_id="2CFF-0000" Allow 1-Trusted 0-External tcp 10.20.1.17 198.51.100.7 50123 443 '
    events, _, _ = parse(
        tmp_path,
        HEAD + proxy + 'msg="HTTPS Request" sni="Chat.Example.COM." dstname="cdn.example.net"  (HTTPS-proxy-00)',
        HEAD + proxy + 'msg="HTTPS Request" dstname="cdn.example.net"  (HTTPS-proxy-00)',
        HEAD + proxy + 'msg="HTTPS Request" sni="chat.example.com" arg="https://Upload.Example.org/files/1?s=2" '
                       '(HTTPS-proxy-00)',
        HEAD + proxy + 'msg="HTTPS Request"  (HTTPS-proxy-00)',
    )
    assert [(e["host"], e["host_source"], e["url_path"]) for e in events] == [
        ("chat.example.com", "sni", None), ("cdn.example.net", "http_host", None),
        ("upload.example.org", "url", "/files/1"), (None, "none", None)]


def test_a_proxy_deny_is_blocked_and_keeps_category_and_application(tmp_path: Path) -> None:
    events, _, _ = parse(tmp_path, HEAD + 'https-proxy[2102]: msg_id="2CFF-0001" Deny 1-Trusted 0-External tcp '
                                          '10.20.1.18 160.79.104.10 50124 443 msg="ProxyDeny: HTTPS categories" '
                                          'sni="claude.ai" cats="Generative AI" app_name="Claude" '
                                          'src_user="p.bakker@gemeente.local"  (HTTPS-proxy-00)')
    event = events[0]
    assert (event["action"], event["vendor_category"], event["vendor_app"]) == ("blocked", "Generative AI", "Claude")
    assert event["user_name"] == "p.bakker@gemeente.local"


def test_messages_without_traffic_are_ignored_and_broken_ones_rejected(tmp_path: Path) -> None:
    events, rejects, ignored = parse(
        tmp_path,
        HEAD + 'firewall: msg_id="3000-0152" SYN flood attack against 10.20.1.5 from 192.0.2.99 detected.',
        HEAD + 'iked[1450]: msg_id="0208-0001" IKEv2 phase-1 negotiation completed successfully as responder',
        HEAD + 'admd[1301]: msg_id="1100-0004" Authentication of Firebox user [j@x] from 10.20.1.15 was accepted',
        HEAD + 'pop3-proxy[2111]: msg_id="1CFF-0004" Allow 1-Trusted 0-External tcp 10.20.1.25 198.51.100.60 '
               '40022 110 msg="POP3 request" sent_bytes="1" rcvd_bytes="2"  (POP3-proxy-00)',
        "<158>Nov 27 10:22:24 fw wrapper[2514]: <infinityd_idle> called, current state=2",
        HEAD + 'firewall: msg_id="3000-0148" Allow 1-Trusted 0-External 60 tcp 20 64 10.20.1.15',
        "just some text",
    )
    assert events == [] and ignored == 5
    assert [r["reason"] for r in rejects] == [
        "WatchGuard traffic message without source and destination addresses",
        "not a WatchGuard log line (no msg_id and no syslog header)"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(
    st.text(max_size=120),
    st.builds(lambda tail: HEAD + 'firewall: msg_id="3000-0151" Allow ' + tail, st.text(max_size=80)),
    st.builds(lambda tail: HEAD + 'http-proxy: msg_id="1AFF-0024" ' + tail, st.text(max_size=80)),
), min_size=1, max_size=8))
def test_arbitrary_lines_never_crash_and_are_all_accounted_for(tmp_path: Path, lines: list[str]) -> None:
    lines = [line.replace("\n", " ").replace("\r", " ") for line in lines]
    parse(tmp_path, *lines)  # parse_lines asserts lines = parsed + rejected + ignored


@pytest.mark.parametrize("disposition, action", [("Allow", "allowed"), ("Deny", "blocked"), ("Drop", "blocked")])
def test_dispositions(tmp_path: Path, disposition: str, action: str) -> None:
    events, _, _ = parse(tmp_path, HEAD + SESSION.replace(" Allow ", f" {disposition} "))
    assert events[0]["action"] == action


@pytest.mark.parametrize("message, fields", [
    # 3000-0148: length, protocol, header length and TTL before the addresses
    ("Allow 1-Trusted 0-External 60 tcp 20 64 10.0.0.1 192.0.2.1 52011 443 offset 10 S 1 win 2",
     ("Allow", "tcp", "10.0.0.1", "192.0.2.1", "443")),
    # a numeric protocol, runs of spaces, interface names with spaces and numbers
    ("deny  Guest Wi-Fi 2  External 52 17 20 127 10.0.0.2  192.0.2.2 5353 53",
     ("deny", "17", "10.0.0.2", "192.0.2.2", "53")),
    # 3000-0151 ICMP: no ports; an IPv6 pair
    ("Allow Trusted Firebox icmp 2001:db8::1 2001:db8::2 echo-request duration=\"1\"",
     ("Allow", "icmp", "2001:db8::1", "2001:db8::2", None)),
    # a port that is no number: none
    ("Drop Trusted External udp 10.0.0.3 192.0.2.3 40000 53x", ("Drop", "udp", "10.0.0.3", "192.0.2.3", None)),
    # no addresses: the disposition only; no disposition: nothing
    ("Allow Trusted External tcp 10.0.0.4", ("Allow", None, None, None, None)),
    ("SYN flood attack against 10.0.0.5 from 192.0.2.5 detected.", (None, None, None, None, None)),
    ("", (None, None, None, None, None)),
])
def test_packet_fields_are_found_by_their_shape(message: str, fields: tuple[str | None, ...]) -> None:
    import numpy as np

    from detector.ingest import watchguard_scan as scan

    data = np.frombuffer(message.encode() or b" ", np.uint8)
    places = scan.packet_fields(data, np.array([0]), np.array([len(message.encode())]))[0]
    found = tuple(message.encode()[start:end].decode() if start >= 0 else None for start, end in places)
    assert found == fields


def test_proxy_ips_antivirus_and_reputation_messages_name_the_request_by_host_and_path(tmp_path: Path) -> None:
    """The HTTP proxy's IPS, antivirus, reputation and DLP messages (1AFF-0025/0026/0028/002C/002D) write `host=` and
    `path=` where the request messages write `dstname=` and `arg=`: the layout of the elastic/integrations
    watchguard_firebox pipeline test (packages/watchguard_firebox/data_stream/log/_dev/test/pipeline/test-traffic.log)
    and of the Log Message Catalog; lines written here."""
    deny = ('http-proxy: msg_id="1AFF-0026" Deny 1-Trusted 0-External tcp 10.20.1.17 198.51.100.4 50213 443 '
            'msg="ProxyDeny: HTTP body IPS match" proxy_act="HTTP-Client.Standard" signature_id="1050001" '
            'severity="5" signature_name="Test signature" host="Chat.Example.AI" path="/api/upload?id=4" '
            'src_user="piet@gemeente.local" (HTTPS-proxy-00)')
    allow = ('http-proxy: msg_id="1AFF-002D" Allow 1-Trusted 0-External tcp 10.20.1.18 198.51.100.5 50214 80 '
             'msg="ProxyAllow: HTTP good reputation" proxy_act="HTTP-Client.Standard" reputation="2" '
             'host="www.example.org" path="/index.html" (HTTP-proxy-00)')
    events, rejects, _ = parse(tmp_path, HEAD + deny, HEAD + allow, HEAD + REQUEST)
    assert not rejects
    assert [(e["host"], e["host_source"], e["url_path"], e["action"]) for e in events] == [
        ("chat.example.ai", "http_host", "/api/upload", "blocked"),
        ("www.example.org", "http_host", "/index.html", "allowed"),
        ("api.example.org", "http_host", "/v1/chat", "allowed")]  # dstname and arg still win where present
    assert events[0]["user_name"] == "piet@gemeente.local"


def test_dns_questions_name_the_host_of_dns_policy_packets_and_dns_proxy_requests(tmp_path: Path) -> None:
    """Fireware 12 logs a DNS policy's packet with `record_type` and `question` (layout seen in a Wazuh rules test,
    github.com search "msg_id=\\"3000-0148\\" ... question=", a 2025 Firebox with an RFC 3339 header, serial and
    device name), and the DNS proxy's requests (1DFF-000F "DNS request") with `query_type` and `question` (SEKOIA-IO
    intake-formats WatchGuard/watchguard-firebox/tests/test_dns_question.json). Lines written here."""
    packet = ('2026-11-27T09:21:56.556323+00:00 fw-stadhuis-a 80AB0C1D2E3F4 fw-stadhuis firewall: msg_id="3000-0148" '
              'Allow Trusted Firebox 73 udp 20 64 10.20.1.15 10.20.0.1 46616 53  geo_dst="NLD" record_type="AAAA" '
              'question="Chat.Example.AI"  (DNS-00)')
    proxy = ('dns-proxy[2001]: msg_id="1DFF-000F" Allow 1-Trusted 0-External udp 10.20.1.16 9.9.9.9 52818 53 '
             'msg="DNS request" proxy_act="DNS-Outgoing" query_type="a" question="api.example.org."  (DNS-proxy-00)')
    events, rejects, _ = parse(tmp_path, packet, HEAD + proxy, HEAD + SESSION)
    assert not rejects
    assert [(e["host"], e["host_source"], e["dns_qtype"], e["dst_port"]) for e in events] == [
        ("chat.example.ai", "dns_query", "AAAA", 53), ("api.example.org", "dns_query", "A", 53),
        (None, "none", None, 443)]
    assert events[0]["ts"].isoformat() == "2026-11-27T09:21:56.556323+00:00"


def test_the_fireboxs_leef_syslog_format_is_read_like_its_own(tmp_path: Path) -> None:
    """The Firebox can send syslog in IBM LEEF instead of its own layout: `LEEF:1.0|WatchGuard|XTM|<version>|<msg id,
    8 hex digits>|` then tab-separated unquoted key=value pairs (`disp`, `in_if`, `src`, `srcPort`, `dst`, `dstPort`,
    `proto`, the proxies' `dstname`/`arg`/`op`, `sent_bytes`, `duration=42 seconds` ...), tabs written `#011` where a
    relay escaped them: the layout of SEKOIA-IO intake-formats WatchGuard/watchguard-firebox/tests (dpi_http_1,
    dpi_http_deny, connection_allow_duration_seconds, test_dns_question). Lines written here, behind a relay's
    header (the LEEF messages carry no time)."""
    head = "<134>Nov 27 10:21:56 fw-stadhuis "
    request = ("LEEF:1.0|WatchGuard|XTM|12.10.4.B700001|1AFF0024|serial=80AB0C1D2E3F4\tpolicy=HTTPS-proxy-00\t"
               "disp=Allow\tin_if=LAN 1\tout_if=WAN\tgeo_dst=USA\tsrc=10.20.1.15\tsrcPort=52011\tdst=104.18.32.47\t"
               "dstPort=443\tproto=tcp\tproxy_act=HTTP-Client.Standard\top=POST\tdstname=chat.example.ai\t"
               "arg=/v1/chat?x=1\tsent_bytes=48211\trcvd_bytes=912\telapsed_time=0.250 sec(s)\tapp_name=Example AI\t"
               "app_cat_name=Generative AI\tmsg=HTTP request")
    session = ("LEEF:1.0|WatchGuard|XTM|12.10.4.B700001|30000151|serial=80AB0C1D2E3F4#011policy=Outgoing-00#011"
               "disp=Deny#011in_if=LAN#011out_if=WAN#011src=10.20.1.16#011srcPort=40001#011dst=198.51.100.9#011"
               "dstPort=8443#011src_user=jan@gemeente.local#011duration=14 seconds#011sent_bytes=10#011rcvd_bytes=20")
    dns = ("LEEF:1.0|WatchGuard|XTM|12.10.4.B700001|1DFF000F|disp=Allow\tin_if=LAN\tout_if=WAN\tsrc=10.20.1.17\t"
           "srcPort=53000\tdst=9.9.9.9\tdstPort=53\tproto=udp\tquery_type=AAAA\tquestion=Gemini.Example.com\t"
           "msg=DNS request")
    lines = [head + request, head + session, head + dns]
    assert sniff(lines).name == "watchguard"
    events, rejects, _ = parse(tmp_path, *lines, HEAD + SESSION)
    assert not rejects
    first, second, third, native = events
    assert (first["host"], first["host_source"], first["http_method"], first["url_path"]) == (
        "chat.example.ai", "http_host", "POST", "/v1/chat")
    assert (first["src_ip"], first["dst_ip"], first["dst_port"], first["network_protocol"]) == (
        "10.20.1.15", "104.18.32.47", 443, "http")
    assert (first["bytes_out"], first["bytes_in"], first["duration_ms"], first["action"]) == (48211, 912, 250, "allowed")
    assert (first["vendor_app"], first["vendor_category"]) == ("Example AI", "Generative AI")
    assert (second["action"], second["user_name"], second["duration_ms"], second["network_protocol"]) == (
        "blocked", "jan@gemeente.local", 14000, None)
    assert (second["src_ip"], second["dst_ip"], second["dst_port"]) == ("10.20.1.16", "198.51.100.9", 8443)
    assert (third["host"], third["host_source"], third["dns_qtype"]) == ("gemini.example.com", "dns_query", "AAAA")
    assert first["ts"].isoformat() == "2026-11-27T09:21:56+00:00"  # the header's time, in the configured zone
    assert native["bytes_out"] == 48211


def test_other_vendors_leef_lines_are_not_watchguard() -> None:
    other = ("<134>Nov 27 10:21:56 gw LEEF:1.0|OtherVendor|Gateway|1.0|allowed|src=10.0.0.1\tdst=192.0.2.1\t"
             "dstPort=443\tdisp=Allow")
    assert FORMATS["watchguard"].sniff([other]) == 0.0


def test_leef_behind_an_rfc5424_relay_header_without_an_app_name(tmp_path: Path) -> None:
    """A relay that writes RFC 5424 puts `-` (no value) as the APP-NAME of a LEEF message, which has no process tag
    (layout of RFC 5424 section 6.2; the LEEF message as SEKOIA-IO's and Huntress's WatchGuard samples show it): the
    process comes from the message id, not from the `-`. Lines written here."""
    leef = ("<142>1 2026-11-27T09:21:56.000Z fw-stadhuis - - - LEEF:1.0|WatchGuard|XTM|12.10.4.B700001|1AFF0024|"
            "disp=Allow\tin_if=LAN\tout_if=WAN\tsrc=10.20.1.15\tsrcPort=52011\tdst=192.0.2.4\tdstPort=80\tproto=tcp\t"
            "op=GET\tdstname=chat.example.ai\targ=/x\tmsg=HTTP request")
    [event], rejects, ignored = parse(tmp_path, leef)
    assert not rejects and not ignored
    assert (event["host"], event["network_protocol"], event["ts"].isoformat()) == (
        "chat.example.ai", "http", "2026-11-27T09:21:56+00:00")


def test_action_and_port_read_from_the_bytes_take_any_case_and_leading_zeros(tmp_path: Path) -> None:
    # The read_log-msg page's dispositions (Allow, Deny, Drop) in any case; a port of 1-5 digits, zeros kept out of
    # the number as a cast of the text would; a session end and a policy-logged packet side by side.
    lines = [HEAD + SESSION.replace("Allow", "allow").replace(" 443 ", " 00443 "),
             HEAD + SESSION.replace("Allow", "DROP").replace(" 443 ", " 65535 "),
             HEAD + PACKET.replace("Allow", "Deny").replace(" 443 ", " 8 "),
             HEAD + PACKET.replace("Allow", "aLLoW")]
    events, rejects, _ = parse(tmp_path, *lines)
    assert rejects == []
    assert [(e["action"], e["dst_port"]) for e in events] == [
        ("allowed", 443), ("blocked", 65535), ("blocked", 8), ("allowed", 443)]


def test_byte_counts_plain_digits_and_other_text_read_as_a_bigint_cast_reads_them(tmp_path: Path) -> None:
    # sent_bytes / rcvd_bytes as the read_log-msg page documents them (counts), and text a cast must decide on:
    # zeros in front, a placeholder, an empty value, 19 digits (past the digits read from the bytes, still an int64)
    session = SESSION.replace('sent_bytes="48211"', 'sent_bytes="{}"').replace('rcvd_bytes="912345"', 'rcvd_bytes="{}"')
    lines = [HEAD + session.format("0048211", "-"), HEAD + session.format("", "1234567890123456789"),
             HEAD + session.format("12", "99999999999999999999")]
    events, rejects, _ = parse(tmp_path, *lines)
    assert rejects == []
    assert [(e["bytes_out"], e["bytes_in"]) for e in events] == [
        (48211, None), (None, 1234567890123456789), (12, None)]
