"""Skyhigh SWG access lines behind a syslog header: the header is cut off where the record's `[dd/Mon/yyyy:`
starts, exactly as the replacement by SYSLOG_HEAD's expression takes it off, for every header style.

Layouts: the access log's time_stamp first (Skyhigh's "Access log rule set", https://success.skyhighsecurity.com/
Skyhigh_Secure_Web_Gateway_(On_Prem)/Monitoring/Logging/Access_log_rule_set), forwarded over syslog with an
RFC 3164 header (https://datatracker.ietf.org/doc/html/rfc3164#section-4.1) or an RFC 5424 one, with or without
structured data (https://datatracker.ietf.org/doc/html/rfc5424#section-6).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest.skyhigh_swg import SYSLOG_HEAD, unwrapped

RECORD = ('[20/Nov/2026:09:14:02 +0100] "GEMEENTE\\jdevries" 10.20.3.14 200 "GET https://chatgpt.com/ HTTP/1.1" '
          '"Generative AI" "Minimal Risk" "text/html" 5201 "Mozilla/5.0" "" "0"')
HEADERS = [
    "", "Nov 20 09:14:02 swg01 mwg: ", "<30>Nov 20 09:14:12 swg01 mwg[2231]: ", "<14> Nov  5 09:14:02 swg01 mwg: ",
    "<134>1 2026-11-20T08:14:09.312Z swg01.gemeente.local mwg - - - ",
    '<134>1 2026-11-20T08:14:09.312Z swg01 mwg 12 ID [meta sequenceId="1"] ',
    "2026-11-20T09:14:02+01:00 swg01 mwg: ", "Nov 20 2026 09:14:02 relay swg01 mwg: ", "Nov 20 09:14:02 ",
    "Nov 20 09:14:02 h [20/Nov/2026 x] ", "Nov 20 09:14:02 h a[20/Nov/2026:1 x ", "Nov 20 09:14:02 h [2/Nov/2026:1 ",
    "# comment ", "time_stamp ",
]


def _expected(text: pa.Array) -> list[str]:
    return pc.replace_substring_regex(text, SYSLOG_HEAD, r"\1", max_replacements=1).to_pylist()


def test_every_header_style_is_cut_off_as_the_expression_cuts_it() -> None:
    text = pa.array([head + RECORD for head in HEADERS] + [head for head in HEADERS] + ["é " + RECORD])
    found = unwrapped(text).to_pylist()
    assert found == _expected(text)
    assert found[1] == found[4] == found[5] == RECORD  # (a `[meta ...]` element before the record left to the expression)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.builds(lambda head, middle, record: head + middle + record, st.sampled_from(HEADERS),
                          st.lists(st.sampled_from([*" [x1:é/", "[20/Nov/2026:", " ["]), max_size=8).map("".join),
                          st.sampled_from([RECORD, RECORD[:12], ""])), min_size=1, max_size=10), st.integers(0, 2))
def test_any_header_is_cut_off_as_the_expression_cuts_it(lines: list[str], skip: int) -> None:
    text = pa.array(["[x"] * skip + lines).slice(skip)
    assert unwrapped(text).to_pylist() == _expected(text)
