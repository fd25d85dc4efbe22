"""`shadow-ai ingest` starts pyarrow without pandas, and pandas still works where it is needed.

Run in child processes: this test process has pandas loaded already, and pyarrow decides once per
process whether to look for pandas objects.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / "sample_logs" / "squid" / "basic.log"


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_ingest_command_never_loads_pandas(tmp_path: Path) -> None:
    code = f"""
import json, sys
from detector.cli import cli
try:
    cli.main(["--home", {str(tmp_path)!r}, "ingest", {str(SAMPLE)!r}, "--json"], prog_name="shadow-ai")
except SystemExit as done:
    assert not done.code, done.code
print(json.dumps({{"pandas": "pandas" in sys.modules}}))
"""
    lines = _run(code).splitlines()
    report = json.loads(lines[0])
    assert report["parsed"] > 0
    assert report["lines"] == report["parsed"] + report["rejected"] + report["ignored"]
    assert json.loads(lines[-1]) == {"pandas": False}


def test_pandas_still_works_after_arrow_started_without_it() -> None:
    code = """
import sys
from detector.arrow_without_pandas import start_arrow_without_pandas
start_arrow_without_pandas()
assert "pandas" not in sys.modules
import pyarrow as pa
frame = pa.table({"a": [1, 2]}).to_pandas()
import pandas as pd
assert isinstance(frame, pd.DataFrame) and frame["a"].tolist() == [1, 2]
print("ok")
"""
    assert _run(code).strip() == "ok"
