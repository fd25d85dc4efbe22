"""Conformance of Sophos Firewall, PAN-OS, Check Point and Cisco ASA with layouts seen in public real-world logs (second
pass: Splunk add-ons' samples, syslog-ng and Logstash pattern tests, Wazuh decoders' notes, parser projects' fixtures),
each test line written here from the vendor's documented layout (never copied from a sample).

Sophos Firewall: `log_id` is twelve digits (Sophos "Syslog descriptions": log type, component, subtype, severity,
message ID); some SFOS 19.5+ firewalls write it in quotes (`log_id="010101600001"`) like their other string fields.
"""

from __future__ import annotations

from pathlib import Path

from detector.ingest import sniff
from tests.golden import parse_lines


def _events(table) -> list[dict]:
    return [{k: v for k, v in row.items() if v is not None and k not in ("file_id", "source_kind", "log_format")}
            for row in table.to_pylist()]


SFOS_HEAD = ('Nov 18 09:03:04 fw01 device_name="SFW" timestamp="2025-11-18T09:03:04+0100" device_model="XGS2300" '
             'device_serial_id="X23000ABCDEF01" ')


def test_sophos_quoted_log_id_is_recognised(tmp_path: Path) -> None:
    lines = [
        SFOS_HEAD + 'log_id="050901616001" log_type="Content Filtering" log_component="HTTP" log_subtype="Allowed" '
                    'log_version=1 severity="Information" fw_rule_id="7" user_name="j.devries" '
                    'http_category="Generative AI" url="https://chat.example.com/c/1" src_ip="10.20.1.15" '
                    'dst_ip="203.0.113.7" protocol="TCP" src_port=51022 dst_port=443 bytes_sent=1800 '
                    'bytes_received=32000 domain="chat.example.com" http_status="200"',
        # the firewall's other log types, in the same layout: Sophos, but no web traffic (ignored)
        SFOS_HEAD + 'log_id="010101600001" log_type="Firewall" log_component="Firewall Rule" '
                    'log_subtype="Allowed" log_version=1 severity="Information" fw_rule_id="7" src_ip="10.20.1.15" '
                    'dst_ip="203.0.113.7" protocol="TCP" src_port=51022 dst_port=443',
        SFOS_HEAD + 'log_id="011902605151" log_type="Firewall" log_component="IP Spoof" log_subtype="Denied" '
                    'log_version=1 severity="Information" fw_rule_id="N/A" src_ip="169.254.9.9" dst_ip="203.0.113.8" '
                    'protocol="TCP" src_port=44100 dst_port=443',
    ]
    assert sniff(lines).name == "sophos_xg"
    assert sniff(lines[1:]).name == "sophos_xg"  # a file of its firewall logs alone is still Sophos's
    events, _, report = parse_lines(tmp_path / "sfos.log", "sophos_xg", lines)
    assert (report.parsed, report.rejected, report.ignored) == (1, 0, 2)
    (event,) = _events(events)
    assert (event["host"], event["url_path"], event["src_ip"], event["dst_port"], event["user_name"],
            event["bytes_out"], event["bytes_in"], event["action"], event["ts"].isoformat()) == (
        "chat.example.com", "/c/1", "10.20.1.15", 443, "j.devries", 1800, 32000, "allowed",
        "2025-11-18T08:03:04+00:00")


ASA = "<166>Nov 18 2025 09:03:04 asa-stadhuis : %ASA-6-"


def test_asa_teardown_ending_in_the_aaa_user_names_the_client(tmp_path: Path) -> None:
    # Cisco's 302014 / 302016: `... duration hh:mm:ss bytes bytes [reason [from teardown-initiator]] [(user)]`,
    # user "the AAA name of the user" (cut-through proxy authentication)
    lines = [
        ASA + "302014: Teardown TCP connection 11 for outside:203.0.113.7/443 to inside:10.20.3.14/52011 "
              "duration 0:00:09 bytes 5120 TCP FINs from inside (jdevries)",
        ASA + "302014: Teardown TCP connection 12 for outside:203.0.113.7/443 to inside:10.20.3.15/52012 "
              "duration 0:00:09 bytes 5120 TCP Reset-O (pbakker)",
        ASA + "302016: Teardown UDP connection 13 for outside:203.0.113.9/53 to inside:10.20.3.16/52013 "
              "duration 0:00:00 bytes 120 (mjansen)",
        # an identity-firewall user on the client's side stays the user
        ASA + "302014: Teardown TCP connection 14 for outside:203.0.113.7/443 to inside:10.20.3.17/52014"
              "(GEMEENTE\\jdevries) duration 0:00:09 bytes 5120 TCP FINs (jdevries)",
        # lines the regular expression reads (an interface with a prefix, an identity with a space)
        ASA + "302014: Teardown TCP connection 15 for outside:203.0.113.7/443 to v1:inside:10.20.3.18/52015 "
              "duration 0:00:09 bytes 5120 TCP FINs (avisser)",
        ASA + "302014: Teardown TCP connection 16 for outside:203.0.113.7/443 to inside:10.20.3.19/52016"
              "(GEMEENTE\\Jan de Vries) duration 0:00:09 bytes 5120 TCP FINs",
        # no user: a reason alone, or nothing after the byte count
        ASA + "302014: Teardown TCP connection 17 for outside:203.0.113.7/443 to inside:10.20.3.20/52017 "
              "duration 0:00:09 bytes 5120 TCP FINs from inside",
        ASA + "302014: Teardown TCP connection 18 for outside:203.0.113.7/443 to inside:10.20.3.21/52018 "
              "duration 0:00:09 bytes 5120",
    ]
    events, _, report = parse_lines(tmp_path / "asa.log", "cisco_asa", lines)
    assert (report.parsed, report.rejected, report.ignored) == (8, 0, 0)
    assert [(e["src_ip"], e.get("user_name"), e["dst_ip"], e["dst_port"]) for e in _events(events)] == [
        ("10.20.3.14", "jdevries", "203.0.113.7", 443),
        ("10.20.3.15", "pbakker", "203.0.113.7", 443),
        ("10.20.3.16", "mjansen", "203.0.113.9", 53),
        ("10.20.3.17", "GEMEENTE\\jdevries", "203.0.113.7", 443),
        ("10.20.3.18", "avisser", "203.0.113.7", 443),
        ("10.20.3.19", "GEMEENTE\\Jan de Vries", "203.0.113.7", 443),
        ("10.20.3.20", None, "203.0.113.7", 443),
        ("10.20.3.21", None, "203.0.113.7", 443),
    ]


SFOS17 = ('<30>device="SFW" date=2025-11-18 time=17:03:04 timezone="{zone}" device_name="XG230" device_id=C2300ABCDEF01 '
          'log_id=050901616001 log_type="Content Filtering" log_component="HTTP" log_subtype="Allowed" status="" '
          'priority=Information fw_rule_id=2 user_name="jdevries" category="Generative AI" '
          'url="https://chat.example.com/" src_ip=10.20.1.15 dst_ip=203.0.113.7 protocol="TCP" src_port=51022 '
          'dst_port=443 sent_bytes=900 recv_bytes=4000 domain=chat.example.com{extra}')


def test_sophos_sfos17_numeric_time_zone_is_the_offset(tmp_path: Path) -> None:
    # SFOS 17-18's `timezone` is the zone's abbreviation, which for zones without one is their offset ("+08")
    zones = ["+08", "+0530", "-03", "GMT", "CET"]
    lines = [SFOS17.format(zone=zone, extra="") for zone in zones]
    # the same through the regular-expression reading (a stray quote mark in a value)
    lines += [SFOS17.format(zone=zone, extra=' reason="a"b"') for zone in zones]
    events, _, report = parse_lines(tmp_path / "sfos17.log", "sophos_xg", lines)
    assert (report.parsed, report.rejected, report.ignored) == (10, 0, 0)
    expected = ["2025-11-18T09:03:04+00:00", "2025-11-18T11:33:04+00:00", "2025-11-18T20:03:04+00:00",
                "2025-11-18T17:03:04+00:00",
                "2025-11-18T16:03:04+00:00"]  # CET: ambiguous, read in the configured zone (Europe/Amsterdam)
    assert [e["ts"].isoformat() for e in _events(events)] == expected * 2
