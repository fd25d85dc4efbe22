"""Conformance of the firewall formats with layouts seen in public real-world test logs (Elastic's integration
tests and others), each test line written here from the vendor's documented layout.

Cisco ASA: "Cisco Secure Firewall ASA Series Syslog Messages" (106023: `Deny protocol src
interface_name:source_address/source_port [(idfw_user|FQDN_string, sg_info)] dst interface_name:dest_address/
dest_port [(idfw_user|FQDN_string, sg_info)] ... by access_group acl_ID`; 302014 sides `interface:real-address/
real-port [(idfw_user)]`), and `logging device-id`, which puts the device id and ` : ` before the message.
"""

from __future__ import annotations

from pathlib import Path

from detector.ingest import sniff
from tests.test_ingest_firewall import parse, utc

ASA = "Nov 18 2025 09:03:04 asa-stadhuis : %ASA-"


def test_asa_106023_side_with_a_name_or_identity_after_the_port(tmp_path: Path) -> None:
    events, rejects, report = parse(
        tmp_path, "cisco_asa",
        ASA + '4-106023: Deny tcp src inside:10.20.3.14/52011 dst outside:203.0.113.7/443(chat.example.com) '
              'by access-group "inside_in" [0x0, 0x0]',
        ASA + '4-106023: Deny tcp src inside:10.20.3.15/52012(GEMEENTE\\jdevries, 12:Medewerkers) '
              'dst outside:203.0.113.8/443 by access-group "inside_in" [0x0, 0x0]',
        ASA + '4-106023: Deny udp src inside:10.20.3.16/52013(12:Medewerkers) dst outside:203.0.113.9/53 '
              'by access-group "inside_in" [0x0, 0x0]',
    )
    assert not rejects and report.parsed == 3
    assert [(e["src_ip"], e["user_name"], e["dst_ip"], e["dst_port"], e["action"]) for e in events] == [
        ("10.20.3.14", None, "203.0.113.7", 443, "blocked"),
        ("10.20.3.15", "GEMEENTE\\jdevries", "203.0.113.8", 443, "blocked"),
        ("10.20.3.16", None, "203.0.113.9", 53, "blocked"),  # a security group tag is no user
    ]


def test_asa_teardown_security_group_tag_is_no_user(tmp_path: Path) -> None:
    events, rejects, _ = parse(
        tmp_path, "cisco_asa",
        ASA + "6-302014: Teardown TCP connection 5 for outside:203.0.113.7/443 to inside:10.20.3.14/52011"
              "(12:Medewerkers) duration 0:00:09 bytes 5120 TCP FINs",
        ASA + "6-302014: Teardown TCP connection 6 for outside:203.0.113.7/443 to inside:10.20.3.15/52012"
              "(GEMEENTE\\jdevries, 12:Medewerkers) duration 0:00:09 bytes 5120 TCP FINs",
        ASA + "6-302016: Teardown UDP connection 7 for outside:203.0.113.9/53 to inside:10.20.3.16/53"
              "(12:Medewerkers) duration 0:00:00 bytes 120",
    )
    assert not rejects
    assert [(e["src_ip"], e["user_name"], e["dst_ip"], e["dst_port"]) for e in events] == [
        ("10.20.3.14", None, "203.0.113.7", 443),
        ("10.20.3.15", "GEMEENTE\\jdevries", "203.0.113.7", 443),
        # equal ports and no user: the second side is the client (a tag does not mark it)
        ("10.20.3.16", None, "203.0.113.9", 53),
    ]


def test_asa_relay_time_before_a_device_id_and_space_colon(tmp_path: Path) -> None:
    # `logging device-id` without `logging timestamp`, behind a relay that writes its own BSD time: the line has
    # no `tag:` syslog header (a space before the colon), so the time at its start is the one there is.
    teardown = ("6-302014: Teardown TCP connection 5 for outside:203.0.113.7/443 to inside:10.20.3.14/52011 "
                "duration 0:00:09 bytes 5120 TCP FINs")
    deny = '4-106023: Deny tcp src inside:10.20.3.14/52011 dst outside:203.0.113.7/443(chat.example.com) by ' \
           'access-group "inside_in" [0x0, 0x0]'
    events, rejects, report = parse(
        tmp_path, "cisco_asa",
        "Nov 18 09:03:04 10.1.1.1 : %ASA-" + teardown,  # read in Arrow
        "<166>Nov  8 09:03:05 asa-stadhuis : %ASA-" + teardown,
        "Nov 18 09:03:06 asa-stadhuis : %ASA-" + deny,  # read by the regular expressions
        "LOCAL4.WARNING: asa-stadhuis %ASA-" + teardown,  # no time at all
        "Nov 18 09:03:07.250: %ASA-" + teardown,  # a time with milliseconds, then the message: no host, no tag
    )
    assert [utc(e) for e in events] == [
        "2025-11-18T08:03:04Z", "2025-11-08T08:03:05Z", "2025-11-18T08:03:06Z", "2025-11-18T08:03:07.250000Z"]
    assert [r["reason"] for r in rejects] == ["no timestamp"] and report.parsed == 4


# --- CEF --------------------------------------------------------------------------------------------------
# FortiOS log reference, "Traffic/Webfilter log support for CEF": `<time> <host> CEF: 0|Fortinet|Fortigate|...`
# (a space after `CEF:`), traffic `act=close` for a session that ended; Forcepoint NGFW: `act=Refuse` and
# `act=Discard` for connections it stopped.

def test_cef_with_a_space_before_the_version_is_recognised(tmp_path: Path) -> None:
    lines = [
        "Nov 18 09:03:04 fgt-stadhuis CEF: 0|Fortinet|Fortigate|v7.2.4|13056|utm:webfilter ftgd_blk blocked|4|"
        "src=10.20.3.14 spt=52011 dst=203.0.113.7 dpt=443 app=HTTPS dhost=chat.example.com act=blocked "
        "request=/c/new out=512 in=0",
        "Nov 18 09:03:05 fgt-stadhuis CEF: 0|Fortinet|Fortigate|v7.2.4|00013|traffic:forward close|3|"
        "src=10.20.3.14 spt=52012 dst=203.0.113.8 dpt=443 proto=6 act=close out=3652 in=146668",
    ]
    assert sniff(lines).name == "cef"
    events, rejects, _ = parse(tmp_path, "cef", *lines)
    assert not rejects
    assert [(e["host"], e["dst_ip"], e["action"], e["bytes_out"]) for e in events] == [
        ("chat.example.com", "203.0.113.7", "blocked", 512), (None, "203.0.113.8", "allowed", 3652)]


def test_cef_firewall_decisions(tmp_path: Path) -> None:
    head = "Nov 18 09:03:04 smc CEF:0|FORCEPOINT|Firewall|6.10|70019|Connection_Discarded|0|"
    decisions = ["Discard", "Refuse", "Allow", "timeout", "server-rst", "Terminate"]
    events, _, _ = parse(tmp_path, "cef", *(
        f"{head}src=10.20.3.14 dst=203.0.113.7 spt=52011 dpt=443 proto=6 act={act}" for act in decisions))
    assert [e["action"] for e in events] == ["blocked", "blocked", "allowed", "allowed", "allowed", "unknown"]


def test_cef_citrix_application_firewall(tmp_path: Path) -> None:
    # Citrix NetScaler (ADC) application firewall CEF: `method=` for the request method, `act=blocked`,
    # `act=not blocked` (a violation let through: learning or log-only) or `act=transformed`.
    head = "Nov 18 09:03:04 adc CEF:0|Citrix|NetScaler|NS13.1|APPFW|APPFW_STARTURL|6|src=10.20.3.14 spt=52011 "
    events, rejects, _ = parse(tmp_path, "cef", *(
        f"{head}method={method} request=https://chat.example.com/api/upload?id\\=7 msg=Disallow Illegal URL. act={act}"
        for method, act in (("POST", "blocked"), ("GET", "not blocked"), ("GET", "transformed"))))
    assert not rejects
    assert [(e["http_method"], e["host"], e["url_path"], e["action"]) for e in events] == [
        ("POST", "chat.example.com", "/api/upload", "blocked"),
        ("GET", "chat.example.com", "/api/upload", "allowed"),
        ("GET", "chat.example.com", "/api/upload", "unknown"),
    ]


# --- LEEF -------------------------------------------------------------------------------------------------
# IBM QRadar, "LEEF events": a syslog header `<13>1 2019-01-18T11:07:53.520Z 192.168.1.1` before the LEEF header;
# a LEEF 1.0 header written `LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345| ` (a space after the last bar); a
# LEEF 2.0 delimiter as a character or its hex value `x5E` / `0x5E` (`xa6`: the broken bar).

def test_leef_headers_and_delimiters_as_ibm_writes_them(tmp_path: Path) -> None:
    events, rejects, _ = parse(
        tmp_path, "leef",
        "<13>1 2025-11-18T08:03:04.520Z 192.168.1.1 LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.20.3.1^"
        "dst=203.0.113.1^dstPort=443^usrName=jdevries",
        "Nov 18 09:03:04 host1 LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345| src=10.20.3.2\tdst=203.0.113.2",
        "Nov 18 09:03:04 host1 LEEF:2.0|Vendor|Product|1.0|41|x5E|src=10.20.3.3^dst=203.0.113.3",
        "Nov 18 09:03:04 host1 LEEF:2.0|Vendor|Product|1.0|41|0x5e|src=10.20.3.4^dst=203.0.113.4",
        "Nov 18 09:03:04 host1 LEEF:2.0|Vendor|Product|1.0|41|xa6|src=10.20.3.5\u00a6dst=203.0.113.5",
    )
    assert not rejects
    assert [(e["src_ip"], e["dst_ip"]) for e in events] == [(f"10.20.3.{n}", f"203.0.113.{n}") for n in range(1, 6)]
    assert (utc(events[0]), events[0]["dst_port"], events[0]["user_name"]) == ("2025-11-18T08:03:04.520000Z", 443,
                                                                               "jdevries")


# --- Cisco Firepower (FTD) connection events -------------------------------------------------------------
# Cisco "Firepower Threat Defense Syslog Messages" 430002 (connection beginning) / 430003 (end), fields as in
# "Connection and Security-Related Connection Event Fields": `Key: value, Key: value, ...`.

def test_ftd_connection_events(tmp_path: Path) -> None:
    head = "Nov 18 09:03:04 ftd : %FTD-1-"
    flow = ("SrcIP: 10.20.3.14, DstIP: 203.0.113.7, SrcPort: 52011, DstPort: 443, Protocol: tcp, "
            "IngressZone: LAN, EgressZone: WAN, User: GEMEENTE\\jdevries, ApplicationProtocol: HTTPS")
    events, rejects, report = parse(
        tmp_path, "cisco_asa",
        head + "430002: AccessControlRuleAction: Allow, " + flow + ", InitiatorBytes: 517, ResponderBytes: 0",
        head + "430003: AccessControlRuleAction: Trust, " + flow + ", WebApplication: ChatGPT, URLCategory: "
               "Generative AI, ConnectionDuration: 12, InitiatorBytes: 9000, ResponderBytes: 120000, "
               "URL: https://chat.example.com/c/1",
        head + "430002: AccessControlRuleAction: Interactive Block, " + flow.replace("GEMEENTE\\jdevries", "Not Found")
               + ", ReferencedHost: chat.example.com:443, HTTPResponse: 302",
        head + "430003: AccessControlRuleAction: Retry, " + flow,
    )
    assert not rejects and (report.parsed, report.ignored) == (3, 1)  # an allowed beginning is not counted
    first, second, third = events
    assert (first["user_name"], first["host"], first["host_source"], first["url_path"], first["action"]) == (
        "GEMEENTE\\jdevries", "chat.example.com", "url", "/c/1", "allowed")
    assert (first["bytes_out"], first["bytes_in"], first["duration_ms"], first["dst_port"]) == (9000, 120000,
                                                                                                12000, 443)
    assert (first["vendor_app"], first["vendor_category"]) == ("ChatGPT", "Generative AI")
    assert (second["user_name"], second["host"], second["host_source"], second["http_status"], second["action"]) == (
        None, "chat.example.com", "http_host", 302, "blocked")
    assert third["action"] == "unknown"
