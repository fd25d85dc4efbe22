"""Where the product's own data lives (the bundled signature catalog), found without heavy imports."""

from __future__ import annotations

from pathlib import Path

SIGNATURES_DIR = Path(__file__).resolve().parent.parent / "signatures"
