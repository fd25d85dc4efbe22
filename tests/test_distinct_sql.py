"""distinct_sql: Arrow columns read with the SQL macros' meaning, once per distinct value."""

from __future__ import annotations

import pyarrow as pa
import pytest

from detector.ingest.arrow_ops import DistinctQuery
from detector.ingest.base import open_parse_connection
from detector.ingest.distinct_sql import encoded, integers, item_at, through, url_parts, without

ODD_NUMBERS = ["12", " 12", "1.5", "+4", "-3", "None", "", "0x10", "1_000", "99999999999", None]


@pytest.mark.parametrize(("sql_type", "arrow_type"), [("bigint", pa.int64()), ("integer", pa.int32())])
def test_integers_read_as_try_cast_does_plain_digits_or_not(sql_type: str, arrow_type: pa.DataType) -> None:
    connection = open_parse_connection()
    query = DistinctQuery(f"select try_cast(value as {sql_type}) as value from distinct_values")
    expected = [row[0] for row in connection.cursor().execute(
        f"select try_cast(v as {sql_type}) from unnest(?::varchar[]) with ordinality as t(v, i) order by i",
        [ODD_NUMBERS]).fetchall()]
    assert integers(connection, query, pa.array(ODD_NUMBERS), arrow_type).to_pylist() == expected
    digits = ["0", "7", "123456789", None]  # Arrow's cast, no SQL: the same answer
    assert integers(connection, query, pa.array(digits), arrow_type).to_pylist() == [0, 7, 123456789, None]


def test_through_spreads_each_distinct_answer_and_keeps_nulls() -> None:
    connection = open_parse_connection()
    query = DistinctQuery("select clean_host(value) as host, length(value) as size from distinct_values")
    values = encoded(pa.array(["A.Example.", None, "a.example.", "A.Example."]))
    read = through(connection, query, values)
    assert read["host"].to_pylist() == ["a.example", None, "a.example", "a.example"]
    assert read["size"].to_pylist() == [10, None, 10, 10]
    assert through(connection, query, encoded(pa.array(["b.example"])))["host"].to_pylist() == ["b.example"]


def test_without_nulls_placeholders_only() -> None:
    values = without(encoded(pa.array(["None", "x", "NA", None, "none"])), ["None", "NA"])
    assert values.to_pylist() == [None, "x", None, None, "none"]


URLS = ["https://u@Host.Example:8443/a/b?q=1#f", "host.example/x", "host.example?q", "h#frag", "HTTP://[2001:db8::1]:80",
        "ftp://h.example", "", "no-slash", "a://b://c/d", None]


def test_url_parts_agree_with_the_sql_macros() -> None:
    connection = open_parse_connection()
    scheme, rest, authority, path = url_parts(pa.array(URLS))
    for i, url in enumerate(URLS):
        sql_scheme, sql_rest, sql_authority, sql_path = connection.cursor().execute(
            "select case when contains(u, '://') then left(u, strpos(u, '://') - 1) end, r, rest_authority(r),"
            " rest_path(r) from (select u, coalesce(url_rest(u), u) as r from (select ?::varchar as u))", [url]
        ).fetchone()
        assert (scheme[i].as_py(), rest[i].as_py(), authority[i].as_py(), path[i].as_py()) == (
            sql_scheme, sql_rest, sql_authority, sql_path), url


def test_item_at_reads_a_place_per_row() -> None:
    lists = pa.array([["a", "b", "c"], ["d"], ["e", "f"], []])
    assert item_at(lists, pa.array([2, 0, None, 0])).to_pylist() == ["c", "d", None, None]
    assert item_at(lists, pa.array([3, 1, 1, -1])).to_pylist() == [None, None, "f", None]
