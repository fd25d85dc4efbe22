"""Fortinet FortiGate (FortiOS) syslog: `key=value` pairs, string values in double quotes.

The wanted keys' values are found by one compiled pass over each line's bytes (`fortigate_scan`: its rules
are there). Indifferent to key order, to keys a FortiOS version adds, and to a syslog header in front. The
values become Arrow text without a copy (spans of the lines' own buffer); hosts, paths, answers and local times
are read once per distinct value in SQL, for a whole batch of the reader at a time (Arrow's and DuckDB's calls
cost per call as well as per line). (CPU per 131k-line batch: the scan ~0.12 s, the whole parse ~0.33 s; the
numpy byte reading it replaced, ~0.4 s for the keys alone, 0.56 s the parse; the baseline's split query ~0.19 s.
Numba costs ~0.7 s once per run to start.)

Events:
- `type=traffic` (forward, local, multicast, sniffer): the session, logged when it ends. `sentbyte` is
  client to server (`bytes_out`), `rcvdbyte` the reverse, `duration` in seconds. With `logtraffic-start`
  FortiOS also logs `action=start` when a session opens: ignored, so a session is counted once. Its `action`
  is the firewall policy's (deny, or how an allowed session ended: close, client-rst ...); a session a security
  profile blocked (web filter, application control) says so in `utmaction=block`, and is blocked.
- `type=traffic subtype=http-transaction` (FortiOS 7.x proxy policies' HTTP transaction log, FortiProxy's: FortiOS Log
  Message Reference, LOG_ID_TRAFFIC_HTTP_TRANSACTION): one request, its `hostname` and full `url` (host and path),
  and, as it carries no session `action`, the security profiles' verdict `utmaction` (block, allow, ...).
- `type=utm subtype=webfilter` and `subtype=app-ctrl`: `hostname` and `url` (the path) of a request; FortiOS 7.x
  web filter logs also carry the request's `httpmethod` and user agent (`agent`), read there and in HTTP
  transaction logs.
- `type=utm subtype=dns` (FortiOS 6.2+) and `type=dns` (6.0): `qname`, `qtype`, answers in `ipaddr`.
Every kind keeps FortiOS's own view: the application control's `app` (vendor_app), and the web filter's
category `catdesc`, else the application category `appcat`, as vendor_category.
Other types (event, other UTM subtypes: virus, ips, ...) are ignored. Only traffic logs carry byte counts
into the lake: UTM logs repeat the session's counters, and counting them too would double the upload.

Time: `eventtime` is epoch UTC in seconds, milliseconds, microseconds or nanoseconds (by FortiOS
version); without it, `date` + `time` with the `tz` offset (`-0500`), or else in the configured zone.

Two rarer layouts are read outside the scan's fast path: FortiOS's `set format csv` (the pairs separated by
commas; lines the scan finds no `type` in are read again with those commas as spaces) and FortiOS 4.x's traffic
log names (`log_id`, `src`, `dst`, `dst_port`, `status`, `sent`, `rcvd`; a batch whose first lines show `log_id=`
is scanned for those names instead).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, only_where, per_distinct
from detector.ingest.base import (
    BatchParser,
    Format,
    ParseContext,
    line_share,
)
from detector.ingest.distinct_sql import BIGINT_SQL, INTEGER_SQL, in_time_zone, integers, sliced_parser
from detector.ingest.ip_protocols import protocol_names
from detector.ingest.key_values import milliseconds, spans_of
from detector.ingest.layout_bytes import line_bytes

if TYPE_CHECKING:
    from detector.ingest.compiled import WantedKeys

KEYS = (
    "type", "subtype", "eventtime", "srcip", "dstip", "dstport", "proto", "action", "user", "unauthuser",
    "hostname", "url", "sentbyte", "rcvdbyte", "duration", "qname", "qtype", "ipaddr", "app", "appcat", "catdesc",
    "utmaction", "httpmethod", "agent",
)
# The local time, for the lines without `eventtime` (FortiOS before 6.2).
LOCAL_TIME_KEYS = ("date", "time", "tz")
# FortiOS 4.x (MR2, MR3) named the traffic log's fields otherwise (`log_id=0021000002 type=traffic
# subtype=allowed ... src=10.0.0.9 src_port=23709 dst=192.0.2.62 dst_port=80 status=accept ... sent=180 rcvd=92`):
# a batch whose first lines carry `log_id=` (and no `logid=`) is scanned for these names in their place.
LEGACY_NAMES = {"srcip": "src", "dstip": "dst", "dstport": "dst_port", "action": "status", "sentbyte": "sent",
                "rcvdbyte": "rcvd"}
_LEGACY_SAMPLE = 16

BLOCKED = ("deny", "blocked", "block", "reset", "reject", "drop", "dropped", "redirect")
ALLOWED = (
    "accept", "close", "timeout", "server-rst", "client-rst", "pass", "passthrough", "allow", "allowed",
    "permit", "exempt", "monitor", "monitored",
)
# `utmaction` values of a session a security profile blocked (FortiOS Log Message Reference: "Security action
# performed by UTM").
UTM_BLOCKED = ("block", "blocked", "reset")
NOT_FORTIGATE = "not a FortiGate key=value log line (no type=)"
# Lines whose events are made at a time: the Arrow and SQL steps cost per call as well as per line, and a batch
# of the reader (up to 131,072 lines) is then one call.
OUTCOME_LINES = 131_072

HOST_SQL = "select clean_host(value) as host from distinct_values"
URL_PATH_SQL = """
select coalesce(url_path(value), split_part(split_part(value, '?', 1), '#', 1)) as url_path from distinct_values
"""
UPPER_SQL = "select upper(value) as value from distinct_values"
ANSWERS_SQL = """
select nullif(list_transform(string_split(value, ','), lambda x: trim(x)), ['']) as answers from distinct_values
"""
# `date time tz` (an offset such as -0500), and `date time` in the configured zone
ZONED_TIME_SQL = "select try_strptime(value, '%Y-%m-%d %H:%M:%S %z') as ts from distinct_values"
LOCAL_TIME_SQL = "select timezone(@TZ@, try_strptime(value, '%Y-%m-%d %H:%M:%S')) as ts from distinct_values"


class _Queries:
    """The per-distinct queries of one file, each remembering the values it has read."""

    def __init__(self, timezone: str) -> None:
        self.host = DistinctQuery(HOST_SQL)
        self.url_path = DistinctQuery(URL_PATH_SQL)
        self.upper = DistinctQuery(UPPER_SQL)
        self.answers = DistinctQuery(ANSWERS_SQL)
        self.zoned_time = DistinctQuery(ZONED_TIME_SQL)
        self.local_time = DistinctQuery(in_time_zone(LOCAL_TIME_SQL, timezone))
        self.integer = DistinctQuery(INTEGER_SQL)
        self.bigint = DistinctQuery(BIGINT_SQL)


def new_parser(context: ParseContext) -> BatchParser:
    """Values found by the compiled scan, read once per distinct value in SQL where Arrow has no kernel."""
    from detector.ingest.compiled import WantedKeys  # (Numba: loaded only when a FortiGate log is read)

    keys = WantedKeys(KEYS + LOCAL_TIME_KEYS)
    legacy_keys = WantedKeys(tuple(LEGACY_NAMES.get(key, key) for key in KEYS) + LOCAL_TIME_KEYS)
    queries = _Queries(context.timezone)

    def outcomes(connection: duckdb.DuckDBPyConnection, lines: pa.Table) -> pa.Table:
        sample = lines.column("line").slice(0, _LEGACY_SAMPLE).to_pylist()
        if any("log_id=" in line for line in sample) and not any("logid=" in line for line in sample):
            return _outcomes(connection, queries, lines, _Found(lines.column("line"), legacy_keys, LEGACY_NAMES))
        found = _Found(lines.column("line"), keys)
        if not found.all_have("type"):  # (the lines of FortiOS's CSV format have no `type` by the scan's rules)
            comma_separated = _comma_separated(lines.column("line"), found)
            if comma_separated is not None:
                found = _Found(comma_separated, keys)
        return _outcomes(connection, queries, lines, found)

    return sliced_parser(context, outcomes, OUTCOME_LINES)


class _Found:
    """Each key's value in each line of a batch: the scan's spans, per chunk of the line column (each chunk one
    read of the reader, on a buffer of its own)."""

    def __init__(self, lines: pa.ChunkedArray, keys: WantedKeys, names: dict[str, str] | None = None) -> None:
        from detector.ingest.fortigate_scan import value_spans

        self.keys = keys.keys
        self.names = names or {}  # a key as the scan knows it, where another name was scanned for
        self.chunks = []
        for chunk in lines.chunks:
            _, data, offsets = line_bytes(chunk)
            self.chunks.append((chunk, offsets[:-1], *value_spans(data, offsets, keys)))

    def all_have(self, key: str) -> bool:
        """Whether every line has `key`."""
        number = self.keys.index(self.names.get(key, key))
        return all(bool(found[:, number].all()) for _, _, found, _, _ in self.chunks)

    def lack(self, key: str) -> list[np.ndarray]:
        """Per chunk, the lines without `key`."""
        number = self.keys.index(self.names.get(key, key))
        return [~found[:, number] for _, _, found, _, _ in self.chunks]

    def value(self, key: str, where: pa.Array | None = None) -> pa.Array:
        """Per line, the value of `key` as text (null where the line has none, or where `where` is not true)."""
        number = self.keys.index(self.names.get(key, key))
        keep = None if where is None else pc.fill_null(where, False).to_numpy(zero_copy_only=False)
        pieces, row = [], 0
        for chunk, line_starts, found, starts, ends in self.chunks:
            present = found[:, number] if keep is None else found[:, number] & keep[row:row + len(chunk)]
            row += len(chunk)
            # (spans in increasing order: the lines without a value take an empty one at their start)
            pieces.append(spans_of(chunk, np.where(present, starts[:, number], line_starts),
                                   np.where(present, ends[:, number], line_starts), ~present) if present.any() else
                          pa.nulls(len(chunk), pa.string()))
        return pieces[0] if len(pieces) == 1 else pa.concat_arrays(pieces)


# FortiOS's `config log syslogd setting` / `set format csv` (and FortiAnalyzer's CSV downloads) write the same pairs
# separated by commas: `date=2024-11-29,time=10:00:00,devname="FGT",...,type="traffic",...`. Such a line, which the
# scan finds no `type` in, is read again with its commas outside quote marks as spaces (quoted values keep theirs).
_CSV_TYPE = ",type="
_COMMA, _QUOTE = ord(","), ord('"')


def _comma_separated(lines: pa.ChunkedArray, found: _Found) -> pa.ChunkedArray | None:
    """The lines with the commas between their pairs as spaces, where a line without `type` has `,type=`; None
    when no line has."""
    chunks, changed = [], False
    for chunk, lacking in zip(lines.chunks, found.lack("type"), strict=True):
        rows = np.flatnonzero(lacking)
        if len(rows):
            rows = rows[pc.match_substring(chunk.take(pa.array(rows)), _CSV_TYPE).to_numpy(zero_copy_only=False)]
        if not len(rows):
            chunks.append(chunk)
            continue
        _, data, offsets = line_bytes(chunk)
        starts, lengths = offsets[rows], offsets[rows + 1] - offsets[rows]
        first = np.cumsum(lengths) - lengths  # each row's first byte among the rows' bytes
        places = np.repeat(starts - first, lengths) + np.arange(int(lengths.sum()))
        octets = data[places]
        quotes = np.concatenate([[0], np.cumsum(octets == _QUOTE, dtype=np.int32)])
        inside = (quotes[1:] - np.repeat(quotes[first], lengths)) % 2 == 1  # after an odd number in its row
        base = int(offsets[0])
        text = data[base:int(offsets[-1])].copy()
        text[places[(octets == _COMMA) & ~inside] - base] = ord(" ")
        chunks.append(pa.Array.from_buffers(pa.string(), len(chunk), [
            pc.is_valid(chunk).buffers()[1] if chunk.null_count else None,
            pa.py_buffer((offsets - base).astype(np.int32)), pa.py_buffer(text)], chunk.null_count))
        changed = True
    return pa.chunked_array(chunks, pa.string()) if changed else None


def _outcomes(connection: duckdb.DuckDBPyConnection, queries: _Queries, lines: pa.Table, found: _Found) -> pa.Table:
    """The lines' events, rejects (reject_reason) and ignored lines (is_ignored)."""
    value = found.value
    kind_type, subtype = value("type"), value("subtype")
    is_traffic = pc.fill_null(pc.equal(kind_type, "traffic"), False)
    is_utm = pc.fill_null(pc.equal(kind_type, "utm"), False)
    is_dns = pc.or_(pc.fill_null(pc.equal(kind_type, "dns"), False),
                    pc.and_(is_utm, pc.fill_null(pc.equal(subtype, "dns"), False)))
    is_web = pc.and_(is_utm, pc.fill_null(pc.is_in(subtype, pa.array(["webfilter", "app-ctrl"])), False))
    # an HTTP transaction: a request with its URL, judged by the security profiles (utmaction), no session action
    is_request = pc.and_(is_traffic, pc.fill_null(pc.equal(subtype, "http-transaction"), False))
    act, utm_action = _lower(value("action")), _lower(value("utmaction", is_traffic))
    if pc.any(is_request).as_py():
        act = pc.coalesce(act, only_where(utm_action, is_request))
    # A session's `action` says how the firewall policy let it end (client-rst, close ...); a security profile
    # that blocked it (web filter, application control) says so in `utmaction`: the session is blocked.
    utm_blocked = pc.fill_null(pc.is_in(utm_action, pa.array(UTM_BLOCKED)), False)
    act = pc.if_else(pc.and_(utm_blocked, pc.fill_null(pc.is_in(act, pa.array(ALLOWED)), False)), "block", act)
    starts_session = pc.and_(is_traffic, pc.fill_null(pc.equal(act, "start"), False))
    is_traffic = pc.and_(is_traffic, pc.invert(starts_session))
    is_event = pc.or_(pc.or_(is_traffic, is_web), is_dns)
    untyped = pc.fill_null(pc.equal(kind_type, ""), True)
    # Some keys are read only for some lines (as FortiOS writes them).
    eventtime = value("eventtime")
    no_eventtime = pc.is_null(eventtime)
    user = value("user")
    user_name = pc.coalesce(user, value("unauthuser", pc.is_null(user)))
    hostname = value("hostname", pc.and_(pc.not_equal(kind_type, "dns"), pc.not_equal(subtype, "dns")))
    in_traffic_or_utm = pc.is_in(kind_type, pa.array(["traffic", "utm"]))
    host = per_distinct(connection, pc.coalesce(value("qname", is_dns), only_where(hostname, pc.invert(is_dns))),
                        queries.host)["host"]
    has_host = pc.is_valid(host)
    appcat = value("appcat", in_traffic_or_utm)
    return pa.table({
        "line_no": lines.column("line_no"),
        "reject_reason": pc.if_else(untyped, NOT_FORTIGATE, pa.scalar(None, pa.string())),
        "is_ignored": pc.and_(pc.invert(is_event), pc.invert(untyped)),
        "ts": _times(connection, queries, eventtime, *(value(key, no_eventtime) for key in LOCAL_TIME_KEYS)),
        "src_ip": value("srcip"),
        "user_name": _no_empty(user_name),
        "host": host,
        "host_source": pc.if_else(has_host, pc.if_else(is_dns, "dns_query", "url"), "none"),
        "dst_ip": value("dstip"),
        "dst_port": integers(connection, queries.integer, value("dstport"), pa.int32()),
        "network_protocol": protocol_names(value("proto")),
        "url_path": per_distinct(connection, value("url", pc.or_(is_web, is_request)), queries.url_path)["url_path"],
        # (FortiOS 7.x web filter and HTTP transaction logs; the web filter's `method` is how it filtered: domain)
        "http_method": per_distinct(connection, _no_empty(value("httpmethod", pc.or_(is_web, is_request))),
                                    queries.upper)["value"],
        "user_agent": _no_empty(value("agent", pc.or_(is_web, is_request))),
        "action": pc.if_else(pc.fill_null(pc.is_in(act, pa.array(BLOCKED)), False), "blocked",
                             pc.if_else(pc.fill_null(pc.is_in(act, pa.array(ALLOWED)), False), "allowed",
                                        "unknown")),
        "bytes_out": integers(connection, queries.bigint, value("sentbyte", is_traffic), pa.int64()),
        "bytes_in": integers(connection, queries.bigint, value("rcvdbyte", is_traffic), pa.int64()),
        "duration_ms": milliseconds(integers(connection, queries.bigint, value("duration", is_traffic), pa.int64())),
        "dns_qtype": per_distinct(connection, value("qtype", is_dns), queries.upper)["value"],
        "dns_answers": per_distinct(connection, value("ipaddr", is_dns), queries.answers)["answers"],
        "vendor_app": _no_empty(value("app", in_traffic_or_utm)),
        # The web filter's category (`catdesc`), else application control's (`appcat`; "unscanned" is none).
        "vendor_category": pc.coalesce(
            _no_empty(value("catdesc", pc.is_in(kind_type, pa.array(["utm", "dns"])))),
            only_where(appcat, pc.invert(pc.fill_null(pc.is_in(appcat, pa.array(["", "unscanned"])), False)))),
    })


def _lower(values: pa.Array) -> pa.Array:
    """Lower case, once per distinct value."""
    encoded = pc.dictionary_encode(values)
    return pc.utf8_lower(encoded.dictionary).take(encoded.indices)


def _no_empty(values: pa.Array) -> pa.Array:
    """`values`, null where empty."""
    return only_where(values, pc.not_equal(values, ""))


# Epoch values below these are seconds, milliseconds, microseconds; else nanoseconds.
_SECONDS_BELOW, _MILLISECONDS_BELOW, _MICROSECONDS_BELOW = 10**11, 10**14, 10**17
_EARLIEST_SECOND = -(2**63 // 1_000_000)


def _times(connection: duckdb.DuckDBPyConnection, queries: _Queries, eventtime: pa.Array, date: pa.Array,
           time: pa.Array, tz: pa.Array) -> pa.Array:
    """`eventtime` in whichever unit it is in; else `date time tz`, else `date time` in the configured zone."""
    epoch = integers(connection, queries.bigint, eventtime, pa.int64())
    number = pc.fill_null(epoch, 0).to_numpy()
    # (seconds so far before 1970 that their microseconds do not fit an int64: no time)
    fits = pc.is_valid(epoch).to_numpy(zero_copy_only=False) & (number >= _EARLIEST_SECOND)
    number = np.where(fits, number, 0)
    micros = np.where(number < _SECONDS_BELOW, number * 1_000_000, np.where(
        number < _MILLISECONDS_BELOW, number * 1000, np.where(number < _MICROSECONDS_BELOW, number, number // 1000)))
    ts = pa.array(micros, pa.timestamp("us", tz="UTC"), mask=~fits)
    local = pc.binary_join_element_wise(date, time, " ")
    if pc.all(pc.is_null(local)).as_py():
        return ts
    zoned = per_distinct(connection, pc.binary_join_element_wise(local, tz, " "), queries.zoned_time)["ts"]
    in_zone = per_distinct(connection, local, queries.local_time)["ts"]
    return pc.coalesce(ts, zoned.cast(ts.type), in_zone.cast(ts.type))


SYSLOG = Format(
    name="fortigate",
    source_kind="firewall",
    summary="Fortinet FortiGate key=value syslog (also its csv format and FortiOS 4.x names): traffic, web filter, "
            "application control and DNS logs",
    sniff=line_share(r'^.*?\blog_?id="?\d{10}"?[\s,].*\btype="?(?:traffic|utm|event|dns|anomaly)\b'),
    new_parser=new_parser,
    independent_batches=True,
    fields=(
        "ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol", "http_method",
        "url_path", "action", "bytes_out", "bytes_in", "duration_ms", "user_agent", "dns_qtype", "dns_answers",
        "vendor_app", "vendor_category",
    ),
)
