"""Sophos UTM 9 (formerly Astaro Security Gateway) web filter log: `/var/log/http.log`, one line per request.

Every UTM log line is the UTM's own header, `2024:06:05-10:00:30 utm-1 httpproxy[4711]: ` (time
`YYYY:MM:DD-HH:MM:SS` in the UTM's local time, host, program[pid]), then `key="value"` pairs, every value
quoted. A relay may put its own syslog header in front (`<134>Jun  5 10:00:31 relay 2024:06:05-...`); the
UTM's time is read wherever it stands. A line whose UTM time a relay replaced (`Jun  5 10:00:30 utm-1
httpproxy[4711]: id=...`, or RFC 5424 with APP-NAME httpproxy) is read with that header's time instead.
Times without a zone are local to the configured ingest zone.

The web filter (program `httpproxy`) logs a request with `id` 0001 (`name="http access"`, `action="pass"`),
0002 and 006x (`web request blocked[, forbidden category|file extension detected]`, `action="block"`) and 0071
(`web request warned, forbidden category detected`, `action="warn"`: the UTM answered with its warning page,
status 403, so the request was not passed: blocked). Lines of httpproxy without `action` (0003 diagnostics:
`function=`, `file=`, `message=`; 0072 `Contentfilter warned and proceeded`, a note without method, status or
size: the user's request after it is logged again) are no requests and are ignored, as are the other UTM
programs' lines in the same file (`ulogd` packet filter, `afcd`, `confd`, `named` ...).

Fields (Sophos UTM's web filter log, as Elastic's `sophos.utm` pipeline and its test lines show them): `srcip`,
`dstip` (empty for some blocked CONNECTs), `user` (empty without authentication), `method`, `statuscode`,
`url` (with scheme; a CONNECT's is its target `https://host:443`, or `host:443`; one without a scheme is read as
`host/path`), `size` (the bytes sent to the
client: a 304's is 0, a blocked request's the size of the block page), `fullreqtime` (the request's whole
time in microseconds; `cattime`, `dnstime`... are parts of it), `ua`, `content-type`, `categoryname`
(`Business,Software/Hardware` where several apply), `application` (UTM 9.4+'s application control). No field
gives the request's size, so bytes_out stays null. Key order varies between UTM versions: values are found by
key.

Values are found by one compiled pass over each line (`key_values_scan`); the header (the text before the
first quote mark) and every value are read once per distinct value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, dictionary_array, one_array, only_where
from detector.ingest.base import BatchParser, Format, ParseContext, line_share
from detector.ingest.distinct_sql import (
    BIGINT_SQL,
    INTEGER_SQL,
    chunk_sliced_parser,
    encoded,
    integers,
    plain,
    sql_literal,
    through,
)
from detector.ingest.key_values import HIDDEN_QUOTE, without_text
from detector.ingest.proxy_columns import UrlQueries, url_columns
from detector.ingest.syslog import (
    BSD_HEADER,
    BSD_TIME,
    BSD_YEAR_TIME,
    ISO_TIME,
    RFC5424_HEADER,
    define_macros,
    reference_time,
)
from detector.schema import TIMESTAMP

if TYPE_CHECKING:
    from detector.ingest.key_values_scan import QuotedValues

# The UTM's own header, behind an optional PRI and a relay's header: time, host, program[pid].
UTM_TIME = r"(\d{4}):(\d{2}):(\d{2})-(\d{2}:\d{2}:\d{2})"
UTM_HEAD = (
    rf"^(?:<\d{{1,3}}>(?:1 )? ?)?(?:(?:{BSD_TIME}|{ISO_TIME}|{BSD_YEAR_TIME}|-) (?:\S+ ){{0,4}}?)?"
    rf"{UTM_TIME} (\S+) ([^\s\[\]:]+)(?:\[[^\]]*\])?:(?: |$)"
)
WEB_FILTER = "httpproxy"
# A web filter line whose UTM time a relay replaced by its own header (sniffing only: the SQL reads the header)
_RELAYED_WEB = r'^(?:<\d{1,3}>)?[^"]*?\bhttpproxy(?:\[\d*\])?:? .*\bsys="SecureWeb"'
_SNIFF = re.compile(f"(?:{UTM_HEAD})|(?:{_RELAYED_WEB})")

# The keys read, as `key=` (the scan's key pieces)
KEYS = ("action", "method", "srcip", "dstip", "user", "statuscode", "size", "url", "fullreqtime", "ua",
        "content-type", "categoryname", "application")
_WANTED = [f"{key}=" for key in KEYS]

NO_HEADER = "not a Sophos UTM log line (no UTM time or syslog header)"
NO_URL = "web filter request without url"
BAD_TIME = "time is not a valid date and time: "

# Per distinct header: its time (UTC), program, and the time as written (for a reject's reason).
HEAD_SQL = f"""
with parts as (
    select value,
        regexp_extract(value, {sql_literal(UTM_HEAD)}, ['year', 'month', 'day', 'clock', 'host', 'program']) as u,
        regexp_extract(value, {sql_literal(BSD_HEADER)}, ['ts', 'host', 'program']) as b,
        regexp_extract(value, {sql_literal(RFC5424_HEADER)}, ['ts', 'host', 'program']) as r
    from distinct_values
)
select
    case
        when u.year <> '' then timezone(@TZ@, try_strptime(u.year || '-' || u.month || '-' || u.day || ' ' || u.clock,
                                                           '%Y-%m-%d %H:%M:%S'))
        when b.ts <> '' then syslog_time(b.ts, @TZ@, @REF@)
        when r.ts <> '' then syslog_time(r.ts, @TZ@, @REF@)
    end as ts,
    coalesce(nullif(u.program, ''), nullif(b.program, ''), nullif(r.program, '')) as program,
    case when u.year <> '' then u.year || ':' || u.month || ':' || u.day || '-' || u.clock
         else coalesce(nullif(b.ts, ''), r.ts) end as written
from parts
"""
# `action` -> what the UTM did: pass, block, warn (its warning page, the request not passed)
ACTION_SQL = """
select case
    when lower(value) in ('pass', 'passed', 'allow', 'allowed', 'accept') then 'allowed'
    when lower(value) in ('block', 'blocked', 'warn', 'warned', 'deny', 'denied', 'drop', 'reject') then 'blocked'
    else 'unknown'
end as action
from distinct_values
"""
LOWER_SQL = "select nullif(lower(trim(value)), '') as value from distinct_values"
UPPER_SQL = "select nullif(upper(trim(value)), '') as value from distinct_values"
# Lines read at a time: the text and its values stay in the CPU's caches from one step to the next.
SLICE_LINES = 16_384


class _Queries:
    """The per-distinct queries of one file, each remembering the values it has read."""

    def __init__(self, timezone: str, reference: str) -> None:
        self.head = DistinctQuery(HEAD_SQL.replace("@TZ@", sql_literal(timezone)).replace("@REF@", reference))
        self.action = DistinctQuery(ACTION_SQL)
        self.lower = DistinctQuery(LOWER_SQL)
        self.upper = DistinctQuery(UPPER_SQL)
        self.integer = DistinctQuery(INTEGER_SQL)
        self.bigint = DistinctQuery(BIGINT_SQL)
        self.url = UrlQueries()


def new_parser(context: ParseContext) -> BatchParser:
    """Values by a compiled pass over each line, the header and each value read once per distinct value."""
    define_macros(context.connection)
    reference = reference_time(context.path, context.timezone)
    queries = _Queries(context.timezone, f"{sql_literal(reference.isoformat(sep=' '))}::timestamp")
    from detector.ingest import key_values_scan  # (Numba: loaded only when a UTM log is read)

    keys = key_values_scan.WantedKeys(_WANTED)

    def scan(line: pa.Array) -> QuotedValues:
        """Quote marks and values: ` key="value"` after the first; the first key is the head's last word."""
        return key_values_scan.QuotedValues(line, keys, " ", key_values_scan.LastWordLines.NOT_PREFIXED)

    return chunk_sliced_parser(context, lambda cursor, part: _outcomes(cursor, queries, scan, part), SLICE_LINES)


def _plain_text(values: pa.Array) -> pa.DictionaryArray:
    """Values as written, empty or `-` as none, an escaped quote back as `"`; dictionary-encoded."""
    found = encoded(values)
    words = found.dictionary
    if len(words) and pc.any(pc.match_substring(words, HIDDEN_QUOTE)).as_py():
        words = pc.replace_substring(words, HIDDEN_QUOTE, '"')
    return dictionary_array(found.indices, without_text(words, ("", "-")))


def _outcomes(connection: duckdb.DuckDBPyConnection, queries: _Queries, scan: Callable[[pa.Array], QuotedValues],
              lines: pa.Table) -> pa.Table:
    """The lines' events, rejects (reject_reason) and ignored lines (is_ignored)."""
    line = one_array(lines.column("line"))
    rows = len(line)
    found = scan(line)
    head = through(connection, queries.head, encoded(found.head()))
    program = plain(head["program"])
    has_header = pc.is_valid(program).to_numpy(zero_copy_only=False)
    web = pc.fill_null(pc.equal(program, WEB_FILTER), False).to_numpy(zero_copy_only=False)
    values = found.columns(web)
    request = web & pc.is_valid(values["action="]).to_numpy(zero_copy_only=False)
    ts = head["ts"].cast(TIMESTAMP)
    url = values["url="]
    bad_time = request & ~pc.is_valid(ts).to_numpy(zero_copy_only=False)
    no_url = request & ~bad_time & ~pc.is_valid(without_text(url, ("", "-"))).to_numpy(zero_copy_only=False)
    reason = pa.nulls(rows, pa.string())
    if not has_header.all() or bad_time.any() or no_url.any():  # (rare: reasons made only for those lines)
        written = plain(head["written"])
        reasons = pc.if_else(pa.array(bad_time), pc.binary_join_element_wise(BAD_TIME, written, ""), NO_URL)
        reason = pc.if_else(pa.array(~has_header), NO_HEADER, pc.if_else(pa.array(bad_time | no_url), reasons, reason))
    event = request & ~bad_time & ~no_url
    if not event.all():
        values = {key: only_where(value, pa.array(event)) for key, value in values.items()}
    method = through(connection, queries.upper, encoded(values["method="]))["value"]
    connect = pc.fill_null(pc.equal(method.dictionary_decode(), "CONNECT"), False)
    # `https://host/path`, and without a scheme `host:port` (CONNECT) or `host/path`
    parts = url_columns(connection, queries.url, values["url="], bare="/?")
    host = parts["host"]
    has_host = pc.is_valid(host)
    host_source = pc.if_else(has_host, pc.if_else(connect, "connect", "url"), "none")
    status = integers(connection, queries.integer, values["statuscode="], pa.int32())
    microseconds = integers(connection, queries.bigint, values["fullreqtime="], pa.int64())
    return pa.table({
        "line_no": lines.column("line_no"),
        "reject_reason": reason,
        "is_ignored": pa.array(has_header & ~request),
        "ts": only_where(ts, pa.array(event)),
        "src_ip": _plain_text(values["srcip="]),
        "user_name": _plain_text(values["user="]),
        "host": host,
        "host_source": pc.dictionary_encode(host_source),
        "dst_ip": _plain_text(values["dstip="]),
        "dst_port": parts["dst_port"].cast(pa.int32()),
        "network_protocol": parts["scheme"],
        "http_method": method,
        "url_path": only_where(pc.coalesce(plain(parts["url_path"]), plain(parts["bare_path"])), pc.invert(connect)),
        "http_status": only_where(status, pc.not_equal(status, 0)),
        "action": through(connection, queries.action, encoded(values["action="]))["action"],
        "bytes_in": integers(connection, queries.bigint, values["size="], pa.int64()),
        "duration_ms": pc.divide(microseconds, 1000),
        "user_agent": _plain_text(values["ua="]),
        "content_type": through(connection, queries.lower, encoded(values["content-type="]))["value"],
        "vendor_app": _plain_text(values["application="]),
        "vendor_category": _plain_text(values["categoryname="]),
    })


UTM = Format(
    name="sophos_utm",
    source_kind="proxy",
    summary="Sophos UTM 9 / Astaro web filter (httpproxy, http.log): requests passed, blocked, warned; other UTM "
            "programs' lines ignored",
    # lines with the UTM's header (any of its programs), or web filter lines behind another header
    sniff=line_share(_SNIFF),
    new_parser=new_parser,
    independent_batches=True,
    fields=("ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
            "http_method", "url_path", "http_status", "action", "bytes_in", "duration_ms", "user_agent",
            "content_type", "vendor_app", "vendor_category"),
)
