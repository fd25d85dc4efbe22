"""Shared fixtures: an offline guard, a fresh data directory, and the team's vendor samples."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from detector.config import load_settings

ROOT = Path(__file__).resolve().parent.parent
VENDOR_SAMPLES = ROOT.parent / "shared" / "vendor-samples"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fully offline: any attempt to reach another host fails the test (loopback stays allowed)."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in {"127.0.0.1", "::1", "localhost"} and self.family != socket.AF_UNIX:
            raise AssertionError(f"test tried to open a network connection to {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data directory, with the ingest time zone fixed so results do not depend on the machine."""
    data = tmp_path / "home"
    monkeypatch.setenv("SHADOW_AI_HOME", str(data))
    settings = load_settings(data)
    config = settings.home / "shadow-ai.toml"
    config.write_text(config.read_text().replace('timezone = "local"', 'timezone = "Europe/Amsterdam"'))
    return data


@pytest.fixture(scope="session")
def vendor_samples() -> Path:
    """`../shared/vendor-samples/`: present in CI (a missing folder fails there), maybe absent in a user's clone."""
    if not VENDOR_SAMPLES.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"vendor samples missing in CI: {VENDOR_SAMPLES}")
        pytest.skip(f"vendor samples not present at {VENDOR_SAMPLES} (they live beside the repo, not in it)")
    return VENDOR_SAMPLES
