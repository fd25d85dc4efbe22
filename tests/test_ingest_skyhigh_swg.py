"""Skyhigh Secure Web Gateway (McAfee Web Gateway) access.log: layouts, block_res, syslog headers, rejects, sniffing.

Test lines are written from the documented field lists, not copied from logs:
- the default Access Log rule set (12 values), https://success.skyhighsecurity.com/Skyhigh_Secure_Web_Gateway_(On_Prem)/Monitoring/Logging/Access_log_rule_set
  and the header line MWG writes, https://community.mcafee.com/thread/27946:
  time_stamp "auth_user" src_ip status_code "req_line" "categories" "rep_level" "media_type" bytes_to_client
  "user_agent" "virus_name" "block_res"
- the 14-value layout: the same with bytes_from_client after bytes_to_client and "application_name" last.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.ingest import FORMATS, sniff
from detector.ingest.base import ParseContext, in_file_order, open_parse_connection
from detector.ingest.skyhigh_swg import SHAPE_REASON
from tests.golden import parse_lines

UA = '"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"'


def short(time: str = "20/Nov/2026:09:14:02 +0100", user: str = '"GEMEENTE\\jdevries"', client: str = "10.20.3.14",
          status: str = "200", request: str = '"POST https://chatgpt.com/backend-api/conversation HTTP/1.1"',
          categories: str = '"Generative AI, Business"', media: str = '"application/json"', to_client: str = "4821",
          agent: str = UA, block: str = '"0"') -> str:
    """A line of the 12-value default layout."""
    return (f'[{time}] {user} {client} {status} {request} {categories} "Minimal Risk" {media} {to_client} {agent} '
            f'"" {block}')


def long(from_client: str = "183400", app: str = '"ChatGPT"', block: str = '"0"',
         request: str = '"POST https://chatgpt.com/backend-api/files HTTP/1.1"') -> str:
    """A line of the 14-value layout (bytes_from_client, application_name)."""
    return (f'[29/Nov/2026:14:02:11 +0100] "GEMEENTE\\mdekker" 10.20.5.80 200 {request} "Generative AI" '
            f'"Minimal Risk" "application/json" 734 {from_client} {UA} "" {block} {app}')


def parse(tmp_path: Path, *lines: str) -> tuple[list[dict], list[dict], object]:
    events, rejects, report = parse_lines(tmp_path / "access.log", "skyhigh_swg", lines)
    return events.to_pylist(), rejects.to_pylist(), report


def test_default_layout_reads_every_documented_field(tmp_path: Path) -> None:
    [event], rejects, _ = parse(tmp_path, short())
    assert not rejects
    assert event["ts"].isoformat() == "2026-11-20T08:14:02+00:00"
    assert (event["user_name"], event["src_ip"], event["http_status"]) == ("GEMEENTE\\jdevries", "10.20.3.14", 200)
    assert (event["http_method"], event["host"], event["host_source"]) == ("POST", "chatgpt.com", "url")
    assert (event["network_protocol"], event["url_path"]) == ("https", "/backend-api/conversation")
    assert event["vendor_category"] == "Generative AI, Business"  # a quoted value with a comma and spaces
    assert event["content_type"] == "application/json"
    assert event["user_agent"] == UA.strip('"')
    assert event["bytes_in"] == 4821
    assert event["bytes_out"] is None  # the 12-value layout does not log the upload: never guessed
    assert event["vendor_app"] is None
    assert event["action"] == "allowed"


def test_long_layout_reads_upload_bytes_and_application(tmp_path: Path) -> None:
    [event], rejects, _ = parse(tmp_path, long())
    assert not rejects
    assert (event["bytes_in"], event["bytes_out"], event["vendor_app"]) == (734, 183400, "ChatGPT")
    assert event["user_agent"] == UA.strip('"') and event["url_path"] == "/backend-api/files"


def test_both_layouts_in_one_batch_keep_their_own_columns(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, short(to_client="11"), long(from_client="22"), short(to_client="33"),
                               long(from_client="44", app='"-"'))
    assert not rejects
    assert [e["bytes_in"] for e in events] == [11, 734, 33, 734]
    assert [e["bytes_out"] for e in events] == [None, 22, None, 44]
    assert [e["vendor_app"] for e in events] == [None, "ChatGPT", None, None]
    assert {e["user_agent"] for e in events} == {UA.strip('"')}


def test_block_res_decides_the_action(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, short(block='"0"'), short(status="403", block='"10"'), short(block="14"),
                               short(block="0"), short(block='"-"'), long(block='"81"'))
    assert not rejects
    # 81 (authentication required) is a credentials challenge, no verdict: unknown, as Squid's 407
    assert [e["action"] for e in events] == ["allowed", "blocked", "blocked", "allowed", "unknown", "unknown"]


def test_connect_names_its_target_and_a_relative_url_no_host(tmp_path: Path) -> None:
    tunnel, relative, ported = parse(
        tmp_path, short(request='"CONNECT claude.ai:443 HTTP/1.1"', media='""'),
        short(request='"GET /favicon.ico HTTP/1.1"'),
        short(request='"GET http://Gemini.Google.com:8080/app?x=1 HTTP/1.1"'))[0]
    assert (tunnel["host"], tunnel["dst_port"], tunnel["host_source"]) == ("claude.ai", 443, "connect")
    assert tunnel["http_method"] == "CONNECT" and tunnel["url_path"] is None and tunnel["content_type"] is None
    assert (relative["host"], relative["host_source"], relative["url_path"]) == (None, "none", None)
    assert (ported["host"], ported["dst_port"], ported["url_path"]) == ("gemini.google.com", 8080, "/app")


def test_a_request_line_without_its_target_names_no_host(tmp_path: Path) -> None:
    """`CONNECT HTTP/1.1`: a refused CONNECT (407, block_res 81) logged without its target, as in the log excerpt
    of Skyhigh's "Configure log file Encryption and log field Anonymization" page
    (https://success.skyhighsecurity.com/Skyhigh_Secure_Web_Gateway_(On_Prem)/Best_Practices/Logging_and_Monitoring/Configure_log_file_Encryption_and_log_field_Anonymization).
    The protocol version is no host (it was read as the host `http/1.1`)."""
    bare, get, with_target = parse(
        tmp_path, short(status="407", request='"CONNECT HTTP/1.1"', media='""', block='"81"'),
        short(request='"GET HTTP/1.0"'),
        short(status="407", request='"CONNECT chat.mistral.ai:443 HTTP/1.1"', block='"81"'))[0]
    assert (bare["host"], bare["host_source"], bare["dst_port"]) == (None, "none", None)
    assert (bare["http_method"], bare["http_status"], bare["action"]) == ("CONNECT", 407, "unknown")  # a challenge
    assert (get["host"], get["host_source"], get["url_path"]) == (None, "none", None)
    assert (with_target["host"], with_target["host_source"]) == ("chat.mistral.ai", "connect")


def test_placeholders_are_nulls(tmp_path: Path) -> None:
    dash, empty = parse(tmp_path, short(user='"-"', status="-", to_client="-", media='"-"', categories='"-"'),
                        short(user='""', agent='""', categories='""'))[0]
    assert dash["user_name"] is None and dash["http_status"] is None and dash["bytes_in"] is None
    assert dash["content_type"] is None and dash["vendor_category"] is None
    assert empty["user_name"] is None and empty["user_agent"] is None and empty["vendor_category"] is None


def test_times_are_read_in_their_own_zone(tmp_path: Path) -> None:
    events, _, _ = parse(tmp_path, short(time="01/Jul/2026:00:30:00 +0200"), short(time="31/Dec/2026:23:59:59 -0500"))
    assert [e["ts"].isoformat() for e in events] == ["2026-06-30T22:30:00+00:00", "2027-01-01T04:59:59+00:00"]


def test_syslog_headers_are_taken_off_and_other_messages_ignored(tmp_path: Path) -> None:
    """rsyslog forwarding of the access log (a `mwg` tag), RFC 3164 with and without a PRI and pid, and RFC 5424."""
    events, rejects, report = parse(
        tmp_path,
        f"Nov 20 09:14:02 swg01 mwg: {short()}",
        f"<30>Nov 20 09:14:03 swg01 mwg[2231]: {short(status='403', block='10')}",
        f"<134>1 2026-11-20T08:14:04.120Z swg01 mwg - - - {long()}",
        f"2026-11-20T09:14:05+01:00 swg01 mwg: {short()}",
        "Nov 20 09:14:06 swg01 mwg: Reloading configuration from policy server",
        "<30>Nov 20 09:14:07 swg01 systemd[1]: Started mwg-core.service.",
    )
    assert not rejects
    assert (report.parsed, report.ignored) == (4, 2)
    assert [e["action"] for e in events] == ["allowed", "blocked", "allowed", "allowed"]
    assert events[2]["vendor_app"] == "ChatGPT"
    assert {e["ts"].isoformat() for e in (events[0], events[3])} == {"2026-11-20T08:14:02+00:00"}  # the line's time


def test_header_and_comment_lines_are_ignored(tmp_path: Path) -> None:
    header = ('time_stamp "auth_user" src_ip status_code "req_line" "categories" "rep_level" "media_type" '
              'bytes_to_client "user_agent" "virus_name" "block_res"')
    events, rejects, report = parse(tmp_path, header, "# written by the Log Handler", short())
    assert (len(events), len(rejects), report.ignored) == (1, 0, 2)


def test_broken_lines_are_counted_rejects_with_reasons(tmp_path: Path) -> None:
    lines = [
        short()[:120],  # truncated inside a quoted value
        short(time="32/Nov/2026:09:14:02 +0100"),
        short(status="OK"),
        short(status="2000"),
        short(to_client="12kB"),
        long(from_client="many"),
        short(block='"blocked"'),
        "garbage pasted into the file",
        short() + " extra",
    ]
    events, rejects, report = parse(tmp_path, *lines)
    assert not events and report.rejected == len(lines)
    reasons = [r["reason"] for r in rejects]
    assert reasons[0] == reasons[8] == SHAPE_REASON
    assert reasons[1] == "time is not dd/Mon/yyyy:HH:MM:SS +zzzz: 32/Nov/2026:09:14:02 +0100"
    assert reasons[2] == "status is not an HTTP status code: OK"
    assert reasons[3] == "status is not an HTTP status code: 2000"
    assert reasons[4] == "bytes_to_client is not a whole number of bytes: 12kB"
    assert reasons[5] == "bytes_from_client is not a whole number of bytes: many"
    assert reasons[6] == "block_res is not a number: blocked"
    assert reasons[7].startswith("not a Skyhigh SWG access log line")
    assert rejects[7]["line"] == "garbage pasted into the file"


def test_a_rejected_syslog_line_is_shown_as_written(tmp_path: Path) -> None:
    line = f"Nov 20 09:14:02 swg01 mwg: {short(status='OK')}"
    _, [reject], _ = parse(tmp_path, line)
    assert reject["line"] == line and reject["reason"] == "status is not an HTTP status code: OK"


def test_sniff_recognises_its_lines_bare_and_behind_syslog() -> None:
    assert sniff([short(), long(), short(block="10")]).name == "skyhigh_swg"
    assert sniff([f"Nov 20 09:14:02 swg01 mwg: {short()}", f"<134>1 2026-11-20T08:14:04Z swg01 mwg - - - {long()}"
                  ]).name == "skyhigh_swg"


def test_sniff_leaves_other_formats_alone() -> None:
    """Squid's common/combined CLF lines and the gateway's own CEF/LEEF syslog are not this format's."""
    squid_common = ('10.20.1.15 - jdevries [20/Nov/2026:09:14:02 +0100] "GET https://chatgpt.com/ HTTP/1.1" 200 512 '
                    "TCP_MISS:HIER_DIRECT")
    assert sniff([squid_common]).name == "squid_common"
    leef = ("<30>Nov 20 09:14:02 swg01 mwg: LEEF:1.0|McAfee|Web Gateway|12.2.7|0|devTime=1774857675000|src=10.20.1.15|"
            "usrName=jdevries|dst=104.18.32.47|url=https://chatgpt.com/")
    assert sniff([leef]).name != "skyhigh_swg"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                                  max_size=60),
                          st.sampled_from([short(), long(), short()[:-5], "[", '[20/Nov/2026:09:14:02 +0100] "']),
                          st.builds(lambda a, b: a + b, st.sampled_from([short(), long()]), st.text(max_size=5))),
                min_size=1, max_size=12))
def test_arbitrary_lines_never_crash_and_are_all_accounted_for(tmp_path: Path, lines: list[str]) -> None:
    lines = [line for line in lines if line.strip()] or [short()]
    events, rejects, report = parse_lines(tmp_path / "fuzz.log", "skyhigh_swg", lines)
    assert report.lines == report.parsed + report.rejected + report.ignored
    assert isinstance(events, pa.Table) and report.rejected == rejects.num_rows


def test_a_batch_longer_than_a_slice_keeps_every_line_in_its_place() -> None:
    """Lines are tokenised a slice at a time (proxy_columns.TOKEN_SLICE): values must not shift between slices."""
    count = 40_000
    lines = [long(from_client=str(i)) if i % 3 == 0 else short(to_client=str(i)) for i in range(count)]
    lines[20_000] = "garbage"
    batch = pa.table({"line_no": pa.array(range(1, count + 1), pa.int64()), "line": pa.array(lines)})
    parser = FORMATS["skyhigh_swg"].new_parser(ParseContext("access.log", "UTC", open_parse_connection()))
    result = in_file_order(parser)(batch)
    events = result.events
    assert events.num_rows == count - 1 and result.rejects.column("line_no").to_pylist() == [20_001]
    numbers = [n - 1 for n in events.column("line_no").to_pylist()]
    assert events.column("bytes_out").to_pylist() == [n if n % 3 == 0 else None for n in numbers]
    assert events.column("bytes_in").to_pylist() == [734 if n % 3 == 0 else n for n in numbers]
