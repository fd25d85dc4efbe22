"""Microsoft Sentinel's normalised (ASIM) columns in CSV and JSON exports: web sessions, network sessions and DNS."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from detector.ingest import FORMATS, sniff_scores
from detector.ingest.asim_columns import is_asim
from detector.ingest.csv_generic import normalise, other_spellings, resolve
from detector.ingest.pipeline import parse_file
from detector.ingest.reader import head_lines, read_head
from tests.golden import SAMPLES, golden_settings


def parse(tmp_path: Path, name: str, text: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    fmt = FORMATS["json" if name.endswith(".json") else "csv"]
    events, rejects, report = parse_file(path, fmt, golden_settings(), None)
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist()


def csv_export(header: Mapping[str, str], *rows: Mapping[str, str]) -> str:
    """A Log Analytics CSV export: `header` names the columns (in order) with a value for rows that leave one out."""
    names = list(header)
    lines = [",".join(names)] + [",".join('"' + row.get(name, header[name]).replace('"', '""') + '"' for name in names)
                                 for row in rows]
    return "\n".join(lines) + "\n"


WEB = {"TimeGenerated [UTC]": "11/23/2026, 8:03:00.412 AM", "SrcIpAddr": "10.20.14.87",
       "SrcUsername": "j.devries@gemeente.example", "User": "j.devries@gemeente.example", "Hostname": "chatgpt",
       "DstHostname": "chatgpt", "Dst": "104.18.32.47", "Src": "10.20.14.87", "DstIpAddr": "104.18.32.47",
       "Url": "https://chatgpt.com/backend-api/conversation", "EventResultDetails": "200", "DvcAction": "Allow",
       "NetworkProtocol": "TCP", "NetworkApplicationProtocol": "HTTP"}


def test_a_web_session_export_reads_the_url_not_the_destination_device_names(tmp_path: Path) -> None:
    events, rejects = parse(tmp_path, "web.csv", csv_export(WEB, {}, {"Url": "", "DstIpAddr": ""}))
    event = events[0]
    # the URL's host, not DstHostname's short name; the application protocol, not the transport (TCP)
    assert (event["host"], event["url_path"], event["network_protocol"]) == (
        "chatgpt.com", "/backend-api/conversation", "http")
    # EventResultDetails is the HTTP status (HttpStatusCode is its alias); Src and Dst are not the addresses read
    assert (event["http_status"], event["src_ip"], event["dst_ip"], event["action"]) == (
        200, "10.20.14.87", "104.18.32.47", "allowed")
    assert [r["reason"] for r in rejects] == ["no destination (Url/DstIpAddr empty)"]


def test_network_session_user_alias_is_the_destination_user_and_is_not_read(tmp_path: Path) -> None:
    header = {"TimeGenerated [UTC]": "2026-11-23T10:00:01Z", "SrcIpAddr": "10.20.14.87", "SrcUsername": "",
              "User": "svc-backup", "DstUsername": "svc-backup", "DstIpAddr": "162.159.140.245", "DstFQDN": "",
              "DstHostname": "", "DvcAction": "Allow", "NetworkProtocol": "UDP"}
    events, rejects = parse(tmp_path, "flows.csv", csv_export(
        header, {"SrcUsername": "GEMEENTE\\jdevries", "DstFQDN": "gemini.google.com", "DstHostname": "gemini"},
        {"DstHostname": "api.openai.com", "DvcAction": "Drop"}, {"DvcAction": "Reset Source"}))
    assert not rejects
    assert [e["user_name"] for e in events] == ["GEMEENTE\\jdevries", None, None]
    # DstFQDN, else DstHostname where the FQDN is empty
    assert [e["host"] for e in events] == ["gemini.google.com", "api.openai.com", None]
    assert [e["action"] for e in events] == ["allowed", "blocked", "blocked"]
    assert {e["network_protocol"] for e in events} == {None}


def test_dns_export_reads_the_query_and_its_codes_not_the_domain_alias(tmp_path: Path) -> None:
    header = {"TimeGenerated [UTC]": "11/23/2026, 9:19:25.391 AM", "EventSubType": "response",
              "EventResultDetails": "NXDOMAIN", "SrcIpAddr": "10.20.22.31", "DstIpAddr": "10.5.0.7",
              "DnsQuery": "no-such-assistant.example", "DnsQueryType": "28", "Domain": "other.example",
              "Hostname": "lt-0077"}
    events, rejects = parse(tmp_path, "dns.csv", csv_export(header, {}, {"EventResultDetails": "NA"}))
    assert not rejects
    first, second = events
    assert (first["host"], first["host_source"], first["dns_qtype"], first["dns_rcode"]) == (
        "no-such-assistant.example", "dns_query", "AAAA", "NXDOMAIN")
    assert (first["src_ip"], first["dst_ip"], first["src_host"]) == ("10.20.22.31", "10.5.0.7", None)
    assert second["dns_rcode"] is None  # ASIM's NA: not applicable


def test_a_json_export_is_read_by_the_same_names_without_ecs_ones(tmp_path: Path) -> None:
    lines = [
        {"TimeGenerated": "2026-11-23T08:03:00.412Z", "SrcIpAddr": "10.20.14.87", "SrcUsername": "jdevries",
         "DstIpAddr": "20.42.65.92", "DstHostname": "api.openai.com", "DstFQDN": None, "NetworkProtocol": "TCP",
         "User": "svc-backup", "SrcBytes": 2200, "DstBytes": 16384, "DvcAction": "Deny",
         "AdditionalFields": {"rule": "block-ai"}},
        {"TimeGenerated": "2026-11-23T08:03:01Z", "SrcIpAddr": "10.20.14.88", "DstIpAddr": "162.159.140.245",
         "DstFQDN": "gemini.google.com", "DstHostname": "gemini", "NetworkProtocol": "TCP", "DvcAction": "Allow"},
    ]
    events, rejects = parse(tmp_path, "flows.json", "".join(json.dumps(line) + "\n" for line in lines))
    assert not rejects
    assert [(e["host"], e["user_name"], e["action"], e["network_protocol"]) for e in events] == [
        ("api.openai.com", "jdevries", "blocked", None), ("gemini.google.com", None, "allowed", None)]
    assert (events[0]["bytes_out"], events[0]["bytes_in"]) == (2200, 16384)


def test_only_headers_with_asim_address_columns_are_read_as_asim() -> None:
    def spellings(*columns: str) -> list[set[str]]:
        return [{normalise(c), *other_spellings(c)} for c in columns]

    assert is_asim(spellings("TimeGenerated [UTC]", "SrcIpAddr", "DnsQuery"))
    assert is_asim(spellings("time_generated", "dst_ip_addr", "url"))
    assert not is_asim(spellings("timestamp", "user", "hostname", "src_ip"))
    # a generic header keeps its `user` and `hostname`, which an ASIM one leaves unread
    generic = ["timestamp", "user", "hostname"]
    assert {field: generic[at] for field, at in resolve(generic).items()} == {
        "ts": "timestamp", "user_name": "user", "host": "hostname"}
    asim = ["TimeGenerated", "SrcIpAddr", "User", "Hostname"]
    assert {field: asim[at] for field, at in resolve(asim).items()} == {"ts": "TimeGenerated", "src_ip": "SrcIpAddr"}


@pytest.mark.parametrize("sample", ["csv/sentinel_asim_websession.csv", "csv/sentinel_asim_dns.csv",
                                    "csv/sentinel_asim_networksession.csv", "json/sentinel_asim_websession.json"])
def test_sentinel_exports_are_recognised_without_format(sample: str) -> None:
    path = SAMPLES / sample
    best, _ = sniff_scores(head_lines(read_head(path)))[0]
    assert best == sample.split("/")[0]


DNS_ROW = {"TimeGenerated [UTC]": "2026-11-23T09:19:25Z", "EventSubType": "request", "SrcIpAddr": "10.20.14.87",
           "DstIpAddr": "10.5.0.7", "DnsQuery": "chatgpt.com", "DnsResponseCodeName": "NA"}


def test_requests_are_ignored_where_the_export_holds_their_responses(tmp_path: Path) -> None:
    path = tmp_path / "dns.csv"
    path.write_text(csv_export(DNS_ROW, {}, {"EventSubType": "Response", "DnsResponseCodeName": "NOERROR"},
                               {"DnsQuery": "claude.ai"}), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS["csv"], golden_settings(), None)
    assert not rejects.num_rows and (report.parsed, report.ignored) == (1, 3)  # the header and two requests
    assert events.to_pylist()[0]["dns_rcode"] == "NOERROR"
    # a source that logs requests alone keeps them: each is the lookup
    only_requests = csv_export(DNS_ROW, {}, {"DnsQuery": "claude.ai"})
    events_of_requests, _ = parse(tmp_path, "requests.csv", only_requests)
    assert [e["host"] for e in events_of_requests] == ["chatgpt.com", "claude.ai"]


def test_json_requests_are_ignored_where_the_export_holds_their_responses(tmp_path: Path) -> None:
    row = {"TimeGenerated": "2026-11-23T09:19:25Z", "EventSubType": "request", "SrcIpAddr": "10.20.14.87",
           "DnsQuery": "chatgpt.com"}
    lines = [row, {**row, "EventSubType": "response", "DnsResponseCodeName": "NOERROR"}, {**row, "DnsQuery": "x.ai"}]
    events, rejects = parse(tmp_path, "dns.json", "".join(json.dumps(line) + "\n" for line in lines))
    assert not rejects and [e["dns_rcode"] for e in events] == ["NOERROR"]
    events, _ = parse(tmp_path, "requests.json", "".join(json.dumps(line) + "\n" for line in (lines[0], lines[2])))
    assert [e["host"] for e in events] == ["chatgpt.com", "x.ai"]


def test_the_files_first_lines_decide_for_every_batch(tmp_path: Path) -> None:
    rows = [{"EventSubType": "response", "DnsResponseCodeName": "NOERROR"}] + [{}] * 20  # batches of 7 lines
    path = tmp_path / "dns.csv"
    path.write_text(csv_export(DNS_ROW, *rows), encoding="utf-8")
    assert golden_settings().batch_lines < len(rows)
    _, _, report = parse_file(path, FORMATS["csv"], golden_settings(), None)
    assert (report.parsed, report.ignored) == (1, 21)


def test_a_response_code_written_as_the_response_is_no_answer(tmp_path: Path) -> None:
    header = {**DNS_ROW, "EventSubType": "response", "DnsResponseName": "NOERROR", "DnsResponseCodeName": "NOERROR"}
    events, _ = parse(tmp_path, "dns.csv", csv_export(header, {}, {"DnsResponseName": "104.18.32.47"}))
    assert [e["dns_answers"] for e in events] == [None, ["104.18.32.47"]]


def test_rows_that_are_no_clients_lookup_are_ignored(tmp_path: Path) -> None:
    """Windows DNS's own recursion (its forwarder as the source), updates and internal lookups by their analytical
    event ID, and any source's rows of another EventType than Query; another product's ID 261 is its own."""
    header = {**DNS_ROW, "EventSubType": "response", "EventType": "Query", "EventOriginalType": "257",
              "EventProduct": "DNS Server"}
    rows = [{}, {"EventOriginalType": "261", "SrcIpAddr": "8.8.8.8"}, {"EventOriginalType": "280"},
            {"EventType": "Update", "EventOriginalType": "264"}, {"EventType": "XFR", "EventProduct": "NIOS"},
            {"EventOriginalType": "261", "EventProduct": "NIOS"}, {"EventOriginalType": " 279 "}]
    path = tmp_path / "dns.csv"
    path.write_text(csv_export(header, *rows), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS["csv"], golden_settings(), None)
    assert not rejects.num_rows and (report.parsed, report.ignored) == (2, 6)
    assert events.column("line_no").to_pylist() == [2, 7]
    json_rows = [{k.replace(" [UTC]", ""): v for k, v in {**header, **row}.items()} for row in rows]
    json_events, _ = parse(tmp_path, "dns.json", "".join(json.dumps(row) + "\n" for row in json_rows))
    assert [e["line_no"] for e in json_events] == [1, 6]


def test_the_legacy_dns_events_table_reads_with_map_as_dns_lookups(tmp_path: Path) -> None:
    """Log Analytics' DnsEvents (the retired agent's table): `Name` is too generic a column to take unasked; mapped,
    it is a DNS question (beside a query type column), so its answers can name flows."""
    path = tmp_path / "dnsevents.csv"
    path.write_text('"TimeGenerated [UTC]",Computer,EventId,SubType,ClientIP,Name,QueryType,IPAddresses,ResultCode\n'
                    '"11/23/2026, 9:19:25.391 AM",dns01,257,LookupQuery,10.20.14.87,chatgpt.com,A,'
                    '"104.18.32.47, 172.64.155.209",0\n', encoding="utf-8")
    events, rejects, _ = parse_file(path, FORMATS["csv"], golden_settings(),
                                    {"Name": "host", "IPAddresses": "dns_answers", "ResultCode": "dns_rcode"})
    assert not rejects.num_rows
    event = events.to_pylist()[0]
    assert (event["host"], event["host_source"], event["src_ip"], event["dns_rcode"]) == (
        "chatgpt.com", "dns_query", "10.20.14.87", "NOERROR")
    assert event["dns_answers"] == ["104.18.32.47", "172.64.155.209"]
