"""Batches that mix BSD/ISO lines with RFC 5424 lines without structured data (`-`: Kea and BIND through journald
or a relay) or with it, and lines without a header: SyslogHeaders.read cuts every header and message out of the
lines' buffer at once, and must read each line as `syslog_lines` reads it whole.

Layouts: RFC 3164 section 4.1 and its examples in 5.4 (https://datatracker.ietf.org/doc/html/rfc3164#section-5.4:
`<34>Oct 11 22:14:15 mymachine su: 'su root' failed ...`, a line without a TAG), RFC 5424 section 6 and the
examples of 6.5 (https://datatracker.ietf.org/doc/html/rfc5424#section-6.5: NILVALUE `-` for the structured data).
"""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.syslog_headers import headers_read_both_ways

NIL = [
    "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed for lonvick on /dev/pts/8",
    "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - -   %% It's time to make the do-nuts.",
    "<158>1 2026-11-20T09:15:00.250+01:00 dhcp2 kea-dhcp4 917 - - INFO  [kea-dhcp4.leases.1] DHCP4_LEASE_ALLOC x",
    "<14>1 2026-11-20T09:15:00Z h app - - - ",
    "<14>1 2026-11-20T09:15:00Z h app - - - é: ü",
]
BSD = [
    "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
    "Oct 11 22:14:15 mymachine kea-dhcp4[812]: INFO  [kea-dhcp4.leases.1] DHCP4_LEASE_ALLOC [hwtype=1 aa], tid=0x1: x",
    "<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!",
    "2026-11-20T09:15:00+01:00 hôst prog[1]: a message: with a second colon",
    "Oct 11 22:14:15 mymachine su:",
    "Oct 11 22:14:15 h a: ",
]
STRUCTURED = [
    '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An event',
    '<165>1 2003-10-11T22:14:15.003Z host app - ID47 [x a="q\\"r"] escaped',
]
PLAIN = ["no header at all", "a plain line: with a colon", "", "2026-11-20 09:14:02.123 INFO  [kea-dhcp4.leases/1.2] x"]


def _both_ways(lines: list[str]) -> list[dict[str, object]]:
    return headers_read_both_ways(lines, datetime(2026, 11, 25))


def test_nil_data_lines_among_bsd_lines_read_as_whole_lines_are() -> None:
    by_line = {row["line"]: row for row in _both_ways(NIL + BSD + PLAIN)}
    assert by_line[NIL[1]]["msg"] == "%% It's time to make the do-nuts."  # (spaces after the `-` trimmed)
    assert (by_line[NIL[2]]["app"], by_line[NIL[2]]["pid"]) == ("kea-dhcp4", "917")
    assert by_line[NIL[4]]["msg"] == "é: ü"
    assert by_line[BSD[3]]["msg"] == "a message: with a second colon"
    assert by_line[PLAIN[1]]["msg"] == "with a colon"


def test_nil_data_cut_and_whole_structured_data_and_bsd_lines_in_one_batch() -> None:
    by_line = {row["line"]: row for row in _both_ways(BSD[:2] + STRUCTURED + NIL + PLAIN[:2])}
    assert by_line[STRUCTURED[0]]["msg"] == "An event"
    assert by_line[NIL[0]]["msg"] == "'su root' failed for lonvick on /dev/pts/8"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(
    st.builds(lambda head, gap, rest: head + gap + rest,
              st.sampled_from(["<165>1 2003-10-11T22:14:15.003Z h app - ID47 -", "<1>1 - - - - - -", "<30>1 - h a 1 - -"]),
              st.sampled_from([" ", "", "  "]), st.text(alphabet=" :-[]aé", max_size=10)),
    st.sampled_from(BSD + PLAIN + STRUCTURED)), min_size=1, max_size=10))
def test_any_mixture_with_nil_data_reads_as_whole_lines_do(lines: list[str]) -> None:
    _both_ways(lines)
