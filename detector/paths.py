"""Where the product's own data lives (the bundled signature catalog), found without heavy imports.

The catalog is kept at the top of the repository (`signatures/`, data not code) and installed as the
package `detector.signatures_data` (see pyproject.toml): a wheel has it there, a source checkout or an
editable install reads the repository's folder.
"""

from __future__ import annotations

from pathlib import Path

_INSTALLED = Path(__file__).resolve().parent / "signatures_data"
_SOURCE = Path(__file__).resolve().parent.parent / "signatures"

SIGNATURES_DIR = _INSTALLED if _INSTALLED.is_dir() else _SOURCE
