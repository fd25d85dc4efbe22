"""proxysg_scan's compiled count of ELFF values equals proxysg.value_counts' numpy count, line by line.

Lines are built from ELFF's value syntax (W3C extended log format, https://www.w3.org/TR/WD-logfile.html: values
separated by spaces, a value with spaces in double quotes, `""` for a quote inside) and the two spaces Elastic notes
ProxySG writes between bcreportermain_v1 values
(https://github.com/elastic/integrations/blob/main/packages/proxysg/data_stream/log/elasticsearch/ingest_pipeline/bcreportermain_v1.yml),
and broken anyhow: an odd number of quotes, spaces first or last, empty and null lines, multi-byte text.
"""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest.layout_bytes import line_bytes
from detector.ingest.proxysg import value_counts
from detector.ingest.proxysg_scan import value_counts as compiled_counts

VALUE = st.one_of(st.sampled_from(["2026-11-02", "08:15:04", "-", "10.20.1.15", "TCP_NC_MISS", '""', '"a ""b"" c"',
                                   '"Mozilla/5.0 (Windows NT 10.0)"', "ü", '"']),
                  st.text(alphabet=' "ab-é', max_size=8))
LINE = st.one_of(st.none(), st.builds(lambda values, gaps: "".join(v + g for v, g in zip(values, gaps[:len(values)], strict=True)),
                                      st.lists(VALUE, max_size=12), st.lists(st.sampled_from([" ", "  ", "   ", ""]),
                                                                             min_size=12, max_size=12)))


def _compiled(text: pa.Array) -> list[int]:
    _, data, offsets = line_bytes(text)
    return compiled_counts(data, offsets).tolist()


@settings(max_examples=300, deadline=None)
@given(st.lists(LINE, max_size=40), st.integers(0, 5))
def test_compiled_count_is_numpys(lines: list[str | None], skip: int) -> None:
    """Each line's count is value_counts', in a whole array and in a slice of one (offsets into a larger buffer)."""
    text = pa.array(lines, pa.string())
    assert _compiled(text) == value_counts(text).tolist()
    part = text.slice(min(skip, len(text)))
    assert _compiled(part) == value_counts(part).tolist()


def test_documented_counts() -> None:
    """Runs of spaces separate one pair of values, spaces inside quotes none; a line of an odd number of quotes
    counts the spaces after its last quote as inside; an empty line has no value."""
    text = pa.array(['a b  c', ' a "b c" d ', 'a "b ""c"" d" e', 'a "b c', "", None, "   "])
    assert _compiled(text) == [3, 3, 3, 2, 0, 0, 0]
