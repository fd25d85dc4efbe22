"""url_places and text_views give what the splits they replace give (distinct_sql.split_scheme then
arrow_ops.authority_and_path; Squid's EPOCH_SECONDS expression), on written edge cases and on arbitrary text.

URL layout: RFC 3986 section 3 (scheme "://" authority path ["?" query] ["#" fragment]),
https://www.rfc-editor.org/rfc/rfc3986#section-3; Squid's time.ms: http://www.squid-cache.org/Doc/config/logformat/
"""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings

from detector.ingest.arrow_ops import authority_and_path
from detector.ingest.distinct_sql import split_scheme
from detector.ingest.squid import EPOCH_SECONDS, _epoch_seconds
from detector.ingest.text_views import find, first_of, places
from detector.ingest.url_places import url_places

URLS = [
    "http://chatgpt.com/backend-api/models?x=1", "https://claude.ai", "https://claude.ai?x=/y", "https://claude.ai#top/x",
    "HTTP://Host.example:8080/a/b#f?g", "h-t.t+p://x/y", "1http://x/y", "://x/y", "http:/x/y", "http//x", "", "/",
    "/relative/path?next=https://chatgpt.com/c", "chatgpt.com:443", "user@host:21/pub", "http://[2001:db8::7]:8443/s",
    "ftp://é.example/é?é#é", "http://", "http://?", "http://#", "http:///", "a://b://c/d", "x?y://z/w", None,
]


def old_parts(url: pa.Array) -> tuple[list, list, list]:
    scheme, rest = split_scheme(url)
    authority, path = authority_and_path(rest)
    return scheme.to_pylist(), authority.to_pylist(), pc.if_else(pc.is_valid(scheme), path, None).to_pylist()


def new_parts(url: pa.Array) -> tuple[list, list, list]:
    scheme, authority, path = url_places(url)
    return scheme.to_pylist(), authority.to_pylist(), path.to_pylist()


def test_url_parts_are_those_of_the_splits() -> None:
    url = pa.array(URLS, pa.string())
    assert new_parts(url) == old_parts(url)
    assert new_parts(url)[1][0] == "chatgpt.com" and new_parts(url)[2][2] == "/"  # (the query before any `/`)


def test_url_parts_of_a_slice_of_a_larger_array() -> None:
    url = pa.array(["x y", *URLS, "tail"], pa.string()).slice(1, len(URLS))
    assert new_parts(url) == old_parts(url)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("ab1:/?#.+-_@é ")), max_size=14) | st.none(), max_size=30))
def test_any_url_text_gives_the_splits_parts(texts: list[str | None]) -> None:
    url = pa.array(texts, pa.string())
    assert new_parts(url) == old_parts(url)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("0123456789.-+e ")), max_size=22) | st.none(), max_size=30))
def test_epoch_seconds_are_what_the_expression_accepts(texts: list[str | None]) -> None:
    text = pa.array(texts, pa.string())
    expected = pc.fill_null(pc.match_substring_regex(text, EPOCH_SECONDS), False).to_pylist()
    assert _epoch_seconds(text).to_pylist() == expected


def test_epoch_seconds_edges() -> None:
    text = pa.array(["1700000000.123", "123456789012", "1234567890123", "1.1234567", "1.123456", ".5", "5.", "1..2",
                     "", None, "17e9", "١٢٣"], pa.string())
    assert _epoch_seconds(text).to_pylist() == [True, True, False, False, True, False, False, False, False, False,
                                                 False, False]


def test_searches_stop_at_each_parts_end() -> None:
    text = pa.array(["ab?", "c://d", "e?f#", ""], pa.string())
    buffer, start, end, _ = places(text)
    assert find(buffer, start, end, "://").tolist() == [-1, 1, -1, -1]
    assert find(buffer, start, end - 1, "?").tolist() == [-1, -1, 1, -1]  # (a part's end cuts it off)
    assert first_of(buffer, start, end, b"?#").tolist() == [2, -1, 1, -1]
    assert np.array_equal(first_of(buffer, start + 2, end, b"?#"), [0, -1, 1, -1])
