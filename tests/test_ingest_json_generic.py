"""Generic JSON lines (format `json`): each schema's keys, --map with dotted keys, rejects, sniffing, accounting.

Lines written from each schema's documentation, not copied from any log:
- Elastic Common Schema field reference: https://www.elastic.co/guide/en/ecs/current/ecs-field-reference.html
  (`@timestamp`, `source.*`, `destination.*`, `url.*`, `http.request.*`, `http.response.*`, `user.name`,
  `user_agent.original`, `event.action`, `dns.question.name`);
- OCSF HTTP Activity (4002): https://schema.ocsf.io/classes/http_activity (`time` in epoch ms, `src_endpoint`,
  `dst_endpoint`, `http_request.url`, `http_response.code`, `actor.user`, `traffic`, `disposition`);
- Cloudflare Gateway HTTP (Logpush): https://developers.cloudflare.com/logs/reference/log-fields/account/gateway_http/
  (`Datetime`, `SourceIP`, `DestinationIP`, `DestinationPort`, `HTTPHost`, `URL`, `Email`, `HTTPMethod`,
  `HTTPStatusCode`, `UserAgent`, `Action`, `DeviceName`);
- Splunk's search export in JSON (`{"preview": false, "offset": N, "result": {...}}` per line, REST API reference
  search/jobs/export: https://docs.splunk.com/Documentation/Splunk/latest/RESTREF/RESTsearch) with the CIM Web
  data model's names (https://docs.splunk.com/Documentation/CIM/latest/User/Web).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.cli import cli
from detector.config import load_settings
from detector.errors import FormatError
from detector.ingest import FORMATS, SNIFF_THRESHOLD, sniff, sniff_scores
from detector.ingest.json_generic import KEY_LINES, MAX_SNIFF_SCORE
from detector.ingest.pipeline import FileReport, ingest_paths, parse_file
from tests.golden import SAMPLES, golden_settings
from tests.test_ingest_context import with_batch_lines

FIELDS = ("ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "http_method", "bytes_out",
          "bytes_in", "http_status", "action", "user_agent")


def parse(tmp_path: Path, *lines: str, column_map: Mapping[str, str] | None = None, prefix: str = ""
          ) -> tuple[list[dict[str, object]], list[dict[str, object]], FileReport]:
    path = tmp_path / "export.json"
    path.write_text(prefix + "".join(text + "\n" for text in lines), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS["json"], golden_settings(), column_map)
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist(), report


def line(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def picked(event: Mapping[str, object]) -> tuple[object, ...]:
    return tuple(event[field].isoformat() if field == "ts" else event[field] for field in FIELDS)  # type: ignore


ECS_PROXY = {
    "@timestamp": "2026-03-13T08:15:02.120Z",
    "event": {"kind": "event", "category": ["network", "web"], "action": "denied"},
    "source": {"ip": "10.1.2.3", "port": 50123},
    "destination": {"ip": "104.18.32.47", "port": 8443, "domain": "chatgpt.com"},
    "url": {"full": "https://chatgpt.com:8443/backend-api/files?x=1", "domain": "chatgpt.com"},
    "http": {"request": {"method": "post", "bytes": 52000}, "response": {"status_code": 403, "bytes": 900}},
    "user": {"name": "jan"},
    "user_agent": {"original": "Mozilla/5.0 Test"},
    "host": {"name": "proxy01", "hostname": "proxy01.gemeente.local"},
}


def test_ecs_nested_keys_are_read_by_their_dotted_names(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, line(ECS_PROXY))
    assert not rejects
    assert picked(events[0]) == ("2026-03-13T08:15:02.120000+00:00", "10.1.2.3", "jan", "chatgpt.com", "url",
                                 "104.18.32.47", 8443, "POST", 52000, 900, 403, "blocked", "Mozilla/5.0 Test")
    assert events[0]["url_path"] == "/backend-api/files"  # the agent's own host.name is no destination


def test_ecs_dns_and_flow_events_in_one_file_take_the_keys_they_have(tmp_path: Path) -> None:
    dns = {"@timestamp": "2026-03-13T08:16:00Z", "source": {"ip": "10.1.2.4"},
           "dns": {"question": {"name": "Claude.AI."}}, "network": {"protocol": "dns"}}
    flow = {"@timestamp": "2026-03-13T08:17:00Z", "source": {"ip": "10.1.2.5", "bytes": 700},
            "destination": {"ip": "20.42.65.92", "port": 443, "bytes": 9100}}
    events, rejects, _ = parse(tmp_path, line(ECS_PROXY), line(dns), line(flow))
    assert not rejects
    assert (events[1]["host"], events[1]["host_source"], events[1]["network_protocol"]) == \
        ("claude.ai", "dns_query", "dns")
    assert (events[2]["host"], events[2]["host_source"], events[2]["dst_ip"], events[2]["bytes_out"],
            events[2]["bytes_in"]) == (None, "none", "20.42.65.92", 700, 9100)


def test_ocsf_http_activity(tmp_path: Path) -> None:
    record = {"class_uid": 4002, "time": 1773389702120,
              "src_endpoint": {"ip": "10.3.3.3", "hostname": "WS-0042"},
              "dst_endpoint": {"ip": "34.160.111.145", "port": 443, "hostname": "www.deepl.com"},
              "http_request": {"http_method": "GET", "user_agent": "UA/1",
                               "url": {"url_string": "https://www.deepl.com/translator", "hostname": "www.deepl.com",
                                       "path": "/translator"}},
              "http_response": {"code": 200}, "traffic": {"bytes_out": 10, "bytes_in": 20},
              "actor": {"user": {"name": "piet"}}, "disposition": "Allowed"}
    events, rejects, _ = parse(tmp_path, line(record))
    assert not rejects
    assert picked(events[0]) == ("2026-03-13T08:15:02.120000+00:00", "10.3.3.3", "piet", "www.deepl.com", "url",
                                 "34.160.111.145", 443, "GET", 10, 20, 200, "allowed", "UA/1")
    assert (events[0]["src_host"], events[0]["url_path"]) == ("WS-0042", "/translator")


@pytest.mark.parametrize(("written", "utc"), [
    ('"2026-03-13T08:15:02Z"', "2026-03-13T08:15:02+00:00"),  # timestamp option rfc3339
    ("1773389702", "2026-03-13T08:15:02+00:00"),  # unix
    ("1773389702123456789", "2026-03-13T08:15:02.123456+00:00"),  # unixnano, Logpush's default
    ('"2026-03-13 09:15:02"', "2026-03-13T08:15:02+00:00"),  # no zone: the configured one (Europe/Amsterdam)
])
def test_cloudflare_gateway_http_with_each_timestamp_option(tmp_path: Path, written: str, utc: str) -> None:
    text = ('{"AccountID":"abc","Action":"block","Datetime":' + written + ',"DestinationIP":"172.66.0.243",'
            '"DestinationPort":443,"DeviceName":"LT-01","Email":"kees@gemeente.example","HTTPHost":"chat.deepseek.com",'
            '"HTTPMethod":"GET","HTTPStatusCode":403,"SourceIP":"198.51.100.7","URL":"https://chat.deepseek.com/a",'
            '"UserAgent":"UA/2","UserID":"5b8a4c2e"}')
    events, rejects, _ = parse(tmp_path, text)
    assert not rejects
    assert picked(events[0]) == (utc, "198.51.100.7", "kees@gemeente.example", "chat.deepseek.com", "url",
                                 "172.66.0.243", 443, "GET", None, None, 403, "blocked", "UA/2")
    assert events[0]["src_host"] == "LT-01"


def test_cloudflare_gateway_dns_query_name_is_the_host_and_the_resolver_decision_the_action(tmp_path: Path) -> None:
    """Gateway DNS Logpush (https://developers.cloudflare.com/logs/reference/log-fields/account/gateway_dns/; the
    layout as elastic/integrations' cloudflare_logpush gateway_dns pipeline test shows it): `QueryName` is the host
    looked up, `ResolverDecision` one camelCase word (blockedByCategory, allowedOnNoPolicyMatch). Before, such a
    file had no host at all (only the resolver's address) and every action was unknown."""
    record = {"ColoCode": "AMS", "Datetime": "2026-03-13T08:15:02Z", "DeviceName": "LT-07", "DstIP": "172.64.36.1",
              "DstPort": 443, "Email": "els@gemeente.example", "Protocol": "https", "QueryCategoryIDs": [184],
              "QueryName": "chat.mistral.ai", "QueryNameReversed": "ai.mistral.chat", "QuerySize": 45,
              "QueryType": 1, "QueryTypeName": "A", "RCode": 0, "ResolvedIPs": ["198.51.100.30"],
              "ResolverDecision": "blockedByCategory", "SrcIP": "192.0.2.44", "SrcPort": 0, "UserID": "9f1c"}
    allowed = {**record, "QueryName": "www.gemeente.example", "ResolverDecision": "allowedOnNoPolicyMatch"}
    other = {**record, "QueryName": "example.org", "ResolverDecision": "overrideForSafeSearch"}
    events, rejects, _ = parse(tmp_path, line(record), line(allowed), line(other))
    assert not rejects
    assert [(e["host"], e["host_source"], e["action"]) for e in events] == [
        ("chat.mistral.ai", "dns_query", "blocked"), ("www.gemeente.example", "dns_query", "allowed"),
        ("example.org", "dns_query", "unknown")]
    assert (events[0]["src_ip"], events[0]["user_name"], events[0]["src_host"]) == \
        ("192.0.2.44", "els@gemeente.example", "LT-07")


def test_cloudflare_gateway_internal_source_address_wins_over_the_public_one(tmp_path: Path) -> None:
    """Gateway HTTP and Network Logpush write `SourceInternalIP` (the device's LAN address, behind an IPsec/GRE
    on-ramp) beside `SourceIP` (the address the request reached Cloudflare from: the office's public one), as
    elastic/integrations' cloudflare_logpush gateway_http and gateway_network pipeline tests show. The LAN address
    names the workstation; where it is empty, SourceIP. Network's Action (allowedOnNoRuleMatch) is a decision."""
    record = {"Action": "allowedOnNoRuleMatch", "Datetime": "2026-03-13T08:15:02Z", "DestinationIP": "203.0.113.9",
              "DestinationPort": 443, "DeviceName": "LT-07", "Email": "els@gemeente.example", "SNI": "claude.ai",
              "SourceIP": "198.51.100.7", "SourceInternalIP": "10.20.30.40", "SourcePort": 50123,
              "Transport": "tcp"}
    events, rejects, _ = parse(tmp_path, line(record), line({**record, "SourceInternalIP": ""}))
    assert not rejects
    assert [(e["src_ip"], e["host"], e["action"]) for e in events] == [
        ("10.20.30.40", "claude.ai", "allowed"), ("198.51.100.7", "claude.ai", "allowed")]


def test_sysmon_dns_query_shipped_by_winlogbeat_names_host_device_and_user(tmp_path: Path) -> None:
    """Sysmon's DNS query event (22, https://learn.microsoft.com/sysinternals/downloads/sysmon) as Winlogbeat ships
    it: with its Sysmon processing (ECS `dns.question.name`, `user.name`) and without it (`winlog.event_data.
    QueryName` and `.User`); `winlog.computer_name` is the workstation in both (Winlogbeat's winlog fields,
    https://www.elastic.co/guide/en/beats/winlogbeat/current/exported-fields-winlog.html)."""
    raw = {"@timestamp": "2026-03-13T08:15:02.113Z", "event": {"code": "22", "kind": "event"},
           "winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": "22",
                      "computer_name": "WS-0142.gemeente.example",
                      "event_data": {"QueryName": "gemini.google.com", "QueryStatus": "0",
                                     "QueryResults": "::ffff:192.0.2.80;", "Image": "C:\\chrome.exe",
                                     "User": "GEMEENTE\\jdevries"}}}
    ecs = {"@timestamp": "2026-03-13T08:15:02.113Z", "event": {"code": "22", "action": "DNSEvent (DNS query)"},
           "dns": {"question": {"name": "gemini.google.com"}}, "user": {"name": "jdevries", "domain": "GEMEENTE"},
           "network": {"protocol": "dns"}, "winlog": {"computer_name": "WS-0142.gemeente.example",
                                                      "event_data": {"QueryName": "gemini.google.com"}}}
    for record, user in ((raw, "GEMEENTE\\jdevries"), (ecs, "jdevries")):
        events, rejects, _ = parse(tmp_path, line(record))
        assert not rejects
        assert (events[0]["host"], events[0]["host_source"], events[0]["src_host"], events[0]["user_name"]) == \
            ("gemini.google.com", "dns_query", "WS-0142.gemeente.example", user)


def test_dns_question_inside_and_outside_an_elasticsearch_envelope_is_a_dns_query(tmp_path: Path) -> None:
    """An ECS DNS document as Elasticsearch stores it (elastic/integrations' cloudflare_logpush gateway_dns expected
    documents: `dns.question.name`, `source.ip`, `user.email`), once bare and once inside a search hit's `_source`,
    in one file: both keys are `dns.question.name`, and the second line's host is as much a DNS query's as the
    first's (it was `url`)."""
    doc = {"@timestamp": "2026-03-13T08:15:02.000Z", "dns": {"question": {"name": "copilot.microsoft.com",
                                                                         "type": "A"}},
           "destination": {"ip": "192.0.2.53", "port": 53}, "source": {"ip": "10.1.2.3"},
           "user": {"email": "ali@gemeente.example"}, "event": {"original": '{"QueryName":"copilot.microsoft.com"}'}}
    events, rejects, _ = parse(tmp_path, line(doc), line({"_index": "logs-dns", "_id": "a1", "_source": doc}))
    assert not rejects
    assert [(e["host"], e["host_source"], e["src_ip"]) for e in events] == [
        ("copilot.microsoft.com", "dns_query", "10.1.2.3")] * 2


def test_google_cloud_dns_query_log_names_the_host(tmp_path: Path) -> None:
    """Cloud DNS query logs as Cloud Logging exports them (https://cloud.google.com/dns/docs/monitoring: `jsonPayload.
    queryName`, `.sourceIP`, `.queryType`, `.responseCode`, the entry's `timestamp`)."""
    record = {"insertId": "x1", "jsonPayload": {"queryName": "api.openai.com.", "queryType": "A",
                                                 "responseCode": "NOERROR", "sourceIP": "10.128.0.5",
                                                 "protocol": "UDP", "vmInstanceName": "vm-1"},
              "resource": {"type": "dns_query"}, "timestamp": "2026-03-13T08:15:02.349280070Z", "severity": "INFO"}
    events, rejects, _ = parse(tmp_path, line(record))
    assert not rejects
    assert (events[0]["host"], events[0]["host_source"], events[0]["src_ip"]) == \
        ("api.openai.com", "dns_query", "10.128.0.5")


def test_ocsf_dns_activity_and_route53_resolver_query_logs_name_the_host(tmp_path: Path) -> None:
    """OCSF DNS Activity (4003, https://schema.ocsf.io/classes/dns_activity: `query.hostname`, `src_endpoint.ip`,
    `time` in epoch ms, `disposition`), as AWS Security Lake writes Route 53 Resolver queries; and Route 53 Resolver
    query logs in their own layout (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resolver-query-logs-
    format.html: `query_timestamp`, `query_name`, `srcaddr`). Both were rejected as having no destination."""
    ocsf = {"metadata": {"product": {"name": "Route 53", "vendor_name": "AWS"}, "version": "1.1.0"},
            "src_endpoint": {"vpc_uid": "vpc-1", "ip": "10.0.12.34", "port": "53124"}, "time": 1773389702123,
            "query": {"hostname": "api.anthropic.com.", "type": "A", "class": "IN"}, "rcode": "NoError",
            "answers": [{"type": "A", "rdata": "192.0.2.10"}], "class_uid": 4003, "activity_id": 2,
            "disposition": "Allowed"}
    events, rejects, _ = parse(tmp_path, line(ocsf))
    assert not rejects
    assert (events[0]["ts"].isoformat(), events[0]["host"], events[0]["host_source"], events[0]["src_ip"],
            events[0]["action"]) == ("2026-03-13T08:15:02.123000+00:00", "api.anthropic.com", "dns_query",
                                     "10.0.12.34", "allowed")
    route53 = {"version": "1.100000", "account_id": "123456789012", "region": "eu-west-1", "vpc_id": "vpc-1",
               "query_timestamp": "2026-03-13T08:15:02Z", "query_name": "chatgpt.com.", "query_type": "A",
               "query_class": "IN", "rcode": "NOERROR", "answers": [{"Rdata": "192.0.2.47", "Type": "A"}],
               "srcaddr": "10.0.12.35", "srcport": "56067", "transport": "UDP", "srcids": {"instance": "i-1"}}
    events, rejects, _ = parse(tmp_path, line(route53))
    assert not rejects
    assert (events[0]["ts"].isoformat(), events[0]["host"], events[0]["host_source"], events[0]["src_ip"]) == \
        ("2026-03-13T08:15:02+00:00", "chatgpt.com", "dns_query", "10.0.12.35")


def test_ecs_event_type_denied_or_allowed_decides_where_event_action_does_not(tmp_path: Path) -> None:
    """ECS's `event.type` list holds `allowed` or `denied`
    (https://www.elastic.co/guide/en/ecs/current/ecs-allowed-values-event-type.html), as elastic/integrations'
    firewall integrations write it beside a vendor's `event.action` that names no verdict (`flow_started`,
    `firewall-rule`). Those events were all `unknown`; a verdict in event.action still wins."""
    def doc(action: str | None, types: list[str]) -> str:
        event = {"category": ["network"], "type": types, "kind": "event", **({"action": action} if action else {})}
        return line({"@timestamp": "2026-03-13T08:15:02.000Z", "event": event, "source": {"ip": "10.60.1.5"},
                     "destination": {"ip": "192.0.2.8", "port": 443, "domain": "claude.ai"}})

    events, rejects, _ = parse(tmp_path, doc("flow_started", ["connection", "start", "allowed"]),
                               doc("firewall-rule", ["connection", "denied"]), doc(None, ["denied"]),
                               doc("close", ["connection", "end"]), doc("deny", ["connection", "allowed"]))
    assert not rejects
    assert [e["action"] for e in events] == ["allowed", "blocked", "blocked", "unknown", "blocked"]


def test_splunk_export_result_envelope_is_read_without_its_prefix(tmp_path: Path) -> None:
    text = line({"preview": False, "offset": 0, "result": {
        "_time": "2026-03-13T09:15:02.000+01:00", "src": "10.6.0.1", "user": "anna", "dest": "claude.ai",
        "url": "https://claude.ai/api/x", "http_method": "POST", "status": "200", "bytes_out": "1200",
        "bytes_in": "340", "http_user_agent": "UA/3", "action": "allowed"}})
    events, rejects, _ = parse(tmp_path, text)
    assert not rejects
    assert picked(events[0]) == ("2026-03-13T08:15:02+00:00", "10.6.0.1", "anna", "claude.ai", "url", None, None,
                                 "POST", 1200, 340, 200, "allowed", "UA/3")


def test_splunk_default_fields_are_not_the_destination_or_the_client(tmp_path: Path) -> None:
    """Every event of a Splunk export carries Splunk's default fields
    (https://docs.splunk.com/Documentation/Splunk/latest/Data/Aboutdefaultfields): `host` is the device that sent it
    (here the proxy), `source` the file it was read from, beside the CIM `src` / `dest` the search extracted. `host`
    was read as every event's destination and `source` as its client address. An export of `_raw` alone has no
    destination: every line a reject naming --map, not events to the proxy's own name."""
    meta = {"_bkt": "proxy~12~A", "_cd": "12:345", "_indextime": "1773389703", "_serial": "0",
            "_si": ["splunk01", "proxy"], "_sourcetype": "squid:access", "_time": "2026-03-13T09:15:02.123+01:00",
            "host": "proxy01.gemeente.example", "index": "proxy", "linecount": "1",
            "source": "/var/log/squid/access.log", "sourcetype": "squid:access", "splunk_server": "splunk01"}
    raw = "1773389702.123    120 10.60.1.5 TCP_TUNNEL/200 5120 CONNECT chatgpt.com:443 jan HIER_DIRECT/192.0.2.7 -"
    extracted = {**meta, "_raw": raw, "src": "10.60.1.5", "dest": "chatgpt.com", "user": "jan", "action": "allowed"}
    events, rejects, _ = parse(tmp_path, line({"preview": False, "offset": 0, "result": extracted}))
    assert not rejects
    assert (events[0]["host"], events[0]["src_ip"], events[0]["user_name"]) == ("chatgpt.com", "10.60.1.5", "jan")
    events, rejects, _ = parse(tmp_path, line({"preview": False, "offset": 0, "result": {**meta, "_raw": raw}}))
    assert not events
    assert "--map" in str(rejects[0]["reason"])


def test_logstash_and_graylog_sender_keys_are_not_the_destination_or_the_client(tmp_path: Path) -> None:
    """Logstash writes the sending device as `host` beside `@version`
    (https://www.elastic.co/guide/en/logstash/current/plugins-inputs-syslog.html), Graylog as `source` beside its
    `gl2_*` keys (https://go2docs.graylog.org/current/getting_in_log_data/default_fields.html). Before, every event
    of such an export went to the proxy's own name, or came from the firewall's name."""
    logstash = {"@timestamp": "2026-03-13T08:15:02.123Z", "@version": "1", "host": "proxy01.gemeente.example",
                "message": "an unparsed line", "type": "squid"}
    events, rejects, _ = parse(tmp_path, line(logstash), line({**logstash, "request": "https://claude.ai/api",
                                                               "clientip": "10.60.1.5"}))
    assert [e["host"] for e in events] == ["claude.ai"] and len(rejects) == 1
    graylog = {"_id": "a1", "timestamp": "2026-03-13T08:15:02.123Z", "source": "fw01", "message": "action=deny",
               "gl2_source_input": "5f1", "gl2_source_node": "n1", "streams": ["1"], "dst_host": "claude.ai"}
    events, rejects, _ = parse(tmp_path, line(graylog))
    assert not rejects
    assert (events[0]["host"], events[0]["src_ip"]) == ("claude.ai", None)


def test_sentinel_common_security_log_device_name_is_the_logging_device_not_the_client(tmp_path: Path) -> None:
    """A Microsoft Sentinel CommonSecurityLog row exported as JSON (columns of Microsoft's table reference,
    https://learn.microsoft.com/azure/azure-monitor/reference/tables/commonsecuritylog): DeviceName is the proxy that
    logged the event (CEF's dvchost), so it is no src_host; the client is SourceIP and SourceUserName."""
    row = {"TimeGenerated": "2026-03-13T08:15:02.123Z", "DeviceVendor": "Zscaler", "DeviceProduct": "NSSWeblog",
           "DeviceAction": "Allowed", "DestinationHostName": "chatgpt.com", "DestinationIP": "192.0.2.47",
           "DeviceName": "zscaler-nss-01", "SourceIP": "10.60.1.5", "SourceUserName": "jan@gemeente.example",
           "RequestURL": "chatgpt.com/backend-api/conversation", "RequestMethod": "POST", "SentBytes": 1200,
           "ReceivedBytes": 3400, "Computer": "syslog-fwd-01", "Type": "CommonSecurityLog"}
    events, rejects, _ = parse(tmp_path, line(row))
    assert not rejects
    assert (events[0]["src_host"], events[0]["src_ip"], events[0]["host"], events[0]["action"],
            events[0]["bytes_out"]) == (None, "10.60.1.5", "chatgpt.com", "allowed", 1200)


def test_defender_network_events_exported_as_json_read_the_inspection_records(tmp_path: Path) -> None:
    """DeviceNetworkEvents rows exported as JSON from Sentinel or Log Analytics (columns of Microsoft's
    https://learn.microsoft.com/en-us/defender-xdr/advanced-hunting-devicenetworkevents-table, beside TimeGenerated
    and Type), as the CSV export is read: an SslConnectionInspected row's host is its AdditionalFields' server_name
    (as text or as an object), a DnsConnectionInspected row's the query; the account's name where the UPN is empty.
    Those rows had no host and no user."""
    base = {"TenantId": "t", "TimeGenerated": "2026-03-13T08:15:10Z", "Timestamp": "2026-03-13T08:15:02.123Z",
            "DeviceId": "abc", "DeviceName": "ws-0142.gemeente.example", "RemoteIP": "192.0.2.48",
            "RemotePort": 443, "RemoteUrl": "", "LocalIP": "10.20.14.87", "LocalPort": 52818, "Protocol": "Tcp",
            "InitiatingProcessAccountName": "", "InitiatingProcessAccountUpn": "", "Type": "DeviceNetworkEvents"}
    sni = {"direction": "Out", "server_name": "claude.ai", "established": True}
    dns = {"direction": "Out", "query": "chatgpt.com", "qtype_name": "A", "rcode_name": "NOERROR",
           "answers": ["192.0.2.47"]}
    events, rejects, _ = parse(
        tmp_path, line({**base, "ActionType": "SslConnectionInspected", "AdditionalFields": json.dumps(sni)}),
        line({**base, "ActionType": "SslConnectionInspected", "AdditionalFields": sni}),
        line({**base, "ActionType": "DnsConnectionInspected", "RemotePort": 53, "AdditionalFields": json.dumps(dns)}),
        line({**base, "ActionType": "ConnectionSuccess", "RemoteUrl": "gemini.google.com", "AdditionalFields": "",
              "InitiatingProcessAccountName": "jdevries"}))
    assert not rejects
    assert [(e["host"], e["host_source"], e["network_protocol"], e["user_name"]) for e in events] == [
        ("claude.ai", "sni", "tls", None), ("claude.ai", "sni", "tls", None),
        ("chatgpt.com", "dns_query", "dns", None), ("gemini.google.com", "url", None, "jdevries")]
    assert (events[2]["dns_qtype"], events[2]["dns_rcode"]) == ("A", "NOERROR")


def test_map_names_a_dotted_key_and_overrides_a_recognised_one(tmp_path: Path) -> None:
    text = line({"evt": {"when": "2026-03-13T08:15:02Z"}, "dst": {"name": "gemini.google.com"},
                 "host": "ignored.example", "who": {"login": "kees"}})
    events, rejects, _ = parse(tmp_path, text, column_map={"evt.when": "ts", "dst.name": "host", "who.login":
                                                           "user_name"})
    assert not rejects
    assert (events[0]["host"], events[0]["user_name"], events[0]["ts"].isoformat()) == \
        ("gemini.google.com", "kees", "2026-03-13T08:15:02+00:00")


@pytest.mark.parametrize(("column_map", "message"), [
    ({"nope.key": "host"}, "no column 'nope.key'"),
    ({"ts": "line_no"}, "cannot fill line_no"),
])
def test_map_mistakes_are_clear_errors(tmp_path: Path, column_map: dict[str, str], message: str) -> None:
    with pytest.raises(FormatError, match=message):
        parse(tmp_path, '{"ts":"2026-03-13T08:00:00Z","host":"chatgpt.com"}', column_map=column_map)


def test_bad_lines_are_rejected_with_their_reason_and_all_lines_accounted_for(tmp_path: Path) -> None:
    good = '{"@timestamp":"2026-03-13T08:00:00Z","url":{"full":"https://chatgpt.com/"},"source":{"ip":"10.0.0.1"}}'
    events, rejects, report = parse(
        tmp_path, good,
        '["an", "array"]',
        "plain text, no JSON",
        '{"@timestamp":"2026-03-13T08:00:01Z","url":{"full":"https://chat',  # cut short
        '{"url":{"full":"https://claude.ai/"}}',
        '{"@timestamp":"gisteren","url":{"full":"https://claude.ai/"}}',
        '{"@timestamp":"2026-03-13T08:00:02Z","source":{"ip":"10.0.0.2"}}',
        '{"@timestamp":"2026-03-13T08:00:03Z","url":{"full":"-"}}',
        "",
        good,
    )
    assert [r["reason"] for r in rejects] == [
        "not a JSON object",
        "not a JSON object",
        "not valid JSON (a line cut short, or a syntax error)",
        "no time (@timestamp missing or empty)",
        "time not understood: gisteren",
        "no destination (url.full missing or empty)",
        "no destination (url.full missing or empty)",
    ]
    assert [r["line_no"] for r in rejects] == [2, 3, 4, 5, 6, 7, 8]
    assert [e["line_no"] for e in events] == [1, 10]
    assert (report.lines, report.parsed, report.rejected, report.ignored) == (10, 2, 7, 1)


def test_a_nanosecond_time_past_the_largest_integer_is_a_reject_not_a_failed_file(tmp_path: Path) -> None:
    """19 digits are read as nanoseconds (Cloudflare Logpush's `unixnano`); past 2^63 - 1 they are no time."""
    events, rejects, _ = parse(tmp_path, '{"time":1773389702123456789,"url":"https://claude.ai/"}',
                               '{"time":9999999999999999999,"url":"https://claude.ai/"}')
    assert [event["ts"].isoformat() for event in events] == ["2026-03-13T08:15:02.123456+00:00"]
    assert [reject["reason"] for reject in rejects] == ["time not understood: 9999999999999999999"]


@pytest.mark.parametrize("batch_lines", [2, 3, 1000])
def test_batches_before_and_after_a_broken_line_read_the_same(tmp_path: Path, batch_lines: int) -> None:
    """Batches are read by a strict query first and, once a line of the file was no JSON, by a tolerant one: the
    events and rejects do not depend on which batch met the broken line first."""
    def good(second: int) -> str:
        return line({**ECS_PROXY, "@timestamp": f"2026-03-13T08:15:{second:02d}Z"})

    lines = [good(0), good(1), good(2), '{"@timestamp":"2026-03-13T08:16:00Z","url":{"full":"https://cla',
             good(3), good(4), good(5), "{not json", good(6), good(7)]
    path = tmp_path / "export.json"
    path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
    settings = replace(golden_settings(), batch_lines=batch_lines)
    events, rejects, report = parse_file(path, FORMATS["json"], settings)
    assert [e["line_no"] for e in events.to_pylist()] == [1, 2, 3, 5, 6, 7, 9, 10]
    assert {picked(e)[1:] for e in events.to_pylist()} == {picked(parse(tmp_path, good(0))[0][0])[1:]}
    assert [(r["line_no"], r["reason"]) for r in rejects.to_pylist()] == [
        (4, "not valid JSON (a line cut short, or a syntax error)"),
        (8, "not valid JSON (a line cut short, or a syntax error)")]
    assert (report.lines, report.parsed, report.rejected) == (10, 8, 2)


def test_a_line_reads_the_same_beside_broken_lines_as_alone(tmp_path: Path) -> None:
    """A batch with a broken line is read by the tolerant query (each line checked first): every line's outcome is
    the one it has in a file of its own, which valid lines get from the strict query."""
    start = '{"@timestamp":"2026-03-13T08:00:00Z","url":{"full":"https://chatgpt.com/"},"source":{"ip":"10.0.0.1"}'
    quirky = [start + "}", start + ',"n":NaN}', start + ',"m":[1,2,],}', start + ',"u":"\\u0000"}',
              start + "} // note", start + ',"t":"a\tb"}', start + ',"x":01}', start + "}{}", "{'a':1}", start]
    together, together_rejects, _ = parse(tmp_path, *quirky)
    outcomes = {e["line_no"]: picked(e) for e in together} | {r["line_no"]: r["reason"] for r in together_rejects}
    for number, text in enumerate(quirky, start=1):
        alone, alone_rejects, _ = parse(tmp_path, quirky[0], text)
        assert outcomes[number] == (picked(alone[1]) if len(alone) == 2 else alone_rejects[0]["reason"]), text
    assert len(together) == 4


def test_a_key_missing_from_a_line_is_null_and_keys_first_seen_later_are_not_read(tmp_path: Path) -> None:
    lines = ['{"timestamp":"2026-03-13T08:00:00Z","host":"chatgpt.com","user":"jan"}'] * (KEY_LINES + 1)
    lines += ['{"timestamp":"2026-03-13T08:00:01Z","host":"claude.ai"}',
              '{"timestamp":"2026-03-13T08:00:02Z","host":"claude.ai","user":"piet","status":200}']
    events, rejects, _ = parse(tmp_path, *lines)  # the keys: those of the first KEY_LINES objects
    assert not rejects
    assert [e["user_name"] for e in events[-2:]] == [None, "piet"]
    assert events[-1]["http_status"] is None  # `status` was in none of the first objects


def test_no_time_or_destination_key_rejects_every_line_naming_map(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, '{"who":"jan","what":{"verb":"upload"}}', '{"who":"piet"}')
    assert not events and len(rejects) == 2
    reason = rejects[0]["reason"]
    assert "(who, what.verb)" in reason and "--map KEY=ts" in reason and "--map KEY=host" in reason


def test_byte_order_mark_before_the_first_object(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, '{"timestamp":"2026-03-13T08:00:00Z","host":"chatgpt.com"}',
                               '{"timestamp":"2026-03-13T08:00:01Z","host":"claude.ai"}', prefix="\ufeff")
    assert not rejects and [e["host"] for e in events] == ["chatgpt.com", "claude.ai"]
    lines = ["\ufeff" + line(ECS_PROXY), line(ECS_PROXY)]
    assert sniff(lines).name == "json"


def test_sniff_never_takes_the_specific_json_formats_files() -> None:
    """Each specific JSON format's samples still sniff as that format, with json below it."""
    assert MAX_SNIFF_SCORE <= SNIFF_THRESHOLD
    for key in ("suricata_eve", "zscaler_json", "defender_network", "zeek_conn", "zeek_dns", "zeek_http", "zeek_ssl"):
        for sample in sorted((SAMPLES / key).iterdir()):
            if sample.name.endswith(".expected.jsonl"):
                continue
            text = [t for t in sample.read_text(encoding="utf-8").splitlines() if t.strip()]
            scores = dict(sniff_scores(text))
            if scores[key] >= SNIFF_THRESHOLD:
                assert sniff_scores(text)[0][0] == key, sample
                assert scores["json"] <= scores[key], sample


def test_sniff_recognises_each_flavour_and_names_json_as_closest_for_unknown_keys() -> None:
    for sample in sorted((SAMPLES / "json").glob("*.json")):
        text = [t for t in sample.read_text(encoding="utf-8").splitlines() if t.strip()]
        assert sniff(text).name == "json", sample
    with pytest.raises(FormatError, match=r"unknown log format \(closest: .*json \("):
        sniff(['{"who":"jan","what":"upload"}', '{"who":"piet","what":"download"}'])


def test_cli_map_option_reaches_the_parser(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text('{"evt":{"wanneer":"2026-03-13T08:00:00Z"},"doel":{"naam":"chatgpt.com"}}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--home", str(home), "ingest", "--dry-run", "--json", "--format", "json",
                                      "--map", "evt.wanneer=ts", "--map", "doel.naam=host", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[0])["parsed"] == 1


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=80),
    st.dictionaries(st.sampled_from(["timestamp", "host", "url", "user", "bytes_in", "x"]),
                    st.one_of(st.text(max_size=20), st.integers(), st.none(), st.booleans()), max_size=5)
    .map(lambda value: json.dumps(value, ensure_ascii=False))),
    min_size=1, max_size=15))
def test_arbitrary_lines_never_crash_and_are_all_accounted_for(tmp_path: Path, lines: list[str]) -> None:
    _, _, report = parse(tmp_path, '{"timestamp":"2026-03-13T08:00:00Z","host":"chatgpt.com"}', *lines)
    assert report.lines == 1 + len(lines)


def test_a_grown_file_is_read_on_under_the_keys_of_its_first_objects(home: Path, tmp_path: Path) -> None:
    """Appended lines are read with the keys the file's first objects had (as a CSV's rows under its header)."""
    first_part = ['{"timestamp":"2026-03-13T08:00:00Z","host":"chatgpt.com","user":"jan"}'] * 3
    appended = ['{"timestamp":"2026-03-13T08:00:01Z","host":"claude.ai","user":"piet","status":200}',
                '{"timestamp":"2026-03-13T08:00:02Z","user":"kees"}']
    with_batch_lines(home, 2)
    path = tmp_path / "grown.json"
    path.write_text("".join(text + "\n" for text in first_part), encoding="utf-8")
    [first] = ingest_paths(load_settings(home), [str(path)], format_name="json")
    with path.open("a", encoding="utf-8") as log:
        log.write("".join(text + "\n" for text in appended))
    [second] = ingest_paths(load_settings(home), [str(path)], format_name="json")
    assert (first.parsed, second.lines, second.parsed, second.rejected) == (3, 2, 1, 1)
    rows = duckdb.connect().sql(f"select user_name is not null, http_status from read_parquet("
                                f"'{home}/lake/events/**/*.parquet') where host = 'claude.ai'").fetchall()
    assert rows == [(True, None)]  # `status` is no key of the first objects
