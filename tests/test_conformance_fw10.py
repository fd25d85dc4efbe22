"""Conformance of Check Point, PAN-OS and Cisco ASA with layouts seen in public real-world logs, each test line
written here from the vendor's documented layout (never copied from a sample).

Check Point: a gateway's own syslog export writes Log Exporter's fields (sk122323's field list: `src`, `dst`,
`proto`, `service` the destination port, `s_port`, `product`, `sent_bytes`, `resource`, `appi_name`, ...) as one
RFC 5424 structured-data element of Check Point's enterprise number (2620): `[Fields@1.3.6.1.4.1.2620
Action="accept" src="..." ...]`, actions in lower case, the destination port also as `svc` (with `ProductName`,
`sport_svc`), the header's offset sometimes with its hour padded by `-` (`--5:00`).
"""

from __future__ import annotations

from pathlib import Path

from detector.ingest import sniff
from tests.golden import parse_lines

CP_HEAD = "<134>1 2025-11-18T09:03:04+01:00 10.1.1.1 CP-GW - Log [Fields@1.3.6.1.4.1.2620 "


def _events(table) -> list[dict]:
    return [{k: v for k, v in row.items() if v is not None and k not in ("file_id", "source_kind", "log_format")}
            for row in table.to_pylist()]


def test_checkpoint_fields_element_lines_are_read_and_sniffed(tmp_path: Path) -> None:
    lines = [
        CP_HEAD + 'Action="accept" UUid="{0x691c2a68,0x1,0x1010a0a,0xc0000000}" rule="12" rule_name="Internet" '
                  'src="10.20.3.14" dst="203.0.113.7" proto="6" product="VPN-1 & FireWall-1" service="443" '
                  's_port="52011" product_family="Network"]',
        CP_HEAD + 'Action="drop" src="10.20.3.15" dst="203.0.113.8" proto="17" service="53" s_port="40000" '
                  'product="VPN-1 & FireWall-1"]',
        CP_HEAD + 'Action="allow" src="10.20.3.16" dst="203.0.113.9" proto="6" appi_name="ChatGPT" '
                  'app_category="Generative AI" resource="https://chat.example.com/c/1?x=y" product="URL Filtering" '
                  'service="443" s_port="52013" src_user_name="Jan de Vries (jdevries)" sent_bytes="1200" '
                  'received_bytes="34000"]',
        # capitalised product keys, `svc` for the port, empty NAT and user values
        CP_HEAD + 'inzone="Internal" outzone="External" service_id="https" src="10.20.3.17" dst="203.0.113.10" '
                  'proto="6" xlatesrc="198.51.100.1" xlatedst="" user="" Action="reject" '
                  'ProductName="VPN-1 & FireWall-1" ProductFamily="Network" svc="443" sport_svc="52014"]',
        # IPS in detect mode, an alert without an action: no decision on traffic
        CP_HEAD + 'Action="monitor" src="10.20.3.18" dst="203.0.113.11" proto="6" message_info="Address spoofing" '
                  'product="VPN-1 & FireWall-1" service="80" s_port="52015"]',
        CP_HEAD.replace(" Log ", " Alert ") + 'Action=" " Protection Name="Packet Sanity" Severity="2" proto="6" '
                                              'dst="203.0.113.12" src="10.20.3.19" product="SmartDefense"]',
        # a relay's BSD header before the gateway's, whose offset's hour is padded with `-`
        "Nov 18 09:03:10 10.1.1.1  2025-11-18T09:03:10--5:00 10.1.1.1 CP-GW - Log [Fields@1.3.6.1.4.1.2620 "
        'Action="accept" src="10.20.3.20" dst="203.0.113.13" proto="17" sent_bytes="200" received_bytes="100" '
        'service="8080" s_port="32768"]',
        # an allowed decision without addresses: a reject, as in the other layouts
        CP_HEAD + 'Action="accept" proto="6" service="443" product="VPN-1 & FireWall-1"]',
    ]
    assert sniff(lines).name == "checkpoint"
    events, rejects, report = parse_lines(tmp_path / "cp.log", "checkpoint", lines)
    assert (report.parsed, report.rejected, report.ignored) == (5, 1, 2)
    assert [r["reason"] for r in rejects.to_pylist()] == ["Accept log without src and dst"]
    got = [(e["line_no"], e["ts"].isoformat(), e["src_ip"], e["dst_ip"], e["dst_port"], e["network_protocol"],
            e["action"]) for e in _events(events)]
    assert got == [
        (1, "2025-11-18T08:03:04+00:00", "10.20.3.14", "203.0.113.7", 443, "tcp", "allowed"),
        (2, "2025-11-18T08:03:04+00:00", "10.20.3.15", "203.0.113.8", 53, "udp", "blocked"),
        (3, "2025-11-18T08:03:04+00:00", "10.20.3.16", "203.0.113.9", 443, "tcp", "allowed"),
        (4, "2025-11-18T08:03:04+00:00", "10.20.3.17", "203.0.113.10", 443, "tcp", "blocked"),
        (7, "2025-11-18T14:03:10+00:00", "10.20.3.20", "203.0.113.13", 8080, "udp", "allowed"),
    ]
    url = _events(events)[2]
    assert (url["host"], url["host_source"], url["url_path"], url["user_name"], url["bytes_out"], url["bytes_in"],
            url["vendor_app"], url["vendor_category"]) == (
        "chat.example.com", "url", "/c/1", "Jan de Vries (jdevries)", 1200, 34000, "ChatGPT", "Generative AI")
    assert "user_name" not in _events(events)[3]  # `user=""` is no user


def test_checkpoint_fields_element_among_log_exporter_lines(tmp_path: Path) -> None:
    # a file mixing both layouts (one relay for several gateways): each line read by its own layout
    lines = [
        '<134>1 2025-11-18T08:03:04Z gw CheckPoint 2817 - [action:"Accept"; time:"1763453000"; src:"10.20.3.1"; '
        'dst:"203.0.113.1"; proto:"6"; service:"443"]',
        '<134>1 2025-11-18T08:03:04Z gw CheckPoint 2817 - [flags:"133440"; product:"System Monitor"]',
        CP_HEAD + 'Action="accept" src="10.20.3.2" dst="203.0.113.2" proto="6" service="443"]',
    ]
    events, _, report = parse_lines(tmp_path / "cp.log", "checkpoint", lines)
    assert (report.parsed, report.rejected, report.ignored) == (2, 0, 1)
    assert [(e["line_no"], e["src_ip"], e["dst_ip"]) for e in _events(events)] == [
        (1, "10.20.3.1", "203.0.113.1"), (3, "10.20.3.2", "203.0.113.2")]


# --- PAN-OS -----------------------------------------------------------------------------------------------
# "Tunnel Inspection Log Fields": FUTURE_USE, Receive Time, Serial Number, Type (START or END), Subtype (start,
# end, drop, deny), FUTURE_USE, Generated Time, Source Address, Destination Address, NAT Source IP, NAT
# Destination IP, Rule Name, Source User, Destination User, Application, Virtual System, Source Zone, Destination
# Zone, Inbound Interface, Outbound Interface, Log Action, FUTURE_USE, Session ID, Repeat Count, Source Port,
# Destination Port, NAT Source Port, NAT Destination Port, Flags, Protocol, Action, Severity, Sequence Number,
# Action Flags, Source Location, Destination Location, DG levels 1-4, Virtual System Name, Device Name, Tunnel
# ID/IMSI, Monitor Tag/IMEI, Parent Session ID, Parent Start Time, Tunnel, Bytes, Bytes Sent, Bytes Received, ...
# "Audit Log Fields" (PAN-OS 11.1): Serial Number, Generate Time, Threat/Content Type (AUDIT), FUTURE_USE,
# Event ID, Object, CLI Command, Severity.

def _tunnel(log_type: str, subtype: str) -> str:
    fields = [
        "1", "2025/11/18 09:03:04", "012801000001", log_type, subtype, "2561", "2025/11/18 09:03:04",
        "192.0.2.10", "198.51.100.20", "", "", "tunnel-inspect", "", "", "gre", "vsys1", "untrust", "trust",
        "ethernet1/1", "ethernet1/2", "default", "", "4711", "1", "0", "0", "0", "0", "0x0", "gre", "allow",
        "informational", "7012", "0x0", "NL", "NL", "0", "0", "0", "0", "", "pa-stadhuis", "0", "", "0", "",
        "GRE", "5120", "2048", "3072", "40", "20", "20", "1", "0", "0", "0", "3", "2", "n/a", "from-policy",
        "2025/11/18 09:02:04", "60", "ti-rule", "", "", "", "", "", "", "", "2025-11-18T09:03:04.250+01:00",
    ]
    return "<14>Nov 18 09:03:04 pa-stadhuis " + ",".join(fields)


def test_panos_tunnel_inspection_and_audit_logs_are_ignored(tmp_path: Path) -> None:
    traffic_end = (
        "<14>Nov 18 09:03:04 pa-stadhuis 1,2025/11/18 09:03:04,012801000001,TRAFFIC,end,2561,2025/11/18 09:03:04,"
        "10.20.3.14,203.0.113.7,192.0.2.10,203.0.113.7,internet,gemeente\\jdevries,,ssl,vsys1,trust,untrust,"
        "ethernet1/2,ethernet1/1,default,2025/11/18 09:03:04,4712,1,52011,443,41022,443,0x400000,tcp,allow,"
        "6000,1000,5000,20,2025/11/18 09:02:55,9,computer-and-internet-info,0,7013,0x0,10.0.0.0-10.255.255.255,"
        "United States,0,10,10,tcp-fin")
    lines = [
        _tunnel("START", "start"),
        _tunnel("END", "end"),
        "<14>Nov 18 09:03:05 pa-stadhuis 012801000001,2025/11/18 09:03:05,AUDIT,2561,cli,admin,"
        '"show system info",success',
        traffic_end,
    ]
    assert sniff(lines).name == "panos"
    events, _, report = parse_lines(tmp_path / "pan.log", "panos", lines)
    assert (report.parsed, report.rejected, report.ignored) == (1, 0, 3)
    assert [(e["line_no"], e["src_ip"], e["dst_ip"], e["dst_port"]) for e in _events(events)] == [
        (4, "10.20.3.14", "203.0.113.7", 443)]


def test_panos_authentication_and_hip_match_types_are_ignored(tmp_path: Path) -> None:
    # the type as PAN-OS writes it: AUTHENTICATION, and HIP-MATCH besides HIPMATCH
    lines = [
        "1,2025/11/18 09:03:04,012801000001,AUTHENTICATION,login,2561,2025/11/18 09:03:04,vsys1,10.20.3.14,"
        "jdevries,,,auth-policy,1,1,,default,radius,,GlobalProtect,,0,0,0x0,0,0,0,0,,pa-stadhuis",
        "1,2025/11/18 09:03:04,012801000001,HIP-MATCH,0,2561,2025/11/18 09:03:04,gemeente\\jdevries,vsys1,"
        "ws-0142,Windows,10.20.3.14,corporate,1,profile,0,0,7014,0x0",
    ]
    _, _, report = parse_lines(tmp_path / "pan.log", "panos", lines)
    assert (report.parsed, report.rejected, report.ignored) == (0, 0, 2)


# --- Cisco ASA --------------------------------------------------------------------------------------------
# "Cisco Secure Firewall ASA Series Syslog Messages": 106023 `Deny protocol src interface_name:source_address/
# source_port ... dst interface_name:dest_address/dest_port ... by access_group acl_ID`, 302014 `Teardown TCP
# connection id for interface:real-address/real-port [(idfw_user)] to interface:real-address/real-port ...`.
# An interface name may carry a prefix with a colon (`v1:outside`, as Elastic's ASA tests have it); with `names`
# configured (`name 10.20.3.14 ws-0142`) the ASA writes a name in an address's place.
ASA_TS = "Nov 18 2025 09:03:04 asa-stadhuis : %ASA-"


def test_asa_interface_with_a_prefix_is_not_part_of_the_address(tmp_path: Path) -> None:
    lines = [
        ASA_TS + '4-106023: Deny udp src v1:outside:192.0.2.9/54864 dst inside:10.20.3.3/53 by access-group '
                 '"outside_acl" [0x0, 0x0]',
        ASA_TS + '4-106023: Deny tcp src inside:10.20.3.14/52011 dst v2:outside:203.0.113.7/443 by access-group '
                 '"inside_in" [0x0, 0x0]',
        ASA_TS + '4-106023: Deny tcp src v1:inside:10.20.3.14 dst v2:outside:203.0.113.7 by access-group '
                 '"inside_in" [0x0, 0x0]',
        ASA_TS + "6-302014: Teardown TCP connection 5 for v2:outside:203.0.113.7/443 to v1:inside:10.20.3.14/52011 "
                 "duration 0:00:09 bytes 5120 TCP FINs",
        # IPv6 addresses keep their colons, with or without a prefix
        ASA_TS + "6-302014: Teardown TCP connection 6 for v2:outside:2001:db8:1::7/443 to inside:2001:db8::14/52011 "
                 "duration 0:00:09 bytes 5120 TCP FINs",
        ASA_TS + '4-106023: Deny tcp src inside:2001:db8::14/52011 dst outside:2001:db8:1::7/443 by access-group '
                 '"inside_in" [0x0, 0x0]',
    ]
    events, _, report = parse_lines(tmp_path / "asa.log", "cisco_asa", lines)
    assert report.parsed == 6
    assert [(e["src_ip"], e["dst_ip"], e.get("dst_port")) for e in _events(events)] == [
        ("192.0.2.9", "10.20.3.3", 53),
        ("10.20.3.14", "203.0.113.7", 443),
        ("10.20.3.14", "203.0.113.7", None),
        ("10.20.3.14", "203.0.113.7", 443),
        ("2001:db8::14", "2001:db8:1::7", 443),
        ("2001:db8::14", "2001:db8:1::7", 443),
    ]


def test_asa_names_in_an_address_place_are_no_addresses(tmp_path: Path) -> None:
    lines = [
        ASA_TS + "6-302014: Teardown TCP connection 6 for outside:webmail/443 to inside:10.20.3.15/52012 "
                 "duration 0:00:09 bytes 5120 TCP FINs",
        ASA_TS + "6-302016: Teardown UDP connection 7 for outside:ns10/53 to inside:WS-0142/53211 "
                 "duration 0:00:00 bytes 120",
        ASA_TS + '4-106023: Deny tcp src inside:ws-0142/52011 dst outside:203.0.113.7/443 by access-group '
                 '"inside_in" [0x0, 0x0]',
        ASA_TS + "6-106100: access-list inside_in denied tcp inside/ws-0143(52011) -> outside/203.0.113.7(443) "
                 "hit-cnt 1 first hit [0x0, 0x0]",
        # a name and an identity with a space (read by the full regular expressions)
        ASA_TS + "6-302014: Teardown TCP connection 8 for outside:203.0.113.7/443 to inside:ws-0144/52013"
                 "(GEMEENTE\\jan de vries) duration 0:00:09 bytes 5120 TCP FINs",
        # the URL's host stays; the name before it is no server address
        ASA_TS + "5-304001: 10.20.3.14 Accessed URL mirror:http://mirror.example.com/path/x",
    ]
    events, _, report = parse_lines(tmp_path / "asa.log", "cisco_asa", lines)
    assert report.parsed == 6
    got = [(e.get("src_ip"), e.get("src_host"), e.get("dst_ip"), e.get("host")) for e in _events(events)]
    assert got == [
        ("10.20.3.15", None, None, None),
        (None, "ws-0142", None, None),
        (None, "ws-0142", "203.0.113.7", None),
        (None, "ws-0143", "203.0.113.7", None),
        (None, "ws-0144", "203.0.113.7", None),
        ("10.20.3.14", None, None, "mirror.example.com"),
    ]
    assert _events(events)[4]["user_name"] == "GEMEENTE\\jan de vries"
