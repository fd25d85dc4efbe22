"""skyhigh_swg_scan.access_spans reads a line's values as a split at its double quotes reads them.

The reference below is that split in pyarrow (the parse's reading before the compiled kernel): parts between quote
marks, the short unquoted parts trimmed of spaces and split at single spaces. Lines are written from the layouts of
Skyhigh's "Access log rule set" page
(https://success.skyhighsecurity.com/Skyhigh_Secure_Web_Gateway_(On_Prem)/Monitoring/Logging/Access_log_rule_set):
`[time] "user" client status "request" "categories" "reputation" "media type" bytes_to_client [bytes_from_client]
"user agent" "virus" block_res ["application"]`, with values of spaces, quotes and non-ASCII text, and cut or joined
at random places.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest.proxy_columns import list_items, where
from detector.ingest.skyhigh_swg import LONG_BARE, LONG_QUOTED, SHORT_BARE, SHORT_QUOTED, TIME_CHARS, _tokens


def _arrow_tokens(text: pa.Array) -> tuple[np.ndarray, list[pa.Array]]:
    """The values as pyarrow's split at the quotes read them (shape, then time, user, client, status, request,
    categories, media, to_client, from_client, agent, block, app)."""
    parts = pc.split_pattern(text, '"')
    count = pc.list_value_length(parts)
    part = list_items(parts, range(19))
    client_status = pc.split_pattern(pc.utf8_trim(part[2], " "), " ")
    sizes = pc.split_pattern(pc.utf8_trim(part[10], " "), " ")
    long = pc.equal(pc.list_value_length(sizes), 2)
    short = pc.equal(pc.list_value_length(sizes), 1)
    quoted = pc.or_(pc.and_(short, pc.equal(count, SHORT_QUOTED)), pc.and_(long, pc.equal(count, LONG_QUOTED)))
    bare = pc.or_(pc.and_(short, pc.equal(count, SHORT_BARE)), pc.and_(long, pc.equal(count, LONG_BARE)))
    blank = [pc.fill_null(pc.equal(pc.utf8_trim(part[i], " "), ""), True) for i in (16, 18)]
    tail = pc.if_else(quoted, pc.and_(pc.and_(pc.equal(part[14], " "), pc.if_else(long, pc.equal(part[16], " "),
                                                                                  blank[0])),
                                      pc.if_else(long, blank[1], True)),
                      pc.and_(pc.starts_with(part[14], " "), pc.if_else(long, blank[0], True)))
    spaced = pc.and_(pc.and_(pc.equal(part[4], " "), pc.equal(part[6], " ")),
                     pc.and_(pc.equal(part[8], " "), pc.equal(part[12], " ")))
    timed = pc.and_(pc.and_(pc.starts_with(part[0], "["), pc.ends_with(part[0], "] ")),
                    pc.equal(pc.binary_length(part[0]), TIME_CHARS))
    shaped = pc.and_(pc.and_(pc.and_(pc.or_(quoted, bare), tail), pc.and_(spaced, timed)),
                     pc.equal(pc.list_value_length(client_status), 2))
    shaped = pc.fill_null(shaped, False)
    block = pc.if_else(quoted, part[15], pc.utf8_trim(part[14], " "))
    app = where(long, pc.if_else(quoted, part[17], part[15]))
    client, status = list_items(client_status, (0, 1))
    to_client, from_client = list_items(sizes, (0, 1))
    return shaped.to_numpy(zero_copy_only=False), [
        pc.utf8_slice_codeunits(part[0], 1, TIME_CHARS - 2), part[1], client, status, part[3], part[5], part[9],
        to_client, from_client, part[11], block, app]


_TEXT = st.text(alphabet=st.sampled_from([*'ab -/:0"é日', " ", '"']), max_size=6)
_TIME = st.sampled_from(["[20/Nov/2026:09:14:02 +0100] ", "[20/Nov/2026:09:14:02 +01é] ", "[20/Nov/2026:09:14:0 +0100]",
                         "[2é/Nov/2026:09:14:02 +010] ", "[20/Nov/2026:09:14:02 +0100]  "])
_NUMBER = st.sampled_from(["0", "81", "-", "", " 12", "3 4", "512"])


@st.composite
def _line(draw: st.DrawFn) -> str:
    long = draw(st.booleans())
    quoted_block = draw(st.booleans())
    sizes = f"{draw(_NUMBER)} {draw(_NUMBER)}" if long else draw(_NUMBER)
    block = f'"{draw(_NUMBER)}"' if quoted_block else draw(_NUMBER)
    line = (f'{draw(_TIME)}"{draw(_TEXT)}" {draw(_NUMBER)} {draw(_NUMBER)} "GET {draw(_TEXT)} HTTP/1.1" '
            f'"{draw(_TEXT)}" "{draw(_TEXT)}" "{draw(_TEXT)}" {sizes} "{draw(_TEXT)}" "{draw(_TEXT)}" {block}')
    if long:
        line += f' "{draw(_TEXT)}"'
    line += draw(st.sampled_from(["", " ", "  ", " x", '"']))
    cut = draw(st.integers(0, len(line)))
    return draw(st.sampled_from([line, line[:cut], line[:cut] + line[cut + 1:], line[cut:]]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_line(), min_size=1, max_size=30), st.integers(0, 3))
def test_values_as_the_split_reads_them(lines: list[str], offset: int) -> None:
    text = pa.array(["x"] * offset + lines, pa.string()).slice(offset)
    shaped, values = _tokens(text)
    want_shaped, want = _arrow_tokens(text)
    assert shaped.tolist() == want_shaped.tolist()
    for got, expected in zip(values, want, strict=True):
        # (a line without the shape is rejected: its values are not read)
        assert got.cast(pa.string()).filter(pa.array(shaped)).to_pylist() == \
            expected.filter(pa.array(shaped)).to_pylist()


def test_both_layouts_and_an_unquoted_block_are_read() -> None:
    lines = ['[20/Nov/2026:09:14:02 +0100] "u" 10.0.0.1 200 "GET http://a/ HTTP/1.1" "c" "r" "text/html" 5 '
             '"agent" "" "0"',
             '[20/Nov/2026:09:14:02 +0100] "u" 10.0.0.1 403 "GET http://a/ HTTP/1.1" "c" "r" "" 5 7 "agent" "" 10 '
             '"App"',
             '[20/Nov/2026:09:14:02 +0100] "u" 10.0.0.1 "GET http://a/ HTTP/1.1" "c" "r" "" 5 "agent" "" "0"']
    shaped, values = _tokens(pa.array(lines))
    assert shaped.tolist() == [True, True, False]
    assert values[2].to_pylist()[:2] == ["10.0.0.1", "10.0.0.1"]
    assert values[8].to_pylist()[:2] == [None, "7"]
    assert values[10].to_pylist()[:2] == ["0", "10"]
    assert values[11].to_pylist()[:2] == [None, "App"]
