"""Start pyarrow without pandas, for commands that never hand pyarrow a pandas object.

pyarrow imports pandas the first time `pa.array()` runs (at import of the ingest modules, which build
a few constant arrays), only to recognise pandas objects among its arguments. That import costs more
CPU than pyarrow's own (~0.2 s), and it sat in front of every `shadow-ai ingest`, before the first
line was read. Ingest never passes pandas objects, so its command lets pyarrow's one attempt fail.

Nothing else changes: pyarrow retries the import wherever it really needs pandas (`to_pandas()`),
and any module may still `import pandas` as usual.
"""

from __future__ import annotations

import sys
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType


class _PandasRefused(MetaPathFinder):
    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname == "pandas":
            raise ImportError("pandas is not loaded for pyarrow's type checks in this command")
        return None


def start_arrow_without_pandas() -> None:
    """Have pyarrow settle now, with pandas unavailable, that it will not look for pandas objects."""
    if "pandas" in sys.modules:
        return  # already loaded by this process: pyarrow uses it as usual
    refuse = _PandasRefused()
    sys.meta_path.insert(0, refuse)
    try:
        import pyarrow as pa

        pa.array([0])  # pyarrow's check for pandas runs once per process: here, and it finds none
    finally:
        sys.meta_path.remove(refuse)
