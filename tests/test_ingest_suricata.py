"""Suricata EVE: which records are events, the client side of DNS answers, DNS layouts v1-v3, bytes once."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.ingest import FORMATS
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings

FLOW = {"src_ip": "10.20.3.14", "src_port": 52011, "dest_ip": "104.18.32.47", "dest_port": 443, "proto": "TCP"}


def record(event_type: str, body: dict[str, object] | None = None, **common: object) -> str:
    data: dict[str, object] = {"timestamp": "2025-11-18T09:00:01.102345+0100", "flow_id": 1, "event_type": event_type,
                               **FLOW, **common}
    if body is not None:
        data[event_type] = body
    return json.dumps(data)


def parse(tmp_path: Path, *lines: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "eve.json"
    path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS["suricata_eve"], golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist(), report


def test_records_without_traffic_are_ignored_not_rejected(tmp_path: Path) -> None:
    events, rejects, report = parse(
        tmp_path,
        record("stats", {"uptime": 60}),
        record("fileinfo", {"filename": "/x", "size": 1}),
        record("ssh", {"client": {"software_version": "OpenSSH_9.6"}}),
        record("anomaly", {"type": "stream", "event": "PKT_INVALID_ACK"}),
        record("tls", {"sni": "chatgpt.com"}),
    )
    assert (report.parsed, report.ignored, report.rejected) == (1, 4, 0)
    assert events[0]["host"] == "chatgpt.com" and not rejects


def test_timestamp_offset_is_applied(tmp_path: Path) -> None:
    (event,), _, _ = parse(tmp_path, record("tls", {"sni": "chatgpt.com"}))
    assert event["ts"].isoformat() == "2025-11-18T08:00:01.102345+00:00"


def test_dns_answer_logged_from_the_server_is_turned_to_the_client(tmp_path: Path) -> None:
    answer = record("dns", {"type": "answer", "rrname": "api.openai.com", "rrtype": "A", "rcode": "NOERROR",
                            "rdata": "162.159.140.245"},
                    src_ip="10.1.0.53", src_port=53, dest_ip="10.20.7.101", dest_port=50001, proto="UDP")
    (event,), _, _ = parse(tmp_path, answer)
    assert (event["src_ip"], event["dst_ip"], event["dst_port"]) == ("10.20.7.101", "10.1.0.53", 53)
    assert (event["host"], event["host_source"], event["dns_answers"]) == (
        "api.openai.com", "dns_query", ["162.159.140.245"])


def test_dns_layouts_v2_answers_v2_grouped_and_v3_queries(tmp_path: Path) -> None:
    v2 = record("dns", {"version": 2, "type": "answer", "rrname": "chatgpt.com", "rrtype": "A", "rcode": "NOERROR",
                        "answers": [{"rrname": "chatgpt.com", "rrtype": "A", "rdata": "104.18.32.47"},
                                    {"rrname": "chatgpt.com", "rrtype": "A", "rdata": "172.64.155.209"}]})
    grouped = record("dns", {"version": 2, "type": "answer", "rrname": "www.deepl.com", "rrtype": "A",
                             "rcode": "NOERROR", "grouped": {"CNAME": ["x.cdn.example"], "A": ["104.18.20.103"]}})
    v3 = record("dns", {"version": 3, "type": "request", "id": 7,
                        "queries": [{"rrname": "Gemini.Google.com.", "rrtype": "HTTPS"}]})
    events, rejects, _ = parse(tmp_path, v2, grouped, v3)
    assert not rejects
    assert [e["dns_answers"] for e in events] == [
        ["104.18.32.47", "172.64.155.209"], ["x.cdn.example", "104.18.20.103"], None]
    assert [(e["host"], e["dns_qtype"]) for e in events][2] == ("gemini.google.com", "HTTPS")


def test_only_the_flow_record_counts_bytes(tmp_path: Path) -> None:
    flow = {"pkts_toserver": 4, "pkts_toclient": 3, "bytes_toserver": 793, "bytes_toclient": 343,
            "start": "2025-11-18T09:00:00.000000+0100", "end": "2025-11-18T09:00:02.500000+0100"}
    alert = record("alert", {"action": "allowed", "signature": "x"}, tls={"sni": "l2.io"}, flow=flow)
    events, _, _ = parse(tmp_path, alert, record("flow", flow, app_proto="tls"))
    assert [(e["bytes_out"], e["bytes_in"], e["duration_ms"]) for e in events] == [
        (None, None, None), (793, 343, 2500)]
    assert [e["network_protocol"] for e in events] == ["tcp", "tls"]


def test_alert_and_drop_carry_the_ips_decision(tmp_path: Path) -> None:
    events, _, _ = parse(
        tmp_path,
        record("alert", {"action": "blocked", "signature": "x"}, tls={"sni": "ChatGPT.com"}),
        record("alert", {"action": "allowed", "signature": "y"}, http={"hostname": "www.deepl.com", "url": "/"}),
        record("drop", {"len": 60}),
        record("tls", {"sni": "claude.ai"}),
    )
    assert [(e["action"], e["host"], e["host_source"]) for e in events] == [
        ("blocked", "chatgpt.com", "sni"), ("allowed", "www.deepl.com", "http_host"), ("blocked", None, "none"),
        ("unknown", "claude.ai", "sni")]


def test_http_record_fields(tmp_path: Path) -> None:
    http = {"hostname": "WWW.DEEPL.COM", "url": "http://www.deepl.com/translator?x=1#nl", "http_method": "post",
            "status": 200, "length": 1155, "http_user_agent": "curl/8.5.0", "http_content_type": "text/html"}
    (event,), _, _ = parse(tmp_path, record("http", http))
    assert (event["host"], event["url_path"], event["http_method"], event["http_status"], event["bytes_in"]) == (
        "www.deepl.com", "/translator", "POST", 200, 1155)
    assert (event["user_agent"], event["content_type"], event["bytes_out"]) == ("curl/8.5.0", "text/html", None)


def test_bad_lines_are_rejected_with_their_reason(tmp_path: Path) -> None:
    _, rejects, _ = parse(tmp_path, '{"timestamp":"2025-11-18T09:00:01+0100","event_type":"tls","tls":{',
                          json.dumps({"timestamp": "2025-11-18T09:00:01+0100", "src_ip": "10.0.0.1"}),
                          record("tls", {"sni": "a.example"}, timestamp="yesterday"))
    assert [r["reason"] for r in rejects] == ["not a valid JSON object", "no event_type", "no timestamp"]


def test_vendor_sample_events(vendor_samples: Path) -> None:
    events, _, _ = parse_file(vendor_samples / "suricata-eve/eve-small.log", FORMATS["suricata_eve"],
                              golden_settings())
    by_line = {e["line_no"]: e for e in events.to_pylist()}
    assert (by_line[2]["host"], by_line[2]["action"]) == ("l2.io", "allowed")
    assert (by_line[5]["src_ip"], by_line[5]["host"]) == ("192.168.86.85", "clients.l.google.com")
    assert by_line[7]["host"] == "p33-btmmdns.icloud.com"
    assert (by_line[8]["bytes_out"], by_line[8]["bytes_in"]) == (110, 0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=60),
    st.dictionaries(st.sampled_from(["event_type", "timestamp", "src_ip", "dest_port", "dns", "tls", "flow"]),
                    st.one_of(st.none(), st.integers(), st.text(max_size=10),
                              st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3))).map(json.dumps),
), min_size=1, max_size=8))
def test_arbitrary_lines_never_crash_and_are_all_accounted_for(tmp_path: Path, lines: list[str]) -> None:
    parse(tmp_path, *lines)


def test_dns_answers_without_data_are_left_out(tmp_path: Path) -> None:
    # An SOA answer has `soa` instead of `rdata`; an explicit null rdata is no answer either.
    answer = record("dns", {"version": 2, "type": "answer", "rrname": "chatgpt.com", "rrtype": "A",
                            "rcode": "NOERROR", "answers": [
                                {"rrname": "chatgpt.com", "rrtype": "SOA", "soa": {"mname": "ns1.chatgpt.com"}},
                                {"rrname": "chatgpt.com", "rrtype": "A", "rdata": "104.18.32.47"},
                                {"rrname": "chatgpt.com", "rrtype": "A", "rdata": None}]})
    (event,), _, _ = parse(tmp_path, answer)
    assert event["dns_answers"] == ["104.18.32.47"]



def test_compact_and_spaced_json_read_alike(tmp_path: Path) -> None:
    # Suricata writes compact JSON, whose record type is guessed from the text; spaced JSON is read by every path.
    sample = Path(__file__).resolve().parent.parent / "sample_logs/suricata_eve/basic.log"
    lines = [line for line in sample.read_text().splitlines() if line.strip()]
    spaced = [json.dumps(json.loads(line)) if _is_json(line) else line for line in lines]
    compact_events, compact_rejects, _ = parse(tmp_path, *lines)
    spaced_events, spaced_rejects, _ = parse(tmp_path, *spaced)
    assert compact_events == spaced_events and len(compact_events) == 12  # (a query and its answer: one event)
    assert [r["reason"] for r in compact_rejects] == [r["reason"] for r in spaced_rejects]


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def test_a_wrong_guess_of_the_record_type_is_read_again(tmp_path: Path) -> None:
    # `"event_type":"tls"` in a nested object before the record's own key; a type that begins like one we read.
    decoy = json.dumps({"flow_id": 1, "meta": {"event_type": "tls"}, "event_type": "http", "timestamp":
                        "2025-11-18T09:00:01.102345+0100", **FLOW, "http": {"hostname": "claude.ai", "url": "/x"}},
                       separators=(",", ":"))
    events, rejects, report = parse(tmp_path, decoy, record("http2", {"x": 1}).replace(": ", ":").replace(", ", ","),
                                    record("tls", {"sni": "chatgpt.com"}).replace(": ", ":").replace(", ", ","))
    assert not rejects and report.ignored == 1
    assert [(e["host"], e["host_source"], e["url_path"]) for e in events] == [
        ("claude.ai", "http_host", "/x"), ("chatgpt.com", "sni", None)]


def test_suricata_time_format_and_others_read_as_sql_does(tmp_path: Path) -> None:
    times = ["2025-11-18T09:00:01.102345+0100", "2025-11-18T09:00:01.102345-0530", "2025-11-18 09:00:01",
             "2025-11-18T24:00:00.000000+0100", "2025-13-18T09:00:01.102345+0100"]
    events, rejects, _ = parse(tmp_path, *(record("tls", {"sni": "a.example"}, timestamp=t) for t in times))
    assert [e["ts"].isoformat() for e in events] == [
        "2025-11-18T08:00:01.102345+00:00", "2025-11-18T14:30:01.102345+00:00", "2025-11-18T09:00:01+00:00",
        "2025-11-18T23:00:00+00:00"]
    assert [r["reason"] for r in rejects] == ["no timestamp"]


def test_flow_duration_counts_millisecond_boundaries_as_date_diff(tmp_path: Path) -> None:
    flows = [{"start": "1969-12-31T23:59:59.999500+0000", "end": "1970-01-01T00:00:00.000500+0000"},
             {"start": "2025-11-18T09:00:00.100100+0000", "end": "2025-11-18T09:00:00.100900+0000"},
             {"start": "2025-11-18T09:00:00.000000+0000"}]
    events, _, _ = parse(tmp_path, *(record("flow", flow) for flow in flows))
    assert [e["duration_ms"] for e in events] == [1, 0, None]


def test_a_line_whose_json_error_quotes_a_cut_character_is_rejected(tmp_path: Path) -> None:
    # DuckDB's "malformed JSON" message quotes the line cut at a byte; cut inside a 4-byte character, the
    # message is no valid UTF-8 (found by the hypothesis test above: it used to escape as UnicodeDecodeError).
    line = "\U00010000" * 12 + "\u0800"
    events, rejects, report = parse(tmp_path, line, record("tls", {"sni": "chatgpt.com"}))
    assert [e["host"] for e in events] == ["chatgpt.com"]
    assert [r["line_no"] for r in rejects] == [1] and report.rejected == 1
