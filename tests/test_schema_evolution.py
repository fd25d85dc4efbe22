"""A lake outlives its schema: files written before a column was added still read through the views."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from detector import db
from detector.config import load_settings
from detector.ingest.pipeline import ingest_paths
from detector.lake import Lake
from detector.schema import EVENT_FILE_SCHEMA

NEW_COLUMNS = ("vendor_app", "vendor_category", "vendor_department")


def zscaler_line(second: int, app: str) -> str:
    event = {"time": f"Mon Mar 11 08:02:{second:02d} 2024", "login": "j.devries@gemeente-voorbeeld.nl",
             "eurl": "chatgpt.com/backend-api/conversation", "action": "Allowed", "reqmethod": "POST",
             "cip": "10.20.1.15", "appname": app, "urlcat": "AI & ML Applications", "dept": "Burgerzaken"}
    return json.dumps({"sourcetype": "zscalernss-web", "event": event})


def ingest(home: Path, name: str, *lines: str) -> None:
    path = home.parent / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    reports = list(ingest_paths(load_settings(home), [str(path)]))
    assert [(r.parsed, r.error) for r in reports] == [(len(lines), None)]


def as_written_before_the_vendor_columns(lake: Lake) -> None:
    """Rewrite every event file of the lake as an older release wrote it: without the new columns."""
    for path in lake.event_files():
        table = pq.read_table(path, partitioning=None)
        assert set(NEW_COLUMNS) <= set(table.column_names)
        pq.write_table(table.drop_columns(list(NEW_COLUMNS)), path)


def test_old_and_new_segments_read_through_the_events_view(home: Path) -> None:
    settings = load_settings(home)
    ingest(home, "old.log", zscaler_line(1, "ChatGPT"), zscaler_line(2, "ChatGPT"))
    as_written_before_the_vendor_columns(Lake(settings.lake))
    ingest(home, "new.log", zscaler_line(3, "Claude"))
    assert len(Lake(settings.lake).event_files()) == 2
    connection = db.connect(settings)
    rows = connection.execute(
        "select line_no, vendor_app, vendor_category, vendor_department, host from events order by ts").fetchall()
    assert rows == [
        (1, None, None, None, "chatgpt.com"),
        (2, None, None, None, "chatgpt.com"),
        (1, "Claude", "AI & ML Applications", "Burgerzaken", "chatgpt.com"),
    ]
    names = [row[0] for row in connection.execute("describe events").fetchall()]
    assert [name for name in EVENT_FILE_SCHEMA.names if name not in names] == []


def test_a_lake_written_entirely_before_the_vendor_columns_still_opens(home: Path) -> None:
    settings = load_settings(home)
    ingest(home, "old.log", zscaler_line(1, "ChatGPT"))
    as_written_before_the_vendor_columns(Lake(settings.lake))
    rows = db.connect(settings).execute("select count(*), count(vendor_app) from events").fetchall()
    assert rows == [(1, 0)]
