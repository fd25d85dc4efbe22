"""The views over the lake: files written by older versions, with fewer columns, still read (lake files
are never rewritten), whether or not newer files have the columns."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from detector import db
from detector.config import load_settings
from detector.schema import EVENT_FILE_SCHEMA


def write_events(home: Path, name: str, hosts: list[str], drop: tuple[str, ...] = ()) -> None:
    """Proxy events in the lake's layout; `drop`: columns the writing version did not have yet."""
    count = len(hosts)
    values = {
        "ts": pa.array([datetime(2025, 1, 6, 9, i, tzinfo=UTC) for i in range(count)], pa.timestamp("us", tz="UTC")),
        "host": pa.array(hosts, pa.string()),
        "content_type": pa.array(["text/html"] * count, pa.string()),
        "file_id": pa.array([name] * count, pa.string()),
        "line_no": pa.array(range(1, count + 1), pa.int64()),
    }
    table = pa.table({f.name: values.get(f.name, pa.nulls(count, f.type)) for f in EVENT_FILE_SCHEMA},
                     schema=EVENT_FILE_SCHEMA)
    folder = load_settings(home).lake / "events" / "source_kind=proxy" / "day=2025-01-06"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table.drop_columns(list(drop)), folder / f"{name}.parquet")


def test_files_without_a_newer_column_read_as_nulls(home: Path) -> None:
    write_events(home, "old", ["a.example", "b.example"], drop=("content_type",))
    write_events(home, "new", ["c.example"])
    with db.connect(load_settings(home)) as connection:
        rows = connection.execute("select file_id, host, content_type from events order by host").fetchall()
    assert rows == [("old", "a.example", None), ("old", "b.example", None), ("new", "c.example", "text/html")]


def test_a_lake_of_older_files_only_still_reads(home: Path) -> None:
    write_events(home, "old", ["a.example"], drop=("content_type", "user_agent"))
    with db.connect(load_settings(home)) as connection:
        row = connection.execute("select host, content_type, user_agent from lake_events").fetchall()
        kinds = dict(connection.execute("select column_name, column_type from (describe lake_events)").fetchall())
    assert row == [("a.example", None, None)]
    assert kinds["content_type"] == "VARCHAR"  # typed as the current schema says, not as a bare NULL
