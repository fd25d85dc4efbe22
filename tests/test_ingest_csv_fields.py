"""Generic CSV's fields: which lines go to Arrow's CSV reader (numpy on the quotes, as the regular pattern says)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest.csv_fields import regular_lines
from detector.ingest.csv_generic import regular_line_pattern

LINE = st.text(alphabet=st.sampled_from([*'ab ,;|\t"-\x01\x02\r', "é"]), max_size=14)


def pattern_says(lines: list[str], sep: str) -> list[bool]:
    text = pa.array(lines)
    matches = pc.and_(pc.match_substring_regex(text, regular_line_pattern(sep)), pc.greater(pc.binary_length(text), 0))
    return pc.fill_null(matches, False).to_pylist()


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(LINE, min_size=1, max_size=20), sep=st.sampled_from([",", ";", "\t", "|"]),
       skip=st.integers(0, 3))
def test_regular_lines_are_the_ones_the_pattern_matches(lines: list[str], sep: str, skip: int) -> None:
    """Also on a slice of a larger array (its offsets do not start at 0, its buffer has text before it)."""
    expected = pattern_says(lines, sep)
    assert regular_lines(pa.array(lines), sep).tolist() == expected
    skip = min(skip, len(lines))
    assert regular_lines(pa.array(lines).slice(skip), sep).tolist() == expected[skip:]


def test_quotes_decide_by_where_they_open_and_close() -> None:
    lines = ['a,"b,c",d', '"",x', '"a""b",c', '"""a",b', 'a"b,c', '"a"b,c', '"a,b', 'a,""""', '"x""",y', '', 'a,b']
    assert regular_lines(pa.array(lines), ",").tolist() == [True, True, True, False, False, False, False, False,
                                                           True, False, True]
