"""Formats that join lines (`Format.context_lines`) in the lake: a query and its answer in two batches are
one event, a killed ingest re-run gives exactly the events of an uninterrupted one, every line counted once."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from detector.config import load_settings
from detector.ingest import reader
from detector.ingest.pipeline import ingest_paths
from tests.test_ingest_dns import PAIRED, paired_lines

# Kills the ingest (SIGKILL: no clean-up at all) when the second file's segment writes its third batch.
KILLED_RUN = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from detector import lake
    from detector.config import load_settings
    from detector.ingest import reader
    from detector.ingest.pipeline import ingest_paths

    reader.MIN_CHUNK_BYTES = 64
    segments, writes = [], [0]
    new_segment, write_events = lake.SegmentWriter.__init__, lake.SegmentWriter.write_events

    def counting_init(self, *args, **kwargs):
        segments.append(self)
        new_segment(self, *args, **kwargs)

    def killing_write(self, events):
        if len(segments) > 1 and self is segments[1]:
            writes[0] += 1
            if writes[0] == 3:
                os.kill(os.getpid(), signal.SIGKILL)
        write_events(self, events)

    lake.SegmentWriter.__init__, lake.SegmentWriter.write_events = counting_init, killing_write
    for report in ingest_paths(load_settings(Path(sys.argv[1])), sys.argv[2:]):
        print(report.to_dict())
""")


def with_batch_lines(home: Path, batch_lines: int) -> None:
    config = home / "shadow-ai.toml"
    config.write_text(config.read_text().replace("batch_lines = 131072", f"batch_lines = {batch_lines}"))


def lake_rows(home: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Every event and reject in the lake, and each segment's counts, in a stable order."""
    lake = home / "lake"
    connection = duckdb.connect()
    events = connection.sql(f"select file_id, line_no, * exclude (day) from read_parquet('{lake}/events/**/*.parquet',"
                            " hive_partitioning = true) order by file_id, line_no").fetchall()
    rejects = (connection.sql(f"select * from read_parquet('{lake}/rejects/*.parquet') order by file_id, line_no")
               .fetchall() if list((lake / "rejects").glob("*.parquet")) else [])
    segments = sorted(
        tuple(json.loads(p.read_text())[k] for k in ("file_id", "start_line", "end_line", "parsed", "rejected",
                                                      "ignored", "end_offset"))
        for p in (lake / "manifest").glob("*.json"))
    return events, rejects, segments


def test_a_killed_ingest_rerun_equals_one_uninterrupted_run_in_one_batch(home: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    logs = []
    for key in PAIRED:
        path = tmp_path / "logs" / f"{key}-20240605.log"
        path.parent.mkdir(exist_ok=True)
        path.write_text("".join(line + "\n" for line in paired_lines(key, 150)), encoding="utf-8")
        logs.append(str(path))
    with_batch_lines(home, 25)
    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, str(home), *logs], capture_output=True, text=True,
                            check=False)
    assert killed.returncode < 0, killed.stderr  # killed, part-way
    assert len(list((home / "lake" / "manifest").glob("*.json"))) == 1  # the first file only
    monkeypatch.setattr(reader, "MIN_CHUNK_BYTES", 64)  # the re-run in batches of 25 lines too
    reports = list(ingest_paths(load_settings(home), logs))
    assert [r.skipped for r in reports] == [True, False, False]

    uninterrupted = tmp_path / "uninterrupted"
    monkeypatch.setenv("SHADOW_AI_HOME", str(uninterrupted))
    config = load_settings(uninterrupted).home / "shadow-ai.toml"
    config.write_text(config.read_text().replace('timezone = "local"', 'timezone = "Europe/Amsterdam"'))
    monkeypatch.setattr(reader, "MIN_CHUNK_BYTES", 1 << 20)  # each file is one batch
    whole = list(ingest_paths(load_settings(uninterrupted), logs))
    assert all(r.parsed == 150 and r.lines == r.parsed + r.rejected + r.ignored and not r.error for r in whole)

    events, rejects, segments = lake_rows(home)
    assert (events, rejects, segments) == lake_rows(uninterrupted)
    assert len(events) == 450 and not rejects
    assert len({(e[0], e[1]) for e in events}) == 450  # no duplicate (file_id, line_no): the first two columns
    assert not list((home / "lake").rglob(".*.tmp"))


def test_a_grown_file_joins_pairs_within_its_new_part(home: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The content read so far is parsed completely; the appended part is a segment of its own."""
    monkeypatch.setattr(reader, "MIN_CHUNK_BYTES", 64)
    with_batch_lines(home, 3)
    lines = paired_lines("unbound", 40)
    path = tmp_path / "unbound-20240605.log"
    path.write_text("".join(line + "\n" for line in lines[:40]), encoding="utf-8")
    [first] = ingest_paths(load_settings(home), [str(path)])
    with path.open("a", encoding="utf-8") as log:
        log.write("".join(line + "\n" for line in lines[40:]))
    [second] = ingest_paths(load_settings(home), [str(path)])
    assert first.lines + second.lines == len(lines)
    for report in (first, second):
        assert report.lines == report.parsed + report.rejected + report.ignored
    events, _, segments = lake_rows(home)
    assert [s[1:3] for s in segments] == [(0, 40), (40, len(lines))]
    line_nos = [e[1] for e in events]
    assert line_nos == sorted(set(line_nos))  # the file's line numbers, each once
