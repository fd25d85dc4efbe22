"""Sophos UTM 9 web filter (httpproxy): what the golden files do not show."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from detector.config import Settings
from detector.ingest import FORMATS, sniff
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings

HEAD = "2024:06:05-10:00:30 utm-1 httpproxy[4711]: "
ACCESS = ('id="0001" severity="info" sys="SecureWeb" sub="http" name="http access" action="pass" method="GET" '
          'srcip="10.20.1.15" dstip="104.18.32.47" user="jdevries" group="Staff" ad_domain="GEMEENTE" '
          'statuscode="200" cached="0" profile="REF_DefaultHTTPProfile (Default Web Filter Profile)" size="5120" '
          'request="0x7f3a" url="https://chatgpt.com/c/abc?x=1" referer="" error="" authtime="0" dnstime="1" '
          'cattime="0" avscantime="0" fullreqtime="812345" device="0" auth="2" ua="Mozilla/5.0 (X11; Linux)" '
          'exceptions="" category="9998" reputation="neutral" categoryname="Uncategorized" '
          'content-type="Application/JSON"')
XG = ('Mar 11 08:02:13 fw01 device_name="SFW" timestamp="2024-03-11T08:02:13+0100" log_id=050901616001 '
      'log_type="Content Filtering" log_component="HTTP" log_subtype="Allowed" user_name="j.devries" '
      'url="https://chatgpt.com/" src_ip="10.20.1.15" dst_ip="104.18.32.47" bytes_sent=100 bytes_received=200')


def parse(tmp_path: Path, *lines: str, settings: Settings | None = None) -> tuple[list[dict], list[dict], int]:
    path = tmp_path / "http-20240605.log"
    path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS["sophos_utm"], settings or golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist(), report.ignored


def test_sniffing_tells_utm_from_sophos_firewall_lines() -> None:
    assert sniff([HEAD + ACCESS] * 3).name == "sophos_utm"
    assert sniff([XG] * 3).name == "sophos_xg"
    ulogd = ('2024:06:05-10:00:31 utm-1 ulogd[5123]: id="2001" severity="info" sys="SecureNet" '
             'sub="packetfilter" name="Packet dropped" action="drop" srcip="10.20.1.99" dstip="10.20.1.255"')
    assert sniff([HEAD + ACCESS, ulogd, ulogd]).name == "sophos_utm"  # a whole UTM syslog file
    assert FORMATS["sophos_utm"].sniff([XG]) == 0.0
    assert FORMATS["sophos_xg"].sniff([HEAD + ACCESS]) == 0.0


def test_utm_time_is_local_to_the_configured_zone(tmp_path: Path) -> None:
    summer, _, _ = parse(tmp_path, HEAD + ACCESS)
    assert summer[0]["ts"].isoformat() == "2024-06-05T08:00:30+00:00"  # Europe/Amsterdam, CEST
    winter, _, _ = parse(tmp_path, "2024:01:05-10:00:30 utm-1 httpproxy[4711]: " + ACCESS)
    assert winter[0]["ts"].isoformat() == "2024-01-05T09:00:30+00:00"
    settings = dataclasses.replace(golden_settings(), timezone="UTC")
    utc, _, _ = parse(tmp_path, HEAD + ACCESS, settings=settings)
    assert utc[0]["ts"].isoformat() == "2024-06-05T10:00:30+00:00"


def test_relay_headers_in_front_keep_the_utm_time(tmp_path: Path) -> None:
    bsd = "<134>Jun  5 12:59:59 relay01 " + HEAD + ACCESS
    iso = "2024-06-05T13:00:00+02:00 relay01 " + HEAD + ACCESS
    rfc5424 = "<134>1 2024-06-05T08:00:31Z utm-1 httpproxy 4711 - - " + ACCESS
    events, rejects, _ = parse(tmp_path, bsd, iso, rfc5424)
    assert not rejects
    assert [e["ts"].isoformat() for e in events] == ["2024-06-05T08:00:30+00:00"] * 2 + ["2024-06-05T08:00:31+00:00"]


def test_fields_of_an_access_line(tmp_path: Path) -> None:
    (event,), _, _ = parse(tmp_path, HEAD + ACCESS)
    assert (event["host"], event["host_source"], event["url_path"], event["network_protocol"]) == (
        "chatgpt.com", "url", "/c/abc", "https")
    assert (event["src_ip"], event["dst_ip"], event["user_name"], event["http_method"]) == (
        "10.20.1.15", "104.18.32.47", "jdevries", "GET")
    # size is what the client received; no field gives the request's size; fullreqtime is in microseconds
    assert (event["bytes_in"], event["bytes_out"], event["duration_ms"]) == (5120, None, 812)
    assert (event["http_status"], event["action"], event["content_type"]) == (200, "allowed", "application/json")
    assert (event["user_agent"], event["vendor_category"]) == ("Mozilla/5.0 (X11; Linux)", "Uncategorized")


@pytest.mark.parametrize("url, port", [("https://api.openai.com:443", 443), ("api.openai.com:443", 443),
                                       ("https://api.openai.com/", None)])
def test_connect_target_is_the_host(tmp_path: Path, url: str, port: int | None) -> None:
    line = HEAD + ACCESS.replace('method="GET"', 'method="CONNECT"').replace(
        'url="https://chatgpt.com/c/abc?x=1"', f'url="{url}"')
    (event,), _, _ = parse(tmp_path, line)
    assert (event["host"], event["host_source"], event["dst_port"], event["url_path"]) == (
        "api.openai.com", "connect", port, None)


@pytest.mark.parametrize("action, expected", [("block", "blocked"), ("warn", "blocked"), ("pass", "allowed"),
                                              ("something", "unknown")])
def test_blocked_and_warned_requests(tmp_path: Path, action: str, expected: str) -> None:
    line = HEAD + ACCESS.replace('id="0001"', 'id="0002"').replace('action="pass"', f'action="{action}"')
    (event,), _, _ = parse(tmp_path, line)
    assert event["action"] == expected


def test_key_order_and_empty_values(tmp_path: Path) -> None:
    line = (HEAD + 'id="0002" severity="info" sys="SecureWeb" sub="http" name="web request blocked" '
            'action="block" method="CONNECT" srcip="10.20.11.196" dstip="" user="" ad_domain="" statuscode="403" '
            'size="2529" url="https://gemini.google.com:443" exceptions="" error="Target service not allowed" '
            'fullreqtime="6781" device="0" auth="0"')
    (event,), _, _ = parse(tmp_path, line)
    assert (event["dst_ip"], event["user_name"], event["user_agent"], event["vendor_category"]) == (None,) * 4
    assert (event["host"], event["action"], event["duration_ms"]) == ("gemini.google.com", "blocked", 6)


def test_other_programs_and_diagnostics_are_ignored_garbage_rejected(tmp_path: Path) -> None:
    lines = [
        '2024:06:05-10:00:31 utm-1 confd[2944]: id="0100" severity="info" sys="System" name="object changed"',
        "2024:06:05-10:00:31 utm-1 named[3321]: client 10.20.1.15#5353: query (cache) 'x.nl/A/IN' denied",
        HEAD + 'id="0003" severity="info" sys="SecureWeb" sub="http" request="0x7f" function="ssl_raw_read" '
               'file="ssl.c" line="1012" message="SSL_ERROR_SYSCALL"',
        HEAD + 'id="0072" severity="info" sys="SecureWeb" sub="http" name="Contentfilter warned and proceeded" '
               'url="https://www.deepl.com/" srcip="10.20.5.40"',
        "just some text",
        HEAD + 'id="0001" severity="info" sys="SecureWeb" sub="http" name="http access" action="pass" srcip="10.',
    ]
    events, rejects, ignored = parse(tmp_path, *lines)
    assert (events, ignored) == ([], 4)
    assert [r["reason"] for r in rejects] == ["not a Sophos UTM log line (no UTM time or syslog header)",
                                              "web filter request without url"]


def test_url_without_scheme_is_host_and_path(tmp_path: Path) -> None:
    line = HEAD + ACCESS.replace('url="https://chatgpt.com/c/abc?x=1"', 'url="cdn.example.nl/static/app.js?v=2"')
    (event,), _, _ = parse(tmp_path, line)
    assert (event["host"], event["host_source"], event["url_path"], event["network_protocol"]) == (
        "cdn.example.nl", "url", "/static/app.js", None)
