"""The `[report]`, `[alerts]` and `[mail]` sections of `shadow-ai.toml`, read and checked.

They are read here rather than in `detector.config.Settings` so that the report can grow its options
without touching the shared settings; the default file (`default_config.toml`) documents every key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from detector.config import CONFIG_NAME, Settings, default_config_text
from detector.errors import ConfigError


@dataclass(frozen=True)
class ReportConfig:
    directory: Path
    max_rows: int = 25


@dataclass(frozen=True)
class AlertRules:
    forbidden_used: bool = True
    new_high_risk_service: bool = True
    upload_mb_per_day: float = 50.0
    silent_source_hours: int = 24
    silent_source_lookback_days: int = 30
    siem_file: Path | None = None


@dataclass(frozen=True)
class MailConfig:
    to: tuple[str, ...] = ()
    sender: str = "shadow-ai@localhost"
    host: str = "localhost"
    port: int = 587
    starttls: bool = True
    ssl: bool = False
    username: str = ""
    password_file: Path | None = None
    subject: str = "AI use at {organisation}: {period}"
    timeout_seconds: int = 60

    @property
    def enabled(self) -> bool:
        return bool(self.to)


@dataclass(frozen=True)
class ReportOptions:
    report: ReportConfig
    alerts: AlertRules
    mail: MailConfig


def load_options(settings: Settings) -> ReportOptions:
    """The report's sections of the data directory's configuration (defaults where a key is absent)."""
    path = settings.home / CONFIG_NAME
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else default_config_text()
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", source) from exc
    report, alerts, mail = (_section(data, name, source) for name in ("report", "alerts", "mail"))
    return ReportOptions(
        report=ReportConfig(
            directory=_path(settings.home, report.get("directory", "reports"), "[report] directory", source)
            or settings.home / "reports",
            max_rows=_number(report, "max_rows", 25, source, int, minimum=1),
        ),
        alerts=AlertRules(
            forbidden_used=_flag(alerts, "forbidden_used", True, source),
            new_high_risk_service=_flag(alerts, "new_high_risk_service", True, source),
            upload_mb_per_day=_number(alerts, "upload_mb_per_day", 50.0, source, float),
            silent_source_hours=_number(alerts, "silent_source_hours", 24, source, int),
            silent_source_lookback_days=_number(alerts, "silent_source_lookback_days", 30, source, int, minimum=1),
            siem_file=_path(settings.home, alerts.get("siem_file", ""), "[alerts] siem_file", source),
        ),
        mail=MailConfig(
            to=_addresses(mail.get("to", []), source),
            sender=_text(mail, "from", "shadow-ai@localhost", source),
            host=_text(mail, "host", "localhost", source),
            port=_number(mail, "port", 587, source, int, minimum=1),
            starttls=_flag(mail, "starttls", True, source),
            ssl=_flag(mail, "ssl", False, source),
            username=_text(mail, "username", "", source),
            password_file=_path(settings.home, mail.get("password_file", ""), "[mail] password_file", source),
            subject=_text(mail, "subject", "AI use at {organisation}: {period}", source),
            timeout_seconds=_number(mail, "timeout_seconds", 60, source, int, minimum=1),
        ),
    )


def _section(data: dict[str, Any], name: str, source: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table", source)
    return value


def _flag(section: dict[str, Any], key: str, default: bool, source: str) -> bool:
    value = section.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be true or false, not {value!r}", source)
    return value


def _number(section: dict[str, Any], key: str, default: Any, source: str, kind: type, minimum: float = 0) -> Any:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and not isinstance(value, int)):
        raise ConfigError(f"{key} must be a {'whole ' if kind is int else ''}number, not {value!r}", source)
    if value < minimum:
        raise ConfigError(f"{key} must be at least {minimum}, not {value!r}", source)
    return kind(value)


def _text(section: dict[str, Any], key: str, default: str, source: str) -> str:
    value = section.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be text, not {value!r}", source)
    return value.strip()


def _path(home: Path, value: object, what: str, source: str) -> Path | None:
    if not isinstance(value, str):
        raise ConfigError(f"{what} must be text (a path), not {value!r}", source)
    if not value.strip():
        return None
    path = Path(value.strip()).expanduser()
    return path if path.is_absolute() else home / path


def _addresses(value: object, source: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value] if value.strip() else []
    if not isinstance(value, list) or not all(isinstance(item, str) and "@" in item for item in value):
        raise ConfigError(f"[mail] to must be a list of e-mail addresses, not {value!r}", source)
    return tuple(item.strip() for item in value)
