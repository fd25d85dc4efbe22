"""An inspection record's AdditionalFields read where they stand, in the escaped text of the line (json_scan.read_inside):
the keys' values those of json_scan's walk of the copied-out text, and DuckDB's JSON query's; and the reading gives
up (the text copied out and walked as before) on what it does not take.

Records written from Microsoft's documentation: the streaming API's record `{"time", "tenantId", "category":
"AdvancedHunting-<table>", "properties": {<row>}}` ("Stream Microsoft Defender for Endpoint events",
https://learn.microsoft.com/en-us/defender-endpoint/api/raw-data-export), DeviceNetworkEvents' AdditionalFields
(https://learn.microsoft.com/en-us/defender-xdr/advanced-hunting-devicenetworkevents-table) holding Zeek's dns.log,
http.log and ssl.log keys (https://docs.zeek.org/en/master/logs/dns.html, .../http.html, .../ssl.html).
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from detector.ingest import defender, defender_inspection
from detector.ingest.base import open_parse_connection, parse_cursor
from detector.ingest.defender_walk import Walk
from detector.ingest.layout_bytes import line_bytes

DNS = ('{"direction":"Out","trans_id":"4711","rtt":"0.0184","query":"chatgpt.com","qtype_name":"A",'
       '"rcode_name":"NOERROR","answers":"[\\"104.18.32.47\\",\\"chatgpt.com.cdn.cloudflare.net.\\"]",'
       '"TTLs":"[300.0]","rejected":"false"}')

# (the Zeek record as AdditionalFields' text holds it, whether the reading takes it where it stands)
INNER = [
    (DNS, True),
    (DNS.replace('":"', '": "').replace('","', '", "'), True),  # spaced between tokens
    ("  " + DNS + " ", True),
    ('{"direction":"Out","query":' + json.dumps('a\\b"c/d\té', ensure_ascii=False) + "}", True),
    ('{"direction":"Out","query":"chat\\/gpt.com","qtype_name":"A"}', True),  # an escaped slash
    ('{"direction":"Out","query":"x.example","qtype_name":true,"rcode_name":null,"rtt":0.5,"trans_id":-12}', True),
    ('{"direction":"Out","query":"x.example","qtype_name":28}', True),
    ("{}", True),
    ('{"direction":"Out","query":"\\u0041.example"}', False),  # \u in a value read
    ('{"direction":"Out","trans_id":"\\u0041"}', False),  # \u in a value not read
    ('{"direction":"Out","TTLs":[300.0],"query":"x.example"}', False),  # a container
    ('{"direction":"Out","query":"a.example","query":"b.example"}', False),  # a repeated key
    ('{"direction":"Out","qtype_name":1.5}', False),  # a fraction at a key read
    ('{"direction":"Out","qtype_name":12345678901234567890}', False),
    ('{"direction":"Out","qtype_name":-0}', False),
    ('{"direction":"Out",\n"query":"x.example"}', False),  # a newline between tokens
    ('{"direction":"Out","query":"a\nb"}', False),  # a control character in a string
    ('{"direction":"Out",}', False),  # a trailing comma
    ('{"direction":"Out"', False),
    ("not json", False),
    ("", False),
]


def line(fields: object, action: str = "DnsConnectionInspected") -> str:
    row = {"Timestamp": "2026-03-30T08:10:41.2501234Z", "DeviceName": "ws-0142.gemeente.local", "ActionType": action,
           "RemoteIP": "10.20.0.53", "RemotePort": 53, "LocalIP": "10.20.14.87", "LocalPort": 61044,
           "AdditionalFields": fields}
    return json.dumps({"time": "2026-03-30T08:11:02.1000000Z", "category": defender.CATEGORY, "properties": row},
                      separators=(",", ":"), ensure_ascii=False)


def walked(lines: list[str]) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    walk = Walk(defender.PATHS, defender.NAMES, (defender.CATEGORY, defender.NETWORK_PROTECTION))
    walk._load()
    _, data, offsets = line_bytes(pa.array(lines))
    spans, inner, again, text, _ = walk.json_scan.read_inside(data, offsets, walk.outer, 11, walk.inner)
    return inner, again, text, spans[4] | spans[3].any(axis=1), data  # (a spaced container: defender_walk doubts it)


@pytest.mark.parametrize(("inner", "read"), INNER)
def test_the_reading_in_place_takes_what_it_can_say(inner: str, read: bool) -> None:
    (begin, end, missing), again, text, doubtful, _ = walked([line(inner)])
    assert not doubtful[0]
    assert again[0] == (not read)
    if read:
        expected = json.loads(inner)
        for slot, key in enumerate(defender_inspection.KEYS):
            value = expected.get(key)
            if value is None:
                assert missing[0, slot]
                continue
            found = bytes(text[begin[0, slot]:end[0, slot]]).decode()
            # (a string's text as the Zeek record writes it, its own escapes kept: read once per distinct text)
            assert json.loads(f'"{found}"' if isinstance(value, str) else found) == value


# (AdditionalFields as an object of the line, whether the reading takes it where it stands, whether the walk of the
# line doubts it: an object read as a key's value holds no escape, no fraction and no whitespace, else the query reads
# the line; one with a container in it is copied out and walked again)
OBJECTS = [
    ('{"direction":"Out","query":"x.example","qtype_name":"A"}', True, False),
    ('{"direction":"Out","query":"x.example","qtype_name":28,"rejected":false,"rcode_name":null}', True, False),
    ("{}", True, False),
    ('{"direction":"Out","query":"x.example","query":"y.example"}', False, False),  # a repeated key read
    ('{"direction":"Out","other":1,"other":2,"query":"x.example"}', True, False),  # a repeated key not read
    ('{"direction":"Out","TTLs":[300],"query":"x.example"}', False, False),  # a container: walked again
    ('{"direction":"Out","query":"x\\/y.example"}', False, True),  # an escape
    ('{"direction":"Out","rtt":0.5}', False, True),  # a fraction
    ('{"direction":"Out","trans_id":-0}', False, True),
    ('{"direction": "Out"}', False, True),  # whitespace
]


@pytest.mark.parametrize(("inner", "read", "doubted"), OBJECTS)
def test_an_object_is_read_where_it_stands_as_the_walk_takes_it(inner: str, read: bool, doubted: bool) -> None:
    record = line(DNS)
    whole = record.replace(json.dumps(DNS, ensure_ascii=False), inner)
    (begin, end, missing), again, text, doubtful, _ = walked([whole, record])
    assert list(doubtful) == [doubted, False]
    assert not again[1]
    if doubted:
        return
    assert again[0] == (not read)
    if read:
        expected = json.loads(inner)
        for slot, key in enumerate(defender_inspection.KEYS):
            found = None if missing[0, slot] else bytes(text[begin[0, slot]:end[0, slot]]).decode()
            value = expected.get(key)
            assert found == (None if value is None else value if isinstance(value, str) else json.dumps(value))


def columns(walked: bool, batch: list[str]) -> dict[str, list]:
    connection = open_parse_connection()
    connection.execute(defender.DEFENDER_ACTION_MACRO)
    queries = defender.Queries()
    if walked:
        queries.walk = Walk(defender.PATHS, defender.NAMES, (defender.CATEGORY, defender.NETWORK_PROTECTION))
    table = pa.table({"line_no": pa.array(range(1, len(batch) + 1), pa.int64()), "line": pa.array(batch)})
    with parse_cursor(connection) as cursor:
        found = defender._columns(cursor, queries, table)
    return {name: (column.combine_chunks().dictionary_decode() if pa.types.is_dictionary(column.type)
                   else column.combine_chunks()).to_pylist()
            for name, column in zip(found.column_names, found.columns, strict=True)}


def test_read_in_place_or_given_up_the_events_are_the_query_s() -> None:
    http = ('{"direction":"In","host":"api.openai.com:443","uri":"\\/v1\\/chat?x=1","method":"post",'
            '"user_agent":"curl\\/8.4 \\"x\\"","request_body_len":2048,"response_body_len":"512","status_code":"200"}')
    tls = '{"direction":"Out","server_name":"claude.ai","version":"TLSv13"}'
    record = line(DNS)
    objects = [record.replace(json.dumps(DNS, ensure_ascii=False), inner) for inner, _, _ in OBJECTS]
    batch = [line(inner) for inner, _ in INNER] + objects + [line(http, "HttpConnectionInspected"),
                                                  line(tls, "SslConnectionInspected"),
                                                  line(http, "SslConnectionInspected"), line(tls, "ConnectionSuccess")]
    walked_columns = columns(True, batch)
    assert walked_columns == columns(False, batch)
    assert walked_columns["host"][-4:] == ["api.openai.com", "claude.ai", None, None]
    assert walked_columns["user_agent"][-4] == 'curl/8.4 "x"'
