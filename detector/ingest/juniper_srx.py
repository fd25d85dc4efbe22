"""Juniper SRX session logs: RT_FLOW_SESSION_CREATE / CLOSE / DENY, and Content Security (UTM) web filtering's
RT_UTM WEBFILTER_URL_PERMITTED / BLOCKED (each with its `_LS` logical-system twin).

Two bodies, behind any syslog header:
- structured-data (`set system syslog ... structured-data`, RFC 5424 or relayed inside a BSD header as
  `junos-flow: <ISO time> host RT_FLOW - RT_FLOW_SESSION_CLOSE [junos@2636... key="value" ...]`): fields
  by name, `source-address`, `destination-port`, `protocol-id`, `username`, `bytes-from-client`,
  `bytes-from-server`, `elapsed-time`. Some devices put typographic quotes around values; both kinds
  are read.
- the older plain text (`RT_FLOW: RT_FLOW_SESSION_CLOSE: session closed TCP FIN: 10.0.0.1/5000->1.2.3.4/443
  0x0 junos-https ... 10(1024) 8(4096) 30 ...`): the first `a/p->b/q` is client to server, and
  `packets(bytes) packets(bytes) seconds` are the client's, the server's and the elapsed time. Columns
  between move with the Junos version; the protocol and the user are read by their place next to these.
The client is the source: SRX logs the session as its first packet saw it.
AppSecure's view is kept: the nested application (`CHATGPT` over `SSL`), else the application, as
vendor_app (`UNKNOWN` and `N/A` are none), and the structured data's `application-category` as
vendor_category.

A session is counted once, at CLOSE (bytes each way and duration known); DENY is a blocked session;
CREATE is ignored so that a session is not counted twice (one still open when the file ends is counted
from the file with its CLOSE). A web filtering decision is an event of its own, with the host (Junos logs the
request's host as `url` and its path as `obj`), the path and the URL category: `WEBFILTER_URL_PERMITTED`
allowed, `WEBFILTER_URL_BLOCKED` blocked; in structured data (`url="chatgpt.com" obj="/c/1"`) or in the plain
text (`WebFilter: ACTION="URL Permitted" 10.0.0.1(52516)->1.2.3.4(443) CATEGORY="..." REASON="..."
PROFILE="..." URL=chatgpt.com OBJ=/c/1 USERNAME=N/A ROLES=N/A`; older Junos ends `username N/A roles N/A`).
Other Junos messages (RT_IDS screens, APPTRACK, antivirus and other RT_UTM messages, ...) are ignored.

Time: the device's ISO 8601 time when the line was relayed inside another header, else the syslog
header's (RFC 5424: absolute; year-less BSD: placed by `syslog.syslog_time`, in the configured zone).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, list_item, one_array, only_where
from detector.ingest.base import (
    BatchParser,
    Format,
    ParseContext,
    line_share,
)
from detector.ingest.distinct_sql import (
    BIGINT_SQL,
    INTEGER_SQL,
    chunk_sliced_parser,
    integers,
    plain,
    sql_literal,
    through,
)
from detector.ingest.distinct_sql import encoded as encoded_values
from detector.ingest.ip_protocols import protocol_name_sql, protocol_names
from detector.ingest.juniper_srx_text import application as _application
from detector.ingest.juniper_srx_text import path_of as _path_of
from detector.ingest.juniper_srx_text import per_distinct_value as _per_distinct_value
from detector.ingest.juniper_srx_text import text_columns
from detector.ingest.juniper_srx_text import user_names as _user_names
from detector.ingest.key_values import in_line_order, milliseconds, rows_with, without_text
from detector.ingest.syslog import ISO_TIME, SyslogHeaders, define_head_macros, reference_time
from detector.schema import TIMESTAMP

if TYPE_CHECKING:
    from detector.ingest.key_values_scan import QuotedValues

KEYS = (
    "source-address", "source-port", "destination-address", "destination-port", "protocol-id", "username",
    "bytes-from-client", "bytes-from-server", "elapsed-time", "application", "nested-application",
    "application-category",
)
# The value of a key is the piece after its `key=` piece when the data is split on its quote marks: the
# first key ends piece 1 (after the header), the n-th of the others (`keys`, from piece 3 on) is piece 2n + 1.
_WEB_KEYS = ("url", "obj", "category")
_LOOKUPS = ",\n        ".join(
    f"case when first_key = '{key}=' then p[2] else p[nullif(list_position(keys, ' {key}='), 0) * 2 + 2] end "
    f"as \"{key}\""
    for key in (*KEYS, *_WEB_KEYS)
)
_EVENT = r"\b(RT_FLOW_SESSION_(?:CREATE|CLOSE|DENY)|WEBFILTER_URL_(?:PERMITTED|BLOCKED))(?:_LS)?\b"
_WEB = ("WEBFILTER_URL_PERMITTED", "WEBFILTER_URL_BLOCKED")
# The events read: sessions closed or denied, web filtering decisions.
_EVENTS_SQL = "('RT_FLOW_SESSION_CLOSE', 'RT_FLOW_SESSION_DENY', 'WEBFILTER_URL_PERMITTED', 'WEBFILTER_URL_BLOCKED')"
# WEBFILTER in plain text: `src(port)->dst(port)`, then `CATEGORY="..."`, `URL=host OBJ=path USERNAME=user`.
_TEXT_WEB = r"(\S+?)\((\d+)\)->(\S+?)\((\d+)\)"
_TEXT = r"(\S+?)/(\d+)->(\S+?)/(\d+)"
# CLOSE: protocol policy from-zone to-zone session-id packets(bytes) packets(bytes) seconds [app nested user(roles)]
_TEXT_CLOSE = r" (\d+) \S+ \S+ \S+ \d+ \d+\((\d+)\) \d+\((\d+)\) (\d+)(?: (\S+) (\S+) ([^\s(]+)\()?"
# DENY: ... service protocol(icmp-type) policy ...
_TEXT_DENY = r"->\S+/\d+ (?:0x\w+ )?\S+ (\d+)\(\d+\) "

QUERY = rf"""
with tagged as (
    select line_no, line, header_ts,
        regexp_extract(line, '{_EVENT}', 1) as event,
        contains(line, '[junos@') as structured,
        -- Relayed inside a BSD header (`junos-flow: <ISO time> host RT_FLOW - ...`): the device's own time.
        regexp_extract(msg, '^({ISO_TIME}) ', 1) as inner_time
    from syslog_lines($tz, $ref)
),
parts as (
    select line_no, line, event, structured, header_ts, inner_time,
        -- Structured data, split on its quote marks: the odd pieces end in `key=`, the even ones are values.
        -- Typographic quotes count as quotes; an escaped quote (RFC 5424: \") is hidden until the split is done.
        -- CREATE is ignored: only CLOSE and DENY are read.
        case when event in {_EVENTS_SQL} and structured then string_split(
            case when contains(line, '“') or contains(line, '”') or contains(line, '\"')
                then replace(replace(replace(line, '\"', chr(30)), '“', '"'), '”', '"') else line end,
            '"') end as p,
        case when event in ('RT_FLOW_SESSION_CLOSE', 'RT_FLOW_SESSION_DENY') and not structured then
            regexp_extract(line, '{_TEXT}', ['src', 'sport', 'dst', 'dport']) end as t,
        case when event = 'RT_FLOW_SESSION_CLOSE' and not structured then
            regexp_extract(line, '{_TEXT_CLOSE}', ['proto', 'out', 'inb', 'elapsed', 'app', 'nested', 'user'])
        end as tb,
        case when event = 'RT_FLOW_SESSION_DENY' and not structured then
            regexp_extract(line, '{_TEXT_DENY}', 1) end as deny_proto,
        case when event in {_WEB} and not structured then struct_pack(
            a := regexp_extract(line, '{_TEXT_WEB}', ['src', 'sport', 'dst', 'dport']),
            url := regexp_extract(line, ' URL=(\S*)', 1), obj := regexp_extract(line, ' OBJ=(\S*)', 1),
            username := regexp_extract(line, ' (?:USERNAME=|username )(\S*)', 1),
            category := regexp_extract(line, ' CATEGORY="([^"]*)"', 1)) end as w
    from tagged
),
keyed as (
    -- From piece 3 on the odd pieces are ` key=` (SD-PARAMs are separated by one space); with several SD
    -- elements (`"][elem key="`) some are not, and each piece's last word is the key.
    select *, split_part(p[1], ' ', -1) as first_key,
        case
            when contains(line, '][') then list_transform(list_slice(p, 3, -1, 2),
                lambda piece: ' ' || split_part(piece, ' ', -1))
            else list_slice(p, 3, -1, 2)
        end as keys
    from parts
),
fields as (
    select line_no, event, structured, header_ts, inner_time, t, tb, deny_proto, w,
        {_LOOKUPS}
    from keyed
),
unified as (
    select line_no, event, header_ts, inner_time,
        coalesce("source-address", nullif(t.src, ''), nullif(w.a.src, '')) as src,
        coalesce("destination-address", nullif(t.dst, ''), nullif(w.a.dst, '')) as dst,
        coalesce("destination-port", nullif(t.dport, ''), nullif(w.a.dport, '')) as dport,
        coalesce("protocol-id", nullif(tb.proto, ''), nullif(deny_proto, '')) as proto,
        nullif(nullif(replace(replace(coalesce("username", tb.user, w.username), chr(30), '"'), '\\', '\'), 'N/A'),
            '') as username,
        coalesce("bytes-from-client", nullif(tb.out, '')) as bytes_client,
        coalesce("bytes-from-server", nullif(tb.inb, '')) as bytes_server,
        coalesce("elapsed-time", nullif(tb.elapsed, '')) as elapsed,
        -- AppSecure's application: the nested one (CHATGPT over SSL) when it was identified.
        coalesce(nullif(nullif(coalesce("nested-application", tb.nested), 'UNKNOWN'), 'N/A'),
            nullif(nullif(coalesce("application", tb.app), 'UNKNOWN'), 'N/A')) as application,
        nullif(nullif("application-category", 'N/A'), '') as application_category,
        -- web filtering: the host asked for, the path, the URL category
        nullif(lower(coalesce("url", w.url)), '') as url_host,
        nullif(coalesce("obj", w.obj), '') as url_obj,
        nullif(nullif(coalesce("category", w.category), 'N/A'), '') as url_category
    from fields
),
checked as (
    select *,
        case
            when header_ts = '' and inner_time = '' then 'not a Junos syslog line (no syslog header)'
            when event in {_EVENTS_SQL} and (src is null or dst is null)
                then event || ' without source and destination addresses'
        end as reject_reason
    from unified
)
select
    line_no,
    reject_reason,
    reject_reason is null and event not in {_EVENTS_SQL} as is_ignored,
    case
        when inner_time = '' then syslog_time(header_ts, $tz, $ref)
        when regexp_matches(inner_time, '(Z|[+-]\d{{2}}:?\d{{2}})$') then try_cast(inner_time as timestamptz)
        else timezone($tz, try_cast(inner_time as timestamp))
    end as ts,
    src as src_ip,
    username as user_name,
    url_host as host,
    case when url_host is null then 'none' else 'url' end as host_source,
    dst as dst_ip,
    -- For ICMP the 'port' is the ICMP identifier, not a port.
    case when proto not in ('1', '58') or proto is null then try_cast(dport as integer) end as dst_port,
    {protocol_name_sql('proto')} as network_protocol,
    case when event in ('RT_FLOW_SESSION_DENY', 'WEBFILTER_URL_BLOCKED') then 'blocked' else 'allowed' end
        as action,
    -- (Junos' `obj` is the path the client asked for, with its query)
    nullif(split_part(url_obj, '?', 1), '') as url_path,
    case when event = 'RT_FLOW_SESSION_CLOSE' then try_cast(bytes_client as bigint) end as bytes_out,
    case when event = 'RT_FLOW_SESSION_CLOSE' then try_cast(bytes_server as bigint) end as bytes_in,
    case when event = 'RT_FLOW_SESSION_CLOSE' then try_cast(try_cast(elapsed as hugeint) * 1000 as bigint) end
        as duration_ms,
    nullif(application, '') as vendor_app,
    coalesce(application_category, url_category) as vendor_category
from checked
"""

# --- RFC 5424 structured data, read in Arrow --------------------------------------------------------
# The usual line (a session or a web filtering decision),
# `<PRI>1 TIME HOST APP PROCID MSGID [junos@... key="value" ...]` with the structured data
# ending it, has its quote marks, values and brackets found by one compiled pass (key_values_scan.py: ~11 ms
# per 16,384 lines where numpy's passes took ~30; with Numba's start-up, ~0.5 s CPU once per run, a 1M-line
# file's parse costs ~1.86 s CPU instead of ~3.0) and each distinct header tail and value is read once in SQL;
# any other line goes to `_other_lines`: the plain-text body behind a syslog header is cut by position by another
# compiled pass (juniper_srx_text.py), and the rest (a message after the data, a `]` inside a value, a relayed
# device time, no header, ...) goes through QUERY above, which reads every layout. All give the same outcome for a
# line that more than one can read. (The plain-text sample repeated to 1M lines: 13.2-13.9 s CPU for the whole
# ingest with QUERY's regular expressions, 3.3-3.4 s with the cut; 2.9-3.1 s once the cut also finds the header's
# text, read once per distinct text, instead of SyslogHeaders splitting every line at its first `: `.)
_PRI_VERSION_FIELD = r"^<\d{1,3}>1$"
_EVENT_NAMED = r"\b(?P<event>RT_FLOW_SESSION_(?:CREATE|CLOSE|DENY)|WEBFILTER_URL_(?:PERMITTED|BLOCKED))(?:_LS)?\b"
_READ = ("RT_FLOW_SESSION_CLOSE", "RT_FLOW_SESSION_DENY", *_WEB)
# Header fields are \S+: no whitespace but the spaces between them.
_NOT_IN_FIELDS = b"\t\n\v\f\r"
_WANTED = [f"{key}=" for key in (*KEYS, *_WEB_KEYS) if key != "source-port"]  # (the source port is not kept)
# Lines read at a time: the text and its pieces stay in the CPU's caches from one step to the next.
SLICE_LINES = 16_384
EVENT_SQL = f"""
select regexp_extract(value, '{_EVENT}', 1) as event, contains(value, '[junos@') as structured from distinct_values
"""


def new_parser(context: ParseContext) -> BatchParser:
    """Structured-data lines of the usual shape in Arrow, the others through QUERY (see above)."""
    define_head_macros(context.connection)
    reference = reference_time(context.path, context.timezone)
    params = {"tz": context.timezone, "ref": reference}
    queries = _Queries(f"{sql_literal(context.timezone)}, {sql_literal(reference.isoformat(sep=' '))}::timestamp",
                       SyslogHeaders(context.timezone, reference))
    from detector.ingest import key_values_scan  # (Numba: loaded only when an SRX log is read)

    keys = key_values_scan.WantedKeys(_WANTED)

    def scan(line: pa.Array) -> QuotedValues:
        """The structured data's quote marks, values and brackets: one compiled pass over each line (with
        several SD elements, `"][elem key="`, a key piece's last word is its key)."""
        return key_values_scan.QuotedValues(line, keys, " ", key_values_scan.LastWordLines.PAIRED, typographic=True,
                                            head_spaces=2)

    return chunk_sliced_parser(context, lambda cursor, part: _outcomes(cursor, queries, params, scan, part),
                               SLICE_LINES)


def _outcomes(connection: duckdb.DuckDBPyConnection, queries: _Queries, params: dict[str, object],
              scan: Callable[[pa.Array], QuotedValues], lines: pa.Table) -> pa.Table:
    """QUERY's columns for `lines`: the usual ones read in Arrow, the others by QUERY itself."""
    line = one_array(lines.column("line"))
    if not _ends_with_bracket(line).any():  # (no structured data ending a line: none of the usual shape)
        return _other_lines(connection, queries, params, lines)
    found = scan(line)
    version, time, tail = found.head_words()  # `<PRI>1`, the time, the rest
    tail = pc.dictionary_encode(tail)  # host, program, ... up to the first key: a few distinct values
    usual = _usual_shape(version, time, tail, found.data_ends_line())
    every = usual.all()
    event, structured = _event_kinds(connection, queries, line if every else line.filter(pa.array(usual)),
                                     tail if every else tail.filter(pa.array(usual)))
    # a session or web filtering line without junos structured data is for QUERY's plain-text reading
    plain_text = pc.and_(pc.is_in(event, pa.array(_READ)), pc.invert(structured))
    if pc.any(plain_text).as_py():
        usual[np.flatnonzero(usual)[plain_text.to_numpy(zero_copy_only=False)]] = False
        event = event.filter(pc.invert(plain_text))
    # values are read only of the sessions closed or denied and the web filtering decisions
    read = np.zeros(len(line), bool)
    read[usual] = pc.is_in(event, pa.array(_READ)).to_numpy(zero_copy_only=False)
    values = {f" {key}": value for key, value in found.columns(read).items()}  # (` key=`)
    if usual.all():
        return _structured_columns(connection, queries, lines, time, event, values)
    kept = pa.array(usual)
    other = _other_lines(connection, queries, params, lines.filter(pa.array(~usual)))
    if not usual.any():
        return other
    fast = _structured_columns(connection, queries, lines.filter(kept), time.filter(kept), event,
                               {key: value.filter(kept) for key, value in values.items()})
    return in_line_order(fast, other, usual)


def _ends_with_bracket(line: pa.Array) -> np.ndarray:
    """Lines whose last byte is `]`, read through the offsets."""
    from detector.ingest.key_values_scan import arrow_bytes

    data, offsets = arrow_bytes(line)
    ends = offsets[1:].astype(np.int64)
    filled = ends > offsets[:-1]
    last = np.zeros(len(line), bool)
    last[filled] = data[ends[filled] - 1] == ord("]")
    return last


def _other_lines(connection: duckdb.DuckDBPyConnection, queries: _Queries, params: dict[str, object],
                 lines: pa.Table) -> pa.Table:
    """QUERY's columns for lines not of the usual structured shape: the plain text ones with a syslog header cut
    in Arrow (juniper_srx_text), the rest through QUERY itself."""
    if queries.headers is None:  # (no syslog headers to read once: every line through QUERY)
        text, cut = lines.slice(0, 0), np.zeros(len(lines), bool)
    else:
        text, cut = text_columns(connection, queries.headers, queries.integer, queries.bigint, lines)
    if len(lines) and cut.all():
        return text
    connection.register("lines", lines.filter(pa.array(~cut)) if cut.any() else lines)
    try:
        other = connection.sql(QUERY, params=params).to_arrow_table()
    finally:
        connection.unregister("lines")
    return in_line_order(text, other, cut) if cut.any() else other


class _Queries:
    """The per-distinct queries of one file, each remembering the values it has read."""

    def __init__(self, arguments: str, headers: SyslogHeaders | None = None) -> None:
        self.headers = headers
        self.event = DistinctQuery(EVENT_SQL)
        self.time = DistinctQuery(f"select syslog_time(value, {arguments}) as ts from distinct_values")
        self.integer = DistinctQuery(INTEGER_SQL)
        self.bigint = DistinctQuery(BIGINT_SQL)


def _usual_shape(version: pa.Array, time: pa.Array, tail: pa.Array, data_ends_line: np.ndarray) -> np.ndarray:
    """Lines that `syslog_lines` reads as an RFC 5424 header with structured data ending the line: `<PRI>1`,
    five more header fields, then data from `[` to the line's last character `]`, with no other `]` but
    those of `][` and none escaped. For them its `header_ts` is the time field and its `msg` is empty. The
    time holds neither `_` nor `[` (no event name, no `[junos@`: both are sought in the `tail`). `version`,
    `time` and `tail` are the text before the first quote cut at its first two spaces; versions and tails
    (host, program, ... up to the first key) repeat, and are read once per distinct value."""
    usual = data_ends_line & _distinct_test(
        version, lambda text: pc.match_substring_regex(text, _PRI_VERSION_FIELD))
    usual &= pc.greater(pc.binary_length(time), 0).to_numpy(zero_copy_only=False)
    usual &= ~rows_with(time, _NOT_IN_FIELDS + b"_[")
    return usual & _distinct_test(tail, _tail_ok)


def _tail_ok(tail: pa.Array) -> pa.Array:
    """Four more header fields, then structured data (`[`); no whitespace but the spaces between fields."""
    fields = pc.split_pattern(tail, " ", max_splits=4)
    ok = pc.and_(pc.equal(pc.list_value_length(fields), 5), pc.starts_with(list_item(fields, 4), "["))
    for field in range(4):
        ok = pc.and_(ok, pc.greater(pc.binary_length(list_item(fields, field)), 0))
    return pc.and_(ok, pa.array(~rows_with(tail, _NOT_IN_FIELDS)))


def _distinct_test(values: pa.Array, test: Callable[[pa.Array], pa.Array]) -> np.ndarray:
    """`test` of each of `values`, run once per distinct value."""
    encoded = encoded_values(values)
    return pc.fill_null(test(encoded.dictionary), False).to_numpy(zero_copy_only=False)[encoded.indices.to_numpy()]


def _event_kinds(connection: duckdb.DuckDBPyConnection, queries: _Queries, line: pa.Array,
                 tail: pa.DictionaryArray) -> tuple[pa.Array, pa.Array]:
    """QUERY's `event` and `structured` of usual lines: read in the `tail` of the text before the first quote
    (after the time; once per distinct tail), and in the whole line where that text has no event or no
    `[junos@`."""
    kind = through(connection, queries.event, tail)
    event = pc.fill_null(plain(kind["event"]), "")
    structured = pc.fill_null(kind["structured"], False)
    unsure = pc.or_(pc.equal(event, ""), pc.invert(structured))
    if pc.any(unsure).as_py():
        whole = line.filter(unsure)
        found = pc.fill_null(pc.struct_field(pc.extract_regex(whole, _EVENT_NAMED), [0]), "")
        known = event.filter(unsure)
        event = pc.replace_with_mask(event, unsure, pc.if_else(pc.equal(known, ""), found, known))
        structured = pc.replace_with_mask(structured, unsure, pc.match_substring(whole, "[junos@"))
    return event, structured


def _structured_columns(connection: duckdb.DuckDBPyConnection, queries: _Queries, lines: pa.Table,
                        header_time: pa.Array, event: pa.Array, values: dict[str, pa.Array]) -> pa.Table:
    """Usual lines, their events and data values -> QUERY's columns: sessions closed or denied and web filtering
    decisions are read, the rest ignored."""
    line = one_array(lines.column("line"))
    read = pc.is_in(event, pa.array(_READ)).to_numpy(zero_copy_only=False)
    src, dst, proto = values[" source-address="], values[" destination-address="], values[" protocol-id="]
    missing = pc.or_(pc.is_null(src), pc.is_null(dst)).to_numpy(zero_copy_only=False)
    rejected = read & missing
    reason = pa.nulls(len(line), pa.string())
    if rejected.any():  # (rare: the reason is joined only for those lines)
        reason = pc.replace_with_mask(reason, pa.array(rejected), pc.binary_join_element_wise(
            event.filter(pa.array(rejected)), " without source and destination addresses", ""))
    close = pc.equal(event, "RT_FLOW_SESSION_CLOSE")
    host = _per_distinct_value(values[" url="], lambda url: without_text(pc.utf8_lower(url), ("",)))
    icmp = pc.fill_null(pc.is_in(proto, pa.array(["1", "58"])), False)

    def count(key: str) -> pa.Array:
        return only_where(integers(connection, queries.bigint, values[key], pa.int64()), close)

    return pa.table({
        "line_no": lines.column("line_no"),
        "reject_reason": reason,
        "is_ignored": pa.array(~read),
        "ts": _header_times(connection, queries, header_time, pa.array(read & ~rejected)),
        "src_ip": src,
        "user_name": _user_names(values[" username="]),
        "host": host,
        "host_source": pc.if_else(pc.is_null(host), "none", "url"),
        "dst_ip": dst,
        "dst_port": only_where(integers(connection, queries.integer, values[" destination-port="], pa.int32()),
                               pc.invert(icmp)),
        "network_protocol": protocol_names(proto),
        "action": pc.if_else(pc.is_in(event, pa.array(["RT_FLOW_SESSION_DENY", "WEBFILTER_URL_BLOCKED"])),
                             "blocked", "allowed"),
        "url_path": _per_distinct_value(values[" obj="], _path_of),
        "bytes_out": count(" bytes-from-client="),
        "bytes_in": count(" bytes-from-server="),
        "duration_ms": milliseconds(count(" elapsed-time=")),
        "vendor_app": _application(values[" nested-application="], values[" application="]),
        "vendor_category": pc.coalesce(without_text(values[" application-category="], ("N/A", "")),
                                       without_text(values[" category="], ("N/A", ""))),
    })


def _header_times(connection: duckdb.DuckDBPyConnection, queries: _Queries, header_time: pa.Array,
                  where: pa.Array) -> pa.Array:
    """`syslog_time` of each RFC 5424 time where `where` holds (null elsewhere), once per distinct time. Times
    to the microsecond or coarser with a zone (`2025-11-18T09:00:00.120+01:00`, `...Z`), what Junos writes,
    are cast by Arrow: the same instant, without SQL (devices log to the millisecond, so nearly every line's
    time is new). Any other time, and all of them when Arrow refuses one (a 30th of February, 24:00), in SQL."""
    encoded = pc.dictionary_encode(header_time)
    distinct = encoded.dictionary
    iso = pc.and_(pc.match_substring_regex(distinct, _ARROW_ISO_TIME), pc.invert(pc.starts_with(distinct, "0000")))
    times = pa.nulls(len(distinct), TIMESTAMP)
    if pc.any(iso).as_py():
        try:
            times = pc.replace_with_mask(times, iso, pc.cast(distinct.filter(iso), TIMESTAMP))
        except pa.ArrowInvalid:  # a day or a time out of the calendar or the clock
            iso = pa.repeat(pa.scalar(False), len(distinct))
    if not pc.all(iso).as_py():
        others = pc.invert(iso)
        found = queries.time.results_for(connection, distinct.filter(others)).column("ts")
        times = pc.replace_with_mask(times, others, found.combine_chunks().cast(TIMESTAMP))
    return times.take(only_where(encoded.indices, where))


# ISO 8601 as Arrow casts it to the same instant as DuckDB's timestamptz (more digits of a second: DuckDB rounds).
_ARROW_ISO_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})$"


SYSLOG = Format(
    name="juniper_srx",
    source_kind="firewall",
    summary="Juniper SRX RT_FLOW session logs (structured-data or plain text): session close and deny; "
            "RT_UTM web filtering URL decisions",
    sniff=line_share(r"^.*?\b(?:RT_FLOW|RT_IDS|RT_IDP|APPTRACK|RT_UTM|RT_SCREEN)\w*(?: - |: )"),
    new_parser=new_parser,
    independent_batches=True,
    fields=(
        "ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol", "action",
        "url_path", "bytes_out", "bytes_in", "duration_ms", "vendor_app", "vendor_category",
    ),
)
