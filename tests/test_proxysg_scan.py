"""proxysg's compiled pass (proxysg_scan) reads a line only as proxysg's reading of values would: the same header cut,
count, layout and values, and the same events and rejects for a batch; what it is not sure of it leaves to that
reading.

Lines written from the documented layouts (the test lines of tests/test_ingest_proxysg.py: Broadcom's default formats
page, Elastic's and the Splunk add-on's field lists, cited there); syslog headers from RFC 3164 / RFC 5424 and Broadcom
KB 166529 (https://knowledge.broadcom.com/external/article/166529/sending-access-logs-to-a-syslog-server.html).
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.ingest import FORMATS
from detector.ingest.base import ParseContext, open_parse_connection
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.proxysg import _BY_COUNT, LAYOUTS, MAIN_SHAPE, SHARED, SYSLOG_HEAD, scanning
from detector.ingest.proxysg_scan import MOST_VALUES, Layouts, Read
from detector.ingest.w3c import Header, Plan
from tests.golden import comparable
from tests.test_ingest_proxysg import EDGE, MAIN, MAIN_HIERARCHY, MAIN_SERVER, REPORTER, SGOS5, SSL, SUPPLIERS

BODIES = [MAIN, MAIN_HIERARCHY, SGOS5, MAIN_SERVER, REPORTER, SUPPLIERS, EDGE, SSL,
          REPORTER.replace(" - - OBSERVED", "  -  - OBSERVED"),  # padded, as Elastic notes the appliance writes
          MAIN.replace(" 200 TCP_NC_MISS", ' 200 TCP_NC_MISS ""'),  # an empty quoted value (25 values)
          "#Software: SGOS 7.3.1.1", '#Remark: 4711 "proxysg01" "10.0.0.5" "main"', "restarting access log"]
HEADERS = ["", "Nov  2 09:15:04 proxysg01 ", "Nov 12 09:15:04 proxysg01 ", "<134>Nov  2 09:15:04 proxysg01 ",
           "<134> Nov  2 09:15:04 proxysg01 bluecoat: ", "<134>1 2026-11-02T09:15:04+01:00 proxysg01 ProxySG - - - ",
           "<13>1 2026-11-02T09:15:04.123Z h ProxySG 12 ID47 - ", "2026-11-02T09:15:04+0100 proxysg01 ",
           "2026-11-02T09:15:04.25 proxysg01 ProxySG[12]: ", "Nov  2 2026 09:15:04 relay 10.0.0.5 ",
           "Nov  2 09:15:04.5 h ", "<134>Nov  2 09:15:04 h 2026-11-02 09:15:0 ", "Nov  2 09:15:04 h #x ",
           "<1344>Nov  2 09:15:04 h ", "nov  2 09:15:04 h ", "Nov  2 09:15 h "]
# Characters put in anywhere: spaces, quotes, tabs, `#`, digits and letters that break a date, header or count.
CHARACTERS = list(' "#\t-:09TZx<>é')


def _changed(line: str, changes: list[tuple[int, str]]) -> str:
    for place, character in changes:
        place %= len(line) + 1
        line = line[:place] + character + line[place:]
    return line


def _scanning() -> Layouts:
    return scanning([Plan(Header(fields=layout.fields), "UTC") for layout in LAYOUTS])


def _expected(line: str) -> tuple[int, list[str]] | None:
    """The layout and values proxysg's reading of values finds in a line of plain values (each quoted whole, without
    a quote inside, or without quotes), or None for another line: the header cut by SYSLOG_HEAD, values at runs of
    spaces, the count's layout (main's shape for 25 and 27)."""
    text = re.sub(SYSLOG_HEAD, r"\1", line.replace("\t", " "), count=1)
    tokens = re.findall(r'"[^"]*"|[^ "]+', text)
    if " ".join(tokens) != re.sub(" +", " ", text).strip() or not text[:1].isdigit() or text.endswith(" "):
        return None
    if len(tokens) not in _BY_COUNT:
        return None
    layout = _BY_COUNT[len(tokens)]
    if len(tokens) in SHARED:
        main, other = SHARED[len(tokens)]
        layout = main if re.match(MAIN_SHAPE, text) else other
    return layout, [token[1:-1] if token.startswith('"') else token for token in tokens]


def _read(scanning: Layouts, lines: list[str], offset: int = 0) -> Read:
    text = pa.array(["x"] * offset + lines).slice(offset)
    buffer, data, offsets = line_bytes(text)
    return scanning.read(buffer, data, offsets)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.tuples(st.sampled_from(HEADERS), st.sampled_from(BODIES),
                                st.lists(st.tuples(st.integers(0, 400), st.sampled_from(CHARACTERS)), max_size=2)),
                      min_size=1, max_size=25),
       offset=st.integers(0, 2))
def test_a_line_read_is_read_as_the_reading_of_values_reads_it(lines: list[tuple[str, str, list[tuple[int, str]]]],
                                                               offset: int) -> None:
    scanning = _scanning()
    texts = [_changed(header + body, changes) for header, body, changes in lines]
    read = _read(scanning, texts, offset)
    for row, line in enumerate(texts):
        layout = int(read.layout[row])
        if layout < 0:
            continue
        expected = _expected(line)
        assert expected is not None, line
        assert layout == expected[0], line
        for position in scanning.positions[layout]:
            slot = int(scanning.slot_of[layout, position])
            assert read.dictionaries[slot][int(read.indices[slot, row])].as_py() == expected[1][position], (line,
                                                                                                           position)


@pytest.mark.parametrize("header", [header for header in HEADERS if "#" not in header and "1344" not in header
                                    and "nov" not in header and "09:15 h" not in header and "09:15:0 " not in header])
@pytest.mark.parametrize("body", BODIES[:7])
def test_plain_lines_behind_every_header_are_read(header: str, body: str) -> None:
    read = _read(_scanning(), [header + body])
    expected = _expected(header + body)
    assert expected is not None
    assert int(read.layout[0]) == expected[0]


@pytest.mark.parametrize("line", [
    MAIN.replace(" 312 ", "\t312 "),  # a tab
    MAIN + " ",  # a space at the end
    MAIN.replace('"Artificial Intelligence;', '"Artificial "Intelligence;'),  # a quote inside a value
    MAIN.replace("Win64; x64)", "Win64;  x64)"),  # two spaces inside quotes
    MAIN.replace(" 10.0.0.5", ' 10.0.0.5"'),  # an unclosed quote
    "Nov  2 09:15:04 h #Software: SGOS 7.3.1.1",  # a directive
    "Nov  2 09:15:04 h#1 " + MAIN,  # a `#` before the ELFF start
    "\ufeff" + MAIN,  # a byte order mark
    SSL,  # a count of no layout
    " " + MAIN,  # a space first
])
def test_lines_it_is_not_sure_of_are_left_to_the_reading_of_values(line: str) -> None:
    assert int(_read(_scanning(), [line]).layout[0]) == -1


def _parsers(monkeypatch: pytest.MonkeyPatch, every_line_left: bool):
    context = ParseContext(path="access.log", timezone="Europe/Amsterdam", connection=open_parse_connection())
    if every_line_left:
        monkeypatch.setattr(Layouts, "read", lambda self, buffer, data, offsets, bare=False: Read(
            np.full(len(offsets) - 1, -1, np.int8), np.zeros((self.slots, len(offsets) - 1), np.int32), []))
    return FORMATS["proxysg"].new_parser(context)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(st.sampled_from(HEADERS), st.sampled_from(BODIES),
                                st.lists(st.tuples(st.integers(0, 400), st.sampled_from(CHARACTERS)), max_size=2)),
                      min_size=1, max_size=40))
def test_a_batch_reads_as_the_reading_of_values_alone_reads_it(monkeypatch: pytest.MonkeyPatch,
                                                               lines: list[tuple[str, str, list[tuple[int, str]]]]
                                                               ) -> None:
    texts = [_changed(header + body, changes) for header, body, changes in lines]
    batch = pa.table({"line_no": pa.array(range(1, len(texts) + 1), pa.int64()), "line": pa.array(texts)})
    scanned = comparable(_parsers(monkeypatch, every_line_left=False)(batch))
    with monkeypatch.context() as patch:
        alone = comparable(_parsers(patch, every_line_left=True)(batch))
    assert scanned == alone
    assert len(scanned[0]) + len(scanned[1]) + scanned[2] == len(texts)


def test_many_distinct_values_grow_the_table() -> None:
    """Some 20,000 distinct paths and times: the table grows several times over, each value still read as itself."""
    lines = [MAIN.replace("/backend-api/conversation", f"/c/{number}").replace("08:15:04", f"08:{number % 60:02}:"
                                                                                           f"{number % 59:02}")
             for number in range(20_000)]
    scanning = _scanning()
    read = _read(scanning, lines)
    assert (read.layout == 0).all()
    path = LAYOUTS[0].fields.index("cs-uri-path")
    slot = int(scanning.slot_of[0, path])
    assert len(read.dictionaries[slot]) == 20_000
    assert read.dictionaries[slot].take(pa.array(read.indices[slot])).to_pylist() == [f"/c/{n}" for n in range(20_000)]


def test_parsed_with_the_pass_and_without_as_proxysg_reads_a_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = ["Nov  2 09:15:04 proxysg01 " + MAIN, REPORTER, "<134>1 2026-11-02T09:15:04Z h ProxySG - - - " + EDGE,
             SUPPLIERS, "#Software: SGOS 7.3.1.1", SSL, MAIN.replace(" 312 ", "\t312 "), MAIN_SERVER]
    batch = pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": pa.array(lines)})
    scanned = comparable(_parsers(monkeypatch, every_line_left=False)(batch))
    assert [row["line_no"] for row in scanned[0]] == [1, 2, 3, 4, 7, 8]
    assert [row["line_no"] for row in scanned[1]] == [6] and scanned[2] == 1
    with monkeypatch.context() as patch:
        assert comparable(_parsers(patch, every_line_left=True)(batch)) == scanned


def test_layouts_share_a_slot_per_field_name_and_tell_a_shared_count_apart() -> None:
    """proxysg's tables (slots by field name across layouts, SHARED's main and other) and w3c's (one field list,
    a position its own slot, a count past MOST_VALUES never chosen) come from the one builder."""
    layouts = _scanning()
    path = [layout.fields.index("cs-uri-path") for layout in LAYOUTS]
    assert len({int(layouts.slot_of[index, position]) for index, position in enumerate(path)}) == 1
    for count, (main, other) in SHARED.items():
        assert (int(layouts.layout_of_count[count]), int(layouts.other_of_count[count])) == (main, other)
    for count, index in _BY_COUNT.items():
        if count not in SHARED:
            assert (int(layouts.layout_of_count[count]), int(layouts.other_of_count[count])) == (index, -1)
    assert layouts.slots == len({LAYOUTS[index].fields[position] for index, read in enumerate(layouts.positions)
                                 for position in read})
    one = Layouts([(5, [3, 1])])
    assert int(one.layout_of_count[5]) == 0 and (one.slot_of[0, [1, 3]] == [0, 1]).all() and one.slots == 2
    assert (Layouts([(MOST_VALUES + 1, [0])]).layout_of_count == -1).all()
