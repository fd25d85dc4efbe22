"""Analysts' decisions about hosts: AI (optionally which service) or not AI, with who and when.

Kept as JSON Lines in the data directory (append-only, so history is kept); the newest label of a host
wins. Labels override both the catalog and the model, and feed the model's next training.
"""

from __future__ import annotations

import getpass
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from detector.errors import ConfigError
from detector.signatures import Catalog, normalise_host

LABELS_FILE = "labels.jsonl"


@dataclass(frozen=True)
class Label:
    host: str
    ai: bool
    service: str | None
    category: str | None
    by: str
    at: str


def labels_path(home: Path) -> Path:
    return home / LABELS_FILE


def read_labels(home: Path) -> dict[str, Label]:
    """The current label of each host (the newest line for it)."""
    path = labels_path(home)
    if not path.exists():
        return {}
    current: dict[str, Label] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            label = Label(**json.loads(line))
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"not a label record: {exc}", f"{path}:{number}") from exc
        current[label.host] = label
    return current


def add_label(
    home: Path, host: str, ai: bool, catalog: Catalog, service: str | None = None, category: str | None = None
) -> Label:
    """Record an analyst's decision; a named service must exist in the catalog."""
    name = normalise_host(host)
    if not name:
        raise ConfigError(f"not a host name: {host!r}")
    if service is not None and service not in catalog.services:
        raise ConfigError(f"unknown service {service!r}: see signatures/ (or leave --service out)")
    if not ai and (service or category):
        raise ConfigError("a host labelled not-AI has no service or category")
    if service and not category:
        category = catalog.services[service].category
    label = Label(host=name, ai=ai, service=service, category=category, by=_who(),
                  at=datetime.now(UTC).isoformat(timespec="seconds"))
    home.mkdir(parents=True, exist_ok=True)
    with labels_path(home).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(label), sort_keys=True) + "\n")
    return label


def _who() -> str:
    try:
        return os.environ.get("SUDO_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
