"""classify writes candidate_events on its side cursor beside ai_events and the other rollups, from a
temporary ai_events that keeps only the columns the rollups read: the rows must be what the queries give on
the full ai_events view, and a failure on either cursor must end classify with its error and keep the
previous catalog database."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from detector import db
from detector.classify import run
from detector.classify.run import classify
from detector.config import load_settings
from detector.ingest.pipeline import ingest_paths
from tests.test_classify import write_lake

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"


def test_rollups_equal_the_queries_on_the_whole_ai_events_view(home: Path) -> None:
    """DNS lookups (counted once per client, host and minute in user_daily) beside proxy events."""
    settings = load_settings(home)
    logs = [str(p) for kind in ("bind_query", "squid") for p in sorted((SAMPLES / kind).glob("*.log"))]
    assert {"bind_query", "squid"} <= {r.format for r in ingest_paths(settings, logs)}
    classify(settings)
    with db.connect(settings) as connection:
        lookups = connection.execute("select count(*) from ai_events where host_source = 'dns_query'").fetchone()
        assert lookups is not None and lookups[0] > 0
        connection.execute("create temp table ai_events as select * from main.ai_events")
        for rollup in ("user_daily", "usage_daily", "candidate_events"):
            written = connection.execute(f"select count(*) from {rollup}").fetchone()
            assert written is not None and written[0] > 0
            differ = connection.execute(
                f"select count(*) from ((select * from {rollup} except all ({db.query_text(rollup)})) "
                f"union all (({db.query_text(rollup)}) except all select * from {rollup}))").fetchone()
            assert differ == (0,), rollup


@pytest.mark.parametrize("failing", ["user_daily", "candidate_events"])
def test_a_failing_rollup_on_either_cursor_fails_classify_and_keeps_the_previous_database(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str) -> None:
    write_lake(home, tmp_path)
    settings = load_settings(home)
    classify(settings)
    before = settings.database.read_bytes()
    write_rollup = run.write_rollup

    def broken(cursor: duckdb.DuckDBPyConnection, name: str, steps: dict[str, tuple[float, float]]) -> None:
        if name == failing:
            raise RuntimeError(f"{name} failed")
        write_rollup(cursor, name, steps)

    with monkeypatch.context() as patch:
        patch.setattr(run, "write_rollup", broken)
        with pytest.raises(RuntimeError, match=f"{failing} failed"):
            classify(settings)
    assert settings.database.read_bytes() == before
    assert not list(settings.database.parent.glob(f".{settings.database.name}.*.tmp"))
    assert classify(settings).hosts == 2
