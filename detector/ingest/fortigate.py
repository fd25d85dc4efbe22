"""Fortinet FortiGate (FortiOS) syslog: `key=value` pairs, string values in double quotes.

Lines are read on their bytes with numpy, a slice of lines at a time, without splitting them into tokens.
Every key ends at an `=`: the three bytes before each `=` name the few keys it may end (one hash lookup
per `=`), which are then compared whole, with a space (or the start of the text, after the PRI `<189>`)
in front. An `=` with an odd number of quote marks before it in its line is inside a quoted value (a
message, a user agent, a URL's query) and ends no key. A key's first occurrence counts; its value is the
text between the quote marks after `="`, else the text after `=` up to a space or a quote mark (or just
past another `=`). Indifferent to key order, to keys a FortiOS version adds, and to a syslog header in
front. The values become Arrow text; hosts, paths, answers and local times are read once per distinct
value in SQL. (The former query split each line into a list of tokens and searched the list once per
key; per 262k-line batch, at load ~10: 2.46 s CPU, this 1.80 s.)

Events:
- `type=traffic` (forward, local, multicast, sniffer): the session, logged when it ends. `sentbyte` is
  client to server (`bytes_out`), `rcvdbyte` the reverse, `duration` in seconds. With `logtraffic-start`
  FortiOS also logs `action=start` when a session opens: ignored, so a session is counted once.
- `type=utm subtype=webfilter` and `subtype=app-ctrl`: `hostname` and `url` (the path) of a request.
- `type=utm subtype=dns` (FortiOS 6.2+) and `type=dns` (6.0): `qname`, `qtype`, answers in `ipaddr`.
Every kind keeps FortiOS's own view: the application control's `app` (vendor_app), and the web filter's
category `catdesc`, else the application category `appcat`, as vendor_category.
Other types (event, other UTM subtypes: virus, ips, ...) are ignored. Only traffic logs carry byte counts
into the lake: UTM logs repeat the session's counters, and counting them too would double the upload.

Time: `eventtime` is epoch UTC in seconds, milliseconds, microseconds or nanoseconds (by FortiOS
version); without it, `date` + `time` with the `tz` offset (`-0500`), or else in the configured zone.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, one_array, only_where, per_distinct
from detector.ingest.base import (
    BatchParser,
    Format,
    ParseContext,
    line_share,
)
from detector.ingest.byte_spans import spans
from detector.ingest.distinct_sql import BIGINT_SQL, INTEGER_SQL, in_time_zone, integers, sliced_parser
from detector.ingest.ip_protocols import protocol_names
from detector.ingest.key_values import milliseconds

KEYS = (
    "type", "subtype", "date", "time", "tz", "eventtime", "srcip", "dstip", "dstport", "proto", "action",
    "user", "unauthuser", "hostname", "url", "sentbyte", "rcvdbyte", "duration", "qname", "qtype", "ipaddr",
    "app", "appcat", "catdesc",
)

BLOCKED = ("deny", "blocked", "block", "reset", "reject", "drop", "dropped", "redirect")
ALLOWED = (
    "accept", "close", "timeout", "server-rst", "client-rst", "pass", "passthrough", "allow", "allowed",
    "permit", "exempt", "monitor", "monitored",
)
NOT_FORTIGATE = "not a FortiGate key=value log line (no type=)"
# Lines read at a time: a slice's bytes and positions stay in the CPU's caches from one step to the next.
SLICE_LINES = 16_384
# The longest PRI, `<191>`, has its `>` this far from the line's start.
_PRI_LENGTH = 4
# Zero bytes around a slice's text, so that the words read before a key and after a value stay inside it.
_PAD_BEFORE, _PAD_AFTER = 16, 16

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


def _word(text: str) -> int:
    """Up to four bytes of text as the little-endian integer numpy reads them as."""
    return int.from_bytes(text.encode(), "little")


# The key an `=` may end is told by the 4-byte word of its last three bytes and the `=` (`tz` by its two
# bytes and the `=`): keys are grouped by that word, then compared whole (up to eight bytes before the
# last three, as two more words).
_ENDINGS = sorted({_word(key[-3:] + "=") for key in KEYS if len(key) >= 3})
_TZ_GROUP = len(_ENDINGS)
_GROUPS = [_ENDINGS.index(_word(key[-3:] + "=")) if len(key) >= 3 else _TZ_GROUP for key in KEYS]
assert [key for key in KEYS if len(key) < 3] == ["tz"] and all(len(key) <= 11 for key in KEYS)
_LENGTHS = np.array([len(key) for key in KEYS], np.int32)
_PATTERNS = [np.array([_word(key[:-3][half:half + 4]) for key in KEYS], np.uint32) for half in (0, 4)]
_MASKS = [np.array([(1 << 8 * len(key[:-3][half:half + 4])) - 1 for key in KEYS], np.uint32) for half in (0, 4)]


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
    """Values found on the lines' bytes, read once per distinct value in SQL where Arrow has no kernel."""
    queries = _Queries(context.timezone)
    return sliced_parser(context, lambda cursor, part: _outcomes(cursor, queries, part), SLICE_LINES)


def _padded(line: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The lines' bytes between zero bytes (_PAD_BEFORE, _PAD_AFTER) and each line's start in them (then
    the end of the last): one copy of the text."""
    offsets = np.frombuffer(line.buffers()[1], np.int32, len(line) + 1, line.offset * 4)
    text = line.buffers()[2]
    data = np.zeros(_PAD_BEFORE + int(offsets[-1] - offsets[0]) + _PAD_AFTER, np.uint8)
    if text is not None:
        data[_PAD_BEFORE:-_PAD_AFTER] = np.frombuffer(text, np.uint8)[offsets[0]:offsets[-1]]
    return data, offsets - offsets[0] + np.int32(_PAD_BEFORE)


def _words(data: np.ndarray) -> np.ndarray:
    """The 4-byte little-endian word starting at each byte of `data` (a view, no copy)."""
    return np.ndarray((len(data) - 3,), "<u4", data, 0, (1,))


def _found(line: pa.Array) -> _Found:
    """Where the value of each of KEYS is in each line (none where the line has no such key)."""
    data, offsets = _padded(line)
    row_count = len(line)
    equals = np.flatnonzero(data == ord("=")).astype(np.int32)
    quotes = np.flatnonzero(data == ord('"')).astype(np.int32)
    equals_from = np.searchsorted(equals, offsets).astype(np.int32)
    quotes_from = np.searchsorted(quotes, offsets).astype(np.int32)
    text_starts = _text_starts(line, data, offsets, quotes, quotes_from)

    # The three bytes before each `=`, and the `=`: the group of keys it may end.
    endings = _words(data)[equals - 3]
    group = pc.fill_null(pc.index_in(pa.array(endings), value_set=pa.array(_ENDINGS, pa.uint32())), -1)
    group = group.to_numpy().astype(np.int8)
    group[(endings >> np.uint32(8)) == np.uint32(_word("tz="))] = _TZ_GROUP
    candidate = np.flatnonzero(group >= 0).astype(np.int32)
    by_group = candidate[np.argsort(group[candidate], kind="stable")]  # int8: a radix sort; each group in order
    bounds = np.searchsorted(group[by_group], np.arange(_TZ_GROUP + 2))
    # Each key written whole before its `=`: the bytes before the last three (already matched), up to eight,
    # as two 4-byte words. Each key's `=` in line order.
    prefixes = _words(data)
    matches = []
    for number, key in enumerate(KEYS):
        in_group = by_group[bounds[_GROUPS[number]]:bounds[_GROUPS[number] + 1]]
        starts = equals[in_group] - len(key)
        matched = (prefixes[starts] & _MASKS[0][number]) == _PATTERNS[0][number]
        if len(key) > 7:
            matched &= (prefixes[starts + 4] & _MASKS[1][number]) == _PATTERNS[1][number]
        matches.append(in_group[matched])
    candidate = np.concatenate(matches)
    key = np.repeat(np.arange(len(KEYS), dtype=np.int8), [len(match) for match in matches])
    ends = equals[candidate]
    rows = np.repeat(np.arange(row_count, dtype=np.int32), np.diff(equals_from))[candidate]
    starts = ends - _LENGTHS[key]
    text_start = text_starts[rows]
    quotes_before = np.searchsorted(quotes, ends).astype(np.int32)
    before = data[starts - 1]
    keep = (starts >= text_start) & ((before == ord(" ")) | (before == ord("=")) | (starts == text_start))
    keep &= (quotes_before - quotes_from[rows]) % 2 == 0
    keep = np.flatnonzero(keep)
    candidate, key, ends, rows, quotes_before = candidate[keep], key[keep], ends[keep], rows[keep], quotes_before[keep]
    # Each key's first occurrence in each line (a key's `=` are in line order).
    first = np.ones(len(key), bool)
    first[1:] = (key[1:] != key[:-1]) | (rows[1:] != rows[:-1])
    first = np.flatnonzero(first).astype(np.int32)
    at = np.full((len(KEYS), row_count), -1, np.int32)
    at[key[first], rows[first]] = first

    # A quoted value runs to the next quote mark in its line (or the line's end); any other to a space, a quote
    # mark or just past the next `=`.
    line_end = offsets[rows + 1]
    quotes_after = quotes_from[rows + 1]
    quote_at = np.append(quotes, np.int32([len(data), len(data)]))  # (past the last quote mark: none)
    quoted = data[ends + 1] == ord('"')
    closing = np.where(quotes_before + 1 < quotes_after, quote_at[quotes_before + 1], line_end)
    next_quote = np.where(quotes_before < quotes_after, quote_at[quotes_before], line_end)
    following = np.where(candidate + 1 < equals_from[rows + 1], equals[np.minimum(candidate + 1, len(equals) - 1)] + 1,
                         line_end)
    value_starts = np.where(quoted, ends + 2, ends + 1)
    value_ends = np.where(quoted, closing, np.minimum(np.minimum(next_quote, following), line_end))

    return _Found(pa.py_buffer(data), offsets, at, value_starts, value_ends, quoted)


class _Found:
    """Where each key's value is in each line (see `_found`): values become text on demand."""

    def __init__(self, buffer: pa.Buffer, offsets: np.ndarray, at: np.ndarray, starts: np.ndarray,
                 ends: np.ndarray, quoted: np.ndarray) -> None:
        self.buffer, self.offsets, self.at = buffer, offsets, at
        self.starts, self.ends, self.quoted = starts, ends, quoted

    def value(self, key: str, where: pa.Array | None = None) -> pa.Array:
        """Per line, the value of `key` (null where the line has none, or where `where` is not true): the
        bytes from its start to its end, an unquoted value up to its first space."""
        at = self.at[KEYS.index(key)]
        if where is not None:
            at = np.where(pc.fill_null(where, False).to_numpy(zero_copy_only=False), at, -1)
        found = at >= 0
        if not found.any():
            return pa.nulls(len(at), pa.string())
        pick = np.where(found, at, 0)
        line_starts = self.offsets[:-1]
        value_starts = np.where(found, self.starts[pick], line_starts)
        value_ends = np.where(found, self.ends[pick], line_starts)
        unquoted = found & ~self.quoted[pick]
        if unquoted.any():
            # the first space of each value: in a string array over the buffer whose items are the values and
            # the gaps between them (no copy)
            bounds = np.empty(2 * len(at), np.int32)
            bounds[0::2], bounds[1::2] = value_starts, value_ends
            every = pa.StringArray.from_buffers(len(bounds) - 1, pa.py_buffer(bounds), self.buffer)
            space = pc.find_substring(every, " ").to_numpy()[0::2]
            value_ends = np.where(unquoted & (space >= 0), value_starts + space, value_ends)
        return spans(self.buffer, value_starts, value_ends, found)


def _text_starts(line: pa.Array, data: np.ndarray, offsets: np.ndarray, quotes: np.ndarray,
                 quotes_from: np.ndarray) -> np.ndarray:
    """Where each line's text starts: after the PRI (`<189>`: up to the first `>`, when the line starts with
    `<` and the `>` comes before any quote mark), else at the line's start."""
    line_starts, line_ends = offsets[:-1], offsets[1:]
    with_pri = np.flatnonzero((data[line_starts] == ord("<")) & (line_ends > line_starts))
    starts, line_start, line_end = line_starts.copy(), line_starts[with_pri], line_ends[with_pri]
    # the first `>`: a PRI has up to three digits; further away (no PRI), a search
    closing = np.full(len(with_pri), -1, np.int32)
    for distance in range(_PRI_LENGTH, 0, -1):
        closing = np.where((line_start + distance < line_end) & (data[line_start + distance] == ord(">")), distance,
                           closing)
    far = np.flatnonzero(closing < 0)
    if len(far):
        closing[far] = pc.find_substring(line.take(pa.array(with_pri[far])), ">").to_numpy()
    first_quote = np.where(quotes_from[with_pri] < quotes_from[with_pri + 1],
                           np.append(quotes, np.int32(len(data)))[quotes_from[with_pri]], line_end)
    cut = (closing >= 0) & (line_start + closing < first_quote)
    starts[with_pri[cut]] = (line_start + closing + 1)[cut]
    return starts


def _outcomes(connection: duckdb.DuckDBPyConnection, queries: _Queries, lines: pa.Table) -> pa.Table:
    """The lines' events, rejects (reject_reason) and ignored lines (is_ignored)."""
    found = _found(one_array(lines.column("line")))
    value = found.value
    kind_type, subtype = value("type"), value("subtype")
    is_traffic = pc.fill_null(pc.equal(kind_type, "traffic"), False)
    is_utm = pc.fill_null(pc.equal(kind_type, "utm"), False)
    is_dns = pc.or_(pc.fill_null(pc.equal(kind_type, "dns"), False),
                    pc.and_(is_utm, pc.fill_null(pc.equal(subtype, "dns"), False)))
    is_web = pc.and_(is_utm, pc.fill_null(pc.is_in(subtype, pa.array(["webfilter", "app-ctrl"])), False))
    act = _lower(value("action"))
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
        "ts": _times(connection, queries, eventtime, value("date", no_eventtime), value("time", no_eventtime),
                     value("tz", no_eventtime)),
        "src_ip": value("srcip"),
        "user_name": _no_empty(user_name),
        "host": host,
        "host_source": pc.if_else(has_host, pc.if_else(is_dns, "dns_query", "url"), "none"),
        "dst_ip": value("dstip"),
        "dst_port": integers(connection, queries.integer, value("dstport"), pa.int32()),
        "network_protocol": protocol_names(value("proto")),
        "url_path": per_distinct(connection, value("url", is_web), queries.url_path)["url_path"],
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
    summary="Fortinet FortiGate key=value syslog: traffic, web filter, application control and DNS logs",
    sniff=line_share(r'^.*?\blogid="?\d{10}"?\s.*\btype="?(?:traffic|utm|event|dns|anomaly)\b'),
    new_parser=new_parser,
    independent_batches=True,
    fields=(
        "ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol", "url_path",
        "action", "bytes_out", "bytes_in", "duration_ms", "dns_qtype", "dns_answers", "vendor_app", "vendor_category",
    ),
)
