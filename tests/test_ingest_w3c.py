"""W3C extended log format: headers that change mid-file, directives, time rules, proxy vs web server fields."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.ingest import FORMATS
from detector.ingest.arrow_ops import quoted_value, split_quoted, without_empty
from detector.ingest.base import open_parse_connection
from detector.ingest.pipeline import FileReport, parse_file
from detector.ingest.squid import PROXY_MACROS
from detector.ingest.w3c import sniff
from tests.golden import golden_settings

PROXYSG_FIELDS = ("#Fields: date time time-taken c-ip cs-username sc-filter-result s-action cs-method cs-uri-scheme "
                  "cs-host cs-uri-port cs-uri-path s-ip sc-bytes cs-bytes")


def parse(tmp_path: Path, *lines: str) -> tuple[list[dict[str, object]], list[dict[str, object]], FileReport]:
    path = tmp_path / "u_ex260313.log"
    path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS["w3c"], golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist(), report


def test_fields_changing_mid_file_and_across_batches_map_each_line_by_its_header(tmp_path: Path) -> None:
    # golden_settings() reads 7 lines a batch: the second header falls in the second batch.
    first = [f"2026-03-13 08:00:0{i} 10.0.0.{i} GET /a{i} 200" for i in range(1, 7)]
    second = [f"10.0.1.{i} www.example.org 2026-03-13 09:00:0{i} 404" for i in range(1, 4)]
    events, rejects, report = parse(
        tmp_path, "#Version: 1.0", "#Fields: date time c-ip cs-method cs-uri-stem sc-status", *first,
        "#Fields: c-ip cs(Host) date time sc-status", *second,
    )
    assert not rejects and report.ignored == 3
    assert [e["src_ip"] for e in events] == [f"10.0.0.{i}" for i in range(1, 7)] + [f"10.0.1.{i}" for i in range(1, 4)]
    assert [e["http_status"] for e in events] == [200] * 6 + [404] * 3
    assert [e["host"] for e in events[6:]] == ["www.example.org"] * 3
    assert all(e["host_source"] == "http_host" for e in events[6:])


def test_more_values_than_fields_is_rejected(vendor_samples: Path) -> None:
    _, rejects, report = parse_file(vendor_samples / "w3c-iis/logfile_w3c.5", FORMATS["w3c"], golden_settings())
    assert report.parsed == 0 and report.ignored == 1
    assert rejects.column("reason").to_pylist() == ["17 values but #Fields names 6"]


def test_byte_order_mark_before_the_first_directive_is_ignored(tmp_path: Path) -> None:
    events, rejects, report = parse(tmp_path, "\ufeff#Software: IIS", "#Fields: date time c-ip",
                                    "2026-03-13 08:00:00 10.0.0.1")
    assert not rejects and report.ignored == 2 and len(events) == 1


def test_lines_before_any_fields_directive_are_rejected_with_reason(tmp_path: Path) -> None:
    _, rejects, _ = parse(tmp_path, "2026-03-13 08:00:01 10.0.0.1 GET / 200", "#Fields: date time c-ip")
    assert rejects[0]["reason"].startswith("no #Fields directive before this line")


def test_gmt_offset_directive_shifts_date_and_time_to_utc(tmp_path: Path) -> None:
    events, _, _ = parse(tmp_path, "#GMT-Offset: -0800", "#Fields: date time c-ip", "2026-03-13 23:30:00 10.0.0.1")
    assert events[0]["ts"].isoformat() == "2026-03-14T07:30:00+00:00"


def test_local_date_and_time_fields_use_the_configured_zone(tmp_path: Path) -> None:
    events, _, _ = parse(tmp_path, "#Fields: date-local time-local c-ip", "2026-07-01 12:00:00 10.0.0.1")
    assert events[0]["ts"].isoformat() == "2026-07-01T10:00:00+00:00"  # Europe/Amsterdam, summer time


def test_time_without_date_takes_the_date_directive(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, "#Fields: time c-ip", "08:00:00 10.0.0.1", "#Date: 2026-03-13 07:00:00",
                               "08:00:01 10.0.0.2")
    assert rejects[0]["reason"].startswith("a time without a date")
    assert events[0]["ts"].isoformat() == "2026-03-13T08:00:01+00:00"


def test_proxysg_destination_comes_from_cs_host_and_its_own_address_is_not_the_server(tmp_path: Path) -> None:
    events, _, _ = parse(
        tmp_path, PROXYSG_FIELDS,
        "2026-03-13 08:15:02 30 10.0.0.5 jan OBSERVED TCP_TUNNELED CONNECT tcp chatgpt.com 443 / 10.20.0.5 9120 3310",
        "2026-03-13 08:15:03 2 10.0.0.5 jan DENIED TCP_HIT GET https claude.ai 443 /new 10.20.0.5 3411 612",
    )
    tunnel, denied = events
    assert (tunnel["host"], tunnel["host_source"], tunnel["dst_port"], tunnel["dst_ip"]) == (
        "chatgpt.com", "connect", 443, None)
    assert (tunnel["network_protocol"], tunnel["url_path"], tunnel["action"]) == (None, None, "allowed")
    assert (tunnel["bytes_out"], tunnel["bytes_in"]) == (3310, 9120)
    # A DENIED filter result wins over a cache-hit code.
    assert (denied["action"], denied["url_path"], denied["network_protocol"]) == ("blocked", "/new", "https")


def test_proxy_categories_and_application_names_are_kept(tmp_path: Path) -> None:
    events, _, _ = parse(
        tmp_path,
        "#Fields: date time c-ip cs-host cs-categories x-bluecoat-application-name",
        '2026-03-13 08:15:02 10.0.0.5 chatgpt.com "Artificial Intelligence ML Applications" "ChatGPT"',
        '2026-03-13 08:15:03 10.0.0.5 www.nu.nl "News" none',
        "#Fields: timestamp c-ip cs-url x-webcat-code-abr x-webcat-code-full x-avc-app",
        '1773389705.433 10.0.0.6 https://claude.ai/ IW_aiml "Artificial Intelligence" "Claude"',
    )
    assert [(e["vendor_category"], e["vendor_app"]) for e in events] == [
        ("Artificial Intelligence ML Applications", "ChatGPT"), ("News", None),
        ("Artificial Intelligence", "Claude")]


def test_iis_server_address_is_the_destination_address(tmp_path: Path) -> None:
    events, _, _ = parse(tmp_path, "#Fields: date time s-ip s-port c-ip cs-method cs-uri-stem time-taken",
                         "2026-03-13 08:00:00 10.30.0.10 443 10.0.0.1 GET /loket 0.25")
    assert (events[0]["dst_ip"], events[0]["dst_port"], events[0]["host"]) == ("10.30.0.10", 443, None)
    assert events[0]["duration_ms"] == 250  # the standard's seconds, written with a decimal point


def test_tmg_anonymous_user_and_windows_error_status_are_not_values(tmp_path: Path) -> None:
    events, _, _ = parse(
        tmp_path, "#Fields: c-ip cs-username date time r-host r-ip s-operation cs-uri sc-status action",
        "10.0.0.1 anonymous 2026-03-13 08:00:00 claude.ai - CONNECT claude.ai:443 12202 Denied",
    )
    assert (events[0]["user_name"], events[0]["http_status"], events[0]["action"]) == (None, None, "blocked")
    assert (events[0]["host"], events[0]["dst_port"]) == ("claude.ai", 443)


def test_quoted_values_keep_spaces_and_doubled_quotes(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, "#Fields: date time c-ip cs(User-Agent) cs(Referer)",
                               '2026-03-13 08:00:00 10.0.0.1 "Agent ""X"" 1.0 (Windows NT)" ""')
    assert not rejects
    assert events[0]["user_agent"] == 'Agent "X" 1.0 (Windows NT)'


def test_field_names_from_the_file_never_reach_the_sql(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, "#Fields: date time c-ip x-evil');drop_table_lines;--",
                               "2026-03-13 08:00:00 10.0.0.1 1")
    assert not rejects and events[0]["src_ip"] == "10.0.0.1"


def test_sniff_wants_a_fields_directive_and_leaves_zeek_alone() -> None:
    zeek = ["#separator \\x09", "#fields\tts\tuid\tid.orig_h", "1300475167.096535\tCXWv6p3arKYeMETxOg\t141.142.220.202"]
    assert sniff(zeek) == 0.0
    assert sniff(["#Fields: date time c-ip", "2026-03-13 08:00:00 10.0.0.1"]) == 1.0


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                              max_size=120), min_size=1, max_size=15))
def test_arbitrary_lines_never_crash_and_are_all_accounted_for(tmp_path: Path, lines: list[str]) -> None:
    _, _, report = parse(tmp_path, PROXYSG_FIELDS, *lines)
    assert report.lines == len(lines) + 1


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.text(alphabet=st.sampled_from(list(' ,"ab-\x01')), max_size=14), min_size=1, max_size=20),
       sep=st.sampled_from([" ", ","]))
def test_pyarrow_quoted_split_reads_values_as_the_sql_macros_do(lines: list[str], sep: str) -> None:
    """W3C and CSV split lines with arrow_ops; PROXY_MACROS' split_quoted/quoted_value define the meaning."""
    connection = open_parse_connection()
    connection.execute(PROXY_MACROS)
    connection.register("t", pa.table({"line": pa.array(lines)}))
    expected = connection.sql(
        f"select list_transform(split_quoted(line, '{sep}'), lambda x: quoted_value(x, '{sep}')) as v, "
        f"list_filter(split_quoted(line, '{sep}'), lambda x: x <> '') as kept from t").to_arrow_table()
    tokens = split_quoted(pa.array(lines), sep)
    values = pa.ListArray.from_arrays(tokens.offsets, quoted_value(tokens.flatten(), sep))
    assert values.to_pylist() == expected.column("v").to_pylist()
    assert without_empty(tokens).to_pylist() == expected.column("kept").to_pylist()
