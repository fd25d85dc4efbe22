"""Squid native, common/combined and extended logformats: behaviour the golden files do not pin down."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.ingest import FORMATS
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings


def parse(tmp_path: Path, key: str, *lines: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    path = tmp_path / "access.log"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS[key], golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist()


COMBINED = (
    '10.0.0.5 - jan [30/Mar/2026:08:01:15 +0200] "POST http://api.openai.com/v1/chat/completions HTTP/1.1" 200 1822 '
    '"-" "client \\"beta\\" 1.0" TCP_MISS:HIER_DIRECT'
)


def test_combined_time_offset_becomes_utc_and_escaped_quotes_survive(tmp_path: Path) -> None:
    events, rejects = parse(tmp_path, "squid_common", COMBINED)
    assert not rejects
    (event,) = events
    assert event["ts"].isoformat() == "2026-03-30T06:01:15+00:00"
    assert event["user_agent"] == 'client "beta" 1.0'
    assert (event["host"], event["url_path"], event["http_method"]) == ("api.openai.com", "/v1/chat/completions", "POST")
    assert event["bytes_out"] is None  # CLF logs only the reply size


def test_common_denied_connect_is_blocked_with_connect_host(tmp_path: Path) -> None:
    line = '10.0.0.6 - - [13/Mar/2026:09:16:11 +0100] "CONNECT chatgpt.com:443 HTTP/1.1" 403 3950 TCP_DENIED:HIER_NONE'
    (event,), _ = parse(tmp_path, "squid_common", line)
    assert (event["host"], event["host_source"], event["dst_port"]) == ("chatgpt.com", "connect", 443)
    assert (event["action"], event["http_status"], event["user_name"]) == ("blocked", 403, None)


def test_common_line_without_size_is_rejected_with_reason(tmp_path: Path) -> None:
    line = '10.0.0.6 - - [13/Mar/2026:09:16:11 +0100] "GET http://www.nu.nl/ HTTP/1.1" 200 TCP_MISS:HIER_DIRECT'
    events, rejects = parse(tmp_path, "squid_common", line)
    assert not events
    assert rejects[0]["reason"] == "size is not a whole number of bytes: TCP_MISS:HIER_DIRECT"


EXTENDED = (
    "1773390071.500   2210 10.0.0.7 51002 TCP_TUNNEL/200 9120 3310 39 190 - CONNECT {target} 1.1 piet "
    'HIER_DIRECT/162.159.140.245 443 - - - "-" "httpx" "{host_header}" "-"{sni} 12 -'
)


def test_extended_request_size_is_bytes_out(vendor_samples: Path) -> None:
    events, _, _ = parse_file(vendor_samples / "squid/test-access-extensive.log", FORMATS["squid_extended"],
                              golden_settings())
    # Elastic maps the 7th field (request size) to source.bytes, the 6th (reply) to destination.bytes.
    assert events.column("bytes_out").to_pylist()[:3] == [123, 2051, 161]
    assert events.column("bytes_in").to_pylist()[:3] == [904, 28854, 640]


def test_extended_tunnel_to_an_address_takes_the_sni_name(tmp_path: Path) -> None:
    line = EXTENDED.format(target="162.159.140.245:443", host_header="162.159.140.245:443", sni=' "API.OpenAI.com"')
    (event,), _ = parse(tmp_path, "squid_extended", line)
    assert (event["host"], event["host_source"], event["dst_ip"]) == ("api.openai.com", "sni", "162.159.140.245")


def test_extended_tunnel_to_a_name_keeps_it_over_the_sni(tmp_path: Path) -> None:
    line = EXTENDED.format(target="chatgpt.com:443", host_header="chatgpt.com:443", sni=' "other.example"')
    (event,), _ = parse(tmp_path, "squid_extended", line)
    assert (event["host"], event["host_source"]) == ("chatgpt.com", "connect")


def test_extended_without_url_host_falls_back_to_the_host_header(tmp_path: Path) -> None:
    line = (
        '1773390100.000 5 10.0.0.8 3284 TCP_MISS/200 905 123 365 123 500 GET /index.html 1.1 - HIER_DIRECT/192.0.2.9 '
        '80 text/html - - "-" "curl/8.5.0" "Intranet.Example:8080" "-" - -'
    )
    (event,), _ = parse(tmp_path, "squid_extended", line)
    assert (event["host"], event["host_source"]) == ("intranet.example", "http_host")


lines_strategy = st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                                  max_size=120), min_size=1, max_size=15)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=lines_strategy)
def test_arbitrary_lines_never_crash_and_are_all_accounted_for(tmp_path: Path, lines: list[str]) -> None:
    for key in ("squid", "squid_common", "squid_extended"):
        path = tmp_path / "fuzz.log"
        path.write_text("".join(line + "\n" for line in [COMBINED, *lines]), encoding="utf-8")
        events, rejects, report = parse_file(path, FORMATS[key], golden_settings())
        assert report.lines == report.parsed + report.rejected + report.ignored == len(lines) + 1
        assert isinstance(events, pa.Table) and rejects.num_rows == report.rejected


def test_epoch_spelled_nan_or_infinite_is_a_reject_not_a_crash(tmp_path: Path) -> None:
    native = "{} 5 10.0.0.1 TCP_MISS/200 10 GET http://x.example/ - DIRECT/192.0.2.1 text/html"
    events, rejects = parse(tmp_path, "squid", native.format("nan"), native.format("inf"), native.format("1e300"))
    assert not events and len(rejects) == 3
    extended = EXTENDED.replace("1773390071.500", "NaN").format(target="a.example:443", host_header="-", sni="")
    events, rejects = parse(tmp_path, "squid_extended", extended)
    assert not events and rejects[0]["reason"] == "time is not epoch seconds: NaN"


NATIVE = "1773390071.500 {pad}15 10.0.0.7 {result} 512 {method} {url} {user} {hierarchy} text/html"


def native(url: str, method: str = "GET", result: str = "TCP_MISS/200", user: str = "-",
           hierarchy: str = "HIER_DIRECT/192.0.2.10", pad: str = "    ") -> str:
    return NATIVE.format(url=url, method=method, result=result, user=user, hierarchy=hierarchy, pad=pad)


@pytest.mark.parametrize(
    ("url", "method", "expected"),
    [
        ("http://Chat.Example.COM./a/b?q=1#f", "GET", ("chat.example.com", None, "/a/b", "http", "url")),
        ("https://user:pw@api.example:8443/v1#frag/x", "POST", ("api.example", 8443, "/v1", "https", "url")),
        ("http://host.example?q=/not/a/path", "GET", ("host.example", None, "/", "http", "url")),
        ("http://host.example#top", "GET", ("host.example", None, "/", "http", "url")),
        ("http://host.example", "GET", ("host.example", None, "/", "http", "url")),
        ("http://[2001:db8::1]:8080/p", "GET", ("2001:db8::1", 8080, "/p", "http", "url")),
        ("api.openai.com:443", "CONNECT", ("api.openai.com", 443, None, None, "connect")),
        ("error:invalid-request", "NONE", (None, None, None, None, "none")),
        ("/relative/path", "GET", (None, None, None, None, "none")),
    ],
)
def test_native_url_parts(tmp_path: Path, url: str, method: str, expected: tuple[object, ...]) -> None:
    events, rejects = parse(tmp_path, "squid", native(url, method))
    assert not rejects
    event = events[0]
    assert (event["host"], event["dst_port"], event["url_path"], event["network_protocol"],
            event["host_source"]) == expected


def test_native_fields_beside_the_url(tmp_path: Path) -> None:
    events, rejects = parse(
        tmp_path, "squid",
        native("http://a.example/", user="DOMAIN%5Cjan", result="TCP_DENIED/403", hierarchy="HIER_NONE/-"),
        "  " + native("http://b.example/", method="none", result="NONE/000", pad="") + " \t",
        native("http://c.example/", hierarchy="FIRSTUP_PARENT/10.9.9.9"),
    )
    assert not rejects
    denied, padded, parent = events
    assert (denied["user_name"], denied["action"], denied["http_status"], denied["dst_ip"]) == \
        ("DOMAIN\\jan", "blocked", 403, None)
    assert (padded["host"], padded["http_method"], padded["action"], padded["http_status"]) == \
        ("b.example", None, "unknown", None)
    assert (parent["dst_ip"], parent["action"], parent["bytes_in"], parent["duration_ms"]) == (None, "allowed", 512, 15)
    assert denied["ts"].isoformat() == "2026-03-13T08:21:11.500000+00:00"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (native("http://a.example/").replace("1773390071.500", "12:00:01"), "time is not epoch seconds: 12:00:01"),
        (native("http://a.example/").replace(" 15 ", " x "), "elapsed time is not a whole number of milliseconds"),
        (native("http://a.example/", result="TCP_MISS"), "result is not CODE/STATUS: TCP_MISS"),
        (native("http://a.example/").replace(" 512 ", " 5k "), "size is not a whole number of bytes"),
        (native("http://a.example/") + " extra", "expected 10 space-separated fields (Squid native), found 11"),
        ("not a squid line", "expected 10 space-separated fields (Squid native), found 4"),
    ],
)
def test_native_rejects_say_what_is_wrong(tmp_path: Path, line: str, reason: str) -> None:
    events, rejects = parse(tmp_path, "squid", native("http://ok.example/"), line)
    assert [e["host"] for e in events] == ["ok.example"]
    assert [(r["line_no"], r["reason"]) for r in rejects] == [(2, reason)]


def test_native_batches_parsed_on_several_threads_stay_in_order(tmp_path: Path) -> None:
    lines = [native(f"http://h{i}.example/", result="TCP_MISS" if i % 97 == 0 else "TCP_MISS/200")
             for i in range(1000)]
    path = tmp_path / "access.log"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    settings = dataclasses.replace(golden_settings(), batch_lines=37)
    events, rejects, report = parse_file(path, FORMATS["squid"], settings)
    assert (report.parsed, report.rejected) == (989, 11)
    assert events.column("line_no").to_pylist() == [i + 1 for i in range(1000) if i % 97]
    assert events.column("host").to_pylist() == [f"h{i}.example" for i in range(1000) if i % 97]
    assert rejects.column("line_no").to_pylist() == [i + 1 for i in range(0, 1000, 97)]


@pytest.mark.parametrize(("key", "line"), [
    ("squid", "1732780800.000 10 10.0.0.5 TCP_MISS/200 5 GET http://a.example/ a%ff HIER_DIRECT/1.2.3.4 -"),
    ("squid_common", '10.0.0.5 - a%ff [30/Mar/2026:08:01:15 +0200] "GET http://a.example/ HTTP/1.1" 200 5'),
])
def test_a_user_whose_escapes_are_not_utf8_keeps_its_text(tmp_path: Path, key: str, line: str) -> None:
    # url_decode of "%ff" is not UTF-8: it failed the whole batch
    good = line.replace("a%ff", "GEMEENTE%5Cjan")
    events, rejects = parse(tmp_path, key, line, good)
    assert [e["user_name"] for e in events] == ["a%ff", "GEMEENTE\\jan"] and not rejects
