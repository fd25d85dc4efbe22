"""A DNS event is a property of the event, not of its format's source kind: any event whose host was learned
from a DNS query (`host_source` dns_query) is a lookup, counted once per client, host and minute in
`usage_daily`, and, when it carries answers, names the IP-only flows of the client it answered, whether a
DNS server, a firewall, a sensor or a JSON export logged it. A proxy request is never a lookup.

Lines are written from the vendors' documented layouts:
- FortiGate: FortiOS Log Message Reference, DNS `dns-response` (54401 LOG_ID_DNS_URL_FILTER_ALLOW: `qname`,
  `qtype`, `ipaddr` "IP addresses from DNS response answer section")
  https://docs.fortinet.com/document/fortigate/7.6.1/fortios-log-message-reference/54401/54401-log-id-dns-url-filter-allow
  and forward traffic (0000000013 LOG_ID_TRAFFIC_END_FORWARD)
  https://docs.fortinet.com/document/fortigate/7.6.1/fortios-log-message-reference/13/13-log-id-traffic-end-forward
- Zeek dns.log fields: https://docs.zeek.org/en/master/scripts/base/protocols/dns/main.zeek.html#type-DNS::Info
- Squid native access.log: https://wiki.squid-cache.org/Features/LogFormat
- the JSON format's ECS DNS rows (`dns.question.name` as host with host_source dns_query, answers in
  `dns_answers`): https://www.elastic.co/guide/en/ecs/current/ecs-dns.html; written to the lake as the
  `json` format stores such a row, so that this test does not depend on which ECS answer fields it reads.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from detector import db
from detector.classify.run import classify
from detector.config import load_settings
from detector.ingest.pipeline import ingest_paths
from detector.lake import PARQUET_OPTIONS, Lake
from detector.report.ecs import event_document
from detector.schema import EVENT_FILE_SCHEMA, conform

T0 = 1732780800  # 2024-11-28 08:00:00 UTC
DAY = "2024-11-28"
CDN = "104.18.32.47"


def ingest(home: Path, *paths: Path) -> None:
    reports = list(ingest_paths(load_settings(home), [str(p) for p in paths]))
    assert all(r.parsed and not r.rejected for r in reports), reports


def flows(home: Path, log_format: str) -> list[tuple[object, ...]]:
    with db.connect(load_settings(home)) as connection:
        return connection.execute(
            "select src_ip, dst_ip, host, host_source, host_certainty from events where log_format = ?"
            " and dst_ip <> '10.60.0.53' order by ts", [log_format]).fetchall()


def usage(home: Path, service: str) -> tuple[object, ...]:
    with db.connect(load_settings(home)) as connection:
        return connection.execute(
            "select sum(events), sum(dns_lookups), sum(proxy_events), sum(firewall_events), sum(sensor_events)"
            " from usage_daily where service = ?", [service]).fetchone()


def user_events(home: Path, service: str) -> list[tuple[object, ...]]:
    with db.connect(load_settings(home)) as connection:
        return connection.execute(
            "select person, events from user_daily where service = ? order by person", [service]).fetchall()


def fortigate_time(ts: int) -> str:
    moment = datetime.fromtimestamp(ts, UTC)
    return f'date={moment:%Y-%m-%d} time={moment:%H:%M:%S} devname="FGT-A" eventtime={ts}000000000 tz="+0000"'


def fortigate_dns(ts: int, client: str, name: str, answers: str) -> str:
    return (f'{fortigate_time(ts)} logid="1501054401" type="utm" subtype="dns" eventtype="dns-response" '
            f'level="information" vd="root" srcip={client} srcport=53001 dstip=10.60.0.53 dstport=53 proto=17 '
            f'qname="{name}" qtype="A" qclass="IN" ipaddr="{answers}" msg="Domain is monitored" action="pass"')


def fortigate_traffic(ts: int, client: str, server: str) -> str:
    return (f'{fortigate_time(ts)} logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" '
            f'srcip={client} srcport=50100 srcintf="lan" dstip={server} dstport=443 dstintf="wan1" proto=6 '
            'action="close" policyid=3 service="HTTPS" duration=12 sentbyte=3400 rcvdbyte=88000')


def zeek_dns(ts: float, client: str, query: str, answers: list[str]) -> str:
    return json.dumps({
        "ts": ts, "uid": f"D{ts}{client[-1]}", "id.orig_h": client, "id.orig_p": 50000, "id.resp_h": "10.0.0.53",
        "id.resp_p": 53, "proto": "udp", "query": query, "qtype_name": "A", "rcode_name": "NOERROR",
        "trans_id": 4242, "AA": False, "TC": False, "RD": True, "RA": True, "Z": 0, "answers": answers,
        "TTLs": [300.0] * len(answers), "rejected": False}) + "\n"


def zeek_conn(ts: float, client: str, server: str) -> str:
    return json.dumps({
        "ts": ts, "uid": f"C{ts}{client[-1]}", "id.orig_h": client, "id.orig_p": 51000, "id.resp_h": server,
        "id.resp_p": 443, "proto": "tcp", "service": "ssl", "duration": 30.0, "orig_bytes": 2000,
        "resp_bytes": 9000, "conn_state": "SF"}) + "\n"


def squid(ts: float, client: str, host: str) -> str:
    return f"{ts:.3f}    512 {client} TCP_TUNNEL/200 48213 CONNECT {host}:443 - HIER_DIRECT/{CDN} -\n"


def write_lake_events(home: Path, kind: str, name: str, rows: list[dict[str, object]]) -> Path:
    """Events written straight into the lake's layout (source_kind=/day=/<file>.parquet), as ingest writes them."""
    folder = Lake(load_settings(home).lake).events_dir / f"source_kind={kind}" / f"day={DAY}"
    folder.mkdir(parents=True, exist_ok=True)
    columns = {key: [row.get(key) for row in rows] for key in rows[0]}
    table = pa.table({**columns, "ts": pa.array([datetime.fromtimestamp(t, UTC) for t in columns["ts"]],
                                                pa.timestamp("us", tz="UTC"))})
    table = conform(table.append_column("source_kind", pa.repeat(pa.scalar(kind), len(rows))))
    path = folder / f"{name}-0.parquet"
    pq.write_table(table.select(EVENT_FILE_SCHEMA.names), path, **PARQUET_OPTIONS)
    return path


def test_a_fortigate_dns_answer_names_a_fortigate_traffic_flow_of_the_same_client(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "fortigate.log"
    log.write_text("\n".join([
        fortigate_dns(T0, "10.60.1.6", "chatgpt.com", f"{CDN}, 172.64.155.209"),
        fortigate_dns(T0 + 1, "10.60.1.7", "www.example-news.nl", CDN),
        fortigate_traffic(T0 + 10, "10.60.1.6", CDN),             # its own answer: chatgpt.com
        fortigate_traffic(T0 + 11, "10.60.1.7", CDN),             # its own answer: the news site
        fortigate_traffic(T0 + 12, "10.60.1.6", "172.64.155.209"),  # the second address of the same answer
        fortigate_traffic(T0 + 13, "10.60.1.6", "198.51.100.7"),  # nobody resolved it
    ]) + "\n")
    ingest(home, log)
    classify(load_settings(home))
    assert flows(home, "fortigate") == [  # the traffic flows (the DNS events went to the server 10.60.0.53)
        ("10.60.1.6", CDN, "chatgpt.com", "dns_answer", "same_client"),
        ("10.60.1.7", CDN, "www.example-news.nl", "dns_answer", "same_client"),
        ("10.60.1.6", "172.64.155.209", "chatgpt.com", "dns_answer", "same_client"),
        ("10.60.1.6", "198.51.100.7", None, "none", None),
    ]


def json_dns_row(ts: int, client: str, name: str, answers: list[str], host_source: str = "dns_query") -> dict[str, object]:
    return {"ts": ts, "src_ip": client, "host": name, "host_source": host_source, "dns_qtype": "A",
            "dns_rcode": "NOERROR", "dns_answers": answers, "log_format": "json", "file_id": "ecsdns",
            "line_no": ts - T0 + 1, "action": "allowed"}


def test_a_json_ecs_dns_rows_answer_names_a_flow_and_a_new_answer_file_of_any_kind_names_its_days_again(
        home: Path, tmp_path: Path) -> None:
    conn = tmp_path / "conn.log"
    conn.write_text(zeek_conn(T0 + 10, "10.0.1.1", CDN) + zeek_conn(T0 + 11, "10.0.1.2", "160.79.104.10"))
    ingest(home, conn)
    first = classify(load_settings(home))
    assert (first.flow_days_named, flows(home, "zeek_conn")[0][2]) == (1, None)

    # a proxy log holds no answers: the day's names are kept, the file read once for that
    proxy = tmp_path / "access.log"
    proxy.write_text(squid(T0 + 5, "10.0.1.1", "chatgpt.com"))
    ingest(home, proxy)
    assert (classify(load_settings(home)).flow_days_named) == 0

    # an ECS export's DNS rows land in the proxy kind's folder: the day is named again, and only the
    # row whose host came from a DNS query is an answer (a URL host with answers is not)
    write_lake_events(home, "proxy", "ecsdns", [
        json_dns_row(T0, "10.0.1.1", "chatgpt.com", [CDN]),
        json_dns_row(T0 + 1, "10.0.1.2", "claude.ai", ["160.79.104.10"], host_source="url"),
    ])
    again = classify(load_settings(home))
    assert (again.flow_days_named, again.flow_days_kept) == (1, 0)
    assert [(client, host, certainty) for client, _, host, _, certainty in flows(home, "zeek_conn")] == [
        ("10.0.1.1", "chatgpt.com", "same_client"), ("10.0.1.2", None, None)]
    assert classify(load_settings(home)).flow_days_named == 0  # nothing new: kept


def test_an_ingested_ecs_json_dns_export_names_a_flow_and_counts_as_lookups(home: Path, tmp_path: Path) -> None:
    # ECS DNS fields (https://www.elastic.co/guide/en/ecs/current/ecs-dns.html): `dns.question.name`, the
    # addresses in `dns.resolved_ip`; the client in `source.ip`. The `json` format stores these rows in the
    # proxy kind's folder.
    def ecs(ts: int, client: str, name: str, addresses: list[str]) -> str:
        moment = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return json.dumps({"@timestamp": moment, "event": {"category": ["network"], "type": ["protocol"]},
                           "source": {"ip": client}, "dns": {"question": {"name": name, "type": "A"},
                                                             "response_code": "NOERROR", "resolved_ip": addresses}})
    export = tmp_path / "dns-export.json"
    export.write_text("\n".join([ecs(T0, "10.0.1.1", "chatgpt.com", [CDN]), ecs(T0 + 2, "10.0.1.1", "chatgpt.com", [CDN]),
                                 ecs(T0 + 70, "10.0.1.1", "chatgpt.com", [CDN])]) + "\n")
    conn = tmp_path / "conn.log"
    conn.write_text(zeek_conn(T0 + 10, "10.0.1.1", CDN))
    ingest(home, export, conn)
    classify(load_settings(home))
    assert [(client, host, certainty) for client, _, host, _, certainty in flows(home, "zeek_conn")] == [
        ("10.0.1.1", "chatgpt.com", "same_client")]
    # the three rows are two lookups (two minutes); the flow is sensor traffic
    assert usage(home, "chatgpt") == (3, 2, 0, 0, 1)


def test_zeek_dns_lookups_repeated_within_a_minute_count_once(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "dns.log"
    minute = T0 + 120  # 08:02:00
    log.write_text("".join([
        zeek_dns(minute + 1, "10.0.1.1", "chatgpt.com", [CDN]),
        zeek_dns(minute + 2, "10.0.1.1", "chatgpt.com", [CDN]),     # AAAA/HTTPS and retries: the same lookup
        zeek_dns(minute + 59, "10.0.1.1", "chatgpt.com", []),
        zeek_dns(minute + 61, "10.0.1.1", "chatgpt.com", [CDN]),    # the next minute: a lookup again
        zeek_dns(minute + 3, "10.0.1.2", "chatgpt.com", [CDN]),     # another client
    ]))
    ingest(home, log)
    classify(load_settings(home))
    # events, dns_lookups, proxy_events, firewall_events, sensor_events
    assert usage(home, "chatgpt") == (3, 3, 0, 0, 0)
    # per person (here: per hashed client) the same rule: two lookups for 10.0.1.1, one for 10.0.1.2
    assert sorted(events for _, events in user_events(home, "chatgpt")) == [1, 2]


def test_a_proxy_event_is_never_a_dns_lookup(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text("".join(squid(T0 + second, "10.0.1.1", "chatgpt.com") for second in (1, 2, 3)))
    ingest(home, log)
    classify(load_settings(home))
    # three requests in one minute from one client are three events, none a lookup
    assert usage(home, "chatgpt") == (3, 0, 3, 0, 0)
    assert [events for _, events in user_events(home, "chatgpt")] == [3]


def test_a_json_exports_dns_row_is_exported_to_a_siem_as_a_dns_lookup_not_a_web_request() -> None:
    # ECS: a DNS lookup has `dns.question.name` and event.category network only
    # (https://www.elastic.co/guide/en/ecs/current/ecs-dns.html); a proxy request keeps web and url.domain.
    row = {"ts": datetime.fromtimestamp(T0, UTC), "source_kind": "proxy", "log_format": "json", "user_id": None,
           "department": "Burgerzaken", "attribution": "network", "host": "chatgpt.com", "host_source": "dns_query",
           "service": "chatgpt", "service_name": "ChatGPT", "category": "chat", "match": "catalog",
           "verdict": "shadow", "action": "allowed", "http_method": None, "bytes_out": None, "bytes_in": None,
           "file_id": "f", "line_no": 1}
    lookup = event_document(row, "Gemeente")
    assert (lookup["event"]["category"], lookup["dns"], "url" in lookup) == (
        ["network"], {"question": {"name": "chatgpt.com"}}, False)
    request = event_document({**row, "host_source": "connect"}, "Gemeente")
    assert (request["event"]["category"], request["url"], "dns" in request) == (
        ["network", "web"], {"domain": "chatgpt.com"}, False)


def test_blocked_lookups_count_as_lookups_so_blocked_never_exceeds_events(home: Path, tmp_path: Path) -> None:
    # A resolver that blocks a name answers each retry with a refusal: three blocked queries from one client in one
    # minute are one blocked lookup, as they are one lookup in `events`; a proxy's refusals count each.
    def blocked_lookup(ts: int, client: str) -> dict[str, object]:
        return {**json_dns_row(ts, client, "chatgpt.com", []), "action": "blocked", "dns_rcode": "REFUSED"}
    write_lake_events(home, "dns", "resolver", [
        blocked_lookup(T0 + 1, "10.0.1.1"), blocked_lookup(T0 + 2, "10.0.1.1"), blocked_lookup(T0 + 3, "10.0.1.1"),
        {**json_dns_row(T0 + 4, "10.0.1.1", "chatgpt.com", [CDN])},  # answered in the same minute: the same lookup
        blocked_lookup(T0 + 65, "10.0.1.1"),                          # the next minute: another blocked lookup
    ])
    proxy = tmp_path / "access.log"
    proxy.write_text("".join(f"{T0 + second:.3f}    12 10.0.1.2 TCP_DENIED/403 3900 GET https://chatgpt.com/ - "
                             "HIER_NONE/- text/html\n" for second in (5, 6)))
    ingest(home, proxy)
    classify(load_settings(home))
    with db.connect(load_settings(home)) as connection:
        usage_row = connection.execute(
            "select sum(events), sum(dns_lookups), sum(blocked) from usage_daily where service = 'chatgpt'").fetchone()
        people = connection.execute(
            "select events, blocked from user_daily where service = 'chatgpt' order by events").fetchall()
        forbidden_gap = connection.execute(
            "select min(events - blocked) from usage_daily where service = 'chatgpt'").fetchone()[0]
    # two lookups (two minutes), both with a blocked query; two refused proxy requests
    assert usage_row == (4, 2, 4)
    assert people == [(2, 2), (2, 2)]
    assert forbidden_gap >= 0
