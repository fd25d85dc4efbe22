"""Cisco WSA access lines pushed over syslog without the `Info:` prefix are read, from their epoch time.

The appliance's syslog push (AsyncOS user guide, "Log Subscriptions": a log retrieved by Syslog Push) sends each
access-log line as a syslog message; a relay's file or Splunk Connect for Syslog's WSA tests
(https://github.com/splunk/splunk-connect-for-syslog/blob/main/tests/test_cisco_wsa.py: `<13>`, a BSD time, the
host, then the access line) put only a syslog header before it, with or without a tag, where lines written to a
file by the appliance's own syslog carry `... Info: `. The access line's layout is the documented one
(https://www.cisco.com/c/en/us/support/docs/security/secure-web-appliance/225832-understand-secure-web-appliance.html:
`%t %e %a %w/%h %s %2r %A %H %d %D-...`). Lines written here, not copied.
"""

from __future__ import annotations

from pathlib import Path

from detector.ingest import sniff
from tests.golden import parse_lines

ACCESS = ('1773389702.120 30158 10.20.1.15 TCP_MISS/200 188540 CONNECT tunnel://chatgpt.com:443/ '
          '"GEMEENTE\\jdevries@Realm" DIRECT/chatgpt.com - DEFAULT_CASE_12-DefaultGroup-Medewerkers-NONE-NONE-NONE-'
          'DefaultGroup-NONE <"IW_aiml",-,-,"-",-,-,-,-,"-",-,-,-,"-",-,-,"-","-",-,-,"-",-,"-","-","-","ChatGPT",'
          '"-","-","-",0.00,0,-> "Mozilla/5.0" -')
HEADERS = (
    "",                                                          # the appliance's own file
    "<13>Mar 13 09:15:02 wsa01.gemeente.local ",                 # BSD header, no tag (SC4S' tests)
    "Mar 13 09:15:02 wsa01 accesslogs: ",                        # a relay's file: header and tag
    "<134>1 2026-03-13T08:15:02.120Z wsa01 accesslogs - - - ",  # RFC 5424
    "2026-03-13T09:15:02+01:00 10.20.0.7 accesslogs: Info: ",    # an ISO-dated header (starts with a digit), Info:
    "Mar 13 09:15:02 wsa01 accesslogs: Info: ",                  # the prefix read before
)


def test_access_lines_behind_any_syslog_header_are_read_alike(tmp_path: Path) -> None:
    lines = tuple(head + ACCESS for head in HEADERS)
    events, rejects, report = parse_lines(tmp_path / "wsa.log", "cisco_wsa", lines)
    assert rejects.num_rows == 0 and report.parsed == len(lines)
    rows = sorted(events.to_pylist(), key=lambda e: e["line_no"])
    assert {(e["ts"].isoformat(), e["src_ip"], e["user_name"], e["host"], e["http_status"], e["action"],
             e["bytes_in"], e["duration_ms"], e["vendor_category"], e["user_agent"]) for e in rows} == {
        ("2026-03-13T08:15:02.120000+00:00", "10.20.1.15", "GEMEENTE\\jdevries@Realm", "chatgpt.com", 200, "allowed",
         188540, 30158, "IW_aiml", "Mozilla/5.0")}


def test_a_syslog_line_without_an_access_line_is_still_rejected(tmp_path: Path) -> None:
    lines = ("<13>Mar 13 09:15:02 wsa01 1773389702.120 is not an access line",
             "<13>Mar 13 09:15:02 wsa01 proxy restarted",
             "<13>Mar 13 09:15:02 wsa01 " + ACCESS)
    events, rejects, report = parse_lines(tmp_path / "wsa.log", "cisco_wsa", lines)
    assert rejects.column("line_no").to_pylist() == [1, 2]
    assert report.lines == 3 and report.parsed == 1 and report.rejected == 2
    assert events.column("line_no").to_pylist() == [3]


def test_syslog_lines_without_the_prefix_are_sniffed_as_cisco_wsa() -> None:
    assert sniff(["<13>Mar 13 09:15:02 wsa01.gemeente.local " + ACCESS] * 3).name == "cisco_wsa"
