"""Syslog headers, for every format whose lines arrive through syslog (or are written in its layout).

Recognised headers, each with an optional `<PRI>` in front (for BSD and ISO headers, optionally followed
by a space: RFC 3164 says the time "will immediately follow" the `>`, and switches and relays that
write `<14> Apr 25 ...` are seen in the wild, e.g. fluent/fluentd#4158):
- RFC 3164 / BSD: `Mmm dd HH:MM:SS [host ...] tag[pid]: message`. The host is optional (pfSense,
  dnsmasq's and unbound's own log files leave it out) and may be more than one token (relays that
  prepend an address, as Infoblox does). Without a tag (RFC 3164 section 5.4, example 2:
  `<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!`), told by having no `: `: time, host, message, app null.
- BSD times that carry their year, read as written: after the day (`May 13 2022 12:05:52`, templates with the
  year, as some Infoblox relays write) and ctime's (`Sun Nov 29 20:11:56 2026 daemon.info dnsmasq[1]: ...`,
  OpenWrt's `logread`: its `facility.level` is taken for the host).
- The ISO variant (rsyslog's RSYSLOG_FileFormat, syslog-ng, unbound `log-time-iso`):
  `YYYY-MM-DDTHH:MM:SS[.frac][Z|+hh:mm] [host ...] tag[pid]: message`.
- RFC 5424: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD ...]|- message`.

SQL, defined on the parse connection by `define_macros` (formats use `syslog_sql_parser`):
- the table macro `syslog_lines($tz, $ref)` reads the registered `lines` relation and returns
  `line_no, line, header_ts, host, app, pid, msg, ts`; `header_ts` is the header's time as written, ''
  when the line has none of these headers (then `msg` means nothing; use `line`); `ts` is that time in
  UTC (DuckDB computes only the columns a query uses);
- `syslog_time(header_ts, $tz, $ref)` is the same time, for a format that wants to pay for reading
  times only on the lines it keeps (`case when <kept> then syslog_time(header_ts, $tz, $ref) end`).

Times without a zone (BSD, ISO without an offset) are local to the configured zone. BSD times have
no year either: a date gets the year of a reference day when its month and day are not after that
day's, else the year before; so the dates of a file fall in the year that ends on its reference day,
the latest day a line of the file can carry. With a date in the file's name (logrotate's `dateext`,
`pihole.log-20240605`, `syslog-2024-06-05.gz`) that is 30 days after it (files named by the day they
start); else the day after the file's modification time: a log is written before its file was last
modified, and a day of slack absorbs clocks and zones. So `Dec 17` in a file last written on
2026-12-01 is 2025-12-17, not a date after the file. The rule depends on the file only, never on today.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, dictionary_array, list_item, one_array, only_where, per_distinct
from detector.ingest.base import BatchParser, ParseContext, ParseResult, parse_cursor, run_parse_query, split_outcomes
from detector.ingest.byte_spans import spans
from detector.ingest.distinct_sql import sql_literal
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.message_tokens import indices as dictionary_indices
from detector.ingest.message_tokens import lookup, mask
from detector.ingest.reader import LINES_SCHEMA

# One definition of each header layout, used by the SQL macros and the Python sniffers alike.
# RE2 (DuckDB) and Python's `re` read these identically: no look-arounds, no back-references.
BSD_TIME = r"[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d+)?"
ISO_TIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
# A tab as rsyslog writes it into its files by default (it escapes control characters by their octal code)
RSYSLOG_TAB = "#011"
# Two rarer BSD-like times that carry their year: after the day (`May 13 2022 12:05:52`, syslog-ng/rsyslog
# templates with the year, as some Infoblox relays write), and ctime's (`Sun Nov 29 20:11:56 2026`, OpenWrt's
# `logread`, whose `facility.level` then stands where a host would).
BSD_YEAR_TIME = r"[A-Z][a-z]{2} +\d{1,2} \d{4} \d{2}:\d{2}:\d{2}(?:\.\d+)?"
CTIME_TIME = r"[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2} \d{4}"
BSD_HEADER = (
    rf"^(?:<\d{{1,3}}> ?)?({BSD_TIME}|{ISO_TIME}|{BSD_YEAR_TIME}|{CTIME_TIME})(?: (.*?))?? +([^\s\[\]:]+)"
    r"(?:\[([^\]]*)\])?:(?: (.*))?$"
)
RFC5424_HEADER = (
    r"^<\d{1,3}>1 (\S+) (\S+) (\S+) (\S+) \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (.*))?$"
)

# The SQL reads headers with string functions and short anchored patterns only: a regular expression
# that captures the whole message costs several times more than the rest of a format's parse.
SYSLOG_MACROS = (
    r"""
-- A BSD time `Mmm dd HH:MM:SS` has no year: it gets the year of `ref` (the latest day the file's lines can
-- carry) when its month and day are not after that day's, else the year before (see the module docstring).
create or replace macro syslog_year(header_ts, ref) as (year(ref)
    - ((strpos('JanFebMarAprMayJunJulAugSepOctNovDec', left(header_ts, 3)) + 2) // 3 * 100
        + try_cast(trim(substr(header_ts, 5, 2)) as integer)
        > month(ref) * 100 + day(ref))::int)::varchar;

-- The header's time in UTC; call it only for the lines a format keeps, as parsing times is costly.
-- BSD times and ISO times without an offset are local to `tz`; an ISO time with an offset is absolute.
create or replace macro syslog_time(header_ts, tz, ref) as case
    when header_ts is null or header_ts = '' then null
    -- a time that carries its year (BSD_YEAR_TIME, CTIME_TIME): a letter first, and no ':' where a BSD time has
    -- its first (the 9th or 10th character)
    when ascii(header_ts) between 65 and 90 and substr(header_ts, 10, 1) <> ':' and substr(header_ts, 9, 1) <> ':'
        then timezone(tz, try_strptime(regexp_replace(header_ts, ' +', ' ', 'g'),
            ['%b %d %Y %H:%M:%S', '%b %d %Y %H:%M:%S.%f', '%a %b %d %H:%M:%S %Y']))
    when ascii(header_ts) between 65 and 90 and contains(header_ts, '.') then timezone(tz,
        try_strptime(syslog_year(header_ts, ref) || ' ' || header_ts, '%Y %b %d %H:%M:%S.%f'))
    when ascii(header_ts) between 65 and 90 then timezone(tz,
        try_strptime(syslog_year(header_ts, ref) || ' ' || header_ts, '%Y %b %d %H:%M:%S'))
    when regexp_matches(header_ts, '(Z|[+-]\d{2}:?\d{2})$') then try_cast(header_ts as timestamptz)
    else timezone(tz, try_cast(header_ts as timestamp))
end;

create or replace macro syslog_lines(tz, ref) as table
with priority as (
    select line_no, line,
        -- the PRI's end, and a space after it (written by some devices and relays: RFC 3164 says the time
        -- "will immediately follow" the '>', but does not require it)
        case when starts_with(line, '<') and strpos(line, '>') between 3 and 5
            then strpos(line, '>') + (substr(line, strpos(line, '>') + 1, 1) = ' ')::int else 0 end as p,
        strpos(line, ': ') as colon
    from lines
),
headed as (
    -- Fixed-width tests (LIKE) find the time; a short anchored expression reads the rest. Offsets rather than
    -- substrings: copying each line's text several times costs more than parsing it.
    select line_no, line, p, colon,
        p > 0 and substr(line, p, 3) = '>1 ' as is_5424,
        -- RFC 5424: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID `, then the structured data (below).
        case when p > 0 and substr(line, p, 3) = '>1 '
            then regexp_extract(line, '^<\d{1,3}>1 \S+ \S+ \S+ \S+ \S+ ') end as head_5424,
        -- BSD and ISO: the length of `[<PRI>]TIME `; 0 when the line has no such header.
        case
            when p > 0 and substr(line, p, 3) = '>1 ' then 0
            when substr(line, p + 1, 16) similar to '[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} ' then p + 16
            when substr(line, p + 1, 15) similar to '[A-Z][a-z]{2} [0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} ' then p + 15
            else length(regexp_extract(line,
                '^(?:<\d{1,3}> ?)?(?:@BSD_TIME@|@ISO_TIME@|@BSD_YEAR_TIME@|@CTIME_TIME@) '))
        end as time_len
    from priority
),
structured as (
    -- The RFC 5424 structured data: `-`, or `[...]` elements up to the first `]` not followed by `[` (a `]` in
    -- a value is escaped as `\]`, a backslash as `\\`). String search finds that `]` once escapes and `][`
    -- are hidden (each replaced by two other characters, so positions stay); only where the header's own
    -- fields hold a `]`, or no `]` is left, does an expression that skips escapes decide. A header without
    -- valid structured data is no header.
    select *,
        case
            when head_5424 is null or head_5424 = '' then 'none'
            when substr(line, length(head_5424) + 1, 1) = '-' then 'nil'
            when substr(line, length(head_5424) + 1, 1) = '[' then 'elements'
            else 'none'
        end as sd_kind,
        case when contains(line, '\') then replace(replace(line, '\\', chr(1) || chr(1)), '\]', chr(2) || chr(2))
            else line end as unescaped
    from headed
),
bounded as (
    select *,
        case when sd_kind = 'elements' then strpos(case when contains(unescaped, '][')
            then replace(unescaped, '][', chr(3) || chr(3)) else unescaped end, ']') end as first_bracket
    from structured
),
valid as (
    select *,
        case
            when sd_kind = 'nil' then length(head_5424) + 1
            when sd_kind <> 'elements' then 0
            when first_bracket > length(head_5424) then first_bracket
            when first_bracket = 0 and not contains(unescaped, ']') then 0
            else coalesce(nullif(length(regexp_extract(substr(line, length(head_5424) + 1),
                '^(?:\[(?:[^\]\\]|\\.)*\])+')), 0) + length(head_5424), 0)
        end as sd_end
    from bounded
),
tagged as (
    select *,
        case
            when is_5424 or time_len = 0 then null
            when colon > time_len then substr(line, time_len + 1, colon - time_len - 1)
            when colon = 0 and ends_with(line, ':') then substr(line, time_len + 1, length(line) - time_len - 1)
        end as prefix,
        -- RFC 3164 without a TAG (its section 5.4, example 2: `<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!`): a
        -- time, the host, a message; told from a tagged header by having no ': ' (nor a ':' at its end). A time
        -- and a host with no message (a line cut short) is no header.
        not is_5424 and time_len > 0 and colon = 0 and not ends_with(line, ':')
            and strpos(substr(line, time_len + 1), ' ') > 1
            and trim(substr(line, time_len + 1 + strpos(substr(line, time_len + 1), ' '))) <> '' as tagless
    from valid
),
fielded as (
    select *,
        case when is_5424 then string_split(head_5424, ' ') end as fields,
        case when not is_5424 then split_part(prefix, ' ', -1) end as tag
    from tagged
),
parts as (
    select line_no, line,
        case
            when is_5424 and sd_end > 0 then fields[2]
            when tagless or tag <> '' and not contains(tag, ':') and (ends_with(tag, ']') or not contains(tag, '['))
                then trim(substr(line, p + 1, time_len - p))
            else ''
        end as header_ts,
        case
            when is_5424 then case when sd_end > 0 then nullif(fields[3], '-') end
            when tagless then nullif(split_part(substr(line, time_len + 1), ' ', 1), '')
            else nullif(trim(left(prefix, -length(tag))), '')
        end as host,
        case when is_5424 then case when sd_end > 0 then nullif(fields[4], '-') end
            else split_part(tag, '[', 1) end as app,
        case
            when is_5424 then case when sd_end > 0 then nullif(fields[5], '-') end
            else nullif(rtrim(split_part(tag, '[', 2), ']'), '')
        end as pid,
        case
            when is_5424 then ltrim(substr(line, sd_end + 1))
            when colon > 0 then substr(line, colon + 2)
            when tagless then substr(line, time_len + 1 + strpos(substr(line, time_len + 1) || ' ', ' '))
            else ''
        end as msg
    from fielded
),
select line_no, line, header_ts, host, app, pid, msg, syslog_time(header_ts, tz, ref) as ts from parts;
""".replace("@BSD_TIME@", BSD_TIME).replace("@ISO_TIME@", ISO_TIME).replace("@BSD_YEAR_TIME@", BSD_YEAR_TIME)
    .replace("@CTIME_TIME@", CTIME_TIME)
)

_HEADER = re.compile(BSD_HEADER)
_HEADER_5424 = re.compile(RFC5424_HEADER)
# How far past a file's name date, or its modification time, its lines' dates can fall.
NAMED_FILE_SLACK = timedelta(days=30)
WRITTEN_FILE_SLACK = timedelta(days=1)
_NAME_DATE = re.compile(r"(?<!\d)(20\d\d)[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)")


def program_of(line: str) -> str | None:
    """The program (tag or APP-NAME) of a syslog line, or None when the line has no syslog header."""
    match = _HEADER_5424.match(line) if line.startswith("<") else None
    if match:
        return match.group(3)
    match = _HEADER.match(line)
    return match.group(3) if match else None


def program_share(*programs: str, also: re.Pattern[str] | None = None) -> Callable[[Sequence[str]], float]:
    """A sniffer: the share of lines logged by one of `programs` (or matching `also`, for own-file layouts)."""
    wanted = set(programs)

    def sniff(lines: Sequence[str]) -> float:
        if not lines:
            return 0.0
        hits = sum(1 for line in lines if program_of(line) in wanted or (also is not None and also.match(line)))
        return hits / len(lines)

    return sniff


def reference_time(path: str, timezone: str) -> datetime:
    """The naive local time that year-less dates are placed before: the latest a line of the file can carry
    (see the module docstring)."""
    match = _NAME_DATE.search(Path(path).name)
    if match:
        try:
            return datetime(int(match.group(1)), int(match.group(2)), int(match.group(3))) + NAMED_FILE_SLACK
        except ValueError:
            pass  # e.g. 20230231: not a date after all
    try:
        written = datetime.fromtimestamp(os.stat(path).st_mtime, ZoneInfo(timezone))
    except OSError:
        written = datetime.now(ZoneInfo(timezone))
    return written.replace(tzinfo=None) + WRITTEN_FILE_SLACK


def define_macros(connection: duckdb.DuckDBPyConnection) -> None:
    """Define `syslog_lines` on the connection. A table macro's body is bound when it is created, so an
    empty `lines` stands in for the batches it will read; each call binds to the batch registered then."""
    connection.register("lines", LINES_SCHEMA.empty_table())
    try:
        connection.execute(SYSLOG_MACROS)
    finally:
        connection.unregister("lines")


def syslog_sql_parser(query: str) -> Callable[[ParseContext], BatchParser]:
    """Like base.sql_parser, for queries that use the syslog macros and `$ref` (the reference time)."""

    def new_parser(context: ParseContext) -> BatchParser:
        define_macros(context.connection)
        params = {"ref": reference_time(context.path, context.timezone)} if "$ref" in query else {}

        def parse(lines: pa.Table) -> ParseResult:
            return run_parse_query(context, query, lines, **params)

        return parse

    return new_parser


# --- Headers read once per distinct header ----------------------------------------------------------
# A batch of syslog lines has far fewer distinct headers than lines (a time per second, a few hosts and
# programs), and reading a header costs more than most formats' whole message. For a BSD or ISO header
# everything `syslog_lines` returns but `msg` depends only on the text up to the first ': ' (a time never
# holds ': ', and the PRI and time tests look no further), so that text goes through `syslog_lines`
# once per distinct value (remembered across a file's batches) and `msg` is the rest of the line.
# So is an RFC 5424 header without structured data (up to its `-`), and in `read` one with structured data
# that can be cut without SQL (`_cut_structured_data`: OPNsense's `[meta sequenceId="N"]`, different on every
# line, made each line's header distinct; read whole, 1M OPNsense Unbound lines cost 4.8-4.9 s CPU, cut
# 2.0); other RFC 5424 lines (escapes, a `]` in the header ...) and lines without ': ' are read whole. Lines
# whose first characters cannot start a header (`may_have_header`: a program's own log file, such as BIND's
# `05-Jun-2024 …`) need no SQL.

# `syslog_lines` over the distinct header texts `distinct_values(value)` (see arrow_ops.DistinctQuery), each
# read as the line `value || ': '`: the same SQL, generated from it so the two cannot drift apart.
_HEADS_MACRO = (
    SYSLOG_MACROS[SYSLOG_MACROS.index("create or replace macro syslog_lines("):]
    .replace("macro syslog_lines(", "macro syslog_heads(", 1)
    .replace("\n    from lines\n",
             "\n    from (select 0::bigint as line_no, value || ': ' as line from distinct_values)\n", 1)
)
assert "from lines" not in _HEADS_MACRO and "syslog_heads(" in _HEADS_MACRO
# RFC 5424: `<PRI>1 ` (`syslog_lines`' test: a '>' at the 3rd to 5th character, then '1 ').
_RFC5424_START = r"^<[^>]{1,3}>1 "
# ... with `-` for its structured data (then a message): `syslog_lines` reads nothing past the `-`, so the
# header text is the line up to it (its `head_5424` expression, then `- `).
_RFC5424_NIL_DATA = r"^<\d{1,3}>1 \S+ \S+ \S+ \S+ \S+ - "
_FIRST_5_CHARS = 5  # the PRI test reads them: a header text must hold at least these
_RFC5424_START_CHARS = 7  # `_RFC5424_START` reads no further than `<123>1 `


def _starts_rfc5424(line: pa.Array) -> pa.Array:
    """Whether each line starts as RFC 5424 (`_RFC5424_START`), tested once per distinct start (a PRI, a few)."""
    starts = pc.dictionary_encode(pc.utf8_slice_codeunits(line, 0, _RFC5424_START_CHARS))
    found = pc.fill_null(pc.match_substring_regex(starts.dictionary, _RFC5424_START), False)
    return pc.fill_null(found.take(starts.indices), False)


def define_head_macros(connection: duckdb.DuckDBPyConnection) -> None:
    """Define `syslog_lines` and `syslog_heads` on the connection (see `define_macros`)."""
    define_macros(connection)
    connection.register("distinct_values", pa.table({"value": pa.array([], pa.string())}))
    try:
        connection.execute(_HEADS_MACRO)
    finally:
        connection.unregister("distinct_values")


def may_have_header(line: pa.Array) -> np.ndarray:
    """Whether each line may start with a header `syslog_lines` reads; it finds none in the others. A header
    starts with `<` (its PRI), a capital (a BSD month) or four digits and a dash (an ISO date). Read from the
    lines' bytes in place."""
    if line.type != pa.string() or line.null_count:
        return np.ones(len(line), bool)  # (let `syslog_lines` decide)
    offsets = np.frombuffer(line.buffers()[1], np.int32, len(line) + 1, 4 * line.offset)
    starts, lengths = offsets[:-1], np.diff(offsets)
    if not lengths.any():
        return np.zeros(len(line), bool)
    data = np.frombuffer(line.buffers()[2], np.uint8)
    first = np.where(lengths > 0, data[np.minimum(starts, len(data) - 1)], 0)
    maybe = (first == ord("<")) | ((first >= ord("A")) & (first <= ord("Z")))
    dated = (first - np.uint8(ord("0")) <= 9) & (lengths > 4)  # (bytes below '0' wrap past 9)
    dated[dated] = data[starts[dated] + 4] == ord("-")
    if dated.any():  # `dddd-`
        at = starts[dated]
        maybe[dated] = np.logical_and.reduce([data[at + k] - np.uint8(ord("0")) <= 9 for k in range(1, 4)])
    return maybe


class SyslogHeaders:
    """`syslog_lines`' columns for a file's batches, each distinct header read once (see above)."""

    COLUMNS = ("header_ts", "host", "app", "pid", "ts")

    def __init__(self, timezone: str, reference: datetime) -> None:
        self.timezone, self.reference = timezone, reference
        # the macros' (tz, ref) as SQL text: a DistinctQuery or a view takes no parameters
        self.arguments = f"{sql_literal(timezone)}, {sql_literal(reference.isoformat(sep=' '))}::timestamp"
        self.heads = DistinctQuery(f"select {', '.join(self.COLUMNS)} from syslog_heads({self.arguments})")

    def read(self, connection: duckdb.DuckDBPyConnection, lines: pa.Table) -> pa.Table:
        """`lines` -> line_no, line, header_ts, host, app, pid, msg, ts (as `syslog_lines` returns them)."""
        headed = self.read_by_header(connection, lines, structured_data=True)
        if headed is None and not may_have_header(one_array(lines.column("line"))).any():
            return _without_headers(lines)
        if headed is None:
            whole = self._read_whole(connection, lines).add_column(0, "line", lines.column("line"))
            headed = whole.add_column(0, "line_no", lines.column("line_no"))
        return headed

    def read_by_header(self, connection: duckdb.DuckDBPyConnection, lines: pa.Table, structured_data: bool = False
                       ) -> pa.Table | None:
        """As `read`, or None when no line has a header to read once (RFC 5424 with structured data throughout,
        no syslog at all): then `syslog_lines` in the format's query reads them best, computing only the
        columns that query uses. With `structured_data` (as `read` does), RFC 5424 lines with structured data
        are read once per distinct header too where they can be cut without SQL (`_cut_structured_data`)."""
        line = one_array(lines.column("line"))
        plain = ~may_have_header(line)
        rfc5424 = _starts_rfc5424(line) if not plain.all() else pa.array(np.zeros(len(line), bool))
        starts_5424 = mask(rfc5424)
        # (a line with nil data is never cut: six fields and a ` [` are not its first seven fields and a `- `)
        cut, cut_head, cut_msg = _cut_structured_data(line, starts_5424) if structured_data and starts_5424.any() \
            else (np.zeros(len(line), bool), None, None)
        # RFC 5424 without structured data (`-`): the header is its first seven fields.
        uncut = starts_5424 & ~cut
        nil = np.zeros(len(line), bool)
        if uncut.any():
            nil[uncut] = mask(pc.match_substring_regex(line if uncut.all() else line.filter(pa.array(uncut)),
                                                       _RFC5424_NIL_DATA))
        if (uncut & ~nil).all():
            return None
        if cut.all():  # (the usual RFC 5424 file: every header read once, no line split at ': ')
            head, msg, by_head = cut_head, cut_msg, pa.array(cut)
        else:
            head, msg, by_head = _heads_and_messages(line, rfc5424, plain, nil, cut, cut_msg)
            if cut.any():
                head = pc.replace_with_mask(head, pa.array(cut), cut_head.cast(pa.string()))
        if not pc.any(by_head).as_py():
            return None
        columns = per_distinct(connection, only_where(head, by_head), self.heads)
        table = pa.table({"line_no": lines.column("line_no"), "line": line, **{c: columns[c] for c in self.COLUMNS[:4]},
                          "msg": msg, "ts": columns["ts"]})
        if pc.all(by_head).as_py():
            return table
        # The other lines are read whole (or have no header: header_ts '', the rest null) and put in their
        # places: text columns by their dictionary indices.
        whole = ~by_head.to_numpy(zero_copy_only=False) & ~plain
        read = self._read_whole(connection, lines.filter(pa.array(whole))) if whole.any() else None
        rank_of_whole = np.cumsum(whole) - 1  # its row in `read`
        for name in ("header_ts", "host", "app", "pid"):
            encoded = table.column(name).combine_chunks()
            read_whole = read.column(name).combine_chunks() if read is not None else pa.array([], pa.string())
            after = len(encoded.dictionary) + len(read_whole)  # where the value of the lines without a header is
            values = pa.concat_arrays([encoded.dictionary, read_whole,
                                       pa.array(["" if name == "header_ts" else None], pa.string())])
            indices = np.where(whole, rank_of_whole + len(encoded.dictionary), after)
            table = table.set_column(table.schema.get_field_index(name), name, dictionary_array(
                pc.if_else(by_head, encoded.indices, pa.array(indices, pa.int32())), values))
        if read is not None:
            for name in ("msg", "ts"):
                column = table.column(name).combine_chunks()
                table = table.set_column(table.schema.get_field_index(name), name, pc.replace_with_mask(
                    column, pa.array(whole), read.column(name).combine_chunks().cast(column.type)))
        return table

    def _read_whole(self, connection: duckdb.DuckDBPyConnection, lines: pa.Table) -> pa.Table:
        """header_ts, host, app, pid, msg, ts of `lines`, each read whole by `syslog_lines`."""
        connection.register("lines", lines)
        try:
            return connection.sql(
                "select header_ts, host, app, pid, msg, ts from syslog_lines($tz, $ref)",
                params={"tz": self.timezone, "ref": self.reference}).to_arrow_table()
        finally:
            connection.unregister("lines")


# RFC 5424 with structured data: `HEADER [SD-ELEMENT]... MSG`. `syslog_lines` ends the data at the first `]` (not
# escaped) that no `[` follows, and reads the header from the six fields before it; so a line of six plain fields,
# ` [`, data whose every `]` a `[` follows, and `] ` is read as the header `<six fields> -` (the same header with
# nil data: what `syslog_heads` reads once per distinct value) and the text after that `] ` (spaces trimmed).
# Lines with a backslash (escapes), or whose header holds a `]`, or whose data ends the line, are read whole.
_RFC5424_SIX_FIELDS = r"^<\d{1,3}>1 \S+ \S+ \S+ \S+ \S+$"


def _cut_structured_data(line: pa.Array, candidates: np.ndarray) -> tuple[np.ndarray, pa.Array, pa.Array]:
    """Per line: whether it is cut as above (only `candidates` may be), and for each line cut (in their order)
    its header text (dictionary-encoded) and its message."""
    every = bool(candidates.all())
    text = line if every else line.filter(pa.array(candidates))
    at_end = pc.split_pattern(text, "] ", max_splits=1)
    before, msg = list_item(at_end, 0), list_item(at_end, 1)
    at_start = pc.split_pattern(before, " [", max_splits=1)
    data = list_item(at_start, 1)
    head = pc.dictionary_encode(list_item(at_start, 0))
    plain_head = mask(pc.and_(pc.match_substring_regex(head.dictionary, _RFC5424_SIX_FIELDS),
                              pc.invert(pc.match_substring(head.dictionary, "]"))))
    ok = mask(pc.and_(pc.is_valid(msg), pc.is_valid(data))) & lookup(plain_head, dictionary_indices(head), False)
    closing = mask(pc.match_substring(data, "]"))
    if closing.any():  # several elements (`[a][b]`): each `]` inside followed by `[`
        inner = data.filter(pa.array(closing))
        ok[closing] &= mask(pc.equal(pc.count_substring(inner, "]"), pc.count_substring(inner, "][")))
    raw = text.buffers()[2]
    if raw is not None and (np.frombuffer(raw, np.uint8) == ord("\\")).any():
        ok &= ~mask(pc.match_substring(text, "\\"))
    if pc.any(pc.starts_with(msg, " ")).as_py():
        msg = pc.utf8_ltrim(msg, " ")
    head = pa.DictionaryArray.from_arrays(head.indices, pc.binary_join_element_wise(head.dictionary, " -", ""))
    if not ok.all():
        head, msg = head.filter(pa.array(ok)), msg.filter(pa.array(ok))
    if every:
        return ok, head, msg
    cut = np.zeros(len(line), bool)
    cut[np.flatnonzero(candidates)] = ok
    return cut, head, msg


def _heads_and_messages(line: pa.Array, rfc5424: pa.Array, plain: np.ndarray, nil: np.ndarray, cut: np.ndarray,
                        cut_msg: pa.Array | None) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Each line's header text (valid where its line is read by header), message and whether it is read by header,
    as `read_by_header` takes them: a BSD or ISO line's text before and after its first ': ' (none: no message; it
    is read whole), an RFC 5424 line's with nil data (`nil`) its first seven fields and the text after them
    (spaces trimmed), a line that cannot have a header (`plain`) the message '' when it has no ': ', a line cut
    (`cut`) its message `cut_msg` (the end of the line: placed by its length; its header is put in by the caller).
    A batch of BSD or ISO lines only takes the two items of its lines split at ': '; in others every text is cut
    out of the lines' buffer at once, where putting the other lines' texts in their places copied whole columns
    (pc.replace_with_mask: a third of the header reading of a Kea file with some RFC 5424 lines)."""
    at_colon = pc.split_pattern(line, ": ", max_splits=1)
    cut = cut if cut_msg is not None else np.zeros(len(line), bool)
    if not nil.any() and not cut.any():
        head, msg = list_item(at_colon, 0), list_item(at_colon, 1)
        by_head = mask(pc.and_(pc.and_(pc.is_valid(msg), pc.greater_equal(pc.binary_length(head), _FIRST_5_CHARS)),
                               pc.invert(rfc5424))) & ~plain
        return head, pc.fill_null(msg, "") if plain.any() else msg, pa.array(by_head)
    buffer, _, offsets = line_bytes(line)
    starts, ends = offsets[:-1], offsets[1:]
    items = np.frombuffer(at_colon.buffers()[1], np.int32, len(line) + 1, 4 * at_colon.offset)
    parts = np.frombuffer(at_colon.values.buffers()[1], np.int32, len(at_colon.values) + 1,
                          4 * at_colon.values.offset)
    has_colon = np.diff(items) == 2
    head_length = parts[np.minimum(items[:-1] + 1, len(parts) - 1)] - parts[items[:-1]]
    head_end = np.where(has_colon, starts + head_length, starts)
    msg_start = np.where(has_colon, head_end + 2, ends)
    by_head = has_colon & (head_length >= _FIRST_5_CHARS) & ~mask(rfc5424)
    has_msg = has_colon | plain
    if nil.any():  # `<PRI>1 TIME HOST APP PROCID MSGID - MSG`: the header up to its seventh space
        rows = np.flatnonzero(nil)
        rest = list_item(pc.split_pattern(line.take(pa.array(rows)), " ", max_splits=7), 7)
        head_end[rows] = ends[rows] - np.asarray(pc.binary_length(rest), np.int64) - 1
        msg_start[rows] = ends[rows] - np.asarray(pc.binary_length(pc.utf8_ltrim(rest, " ")), np.int64)
        by_head[rows] = has_msg[rows] = True
    if cut.any():
        by_head |= cut
        has_msg |= cut
        msg_start[cut] = ends[cut] - np.asarray(pc.binary_length(cut_msg), np.int64)
    by_head &= ~plain
    return spans(buffer, starts, head_end, by_head), spans(buffer, msg_start, ends, has_msg), pa.array(by_head)


def _without_headers(lines: pa.Table) -> pa.Table:
    """`syslog_lines`' columns for lines without a header: header_ts '', msg the text after the first ': '."""
    line = one_array(lines.column("line"))
    nothing = pa.DictionaryArray.from_arrays(pa.nulls(len(line), pa.int32()), pa.array([], pa.string()))
    return pa.table({
        "line_no": lines.column("line_no"), "line": line,
        "header_ts": pa.DictionaryArray.from_arrays(pa.array(np.zeros(len(line), np.int32)), pa.array([""])),
        "host": nothing, "app": nothing, "pid": nothing,
        "msg": pc.fill_null(list_item(pc.split_pattern(line, ": ", max_splits=1), 1), ""),
        "ts": pa.nulls(len(line), pa.timestamp("us", "Etc/UTC")),  # (the time zone DuckDB names)
    })


def syslog_head_parser(query: str) -> Callable[[ParseContext], BatchParser]:
    """A parser factory for queries over the relation `syslog`: `syslog_lines`' columns (line_no, line,
    header_ts, host, app, pid, msg, ts) with each distinct header read once per file. The query may use
    `$tz` and `$ref` as with `syslog_sql_parser`; it needs no `syslog_time`: `ts` is the header's time."""

    def new_parser(context: ParseContext) -> BatchParser:
        define_head_macros(context.connection)
        reference = reference_time(context.path, context.timezone)
        headers = SyslogHeaders(context.timezone, reference)
        params = {"tz": context.timezone, "ref": reference}
        params = {name: value for name, value in params.items() if f"${name}" in query}

        def parse(lines: pa.Table) -> ParseResult:
            with parse_cursor(context.connection) as cursor:
                headed = headers.read_by_header(cursor, lines)
                if headed is None:
                    cursor.register("lines", lines)
                    cursor.execute(f"create temp view syslog as select * from syslog_lines({headers.arguments})")
                else:
                    cursor.register("syslog", headed)
                result = cursor.sql(query, params=params or None).to_arrow_table()
            return split_outcomes(result, lines)

        return parse

    return new_parser
