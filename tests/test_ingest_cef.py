"""Generic CEF and LEEF: escapes, values with spaces, times, LEEF delimiters, the generic sniff cap."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.ingest import sniff_scores
from detector.ingest.cef import GENERIC_SNIFF_CAP
from detector.ingest.reader import head_lines, read_head
from tests.golden import parse_lines

HEADER = "<134>1 2024-03-11T08:02:14+01:00 swg01 webgateway - - - "
CEF = "CEF:0|Gemeente Voorbeeld|Secure Web Gateway|2.4|100|Web request|1|"


def parse(tmp_path: Path, key: str, *lines: str, name: str = "gateway-20240311.log") -> tuple[list, list, int]:
    events, rejects, report = parse_lines(tmp_path / name, key, lines)
    return events.to_pylist(), rejects.to_pylist(), report.ignored


def test_escaped_pipes_backslashes_and_equals_signs(tmp_path: Path) -> None:
    line = (HEADER + r"CEF:0|Gemeente\|Voorbeeld|Web\\Gateway|2.4|100|Web request|1|src=10.20.9.3 "
            r"suser=GEMEENTE\\r.mulder request=https://www.google.com/search?q\=chatgpt&hl\=nl dpt=443")
    events, rejects, _ = parse(tmp_path, "cef", line)
    assert not rejects
    event = events[0]
    assert event["user_name"] == "GEMEENTE\\r.mulder"
    assert (event["host"], event["url_path"], event["dst_port"]) == ("www.google.com", "/search", 443)


def test_values_with_spaces_end_at_the_next_key_and_keys_ignore_case(tmp_path: Path) -> None:
    line = (HEADER + CEF + "msg=Blocked by policy Generatieve AI  sourceAddress=10.20.7.9 destinationHostName="
            "API.openai.com requestClientApplication=Mozilla/5.0 (Windows NT 10.0; Win64; x64) act=Blocked "
            "cs2Label=Content Type cs2=text/html outcome=403 out=2210 in=412     ")
    events, _, _ = parse(tmp_path, "cef", line)
    event = events[0]
    assert (event["src_ip"], event["host"], event["host_source"]) == ("10.20.7.9", "api.openai.com", "http_host")
    assert event["user_agent"] == "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
    assert (event["action"], event["http_status"], event["content_type"]) == ("blocked", 403, "text/html")
    assert (event["bytes_out"], event["bytes_in"]) == (2210, 412)


@pytest.mark.parametrize(("rt", "expected"), [
    ("1710140533000", "2024-03-11T07:02:13+00:00"),  # epoch milliseconds
    ("1710140533", "2024-03-11T07:02:13+00:00"),  # epoch seconds
    ("Mar 11 2024 08:02:13", "2024-03-11T07:02:13+00:00"),  # no zone: the configured one (CET)
    ("Mar 11 2024 08:02:13.250 UTC", "2024-03-11T08:02:13.250000+00:00"),
    ("Mar 11 08:02:13", "2024-03-11T07:02:13+00:00"),  # no year: the file's (its name's) year
    ("2024-03-11T08:02:13+01:00", "2024-03-11T07:02:13+00:00"),
])
def test_rt_layouts(tmp_path: Path, rt: str, expected: str) -> None:
    events, rejects, _ = parse(tmp_path, "cef", f"{CEF}rt={rt} src=10.20.1.15 request=https://chatgpt.com/")
    assert not rejects, rejects
    assert events[0]["ts"].isoformat() == expected


def test_without_rt_the_syslog_header_dates_the_event_and_without_either_it_is_rejected(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, "cef", "<134>Mar 11 08:20:11 zscaler-nss " + CEF + "src=10.20.9.3 dhost=x.ai",
                               CEF + "src=10.20.9.3 dhost=x.ai")
    assert events[0]["ts"].isoformat() == "2024-03-11T07:20:11+00:00"
    assert rejects[0]["reason"] == "no time: no rt/start/end/devTime and no syslog header"


def test_vendor_sample_behind_a_syslog_header(tmp_path: Path, vendor_samples: Path) -> None:
    """The corpus lines have no time at all (rejected as such); behind a syslog header they parse."""
    raw = (vendor_samples / "cef/test-cef.log").read_text().splitlines()
    events, rejects, ignored = parse(tmp_path, "cef", *raw)
    assert (len(events), ignored) == (0, 1) and {r["reason"] for r in rejects} == {
        "no time: no rt/start/end/devTime and no syslog header"}
    events, rejects, ignored = parse(tmp_path, "cef", *(HEADER + line for line in raw))
    assert (len(events), len(rejects), ignored) == (3, 0, 1)  # line 3 (spriv/dpriv) carries no traffic
    web, auth, padded = events
    assert (web["src_ip"], web["dst_ip"], web["dst_port"], web["http_method"]) == (
        "89.160.20.156", "192.168.10.1", 443, "POST")
    assert (web["host"], web["url_path"], web["network_protocol"]) == ("www.example.com", "/cart", "https")
    assert auth["user_name"] == "bob"  # suser, not the destination user duser=alice
    assert (padded["src_ip"], padded["dst_ip"]) == ("192.168.3.4", "192.168.1.2")  # trailing spaces trimmed


def test_vendor_sample_is_recognised_as_cef_below_the_generic_cap(vendor_samples: Path) -> None:
    scores = sniff_scores(head_lines(read_head(vendor_samples / "cef/test-cef.log")))
    assert scores[0] == ("cef", GENERIC_SNIFF_CAP)


@pytest.mark.parametrize("delimiter", ["^", "x5E", "0x5E", "0X5e"])
def test_leef2_delimiter_as_character_or_code(tmp_path: Path, delimiter: str) -> None:
    attributes = "^".join(["devTime=Mar 11 2024 08:20:00", "src=10.20.4.80", "usrName=s.visser",
                           "url=https://www.perplexity.ai/search", "srcBytes=1015", "dstBytes=42300", "action=allow"])
    events, rejects, _ = parse(tmp_path, "leef", f"LEEF:2.0|Gemeente|SWG|2.4|100|{delimiter}|{attributes}")
    assert not rejects
    event = events[0]
    assert (event["host"], event["user_name"], event["bytes_out"], event["bytes_in"], event["action"]) == (
        "www.perplexity.ai", "s.visser", 1015, 42300, "allowed")


def test_leef1_is_tab_separated_and_values_may_hold_equals_signs(tmp_path: Path) -> None:
    line = "LEEF:1.0|Zscaler|NSS|4.1|Allowed|" + "\t".join(
        ["devTime=Mar 11 2024 07:02:13 UTC", "src=10.20.1.15", "usrName=j.devries",
         "url=www.google.com/search?q=ai&hl=nl", "dst=0.0.0.0"])
    events, _, _ = parse(tmp_path, "leef", line)
    event = events[0]
    assert (event["host"], event["url_path"], event["dst_ip"]) == ("www.google.com", "/search", None)
    assert event["ts"].isoformat() == "2024-03-11T07:02:13+00:00"


def test_gateway_application_category_and_department(tmp_path: Path) -> None:
    """Zscaler's CEF web feed: appname in destinationServiceName, urlcat in cat and a labelled cs2, dept in cs1."""
    zscaler = ("CEF:0|Zscaler|NSSWeblog|5.7|Allowed|Allowed|3|act=Allowed src=10.20.1.15 dhost=chatgpt.com "
               "rt=Mar 11 2024 07:02:13 UTC destinationServiceName=ChatGPT cat=General AI cs1=Burgerzaken "
               "cs1Label=dept cs2=Generative AI cs2Label=urlcat")
    plain = HEADER + CEF + "src=10.20.1.16 dhost=claude.ai cat=AI Tools"
    events, _, _ = parse(tmp_path, "cef", zscaler, plain)
    assert [(e["vendor_app"], e["vendor_category"], e["vendor_department"]) for e in events] == [
        ("ChatGPT", "Generative AI", "Burgerzaken"), (None, "AI Tools", None)]
    leef = "LEEF:1.0|Zscaler|NSS|4.1|Allowed|" + "\t".join(
        ["devTime=Mar 11 2024 07:02:13 UTC", "src=10.20.1.15", "url=chatgpt.com/", "appname=ChatGPT",
         "urlcat=Generative AI", "dept=Burgerzaken"])
    events, _, _ = parse(tmp_path, "leef", leef)
    assert (events[0]["vendor_app"], events[0]["vendor_category"], events[0]["vendor_department"]) == (
        "ChatGPT", "Generative AI", "Burgerzaken")


@pytest.mark.parametrize("key", ["cef", "leef"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tail=st.lists(st.text(alphabet=st.sampled_from(list("ab =|\\\t^x0rtsc1LEF:")), max_size=40), max_size=6))
def test_arbitrary_extensions_never_crash_and_are_all_counted(tmp_path: Path, key: str, tail: list[str]) -> None:
    head = CEF if key == "cef" else "LEEF:2.0|V|P|1|2|^|"
    parse(tmp_path, key, *(head + text for text in tail), head)


def test_the_first_key_of_a_field_present_wins_at_its_first_occurrence(tmp_path: Path) -> None:
    """rt is preferred to end whatever their order; a repeated key counts where it first appears."""
    line = (CEF + "end=1710140400000 src=10.20.1.15 rt=1710140533000 dhost=first.example rt=1710140600000 "
            "sourceAddress=10.20.9.9 dhost=second.example")
    events, rejects, _ = parse(tmp_path, "cef", line)
    assert not rejects
    event = events[0]
    assert event["ts"].isoformat() == "2024-03-11T07:02:13+00:00"
    assert (event["src_ip"], event["host"]) == ("10.20.1.15", "first.example")
    leef = "LEEF:1.0|V|P|1|2|" + "\t".join(["devTime=1710140533000", "SRC=10.20.1.15", "src=10.20.9.9",
                                            "url=https://first.example/a", "url=https://second.example/b"])
    events, _, _ = parse(tmp_path, "leef", leef)
    assert (events[0]["src_ip"], events[0]["host"]) == ("10.20.1.15", "first.example")
