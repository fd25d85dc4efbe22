"""Azure Firewall logs (format azure_firewall): legacy AzureDiagnostics `msg` records, structured AZFW* records, Log
Analytics / Sentinel exports, Event Hubs messages, and a pretty-printed storage-account file.

Lines written from Microsoft's documentation: "Monitor Azure Firewall" / "Azure Firewall logs and metrics"
(https://learn.microsoft.com/azure/firewall/firewall-diagnostics: the legacy `msg` sentences), "Azure Structured
Firewall Logs" (https://learn.microsoft.com/azure/firewall/firewall-structured-logs) and the AZFW* table references
(https://learn.microsoft.com/azure/azure-monitor/reference/tables/azfwapplicationrule and its siblings: Fqdn,
TargetUrl "only available for HTTP or TLS inspected HTTPS requests", SourceIp, DestinationIp, DestinationPort,
Protocol, Action, QueryName, QueryType, ResponseCode); the DNS proxy line is CoreDNS's log plugin format
(https://coredns.io/plugins/log/). Layout variants (`HTTP  request` with two spaces, `ICMP Type=8`, an empty port
`ip:`, `was DNAT'ed to`) as Elastic's azure firewall_logs pipeline reads them
(https://github.com/elastic/integrations/tree/main/packages/azure/data_stream/firewall_logs).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.ingest import FORMATS, sniff_scores
from detector.ingest.azure_firewall import sniff
from detector.ingest.pipeline import parse_file
from detector.ingest.reader import head_lines, read_head
from tests.golden import golden_settings, parse_lines, samples

RESOURCE = "/SUBSCRIPTIONS/00000000-0000-4000-8000-000000000001/RESOURCEGROUPS/RG-HUB/PROVIDERS/MICROSOFT.NETWORK/" \
           "AZUREFIREWALLS/AFW-TEST"
FIELDS = ("src_ip", "host", "host_source", "dst_ip", "dst_port", "network_protocol", "url_path", "action")


def parse(tmp_path: Path, *lines: str) -> tuple[list[dict], list[dict], int]:
    events, rejects, report = parse_lines(tmp_path / "firewall.json", "azure_firewall", lines)
    return events.to_pylist(), rejects.to_pylist(), report.ignored


def legacy(category: str, msg: str, time: str = "2026-11-02T08:00:00.1234567Z") -> str:
    operation = category + "Log"
    return json.dumps({"category": category, "time": time, "resourceId": RESOURCE, "operationName": operation,
                       "properties": {"msg": msg}})


def structured(category: str, time: str = "2026-11-02T09:00:00.0000000Z", **properties: object) -> str:
    return json.dumps({"time": time, "resourceId": RESOURCE, "category": category, "properties": properties})


def picked(event: dict) -> tuple:
    return tuple(event[field] for field in FIELDS)


def test_legacy_rule_messages_of_every_layout(tmp_path: Path) -> None:
    app, net = "AzureFirewallApplicationRule", "AzureFirewallNetworkRule"
    events, rejects, _ = parse(
        tmp_path,
        legacy(app, "HTTPS request from 10.1.0.4:54321 to chatgpt.com:443. Action: Allow. Policy: p. Rule Collection "
                    "Group: g. Rule Collection: c. Rule: r. Web Category: ComputersAndTechnology"),
        legacy(app, "HTTP  request from 10.1.0.4:54322 to intranet.example.nl:80. Url: intranet.example.nl/a/b?x=1. "
                    "Action: Deny. No rule matched. Proceeding with default action"),
        legacy(app, "HTTPS request from 10.1.0.4:54323. Action: Deny. Reason: SNI TLS extension was missing."),
        legacy(net, "TCP request from 10.1.0.4:54324 to 104.18.32.47:443. Action: Deny. "),
        legacy(net, "ICMP Type=8 request from 10.1.0.4 to 9.9.9.9. Action: Allow. "),
        legacy(net, "TCP request from 203.0.113.9:40000 to 20.1.2.3:3389 was DNAT'ed to 10.1.0.9:3389"),
        legacy(net, "TCP request from 10.1.0.4:54325 to 198.51.100.7:443. Action: drop. Signature: 2027758. IDS: x. "
                    "Priority: 2. Classification: y"),
        legacy(net, "ICMP request from 10.1.0.4: to 198.51.100.7:. Action: alert. Signature: 2100366. IDS: ping"),
    )
    assert not rejects
    assert [picked(e) for e in events] == [
        ("10.1.0.4", "chatgpt.com", "sni", None, 443, "https", None, "allowed"),
        ("10.1.0.4", "intranet.example.nl", "url", None, 80, "http", "/a/b", "blocked"),
        ("10.1.0.4", None, "none", None, None, "https", None, "blocked"),  # no SNI: no destination at all
        ("10.1.0.4", None, "none", "104.18.32.47", 443, "tcp", None, "blocked"),
        ("10.1.0.4", None, "none", "9.9.9.9", None, "icmp", None, "allowed"),
        ("203.0.113.9", None, "none", "20.1.2.3", 3389, "tcp", None, "allowed"),  # a DNAT made: let through
        ("10.1.0.4", None, "none", "198.51.100.7", 443, "tcp", None, "blocked"),
        ("10.1.0.4", None, "none", "198.51.100.7", None, "icmp", None, "allowed"),  # IDPS alert mode: let through
    ]
    assert events[0]["vendor_category"] == "ComputersAndTechnology"
    assert events[0]["ts"].isoformat() == "2026-11-02T08:00:00.123456+00:00"


def test_legacy_dns_proxy_requests_are_firewall_events_named_by_their_query(tmp_path: Path) -> None:
    dns = "AzureFirewallDnsProxy"
    events, rejects, ignored = parse(
        tmp_path,
        legacy(dns, "DNS Request: 10.1.0.4:61248 - 6513 AAAA IN claude.ai. udp 43 false 512 NOERROR qr,rd,ra 145 "
                    "0.002846368s"),
        legacy(dns, " Error: 2 wpad.example.local. A: read udp 10.1.0.100:49126->168.63.129.16:53: i/o timeout"),
        legacy(dns, "DNS Request: 10.1.0.4:61249 - 6514 A IN"),
    )
    assert ignored == 1  # the proxy's own upstream error: no client query
    assert [r["line_no"] for r in rejects] == [3]
    assert rejects[0]["reason"] == "message not in a known Azure Firewall layout"
    (event,) = events
    assert (event["host"], event["host_source"], event["src_ip"], event["dns_qtype"], event["dns_rcode"]) == \
        ("claude.ai", "dns_query", "10.1.0.4", "AAAA", "NOERROR")
    assert (event["bytes_out"], event["bytes_in"], event["duration_ms"], event["network_protocol"]) == \
        (43, 145, 3, "dns")


def test_structured_records_read_fqdn_as_sni_and_target_url_as_url(tmp_path: Path) -> None:
    events, rejects, ignored = parse(
        tmp_path,
        structured("AZFWApplicationRule", SourceIp="10.1.0.4", SourcePort=50000, DestinationPort=443,
                   Protocol="HTTPS", Fqdn="chat.mistral.ai", TargetUrl="", Action="Allow", WebCategory="",
                   IsTlsInspected=False),
        structured("AZFWApplicationRule", SourceIp="10.1.0.4", SourcePort=50001, DestinationPort=443,
                   Protocol="HTTPS", Fqdn="www.perplexity.ai", TargetUrl="https://www.perplexity.ai/search?q=x",
                   Action="Deny", IsTlsInspected=True),
        structured("AZFWNetworkRule", SourceIp="10.1.0.4", SourcePort=50002, DestinationIp="2606:4700::1",
                   DestinationPort=443, Protocol="UDP", Action="Deny"),
        structured("AZFWNatRule", SourceIp="203.0.113.9", SourcePort=1, DestinationIp="20.1.2.3",
                   DestinationPort=443, Protocol="TCP", TranslatedIp="10.1.0.9", TranslatedPort=443),
        structured("AZFWThreatIntel", SourceIp="10.1.0.4", SourcePort=50003, DestinationIp="198.51.100.9",
                   DestinationPort=80, Protocol="HTTP", Action="Deny", Fqdn="bad.example", Url="http://bad.example/x"),
        structured("AZFWIdpsSignature", SourceIp="10.1.0.4", SourcePort=50004, DestinationIp="198.51.100.7",
                   DestinationPort=443, Protocol="TCP", Action="Alert", SignatureId="1", Category="c", Severity=2),
        structured("AZFWDnsQuery", SourceIp="10.1.0.4", SourcePort=53000, QueryName="API.OpenAI.com.", QueryType="A",
                   ResponseCode="NXDOMAIN", RequestSize=40, ResponseSize=100, RequestDurationSecs=0.0209),
        structured("AZFWFlowTrace", SourceIp="10.1.0.4", DestinationIp="104.18.32.47", DestinationPort=443,
                   Protocol="TCP", Flag="SYN"),
    )
    assert not rejects and ignored == 1  # the flow trace repeats connections the rule logs give
    assert [picked(e) for e in events] == [
        ("10.1.0.4", "chat.mistral.ai", "sni", None, 443, "https", None, "allowed"),
        ("10.1.0.4", "www.perplexity.ai", "url", None, 443, "https", "/search", "blocked"),
        ("10.1.0.4", None, "none", "2606:4700::1", 443, "udp", None, "blocked"),
        ("203.0.113.9", None, "none", "20.1.2.3", 443, "tcp", None, "allowed"),
        ("10.1.0.4", "bad.example", "url", "198.51.100.9", 80, "http", "/x", "blocked"),
        ("10.1.0.4", None, "none", "198.51.100.7", 443, "tcp", None, "allowed"),
        ("10.1.0.4", "api.openai.com", "dns_query", None, None, "dns", None, "allowed"),
    ]
    assert (events[-1]["dns_rcode"], events[-1]["duration_ms"], events[-1]["bytes_out"]) == ("NXDOMAIN", 21, 40)


def test_log_analytics_export_reads_type_not_the_idps_category(tmp_path: Path) -> None:
    events, rejects, ignored = parse(
        tmp_path,
        json.dumps({"TimeGenerated": "2026-11-02T10:00:01+01:00", "SourceIp": "10.1.0.4", "DestinationIp": "1.2.3.4",
                    "DestinationPort": 443, "Protocol": "TCP", "Action": "Drop", "Category": "Trojan",
                    "Type": "AZFWIdpsSignature"}),
        json.dumps({"TimeGenerated": "2026-11-02T10:00:02Z", "Category": "AzureFirewallApplicationRule",
                    "msg_s": "HTTPS request from 10.1.0.5:1 to huggingface.co:443. Action: Allow. Rule: r",
                    "Type": "AzureDiagnostics"}),
        json.dumps({"TimeGenerated": "2026-11-02T10:00:03Z", "OperationName": "x", "Type": "AzureActivity"}),
    )
    assert not rejects and ignored == 1
    assert [(e["ts"].isoformat(), e["src_ip"], e["host"], e["dst_ip"], e["action"]) for e in events] == [
        ("2026-11-02T09:00:01+00:00", "10.1.0.4", None, "1.2.3.4", "blocked"),
        ("2026-11-02T10:00:02+00:00", "10.1.0.5", "huggingface.co", None, "allowed")]


def test_a_time_without_offset_is_utc_whatever_the_configured_zone(tmp_path: Path) -> None:
    events, _, _ = parse(tmp_path, legacy("AzureFirewallNetworkRule", "TCP request from 10.1.0.4:1 to 1.2.3.4:443. "
                                          "Action: Allow. ", time="2026-07-01T12:00:00"))
    assert events[0]["ts"].isoformat() == "2026-07-01T12:00:00+00:00"  # golden settings: Europe/Amsterdam


def test_event_hubs_messages_give_each_record_a_line_and_an_empty_one_is_ignored(tmp_path: Path) -> None:
    # a file of Event Hubs messages (its first line `{"records": [...]}`) is read a record a line (json_document)
    record = json.loads(structured("AZFWNetworkRule", SourceIp="10.1.0.4", DestinationIp="1.2.3.4",
                                   DestinationPort=443, Protocol="TCP", Action="Allow"))
    events, rejects, ignored = parse(tmp_path, json.dumps({"records": [record]}),
                                     json.dumps({"records": [record, record, record]}, separators=(",", ":")),
                                     '{"records": []}')
    assert [(e["line_no"], e["dst_ip"]) for e in events] == [(n, "1.2.3.4") for n in (1, 2, 3, 4)]
    assert ignored == 1 and not rejects


def test_several_records_on_a_line_of_a_file_of_single_records_are_rejected_with_the_fix(tmp_path: Path) -> None:
    # the batch rule is the file's first line's: here a record of its own, so a later line of several is one line
    record = json.loads(structured("AZFWNetworkRule", SourceIp="10.1.0.4", DestinationIp="1.2.3.4",
                                   DestinationPort=443, Protocol="TCP", Action="Allow"))
    events, rejects, _ = parse(tmp_path, json.dumps(record),
                               json.dumps({"records": [record, record, record]}, separators=(",", ":")))
    assert [e["line_no"] for e in events] == [1]
    (reject,) = rejects
    assert reject["line_no"] == 2 and "3 records on one line" in reject["reason"]
    assert "jq -c '.records[]'" in reject["reason"]


def test_broken_lines_are_counted_rejects_with_reasons(tmp_path: Path) -> None:
    good = legacy("AzureFirewallNetworkRule", "TCP request from 10.1.0.4:1 to 1.2.3.4:443. Action: Allow. ")
    _, rejects, _ = parse(
        tmp_path,
        good[: len(good) // 2],
        json.dumps({"time": "2026-11-02T08:00:00Z", "properties": {"SourceIp": "10.1.0.4"}}),
        legacy("AzureFirewallNetworkRule", "TCP request from 10.1.0.4:1 to 1.2.3.4:443. Action: Allow. ", time=""),
        legacy("AzureFirewallNetworkRule", "TCP request from 10.1.0.4:1 to 1.2.3.4:443. Action: Allow. ",
               time="02-11-2026 08:00"),
        legacy("AzureFirewallApplicationRule", "HTTPS request from 10.1.0.4:1 to chatgpt.com:4"),
        legacy("AzureFirewallApplicationRule", ""),
        "[1, 2, 3]",
        "",  # a blank line: ignored
    )
    reasons = [r["reason"] for r in rejects]
    assert reasons[0].startswith("not a JSON record on one line")
    assert reasons[1:] == ["not an Azure Firewall record (no category or Type)", "no time (time or TimeGenerated)",
                           "time not understood: 02-11-2026 08:00", "message not in a known Azure Firewall layout",
                           "no properties.msg", "not an Azure Firewall record (no category or Type)"]


def test_pretty_printed_storage_file_is_read_record_by_record(tmp_path: Path) -> None:
    # a storage account's file, `{"records": [...]}` over many lines, is read as its records (json_document), each
    # a line of the file's accounting
    record = json.loads(structured("AZFWNetworkRule", SourceIp="10.1.0.4", DestinationIp="1.2.3.4",
                                   DestinationPort=443, Protocol="TCP", Action="Allow"))
    text = json.dumps({"records": [record, dict(record, properties={**record["properties"], "SourcePort": 5})]},
                      indent=2)
    lines = text.split("\n")
    assert sniff_scores(lines)[0][0] == "azure_firewall"
    events, rejects, ignored = parse(tmp_path, *lines)
    assert not rejects and not ignored and [(e["line_no"], e["dst_ip"]) for e in events] == [(1, "1.2.3.4"),
                                                                                           (2, "1.2.3.4")]


@pytest.mark.parametrize("other", ["defender_network", "json", "zscaler_json", "suricata_eve"])
def test_sniff_takes_no_other_json_formats_samples(other: str) -> None:
    found = samples(other)
    assert found
    for sample in found:
        lines = head_lines(read_head(sample))
        assert sniff(lines) == 0.0, sample.name


def test_sniff_recognises_every_form_and_the_registry_picks_it() -> None:
    lines = [legacy("AzureFirewallDnsProxy", "DNS Request: 10.1.0.4:1 - 1 A IN a.example. udp 1 false 512 NOERROR "
                                             "qr 1 0.1s"),
             structured("AZFWApplicationRule", Fqdn="chatgpt.com"),
             json.dumps({"TimeGenerated": "2026-11-02T10:00:02Z", "Type": "AZFWDnsQuery", "QueryName": "a."}),
             json.dumps({"records": [json.loads(structured("AZFWNatRule"))]})]
    assert sniff(lines) == 1.0
    assert sniff_scores(lines)[0][0] == "azure_firewall"
    assert sniff(['{"category": "AdvancedHunting-DeviceNetworkEvents", "properties": {}}']) == 0.0


def test_odd_records_are_rejects_not_events(tmp_path: Path) -> None:
    events, rejects, ignored = parse(
        tmp_path,
        '{"records": "not a list"}',
        structured("AZFWNetworkRule", Protocol="TCP", Action="Allow"),  # no address at all
        json.dumps({"category": "AZFWDnsQuery", "time": "2026-11-02T08:00:00Z", "properties": "text"}),
        structured("AZFWDnsQuery", SourceIp="10.1.0.4", QueryName="a.example.", RequestDurationSecs=9.3e15),
    )
    assert [(e["host"], e["duration_ms"]) for e in events] == [("a.example", None)]  # past int64: not read
    assert not ignored
    assert [r["reason"] for r in rejects][1:] == ["no SourceIp, DestinationIp, Fqdn, TargetUrl or QueryName"] * 2
    assert rejects[0]["reason"].startswith("not a JSON record on one line")


PROPERTY_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30),
                            st.lists(st.integers(), max_size=2))
KEYS = ("SourceIp", "DestinationIp", "DestinationPort", "Protocol", "Action", "Fqdn", "TargetUrl", "QueryName",
        "RequestSize", "RequestDurationSecs", "msg")
CATEGORIES = ("AZFWApplicationRule", "AZFWNetworkRule", "AZFWDnsQuery", "AzureFirewallApplicationRule",
              "AzureFirewallNetworkRule", "AzureFirewallDnsProxy", "AZFWFlowTrace", "Other")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(st.tuples(st.sampled_from(CATEGORIES), st.one_of(st.none(), st.text(max_size=30)),
                                  st.dictionaries(st.sampled_from(KEYS), PROPERTY_VALUES, max_size=6)),
                        min_size=1, max_size=9),
       garbage=st.lists(st.text(max_size=40).filter(lambda t: "\n" not in t and "\r" not in t), max_size=3))
def test_arbitrary_records_never_crash_and_every_line_is_accounted_for(tmp_path: Path, records: list, garbage: list
                                                                       ) -> None:
    lines = [json.dumps({"category": category, "time": time, "properties": properties})
             for category, time, properties in records] + garbage
    events, rejects, ignored = parse(tmp_path, *lines)
    assert len(events) + len(rejects) + ignored == len(lines)
    assert all(event["ts"] is not None and event["action"] in ("allowed", "blocked", "unknown") for event in events)


def test_storage_blob_lines_ending_in_crlf_read_as_the_same_records(tmp_path: Path) -> None:
    line = structured("AZFWNetworkRule", SourceIp="10.1.0.4", DestinationIp="1.2.3.4", DestinationPort=443,
                      Protocol="TCP", Action="Deny")
    path = tmp_path / "PT1H.json"
    path.write_bytes((line + "\r\n" + line + "\r\n").encode())
    events, rejects, _ = parse_file(path, FORMATS["azure_firewall"], golden_settings())
    assert rejects.num_rows == 0 and events.column("action").to_pylist() == ["blocked", "blocked"]
