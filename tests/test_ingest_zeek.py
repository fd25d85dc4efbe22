"""Zeek TSV and JSON: header-driven columns, header state across batches, unset values, the btest baselines."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.ingest import FORMATS, sniff_scores
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings

BTEST = "zeek/zeek-btest"
MASKED = "XXXXXXXXXX.XXXXXX"
SSL_FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "version", "server_name"]


def header(path: str, fields: list[str], unset: str = "-", empty: str = "(empty)", sep: str = "\\x09") -> list[str]:
    tab = "\t" if sep == "\\x09" else bytes.fromhex(sep[2:]).decode()
    return [f"#separator {sep}", f"#set_separator{tab},", f"#empty_field{tab}{empty}", f"#unset_field{tab}{unset}",
            f"#path{tab}{path}", f"#fields{tab}" + tab.join(fields)]


def parse(tmp_path: Path, key: str, lines: list[str], batch_lines: int = 7, name: str = "zeek.log"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
    settings = dataclasses.replace(golden_settings(), batch_lines=batch_lines)
    events, rejects, report = parse_file(path, FORMATS[key], settings)
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist(), report


def unmasked(path: Path, tmp_path: Path) -> Path:
    """A btest baseline with its masked times filled in, one second apart (the fields are what is tested)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    filled = [line.replace(MASKED, f"{1700000000 + i}.250000") for i, line in enumerate(lines)]
    out = tmp_path / path.name
    out.write_text("\n".join(filled) + "\n", encoding="utf-8")
    return out


@pytest.mark.parametrize(("file", "key", "masked"), [
    ("opt.basic/conn.log", "zeek_conn", 34),
    ("opt.basic/dns.log", "zeek_dns", 34),
    ("scripts.base.protocols.ssl.tls13-encrypted-client-hello/ssl.log", "zeek_ssl", 2),
    ("scripts.base.protocols.http.http-connect/http.log", "zeek_http", 1),
])
def test_btest_baselines_with_masked_times_are_rejects_without_a_timestamp(
        vendor_samples: Path, file: str, key: str, masked: int) -> None:
    events, rejects, report = parse_file(vendor_samples / BTEST / file, FORMATS[key], golden_settings())
    assert events.num_rows == 0
    assert report.rejected == masked
    assert set(rejects.column("reason").to_pylist()) == {"no timestamp"}


def test_btest_json_with_masked_times_is_not_json(vendor_samples: Path) -> None:
    path = vendor_samples / BTEST / "scripts.base.frameworks.logging.json-non-printable-escaping/http.log.json"
    _, rejects, report = parse_file(path, FORMATS["zeek_http"], golden_settings())
    assert (report.rejected, report.ignored) == (4, 1)  # the `### BTest` line is a comment
    assert set(rejects.column("reason").to_pylist()) == {"not a valid JSON object"}


@pytest.mark.parametrize(("file", "key"), [
    ("opt.basic/conn.log", "zeek_conn"),
    ("opt.basic/dns.log", "zeek_dns"),
    ("scripts.base.protocols.ssl.tls-1.2/ssl.log", "zeek_ssl"),
    ("scripts.base.protocols.ssl.tls13-encrypted-client-hello/ssl.log", "zeek_ssl"),
    ("scripts.base.protocols.http.http-connect/http.log", "zeek_http"),
    ("scripts.base.frameworks.logging.json-non-printable-escaping/http.log.tsv", "zeek_http"),
    ("scripts.base.frameworks.logging.json-non-printable-escaping/http.log.json", "zeek_http"),
])
def test_btest_baselines_with_times_filled_in_parse_without_rejects(
        vendor_samples: Path, tmp_path: Path, file: str, key: str) -> None:
    path = unmasked(vendor_samples / BTEST / file, tmp_path)
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    _, rejects, report = parse_file(path, FORMATS[key], golden_settings())
    assert rejects.num_rows == 0, rejects.to_pylist()[:2]
    assert report.parsed == len(lines)


def test_tls13_encrypted_client_hello_gives_the_outer_sni(vendor_samples: Path, tmp_path: Path) -> None:
    path = unmasked(vendor_samples / BTEST / "scripts.base.protocols.ssl.tls13-encrypted-client-hello/ssl.log", tmp_path)
    events, _, _ = parse_file(path, FORMATS["zeek_ssl"], golden_settings())
    assert {(e["host"], e["host_source"], e["dst_port"]) for e in events.to_pylist()} == {
        ("cloudflare-ech.com", "sni", 443)}


def test_http_connect_takes_the_tunnel_target_as_host(vendor_samples: Path, tmp_path: Path) -> None:
    path = unmasked(vendor_samples / BTEST / "scripts.base.protocols.http.http-connect/http.log", tmp_path)
    (event,) = parse_file(path, FORMATS["zeek_http"], golden_settings())[0].to_pylist()
    assert (event["http_method"], event["host"], event["host_source"], event["url_path"]) == (
        "CONNECT", "mailin03.sul.t-online.de", "connect", None)
    assert (event["src_ip"], event["dst_ip"], event["dst_port"]) == ("79.26.245.236", "254.228.86.79", 8240)


def test_json_and_tsv_writers_give_the_same_events(vendor_samples: Path, tmp_path: Path) -> None:
    """Values are kept as Zeek wrote them; the writers differ only for a literal backslash (TSV doubles it,
    JSON does not), the baseline's fourth request, so that one is left out."""
    folder = vendor_samples / BTEST / "scripts.base.frameworks.logging.json-non-printable-escaping"
    columns = ["src_ip", "dst_ip", "dst_port", "host", "http_method", "url_path", "http_status", "bytes_out",
               "bytes_in", "user_agent", "content_type"]
    tsv = parse_file(unmasked(folder / "http.log.tsv", tmp_path), FORMATS["zeek_http"], golden_settings())[0]
    json = parse_file(unmasked(folder / "http.log.json", tmp_path), FORMATS["zeek_http"], golden_settings())[0]
    assert tsv.select(columns).to_pylist()[:3] == json.select(columns).to_pylist()[:3]
    assert "/printable_😄" in tsv.column("url_path").to_pylist()


def test_header_is_remembered_across_batches(tmp_path: Path) -> None:
    lines = [*header("ssl", SSL_FIELDS)] + [
        f"1700000{i:03d}.5\tC{i}\t10.0.0.{i}\t50000\t104.18.32.47\t443\tTLSv13\tchatgpt.com" for i in range(20)]
    small = parse(tmp_path, "zeek_ssl", lines, batch_lines=3)
    large = parse(tmp_path, "zeek_ssl", lines, batch_lines=1000)
    assert small[0] == large[0]
    assert len(small[0]) == 20 and not small[1]


def test_fields_header_may_change_mid_file(tmp_path: Path) -> None:
    lines = [
        *header("ssl", SSL_FIELDS),
        "1700000000.5\tC1\t10.0.0.1\t50000\t104.18.32.47\t443\tTLSv13\tchatgpt.com",
        "#close\t2023-11-14-22-13-20",
        *header("ssl", ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "server_name", "version"]),
        "1700000001.5\tC2\t10.0.0.2\t50001\t162.159.140.245\t443\tapi.openai.com\tTLSv13",
    ]
    events, rejects, report = parse(tmp_path, "zeek_ssl", lines, batch_lines=4)
    assert not rejects
    assert [e["host"] for e in events] == ["chatgpt.com", "api.openai.com"]
    assert report.ignored == 6 + 1 + 6


def test_declared_unset_and_empty_markers_and_separator_are_honoured(tmp_path: Path) -> None:
    fields = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "query", "qtype_name", "rcode_name",
              "answers"]
    lines = [*header("dns", fields, unset="NONE", empty="EMPTY", sep="\\x7c"),
             "1700000000.5|C1|10.0.0.1|5353|10.1.0.53|53|chatgpt.com|A|NOERROR|104.18.32.47,172.64.155.209",
             "1700000001.5|C2|10.0.0.1|5354|10.1.0.53|53|NONE|NONE|NONE|EMPTY"]
    (first, second), rejects, _ = parse(tmp_path, "zeek_dns", lines)
    assert not rejects
    assert first["dns_answers"] == ["104.18.32.47", "172.64.155.209"] and first["host"] == "chatgpt.com"
    assert (second["host"], second["host_source"], second["dns_qtype"], second["dns_answers"]) == (
        None, "none", None, None)


def test_a_tsv_line_before_any_header_is_rejected(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, "zeek_conn", ["1700000000.5\tC1\t10.0.0.1\t50000\t1.2.3.4\t443\ttcp"])
    assert not events
    assert rejects[0]["reason"] == "neither a JSON object nor a TSV line under a #fields header"


def test_a_missing_column_is_null_not_an_error(tmp_path: Path) -> None:
    """A site's own field set may leave out columns the parser reads (here: no orig_bytes)."""
    fields = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "resp_bytes"]
    (event,), rejects, _ = parse(tmp_path, "zeek_conn", [
        *header("conn", fields), "1700000000.5\tC1\t10.0.0.1\t50000\t104.18.32.47\t443\ttcp\t900"])
    assert not rejects
    assert (event["bytes_out"], event["bytes_in"], event["network_protocol"]) == (None, 900, "tcp")


def test_json_timestamps_may_be_iso_8601(tmp_path: Path) -> None:
    line = ('{"ts":"2025-11-18T08:00:13.250000Z","uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":5,'
            '"id.resp_h":"104.18.32.47","id.resp_p":443,"version":"TLSv13","server_name":"ChatGPT.com.",'
            '"established":true}')
    (event,), _, _ = parse(tmp_path, "zeek_ssl", [line])
    assert event["ts"].isoformat() == "2025-11-18T08:00:13.250000+00:00"
    assert event["host"] == "chatgpt.com"


def test_epoch_times_keep_every_microsecond(tmp_path: Path) -> None:
    lines = [*header("ssl", SSL_FIELDS), "1763452803.000001\tC1\t10.0.0.1\t1\t1.2.3.4\t443\tTLSv13\tx.example"]
    (event,), _, _ = parse(tmp_path, "zeek_ssl", lines)
    assert event["ts"].microsecond == 1


def test_an_epoch_too_large_for_microseconds_is_a_reject_not_a_failed_batch(tmp_path: Path) -> None:
    lines = [*header("ssl", SSL_FIELDS), "17634528342130\tC1\t10.0.0.1\t1\t1.2.3.4\t443\tTLSv13\tx.example",
             "1763452803.000001\tC2\t10.0.0.1\t1\t1.2.3.4\t443\tTLSv13\ty.example"]
    events, rejects, report = parse(tmp_path, "zeek_ssl", lines)
    assert [e["host"] for e in events] == ["y.example"]
    assert report.rejected == 1 and rejects[0]["line"].startswith("17634528342130")


@pytest.mark.parametrize(("line", "best"), [
    ("#path\tdns", "zeek_dns"),
    ('{"ts":1.0,"uid":"C","id.orig_h":"10.0.0.1","id.resp_h":"1.1.1.1","proto":"tcp","conn_state":"SF"}',
     "zeek_conn"),
    ('{"ts":1.0,"uid":"C","id.orig_h":"10.0.0.1","id.resp_h":"1.1.1.1","trans_depth":1,"method":"GET"}',
     "zeek_http"),
    ('{"_path":"ssl","ts":1.0,"id.orig_h":"10.0.0.1","id.resp_h":"1.1.1.1","server_name":"a.example"}',
     "zeek_ssl"),
])
def test_each_log_type_is_recognised_as_itself(line: str, best: str) -> None:
    scores = dict(sniff_scores([line]))
    assert scores[best] == 1.0
    assert all(score < 1.0 for key, score in scores.items() if key.startswith("zeek_") and key != best)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
                        max_size=80), min_size=1, max_size=8))
def test_arbitrary_lines_never_crash_and_are_all_accounted_for(tmp_path: Path, lines: list[str]) -> None:
    for key in ("zeek_conn", "zeek_http"):
        parse(tmp_path, key, [*header("conn", ["ts", "id.orig_h", "id.resp_h", "id.resp_p"]), *lines])


CONN_FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration",
               "orig_bytes", "resp_bytes"]


def test_times_and_durations_in_any_form_read_as_in_sql(tmp_path: Path) -> None:
    """Zeek's own %.6f times and plain decimals are read by Arrow; other forms (in the same batch) through SQL,
    with DuckDB's meaning: decimal times, ISO times, rounding half away from zero, exponents."""
    rows = [("1700000000.000001", "0.0005", "ssl,http", "tcp", "12"),
            ("1700000000.5", "0.0025", "-", "udp", " 7"),
            ("2023-11-14T22:13:20Z", "1e3", "(empty)", "icmp", "-"),
            ("1700000000.1234567", "-0.0015", "", "tcp", "1.5")]
    lines = [*header("conn", CONN_FIELDS)] + [
        f"{ts}\tC{i}\t10.0.0.1\t5\t1.2.3.4\t443\t{proto}\t{service}\t{duration}\t{size}\t0"
        for i, (ts, duration, service, proto, size) in enumerate(rows)]
    events, rejects, _ = parse(tmp_path, "zeek_conn", lines, batch_lines=100)
    assert not rejects
    assert [e["ts"].isoformat() for e in events] == [
        "2023-11-14T22:13:20.000001+00:00", "2023-11-14T22:13:20.500000+00:00", "2023-11-14T22:13:20+00:00",
        "2023-11-14T22:13:20.123457+00:00"]
    assert [e["duration_ms"] for e in events] == [1, 3, 1_000_000, -2]
    assert [e["network_protocol"] for e in events] == ["ssl", "udp", "icmp", "tcp"]
    assert [e["dst_port"] for e in events] == [443, 443, None, 443]  # ICMP type/code is no port
    assert [e["bytes_out"] for e in events] == [12, 7, None, 2]


def test_json_and_tsv_lines_in_one_batch(tmp_path: Path) -> None:
    """A batch holding both writers' lines gives one table (TSV columns come dictionary-encoded, JSON's not)."""
    tsv = "1700000000.500000\tC1\t10.0.0.1\t5\t104.18.32.47\t443\tTLSv13\tChatGPT.com."
    json_line = ('{"ts":1700000001.5,"uid":"C2","id.orig_h":"10.0.0.2","id.orig_p":6,"id.resp_h":"1.2.3.4",'
                 '"id.resp_p":443,"version":"TLSv13","server_name":"claude.ai","established":true}')
    events, rejects, _ = parse(tmp_path, "zeek_ssl", [*header("ssl", SSL_FIELDS), tsv, json_line], batch_lines=100)
    assert not rejects
    assert [(e["src_ip"], e["host"], e["host_source"]) for e in sorted(events, key=lambda e: e["line_no"])] == [
        ("10.0.0.1", "chatgpt.com", "sni"), ("10.0.0.2", "claude.ai", "sni")]


def test_a_json_line_whose_error_quotes_a_cut_character_is_a_reject(tmp_path: Path) -> None:
    # DuckDB's "malformed JSON" message quotes the line cut at a byte; cut inside a 4-byte character the
    # message is no valid UTF-8, which used to escape the fallback as UnicodeDecodeError (a failed file).
    good = ('{"ts":1700000000.0,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"1.1.1.1",'
            '"id.resp_p":443,"proto":"tcp","conn_state":"SF"}')
    events, rejects, report = parse(tmp_path, "zeek_conn", [good, '{"ts":' + "\U00010000" * 40 + "}"])
    assert [e["dst_ip"] for e in events] == ["1.1.1.1"]
    assert [r["line_no"] for r in rejects] == [2] and report.rejected == 1
