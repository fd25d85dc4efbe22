"""Cisco WSA native access log: ACL decision tags, transparent tunnels, syslog-pushed and status lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.ingest import FORMATS
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings

VERDICTS = '<"IW_aiml",5.4,1,"-",-,-,-,-,"-",-,-,-,"-",-,-,"-","-",-,-,"IW_aiml",-,"Trojan Phisher","-",50.01,0>'


def line(code: str = "TCP_MISS/200", method: str = "GET", url: str = "https://chatgpt.com/", user: str = "-",
         hierarchy: str = "DIRECT/chatgpt.com", acl: str = "DEFAULT_CASE_12-Policy-Identity-NONE-NONE-NONE-DefaultGroup-NONE",
         tail: str = " - -") -> str:
    return f"1773389702.120 812 10.0.0.5 {code} 5120 {method} {url} {user} {hierarchy} text/html {acl} {VERDICTS}{tail}"


def parse(tmp_path: Path, *lines: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "aclog.current"
    path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS["cisco_wsa"], golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist(), report


@pytest.mark.parametrize(("acl", "code", "action"), [
    ("DEFAULT_CASE_12-Policy-Id-NONE", "TCP_MISS/200", "allowed"),
    ("MONITOR_SUSPECT_USER_AGENT_11-Policy-Id-NONE", "TCP_MISS/200", "allowed"),
    ("PASSTHRU_CUSTOMCAT_7-DP_site-IdP_Site-NONE", "TCP_MISS/200", "allowed"),
    ("DECRYPT_WEBCAT_7-DP-Id-NONE", "TCP_MISS/200", "allowed"),
    ("BLOCK_WEBCAT_12-Policy-Id-NONE", "TCP_DENIED/403", "blocked"),
    ("BLOCK_CONTINUE_WEBCAT_12-Policy-Id-NONE", "TCP_MISS/200", "blocked"),
    ("NO_PASSWORD_0-DefaultGroup-NONE", "TCP_DENIED/407", "unknown"),  # a challenge for credentials: no verdict
    ("NO_AUTHORIZATION_0-DefaultGroup-NONE", "TCP_DENIED/403", "blocked"),
    ("OTHER-NONE-Id-NONE", "NONE/503", "unknown"),
    ("OTHER-NONE-Id-NONE", "TCP_MISS/200", "allowed"),
])
def test_acl_decision_tag_decides_the_action(tmp_path: Path, acl: str, code: str, action: str) -> None:
    (event,), rejects, _ = parse(tmp_path, line(code=code, acl=acl))
    assert not rejects
    assert event["action"] == action


def test_transparent_tunnel_to_an_address_takes_the_name_from_the_hierarchy(tmp_path: Path) -> None:
    text = line(method="TCP_CONNECT", url="162.159.140.245:443", hierarchy="DIRECT/api.openai.com",
                user='"GEMEENTE\\jan@WCCPrealm"')
    (event,), _, _ = parse(tmp_path, text)
    assert (event["host"], event["host_source"], event["dst_ip"], event["dst_port"]) == (
        "api.openai.com", "connect", "162.159.140.245", 443)
    assert (event["http_method"], event["url_path"], event["network_protocol"]) == ("CONNECT", None, None)
    assert event["user_name"] == "GEMEENTE\\jan@WCCPrealm"


def test_explicit_tunnel_url_gives_host_and_port(tmp_path: Path) -> None:
    (event,), _, _ = parse(tmp_path, line(method="CONNECT", url="tunnel://Claude.AI:443/", hierarchy="DIRECT/claude.ai"))
    assert (event["host"], event["dst_port"], event["dst_ip"]) == ("claude.ai", 443, None)


def test_syslog_pushed_lines_parse_and_status_lines_are_ignored(tmp_path: Path) -> None:
    events, _, report = parse(
        tmp_path,
        "Fri Mar 13 09:00:00 2026 Info: Begin Logfile",
        "Fri Mar 13 09:00:00 2026 Info: Time offset from UTC: 3600 seconds",
        "<134>Mar 13 09:42:00 wsa01 accesslogs: Info: " + line(),
        line(tail=' "python-requests/2.31.0" -'),
        "<134>Mar 13 23:59:59 wsa01 accesslogs: Info: End Logfile",
    )
    assert (report.parsed, report.ignored, report.rejected) == (2, 3, 0)
    assert [e["user_agent"] for e in events] == [None, "python-requests/2.31.0"]


def test_url_category_and_avc_application_from_the_verdicts(tmp_path: Path) -> None:
    """Cisco's order: 1st the URL category code, 24th the AVC application name, 28th the bandwidth."""
    fields = ['"IW_aiml"', "5.4", "1"] + ["-"] * 20 + ['"ChatGPT"', '"Unknown"', '"-"', '"-"', "50.01", "0"]
    named = "<" + ",".join(fields) + ">"
    unknown = named.replace('"ChatGPT"', '"Unknown"')
    # a quoted comma earlier in the verdicts shifts the fields: no application is guessed
    shifted = named.replace('"IW_aiml",5.4,1,-', '"IW_aiml",5.4,1,"Trojan, Phisher"')
    uncategorised = named.replace('"IW_aiml"', "-")
    lines = [line().replace(VERDICTS, verdicts) for verdicts in (named, unknown, shifted, uncategorised)]
    events, rejects, _ = parse(tmp_path, *lines)
    assert not rejects
    assert [(e["vendor_category"], e["vendor_app"]) for e in events] == [
        ("IW_aiml", "ChatGPT"), ("IW_aiml", None), ("IW_aiml", None), (None, "ChatGPT")]


def test_avc_application_of_the_later_verdict_layout(tmp_path: Path) -> None:
    """Later AsyncOS versions write the category's full name as the 23rd verdict (quoted), so the application
    name is the 25th and the bandwidth follows the 28th comma; a quoted comma in an earlier verdict, which
    shifts the fields of the documented layout alike but leaves the 23rd unquoted, names no application."""
    fields = (['"IW_aiml"', "5.4", "1", '"-"'] + ["-"] * 15 + ['"IW_aiml"', "-", '"-"', '"Generative AI"', '"-"',
              '"ChatGPT"', '"Generative AI Assistant"', '"Encrypted"', '"-"', "50.01", "0", "-"])
    later = "<" + ",".join(fields) + ">"
    unknown = later.replace('"ChatGPT"', '"Unknown"')
    documented_shifted = line().replace(VERDICTS, "<" + ",".join(
        ['"IW_aiml"', "5.4", "1", '"Trojan, Phisher"'] + ["-"] * 19 + ['"ChatGPT"', '"Unknown"', '"-"', '"-"',
                                                                       "50.01", "0"]) + ">")
    events, rejects, _ = parse(tmp_path, line().replace(VERDICTS, later), line().replace(VERDICTS, unknown),
                               documented_shifted)
    assert not rejects
    assert [(e["vendor_category"], e["vendor_app"]) for e in events] == [
        ("IW_aiml", "ChatGPT"), ("IW_aiml", None), ("IW_aiml", None)]


def test_truncated_line_is_rejected_not_ignored(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, "1773389702.120 812 10.0.0.5 TCP_MISS/200 5120 GET https://chatgpt.com/")
    assert not events
    assert rejects[0]["reason"].startswith("not a Cisco WSA access log line")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                              max_size=160), min_size=1, max_size=15))
def test_arbitrary_lines_never_crash_and_are_all_accounted_for(tmp_path: Path, lines: list[str]) -> None:
    _, _, report = parse(tmp_path, line(), *lines)
    assert report.lines == len(lines) + 1
