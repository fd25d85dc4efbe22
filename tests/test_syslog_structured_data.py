"""RFC 5424 lines with structured data, read once per distinct header (syslog.SyslogHeaders.read) rather than
each line whole by `syslog_lines`: both ways give the same columns.

Layout from RFC 5424 section 6 (https://datatracker.ietf.org/doc/html/rfc5424#section-6): `<PRI>1 TIMESTAMP
HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`, NILVALUE `-`, SD-ELEMENTs `[SD-ID PARAM="VALUE" ...]`
written back to back, `"`, `\\` and `]` escaped by a backslash in a value (6.3.3), and the examples of 6.5.
OPNsense writes its programs' logs (Unbound, filterlog) in this layout with `[meta sequenceId="N"]`
(https://docs.opnsense.org/manual/logging.html).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest.syslog import _cut_structured_data
from tests.syslog_headers import headers_read_both_ways

SD = '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]'
CUT = [  # read by their header: plain fields, data without escapes, a message after `] `
    f"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 {SD} An application event log entry",
    f'<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 {SD}[examplePriority@32473 class="high"] x',
    '<30>1 2024-06-05T10:00:32+02:00 fw.example.nl unbound 57312 - [meta sequenceId="1"] [57312:0] info: 10.0.0.1 '
    "chatgpt.com. A IN",
    '<134>1 2024-06-05T10:00:34.5-01:30 - filterlog - - [meta sequenceId="2"]   spaces before the message',
    '<14>1 2024-06-05T10:00:34 fw - 1 - [a] ',
    '<14>1 - fw app 1 - [a] [b] the second is message',
]
WHOLE = [  # read whole by `syslog_lines` (its answer may still be a header)
    f'<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 {SD}[examplePriority@32473 class="high"]',
    '<165>1 2003-10-11T22:14:15.003Z host app - ID47 [x a="q\\"r" b="1\\]2" c="\\\\"] escaped',
    '<165>1 2003-10-11T22:14:15.003Z host app - ID47 [x a="1]2"] an unescaped bracket in a value',
    '<165>1 2003-10-11T22:14:15.003Z host app]x - ID47 [x] a bracket in the header',
    "<165>1 2003-10-11T22:14:15.003Z host  app - ID47 [x] two spaces in the header",
    "<165>1 2003-10-11T22:14:15.003Z host app - [x] a field missing",
    "<165>1 2003-10-11T22:14:15.003Z host\tapp - ID47 [x] a tab",
    "<1234>1 2003-10-11T22:14:15.003Z host app - ID47 [x] a long PRI",
    "<165>1 2003-10-11T22:14:15.003Z host app - ID47 [x]] y",
    "<165>1 2003-10-11T22:14:15.003Z host app - ID47 [a][b no end",
    "<165>1 2003-10-11T22:14:15.003Z host app - ID47 [a]x [b] y",
]
OTHERS = [
    "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed for lonvick on /dev/pts/8",
    "<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!",
    "Jun  5 10:00:32 fw unbound[57312]: [57312:0] info: 10.0.0.1 chatgpt.com. A IN",
    "no header at all",
]


def _both_ways(lines: list[str]) -> list[dict[str, object]]:
    """`syslog_lines` over the lines, and SyslogHeaders.read over them (twice: the second from its cache)."""
    return headers_read_both_ways(lines, datetime(2024, 6, 10))


def test_structured_data_is_cut_where_plain_and_left_to_sql_otherwise() -> None:
    lines = CUT + WHOLE
    cut, _, _ = _cut_structured_data(pa.array(lines), np.ones(len(lines), bool))
    assert cut.tolist() == [True] * len(CUT) + [False] * len(WHOLE)


def test_rfc5424_lines_with_structured_data_read_as_whole_lines_are() -> None:
    expected = _both_ways(CUT + WHOLE + OTHERS)
    by_line = {row["line"]: row for row in expected}
    assert (by_line[CUT[0]]["app"], by_line[CUT[0]]["msg"]) == ("evntslog", "An application event log entry")
    assert (by_line[CUT[2]]["pid"], by_line[CUT[2]]["msg"]) == ("57312", "[57312:0] info: 10.0.0.1 chatgpt.com. A IN")
    assert (by_line[CUT[3]]["host"], by_line[CUT[3]]["msg"]) == (None, "spaces before the message")
    assert by_line[CUT[5]]["msg"] == "[b] the second is message"
    assert (by_line[WHOLE[0]]["app"], by_line[WHOLE[0]]["msg"]) == ("evntslog", "")
    assert by_line[WHOLE[1]]["msg"] == "escaped"


def test_a_batch_of_only_cut_lines_and_one_of_only_escaped_lines_read_alike() -> None:
    _both_ways(CUT)
    _both_ways(WHOLE[1:3])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.builds(
    lambda pri, head, data, gap, rest: pri + head + data + gap + rest,
    st.sampled_from(["<165>1 ", "<1>1 ", "<30> 1 ", "<ab>1 ", ""]),
    st.sampled_from(["2003-10-11T22:14:15.003Z h app - ID47 ", "- - - - - ", "2003-10-11T22:14:15Z h ap]p 1 - ",
                     "2003-10-11T22:14:15Z h app 1 ", "Oct 11 22:14:15 h app[1]: "]),
    st.tuples(st.sampled_from(["[", '[m a="1"]', ""]), st.text(alphabet='[]\\"= ab', max_size=14)).map("".join),
    st.sampled_from([" ", "", "  "]),
    st.text(alphabet=" :-[]ab", max_size=10)), min_size=1, max_size=8))
def test_any_structured_data_reads_as_whole_lines_do(lines: list[str]) -> None:
    _both_ways(lines)
