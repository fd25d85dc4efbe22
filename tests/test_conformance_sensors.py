"""Conformance of the sensor formats (Suricata EVE, Zeek) with layouts their documentation describes and the
public test logs showed: lines written here from that documentation, not copied from the samples."""

from __future__ import annotations

import json
from pathlib import Path

from detector.ingest import sniff
from detector.ingest.pipeline import OUTSIDE_CALENDAR
from tests.golden import parse_lines


def parse(tmp_path: Path, key: str, lines: list[str], name: str = "log"):  # type: ignore[no-untyped-def]
    events, rejects, _ = parse_lines(tmp_path / name, key, lines)
    return {e["line_no"]: e for e in events.to_pylist()}, {r["line_no"]: r["reason"] for r in rejects.to_pylist()}


def eve(event_type: str, body: dict[str, object], **fields: object) -> str:
    record = {"timestamp": "2026-11-29T10:00:01.102345+0100", "flow_id": 7, "event_type": event_type,
              "src_ip": "10.20.3.14", "src_port": 52011, "dest_ip": "104.18.32.47", "dest_port": 443, "proto": "TCP",
              **fields, event_type: body}
    return json.dumps(record, separators=(",", ":"))


# Suricata 7's alert logger (output-json-alert.c) writes `direction` ("to_server"/"to_client": the alerting
# packet's way) and, in the alert's `flow` object, the addresses as the flow was opened: on a packet to the client
# the header's src_ip is the server's.
def test_an_alert_on_a_packet_to_the_client_is_turned_to_the_client(tmp_path: Path) -> None:
    alert = {"action": "allowed", "gid": 1, "signature_id": 2100498, "signature": "id check returned root"}
    flow = {"pkts_toserver": 5, "pkts_toclient": 4, "bytes_toserver": 430, "bytes_toclient": 810,
            "start": "2026-11-29T10:00:00.902345+0100", "src_ip": "10.20.3.14", "dest_ip": "198.51.100.20",
            "src_port": 57018, "dest_port": 80}
    to_client = eve("alert", alert, src_ip="198.51.100.20", src_port=80, dest_ip="10.20.3.14", dest_port=57018,
                    direction="to_client", app_proto="http", flow=flow,
                    http={"hostname": "testmynids.org", "url": "/uid/index.html"})
    to_server = eve("alert", alert, direction="to_server", app_proto="tls", tls={"sni": "chatgpt.com"})
    suricata_6 = eve("alert", alert, src_ip="198.51.100.20", src_port=80, dest_ip="10.20.3.14", dest_port=57018,
                     http={"hostname": "testmynids.org"})  # no direction: the packet's addresses, as before
    events, rejects = parse(tmp_path, "suricata_eve", [to_client, to_server, suricata_6])
    assert not rejects
    assert [(e["src_ip"], e["dst_ip"], e["dst_port"], e["host"]) for e in events.values()] == [
        ("10.20.3.14", "198.51.100.20", 80, "testmynids.org"),
        ("10.20.3.14", "104.18.32.47", 443, "chatgpt.com"),
        ("198.51.100.20", "10.20.3.14", 57018, "testmynids.org")]


# suricata.yaml, eve-log: `filetype: regular|syslog|...`, `#prefix: "@cee: " # prefix to prepend to each log
# entry`, `#identity: "suricata"`: EVE handed to syslog is written to a file behind a syslog header.
def test_eve_behind_a_syslog_header_or_the_cee_prefix_is_read(tmp_path: Path) -> None:
    record = eve("tls", {"sni": "claude.ai", "version": "TLS 1.3"})
    lines = [
        "Nov 29 10:00:01 ids01 suricata[2231]: " + record,
        "<133>Nov  9 10:00:01 ids01 suricata[2231]: @cee: " + record,
        "2026-11-29T10:00:01.102345+01:00 ids01 eve[2231]: " + record,
        "<133>1 2026-11-29T10:00:01.102345+01:00 ids01 suricata 2231 - - " + record,
        "@cee: " + record,
        record,
        "Nov 29 10:00:02 ids01 suricata[2231]: <Notice> -- Stats for 'eth0':  pkts: 1000",
    ]
    assert sniff(lines[:5]).name == "suricata_eve"
    events, rejects = parse(tmp_path, "suricata_eve", lines)
    assert sorted(events) == [1, 2, 3, 4, 5, 6] and rejects == {7: "not a valid JSON object"}
    assert {(e["host"], e["src_ip"], e["ts"].isoformat()) for e in events.values()} == {
        ("claude.ai", "10.20.3.14", "2026-11-29T09:00:01.102345+00:00")}


def _zeek_http(*rows: tuple[str, str, str]) -> list[str]:
    fields = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "trans_depth", "method", "host", "uri",
              "request_body_len", "response_body_len", "status_code"]
    lines = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", "#path\thttp",
             "#fields\t" + "\t".join(fields)]
    for i, (method, host, uri) in enumerate(rows):
        lines.append("\t".join([f"1764406801.{i:06d}", f"C{i}", "10.20.3.14", "52011", "198.51.100.20", "80", "1",
                                method, host, uri, "0", "925", "400"]))
    return lines


# RFC 9110 9.3.6: CONNECT's request-target is the authority form, host:port. Zeek logs the target as the URI; a
# CONNECT sent with a path (`CONNECT /`, answered 400) names no tunnel target: the Host header names the host.
def test_a_connect_whose_target_is_no_authority_takes_the_host_header(tmp_path: Path) -> None:
    events, rejects = parse(tmp_path, "zeek_http", _zeek_http(
        ("CONNECT", "www.example.org", "/"), ("CONNECT", "www.example.org", "api.openai.com:443"),
        ("CONNECT", "-", "/index.html"), ("CONNECT", "www.example.org", "[2001:db8::5]:443")))
    assert not rejects
    assert [(e["host"], e["host_source"]) for e in events.values()] == [
        ("www.example.org", "http_host"), ("api.openai.com", "connect"), (None, "none"), ("2001:db8::5", "connect")]


# Zeek's JSON with a `_path` log extension (Corelight's json-streaming-logs, as Security Onion and Corelight
# sensors write it: extension fields first) puts every log in one stream; a line of another log is no record of
# this one. A log filter's path with a suffix (Corelight's reduced `conn_red`) has the same fields.
def test_a_zeek_json_stream_of_every_log_is_read_per_log(tmp_path: Path) -> None:
    common = {"_system_name": "sensor-01", "_write_ts": "2026-11-29T09:00:02.000000Z",
              "ts": "2026-11-29T09:00:01.250000Z", "uid": "CbX1yT3pQ9", "id.orig_h": "10.20.3.14",
              "id.orig_p": 52011, "id.resp_h": "104.18.32.47", "id.resp_p": 443}
    lines = [json.dumps({"_path": "conn", **common, "proto": "tcp", "service": "ssl", "duration": 1.5,
                         "orig_bytes": 517, "resp_bytes": 4096, "conn_state": "SF"}, separators=(",", ":")),
             json.dumps({"_path": "ssl", **common, "server_name": "chatgpt.com", "established": True},
                        separators=(",", ":")),
             json.dumps({"_path": "files", **common, "fuid": "F1", "source": "SSL"}, separators=(",", ":")),
             json.dumps({"_path": "conn_red", **common, "proto": "tcp", "orig_bytes": 10, "resp_bytes": 20,
                         "conn_state": "SF"}, separators=(",", ":"))]
    conn, rejects = parse(tmp_path, "zeek_conn", lines, "conn.json")
    assert not rejects and sorted(conn) == [1, 4]
    assert (conn[1]["bytes_out"], conn[1]["bytes_in"], conn[4]["bytes_out"]) == (517, 4096, 10)
    ssl, rejects = parse(tmp_path, "zeek_ssl", lines, "ssl.json")
    assert not rejects and sorted(ssl) == [2] and (ssl[2]["host"], ssl[2]["host_source"]) == ("chatgpt.com", "sni")
    assert sniff(lines[3:]).name == "zeek_conn"


# A TSV log names itself in `#path`: read as another log type (a format named by hand), its lines are rejected
# with that reason instead of being read as records they are not.
def test_a_zeek_tsv_log_of_another_type_is_not_read_as_this_one(tmp_path: Path) -> None:
    lines = _zeek_http(("GET", "www.example.org", "/"))
    events, rejects = parse(tmp_path, "zeek_conn", lines, "http.log")
    assert not events and set(rejects.values()) == {"a line of Zeek's http log (#path), not its conn log"}
    events, rejects = parse(tmp_path, "zeek_http", lines, "http.log")
    assert not rejects and events[7]["host"] == "www.example.org"


# Suricata 7+ logs QUIC (event_type `quic`, rust/src/quic/logger.rs): `quic.version`, and from the client's
# Initial packet `quic.sni` (and `ua`, `ja3`, `extensions`); HTTP/3 to a service shows its name only there.
def test_a_quic_record_names_its_host_by_the_sni_and_one_without_is_ignored(tmp_path: Path) -> None:
    udp = {"proto": "UDP", "src_port": 61000, "app_proto": "quic"}
    lines = [eve("quic", {"version": "1", "sni": "Gemini.Google.com", "ua": "Chrome/131.0.6778.86",
                          "extensions": [{"name": "server_name", "type": 0, "values": ["gemini.google.com"]}]}, **udp),
             eve("quic", {"version": "1"}, **udp),
             eve("quic", {}, **udp)]
    events, rejects = parse(tmp_path, "suricata_eve", lines)
    assert not rejects and list(events) == [1]
    assert (events[1]["host"], events[1]["host_source"], events[1]["network_protocol"], events[1]["src_ip"]) == (
        "gemini.google.com", "sni", "quic", "10.20.3.14")


# Zeek's LogAscii::json_timestamps: JSON::TS_EPOCH (seconds, the default), JSON::TS_ISO8601 and JSON::TS_MILLIS
# (whole milliseconds since the epoch). A `ts` beyond the years 1-9999 is a reject (it failed the ingest of the
# whole file when the lake tried to place it).
def test_zeek_json_times_in_milliseconds_and_times_beyond_any_date(tmp_path: Path) -> None:
    def line(ts: object, name: str) -> str:
        return json.dumps({"ts": ts, "uid": "CbX1yT3pQ9", "id.orig_h": "10.20.3.14", "id.orig_p": 52011,
                           "id.resp_h": "104.18.32.47", "id.resp_p": 443, "server_name": name,
                           "established": True}, separators=(",", ":"))

    events, rejects = parse(tmp_path, "zeek_ssl", [line(1764406801250, "a.example"), line(1764406801000, "b.example"),
                                                   line(1764406801.25, "c.example"),
                                                   line("2025-11-29T09:00:01.250000Z", "d.example"),
                                                   line(999999999999.5, "e.example"), line(9999999999999999, "f")])
    assert {e["ts"].isoformat() for e in events.values()} == {"2025-11-29T09:00:01.250000+00:00",
                                                              "2025-11-29T09:00:01+00:00"}
    # (16 digits are no time Zeek writes; 999999999999.5 s is the year 33658, which no lake day holds)
    assert sorted(events) == [1, 2, 3, 4] and rejects == {5: OUTSIDE_CALENDAR, 6: "no timestamp"}
    # one width in a batch (the matrix reading) and the general reading alike
    events, _ = parse(tmp_path, "zeek_ssl", [line(1764406801250, "a.example"), line(1764406801251, "b.example")])
    assert [e["ts"].isoformat() for e in events.values()] == ["2025-11-29T09:00:01.250000+00:00",
                                                              "2025-11-29T09:00:01.251000+00:00"]
    events, rejects = parse(tmp_path, "zeek_ssl", [line(999999999999.5, "a.example"), line(999999999998.5, "b")])
    assert not events and set(rejects.values()) == {OUTSIDE_CALENDAR}


def test_an_eve_time_beyond_any_date_is_a_reject_not_a_failed_ingest(tmp_path: Path) -> None:
    """Beyond the years 1-9999 in UTC, in Suricata's own spelling (read by Arrow) or another (SQL)."""
    lines = [eve("tls", {"sni": "a.example"}, timestamp="12345-01-01T00:00:00+00:00"),
             eve("tls", {"sni": "b.example"}),
             eve("tls", {"sni": "c.example"}, timestamp="0001-01-01T00:30:00.000000+0100"),
             eve("tls", {"sni": "d.example"}, timestamp="9999-12-31T23:30:00.000000-0100")]
    events, rejects = parse(tmp_path, "suricata_eve", lines)
    assert list(events) == [2] and rejects == {1: OUTSIDE_CALENDAR, 3: OUTSIDE_CALENDAR, 4: OUTSIDE_CALENDAR}


# RFC 9110 9.3.6: CONNECT's request-target is host:port. Suricata logs it as the http record's `url` (a proxy's
# CONNECT requests, seen between the clients and the proxy): no path.
def test_an_eve_connect_request_has_no_url_path(tmp_path: Path) -> None:
    proxy = {"dest_ip": "10.0.0.8", "dest_port": 3128}
    lines = [eve("http", {"hostname": "chatgpt.com", "http_port": 443, "url": "chatgpt.com:443",
                          "http_method": "CONNECT", "protocol": "HTTP/1.1", "status": 200, "length": 0}, **proxy),
             eve("http", {"hostname": "www.example.org", "url": "/index.html", "http_method": "get"}, **proxy)]
    events, rejects = parse(tmp_path, "suricata_eve", lines)
    assert not rejects
    assert [(e["host"], e["http_method"], e.get("url_path")) for e in events.values()] == [
        ("chatgpt.com", "CONNECT", None), ("www.example.org", "GET", "/index.html")]


# Every line of a Zeek log has its log's key (Zeek's scripts: conn's conn_state is set before the record is
# written, ssl's `established` and dns's `rejected` default to F, http's trans_depth is not optional): a JSON line
# without it, and naming no log in `_path`, is no record of that log: a file of another Zeek log (or product) read
# with this --format is rejected with that reason, not read as records it is not.
def test_a_zeek_json_line_of_another_log_is_not_read_as_this_one(tmp_path: Path) -> None:
    conn = json.dumps({"ts": 1764406801.25, "uid": "CbX1yT3pQ9", "id.orig_h": "10.20.3.14", "id.orig_p": 52011,
                       "id.resp_h": "104.18.32.47", "id.resp_p": 443, "proto": "tcp", "service": "ssl",
                       "duration": 1.5, "orig_bytes": 517, "resp_bytes": 4096, "conn_state": "SF"})
    events, rejects = parse(tmp_path, "zeek_dns", [conn, conn])
    assert not events and set(rejects.values()) == {'a JSON line without "rejected": not a line of Zeek\'s dns log'}
    events, rejects = parse(tmp_path, "zeek_conn", [conn, "{}"])
    assert list(events) == [1] and rejects == {2: 'a JSON line without "conn_state": not a line of Zeek\'s conn log'}


# Zeek 6.1+ quic.log (base/protocols/quic/main.zeek): HTTP/3's handshakes, which ssl.log never sees. Its JSON lines
# carry `version` and `history` as ssl and conn lines do; `client_initial_dcid` is quic's own.
def test_zeek_quic_log_gives_the_sni_and_is_told_from_ssl_and_conn(tmp_path: Path) -> None:
    quic = json.dumps({"ts": 1763452820.5, "uid": "Cq1", "id.orig_h": "10.20.4.31", "id.orig_p": 51234,
                       "id.resp_h": "142.250.179.206", "id.resp_p": 443, "version": "1",
                       "client_initial_dcid": "95412c1a8a1d0b5c", "server_name": "Gemini.Google.com",
                       "client_protocol": "h3", "history": "ISishIhH"})
    ssl = json.dumps({"ts": 1763452821.0, "uid": "Cs1", "id.orig_h": "10.20.4.32", "id.orig_p": 51236,
                      "id.resp_h": "104.18.32.47", "id.resp_p": 443, "version": "TLSv13", "server_name": "chatgpt.com",
                      "established": True})
    conn = json.dumps({"ts": 1763452821.0, "uid": "Cc1", "id.orig_h": "10.20.4.32", "id.orig_p": 51236,
                       "id.resp_h": "104.18.32.47", "id.resp_p": 443, "proto": "udp", "conn_state": "SF",
                       "history": "Dd"})
    assert sniff([quic, quic]).name == "zeek_quic"
    assert sniff([ssl, ssl]).name == "zeek_ssl"
    assert sniff([conn, conn]).name == "zeek_conn"
    events, rejects = parse(tmp_path, "zeek_quic", [quic])
    assert not rejects
    assert [(e["host"], e["host_source"], e["network_protocol"], e["src_ip"], e["dst_port"]) for e in events.values()] \
        == [("gemini.google.com", "sni", "quic", "10.20.4.31", 443)]
