"""Privacy by design: small groups suppressed, re-identification only when allowed and always audited,
and retention (pruning old events).
"""

from __future__ import annotations

import csv
import getpass
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd

from detector.config import Settings
from detector.enrich.pseudonym import IDENTITY_FILE
from detector.errors import ConfigError, DetectorError
from detector.lake import Lake

AUDIT_FILE = "audit.log"


def suppress_small_groups(frame: pd.DataFrame, min_size: int, users: str = "users",
                          measures: tuple[str, ...] = ()) -> pd.DataFrame:
    """Aggregates of fewer than `min_size` distinct users are shown as "< N": their figures (users and
    the given measures) are blanked, so that nobody can be singled out from a small group."""
    shown = frame.copy()
    small = shown[users] < min_size
    shown[users] = shown[users].astype("object")
    shown.loc[small, users] = f"< {min_size}"
    for column in measures:
        shown[column] = shown[column].astype("object")
        shown.loc[small, column] = None
    return shown


@dataclass(frozen=True)
class Revealed:
    pseudonym: str
    user: str


def reveal(settings: Settings, pseudonym: str, reason: str) -> Revealed:
    """Resolve one pseudonym, only where the configuration allows it; every attempt is audited."""
    reason = reason.strip()
    if len(reason) < 10:
        raise ConfigError("give a real reason (at least 10 characters): it is recorded in the audit log")
    allowed = settings.allow_reveal and settings.keep_identity_map
    user = _lookup(settings.home / IDENTITY_FILE, pseudonym) if allowed else None
    _audit(settings.home, {"action": "reveal", "pseudonym": pseudonym, "reason": reason,
                           "allowed": allowed, "found": user is not None})
    if not allowed:
        raise DetectorError("revealing identities is not allowed by this configuration "
                            "([privacy] allow_reveal = false); the attempt was recorded in the audit log")
    if user is None:
        raise DetectorError(f"unknown pseudonym {pseudonym!r}")
    return Revealed(pseudonym, user)


def _lookup(path: Path, pseudonym: str) -> str | None:
    if not path.exists():
        return None
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row.get("pseudonym") == pseudonym:
                return row.get("user")
    return None


def _audit(home: Path, record: dict[str, object]) -> None:
    """Append to the audit log (mode 0600). The tool only ever appends: it has no command to edit it."""
    entry = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "by": _who(), **record}
    fd = os.open(home / AUDIT_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False) + "\n")


def _who() -> str:
    try:
        return os.environ.get("SUDO_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class Pruned:
    cutoff: date
    partitions: int
    reject_files: int


def prune(settings: Settings, older_than_days: int, dry_run: bool = False) -> Pruned:
    """Delete event partitions (whole days) older than the cutoff, and rejects ingested before it.

    The manifest is kept, so a pruned file is not ingested again by accident."""
    if older_than_days < 1:
        raise ConfigError("--older-than must be at least 1 day")
    cutoff = datetime.now(UTC).date() - timedelta(days=older_than_days)
    lake = Lake(settings.lake)
    old_days = [
        folder for folder in lake.events_dir.glob("source_kind=*/day=*")
        if folder.is_dir() and _day(folder.name) is not None and _day(folder.name) < cutoff  # type: ignore[operator]
    ]
    old_rejects = [
        path for path in lake.reject_files()
        if datetime.fromtimestamp(path.stat().st_mtime, UTC).date() < cutoff
    ]
    if not dry_run:
        with lake.writing():
            for folder in old_days:
                shutil.rmtree(folder)
            for path in old_rejects:
                path.unlink()
        _audit(settings.home, {"action": "prune", "cutoff": cutoff.isoformat(), "partitions": len(old_days),
                               "reject_files": len(old_rejects)})
    return Pruned(cutoff, len(old_days), len(old_rejects))


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(name.split("=", 1)[1])
    except ValueError:
        return None
