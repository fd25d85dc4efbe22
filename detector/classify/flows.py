"""Names for IP-only flows (queries/flow_names.sql), kept per day and recomputed only where inputs changed.

A flow of day D is named from DNS answers of day D and of the days before it that its window reaches
(an answer at 23:50 names a flow at 00:10). An answer is a property of the event, not of its format's
source kind: any event whose host was learned from a DNS query (`host_source` dns_query) and that carries
`dns_answers` counts, whether a DNS server, a firewall's DNS log (FortiGate `type=dns`), a sensor (Zeek,
Suricata, Defender) or a JSON/CSV export wrote it. So the answer files of a day are the files of ANY
kind on the answer days that hold such an event (`files_with_answers`: read once per file and
remembered in <store>/answer-files.json, since a proxy file of millions of events holds none and reading
it at every classify would cost more than the naming). Each day's names depend on that day's flow
files, those answer files and the window: `inputs_key` hashes exactly these (each file's path in the
lake and size: lake file names are deterministic per ingested segment, so a new ingest shows as a new
or a bigger file), with the query text. A day whose key matches the stored one is not named again; a
new day, a new file with answers in any kind, a changed window or a removed file (prune) changes the
keys of the days it touches; a new file without answers (a proxy log) changes none.

Stored under <home>/flow-names/ as one Parquet file per day with its key in the file's metadata, written
under a temporary name and renamed into place, so an interrupted classify leaves old or new files, and
a file that does not match its day's inputs is named again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from detector import db
from detector.lake import Lake
from detector.report.files import write_atomic

# Source kinds whose events are flows to name. DNS answers may be in any kind's files (see above).
FLOW_KINDS = ("firewall", "sensor")
# The events that are DNS answers: as queries/flow_names.sql selects them (there also by time).
ANSWERS_WHERE = "host_source = 'dns_query' and host is not null and dns_answers is not null"
ANSWERS_INDEX = "answer-files.json"
KEY = b"shadow_ai_inputs"
# A temporary day file older than this was left by a classify that was killed.
STALE_SECONDS = 86400


@dataclass
class FlowNaming:
    """What a classify did with the flow names: days named again, days kept, days dropped, and the day
    files that hold every flow name now."""

    named_days: list[date] = field(default_factory=list)
    kept_days: list[date] = field(default_factory=list)
    dropped_days: list[date] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def day_file(store: Path, day: date) -> Path:
    return store / f"day={day.isoformat()}.parquet"


def lake_files_by_day(lake: Lake) -> dict[tuple[str, date], list[Path]]:
    """The lake's event files by (source kind, day), read from the partition folders' names."""
    found: dict[tuple[str, date], list[Path]] = defaultdict(list)
    for path in lake.event_files():
        kind = path.parent.parent.name.removeprefix("source_kind=")
        try:
            day = date.fromisoformat(path.parent.name.removeprefix("day="))
        except ValueError:
            continue
        found[(kind, day)].append(path)
    return found


def answer_days(day: date, window_seconds: int) -> list[date]:
    """The days whose answers can name a flow of `day`: itself and as many before as the window reaches."""
    reach = math.ceil(window_seconds / 86400)
    return [day - timedelta(days=back) for back in range(reach, -1, -1)]


def inputs_key(lake: Lake, flow_files: list[Path], answer_files: list[Path], window_seconds: int) -> str:
    """A hash of what a day's names are computed from: files (path in the lake, size), window, query."""
    listed = {
        "query": db.query_text("flow_names"),
        "window_seconds": window_seconds,
        "flows": [(str(p.relative_to(lake.root)), p.stat().st_size) for p in sorted(flow_files)],
        "answers": [(str(p.relative_to(lake.root)), p.stat().st_size) for p in sorted(answer_files)],
    }
    return hashlib.sha256(json.dumps(listed, sort_keys=True).encode()).hexdigest()


def stored_key(path: Path) -> str | None:
    try:
        metadata = pq.read_metadata(path).metadata or {}
    except (OSError, pa.ArrowInvalid):  # missing, or not a complete Parquet file
        return None
    value = metadata.get(KEY)
    return value.decode() if value is not None else None


def update_flow_names(connection: duckdb.DuckDBPyConnection, lake: Lake, store: Path,
                      window_seconds: int) -> FlowNaming:
    """Bring the stored flow names up to date with the lake: name the days whose inputs changed, drop
    the days that have no flows any more. One query per day named (a day's flows against its answer
    days), so memory stays bounded by a day; unchanged days cost a look at their file's footer."""
    files = lake_files_by_day(lake)
    flow_days = sorted({day for (kind, day) in files if kind in FLOW_KINDS})
    by_day: dict[date, list[Path]] = defaultdict(list)
    for (_, day), paths in files.items():
        by_day[day].extend(paths)
    reached = {d for day in flow_days for d in answer_days(day, window_seconds)}
    with_answers = files_with_answers(connection, lake, store, [p for d in sorted(reached) for p in by_day.get(d, [])])
    result = FlowNaming()
    for day in flow_days:
        flow_files = [p for kind in FLOW_KINDS for p in files.get((kind, day), [])]
        answer_files = [p for d in answer_days(day, window_seconds) for p in by_day.get(d, []) if p in with_answers]
        key = inputs_key(lake, flow_files, answer_files, window_seconds)
        target = day_file(store, day)
        if stored_key(target) == key:
            result.kept_days.append(day)
        else:
            name_day(connection, day, flow_files, answer_files, window_seconds, target, key)
            result.named_days.append(day)
        result.files.append(target)
    wanted = {day_file(store, day) for day in flow_days}
    for path in sorted(store.glob("day=*.parquet")):
        if path not in wanted:
            path.unlink()
            with contextlib.suppress(ValueError):
                result.dropped_days.append(date.fromisoformat(path.stem.removeprefix("day=")))
    for stale in store.glob(".*.tmp"):  # left by a classify killed while writing (not one running now)
        with contextlib.suppress(FileNotFoundError):
            if time.time() - stale.stat().st_mtime > STALE_SECONDS:
                stale.unlink()
    return result


def files_with_answers(connection: duckdb.DuckDBPyConnection, lake: Lake, store: Path,
                       candidates: list[Path]) -> set[Path]:
    """Which of these lake files hold a DNS answer event (ANSWERS_WHERE). Each file is read once: the
    verdict is kept in <store>/answer-files.json by its path in the lake, size and modification time
    (lake files are immutable once in place; a rewritten one shows a new time), together with the
    predicate, so a changed predicate reads every file again. Files not asked about (pruned, or on days
    no flow's window reaches) are forgotten."""
    index_path = store / ANSWERS_INDEX
    try:
        stored = json.loads(index_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stored = {}
    if not isinstance(stored, dict):
        stored = {}
    known: dict[str, list[object]] = stored.get("files", {}) if stored.get("where") == ANSWERS_WHERE else {}
    stamps: dict[Path, list[int]] = {}
    for path in candidates:
        info = path.stat()
        stamps[path] = [info.st_size, info.st_mtime_ns]
    relative = {path: str(path.relative_to(lake.root)) for path in candidates}
    unread = [p for p in candidates if known.get(relative[p], [None, None])[:2] != stamps[p]]
    found = answering(connection, unread)
    unread_set = set(unread)
    index = {relative[p]: [*stamps[p], p in found if p in unread_set else bool(known[relative[p]][2])]
             for p in candidates}
    if index != known:
        write_atomic(index_path, json.dumps({"where": ANSWERS_WHERE, "files": index}, sort_keys=True))
    return {p for p in candidates if index[relative[p]][2]}


def answering(connection: duckdb.DuckDBPyConnection, paths: list[Path]) -> set[Path]:
    """The files among `paths` with at least one DNS answer event. One query per file that stops at its
    first answer: a DNS file is decided by its first rows, a file without answers costs a scan of the
    few columns the predicate reads. (Measured on the benchmark's 4M-answer lake: 0.11 s CPU, against
    0.36 s for one query over all files, which reads every answer.)"""
    found: set[Path] = set()
    for path in paths:
        relation = connection.read_parquet(str(path))
        if not {"host_source", "host", "dns_answers"} <= set(relation.columns):
            continue  # a file written before these columns existed holds no answers to read
        if relation.filter(ANSWERS_WHERE).limit(1).fetchall():
            found.add(path)
    return found


def name_day(connection: duckdb.DuckDBPyConnection, day: date, flow_files: list[Path], answer_files: list[Path],
             window_seconds: int, target: Path, key: str) -> None:
    """Name one day's flows (queries/flow_names.sql over views of exactly these files) into `target`."""
    answers_from = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(seconds=window_seconds)
    lake_view(connection, "flow_events", flow_files)
    lake_view(connection, "answer_events", answer_files)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    # COPY takes no parameters for its target and options: the path is ours, the key a hex digest
    literal = "'" + str(temporary).replace("'", "''") + "'"
    try:
        connection.execute(
            f"copy ({db.query_text('flow_names')}) to {literal} "
            f"(format parquet, compression zstd, kv_metadata {{{KEY.decode()}: '{key}'}})",
            {"window_seconds": window_seconds, "answers_from": answers_from})
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def lake_view(connection: duckdb.DuckDBPyConnection, name: str, files: list[Path]) -> None:
    """A view of the lake's event columns (and `source_kind`, `day`) over these files; empty if none."""
    if files:
        relation = connection.read_parquet([str(p) for p in files], hive_partitioning=True, union_by_name=True)
        relation = relation.project(f"{db.event_columns(connection, set(relation.columns))}, "
                                    "cast(day as date) as day")
    else:
        relation = connection.sql("select * from lake_events limit 0")
    relation.create_view(name, replace=True)
