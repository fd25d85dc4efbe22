"""W3C: which lines go to Arrow's CSV reader (numpy on the quotes and spaces, as REGULAR_LINE says)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest.w3c import REGULAR_LINE, regular_lines

LINE = st.text(alphabet=st.sampled_from([*'ab  ""-\x01\x02\r', "é"]), max_size=16)


def pattern_says(lines: list[str]) -> list[bool]:
    text = pa.array(lines)
    matches = pc.and_(pc.match_substring_regex(text, REGULAR_LINE), pc.greater(pc.binary_length(text), 0))
    return pc.fill_null(matches, False).to_pylist()


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(LINE, min_size=1, max_size=20), skip=st.integers(0, 3))
def test_regular_lines_are_the_ones_the_pattern_matches(lines: list[str], skip: int) -> None:
    """Also on a slice of a larger array (its offsets do not start at 0, its buffer has text before it)."""
    expected = pattern_says(lines)
    assert regular_lines(pa.array(lines)).tolist() == expected
    skip = min(skip, len(lines))
    assert regular_lines(pa.array(lines).slice(skip)).tolist() == expected[skip:]


def test_empty_values_make_a_line_irregular_outside_quotes_only() -> None:
    lines = ['a "b  c" d', "a  b", " a b", "a b ", '"x" "y"', '"x"  "y"', '""', "", '"a  b"', 'a ""  b']
    assert regular_lines(pa.array(lines)).tolist() == [True, False, False, False, True, False, True, False, True,
                                                      False]
    assert regular_lines(pa.array(lines)).tolist() == pattern_says(lines)
