"""Suricata EVE `dns` records in each of the three layouts Suricata has written give the same columns.

Lines are written from Suricata's documentation, not copied from logs:
- v1 and v2 ("detailed" and "grouped"): https://docs.suricata.io/en/suricata-6.0.0/output/eve/eve-json-format.html
  and https://docs.suricata.io/en/suricata-7.0.16/output/eve/eve-json-format.html (Event type: DNS), the
  fields as rust/src/dns/log.rs in OISF/suricata writes them (v2 logs the top-level `rrname`/`rrtype` only
  when the response has a question; SOA, SRV and SSHFP data are objects);
- v3 (Suricata 8): https://docs.suricata.io/en/suricata-8.0.0/upgrade/8.0-dns-logging-changes.html (requests
  `request`, responses `response`, the question in `queries`, the responder as `src_ip`).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.golden import parse_lines

CLIENT = {"src_ip": "10.20.7.101", "src_port": 50001, "dest_ip": "10.1.0.53", "dest_port": 53, "proto": "UDP"}
SERVER = {"src_ip": "10.1.0.53", "src_port": 53, "dest_ip": "10.20.7.101", "dest_port": 50001, "proto": "UDP"}
COLUMNS = ("src_ip", "dst_ip", "host", "host_source", "dns_qtype", "dns_rcode", "dns_answers")


# Records of one lookup (the same flow_id and dns.id) are one event; each line here is its own flow unless a
# test gives the flow, so that each record's own reading is seen.
FLOW_IDS = itertools.count(1000)


def dns(body: dict[str, object], side: dict[str, object] = SERVER, flow_id: int | None = None) -> str:
    return json.dumps({"timestamp": "2025-11-18T09:00:01.102345+0100",
                       "flow_id": next(FLOW_IDS) if flow_id is None else flow_id, "event_type": "dns",
                       **side, "dns": body})


def read(tmp_path: Path, *lines: str, joined: int = 0) -> list[dict[str, object]]:
    """The events' columns; every line an event but the `joined` ones (records of a lookup already read)."""
    events, rejects, report = parse_lines(tmp_path / "eve.json", "suricata_eve", lines)
    assert (report.parsed, report.rejected, report.ignored) == (len(lines) - joined, 0, joined), rejects.to_pylist()
    return [{column: event[column] for column in COLUMNS} for event in events.to_pylist()]


def expected(host: str | None, qtype: str | None, rcode: str | None, answers: list[str] | None
             ) -> dict[str, object]:
    return {"src_ip": "10.20.7.101", "dst_ip": "10.1.0.53", "host": host,
            "host_source": "dns_query" if host else "none", "dns_qtype": qtype, "dns_rcode": rcode,
            "dns_answers": answers}


CNAME_CHAIN = [{"rrname": "chat.openai.com", "rrtype": "CNAME", "ttl": 300, "rdata": "Chat.OpenAI.com.cdn.Cloudflare.net."},
               {"rrname": "chat.openai.com.cdn.cloudflare.net", "rrtype": "A", "ttl": 300, "rdata": "104.18.37.228"},
               {"rrname": "chat.openai.com.cdn.cloudflare.net", "rrtype": "AAAA", "ttl": 300,
                "rdata": "2606:4700:4400::6812:25e4"}]
CHAIN_ANSWERS = ["chat.openai.com.cdn.cloudflare.net", "104.18.37.228", "2606:4700:4400::6812:25e4"]


def test_v1_query_and_one_record_per_answer(tmp_path: Path) -> None:
    query = dns({"type": "query", "id": 16000, "rrname": "Chat.OpenAI.com.", "rrtype": "A", "tx_id": 0}, CLIENT, 7)
    answers = [dns({"type": "answer", "id": 16000, "rcode": "NOERROR", **record}, flow_id=7) for record in CNAME_CHAIN]
    failure = dns({"type": "answer", "id": 16001, "rcode": "NXDOMAIN", "rrname": "nx.example.org", "rrtype": "A"},
                  flow_id=7)
    assert read(tmp_path, query, *answers, failure, joined=3) == [
        # one lookup: the query, with its answer records' answers (not named by the CNAME's target) and rcode
        expected("chat.openai.com", "A", "NOERROR", CHAIN_ANSWERS),
        # a failure names the query: its type is the query's
        expected("nx.example.org", "A", "NXDOMAIN", None),
    ]


def test_v1_answer_records_read_alone_are_named_by_the_responses_first_record(tmp_path: Path) -> None:
    answers = [dns({"type": "answer", "id": 16000, "rcode": "NOERROR", **record}) for record in CNAME_CHAIN]
    # each answer record has its own owner and type: named by the response's first record (the query), not by
    # the CNAME's target; the record's type is not the query's
    assert read(tmp_path, *answers) == [expected(name, None, "NOERROR", [answer]) for name, answer in zip(
        ["chat.openai.com", "chat.openai.com.cdn.cloudflare.net", "chat.openai.com.cdn.cloudflare.net"],
        CHAIN_ANSWERS, strict=True)]


def test_v1_answer_records_are_grouped_by_flow_and_dns_id(tmp_path: Path) -> None:
    def answer(flow_id: int | None, dns_id: int, rrname: str, rdata: str) -> str:
        line = json.loads(dns({"type": "answer", "id": dns_id, "rcode": "NOERROR", "rrname": rrname, "rrtype": "A",
                               "ttl": 60, "rdata": rdata}))
        if flow_id is None:
            del line["flow_id"]
        else:
            line["flow_id"] = flow_id
        return json.dumps(line)

    rows = read(tmp_path, answer(1, 7, "claude.ai", "160.79.104.10"), answer(2, 7, "cdn.example.net", "192.0.2.1"),
                answer(1, 7, "claude.ai.cdn.example", "160.79.104.11"), answer(1, 8, "other.example", "192.0.2.2"),
                answer(None, 7, "no-flow.example", "192.0.2.3"), joined=1)
    assert [(row["host"], row["dns_answers"]) for row in rows] == [
        ("claude.ai", ["160.79.104.10", "160.79.104.11"]), ("cdn.example.net", ["192.0.2.1"]),
        ("other.example", ["192.0.2.2"]), ("no-flow.example", ["192.0.2.3"])]


def test_v2_detailed_grouped_and_both(tmp_path: Path) -> None:
    header = {"version": 2, "type": "answer", "id": 45444, "flags": "8180", "qr": True, "rd": True, "ra": True,
              "rrname": "chat.openai.com", "rrtype": "A", "rcode": "NOERROR"}
    grouped = {"A": ["104.18.37.228"], "CNAME": ["chat.openai.com.cdn.cloudflare.net"],
               "AAAA": ["2606:4700:4400::6812:25e4"]}
    assert read(tmp_path, dns({**header, "answers": CNAME_CHAIN}), dns({**header, "grouped": grouped}),
                dns({**header, "answers": CNAME_CHAIN, "grouped": grouped})) == [
        expected("chat.openai.com", "A", "NOERROR", CHAIN_ANSWERS)] * 3


def test_v2_answer_without_a_question_is_named_by_its_first_answer(tmp_path: Path) -> None:
    # As 6.x's documentation shows it: no top-level rrname/rrtype
    detailed = dns({"version": 2, "type": "answer", "id": 45444, "flags": "8180", "rcode": "NOERROR",
                    "answers": CNAME_CHAIN})
    grouped = dns({"version": 2, "type": "answer", "id": 18523, "flags": "8180", "rcode": "NOERROR",
                   "grouped": {"A": ["104.18.37.228"]}})
    assert read(tmp_path, detailed, grouped) == [
        expected("chat.openai.com", None, "NOERROR", CHAIN_ANSWERS),
        expected(None, None, "NOERROR", ["104.18.37.228"]),  # nothing names it
    ]


def test_v3_request_and_response_with_the_responder_as_source(tmp_path: Path) -> None:
    request = dns({"version": 3, "type": "request", "tx_id": 0, "id": 0, "flags": "100", "rd": True, "opcode": 0,
                   "rcode": "NOERROR", "queries": [{"rrname": "Chat.OpenAI.com", "rrtype": "A"}]}, CLIENT)
    response = {"version": 3, "type": "response", "tx_id": 1, "id": 0, "flags": "8180", "qr": True, "rd": True,
                "ra": True, "opcode": 0, "rcode": "NOERROR", "queries": [{"rrname": "chat.openai.com.", "rrtype": "A"}]}
    nxdomain = {**response, "rcode": "NXDOMAIN", "queries": [{"rrname": "nx.example.org", "rrtype": "HTTPS"}],
                "authorities": [{"rrname": "example.org", "rrtype": "SOA", "ttl": 60, "soa": {"mname": "ns"}}]}
    assert read(tmp_path, request, dns({**response, "answers": CNAME_CHAIN}),
                dns({**response, "grouped": {"CNAME": ["chat.openai.com.cdn.cloudflare.net"],
                                             "A": ["104.18.37.228"], "AAAA": ["2606:4700:4400::6812:25e4"]}}),
                dns(nxdomain)) == [
        expected("chat.openai.com", "A", None, None),  # a request's header rcode is no response code
        expected("chat.openai.com", "A", "NOERROR", CHAIN_ANSWERS),
        expected("chat.openai.com", "A", "NOERROR", CHAIN_ANSWERS),
        expected("nx.example.org", "HTTPS", "NXDOMAIN", None),
    ]


def test_only_addresses_and_cname_targets_are_answers(tmp_path: Path) -> None:
    header = {"version": 3, "type": "response", "id": 1, "rcode": "NOERROR",
              "queries": [{"rrname": "example.org", "rrtype": "ANY"}]}
    detailed = [{"rrname": "example.org", "rrtype": "TXT", "ttl": 60, "rdata": "v=spf1 -all"},
                {"rrname": "example.org", "rrtype": "MX", "ttl": 60, "rdata": "mail.example.org"},
                {"rrname": "example.org", "rrtype": "SOA", "ttl": 60, "soa": {"mname": "ns1.example.org"}},
                {"rrname": "example.org", "rrtype": "A", "ttl": 60, "rdata": "93.184.215.14"},
                {"rrname": "example.org", "rrtype": "A", "ttl": 60, "rdata": None}]
    grouped = {"TXT": ["v=spf1 -all"], "SRV": [{"priority": 1, "weight": 1, "port": 443, "name": "s.example.org"}],
               "SOA": [{"mname": "ns1.example.org"}], "AAAA": ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"]}
    v1_txt = dns({"type": "answer", "id": 2, "rcode": "NOERROR", "rrname": "example.org", "rrtype": "TXT",
                  "ttl": 60, "rdata": "v=spf1 -all"})
    rows = read(tmp_path, dns({**header, "answers": detailed}), dns({**header, "grouped": grouped}), v1_txt)
    assert [row["dns_answers"] for row in rows] == [
        ["93.184.215.14"], ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"], None]


def test_alert_on_a_v2_response_is_named_by_its_answer(tmp_path: Path) -> None:
    # Suricata 6 and 7: an alert on a DNS response carries `dns.answer` (an object), 8 `dns.queries`
    alert = {"timestamp": "2025-11-18T09:00:01.102345+0100", "event_type": "alert", **SERVER, "app_proto": "dns",
             "alert": {"action": "allowed", "signature": "x"}}
    v2 = json.dumps({**alert, "dns": {"answer": {"version": 2, "type": "answer", "rrname": "Chat.OpenAI.com",
                                                 "rrtype": "A", "rcode": "NOERROR"}}})
    v3 = json.dumps({**alert, "dns": {"version": 3, "type": "response", "queries": [
        {"rrname": "chat.openai.com", "rrtype": "A"}]}})
    events, _, _ = parse_lines(tmp_path / "eve.json", "suricata_eve", [v2, v3])
    assert [(e["host"], e["host_source"]) for e in events.to_pylist()] == [("chat.openai.com", "dns_query")] * 2


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                      max_size=3), max_leaves=6)
DNS_KEYS = ["version", "id", "rrname", "rrtype", "rcode", "rdata", "answers", "grouped", "queries"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bodies=st.lists(st.fixed_dictionaries({"type": st.sampled_from(["answer", "response", "query", "request"])},
                                             optional={key: JSON_VALUES for key in DNS_KEYS}), min_size=1, max_size=6),
       flow_ids=st.lists(st.one_of(st.none(), st.integers(0, 2), st.text(max_size=2)), min_size=6, max_size=6))
def test_any_dns_body_never_crashes_and_every_line_is_accounted_for(
        tmp_path: Path, bodies: list[dict[str, object]], flow_ids: list[object]) -> None:
    """Every line an event, or a record of a lookup an event already holds (counted as ignored)."""
    lines = [json.dumps({**json.loads(dns(body)), "flow_id": flow})
             for body, flow in zip(bodies, flow_ids[:len(bodies)], strict=True)]
    events, rejects, report = parse_lines(tmp_path / "eve.json", "suricata_eve", lines)
    assert report.rejected == 0 and report.parsed >= 1, rejects.to_pylist()
    assert all(not answer.endswith(".") for row in events.to_pylist() for answer in row["dns_answers"] or [])
