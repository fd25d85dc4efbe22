"""The compiled SonicOS scan (sonicwall_scan.py) against what it replaced: FortiGate's spans (fortigate_scan, the
same key=value rules), a value in single quotes read to the next `'` of its line, the colons of an address value
counted, the head cut before the first `id=`/`sn=`/`m=`, and a line whose message id `m=` is 1-9 digits naming no
event left out. Lines are made of the bytes that matter (quote marks of both kinds, `=`, `:`, spaces, a PRI's
`<` and `>`, digits and parts of keys). Layout: SonicOS Log Events Reference Guide (key=value pairs such as
`m=537 src=192.0.2.1:443:X1 appName='General HTTPS'`; https://www.sonicwall.com/support/technical-documentation/).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest import FORMATS
from detector.ingest.compiled import WantedKeys
from detector.ingest.fortigate_scan import value_spans
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.pipeline import parse_file
from detector.ingest.sonicwall_scan import ADDRESS as ADDRESS_PART
from detector.ingest.sonicwall_scan import PORT, VALUE, Scanned, gathered
from tests.golden import golden_settings

KEYS = ("id", "sn", "m", "src", "dst", "appName", "msg")
EVENTS = (537, 97, 16, 14, 36, 37, 38)
ADDRESS = ("src", "dst")
HEADS = ("id", "sn", "m")
PIECES = ['"', "'", "=", ":", " ", "<", ">", "<134>", "m", "id", "sn", "src", "dst", "appName", "msg", "537", "98",
          "0", "1", "x", "é", '="', "='"]


def expected(lines: list[str]) -> list[dict[str, object]]:
    """Per line: None where the line is left out, else its values, colon counts and head, from FortiGate's spans."""
    array = pa.array(lines)
    _, data, offsets = line_bytes(array)
    found, starts, ends = value_spans(data, offsets, WantedKeys(KEYS))
    result: list[dict[str, object]] = []
    for row in range(len(lines)):
        line_start, line_end = int(offsets[row]), int(offsets[row + 1])
        values, head = {}, line_end
        for number, key in enumerate(KEYS):
            if not found[row, number]:
                continue
            begin, end = int(starts[row, number]), int(ends[row, number])
            if key in HEADS:
                head = min(head, begin - len(key) - 1)
            if end > begin and data[begin] == ord("'"):
                begin += 1
                closing = bytes(data[begin:line_end]).find(b"'")
                end = begin + closing if closing >= 0 else line_end
            values[key] = bytes(data[begin:end])
        m = values.get("m")
        if m is not None and 0 < len(m) <= 9 and m.isdigit() and int(m) not in EVENTS:
            result.append({})
            continue
        colons = {key: values[key].count(b":") for key in ADDRESS if key in values}
        parts = {key: values[key].split(b":")[:2] for key in ADDRESS if key in values}
        result.append({"values": values, "colons": colons, "parts": parts,
                       "head": bytes(data[line_start:max(head, line_start)])})
    return result


def scanned(lines: list[str]) -> list[dict[str, object]]:
    array = pa.array(lines)
    _, data, offsets = line_bytes(array)
    scan = Scanned(data, offsets, WantedKeys(KEYS), "m", EVENTS, ADDRESS, HEADS)
    result: list[dict[str, object]] = [{} for _ in lines]
    for column, row in enumerate(scan.rows):
        values = {key: bytes(data[scan.starts[number, column]:scan.ends[number, column]])
                  for number, key in enumerate(KEYS) if scan.found[number, column]}
        colons, parts = {}, {}
        for number, key in enumerate(ADDRESS):
            if key in values:
                begin = int(scan.starts[KEYS.index(key), column])
                one, two = int(scan.one[number, column]), int(scan.two[number, column])
                colons[key] = int(scan.colons[number, column])
                parts[key] = [bytes(data[begin:one])] + ([bytes(data[one + 1:two])] if colons[key] else [])
        result[row] = {"values": values, "colons": colons, "parts": parts,
                       "head": bytes(data[offsets[row]:scan.head_end[column]])}
    return result


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=16).map("".join), min_size=1, max_size=8))
def test_the_scan_reads_what_fortigate_spans_and_the_single_quote_rule_read(lines: list[str]) -> None:
    assert scanned(lines) == expected(lines)


def test_lines_whose_message_id_is_no_event_are_left_out() -> None:
    lines = [
        "id=firewall sn=C0EAE4 time=\"2026-11-20 09:30:20\" m=98 msg=\"Connection Opened\" src=192.0.2.1:1:X0",
        "<134>id=firewall sn=C0EAE4 m=537 src=192.0.2.1:51000:X0 dst=203.0.113.7:443:X1:name appName='General HTTPS'",
        "id=firewall sn=C0EAE4 msg=\"Unhandled link-local packet dropped\"",  # no m=: kept, Python decides
        "id=firewall m=\"0098\" src=x",  # quoted digits: read as 98
        "id=firewall m=+98",  # not digits: kept, SQL reads it
        "id=firewall m=1234567890",  # more than 9 digits: kept
    ]
    scan_rows = Scanned(*line_bytes(pa.array(lines))[1:], WantedKeys(KEYS), "m", EVENTS, ADDRESS, HEADS).rows
    assert scan_rows.tolist() == [1, 2, 4, 5]
    event = scanned(lines)[1]
    assert event["values"]["appName"] == b"General HTTPS"
    assert event["parts"] == {"src": [b"192.0.2.1", b"51000"], "dst": [b"203.0.113.7", b"443"]}
    assert event["colons"] == {"src": 2, "dst": 3}
    assert event["head"] == b"<134>"


def test_an_unclosed_single_quote_runs_to_the_line_end() -> None:
    assert scanned(["m=537 appName='General HTTPS"])[0]["values"]["appName"] == b"General HTTPS"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=16).map("".join), min_size=1, max_size=8))
def test_gathered_columns_hold_the_values_and_address_parts(lines: list[str]) -> None:
    array = pa.array(lines)
    _, data, offsets = line_bytes(array)
    scan = Scanned(data, offsets, WantedKeys(KEYS), "m", EVENTS, ADDRESS, HEADS)
    columns = [(VALUE, KEYS.index(key)) for key in KEYS] + [(kind, 0) for kind in (ADDRESS_PART, PORT)]
    texts = gathered(data, scan, columns)
    kept = [expected_line for expected_line in expected(lines) if expected_line]
    for number, key in enumerate(KEYS):
        assert texts[number].to_pylist() == [line["values"][key].decode() if key in line["values"] else None
                                             for line in kept]
    parts = [line["parts"].get("src") for line in kept]
    assert texts[-2].to_pylist() == [part[0].decode() if part and part[0] else None for part in parts]
    assert texts[-1].to_pylist() == [part[1].decode() if part and len(part) > 1 and part[1] else None
                                     for part in parts]


def test_lines_without_time_take_their_own_header_time_when_headers_repeat(tmp_path: Path) -> None:
    """Each distinct syslog header is read once and its time spread back: lines sharing a header share its time,
    the others keep their own (BSD headers, SonicOS lines without `time=`)."""
    closed = ('id=firewall sn=0017C5000001 fw=192.0.2.1 pri=6 c=1024 m=537 msg="Connection Closed" '
              'src=10.1.2.3:50000:X0 dst=104.18.32.47:443:X1 proto=tcp/https sent=100 rcvd=200 cdur=1000')
    lines = [f"Nov 20 {clock} 192.0.2.1 {closed}" for clock in ("12:30:00", "12:30:00", "12:31:05", "12:30:00")]
    path = tmp_path / "sonicwall-20261120.log"
    path.write_text("\n".join(lines) + "\n")
    events, rejects, _ = parse_file(path, FORMATS["sonicwall"], golden_settings(tmp_path))
    assert rejects.num_rows == 0
    assert [ts.isoformat() for ts in events.column("ts").to_pylist()] == [
        "2026-11-20T11:30:00+00:00", "2026-11-20T11:30:00+00:00", "2026-11-20T11:31:05+00:00",
        "2026-11-20T11:30:00+00:00"]


def test_header_times_are_kept_across_a_files_batches() -> None:
    """A header read in one batch is not read again in the next (sonicwall._HeaderTimes): lines of later batches
    with a kept header, a new one or only new ones (read without the kept ones) each get their own header's time."""
    from detector.ingest.base import ParseContext, in_file_order, open_parse_connection

    closed = ('id=firewall sn=0017C5000001 fw=192.0.2.1 pri=6 c=1024 m=537 msg="Connection Closed" '
              'src=10.1.2.3:50000:X0 dst=104.18.32.47:443:X1 proto=tcp/https sent=100 rcvd=200 cdur=1000')
    parse = in_file_order(FORMATS["sonicwall"].new_parser(ParseContext(
        "sonicwall-20261120.log", "Europe/Amsterdam", open_parse_connection())))
    batches = [["12:30:00"] * 8 + ["12:31:05"] * 4,  # two headers, few: kept
               ["12:31:05"] * 6 + ["12:30:00"] * 5 + ["12:32:10"],  # kept ones and a new one
               ["13:00:01", "13:00:02", "13:00:03"]]  # every header new and distinct: read without the kept ones
    line_no = 0
    for clocks in batches:
        lines = [f"Nov 20 {clock} 192.0.2.1 {closed}" for clock in clocks]
        table = pa.table({"line_no": pa.array(range(line_no + 1, line_no + len(lines) + 1), pa.int64()),
                          "line": pa.array(lines)})
        line_no += len(lines)
        result = parse(table)
        assert result.rejects.num_rows == 0
        hours = [int(clock[:2]) - 1 for clock in clocks]  # (Europe/Amsterdam is UTC+1 in November)
        assert [ts.isoformat() for ts in result.events.column("ts").to_pylist()] == [
            f"2026-11-20T{hour:02d}:{clock[3:]}+00:00" for hour, clock in zip(hours, clocks, strict=True)]
