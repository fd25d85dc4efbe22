"""Model API paths (signatures/ai_api_paths.txt): a host whose requests go to `/v1/chat/completions` or
`/models/gemini-2.5-flash:generateContent` is a model API whatever its name says. API relays, gateways and
self-hosted models are named like anything else (the name model misses most of them), but the paths of the
OpenAI-compatible, Gemini and Bedrock APIs are the same on every one of them. Where the logs have URL paths,
classify flags such a host for review (`hosts.judge_hosts`); queries/host_behaviour.sql counts the calls.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from detector.signatures import SIGNATURES_DIR

API_PATHS_FILE = "ai_api_paths.txt"
COLUMN = "api_calls"  # queries/host_behaviour.sql: the host's requests to one of the paths
# the rule of a host not judged AI whose requests to these paths are AI use (classify's api_path_use), after their count
AI_USE_RULE = f" requests to a model API path are AI use, not the rest of its traffic (signatures/{API_PATHS_FILE})"
NEVER = r"[^\s\S]"  # matches no text, in RE2 and in Python's re alike: the pattern of an empty list


def read_entries(file_name: str, catalog_dir: Path = SIGNATURES_DIR) -> list[str]:
    """The entries of a signatures/ list (the configured catalog's, else the bundled one): one per line, `#`
    starting a comment."""
    path = catalog_dir / file_name
    if not path.exists():
        path = SIGNATURES_DIR / file_name
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def read_api_paths(catalog_dir: Path = SIGNATURES_DIR) -> list[str]:
    """The paths of the list: one per line, `#` comments."""
    return read_entries(API_PATHS_FILE, catalog_dir)


def path_pattern(paths: Sequence[str]) -> str:
    """One RE2 pattern (DuckDB's regexp_matches) that matches a URL path ending in any of `paths`:
    case-insensitive, one trailing slash allowed, `*` standing for a part of one segment (no `/`)."""
    if not paths:
        return NEVER
    alternatives = sorted({re.escape(p.rstrip("/")).replace(r"\*", "[^/]*") for p in paths})
    return "(?i)(?:" + "|".join(alternatives) + ")/?$"


@functools.cache
def default_pattern(catalog_dir: Path = SIGNATURES_DIR) -> str:
    return path_pattern(read_api_paths(catalog_dir))


def is_api_path(path: str, catalog_dir: Path = SIGNATURES_DIR) -> bool:
    """Whether one path (a URL given to `lookup`) is a model API path; the same pattern, in Python's re."""
    return _compiled(catalog_dir).search(path) is not None


@functools.cache
def _compiled(catalog_dir: Path) -> re.Pattern[str]:
    return re.compile(default_pattern(catalog_dir))


def calling_hosts(behaviour: pa.Table | None) -> dict[str, int]:
    """The hosts of a host_behaviour table that called a model API path, with how many requests did."""
    if behaviour is None or COLUMN not in behaviour.column_names or not behaviour.num_rows:
        return {}
    calling = behaviour.filter(pc.fill_null(pc.greater(behaviour.column(COLUMN), 0), False))
    return dict(zip(calling.column("host").to_pylist(), calling.column(COLUMN).to_pylist(), strict=True))
