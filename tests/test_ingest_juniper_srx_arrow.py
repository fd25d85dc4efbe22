"""Juniper SRX: header times and user names read in Arrow give what the SQL macros give."""

from __future__ import annotations

import pyarrow as pa

from detector.ingest.arrow_ops import per_distinct
from detector.ingest.base import open_parse_connection
from detector.ingest.juniper_srx import _header_times, _Queries, _user_names
from detector.ingest.key_values import HIDDEN_QUOTE
from detector.ingest.syslog import define_macros

ARGUMENTS = "'Europe/Amsterdam', '2025-11-18 00:00:00'::timestamp"


def test_header_times_equal_syslog_time_for_any_text() -> None:
    connection = open_parse_connection()
    define_macros(connection)
    every = [
        "2025-11-18T09:00:00.120+01:00", "2025-11-18T09:00:00Z", "2025-11-18T09:00:00.123456-05:30",
        "2025-11-18T09:00:00.1234567+01:00", "2025-11-18T09:00:00", "2025-11-18 09:00:00+01:00",
        "2025-11-18T09:00:00+0100", "Nov 18 09:00:00", "", "not a time",
    ]
    refused = ["2025-02-30T09:00:00Z", "2025-11-18T24:00:00Z", "2025-11-18T09:00:00+24:00", "0000-01-01T00:00:00Z"]
    for times in (every[:3], every, every + refused, refused[:1]):
        text = pa.array(times * 2)
        where = pa.array([n % 3 != 0 for n in range(len(text))])
        expected = per_distinct(connection, text, _Queries(ARGUMENTS).time, where=where)["ts"]
        assert _header_times(connection, _Queries(ARGUMENTS), text, where).equals(expected)


def test_user_names_as_the_query_read_them() -> None:
    users = pa.array(["GEMEENTE\\\\jan", "N/A", "", None, f"a{HIDDEN_QUOTE}b", "plain", "x\\y", "GEMEENTE\\\\jan"])
    assert _user_names(users).to_pylist() == ["GEMEENTE\\jan", None, None, None, 'a"b', "plain", "x\\y", "GEMEENTE\\jan"]
    assert pa.types.is_dictionary(_user_names(users).type)
