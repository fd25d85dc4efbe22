"""Defender for Endpoint's DNS inspection (DeviceNetworkEvents, ActionType DnsConnectionInspected) read as DNS events.

Records written from the documented layout, not copied from logs: the streaming API record (`{"time", "tenantId",
"category": "AdvancedHunting-DeviceNetworkEvents", "properties": {...}}`,
https://learn.microsoft.com/en-us/defender-xdr/streaming-api), the DeviceNetworkEvents columns
(https://learn.microsoft.com/en-us/defender-xdr/advanced-hunting-devicenetworkevents-table), and the Zeek dns.log keys
Defender's network inspection writes to AdditionalFields (Microsoft's "Enrich your advanced hunting experience using
network layer signals from Zeek",
https://techcommunity.microsoft.com/t5/microsoft-defender-for-endpoint/enrich-your-advanced-hunting-experience-using-network-layer/ba-p/3794693;
the keys and their spelling, `answers` a JSON array written as a string, as in the streamed record of
elastic/integrations packages/m365_defender/data_stream/event/_dev/test/pipeline/test-device.log).
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.golden import parse_lines

ROW = {"Timestamp": "2025-11-18T09:00:01.1020000Z", "DeviceId": "3f9a1c6e2b8d4f70a5e1c9b3d7f2a6e4c8b0d1f5",
       "DeviceName": "ws-0142.gemeente.local", "ActionType": "DnsConnectionInspected", "RemoteIP": "10.1.0.53",
       "RemotePort": 53, "RemoteUrl": None, "LocalIP": "10.20.14.87", "LocalPort": 54125, "Protocol": "Udp",
       "InitiatingProcessAccountName": None, "InitiatingProcessAccountUpn": None, "ReportId": 19542}
FIELDS = {"direction": "Out", "trans_id": "18296", "rtt": "0.0213", "query": "Chat.OpenAI.com", "qclass": "1",
          "qclass_name": "C_INTERNET", "qtype": "1", "qtype_name": "A", "rcode": "0", "rcode_name": "NOERROR",
          "AA": "false", "TC": "false", "RD": "true", "RA": "true",
          "answers": json.dumps(["chat.openai.com.cdn.cloudflare.net", "104.18.37.228"]), "TTLs": "[300.0, 300.0]",
          "rejected": "false"}
COLUMNS = ("src_ip", "src_host", "dst_ip", "dst_port", "host", "host_source", "network_protocol", "action",
           "dns_qtype", "dns_rcode", "dns_answers")


def record(**properties: object) -> dict[str, object]:
    return {"time": "2025-11-18T09:05:12.5529341Z", "tenantId": "7c2f9e1a-0000-4e8f-9a61-2d5c8b0f3e17",
            "operationName": "Publish", "category": "AdvancedHunting-DeviceNetworkEvents",
            "properties": {**ROW, **properties}}


def read(tmp_path: Path, *records: dict[str, object]) -> list[dict[str, object]]:
    events, rejects, report = parse_lines(tmp_path / "PT1H.json", "defender_network",
                                          [json.dumps(r) for r in records])
    assert (report.parsed, report.rejected, report.ignored) == (len(records), 0, 0), rejects.to_pylist()
    return [{column: event[column] for column in COLUMNS} for event in events.to_pylist()]


ASKED_BY_THE_DEVICE = {"src_ip": "10.20.14.87", "src_host": "ws-0142.gemeente.local", "dst_ip": "10.1.0.53",
                       "dst_port": 53, "host": "chat.openai.com", "host_source": "dns_query",
                       "network_protocol": "dns", "action": "unknown", "dns_qtype": "A", "dns_rcode": "NOERROR",
                       "dns_answers": ["chat.openai.com.cdn.cloudflare.net", "104.18.37.228"]}


def test_query_and_answers_as_json_text_or_object_and_in_an_event_hubs_message(tmp_path: Path) -> None:
    as_text = record(AdditionalFields=json.dumps(FIELDS))
    assert read(tmp_path, as_text, record(AdditionalFields=FIELDS),
                {"records": [as_text]}) == [ASKED_BY_THE_DEVICE] * 3


def test_a_query_the_device_answered_names_the_asking_client(tmp_path: Path) -> None:
    # direction In: the device (a DNS server) was asked; the client is the remote end, the device's user is not its
    served = record(AdditionalFields={**FIELDS, "direction": "In"}, DeviceName="dc01.gemeente.local",
                    LocalIP="10.1.0.53", LocalPort=53, RemoteIP="10.20.14.87", RemotePort=54125,
                    InitiatingProcessAccountName="system")
    assert read(tmp_path, served) == [{**ASKED_BY_THE_DEVICE, "src_host": None}]


def test_failed_lookup_and_answers_that_are_no_names(tmp_path: Path) -> None:
    nxdomain = {**FIELDS, "query": "nx.gemeente.example.", "rcode": "3", "rcode_name": "NXDOMAIN"}
    del nxdomain["answers"], nxdomain["TTLs"]
    txt = {**FIELDS, "qtype": "16", "qtype_name": "TXT", "answers": json.dumps(["TXT 11 v=spf1 -all"])}
    rows = read(tmp_path, record(AdditionalFields=nxdomain), record(AdditionalFields=txt))
    assert [(r["host"], r["dns_qtype"], r["dns_rcode"], r["dns_answers"]) for r in rows] == [
        ("nx.gemeente.example", "A", "NXDOMAIN", None), ("chat.openai.com", "TXT", "NOERROR", None)]


def test_unreadable_or_missing_fields_leave_a_nameless_event(tmp_path: Path) -> None:
    rows = read(tmp_path, record(AdditionalFields=None), record(AdditionalFields="{not json"),
                record(AdditionalFields={**FIELDS, "answers": "[unclosed"}))
    assert [(r["host"], r["dst_ip"], r["dns_answers"]) for r in rows] == [
        (None, "10.1.0.53", None), (None, "10.1.0.53", None), ("chat.openai.com", "10.1.0.53", None)]


def test_other_records_keep_their_url_host(tmp_path: Path) -> None:
    connection = record(ActionType="ConnectionSuccess", RemoteUrl="chatgpt.com", RemoteIP="104.18.32.47",
                        RemotePort=443, AdditionalFields=json.dumps(FIELDS))
    (row,) = read(tmp_path, connection)
    assert (row["host"], row["host_source"], row["network_protocol"], row["dns_answers"]) == (
        "chatgpt.com", "url", None, None)


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                      max_size=3), max_leaves=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.one_of(JSON_VALUES, st.dictionaries(st.sampled_from(sorted(FIELDS)), JSON_VALUES, max_size=6)),
       as_text=st.booleans())
def test_any_additional_fields_never_crash_and_every_line_is_an_event(tmp_path: Path, fields: object,
                                                                      as_text: bool) -> None:
    # (read asserts every record is parsed: a DNS inspection record is an event whatever its AdditionalFields)
    (row,) = read(tmp_path, record(AdditionalFields=json.dumps(fields) if as_text else fields))
    assert row["host_source"] in ("dns_query", "none") and row["dst_ip"] == "10.1.0.53"
