"""A URL's scheme, authority and path found by their places in the URL's own bytes (`text_views`), for formats
that hold one URL per line (Squid's native log).

The same parts as `distinct_sql.split_scheme` then `arrow_ops.authority_and_path` give (see there): the scheme is
the text before the first `://` where it is a scheme (`base.URL_SCHEME`); the authority runs from after it (or
the URL's start) to the first `/`, `?` or `#`; the path from that `/` to the first `?` or `#` after it, `/` where
there is none or a `?` or `#` comes first. Those split every URL at `://`, `/`, `?` and `#` into lists and copy
each part (~0.2 us a URL, a fifth of a Squid native line's parse); here Arrow searches for `://` and `/` (each found
a few bytes in), numpy finds the few `?` and `#` among the URLs' bytes, the scheme is tested once per distinct
scheme, and only the three columns are cut out.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.base import URL_SCHEME
from detector.ingest.byte_spans import spans
from detector.ingest.text_views import find, first_of, places


def url_places(url: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Per URL: its scheme as written (null where it has none), its authority (null where the URL is) and its
    path (null where it has no scheme; `/` where no path)."""
    buffer, start, end, valid = places(url)
    mark = find(buffer, start, end, "://")
    has_scheme = mark > 0  # (an empty scheme is none)
    scheme_end = start + np.maximum(mark, 0)
    if has_scheme.any():  # (tested once per distinct scheme)
        scheme = pc.dictionary_encode(spans(buffer, start, scheme_end, has_scheme))
        is_scheme = pc.match_substring_regex(scheme.dictionary, f"^{URL_SCHEME}$")
        has_scheme = pc.fill_null(is_scheme.take(scheme.indices), False).to_numpy(zero_copy_only=False)
    rest = np.where(has_scheme, scheme_end + 3, start)
    slash = find(buffer, rest, end, "/")
    query = first_of(buffer, rest, end, b"?#")
    early = (query >= 0) & ((slash < 0) | (query < slash))  # (`host?query`: no `/` before it)
    authority_end = rest + np.where(early, query, np.where(slash >= 0, slash, end - rest))
    has_path = ~early & (slash >= 0)
    # (without a path of its own, the path `/` is the first `/` of the URL's `://`)
    path_start = np.where(has_path, rest + slash, np.where(has_scheme, scheme_end + 1, start))
    path_end = np.where(has_path, np.where(query >= 0, rest + query, end), np.where(has_scheme, scheme_end + 2, start))
    return (spans(buffer, start, scheme_end, has_scheme & valid), spans(buffer, rest, authority_end, valid),
            spans(buffer, path_start, path_end, has_scheme & valid))
