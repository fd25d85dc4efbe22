"""proxy_columns: tokenising in slices (read_in_slices) and taking a batch's lines without a copy (line_text)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.proxy_columns import line_text, read_in_slices


def _first_and_rest(text: pa.Array) -> tuple[list[pa.Array], list[pa.Array]]:
    words = pc.split_pattern(text, " ", max_splits=1)
    first = pc.list_element(words, 0)
    rest = pc.if_else(pc.equal(pc.list_value_length(words), 2), pc.utf8_slice_codeunits(text, 2),
                      pa.scalar(None, pa.string()))
    return [pc.equal(first, "a"), first], [rest]


def test_read_in_slices_puts_kept_and_encoded_columns_together_in_order() -> None:
    lines = pa.array(["a x", "b y", "a", "c x", "a y", "b"])
    for slice_lines in (1, 2, 4, 6, 100):
        (is_a, first), (rest,) = read_in_slices(lines, _first_and_rest, slice_lines)
        assert is_a.to_pylist() == [True, False, True, False, True, False]
        assert first.to_pylist() == ["a", "b", "a", "c", "a", "b"]
        assert pa.types.is_dictionary(rest.type)
        assert rest.dictionary_decode().to_pylist() == ["x", "y", None, "x", "y", None]


def test_read_in_slices_of_no_lines() -> None:
    (is_a, first), (rest,) = read_in_slices(pa.array([], pa.string()), _first_and_rest, 4)
    assert len(is_a) == len(first) == len(rest) == 0


def test_line_text_takes_the_only_chunk_as_it_is_and_combines_several() -> None:
    one = pa.table({"line": pa.chunked_array([pa.array(["a", "b", "c"])])}).slice(1)
    assert line_text(one).to_pylist() == ["b", "c"]
    several = pa.table({"line": pa.chunked_array([pa.array(["a"]), pa.array(["b", "c"])])})
    assert line_text(several).to_pylist() == ["a", "b", "c"]
