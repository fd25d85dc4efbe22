"""Where the data directory is and what `shadow-ai.toml` in it says."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from detector.errors import ConfigError
from detector.paths import SIGNATURES_DIR

CONFIG_NAME = "shadow-ai.toml"
HOME_ENV = "SHADOW_AI_HOME"
DEFAULT_HOME = "shadow-ai-data"


def default_config_text() -> str:
    return resources.files("detector").joinpath("default_config.toml").read_text(encoding="utf-8")


def resolve_home(home: str | os.PathLike[str] | None = None) -> Path:
    """--home, else $SHADOW_AI_HOME, else ./shadow-ai-data."""
    chosen = home or os.environ.get(HOME_ENV) or DEFAULT_HOME
    return Path(chosen).expanduser().resolve()


def local_timezone_name() -> str:
    tz = datetime.now().astimezone().tzinfo
    key = getattr(tz, "key", None)
    if key:
        return str(key)
    localtime = Path("/etc/localtime")
    if localtime.is_symlink() and "zoneinfo/" in str(localtime.resolve()):
        return str(localtime.resolve()).split("zoneinfo/", 1)[1]
    return os.environ.get("TZ") or "UTC"


@dataclass(frozen=True)
class Settings:
    home: Path
    organisation: str
    timezone: str
    batch_lines: int
    max_line_bytes: int
    min_group_size: int
    allow_reveal: bool
    keep_identity_map: bool
    catalog_dir: Path = SIGNATURES_DIR
    session_gap_seconds: int = 1800
    session_window_seconds: int = 900
    lease_seconds: int = 86400
    dns_window_seconds: int = 3600
    show_people: bool = False
    memory_limit: str = "4GB"

    @property
    def lake(self) -> Path:
        return self.home / "lake"

    @property
    def database(self) -> Path:
        return self.home / "shadow-ai.duckdb"

    @property
    def flow_names(self) -> Path:
        """Names of IP-only flows, one Parquet file per day (written by classify, read by every view)."""
        return self.home / "flow-names"

    @classmethod
    def from_dict(cls, home: Path, data: dict[str, Any], source: str) -> Settings:
        def section(name: str) -> dict[str, Any]:
            value = data.get(name, {})
            if not isinstance(value, dict):
                raise ConfigError(f"[{name}] must be a table", source)
            return value

        org, ingest, privacy = section("organisation"), section("ingest"), section("privacy")
        catalog, attribution, performance = section("catalog"), section("attribution"), section("performance")
        timezone = str(ingest.get("timezone", "local"))
        if timezone == "local":
            timezone = local_timezone_name()
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"unknown time zone {timezone!r} in [ingest] timezone", source) from exc
        settings = cls(
            home=home,
            organisation=str(org.get("name", "")),
            timezone=timezone,
            batch_lines=_positive_int(ingest, "batch_lines", 131072, source),
            max_line_bytes=_positive_int(ingest, "max_line_bytes", 1048576, source),
            min_group_size=_positive_int(privacy, "min_group_size", 5, source),
            allow_reveal=_bool(privacy, "allow_reveal", False, source),
            keep_identity_map=_bool(privacy, "keep_identity_map", True, source),
            show_people=_bool(privacy, "show_people", False, source),
            memory_limit=_memory(performance, source),
            catalog_dir=_catalog_dir(catalog, home, source),
            session_gap_seconds=60 * _positive_int(attribution, "session_gap_minutes", 30, source),
            session_window_seconds=60 * _positive_int(attribution, "session_window_minutes", 15, source),
            lease_seconds=3600 * _positive_int(attribution, "max_lease_hours", 24, source),
            dns_window_seconds=60 * _positive_int(attribution, "dns_answer_window_minutes", 60, source),
        )
        return settings


def _catalog_dir(section: dict[str, Any], home: Path, source: str) -> Path:
    chosen = str(section.get("directory", "") or "")
    if not chosen:
        return SIGNATURES_DIR
    path = Path(chosen).expanduser()
    path = path if path.is_absolute() else home / path
    if not path.is_dir():
        raise ConfigError(f"[catalog] directory {chosen!r} is not a directory", source)
    return path


def _memory(section: dict[str, Any], source: str) -> str:
    value = str(section.get("memory_limit", "4GB")).strip()
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value, re.IGNORECASE):
        raise ConfigError(f"memory_limit must look like 4GB or 512MB, not {value!r}", source)
    return value


def _bool(section: dict[str, Any], key: str, default: bool, source: str) -> bool:
    value = section.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be true or false, not {value!r}", source)
    return value


def _positive_int(section: dict[str, Any], key: str, default: int, source: str) -> int:
    value = section.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigError(f"{key} must be a positive whole number, not {value!r}", source)
    return value


def load_settings(home: str | os.PathLike[str] | None = None, create: bool = True) -> Settings:
    """Read the data directory's configuration, writing the documented default file on first run."""
    root = resolve_home(home)
    path = root / CONFIG_NAME
    if not path.exists():
        if not create:
            return Settings.from_dict(root, tomllib.loads(default_config_text()), str(path))
        root.mkdir(parents=True, exist_ok=True)
        path.write_text(default_config_text(), encoding="utf-8")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", str(path)) from exc
    return Settings.from_dict(root, data, str(path))
