"""SonicWall SonicOS syslog: `key=value` pairs (the default and the enhanced syslog layout), traffic and web events.

Every SonicOS line is `id=firewall sn=<serial> time="yyyy-mm-dd hh:mm:ss[ UTC]" fw=<ip> pri=<n> c=<n> [gcat=<n>]
m=<message id> msg="<text>" ...`, with or without a syslog header or a relay's address in front; the enhanced
layout (SonicOS 6.5+) adds `gcat`, zones, NAT, `fw_action` and moves keys around. Key order does not matter: the
values are found by FortiGate's compiled `key=value` scan (`fortigate_scan`: space-separated pairs, values in
double quotes), and a value in single quotes (`appName='General HTTPS'`) is read to its closing quote here.

Which lines are events, by the message id `m` (SonicOS Log Events Reference Guide):
- 537 "Connection Closed": the session, logged when it ends. `sent` is what the initiator (src) sent: bytes_out;
  `rcvd` bytes_in; `cdur` the duration in milliseconds. 98 "Connection Opened" is ignored, so a session is
  counted once (as FortiGate's `action=start`).
- 97 "Web site hit", 16 "Web site access allowed", 14 "Web site access denied" (Content Filter, blocked): the
  host the filter read (`dstname`: the HTTP Host header, or the TLS name of an HTTPS connection; host_source
  http_host), the path `arg` (url_path, query cut), `op` (1 GET, 2 POST, 3 HEAD) and `result` (HTTP status).
  Their `sent`/`rcvd` repeat the session's counters, which the 537 line carries: not read, not counted twice.
- 36, 37, 38 (TCP connection, UDP, ICMP packets dropped by policy): blocked.
Every other message is ignored: system, VPN, administration, IPS and application-control detections,
management traffic to the firewall, and the packet-level drops of stray packets (m=713 "TCP connection abort
received", m=888 "TCP packet received on non-existent/closed connection", m=181 ...; their `fw_action="drop"`
is about a packet of a connection already logged, not a decision about a flow). `action` is blocked for m=14,
the policy drops and any event with `fw_action="drop"` (enhanced syslog); else allowed. `op` is a number
(1 GET, 2 POST, 3 HEAD) or, on some versions, the method's name.

Addresses: `src=ip[:port[:interface[:resolved name]]]`, likewise `dst`. For IPv6 SonicOS writes the address in
`srcV6`/`dstV6` and leaves the address part of `src`/`dst` empty (`src=:443:X1`). The resolved name in `dst` is
the firewall's reverse lookup of the address, not the name the client asked for: not read as host (flows are
named through DNS answers later). `proto=tcp/https` -> network_protocol `tcp` (the transport, as the other
firewall formats name it). User: `usr` (else `user`); SonicOS's placeholders for an unidentified user
(`Unknown (SSO failed)` ...) are none. vendor_app: `appName`, else `app` where it is a name (it is mostly the
numeric id of the flow-reporting application); vendor_category: the Content Filter's `Category`, else `appcat`.

Time: `time` with its ` UTC` (or GMT) marker is UTC; without one it is the firewall's local time, read in the
configured zone. A line without `time` takes its syslog header's time. A traffic line without any time, or with
an unreadable one, or without a source or destination address, is a counted reject; a line without `m=` is not
a SonicOS line (reject).

References: SonicOS/X 7.0.1 Log Events Reference Guide (syslog tag index, event ids;
https://www.sonicwall.com/support/technical-documentation/), the event list in CSV at
https://gist.github.com/adriansr/d7ad20e15fca1ef2df6a4cdeb53b2989, LogRhythm's field list
(https://docs.logrhythm.com/devices/docs/general-firewall-events), LogZilla's SonicWall notes
(https://docs.logzilla.net/LogZilla_Appstore/Sonicwall/), and Elastic's SonicWall integration
(https://github.com/elastic/integrations/tree/main/packages/sonicwall_firewall: `sent` -> source.bytes,
`cdur` in milliseconds, srcV6/dstV6, `op`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, one_array, only_where, per_distinct
from detector.ingest.base import BatchParser, Format, ParseContext, line_share
from detector.ingest.distinct_sql import BIGINT_SQL, INTEGER_SQL, chunk_sliced_parser, in_time_zone, integers
from detector.ingest.fortigate import HOST_SQL, URL_PATH_SQL
from detector.ingest.key_values import byte_positions, spans_of
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.syslog import SyslogHeaders, define_head_macros, reference_time
from detector.schema import TIMESTAMP

if TYPE_CHECKING:
    from detector.ingest.compiled import WantedKeys

KEYS = (
    "m", "time", "src", "dst", "srcV6", "dstV6", "proto", "sent", "rcvd", "cdur", "usr", "user", "dstname", "arg",
    "op", "result", "app", "appName", "Category", "category", "appcat", "fw_action",
)
CLOSED = 537
WEB_ALLOWED = (97, 16)
WEB_BLOCKED = 14
DROPPED = (36, 37, 38)

NOT_SONICWALL = "not a SonicWall key=value log line (no m= message id)"
NO_TIME = "no time= field and no syslog header time"
BAD_TIME = "time is not yyyy-mm-dd hh:mm:ss[ UTC]: "
NO_ADDRESS = "no source or destination address (src=/dst=, or srcV6=/dstV6= for IPv6)"
# Lines of the reader's batch made at a time (as fortigate.py: Arrow's and DuckDB's calls cost per call too).
OUTCOME_LINES = 131_072

# `yyyy-mm-dd hh:mm:ss` with ` UTC` / ` GMT` (SonicOS's "display UTC in logs"), else in the configured zone.
TIME_SQL = """
select case when upper(right(value, 4)) in (' UTC', ' GMT')
            then timezone('UTC', try_cast(left(value, -4) as timestamp))
            else timezone(@TZ@, try_cast(value as timestamp)) end as ts
from distinct_values
"""
TRANSPORT_SQL = "select nullif(lower(trim(split_part(value, '/', 1))), '') as value from distinct_values"
METHOD_SQL = """
select case trim(value) when '1' then 'GET' when '2' then 'POST' when '3' then 'HEAD'
    else case when regexp_full_match(trim(value), '[A-Za-z]+') then upper(trim(value)) end end as value
from distinct_values
"""
STATUS_SQL = "select nullif(try_cast(value as integer), 0) as value from distinct_values"
# `usr="Unknown (SSO failed)"`, `"Unknown (SSO bypassed)"` ...: SonicOS found no user.
USER_SQL = """
select case when value = '' or regexp_full_match(value, 'Unknown \\(.*\\)') then null else value end as value
from distinct_values
"""
APP_SQL = "select case when regexp_full_match(value, '[0-9]*') then null else value end as value from distinct_values"
CATEGORY_SQL = """
select case when upper(value) in ('', 'N/A', 'NA') then null else value end as value from distinct_values
"""


class _Queries:
    """The per-distinct queries of one file, each remembering the values it has read."""

    def __init__(self, timezone: str) -> None:
        self.time = DistinctQuery(in_time_zone(TIME_SQL, timezone))
        self.host = DistinctQuery(HOST_SQL)
        self.url_path = DistinctQuery(URL_PATH_SQL)
        self.transport = DistinctQuery(TRANSPORT_SQL)
        self.method = DistinctQuery(METHOD_SQL)
        self.status = DistinctQuery(STATUS_SQL)
        self.user = DistinctQuery(USER_SQL)
        self.app = DistinctQuery(APP_SQL)
        self.category = DistinctQuery(CATEGORY_SQL)
        self.integer = DistinctQuery(INTEGER_SQL)
        self.bigint = DistinctQuery(BIGINT_SQL)


def new_parser(context: ParseContext) -> BatchParser:
    """Values found by the compiled scan, read once per distinct value in SQL where Arrow has no kernel."""
    from detector.ingest.compiled import WantedKeys  # (Numba: loaded only when a SonicWall log is read)

    keys = WantedKeys(KEYS)
    queries = _Queries(context.timezone)
    define_head_macros(context.connection)
    headers = SyslogHeaders(context.timezone, reference_time(context.path, context.timezone))

    def outcomes(connection: duckdb.DuckDBPyConnection, lines: pa.Table) -> pa.Table:
        return _outcomes(connection, queries, headers, lines, _Values(one_array(lines.column("line")), keys))

    return chunk_sliced_parser(context, outcomes, OUTCOME_LINES)


_SINGLE_QUOTE = ord("'")


class _Values:
    """Each wanted key's value in each line of a slice (one array on its own buffer): the scan's spans, a value
    that opens with a single quote read to the closing one (or the line's end)."""

    def __init__(self, text: pa.Array, keys: WantedKeys) -> None:
        from detector.ingest.fortigate_scan import value_spans

        self.text, self.keys = text, keys.keys
        _, self.data, self.offsets = line_bytes(text)
        self.found, self.starts, self.ends = value_spans(self.data, self.offsets, keys)
        self._quotes: np.ndarray | None = None

    def __call__(self, key: str, where: pa.Array | None = None) -> pa.Array:
        """Per line, the value of `key` (null where the line has none, or where `where` is not true)."""
        number = self.keys.index(key)
        present = self.found[:, number].copy()
        if where is not None:
            present &= pc.fill_null(where, False).to_numpy(zero_copy_only=False)
        if not present.any():
            return pa.nulls(len(self.text), pa.string())
        line_starts = self.offsets[:-1]
        begin = np.where(present, self.starts[:, number], line_starts)
        end = np.where(present, self.ends[:, number], line_starts)
        quoted = present & (end > begin)
        quoted[quoted] = self.data[begin[quoted]] == _SINGLE_QUOTE
        if quoted.any():
            rows = np.flatnonzero(quoted)
            if self._quotes is None:
                self._quotes = byte_positions(self.text, b"'")[0]
            after = np.searchsorted(self._quotes, begin[rows] + 1)
            closing = self._quotes[np.minimum(after, len(self._quotes) - 1)]
            line_ends = self.offsets[rows + 1]
            begin[rows] += 1
            end[rows] = np.where((after < len(self._quotes)) & (closing < line_ends), closing, line_ends)
        return spans_of(self.text, begin, end, ~present)


def _outcomes(connection: duckdb.DuckDBPyConnection, queries: _Queries, headers: SyslogHeaders, lines: pa.Table,
              value: _Values) -> pa.Table:
    """The lines' events, rejects (reject_reason) and ignored lines (is_ignored)."""
    m = integers(connection, queries.integer, value("m"), pa.int32())
    has_m = pc.is_valid(m)
    is_closed = pc.fill_null(pc.equal(m, CLOSED), False)
    is_web = pc.fill_null(pc.is_in(m, pa.array((*WEB_ALLOWED, WEB_BLOCKED), pa.int32())), False)
    fw_action = value("fw_action")
    src, dst, src_v6, dst_v6 = value("src"), value("dst"), value("srcV6"), value("dstV6")
    fw_drop = pc.fill_null(pc.equal(pc.utf8_lower(fw_action), "drop"), False)
    blocked = pc.or_(pc.fill_null(pc.equal(m, WEB_BLOCKED), False), fw_drop)
    dropped = pc.fill_null(pc.is_in(m, pa.array(DROPPED, pa.int32())), False)
    is_event = pc.or_(pc.or_(is_closed, is_web), dropped)

    src_ip, src_ok = _address(src, src_v6)
    dst_ip, dst_ok = _address(dst, dst_v6)
    dst_port = integers(connection, queries.integer, _part(dst, 1), pa.int32())

    time = value("time", is_event)
    ts = per_distinct(connection, time, queries.time)["ts"].cast(TIMESTAMP)
    no_time = pc.and_(is_event, pc.is_null(time))
    if pc.any(no_time).as_py():
        header_ts = headers.read(connection, lines.filter(no_time)).column("ts").combine_chunks().cast(TIMESTAMP)
        ts = pc.replace_with_mask(ts, no_time, header_ts)
    none = pa.scalar(None, pa.string())
    reason = pc.if_else(
        pc.invert(has_m), NOT_SONICWALL, pc.if_else(
            pc.invert(is_event), none, pc.if_else(
                pc.invert(pc.and_(src_ok, dst_ok)), NO_ADDRESS, pc.if_else(
                    pc.is_valid(ts), none, pc.if_else(
                        pc.is_null(time), NO_TIME, pc.binary_join_element_wise(BAD_TIME, time, ""))))))

    user = value("usr")
    user = pc.coalesce(user, value("user", pc.is_null(user)))
    host = per_distinct(connection, value("dstname", is_web), queries.host)["host"]
    app_name = value("appName")
    category = value("Category")
    category = pc.coalesce(category, value("category", pc.is_null(category)))
    return pa.table({
        "line_no": lines.column("line_no"),
        "reject_reason": reason,
        "is_ignored": pc.and_(has_m, pc.invert(is_event)),
        "ts": ts,
        "src_ip": src_ip,
        "user_name": per_distinct(connection, user, queries.user)["value"],
        "host": host,
        "host_source": pc.if_else(pc.is_valid(host), "http_host", "none"),
        "dst_ip": dst_ip,
        "dst_port": dst_port,
        "network_protocol": per_distinct(connection, value("proto"), queries.transport)["value"],
        "http_method": per_distinct(connection, value("op", is_web), queries.method)["value"],
        "url_path": per_distinct(connection, value("arg", is_web), queries.url_path)["url_path"],
        "http_status": per_distinct(connection, value("result", is_web), queries.status)["value"],
        "action": pc.if_else(pc.or_(blocked, dropped), "blocked", "allowed"),
        "bytes_out": integers(connection, queries.bigint, value("sent", is_closed), pa.int64()),
        "bytes_in": integers(connection, queries.bigint, value("rcvd", is_closed), pa.int64()),
        "duration_ms": integers(connection, queries.bigint, value("cdur", is_closed), pa.int64()),
        "vendor_app": pc.coalesce(
            only_where(app_name, pc.not_equal(app_name, "")),
            per_distinct(connection, value("app", pc.is_null(app_name)), queries.app)["value"].cast(pa.string())),
        "vendor_category": per_distinct(
            connection, pc.coalesce(category, value("appcat", pc.is_null(category))), queries.category)["value"],
    })


def _part(address: pa.Array, index: int) -> pa.Array:
    """Part `index` of `ip:port:interface:name` (null where there is none, or it is empty)."""
    parts = pc.split_pattern(address, ":", max_splits=index + 1)
    lengths = pc.fill_null(pc.list_value_length(parts), 0)
    has = pc.greater(lengths, index)
    picked = pc.list_element(pc.if_else(has, parts, pa.scalar([""] * (index + 1), parts.type)), index)
    return only_where(picked, pc.not_equal(picked, ""))


def _address(address: pa.Array, v6: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The IP of `src`/`dst` (`srcV6`/`dstV6` where given), and whether it could be read: more than three colons
    without a V6 key is an IPv6 address in a layout SonicOS does not document (its port cannot be told apart)."""
    v6 = only_where(v6, pc.not_equal(v6, ""))
    ambiguous = pc.fill_null(pc.greater(pc.count_substring(address, ":"), 3), False)
    ip = pc.coalesce(v6, only_where(_part(address, 0), pc.invert(ambiguous)))
    return ip, pc.is_valid(ip)


SYSLOG = Format(
    name="sonicwall",
    source_kind="firewall",
    summary="SonicWall SonicOS key=value syslog (default and enhanced): connections, content filter (web) and "
            "dropped-packet events; system, VPN and admin messages ignored",
    # A serial (`sn=`) and a message id (`m=`), anywhere after a syslog header or a relay's address
    sniff=line_share(re.compile(r"^(?=.*(?:^|[\s>])sn=\w)(?=.*\sm=\d+(?:\s|$))(?=.*\s(?:msg|c|pri)=)")),
    new_parser=new_parser,
    independent_batches=True,
    fields=(
        "ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol", "http_method",
        "url_path", "http_status", "action", "bytes_out", "bytes_in", "duration_ms", "vendor_app", "vendor_category",
    ),
)
