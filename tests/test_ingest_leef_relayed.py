"""LEEF lines whose tabs did not survive the way to the file: rsyslog writes a tab as `#011` (its default escapes
control characters), and a relay or a copy from a console may turn tabs into spaces. Each reads as the line with
tabs does. Lines written from IBM's LEEF 1.0 layout and Zscaler's NSS LEEF feed fields, not copied from a sample."""

from __future__ import annotations

import pyarrow as pa
import pytest

from detector.ingest import FORMATS
from detector.ingest.base import ParseContext, open_parse_connection

ATTRIBUTES = [("devTime", "Mar 11 2024 08:02:14"), ("src", "10.20.1.15"), ("usrName", "jan.jansen@gemeente.nl"),
              ("cat", "Web Browsing"), ("url", "https://chatgpt.com/backend-api/conversation"), ("action", "Blocked"),
              ("srcBytes", "5120"), ("role", "Burgerzaken"), ("dst", "104.18.32.47")]
HEAD = "<134>Mar 11 08:02:14 zscaler-nss LEEF:1.0|Zscaler|NSSWeblog|5.0|Blocked|"
COLUMNS = ("ts", "src_ip", "user_name", "host", "url_path", "action", "bytes_out", "vendor_department",
           "vendor_category", "dst_ip")


def line(cut: str, attributes: list[tuple[str, str]] = ATTRIBUTES, head: str = HEAD) -> str:
    return head + cut.join(f"{key}={value}" for key, value in attributes)


def parse(lines: list[str]) -> tuple[list[dict], list[dict], int]:
    parser = FORMATS["leef"].new_parser(ParseContext("nss-20240311.log", "UTC", open_parse_connection()))
    result = parser(pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": lines}))
    assert result.events.num_rows + result.rejects.num_rows + result.ignored == len(lines)
    return result.events.to_pylist(), result.rejects.to_pylist(), result.ignored


def fields(event: dict) -> tuple:
    return tuple(event[name] for name in COLUMNS)


@pytest.mark.parametrize("cut", ["#011", " "], ids=["rsyslog-escaped-tab", "spaces"])
def test_a_line_whose_tabs_were_rewritten_reads_as_the_line_with_tabs(cut: str) -> None:
    events, rejects, ignored = parse([line("\t"), line(cut)])
    assert not rejects and ignored == 0 and len(events) == 2
    assert fields(events[1]) == fields(events[0])
    assert events[0]["host"] == "chatgpt.com" and events[0]["action"] == "blocked"
    assert events[0]["vendor_category"] == "Web Browsing"  # a value with a space, whole in both


def test_lines_of_every_cut_parse_together_in_one_batch() -> None:
    lines = [line("\t"), line("#011"), line(" "), line("|")]  # ("|": McAfee Web Gateway's habit)
    events, rejects, ignored = parse(lines)
    assert not rejects and ignored == 0
    assert len({fields(event) for event in events}) == 1


def test_a_value_with_a_space_and_an_equals_sign_in_a_tab_line_stays_whole() -> None:
    """The first attribute's value holds ` b=c`: the line has tabs, so it is not read as space-cut."""
    events, rejects, _ = parse([line("\t", [("msg", "policy a b=c"), *ATTRIBUTES])])
    assert not rejects and events[0]["src_ip"] == "10.20.1.15" and events[0]["host"] == "chatgpt.com"


def test_escaped_tab_text_is_no_cut_where_the_line_names_another_delimiter() -> None:
    head = "<134>Mar 11 08:02:14 gw LEEF:2.0|Vendor|Gateway|1.0|allowed|^|"
    attributes = [("src", "10.20.1.15"), ("url", "https://claude.ai/chat#011x=1"), ("devTime", "1710144134000")]
    events, rejects, _ = parse([line("^", attributes, head)])
    assert not rejects and events[0]["host"] == "claude.ai" and events[0]["src_ip"] == "10.20.1.15"


def test_a_space_cut_line_without_any_address_host_or_url_is_ignored_and_counted() -> None:
    events, rejects, ignored = parse([line(" ", [("devTime", "Mar 11 2024 08:02:14"), ("msg", "admin login ok")])])
    assert (len(events), len(rejects), ignored) == (0, 0, 1)
