"""Suricata EVE read by the compiled walk (suricata_eve_walk) gives what DuckDB's reading of the same lines gives; the
lines the walk doubts go to DuckDB, and only those.

Lines follow the EVE format's documented layout (https://docs.suricata.io/en/latest/output/eve/eve-json-format.html:
the common section, then `tls`, `http`, `dns` v2/v3 with `queries` (upgrade/8.0-dns-logging-changes.html), `flow`,
`alert`), compact as Suricata writes them; the doubtful ones are the same records spelled as other JSON writers may
spell them, or broken.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.ingest import FORMATS, suricata_eve
from detector.ingest.base import ParseContext, open_parse_connection


def eve(event_type: str, **fields: object) -> dict[str, object]:
    return {"timestamp": "2025-11-18T10:00:01.021000+0100", "flow_id": 1201, "in_iface": "eth1",
            "event_type": event_type, "src_ip": "10.20.7.101", "src_port": 50001, "dest_ip": "104.18.32.47",
            "dest_port": 443, "proto": "TCP", **fields}


RECORDS = [
    eve("tls", tls={"subject": "CN=chatgpt.com", "sni": "chatgpt.com", "version": "TLS 1.3", "ja3": {"hash": "e7d7"}}),
    eve("http", dest_port=80, http={"hostname": "api.openai.com", "url": "/v1/chat?q=1", "http_method": "POST",
                                    "http_user_agent": "curl/8.5", "status": 200, "length": 512}),
    eve("dns", src_ip="10.1.0.53", src_port=53, dest_ip="10.20.7.101", dest_port=50001, proto="UDP",
        dns={"version": 3, "type": "response", "id": 7, "rcode": "NOERROR",
             "queries": [{"rrname": "Claude.AI.", "rrtype": "A"}],
             "answers": [{"rrname": "claude.ai", "rrtype": "A", "ttl": 60, "rdata": "160.79.104.10"}]}),
    eve("dns", dest_ip="10.1.0.53", dest_port=53, proto="UDP",
        dns={"type": "query", "id": 8, "rrname": "mistral.ai", "rrtype": "AAAA", "tx_id": 0}),
    eve("flow", app_proto="tls", flow={"pkts_toserver": 9, "bytes_toserver": 1200, "bytes_toclient": 5400,
                                       "start": "2025-11-18T10:00:00.500000+0100",
                                       "end": "2025-11-18T10:00:02.750000+0100"}),
    eve("alert", app_proto="dns", direction="to_client",
        alert={"action": "blocked", "signature_id": 9000001, "signature": "LOCAL AI"},
        dns={"query": [{"rrname": "gemini.google.com", "rrtype": "A"}]}),
    eve("stats", stats={"uptime": 30}),
]


def compact(record: dict[str, object]) -> str:
    return json.dumps(record, separators=(",", ":"))


# Spaced JSON is walked (json.dumps' spacing), except where a container read whole is spaced (DNS `answers`); so
# are values with JSON's escapes (read once per distinct text), except `\u` (doubtful)
WALKED = [json.dumps(RECORDS[0]), json.dumps(RECORDS[1]),
          compact(eve("http", http={"hostname": "chat\\gpt.com", "url": "\\/a\"b\tc", "http_method": "GET",
                                    "http_user_agent": 'Mozilla "quoted" \\ back'})).replace("/a", "\\/a")]
DOUBTFUL = [
    json.dumps(RECORDS[2]),  # `queries` and `answers` spaced
    compact(RECORDS[1]).replace('"hostname"', '"host\\u006eame"'),  # an escaped key
    compact(eve("flow", flow={"bytes_toserver": 1.5e3, "bytes_toclient": 10})),  # a fraction at a path read
    compact(RECORDS[3])[:-1] + ',"event_type":"tls"}',  # a key twice
    compact(eve("dns", dns={"type": "query", "queries": '[{"rrname":"in.a.string"}]'})),  # `[0]` of a string
    compact(RECORDS[0]) + " trailing",  # text after the object
    compact(RECORDS[2])[:-3],  # cut short
    '{"event_type": "tls", "tls": {"sni": "claude.ai"},}',  # a trailing comma
]


def table(lines: list[str]) -> pa.Table:
    return pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": pa.array(lines)})


def outcome(parse, lines: list[str]):  # type: ignore[no-untyped-def]
    result = parse(table(lines))
    return result.events.to_pylist(), result.rejects.to_pylist(), result.ignored


def new_parser():  # type: ignore[no-untyped-def]
    return FORMATS["suricata_eve"].new_parser(ParseContext("eve.json", "UTC", open_parse_connection()))


class _NoWalk:
    """A walk that is never tried: every line is read by DuckDB's query, as without the walk."""

    tried = False


def queried_parser(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with monkeypatch.context() as patched:
        patched.setattr(suricata_eve, "Walk", _NoWalk)
        return new_parser()


def test_walked_lines_give_what_the_query_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [compact(record) for record in RECORDS] * 3 + WALKED + DOUBTFUL
    walked = outcome(new_parser(), lines)
    assert walked == outcome(queried_parser(monkeypatch), lines)
    events, rejects, ignored = walked
    assert len(events) + len(rejects) + ignored == len(lines)
    hosts = [(event["host"], event["host_source"]) for event in events[:6]]
    assert hosts == [("chatgpt.com", "sni"), ("api.openai.com", "http_host"), ("claude.ai", "dns_query"),
                     ("mistral.ai", "dns_query"), (None, "none"), ("gemini.google.com", "dns_query")]
    assert events[2]["src_ip"] == "10.20.7.101" and events[5]["src_ip"] == "104.18.32.47"  # turned around


def test_only_the_doubted_lines_go_to_the_query(monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[int] = []
    original = suricata_eve._read

    def counted(connection, text, guess, *args, **kwargs):  # type: ignore[no-untyped-def]
        read.append(int((guess == suricata_eve.ANY_TYPE).sum()))  # (the lines the query parses)
        return original(connection, text, guess, *args, **kwargs)

    parse = new_parser()
    monkeypatch.setattr(suricata_eve, "_read", counted)
    outcome(parse, [compact(record) for record in RECORDS] * 5 + WALKED)
    assert read == []
    outcome(parse, [compact(record) for record in RECORDS] * 5 + DOUBTFUL)
    assert read == [len(DOUBTFUL)]


def test_a_batch_of_mostly_doubted_lines_turns_the_walk_off_for_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # (an escaped key: DuckDB reads `timestamp`, the walk doubts the line)
    # (the copy in flows of its own: the same flow and DNS id would be one lookup, _Lookups)
    escaped = [compact({**record, "flow_id": 1201 + copy}).replace('"timestamp"', '"timest\\u0061mp"')
               for copy in range(2) for record in RECORDS]
    parse = new_parser()
    walks: list[int] = []
    original = suricata_eve._walked

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        walks.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(suricata_eve, "_walked", counted)
    first = outcome(parse, escaped)
    second = outcome(parse, [compact(record) for record in RECORDS])
    assert walks == [1]
    assert first == outcome(queried_parser(monkeypatch), escaped)
    assert second[0] == first[0][:len(RECORDS) - 1]  # (the same records: the stats record is ignored)


# JSON values such as a record may hold where the walk reads: text (with escapes), numbers, literals, containers
_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=False, allow_infinity=False),
              st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
              st.sampled_from(["53", "answer", "response", "to_client", "blocked", "failed", "chatgpt.com", "A"])),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["rrname", "rrtype", "rdata", "x"]),
                                                                  inner, max_size=3),
    max_leaves=6)
_PATHS = ["event_type", "src_ip", "dest_port", "src_port", "direction", "tls.sni", "http.hostname", "http.url",
          "dns.type", "dns.rrname", "dns.queries", "dns.answers", "dns.rdata", "dns.rrtype", "flow.start",
          "flow.bytes_toserver", "app_proto", "alert.action", "quic.sni"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, len(RECORDS) - 1),
                          st.dictionaries(st.sampled_from(_PATHS), _VALUES, max_size=3),
                          st.sampled_from([(",", ":"), (", ", ": ")]), st.booleans()), min_size=1, max_size=12))
def test_records_with_any_values_at_the_paths_read_give_what_the_query_gives(
        monkeypatch: pytest.MonkeyPatch, changes: list[tuple[int, dict[str, object], tuple[str, str], bool]]) -> None:
    lines = []
    for number, values, separators, ascii_only in changes:
        record = json.loads(compact(RECORDS[number]))
        for path, value in values.items():
            *parents, key = path.split(".")
            place = record
            for parent in parents:
                if not isinstance(place.get(parent), dict):
                    place[parent] = {}
                place = place[parent]
            place[key] = value
        lines.append(json.dumps(record, separators=separators, ensure_ascii=ascii_only))
    assert outcome(new_parser(), lines) == outcome(queried_parser(monkeypatch), lines)
