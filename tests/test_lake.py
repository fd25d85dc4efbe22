"""Ingest into the lake: idempotent, resumable after growth or a kill, every line accounted for."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector import db
from detector.config import load_settings
from detector.ingest import FORMATS
from detector.ingest.pipeline import FileReport, ingest_paths, parse_file
from detector.lake import Lake

LINE = (
    "{ts}.000     10 10.20.{c}.{d} TCP_MISS/200 {size} GET http://site{h}.example.org/p{h} user{c}"
    " HIER_DIRECT/192.0.2.1 text/html\n"
)


def squid_lines(count: int, start: int = 0) -> str:
    return "".join(
        LINE.format(ts=1732780800 + i, c=i % 7, d=i % 250, size=100 + i, h=i % 13) for i in range(start, start + count)
    )


def ingest(home: Path, *paths: Path | str, **kwargs: object) -> list[FileReport]:
    return list(ingest_paths(load_settings(home), [str(p) for p in paths], **kwargs))  # type: ignore[arg-type]


def event_count(home: Path) -> int:
    with db.connect(load_settings(home)) as connection:
        return connection.execute("select count(*) from events").fetchone()[0]  # type: ignore[index]


def line_numbers(home: Path) -> list[int]:
    with db.connect(load_settings(home)) as connection:
        return [r[0] for r in connection.sql("select line_no from events order by line_no").fetchall()]


def test_ingest_writes_hive_partitioned_parquet_readable_without_the_tool(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(squid_lines(100) + squid_lines(5, start=86400 * 2))
    [report] = ingest(home, log)
    assert (report.lines, report.parsed, report.rejected, report.ignored) == (105, 105, 0, 0)
    days = sorted(p.name for p in (home / "lake/events/source_kind=proxy").iterdir())
    assert days == ["day=2024-11-28", "day=2024-11-30"]
    # Plain Parquet with Hive partitions: another engine reads it as it is.
    table = duckdb.connect().execute(
        f"select count(*), min(ts), any_value(source_kind) from read_parquet('{home}/lake/events/**/*.parquet',"
        " hive_partitioning=true)"
    ).fetchone()
    assert table[0] == 105 and table[2] == "proxy"
    stored = pq.read_schema(next((home / "lake/events").rglob("*.parquet")))
    assert str(stored.field("ts").type) == "timestamp[us, tz=UTC]"
    assert str(stored.field("host").type) == "string"  # plain text, however the batches were encoded
    assert "source_kind" not in stored.names  # lives in the directory name


def test_lines_out_of_time_order_land_in_their_own_day(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(squid_lines(3, start=86400) + squid_lines(2) + squid_lines(4, start=86400 * 2) + squid_lines(1))
    [report] = ingest(home, log)
    assert report.parsed == 10
    with db.connect(load_settings(home)) as connection:
        per_day = connection.sql("select day::varchar, list(line_no order by line_no) from events group by day"
                                 " order by day").fetchall()
    assert per_day == [("2024-11-28", [4, 5, 10]), ("2024-11-29", [1, 2, 3]), ("2024-11-30", [6, 7, 8, 9])]


def test_user_names_reach_the_lake_only_as_pseudonyms(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(squid_lines(20))
    ingest(home, log)
    with db.connect(load_settings(home)) as connection:
        users = {r[0] for r in connection.sql("select distinct user_name from events").fetchall()}
    assert users and all(u.startswith("u-") for u in users)
    raw = b"".join(p.read_bytes() for p in (home / "lake").rglob("*.parquet"))
    assert b"user3" not in raw
    assert (home / "pseudonym.key").stat().st_mode & 0o777 == 0o600


def test_reingesting_the_same_content_adds_nothing(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(squid_lines(50))
    ingest(home, log)
    copy = tmp_path / "renamed.log.1.gz"
    copy.write_bytes(gzip.compress(log.read_bytes()))
    reports = ingest(home, log, copy)
    assert [r.skipped for r in reports] == [True, True]
    assert event_count(home) == 50


def test_a_grown_file_ingests_only_its_new_lines(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(squid_lines(30))
    ingest(home, log)
    with log.open("a") as handle:
        handle.write(squid_lines(12, start=30))
    [report] = ingest(home, log)
    assert (report.lines, report.parsed, report.skipped) == (12, 12, False)
    assert line_numbers(home) == list(range(1, 43))
    # Then rotated and compressed: recognised as the same content, nothing added.
    rotated = tmp_path / "access.log.1.gz"
    rotated.write_bytes(gzip.compress(log.read_bytes()))
    log.unlink()
    [again] = ingest(home, rotated)
    assert again.skipped and event_count(home) == 42


def as_written_before_xxh3(home: Path) -> None:
    """Rewrite the lake's manifest as versions before XXH3 content hashes wrote it: bare SHA-256 digests."""
    lake = Lake(load_settings(home).lake)
    for segment in lake.segments():
        manifest = lake.manifest_dir / f"{segment.name}.json"
        record = json.loads(manifest.read_text())
        with Path(segment.path).open("rb") as content:
            record["content_hash"] = hashlib.sha256(content.read(segment.end_offset)).hexdigest()
        manifest.write_text(json.dumps(record))


def test_a_lake_with_sha256_content_hashes_still_recognises_its_files(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(squid_lines(30))
    ingest(home, log)
    as_written_before_xxh3(home)
    [same] = ingest(home, log)
    assert same.skipped and event_count(home) == 30
    with log.open("a") as handle:
        handle.write(squid_lines(12, start=30))
    [grown] = ingest(home, log)
    assert (grown.lines, grown.parsed, grown.skipped) == (12, 12, False)
    assert line_numbers(home) == list(range(1, 43))
    # the new segment records the current form; the old one's keeps recognising the start
    old, new = sorted(Lake(load_settings(home).lake).segments(), key=lambda s: s.start_offset)
    assert len(old.content_hash) == 64 and new.content_hash.startswith("xxh3_128:")
    [again] = ingest(home, log)
    assert again.skipped and event_count(home) == 42


def test_gzip_and_bz2_are_read_by_content_not_name(home: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.log").write_bytes(gzip.compress(squid_lines(10).encode()))
    (logs / "b.gz").write_bytes(bz2.compress(squid_lines(7, start=100).encode()))
    reports = ingest(home, logs)
    assert sorted(r.parsed for r in reports) == [7, 10]
    assert event_count(home) == 17


def test_truncated_gzip_keeps_what_was_readable_and_reports_the_error(home: Path, tmp_path: Path) -> None:
    whole = gzip.compress(squid_lines(5000).encode())
    broken = tmp_path / "broken.log.gz"
    broken.write_bytes(whole[: len(whole) // 2])
    good = tmp_path / "good.log"
    good.write_text(squid_lines(3, start=9000))
    reports = {Path(r.file).name: r for r in ingest(home, broken, good)}
    assert reports["broken.log.gz"].error and "truncated" in reports["broken.log.gz"].error
    assert 0 < reports["broken.log.gz"].parsed < 5000
    r = reports["broken.log.gz"]
    assert r.lines == r.parsed + r.rejected + r.ignored
    assert reports["good.log"].parsed == 3 and not reports["good.log"].error
    # The complete file later continues where the truncated one stopped: no duplicates, no loss.
    broken.write_bytes(whole)
    ingest(home, broken)
    assert event_count(home) == 5003
    assert len(set(line_numbers(home))) == 5000


def test_missing_file_unknown_format_and_empty_file_are_reported_and_others_still_ingest(
    home: Path, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.log"
    garbage.write_bytes(os.urandom(4096))
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    good = tmp_path / "good.log"
    good.write_text(squid_lines(4))
    reports = {Path(r.file).name: r for r in ingest(home, tmp_path / "missing.log", garbage, empty, good)}
    assert "no such file" in (reports["missing.log"].error or "")
    assert "unknown log format" in (reports["garbage.log"].error or "")
    assert reports["empty.log"].error is None and reports["empty.log"].lines == 0
    assert reports["good.log"].parsed == 4


def test_forced_format_on_garbage_rejects_every_line_with_a_reason(home: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 64)
    [report] = ingest(home, garbage, format_name="squid")
    assert report.parsed == 0 and report.rejected > 0
    assert report.lines == report.rejected + report.ignored
    with db.connect(load_settings(home)) as connection:
        reasons = connection.sql("select distinct reason from rejects").fetchall()
    assert reasons and all(r[0] for r in reasons)


@pytest.mark.parametrize("key", sorted(FORMATS))
def test_a_batch_of_blank_lines_is_ignored_by_every_format(tmp_path: Path, key: str) -> None:
    # tabs and spaces only: blank, so the batch reaches no parser (some cannot take a batch of no lines)
    log = tmp_path / "blank.log"
    log.write_text("\t\n \t \n\n   \n")
    _, _, report = parse_file(log, FORMATS[key], load_settings(tmp_path / "home"))
    assert (report.lines, report.parsed, report.rejected, report.ignored, report.error) == (4, 0, 0, 4, None)


def test_a_10_mb_line_is_rejected_in_bounded_memory(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "huge.log"
    log.write_text(squid_lines(2) + "x" * (10 * 1024 * 1024) + "\n" + squid_lines(2, start=2))
    [report] = ingest(home, log, format_name="squid")
    assert (report.lines, report.parsed, report.rejected) == (5, 4, 1)
    with db.connect(load_settings(home)) as connection:
        line_no, reason, size = connection.execute("select line_no, reason, length(line) from rejects").fetchone()  # type: ignore[misc]
    assert line_no == 3 and reason.startswith("line too long") and size < 10_000


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_crash_and_every_line_is_accounted_for(tmp_path: Path, data: bytes) -> None:
    home = tmp_path / f"home-{os.urandom(4).hex()}"
    log = tmp_path / f"{os.urandom(4).hex()}.log"
    log.write_bytes(squid_lines(2).encode() + data)
    [report] = ingest(home, log, format_name="squid")
    assert report.lines == report.parsed + report.rejected + report.ignored
    expected_lines = (squid_lines(2).encode() + data).count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    assert report.lines == expected_lines
    assert report.parsed >= 2


def test_dry_run_writes_nothing_and_shows_first_rejects(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(squid_lines(3) + "not a squid line\n")
    [report] = ingest(home, log, dry_run=True)
    assert (report.parsed, report.rejected, report.format) == (3, 1, "squid")
    assert report.first_rejects[0]["line_no"] == 4
    assert not Lake(home / "lake").event_files()


def test_a_killed_ingest_leaves_the_lake_readable_and_a_rerun_completes_it(home: Path, tmp_path: Path) -> None:
    logs = []
    for i in range(4):
        path = tmp_path / f"access-{i}.log"
        path.write_text(squid_lines(40_000, start=i * 40_000))
        logs.append(path)
    env = {**os.environ, "SHADOW_AI_HOME": str(home)}
    command = [sys.executable, "-m", "detector", "ingest", *map(str, logs)]
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Kill it once the first file is committed and the second is being written.
    deadline = time.monotonic() + 120
    manifest = home / "lake" / "manifest"
    while time.monotonic() < deadline and child.poll() is None:
        if manifest.is_dir() and len(list(manifest.glob("*.json"))) >= 1:
            break
        time.sleep(0.01)
    time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    readable = event_count(home)  # the lake stays readable: no half-written file is visible
    assert readable % 40_000 == 0 and readable < 160_000  # killed part-way, whole files only
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert event_count(home) == 160_000
    with db.connect(load_settings(home)) as connection:
        duplicates = connection.execute(
            "select count(*) from (select file_id, line_no from events group by all having count(*) > 1)"
        ).fetchone()[0]  # type: ignore[index]
    assert duplicates == 0
    assert not list((home / "lake").rglob(".*.tmp"))


@pytest.mark.parametrize("statement", [
    "insert into events select * from events",
    "create table x as select 1",
    "copy (select 1) to '/tmp/x.csv'",
    "attach '/tmp/other.duckdb' as other",
    "select 1; drop view events",
])
def test_sql_refuses_statements_that_could_write(home: Path, statement: str) -> None:
    from detector.errors import QueryError

    with db.connect(load_settings(home)) as connection, pytest.raises(QueryError):
        db.run_user_sql(connection, statement)


def test_dictionary_columns_reach_the_writer_as_one_duplicate_free_dictionary_where_values_repeat() -> None:
    from detector.lake import one_dictionary_per_column

    def encoded(indices: list[int | None], dictionary: list[str]) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(dictionary))

    slices = pa.chunked_array([encoded([0, 1, 1, 0], ["a", "b"]), encoded([1, None, 0, 1], ["b", "c"])])
    repeated = pa.chunked_array([encoded([0, 2, 1, None, 2, 0, 1, 1], ["x", "y", "x"])])
    distinct = pa.chunked_array([encoded(list(range(8)), [str(i) for i in range(8)])])
    table = pa.table({"slices": slices, "repeated": repeated, "distinct": distinct})
    result = one_dictionary_per_column(table)
    assert result.to_pydict() == table.to_pydict()  # the same values, nulls included
    for name, dictionary in (("slices", ["a", "b", "c"]), ("repeated", ["x", "y"])):
        column = result.column(name)
        assert column.num_chunks == 1 and column.chunk(0).dictionary.to_pylist() == dictionary
    assert result.column("distinct").chunk(0).dictionary.to_pylist() == [str(i) for i in range(8)]
