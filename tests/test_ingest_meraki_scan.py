"""meraki_scan.gathered: the texts meraki.py reads, cut out of the lines in one pass, equal Python's slices of the
same spans (null where not valid). Lines follow Meraki's documented
`urls`/`firewall` layouts (https://documentation.meraki.com/General_Administration/Monitoring_and_Reporting/
Syslog_Event_Types_and_Log_Samples)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest.layout_bytes import line_bytes
from detector.ingest.meraki_scan import gathered

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
