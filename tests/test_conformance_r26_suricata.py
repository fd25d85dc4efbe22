"""Suricata EVE against layouts found in public real-world logs (elastic/integrations test logs): alerts on a packet
from the server, and DNS lookups logged as a query record and its answer records. Each test's lines are written here
from Suricata's documented EVE layout (docs.suricata.io, output/eve/eve-json-format: "Event type: Alert", with 7.0's
`direction` and the alert's `flow` object with the flow's `src_ip`/`dest_ip`/`src_port`/`dest_port`; "Event type:
DNS", v1 one record per answer, v2 `answers`/`grouped`; upgrade/8.0-dns-logging-changes for v3)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from detector.ingest import FORMATS, suricata_eve
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings, parse_lines

CLIENT, SERVER, RESOLVER = "10.31.64.240", "198.51.100.80", "10.1.0.53"


def eve(event_type: str, flow_id: int, **fields: object) -> str:
    record: dict[str, object] = {"timestamp": "2025-11-18T10:00:01.021000+0100", "flow_id": flow_id,
                                 "in_iface": "eth0", "event_type": event_type, **fields}
    return json.dumps(record, separators=(",", ":"))


def parse(path: Path, *lines: str) -> tuple[list[dict[str, object]], list[dict[str, object]], int]:
    events, rejects, report = parse_lines(path, "suricata_eve", lines)
    assert report.lines == report.parsed + report.rejected + report.ignored
    return sorted(events.to_pylist(), key=lambda e: e["line_no"]), rejects.to_pylist(), report.ignored


# --- alerts: the packet's direction is not the flow's ------------------------------------------------------------

ALERT = {"action": "allowed", "gid": 1, "signature_id": 2100498, "rev": 7, "signature": "GPL ATTACK_RESPONSE id check",
         "category": "Potentially Bad Traffic", "severity": 2}
HTTP = {"hostname": "testmynids.example", "url": "/uid/index.html?x=1", "http_user_agent": "curl/7.58.0",
        "http_content_type": "text/html", "http_method": "GET", "protocol": "HTTP/1.1", "status": 200, "length": 39}
FLOW = {"pkts_toserver": 5, "pkts_toclient": 4, "bytes_toserver": 496, "bytes_toclient": 876,
        "start": "2025-11-18T10:00:00.900000+0100"}
# the response packet that fired the alert: from the server's port 80 to the client's ephemeral port
FROM_SERVER = {"src_ip": SERVER, "src_port": 80, "dest_ip": CLIENT, "dest_port": 47592, "proto": "TCP"}


def addresses(event: dict[str, object]) -> tuple[object, object, object]:
    return event["src_ip"], event["dst_ip"], event["dst_port"]


def test_suricata6_alert_on_a_server_reply_is_turned_to_the_client(tmp_path: Path) -> None:
    # Suricata 6 writes neither `direction` nor the flow's addresses: an app-layer flow's packet from a system port
    # to an ephemeral one is the server's reply
    line = eve("alert", 1101, **FROM_SERVER, alert=ALERT, http=HTTP, app_proto="http", flow=FLOW)
    (event,), rejects, _ = parse(tmp_path / "eve.json", line)
    assert not rejects
    assert addresses(event) == (CLIENT, SERVER, 80)
    assert (event["host"], event["host_source"]) == ("testmynids.example", "http_host")
    assert (event["url_path"], event["http_method"], event["user_agent"]) == ("/uid/index.html", "GET", "curl/7.58.0")
    # (an alert's flow counters are the flow's so far; the flow record carries the totals: bytes counted there only)
    assert (event["bytes_out"], event["bytes_in"]) == (None, None)


def test_suricata7_alert_takes_the_flows_own_addresses(tmp_path: Path) -> None:
    flow = {**FLOW, "src_ip": CLIENT, "dest_ip": SERVER, "src_port": 47592, "dest_port": 80}
    lines = [
        eve("alert", 1201, **FROM_SERVER, alert=ALERT, http=HTTP, app_proto="http", direction="to_client", flow=flow),
        # (the flow object wins even where the packet's direction says nothing)
        eve("alert", 1202, **FROM_SERVER, alert=ALERT, app_proto="http", flow=flow),
        # ICMP: the flow object has addresses and no ports
        eve("alert", 1203, src_ip=SERVER, dest_ip=CLIENT, proto="ICMP", icmp_type=0, icmp_code=0, alert=ALERT,
            direction="to_client", flow={**FLOW, "src_ip": CLIENT, "dest_ip": SERVER}),
    ]
    events, rejects, _ = parse(tmp_path / "eve.json", *lines)
    assert not rejects
    assert [addresses(e) for e in events] == [(CLIENT, SERVER, 80), (CLIENT, SERVER, 80), (CLIENT, SERVER, None)]
    assert events[0]["url_path"] == "/uid/index.html"


def test_suricata7_to_client_alert_without_flow_addresses_is_turned(tmp_path: Path) -> None:
    line = eve("alert", 1301, **FROM_SERVER, alert=ALERT, app_proto="http", direction="to_client", flow=FLOW)
    (event,), _, _ = parse(tmp_path / "eve.json", line)
    assert addresses(event) == (CLIENT, SERVER, 80)


def test_alerts_that_do_not_show_a_reply_keep_their_packets_addresses(tmp_path: Path) -> None:
    to_server = {"src_ip": CLIENT, "src_port": 47592, "dest_ip": SERVER, "dest_port": 80, "proto": "TCP"}
    lines = [
        eve("alert", 1401, **to_server, alert=ALERT, app_proto="http", http=HTTP, flow=FLOW),  # to the server
        eve("alert", 1402, **FROM_SERVER, alert=ALERT, flow=FLOW),  # no application protocol: no server known
        eve("alert", 1403, **FROM_SERVER, alert=ALERT, app_proto="failed", flow=FLOW),
        eve("alert", 1404, **FROM_SERVER, alert=ALERT, app_proto="http", direction="to_server", flow=FLOW),
        # both ports ephemeral (a proxy's 8080 to a client): no rule tells the server
        eve("alert", 1405, src_ip=SERVER, src_port=8080, dest_ip=CLIENT, dest_port=47592, proto="TCP", alert=ALERT,
            app_proto="http", flow=FLOW),
    ]
    events, rejects, _ = parse(tmp_path / "eve.json", *lines)
    assert not rejects
    assert [addresses(e) for e in events] == [(CLIENT, SERVER, 80), (SERVER, CLIENT, 47592), (SERVER, CLIENT, 47592),
                                              (SERVER, CLIENT, 47592), (SERVER, CLIENT, 47592)]
    assert (events[0]["url_path"], events[0]["http_method"]) == ("/uid/index.html", "GET")


# --- DNS: one lookup, one event ---------------------------------------------------------------------------------

TO_RESOLVER = {"src_ip": CLIENT, "src_port": 51803, "dest_ip": RESOLVER, "dest_port": 53, "proto": "UDP"}
FROM_RESOLVER = {"src_ip": RESOLVER, "src_port": 53, "dest_ip": CLIENT, "dest_port": 51803, "proto": "UDP"}


def query(flow_id: int, dns_id: int, name: str, rrtype: str = "A") -> str:
    return eve("dns", flow_id, **TO_RESOLVER, dns={"type": "query", "id": dns_id, "rrname": name, "rrtype": rrtype,
                                                    "tx_id": 0})


def v1_answer(flow_id: int, dns_id: int, name: str, rrtype: str, rdata: str) -> str:
    return eve("dns", flow_id, **FROM_RESOLVER, dns={"type": "answer", "id": dns_id, "rcode": "NOERROR",
                                                      "rrname": name, "rrtype": rrtype, "ttl": 60, "rdata": rdata})


def lookup(event: dict[str, object]) -> tuple[object, ...]:
    return (event["src_ip"], event["dst_ip"], event["host"], event["dns_qtype"], event["dns_rcode"],
            event["dns_answers"])


def test_v1_query_and_answer_records_are_one_lookup(tmp_path: Path) -> None:
    lines = [
        query(2001, 51803, "www.example.com"),
        v1_answer(2001, 51803, "www.example.com", "CNAME", "edge.example.net."),
        v1_answer(2001, 51803, "edge.example.net", "A", "203.0.113.7"),
    ]
    events, rejects, ignored = parse(tmp_path / "eve.json", *lines)
    assert not rejects and ignored == 2
    (event,) = events
    assert event["line_no"] == 1 and event["ts"].isoformat() == "2025-11-18T09:00:01.021000+00:00"
    assert lookup(event) == (CLIENT, RESOLVER, "www.example.com", "A", "NOERROR", ["edge.example.net", "203.0.113.7"])


def test_v1_answers_without_their_query_are_one_event(tmp_path: Path) -> None:
    lines = [
        v1_answer(2101, 7, "www.example.com", "CNAME", "edge.example.net"),
        v1_answer(2101, 7, "edge.example.net", "A", "203.0.113.7"),
        v1_answer(2101, 7, "edge.example.net", "A", "203.0.113.8"),
    ]
    events, rejects, ignored = parse(tmp_path / "eve.json", *lines)
    assert not rejects and ignored == 2
    (event,) = events
    assert lookup(event) == (CLIENT, RESOLVER, "www.example.com", None, "NOERROR",
                             ["edge.example.net", "203.0.113.7", "203.0.113.8"])


def test_v2_and_v3_answers_join_their_query(tmp_path: Path) -> None:
    answers = [{"rrname": "chat.example.org", "rrtype": "A", "ttl": 60, "rdata": "192.0.2.10"}]
    lines = [
        query(2201, 11, "chat.example.org"),
        eve("dns", 2201, **FROM_RESOLVER, dns={"version": 2, "type": "answer", "id": 11, "flags": "8180", "qr": True,
                                               "rd": True, "ra": True, "rrname": "chat.example.org", "rrtype": "A",
                                               "rcode": "NOERROR", "answers": answers}),
        query(2202, 12, "grouped.example.org", "AAAA"),
        eve("dns", 2202, **FROM_RESOLVER, dns={"version": 2, "type": "answer", "id": 12, "rrname": "grouped.example.org",
                                               "rrtype": "AAAA", "rcode": "NOERROR",
                                               "grouped": {"AAAA": ["2001:db8::1"]}}),
        eve("dns", 2203, **TO_RESOLVER, dns={"version": 3, "type": "request", "id": 13,
                                             "queries": [{"rrname": "v3.example.org", "rrtype": "HTTPS"}]}),
        eve("dns", 2203, **FROM_RESOLVER, dns={"version": 3, "type": "response", "id": 13, "rcode": "NXDOMAIN",
                                               "queries": [{"rrname": "v3.example.org", "rrtype": "HTTPS"}]}),
    ]
    events, rejects, ignored = parse(tmp_path / "eve.json", *lines)
    assert not rejects and ignored == 3
    assert [e["line_no"] for e in events] == [1, 3, 5]
    assert [lookup(e) for e in events] == [
        (CLIENT, RESOLVER, "chat.example.org", "A", "NOERROR", ["192.0.2.10"]),
        (CLIENT, RESOLVER, "grouped.example.org", "AAAA", "NOERROR", ["2001:db8::1"]),
        (CLIENT, RESOLVER, "v3.example.org", "HTTPS", "NXDOMAIN", None),
    ]


def test_an_answer_logged_before_its_query_still_joins_the_query(tmp_path: Path) -> None:
    lines = [v1_answer(2301, 5, "late.example.org", "A", "192.0.2.5"), query(2301, 5, "late.example.org")]
    events, _, ignored = parse(tmp_path / "eve.json", *lines)
    assert ignored == 1 and [e["line_no"] for e in events] == [2]
    assert lookup(events[0]) == (CLIENT, RESOLVER, "late.example.org", "A", "NOERROR", ["192.0.2.5"])


def test_other_lookups_stay_apart(tmp_path: Path) -> None:
    lines = [
        query(2401, 1, "a.example.org"),
        query(2401, 2, "b.example.org"),  # same flow, another DNS id
        query(2402, 1, "c.example.org"),  # another flow, same DNS id
        v1_answer(2401, 2, "b.example.org", "A", "192.0.2.2"),
        eve("dns", 0, **TO_RESOLVER, dns={"type": "query", "rrname": "d.example.org", "rrtype": "A"}),  # no id
        eve("dns", 0, **TO_RESOLVER, dns={"type": "query", "rrname": "d.example.org", "rrtype": "A"}),
    ]
    events, rejects, ignored = parse(tmp_path / "eve.json", *lines)
    assert not rejects and ignored == 1
    assert [(e["line_no"], e["host"], e["dns_answers"]) for e in events] == [
        (1, "a.example.org", None), (2, "b.example.org", ["192.0.2.2"]), (3, "c.example.org", None),
        (5, "d.example.org", None), (6, "d.example.org", None)]


def test_a_lookup_split_by_a_batch_end_is_still_one_event(tmp_path: Path) -> None:
    # (the golden settings' batches are 7 lines: the query ends one, its answers start the next; each batch is parsed
    # with its neighbours' lines, Format.context_lines)
    filler = [eve("tls", 2500 + n, src_ip=CLIENT, src_port=40000 + n, dest_ip=SERVER, dest_port=443, proto="TCP",
                  tls={"sni": "chat.example.org"}) for n in range(6)]
    lines = [*filler, query(2510, 9, "split.example.org"), v1_answer(2510, 9, "split.example.org", "A", "192.0.2.9"),
             v1_answer(2510, 9, "split.example.org", "A", "192.0.2.10"), *filler]
    events, rejects, ignored = parse(tmp_path / "eve.json", *lines)
    assert not rejects and ignored == 2 and len(events) == 13
    assert lookup(events[6]) == (CLIENT, RESOLVER, "split.example.org", "A", "NOERROR", ["192.0.2.9", "192.0.2.10"])


def test_records_farther_apart_than_the_context_are_two_events(tmp_path: Path) -> None:
    # (a batch's window reaches PAIR_LINES past its own lines (batches of about 1024 here): the answer beyond the query's
    # batch's window, and the query before the answer's)
    gap = [eve("stats", 0, stats={"uptime": n}) for n in range(2 * suricata_eve.PAIR_LINES)]
    lines = [query(2610, 3, "far.example.org"), *gap, v1_answer(2610, 3, "far.example.org", "A", "192.0.2.3")]
    path = tmp_path / "eve.json"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    events, _, report = parse_file(path, FORMATS["suricata_eve"], replace(golden_settings(), batch_lines=1024))
    assert report.lines == report.parsed + report.rejected + report.ignored and report.ignored == len(gap)
    assert [lookup(e) for e in events.to_pylist()] == [
        (CLIENT, RESOLVER, "far.example.org", "A", None, None),
        (CLIENT, RESOLVER, "far.example.org", None, "NOERROR", ["192.0.2.3"])]


def test_a_dns_id_reused_in_one_flow_is_one_lookup_per_query(tmp_path: Path) -> None:
    """A forwarder's long-lived flow reuses DNS ids: each query is a lookup of its own, with the answer after it;
    and a file repeating one lookup's records does not join them all into one event."""
    def record(kind: str, name: str, answer: str | None = None) -> str:
        dns: dict[str, object] = {"type": kind, "id": 7, "rrname": name, "rrtype": "A"}
        if answer:
            dns.update(rcode="NOERROR", rdata=answer, ttl=60)
        return json.dumps({"timestamp": "2025-11-18T09:00:01.000000+0100", "flow_id": 99, "event_type": "dns",
                            "src_ip": "10.0.0.53", "src_port": 40000, "dest_ip": "192.0.2.53", "dest_port": 53,
                            "proto": "UDP", "dns": dns})

    lines = [record("query", "chatgpt.com"), record("answer", "chatgpt.com", "104.18.32.47"),
             record("query", "claude.ai"), record("answer", "claude.ai", "160.79.104.10")] * 50
    events, rejects, report = parse_lines(tmp_path / "eve.json", "suricata_eve", lines)
    assert not rejects.num_rows and report.parsed == 100 and report.ignored == 100
    rows = events.to_pylist()
    assert {(row["host"], tuple(row["dns_answers"])) for row in rows} == {
        ("chatgpt.com", ("104.18.32.47",)), ("claude.ai", ("160.79.104.10",))}
    # answers alone, one key repeated: one event joins at most MAX_LOOKUP_RECORDS of them
    answers = [record("answer", "chatgpt.com", "104.18.32.47")] * 200
    events, rejects, report = parse_lines(tmp_path / "answers.json", "suricata_eve", answers)
    assert not rejects.num_rows and report.parsed == 4  # 64 + 64 + 64 + 8
    assert max(len(row["dns_answers"]) for row in events.to_pylist()) == suricata_eve.MAX_LOOKUP_RECORDS
