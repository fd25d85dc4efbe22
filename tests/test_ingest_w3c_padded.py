"""Padded W3C lines (runs of spaces between values, spaces first or last: Oracle pads so, and Elastic's ProxySG
pipeline notes the appliance writes two spaces between values of bcreportermain_v1,
https://github.com/elastic/integrations/blob/main/packages/proxysg/data_stream/log/elasticsearch/ingest_pipeline/bcreportermain_v1.yml)
are read by the CSV reader with each run made one space: the same values as the quote-aware split at runs of spaces.
"""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest.proxy_columns import fields_of_lines
from detector.ingest.w3c import Header, Plan, _cleaned, _split_values, data_fields, line_kinds

FIELDS = ("date", "time", "time-taken", "c-ip", "cs-username", "cs-auth-group", "x-exception-id", "sc-filter-result",
          "cs-categories", "cs(referer)", "sc-status")
VALUES = st.sampled_from(["2026-11-03", "13:02:11", "140", "10.30.2.41", "-", "GEMEENTE\\sv", '"Artificial Intelligence"',
                          '"a ""quoted"" word"', '""', '"two  spaces"', "x\x01y", '"', 'a"b', "é", "policy_denied"])


def _split_reading(text: pa.Array, plan: Plan) -> tuple[list[int], dict[int, list[object]]]:
    """Every line that is not regular read by the split, as before padded lines went to the CSV reader: each
    line's count, and the values at the positions the plan reads."""
    regular, _ = line_kinds(text)
    counts, values = fields_of_lines(text, " ", len(plan.fields), sorted(plan.used), regular, _split_values, _cleaned)
    return counts.to_pylist(), {p: v.to_pylist() for p, v in values.items()}


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.tuples(st.one_of(st.lists(VALUES, min_size=11, max_size=11), st.lists(VALUES, max_size=13)), st.lists(st.integers(1, 6), min_size=14, max_size=14),
                                st.integers(0, 2), st.integers(0, 2)), min_size=1, max_size=25),
       bom=st.booleans())
def test_padded_lines_read_by_the_csv_reader_as_the_split_reads_them(
        lines: list[tuple[list[str], list[int], int, int]], bom: bool) -> None:
    texts = [" " * lead + "".join(value + " " * gap for value, gap in zip(values, gaps, strict=False)).rstrip(" ")
             + " " * trail for values, gaps, lead, trail in lines]
    if bom:
        texts[0] = "\ufeff" + texts[0]
    text = pa.array(texts)
    plan = Plan(Header(fields=FIELDS), "UTC")
    counts, values = data_fields(plan, text)
    split_counts, split_values = _split_reading(text, plan)
    assert counts.to_pylist() == split_counts
    whole = [n == len(FIELDS) for n in split_counts]  # (a line of another count is rejected: its values unread)
    for position, value in values.items():
        assert [v for v, ok in zip(value.to_pylist(), whole, strict=True) if ok] == \
            [v for v, ok in zip(split_values[position], whole, strict=True) if ok]


def test_which_lines_are_padded() -> None:
    """Two spaces together outside quotes, none inside, a line regular but for them (a single space first or last
    is an empty value to the split: not padded)."""
    text = pa.array(["a b c", "a  b c", " a  b ", "a b ", '"x  y" b', '"x  y"  b', "   ", "", 'a  "b', "a\x01  b"])
    regular, padded = line_kinds(text)
    assert regular.tolist() == [True, False, False, False, True, False, False, False, False, False]
    assert padded.tolist() == [False, True, True, False, False, False, True, False, False, False]
