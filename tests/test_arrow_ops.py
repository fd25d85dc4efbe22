"""Arrow building blocks of the pyarrow parsers: edge cases the Squid golden files do not reach."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import (
    DistinctQuery,
    authority_and_path,
    list_item,
    only_where,
    per_distinct,
    taken,
    trimmed,
    whole_number,
)
from detector.ingest.base import open_parse_connection


def test_list_item_counts_from_either_end_and_is_null_past_it() -> None:
    lists = pc.split_pattern(pa.array(["a b c", "d", None, ""]), " ")
    assert list_item(lists, 0).to_pylist() == ["a", "d", None, ""]
    assert list_item(lists, 2).to_pylist() == ["c", None, None, None]
    assert list_item(lists, -1).to_pylist() == ["c", "d", None, ""]
    assert list_item(lists.slice(1), -1).to_pylist() == ["d", None, ""]


def test_only_where_nulls_rows_in_plain_sliced_and_numeric_arrays() -> None:
    keep = pa.array([True, False, None, True])
    assert only_where(pa.array(["a", "b", "c", None]), keep).to_pylist() == ["a", None, None, None]
    assert only_where(pa.array(["x", "a", "b", "c", "d"]).slice(1), keep).to_pylist() == ["a", None, None, "d"]
    assert only_where(pa.array([1, 2, 3, 4], pa.int32()), keep).to_pylist() == [1, None, None, 4]


def test_whole_numbers_plain_signed_and_not() -> None:
    values, valid = whole_number(pa.array(["12", "007", None]))
    assert (values.to_pylist()[:2], valid.to_pylist()) == ([12, 7], [True, True, False])
    values, valid = whole_number(pa.array(["-3", "+4", "1.5", "9" * 19, "x"]))
    assert valid.to_pylist() == [True, True, False, False, False]
    assert values.to_pylist()[:2] == [-3, 4]


def test_trimmed_copies_only_when_an_edge_has_whitespace() -> None:
    clean = pa.array(["a b", "c"])
    assert trimmed(clean) is clean
    assert trimmed(pa.array(["a", " b", "c\t"])).to_pylist() == ["a", "b", "c"]


def test_authority_and_path_with_queries_fragments_and_no_path() -> None:
    authority, path = authority_and_path(pa.array(["h/a/b?q#f", "h?q=/x", "h#f", "h", "u@h:8/p#x?y", None]))
    assert authority.to_pylist() == ["h", "h", "h", "h", "u@h:8", None]
    assert path.to_pylist() == ["/a/b", "/", "/", "/", "/p", "/"]


def test_per_distinct_spreads_results_back_with_nulls_in_the_indices() -> None:
    connection = open_parse_connection()
    values = pa.array(["GET", "-", None, "post", "GET"])
    query = DistinctQuery("select nullif(upper(value), '-') as m, length(value) as n from distinct_values")
    out = per_distinct(connection, values, query, where=pa.array([True, True, True, True, False]))
    assert pa.types.is_dictionary(out["m"].type) and out["m"].dictionary.null_count == 0
    assert out["m"].to_pylist() == ["GET", None, None, "POST", None]
    assert out["n"].to_pylist() == [3, 1, None, 4, None]
    # a later batch whose values repeat: known values come from what the first batch learned, new ones are queried
    again = per_distinct(connection, pa.array(["put", "GET", "-"] * 4), query)
    assert again["m"].to_pylist() == ["PUT", "GET", None] * 4 and again["n"].to_pylist() == [3, 3, 1] * 4


def test_per_distinct_answers_alike_whether_a_batch_is_mostly_distinct_or_repeats() -> None:
    """A batch whose values mostly differ is queried without the file's cache, one whose values repeat with it; in
    any order, and with values shared between them, each row gets its value's answer."""
    connection = open_parse_connection()
    query = DistinctQuery("select upper(value) as u, length(value) as n from distinct_values")
    distinct = [f"h{i}.example" for i in range(40)]  # 40 distinct of 40 rows
    repeating = ["a", "h1.example", None, "b"] * 10  # 3 distinct of 40 rows
    shared = distinct[::2] + ["a"] * 20  # 21 distinct of 40 rows
    for batch in (distinct, repeating, shared, repeating, distinct):
        out = per_distinct(connection, pa.array(batch, pa.string()), query)
        assert out["u"].to_pylist() == [v.upper() if v else None for v in batch]
        assert out["n"].to_pylist() == [len(v) if v else None for v in batch]
    assert len(per_distinct(connection, pa.array(distinct), query, where=pa.array([False] * 40))["u"].drop_null()) == 0


def test_a_distinct_query_answers_a_batch_without_values() -> None:
    query = DistinctQuery("select upper(value) as u from distinct_values")
    out = per_distinct(open_parse_connection(), pa.array([None, None], pa.string()), query)
    assert out["u"].to_pylist() == [None, None]


def test_a_distinct_query_forgets_everything_past_its_limit_and_stays_right() -> None:
    connection = open_parse_connection()
    query = DistinctQuery("select upper(value) as u from distinct_values", limit=3)
    for batch in (["a", "b"], ["b", "c", "d"], ["a", "e"]):
        rows = pa.array(batch * 5)  # values that repeat: answered from the query's cache
        assert per_distinct(connection, rows, query)["u"].to_pylist() == [v.upper() for v in batch * 5]


def test_taken_from_a_chunked_column_is_pyarrows_take() -> None:
    column = pa.chunked_array([pa.array(["a", "b", None]), pa.array([], pa.string()), pa.array(["d", "e"])])
    rng = np.random.default_rng(3)
    for _ in range(50):
        positions = rng.integers(-1, len(column), size=rng.integers(0, 8))
        expected = column.combine_chunks().take(pa.array(positions, mask=positions < 0))
        assert taken(column, positions).to_pylist() == expected.to_pylist()
