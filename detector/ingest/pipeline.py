"""Ingesting files into the lake: recognise, fingerprint, stream, parse, pseudonymise, write, commit.

Every line is accounted for: lines = parsed + rejected + ignored, per file, always.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.config import Settings
from detector.enrich.pseudonym import Pseudonymiser
from detector.errors import DetectorError
from detector.ingest import get_format, sniff
from detector.ingest.arrow_ops import first_bytes
from detector.ingest.base import (
    REJECTS_OF_BATCH,
    BatchParser,
    Format,
    HeaderedParser,
    ParseContext,
    ParseResult,
    attach_lines,
    open_parse_connection,
)
from detector.ingest.reader import (
    HEAD_BYTES,
    ContentHasher,
    Fingerprint,
    LineBatch,
    StreamState,
    expand_paths,
    fingerprint,
    head_lines,
    iter_line_batches,
    open_stream,
    read_head,
    with_context,
)
from detector.ingest.stages import PARSE_WORKERS, BackgroundWriter, ordered_map, prefetched, tune_allocators
from detector.lake import Lake, Segment, SegmentWriter, head_hash, one_dictionary_per_column
from detector.schema import EVENT_FILE_SCHEMA, EVENTS, TIMESTAMP, conform

DRY_RUN_REJECTS = 10


@dataclass
class FileReport:
    """What happened to one file; the JSON form is the `ingest --json` contract."""

    file: str
    format: str | None = None
    lines: int = 0
    parsed: int = 0
    rejected: int = 0
    ignored: int = 0
    skipped: bool = False
    error: str | None = None
    first_rejects: list[dict[str, object]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "file": self.file,
            "format": self.format,
            "lines": self.lines,
            "parsed": self.parsed,
            "rejected": self.rejected,
            "ignored": self.ignored,
            "skipped": self.skipped,
        }
        if self.error:
            data["error"] = self.error
        if self.first_rejects:
            data["first_rejects"] = self.first_rejects
        return data


def ingest_paths(
    settings: Settings,
    patterns: list[str],
    format_name: str | None = None,
    dry_run: bool = False,
    column_map: Mapping[str, str] | None = None,
) -> Iterator[FileReport]:
    """Ingest every file the patterns name; yield a report per file (and per pattern naming nothing).

    A file that fails (missing, unknown format, truncated) does not stop the others.
    """
    forced = get_format(format_name) if format_name else None
    files, missing = expand_paths(patterns)
    for pattern in missing:
        yield FileReport(file=pattern, error="no such file, directory or glob match")
    if not files:
        return
    lake = Lake(settings.lake)
    tune_allocators()
    connection = open_parse_connection()
    try:
        if dry_run:
            for path in files:
                yield _guarded(path, lambda p: _dry_run(p, forced, settings, connection, column_map or {}))
            return
        pseudonymise = Pseudonymiser(settings.home, settings.keep_identity_map)
        with lake.writing():
            for path in files:
                yield _guarded(
                    path, lambda p: _ingest_file(p, forced, settings, lake, connection, pseudonymise, column_map or {})
                )
    finally:
        connection.close()


def _guarded(path: Path, work: Callable[[Path], FileReport]) -> FileReport:
    """One file's failure is that file's error, never the end of the run."""
    try:
        return work(path)
    except DetectorError as exc:
        return FileReport(file=str(path), error=exc.message)
    except (duckdb.Error, pa.ArrowException) as exc:
        # A parser bug or an input no parser expected: report it against the file, keep going.
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return FileReport(file=str(path), error=f"could not parse ({type(exc).__name__}): {first_line}")


def _choose_format(path: Path, forced: Format | None) -> tuple[Format | None, bytes]:
    head = read_head(path)
    if forced:
        return forced, head
    lines = head_lines(head)
    if not lines:
        return None, head  # empty or blank: nothing to parse, nothing to recognise
    return sniff(lines, str(path)), head


def _ingest_file(
    path: Path,
    forced: Format | None,
    settings: Settings,
    lake: Lake,
    connection: duckdb.DuckDBPyConnection,
    pseudonymise: Pseudonymiser,
    column_map: Mapping[str, str],
) -> FileReport:
    fmt, head = _choose_format(path, forced)
    report = FileReport(file=str(path), format=fmt.name if fmt else None)
    segments = lake.segments()
    candidates = [s for s in segments if len(head) >= s.head_len and head_hash(head[: s.head_len]) == s.head_hash]
    if candidates:
        # Its head is known: the same file again, a file that grew, or one that merely starts alike.
        # Hash it first (one extra pass) to tell which.
        legacy = any(ContentHasher.is_legacy(s.content_hash) for s in candidates)
        print_: Fingerprint | None = fingerprint(path, {s.end_offset for s in candidates}, legacy)
        if any(s.content_hash in print_.content_hashes and s.end_offset == print_.size for s in candidates):
            report.skipped = True
            return report
        matched = [s for s in candidates if print_.has_prefix(s.end_offset, s.content_hash)]
        previous = max(matched, key=lambda s: s.end_offset, default=None)
    else:
        # A head no segment has: a new file. Its content is hashed as it is read, not in a pass before.
        print_, previous = None, None
    if fmt is None:
        # Blank lines only: count them, nothing to write.
        return _count_blank_file(path, report, settings)
    # A head other segments share cannot name a new file: then the content hash does.
    file_id = previous.file_id if previous else (file_id_of(print_) if print_ else new_file_id(head))
    start = previous.end_offset if previous else 0
    state = StreamState(lines=previous.end_line if previous else 0,
                        hasher=None if print_ else ContentHasher())
    segment_name = f"{file_id}-{start}"
    writer = SegmentWriter(lake, segment_name, fmt.source_kind)
    context = ParseContext(str(path), settings.timezone, connection, column_map)
    # Read to the fingerprinted size, even if the file grows meanwhile; a file that broke off is read
    # to its break, so that the reader leaves out the broken last line.
    end = print_.size if print_ and not print_.error else None
    try:
        with BackgroundWriter(writer) as background:
            for events, rejects in iter_parsed(path, fmt, context, settings, report, state, start, end):
                background.put(_finish_events(events, fmt, file_id, pseudonymise),
                               _finish_rejects(rejects, fmt, file_id, path))
        staged = writer.close()
    except BaseException:
        writer.abort()
        raise
    report.lines = state.lines - (previous.end_line if previous else 0)
    _check_accounting(report)
    error = state.error or (print_.error if print_ else None)
    if error:  # the content ends before the break: hash exactly what was ingested, for the re-run
        content_hash = fingerprint(path, {state.offset}).prefix_hash(state.offset) if state.offset else ""
    elif print_:
        content_hash = print_.content_hash if state.offset == print_.size else ""
    else:
        content_hash = state.hasher.hexdigest()
    segment = Segment(
        file_id=file_id,
        path=str(path.resolve()),
        log_format=fmt.name,
        source_kind=fmt.source_kind,
        start_offset=start,
        end_offset=state.offset,
        start_line=previous.end_line if previous else 0,
        end_line=state.lines,
        content_hash=content_hash,
        head_len=min(HEAD_BYTES, state.offset),
        head_hash=head_hash(head[: min(HEAD_BYTES, state.offset)]),
        parsed=report.parsed,
        rejected=report.rejected,
        ignored=report.ignored,
        ingested_at=datetime.now(UTC).isoformat(timespec="seconds"),
        error=error.message if error else None,
    )
    lake.commit(segment, staged)
    if error:
        report.error = error.message
    return report


def file_id_of(print_: Fingerprint) -> str:
    """The id of a new file whose head other segments share: from its content hash."""
    return print_.content_hash.removeprefix(ContentHasher.TAG)[:32]


def new_file_id(head: bytes) -> str:
    """The id of a file whose head no segment shares (so no other file's id is derived from it)."""
    return hashlib.sha256(b"shadow-ai file id\0" + head).hexdigest()[:32]


def iter_parsed(
    path: Path,
    fmt: Format,
    context: ParseContext,
    settings: Settings,
    report: FileReport,
    state: StreamState,
    start: int = 0,
    end: int | None = None,
) -> Iterator[tuple[pa.Table, pa.Table]]:
    """Parse a file's content [start, end) batch by batch: (events, rejects) per batch.

    Counts go into `report`; where reading stands (and a read error) into `state`.
    """
    parser = fmt.new_parser(context)
    with open_stream(path) as stream:
        batches = prefetched(
            iter_line_batches(stream, state, min(settings.batch_lines, fmt.batch_lines or settings.batch_lines),
                              settings.max_line_bytes, start, end))
        if fmt.context_lines:  # lines of one event may fall in two batches: parse each with its neighbours
            batches = with_context(batches, fmt.context_lines)
        if isinstance(parser, HeaderedParser):
            work = _with_header_states(batches, parser, _header_state_at(path, parser, settings, start))
        else:
            work = ((batch, parser) for batch in batches)
        parse = functools.partial(_parse_work, max_line_bytes=settings.max_line_bytes)
        # A parser that keeps no state between batches may work on two at once (results stay in order).
        parsed = ordered_map(parse, work, PARSE_WORKERS) if fmt.independent_batches else map(parse, work)
        for outcome in parsed:
            report.parsed += outcome.events.num_rows
            report.rejected += outcome.rejects.num_rows
            report.ignored += outcome.ignored
            yield outcome.events, outcome.rejects


def parse_file(path: Path, fmt: Format, settings: Settings, column_map: Mapping[str, str] | None = None
               ) -> tuple[pa.Table, pa.Table, FileReport]:
    """Parse a whole (small) file in memory, without the lake or pseudonyms: for tests and golden files."""
    report = FileReport(file=str(path), format=fmt.name)
    state = StreamState()
    connection = open_parse_connection()
    try:
        context = ParseContext(str(path), settings.timezone, connection, column_map or {})
        parts = list(iter_parsed(path, fmt, context, settings, report, state))
    finally:
        connection.close()
    report.lines = state.lines
    _check_accounting(report)
    if state.error:
        report.error = state.error.message
    events = [conform(_with_lineage(e, fmt, ""), EVENTS) for e, _ in parts]
    rejects = [r for _, r in parts]
    return (
        pa.concat_tables(events) if events else EVENTS.empty_table(),
        pa.concat_tables(rejects) if rejects else REJECTS_OF_BATCH.empty_table(),
        report,
    )


def _with_header_states(batches: Iterable[LineBatch], parser: HeaderedParser, state: object
                        ) -> Iterator[tuple[LineBatch, BatchParser]]:
    """Each batch with the parse bound to the header state at its start, carried here in file order."""
    for batch in batches:
        yield batch, functools.partial(_parse_under, parser.parse, state)
        state = parser.carry(batch.lines, state)


def _parse_under(parse: Callable[[pa.Table, object], ParseResult], state: object, lines: pa.Table) -> ParseResult:
    return parse(lines, state)


def _header_state_at(path: Path, parser: HeaderedParser, settings: Settings, offset: int) -> object:
    """The header state in force at `offset` of a file that grew since it was last ingested: its header
    lines are above the new content, so the content before it is read again (not parsed)."""
    state = parser.start
    if offset:
        with open_stream(path) as stream:
            for batch in iter_line_batches(stream, StreamState(), settings.batch_lines, settings.max_line_bytes,
                                           0, offset):
                state = parser.carry(batch.lines, state)
    return state


def _parse_work(work: tuple[LineBatch, BatchParser], max_line_bytes: int) -> ParseResult:
    batch, parser = work
    return _parse(batch, parser, max_line_bytes)


def _parse(batch: LineBatch, parser: BatchParser, max_line_bytes: int) -> ParseResult:
    """Parse one batch; blank lines are ignored here so that no format has to think of them."""
    lines, blank_count = _without_blanks(batch.lines)
    if lines.num_rows == 0:  # blank lines only: nothing for a parser (which need not handle no lines)
        result = ParseResult(EVENTS.empty_table(), REJECTS_OF_BATCH.empty_table())
    elif batch.after is not None:
        result = _parse_in_context(lines, batch, parser)
    else:
        result = parser(lines)
    events, rejects = result.events, [result.rejects]
    # An event the lake cannot place in a day partition is a reject, with its reason.
    problems = _time_problems(events.column("ts")) if "ts" in events.column_names else None
    if problems is not None:
        unplaceable = pc.is_valid(problems)
        rejects.append(attach_lines(events.filter(unplaceable).column("line_no"), pc.filter(problems, unplaceable),
                                    lines))
        events = events.filter(pc.invert(unplaceable))
    if batch.too_long:
        numbers, starts = zip(*batch.too_long, strict=True)
        reason = f"line too long (over {max_line_bytes} bytes); the start is kept"
        rejects.append(pa.table({"line_no": pa.array(numbers, pa.int64()), "line": pa.array(starts, pa.string()),
                                 "reason": pa.array([reason] * len(numbers), pa.string())}, schema=REJECTS_OF_BATCH))
    return ParseResult(events, pa.concat_tables(rejects), blank_count + result.ignored)


# The times a lake day can hold (a day partition is a calendar date).
EARLIEST_TIME = pa.scalar(datetime(1, 1, 1, tzinfo=UTC), TIMESTAMP)
LATEST_TIME = pa.scalar(datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), TIMESTAMP)
OUTSIDE_CALENDAR = "timestamp outside the years 1-9999"


def _time_problems(ts: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """Per event, why the lake cannot place it in a day (null where it can); None in the usual batch, where
    three vectorised checks are all it costs. A time outside the years 1-9999 (a misread epoch, a 5-digit
    year) fits Arrow's timestamp but no calendar date: it stopped the whole ingest in the lake's day
    arithmetic before it was caught here, for every format."""
    missing = pc.is_null(ts)
    outside = pc.fill_null(pc.or_(pc.less(ts, EARLIEST_TIME), pc.greater(ts, LATEST_TIME)), False)
    if not (pc.any(missing).as_py() or pc.any(outside).as_py()):
        return None
    return pc.if_else(missing, pa.scalar("no timestamp"),
                      pc.if_else(outside, pa.scalar(OUTSIDE_CALENDAR), pa.scalar(None, pa.string())))


def _without_blanks(lines: pa.Table) -> tuple[pa.Table, int]:
    """The lines that are not empty or whitespace only, and how many were.

    Only a line whose first byte may start whitespace (a control character or space, or a byte of a multi-byte
    character) can be blank: the others are told by their first byte, read through the offsets, and the text of
    the few candidates alone is tested (a test of every line's text cost ~0.045 s per 1M lines of ~450 bytes).
    """
    text = lines.column("line")
    first = first_bytes(text)
    maybe = np.flatnonzero((first <= 0x20) | (first >= 0x80))
    if not len(maybe):
        return lines, 0
    candidates = pc.take(text, pa.array(maybe))
    found = pc.or_(pc.equal(pc.binary_length(candidates), 0), pc.utf8_is_space(candidates))
    blank = np.zeros(len(first), bool)
    blank[maybe[np.asarray(found.to_numpy(zero_copy_only=False), bool)]] = True
    blank_count = int(blank.sum())
    return (lines.filter(pa.array(~blank)) if blank_count else lines), blank_count


def _parse_in_context(lines: pa.Table, batch: LineBatch, parser: BatchParser) -> ParseResult:
    """Parse a batch's lines among its neighbours' (`Format.context_lines`); keep its own lines' outcomes.

    Every line of the window has exactly one outcome, so the batch's ignored lines are those of its
    lines that are neither an event nor a reject.
    """
    before = _without_blanks(batch.before)[0] if batch.before is not None else lines.slice(0, 0)
    after = _without_blanks(batch.after)[0] if batch.after is not None else lines.slice(0, 0)
    window = pa.concat_tables([before, lines, after])
    result = parser(window)
    if result.events.num_rows + result.rejects.num_rows + result.ignored != window.num_rows:
        raise DetectorError(f"internal error: a format with context lines gave {result.events.num_rows} events,"
                            f" {result.rejects.num_rows} rejects and {result.ignored} ignored for"
                            f" {window.num_rows} lines")
    numbers = lines.column("line_no")
    first, last = numbers[0], numbers[-1]  # line numbers ascend

    def own(table: pa.Table) -> pa.Table:
        line_no = table.column("line_no")
        return table.filter(pc.and_(pc.greater_equal(line_no, first), pc.less_equal(line_no, last)))

    events, rejects = own(result.events), own(result.rejects)
    return ParseResult(events, rejects, lines.num_rows - events.num_rows - rejects.num_rows)


def _with_lineage(events: pa.Table, fmt: Format, file_id: str) -> pa.Table:
    """The columns every event of a file shares, as one-value dictionaries (no per-row copy of the text)."""
    n = events.num_rows
    events = events.drop_columns([c for c in ("source_kind", "log_format", "file_id") if c in events.column_names])
    return (
        events.append_column("source_kind", constant(fmt.source_kind, n))
        .append_column("log_format", constant(fmt.name, n))
        .append_column("file_id", constant(file_id, n))
    )


def constant(text: str, rows: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int32)), pa.array([text], pa.string()))


def _finish_events(events: pa.Table, fmt: Format, file_id: str, pseudonymise: Pseudonymiser) -> pa.Table:
    events = _with_lineage(events, fmt, file_id)
    if "user_name" in events.column_names and events.num_rows:
        index = events.column_names.index("user_name")
        events = events.set_column(index, "user_name", pseudonymise(events.column("user_name")))
    return one_dictionary_per_column(conform(events, EVENTS, dictionaries=True).select(EVENT_FILE_SCHEMA.names))


def _finish_rejects(rejects: pa.Table, fmt: Format, file_id: str, path: Path) -> pa.Table:
    n = rejects.num_rows
    return pa.table(
        {
            "file_id": pa.repeat(pa.scalar(file_id), n),
            "path": pa.repeat(pa.scalar(str(path.resolve())), n),
            "log_format": pa.repeat(pa.scalar(fmt.name), n),
            "line_no": rejects.column("line_no"),
            "line": rejects.column("line"),
            "reason": rejects.column("reason"),
        }
    )


def _count_blank_file(path: Path, report: FileReport, settings: Settings) -> FileReport:
    state = StreamState()
    with open_stream(path) as stream:
        for batch in iter_line_batches(stream, state, settings.batch_lines, settings.max_line_bytes):
            report.ignored += batch.count
    report.lines = state.lines
    return report


def _check_accounting(report: FileReport) -> None:
    if report.lines != report.parsed + report.rejected + report.ignored:
        raise DetectorError(
            f"internal error: {report.lines} lines but {report.parsed} parsed + {report.rejected} rejected"
            f" + {report.ignored} ignored",
            report.file,
        )


def _dry_run(
    path: Path, forced: Format | None, settings: Settings, connection: duckdb.DuckDBPyConnection,
    column_map: Mapping[str, str],
) -> FileReport:
    fmt, _ = _choose_format(path, forced)
    report = FileReport(file=str(path), format=fmt.name if fmt else None)
    if fmt is None:
        return _count_blank_file(path, report, settings)
    context = ParseContext(str(path), settings.timezone, connection, column_map)
    state = StreamState()
    for _, rejects in iter_parsed(path, fmt, context, settings, report, state):
        room = DRY_RUN_REJECTS - len(report.first_rejects)
        if room > 0 and rejects.num_rows:
            report.first_rejects.extend(rejects.slice(0, room).to_pylist())
    report.lines = state.lines
    _check_accounting(report)
    if state.error:
        report.error = state.error.message
    return report
