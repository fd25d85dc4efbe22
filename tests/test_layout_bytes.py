"""layout_bytes: separators found on the bytes, constant text compared in 64-bit words at its places."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from detector.ingest.layout_bytes import ConstantText, byte_places, each_row, line_bytes, texts_between


def test_byte_places_of_a_slice_point_into_the_whole_buffer() -> None:
    text = pa.array(["x\ty", "a\tb\tc", "", "d\te"]).slice(1)
    _, data, offsets = line_bytes(text)
    places, first = byte_places(data, offsets, 9)
    assert [bytes(data[p - 1:p]) for p in places] == [b"a", b"b", b"d"]
    assert list(np.diff(first)) == [2, 0, 1]
    assert each_row(places, first, np.array([0]), 2).tolist() == [list(places[:2])]


def test_constant_text_of_any_length_up_to_the_end_of_the_buffer() -> None:
    long_name = b"unscannabletype_and_more="
    line = b"ab=1\t" + long_name + b"2\tua=3"
    text = pa.array([line.decode()] * 2)
    _, data, offsets = line_bytes(text)
    places, first = byte_places(data, offsets, 9)
    starts = each_row(places, first, np.arange(2), 2) + 1
    assert ConstantText([long_name, b"ua="]).found(data, starts).tolist() == [True, True]
    assert ConstantText([long_name, b"ub="]).found(data, starts).tolist() == [False, False]
    assert ConstantText([long_name[:-2] + b"x=", b"ua="]).found(data, starts).tolist() == [False, False]
    # a text that would run past the buffer's end is compared against zeros there, not read out of bounds
    assert ConstantText([b"", b"ua=3xyzw"]).found(data, starts).tolist() == [False, False]


def test_constant_text_with_no_rows() -> None:
    _, data, _ = line_bytes(pa.array(["a"]))
    assert ConstantText([b"a="]).found(data, np.zeros((0, 1), np.int64)).tolist() == []


def test_texts_between_cuts_each_column_out_of_a_slice_of_lines() -> None:
    text = pa.array(["skip", "ab=1\tcd=22", "é=3\tf=", "g=4\th=5"]).slice(1)
    buffer, data, offsets = line_bytes(text)
    tabs, first = byte_places(data, offsets, 9)
    cuts = each_row(tabs, first, np.arange(3), 1)[:, 0]
    names, values = texts_between(buffer, [offsets[:-1], cuts + 1], [cuts, offsets[1:]])
    assert names.to_pylist() == ["ab=1", "é=3", "g=4"]
    assert values.to_pylist() == ["cd=22", "f=", "h=5"]
    # an end before its start is an empty text; no rows, empty columns
    assert texts_between(buffer, [cuts], [offsets[:-1]])[0].to_pylist() == ["", "", ""]
    assert [column.to_pylist() for column in texts_between(buffer, [cuts[:0]] * 2, [cuts[:0]] * 2)] == [[], []]
