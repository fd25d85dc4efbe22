"""proxy_columns: the Arrow building blocks of the proxy formats (Squid common/extended, Cisco WSA, W3C, CSV)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest.arrow_ops import fields_in_slices, quoted_value, split_quoted
from detector.ingest.csv_generic import regular_line_pattern
from detector.ingest.proxy_columns import (
    delimited_fields,
    first_valid,
    joined_pairs,
    placed,
)
from detector.ingest.w3c import REGULAR_LINE


def decoded(values: pa.Array) -> list[object]:
    return values.dictionary_decode().to_pylist() if pa.types.is_dictionary(values.type) else values.to_pylist()


def test_first_valid_is_coalesce_on_dictionary_indices() -> None:
    a = pc.dictionary_encode(pa.array(["x", None, None, "y"]))
    b = pc.dictionary_encode(pa.array(["p", "q", None, "r"]))
    constant = pc.dictionary_encode(pa.array(["unknown"]))
    assert decoded(first_valid(a, b)) == ["x", "q", None, "y"]
    assert decoded(first_valid(a, b, constant)) == ["x", "q", "unknown", "y"]


def test_joined_pairs_joins_each_distinct_pair_once() -> None:
    dates = pc.dictionary_encode(pa.array(["2026-03-13", "2026-03-13", None, "2026-03-14"]))
    times = pc.dictionary_encode(pa.array(["08:00:00", "09:00:00", "10:00:00", "08:00:00"]))
    joined = joined_pairs(dates, times)
    assert decoded(joined) == ["2026-03-13 08:00:00", "2026-03-13 09:00:00", None, "2026-03-14 08:00:00"]
    assert len(joined.dictionary) == 3


def test_placed_puts_parts_back_at_their_rows() -> None:
    column = placed(4, [(np.array([0, 3]), pa.array(["a", "b"])), (np.array([2]), pa.array(["c"]))])
    assert decoded(column) == ["a", None, "c", "b"]


LINE = st.text(alphabet=st.sampled_from(list('ab ,"-\x01\t;')), max_size=16)


def split_reading(lines: list[str], sep: str, count: int) -> tuple[list[int], list[list[object]]]:
    """Field counts and values as the quote-aware split (the meaning of PROXY_MACROS' split_quoted) reads them."""
    counts, fields = fields_in_slices(pa.array(lines), lambda part: split_quoted(part, sep), list(range(count)))
    return counts.to_pylist(), [quoted_value(field.dictionary_decode(), sep).to_pylist() for field in fields]


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(LINE, min_size=1, max_size=12), sep=st.sampled_from([",", ";", "\t", " "]),
       count=st.integers(1, 4))
def test_regular_lines_read_by_the_csv_reader_as_the_split_reads_them(lines: list[str], sep: str, count: int) -> None:
    """Lines the regular pattern admits go to Arrow's CSV reader, the rest to the split: both must give each
    line the split's field count and, where it has the header's count, the split's values."""
    pattern = REGULAR_LINE if sep == " " else regular_line_pattern(sep)
    _, counts, values = delimited_fields(
        pa.array(lines), sep, count, list(range(count)), pattern, lambda part: split_quoted(part, sep),
        lambda field: pa.DictionaryArray.from_arrays(field.indices, quoted_value(field.dictionary, sep)))
    expected_counts, expected_values = split_reading(lines, sep, count)
    assert counts.to_pylist() == expected_counts
    for position in range(count):
        got = decoded(values[position])
        for row, line_count in enumerate(expected_counts):
            if line_count == count:
                assert got[row] == expected_values[position][row], (lines[row], position)
