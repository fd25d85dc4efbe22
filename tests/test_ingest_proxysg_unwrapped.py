"""proxysg.unwrapped takes a syslog header off each line as SYSLOG_HEAD's replacement does, without the expression's
group: the same texts, found another way (proxysg.syslog_heads) and cut by byte_spans.spans.

Headers written from RFC 3164 / RFC 5424 and Broadcom KB 166529
(https://knowledge.broadcom.com/external/article/166529/sending-access-logs-to-a-syslog-server.html); ELFF lines
from the default formats page (see tests/test_ingest_proxysg.py).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest.proxysg import COUNT_SLICE, SYSLOG_HEAD, unwrapped

HEADERS = [
    "", "Nov  2 09:15:04 proxysg01 ", "<134>Nov  2 09:15:04 proxysg01 ", "<134> Nov  2 09:15:04 proxysg01 bluecoat: ",
    "<134>1 2026-11-02T09:15:04+01:00 proxysg01 ProxySG - - - ", "2026-11-02T09:15:04.25Z proxysg01 ProxySG[12]: ",
    "Nov  2 2026 09:15:04 relay 10.0.0.5 ", '<134>1 2026-11-02T09:15:04Z h a 1 m [x t="2026-11-02 09:15:04 "] ',
    "Nov  2 09:15:04 h #x ", "Nov  2 09:15:04.5 h 2026-11-02 09:15:0 ",
]
BODIES = [
    '2026-11-02 08:15:04 312 10.20.1.15 200 TCP_NC_MISS "a b" 2026-11-02 08:15:05 -', "#Software: SGOS 7.3.1.1",
    '#Remark: 4711 "proxysg01" "10.0.0.5" "main"', "restarting access log", "2026-11-02 08:15:04", "",
    "2026-11-02 08:15:04 ", "é 2026-11-02 08:15:04 x", "x #Fields: a 2026-11-02 08:15:04 b",
    "2026-1-02 08:15:04 z 2026-11-02 08:15:04 q",
]


def _by_expression(text: pa.Array) -> list[str | None]:
    return pc.replace_substring_regex(pc.replace_substring(text, "\t", " "), SYSLOG_HEAD, r"\1",
                                      max_replacements=1).to_pylist()


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(st.tuples(st.sampled_from(HEADERS), st.sampled_from(BODIES),
                                st.lists(st.tuples(st.integers(0, 200), st.sampled_from(list(' #:-09Té"\t'))),
                                         max_size=3)), min_size=1, max_size=30),
       offset=st.integers(0, 2))
def test_headers_are_cut_where_the_expression_cuts_them(lines: list[tuple[str, str, list[tuple[int, str]]]],
                                                       offset: int) -> None:
    texts = []
    for header, body, changes in lines:
        line = header + body
        for place, character in changes:  # a character put in, anywhere: headers and dates half broken
            place %= len(line) + 1
            line = line[:place] + character + line[place:]
        texts.append(line)
    text = pa.array(["x"] * offset + texts).slice(offset)
    assert unwrapped(text).to_pylist() == _by_expression(text)


def test_a_batch_of_wrapped_lines_is_cut_as_the_expression_cuts_it() -> None:
    lines = [header + body for header in HEADERS for body in BODIES] * (COUNT_SLICE // 60)  # (several slices)
    text = pa.array(lines)
    assert unwrapped(text).to_pylist() == _by_expression(text)
