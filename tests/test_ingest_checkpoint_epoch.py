"""Check Point's `time` (epoch seconds): plain digits cast by Arrow read as the per-distinct SQL reads them."""

from __future__ import annotations

import pyarrow as pa

from detector.ingest import checkpoint
from detector.ingest.arrow_ops import per_distinct
from detector.ingest.base import open_parse_connection


def test_epoch_digits_cast_by_arrow_as_the_sql_reads_them() -> None:
    connection = open_parse_connection()
    queries = checkpoint._Queries("UTC")
    for seconds in (["1763452984", "0", "00012", None, "99999999999", "1763452984"],  # all digits: Arrow
                    ["1763452984", "x", "+5", "", "999999999999999999", None]):  # others: SQL
        values, where = pa.array(seconds, pa.string()), pa.array([True, True, True, True, True, False])
        expected = per_distinct(connection, values, queries.epoch, where=where)["ts"]
        assert checkpoint._epoch_times(connection, queries, values, where).equals(expected)
