"""Sophos Firewall (SFOS) syslog: web lines parsed, other log types ignored, both field-name generations."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.ingest import FORMATS
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings, parse_lines

HEAD = 'Mar 11 08:02:13 fw01 device_name="SFW" timestamp="2024-03-11T08:02:13+0100" log_id=050901616001'


def parse(tmp_path: Path, *lines: str) -> tuple[list[dict], list[dict], int]:
    events, rejects, report = parse_lines(tmp_path / "sophos.log", "sophos_xg", lines)
    return events.to_pylist(), rejects.to_pylist(), report.ignored


@pytest.mark.parametrize("log_type", ["Firewall", "Event", "IDP", "Anti-Spam", "System Health", "SSL VPN", "WAF"])
def test_log_types_without_web_traffic_are_ignored_not_rejected(tmp_path: Path, log_type: str) -> None:
    line = (f'{HEAD} log_type="{log_type}" log_component="Firewall Rule" log_subtype="Allowed" '
            'src_ip="10.20.1.15" dst_ip="104.18.32.47" sent_bytes=100 recv_bytes=200 user_name="j.devries"')
    assert parse(tmp_path, line) == ([], [], 1)


def test_web_antivirus_is_traffic_and_mail_antivirus_is_not(tmp_path: Path) -> None:
    web = (f'{HEAD} log_type="Anti-Virus" log_component="HTTP" log_subtype="Virus" url="http://www.eicar.org/x" '
           'domainname="www.eicar.org" src_ip="10.20.7.44" dst_ip="89.238.73.97" bytes_sent=540 bytes_received=68')
    mail = f'{HEAD} log_type="Anti-Virus" log_component="SMTP" log_subtype="Virus" src_ip="82.165.194.211"'
    events, rejects, ignored = parse(tmp_path, web, mail)
    assert (len(events), len(rejects), ignored) == (1, 0, 1)
    assert (events[0]["host"], events[0]["action"], events[0]["bytes_out"]) == ("www.eicar.org", "blocked", 540)


def test_quoted_values_may_hold_spaces_and_equals_signs_in_any_key_order(tmp_path: Path) -> None:
    line = ('Mar 11 08:02:13 fw01 url="https://www.google.com/search?q=chat gpt&hl=nl" log_subtype="Allowed" '
            'http_user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) domain=fake" log_component="HTTP" '
            'log_type="Content Filtering" timestamp="2024-03-11T08:02:13+0100" bytes_received=101233 '
            'user_name="r.mulder" src_ip="10.20.9.3" bytes_sent=920 exceptions= http_status="200"')
    events, rejects, _ = parse(tmp_path, line)
    assert not rejects
    event = events[0]
    assert (event["host"], event["url_path"], event["user_name"]) == ("www.google.com", "/search", "r.mulder")
    assert event["user_agent"] == "Mozilla/5.0 (Windows NT 10.0; Win64; x64) domain=fake"
    assert (event["bytes_out"], event["bytes_in"], event["http_status"]) == (920, 101233, 200)
    assert event["ts"].isoformat() == "2024-03-11T07:02:13+00:00"


def test_old_date_and_time_are_local_unless_gmt(tmp_path: Path) -> None:
    old = ('<30>device="SFW" date=2024-03-11 time=08:02:13 timezone="{zone}" log_id=050901616001 '
           'log_type="Content Filtering" log_component="HTTP" log_subtype="Denied" user_name="m.jansen" '
           'url="api.openai.com/v1/chat/completions" src_ip=10.20.7.9 dst_ip=162.159.140.245 dst_port=443 '
           'sent_bytes=0 recv_bytes=0 domain=api.openai.com')
    events, _, _ = parse(tmp_path, old.format(zone="CET"), old.format(zone="GMT"))
    assert [e["ts"].isoformat() for e in events] == ["2024-03-11T07:02:13+00:00", "2024-03-11T08:02:13+00:00"]
    assert {(e["host"], e["url_path"], e["action"], e["network_protocol"]) for e in events} == {
        ("api.openai.com", "/v1/chat/completions", "blocked", None)}


def test_vendor_sample_sizes_and_times(vendor_samples: Path) -> None:
    path = vendor_samples / "sophos-xg/test-xg-cfilter-new.excerpt-lines-1-9.log"
    events = parse_file(path, FORMATS["sophos_xg"], golden_settings())[0].to_pylist()
    app_control, first_web = events[0], events[1]
    assert app_control["host"] is None and app_control["action"] == "blocked" and app_control["dst_port"] == 22083
    assert first_web["ts"].isoformat() == "2021-11-16T00:28:51+00:00"  # 18:28:51-0600
    assert (first_web["bytes_out"], first_web["bytes_in"]) == (19591, 2856085)
    assert first_web["http_status"] is None  # http_status="0": no status
    # Sophos's own names: the application and its category, the web category
    assert (app_control["vendor_app"], app_control["vendor_category"]) == ("Torrent Clients P2P", "P2P")
    assert (first_web["vendor_app"], first_web["vendor_category"]) == (None, "Content Delivery")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(st.sampled_from(["log_type", "url", "timestamp", "date", "time", "domain",
                                                 "bytes_sent", "x", "log_subtype", "log_component"]),
                                st.text(max_size=15).filter(lambda s: "\n" not in s and "\r" not in s)),
                      max_size=10))
def test_arbitrary_pairs_never_crash_and_are_all_counted(tmp_path: Path, pairs: list[tuple[str, str]]) -> None:
    parse(tmp_path, " ".join(f'{k}="{v}"' if i % 2 else f"{k}={v}" for i, (k, v) in enumerate(pairs)) or "-")
