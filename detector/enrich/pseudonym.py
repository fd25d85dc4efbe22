"""Keyed pseudonyms for people: user names become HMAC-SHA256 pseudonyms before they reach the lake.

The key is created on first use (file mode 0600) in the data directory. The same key hashes users.csv
when it is joined, so attribution works without the lake ever holding a name.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import os
import secrets
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

KEY_FILE = "pseudonym.key"
IDENTITY_FILE = "identities.csv"
PREFIX = "u-"


def normalise_user(name: str) -> str:
    """One spelling per person across sources: `DOMAIN\\user`, `user@domain` and `User` are `user`."""
    name = name.strip().lower()
    name = name.rsplit("\\", 1)[-1]
    return name.split("@", 1)[0]


def load_key(home: Path) -> bytes:
    """The data directory's pseudonymisation key, created (0600) on first use."""
    path = home / KEY_FILE
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    return bytes.fromhex(path.read_text().strip())


def pseudonym(key: bytes, user: str) -> str:
    digest = hmac.new(key, normalise_user(user).encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:20]


class Pseudonymiser:
    """Replaces user names in Arrow columns by pseudonyms, hashing each distinct name once."""

    def __init__(self, home: Path, keep_identity_map: bool) -> None:
        self._key = load_key(home)
        self._identity_path = home / IDENTITY_FILE if keep_identity_map else None
        self._known: dict[str, str] = {}
        self._recorded = self._recorded_pseudonyms()

    def _recorded_pseudonyms(self) -> set[str]:
        if self._identity_path is None or not self._identity_path.exists():
            return set()
        with self._identity_path.open(encoding="utf-8", newline="") as handle:
            return {row["pseudonym"] for row in csv.DictReader(handle) if row.get("pseudonym")}

    def __call__(self, names: pa.ChunkedArray | pa.Array) -> pa.Array:
        if isinstance(names, pa.ChunkedArray):
            names = names.combine_chunks()
        encoded = names if pa.types.is_dictionary(names.type) else pc.dictionary_encode(names)
        distinct = encoded.dictionary.to_pylist()
        new = [name for name in distinct if name is not None and name.strip() and name not in self._known]
        for name in new:
            self._known[name] = pseudonym(self._key, name)
        self._remember([(self._known[name], normalise_user(name)) for name in new])
        mapped = pa.array([self._known.get(name) if name is not None else None for name in distinct], pa.string())
        # imported here: classify reads the directory through this module without loading every format
        from detector.ingest.arrow_ops import dictionary_array

        return dictionary_array(encoded.indices, mapped)  # dictionary-encoded, as the lake writes it

    def _remember(self, pairs: list[tuple[str, str]]) -> None:
        """Append new (pseudonym, user) rows to the access-restricted re-identification map, if the
        configuration keeps one: one append per batch, not one per person."""
        if self._identity_path is None:
            return
        rows = []
        for value, user in pairs:
            if value not in self._recorded:
                self._recorded.add(value)
                rows.append((value, user))
        if not rows:
            return
        new = not self._identity_path.exists()
        fd = os.open(self._identity_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            if new:
                writer.writerow(["pseudonym", "user"])
            writer.writerows(rows)
