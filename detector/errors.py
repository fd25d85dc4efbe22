"""One error hierarchy: library code raises these; only the CLI turns them into exit codes."""

from __future__ import annotations


class DetectorError(Exception):
    """Base of every error the product reports to a user; `source` says where (path[:line])."""

    def __init__(self, message: str, source: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source

    def __str__(self) -> str:
        return f"{self.source}: {self.message}" if self.source else self.message


class ConfigError(DetectorError):
    """The configuration or a data-directory file (users.csv, policy.yaml ...) is invalid."""


class FormatError(DetectorError):
    """A file's format is unknown or cannot be read at all (not a per-line reject)."""


class ReadError(DetectorError):
    """A file could not be read to the end: missing, unreadable, truncated or corrupt compression."""


class SignatureError(DetectorError):
    """The signature catalog is invalid."""


class QueryError(DetectorError):
    """A query was refused (a write statement) or failed."""
