"""Defender for Endpoint's HTTP and TLS inspection (HttpConnectionInspected, SslConnectionInspected) name their hosts.

Records written from the documented layout, not copied from logs: the streaming API record
(https://learn.microsoft.com/en-us/defender-xdr/streaming-api), the DeviceNetworkEvents columns
(https://learn.microsoft.com/en-us/defender-xdr/advanced-hunting-devicenetworkevents-table), and the keys of the Zeek
http.log and ssl.log records Defender's network inspection writes to AdditionalFields (Microsoft's "Enrich your advanced
hunting experience using network layer signals from Zeek",
https://techcommunity.microsoft.com/t5/microsoft-defender-for-endpoint/enrich-your-advanced-hunting-experience-using-network-layer/ba-p/3794693).
Public KQL hunting queries read the same keys: `AdditionalFields.host`, `.uri`, `.method`, `.user_agent`,
`.request_body_len`, `.response_body_len`, `.status_code`, `.direction` of HttpConnectionInspected rows and
`.server_name`, `.established`, `.direction` of SslConnectionInspected rows (e.g. the ClearFake, DarkGate and
BunnyLoader queries of the hunting-query collections on GitHub). What the keys mean is Zeek's: `host` the Host header,
`uri` the request target, `request_body_len` / `response_body_len` the uncompressed body sizes the client / the server
sent (https://docs.zeek.org/en/master/logs/http.html; corelight/Chronicle log-schemas/http.rst), `server_name` the
TLS SNI (https://docs.zeek.org/en/master/logs/ssl.html). A Defender export of the table in CSV holds the same JSON in
its AdditionalFields column (https://learn.microsoft.com/en-us/defender-xdr/advanced-hunting-query-results).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.golden import parse_lines

ROW = {"Timestamp": "2025-11-18T09:00:01.1020000Z", "DeviceId": "3f9a1c6e2b8d4f70a5e1c9b3d7f2a6e4c8b0d1f5",
       "DeviceName": "ws-0142.gemeente.local", "ActionType": "HttpConnectionInspected", "RemoteIP": "104.18.32.47",
       "RemotePort": 80, "RemoteUrl": None, "LocalIP": "10.20.14.87", "LocalPort": 54125, "Protocol": "Tcp",
       "InitiatingProcessAccountName": None, "InitiatingProcessAccountUpn": None, "ReportId": 19542}
HTTP = {"direction": "Out", "uid": "CHhAvVGS1DHFjwGM9", "trans_depth": "1", "method": "post", "host": "ChatGPT.com",
        "uri": "/backend-api/conversation?model=auto", "version": "1.1", "user_agent": "Mozilla/5.0 (Windows NT 10.0)",
        "request_body_len": "48213", "response_body_len": "1024", "status_code": "200", "status_msg": "OK",
        "tags": "[]"}
SSL = {"direction": "Out", "uid": "CsWUDd2GlWrxNyMTJ", "version": "TLSv13", "cipher": "TLS_AES_128_GCM_SHA256",
       "server_name": "Gemini.Google.com", "established": "true", "next_protocol": "h2"}
COLUMNS = ("src_ip", "src_host", "user_name", "dst_ip", "dst_port", "host", "host_source", "network_protocol",
           "http_method", "url_path", "http_status", "user_agent", "bytes_out", "bytes_in", "action")


def record(**properties: object) -> dict[str, object]:
    return {"time": "2025-11-18T09:05:12.5529341Z", "tenantId": "7c2f9e1a-0000-4e8f-9a61-2d5c8b0f3e17",
            "operationName": "Publish", "category": "AdvancedHunting-DeviceNetworkEvents",
            "properties": {**ROW, **properties}}


def read(tmp_path: Path, *records: dict[str, object]) -> list[dict[str, object]]:
    events, rejects, report = parse_lines(tmp_path / "PT1H.json", "defender_network",
                                          [json.dumps(r) for r in records])
    assert (report.parsed, report.rejected, report.ignored) == (len(records), 0, 0), rejects.to_pylist()
    return [{column: event[column] for column in COLUMNS} for event in events.to_pylist()]


POSTED = {"src_ip": "10.20.14.87", "src_host": "ws-0142.gemeente.local", "user_name": None, "dst_ip": "104.18.32.47",
          "dst_port": 80, "host": "chatgpt.com", "host_source": "http_host", "network_protocol": "http",
          "http_method": "POST", "url_path": "/backend-api/conversation", "http_status": 200,
          "user_agent": "Mozilla/5.0 (Windows NT 10.0)", "bytes_out": 48213, "bytes_in": 1024, "action": "unknown"}
SNI = {**{column: None for column in COLUMNS}, "src_ip": "10.20.14.87", "src_host": "ws-0142.gemeente.local",
       "dst_ip": "104.18.32.47", "dst_port": 443, "host": "gemini.google.com", "host_source": "sni",
       "network_protocol": "tls", "action": "unknown"}


def test_http_request_as_json_text_or_object_and_in_an_event_hubs_message(tmp_path: Path) -> None:
    as_text = record(AdditionalFields=json.dumps(HTTP))
    assert read(tmp_path, as_text, record(AdditionalFields=HTTP), {"records": [as_text]}) == [POSTED] * 3


def test_host_header_with_a_port_keeps_the_connection_port(tmp_path: Path) -> None:
    rows = read(tmp_path, record(AdditionalFields={**HTTP, "host": "ChatGPT.com:8080"}, RemotePort=8080),
                record(AdditionalFields={**HTTP, "host": "[2001:db8::1]:8080"}),
                record(AdditionalFields={**HTTP, "host": "chatgpt.com."}))
    assert [(r["host"], r["dst_port"]) for r in rows] == [("chatgpt.com", 8080), ("2001:db8::1", 80),
                                                           ("chatgpt.com", 80)]


def test_absolute_uri_gives_the_path_and_the_host_where_no_host_header_is(tmp_path: Path) -> None:
    # a request to a proxy: the request target is the whole URL (the Host header, where present, names the host)
    proxied = {**HTTP, "uri": "http://chatgpt.com/backend-api/conversation?x=1"}
    no_header = {**proxied, "host": None}
    rows = read(tmp_path, record(AdditionalFields=proxied), record(AdditionalFields=no_header))
    assert [(r["host"], r["host_source"], r["url_path"]) for r in rows] == [
        ("chatgpt.com", "http_host", "/backend-api/conversation"), ("chatgpt.com", "url", "/backend-api/conversation")]


def test_a_request_the_device_served_names_the_client_and_keeps_the_upload_its_request_body(tmp_path: Path) -> None:
    served = record(AdditionalFields={**HTTP, "direction": "In", "host": "intranet.gemeente.local"},
                    DeviceName="web01.gemeente.local", LocalIP="10.20.0.80", LocalPort=80, RemoteIP="10.20.14.87",
                    RemotePort=54125, InitiatingProcessAccountName="system")
    assert read(tmp_path, served) == [{**POSTED, "src_ip": "10.20.14.87", "src_host": None, "dst_ip": "10.20.0.80",
                                       "dst_port": 80, "host": "intranet.gemeente.local"}]


def test_tls_connection_named_by_its_sni(tmp_path: Path) -> None:
    tls = record(ActionType="SslConnectionInspected", RemotePort=443, AdditionalFields=json.dumps(SSL))
    failed = record(ActionType="SslConnectionInspected", RemotePort=443,
                    AdditionalFields={**SSL, "established": "false", "server_name": "COPILOT.microsoft.com"})
    assert read(tmp_path, tls, failed) == [SNI, {**SNI, "host": "copilot.microsoft.com"}]


def test_rows_without_the_key_are_as_before(tmp_path: Path) -> None:
    no_sni = {key: value for key, value in SSL.items() if key != "server_name"}
    rows = read(tmp_path, record(ActionType="SslConnectionInspected", RemotePort=443, AdditionalFields=no_sni),
                record(ActionType="SslConnectionInspected", RemotePort=443, AdditionalFields=no_sni,
                       RemoteUrl="copilot.microsoft.com"),
                record(AdditionalFields={**HTTP, "host": "", "uri": "/x"}),
                record(AdditionalFields=None), record(AdditionalFields="{not json"))
    assert [(r["host"], r["host_source"], r["dst_ip"], r["network_protocol"]) for r in rows] == [
        (None, "none", "104.18.32.47", "tls"), ("copilot.microsoft.com", "url", "104.18.32.47", "tls"),
        (None, "none", "104.18.32.47", "http"), (None, "none", "104.18.32.47", "http"),
        (None, "none", "104.18.32.47", "http")]
    assert rows[2]["url_path"] == "/x" and rows[3]["http_method"] is None


def test_values_that_are_no_numbers_or_placeholders_are_left_empty(tmp_path: Path) -> None:
    odd = {**HTTP, "status_code": "abc", "request_body_len": "-", "response_body_len": 2048.0, "user_agent": "-",
           "method": ""}
    (row,) = read(tmp_path, record(AdditionalFields=odd))
    assert (row["http_status"], row["bytes_out"], row["bytes_in"], row["user_agent"], row["http_method"]) == (
        None, None, 2048, None, None)


def test_other_action_types_do_not_read_these_keys(tmp_path: Path) -> None:
    connection = record(ActionType="ConnectionSuccess", RemotePort=443, AdditionalFields=json.dumps({**HTTP, **SSL}))
    (row,) = read(tmp_path, connection)
    assert (row["host"], row["http_method"], row["bytes_out"], row["network_protocol"]) == (None, None, None, None)


def test_aggregated_success_report_is_allowed(tmp_path: Path) -> None:
    """With aggregated reporting on (https://learn.microsoft.com/en-us/defender-endpoint/aggregated-reporting) an
    hour's successful connections come as one ConnectionSuccessAggregatedReport row (AdditionalFields with
    uniqueEventsAggregated, firstSeen, lastSeen), as hunting queries on GitHub list it beside ConnectionSuccess; a
    failed one is no decision. Both were `unknown`."""
    aggregated = json.dumps({"uniqueEventsAggregated": 14, "firstSeen": "2025-11-18T08:00:00Z",
                             "lastSeen": "2025-11-18T08:58:00Z"})
    success = record(ActionType="ConnectionSuccessAggregatedReport", RemotePort=443, RemoteUrl="claude.ai",
                     AdditionalFields=aggregated)
    failed = record(ActionType="ConnectionFailedAggregatedReport", RemotePort=443, RemoteUrl="claude.ai",
                    AdditionalFields=aggregated)
    rows = read(tmp_path, success, failed)
    assert [(row["host"], row["host_source"], row["action"]) for row in rows] == [
        ("claude.ai", "url", "allowed"), ("claude.ai", "url", "unknown")]


def test_accepted_inbound_connection_names_the_remote_end_as_the_client(tmp_path: Path) -> None:
    """InboundConnectionAccepted (DeviceNetworkEvents: the device accepted a connection, it is the server): the client
    is RemoteIP and the port it reached LocalPort, as for an inspected connection of direction In; the device's name
    and its process's account are the server's, not a client's. It was read as an outbound connection from the
    device to the client's ephemeral port. (The record's envelope as a real storage-account blob holds it, with
    `_TimeReceivedBySvc` and a null RemoteUrl: rknightion/graph2otel's pinned DeviceNetworkEvents record.)"""
    inbound = record(ActionType="InboundConnectionAccepted", RemoteIP="10.20.9.4", RemotePort=61234, RemoteUrl=None,
                     LocalPort=3389, InitiatingProcessAccountName="system")
    inbound["_TimeReceivedBySvc"] = "2025-11-18T09:04:00.0890446Z"
    (row,) = read(tmp_path, inbound)
    assert (row["src_ip"], row["dst_ip"], row["dst_port"], row["src_host"], row["user_name"], row["action"]) == \
        ("10.20.9.4", "10.20.14.87", 3389, None, None, "allowed")


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                      max_size=3), max_leaves=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.one_of(JSON_VALUES, st.dictionaries(st.sampled_from(sorted({**HTTP, **SSL})), JSON_VALUES,
                                                     max_size=8)),
       as_text=st.booleans(), action=st.sampled_from(["HttpConnectionInspected", "SslConnectionInspected"]))
def test_any_additional_fields_never_crash_and_every_line_is_an_event(tmp_path: Path, fields: object, as_text: bool,
                                                                      action: str) -> None:
    # (read asserts every record is parsed: an inspection record is an event whatever its AdditionalFields)
    (row,) = read(tmp_path, record(ActionType=action, AdditionalFields=json.dumps(fields) if as_text else fields))
    assert row["host_source"] in ("http_host", "url", "sni", "none")
    assert row["dst_ip"] in ("104.18.32.47",) or row["src_ip"] == "104.18.32.47"


# An advanced hunting export (Defender portal -> Export, or Sentinel's table of the same name) in CSV: the table's
# columns by name, AdditionalFields as its JSON text (CSV-quoted, `""` for a quote).
EXPORT_COLUMNS = ("Timestamp", "DeviceId", "DeviceName", "ActionType", "RemoteIP", "RemotePort", "RemoteUrl",
                  "LocalIP", "LocalPort", "Protocol", "InitiatingProcessAccountName", "InitiatingProcessAccountUpn",
                  "AdditionalFields")
DNS = {"direction": "Out", "query": "Claude.AI", "qtype_name": "A", "rcode_name": "NOERROR",
       "answers": json.dumps(["160.79.104.10"])}


def export(tmp_path: Path, *rows: dict[str, object], columns: tuple[str, ...] = EXPORT_COLUMNS
           ) -> list[dict[str, object]]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        values = {**ROW, "AdditionalFields": None, **row}
        writer.writerow(["" if values.get(c) is None else values[c] if isinstance(values[c], (str, int)) else
                         json.dumps(values[c]) for c in columns])
    events, rejects, report = parse_lines(tmp_path / "export.csv", "csv", out.getvalue().splitlines())
    assert (report.parsed, report.rejected) == (len(rows), 0), rejects.to_pylist()
    return [{column: event[column] for column in (*COLUMNS, "dns_qtype", "dns_answers")}
            for event in events.to_pylist()]


def test_export_reads_the_inspection_records_additional_fields(tmp_path: Path) -> None:
    rows = export(tmp_path, {"AdditionalFields": HTTP},
                  {"ActionType": "SslConnectionInspected", "RemotePort": 443, "AdditionalFields": SSL},
                  {"ActionType": "DnsConnectionInspected", "RemoteIP": "10.1.0.53", "RemotePort": 53,
                   "AdditionalFields": DNS},
                  {"ActionType": "ConnectionSuccess", "RemotePort": 443, "RemoteUrl": "chatgpt.com",
                   "AdditionalFields": {**HTTP, "host": "other.example"}})
    plain_fields = {"dns_qtype": None, "dns_answers": None}
    assert rows[0] == {**POSTED, **plain_fields}
    assert rows[1] == {**SNI, **plain_fields}
    assert {k: rows[2][k] for k in ("host", "host_source", "network_protocol", "dns_qtype", "dns_answers")} == {
        "host": "claude.ai", "host_source": "dns_query", "network_protocol": "dns", "dns_qtype": "A",
        "dns_answers": ["160.79.104.10"]}
    # not an inspection record: its AdditionalFields are not read, RemoteUrl names it
    assert (rows[3]["host"], rows[3]["host_source"], rows[3]["http_method"]) == ("chatgpt.com", "url", None)


def test_export_request_the_device_served_and_unreadable_fields(tmp_path: Path) -> None:
    rows = export(tmp_path, {"AdditionalFields": {**HTTP, "direction": "In"}, "DeviceName": "web01.gemeente.local",
                             "LocalIP": "10.20.0.80", "LocalPort": 8080, "RemoteIP": "10.20.14.87",
                             "RemotePort": 54125, "InitiatingProcessAccountName": "system"},
                  {"AdditionalFields": "{not json"}, {"AdditionalFields": None})
    assert (rows[0]["src_ip"], rows[0]["dst_ip"], rows[0]["dst_port"], rows[0]["src_host"], rows[0]["user_name"],
            rows[0]["host"]) == ("10.20.14.87", "10.20.0.80", 8080, None, None, "chatgpt.com")
    assert [(r["host"], r["dst_ip"], r["network_protocol"]) for r in rows[1:]] == [
        (None, "104.18.32.47", "http"), (None, "104.18.32.47", "http")]


def test_export_without_additional_fields_is_read_as_before(tmp_path: Path) -> None:
    (row,) = export(tmp_path, {"ActionType": "SslConnectionInspected", "RemotePort": 443},
                    columns=EXPORT_COLUMNS[:-1])
    assert (row["host"], row["host_source"], row["dst_ip"], row["network_protocol"]) == (
        None, "none", "104.18.32.47", None)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.one_of(JSON_VALUES.map(json.dumps), st.text(max_size=20)),
       action=st.sampled_from(["HttpConnectionInspected", "SslConnectionInspected", "DnsConnectionInspected"]))
def test_any_additional_fields_text_of_an_export_never_crash(tmp_path: Path, fields: str, action: str) -> None:
    # (export asserts every row is parsed, none rejected; a line ending or the CSV reader's own placeholders chr(1),
    # chr(2) inside a field are another test's subject)
    text = "".join(ch for ch in fields if ch not in "\x00\x01\x02\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
    (row,) = export(tmp_path, {"ActionType": action, "AdditionalFields": text})
    assert row["host_source"] in ("http_host", "url", "sni", "dns_query", "none")
