"""Zeek conn, ssl, quic, http and dns logs, in both of Zeek's writers: TSV and JSON.

TSV files describe themselves: `#separator`, `#unset_field`, `#empty_field`, `#set_separator` and
`#fields` header lines name the columns (and may change mid-file when logs are concatenated). The header
in force travels from batch to batch in file order (a `HeaderedParser`, so two batches parse at once)
and each line is read by its `#fields` list: the
separator's positions found on the bytes (numpy), each field read cut out of the buffer by position.
Unset (`-`) and empty-set (`(empty)`) values are null.
JSON lines (`LogAscii::use_json`) carry the same field names as keys (`"id.orig_h"`, or `"id_orig_h"` in both
writers where `Log::default_scope_sep` is "_"); Zeek leaves unset
fields out. A JSON line's fields are read as text by json_scan's compiled walk (zeek_json: one pass over the line's
bytes, the values then copied out), the lines it doubts by one DuckDB call (`json_extract_string` with the list of
fields); from there both writers' fields are read by the same code (`_columns`). Header and comment lines (`#...`)
are ignored. The walk was measured and left out once (commit abb44cb: per 131k http lines walk 0.10 s + values cut out
0.045 s against the call's 0.135 s; end to end at 1M lines 3.92-4.00 s CPU against 3.26-3.43, Numba's start ~0.6 s a
run). With json_scan's key table, times read as written (PathTrie's `fractions`: every Zeek line has a `ts` with
decimals, which the walk left to DuckDB before) and the reader's compiled line cutting (used once a format has loaded
Numba), it pays (2026-11-30, load 10-20): parse of 131k benchmark http lines (process CPU, DuckDB's threads
included, best 3 of 7) 0.134-0.147 -> 0.107-0.113 s (walk 0.052, copy 0.023); whole ingests (CPU, HEAD and this tree
interleaved x2, peak RSS): http json.log 4M lines 9.53-11.29 -> 7.43-8.32 s (702-716 -> 709-733 MiB), 1M 2.96-3.93 ->
2.82-3.50; dns json 4M 8.48 -> 7.02 (719 -> 803 MiB: the reader's pooled buffers), 1M 2.73-3.07 -> 2.86-3.01 (Numba's
start); conn json 1M 6.98-8.33 -> 5.36-5.68. Other shapes of that call, per 131k http lines against 0.12 s:
JSON-pointer paths, `from_json` into a struct (0.14), integers cast in SQL, the list of values unpacked in Arrow
(0.14-0.16): none cheaper. Tried and left with the walk: the lines walked and copied in ~2 MiB slices (the values'
runs then joined): 0.084-0.090 -> 0.090-0.094 s per 131k lines.

Zeek is a passive sensor: it sees traffic, it does not allow or block it, so `action` is `unknown`.
Byte counts are split by direction: `orig_bytes` (conn) and `request_body_len` (http) are what the
client sent, so they are `bytes_out`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, cut_at, first_bytes, list_item, one_array, only_where
from detector.ingest.base import (
    QUERY_ERRORS,
    REJECTS_OF_BATCH,
    Format,
    HeaderedParser,
    ParseContext,
    ParseResult,
    parse_cursor,
    run_parse_query,
    split_outcomes,
)
from detector.ingest.distinct_sql import (
    BIGINT_SQL,
    INTEGER_SQL,
    encoded,
    in_chunk_slices,
    integers,
    plain,
    put_together,
    sql_literal,
    through,
)
from detector.ingest.zeek_json import LazyWalk, read_lines
from detector.schema import TIMESTAMP

# Epoch seconds with microseconds (TSV, default JSON), ISO 8601 (JSON with json_timestamps = JSON::TS_ISO8601) or
# whole milliseconds (JSON::TS_MILLIS: 13 digits until the year 2286; as seconds they would be the year 57000).
# Decimal, not double: a double loses the last microsecond digit of a 2020s epoch. try_cast twice: a
# number too large for microseconds in a BIGINT is not understood (a reject), not a failed batch.
_TS = """coalesce(
    case when length(ts) = 13 and ts not like '%.%' then make_timestamp(try_cast(ts as bigint) * 1000) end::timestamptz,
    make_timestamp(try_cast(try_cast(ts as decimal(20, 6)) * 1000000 as bigint))::timestamptz,
    try_cast(ts as timestamptz))"""

@dataclass(frozen=True)
class _Log:
    """One Zeek log type: the fields it reads (scalars, sets or vectors, and sets or vectors of which only the
    first element is read) and a key of its JSON lines."""

    path: str
    scalars: tuple[str, ...]
    lists: tuple[str, ...]
    json_marker: str  # a key every JSON line of this log type has
    firsts: tuple[str, ...] = ()


_BASE = ("ts", "id.orig_h", "id.resp_h", "id.resp_p")
# Zeek's `Log::default_scope_sep` (base/frameworks/logging/main.zeek, "." by default) joins a record field's scopes
# in a log's field names; sites that load logs into databases often set it to "_" (`id_orig_h`). The
# connection's fields are the only scoped fields read here: read under either name.
_SCOPED = {"id_orig_h": "id.orig_h", "id_orig_p": "id.orig_p", "id_resp_h": "id.resp_h", "id_resp_p": "id.resp_p"}
_UNDERSCORED_KEY = '"id_orig_h":'

CONN = _Log("conn", (*_BASE, "proto", "service", "duration", "orig_bytes", "resp_bytes"), (), "conn_state")
SSL = _Log("ssl", (*_BASE, "server_name"), (), "established")
# quic.log (Zeek 6.1+, base/protocols/quic): a QUIC connection's client hello, `server_name` its SNI. HTTP/3 runs
# over QUIC, so browsers reach many AI services this way; ssl.log never sees it. (`version` and `history`, on
# every line, are keys of ssl and conn lines too; the client's first destination connection ID is quic's own.)
QUIC = _Log("quic", (*_BASE, "server_name"), (), "client_initial_dcid")
HTTP = _Log("http", (*_BASE, "method", "host", "uri", "user_agent", "request_body_len", "response_body_len",
                     "status_code", "username"), (), "trans_depth", firsts=("resp_mime_types",))
DNS = _Log("dns", (*_BASE, "query", "qtype_name", "rcode_name"), ("answers",), "rejected")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _json_query(log: _Log, with_path: bool = False, with_marker: bool = False, underscored: bool = False) -> str:
    """Zeek JSON: one object per line, dotted keys; sets and vectors are arrays. Each line is parsed once:
    one call reads every field as text (a set or vector as its JSON text, read as a list once per distinct
    text afterwards: JSON_LIST_SQL; where only its first element is read, that element's text); the fields
    are then read as the TSV writer's are. `with_path`: the `_path` key too (see _PATH_KEY); `with_marker`: the
    log's marker key too (see _without_marker); `underscored`: the connection's keys scoped with "_" (_SCOPED)."""
    extra = (*((log.json_marker,) if with_marker else ()), *((_PATH,) if with_path else ()))
    names = (*log.scalars, *log.lists, *log.firsts, *extra)
    key = {dotted: scoped for scoped, dotted in _SCOPED.items()} if underscored else {}
    paths = ", ".join([*("'$." + _ident(key.get(name, name)) + "'" for name in (*log.scalars, *log.lists)),
                       *("'$." + _ident(name) + "[0]'" for name in log.firsts),
                       *("'$." + _ident(name) + "'" for name in extra)])
    columns = [f"j[{i}] as {_ident(name)}" for i, name in enumerate(names, start=1)]
    # `try`: a line that is not valid JSON gives null instead of failing the batch (see _json_queries).
    return f"""
        select case when j is null then 'not a valid JSON object' end as reject_reason, {", ".join(columns)}
        from (select try(json_extract_string(line, [{paths}])) as j from lines)
    """


def _json_queries(log: _Log, with_path: bool = False, with_marker: bool = False, underscored: bool = False
                  ) -> tuple[str, str]:
    """The JSON query without and with `try` around the line's reading: `try` costs ~15 % of the query on
    every line, so a batch is read without it first, and again with it only when some line is not JSON
    (a truncated last line, a corrupt file: rare)."""
    careful = _json_query(log, with_path, with_marker, underscored)
    return careful.replace("try(json_extract_string(line,", "(json_extract_string(line,", 1), careful


def _is_own_path(path: str, log: _Log) -> bool:
    """Whether a `#path` or `_path` names this log: its name, or its name and a suffix after `_` (a log filter's
    path such as Corelight's reduced `conn_red` or `dns_red`, the same fields)."""
    return path == log.path or path.startswith(log.path + "_")


# One stream may hold every Zeek log: Zeek's JSON with a `_path` field naming each line's log (the
# json-streaming-logs package of Corelight sensors and Security Onion, a log extension: Zeek writes extension
# fields first, so such a line starts with `{"_path":`). A line of another log is no record of this one: ignored,
# as Suricata's records of other types are. Looked for on the lines' first bytes; `_path` is read only in a batch
# where some line starts so (a key more costs every line).
_PATH = "_path"
_PATH_KEY = '{"_path":'


@dataclass(frozen=True)
class _Header:
    """What the TSV header lines said so far."""

    separator: str = "\t"
    set_separator: str = ","
    unset: str = "-"
    empty: str = "(empty)"
    fields: tuple[str, ...] = ()
    path: str | None = None  # `#path`: the log the lines are of


def _unescape(value: str) -> str:
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), value)


def _read_header(header: _Header, line: str) -> _Header:
    """Fold one `#...` line into the header state (unknown directives and comments change nothing)."""
    key, _, rest = line.partition(" ") if line.startswith("#separator") else line.partition(header.separator)
    values = rest.split(header.separator)
    if key == "#separator":
        if not _unescape(rest.strip()):  # none declared: not understood, the separator stays
            return header
        return replace(header, separator=_unescape(rest.strip()))
    if key == "#set_separator":
        return replace(header, set_separator=_unescape(values[0]))
    if key == "#unset_field":
        return replace(header, unset=values[0])
    if key == "#empty_field":
        return replace(header, empty=values[0])
    if key == "#fields":
        if "id.orig_h" not in values:  # Log::default_scope_sep other than "." (see _SCOPED)
            values = [_SCOPED.get(name, name) for name in values]
        return replace(header, fields=tuple(values))
    if key == "#path":
        return replace(header, path=values[0].strip() or None)
    return header


# TSV lines are split in Arrow (pyarrow's string kernels cost a fraction of DuckDB's per line); the fields (TSV's
# or JSON's) whose meaning the shared SQL macros define (hosts, URLs) go through SQL once per distinct value, and
# numbers in the plain form Zeek writes are cast by Arrow (anything else through SQL, with its meaning).
TS_SQL = f"select {_TS} as value from (select value as ts from distinct_values)"
DOUBLE_MS_SQL = "select try_cast(round(try_cast(value as double) * 1000) as bigint) as value from distinct_values"
CLEAN_HOST_SQL = "select clean_host(value) as value from distinct_values"
# a JSON set or vector's text (as the line's reading gives it) -> its elements; null for [] or no array
JSON_LIST_SQL = "select nullif(try(json_extract_string(value, '$[*]')), []) as value from distinct_values"
UPPER_SQL = "select upper(value) as value, upper(value) = 'CONNECT' as is_connect from distinct_values"
# conn: the first service Zeek recognised, else the transport (service and proto joined by chr(31); chr(30): unset)
SERVICE_SQL = """
select lower(coalesce(nullif(split_part(service, ',', 1), ''), proto)) as value
from (select nullif(split_part(value, chr(31), 1), chr(30)) as service,
             nullif(split_part(value, chr(31), 2), chr(30)) as proto from distinct_values)
"""
# CONNECT's target is an authority, host:port (RFC 9110 9.3.6); a target that is not (`/`, a path, a URL) names no
# host: null, and the Host header names it instead
CONNECT_HOST_SQL = """
select case when not regexp_matches(target, '[/?#@]') then hostport_host(target) end as value
from (select split_part(trim(value), ' ', 1) as target from distinct_values)
"""
HOST_HEADER_SQL = "select hostport_host(authority_hostport(value)) as value from distinct_values"
AUTHORITY_HOST_SQL = "select hostport_host(authority_hostport(value)) as value from distinct_values"
HOST_SOURCES = pa.array(["none", "connect", "http_host", "url", "sni", "dns_query"])


class _Queries:
    """The per-distinct queries of one file's parse, each remembering its answers across the batches."""

    def __init__(self) -> None:
        self.ts = DistinctQuery(TS_SQL, limit=10_000)
        self.double_ms = DistinctQuery(DOUBLE_MS_SQL)
        self.integer = DistinctQuery(INTEGER_SQL)
        self.bigint = DistinctQuery(BIGINT_SQL)
        self.clean_host = DistinctQuery(CLEAN_HOST_SQL)
        self.json_list = DistinctQuery(JSON_LIST_SQL)
        self.upper = DistinctQuery(UPPER_SQL)
        self.service = DistinctQuery(SERVICE_SQL)
        self.connect_host = DistinctQuery(CONNECT_HOST_SQL)
        self.host_header = DistinctQuery(HOST_HEADER_SQL)
        self.authority_host = DistinctQuery(AUTHORITY_HOST_SQL)
        self.walk = LazyWalk()


# Zeek writes times as epoch seconds with six decimals (TSV: %.6f; JSON drops trailing zeros)
_PLAIN_DECIMAL = r"^[0-9]{1,15}(\.[0-9]{1,9})?$"


def _epoch_times(connection: duckdb.DuckDBPyConnection, queries: _Queries, text: pa.Array) -> pa.Array:
    """Zeek's `ts` as a UTC timestamp: exact integer arithmetic for its usual forms, SQL for any other. (A time
    beyond the years 1-9999, such as milliseconds read as seconds, is the pipeline's reject.)"""
    micros = _fixed_width_micros(text)
    if micros is not None:
        return pa.array(micros, pa.int64()).cast(TIMESTAMP)
    # the usual forms: 1-12 digits, then optionally a point and 1-6 digits, or 13 digits of milliseconds (told
    # without a regex)
    point = pc.find_substring(text, ".")  # -1 where there is none
    digits = pc.replace_substring(text, ".", "", max_replacements=1)
    has_point = pc.greater_equal(point, 0)
    whole_digits = pc.if_else(has_point, point, pc.binary_length(text))
    fraction_digits = pc.if_else(has_point, pc.subtract(pc.binary_length(digits), point), 0)
    millis = pc.and_(pc.invert(has_point), pc.equal(whole_digits, 13))
    usual = pc.and_(pc.and_(pc.ascii_is_decimal(digits), pc.less_equal(fraction_digits, 6)),
                    pc.and_(pc.greater_equal(whole_digits, 1), pc.or_(pc.less_equal(whole_digits, 12), millis)))
    usual = pc.and_(usual, pc.or_(pc.invert(has_point), pc.greater_equal(fraction_digits, 1)))
    if not pc.all(pc.fill_null(usual, True)).as_py():
        return pc.cast(through(connection, queries.ts, encoded(text))["value"], TIMESTAMP)
    scale = pa.array([10 ** (6 - k) for k in range(7)], pa.int64()).take(fraction_digits)
    if pc.any(millis).as_py():
        scale = pc.if_else(millis, pa.scalar(1000, pa.int64()), scale)
    return pc.multiply(pc.cast(digits, pa.int64()), scale).cast(TIMESTAMP)


def _fixed_width_micros(text: pa.Array) -> np.ndarray | None:
    """Epoch seconds as microseconds, read from the text's bytes as one matrix (a row per value), when every
    `ts` of a batch has one width and its point in one place: 1-12 digits, then a point and 1-6 decimals or
    none, or 13 digits of milliseconds (JSON::TS_MILLIS). The usual case: the TSV writer's six decimals (ten
    digits before the point until the year 2286); JSON drops trailing zeros, so its whole seconds read
    `1763452840.0`. None when some value is null or has another width or form (then the general reading
    applies)."""
    offsets = np.frombuffer(text.buffers()[1], np.int32, len(text) + 1, text.offset * 4) if len(text) else None
    if offsets is None or text.null_count or text.type != pa.string():
        return None
    width = int(offsets[1] - offsets[0])
    if not 1 <= width <= 19 or not (np.diff(offsets) == width).all():
        return None
    characters = np.frombuffer(text.buffers()[2], np.uint8)[offsets[0]:offsets[-1]].reshape(-1, width)
    points = np.flatnonzero(characters[0] == ord("."))
    point = int(points[0]) if len(points) else width
    decimals = max(width - point - 1, 0)
    if point == width == 13:  # whole milliseconds (JSON::TS_MILLIS): as three decimals of seconds
        decimals = 3
    elif not 1 <= point <= 12 or (point < width and not (1 <= decimals <= 6
                                                          and (characters[:, point] == ord(".")).all())):
        return None
    digits = characters - np.uint8(ord("0"))  # a byte below '0' wraps round to more than 9
    if not ((digits[:, :point] <= 9).all() and (digits[:, point + 1:] <= 9).all()):
        return None
    micros = np.zeros(len(digits), np.int64)
    for column in (*range(point), *range(point + 1, width)):
        micros *= 10
        micros += digits[:, column]
    return micros * 10 ** (6 - decimals)


def _integers(connection: duckdb.DuckDBPyConnection, query: DistinctQuery, values: pa.Array, target: pa.DataType
              ) -> pa.Array:
    """`distinct_sql.integers`, with plain digits told on the bytes: one comparison over the values' bytes and
    their lengths instead of four string kernels (the values are then cast by Arrow, as there); anything else
    as there."""
    if values.type == pa.string() and len(values) and values.buffers()[2] is not None:
        offsets = np.frombuffer(values.buffers()[1], np.int32, len(values) + 1, values.offset * 4)
        lengths = np.diff(offsets)
        if values.null_count:  # (a null's bytes, if any, are compared too: only ever a reason to go the long way)
            lengths = lengths[pc.is_valid(values).to_numpy(zero_copy_only=False)]
        digits = np.frombuffer(values.buffers()[2], np.uint8)[offsets[0]:offsets[-1]] - np.uint8(ord("0"))
        longest = 18 if target.bit_width == 64 else 9  # digits that always fit `target`, as there
        if (digits <= 9).all() and (not len(lengths) or (lengths.min() >= 1 and lengths.max() <= longest)):
            return pc.cast(values, target)
    return integers(connection, query, values, target)


def _milliseconds(connection: duckdb.DuckDBPyConnection, queries: _Queries, text: pa.Array) -> pa.Array:
    """Seconds with decimals -> whole milliseconds, rounded half away from zero as DuckDB's round()."""
    plain_form = pc.fill_null(pc.match_substring_regex(text, _PLAIN_DECIMAL), True)
    if not pc.all(plain_form).as_py():
        return through(connection, queries.double_ms, encoded(text))["value"]
    scaled = pc.multiply(pc.cast(text, pa.float64()), 1000.0)
    return pc.cast(pc.round(scaled, round_mode="half_towards_infinity"), pa.int64())


def _split_fields(text: pa.Array, separator: str, read: Sequence[int], field_count: int,
                  placeholders: Sequence[str] = ()) -> tuple[Callable[[int], pa.Array], pa.Array]:
    """The fields at positions `read` (0-based) of each line, as a function of the position (null where a
    line has fewer, or where the field is one of the `placeholders`), and how many fields each line has."""
    if (len(separator.encode()) == 1 and text.type == pa.string() and not text.null_count and len(text)
            and text.buffers()[2] is not None):
        return _split_at_byte(text, separator, placeholders, read)
    field, count = _split_with_lists(text, separator, read, field_count)
    if not placeholders:
        return field, count

    def field_without_placeholders(position: int) -> pa.Array:
        values = field(position)
        return only_where(values, pc.invert(pc.fill_null(pc.is_in(values, value_set=pa.array(placeholders)), False)))

    return field_without_placeholders, count


def _split_at_byte(text: pa.Array, separator: str, placeholders: Sequence[str], read: Sequence[int] | None = None
                   ) -> tuple[Callable[[int], pa.Array], pa.Array]:
    """A one-byte separator (Zeek's tab) found with numpy in one pass over the text's bytes; a field is then
    cut out of the buffer at those positions (one copy of that field only, no list of every line's fields),
    its placeholders told by their length and bytes. Costs per byte of the batch, not per field made."""
    offsets = np.frombuffer(text.buffers()[1], np.int32, len(text) + 1, text.offset * 4)
    data = text.buffers()[2]
    octets = np.frombuffer(data, np.uint8)
    separators = np.flatnonzero(octets[offsets[0]:offsets[-1]] == ord(separator))  # from the first line's start
    line_start, line_end = offsets[:-1], offsets[1:]
    matrix = _same_count_matrix(separators, offsets)
    if matrix is not None:
        # Every line with as many fields (the usual case): a field's bounds are columns of the separators, the
        # ones the fields read need (all if not told) copied out in one pass (a row of the matrix per line
        # spans several cache lines: reading a column at a time would go over all of them for each column)
        count = np.full(len(text), matrix.shape[1] + 1)
        needed = sorted({p for position in (range(count[0]) if read is None else read)
                         for p in (position - 1, position) if 0 <= p < matrix.shape[1]})
        bound = dict(zip(needed, matrix.T[needed] + offsets[0], strict=True)) if needed else {}
    else:
        separators = separators.astype(np.int32) + offsets[0]
        first = np.searchsorted(separators, offsets)  # a line's first separator: its place in `separators`
        count = np.diff(first) + 1
        separators, first = np.append(separators, offsets[-1]), first[:-1]  # (a last one: a place past the end)
    every_other = np.arange(0, 2 * len(count), 2)
    every_other_array = pa.array(every_other)

    def bounds_of(position: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Start and end of the field in each line, and where lines have it (None: all)."""
        if matrix is not None:
            if position >= count[0]:
                return line_start, line_start, np.zeros(len(count), bool)
            start = line_start if position == 0 else _separator_column(bound, matrix, offsets, position - 1) + 1
            end = line_end if position == count[0] - 1 else _separator_column(bound, matrix, offsets, position)
            return start, end, None
        present = count > position
        start = line_start if position == 0 else np.where(
            present, separators[np.minimum(first + position - 1, len(separators) - 1)] + 1, line_start)
        end = np.where(count > position + 1, separators[np.minimum(first + position, len(separators) - 1)],
                       np.where(present, line_end, line_start))
        return start, end, None if present.all() else present

    def is_placeholder(start: np.ndarray, length: np.ndarray) -> np.ndarray | None:
        found = None
        for placeholder in {p.encode() for p in placeholders}:
            rows = np.flatnonzero(length == len(placeholder))
            for i, byte in enumerate(placeholder):
                rows = rows[octets[start[rows] + i] == byte]
            if len(rows):
                found = np.zeros(len(length), bool) if found is None else found
                found[rows] = True
        return found

    @functools.cache
    def field(position: int) -> pa.Array:
        start, end, present = bounds_of(position)
        unset = is_placeholder(start, end - start)
        missing = ~present if present is not None else None
        missing = unset if missing is None else missing if unset is None else missing | unset
        bounds = np.empty(2 * len(start), np.int32)  # field, gap to the next line's field, field, ...
        bounds[0::2], bounds[1::2] = start, end
        spans = pa.StringArray.from_buffers(len(bounds) - 1, pa.py_buffer(bounds), data)
        return spans.take(every_other_array if missing is None else pa.array(every_other, mask=missing))

    return field, pa.array(count)


def _separator_column(copied: dict[int, np.ndarray], matrix: np.ndarray, offsets: np.ndarray, column: int
                      ) -> np.ndarray:
    """The positions of each line's separator number `column` in the buffer: copied out beforehand, else read
    from the matrix (a field that was not announced)."""
    positions = copied[column] if column in copied else matrix[:, column] + offsets[0]
    return positions.astype(np.int32)


def _same_count_matrix(separators: np.ndarray, offsets: np.ndarray) -> np.ndarray | None:
    """The separators' positions (counted from the first line's start) as a matrix, a row per line, when every
    line has as many (the usual case); else None. The first line's count is found with one search; each row
    then lies within its own line exactly when its first and last separators do (the positions are sorted),
    two column comparisons instead of a search per line."""
    lines = len(offsets) - 1
    per_line = int(np.searchsorted(separators, offsets[1] - offsets[0]))
    if len(separators) != lines * per_line:
        return None
    matrix = separators.reshape(lines, per_line)
    if per_line and not ((matrix[:, 0] >= offsets[:-1] - offsets[0]).all()
                         and (matrix[:, -1] < offsets[1:] - offsets[0]).all()):
        return None
    return matrix


def _split_with_lists(text: pa.Array, separator: str, read: Sequence[int], field_count: int
                      ) -> tuple[Callable[[int], pa.Array], pa.Array]:
    """The fields at positions `read` (0-based) of each line, as a function of the position, and how many
    fields each line has. Splitting costs per field made, so the line is split from the left only up to the
    fields read, and when the last ones read lie far to the right (http.log's MIME types, dns.log's answers),
    the rest of the line is split from its end instead. (A field taken from the end is the right one on the
    lines with `field_count` fields: the others are rejects.)"""
    read = sorted(set(read)) or [0]
    # (fields made from the left, from the right, the first read from the right); from the left only at first
    left, right, right_first = read[-1] + 2, 0, field_count
    for before, after in pairwise(read):
        if before + 2 + field_count - after + 1 < left + right:
            left, right, right_first = before + 2, field_count - after + 1, after
    items = pc.split_pattern(text, separator, max_splits=left - 1)
    count = pc.list_value_length(items)
    rest = list_item(items, left - 1)
    if rest.null_count < len(rest):
        count = pc.add(count, pc.cast(pc.fill_null(pc.count_substring(rest, separator), 0), count.type))
    tail = pc.split_pattern(rest, separator, max_splits=right - 1, reverse=True) if right else None

    def field(position: int) -> pa.Array:
        if position < right_first or tail is None:
            return list_item(items, position)
        return list_item(tail, position - field_count)

    return field, count


@dataclass(frozen=True)
class _Fields:
    """The fields of a run of lines as text, whichever writer wrote them: what `_columns` reads."""

    line_no: pa.Array | pa.ChunkedArray
    reject_reason: pa.Array  # null where the line parsed
    rows: int
    # a field's text, null where unset or empty (TSV's `-` and `(empty)`; JSON leaves the key out); None where
    # the lines have no such field
    raw: Callable[[str], pa.Array | None]
    set_separator: str | None = None  # TSV: a set or vector is text joined by it; JSON: already a list
    ignored: pa.Array | None = None  # lines of another log (JSON's `_path`), else None

    def text(self, name: str) -> pa.Array:
        """The field, null where unset, empty or absent."""
        values = self.raw(name)
        return pa.nulls(self.rows, pa.string()) if values is None else values

    def distinct(self, name: str) -> pa.DictionaryArray:
        """The field dictionary-encoded (for fields read once per distinct value, or that repeat)."""
        return encoded(self.text(name))

    def elements(self, name: str) -> pa.Array:
        """A set or vector field as a list of its elements (one when the header declares no set separator)."""
        if self.set_separator:
            return pc.split_pattern(self.text(name), self.set_separator)
        if self.set_separator is not None:
            text = self.text(name)
            return pa.ListArray.from_arrays(pa.array(np.arange(len(text) + 1), pa.int32()), text,
                                            mask=pc.is_null(text))
        values = self.raw(name)
        return values if values is not None else pa.nulls(self.rows, pa.list_(pa.string()))

    def first_element(self, name: str) -> pa.Array:
        """The first element of a set or vector field (JSON: read as such, see `_Log.firsts`)."""
        if not self.set_separator:  # JSON, or a header declaring no set separator
            return self.text(name)
        text = self.text(name)
        if len(self.set_separator) == 1:
            return cut_at(text, self.set_separator)
        return list_item(pc.split_pattern(text, self.set_separator, max_splits=1), 0)


def _tsv_fields(log: _Log, header: _Header, run: pa.Table) -> _Fields:
    """TSV lines under `header`: split at its separator; a line with another number of fields is a reject."""
    position = {name: i for i, name in enumerate(header.fields)}
    read = [position[name] for name in (*log.scalars, *log.lists, *log.firsts) if name in position]
    field, count = _split_fields(one_array(run.column("line")), header.separator, read, len(header.fields),
                                 (header.unset, header.empty))
    rows = len(count)
    wrong = pc.not_equal(count, len(header.fields))
    reason = pa.nulls(rows, pa.string())
    if pc.any(wrong).as_py():  # the text once per wrong field count
        found = pc.dictionary_encode(only_where(count, wrong))
        texts = pc.binary_join_element_wise(f"expected {len(header.fields)} fields (as in #fields), found ",
                                            pc.cast(found.dictionary, pa.string()), "")
        reason = texts.take(found.indices)
    return _Fields(run.column("line_no"), reason, rows,
                   lambda name: field(position[name]) if name in position else None,
                   header.set_separator)


def _columns(connection: duckdb.DuckDBPyConnection, queries: _Queries, log: _Log, fields: _Fields) -> pa.Table:
    """A log's fields -> schema columns plus reject_reason / is_ignored."""
    text, distinct, rows = fields.text, fields.distinct, fields.rows
    columns = {
        "line_no": fields.line_no,
        "reject_reason": fields.reject_reason,
        "is_ignored": pa.repeat(pa.scalar(False), rows) if fields.ignored is None else fields.ignored,
        "ts": _epoch_times(connection, queries, text("ts")),
        "src_ip": text("id.orig_h"),
        "dst_ip": text("id.resp_h"),
        "action": pa.repeat(pa.scalar("unknown"), rows),
        "dst_port": _integers(connection, queries.integer, text("id.resp_p"), pa.int32()),
    }
    if log is CONN:
        proto = text("proto")
        not_icmp = pc.invert(pc.fill_null(pc.starts_with(proto, "icmp"), True))
        key = pc.binary_join_element_wise(text("service"), proto, chr(31), null_handling="replace",
                                          null_replacement=chr(30))
        columns.update({
            # For ICMP Zeek puts the message type and code where the ports are: not a port.
            "dst_port": only_where(columns["dst_port"], not_icmp),
            "network_protocol": through(connection, queries.service, encoded(key))["value"],
            "host_source": pa.repeat(pa.scalar("none"), rows),
            "bytes_out": _integers(connection, queries.bigint, text("orig_bytes"), pa.int64()),
            "bytes_in": _integers(connection, queries.bigint, text("resp_bytes"), pa.int64()),
            "duration_ms": _milliseconds(connection, queries, text("duration")),
        })
    elif log is SSL or log is QUIC:
        host = through(connection, queries.clean_host, distinct("server_name"))["value"]
        columns.update({
            "network_protocol": pa.repeat(pa.scalar("tls" if log is SSL else "quic"), rows),
            "host": host,
            "host_source": _host_sources(pc.if_else(pc.is_null(host), 0, 4)),
        })
    elif log is HTTP:
        columns.update(_http_columns(connection, queries, fields))
    elif log is DNS:
        host = through(connection, queries.clean_host, distinct("query"))["value"]
        columns.update({
            "network_protocol": pa.repeat(pa.scalar("dns"), rows),
            "host": host,
            "host_source": _host_sources(pc.if_else(pc.is_null(host), 0, 5)),
            "dns_qtype": distinct("qtype_name"),
            "dns_rcode": distinct("rcode_name"),
            "dns_answers": fields.elements("answers"),
        })
    return pa.table(columns)


def _http_columns(connection: duckdb.DuckDBPyConnection, queries: _Queries, fields: _Fields) -> dict[str, pa.Array]:
    """http.log: the host from the CONNECT target (where it is host:port), else the Host header, else an absolute
    URI's authority.
    CONNECT's uri is the tunnel target (host:port); a proxied request's uri is absolute (scheme://host/...)."""
    text, distinct, rows = fields.text, fields.distinct, fields.rows
    method = through(connection, queries.upper, distinct("method"))
    is_connect = pc.fill_null(method["is_connect"], False)
    uri = text("uri")
    host_field = distinct("host")
    has_host = pc.is_valid(host_field)
    target = through(connection, queries.host_header, host_field)["value"]
    url_path, from_uri = _uri_path_and_host(connection, queries, uri)
    if from_uri is not None:  # absolute URIs (a proxy's requests): their authority's host where no Host header
        target = _coalesce_where(has_host, target, from_uri)
    by_target = is_connect
    if pc.any(is_connect).as_py():
        connect_target = through(connection, queries.connect_host, encoded(only_where(uri, is_connect)))["value"]
        by_target = pc.and_(is_connect, pc.is_valid(connect_target))
        target = _coalesce_where(by_target, connect_target, target)
    source = pc.if_else(pc.is_null(target), 0, pc.if_else(by_target, 1, pc.if_else(has_host, 2, 3)))
    return {
        "network_protocol": pa.repeat(pa.scalar("http"), rows),
        "http_method": method["value"],
        "host": target,
        "host_source": _host_sources(source),
        "url_path": only_where(url_path, pc.invert(is_connect)),
        "http_status": _integers(connection, queries.integer, text("status_code"), pa.int32()),
        "bytes_out": _integers(connection, queries.bigint, text("request_body_len"), pa.int64()),
        "bytes_in": _integers(connection, queries.bigint, text("response_body_len"), pa.int64()),
        "user_agent": text("user_agent"),
        "user_name": distinct("username"),
        "content_type": fields.first_element("resp_mime_types"),
    }


def _uri_path_and_host(connection: duckdb.DuckDBPyConnection, queries: _Queries, uri: pa.Array
                       ) -> tuple[pa.Array, pa.Array | None]:
    """Each URI's path, and its authority's host where it is absolute (None when no URI is). Read once per
    distinct URI where they repeat (a site's pages, a client's polling: most do; the path then stays
    dictionary-encoded), else per row (a dictionary's lookups would cost more than they save)."""
    values = encoded(uri)
    per_distinct = 2 * len(values.dictionary) <= len(uri)
    read = values.dictionary if per_distinct else uri
    path, absolute, authority = _uri_parts(read)
    host = None
    if len(absolute):
        from_uri = through(connection, queries.authority_host, encoded(authority))["value"]
        back = np.full(len(read), -1)
        back[absolute] = np.arange(len(absolute))  # URI -> its place among the absolute
        host = from_uri.take(pa.array(back, mask=back < 0))
    if not per_distinct:
        return path, host
    return (pa.DictionaryArray.from_arrays(values.indices, path),
            None if host is None else host.take(values.indices))


def _uri_parts(uri: pa.Array) -> tuple[pa.Array, np.ndarray, pa.Array]:
    """Each URI's path, the rows of the absolute ones (a scheme and '://'), and those rows' authority, as
    `distinct_sql.url_parts` reads them: the authority is the rest after the first '://' up to its first '/',
    '?' or '#'; the path runs from that '/' (a relative URI: from its start) up to the first '?' or '#' after
    it ('/' where an authority is not followed by a '/'). The marks are found on the URIs' bytes, the parts
    cut out at their positions: a few passes over the bytes, no splits, no string search."""
    no_rows = np.zeros(0, np.int64)
    if not len(uri) or uri.type != pa.string() or uri.buffers()[2] is None:
        return uri, no_rows, pa.array([], pa.string())
    offsets = np.frombuffer(uri.buffers()[1], np.int32, len(uri) + 1, uri.offset * 4)
    octets = np.frombuffer(uri.buffers()[2], np.uint8)
    base, start, end = offsets[0], offsets[:-1], offsets[1:]
    missing = pc.is_null(uri).to_numpy(zero_copy_only=False) if uri.null_count else None
    data = octets[base:offsets[-1]]
    is_query = (data == ord("?")) | (data == ord("#"))
    queries = np.append(np.flatnonzero(is_query) + base, offsets[-1])  # (a last one: a place past the end)
    path_start = start.copy()
    absolute, authority = no_rows, pa.array([], pa.string())
    colons = np.flatnonzero(data == ord(":")) + base
    colon_rows = np.searchsorted(offsets, colons, side="right") - 1
    is_scheme = colons + 3 <= end[colon_rows]  # (a colon's row: its '//' within the row)
    colons, colon_rows = colons[is_scheme], colon_rows[is_scheme]
    is_scheme = (octets[colons + 1] == ord("/")) & (octets[colons + 2] == ord("/"))
    if missing is not None:
        is_scheme &= ~missing[colon_rows]
    colons, colon_rows = colons[is_scheme], colon_rows[is_scheme]
    if len(colons):
        first = np.concatenate([[True], colon_rows[1:] != colon_rows[:-1]])  # a row's first '://'
        absolute, colons = colon_rows[first], colons[first]
        # ... after a scheme from the row's start (a relative URI may hold '://' in its query)
        is_scheme = _is_scheme(octets, start[absolute], colons)
        absolute, colons = absolute[is_scheme], colons[is_scheme]
    if len(absolute):
        rest = colons + 3
        marks = np.append(np.flatnonzero(is_query | (data == ord("/"))) + base, offsets[-1])
        cut = np.minimum(marks[np.searchsorted(marks, rest)], end[absolute])  # the rest's first mark, else end
        authority = _spans(uri, rest, cut)
        path_start[absolute] = cut
    path_end = np.minimum(queries[np.searchsorted(queries, path_start)], end)
    path = _spans(uri, path_start, path_end, missing)
    if len(absolute):
        cut = path_start[absolute]
        no_path = cut == end[absolute]
        no_path[~no_path] = octets[cut[~no_path]] != ord("/")
        if no_path.any():  # an authority not followed by a '/' (`http://host`, `http://host?q`): the path is '/'
            is_root = np.zeros(len(uri), bool)
            is_root[absolute[no_path]] = True
            path = pc.if_else(pa.array(is_root), "/", path)
    return path, absolute, authority


# The bytes of a URI's scheme (`base.URL_SCHEME`): letters, then also digits, '+', '-', '.' and '_'.
_SCHEME_FIRST = np.zeros(256, bool)
_SCHEME_FIRST[[*range(ord("A"), ord("Z") + 1), *range(ord("a"), ord("z") + 1)]] = True
_SCHEME_NEXT = _SCHEME_FIRST.copy()
_SCHEME_NEXT[[*range(ord("0"), ord("9") + 1), *b"+-._"]] = True


def _is_scheme(octets: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Whether each text `octets[start:end]` is a scheme (read on those bytes only: few URIs hold a '://')."""
    lengths = end - start
    is_scheme = lengths > 0
    is_scheme[is_scheme] = _SCHEME_FIRST[octets[start[is_scheme]]]
    at = np.repeat(start - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
    bad = np.flatnonzero(~_SCHEME_NEXT[octets[at]])
    is_scheme[np.searchsorted(np.cumsum(lengths), bad, side="right")] = False
    return is_scheme


def _spans(text: pa.Array, start: np.ndarray, end: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """The bytes `start[i]:end[i]` of `text`'s buffer as a string array (null where `missing`)."""
    bounds = np.empty(2 * len(start), np.int32)  # span, gap to the next row's span, span, ...
    bounds[0::2], bounds[1::2] = start, end
    spans = pa.StringArray.from_buffers(len(bounds) - 1, pa.py_buffer(bounds), text.buffers()[2])
    return spans.take(pa.array(np.arange(0, len(bounds), 2), mask=missing))


def _coalesce_where(use: pa.Array, chosen: pa.Array, otherwise: pa.Array) -> pa.Array:
    """`chosen` where `use` holds (even if null there), else `otherwise`. Two dictionary arrays stay encoded:
    the indices are chosen, into their dictionaries joined (each value once); others are decoded."""
    if not (pa.types.is_dictionary(chosen.type) and pa.types.is_dictionary(otherwise.type)):
        return pc.if_else(use, plain(chosen), plain(otherwise))
    joined = pc.dictionary_encode(pa.concat_arrays([chosen.dictionary, otherwise.dictionary]))
    indices = pc.if_else(use, chosen.indices, pc.add(otherwise.indices, pa.scalar(len(chosen.dictionary),
                                                                                   otherwise.indices.type)))
    return pa.DictionaryArray.from_arrays(joined.indices.take(indices), joined.dictionary)


def _host_sources(codes: pa.Array) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pc.cast(codes, pa.int32()), HOST_SOURCES)


_NO_HEADER_QUERY = """
select line_no, false as is_ignored,
    'neither a JSON object nor a TSV line under a #fields header' as reject_reason
from lines
"""


def _parser_factory(log: _Log) -> Callable[[ParseContext], HeaderedParser]:
    json_query = {(with_path, with_marker, underscored): _json_queries(log, with_path, with_marker, underscored)
                  for with_path in (False, True) for with_marker in (False, True) for underscored in (False, True)}

    def new_parser(context: ParseContext) -> HeaderedParser:
        queries = _Queries()  # thread-safe: shared by the batches parsed at once

        def parse(lines: pa.Table, header: _Header) -> ParseResult:
            """A batch under the header in force at its start (a file's header is at its top)."""
            first = first_bytes(lines.column("line"))
            is_header, is_json = first == ord("#"), first == ord("{")
            parts: list[ParseResult] = []
            has_json = bool(is_json.any())
            if has_json:
                parts.append(_parse_json(context, queries, log, json_query, _rows_where(lines, is_json)))
            header_lines = _rows_where(lines, is_header).column("line").to_pylist()
            if not header_lines and not has_json:
                parts.append(_parse_tsv(context, queries, log, header, lines))
                return _combine(parts, ignored=0)
            # The TSV lines after the k-th header line of the batch are read under the header state then in
            # force. Concatenated logs repeat their header block, often with the same state: one query per
            # distinct state, not per block (a batch may hold thousands of small blocks).
            states = [header]
            for line in header_lines:
                header = _read_header(header, line)
                states.append(header)
            block = np.cumsum(is_header)  # header lines so far
            is_tsv = ~(is_header | is_json)
            blocks_of: dict[_Header, list[int]] = {}
            for k, state in enumerate(states):
                blocks_of.setdefault(state, []).append(k)
            for state, blocks in blocks_of.items():
                run = _rows_where(lines, is_tsv & np.isin(block, blocks))
                if run.num_rows:
                    parts.append(_parse_tsv(context, queries, log, state, run))
            return _combine(parts, ignored=len(header_lines))

        return HeaderedParser(start=_Header(), carry=_carry_header, parse=parse)

    return new_parser


def _rows_where(lines: pa.Table, mask: np.ndarray) -> pa.Table:
    """The lines where `mask` holds: a slice (no copy) when they follow each other, as a file's lines under
    its one header do."""
    rows = np.flatnonzero(mask)
    if len(rows) == 0 or rows[-1] - rows[0] + 1 == len(rows):
        return lines.slice(int(rows[0]) if len(rows) else 0, len(rows))
    return lines.take(pa.array(rows))


def _carry_header(lines: pa.Table, header: _Header) -> _Header:
    """The header in force after a batch: its `#` lines folded in (blank lines are not headers)."""
    for line in _rows_where(lines, first_bytes(lines.column("line")) == ord("#")).column("line").to_pylist():
        header = _read_header(header, line)
    return header


def _parse_tsv(context: ParseContext, queries: _Queries, log: _Log, header: _Header, run: pa.Table) -> ParseResult:
    if not header.fields:
        return run_parse_query(context, _NO_HEADER_QUERY, run)
    if header.path is not None and not _is_own_path(header.path, log):  # (a file of another log type)
        reason = f"a line of Zeek's {header.path} log (#path), not its {log.path} log"
        return run_parse_query(context, f"select line_no, false as is_ignored, {sql_literal(reason)} as reject_reason "
                                        "from lines", run)
    with parse_cursor(context.connection) as cursor:
        # a slice of lines at a time: the numpy temporaries of a whole batch are large (memory and page faults)
        columns = in_chunk_slices(run, lambda part: _columns(cursor, queries, log, _tsv_fields(log, header, part)))
        return split_outcomes(columns, run)


def _parse_json(context: ParseContext, queries: _Queries, log: _Log,
                query: dict[tuple[bool, bool, bool], tuple[str, str]], run: pa.Table) -> ParseResult:
    """JSON lines (at least one). One query reads them all (a query has a fixed cost of a few milliseconds);
    its result is then read a chunk at a time (DuckDB's follow the lines' chunks: the reader's reads), each
    field of a chunk one array used as it is (a slice across two chunks would have them copied into one)."""
    with parse_cursor(context.connection) as cursor:
        cursor.register("lines", run)
        with_path = pc.any(pc.starts_with(run.column("line"), _PATH_KEY)).as_py()
        marker = f'"{log.json_marker}":'
        sample = run.column("line").slice(0, _MARKER_SAMPLE).to_pylist()
        with_marker = any(marker not in line for line in sample)
        underscored = any(_UNDERSCORED_KEY in line for line in sample) and not any('"id.orig_h":' in line
                                                                                  for line in sample)
        quick, careful = query[with_path, with_marker, underscored]
        table = None
        if queries.walk.tried and run.column("line").type == pa.string():  # (the walk reads 32-bit offsets)
            table = _walked(cursor, queries, log, run, with_path, with_marker, underscored, quick, careful)
        if table is None:
            table = _queried(cursor, quick, careful)
        parts, start = [], 0
        for chunk in table.to_batches():

            def raw(name: str, chunk: pa.RecordBatch = chunk) -> pa.Array:
                return _json_lists(cursor, queries, chunk.column(name)) if name in log.lists else chunk.column(name)

            other_log, path = None, None
            if with_path:
                path = chunk.column(_PATH)
                other_log = pc.fill_null(pc.invert(pc.or_(pc.equal(path, log.path),
                                                          pc.starts_with(path, log.path + "_"))), False)
            fields = _Fields(run.column("line_no").slice(start, chunk.num_rows),
                             _without_marker(log, chunk, path) if with_marker else chunk.column("reject_reason"),
                             chunk.num_rows, raw, ignored=other_log)
            parts.append(_columns(cursor, queries, log, fields))
            start += chunk.num_rows
        return split_outcomes(put_together(parts), run)  # (`run` has lines: some result chunk)


def _queried(cursor: duckdb.DuckDBPyConnection, quick: str, careful: str) -> pa.Table:
    """The JSON query's table of the registered `lines`: the strict query, or where some line is not JSON the careful
    one (those lines rejects)."""
    try:
        return cursor.sql(quick).to_arrow_table()
    except QUERY_ERRORS:
        return cursor.sql(careful).to_arrow_table()


def _walked(cursor: duckdb.DuckDBPyConnection, queries: _Queries, log: _Log, run: pa.Table, with_path: bool,
            with_marker: bool, underscored: bool, quick: str, careful: str) -> pa.Table:
    """What the JSON query gives for these lines (`_json_query`'s columns), read by the compiled walk (zeek_json);
    the lines it doubts by the query."""
    names = (*log.scalars, *log.lists, *log.firsts, *((log.json_marker,) if with_marker else ()),
             *((_PATH,) if with_path else ()))
    key = {dotted: scoped for scoped, dotted in _SCOPED.items()} if underscored else {}
    firsts = tuple(range(len(log.scalars) + len(log.lists), len(log.scalars) + len(log.lists) + len(log.firsts)))

    def queried(lines: pa.Array) -> pa.Table:
        cursor.register("lines", pa.table({"line": lines}))
        return _queried(cursor, quick, careful)

    return read_lines(cursor, queries.walk, one_array(run.column("line")), names,
                      tuple(key.get(name, name) for name in names), firsts,
                      tuple(at for at, name in enumerate(names) if name in _FRACTIONS), queried)


# The fields that Zeek writes as numbers with decimals (`time` and `interval`), which zeek_json reads as written (zeek
# reads them as numbers: _epoch_times, _milliseconds)
_FRACTIONS = frozenset({"ts", "duration"})


# The lines of a JSON batch whose text is looked at for the log's marker key: when one lacks it, the batch is read
# with that key and every line without it is a reject (a key more costs ~3.5 % of a JSON parse: not on every batch)
_MARKER_SAMPLE = 16


def _without_marker(log: _Log, chunk: pa.RecordBatch, path: pa.Array | None) -> pa.Array:
    """The reject reasons of JSON lines, with those of lines that lack the key every line of this log has
    (`_Log.json_marker`: conn_state, established, trans_depth, rejected; Zeek writes them on every line) and
    name no log in `_path`: a line of another Zeek log (a file read with another log's --format), or of
    another product, is not read as a record of this one."""
    reason, marker = chunk.column("reject_reason"), chunk.column(log.json_marker)
    missing = pc.is_null(marker) if path is None else pc.and_(pc.is_null(marker), pc.is_null(path))
    if not marker.null_count or not pc.any(missing).as_py():
        return reason
    text = pa.scalar(f'a JSON line without "{log.json_marker}": not a line of Zeek\'s {log.path} log')
    return pc.coalesce(reason, pc.if_else(missing, text, pa.scalar(None, pa.string())))


def _json_lists(connection: duckdb.DuckDBPyConnection, queries: _Queries, text: pa.Array) -> pa.Array:
    """JSON sets or vectors as the line's reading gives them (their JSON text) -> lists of their elements'
    text (JSON_LIST_SQL). Once per distinct text where they repeat (dns.log's answers mostly do: a name's
    addresses), else for every row (distinct texts would cost a dictionary and its lookups on top)."""
    values = encoded(text)
    if 2 * len(values.dictionary) <= len(text):
        return through(connection, queries.json_list, values)["value"]
    connection.register("distinct_values", pa.table({"value": text}))
    try:
        return one_array(connection.sql(JSON_LIST_SQL).to_arrow_table().column("value"))
    finally:
        connection.unregister("distinct_values")


def _combine(parts: list[ParseResult], ignored: int) -> ParseResult:
    events = [p.events for p in parts]
    if len(events) > 1:  # JSON's columns are plain, TSV's partly dictionary-encoded: one type per column
        events = [_decoded(table) for table in events]
    rejects = [p.rejects for p in parts if p.rejects.num_rows]
    return ParseResult(
        events=pa.concat_tables(events, promote_options="default") if events else _NO_EVENTS,
        rejects=pa.concat_tables(rejects) if rejects else REJECTS_OF_BATCH.empty_table(),
        ignored=ignored + sum(p.ignored for p in parts),
    )


def _decoded(table: pa.Table) -> pa.Table:
    """`table` with its dictionary-encoded columns decoded."""
    return pa.table({name: column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
                     for name, column in zip(table.column_names, table.columns, strict=True)})


_NO_EVENTS = pa.table({"line_no": pa.array([], pa.int64())})


def _sniffer(log: _Log) -> Callable[[Sequence[str]], float]:
    """TSV: the `#path` header decides. JSON: the share of lines with `_path` or this log's marker key."""
    path_line = re.compile(r"^#path\s+(\S+)")
    own_path = re.compile(r'"_path"\s*:\s*"' + log.path + '(?:_[^"]*)?"')
    any_path = re.compile(r'"_path"\s*:')
    marker = re.compile('"' + log.json_marker + r'"\s*:')

    def is_own_json(line: str) -> bool:
        if not line.lstrip().startswith("{") or ('"id.orig_h"' not in line and _UNDERSCORED_KEY not in line):
            return False
        return bool(own_path.search(line)) if any_path.search(line) else bool(marker.search(line))

    def sniff(lines: Sequence[str]) -> float:
        if not lines:
            return 0.0
        for line in lines:
            match = path_line.match(line)
            if match:
                return 1.0 if _is_own_path(match.group(1), log) else 0.0
        return sum(1 for line in lines if is_own_json(line)) / len(lines)

    return sniff


def _format(log: _Log, summary: str, fields: tuple[str, ...]) -> Format:
    return Format(
        name=f"zeek_{log.path}",
        source_kind="sensor",
        summary=summary,
        sniff=_sniffer(log),
        new_parser=_parser_factory(log),
        fields=fields,
        independent_batches=True,
    )


_FLOW_FIELDS = ("ts", "src_ip", "dst_ip", "dst_port", "network_protocol", "action")

ZEEK_CONN = _format(CONN, "Zeek conn.log (TSV or JSON): every connection, bytes each way",
                    (*_FLOW_FIELDS, "bytes_out", "bytes_in", "duration_ms"))
ZEEK_SSL = _format(SSL, "Zeek ssl.log (TSV or JSON): TLS handshakes with the SNI server name",
                   (*_FLOW_FIELDS, "host", "host_source"))
ZEEK_QUIC = _format(QUIC, "Zeek quic.log (TSV or JSON; Zeek 6.1+): QUIC (HTTP/3) handshakes with the SNI server "
                    "name", (*_FLOW_FIELDS, "host", "host_source"))
ZEEK_HTTP = _format(HTTP, "Zeek http.log (TSV or JSON): plain HTTP requests",
                    (*_FLOW_FIELDS, "host", "host_source", "http_method", "url_path", "http_status",
                     "bytes_out", "bytes_in", "user_agent", "user_name", "content_type"))
ZEEK_DNS = _format(DNS, "Zeek dns.log (TSV or JSON): DNS queries and answers",
                   (*_FLOW_FIELDS, "host", "host_source", "dns_qtype", "dns_rcode", "dns_answers"))
