"""proxy_columns: several items of token lists in one take, and the last byte of each value."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import list_item
from detector.ingest.proxy_columns import last_bytes, list_items


def test_list_items_are_list_item_for_each_index() -> None:
    lists = pc.split_pattern(pa.array(["a b c", "d", "", "e f g h", None, "x y"]), " ").slice(1)
    items = list_items(lists, [0, 2, 1])
    for item, index in zip(items, [0, 2, 1], strict=True):
        assert item.to_pylist() == list_item(lists, index).to_pylist()
    assert items[1].to_pylist() == [None, None, "g", None, None]


def test_last_bytes() -> None:
    text = pa.array(["skip", "ab ", "", "é", None, "x"]).slice(1)
    assert last_bytes(text).tolist() == [ord(" "), 0, 0xA9, 0, ord("x")]
