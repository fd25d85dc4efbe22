"""W3C extended log format: Symantec/Blue Coat ProxySG ELFF, Microsoft TMG/ISA, Cisco WSA W3C, IIS.

The columns are named by `#Fields:` directives (https://www.w3.org/TR/WD-logfile), which may change in
the middle of a file (a web server restarts, an administrator adds a field), so the header in force
travels from batch to batch in file order (a `HeaderedParser`: the batches themselves parse two at a
time) and a batch is split at its directive lines; each run of data lines is split into values by
Arrow's CSV reader (lines padded with several spaces by a quote-aware split), and each field's distinct
values go through the shared SQL macros once (`Plan`: which field feeds which column, per field list).
In a space-separated log the lines of plain values are read instead by proxysg_scan's compiled pass (w3c_values):
each line's bytes read once, only the values the plan reads numbered by their text; the same counts and values.
Values are separated by spaces (Oracle pads with several), or by tabs where `#Fields` separates the names
with tabs (ISA Server and TMG write their W3C logs so, values such as rule names and user agents keeping
their spaces); strings may be quoted, with `""` for a quote; `-` is an empty value.

Times: `date`/`time` are UTC by the standard, shifted by a `#GMT-Offset:` directive where a server
writes one; `date-local`/`time-local` are in the configured zone; `timestamp` (Cisco WSA) is epoch
seconds; a log with `time` only takes its date from the last `#Date:` directive.

The host: a proxy logs the destination (`cs-host` from the URL on ProxySG, `r-host` on TMG, the URL in
`cs-uri`/`cs-url`); a web server logs its own name as the client asked for it (`cs(Host)`), and `s-ip` is
then the server's address. On ProxySG `s-ip` is the appliance itself, so it is not the destination.
`cs-bytes` (client to server) feeds `bytes_out`, `sc-bytes` feeds `bytes_in`; the standard's `bytes`
has no direction and is left out. `time-taken` is milliseconds on IIS, ProxySG and TMG, and seconds
when written with a decimal point as the standard has it. The proxy's categories (ProxySG
`cs-categories`, older `sc-filter-category`; Cisco WSA `x-webcat-code-full` or `x-webcat-code-abr`) feed
vendor_category, its application name (ProxySG `x-bluecoat-application-name`, WSA `x-avc-app`) vendor_app.
Netskope's web transactions name theirs `x-category`, `x-cs-app`, `x-policy-action` (allow, block ...),
`cs-user-agent` and `sc-content-type`.
The action: blocked where any verdict field says so (sc-filter-result, x-acltag, s-action, result codes), else
allowed where one allows; unknown where the status is 407 (Proxy Authentication Required), the proxy asking for
credentials the client then sends, or a 401 the proxy answered itself (a *_DENIED result code: its challenge when
it authenticates transparently): no verdict on the site.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol, Self, TypeVar

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import (
    DistinctQuery,
    dictionary_array,
    first_bytes,
    list_item,
    only_where,
    per_distinct,
    quoted_value,
    space_trimmed,
    split_quoted,
    without_empty,
)
from detector.ingest.auth_challenge import AUTH_CHALLENGE, SERVER_AUTH
from detector.ingest.base import (
    REJECTS_OF_BATCH,
    Format,
    HeaderedParser,
    ParseContext,
    ParseResult,
    parse_cursor,
    run_parse_query,
    split_outcomes,
)
from detector.ingest.cisco_wsa import WSA_MACROS
from detector.ingest.csv_fields import regular_lines as csv_regular_lines
from detector.ingest.csv_fields import regular_lines_and_quotes
from detector.ingest.distinct_sql import BIGINT_SQL, INTEGER_SQL, encoded, in_slices, integers, plain, sql_literal
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.proxy_columns import (
    EPOCH_SQL,
    VALUE_SLICE,
    UrlQueries,
    bools,
    constant_text,
    epoch_times,
    fields_of_lines,
    first_reasons,
    first_valid,
    has_control_bytes,
    is_ip_literal,
    joined_pairs,
    line_text,
    no_text,
    text_data,
    url_columns,
    where,
)
from detector.ingest.squid import PROXY_MACROS
from detector.ingest.syslog import BSD_TIME, ISO_TIME
from detector.ingest.user_names import addresses as ip_addresses
from detector.schema import TIMESTAMP

# A value is a quoted string (with "" inside) or a run of non-space characters (for sniffing).
_TOKEN = re.compile(r'"(?:[^"]|"")*"|\S+')
_DIRECTIVE = re.compile(r"#(Fields|Software|Version|Date|Start-Date|End-Date|Remark|GMT-Offset):", re.IGNORECASE)
_FIELDS = re.compile(r"#Fields:", re.IGNORECASE)

# Fields whose presence marks a ProxySG log, where `s-ip`/`s-port` are the appliance's own.
PROXYSG_FIELDS = frozenset(
    {"s-action", "sc-filter-result", "s-supplier-ip", "s-supplier-name", "x-exception-id", "cs-auth-group"}
)

# The event columns every query returns, with their SQL types, so that the results of the segments
# of a batch (parsed with different field lists) concatenate.
OUTPUT_TYPES: dict[str, str] = {
    "ts": "timestamptz", "src_ip": "varchar", "user_name": "varchar", "host": "varchar",
    "host_source": "varchar", "dst_ip": "varchar", "dst_port": "integer", "network_protocol": "varchar",
    "http_method": "varchar", "url_path": "varchar", "http_status": "integer", "action": "varchar",
    "bytes_out": "bigint", "bytes_in": "bigint", "duration_ms": "bigint", "user_agent": "varchar",
    "content_type": "varchar", "vendor_app": "varchar", "vendor_category": "varchar",
}


@dataclass(frozen=True)
class Header:
    """What the directives so far say about the data lines that follow them (immutable: batches parsed
    at once share it)."""

    fields: tuple[str, ...] | None = None
    date: str | None = None  # from #Date:, for logs with a `time` field but no `date`
    gmt_offset_minutes: int = 0
    tabbed: bool = False  # #Fields names its fields separated by tabs (ISA/TMG): so are the values

    def applied(self, directive: str) -> Header:
        """The header after one more directive line (other directives and comments change nothing)."""
        name, _, value = directive.partition(":")
        name = name.strip().lower()
        if name == "#fields":
            return replace(self, fields=tuple(f.lower() for f in value.split()) or None, tabbed="\t" in value.strip())
        if name in ("#date", "#start-date"):
            return replace(self, date=_directive_date(value))
        if name == "#gmt-offset":
            match = re.fullmatch(r"\s*([+-])(\d\d):?(\d\d)\s*", value)
            if match:
                sign = -1 if match[1] == "-" else 1
                return replace(self, gmt_offset_minutes=sign * (int(match[2]) * 60 + int(match[3])))
        return self


def _directive_date(value: str) -> str | None:
    """The date of a #Date directive as YYYY-MM-DD (IIS writes ISO; some vendors dd/Mon/yyyy)."""
    text = value.strip().split()[0] if value.strip() else ""
    for pattern in ("%Y-%m-%d", "%d/%b/%Y", "%d/%b/%Y:%H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    return None


# Lines Arrow's CSV reader (space-separated) and the quote-aware split read alike: single spaces between
# values, each plain or quoted as a whole (see proxy_columns.fields_of_lines). Other lines take the split.
# `regular_lines` decides it without the pattern (which cost a quarter of the parse).
REGULAR_LINE = (r'^(?:[^" \r\x01\x02]+|""|"[^"\r\x01\x02](?:[^"\r\x01\x02]|"")*")'
                r'(?: (?:[^" \r\x01\x02]+|""|"[^"\r\x01\x02](?:[^"\r\x01\x02]|"")*"))*$')
SPACE = ord(" ")
DOUBLE_SPACE = np.frombuffer(b"  ", np.uint16)[0]


def regular_lines(text: pa.Array) -> np.ndarray:
    """Whether each line matches REGULAR_LINE: a regular line of space-separated CSV (csv_fields.regular_lines,
    where values may be empty) without an empty value, that is without a space first or last, or two together
    outside quotes. Passes over the bytes for the quotes (and for two spaces together), then work per quote."""
    return line_kinds(text)[0]


def line_kinds(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Which lines are regular (`regular_lines`), and which are *padded*: regular as space-separated CSV but for
    two spaces together outside quotes (and spaces first or last), none inside. A padded line with each run of
    spaces made one and its ends trimmed is a regular line whose values are those of the quote-aware split at runs
    of spaces (`_split_values`, for a line with two spaces together): the CSV reader can read it so."""
    csv_regular, quotes = regular_lines_and_quotes(text, " ")
    regular = csv_regular.copy()
    padded = np.zeros(len(text), bool)
    _, data, offsets = line_bytes(text)
    starts, ends = offsets[:-1], offsets[1:]
    filled = np.flatnonzero(ends > starts)
    regular[filled[(data[starts[filled]] == SPACE) | (data[ends[filled] - 1] == SPACE)]] = False
    body = data[offsets[0]:offsets[-1]]
    if len(body) > 1 and ((body[: len(body) // 2 * 2].view(np.uint16) == DOUBLE_SPACE).any()
                          or (body[1: 1 + (len(body) - 1) // 2 * 2].view(np.uint16) == DOUBLE_SPACE).any()):
        doubles = np.flatnonzero((body[:-1] == SPACE) & (body[1:] == SPACE)) + offsets[0]
        rows = np.searchsorted(offsets, doubles, "right") - 1
        # outside quotes: after an even number of its line's quotes (in a line regular but for them; the quotes
        # of lines with an odd number of them are left out, those lines are not regular anyway)
        outside = (np.searchsorted(quotes, doubles) - np.searchsorted(quotes, starts[rows])) % 2 == 0
        regular[rows[outside]] = False
        padded[rows[outside & (doubles + 1 < ends[rows])]] = True  # (not a line's last space and the next's first)
        padded[rows[~outside]] = False  # (two spaces inside quotes: the runs cannot be made one with an expression)
    return regular, csv_regular & padded


# TMG logs a CONNECT's target as host:port, Incapsula its URLs without a scheme.
BARE_URL = r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(:\d+)?(/|$)"
UPPER_SQL = "select upper(value) as value from distinct_values"
LOWER_SQL = "select lower(value) as value from distinct_values"
HOST_SQL = "select hostport_host(value) as host from distinct_values"
# TMG writes `anonymous` when the client did not authenticate: no user, not a user of that name.
USER_SQL = "select case when lower(value) <> 'anonymous' then value end as value from distinct_values"
# TMG puts Windows error numbers (10060, 12209) where a status goes: not HTTP statuses.
STATUS_SQL = """
select case when try_cast(value as integer) between 100 and 599 then try_cast(value as integer) end as value
from distinct_values
"""
CODE_STATUS_SQL = """
select case when try_cast(split_part(value, '/', 2) as integer) between 100 and 599
    then try_cast(split_part(value, '/', 2) as integer) end as value
from distinct_values
"""
# `time-taken` is milliseconds, or seconds when written with a decimal point as the standard has it
TIME_TAKEN_SQL = """
select case when contains(value, '.') then try_cast(round(try_cast(value as double) * 1000) as bigint)
    else try_cast(value as bigint) end as value
from distinct_values
"""
APP_SQL = "select case when lower(value) not in ('none', 'unknown') then value end as value from distinct_values"
# Each verdict a field carries, allowed / blocked / null
WORD_VERDICT_SQL = "select verdict_word_action(value) as value from distinct_values"
ACL_VERDICT_SQL = r"""
select nullif(wsa_acl_action(regexp_replace(split_part(value, '-', 1), '_\d+$', ''), ''), 'unknown') as value
from distinct_values
"""
CODE_VERDICT_SQL = "select nullif(squid_result_action(value), 'unknown') as value from distinct_values"
CODE_STATUS_VERDICT_SQL = """
select nullif(squid_result_action(split_part(value, '/', 1)), 'unknown') as value from distinct_values
"""
HOST_SOURCES = pa.array(["connect", "url", "http_host", "none"])
ACTIONS = pa.array(["blocked", "allowed", "unknown"])


class Plan:
    """What one field list (with the #Date and #GMT-Offset in force) reads: the position of each field used
    and the per-distinct queries, kept across the batches under that header. Field names never enter SQL."""

    def __init__(self, header: Header, timezone: str) -> None:
        assert header.fields is not None
        self.fields, self.header = header.fields, header
        self.used: set[int] = set()
        self.queries: dict[str, DistinctQuery] = {}
        self.urls = UrlQueries()
        zone = sql_literal(timezone)
        self.local_time_sql = f"select timezone({zone}, try_cast(value as timestamp)) as ts from distinct_values"
        self.utc_time_sql = (f"select timezone('UTC', try_cast(value as timestamp) - "
                             f"to_minutes(cast({int(header.gmt_offset_minutes)} as integer))) as ts "
                             "from distinct_values")
        # the positions the columns read, found once (`position` notes each as used)
        self.proxysg = any(name in self.fields for name in PROXYSG_FIELDS)  # its s-ip/s-port: the appliance's own
        for names in _READ:
            if not (self.proxysg and names in _APPLIANCE):  # (those are not read)
                self.position(*names)

    def position(self, *names: str) -> int | None:
        """The position (0-based) of the first of `names` the header has, or None."""
        for name in names:
            if name in self.fields:
                self.used.add(self.fields.index(name))
                return self.fields.index(name)
        return None

    def query(self, sql: str) -> DistinctQuery:
        if sql not in self.queries:
            self.queries[sql] = DistinctQuery(sql)
        return self.queries[sql]


# Every field list's reading of a field: the first of these names the header has
_READ = (
    ("timestamp", "x-timestamp-unix"), ("date",), ("time",), ("date-local",), ("time-local",), ("c-ip",),
    ("cs-username", "c-auth-id", "cs-userdn"), ("cs-method", "s-operation"), ("cs-url", "cs-uri"),
    ("cs-host", "r-host", "s-hostname"), ("cs(host)",), ("r-ip", "s-supplier-ip"), ("s-ip",),
    ("r-port", "cs-uri-port"), ("s-port",), ("cs-uri-scheme", "cs-protocol"), ("cs-uri-stem", "cs-uri-path"),
    ("x-resultcode-httpstatus",), ("sc-status", "sc-http-status"), ("sc-filter-result",), ("x-acltag",),
    ("s-action",), ("sc-result-code", "x-result-code"), ("action", "sc-action", "x-action", "x-policy-action"),
    ("cs-bytes",), ("sc-bytes",), ("time-taken",), ("x-elapsed-time", "timetakenms"),
    ("cs(user-agent)", "c-agent", "cs-user-agent"), ("rs(content-type)", "sc(content-type)", "cs-mime-type",
                                                     "sc-content-type"),
    ("x-bluecoat-application-name", "x-avc-app", "x-cs-app"),
    ("cs-categories", "sc-filter-category", "x-webcat-code-full", "x-webcat-code-abr", "x-category"),
)


_APPLIANCE = (("s-ip",), ("s-port",))


def event_columns(connection: duckdb.DuckDBPyConnection, plan: Plan, lines: pa.Table) -> pa.Table:
    """The events of a run of data lines under one field list, plus reject_reason / is_ignored."""
    counts, values = data_fields(plan, line_text(lines))
    return columns_of_fields(connection, plan, lines.column("line_no"), counts, values)


def data_fields(plan: Plan, text: pa.Array, more: Sequence[int] = ()) -> tuple[pa.Array, dict[int, pa.DictionaryArray]]:
    """Each data line's number of values, and its values at the positions the plan reads and at `more` (0-based;
    for a format that reads a field `columns_of_fields` does not, with the others in one pass over the lines),
    dictionary-encoded and cleaned as `columns_of_fields` takes them."""
    positions = sorted(plan.used.union(more))
    if plan.header.tabbed:  # values may hold spaces (TMG's rule names, user agents)
        return fields_of_lines(text, "\t", len(plan.fields), positions, csv_regular_lines(text, "\t"),
                               _split_at_tabs, _cleaned_of_tabbed)
    if has_control_bytes(text) and pc.any(pc.match_substring(text, "\t")).as_py():
        text = pc.replace_substring(text, "\t", " ")
    regular, padded = line_kinds(text)
    return fields_of_lines(text, " ", len(plan.fields), positions, regular, _split_values, _cleaned,
                           _unpadded(text, padded))


def _unpadded(text: pa.Array, padded: np.ndarray) -> tuple[np.ndarray, pa.Array] | None:
    """The padded lines (see line_kinds) with each run of spaces made one and their ends trimmed, for the CSV reader
    (by which a line costs a third of the split's): their rows and texts. Not a line of spaces alone (no value; the
    CSV reader would find one), nor a first line with a byte order mark (which the reader would drop). Runs are made
    one by replacing two spaces with one until no two are left (a literal replacement, a quarter of the regular
    expression `  +`'s cost; a run of k spaces takes log2(k) passes, most take one)."""
    if not padded.any():
        return None
    rows = np.flatnonzero(padded)
    # trimmed first: then no value starts or ends with a space, and two spaces found are inside one
    lines = pc.replace_substring(pc.utf8_trim(text.take(pa.array(rows)), " "), "  ", " ")
    while _has_double_space(lines):  # (a run of more than two spaces: halved again)
        fewer = pc.replace_substring(lines, "  ", " ")
        if len(text_data(fewer)) == len(text_data(lines)):
            break
        lines = fewer
    kept = pc.greater(pc.binary_length(lines), 0).to_numpy(zero_copy_only=False)
    if rows[0] == 0 and text[0].as_py().startswith("\ufeff"):
        kept[0] = False
    return (rows, lines) if kept.all() else (rows[kept], lines.filter(pa.array(kept)))


def _has_double_space(text: pa.Array) -> bool:
    """Whether two spaces follow each other in any value (or across two values, one ending and the next starting
    with a space)."""
    body = text_data(text)
    return len(body) > 1 and bool((body[: len(body) // 2 * 2].view(np.uint16) == DOUBLE_SPACE).any()
                                  or (body[1: 1 + (len(body) - 1) // 2 * 2].view(np.uint16) == DOUBLE_SPACE).any())


def columns_of_fields(connection: duckdb.DuckDBPyConnection, plan: Plan, line_no: pa.Array, counts: pa.Array,
                      values: dict[int, pa.DictionaryArray]) -> pa.Table:
    """`event_columns` from the fields already cut out of the lines: each line's number of fields (`counts`) and
    the fields at the positions `plan.used` names, dictionary-encoded, unquoted, trimmed and null when `-` or
    empty (as `_cleaned` leaves them; `cs-bytes` and `sc-bytes`, only cast to integers, may be plain text). For a
    format that finds the fields itself (ProxySG's key=value pairs): one reading of the W3C fields, without
    writing and splitting W3C lines again."""
    rows = len(line_no)
    nothing = no_text(rows)

    def v(*names: str) -> pa.Array | None:
        position = plan.position(*names)
        return values[position] if position is not None else None

    def through(sql: str, value: pa.Array | None, column: str = "value") -> pa.Array | None:
        return per_distinct(connection, value, plan.query(sql))[column] if value is not None else None

    ts, time_reason = _times(connection, plan, v, rows)
    method = through(UPPER_SQL, v("cs-method", "s-operation"))
    is_connect = pc.fill_null(pc.equal(method, "CONNECT"), False) if method is not None else \
        pa.repeat(pa.scalar(False), rows)
    not_connect = pc.invert(is_connect)
    url = v("cs-url", "cs-uri")
    place = url_columns(connection, plan.urls, url if url is not None else nothing, bare="/?", bare_pattern=BARE_URL)
    url_host = place["host"]
    named_host = through(HOST_SQL, v("cs-host", "r-host", "s-hostname"), "host")
    header_host = through(HOST_SQL, v("cs(host)"), "host")
    named = url_host if named_host is None else first_valid(url_host, named_host)
    hosts = [host for host in (url_host, named_host, header_host) if host is not None]
    source = np.select([bools(pc.and_(pc.is_valid(named), is_connect)), bools(pc.is_valid(named)),
                        bools(pc.is_valid(header_host)) if header_host is not None else np.zeros(rows, bool)],
                       [0, 1, 2], 3)
    proxysg = plan.proxysg
    # (a value that is no address is not read as one: a line of another layout than its fields say, as a custom
    # ProxySG format without its `#Fields:` line, has a word there: `TCP_CLIENT_REFRESH`)
    addresses = [ip_addresses(value) for value in (v("r-ip", "s-supplier-ip"), None if proxysg else v("s-ip"))
                 if value is not None]
    addresses.append(where(pc.fill_null(is_ip_literal(url_host), False), url_host))
    ports = [through(INTEGER_SQL, v("r-port", "cs-uri-port")), None if proxysg else through(INTEGER_SQL, v("s-port")),
             place["dst_port"]]
    scheme = through(LOWER_SQL, v("cs-uri-scheme", "cs-protocol"))
    paths = [place["url_path"], place["bare_path"]]
    if url is not None:
        urls = encoded(url)
        slash = pc.starts_with(urls.dictionary, "/")
        paths.append(dictionary_array(urls.indices, only_where(
            list_item(pc.split_pattern(urls.dictionary, "?", max_splits=1), 0), slash)))
    if (stem := v("cs-uri-stem", "cs-uri-path")) is not None:
        paths.append(stem)
    code_status = v("x-resultcode-httpstatus")
    status = through(STATUS_SQL, v("sc-status", "sc-http-status"))
    if status is None:
        status = through(CODE_STATUS_SQL, code_status)
    user = through(USER_SQL, v("cs-username", "c-auth-id", "cs-userdn"))
    taken = through(TIME_TAKEN_SQL, v("time-taken"))
    app = through(APP_SQL, v("x-bluecoat-application-name", "x-avc-app", "x-cs-app"))
    columns = {
        "line_no": line_no,
        "reject_reason": _reasons(counts, len(plan.fields), ts, time_reason),
        "is_ignored": pa.repeat(pa.scalar(False), rows),
        "ts": ts,
        "src_ip": _or(v("c-ip"), nothing),
        "user_name": _or(user, nothing),
        "host": first_valid(*hosts),
        "host_source": constant_text(HOST_SOURCES, source),
        "dst_ip": first_valid(*addresses),
        "dst_port": pc.coalesce(*[pc.cast(port, pa.int32()) for port in ports if port is not None]),
        "network_protocol": where(not_connect, first_valid(*[x for x in (scheme, place["scheme"]) if x is not None])),
        "http_method": _or(method, nothing),
        "url_path": where(not_connect, first_valid(*paths)),
        "http_status": _or(status, pa.nulls(rows, pa.int32())),
        "action": _action(connection, plan, v, code_status, status, rows),
        "bytes_out": _count(connection, plan, v("cs-bytes"), rows),
        "bytes_in": _count(connection, plan, v("sc-bytes"), rows),
        "duration_ms": taken if taken is not None else _count(connection, plan, v("x-elapsed-time", "timetakenms"),
                                                               rows),
        "user_agent": _or(v("cs(user-agent)", "c-agent", "cs-user-agent"), nothing),
        "content_type": _or(v("rs(content-type)", "sc(content-type)", "cs-mime-type", "sc-content-type"), nothing),
        "vendor_app": _or(app, nothing),
        "vendor_category": _or(v("cs-categories", "sc-filter-category", "x-webcat-code-full", "x-webcat-code-abr",
                                 "x-category"), nothing),
    }
    return pa.table(columns)


def _times(connection: duckdb.DuckDBPyConnection, plan: Plan, v: Callable[..., pa.Array | None], rows: int
           ) -> tuple[pa.Array, pa.Array | str]:
    """Each line's time, and the reject reason where it is null: epoch seconds (`timestamp`, Cisco WSA),
    `date-local`/`time-local` in the configured zone, or `date`/`time` (or `time` under a #Date) in UTC
    shifted by #GMT-Offset; each distinct date and time read once."""
    if (epoch := v("timestamp", "x-timestamp-unix")) is not None:
        seconds = epoch_times(connection, plan.query(EPOCH_SQL), epoch.dictionary).take(epoch.indices)
        return seconds, pc.binary_join_element_wise("timestamp is not epoch seconds: ", plain(epoch), "")
    local_date, local_time = v("date-local"), v("time-local")
    if local_date is not None and local_time is not None:
        ts = per_distinct(connection, joined_pairs(local_date, local_time), plan.query(plan.local_time_sql))["ts"]
        return ts, pc.binary_join_element_wise("date-local/time-local not understood: ", plain(local_date), " ",
                                               plain(local_time), "")
    date, time = v("date"), v("time")
    if time is not None and (date is not None or plan.header.date):
        if date is not None:
            day_and_time = joined_pairs(date, time)
        else:
            day_and_time = pa.DictionaryArray.from_arrays(
                time.indices, pc.binary_join_element_wise(plan.header.date, time.dictionary, " "))
        ts = per_distinct(connection, day_and_time, plan.query(plan.utc_time_sql))["ts"]
        day = pc.fill_null(plain(date), "-") if date is not None else plan.header.date or "-"
        return ts, pc.binary_join_element_wise("date/time not understood: ", day, " ",
                                               pc.fill_null(plain(time), "-"), "")
    if time is not None:
        return pa.nulls(rows, TIMESTAMP), "a time without a date: no date field and no #Date directive before this line"
    return pa.nulls(rows, TIMESTAMP), \
        "no date/time field in #Fields (date and time, date-local and time-local, or timestamp)"


def _reasons(counts: pa.Array, field_count: int, ts: pa.Array, time_reason: pa.Array | str) -> pa.Array:
    return first_reasons([
        (pc.not_equal(counts, field_count), lambda: pc.binary_join_element_wise(
            pc.cast(counts, pa.string()), f" values but #Fields names {field_count}", "")),
        (pc.is_null(ts), time_reason),
    ], len(counts))


def _action(connection: duckdb.DuckDBPyConnection, plan: Plan, v: Callable[..., pa.Array | None],
            code_status: pa.Array | None, status: pa.Array | None, rows: int) -> pa.DictionaryArray:
    """Every verdict the fields carry, each allowed/blocked/null: any block wins, then any allow. A 407 (Proxy
    Authentication Required) is unknown whatever they say: the proxy asking for credentials, which the browser
    then sends (RFC 9110 15.5.8; ProxySG logs it `407 TCP_DENIED`, sc-filter-result DENIED, x-exception-id
    authentication_failed, Cisco WSA `TCP_DENIED/407` with a NO_PASSWORD tag), no verdict on the site. So is a
    401 the proxy answered itself (its result code *_DENIED): its challenge when it authenticates transparently
    (Symantec KB 167686, "401 TCP_DENIED or 407 TCP_DENIED ... when NTLM is enabled"); a server's own 401 came
    through the proxy and is not blocked."""
    readings = [(WORD_VERDICT_SQL, v("sc-filter-result"), False), (ACL_VERDICT_SQL, v("x-acltag"), False),
                (CODE_VERDICT_SQL, v("s-action"), True), (CODE_VERDICT_SQL, v("sc-result-code", "x-result-code"), True),
                (CODE_STATUS_VERDICT_SQL, code_status, True),
                (WORD_VERDICT_SQL, v("action", "sc-action", "x-action", "x-policy-action"), False)]
    blocked, allowed, denied_code = np.zeros(rows, bool), np.zeros(rows, bool), np.zeros(rows, bool)
    for sql, value, is_code in readings:
        if value is not None:
            verdict = encoded(per_distinct(connection, value, plan.query(sql))["value"])
            refused = _is(verdict, "blocked")
            blocked |= refused
            if is_code:
                denied_code |= refused
            allowed |= _is(verdict, "allowed")
    challenged = np.zeros(rows, bool)
    if status is not None:  # (compared once per distinct status)
        codes = encoded(status)
        challenged = _at(codes, pc.equal(codes.dictionary, AUTH_CHALLENGE)) | (
            _at(codes, pc.equal(codes.dictionary, SERVER_AUTH)) & denied_code)
    return constant_text(ACTIONS, np.select([challenged, blocked, allowed], [2, 0, 1], 2))


def _at(values: pa.DictionaryArray, per_value: pa.Array) -> np.ndarray:
    """A condition found once per distinct value, per row (false where null)."""
    return bools(pc.fill_null(per_value.take(values.indices), False))


def _is(values: pa.DictionaryArray, text: str) -> np.ndarray:
    """Where a dictionary-encoded column holds `text` (false where null)."""
    return bools(pc.fill_null(pc.equal(values.dictionary, text).take(values.indices), False))


def _count(connection: duckdb.DuckDBPyConnection, plan: Plan, value: pa.Array | None, rows: int) -> pa.Array:
    """A number of bytes or milliseconds (`try_cast(value as bigint)`), null where the field is missing."""
    return integers(connection, plan.query(BIGINT_SQL), value, pa.int64()) if value is not None else \
        pa.nulls(rows, pa.int64())


def _or(value: pa.Array | None, default: pa.Array) -> pa.Array:
    return value if value is not None else default


def _cleaned(encoded_values: pa.DictionaryArray, sep: str = " ") -> pa.DictionaryArray:
    """Values once per distinct value: unquoted and trimmed, null when `-` or empty."""
    value = space_trimmed(quoted_value(encoded_values.dictionary, sep))
    value = only_where(value, pc.and_(pc.not_equal(value, "-"), pc.not_equal(value, "")))
    return dictionary_array(encoded_values.indices, value)


def cleaned(encoded_values: pa.DictionaryArray) -> pa.DictionaryArray:
    """Values as this format reads them (`_cleaned`), for a format that cuts them out of its lines itself (proxysg)."""
    return _cleaned(encoded_values)


def _cleaned_of_tabbed(encoded_values: pa.DictionaryArray) -> pa.DictionaryArray:
    return _cleaned(encoded_values, "\t")


def _split_at_tabs(text: pa.Array) -> pa.ListArray:
    return split_quoted(text, "\t")


def _split_values(text: pa.Array) -> pa.ListArray:
    """Lines split at single spaces, or (a line padded with several) at runs of them."""
    padded = pc.match_substring(text, "  ")
    if pc.all(pc.invert(padded)).as_py():
        return split_quoted(text, " ")
    # padded lines lose their empty values (and their leading and trailing spaces)
    tokens = without_empty(split_quoted(pc.utf8_trim(text, " "), " "))
    return tokens if pc.all(padded).as_py() else pc.if_else(padded, tokens, split_quoted(text, " "))


BLANK = " \t\ufeff"
NO_FIELDS_REASON = "no #Fields directive before this line: W3C extended logs name their columns in one"


# A log relayed through syslog (ProxySG's access log sent to a syslog server, which writes each line behind its
# header): `Aug 18 12:30:46 10.8.24.10 #Fields: ...`, `Aug 18 12:30:46 10.8.24.10 2016-08-18 05:30:54 ...`.
# The header (PRI, BSD or ISO time, host, an optional `tag[pid]: `) is taken off every line of a batch whose
# first lines have one; other logs are looked at in their first lines only.
SYSLOG_PREFIX = rf"^(?:<\d{{1,3}}>)?(?:{BSD_TIME}|{ISO_TIME}) [^\s#]+ (?:[A-Za-z][\w.\-/]*(?:\[\d+\])?: )?"
_SYSLOG_PREFIX = re.compile(SYSLOG_PREFIX)
_LOOKED_AT = 5


def unwrapped(lines: pa.Table) -> pa.Table:
    """The lines without the syslog header of a relayed log (see SYSLOG_PREFIX); any other batch as it is."""
    if not any(_SYSLOG_PREFIX.match(line) for line in lines.column("line").slice(0, _LOOKED_AT).to_pylist() if line):
        return lines
    text = line_text(lines)
    return lines.set_column(lines.schema.get_field_index("line"), "line",
                            pc.replace_substring_regex(text, SYSLOG_PREFIX, "", max_replacements=1))


def new_parser(context: ParseContext) -> HeaderedParser:
    """Batches parsed under the #Fields (and #Date, #GMT-Offset) in force at their start."""
    from detector.ingest import w3c_values  # (Numba: loaded when a parser is made, not with the registry)

    for macros in (PROXY_MACROS, WSA_MACROS):
        context.connection.execute(macros)
    plans: dict[tuple[object, ...], Plan] = {}
    scans: dict[tuple[object, ...], w3c_values.Scanned] = {}

    def parse_segment(lines: pa.Table, header: Header) -> ParseResult:
        if not header.fields:
            query = "select line_no, $reason as reject_reason, false as is_ignored from lines"
            return run_parse_query(context, query, lines, reason=NO_FIELDS_REASON)
        key = (header.fields, header.date, header.gmt_offset_minutes, header.tabbed)
        if key not in plans:  # made twice at worst when two threads meet a new header at once
            plans[key] = Plan(header, context.timezone)
        plan = plans[key]
        with parse_cursor(context.connection) as cursor:
            if not header.tabbed:  # the lines proxysg_scan's pass is sure of read by it, the others by data_fields
                if key not in scans:
                    scans[key] = w3c_values.Scanned(len(plan.fields), sorted(plan.used))
                found = w3c_values.scanned_fields(scans[key], line_text(lines), lambda part: data_fields(plan, part),
                                                  _cleaned)
                if found is not None:
                    return split_outcomes(columns_of_fields(cursor, plan, lines.column("line_no"), *found), lines)
            # in slices: the values of a whole batch would take several times its size
            columns = in_slices(lines, lambda part: event_columns(cursor, plan, part), VALUE_SLICE)
            return split_outcomes(columns, lines)

    def parse(lines: pa.Table, header: Header) -> ParseResult:
        return parse_by_directives(lines, header, parse_segment)

    return HeaderedParser(start=Header(), carry=header_after, parse=parse)


def _directives(lines: pa.Table) -> tuple[list[int], list[str]]:
    """The rows and texts of a batch's directive lines (a UTF-8 byte order mark may precede the first). Read from
    the lines' chunks as they are (the reader gives a batch in several where it cuts lines without Numba): one
    array made of them copied the whole batch, here and again for the next batch's header (header_after)."""
    text = lines.column("line")
    # only lines starting with '#' or a blank (its first byte) can be one: those few are trimmed and looked at
    first = first_bytes(text)
    candidates = np.flatnonzero(np.isin(first, _DIRECTIVE_STARTS))
    if not len(candidates):
        return [], []
    looked_at = _taken(text, candidates)
    rows = candidates[bools(pc.starts_with(pc.utf8_ltrim(looked_at, characters=BLANK), "#"))]
    return rows.tolist(), looked_at.filter(pa.array(np.isin(candidates, rows))).to_pylist()


def _taken(text: pa.ChunkedArray, rows: np.ndarray) -> pa.Array:
    """The values at `rows` (in order) of a chunked text, taken chunk by chunk (no chunk is combined with another)."""
    ends = np.cumsum([len(chunk) for chunk in text.chunks])
    parts, start = [], 0
    for chunk, end in zip(text.chunks, ends.tolist(), strict=True):
        inside = rows[(rows >= start) & (rows < end)]
        if len(inside):
            parts.append(chunk.take(pa.array(inside - start)))
        start = end
    return pa.concat_arrays(parts) if parts else pa.array([], pa.string())


class Directed(Protocol):
    """A header that directives change (this format's, the Windows Firewall log's)."""

    def applied(self, directive: str) -> Self: ...


H = TypeVar("H", bound=Directed)


def parse_by_directives(lines: pa.Table, header: H, parse_segment: Callable[[pa.Table, H], ParseResult]
                        ) -> ParseResult:
    """A batch of a log written in W3C's manner, each run of data lines parsed in bulk under the header in force
    at its start; the directive lines between runs change the header and count as ignored."""
    lines = unwrapped(lines)
    directive_rows, directives = _directives(lines)
    results: list[ParseResult] = []
    start = 0
    # A loop over the (few) directive lines only; the data lines between them are parsed in bulk.
    for row, directive in zip(directive_rows, directives, strict=True):
        if row > start:
            results.append(parse_segment(lines.slice(start, row - start), header))
        header = header.applied(directive.strip(BLANK))
        start = row + 1
    if start < lines.num_rows:
        results.append(parse_segment(lines.slice(start), header))
    return combine(results, ignored=len(directive_rows))


def header_after(lines: pa.Table, header: H) -> H:
    """The header in force after this batch (HeaderedParser's carry), for logs written in W3C's manner."""
    for directive in _directives(unwrapped(lines))[1]:
        header = header.applied(directive.strip(BLANK))
    return header


_DIRECTIVE_STARTS = np.array([ord("#"), *{b for blank in BLANK for b in blank.encode()[:1]}], np.uint8)


def combine(results: list[ParseResult], ignored: int) -> ParseResult:
    """One ParseResult from the segments of a batch (every W3C query returns the same columns)."""
    events = [r.events for r in results if r.events.num_rows]
    return ParseResult(
        events=pa.concat_tables(events) if events else pa.table({"line_no": pa.array([], pa.int64())}),
        rejects=pa.concat_tables([r.rejects for r in results]) if results else REJECTS_OF_BATCH.empty_table(),
        ignored=ignored + sum(r.ignored for r in results),
    )


def sniff(lines: Sequence[str]) -> float:
    """Share of directive lines and of data lines with as many values as the last #Fields names (behind a
    syslog header, if the lines have one)."""
    if any(_SYSLOG_PREFIX.match(line) for line in lines[:_LOOKED_AT]):
        lines = [_SYSLOG_PREFIX.sub("", line, count=1) for line in lines]
    if not lines or not any(_FIELDS.match(line.lstrip(BLANK)) for line in lines):
        return 0.0
    count = None
    tabbed = False
    matching = 0
    for line in (text.lstrip(BLANK) for text in lines):
        if line.startswith("#"):
            if _FIELDS.match(line):
                names = line.split(":", 1)[1]
                count, tabbed = len(names.split()), "\t" in names.strip()
            matching += bool(_DIRECTIVE.match(line))
        elif count is not None and (line.count("\t") + 1 if tabbed else len(_TOKEN.findall(line))) == count:
            matching += 1
    return matching / len(lines)


W3C = Format(
    name="w3c",
    source_kind="proxy",
    summary="W3C extended log format with #Fields (ProxySG ELFF, TMG/ISA space- or tab-separated, Cisco WSA W3C, "
            "Netskope web transactions, IIS)",
    sniff=sniff,
    new_parser=new_parser,
    independent_batches=True,
    fields=(
        "ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
        "http_method", "url_path", "http_status", "action", "bytes_out", "bytes_in", "duration_ms",
        "user_agent", "content_type", "vendor_app", "vendor_category",
    ),
)
