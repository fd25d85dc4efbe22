"""Microsoft Defender for Endpoint DeviceNetworkEvents: CSV exports (generic CSV format) and the streaming API's
JSON records (format defender_network).

Lines written from Microsoft's documentation: the DeviceNetworkEvents table of the advanced hunting schema
(Timestamp, DeviceId, DeviceName, ActionType, RemoteIP, RemotePort, RemoteUrl, LocalIP, LocalPort, Protocol,
InitiatingProcess* columns; RemoteUrl "URL or fully qualified domain name"), and the streaming API's record
`{"time", "tenantId", "category": "AdvancedHunting-<table>", "properties": {<row>}}`, one per line in a Storage
account's blobs, `{"records": [...]}` per Event Hubs message.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from detector.ingest import FORMATS, sniff
from detector.ingest.csv_generic import resolve, split_header
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings

ADVANCED_HUNTING_HEADER = ("Timestamp,DeviceId,DeviceName,ActionType,RemoteIP,RemotePort,RemoteUrl,LocalIP,LocalPort,"
                           "Protocol,InitiatingProcessFileName,InitiatingProcessAccountName,InitiatingProcessAccountUpn")
# Sentinel's DeviceNetworkEvents table exported from Log Analytics: times as `11/18/2025, 9:00:01.102 AM` in UTC
SENTINEL_HEADER = ("TenantId,TimeGenerated [UTC],Timestamp [UTC],DeviceId,DeviceName,ActionType,RemoteIP,RemotePort,"
                   "RemoteUrl,LocalIP,LocalPort,Protocol,InitiatingProcessAccountName,InitiatingProcessAccountUpn,Type")


def parse(tmp_path: Path, key: str, *lines: str, name: str = "export") -> tuple[list[dict], list[dict]]:
    path = tmp_path / f"{name}.{'csv' if key == 'csv' else 'json'}"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS[key], golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist()


def picked(event: dict, *fields: str) -> tuple:
    return tuple(event[field] for field in fields)


FIELDS = ("src_ip", "src_host", "user_name", "host", "dst_ip", "dst_port", "action")


def test_advanced_hunting_csv_export(tmp_path: Path) -> None:
    rows = ["2025-11-18T09:00:01.1020000Z,3f9a1c,ws-0142.gemeente.local,ConnectionSuccess,104.18.32.47,443,chatgpt.com,"
            "10.20.14.87,52817,Tcp,msedge.exe,jdevries,j.devries@gemeente.example",
            "2025-11-18T09:00:02.5000000Z,3f9a1c,ws-0142.gemeente.local,ConnectionFailed,160.79.104.10,443,"
            "https://claude.ai/api/organizations,10.20.14.87,52818,Tcp,chrome.exe,jdevries,j.devries@gemeente.example",
            "2025-11-18T09:00:03.0000000Z,3f9a1c,ws-0142.gemeente.local,ConnectionRequest,20.42.65.85,443,,"
            "10.20.14.87,52819,Tcp,svchost.exe,network service,"]
    events, rejects = parse(tmp_path, "csv", ADVANCED_HUNTING_HEADER, *rows)
    assert not rejects
    assert [picked(e, *FIELDS) for e in events] == [
        ("10.20.14.87", "ws-0142.gemeente.local", "j.devries@gemeente.example", "chatgpt.com", "104.18.32.47", 443,
         "allowed"),
        ("10.20.14.87", "ws-0142.gemeente.local", "j.devries@gemeente.example", "claude.ai", "160.79.104.10", 443,
         "unknown"),  # a failed connection: nothing Defender decided
        ("10.20.14.87", "ws-0142.gemeente.local", "network service", None, "20.42.65.85", 443, "unknown")]
    assert events[0]["ts"].isoformat() == "2025-11-18T09:00:01.102000+00:00"
    assert (events[1]["url_path"], events[1]["network_protocol"]) == ("/api/organizations", "https")
    # Protocol is the transport, not an application protocol; Defender logs no bytes
    assert [e["network_protocol"] for e in events] == [None, "https", None]
    assert all(e["bytes_out"] is None and e["bytes_in"] is None for e in events)


def test_sentinel_device_network_events_export(tmp_path: Path) -> None:
    rows = ['0d6c,"11/18/2025, 9:00:03.512 AM","11/18/2025, 9:00:01.102 AM",3f9a1c,ws-0142.gemeente.local,'
            'ConnectionSuccess,104.18.32.47,443,chatgpt.com,10.20.14.87,52817,Tcp,jdevries,j.devries@gemeente.example,'
            'DeviceNetworkEvents',
            '0d6c,"11/18/2025, 1:00:03.512 PM","11/18/2025, 1:00:01.000 PM",3f9a1c,ws-0142.gemeente.local,'
            'ConnectionFound,2a01:111:f100:3000::a83e:1936,443,copilot.microsoft.com,fe80::5c2a:1ff:fe0b:7d21,52817,'
            'TcpV6,jdevries,,DeviceNetworkEvents']
    events, rejects = parse(tmp_path, "csv", SENTINEL_HEADER, *rows)
    assert not rejects
    assert [e["ts"].isoformat() for e in events] == ["2025-11-18T09:00:01.102000+00:00", "2025-11-18T13:00:01+00:00"]
    assert [picked(e, *FIELDS) for e in events] == [
        ("10.20.14.87", "ws-0142.gemeente.local", "j.devries@gemeente.example", "chatgpt.com", "104.18.32.47", 443,
         "allowed"),
        ("fe80::5c2a:1ff:fe0b:7d21", "ws-0142.gemeente.local", "jdevries", "copilot.microsoft.com",
         "2a01:111:f100:3000::a83e:1936", 443, "allowed")]


def test_network_protection_block_in_a_csv_is_blocked(tmp_path: Path) -> None:
    row = ("2025-11-18T09:05:00Z,3f9a1c,ws-0142.gemeente.local,ExploitGuardNetworkProtectionBlocked,104.18.33.45,443,"
           "https://www.deepseek.com/,10.20.14.87,52900,Tcp,msedge.exe,jdevries,j.devries@gemeente.example")
    events, rejects = parse(tmp_path, "csv", ADVANCED_HUNTING_HEADER, row)
    assert not rejects and (events[0]["action"], events[0]["host"]) == ("blocked", "www.deepseek.com")


def test_names_written_as_a_field_win_and_other_csvs_are_unchanged() -> None:
    header = "Timestamp,src_ip,LocalIP,RemoteIP,RemoteUrl,user_name,InitiatingProcessAccountUpn"
    chosen = resolve(split_header(header, ","))
    assert (chosen["src_ip"], chosen["user_name"], chosen["url"], chosen["dst_ip"]) == (1, 5, 4, 3)
    # CommonSecurityLog's DeviceName is the appliance's: not the client's host outside DeviceNetworkEvents' header
    cef = resolve(split_header("TimeGenerated [UTC],DeviceName,SourceIP,DestinationHostName,Protocol", ","))
    assert "src_host" not in cef and cef["network_protocol"] == 4
    assert "network_protocol" not in resolve(split_header(ADVANCED_HUNTING_HEADER, ","))


def record(category: str = "AdvancedHunting-DeviceNetworkEvents", **properties: object) -> dict:
    row = {"Timestamp": "2026-03-30T08:01:15.2501234Z", "DeviceId": "9c1e5a0f", "DeviceName": "ws-0142.gemeente.local",
           "ActionType": "ConnectionSuccess", "RemoteIP": "104.18.32.47", "RemotePort": 443, "RemoteUrl": "chatgpt.com",
           "LocalIP": "10.20.14.87", "LocalPort": 52817, "Protocol": "Tcp", "InitiatingProcessFileName": "msedge.exe",
           "InitiatingProcessAccountName": "jdevries", "InitiatingProcessAccountUpn": "j.devries@gemeente.example",
           **properties}
    return {"time": "2026-03-30T08:01:31.5529341Z", "tenantId": "7c2f9e1a", "operationName": "Publish",
            "category": category, "properties": row}


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def test_streaming_api_records(tmp_path: Path) -> None:
    lines = [compact(record()),
             json.dumps(record(RemoteUrl="https://claude.ai/api/organizations", ActionType="ConnectionFailed",
                               InitiatingProcessAccountUpn=None, InitiatingProcessAccountName="system")),
             compact(record(RemoteUrl=None, RemoteIP="20.42.65.85", ActionType="ConnectionRequest"))]
    events, rejects = parse(tmp_path, "defender_network", *lines)
    assert not rejects
    assert [picked(e, *FIELDS) for e in events] == [
        ("10.20.14.87", "ws-0142.gemeente.local", "j.devries@gemeente.example", "chatgpt.com", "104.18.32.47", 443,
         "allowed"),
        ("10.20.14.87", "ws-0142.gemeente.local", "system", "claude.ai", "104.18.32.47", 443, "unknown"),
        ("10.20.14.87", "ws-0142.gemeente.local", "j.devries@gemeente.example", None, "20.42.65.85", 443, "unknown")]
    assert events[0]["ts"].isoformat() == "2026-03-30T08:01:15.250123+00:00"  # properties.Timestamp, not `time`
    assert [(e["host_source"], e["url_path"]) for e in events] == [("url", None), ("url", "/api/organizations"),
                                                                   ("none", None)]


def test_other_tables_and_listening_sockets_are_ignored_network_protection_blocks_read(tmp_path: Path) -> None:
    lines = [compact(record("AdvancedHunting-DeviceProcessEvents", ActionType="ProcessCreated")),
             compact(record(ActionType="ListeningConnectionCreated", RemoteIP="0.0.0.0", RemoteUrl="")),
             compact(record("AdvancedHunting-DeviceEvents", ActionType="AntivirusDetection")),
             compact(record("AdvancedHunting-DeviceEvents", ActionType="ExploitGuardNetworkProtectionBlocked",
                            RemoteUrl="https://www.deepseek.com/"))]
    events, rejects = parse(tmp_path, "defender_network", *lines)
    assert not rejects
    assert [(e["line_no"], e["host"], e["action"]) for e in events] == [(4, "www.deepseek.com", "blocked")]


def test_event_hubs_messages(tmp_path: Path) -> None:
    """A file of Event Hubs messages gives each record its line (json_document): the network events are read, the
    other tables' records ignored."""
    lines = [compact({"records": [record()]}), compact({"records": [record(), record()]}),
             compact({"records": [record("AdvancedHunting-DeviceProcessEvents"), record()]})]
    events, rejects = parse(tmp_path, "defender_network", *lines)
    assert [(e["line_no"], e["host"]) for e in events] == [(n, "chatgpt.com") for n in (1, 2, 3, 5)]
    assert not rejects


def test_several_records_on_a_line_after_single_records_are_rejected_with_the_fix(tmp_path: Path) -> None:
    """Where the file's first line is a record of its own, a later message of several is one line: rejected, naming
    the fix (one event a line)."""
    events, rejects = parse(tmp_path, "defender_network", compact(record()),
                            compact({"records": [record(), record()]}))
    assert [e["host"] for e in events] == ["chatgpt.com"]
    assert [r["line_no"] for r in rejects] == [2]
    assert "2 records on one line" in rejects[0]["reason"] and ".records[]" in rejects[0]["reason"]


@pytest.mark.parametrize(("line", "reason"), [
    ('{"category":"AdvancedHunting-DeviceNetworkEvents","properties":{"Timestamp":', "not a JSON object"),
    ('{"time":"2026-03-30T08:01:31Z","properties":{}}', 'not a Defender streaming API record (no "category")'),
    (compact(record(Timestamp=None)), "no properties.Timestamp"),
    (compact(record(Timestamp="gisteren")), "time not understood: gisteren"),
])
def test_rejects_say_why(tmp_path: Path, line: str, reason: str) -> None:
    events, rejects = parse(tmp_path, "defender_network", compact(record()), line)
    assert len(events) == 1 and [r["reason"] for r in rejects] == [reason]


def test_sniffed_from_storage_blob_lines_and_event_hubs_messages() -> None:
    assert sniff([compact(record())] * 3).name == "defender_network"
    assert sniff([json.dumps({"records": [record()]})] * 2).name == "defender_network"
    assert sniff([ADVANCED_HUNTING_HEADER, "2025-11-18T09:00:01Z,a,b,ConnectionSuccess,1.2.3.4,443,x.nl,10.0.0.1,1,"
                  "Tcp,a.exe,b,c"]).name == "csv"
