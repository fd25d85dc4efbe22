"""Web gateways' own AI categories (signatures/ai_vendor_categories.txt): a host the catalog lacks that the
gateway itself files under "Generative AI" or "AI & ML Applications" is a candidate AI service. The vendors keep
those categories up to date with thousands of services; a log that writes the category (vendor_category) lends
that knowledge to discovery, whatever the host's name. queries/host_behaviour.sql counts each host's requests in
such a category; classify flags a host the model judges that has any (`hosts.judge_hosts`) for an analyst.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from detector.classify.api_paths import NEVER, read_entries
from detector.signatures import SIGNATURES_DIR

CATEGORIES_FILE = "ai_vendor_categories.txt"
COLUMN = "ai_category_requests"  # queries/host_behaviour.sql: the host's requests filed under such a category
NAME_COLUMN = "ai_category"  # and one of those categories as logged
RULE = "the gateway's own category calls it AI"


def read_categories(catalog_dir: Path = SIGNATURES_DIR) -> list[str]:
    """The category names of the list (the configured catalog's, else the bundled one): one per line."""
    return read_entries(CATEGORIES_FILE, catalog_dir)


def category_pattern(names: Sequence[str]) -> str:
    """One RE2 pattern (DuckDB's regexp_matches) that finds any of `names` as whole words in a logged category,
    case-insensitively; runs of spaces in a name match any run of spaces."""
    if not names:
        return NEVER
    alternatives = sorted({r"\s+".join(re.escape(word) for word in name.lower().split()) for name in names})
    return r"(?i)(?:^|[^a-z0-9])(?:" + "|".join(alternatives) + r")(?:[^a-z0-9]|$)"


@functools.cache
def default_pattern(catalog_dir: Path = SIGNATURES_DIR) -> str:
    return category_pattern(read_categories(catalog_dir))


def categorised_hosts(behaviour: pa.Table | None) -> dict[str, tuple[int, str]]:
    """The hosts of a host_behaviour table that the gateway filed under an AI category: their requests so filed, and
    one such category as logged."""
    if behaviour is None or COLUMN not in behaviour.column_names or not behaviour.num_rows:
        return {}
    found = behaviour.filter(pc.fill_null(pc.greater(behaviour.column(COLUMN), 0), False))
    return {host: (requests, name) for host, requests, name in zip(
        found.column("host").to_pylist(), found.column(COLUMN).to_pylist(), found.column(NAME_COLUMN).to_pylist(),
        strict=True)}


def rule(requests: int, name: str | None) -> str:
    """The `hosts` rule of a host flagged so: the category as logged, and how many requests it covers."""
    return f"{RULE}: \"{name}\" ({requests} requests; signatures/{CATEGORIES_FILE})"
