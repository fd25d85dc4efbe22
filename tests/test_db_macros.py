"""The SQL macros db.connect defines for the queries (db.MACROS): what the reports and the dashboard count as
unsanctioned AI is written once, and the sums of it read the same grouped by any key."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from detector import db
from detector.config import load_settings
from detector.enrich.policy import VERDICTS

ROWS = [  # (day, department, user_id, verdict, bytes_out)
    ("2026-11-02", "Burgerzaken", "u1", "shadow", 100),
    ("2026-11-02", "Burgerzaken", "u1", "forbidden", 50),
    ("2026-11-02", "Burgerzaken", "u2", "sanctioned", 1000),
    ("2026-11-03", "Financien", "u3", "tolerated", 7),
    ("2026-11-03", "Financien", "u4", None, 9),
    ("2026-11-03", "Financien", "u4", "forbidden", None),
]


@pytest.fixture
def connection(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = db.connect(load_settings(tmp_path / "home"), lake=False)
    connection.execute("create temp table use (day date, department varchar, user_id varchar, verdict varchar, "
                       "bytes_out hugeint)")
    connection.executemany("insert into use values (?, ?, ?, ?, ?)", ROWS)
    return connection


def test_unsanctioned_is_shadow_and_forbidden_of_the_policys_verdicts(connection: duckdb.DuckDBPyConnection) -> None:
    assert set(db.UNSANCTIONED) < set(VERDICTS)
    found = {verdict: connection.execute("select unsanctioned($verdict)", {"verdict": verdict}).fetchone()[0]
             for verdict in VERDICTS}
    assert {verdict for verdict, unsanctioned in found.items() if unsanctioned} == set(db.UNSANCTIONED)
    assert connection.execute("select unsanctioned(null)").fetchone()[0] is None  # (a filter leaves it out)


@pytest.mark.parametrize(("key", "expected"), [
    ("department", [("Burgerzaken", 1, 150), ("Financien", 1, 0)]),
    ("day", [("2026-11-02", 1, 150), ("2026-11-03", 1, 0)]),
    ("user_id", [("u1", 1, 150), ("u2", 0, 0), ("u3", 0, 0), ("u4", 1, 0)]),
])
def test_unsanctioned_people_and_bytes_out_per_any_key(connection: duckdb.DuckDBPyConnection, key: str,
                                                      expected: list[tuple[str, int, int]]) -> None:
    rows = connection.execute(f"select cast({key} as varchar), unsanctioned_people(user_id, verdict), "
                              f"unsanctioned_bytes_out(bytes_out, verdict) from use group by {key} order by 1"
                              ).fetchall()
    assert rows == expected


def test_sums_over_no_rows_are_zero_and_bigint(connection: duckdb.DuckDBPyConnection) -> None:
    relation = connection.sql("select unsanctioned_people(user_id, verdict) as users, "
                              "unsanctioned_bytes_out(bytes_out, verdict) as bytes_out from use where false")
    assert relation.fetchall() == [(0, 0)]
    assert [str(kind) for kind in relation.dtypes] == ["BIGINT", "BIGINT"]
