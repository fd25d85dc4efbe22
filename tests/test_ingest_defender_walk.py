"""Defender streaming API records read by json_scan's compiled walk (defender_walk) give the columns DuckDB's JSON
query gives (defender.QUERY), line for line, and the lines the walk doubts are left to that query.

Records written from Microsoft's documentation: the streaming API's record `{"time", "tenantId", "category":
"AdvancedHunting-<table>", "properties": {<row>}}` ("Stream Microsoft Defender for Endpoint events",
https://learn.microsoft.com/en-us/defender-endpoint/api/raw-data-export), the DeviceNetworkEvents columns of the
advanced hunting schema (https://learn.microsoft.com/en-us/defender-xdr/advanced-hunting-devicenetworkevents-table),
and the network inspection records' AdditionalFields keys as Zeek's dns.log, http.log and ssl.log name them
(https://docs.zeek.org/en/master/logs/dns.html, .../http.html, .../ssl.html).
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pyarrow as pa
import pytest

from detector.ingest import defender
from detector.ingest.base import open_parse_connection, parse_cursor
from detector.ingest.defender_walk import Walk


def record(action: str, fields: object = None, category: str = defender.CATEGORY, **properties: object) -> dict:
    row = {"Timestamp": "2026-03-30T08:10:41.2501234Z", "DeviceName": "ws-0142.gemeente.local", "ActionType": action,
           "RemoteIP": "10.20.0.53", "RemotePort": 53, "RemoteUrl": None, "LocalIP": "10.20.14.87",
           "LocalPort": 61044, "InitiatingProcessAccountName": None, "InitiatingProcessAccountUpn": None,
           **({"AdditionalFields": fields} if fields is not None else {}), **properties}
    return {"time": "2026-03-30T08:11:02.1000000Z", "tenantId": "7c2f9e1a", "category": category, "properties": row}


DNS = {"direction": "Out", "trans_id": "4711", "query": "chatgpt.com", "qtype_name": "A", "rcode_name": "NOERROR",
       "answers": json.dumps(["104.18.32.47", "chatgpt.com.cdn.cloudflare.net."]), "TTLs": "[300.0]"}
HTTP = {"direction": "Out", "method": "POST", "host": "api.openai.com:443", "uri": "/v1/chat/completions?x=1",
        "user_agent": "python-requests/2.31.0", "request_body_len": "2048", "response_body_len": "512",
        "status_code": "200"}
TLS = {"direction": "In", "server_name": "claude.ai", "version": "TLSv13", "established": "true"}


def text(fields: dict, spaced: bool = False) -> str:
    return json.dumps(fields, separators=(", ", ": ") if spaced else (",", ":"), ensure_ascii=False)


def lines() -> list[str]:
    """Records the walk reads and records it must doubt, side by side."""
    made = [
        record("DnsConnectionInspected", text(DNS)),
        record("dnsconnectioninspected", text({**DNS, "query": "a\\b\"c/d\té"})),  # escapes in the inner value
        record("HttpConnectionInspected", text(HTTP)),
        record("HttpConnectionInspected", HTTP),  # an object, not a string
        record("HttpConnectionInspected", {**HTTP, "request_body_len": 2048, "status_code": 404}),  # numbers
        record("HttpConnectionInspected", text({**HTTP, "uri": "http://gemini.google.com/app?hl=nl"})),
        record("SSLCONNECTIONINSPECTED", text(TLS)),
        record("SslConnectionInspected", text(TLS, spaced=True)),
        record("SslConnectionInspected", text({**TLS, "server_name": 1.5})),  # a fraction: doubtful
        record("SslConnectionInspected", text(TLS)[:-1] + ',"server_name":"x.example"}'),  # a repeated key
        record("SslConnectionInspected", "{not json"),
        record("SslConnectionInspected", json.dumps(text(TLS))),  # JSON text of JSON text
        record("SslConnectionInspected", 7),
        record("SslConnectionInspected", {**TLS, "server_name": ["a", "b"]}),
        record("DnsConnectionInspected", text(DNS), category=defender.NETWORK_PROTECTION),
        record("ConnectionSuccess", "{broken", RemoteUrl="https://chatgpt.com/c/1", RemotePort=443),
        record("ConnectionSuccess", None, RemoteUrl="copilot.microsoft.com", DeviceName="pc\\/7",
               InitiatingProcessAccountUpn="j.devries@gemeente.example"),
        record("ListeningConnectionCreated"),
        record("ExploitGuardNetworkProtectionBlocked", category=defender.NETWORK_PROTECTION,
               RemoteUrl="https://chat.deepseek.com/"),
        record("InboundConnectionAccepted", Timestamp="not a time"),
        record("ConnectionSuccess", Timestamp=None),
        record("ConnectionSuccess", category="AdvancedHunting-DeviceLogonEvents"),
    ]
    out = [json.dumps(one, separators=(",", ":"), ensure_ascii=False) for one in made]
    out.append(json.dumps(made[0]))  # spaced outer JSON: read by the walk too
    out.append(out[0].replace('"LocalIP"', '"Local\\u0049P"'))  # an escaped key: doubtful
    out.append(out[0][:-1])  # cut short
    out.append("not json at all")
    out.append(out[2].replace("\\\"uri\\\"", "\\u0022uri\\u0022"))  # \u in AdditionalFields: doubtful
    return out


def columns(walked: bool, batch: list[str], chunks: int = 1) -> pa.Table:
    connection = open_parse_connection()
    connection.execute(defender.DEFENDER_ACTION_MACRO)
    queries = defender.Queries()
    if walked:
        queries.walk = Walk(defender.PATHS, defender.NAMES, (defender.CATEGORY, defender.NETWORK_PROTECTION))
    cuts = np.linspace(0, len(batch), chunks + 1).astype(int)
    text = pa.chunked_array([pa.array(batch[a:b], pa.string()) for a, b in itertools.pairwise(cuts)])
    table = pa.table({"line_no": pa.array(range(1, len(batch) + 1), pa.int64()), "line": text})
    with parse_cursor(connection) as cursor:
        return defender._columns(cursor, queries, table)


def decoded(table: pa.Table) -> dict[str, list]:
    return {name: (column.combine_chunks().dictionary_decode() if pa.types.is_dictionary(column.type)
                   else column.combine_chunks()).to_pylist() for name, column in zip(table.column_names, table.columns,
                                                                                     strict=True)}


@pytest.mark.parametrize(("repeat", "chunks"), [(1, 1), (1, 3), (3000, 1), (3000, 4)])
def test_the_walk_gives_the_query_columns(repeat: int, chunks: int) -> None:
    # 3000 copies: ~2 MiB slices, the values numbered in the first and copied out once they mostly differ
    batch = [line.replace("4711", str(n)).replace("61044", str(n)) for n in range(repeat) for line in lines()]
    assert decoded(columns(True, batch, chunks)) == decoded(columns(False, batch))


def test_values_numbered_then_copied_out() -> None:
    # HTTP records whose user agents (with an escape) and times differ from the middle on: numbered in the first
    # slices, copied out once they mostly differ (more than one text in DISTINCT_SHARE lines)
    made = [record("HttpConnectionInspected", text(HTTP)), record("HttpConnectionInspected", HTTP)]
    first = [json.dumps(made[n % 2], separators=(",", ":")) for n in range(10_000)]
    later = [json.dumps(record("HttpConnectionInspected", text({**HTTP, "user_agent": f"curl\\/{n} \"x\""}))
                        if n % 2 else record("HttpConnectionInspected", {**HTTP, "user_agent": f"wget\\/{n}"}),
                        separators=(",", ":")).replace("08:10:41", f"08:{n % 60:02d}:{n // 60 % 60:02d}")
             for n in range(10_000)]
    batch = first + later
    got = decoded(columns(True, batch))
    assert got == decoded(columns(False, batch))
    assert got["user_agent"][-2:] == ["wget\\/9998", 'curl\\/9999 "x"']


def test_doubtful_lines_are_left_to_the_query() -> None:
    batch = lines()
    walk = Walk(defender.PATHS, defender.NAMES, (defender.CATEGORY, defender.NETWORK_PROTECTION))
    found, doubtful = walk.columns(open_parse_connection(), pa.chunked_array([pa.array(batch)]))
    # (a spaced inner object with no container read, and an array at a key read, are walked: their text is yyjson's)
    assert list(doubtful) == [8, 9, 10, 11, 12, 23, 24, 25, 26]
    assert found["key_server_name"].to_pylist()[13] == '["a","b"]'
    assert found["key_query"].to_pylist()[:2] == ["chatgpt.com", "a\\b\"c/d\té"]
    assert found["answers"].to_pylist()[0] == '["104.18.32.47", "chatgpt.com.cdn.cloudflare.net."]'
    assert found["device_name"].to_pylist()[16] == "pc\\/7"  # (written `pc\\\\/7`)
    # another kind's keys and a record of another table are not read
    assert found["key_host"].to_pylist()[0] is None and found["key_query"].to_pylist()[14] is None
    assert found["key_direction"].to_pylist()[15] is None  # (a broken text of a record that is no inspection)


def test_escapes_read_at_every_place_in_a_word() -> None:
    walk = Walk(defender.PATHS, defender.NAMES, (defender.CATEGORY, defender.NETWORK_PROTECTION))
    walk._load()
    values = ["", "a", '"', "\\", *("x" * n + '"\\/\b\f\n\r\t' + "y" * (20 - n) for n in range(12))]
    encoded = [json.dumps(value)[1:-1].replace("/", "\\/").encode() for value in values]
    data = np.frombuffer(b"".join(encoded), np.uint8)
    ends = np.cumsum([len(each) for each in encoded])
    begin, end = np.concatenate([[0], ends[:-1]]).astype(np.int32), ends.astype(np.int32)
    missing = np.zeros(len(values), bool)
    out = np.empty(len(data) + 8, np.uint8)
    offsets = np.empty(len(values) + 1, np.int64)
    bad = np.zeros(len(values), bool)
    walk.scan.unescaped(data, begin, end, missing, ~missing, out, offsets, bad)
    assert not bad.any()
    assert [bytes(out[offsets[k]:offsets[k + 1]]).decode() for k in range(len(values))] == values


def test_a_file_of_event_hubs_messages_loads_no_kernels() -> None:
    message = json.dumps({"records": [record("ConnectionSuccess", RemoteUrl="chatgpt.com")]})
    connection = open_parse_connection()
    parse = defender.new_parser(type("Context", (), {"connection": connection})())
    result = parse(pa.table({"line_no": pa.array([1], pa.int64()), "line": pa.array([message])}))
    assert result.events.num_rows == 1
    walk = parse.__closure__  # (the parser's Queries hold the walk)
    assert walk is not None
    held = [cell.cell_contents for cell in walk if isinstance(cell.cell_contents, defender.Queries)]
    assert held and held[0].walk is not None and not held[0].walk._ready
