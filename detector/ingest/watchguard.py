"""WatchGuard Firebox (Fireware OS) syslog: traffic (`firewall`) and HTTP/HTTPS proxy (`http-proxy`, `https-proxy`)
log messages.

Every Fireware log message in syslog is a header, the process that logged it, `msg_id="XXXX-XXXX"` (the Log
Message Catalog's ID), then the message. The header is the relay's or the Firebox's syslog header
(`<142>Mar 28 11:21:56 WG-Firebox`), with the Firebox's serial number and `(2025-03-28T05:51:56)`, the time the
event happened, after it where the syslog settings include them ("The serial number of the device", "The time
stamp"): `<142>Mar 28 11:21:56 WG-Firebox 80ED0123ABCDE (2025-03-28T05:51:56) firewall: msg_id="3000-0148" ...`.

A traffic message is the disposition, the interfaces, then the packet (layouts as the Log Message Catalog and
the public parsers below read them):
- a packet the policy logged (3000-0148; 3000-0149 application control, 3000-0150 IPS, 3000-0173): `Allow
  Trusted External 52 tcp 20 127 10.0.1.2 203.0.113.5 62443 443 offset 8 S 832026162 win 8192 (HTTPS-00)`:
  length, protocol, IP header length, TTL, source, destination, ports (ICMP: type and code, not ports);
- a session that ended (3000-0151, 3000-0175/0176, Fireware 12.x): `Allow Trusted External tcp 10.0.1.2
  203.0.113.5 62443 443 flags="SDdF" duration="14" sent_pkts="10" rcvd_pkts="5" sent_bytes="564"
  rcvd_bytes="785" (HTTPS-00)`;
- a proxy's message (http-proxy 1AFF-0024 "HTTP request", https-proxy "HTTPS Request", ProxyAllow / ProxyDeny /
  ProxyDrop ...): `Allow 1-Trusted 0-External tcp 10.0.1.2 203.0.113.5 52345 80 msg="HTTP request"
  proxy_act="HTTP-Client.Standard" op="GET" dstname="www.example.com" arg="/index.html" sent_bytes="520"
  rcvd_bytes="15000" elapsed_time="0.052 sec(s)" (HTTP-proxy-00)`, with `sni`, `cats` (WebBlocker's
  categories), `app_name` / `app_cat_name` (application control; `cat_name` in 3000-0149), `src_user` or
  `user` where the user is known.
Interface names may hold spaces; the protocol and the two addresses after them are found by their shape.
Each such message is an event: `Allow` is allowed, `Deny` (and `Drop`) blocked. `sent_bytes` are what the
source (the client) sent (a denied 777-byte packet logs `sent_bytes="777" rcvd_bytes="0"`; a POP3 download
logs a small sent and a large rcvd), so bytes_out; `rcvd_bytes` bytes_in; null where the message has none. The
host is the request URL's when `arg` is absolute, else the TLS SNI (`sni`), else the Host the proxy saw
(`dstname`: http_host; the proxy's IPS, antivirus, reputation and DLP messages write `host` and `path` instead),
else the DNS question (`question`, host_source dns_query, with `record_type` / `query_type` as dns_qtype): the DNS
proxy's "DNS request" (dns-proxy 1DFF-000F) and, on Fireware 12, the packets a DNS policy logs (3000-0148 with
`question="..."`). Any other message of the Firebox (alarms, VPN, authentication, management, DHCP, other
proxies) is ignored; a traffic message without its addresses is rejected.

The Firebox's IBM LEEF syslog format (`LEEF:1.0|WatchGuard|XTM|12.8.2.B666661|1AFF0024|disp=Allow<TAB>in_if=...
<TAB>src=10.0.1.2<TAB>srcPort=52804<TAB>dst=...<TAB>dstPort=443<TAB>proto=tcp<TAB>op=GET<TAB>dstname=...`, tabs as
`#011` where a relay escaped them; layout of SEKOIA-IO intake-formats WatchGuard/watchguard-firebox/tests) is read
as if rewritten into this layout (`watchguard_leef`): the process named by the message id's family, `disp in out
proto src dst srcPort dstPort`, every attribute as `key="value"`; its time is the syslog header's. Its attributes
are cut once by a compiled pass (`watchguard_scan.leef_fields`) and placed in the line's own bytes; only lines that
pass cannot read without a doubt are rewritten (Arrow regular expressions) and read as native lines. Whole ingest
of the benchmark's 1M LEEF lines: 15.8-15.9 -> 3.4-3.9 CPU s (the rewrite, one regular expression per packet field
and one over every attribute, was ~85 % of the parse), against the generic DuckDB baseline's ~1.35 (2026-11-30, busy
machine); then 3.5-3.6 -> ~3.0 (a column that takes the first of several keys cut once, the protocol read per distinct
value, the pass's names hashed: 4M lines 12.7 -> 10.4 CPU s); what is left and what was tried: `watchguard_leef`.

Time: the Firebox's `(ISO time)` where the header has it, in UTC (the public samples show it 5:30 before the
header clock of a Firebox set to India's zone); else the syslog header's (year-less BSD: placed by
`syslog.syslog_time` in the configured zone).

Parsing: the wanted `key="value"` pairs are found by FortiGate's compiled key/value scan (`fortigate_scan`,
the same rules: keys outside quotes, first occurrence); the header (the text before `msg_id`) and every
value are read once per distinct value; the disposition, protocol, addresses and ports by a compiled pass over
the traffic messages' first tokens (`watchguard_scan`, its rules are there). The action and the destination port
are read from those places in the bytes, and counts (`sent_bytes`, `rcvd_bytes`, `duration`) that are plain digits
too (any other text through the bigint cast once per distinct value); the LEEF search runs only over lines holding
a `|`. CPU of the parse of 262k lines made from firebox.log (parser alone, 2026-11-29): 0.57 s -> ~0.41 s; whole
ingest of 1M such lines (`benchmarks/ingest.py --formats watchguard --format-lines 1000000 --no-regex`, busy
machine, load ~7): 4.1 CPU s against the generic DuckDB baseline's 2.3 (0.56; 0.45-0.48 before, quiet machine).

Sources (layouts, no lines copied):
- https://www.watchguard.com/help/docs/help-center/en-US/Content/en-US/Fireware/logging/read_log-msg.html
- Fireware Log Message Catalog (v12.3 / v12.6), https://www.watchguard.com/help/documentation/
- DataDog/integrations-core watchguard_firebox/assets/logs/watchguard-firebox.yaml (syslog header with serial
  and ISO time; traffic and proxy message grammar)
- SEKOIA-IO/intake-formats WatchGuard/watchguard-firebox/ingest/parser.yml (sent_bytes as source bytes)
- ExabeamLabs/Content-Doc DataSources/Watchguard (http-proxy "HTTP request", https-proxy "HTTPS Request" fields)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, dictionary_array, one_array, only_where, per_distinct, spread
from detector.ingest.base import BatchParser, Format, ParseContext, line_share
from detector.ingest.distinct_sql import (
    BIGINT_SQL,
    chunk_sliced_parser,
    integers,
    plain,
    sql_literal,
    through,
)
from detector.ingest.ip_protocols import protocol_names
from detector.ingest.key_values import in_line_order, milliseconds, rows_with, spans_of
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.proxy_columns import first_valid
from detector.ingest.syslog import BSD_TIME, BSD_YEAR_TIME, ISO_TIME, define_macros, reference_time
from detector.ingest.watchguard_leef import NO_PROTOCOL, PACKET_KEYS, Read, leef_rows, native_layout
from detector.schema import TIMESTAMP

if TYPE_CHECKING:
    from detector.ingest.compiled import WantedKeys

KEYS = ("msg_id", "src_user", "user", "dstname", "arg", "sni", "op", "cats", "app_name", "app_cat_name", "cat_name",
        "sent_bytes", "rcvd_bytes", "duration", "elapsed_time", "host", "path", "question", "record_type", "query_type")
_MSG_ID = KEYS.index("msg_id")
# The processes whose traffic messages are read: the packet filter, the web proxies and the DNS proxy.
PROGRAMS = ("firewall", "http-proxy", "https-proxy", "dns-proxy")
_PROXY_PROTOCOL = {"http-proxy": "http", "https-proxy": "https"}

_ICMP = ("icmp", "1", "ipv6-icmp", "icmpv6", "58")
_SOURCES = pa.array(["url", "sni", "http_host", "dns_query", "none"])

NOT_WATCHGUARD = "not a WatchGuard log line (no msg_id and no syslog header)"
NO_ADDRESSES = "WatchGuard traffic message without source and destination addresses"
NO_TIME = "no time: neither a syslog header nor the Firebox time stamp"
BAD_TIME = "time is not a valid date and time: "

# Per distinct header (the text before `msg_id`): the process, the time (UTC) and the time as written.
HEAD_SQL = r"""
with parts as (
    select
        regexp_extract(value, '^(?:<\d{1,3}>(?:1 )? ?)?(@BSD_TIME@|@ISO_TIME@|@BSD_YEAR_TIME@) ', 1) as header_ts,
        regexp_extract(value, '\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)', 1) as device_time,
        regexp_extract(value, '^<\d{1,3}>1 \S+ \S+ (\S+) ', 1) as app_5424,
        regexp_extract(rtrim(rtrim(value), ':'), '([^\s\[\]:<>()]+)(?:\[\d*\])?$', 1) as tag
    from distinct_values
)
select
    lower(coalesce(nullif(nullif(app_5424, ''), '-'), nullif(tag, ''))) as program,
    case
        when device_time <> '' then timezone('UTC', try_cast(device_time as timestamp))
        when header_ts <> '' then syslog_time(header_ts, @TZ@, @REF@)
    end as ts,
    coalesce(nullif(device_time, ''), nullif(header_ts, '')) as written
from parts
"""
# `arg`: an absolute URL (explicit proxy) gives the host and the path; a path alone only the path.
ARG_SQL = r"""
with parts as (select value, url_rest(value) as rest from distinct_values),
authorities as (select value, rest, authority_hostport(rest_authority(rest)) as hostport from parts)
select hostport_host(hostport) as host,
    coalesce(rest_path(rest), nullif(split_part(split_part(value, '?', 1), '#', 1), '')) as url_path
from authorities
"""
HOST_SQL = "select hostport_host(trim(value)) as host from distinct_values"
UPPER_SQL = "select nullif(upper(trim(value)), '') as value from distinct_values"
# `elapsed_time="0.052 sec(s)"`
ELAPSED_SQL = r"""
select try_cast(round(try_cast(regexp_extract(value, '^\s*([0-9]+(?:\.[0-9]+)?)', 1) as double) * 1000) as bigint)
    as value
from distinct_values
"""
# Lines read at a time: the per-call costs of Arrow and SQL are shared by many lines.
SLICE_LINES = 65_536


class _Queries:
    """The per-distinct queries of one file, each remembering the values it has read."""

    def __init__(self, timezone: str, reference: str) -> None:
        head = HEAD_SQL.replace("@BSD_TIME@", BSD_TIME).replace("@ISO_TIME@", ISO_TIME)
        head = head.replace("@BSD_YEAR_TIME@", BSD_YEAR_TIME)
        self.head = DistinctQuery(head.replace("@TZ@", sql_literal(timezone)).replace("@REF@", reference))
        self.arg = DistinctQuery(ARG_SQL)
        self.host = DistinctQuery(HOST_SQL)
        self.upper = DistinctQuery(UPPER_SQL)
        self.elapsed = DistinctQuery(ELAPSED_SQL)
        self.bigint = DistinctQuery(BIGINT_SQL)


def new_parser(context: ParseContext) -> BatchParser:
    """Values by the compiled key/value scan, the packet by its own compiled pass, the header and values read once per
    distinct value."""
    define_macros(context.connection)
    reference = reference_time(context.path, context.timezone)
    queries = _Queries(context.timezone, f"{sql_literal(reference.isoformat(sep=' '))}::timestamp")
    from detector.ingest.compiled import WantedKeys  # (Numba: loaded only when a WatchGuard log is read)

    keys = _Keys(WantedKeys(KEYS), WantedKeys(KEYS + PACKET_KEYS))
    return chunk_sliced_parser(context, lambda cursor, part: _outcomes(cursor, queries, keys, part), SLICE_LINES)


class _Keys(NamedTuple):
    native: WantedKeys  # KEYS, for the Firebox's own layout
    leef: WantedKeys  # KEYS then the packet's LEEF attributes (watchguard_scan.PACKET_KEYS)


def _outcomes(connection: duckdb.DuckDBPyConnection, queries: _Queries, keys: _Keys, lines: pa.Table) -> pa.Table:
    """The lines' events, rejects (reject_reason) and ignored lines (is_ignored). LEEF lines are read directly
    where `watchguard_leef.Read` can; the others, rewritten into the Firebox's own layout, as native lines."""
    line = one_array(lines.column("line"))
    if len(line) and b"|WatchGuard|" in _first_line(line):  # (a LEEF file: each line is read by the pass)
        piped = np.arange(len(line))
    else:  # (else only lines that hold a `|`, found by one byte scan of the buffer)
        piped = np.flatnonzero(rows_with(line, b"|"))
    if not len(piped):
        return _columns(connection, queries, lines, _native_reading(connection, queries, keys.native, line))
    read = _leef_read(line, piped, keys)
    if read.simple.all():
        return _columns(connection, queries, lines, _leef_reading(connection, queries, read))
    if not read.simple.any():
        return _columns(connection, queries, lines, _native_reading(connection, queries, keys.native,
                                                                    native_layout(line, leef_rows(line))))
    simple = pa.array(read.simple)
    direct, other = lines.filter(simple), lines.filter(pc.invert(simple))
    first = one_array(direct.column("line"))
    again = _leef_read(first, np.arange(len(first)), keys)  # (the simple lines again, in their own array)
    rest = one_array(other.column("line"))
    return in_line_order(
        _columns(connection, queries, direct, _leef_reading(connection, queries, again)),
        _columns(connection, queries, other, _native_reading(connection, queries, keys.native,
                                                             native_layout(rest, leef_rows(rest)))),
        read.simple)


def _first_line(line: pa.Array) -> bytes:
    _, data, offsets = line_bytes(line)
    return data[offsets[0]:offsets[1]].tobytes()


def _leef_read(line: pa.Array, rows: np.ndarray, keys: _Keys) -> Read:
    return Read(line, rows, keys.leef, len(KEYS), KEYS.index("duration"))


class _Reading(NamedTuple):
    """Where a slice's lines hold what the columns are made of: the lines (`line`, its bytes `data`), the wanted
    keys' values (`found`, `starts`, `ends`: `fortigate_scan.value_spans`), which lines have `msg_id`, the header
    before it read per distinct value (program, ts, written), and the packet's places in given lines' messages."""

    line: pa.Array
    data: np.ndarray
    found: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    has_id: np.ndarray
    header: dict[str, pa.Array]
    packets: Callable[[np.ndarray], np.ndarray]


def _native_reading(connection: duckdb.DuckDBPyConnection, queries: _Queries, keys: WantedKeys, line: pa.Array
                    ) -> _Reading:
    """The Firebox's own layout: the compiled key/value scan, the header (the text before `msg_id=`) per distinct
    value, the packet by `watchguard_scan.packet_fields` over the message after `msg_id`'s value."""
    from detector.ingest import watchguard_scan as scan
    from detector.ingest.fortigate_scan import value_spans

    _, data, offsets = line_bytes(line)
    found, starts, ends = value_spans(data, offsets, keys)
    line_start, line_end = offsets[:-1], offsets[1:]

    # The header: the text before `msg_id=`; the message starts after its value's closing quote mark.
    has_id = found[:, _MSG_ID]
    # (a line without the key has undefined places: its own start stands in)
    id_begin = np.where(has_id, starts[:, _MSG_ID], line_start)
    id_end = np.where(has_id, ends[:, _MSG_ID], line_start)
    quoted = has_id.copy()
    if has_id.any():
        quoted[has_id] = data[id_begin[has_id] - 1] == ord('"')
    key_start = np.where(has_id, id_begin - len("msg_id=") - quoted, line_start)
    head = spans_of(line, line_start, np.maximum(key_start, line_start), ~has_id)
    body_start = np.where(has_id, np.minimum(id_end + quoted, line_end), line_start)
    return _Reading(line, data, found, starts, ends, has_id, per_distinct(connection, head, queries.head),
                    lambda read: scan.packet_fields(data, body_start[read], line_end[read]))


def _leef_reading(connection: duckdb.DuckDBPyConnection, queries: _Queries, read: Read) -> _Reading:
    """LEEF lines read directly (every line of `read.line` simple): each has a message id; its header is the head
    it would have in the Firebox's own layout, read per distinct head."""
    heads, head_index = read.heads()
    header = spread(queries.head.results_for(connection, heads), pa.array(head_index))
    return _Reading(read.line, read.data, read.found, read.starts, read.ends, np.ones(len(read.line), bool), header,
                    lambda rows: read.places[rows])


def _columns(connection: duckdb.DuckDBPyConnection, queries: _Queries, lines: pa.Table, reading: _Reading
             ) -> pa.Table:
    """The outcomes' table from the reading of the lines."""
    line, data, found, starts, ends, has_id, header, packets = reading
    rows = len(line)
    program = plain(header["program"])
    is_program = pc.fill_null(pc.is_in(program, pa.array(PROGRAMS)), False).to_numpy(zero_copy_only=False)
    candidate = has_id & is_program
    ts = header["ts"].cast(TIMESTAMP)
    has_time = pc.is_valid(ts).to_numpy(zero_copy_only=False)
    field, place, matched, disposition = _packets(line, packets, candidate, has_time)
    no_addresses = disposition & ~matched
    bad_time = matched & ~has_time
    event = matched & has_time
    not_watchguard = ~has_id & ~_has_syslog_header(line, has_id)
    reason = pa.nulls(rows, pa.string())
    if not_watchguard.any() or no_addresses.any() or bad_time.any():  # (rare: reasons made only then)
        written = plain(header["written"])
        time_reason = pc.if_else(pc.is_null(written), NO_TIME, pc.binary_join_element_wise(BAD_TIME, written, ""))
        reason = pc.if_else(pa.array(not_watchguard), NOT_WATCHGUARD, pc.if_else(
            pa.array(no_addresses), NO_ADDRESSES, pc.if_else(pa.array(bad_time), time_reason, reason)))
    where = pa.array(event)

    def value(*keys: str) -> pa.DictionaryArray:
        """The first of the keys' values that each event line has (null in the others, and where all are empty),
        dictionary-encoded: `first_valid` of each key's value, chosen among the places before one cut."""
        number = KEYS.index(keys[0])
        if len(keys) == 1:
            return _encoded_spans(line, event & found[:, number], starts[:, number], ends[:, number])
        chosen, begin, stop = np.zeros(rows, bool), np.zeros(rows, np.int64), np.zeros(rows, np.int64)
        for key in keys:
            number = KEYS.index(key)
            has = found[:, number] & ~chosen
            has[has] = ends[has, number] > starts[has, number]  # (an empty value is none: the next key's counts)
            begin[has], stop[has] = starts[has, number], ends[has, number]
            chosen |= has
        return _encoded_spans(line, event & chosen, begin, stop)

    is_http = pc.fill_null(pc.equal(program, "http-proxy"), False)
    is_https = pc.fill_null(pc.equal(program, "https-proxy"), False)
    network_protocol, icmp = _protocols(field("protocol"), is_http, is_https)
    host, host_source, url_path = _hosts(connection, queries, value)
    def number(key: str) -> pa.Array:
        """The key's value in each event line as int64: plain digits read from the bytes, any other text (signs,
        spaces, placeholders) cast once per distinct value by `queries.bigint`; null where none or empty."""
        from detector.ingest.watchguard_scan import whole_numbers

        at = KEYS.index(key)
        rows = event & found[:, at]
        numbers, digits = whole_numbers(data, starts[:, at], ends[:, at], rows)
        result = pa.array(numbers, mask=~digits)
        others = rows & ~digits
        if others.any():
            result = pc.coalesce(result, integers(connection, queries.bigint,
                                                  _encoded_spans(line, others, starts[:, at], ends[:, at]), pa.int64()))
        return result

    duration = milliseconds(number("duration"))
    elapsed = through(connection, queries.elapsed, value("elapsed_time"))["value"]
    return pa.table({
        "line_no": lines.column("line_no"),
        "reject_reason": reason,
        "is_ignored": pa.array(~event & ~not_watchguard & ~no_addresses & ~bad_time),
        "ts": only_where(ts, where),
        "src_ip": field("src"),
        "user_name": value("src_user", "user"),
        "host": host,
        "host_source": host_source,
        "dst_ip": field("dst"),
        "dst_port": only_where(_port(data, *place("dport")), pc.invert(icmp)),
        "network_protocol": only_where(network_protocol, where),
        "http_method": through(connection, queries.upper, value("op"))["value"],
        "dns_qtype": through(connection, queries.upper, value("record_type", "query_type"))["value"],
        "url_path": url_path,
        "action": _action(*place("disposition")),
        "bytes_out": number("sent_bytes"),
        "bytes_in": number("rcvd_bytes"),
        "duration_ms": pc.coalesce(duration, elapsed.cast(pa.int64())),
        "vendor_app": value("app_name"),
        "vendor_category": value("cats", "app_cat_name", "cat_name"),
    })


def _protocols(protocol: pa.DictionaryArray, is_http: pa.Array, is_https: pa.Array) -> tuple[pa.Array, pa.Array]:
    """network_protocol (http and https for the web proxies' messages, else the packet's protocol, lower case and
    named: 6 tcp ...; null where none or `noproto`) and whether the protocol is ICMP, per line of the packets'
    `protocol`: each distinct protocol read once."""
    lower = pc.utf8_lower(protocol.dictionary)
    named = pc.if_else(pc.equal(lower, NO_PROTOCOL), pa.scalar(None, pa.string()), plain(protocol_names(lower)))
    icmp = pc.fill_null(pc.is_in(lower, pa.array(_ICMP)).take(protocol.indices), False)
    at = pc.fill_null(protocol.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32)
    at = np.where(is_http.to_numpy(zero_copy_only=False), 0,
                  np.where(is_https.to_numpy(zero_copy_only=False), 1, np.where(at >= 0, at + 2, -1))).astype(np.int32)
    choices = pa.concat_arrays([pa.array(["http", "https"]), named])
    return dictionary_array(pa.array(at, mask=at < 0), choices), icmp


def _encoded_spans(line: pa.Array, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> pa.DictionaryArray:
    """The text from `starts` to `ends` in the lines where `rows` holds (null in the others, and where empty),
    dictionary-encoded: only those lines' texts are cut out, and each line gets an index (no text copied per
    line of the slice)."""
    read = np.flatnonzero(rows)
    indices = np.zeros(len(line), np.int32)
    valid = np.zeros(len(line), bool)
    if not len(read):
        return pa.DictionaryArray.from_arrays(pa.array(indices, mask=~valid), pa.array([], pa.string()))
    found = pc.dictionary_encode(spans_of(line, starts[read], ends[read]))
    at = found.indices.to_numpy(zero_copy_only=False)
    indices[read] = at
    valid[read] = pc.not_equal(found.dictionary, "").to_numpy(zero_copy_only=False)[at]
    return pa.DictionaryArray.from_arrays(pa.array(indices, mask=~valid), found.dictionary)


_SYSLOG_START = re.compile(rf"^(?:<\d{{1,3}}>(?:1 )? ?)?(?:{BSD_TIME}|{ISO_TIME}|{BSD_YEAR_TIME}) ")


def _has_syslog_header(line: pa.Array, has_id: np.ndarray) -> np.ndarray:
    """Whether each line without `msg_id` starts with a syslog header's time (the Firebox's status lines: ignored);
    lines with `msg_id` are not looked at (rare lines: the test runs on those only)."""
    header = np.zeros(len(line), bool)
    others = np.flatnonzero(~has_id)
    if len(others):
        header[others] = pc.fill_null(pc.match_substring_regex(
            line.take(pa.array(others)), _SYSLOG_START.pattern), False).to_numpy(zero_copy_only=False)
    return header


def _packets(line: pa.Array, packets: Callable[[np.ndarray], np.ndarray], candidate: np.ndarray,
             has_time: np.ndarray) -> tuple[Callable[[str], pa.DictionaryArray],
                                            Callable[[str], tuple[np.ndarray, np.ndarray, np.ndarray]], np.ndarray,
                                            np.ndarray]:
    """The packet's fields in the candidate lines' messages (`packets`: their places, as
    `watchguard_scan.packet_fields` gives them, for given lines): a reader of each field per line
    (null where the line has none), a reader of its places (the event lines that have it, its starts and ends, for
    fields read from the bytes), the lines whose message has its addresses, and the lines whose message starts
    with a disposition (with addresses or not). Fields are read only of the lines that will be events (their
addresses found and `has_time`)."""
    from detector.ingest import watchguard_scan as scan

    read = np.flatnonzero(candidate)
    found = packets(read)
    rows = len(line)
    matched, disposition = np.zeros(rows, bool), np.zeros(rows, bool)
    matched[read] = found[:, scan.SOURCE, 0] >= 0
    events = matched & has_time
    disposition[read] = found[:, scan.DISPOSITION, 0] >= 0
    numbers = {"disposition": scan.DISPOSITION, "protocol": scan.PROTOCOL, "src": scan.SOURCE,
               "dst": scan.DESTINATION, "dport": scan.DESTINATION_PORT}

    def place(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        places = found[:, numbers[name]]
        begin, stop = np.zeros(rows, np.int64), np.zeros(rows, np.int64)
        begin[read], stop[read] = places[:, 0], places[:, 1]
        present = np.zeros(rows, bool)
        present[read] = places[:, 0] >= 0
        return present & matched & events, begin, stop

    def field(name: str) -> pa.DictionaryArray:
        return _encoded_spans(line, *place(name))

    return field, place, matched, disposition


def _action(rows: np.ndarray, begin: np.ndarray, end: np.ndarray) -> pa.Array:
    """`allowed` where the disposition is Allow, else `blocked` (Deny, Drop), null in the lines that are no events.
    The scan takes only those three words (any case), so the five-letter one is Allow: no text is cut out."""
    return pc.if_else(pa.array((end - begin) == len("allow"), mask=~rows), "allowed", "blocked")


def _port(data: np.ndarray, rows: np.ndarray, begin: np.ndarray, end: np.ndarray) -> pa.Array:
    """The port in the lines where `rows` holds (null in the others) as int32, read from the bytes: the scan takes
    a port only as 1-5 ASCII digits, so the number is those digits' (what a cast of the text gives): read by the
    compiled pass of the counts (`watchguard_scan.whole_numbers`), where five numpy passes over every line, digit by
    digit, cost ~3 % of a LEEF parse."""
    from detector.ingest.watchguard_scan import whole_numbers

    port, _ = whole_numbers(data, begin, end, rows)
    return pa.array(port.astype(np.int32), mask=~rows)


def _hosts(connection: duckdb.DuckDBPyConnection, queries: _Queries, value: Callable[[str], pa.DictionaryArray]
           ) -> tuple[pa.Array, pa.Array, pa.Array]:
    """host, host_source and url_path: the host of an absolute URL in `arg`, else the SNI, else `dstname`, else
    `host` (the proxy's IPS, antivirus, reputation and DLP messages name the request by `host` and `path` instead of
    `dstname` and `arg`), else the DNS question (`question`: the DNS proxy's requests and, on Fireware 12, the
    packets a DNS policy logs); the path of `arg`, else `path`."""
    arg = through(connection, queries.arg, value("arg"))
    url_host, sni = arg["host"], through(connection, queries.host, value("sni"))["host"]
    http_host = first_valid(through(connection, queries.host, value("dstname"))["host"],
                            through(connection, queries.host, value("host"))["host"])
    question = through(connection, queries.host, value("question"))["host"]
    has = [pc.is_valid(column).to_numpy(zero_copy_only=False) for column in (url_host, sni, http_host, question)]
    source = np.select(has, [0, 1, 2, 3], 4).astype(np.int32)
    url_path = first_valid(arg["url_path"], through(connection, queries.arg, value("path"))["url_path"])
    return (first_valid(url_host, sni, http_host, question), pa.DictionaryArray.from_arrays(pa.array(source), _SOURCES),
            url_path)


SYSLOG = Format(
    name="watchguard",
    source_kind="firewall",
    summary="WatchGuard Firebox (Fireware) syslog, own layout or IBM LEEF: traffic (firewall), HTTP/HTTPS proxy "
            "and DNS proxy messages; alarms, VPN, authentication and other messages ignored",
    sniff=line_share(r'^(?:.*?[\w-]+(?:\[\d+\])?: msg_id="[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}"'
                     r'|.*?LEEF:[0-9.]+\|WatchGuard\|[^|]*\|[^|]*\|[0-9A-Fa-f]{8}\|)'),
    new_parser=new_parser,
    independent_batches=True,
    fields=("ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
            "http_method", "url_path", "action", "bytes_out", "bytes_in", "duration_ms", "dns_qtype", "vendor_app",
            "vendor_category"),
)
