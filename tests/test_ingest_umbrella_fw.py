"""Cisco Umbrella cloud-delivered firewall and IP logs (S3 export): layouts of every version, what is and is not
taken from them, sniffing against the other Umbrella exports.

Lines are written from the documented field orders, with our own values:
- Cloud Firewall Log Formats: https://docs.umbrella.com/umbrella-user-guide/docs/cloud-firewall-log-formats
  (16 fields) and the v10 field list of https://docs.sse.cisco.com/sse-user-guide/docs/cloud-firewall-log-formats
  (first/last packet timestamp, packets sent/received, bytes sent/received, ...);
- IP logs: Elastic's cisco_umbrella pipeline field order (timestamp, identity, source ip, source port,
  destination ip, destination port, categories),
  https://github.com/elastic/integrations/blob/main/packages/cisco_umbrella/data_stream/log/elasticsearch/ingest_pipeline/default.yml
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.ingest import FORMATS, sniff
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings

USER = "Vries, Jan de (j.devries@gemeente-voorbeeld.nl)"


def csv(*values: str) -> str:
    return '"' + '","'.join(values) + '"'


def parse(tmp_path: Path, key: str, *lines: str) -> tuple[list[dict], list[dict], int]:
    path = tmp_path / f"{key}.csv"
    path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS[key], golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist(), report.ignored


# timestamp .. action: the first layout (14 fields)
HEAD = ("2026-04-07 10:22:31", "[4410023]", "Stadhuis-Tunnel", "CDFW Tunnel Device", "OUTBOUND", "6", "60",
        "10.40.2.17", "50514", "203.0.113.44", "443", "ams1.edc", "501", "ALLOW")
# fqdns .. bytes received (v10), then fw event id and later fields
COUNTS = ("chat.example-ai.test", "12", "1775557340", "1775557351", "40", "52", "61234", "1048576", "88-1", "NL",
          "", "", "", "", "", "[]", "", "", "", "7001234")


def test_every_firewall_layout_reads_the_same_flow(tmp_path: Path) -> None:
    lines = [csv(*HEAD), csv(*HEAD, "chat.example-ai.test", "12"), csv(*HEAD, *COUNTS),
             csv(*HEAD, *COUNTS, "192.0.2.44", "TRUE")]
    events, rejects, _ = parse(tmp_path, "umbrella_firewall", *lines)
    assert not rejects and len(events) == 4
    for event in events:
        assert (event["src_ip"], event["dst_ip"], event["dst_port"], event["network_protocol"], event["action"]) == (
            "10.40.2.17", "203.0.113.44", 443, "tcp", "allowed")
        assert event["ts"].isoformat() == "2026-04-07T10:22:31+00:00"  # UTC, whatever the configured zone
        assert event["host"] is None  # the fqdns list names no single destination: DNS answers name the flow
    # bytes only where the layout has the flow's counts: the older `packet size` is one packet, never bytes_out
    assert [(e["bytes_out"], e["bytes_in"], e["duration_ms"]) for e in events] == [
        (None, None, None), (None, None, None), (61234, 1048576, 11000), (61234, 1048576, 11000)]


def test_protocol_by_number_or_name_and_ports_only_where_the_protocol_has_them(tmp_path: Path) -> None:
    def line(protocol: str, port: str) -> str:
        return csv(*HEAD[:5], protocol, *HEAD[6:10], port, *HEAD[11:13], "BLOCK")
    events, rejects, _ = parse(tmp_path, "umbrella_firewall", line("17", "53"), line("UDP", "53"), line("1", ""),
                               line("ICMP", "0"), line("58", ""))
    assert not rejects
    assert [(e["network_protocol"], e["dst_port"], e["action"]) for e in events] == [
        ("udp", 53, "blocked"), ("udp", 53, "blocked"), ("icmp", None, "blocked"), ("icmp", None, "blocked"),
        ("ipv6-icmp", None, "blocked")]


def test_firewall_user_is_only_an_identity_typed_as_user(tmp_path: Path) -> None:
    def line(identities: str, types: str) -> str:
        return csv(*HEAD[:2], identities, types, *HEAD[4:])
    events, rejects, _ = parse(
        tmp_path, "umbrella_firewall",
        line("Stadhuis-Tunnel", "CDFW Tunnel Device"),
        line("Stadhuis-Tunnel,j.devries@gemeente-voorbeeld.nl", "CDFW Tunnel Device,AD Users"),
        line(USER, "AD Users"),  # one identity typed as user: taken whole, comma and all
        line(f"Stadhuis-Tunnel,{USER}", "CDFW Tunnel Device,AD Users"),  # lists no longer pair up: no guess
        line("BZ-LT-0042", "Roaming Computers"))
    assert not rejects
    assert [e["user_name"] for e in events] == [None, "j.devries@gemeente-voorbeeld.nl", USER, None, None]


def test_firewall_user_follows_each_lines_own_pair_of_identities_and_types(tmp_path: Path) -> None:
    """The user is decided once per distinct (identities, types) pair: the same identities with other types, the
    same types with other identities, interleaved and repeated, each line keeps its own pair's answer."""
    def line(identities: str, types: str) -> str:
        return csv(*HEAD[:2], identities, types, *HEAD[4:])
    pairs = [("a.smit@gemeente-voorbeeld.nl", "AD Users"), ("a.smit@gemeente-voorbeeld.nl", "Roaming Computers"),
             ("b.bakker@gemeente-voorbeeld.nl", "AD Users"), ("", "AD Users"),
             ("Stadhuis-Tunnel,b.bakker@gemeente-voorbeeld.nl", "CDFW Tunnel Device,AD Users")]
    order = [0, 1, 2, 3, 4, 2, 1, 0, 4, 3, 0]
    events, rejects, _ = parse(tmp_path, "umbrella_firewall", *(line(*pairs[at]) for at in order))
    assert not rejects
    users = ["a.smit@gemeente-voorbeeld.nl", None, "b.bakker@gemeente-voorbeeld.nl", None,
             "b.bakker@gemeente-voorbeeld.nl"]
    assert [e["user_name"] for e in events] == [users[at] for at in order]


def test_spaced_and_unquoted_lines_and_the_header(tmp_path: Path) -> None:
    spaced = csv(*HEAD).replace('","CDFW', '", "CDFW').replace('","443"', '", "443"')
    blanks = csv(*HEAD).replace('","OUTBOUND', '"  ,\t"OUTBOUND')  # other runs of blanks
    bare = ",".join(HEAD)
    header = csv("timestamp", "origin ids", "identities", "identity type", "direction", "protocol", "packet size",
                 "source ip", "source port", "destination ip", "destination port", "data center", "rule id",
                 "action")
    events, rejects, ignored = parse(tmp_path, "umbrella_firewall", header, spaced, blanks, bare)
    assert ignored == 1 and not rejects
    assert [(e["dst_ip"], e["dst_port"], e["action"]) for e in events] == [("203.0.113.44", 443, "allowed")] * 3


def test_bad_firewall_lines_are_counted_rejects(tmp_path: Path) -> None:
    events, rejects, _ = parse(
        tmp_path, "umbrella_firewall",
        csv("07-04-2026 10:22:31", *HEAD[1:]),
        csv(*HEAD[:9]),
        csv(*HEAD[:9], "", *HEAD[10:]),
        'garbage "with a quote", and more',
        csv(*HEAD))
    assert len(events) == 1
    assert [r["reason"] for r in rejects] == [
        "timestamp is not yyyy-mm-dd hh:mm:ss: 07-04-2026 10:22:31",
        "expected at least 14 columns (Umbrella cloud firewall layout), found 9",
        "empty destination IP",
        "not a quoted CSV line"]


IP_LINE = ("2026-04-07 10:30:02", "BZ-LT-0042", "10.40.2.18", "50611", "203.0.113.45", "443", "Generative AI")


def test_ip_log_reads_addresses_ports_and_categories_and_no_user(tmp_path: Path) -> None:
    no_port = (*IP_LINE[:3], "0", IP_LINE[4], "0", "Malware,Phishing")
    events, rejects, _ = parse(tmp_path, "umbrella_ip", csv(*IP_LINE), csv(*no_port), csv(*IP_LINE[:4]))
    assert [(e["src_ip"], e["dst_ip"], e["dst_port"], e["vendor_category"]) for e in events] == [
        ("10.40.2.18", "203.0.113.45", 443, "Generative AI"), ("10.40.2.18", "203.0.113.45", None, "Malware,Phishing")]
    for event in events:
        assert event["action"] == "unknown" and event["user_name"] is None  # no action, no identity type
        assert event["bytes_out"] is None and event["bytes_in"] is None and event["network_protocol"] is None
        assert event["ts"].isoformat() == "2026-04-07T10:30:02+00:00"
    assert [r["reason"] for r in rejects] == ["expected at least 7 columns (Umbrella IP layout), found 4"]


def test_sniffing_tells_the_umbrella_exports_apart(tmp_path: Path) -> None:
    dns = csv("2026-04-07 10:30:02", "BZ-LT-0042", "BZ-LT-0042", "10.40.2.18", "198.51.100.23", "Allowed",
              "1 (A)", "NOERROR", "chat.example-ai.test.", "Generative AI", "Roaming Computers", "Roaming Computers",
              "")
    proxy = csv("2026-04-07 10:30:02", "BZ-LT-0042", "10.40.2.18", "198.51.100.23", "203.0.113.45", "text/html",
                "ALLOWED", "https://chat.example-ai.test/", "", "Mozilla/5.0", "200", "512", "2048")
    cases = {"umbrella_firewall": csv(*HEAD, *COUNTS), "umbrella_ip": csv(*IP_LINE), "umbrella_dns": dns,
             "umbrella_proxy": proxy}
    for key, line in cases.items():
        assert sniff([line] * 3).name == key
    assert sniff([",".join(HEAD)] * 3).name == "umbrella_firewall"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet=st.sampled_from('"," ,0123456789-:ab\t'), max_size=60), min_size=1, max_size=8))
def test_arbitrary_lines_never_crash_and_are_all_accounted_for(tmp_path: Path, lines: list[str]) -> None:
    for key in ("umbrella_firewall", "umbrella_ip"):
        parse(tmp_path, key, *(line.replace("\n", " ") for line in lines))
