"""umbrella._ScannedFields (the compiled split of Umbrella's proxy lines) reads the columns as `_Fields` (pyarrow's
split at `","`) reads them.

Lines are written from the "Web / proxy Log Formats" of Cisco's Umbrella documentation
(https://docs.umbrella.com/deployment-umbrella/docs/log-formats-and-versioning): every field double-quoted, separated
by commas; with fields that hold quotes, commas, `","` itself, spaces at a separator and non-ASCII text, lines cut
short and lines without any quote.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest.umbrella import _PROXY_READ, _Fields, _ScannedFields

_FIELD = st.lists(st.sampled_from([*'ab ,"é日-', '","', '",', ',"', '", "']), max_size=5).map("".join)


@st.composite
def _line(draw: st.DrawFn) -> str:
    fields = draw(st.lists(_FIELD, min_size=0, max_size=34))
    line = '"' + '","'.join(fields) + '"' if draw(st.booleans()) else ",".join(fields)
    cut = draw(st.integers(0, len(line)))
    return draw(st.sampled_from([line, line[:cut], line[cut:]]))


def _texts(fields: _Fields | _ScannedFields, at: int | np.ndarray, since: int = 0) -> list[str | None]:
    return fields.text(fields.codes(at, since)).to_pylist()


@settings(max_examples=300, deadline=None)
@given(st.lists(_line(), min_size=1, max_size=30), st.integers(1, 3))
def test_columns_as_the_split_reads_them(lines: list[str], chunks: int) -> None:
    cut = np.linspace(0, len(lines), chunks + 1).astype(int)
    table = pa.table({"line": pa.chunked_array([pa.array(lines[a:b], pa.string()) for a, b in itertools.pairwise(cut)],
                                               pa.string())})
    want, got = _Fields(table, columns=26), _ScannedFields(table, 26, _PROXY_READ)
    assert got.count.to_pylist() == want.count.to_pylist()
    assert got.quoted.to_pylist() == want.quoted.to_pylist()
    for at in _PROXY_READ:
        assert _texts(got, at) == _texts(want, at)
        assert got.encoded(at).to_pylist() == want.encoded(at).to_pylist()
    per_line = np.array([2 + (i % 2) for i in range(len(lines))])
    assert got.encoded(per_line).to_pylist() == want.encoded(per_line).to_pylist()
    assert _texts(got, 23, since=25) == _texts(want, 23, since=25)
    assert got.encoded(25, since=26).to_pylist() == want.encoded(25, since=26).to_pylist()
