"""Conformance pass 13b: layouts met in other projects' public sample logs (elastic/integrations' Azure, Meraki,
SonicWall, WatchGuard, Kea and Windows Firewall pipeline tests, SEKOIA-IO intake-formats), written here from the
vendors' documentation: each test says which documented shape it stands for. No line is copied from a sample."""

from __future__ import annotations

import json
from pathlib import Path

from detector.ingest import sniff
from tests.golden import parse_lines


def parse(tmp_path: Path, key: str, *lines: str) -> tuple[list[dict], list[dict]]:
    events, rejects, report = parse_lines(tmp_path / f"{key}.log", key, lines)
    assert report.lines == len(lines)
    return sorted(events.to_pylist(), key=lambda e: e["line_no"]), rejects.to_pylist()


def utc(event: dict) -> str:
    return event["ts"].isoformat().replace("+00:00", "Z")


# --- Azure Firewall: a record's time in .NET's US form -----------------------------------------------------------
# Legacy network rule record as a diagnostic setting exports it (https://learn.microsoft.com/azure/firewall/
# firewall-diagnostics: category AzureFirewallNetworkRule, properties.msg `TCP request from ip:port to ip:port.
# Action: Deny. ...`). Azure services are to write `time` in ISO 8601 UTC, yet some write `11/14/2025 1:48:53 AM`
# (month first, 12-hour clock; https://github.com/elastic/integrations/issues/15977, and Elastic's firewall_logs
# pipeline test of time formats), which was rejected 'time not understood'.
def azure_record(time: str) -> str:
    return json.dumps({
        "category": "AzureFirewallNetworkRule", "operationName": "AzureFirewallNetworkRuleLog", "time": time,
        "resourceId": "/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG-NET/PROVIDERS/MICROSOFT.NETWORK/AZUREFIREWALLS/FW-GEM",
        "properties": {"msg": "TCP request from 10.30.4.7:50112 to 104.18.33.45:443. Action: Deny. Policy: gem-pol. "
                              "Rule Collection Group: Egress. Rule Collection: BlockAI. Rule: openai"}})


def test_azure_firewall_reads_a_us_form_time_as_utc(tmp_path: Path) -> None:
    times = ("6/3/2025 2:05:09 PM", "06/03/2025 02:05:09 PM", "6/3/2025 14:05:09", "6/3/2025 4:05:09 PM +02:00",
             "12/3/2025 12:05:09 AM", "2025-06-03T14:05:09Z")
    events, rejects = parse(tmp_path, "azure_firewall", *(azure_record(t) for t in times))
    assert rejects == []
    assert [utc(e) for e in events] == ["2025-06-03T14:05:09Z"] * 4 + ["2025-12-03T00:05:09Z", "2025-06-03T14:05:09Z"]
    assert {(e["src_ip"], e["dst_ip"], e["dst_port"], e["action"]) for e in events} == {
        ("10.30.4.7", "104.18.33.45", 443, "blocked")}


def test_azure_firewall_still_rejects_a_time_it_cannot_read(tmp_path: Path) -> None:
    # Day first (13 is no month) or words: no reading is guessed, the line stays a counted reject.
    events, rejects = parse(tmp_path, "azure_firewall", azure_record("13/06/2025 14:05:09"), azure_record("yesterday"))
    assert events == []
    assert [r["reason"] for r in rejects] == ["time not understood: 13/06/2025 14:05:09",
                                             "time not understood: yesterday"]
    assert sniff([azure_record("6/3/2025 2:05:09 PM")] * 3).name == "azure_firewall"


# --- PAN-OS: no port for a protocol without ports -----------------------------------------------------------------
# TRAFFIC log fields (https://docs.paloaltonetworks.com/pan-os/10-1/pan-os-admin/monitoring/use-syslog-for-monitoring/
# syslog-field-descriptions/traffic-log-fields): ..., Source Port, Destination Port, NAT Source Port, NAT Destination
# Port, Flags, Protocol, Action, Bytes, Bytes Sent, Bytes Received, ... A ping's session is logged with port 0
# (Elastic's panw pipeline test of TRAFFIC records shows icmp sessions so): there is no destination port, as the
# other firewall formats give ICMP (null), where dst_port was 0.
def panos_traffic(subtype: str, app: str, sport: int, dport: int, protocol: str) -> str:
    return (f"Jun  5 10:00:02 PA-3220 1,2024/06/05 10:00:02,013201000123,TRAFFIC,{subtype},2562,2024/06/05 10:00:01,"
            f"10.40.2.31,104.18.32.47,198.51.100.7,104.18.32.47,internet-out,gemeente\\jdevries,,{app},vsys1,lan,wan,"
            f"ethernet1/2,ethernet1/1,fwd-log,,81231,1,{sport},{dport},31022,{dport},0x400053,{protocol},deny,1184,"
            "592,592,8,2024/06/05 10:00:00,0,any,,7301,0x0,10.0.0.0-10.255.255.255,United States,,4,4,policy-deny,"
            "0,0,0,0,,PA-3220,from-policy,,,0,,0,,N/A,0,0,0,0")


def test_panos_icmp_session_has_no_destination_port(tmp_path: Path) -> None:
    events, rejects = parse(tmp_path, "panos", panos_traffic("deny", "ping", 0, 0, "icmp"),
                            panos_traffic("deny", "ssl", 50122, 443, "tcp"), panos_traffic("deny", "quic", 0, 0, "udp"))
    assert rejects == []
    assert [(e["network_protocol"], e["dst_port"], e["action"], e["src_ip"], e["user_name"]) for e in events] == [
        ("icmp", None, "blocked", "10.40.2.31", "gemeente\\jdevries"),
        ("tcp", 443, "blocked", "10.40.2.31", "gemeente\\jdevries"),
        ("udp", 0, "blocked", "10.40.2.31", "gemeente\\jdevries"),   # a port protocol keeps what was logged
    ]
