"""The organisation's own small text files (users.csv, networks.csv, workstations.csv, users.ldif, policy.yaml) in
whatever encoding Windows wrote them.

Excel saves "CSV" in the machine's legacy code page (Windows-1252 on Dutch and other Western European Windows:
`Financiën`, `Daniël`), Windows PowerShell 5.1 redirects in UTF-16, other tools in UTF-8 with or without a byte
order mark. Read as UTF-8 alone such a file stopped `classify` with a Python traceback; read so, a name would also
not match the same person's name in the logs (its pseudonym would differ). Decoded: a mark says UTF-8 or UTF-16;
else UTF-8 where the bytes are valid UTF-8 (they almost never are by chance in another encoding); else Windows-1252.
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path

_MARKS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def decoded(data: bytes) -> str:
    """The text of a file's bytes (see the module docstring)."""
    for mark, encoding in _MARKS:
        if data.startswith(mark):
            return data[len(mark):].decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_text(path: Path) -> str:
    return decoded(path.read_bytes())


def open_text(path: Path) -> io.StringIO:
    """The file's text to read like an opened file, its line ends as written (for the csv module)."""
    return io.StringIO(read_text(path), newline="")
