"""Kea's lines read from their bytes: the own-time test and the message marks found with numpy agree with the
expression and the string search they replace, on Kea's layouts and near misses.

Layouts: Kea's logging patterns (https://kea.readthedocs.io/en/latest/arm/logging.html: `%D{%Y-%m-%d %H:%M:%S.%q}
%-5p [%c/%i.%t] %m`) and the lease messages of the Kea Messages Manual
(https://kea.readthedocs.io/en/latest/kea-messages.html, DHCP4_LEASE_ALLOC `%1: lease %2 has been allocated for %3`).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest.kea_dhcp import MESSAGE_MARK, OWN_START, TID_MARK, _first_places, _starts_own
from detector.ingest.layout_bytes import line_bytes

LINES = [
    "2026-11-20 09:14:02.123 INFO  [kea-dhcp4.leases/1234.1] DHCP4_LEASE_ALLOC [hwtype=1 aa:bb], cid=[01], "
    "tid=0x5e1a: lease 10.20.3.14 has been allocated for 4000 seconds",
    "2026-11-20 09:14:02 CET Address: 10.20.3.14 has been assigned for 1 hrs 6 mins 40 secs",
    "Nov 20 09:14:02 dhcp1 kea-dhcp4[1234]: INFO  [kea-dhcp4.leases.1] DHCP4_LEASE_ALLOC [hwtype=1 aa], tid=0x1: x",
    "2026-11-20T09:14:02 dhcp1 kea-dhcp4[1]: x",
    "2026-11-20 09:14:0", "2026-1120 09:14:02 x", "２０２６-11-20 09:14:02 full-width digits", "",
    "é] DHCP4_X a, tid=0x1: é", "] DHCP", "x] DHC", ", tid=0x", "] DHCP] DHCP, tid=0x, tid=0x",
]


def test_own_time_is_found_as_its_expression_finds_it() -> None:
    text = pa.array(LINES)
    assert _starts_own(text).tolist() == pc.match_substring_regex(text, OWN_START).to_pylist()
    assert _starts_own(pa.array(["x", *LINES]).slice(1)).tolist() == _starts_own(text).tolist()


def test_an_absent_line_starts_with_no_time() -> None:
    assert _starts_own(pa.array([LINES[0], None, LINES[1]])).tolist() == [True, False, True]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from([*"] DHCP, tid=0xé:-1", "] DHCP", ", tid=0x"]), max_size=20).map("".join),
                min_size=1, max_size=12), st.integers(0, 3))
def test_marks_are_found_where_find_substring_finds_them(lines: list[str], skip: int) -> None:
    text = pa.array(["pad"] * skip + lines).slice(skip)
    _, data, offsets = line_bytes(text)
    for mark in (MESSAGE_MARK, TID_MARK):
        found = _first_places(data, offsets, mark)
        assert found.tolist() == pc.find_substring(text, mark).to_pylist()
        assert found.dtype == np.int64
