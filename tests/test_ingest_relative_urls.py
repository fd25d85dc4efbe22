"""A URL has a scheme only when it starts with one (letters, digits, `+ - . _`, then `://`): a relative URL may
carry `://` in its query (`/login?next=https://chatgpt.com/x`), and that names neither its host nor its path."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from detector.ingest import FORMATS
from detector.ingest.base import open_parse_connection
from detector.ingest.distinct_sql import url_parts
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings

URLS = [
    "/login?next=https://chatgpt.com/c/1",
    "www.example.org/p?u=http://chatgpt.com/",
    "http://www.example.org/a?u=https://chatgpt.com/b",
    "HTTPS://Chat.Example.org:8443/",
    "cache_object://localhost/info",
    "1http://h/",
    "",
    None,
]
# (scheme, rest) as the SQL macros and url_parts must both read them
EXPECTED = [
    (None, None),
    (None, None),
    ("http", "www.example.org/a?u=https://chatgpt.com/b"),
    ("https", "Chat.Example.org:8443/"),
    ("cache_object", "localhost/info"),
    (None, None),
    (None, None),
    (None, None),
]


def test_sql_macros_read_a_scheme_only_at_the_start() -> None:
    connection = open_parse_connection()
    read = [connection.execute("select url_scheme($1), url_rest($1)", [url]).fetchone() for url in URLS]
    assert read == EXPECTED


def test_url_parts_agrees_with_the_sql_macros() -> None:
    scheme, rest, authority, path = url_parts(pa.array(URLS, pa.string()))
    with_scheme = [(s.lower(), r) if s is not None else (None, None)
                   for s, r in zip(scheme.to_pylist(), rest.to_pylist(), strict=True)]
    assert with_scheme == EXPECTED
    # without a scheme the rest is the whole URL (a bare host/path), as `coalesce(url_rest(u), u)` reads it
    assert rest.to_pylist()[:2] == URLS[:2]
    assert authority.to_pylist()[:3] == ["", "www.example.org", "www.example.org"]
    assert path.to_pylist()[:3] == ["/login", "/p", "/a"]


def parse(tmp_path: Path, key: str, name: str, line: str):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(line + "\n", encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS[key], golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist()


def test_squid_takes_no_host_from_a_relative_urls_query(tmp_path: Path) -> None:
    line = ("1732780801.004     87 10.20.1.15 TCP_MISS/200 1532 GET /login?next=https://chatgpt.com/c/1 - "
            "HIER_DIRECT/147.181.94.12 text/html")
    events, rejects = parse(tmp_path, "squid", "access.log", line)
    assert [(event["host"], event["url_path"]) for event in events] == [(None, None)] and not rejects


@pytest.mark.parametrize("hostname", ["www.example.org", None])
def test_suricata_http_reads_the_path_before_the_query(tmp_path: Path, hostname: str | None) -> None:
    http = {"url": "/login?next=https://chatgpt.com/c/1", "http_method": "GET", "status": 200}
    if hostname:
        http["hostname"] = hostname
    record = {"timestamp": "2025-11-18T09:00:05.000000+0100", "event_type": "http", "src_ip": "10.20.3.15",
              "src_port": 52110, "dest_ip": "145.21.166.10", "dest_port": 80, "proto": "TCP", "http": http}
    (event,), _ = parse(tmp_path, "suricata_eve", "eve.json", json.dumps(record))
    assert (event["host"], event["url_path"]) == (hostname, "/login")


@pytest.mark.parametrize("host", ["www.example.org", None])
def test_zeek_http_reads_the_path_before_the_query(tmp_path: Path, host: str | None) -> None:
    record = {"ts": 1700000000.5, "uid": "C1", "id.orig_h": "10.0.0.1", "id.orig_p": 5, "id.resp_h": "1.2.3.4",
              "id.resp_p": 80, "trans_depth": 1, "method": "GET", "uri": "/login?next=https://chatgpt.com/c/1"}
    if host:
        record["host"] = host
    (event,), _ = parse(tmp_path, "zeek_http", "http.log", json.dumps(record))
    assert (event["host"], event["url_path"]) == (host, "/login")


def test_zscaler_reads_a_scheme_less_url_by_its_host_not_by_a_url_in_its_query(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parent.parent / "sample_logs" / "zscaler_kv"
    line = next(text for text in (sample / "basic.log").read_text(encoding="utf-8").splitlines() if "\teurl=" in text)
    url = next(item for item in line.split("\t") if item.startswith("eurl="))
    line = line.replace(url, "eurl=www.example.org/p?next=https://chatgpt.com/c/1")
    (event,), _ = parse(tmp_path, "zscaler_kv", "nss-web.log", line)
    assert (event["host"], event["url_path"]) == ("www.example.org", "/p")


@pytest.mark.parametrize(("request_text", "place"), [
    ("/login?next\\=https://chatgpt.com/c/1", (None, "/login")),
    ("www.example.org/p?next\\=https://chatgpt.com/c/1", ("www.example.org", "/p")),
])
def test_cef_reads_a_request_without_a_scheme_by_its_own_host_and_path(
        tmp_path: Path, request_text: str, place: tuple[str | None, str]) -> None:
    line = ("CEF:0|Forcepoint|Security|8.5|1|Transaction permitted|1| rt=1710150000000 src=10.0.0.5 suser=jan "
            f"request={request_text} requestMethod=GET act=permitted")
    (event,), _ = parse(tmp_path, "cef", "gateway.log", line)
    assert (event["host"], event["url_path"]) == place
