"""What a log format is (`Format`), what parsing a batch returns (`ParseResult`), and the SQL helpers.

A format parses a whole Arrow batch of lines at once. Most formats are one DuckDB query over the
relation `lines(line_no, line)` that returns schema columns plus two bookkeeping columns:
`reject_reason` (null when the line parsed) and `is_ignored` (headers, comments, non-traffic lines).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import taken
from detector.schema import EVENTS, SourceKind

REJECT_LINE_CHARS = 4096


@dataclass
class ParseResult:
    """Events (a subset of the schema's columns, always with `line_no`), rejects and ignored lines."""

    events: pa.Table
    rejects: pa.Table  # line_no, line, reason
    ignored: int = 0


REJECTS_OF_BATCH = pa.schema([("line_no", pa.int64()), ("line", pa.string()), ("reason", pa.string())])


@dataclass(frozen=True)
class ParseContext:
    """What a parser may need besides the lines: where they come from and how to read times."""

    path: str
    timezone: str
    connection: duckdb.DuckDBPyConnection
    # `--map column=field`: source column names a generic format should read as schema fields.
    column_map: Mapping[str, str] = field(default_factory=dict)


BatchParser = Callable[[pa.Table], ParseResult]


@dataclass(frozen=True)
class HeaderedParser:
    """A parser for formats whose header lines name the columns of the lines after them (W3C `#Fields`,
    Zeek `#fields`, a CSV header row) or that learn something once per file (Windows DNS: the date
    order), made so that batches can still be parsed two at a time.

    The pipeline calls `carry(lines, state)` on every batch in file order (cheap: it reads only the
    batch's header lines) to learn the state in force at the start of the next batch, and
    `parse(lines, state)` on any thread: a parse depends only on its batch and that state, never on the
    batches parsed before it. States must be immutable (they are shared between threads).
    """

    start: object
    carry: Callable[[pa.Table, object], object]
    parse: Callable[[pa.Table, object], ParseResult]


def in_file_order(parser: BatchParser | HeaderedParser) -> BatchParser:
    """A parser as a function of batches given one after the other in file order (tests, benchmarks)."""
    if not isinstance(parser, HeaderedParser):
        return parser
    state = parser.start

    def parse(lines: pa.Table) -> ParseResult:
        nonlocal state
        result = parser.parse(lines, state)
        state = parser.carry(lines, state)
        return result

    return parse


@dataclass(frozen=True)
class Format:
    """One log format: its registry key, source kind, how to recognise it and how to parse it.

    `sniff` scores a file's first lines from 0 (not this format) to 1 (certainly this format).
    `new_parser` is called once per file; formats whose header lines define the columns (W3C, Zeek
    TSV) return a `HeaderedParser`, so that the header state travels from batch to batch in file order
    while the batches themselves may be parsed two at a time.
    `fields` names the schema columns the format fills, for the README table and data-quality badges.
    `independent_batches`: its parser keeps no state between batches and may parse two at once
    (thread-safe), so the pipeline runs it on several threads.
    `context_lines`: for formats that join several lines into one event (a DNS query and its answer),
    how far apart, in lines, the lines of one event may be. The pipeline then hands the parser each
    batch together with up to that many lines before and after it, and keeps only the outcomes of the
    batch's own lines: an event split by a batch boundary is joined as within one batch, with no state
    carried between batches (such a parser must give every line of its input exactly one outcome).
    `batch_lines`: at most this many lines per batch, below `[ingest] batch_lines`, for formats of long lines (a JSON
    event of 600 bytes) whose batches would otherwise be cut by bytes alone: the batches in flight (read ahead,
    waiting for their context lines, parsing) then hold a third of the memory.
    """

    name: str
    source_kind: SourceKind
    summary: str
    sniff: Callable[[Sequence[str]], float]
    new_parser: Callable[[ParseContext], BatchParser | HeaderedParser]
    fields: tuple[str, ...]
    independent_batches: bool = False
    context_lines: int = 0
    batch_lines: int | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9_]+", self.name):
            raise ValueError(f"format key {self.name!r} must match ^[a-z0-9_]+$")
        unknown = set(self.fields) - set(EVENTS.names)
        if unknown:
            raise ValueError(f"format {self.name}: fields not in the schema: {sorted(unknown)}")
        if self.context_lines < 0:
            raise ValueError(f"format {self.name}: context_lines must not be negative")
        if self.batch_lines is not None and self.batch_lines < 1:
            raise ValueError(f"format {self.name}: batch_lines must be positive")


def line_share(pattern: str | re.Pattern[str]) -> Callable[[Sequence[str]], float]:
    """A sniffer scoring the share of sample lines that match `pattern` at their start."""
    regex = re.compile(pattern) if isinstance(pattern, str) else pattern

    def sniff(lines: Sequence[str]) -> float:
        if not lines:
            return 0.0
        return sum(1 for line in lines if regex.match(line)) / len(lines)

    return sniff


# A URL's scheme (RFC 3986: letters, digits, '+', '-', '.'; and '_' for Squid's cache_object), before its '://':
# a relative URL may hold '://' in its query ('/r?u=http://x/y'), which names no host. The SQL macros below and
# distinct_sql.split_scheme read it so.
URL_SCHEME = r"[A-Za-z][A-Za-z0-9+._-]*"

# SQL macros every format query may use. DuckDB expands a macro inline wherever it is called, so a
# macro that calls another macro repeats that work for every use of its argument. These macros are
# therefore shallow: give them columns computed in an earlier CTE step (url -> rest -> authority ->
# hostport -> host, port), never nested calls. Measured: nesting them made Squid parsing 10x slower.
MACROS = r"""
create or replace macro null_if_dash(s) as nullif(nullif(trim(s), '-'), '');
-- rtrim(h, '.') costs 5x more than this in DuckDB; a host ends with at most one dot anyway.
create or replace macro undot(h) as case when ends_with(h, '.') then left(h, -1) else h end;
create or replace macro clean_host(h) as nullif(undot(lower(trim(h))), '');
-- URL 'scheme://user@host:port/path?query#fragment' -> rest 'user@host:port/path?query#fragment' (URL_SCHEME)
create or replace macro url_scheme(u) as
    case when regexp_matches(u, '^@SCHEME@://') then lower(left(u, strpos(u, '://') - 1)) end;
create or replace macro url_rest(u) as
    case when regexp_matches(u, '^@SCHEME@://') then substr(u, strpos(u, '://') + 3) end;
-- rest -> authority 'user@host:port' and path '/path' (no query, no fragment)
create or replace macro rest_authority(r) as regexp_extract(r, '^[^/?#]*');
create or replace macro rest_path(r) as case
    when r is null then null
    else coalesce(nullif(regexp_extract(r, '^[^/?#]*(/[^?#]*)', 1), ''), '/')
end;
-- authority -> hostport 'host:port' (user info dropped)
create or replace macro authority_hostport(a) as substr(a, strpos(a, '@') + 1);
-- hostport -> host (lower case, no trailing dot; IPv6 without brackets) and port; `-`, the logs' "none"
-- (PAN-OS writes the URL `-/` for a request without a host), is no host
create or replace macro hostport_host(hp) as nullif(nullif(undot(lower(
    case
        when starts_with(hp, '[') then regexp_extract(hp, '^\[([^\]]*)', 1)
        when hp like '%:%:%' then hp
        when contains(hp, ':') then left(hp, strpos(hp, ':') - 1)
        else hp
    end)), ''), '-');
create or replace macro hostport_port(hp) as try_cast(
    case
        when starts_with(hp, '[') then nullif(regexp_extract(hp, '\]:(\d+)$', 1), '')
        when hp like '%:%:%' then null
        when contains(hp, ':') then substr(hp, strpos(hp, ':') + 1)
    end as integer);
-- One call for a URL's path, where the rest of the URL is not needed (one level of nesting).
create or replace macro url_path(u) as rest_path(url_rest(u));
""".replace("@SCHEME@", URL_SCHEME)


def open_parse_connection(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection for parsing: UTC session, macros defined."""
    connection = duckdb.connect(":memory:")
    _session_settings(connection)
    if threads:
        connection.execute(f"set threads = {int(threads)}")
    connection.execute(MACROS)
    return connection


# What a query raises when a line's text makes it fail (a strict read of JSON lines, say): duckdb.Error, or
# UnicodeDecodeError when DuckDB's message quotes the line cut at a byte inside a multi-byte character,
# which Python then cannot decode. Parsers that retry with a tolerant query catch both.
QUERY_ERRORS = (duckdb.Error, UnicodeDecodeError)


def query_in_halves(connection: duckdb.DuckDBPyConnection, query: str, text: pa.Array | pa.ChunkedArray) -> pa.Table:
    """`query` over `lines(line)` of these texts. Should DuckDB fail on a text whatever `try` says (its JSON
    reader does on some), the texts are read again in halves, so that only the failing ones, each alone, give
    nulls: a few queries per such line, not one per line of the batch."""
    try:
        connection.register("lines", pa.table({"line": text}))
        return connection.sql(query).to_arrow_table()
    except QUERY_ERRORS:
        if len(text) == 1:
            connection.register("lines", pa.table({"line": pa.array([None], pa.string())}))
            return connection.sql(query).to_arrow_table()
        half = len(text) // 2
        return pa.concat_tables([query_in_halves(connection, query, text.slice(0, half)),
                                 query_in_halves(connection, query, text.slice(half))])


def parse_cursor(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of the parse connection for one batch: it sees the macros, has its own registered
    `lines`, and is safe to use beside other threads' cursors (formats with `independent_batches`).
    Session settings are not inherited by a cursor, so UTC is set again (it costs ~0.1 ms)."""
    cursor = connection.cursor()
    _session_settings(cursor)
    return cursor


def _session_settings(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute("set TimeZone = 'UTC'")
    connection.execute("set enable_progress_bar = false")


def sql_parser(query: str) -> Callable[[ParseContext], BatchParser]:
    """A parser factory for formats that are one DuckDB query over `lines`.

    The query may use the named parameter `$tz` (the configured time zone for formats without one).
    """

    def new_parser(context: ParseContext) -> BatchParser:
        def parse(lines: pa.Table) -> ParseResult:
            return run_parse_query(context, query, lines)

        return parse

    return new_parser


def run_parse_query(context: ParseContext, query: str, lines: pa.Table, **params: object) -> ParseResult:
    """Run a format query over a batch and split its output into events, rejects and ignored lines."""
    with parse_cursor(context.connection) as cursor:
        cursor.register("lines", lines)
        parameters = {"tz": context.timezone, **params} if "$tz" in query else dict(params)
        result = cursor.sql(query, params=parameters or None).to_arrow_table()
    return split_outcomes(result, lines)


def split_outcomes(result: pa.Table, lines: pa.Table) -> ParseResult:
    """Separate a query result with `reject_reason` / `is_ignored` columns into a ParseResult."""
    reason = result.column("reject_reason")
    ignored_mask = pc.fill_null(result.column("is_ignored"), False)
    rejected_mask = pc.and_(pc.is_valid(reason), pc.invert(ignored_mask))
    event_mask = pc.and_(pc.is_null(reason), pc.invert(ignored_mask))
    events = result.drop_columns(["reject_reason", "is_ignored"])
    if not pc.all(event_mask).as_py():
        events = events.filter(event_mask)
    rejected = result.filter(rejected_mask).select(["line_no", "reject_reason"])
    return ParseResult(
        events=events,
        rejects=attach_lines(rejected.column("line_no"), rejected.column("reject_reason"), lines),
        ignored=pc.sum(pc.cast(ignored_mask, pa.int64())).as_py() or 0,
    )


def attach_lines(
    line_nos: pa.ChunkedArray | pa.Array, reasons: pa.ChunkedArray | pa.Array, lines: pa.Table
) -> pa.Table:
    """Rejects with their raw lines (truncated), looked up by line number in the batch."""
    if len(line_nos) == 0:
        return REJECTS_OF_BATCH.empty_table()
    # a batch's line numbers ascend (blank and over-long lines leave gaps): a binary search, no hash table
    numbers = np.asarray(lines.column("line_no"))
    wanted = np.asarray(line_nos)
    positions = np.minimum(np.searchsorted(numbers, wanted), max(len(numbers) - 1, 0))
    found = numbers[positions] == wanted if len(numbers) else np.zeros(len(wanted), bool)
    raw = taken(lines.column("line"), np.where(found, positions, -1))  # a number not in the batch: no line
    raw = pc.utf8_slice_codeunits(raw, 0, REJECT_LINE_CHARS)
    return pa.Table.from_arrays([line_nos, raw, reasons], schema=REJECTS_OF_BATCH)
