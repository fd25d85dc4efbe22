"""gather_scan.gathered: the texts meraki.py reads, cut out of the lines in one pass, equal Python's slices of the
same spans (null where not valid). Lines follow Meraki's documented
`urls`/`firewall` layouts (https://documentation.meraki.com/General_Administration/Monitoring_and_Reporting/
Syslog_Event_Types_and_Log_Samples)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest.compiled import WantedKeys
from detector.ingest.gather_scan import gathered
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.meraki_scan import word_codes

LINES = [
    "<134>1 1700000000.123456789 MX84 urls src=192.0.2.10:51234 dst=198.51.100.7:443 mac=00:18:0A:00:00:01 "
    "request: GET https://chat.example/",
    "<134>1 1700000001.5 MX84 firewall src=192.0.2.11 dst=198.51.100.8 protocol=tcp sport=5000 dport=443 "
    "pattern: allow all",
    "",
    "<134>1 2026-11-25T08:30:00Z MX84 flows allow src=192.0.2.12 dst=203.0.113.9 protocol=udp",
]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_gathered_texts_are_the_spans_of_each_line(data: st.DataObject) -> None:
    array = pa.array(LINES)
    _, buffer, offsets = line_bytes(array)
    columns = data.draw(st.integers(1, 4))
    starts = np.empty((columns, len(LINES)), np.int64)
    ends = np.empty((columns, len(LINES)), np.int64)
    valid = np.empty((columns, len(LINES)), np.bool_)
    for column in range(columns):
        for line in range(len(LINES)):
            begin, end = int(offsets[line]), int(offsets[line + 1])
            first = data.draw(st.integers(begin, end))
            starts[column, line] = first
            ends[column, line] = max(data.draw(st.integers(begin, end)), first)
            valid[column, line] = data.draw(st.booleans())
    texts = gathered(buffer, starts, ends, valid)
    for column in range(columns):
        assert texts[column].to_pylist() == [
            bytes(buffer[starts[column, line]:ends[column, line]]).decode() if valid[column, line] else None
            for line in range(len(LINES))]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["urls", "flows", "firewall", "url", "urlsx", "", "events", "é", "ids-alerts"]),
                min_size=1, max_size=10), st.lists(st.booleans(), min_size=10, max_size=10))
def test_word_codes_name_each_span_as_a_dictionary_lookup_would(words: list[str], spanned: list[bool]) -> None:
    names = ("urls", "flows", "firewall", "events", "ids-alerts")
    array = pa.array([f"<134>1 1700000000.5 MX84 {word} src=192.0.2.1" for word in words])
    _, buffer, offsets = line_bytes(array)
    starts = offsets[:-1] + len("<134>1 1700000000.5 MX84 ")
    ends = starts + np.array([len(word.encode()) for word in words])
    starts = np.where(spanned[:len(words)], starts, -1)
    codes = word_codes(buffer, starts, ends, WantedKeys(names))
    assert codes.tolist() == [(names.index(word) if word in names else -1) if spanned[row] else -2
                              for row, word in enumerate(words)]
