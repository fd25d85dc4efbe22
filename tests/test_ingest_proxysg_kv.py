"""ProxySG access logs as key=value pairs: Splunk's `bluecoat:proxysg:access:kv` and QRadar's `Bluecoat|` layout.

Test lines are written from the documented format strings, not copied from logs:
- Splunk Add-on for Symantec Blue Coat ProxySG, kv format (`SPLV5.1 c-ip=$(c-ip) ...`):
  https://docs.splunk.com/Documentation/AddOns/latest/BlueCoatProxySG/About and SC4S' test of it,
  https://github.com/splunk/splunk-connect-for-syslog/blob/main/tests/test_bluecoatproxySG.py (a syslog header,
  then `bluecoat[0]: SPLV5.1 key=value ...`, quoted values with spaces);
- IBM QRadar DSM guide, Blue Coat SG custom event format (`Bluecoat|src=$(c-ip)|srcport=$(c-port)|...|
  devicetime=$(gmttime)|...`): https://www.ibm.com/docs/en/dsm?topic=sg-creating-extra-custom-format-key-value-pairs
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.ingest import FORMATS, proxysg_kv, sniff
from detector.ingest.pipeline import FileReport, parse_file
from detector.ingest.syslog import SyslogHeaders
from tests.golden import SAMPLES, golden_settings

HEAD = "<134>1 2026-11-02T08:15:04.000Z sgproxy01 bluecoat[0]: "
SPLUNK = (HEAD + 'SPLV5.1 c-ip=10.20.1.15 cs-bytes=1893 cs-categories="Artificial Intelligence" cs-host=chatgpt.com '
          'cs-method=POST cs-uri-path=/backend-api/conversation cs-uri-port=443 cs-uri-scheme=https '
          'cs-User-Agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64)" cs-username=jdevries '
          'serveripservice.name="Explicit HTTP" rs_Content_Type=text/event-stream s-action=TCP_NC_MISS '
          "sc-bytes=48211 sc-filter-result=OBSERVED sc-status=200 time-taken=312")
QRADAR = ("Bluecoat|src=10.20.2.15|srcport=53148|dst=142.250.179.206|dstport=443|username=mbakker|"
          "devicetime=[02/Nov/2026:08:20:12 GMT]|s-action=TCP_TUNNELED|sc-status=200|cs-method=CONNECT|"
          "time-taken=8311|sc-bytes=586|cs-bytes=1720|cs-uri-scheme=tcp|cs-host=gemini.google.com|cs-uri-path=/|"
          "cs-uri-query=-|cs-uri-extension=-|cs-auth-group=-|rs(Content-Type)=-|"
          "cs(User-Agent)=Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101|cs(Referer)=-|sc-filter-result=OBSERVED|"
          "filter-category=Artificial Intelligence|cs-uri=tcp://gemini.google.com:443/")


def parse(tmp_path: Path, *lines: str) -> tuple[list[dict[str, object]], list[dict[str, object]], FileReport]:
    path = tmp_path / "proxysg-kv.log"
    path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS["proxysg_kv"], golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist(), report


def test_splunk_kv_pairs_are_read_as_elff_fields(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, SPLUNK)
    assert not rejects
    (event,) = events
    assert (event["src_ip"], event["host"], event["url_path"], event["dst_port"]) == (
        "10.20.1.15", "chatgpt.com", "/backend-api/conversation", 443)
    assert (event["bytes_out"], event["bytes_in"], event["duration_ms"], event["http_status"]) == (1893, 48211, 312, 200)
    assert event["user_agent"] == "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"  # quoted, spaces and all
    assert event["vendor_category"] == "Artificial Intelligence"
    assert event["content_type"] == "text/event-stream"  # rs_Content_Type read as rs(Content-Type)
    assert event["action"] == "allowed" and event["http_method"] == "POST"
    assert str(event["ts"]) == "2026-11-02 08:15:04+00:00"  # the syslog header's time: no date=/time= pairs


def test_date_and_time_pairs_win_over_the_syslog_header(tmp_path: Path) -> None:
    line = SPLUNK.replace("SPLV5.1 ", "SPLV5.1 date=2026-11-01 time=23:59:58 ")
    events, _, _ = parse(tmp_path, line, line.replace(HEAD, ""))
    assert [str(e["ts"]) for e in events] == ["2026-11-01 23:59:58+00:00"] * 2


def test_qradar_pipe_pairs_keep_spaces_and_read_devicetime(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, QRADAR)
    assert not rejects
    (event,) = events
    assert (event["src_ip"], event["host"], event["dst_ip"], event["dst_port"]) == (
        "10.20.2.15", "gemini.google.com", "142.250.179.206", 443)
    assert event["host_source"] == "connect" and event["user_name"] == "mbakker"
    assert event["user_agent"] == "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101"
    assert event["vendor_category"] == "Artificial Intelligence"
    assert str(event["ts"]) == "2026-11-02 08:20:12+00:00"


def test_qradar_without_devicetime_takes_the_syslog_header_time(tmp_path: Path) -> None:
    line = "<13>2026-11-02T09:00:01Z sgproxy01 " + QRADAR.replace("[02/Nov/2026:08:20:12 GMT]", "-")
    numeric = QRADAR.replace("02/Nov/2026", "03/11/2026")  # $(gmttime) with the month as a number
    events, rejects, _ = parse(tmp_path, line, numeric)
    assert not rejects
    assert [str(e["ts"]) for e in events] == ["2026-11-02 09:00:01+00:00", "2026-11-03 08:20:12+00:00"]


def test_each_syslog_header_is_read_once_per_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines without a time of their own take their syslog header's; a header read for an earlier batch (here: an
    earlier slice of one) is not read again, a new one is."""
    untimed = QRADAR.replace("[02/Nov/2026:08:20:12 GMT]", "-")
    first, second = "<13>2026-11-02T09:00:01Z sgproxy01 ", "<13>2026-11-02T09:00:02Z sgproxy01 "
    reads: list[list[str]] = []
    read = SyslogHeaders.read

    def counted(self: SyslogHeaders, connection: object, lines: pa.Table) -> pa.Table:
        reads.append(lines.column("line").to_pylist())
        return read(self, connection, lines)

    monkeypatch.setattr(SyslogHeaders, "read", counted)
    monkeypatch.setattr(proxysg_kv, "SLICE_LINES", 2)
    heads = [first, first, first, second, second, first]
    events, rejects, _ = parse(tmp_path, *(head + untimed for head in heads))
    assert not rejects
    assert [str(e["ts"]) for e in events] == [f"2026-11-02 09:00:0{1 + (head == second)}+00:00" for head in heads]
    assert len(reads) == 2 and [len(lines) for lines in reads] == [1, 1]  # slice 1: the first; slice 2: the second


def test_denials_are_blocked(tmp_path: Path) -> None:
    denied = SPLUNK.replace("s-action=TCP_NC_MISS", "s-action=TCP_DENIED").replace(
        "sc-filter-result=OBSERVED", "sc-filter-result=DENIED")
    by_exception = SPLUNK + " x-exception-id=policy_denied"
    events, _, _ = parse(tmp_path, denied, by_exception, SPLUNK)
    assert [e["action"] for e in events] == ["blocked", "blocked", "allowed"]


def test_lines_that_are_not_proxysg_pairs_or_lack_a_time_are_counted_rejects(tmp_path: Path) -> None:
    events, rejects, report = parse(
        tmp_path, SPLUNK, "date=2026-11-02 time=08:00:00 devname=fw01 srcip=10.0.0.1 dstip=10.0.0.2",
        SPLUNK.replace(HEAD, ""), SPLUNK.replace("SPLV5.1 ", "SPLV5.1 date=2026-13-45 time=08:00:00 "), "")
    assert len(events) == 1 and report.rejected == 3
    reasons = [r["reason"] for r in rejects]
    assert reasons[0].startswith("not a ProxySG key=value access-log line")
    assert reasons[1].startswith("no time:")
    assert "not understood" in reasons[2]
    assert rejects[1]["line"] == SPLUNK.replace(HEAD, "")  # shown as written


def test_sniffing_takes_kv_files_and_leaves_other_kv_formats_alone() -> None:
    assert sniff([SPLUNK, QRADAR]).name == "proxysg_kv"
    for name in ("fortigate", "sonicwall", "cef", "leef", "zscaler_kv", "proxysg", "w3c"):
        for sample in sorted((SAMPLES / name).glob("*.log")):
            lines = [line for line in sample.read_text(encoding="utf-8", errors="replace").splitlines()[:50] if line]
            if lines:
                assert FORMATS["proxysg_kv"].sniff(lines) < 0.5, sample


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet='ab =|"[]:-.<>1 c-ip=cs-host=Bluecoat|src=SPLV5.1', max_size=60), max_size=8))
def test_arbitrary_lines_never_crash_and_are_all_accounted_for(tmp_path: Path, lines: list[str]) -> None:
    lines = [line.replace("\r", "") for line in lines]
    parse(tmp_path, *lines)


@pytest.mark.parametrize("line", [SPLUNK, QRADAR])
def test_a_line_with_trailing_spaces_still_parses(tmp_path: Path, line: str) -> None:
    events, rejects, _ = parse(tmp_path, line + "  ")
    assert len(events) == 1 and not rejects


def test_a_batch_parsed_in_slices_gives_the_same_outcomes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [SPLUNK, QRADAR, "not a pair", SPLUNK.replace(HEAD, ""), QRADAR, SPLUNK]
    whole = parse(tmp_path, *lines)
    monkeypatch.setattr(proxysg_kv, "SLICE_LINES", 2)
    sliced = parse(tmp_path, *lines)
    assert sliced[0] == whole[0] and sliced[1] == whole[1]
    assert [e["line_no"] for e in sliced[0]] == [1, 2, 5, 6]


def _split_values(text: list[str]) -> dict[str, list[str | None]]:
    """The reference the compiled scan replaced: each line split with Arrow (`|` after `Bluecoat|`, else spaces
    outside quotes), keys before the first `=` in lower case with `_` as `-`, a field's first key wins, values
    of space-separated lines unquoted by `quoted_value`."""
    import pyarrow as pa

    from detector.ingest.arrow_ops import quoted_value, split_quoted

    out: dict[str, list[str | None]] = {field: [None] * len(text) for field in proxysg_kv.FIELDS}
    for row, line in enumerate(text):
        piped = "bluecoat|" in line.lower()
        tokens = line.split("|") if piped else split_quoted(pa.array([line]), " ")[0].as_py()
        for token in tokens:
            if "=" not in token:
                continue
            key, value = token.split("=", 1)
            field = proxysg_kv._KEY_FIELD.get(key.lower().replace("_", "-"))
            if field is None or out[field][row] is not None:
                continue
            out[field][row] = value if piped else quoted_value(pa.array([value]), " ")[0].as_py()
    return out


_KV_TEXT = st.lists(st.sampled_from(
    ["c-ip=", "CS-Host=", "cs_uri=", "src=", "cs(User-Agent)=", "devicetime=", "date=", "time=", "sc-bytes=", "=",
     "Bluecoat|", "bluecoat", "|", " ", "  ", '"', '""', "a", "b c", "\x01", "\x02", "\t", "SPLV5.1 ", "SPLV",
     "x=", "é", "<13>", ":"]), max_size=25).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(_KV_TEXT, min_size=1, max_size=6))
def test_the_compiled_scan_finds_what_the_arrow_split_found(text: list[str]) -> None:
    """Every field's value and each line's head (the header-time regex's group) as the Arrow split, `quoted_value`
    and the regex gave them (lines from the layouts' separators and quoting rules:
    https://docs.splunk.com/Documentation/AddOns/latest/BlueCoatProxySG/About, QRadar's guide above)."""
    import re

    import numpy as np
    import pyarrow as pa

    from detector.ingest.compiled import WantedKeys
    from detector.ingest.proxysg_kv_scan import Scanned

    fields = proxysg_kv.FIELDS
    array = pa.array(text)
    scanned = Scanned(array, WantedKeys(list(proxysg_kv._KEY_FIELD)), proxysg_kv._FIELD_OF_KEY, fields, fields)
    expected = _split_values(text)
    for field in fields:
        assert scanned.columns[field].to_pylist() == expected[field], field
    heads = [(m.group(1) if (m := re.match(r"(.*?)(?:SPLV[\d.]*[\t\n\f\r ]|(?i:bluecoat)\||[^\t\n\f\r |=\"]+=)",
                                            line, re.S)) else "") for line in text]
    assert scanned.head(np.arange(len(text))).to_pylist() == heads
