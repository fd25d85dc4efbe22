"""FortiGate lines read on their bytes (fortigate.py): which `=` ends a wanted key, where a value ends, the
PRI, line columns in chunks, and values that are all distinct."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from detector.ingest import FORMATS
from detector.ingest.base import ParseContext, in_file_order, open_parse_connection
from tests.golden import parse_lines

SAMPLE = Path(__file__).resolve().parent.parent / "sample_logs" / "fortigate" / "basic.log"
TRAFFIC = ('date=2025-11-18 time=09:00:04 logid="0000000013" type="traffic" subtype="forward" srcip=10.20.3.14 '
           'dstip=104.18.32.47 dstport=443 proto=6 action="close" sentbyte=10 rcvdbyte=20 duration=3 '
           'eventtime=1763452804')


def parse(tmp_path: Path, *lines: str):  # type: ignore[no-untyped-def]
    events, rejects, report = parse_lines(tmp_path / "fw-20251118.log", "fortigate", lines)
    return events.to_pylist(), rejects.to_pylist(), report


def batch(lines: list[str]) -> pa.Table:
    return pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": pa.array(lines)})


def parser():  # type: ignore[no-untyped-def]
    context = ParseContext("fw-20251118.log", "Europe/Amsterdam", open_parse_connection())
    return in_file_order(FORMATS["fortigate"].new_parser(context))


def test_keys_inside_quoted_values_and_keys_ending_like_wanted_ones_are_not_read(tmp_path: Path) -> None:
    line = ('<189>' + TRAFFIC.replace('srcip=10.20.3.14', 'msg="from srcip=9.9.9.9 dstport=1" policytype="x" '
                                      'xsrcip=8.8.8.8 srcip=10.20.3.14')
            + ' xtz="+0900" unauthuser="jan" catdesc="a=b" appcat="unscanned"')
    (event,), _, _ = parse(tmp_path, line)
    assert (event["src_ip"], event["dst_port"], event["user_name"], event["vendor_category"]) == (
        "10.20.3.14", 443, "jan", None)


def test_the_first_of_repeated_keys_counts_and_unquoted_values_end_at_a_space_or_quote(tmp_path: Path) -> None:
    (event,), _, _ = parse(tmp_path, TRAFFIC + ' srcip=1.1.1.1 user=  user="later"')
    assert (event["src_ip"], event["user_name"]) == ("10.20.3.14", None)
    # an unquoted value glued to a quoted one ends at the quote mark (the former query kept its marker text)
    (event,), _, _ = parse(tmp_path, TRAFFIC.replace("dstport=443", 'dstport=443"x"'))
    assert event["dst_port"] == 443


@pytest.mark.parametrize("head", ["", "<189>", "<1>", "Nov 18 09:00:04 fw01 ", "<189>Nov 18 09:00:04 fw01 "])
def test_the_first_key_after_a_pri_a_syslog_header_or_at_the_start(tmp_path: Path, head: str) -> None:
    line = head + 'tz="-0500" ' + TRAFFIC.replace(" eventtime=1763452804", "")
    (event,), _, _ = parse(tmp_path, line)
    assert event["ts"].isoformat() == "2025-11-18T14:00:04+00:00"  # tz read, whatever precedes it


def test_a_pri_is_cut_only_before_the_first_quote_mark(tmp_path: Path) -> None:
    # the first: no PRI (a quote mark before the `>`), no key; the second: `type="utm"` before the `>` counts
    events, rejects, report = parse(tmp_path, '<x"y>type="traffic" srcip=1.2.3.4', '<189 type="utm">type="traffic"')
    assert not events and len(rejects) == 1 and report.ignored == 1


def test_an_epoch_out_of_range_is_no_time_rather_than_a_failed_batch(tmp_path: Path) -> None:
    events, (reject,), report = parse(tmp_path, TRAFFIC.replace("eventtime=1763452804",
                                                                "eventtime=-9000000000000000000"), TRAFFIC)
    assert len(events) == 1 and reject["reason"] == "no timestamp" and report.error is None


def test_non_ascii_text_before_keys_keeps_byte_positions(tmp_path: Path) -> None:
    (event,), _, _ = parse(tmp_path, 'devname="Gemeente Súdwest-Fryslân ✓" ' + TRAFFIC + ' user="Jörg"')
    assert (event["user_name"], event["dst_ip"]) == ("Jörg", "104.18.32.47")


def test_a_line_column_in_many_chunks_gives_the_one_chunk_answer() -> None:
    lines = [line for line in SAMPLE.read_text(encoding="utf-8").splitlines()] * 3
    whole = parser()(batch(lines))
    chunked = pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()),
                        "line": pa.chunked_array([pa.array(lines[start:start + 4]) for start in range(0, len(lines), 4)])})
    result = parser()(chunked)
    assert result.events.to_pylist() == whole.events.to_pylist()
    assert result.rejects.to_pylist() == whole.rejects.to_pylist() and result.ignored == whole.ignored


def test_local_times_read_on_the_lines_without_eventtime() -> None:
    without = TRAFFIC.replace(" eventtime=1763452804", ' tz="-0500"')
    lines = [without] * 7 + [TRAFFIC] + [without] + [TRAFFIC] * 7 + [without, TRAFFIC]
    events = parser()(batch(lines)).events.to_pylist()
    assert [event["ts"].isoformat() for event in events] == [
        "2025-11-18T14:00:04+00:00" if line == without else "2025-11-18T08:00:04+00:00"  # 09:00:04 -0500; eventtime
        for line in lines]


def test_lines_whose_values_are_all_distinct(tmp_path: Path) -> None:
    lines = [TRAFFIC.replace("10.20.3.14", f"10.{n // 256}.{n % 256}.1").replace("sentbyte=10", f"sentbyte={n}")
             + f' user="user{n}" hostname="h{n}.example.com" app="A{n}" appcat="C{n}"' for n in range(3000)]
    result = parser()(batch(lines))
    events = result.events.to_pylist()
    assert len(events) == 3000 and not result.rejects.num_rows
    assert [(e["src_ip"], e["bytes_out"], e["user_name"], e["host"]) for e in events[::1000]] == [
        (f"10.{n // 256}.{n % 256}.1", n, f"user{n}", f"h{n}.example.com") for n in range(0, 3000, 1000)]
