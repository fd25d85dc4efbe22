"""Writing output files atomically: a reader (a mail job, a web server, a SIEM agent) sees the old file
or the new one, never half of one, and a re-run of the same period replaces instead of adding."""

from __future__ import annotations

import os
from pathlib import Path

from detector.errors import DetectorError


def write_atomic(path: Path, content: str | bytes) -> Path:
    """Write to a hidden temporary file beside `path`, flush it to disk, then rename it into place."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise DetectorError(f"cannot write {path.name}: {exc.strerror or exc}", str(path.parent)) from exc
    return path
