"""ProxySG key=value lines: the values the compiled scan cuts out reach `w3c.columns_of_fields` as they are, not
written as an ELFF line and split again (where a tab or a quote inside a value changed it).

Lines are written from the documented layouts, as in test_ingest_proxysg_kv.py: Splunk's kv format
(https://docs.splunk.com/Documentation/AddOns/latest/BlueCoatProxySG/About: space-separated pairs, values with
spaces in double quotes) and QRadar's custom format
(https://www.ibm.com/docs/en/dsm?topic=sg-creating-extra-custom-format-key-value-pairs: `|`-separated pairs,
values taken as written).
"""

from __future__ import annotations

from pathlib import Path

from tests.test_ingest_proxysg_kv import HEAD, QRADAR, SPLUNK, parse


def test_a_tab_inside_a_quoted_value_stays_in_the_value(tmp_path: Path) -> None:
    line = SPLUNK.replace('cs-User-Agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64)"', 'cs-User-Agent="Agent\t1.0 x"')
    events, rejects, _ = parse(tmp_path, line)
    assert not rejects
    assert events[0]["user_agent"] == "Agent\t1.0 x"


def test_a_qradar_value_in_double_quotes_is_taken_as_written(tmp_path: Path) -> None:
    line = QRADAR.replace("cs(User-Agent)=Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101",
                          'cs(User-Agent)="Quoted Agent"')
    events, rejects, _ = parse(tmp_path, line)
    assert not rejects
    assert events[0]["user_agent"] == '"Quoted Agent"'


def test_byte_counts_are_trimmed_and_placeholders_are_no_count(tmp_path: Path) -> None:
    spaced = SPLUNK.replace("cs-bytes=1893", 'cs-bytes=" 1893 "').replace("sc-bytes=48211", "sc-bytes=-")
    odd = SPLUNK.replace("cs-bytes=1893", "cs-bytes=+17").replace("sc-bytes=48211", "sc-bytes=12kB")
    events, rejects, _ = parse(tmp_path, spaced, odd, SPLUNK)
    assert not rejects
    assert [(e["bytes_out"], e["bytes_in"]) for e in events] == [(1893, None), (17, None), (1893, 48211)]


def test_a_date_pair_without_a_time_pair_takes_the_time_of_the_syslog_header(tmp_path: Path) -> None:
    dated = SPLUNK.replace("SPLV5.1 ", "SPLV5.1 date=2026-10-31 ")
    timed = SPLUNK.replace("SPLV5.1 ", "SPLV5.1 time=23:00:00 ")
    both = SPLUNK.replace("SPLV5.1 ", "SPLV5.1 date=2026-10-30 time=12:00:00 ")
    events, rejects, _ = parse(tmp_path, dated, timed, both, SPLUNK.replace(HEAD, HEAD.replace("08:15:04", "08:15:05")))
    assert not rejects
    assert [str(e["ts"]) for e in events] == ["2026-10-31 08:15:04+00:00", "2026-11-02 23:00:00+00:00",
                                              "2026-10-30 12:00:00+00:00", "2026-11-02 08:15:05+00:00"]
