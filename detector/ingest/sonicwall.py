"""SonicWall SonicOS syslog: `key=value` pairs (the default and the enhanced syslog layout), traffic and web events.

Every SonicOS line is `id=firewall sn=<serial> time="yyyy-mm-dd hh:mm:ss[ UTC]" fw=<ip> pri=<n> c=<n> [gcat=<n>]
m=<message id> msg="<text>" ...`, with or without a syslog header or a relay's address in front; the enhanced
layout (SonicOS 6.5+) adds `gcat`, zones, NAT, `fw_action` and moves keys around. Key order does not matter: the
values are found by a compiled scan (`sonicwall_scan`: FortiGate's `key=value` rules, space-separated pairs, values
in double quotes; a value in single quotes, `appName='General HTTPS'`, read to its closing quote). The scan stops
at a line's message id when it names no event: a session's start, system and VPN messages are counted as ignored
and cost only the scan of their first keys. The values read for events are copied out of the lines in one pass
(`gathered`), each line's bytes read from memory once; a line without `time=` reads its syslog header once per
distinct header of the file. Hosts, paths, times, users and protocols are read once per distinct value in SQL. (CPU of
the parse of the benchmark's 2M-line files of repeated samples, one thread, 2-core machine at load ~3: 2.2-2.4 s
default layout / 2.3-2.4 s enhanced, 3.1-3.4 / 3.7-4.1 s with FortiGate's scan and numpy passes before 2026-11-30;
whole ingest on the benchmark, load ~5: 4.5 / 4.7 s CPU against the generic DuckDB baseline's 2.75 / 3.1 s, ratio
0.58 / 0.54 by wall time, 0.61 / 0.65 by CPU: the target 0.5 met.) The seventeenth session's idle runs put the
default sample at 0.50-0.63 by wall time (CPU ratio 0.52); in the eighteenth, header times kept per file
(_HeaderTimes), reject reasons made for failing lines only, second keys read only where the first leaves rows empty
and the scan's line-major spans took the whole ingest (CPU, load ~7-10, interleaved) at 4M lines from 8.65-9.59 to
6.43-7.25 s default, 8.59 to 7.59 enhanced; benchmark at 1M (`--per-sample`, load ~10): default 2.96 -> 2.43 s (CPU
ratio to the generic DuckDB baseline 0.51 -> 0.62), enhanced 3.18 -> 2.89 (0.56 -> 0.69).

Which lines are events, by the message id `m` (SonicOS Log Events Reference Guide):
- 537 "Connection Closed": the session, logged when it ends. `sent` is what the initiator (src) sent: bytes_out;
  `rcvd` bytes_in; `cdur` the duration in milliseconds. 98 "Connection Opened" is ignored, so a session is
  counted once (as FortiGate's `action=start`).
- 97 "Web site hit", 16 "Web site access allowed", 14 "Web site access denied" (Content Filter, blocked): the
  host the filter read (`dstname`: the HTTP Host header, or the TLS name of an HTTPS connection; host_source
  http_host), the path `arg` (url_path, query cut), `op` (1 GET, 2 POST, 3 HEAD) and `result` (HTTP status).
  Their `sent`/`rcvd` repeat the session's counters, which the 537 line carries: not read, not counted twice.
- 36, 37, 38 (TCP connection, UDP, ICMP packets dropped by policy): blocked. An ICMP drop without `proto=` is
  network_protocol icmp, without a destination port (its `dst` port is not one: `type=` and `code=` follow).
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
a SonicOS line (reject), unless it has SonicOS's `id=`, `sn=` and `msg=` and no category `c=` either (older
firmware logs some packet drops, e.g. "Unhandled link-local or multicast IPv6 packet dropped", without category
and message id, as elastic/integrations' sonicwall_firewall pipeline test shows): ignored.

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
from collections.abc import Callable
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import MOSTLY_DISTINCT, DistinctQuery, one_array, only_where, per_distinct
from detector.ingest.base import (
    BatchParser,
    Format,
    ParseContext,
    ParseResult,
    line_share,
    parse_cursor,
    split_outcomes,
)
from detector.ingest.distinct_sql import BIGINT_SQL, INTEGER_SQL, in_chunk_slices, in_time_zone, integers
from detector.ingest.fortigate import HOST_SQL, URL_PATH_SQL
from detector.ingest.key_values import spans_of
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.proxy_columns import bools
from detector.ingest.sophos import STATUS_SQL  # (HTTP status 0: none)
from detector.ingest.syslog import SyslogHeaders, define_head_macros, reference_time
from detector.schema import TIMESTAMP

if TYPE_CHECKING:
    from detector.ingest.compiled import WantedKeys

KEYS = (
    "id", "sn", "m", "time", "src", "dst", "srcV6", "dstV6", "proto", "sent", "rcvd", "cdur", "usr", "user",
    "dstname", "arg", "op", "result", "app", "appName", "Category", "category", "appcat", "fw_action", "msg", "c",
)
CLOSED = 537
WEB_ALLOWED = (97, 16)
WEB_BLOCKED = 14
DROPPED = (36, 37, 38)
ICMP_DROPPED = 38

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
    headers = _HeaderTimes(SyslogHeaders(context.timezone, reference_time(context.path, context.timezone)))

    def parse(lines: pa.Table) -> ParseResult:
        ignored = 0

        def outcomes(connection: duckdb.DuckDBPyConnection, part: pa.Table) -> pa.Table:
            nonlocal ignored
            table, count = _outcomes(connection, queries, headers, part, _Values(one_array(part.column("line")), keys))
            ignored += count
            return table

        with parse_cursor(context.connection) as cursor:
            result = split_outcomes(in_chunk_slices(lines, lambda part: outcomes(cursor, part), OUTCOME_LINES), lines)
        result.ignored += ignored
        return result

    return parse


class _Values:
    """Each wanted key's value in each line of a slice (one array on its own buffer) that may be an event: the
    scan (`sonicwall_scan`) leaves out the lines whose message id is not an event's; the values read for events
    are then copied out all at once (`gathered`), the others (`_SPANNED`) cut out one key at a time."""

    def __init__(self, text: pa.Array, keys: WantedKeys) -> None:
        from detector.ingest.sonicwall_scan import ADDRESS, PORT, VALUE, Scanned, gathered

        self.text, self.keys = text, keys.keys
        _, data, offsets = line_bytes(text)
        scanned = Scanned(data, offsets, keys, "m", (CLOSED, *WEB_ALLOWED, WEB_BLOCKED, *DROPPED), _ADDRESS_KEYS,
                          ("id", "sn", "m"))
        self.kept = scanned.rows  # the lines that may be events, among all of the slice's
        self.found, self.starts, self.ends = scanned.found, scanned.starts, scanned.ends
        self._colons = scanned.colons
        self._head_end = scanned.head_end
        self.count = len(self.kept)
        self._line_starts = offsets[:-1][self.kept]
        read = [key for key in self.keys if key not in _SPANNED]
        columns = [(VALUE, self.keys.index(key)) for key in read]
        for number in range(len(_ADDRESS_KEYS)):
            columns += [(ADDRESS, number), (PORT, number)]
        texts = gathered(data, scanned, columns)
        self._texts = dict(zip(read, texts, strict=False))
        self._addresses = {key: (texts[len(read) + 2 * number], texts[len(read) + 2 * number + 1])
                           for number, key in enumerate(_ADDRESS_KEYS)}

    def only(self, rows: np.ndarray) -> None:
        """Read the lines `rows` (ascending, among the kept ones) from now on: the values of the others are not
        needed."""
        self.count = len(rows)
        self.found, self.starts, self.ends = self.found[:, rows], self.starts[:, rows], self.ends[:, rows]
        self._colons = self._colons[:, rows]
        self._head_end = self._head_end[rows]
        self._line_starts = self._line_starts[rows]
        taken = pa.array(rows)
        self._texts = {key: text.take(taken) for key, text in self._texts.items()}
        self._addresses = {key: (ip.take(taken), port.take(taken)) for key, (ip, port) in self._addresses.items()}

    def __call__(self, key: str, where: pa.Array | None = None) -> pa.Array:
        """Per line, the value of `key` (null where the line has none, or where `where` is not true)."""
        if key in self._texts:
            text = self._texts[key]
            return text if where is None else only_where(text, where)
        number = self.keys.index(key)
        present = self.found[number]
        if where is not None:
            present = present & pc.fill_null(where, False).to_numpy(zero_copy_only=False)
        if not present.any():
            return pa.nulls(self.count, pa.string())
        begin = np.where(present, self.starts[number], self._line_starts)
        return spans_of(self.text, begin, np.where(present, self.ends[number], self._line_starts), ~present)

    def address(self, key: str) -> tuple[pa.Array, pa.Array, np.ndarray]:
        """The first two `:`-separated parts of `key`'s value (`ip:port:interface:name`: the address and the
        port; null where empty or missing), and how many colons the value holds (-1 where the line has none)."""
        ip, port = self._addresses[key]
        number = _ADDRESS_KEYS.index(key)
        return ip, port, np.where(self.found[self.keys.index(key)], self._colons[number], -1)

    def heads(self, rows: np.ndarray) -> pa.Array:
        """For `rows`, the text before the line's first `id=`, `sn=` or `m=` (a syslog header, a relay's address,
        or nothing)."""
        return spans_of(self.text, self._line_starts[rows], self._head_end[rows])


# Keys read only for the few lines without a message id (and the addresses, read by parts): cut out one at a time
_SPANNED = ("id", "sn", "msg", "c", "src", "dst")
_ADDRESS_KEYS = ("src", "dst")


def _outcomes(connection: duckdb.DuckDBPyConnection, queries: _Queries, headers: _HeaderTimes, lines: pa.Table,
              value: _Values) -> tuple[pa.Table, int]:
    """The events and rejects (reject_reason) of the lines, and how many lines are ignored (they are left out of
    the table: a session's start, system and VPN messages are many, and none of their values is read; the scan
    leaves out those whose message id it could read)."""
    scan_ignored = len(lines) - value.count
    m = integers(connection, queries.integer, value("m"), pa.int32())
    has_m = pc.is_valid(m).to_numpy(zero_copy_only=False)
    ignored = has_m & ~pc.fill_null(pc.is_in(m, pa.array((CLOSED, *WEB_ALLOWED, WEB_BLOCKED, *DROPPED), pa.int32())),
                                    False).to_numpy(zero_copy_only=False)
    if not has_m.all():  # SonicOS's own lines without category and message id (id=, sn= and msg=, neither c= nor
        without_m = pa.array(~has_m)  # m=): ignored; a line with c= but no m=, or cut before its msg=: rejected
        sonicos = pc.and_(pc.and_(pc.is_valid(value("id", without_m)), pc.is_valid(value("sn", without_m))),
                          pc.and_(pc.is_valid(value("msg", without_m)), pc.is_null(value("c", without_m))))
        ignored |= sonicos.to_numpy(zero_copy_only=False)
    line_no = lines.column("line_no")
    if scan_ignored:
        line_no = line_no.take(pa.array(value.kept))
    if ignored.any():
        rows = np.flatnonzero(~ignored)
        value.only(rows)
        taken = pa.array(rows)
        m, has_m, line_no = m.take(taken), has_m[rows], line_no.take(taken)
    has_m = pa.array(has_m)
    is_closed = pc.fill_null(pc.equal(m, CLOSED), False)
    is_web = pc.fill_null(pc.is_in(m, pa.array((*WEB_ALLOWED, WEB_BLOCKED), pa.int32())), False)
    fw_action = value("fw_action")
    fw_drop = pc.fill_null(pc.equal(pc.utf8_lower(fw_action), "drop"), False)
    blocked = pc.or_(pc.fill_null(pc.equal(m, WEB_BLOCKED), False), fw_drop)
    dropped = pc.fill_null(pc.is_in(m, pa.array(DROPPED, pa.int32())), False)
    is_event = pc.or_(pc.or_(is_closed, is_web), dropped)

    src_ip, src_ok, _ = _address(value, "src", "srcV6")
    dst_ip, dst_ok, dst_port = _address(value, "dst", "dstV6")

    time = value("time", is_event)
    ts = per_distinct(connection, time, queries.time)["ts"].cast(TIMESTAMP)
    no_time = pc.and_(is_event, pc.is_null(time))
    if pc.any(no_time).as_py():
        ts = pc.replace_with_mask(ts, no_time, _header_times(connection, headers, value, no_time))
    reason = _reasons(has_m, is_event, pc.and_(src_ok, dst_ok), ts, time)

    transport = per_distinct(connection, value("proto"), queries.transport)["value"]
    # m=38 "ICMP packet dropped" has no proto= and its dst "port" is not one (the type and code follow as type=/code=)
    icmp_drop = pc.and_(pc.fill_null(pc.equal(m, ICMP_DROPPED), False), pc.is_null(transport))
    user = value("usr")
    user = _or_else(value, user, "user")
    host = per_distinct(connection, value("dstname", is_web), queries.host)["host"]
    category = value("Category")
    category = _or_else(value, category, "category")
    return pa.table({
        "line_no": line_no,
        "reject_reason": reason,
        "is_ignored": pa.nulls(value.count, pa.bool_()),
        "ts": ts,
        "src_ip": src_ip,
        "user_name": per_distinct(connection, user, queries.user)["value"],
        "host": host,
        "host_source": pc.if_else(pc.is_valid(host), "http_host", "none"),
        "dst_ip": dst_ip,
        "dst_port": only_where(integers(connection, queries.integer, dst_port, pa.int32()), pc.invert(icmp_drop)),
        "network_protocol": pc.if_else(icmp_drop, "icmp", transport),
        "http_method": per_distinct(connection, value("op", is_web), queries.method)["value"],
        "url_path": per_distinct(connection, value("arg", is_web), queries.url_path)["url_path"],
        "http_status": per_distinct(connection, value("result", is_web), queries.status)["value"],
        "action": pc.if_else(pc.or_(blocked, dropped), "blocked", "allowed"),
        "bytes_out": integers(connection, queries.bigint, value("sent", is_closed), pa.int64()),
        "bytes_in": integers(connection, queries.bigint, value("rcvd", is_closed), pa.int64()),
        "duration_ms": integers(connection, queries.bigint, value("cdur", is_closed), pa.int64()),
        "vendor_app": _vendor_app(connection, queries, value),
        "vendor_category": per_distinct(
            connection, _or_else(value, category, "appcat"), queries.category)["value"],
    }), scan_ignored + int(ignored.sum())


def _vendor_app(connection: duckdb.DuckDBPyConnection, queries: _Queries, value: _Values) -> pa.Array:
    """`appName` where not empty, else `app` where it is a name, read only where the line has no `appName`."""
    app_name = value("appName")
    named = only_where(app_name, pc.not_equal(app_name, ""))
    if not app_name.null_count:
        return named
    app = per_distinct(connection, value("app", pc.is_null(app_name)), queries.app)["value"].cast(pa.string())
    return app if app_name.null_count == len(app_name) else pc.coalesce(named, app)


def _or_else(value: Callable[[str, pa.Array], pa.Array], first: pa.Array, key: str) -> pa.Array:
    """`first`, and where it is null, `value(key, where)` of those rows (SQL's coalesce): no call where `first`
    has every row, no coalesce where either has none (a layout writes one of two keys throughout)."""
    if not first.null_count:
        return first
    other = value(key, pc.is_null(first))
    if other.null_count == len(other):
        return first
    return other if first.null_count == len(first) else pc.coalesce(first, other)


def _reasons(has_m: pa.Array, is_event: pa.Array, addressed: pa.Array, ts: pa.Array, time: pa.Array) -> pa.Array:
    """Each line's reject reason (null for events and ignored lines), the texts made only for the lines that have
    one: the few rejects of a slice, not a string array per condition over all its lines."""
    failing = ~bools(has_m) | (bools(is_event) & ~(bools(addressed) & bools(pc.is_valid(ts))))
    if not failing.any():
        return pa.nulls(len(failing), pa.string())
    rows = np.flatnonzero(failing)
    taken = pa.array(rows)
    time = time.take(taken)
    none = pa.scalar(None, pa.string())
    reason = pc.if_else(
        pc.invert(has_m.take(taken)), NOT_SONICWALL, pc.if_else(
            pc.invert(is_event.take(taken)), none, pc.if_else(
                pc.invert(addressed.take(taken)), NO_ADDRESS, pc.if_else(
                    pc.is_null(time), NO_TIME, pc.binary_join_element_wise(BAD_TIME, time, "")))))
    at = np.full(len(failing), -1, np.int64)
    at[rows] = np.arange(len(rows))
    return reason.take(pa.array(at, mask=at < 0))


# A SonicOS line behind a syslog header has no program tag (`Nov 20 09:30:20 192.0.2.1 id=firewall ...`), which
# `SyslogHeaders` would read line by line in SQL: its header is read as `<header>- x: -` instead, once per distinct
# header (a BSD header then has `x` as its tag; an RFC 5424 one `-` as its structured data). Only times are used.
_TAGGED = "- x: -"


class _HeaderTimes(DistinctQuery):
    """Per distinct syslog header (without its program tag), its time, kept across a file's slices as a
    DistinctQuery keeps its results: a header is read by `SyslogHeaders` once per file, not once per slice (each
    read is a query, ~20-50 ms however few its headers, and a firewall that logs no `time=` repeats its
    headers' seconds from slice to slice). A header's time depends on its text alone."""

    def __init__(self, headers: SyslogHeaders) -> None:
        super().__init__("")
        self._headers = headers

    def run(self, connection: duckdb.DuckDBPyConnection, values: pa.Array) -> pa.Table:
        """The time of each header (`values`, distinct), in their order."""
        tagged = pc.binary_join_element_wise(values, _TAGGED, "")
        table = pa.table({"line_no": pa.array(np.arange(1, len(tagged) + 1)), "line": tagged})
        times = self._headers.read(connection, table).column("ts").combine_chunks().cast(TIMESTAMP)
        return pa.table({"ts": times})


def _header_times(connection: duckdb.DuckDBPyConnection, headers: _HeaderTimes, value: _Values, rows: pa.Array
                  ) -> pa.Array:
    """The syslog header's time of the lines where `rows` is true (null where a line has no header). Each distinct
    header is read once per file (_HeaderTimes): a firewall that logs no `time=` has every line read so."""
    picked = np.flatnonzero(rows.to_numpy(zero_copy_only=False))
    heads = pc.dictionary_encode(value.heads(picked))
    # (where most headers differ, as per_distinct: looking them up among the kept ones would cost more than it saves)
    mostly_distinct = len(heads.dictionary) > MOSTLY_DISTINCT * len(picked)
    read = headers.run if mostly_distinct else headers.results_for
    return read(connection, heads.dictionary).column("ts").combine_chunks().take(heads.indices)


def _address(value: _Values, key: str, v6_key: str) -> tuple[pa.Array, pa.Array, pa.Array]:
    """The IP of `src`/`dst` (`srcV6`/`dstV6` where given), whether it could be read, and the port. More than three
    colons without a V6 key is an IPv6 address in a layout SonicOS does not document (its port cannot be told
    apart): no address."""
    ip, port, colons = value.address(key)
    v6 = value(v6_key)
    v6 = only_where(v6, pc.not_equal(v6, ""))
    ip = only_where(ip, pa.array(colons <= 3))
    if v6.null_count < len(v6):
        ip = pc.coalesce(v6, ip)
    return ip, pc.is_valid(ip), port


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
