"""ProxySG access logs without #Fields: layouts told by their number of values, syslog headers, rejects.

Test lines are written from the documented field lists, not copied from logs:
- `main`: Broadcom's default formats, https://techdocs.broadcom.com/us/en/symantec-security-software/web-and-network-security/edge-swg/7-3/getting-started/page-help-administration/page-help-logging/log-formats/default-formats.html
  and Elastic's reading of it, https://github.com/elastic/integrations/blob/main/packages/proxysg/data_stream/log/elasticsearch/ingest_pipeline/main.yml
- `bcreportermain_v1`: https://github.com/elastic/integrations/blob/main/packages/proxysg/data_stream/log/elasticsearch/ingest_pipeline/bcreportermain_v1.yml
  (42 values, and the double spaces the appliance writes) and the Splunk add-on's layout
  (https://docs.splunk.com/Documentation/AddOns/latest/BlueCoatProxySG/About, 27 values);
- syslog: Broadcom KB 166529 (https://knowledge.broadcom.com/external/article/166529/sending-access-logs-to-a-syslog-server.html).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.ingest import FORMATS, sniff
from detector.ingest.arrow_ops import split_quoted, without_empty
from detector.ingest.pipeline import FileReport, parse_file
from detector.ingest.proxysg import COUNT_SLICE, LAYOUTS, counted_in_slices, value_counts
from tests.golden import golden_settings

UA = '"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"'
# main: date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme cs-host cs-uri-port
# cs-uri-path cs-uri-query cs-username cs-auth-group s-supplier-name rs(Content-Type) cs(Referer) cs(User-Agent)
# sc-filter-result cs-categories x-virus-id s-ip
MAIN = ("2026-11-02 08:15:04 312 10.20.1.15 200 TCP_NC_MISS 48211 1893 POST https chatgpt.com 443 "
        f"/backend-api/conversation ?x=1 GEMEENTE\\jdevries Staff chatgpt.com application/json - {UA} OBSERVED "
        '"Artificial Intelligence;Technology/Internet" - 10.0.0.5')
# main with s-hierarchy before s-supplier-name (SGOS 6.5 and before)
MAIN_HIERARCHY = ("2026-11-02 08:15:05 20 10.20.1.16 200 TCP_NC_MISS 900 300 GET http www.example.org 80 / - - - "
                  'DIRECT www.example.org text/html - "curl/8.5.0" PROXIED "News" - 10.0.0.5')
# main of SGOS 3 to 5, 26 values: date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method
# cs-uri-scheme cs-host cs-uri-path cs-uri-query cs-username s-hierarchy s-supplier-name rs(Content-Type)
# cs(User-Agent) sc-filter-result sc-filter-category x-virus-id s-ip s-sitename x-virus-details x-icap-error-code
# x-icap-error-details (the SGOS 3.2 `#Fields:` line quoted in Splunk's and ELFF parsers' documentation)
SGOS5 = ("2026-11-04 07:30:01 120 10.20.5.7 200 TCP_NC_MISS 5120 880 POST http www.perplexity.ai /search ?q=x "
         'GEMEENTE\\mjansen DIRECT www.perplexity.ai text/html "Mozilla/4.0 (compatible; MSIE 8.0)" PROXIED '
         '"Artificial Intelligence" - 10.0.0.7 SG-HTTP-Service - none -')
# main with s-hierarchy, then r-ip cs(User-Agent) x-rs-certificate-signature-algorithm after s-ip, 27 values (the
# on-premises layout of Elastic's ProxySG tests, packages/proxysg/data_stream/log/_dev/test/pipeline/proxy-onprem.log)
MAIN_SERVER = ("2026-11-04 07:31:02 48 10.20.5.8 302 TCP_NC_MISS 1242 969 GET https chat.mistral.ai 443 /chat ?id=1 "
               'GEMEENTE\\kvisser - - chat.mistral.ai - https://chat.mistral.ai/ OBSERVED "Artificial Intelligence" - '
               f'10.0.0.7 104.18.20.1 {UA} sha256WithRSAEncryption')
# bcreportermain_v1, 27 values: date time time-taken c-ip cs-username cs-auth-group x-exception-id sc-filter-result
# cs-categories cs(Referer) sc-status s-action cs-method rs(Content-Type) cs-uri-scheme cs-host cs-uri-port
# cs-uri-path cs-uri-query cs-uri-extension cs(User-Agent) s-ip sc-bytes cs-bytes x-virus-id
# x-bluecoat-application-name x-bluecoat-application-operation
REPORTER = ('2026-11-03 13:02:11 140 10.30.2.41 GEMEENTE\\sv - - OBSERVED "Artificial Intelligence" - 200 TCP_NC_MISS '
            f'POST application/json https chatgpt.com 443 /backend-api/files - - {UA} 10.0.0.6 1240 5242880 - '
            '"ChatGPT" "Upload Files"')
# ... with s-supplier-name s-supplier-ip s-supplier-country s-supplier-failures after cs-auth-group, and
# cs-threat-risk last: 32 values
SUPPLIERS = ('2026-11-03 13:02:12 24 10.30.2.42 - - claude.ai 160.79.104.10 US - - OBSERVED "Artificial Intelligence" '
             f'- 200 TCP_NC_MISS GET text/html https claude.ai 443 /new - - {UA} 10.0.0.6 733 420 - "Claude" "Chat" 2')
# ... and Edge SWG 7.3's 42: cs-threat-source cs-threat-id rs-threat-source rs-threat-id after x-virus-id, then
# x-bluecoat-application-groups cs-threat-risk x-bluecoat-access-security-policy-action/-reason
# x-bluecoat-transaction-uuid and the two ICAP metadata headers
EDGE = ('2026-11-03 13:02:13 88 10.30.2.43 GEMEENTE\\bs ICT gemini.google.com 142.250.179.206 US - - OBSERVED '
        '"Artificial Intelligence" - 200 TCP_NC_MISS POST application/json https gemini.google.com 443 /app ?hl=nl - '
        f'{UA} 10.0.0.6 8812 2401 - - - - - "Gemini" "Chat" "AI Assistants" 2 - - 35d24c931c0e0f0d - -')
# bcreporterssl_v1 (40 values, no request): https://github.com/elastic/integrations/blob/main/packages/proxysg/data_stream/log/elasticsearch/ingest_pipeline/bcreporterssl_v1.yml
SSL = ('2026-11-03 13:02:14 5 10.30.2.44 - - chatgpt.com 104.18.32.47 US - - OBSERVED "Artificial Intelligence" 200 '
       'TCP_NC_MISS CONNECT - ssl chatgpt.com 443 - - 10.0.0.6 100 200 - - - - - - - - 256 chatgpt.com '
       '"Artificial Intelligence" 2 2 - -')


def parse(tmp_path: Path, *lines: str) -> tuple[list[dict[str, object]], list[dict[str, object]], FileReport]:
    path = tmp_path / "proxysg-access.log"
    path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS["proxysg"], golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist(), report


def test_the_documented_layouts_have_their_documented_lengths() -> None:
    assert [len(layout.fields) for layout in LAYOUTS] == [24, 25, 27, 32, 42, 26, 27, 25]
    assert len(SSL.replace('"Artificial Intelligence"', "x").split()) == 40


def test_each_layout_is_told_by_its_number_of_values(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, MAIN, MAIN_HIERARCHY, REPORTER, SUPPLIERS, EDGE)
    assert not rejects
    assert [e["host"] for e in events] == ["chatgpt.com", "www.example.org", "chatgpt.com", "claude.ai",
                                           "gemini.google.com"]
    assert [e["line_no"] for e in events] == [1, 2, 3, 4, 5]
    main, hierarchy, reporter, suppliers, edge = events
    assert (main["bytes_in"], main["bytes_out"], main["duration_ms"]) == (48211, 1893, 312)
    assert main["user_name"] == "GEMEENTE\\jdevries" and main["http_status"] == 200
    assert main["url_path"] == "/backend-api/conversation" and main["content_type"] == "application/json"
    assert hierarchy["user_agent"] == "curl/8.5.0" and hierarchy["vendor_category"] == "News"
    assert (reporter["bytes_in"], reporter["bytes_out"]) == (1240, 5242880)  # an upload: cs-bytes
    assert [e.get("vendor_app") for e in events] == [None, None, "ChatGPT", "Claude", "Gemini"]
    # s-ip is the appliance; s-supplier-ip the server it went to
    assert [e.get("dst_ip") for e in events] == [None, None, None, "160.79.104.10", "142.250.179.206"]
    assert edge["user_name"] == "GEMEENTE\\bs" and edge["url_path"] == "/app" and suppliers["http_method"] == "GET"


def test_sgos5_main_is_read_by_its_26_values(tmp_path: Path) -> None:
    """SGOS 3 to 5 write `main` without a port, referer or auth group and with the ICAP fields at the end; such
    lines, bare or relayed, were rejected as of no layout."""
    denied = SGOS5.replace("200 TCP_NC_MISS", "403 TCP_DENIED").replace("PROXIED", "DENIED")
    events, rejects, _ = parse(tmp_path, SGOS5, "<134>Nov  4 08:30:01 10.0.0.7 " + denied)
    assert not rejects
    first = events[0]
    assert (first["host"], first["url_path"], first["user_name"]) == ("www.perplexity.ai", "/search",
                                                                      "GEMEENTE\\mjansen")
    assert (first["bytes_in"], first["bytes_out"], first["http_status"]) == (5120, 880, 200)
    assert first["vendor_category"] == "Artificial Intelligence" and first["user_agent"].startswith("Mozilla/4.0")
    assert [e["action"] for e in events] == ["allowed", "blocked"]
    assert FORMATS["proxysg"].sniff([SGOS5, denied]) == 1.0


def test_25_values_are_read_as_main_or_bcreportermain_v1_by_their_shape(tmp_path: Path) -> None:
    """bcreportermain_v1 of SGOS before the application fields (25 values, ending at x-virus-id, seen relayed over
    syslog in public Blue Coat parser fixtures) has the count of main with s-hierarchy: it was read as main (user
    `http`, host `200`)."""
    old_reporter = REPORTER.removesuffix(' "ChatGPT" "Upload Files"')
    assert value_counts(pa.array([old_reporter])).tolist() == [25]
    for lines in ([MAIN_HIERARCHY] * 70 + [old_reporter], [old_reporter] * 3,
                  ["<13>Sep 10 17:56:41 relay1  10.0.0.9 2026-11-03T13:02:11+01:00 lb1.gemeente.local " + old_reporter]):
        events, rejects, report = parse(tmp_path, *lines)
        assert report.parsed == len(lines) and not rejects
        event = events[-1]
        assert (event["host"], event["user_name"], event["http_status"]) == ("chatgpt.com", "GEMEENTE\\sv", 200)
        assert (event["bytes_in"], event["bytes_out"], event.get("vendor_app")) == (1240, 5242880, None)
        assert [e["host"] for e in events[:-1]] == ["www.example.org" if line is MAIN_HIERARCHY else "chatgpt.com"
                                                    for line in lines[:-1]]
    assert sniff([old_reporter, old_reporter]).name == "proxysg"


def test_27_values_are_read_as_main_or_bcreportermain_v1_by_their_shape(tmp_path: Path) -> None:
    """bcreportermain_v1 and main with r-ip and the server certificate both have 27 values: a status and an
    s-action code as 5th and 6th values make a line main, line by line, whichever layout a batch mostly holds."""
    for lines in ([MAIN_SERVER] * 70 + [REPORTER, MAIN_SERVER], [REPORTER] * 70 + [MAIN_SERVER, REPORTER],
                  [MAIN] * 70 + [MAIN_SERVER, REPORTER], [MAIN_SERVER] * 3, [REPORTER] * 3):
        path = tmp_path / "proxysg-access.log"
        path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
        settings = dataclasses.replace(golden_settings(), batch_lines=1000)
        events, rejects, report = parse_file(path, FORMATS["proxysg"], settings)
        assert report.parsed == len(lines) and not rejects.num_rows
        by_line = {e["line_no"]: e for e in events.to_pylist()}
        for number, line in enumerate(lines, 1):
            event = by_line[number]
            if line is MAIN_SERVER:
                assert (event["host"], event["user_name"], event["http_status"]) == ("chat.mistral.ai",
                                                                                     "GEMEENTE\\kvisser", 302)
                assert (event["dst_ip"], event["bytes_in"], event["bytes_out"]) == ("104.18.20.1", 1242, 969)
                assert event["user_agent"] == UA.strip('"')
            elif line is REPORTER:
                assert (event["host"], event["user_name"], event["vendor_app"]) == ("chatgpt.com", "GEMEENTE\\sv",
                                                                                    "ChatGPT")
    assert sniff(["<13>1 2026-11-04T07:31:02+00:00 sg1 ProxySG - - - " + MAIN_SERVER] * 2).name == "proxysg"


def test_times_are_the_lines_own_utc_date_and_time(tmp_path: Path) -> None:
    events, _, _ = parse(tmp_path, "Nov  2 09:15:04 proxysg01 " + MAIN)  # the header's local time is not used
    assert events[0]["ts"].isoformat() == "2026-11-02T08:15:04+00:00"  # golden zone is Europe/Amsterdam


def test_quoted_values_with_spaces_stay_whole(tmp_path: Path) -> None:
    quoted = MAIN.replace(UA, '"Mozilla/5.0 (compatible; ""Edge"" x) - 1 2 3"')
    events, rejects, _ = parse(tmp_path, quoted)
    assert not rejects
    assert events[0]["user_agent"] == 'Mozilla/5.0 (compatible; "Edge" x) - 1 2 3'
    assert events[0]["vendor_category"] == "Artificial Intelligence;Technology/Internet"


def test_double_spaces_between_values_separate_one_pair(tmp_path: Path) -> None:
    padded = REPORTER.replace(" - 200 ", "  -  200 ").replace("10.30.2.41 ", "10.30.2.41  ")
    events, rejects, _ = parse(tmp_path, padded)
    assert not rejects
    assert events[0]["http_status"] == 200 and events[0]["user_name"] == "GEMEENTE\\sv"


def test_denials_are_blocked(tmp_path: Path) -> None:
    denied = MAIN.replace("200 TCP_NC_MISS", "403 TCP_DENIED").replace("OBSERVED", "DENIED")
    filter_only = MAIN.replace("OBSERVED", "DENIED")  # sc-filter-result DENIED alone
    action_only = REPORTER.replace("TCP_NC_MISS", "TCP_DENIED")
    events, _, _ = parse(tmp_path, MAIN, denied, filter_only, action_only)
    assert [e["action"] for e in events] == ["allowed", "blocked", "blocked", "blocked"]


def test_connect_names_its_target_and_no_path(tmp_path: Path) -> None:
    connect = ('2026-11-02 08:15:06 20411 10.20.1.15 200 TCP_TUNNELED 7340 1544 CONNECT tcp claude.ai 443 / - - - '
               'claude.ai - - "-" OBSERVED "Artificial Intelligence" - 10.0.0.5')
    events, _, _ = parse(tmp_path, connect)
    assert events[0]["host"] == "claude.ai" and events[0]["host_source"] == "connect"
    assert events[0]["dst_port"] == 443 and events[0].get("url_path") is None and events[0].get("user_agent") is None


@pytest.mark.parametrize("header", [
    "Nov  2 09:15:04 proxysg01 ",  # the appliance's own syslog client: time and host
    "<134>Nov  2 09:15:04 proxysg01 ",
    "<134> Nov  2 09:15:04 proxysg01 bluecoat: ",
    "<134>1 2026-11-02T09:15:04+01:00 proxysg01 ProxySG - - - ",  # RFC 5424
    "2026-11-02T09:15:04+01:00 proxysg01 ProxySG[12]: ",  # rsyslog's ISO file format
    "Nov  2 2026 09:15:04 relay 10.0.0.5 ",
])
def test_syslog_headers_are_taken_off(tmp_path: Path, header: str) -> None:
    assert FORMATS["proxysg"].sniff([header + MAIN, header + REPORTER]) == 1.0
    events, rejects, report = parse(tmp_path, header + "#Software: SGOS 7.3.1.1", header + MAIN, header + EDGE)
    assert not rejects and report.ignored == 1
    assert [e["host"] for e in events] == ["chatgpt.com", "gemini.google.com"]


def test_other_counts_are_rejects_that_say_why(tmp_path: Path) -> None:
    short = MAIN.rsplit(" ", 2)[0]
    header = "Nov  2 09:15:04 proxysg01 "
    events, rejects, report = parse(tmp_path, MAIN, short, SSL, header + "restarting access log", "")
    assert len(events) == 1 and report.rejected == 3
    reasons = {r["line_no"]: r["reason"] for r in rejects}
    assert reasons[2].startswith("22 values: not a ProxySG access-log layout without #Fields")
    assert reasons[3].startswith("40 values:") and "bcreporterssl_v1" in reasons[3]
    assert reasons[4].startswith("not a ProxySG access-log line: no date and time")
    assert [r["line"] for r in rejects if r["line_no"] == 4] == [header + "restarting access log"]  # as written


def test_a_bad_date_is_a_reject(tmp_path: Path) -> None:
    _, rejects, _ = parse(tmp_path, MAIN.replace("2026-11-02", "2026-11-31"))
    assert rejects[0]["reason"] == "date/time not understood: 2026-11-31 08:15:04"


def test_sniffing_takes_headerless_lines_and_leaves_w3c_files_to_w3c() -> None:
    assert sniff([MAIN, MAIN_HIERARCHY, REPORTER]).name == "proxysg"
    assert sniff(["<134>Nov  3 14:02:11 proxysg02 " + SUPPLIERS] * 2).name == "proxysg"
    fields = "#Fields: " + " ".join(LAYOUTS[0].fields)
    assert FORMATS["proxysg"].sniff([fields, MAIN]) == 0.0
    assert sniff(["#Software: SGOS 7.3", fields, MAIN]).name == "w3c"
    relayed = "Aug 18 12:30:46 10.8.24.10 "  # a W3C log relayed through syslog, #Fields and all
    assert FORMATS["proxysg"].sniff([relayed + fields, relayed + MAIN]) == 0.0
    assert sniff([relayed + "#Software: SGOS 7.3", relayed + fields, relayed + MAIN]).name == "w3c"
    # the right count but not its shape: no status and s-action where main has them
    assert FORMATS["proxysg"].sniff([MAIN.replace("200 TCP_NC_MISS", "GET /x")]) == 0.0


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.text(alphabet=st.sampled_from(list(' "ab-')), max_size=16), min_size=1, max_size=20))
def test_value_counts_match_the_quote_aware_split(lines: list[str]) -> None:
    """Runs of spaces outside quotes separate values, as w3c's split of padded lines reads them."""
    text = pa.array(lines)
    balanced = [line.count('"') % 2 == 0 for line in lines]
    expected = pc.list_value_length(without_empty(split_quoted(pc.utf8_trim(text, " "), " "))).to_pylist()
    counted = value_counts(text).tolist()
    assert [c for c, ok in zip(counted, balanced, strict=True) if ok] == \
        [e for e, ok in zip(expected, balanced, strict=True) if ok]


@settings(max_examples=80, deadline=None)
@given(lines=st.lists(st.text(alphabet=st.sampled_from(list(' "ab-\u00e9')), max_size=30), min_size=1, max_size=40),
       cut=st.tuples(st.integers(0, 40), st.integers(0, 40)))
def test_value_counts_of_a_slice_are_each_lines_alone(lines: list[str], cut: tuple[int, int]) -> None:
    """Separators are counted eight bytes at a time: a line's count does not depend on where its bytes fall in
    the words (its neighbours, the slice's offset), odd numbers of quotes and empty lines included."""
    start = min(cut[0], len(lines))
    text = pa.array(lines).slice(start, cut[1])
    alone = [int(value_counts(pa.array([line]))[0]) for line in text.to_pylist()]
    assert value_counts(text).tolist() == alone


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                              max_size=120), min_size=1, max_size=12))
def test_arbitrary_lines_never_crash_and_are_all_accounted_for(tmp_path: Path, lines: list[str]) -> None:
    parse(tmp_path, MAIN, *lines)


def test_an_exception_naming_a_denial_is_blocked(tmp_path: Path) -> None:
    """x-exception-id `policy_denied` / `content_filter_denied` (bcreportermain_v1) blocks even where the other
    fields say otherwise; another exception, or the text elsewhere in the line, does not."""
    policy = REPORTER.replace(" - - OBSERVED ", " - policy_denied OBSERVED ")
    content = EDGE.replace(" US - - OBSERVED ", " US - content_filter_denied OBSERVED ")
    other = REPORTER.replace(" - - OBSERVED ", " - tcp_error OBSERVED ")
    elsewhere = REPORTER.replace("/backend-api/files -", "/backend-api/files policy_denied")  # cs-uri-query
    events, rejects, _ = parse(tmp_path, policy, content, other, elsewhere, REPORTER)
    assert not rejects
    assert [e["action"] for e in events] == ["blocked", "blocked", "allowed", "allowed", "allowed"]


def test_a_batch_read_as_its_usual_layout_still_reads_the_odd_lines_by_theirs(tmp_path: Path) -> None:
    """A batch is read as the layout of most of its first lines; lines of other layouts later in it are read
    by theirs, lines of no layout rejected, and events come out in line order."""
    padded = REPORTER.replace(" - 200 ", "  -  200 ")
    lines = [MAIN] * 70 + [EDGE, MAIN_HIERARCHY, MAIN.rsplit(" ", 1)[0], padded, SUPPLIERS] + [MAIN] * 5
    path = tmp_path / "proxysg-access.log"
    path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
    settings = dataclasses.replace(golden_settings(), batch_lines=1000)
    events, rejects, report = parse_file(path, FORMATS["proxysg"], settings)
    assert report.lines == report.parsed + report.rejected + report.ignored == len(lines)
    assert [r["line_no"] for r in rejects.to_pylist()] == [73]
    assert rejects.to_pylist()[0]["reason"].startswith("23 values: not a ProxySG access-log layout")
    rows = events.to_pylist()
    assert [e["line_no"] for e in rows] == [n for n in range(1, len(lines) + 1) if n != 73]
    assert [rows[n]["host"] for n in (70, 71, 72, 73)] == ["gemini.google.com", "www.example.org", "chatgpt.com",
                                                           "claude.ai"]


def test_a_batch_of_two_layouts_line_by_line_reads_each_line_by_its_own(tmp_path: Path) -> None:
    """A relay that mixes layouts line by line (SC4S' ProxySG tests send 32- and 42-value bcreportermain_v1 lines
    alike) gives a batch no layout three quarters of whose first lines have: each line is read by its count, the
    events come out in line order and as each line alone gives them, a line of no layout is rejected."""
    denied = SUPPLIERS.replace(" US - - OBSERVED ", " US - policy_denied OBSERVED ")
    lines = [SUPPLIERS, EDGE, denied, EDGE.replace(" 443 ", "  443 ")] * 30 + [MAIN.rsplit(" ", 1)[0], SUPPLIERS]
    path = tmp_path / "proxysg-access.log"
    path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
    settings = dataclasses.replace(golden_settings(), batch_lines=1000)
    events, rejects, report = parse_file(path, FORMATS["proxysg"], settings)
    assert report.lines == report.parsed + report.rejected + report.ignored == len(lines)
    assert [r["line_no"] for r in rejects.to_pylist()] == [121]
    rows = events.to_pylist()
    assert [e["line_no"] for e in rows] == [n for n in range(1, len(lines) + 1) if n != 121]
    alone = [parse(tmp_path, line)[0][0] for line in lines[:4]]
    for row in rows[:120]:
        expected = alone[(row["line_no"] - 1) % 4]
        assert {k: v for k, v in row.items() if k != "line_no"} == {k: v for k, v in expected.items()
                                                                   if k != "line_no"}
    assert [e["action"] for e in rows[:4]] == ["allowed", "allowed", "blocked", "allowed"]
    assert [e["host"] for e in rows[:2]] == ["claude.ai", "gemini.google.com"]


def test_counts_in_slices_are_each_lines_own() -> None:
    """Lines counted a slice at a time give each line the count of the whole batch's counting, a line of an odd
    number of quotes included (that slice then takes the slower counting)."""
    lines = [MAIN, REPORTER, EDGE.replace(" 443 ", "  443 "), 'a "b c', "", " x  y "] * (COUNT_SLICE // 3)
    text = pa.array(lines)
    assert counted_in_slices(text).tolist() == value_counts(text).tolist()
    assert counted_in_slices(text.slice(5, COUNT_SLICE + 7)).tolist() == value_counts(text.slice(5, COUNT_SLICE + 7)).tolist()
