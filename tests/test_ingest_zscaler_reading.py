"""How Zscaler's readers put a batch's slices together: encoded once over all slices, read from the batch's own
chunks (whatever their sizes), in line order."""

from __future__ import annotations

import pyarrow as pa
import pytest

from detector.ingest import zscaler
from detector.ingest.zscaler import _encoded_together, _json_layout_of, _KnownLayouts, _line_slices
from tests.test_ingest_zscaler_layouts import EVENT, ODD_LINES, nss


@pytest.mark.parametrize("parts", [
    [],
    [[]],
    [["a", "b"], [], ["c", "a", None], ["d"]],
    [[None, None]],
    [[f"v{i}" for i in range(50)], [f"v{i}" for i in range(25, 90)]],
])
def test_slices_encoded_together_as_one_column(parts: list[list[str | None]]) -> None:
    arrays = [pa.array(part, pa.string()) for part in parts]
    together = _encoded_together(arrays)
    expected = [value for part in parts for value in part]
    assert together.to_pylist() == expected
    assert together.dictionary.null_count == 0
    assert len(set(together.dictionary.to_pylist())) == len(together.dictionary)


def test_line_slices_are_the_chunks_cut_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zscaler, "TOKEN_BYTES", 14)
    lines = [f"line {i}" for i in range(11)]  # (6 bytes each, "line 10" 7)
    column = pa.chunked_array([pa.array(lines[:4]), pa.array([], pa.string()), pa.array(lines[4:11])])
    table = pa.table({"line_no": pa.array(range(1, 12), pa.int64()), "line": column})
    slices = _line_slices(table)
    assert [len(piece) for piece in slices] == [2, 2, 2, 2, 3]  # (about equal slices, nearest to 14 bytes each)
    assert [line for piece in slices for line in piece.to_pylist()] == lines
    assert [len(piece) for piece in _line_slices(table.slice(0, 0))] == [0]


def test_known_json_layouts_give_what_learning_gives() -> None:
    known = _KnownLayouts()
    lines = [nss(EVENT), nss({**EVENT, "login": ""}), json_line := nss({**EVENT, "dept": "x y"}), *ODD_LINES,
             json_line.replace("x y", "x\\y"), json_line.replace("x y", 'x"y'), json_line.replace("x y", "x\ny"),
             json_line.replace("x y", "x\x7fy é"), None]
    for line in lines * 2:  # (the second time, the layouts are known)
        assert known.layout_of(line) == _json_layout_of(line)
