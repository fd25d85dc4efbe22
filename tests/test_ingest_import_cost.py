"""An ingest loads only what its format needs: Numba (~0.2 s CPU to import, ~0.5 s more for the first kernel) only
for a format with compiled kernels, and never the model's libraries.

compiled.py's rule: kernel modules (`*_scan.py`) are imported when a format makes its parser, not when the registry
is imported; a format module that imports its kernels at the top makes every other format's ingest pay for them.
Run in a child process: this test process has loaded them already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"


def _modules_after_ingest(home: Path, sample: Path) -> dict[str, bool]:
    code = f"""
import json, sys
from detector.cli import cli
try:
    cli.main(["--home", {str(home)!r}, "ingest", {str(sample)!r}, "--json"], prog_name="shadow-ai")
except SystemExit as done:
    assert not done.code, done.code
print(json.dumps({{name: name in sys.modules for name in ("numba", "sklearn", "scipy", "pandas")}}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[0])
    assert report["parsed"] > 0
    return json.loads(done.stdout.splitlines()[-1])


def test_a_format_without_kernels_never_loads_numba(tmp_path: Path) -> None:
    loaded = _modules_after_ingest(tmp_path, SAMPLES / "squid" / "basic.log")
    assert loaded == {"numba": False, "sklearn": False, "scipy": False, "pandas": False}


def test_a_format_with_kernels_loads_numba_but_not_the_model(tmp_path: Path) -> None:
    # checkpoint reads its lines with a compiled kernel (checkpoint_scan): the check above is not vacuous
    sample = sorted((SAMPLES / "checkpoint").glob("*.log"))[0]
    loaded = _modules_after_ingest(tmp_path, sample)
    assert loaded["numba"] and not loaded["sklearn"] and not loaded["pandas"]
