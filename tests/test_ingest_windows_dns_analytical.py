"""Windows Server DNS analytical events (format windows_dns_analytical): the client's lookups, one event each, read from
what Elastic Agent, Filebeat and NXLog write; the server's own recursion and other events left out."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from detector.config import load_settings
from detector.ingest import FORMATS, sniff, sniff_scores
from detector.ingest.pipeline import ingest_paths, parse_file
from tests.golden import golden_settings, parse_lines

KEY = "windows_dns_analytical"
COLUMNS = ["line_no", "src_ip", "host", "dst_ip", "dns_qtype", "dns_rcode", "action"]


def rows(events: object) -> list[dict[str, object]]:
    return events.select(COLUMNS).to_pylist()  # type: ignore[attr-defined]


def winlog(event_id: int, data: dict[str, str], ts: str = "2026-11-30T08:14:02.101Z") -> str:
    """One event as Elastic Agent ships it (before Elastic's ingest pipeline)."""
    return json.dumps({"@timestamp": ts, "event": {"code": str(event_id), "provider": "Microsoft-Windows-DNSServer"},
                       "winlog": {"channel": "16", "event_data": data}})


def query(client: str, port: int, xid: int, name: str, qtype: str = "1") -> dict[str, str]:
    return {"InterfaceIP": "10.20.0.10", "Source": client, "Port": str(port), "XID": str(xid), "QNAME": name,
            "QTYPE": qtype}


def response(client: str, port: int, xid: int, name: str, rcode: int, qtype: str = "1") -> dict[str, str]:
    return {"InterfaceIP": "10.20.0.10", "Destination": client, "Port": str(port), "XID": str(xid), "QNAME": name,
            "QTYPE": qtype, "RCODE": str(rcode)}


def test_elastic_vendor_events_read_as_their_clients_lookups(tmp_path: Path, vendor_samples: Path) -> None:
    """Elastic's pipeline test events, one per line as the agent ships them: the response (257) names its client in
    Destination, the query (256) and the ignored query (259) in Source; the recursion response (261) is the
    forwarder's answer to the server, whose address is no client's."""
    document = json.loads((vendor_samples / "windows-dns" / "analytical-etw" / "test-events.json").read_text())
    lines = [json.dumps(event) for event in document["events"]]
    assert sniff(lines).name == KEY
    events, rejects, report = parse_lines(tmp_path / "analytical.json", KEY, lines)
    assert rejects.num_rows == 0 and report.ignored == 1
    assert rows(events) == [
        {"line_no": 1, "src_ip": "216.160.83.56", "host": "google.es", "dst_ip": "172.31.87.64", "dns_qtype": "AAAA",
         "dns_rcode": "NOERROR", "action": "allowed"},
        {"line_no": 3, "src_ip": "67.43.156.1", "host": "google.es", "dst_ip": "172.31.87.64", "dns_qtype": "A",
         "dns_rcode": None, "action": "unknown"},
        {"line_no": 4, "src_ip": "216.160.83.56", "host": "example.com", "dst_ip": None, "dns_qtype": "A",
         "dns_rcode": None, "action": "unknown"},
    ]
    assert [str(ts) for ts in events.column("ts").to_pylist()] == [
        "2024-04-22 09:31:13.894000+00:00", "2024-04-22 09:31:13.872000+00:00", "2024-04-22 09:44:35.017000+00:00"]
    # the response's message (PacketData) answers with one AAAA record; the recursion response's, alike, is not read
    assert events.column("dns_answers").to_pylist() == [["2607:f8b0:4004:c17::5e"], None, None]


@pytest.mark.parametrize("batch_lines", [1, 2, 3, 5, 100])
def test_a_response_joins_its_query_before_or_after_it_wherever_batches_are_cut(tmp_path: Path,
                                                                                 batch_lines: int) -> None:
    lines = [
        winlog(257, response("10.20.3.14", 52811, 4121, "chatgpt.com.", 0)),  # logged before its query
        winlog(256, query("10.20.3.14", 52811, 4121, "chatgpt.com.")),
        winlog(256, query("10.20.3.15", 52811, 4121, "chatgpt.com.")),  # same port and XID, another client
        winlog(256, query("10.20.5.31", 60020, 222, "chat.deepseek.com.")),
        winlog(258, response("10.20.5.31", 60020, 222, "chat.deepseek.com.", 5)),  # a policy's DENY
        winlog(257, response("10.20.7.8", 49152, 77, "www.deepl.com.", 0)),  # its query was not collected
    ]
    path = tmp_path / "analytical.json"
    path.write_text("".join(line + "\n" for line in lines))
    events, rejects, report = parse_file(path, FORMATS[KEY], replace(golden_settings(), batch_lines=batch_lines))
    assert rejects.num_rows == 0 and report.ignored == 2
    assert [(r["line_no"], r["src_ip"], r["host"], r["dns_rcode"], r["action"]) for r in rows(events)] == [
        (2, "10.20.3.14", "chatgpt.com", "NOERROR", "allowed"),
        (3, "10.20.3.15", "chatgpt.com", None, "unknown"),
        (4, "10.20.5.31", "chat.deepseek.com", "REFUSED", "blocked"),
        (6, "10.20.7.8", "www.deepl.com", "NOERROR", "allowed"),
    ]


def test_the_servers_own_work_and_other_providers_are_ignored_and_bad_lines_rejected(tmp_path: Path) -> None:
    lines = [
        winlog(260, {"Destination": "192.0.2.53", "QNAME": "chatgpt.com.", "QTYPE": "1", "XID": "9", "Port": "0"}),
        winlog(261, {"Source": "192.0.2.53", "QNAME": "chatgpt.com.", "QTYPE": "1", "XID": "9", "Port": "0"}),
        winlog(515, {"Zone": "gemeente.local", "NAME": "ws-0412.gemeente.local"}),
        json.dumps({"@timestamp": "2026-11-30T08:20:01Z", "event": {"code": "4624",
                    "provider": "Microsoft-Windows-Security-Auditing"}}),
        winlog(256, {"Source": "10.20.3.14", "Port": "1", "XID": "1", "QTYPE": "1"}),
        winlog(256, query("10.20.3.14", 2, 2, "claude.ai."), ts="yesterday"),
        json.dumps({"@timestamp": "2026-11-30T08:20:01Z", "winlog": {"event_data": {"Source": "10.20.3.14"}}}),
        '{"@timestamp":"2026-11-30T08:20:01Z","event":{"code":"256"',
        "[1, 2]",
    ]
    events, rejects, report = parse_lines(tmp_path / "analytical.json", KEY, lines)
    assert events.num_rows == 0 and report.ignored == 4
    reasons = rejects.column("reason").to_pylist()
    assert [reason.split(" (")[0].split(":")[0] for reason in reasons] == [
        "DNS Server lookup event without its query name", "DNS Server lookup event without a time read",
        "no event ID", "not a JSON object", "not a JSON object"]


def test_nxlog_flat_events_and_their_local_times(tmp_path: Path) -> None:
    """NXLog's im_etw keys at the top level; an EventTime without an offset is the configured zone's time
    (Europe/Amsterdam in the golden settings), one with an offset is read as written."""
    def nxlog(event_id: int, time: str, data: dict[str, str]) -> str:
        return json.dumps({"SourceName": "Microsoft-Windows-DNSServer", "EventID": event_id, "EventTime": time,
                           "Hostname": "DC01", **data})

    lines = [nxlog(256, "2026-11-30 09:30:00", query("10.20.3.22", 61001, 31, "www.perplexity.ai.")),
             nxlog(257, "2026-11-30 09:30:00", response("10.20.3.22", 61001, 31, "www.perplexity.ai.", 3)),
             nxlog(256, "2026-07-01T09:31:15.250000+00:00", query("10.20.3.22", 61002, 32, "mistral.ai.", "28"))]
    assert sniff(lines).name == KEY
    events, rejects, _ = parse_lines(tmp_path / "nxlog.json", KEY, lines)
    assert rejects.num_rows == 0
    assert [(str(r["ts"]), r["host"], r["dns_qtype"], r["dns_rcode"]) for r in events.to_pylist()] == [
        ("2026-11-30 08:30:00+00:00", "www.perplexity.ai", "A", "NXDOMAIN"),
        ("2026-07-01 09:31:15.250000+00:00", "mistral.ai", "AAAA", None)]


def test_elasticsearch_hits_of_processed_events_are_not_read_as_generic_json(tmp_path: Path) -> None:
    """After Elastic's pipeline the values are renamed and ECS `source.ip` of a recursion response is the forwarder:
    the generic `json` format would count it as a client's lookup, this format does not."""
    def hit(event_id: int, analytical: dict[str, object], ecs: dict[str, object]) -> str:
        return json.dumps({"_index": "logs", "_source": {
            "@timestamp": "2026-11-30T10:02:00.100Z", "event": {"code": str(event_id),
                                                                 "dataset": "microsoft_dnsserver.analytical"},
            "microsoft_dnsserver": {"analytical": analytical}, **ecs}})

    lines = [
        hit(256, {"question_name": "notebooklm.google.com.", "question_type": "A", "xid": "5",
                  "source": {"ip": "10.20.4.7", "port": 53001}},
            {"source": {"ip": "10.20.4.7"}, "dns": {"question": {"name": "notebooklm.google.com."}}}),
        hit(261, {"question_name": "notebooklm.google.com.", "xid": "40001", "source": {"ip": "192.0.2.53"}},
            {"source": {"ip": "192.0.2.53"}, "dns": {"question": {"name": "notebooklm.google.com."}}}),
        hit(257, {"question_name": "notebooklm.google.com.", "xid": "5", "response_code": "NoError",
                  "destination": {"ip": "10.20.4.7", "port": 53001}},
            {"destination": {"ip": "10.20.4.7"}, "dns": {"question": {"name": "notebooklm.google.com."}}}),
    ]
    scores = dict(sniff_scores(lines))
    assert scores[KEY] > scores["json"]
    events, rejects, report = parse_lines(tmp_path / "export.json", KEY, lines)
    assert rejects.num_rows == 0 and report.ignored == 2
    assert [(r["src_ip"], r["host"], r["dns_rcode"], r["action"]) for r in rows(events)] == [
        ("10.20.4.7", "notebooklm.google.com", "NOERROR", "allowed")]


def test_a_repeating_key_pairs_each_query_with_its_own_response(tmp_path: Path) -> None:
    """A stub resolver that reuses its port and XID: every query still takes the response nearest to it, one each."""
    lines = []
    for n in range(300):
        lines.append(winlog(256, query("10.20.3.14", 53, 1, "chatgpt.com.")))
        lines.append(winlog(257, response("10.20.3.14", 53, 1, "chatgpt.com.", 3 if n % 3 == 0 else 0)))
    events, rejects, report = parse_lines(tmp_path / "analytical.json", KEY, lines)
    assert rejects.num_rows == 0 and report.ignored == 300
    assert events.column("line_no").to_pylist() == list(range(1, 601, 2))
    assert events.column("dns_rcode").to_pylist() == ["NXDOMAIN" if n % 3 == 0 else "NOERROR" for n in range(300)]


def test_escaped_values_and_lines_the_fast_reader_doubts_read_alike(tmp_path: Path) -> None:
    """A name with a JSON escape, a line with a repeated key and a line with spaces everywhere: the compiled walk
    passes the latter two to DuckDB, whose values take their rows among the walked ones."""
    lines = [
        winlog(256, query("10.20.3.14", 1, 1, "chatgpt.com.")).replace("chatgpt", "chat\\u0067pt"),
        winlog(256, query("10.20.3.15", 2, 2, "claude.ai.")).replace('"QTYPE": "1"', '"QTYPE": "28", "QTYPE": "1"'),
        json.dumps(json.loads(winlog(256, query("10.20.3.16", 3, 3, "mistral.ai."))), indent=1).replace("\n", " "),
        winlog(256, query("10.20.3.17", 4, 4, "www.deepl.com.")),
    ]
    events, rejects, _ = parse_lines(tmp_path / "analytical.json", KEY, lines)
    assert rejects.num_rows == 0
    assert [(r["src_ip"], r["host"]) for r in events.to_pylist()] == [
        ("10.20.3.14", "chatgpt.com"), ("10.20.3.15", "claude.ai"), ("10.20.3.16", "mistral.ai"),
        ("10.20.3.17", "www.deepl.com")]


def test_the_answers_name_a_firewalls_address_only_flow(home: Path, tmp_path: Path) -> None:
    """A Windows DNS lookup's answer (chatgpt.com -> 104.18.32.47 for 10.20.3.14, 08:14:02) names the flow the
    same client opens to that address half a minute later."""
    from detector import db
    from detector.classify.run import classify
    from detector.config import load_settings
    from detector.ingest.pipeline import ingest_paths
    from tests.golden import SAMPLES

    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "dns.json").write_bytes((SAMPLES / KEY / "elastic_agent.json").read_bytes())
    flow = {"ts": 1796026470.0, "uid": "C1", "id.orig_h": "10.20.3.14", "id.orig_p": 51000,  # 2026-11-30 08:14:30
            "id.resp_h": "104.18.32.47", "id.resp_p": 443, "proto": "tcp", "service": "ssl", "duration": 30.0,
            "orig_bytes": 2000, "resp_bytes": 9000, "conn_state": "SF"}
    (logs / "conn.log").write_text(json.dumps(flow) + "\n")
    reports = list(ingest_paths(load_settings(home), [str(logs)]))
    assert sorted(r.format for r in reports) == [KEY, "zeek_conn"]
    classify(load_settings(home))
    with db.connect(load_settings(home)) as connection:
        named = connection.sql("select host, host_source, host_certainty from events where log_format = 'zeek_conn'"
                               ).fetchall()
    assert named == [("chatgpt.com", "dns_answer", "same_client")]


def test_the_vendor_events_document_ingests_as_it_is(tmp_path: Path, vendor_samples: Path) -> None:
    """Elastic's test file is a pretty-printed `{"events": [...]}`: ingested as it is (json_document), recognised and
    read as the same lookups as its events one a line."""
    path = vendor_samples / "windows-dns" / "analytical-etw" / "test-events.json"
    [report] = list(ingest_paths(load_settings(tmp_path / "home"), [str(path)]))
    assert (report.format, report.lines, report.parsed, report.rejected, report.ignored, report.error) == (
        KEY, 4, 3, 0, 1, None)
