"""Suricata EVE: paths a file's later batches read in the main query once its earlier batches needed them
(suricata_eve.EXTRA_READS) give the same events as the second query that reads them otherwise; DNS v1 answer records
(whose keys were such a read) give one event per lookup.

Lines follow the EVE layouts in Suricata's documentation: DNS v1 answer records, one per answer
(https://docs.suricata.io/en/suricata-6.0.0/output/eve/eve-json-format.html, "Event type: DNS"), alerts with the
flow's app-layer metadata (same page, "Event type: Alert"; DNS v3's `queries`:
https://docs.suricata.io/en/latest/upgrade/8.0-dns-logging-changes.html), HTTP/2's `request_headers`
(rust/src/http2/logger.rs) and QUIC's `sni` (https://docs.suricata.io/en/suricata-7.0.0/output/eve/eve-json-format.html).
"""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from detector.ingest import FORMATS, suricata_eve
from detector.ingest.base import ParseContext, open_parse_connection


def eve(event_type: str, flow_id: int, **fields: object) -> str:
    record: dict[str, object] = {"timestamp": "2025-11-18T10:00:01.021000+0100", "flow_id": flow_id,
                                 "in_iface": "eth1", "event_type": event_type, "src_ip": "10.20.7.101",
                                 "src_port": 50001, "dest_ip": "10.1.0.53", "dest_port": 53, "proto": "UDP", **fields}
    return json.dumps(record, separators=(",", ":"))


def v1_response(flow_id: int, dns_id: int, name: str) -> list[str]:
    """A query and its v1 answer records: a CNAME, then the target's address (named by the CNAME's target)."""
    answer = {"type": "answer", "id": dns_id, "flags": "8180", "qr": True, "rcode": "NOERROR"}
    return [
        eve("dns", flow_id, dns={"type": "query", "id": dns_id, "rrname": name, "rrtype": "A", "tx_id": 0}),
        eve("dns", flow_id, src_ip="10.1.0.53", src_port=53, dest_ip="10.20.7.101", dest_port=50001,
            dns={**answer, "rrname": name, "rrtype": "CNAME", "ttl": 300, "rdata": f"{name}.cdn.example.net"}),
        eve("dns", flow_id, src_ip="10.1.0.53", src_port=53, dest_ip="10.20.7.101", dest_port=50001,
            dns={**answer, "rrname": f"{name}.cdn.example.net", "rrtype": "A", "ttl": 60, "rdata": "160.79.104.10"}),
    ]


def v2_response(flow_id: int, name: str) -> str:
    return eve("dns", flow_id, dns={"version": 2, "type": "answer", "id": 7, "rcode": "NOERROR", "rrname": name,
                                    "rrtype": "A", "answers": [{"rrname": name, "rrtype": "A", "rdata": "1.2.3.4"}]})


def alert(flow_id: int, app_proto: str, **fields: object) -> str:
    return eve("alert", flow_id, app_proto=app_proto, direction="to_server",
               alert={"action": "allowed", "gid": 1, "signature_id": 9000001, "rev": 1, "signature": "LOCAL AI"},
               **fields)


def ips_lines(flow_id: int) -> list[str]:
    """Alerts whose host is elsewhere than an SNI or Host: a DNS query (6/7 and 8), an answer, QUIC's SNI, HTTP/2's
    `:authority` (in both places 6.0 and later put the headers); and one with an SNI, which wins."""
    return [
        alert(flow_id, "dns", dns={"query": [{"type": "query", "id": 1, "rrname": "Claude.AI", "rrtype": "A"}]}),
        alert(flow_id + 1, "dns", dns={"queries": [{"rrname": "chatgpt.com.", "rrtype": "AAAA"}]}),
        alert(flow_id + 2, "dns", dns={"answer": {"version": 2, "type": "answer", "rrname": "mistral.ai"}}),
        alert(flow_id + 3, "quic", proto="UDP", dest_port=443, quic={"version": "1", "sni": "gemini.google.com"}),
        alert(flow_id + 4, "http2", proto="TCP", dest_port=80, http={"version": "2", "request_headers": [
            {"name": ":method", "value": "POST"}, {"name": ":authority", "value": "api.openai.com:443"}]}),
        alert(flow_id + 5, "http", proto="TCP", dest_port=80, http={"request": {"headers": [
            {"name": ":Authority", "value": "www.deepl.com"}]}}),
        alert(flow_id + 6, "dns", tls={"sni": "claude.ai"}, dns={"query": [{"rrname": "other.example"}]}),
    ]


def table(batch: list[str]) -> pa.Table:
    return pa.table({"line_no": pa.array(range(1, len(batch) + 1), pa.int64()), "line": pa.array(batch)})


def outcome(parse, batch: list[str]):  # type: ignore[no-untyped-def]
    result = parse(table(batch))
    return result.events.to_pylist(), result.rejects.to_pylist(), result.ignored


def new_parser():  # type: ignore[no-untyped-def]
    return FORMATS["suricata_eve"].new_parser(ParseContext("eve.json", "UTC", open_parse_connection()))


def counted(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """Count the calls of suricata_eve's function `name` (the second queries)."""
    calls: list[int] = []
    function = getattr(suricata_eve, name)

    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return function(*args, **kwargs)

    monkeypatch.setattr(suricata_eve, name, wrapper)
    return calls


def test_a_file_of_v1_answers_gives_one_event_per_lookup_in_every_batch() -> None:
    # (the response keys, `flow_id` and `dns.id`, were an extra read until every DNS record needed them: a lookup's
    # query and answer records are one event, suricata_eve._Lookups; two responses per flow, DNS ids shared by flows)
    lines = [line for n in range(20) for line in v1_response(3000 + n // 2, 400 + n % 3, f"host{n}.example")]
    parse = new_parser()
    for batch in (lines, lines[::-1], lines[1:]):  # (the last: the first lookup's answers without their query)
        events, rejects, ignored = outcome(parse, batch)
        assert not rejects and len(events) == 20 and ignored == len(batch) - 20
        assert {e["host"] for e in events} == {f"host{n}.example" for n in range(20)}
        assert sorted(a for e in events for a in e["dns_answers"] or []) == \
            sorted([f"host{n}.example.cdn.example.net" for n in range(20)] + ["160.79.104.10"] * 20)


def test_alerts_without_sni_or_host_read_their_hosts_in_the_main_query_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = ips_lines(7000) * 4 + [eve("tls", 9000, tls={"sni": "chatgpt.com"})]
    batches = [lines, lines[::-1], lines]
    expected = [outcome(new_parser(), batch) for batch in batches]
    calls = counted(monkeypatch, "_other_hosts")
    seen = new_parser()
    assert [outcome(seen, batch) for batch in batches] == expected
    assert len(calls) == 1
    hosts = [(e["host"], e["host_source"]) for e in expected[0][0][:7]]
    assert hosts == [("claude.ai", "dns_query"), ("chatgpt.com", "dns_query"), ("mistral.ai", "dns_query"),
                     ("gemini.google.com", "sni"), ("api.openai.com", "http_host"), ("www.deepl.com", "http_host"),
                     ("claude.ai", "sni")]
