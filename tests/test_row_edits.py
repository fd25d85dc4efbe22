"""row_edits: a few values of a column changed in their places, the others kept as they are."""

import numpy as np
import pyarrow as pa

from detector.ingest.row_edits import first_match_replaced, with_rows


def test_replacements_land_in_their_rows_in_order():
    values = pa.array(["a", None, "c", "d", "e"])
    changed = with_rows(values, np.array([1, 3]), pa.array(["B", "D"]))
    assert changed.to_pylist() == ["a", "B", "c", "D", "e"]


def test_only_the_listed_rows_lose_their_first_match():
    text = pa.array(["x: one x: two", "x: three", "x: four"])
    assert first_match_replaced(text, np.array([0, 2]), "^x: ", "").to_pylist() == [
        "one x: two", "x: three", "four"]


def test_no_rows_gives_the_same_array_back():
    text = pa.array(["x: one"])
    assert first_match_replaced(text, np.array([], np.int64), "^x: ", "") is text
