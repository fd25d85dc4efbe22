"""Cisco Meraki MX/MR syslog (meraki.py).

Test lines are written from the documented layout, not copied from any log: Meraki's "Syslog Event Types and
Log Samples" (https://documentation.meraki.com/General_Administration/Monitoring_and_Reporting/Syslog_Event_Types_and_Log_Samples:
`<epoch> <device> <type> ...` for urls, flows/firewall/vpn_firewall/cellular_firewall, l7_firewall with
`decision=`, ids-alerts, security_event, events content_filtering_block with `category0`), "Syslog Server Overview
and Configuration" (https://documentation.meraki.com/General_Administration/Monitoring_and_Reporting/Syslog_Server_Overview_and_Configuration:
`pattern: 1 all` for a denied inbound flow, the MX 18.101 rename of flows to firewall, a relay's BSD header with
`1` before the epoch), Elastic's cisco_meraki integration
(https://github.com/elastic/integrations/tree/main/packages/cisco_meraki: `<134>1` headers, `flows allow|deny` of
MR access points, ip_flow_start/end, `[v6]:port` and unbracketed IPv6 with a port, the agent inside a urls body)
and Sekoia's intake format (https://github.com/SEKOIA-IO/intake-formats/tree/main/Cisco/cisco-meraki).
"""

from __future__ import annotations

from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from detector.ingest import FORMATS, sniff
from detector.ingest.meraki import BAD_TIME, NO_ADDRESS, NO_URL, NOT_MERAKI
from tests.golden import parse_lines

EPOCH = "1795508100.123456789"  # 2026-11-24T08:15:00.123456789Z
URLS = (f"<134>1 {EPOCH} MX85_Raadhuis urls src=10.1.2.3:50000 dst=104.18.32.47:443 mac=AA:BB:CC:01:02:03 "
        "agent='Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0' request: POST https://ChatGPT.com/backend-api/conversation?x=1")
FIREWALL = (f"<134>1 {EPOCH} MX85_Raadhuis firewall src=10.1.2.3 dst=104.18.32.47 mac=AA:BB:CC:01:02:03 "
            "protocol=tcp sport=50000 dport=443 pattern: allow all")


def parse(tmp_path: Path, *lines: str):  # type: ignore[no-untyped-def]
    events, rejects, report = parse_lines(tmp_path / "meraki-20261124.log", "meraki", lines)
    return events.to_pylist(), rejects.to_pylist(), report


def test_urls_line_gives_host_path_method_agent_and_ports(tmp_path: Path) -> None:
    [event], rejects, _ = parse(tmp_path, URLS)
    assert not rejects
    assert (event["src_ip"], event["dst_ip"], event["dst_port"]) == ("10.1.2.3", "104.18.32.47", 443)
    assert (event["host"], event["host_source"], event["url_path"]) == ("chatgpt.com", "url", "/backend-api/conversation")
    assert (event["http_method"], event["network_protocol"], event["action"]) == ("POST", "https", "allowed")
    assert event["user_agent"] == "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"
    assert event["ts"].isoformat() == "2026-11-24T08:15:00.123456+00:00"
    assert event["bytes_out"] is None  # Meraki logs no byte counts


def test_agent_with_quotes_and_request_words_runs_to_the_last_request(tmp_path: Path) -> None:
    agent = "Odd/1.0 (it's \"x\") request: GET fake'"
    line = URLS.replace("Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0", agent)
    [event], _, _ = parse(tmp_path, line)
    assert event["user_agent"] == agent
    assert (event["http_method"], event["host"]) == ("POST", "chatgpt.com")


def test_unknown_method_connect_target_and_no_url(tmp_path: Path) -> None:
    unknown = URLS.replace("request: POST", "request: UNKNOWN")
    connect = URLS.split(" request:")[0] + " request: CONNECT claude.ai:443"
    bare = URLS.split(" agent=")[0] + " request: UNKNOWN"
    first, second, third = parse(tmp_path, unknown, connect, bare)[0]
    assert first["http_method"] is None and first["host"] == "chatgpt.com"
    assert (second["host"], second["host_source"], second["http_method"], second["url_path"]) == (
        "claude.ai", "connect", "CONNECT", None)
    assert (third["host"], third["host_source"], third["src_ip"]) == (None, "none", "10.1.2.3")


def test_flow_verdicts_allow_deny_inbound_numbers_group_policy_and_l7(tmp_path: Path) -> None:
    head = f"<134>1 {EPOCH} MX85 "
    lines = [
        FIREWALL,
        FIREWALL.replace("pattern: allow all", "pattern: deny (dst 10.0.0.0/8)"),
        head + "flows src=203.0.113.5 dst=198.51.100.1 protocol=udp sport=4000 dport=5060 pattern: 1 all",
        head + "flows src=203.0.113.5 dst=198.51.100.1 protocol=tcp sport=4000 dport=443 pattern: 0 all",
        head + "vpn_firewall src=10.1.2.3 dst=10.9.0.1 protocol=tcp sport=1 dport=445 pattern: Group Policy Deny",
        head + "cellular_firewall src=10.1.2.3 dst=8.8.8.8 protocol=udp sport=1 dport=53 pattern: Group Policy Allow",
        head + "flows deny src=10.1.2.4 dst=45.133.1.20 mac=AA:BB:CC:01:02:04 protocol=tcp sport=2 dport=8080",
        head + "flows allow src=10.1.2.4 dst=45.133.1.21 mac=AA:BB:CC:01:02:04 protocol=tcp sport=2 dport=443",
        head + "l7_firewall src=10.1.2.5 dst=104.18.32.47 protocol=tcp sport=3 dport=443 decision=blocked",
        head + "bridge_anyconnect_client_vpn_firewall src=10.1.2.6 dst=10.9.0.2 protocol=tcp sport=4 dport=22 "
               "pattern: something new",
    ]
    events, rejects, _ = parse(tmp_path, *lines)
    assert not rejects
    assert [event["action"] for event in events] == [
        "allowed", "blocked", "blocked", "allowed", "blocked", "allowed", "blocked", "allowed", "blocked", "unknown"]
    assert [event["dst_port"] for event in events][:4] == [443, 443, 5060, 443]


def test_icmp_type_is_no_port_and_protocol_numbers_are_named(tmp_path: Path) -> None:
    icmp = f"<134>1 {EPOCH} MX85 firewall src=10.1.2.3 dst=10.8.2.6 protocol=icmp type=8 pattern: allow all"
    numbered = f"<134>1 {EPOCH} MX85 firewall src=10.1.2.3 dst=10.8.2.6 protocol=17 sport=1 dport=53 pattern: allow all"
    first, second = parse(tmp_path, icmp, numbered)[0]
    assert (first["network_protocol"], first["dst_port"]) == ("icmp", None)
    assert (second["network_protocol"], second["dst_port"]) == ("udp", 53)


def test_ip_flow_start_is_a_flow_and_its_end_is_ignored(tmp_path: Path) -> None:
    start = (f"<134>1 {EPOCH} MX85 ip_flow_start src=10.1.2.3 dst=104.18.32.47 protocol=tcp sport=5 dport=443 "
             "translated_src_ip=192.0.2.10 translated_port=5")
    events, rejects, report = parse(tmp_path, start, start.replace("ip_flow_start", "ip_flow_end"))
    assert [(event["src_ip"], event["action"]) for event in events] == [("10.1.2.3", "allowed")]
    assert not rejects and report.ignored == 1


def test_ids_alerts_are_turned_around_when_ingress(tmp_path: Path) -> None:
    ingress = (f"<134>1 {EPOCH} MX85 ids-alerts signature=129:4:1 priority=3 timestamp=1795508100.1 "
               "direction=ingress protocol=tcp/ip src=198.51.100.20:80 dst=10.1.2.3:49152")
    egress = (f"<134>1 {EPOCH} MX85 security_event ids_alerted signature=1:2:3 priority=1 timestamp=1795508100.1 "
              "dhost=AA:BB:CC:01:02:03 direction=egress protocol=tcp/ip src=10.1.2.3:49153 dst=198.51.100.21:443 "
              "decision=blocked action=rst message: SOME-RULE text with src=1.1.1.1")
    first, second = parse(tmp_path, ingress, egress)[0]
    assert (first["src_ip"], first["dst_ip"], first["dst_port"], first["action"]) == (
        "10.1.2.3", "198.51.100.20", 80, "unknown")
    assert (second["src_ip"], second["dst_ip"], second["dst_port"], second["action"]) == (
        "10.1.2.3", "198.51.100.21", 443, "blocked")
    assert second["network_protocol"] == "tcp"


def test_amp_file_and_content_filter_blocks(tmp_path: Path) -> None:
    amp = (f"<134>1 {EPOCH} MX85 security_event security_filtering_file_scanned url=http://dl.example.org/a.exe "
           "src=10.1.2.3:50010 dst=198.51.100.22:80 mac=AA:BB:CC:01:02:03 name='W32.X' sha256=00 "
           "disposition=malicious action=block")
    blocked = (f"<134>1 {EPOCH} MX85 events content_filtering_block url='https://character.ai/chat' "
               "category0='Artificial Intelligence' server='104.18.20.30:443' client_mac='AA:BB:CC:01:02:03'")
    first, second = parse(tmp_path, amp, blocked)[0]
    assert (first["host"], first["url_path"], first["action"], first["dst_port"]) == (
        "dl.example.org", "/a.exe", "blocked", 80)
    assert (second["host"], second["dst_ip"], second["dst_port"], second["action"]) == (
        "character.ai", "104.18.20.30", 443, "blocked")
    assert (second["src_ip"], second["vendor_category"]) == (None, "Artificial Intelligence")


def test_ipv6_bracketed_unbracketed_with_port_and_bare(tmp_path: Path) -> None:
    bracketed = URLS.replace("src=10.1.2.3:50000 dst=104.18.32.47:443",
                             "src=[2001:db8::3]:50000 dst=[2606:4700::6812:202f]:443")
    unbracketed = URLS.replace("src=10.1.2.3:50000 dst=104.18.32.47:443",
                               "src=2001:db8:0:0:0:0:0:3:50000 dst=2606:4700:0:0:0:0:6812:202f:443")
    flow = FIREWALL.replace("src=10.1.2.3 dst=104.18.32.47", "src=fe80::1 dst=2606:4700::6812:202f")
    events, _, _ = parse(tmp_path, bracketed, unbracketed, flow)
    assert [(e["src_ip"], e["dst_ip"], e["dst_port"]) for e in events] == [
        ("2001:db8::3", "2606:4700::6812:202f", 443),
        ("2001:db8:0:0:0:0:0:3", "2606:4700:0:0:0:0:6812:202f", 443),
        ("fe80::1", "2606:4700::6812:202f", 443),
    ]


def test_times_epoch_iso_with_and_without_offset_and_relay_headers(tmp_path: Path) -> None:
    body = FIREWALL.split(" MX85_Raadhuis ", 1)[1]
    lines = [
        f"1795508100.5 MX85 {body}",
        f"Nov 24 09:15:00 192.0.2.1 1 1795508100.5 MX85 {body}",  # the relay's time is not read
        f"<134>1 2026-11-24T09:15:00.5+01:00 MX85 {body}",
        f"<134>1 2026-11-24T09:15:00.5 MX85 {body}",  # no offset: the configured zone (Europe/Amsterdam)
        f"2026-11-24T10:00:00+01:00 relay01 1 1795508100.5 MX85 {body}",
    ]
    events, rejects, _ = parse(tmp_path, *lines)
    assert not rejects
    assert {event["ts"].isoformat() for event in events} == {"2026-11-24T08:15:00.500000+00:00"}


def test_non_traffic_lines_are_ignored(tmp_path: Path) -> None:
    lines = [
        f"<134>1 {EPOCH} MX85 events type=vpn_connectivity_change vpn_type='site-to-site' "
        "peer_contact='192.0.2.200:51856' peer_ident='abc' connectivity='true'",
        f"Nov 24 09:15:00 192.0.2.1 1 {EPOCH} MX85 events dhcp lease of ip 10.1.2.40 from server mac "
        "AA:BB:CC:00:00:01 for client mac AA:BB:CC:00:00:40 from router 10.1.0.1 on subnet 255.255.0.0",
        f"{EPOCH} MX85 events failover to wan2",
        f"{EPOCH} MR46 airmarshal_events type=rogue_ssid_detected ssid='Gratis' bssid='02:11:22:33:44:55' "
        "src='02:11:22:33:44:55' dst='FF:FF:FF:FF:FF:FF' channel='11' rssi='30'",
        f"{EPOCH} MX85 security_event security_filtering_disposition_change name=W32.X sha256=00 action=allow",
        f"{EPOCH} MX85 events type=anyconnect_vpn_session_manager msg= 'Sess-ID[7] Peer IP=192.0.2.77 User[x]: ok '",
    ]
    events, rejects, report = parse(tmp_path, *lines)
    assert not events and not rejects
    assert report.ignored == len(lines)


def test_broken_and_foreign_lines_are_counted_rejects(tmp_path: Path) -> None:
    lines = [
        URLS.replace("src=10.1.2.3:50000 dst=104.18.32.47:443", "src= dst="),
        f"<134>1 {EPOCH} MX85 firewall protocol=tcp sport=1 dport=443 pattern: allow all",
        f"<134>1 {EPOCH} MX85 events content_filtering_block category0='X' client_mac='AA:BB:CC:01:02:03'",
        FIREWALL.replace(EPOCH, "2026-11-31T08:00:00Z"),
        "<134>1 MX85 urls src=10.1.2.3:50000 dst=104.18.32.47:443 request: GET https://chatgpt.com/",
        "just some text",
    ]
    events, rejects, report = parse(tmp_path, *lines)
    assert not events
    assert [reject["reason"] for reject in rejects] == [
        NO_ADDRESS, NO_ADDRESS, NO_URL, BAD_TIME + "2026-11-31T08:00:00Z", NOT_MERAKI, NOT_MERAKI]
    assert report.rejected == len(lines)


def test_sniffed_with_and_without_headers() -> None:
    body = FIREWALL.split("<134>1 ", 1)[1]
    for prefix in ("", "<134>1 ", "<134>", "Nov 24 09:15:00 192.0.2.1 1 ", "2026-11-24 09:15:00 Local0.Info 1 "):
        assert sniff([prefix + body, prefix + URLS.split("<134>1 ", 1)[1]]).name == "meraki", prefix
    assert sniff(["<134>1 2026-11-24T08:15:00Z MX85 firewall src=10.1.2.3 dst=1.1.1.1 pattern: allow all"]).name \
        == "meraki"


def test_other_formats_epoch_lines_are_not_sniffed_as_meraki() -> None:
    meraki = FORMATS["meraki"].sniff
    squid = "1795508100.123    245 10.1.2.3 TCP_TUNNEL/200 6231 CONNECT chatgpt.com:443 - HIER_DIRECT/104.18.32.47 -"
    squid_wide = "1795508100.123 12345 10.1.2.3 TCP_MISS/200 6231 GET http://example.org/ - HIER_DIRECT/1.2.3.4 text/html"
    zeek = "1795508100.123456\tCabc\t10.1.2.3\t50000\t104.18.32.47\t443\ttcp\tssl"
    assert meraki([squid]) == 0 and meraki([squid_wide]) == 0 and meraki([zeek]) == 0


def test_a_batch_of_ignored_lines_only_is_all_counted(tmp_path: Path) -> None:
    events, rejects, report = parse(tmp_path, *[f"{EPOCH} MX85 events failover to wan1"] * 20)
    assert not events and not rejects and report.ignored == 20


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x00"), max_size=80),
    st.builds(lambda kind, rest: f"{EPOCH} MX85 {kind} {rest}",
              st.sampled_from(["urls", "flows", "firewall", "l7_firewall", "ids-alerts", "security_event", "events"]),
              st.text(alphabet="abc =:'[]0123456789.srcdtpqu ", max_size=60)),
), min_size=1, max_size=12))
def test_arbitrary_lines_never_crash_and_are_all_accounted_for(tmp_path: Path, lines: list[str]) -> None:
    lines = [line for line in lines if line.strip()] or ["x"]
    _, _, report = parse(tmp_path, *lines)
    assert report.lines == len(lines)


def test_every_prefix_of_a_line_is_read_or_rejected_never_read_past_its_end(tmp_path: Path) -> None:
    """Lines cut short anywhere (a truncated UDP datagram): each is an event, a counted reject, or (cut inside the
    type: `u`, `ur`, `url`, a type Meraki does not have) ignored; no value runs into the next line."""
    lines = [URLS[:cut] for cut in range(1, len(URLS) + 1) if URLS[:cut].strip()]
    events, rejects, report = parse(tmp_path, *lines, FIREWALL)
    assert report.ignored == 3
    assert report.parsed + report.rejected == len(lines) + 1 - 3
    assert events[-1]["src_ip"] == "10.1.2.3" and events[-1]["dst_port"] == 443
    for event in events[:-1]:
        assert "\n" not in (event["user_agent"] or "") and "MX85" not in (event["url_path"] or "")
    assert {reject["reason"] for reject in rejects} <= {NOT_MERAKI, NO_ADDRESS}


def test_icmp6_is_named_as_the_other_formats_name_it(tmp_path: Path) -> None:
    """MR access points write `protocol=icmp6 type=135` (elastic/integrations packages/cisco_meraki test-flows.log;
    SEKOIA-IO intake-formats Cisco/cisco-meraki/tests/test_flows_with_mac.json); the lake names it `ipv6-icmp`, as
    Windows Firewall's and the protocol numbers' 58 are. Lines written here."""
    mr = f"<134>1 {EPOCH} AP_Raadhuis_1 flows allow src=fe80::1 dst=ff02::1:ff00:2 mac=AA:BB:CC:01:02:03 protocol=icmp6 type=135"
    [event], rejects, _ = parse(tmp_path, mr)
    assert not rejects
    assert (event["network_protocol"], event["dst_port"], event["action"]) == ("ipv6-icmp", None, "allowed")


def test_relay_heads_seen_in_the_field_are_read(tmp_path: Path) -> None:
    """Heads in front of Meraki's `<epoch> <device> <type>` as collectors write them: a bare line (SEKOIA-IO
    intake-formats Cisco/cisco-meraki tests), a BSD header with the MX's address and `1` (a public Meraki MX parser's
    README on GitHub, "satosugu"), Kiwi Syslog's `date time Facility.Severity` (Sumo Logic's Cisco Meraki app docs,
    https://help-opensource.sumologic.com/docs/integrations/security-threat-detection/cisco-meraki/) and Kiwi's
    `<PRI>Original Address=ip` (a GitHub test of Meraki lines). Lines written here."""
    body = f"{EPOCH} MX85_Raadhuis firewall src=10.1.2.3 dst=104.18.32.47 protocol=tcp sport=5 dport=443 pattern: allow all"
    heads = ("", "Nov 24 09:15:00 192.168.128.1 1 ", "2026-11-24 09:15:00 Local0.Info 1 ",
             "<134>Original Address=192.168.128.1 1 ")
    events, rejects, _ = parse(tmp_path, *(head + body for head in heads))
    assert not rejects
    assert [(e["src_ip"], e["dst_ip"], e["dst_port"], e["ts"].isoformat()) for e in events] == [
        ("10.1.2.3", "104.18.32.47", 443, "2026-11-24T08:15:00.123456+00:00")] * 4


def test_elided_urls_give_no_made_up_host_or_path(tmp_path: Path) -> None:
    """Meraki elides what it did not see with `...`: `request: UNKNOWN https://host/...` for an encrypted request
    (elastic/integrations packages/cisco_meraki test-urls.log, SEKOIA-IO's test_urls_1.json, an rsyslog debug dump of
    an MR on GitHub) and `request: GET https://...` with no host at all (Meraki's syslog samples; Splunk's Meraki
    eventgen templates). The host is then the URL's, or none; the path none. Lines written here."""
    elided_path = (f"<134>1 {EPOCH} AP_Raadhuis_2 urls src=10.1.2.3:50001 dst=104.18.32.47:443 "
                   "mac=AA:BB:CC:01:02:03 request: UNKNOWN https://chatgpt.com/...")
    elided_all = (f"<134>1 {EPOCH} MX85_Raadhuis urls src=10.1.2.3:50002 dst=104.18.32.47:443 "
                  "mac=AA:BB:CC:01:02:03 request: GET https://...")
    events, rejects, _ = parse(tmp_path, elided_path, elided_all, URLS)
    assert not rejects
    assert [(e["host"], e["host_source"], e["url_path"], e["http_method"]) for e in events] == [
        ("chatgpt.com", "url", None, None), (None, "none", None, "GET"),
        ("chatgpt.com", "url", "/backend-api/conversation", "POST")]
    assert [(e["dst_ip"], e["dst_port"]) for e in events] == [("104.18.32.47", 443)] * 3
