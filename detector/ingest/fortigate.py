"""Fortinet FortiGate (FortiOS) syslog: `key=value` pairs, string values in double quotes.

Lines are read on their bytes with numpy, a slice of lines at a time, without splitting them into tokens.
Every key ends at an `=`: the three bytes before each `=` name the group of keys it may end (a small hash
table), the byte five before it the one key of the group, which is then compared whole, with a space or
an `=` in front (or at the start of the text: the line's, or after the PRI `<189>`). An `=` with an odd
number of quote marks before it in its line is inside a quoted value (a message, a user agent, a URL's
query) and ends no key. A key's first occurrence counts; its value is the text between the quote marks
after `="`, else the text after `=` up to a space or a quote mark (or just past another `=`). Indifferent
to key order, to keys a FortiOS version adds, and to a syslog header in front. The values become Arrow
text; hosts, paths, answers and local times are read once per distinct value in SQL, for up to a whole batch
of the reader at a time (the keys are found a slice at a time, the events made from all its slices at once:
Arrow's and DuckDB's calls cost per call as well as per line). (CPU per 262k-line
batch: the former token-list query 2.46 s at load ~10; side by side at load ~3, the first byte reading ~1.55 s,
this one ~1.15 s, with candidates in line order, slices small enough for glibc to reuse their memory, and
the local time read only on lines without `eventtime`; the baseline's split query 0.38 s.)

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
from detector.ingest.distinct_sql import BIGINT_SQL, INTEGER_SQL, in_time_zone, integers, sliced_parser
from detector.ingest.ip_protocols import protocol_names
from detector.ingest.key_values import milliseconds

KEYS = (
    "type", "subtype", "eventtime", "srcip", "dstip", "dstport", "proto", "action", "user", "unauthuser",
    "hostname", "url", "sentbyte", "rcvdbyte", "duration", "qname", "qtype", "ipaddr", "app", "appcat", "catdesc",
)
# The local time, read only on the lines without `eventtime` (FortiOS before 6.2): in every line, so every line
# would otherwise pay for three more keys.
LOCAL_TIME_KEYS = ("date", "time", "tz")

BLOCKED = ("deny", "blocked", "block", "reset", "reject", "drop", "dropped", "redirect")
ALLOWED = (
    "accept", "close", "timeout", "server-rst", "client-rst", "pass", "passthrough", "allow", "allowed",
    "permit", "exempt", "monitor", "monitored",
)
NOT_FORTIGATE = "not a FortiGate key=value log line (no type=)"
# Lines read at a time: a slice's bytes and positions stay in the CPU's caches from one step to the next, and its
# arrays (a few MB) are small enough for the allocators to reuse rather than map afresh, with page faults, each
# time. Measured: 16,384 lines cost ~15% more CPU alone on a loaded machine; 4,096, ~10% more in the pipeline
# (two parsing threads); 8,192 is within a few per cent of the best in both.
SLICE_LINES = 8_192
# Lines whose events are made at a time from the keys' values (each read SLICE_LINES at a time): the Arrow and
# SQL steps cost per call as well as per line, and a batch of the reader (up to 131,072 lines) is then one call.
OUTCOME_LINES = 131_072
# The longest PRI, `<191>`, has its `>` this far from the line's start.
_PRI_LENGTH = 4
# Zero bytes around a slice's text, so that the words read before a key and after a value stay inside it.
_PAD_BEFORE, _PAD_AFTER = 16, 16
_SENTINELS = b'""='

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
# bytes and the `=`): a group of keys, found in a small hash table (one multiply and two lookups per `=`).
# Within a group the byte five before the `=` tells the key (`type` / `subtype` / `qtype`: the separator
# before `type`, the `b` of subtype, the `q` of qtype), which is then compared whole.
_HASH, _SLOT_BITS = np.uint32(0x9E3779B1), 10  # Fibonacci hashing: the top bits of the word times 2**32/phi


class _KeyTable:
    """How `_found` tells which of `keys` (up to eleven bytes; `tz` the only one under three) an `=` ends."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        assert all(len(key) >= 3 or key == "tz" for key in keys) and all(len(key) <= 11 for key in keys)
        self.keys = keys
        endings = sorted({_word(key[-3:] + "=") for key in keys if len(key) >= 3})
        self.tz_group = len(endings) if "tz" in keys else -1
        groups = [endings.index(_word(key[-3:] + "=")) if len(key) >= 3 else len(endings) for key in keys]
        self.slot_ending = np.zeros(1 << _SLOT_BITS, np.uint32)  # (0: no ending; every ending has its `=`)
        self.slot_group = np.full(1 << _SLOT_BITS, -1, np.intp)
        for group, ending in enumerate(endings):
            slot = (ending * int(_HASH) & 0xFFFFFFFF) >> (32 - _SLOT_BITS)
            assert not self.slot_ending[slot], "two key endings share a hash slot: change _HASH"
            self.slot_ending[slot], self.slot_group[slot] = ending, group
        # key_by_byte[group * 256 + the byte five before the `=`]: the group's key of five or more bytes with that
        # byte there, else its shorter key (at most one: then the byte is the separator before it), else its first.
        key_by_byte = np.zeros((len(endings) + 1, 256), np.intp)
        self.short_key = np.full(len(endings) + 1, -1, np.intp)  # a group's key of fewer than five bytes
        for group in range(len(endings) + 1 if "tz" in keys else len(endings)):
            members = [number for number, of in enumerate(groups) if of == group]
            short = [number for number in members if len(keys[number]) < 5]
            long = [number for number in members if number not in short]
            # (a short key beside others must have its separator five before the `=`; no two long keys the same
            # byte there)
            assert len(short) <= 1 and (not long or all(len(keys[number]) == 4 for number in short))
            assert len({keys[number][-5] for number in long}) == len(long)
            key_by_byte[group] = short[0] if short else members[0]
            self.short_key[group] = short[0] if short else -1
            for number in long:
                key_by_byte[group, ord(keys[number][-5])] = number
        self.key_by_byte = key_by_byte.ravel()
        self.lengths = np.array([len(key) for key in keys], np.intp)
        # each key's bytes before its last three, up to eight, as two 4-byte words and their masks
        self.patterns = [np.array([_word(key[:-3][half:half + 4]) for key in keys], np.uint32) for half in (0, 4)]
        self.masks = [np.array([(1 << 8 * len(key[:-3][half:half + 4])) - 1 for key in keys], np.uint32)
                      for half in (0, 4)]

    def written(self, words: np.ndarray, starts: np.ndarray, key: np.ndarray) -> np.ndarray:
        """Whether each key is written from its start: its bytes before the last three (which told its group)."""
        written = (words[starts] & self.masks[0][key]) == self.patterns[0][key]
        long = np.flatnonzero(self.lengths[key] > 7)  # (the others have no second word)
        written[long] &= (words[starts[long] + 4] & self.masks[1][key[long]]) == self.patterns[1][key[long]]
        return written


_KEYS, _LOCAL_TIME_KEYS, _ALL_KEYS = _KeyTable(KEYS), _KeyTable(LOCAL_TIME_KEYS), _KeyTable(KEYS + LOCAL_TIME_KEYS)


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
        # whether the last slice's lines were mostly without `eventtime`: then the next slice reads the local time
        # in the same pass as the other keys, not in a second one (set by either parsing thread: a hint only)
        self.local_time_usual = False


def new_parser(context: ParseContext) -> BatchParser:
    """Values found on the lines' bytes, read once per distinct value in SQL where Arrow has no kernel."""
    queries = _Queries(context.timezone)
    return sliced_parser(context, lambda cursor, part: _outcomes(cursor, queries, part), OUTCOME_LINES)


def _padded(line: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The lines' bytes between zero bytes (_PAD_BEFORE, _PAD_AFTER) and each line's start in them (then
    the end of the last): one copy of the text. The padding ends in two quote marks and an `=` past every line
    (_SENTINELS), so that each quote mark and `=` has a next one to look up."""
    offsets = np.frombuffer(line.buffers()[1], np.int32, len(line) + 1, line.offset * 4)
    text = line.buffers()[2]
    data = np.empty(_PAD_BEFORE + int(offsets[-1] - offsets[0]) + _PAD_AFTER, np.uint8)
    data[:_PAD_BEFORE] = data[-_PAD_AFTER:] = 0
    if text is not None:
        data[_PAD_BEFORE:-_PAD_AFTER] = np.frombuffer(text, np.uint8)[offsets[0]:offsets[-1]]
    data[-len(_SENTINELS):] = np.frombuffer(_SENTINELS, np.uint8)
    return data, (offsets - offsets[0]).astype(np.intp) + _PAD_BEFORE


def _words(data: np.ndarray) -> np.ndarray:
    """The 4-byte little-endian word starting at each byte of `data` (a view, no copy)."""
    return np.ndarray((len(data) - 3,), "<u4", data, 0, (1,))


def _found(line: pa.Array, table: _KeyTable) -> tuple[pa.Array, np.ndarray]:
    """Where the value of each of the `table`'s keys is in each line (none where the line has no such key).
    Positions and key numbers are numpy's index type throughout: an index array of any other type is converted at
    each use."""
    data, offsets = _padded(line)
    words = _words(data)
    equals = np.flatnonzero(data == ord("="))
    quotes = np.flatnonzero(data == ord('"'))
    quotes_from = np.searchsorted(quotes, offsets)
    text_starts = _text_starts(line, data, offsets, quotes, quotes_from)

    # The group of keys each `=` may end, by the word of its three bytes before and itself.
    endings = words[equals - 3]
    slot = ((endings * _HASH) >> np.uint32(32 - _SLOT_BITS)).astype(np.intp)
    group = np.where(table.slot_ending[slot] == endings, table.slot_group[slot], -1)
    if table.tz_group >= 0:
        group[(endings >> np.uint32(8)) == np.uint32(_word("tz="))] = table.tz_group
    candidate = np.flatnonzero(group >= 0)  # in line order
    group = group[candidate]
    ends = equals[candidate]
    # The one key of its group that may end there, told by the byte five before the `=` (see _KeyTable),
    # written whole after a space or an `=`.
    key = table.key_by_byte[group * 256 + data[ends - 5]]
    starts = ends - table.lengths[key]
    before = data[starts - 1]
    keep = table.written(words, starts, key) & ((before == ord(" ")) | (before == ord("=")))
    # The first `=` of each line's text may end a key that starts the text (whatever byte is before it: the
    # PRI's `>`, the line before); none before the text (in a PRI) counts.
    line_first = np.searchsorted(ends, offsets)
    text_first = np.searchsorted(ends, text_starts)
    keep[_ranges(line_first[:-1], text_first)] = False
    lines_with = np.flatnonzero(text_first < line_first[1:])
    first, text_start = text_first[lines_with], text_starts[lines_with]
    short = table.short_key[group[first]]
    at_start = (short >= 0) & (ends[first] - table.lengths[short] == text_start)
    key[first] = np.where(at_start, short, key[first])
    starts[first] = ends[first] - table.lengths[key[first]]
    keep[first] = table.written(words, starts[first], key[first]) & (starts[first] >= text_start) & (
        (before[first] == ord(" ")) | (before[first] == ord("=")) | (starts[first] == text_start))
    keep = np.flatnonzero(keep)
    candidate, key, ends = candidate[keep], key[keep], ends[keep]
    rows = np.repeat(np.arange(len(line)), np.diff(np.searchsorted(ends, offsets)))
    # ... outside quotes: an even number of quote marks before it in its line
    quotes_before = np.searchsorted(quotes, ends)
    keep = np.flatnonzero((quotes_before - quotes_from[rows]) % 2 == 0)
    if len(keep) < len(key):
        candidate, key, ends, rows, quotes_before = (candidate[keep], key[keep], ends[keep], rows[keep],
                                                     quotes_before[keep])
    # Each key's first occurrence in each line: where a key repeats in a line, the write that numpy kept may be
    # any of them, so those lines take the smallest.
    order = np.arange(len(key))
    at = np.full((len(table.keys), len(line)), -1, np.intp)
    cell, flat = key * len(line) + rows, at.reshape(-1)
    flat[cell] = order
    repeated = np.flatnonzero(flat[cell] != order)
    if len(repeated):
        np.minimum.at(flat, cell[repeated], order[repeated])

    # A quoted value runs to the next quote mark in its line (or the line's end); any other to a space, a quote
    # mark or just past the next `=`.
    line_end = offsets[rows + 1]
    is_quoted = data[ends + 1] == ord('"')
    value_starts = ends + 1 + is_quoted
    value_ends = line_end
    quoted, unquoted = np.flatnonzero(is_quoted), np.flatnonzero(~is_quoted)
    value_ends[quoted] = np.minimum(quotes[quotes_before[quoted] + 1], line_end[quoted])  # (padding's: past the line)
    buffer = pa.py_buffer(data)
    if len(unquoted):
        # up to the first space: found in a string array over the lines' bytes whose items run from one such
        # value's start to the next one's (no copy; the search stops at the first space)
        starts = value_starts[unquoted]
        stops = np.maximum(np.minimum(np.minimum(quotes[quotes_before[unquoted]], equals[candidate[unquoted] + 1] + 1),
                                      line_end[unquoted]), starts)
        bounds = np.append(starts, stops[-1]).astype(np.int32)
        space = pc.find_substring(pa.StringArray.from_buffers(len(starts), pa.py_buffer(bounds), buffer), " ")
        space = space.to_numpy()
        value_ends[unquoted] = np.where((space >= 0) & (space < stops - starts), starts + space, stops)
    value_ends = np.maximum(value_ends, value_starts)
    return _between(buffer, value_starts, value_ends), at


def _ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """The numbers from each start up to its stop, together (none where a stop is not past its start)."""
    counts = np.maximum(stops - starts, 0)
    total = int(counts.sum())
    if not total:
        return np.zeros(0, np.intp)
    return np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)


def _between(buffer: pa.Buffer, starts: np.ndarray, ends: np.ndarray) -> pa.Array:
    """The text of `buffer` from each start to its end (item 2i) and from each end to the next start (item
    2i + 1), without a copy. The spans are in order; an end past the next start (which no value's end is: each
    stops at the next key's `=`, or at a closing quote mark before it) is cut there."""
    if not len(starts):
        return pa.array([], pa.string())
    bounds = np.empty(2 * len(starts), np.int32)
    bounds[0::2], bounds[1::2] = starts, ends
    bounds[1:-1:2] = np.minimum(bounds[1:-1:2], bounds[2::2])
    return pa.StringArray.from_buffers(len(bounds) - 1, pa.py_buffer(bounds), buffer)


class _Found:
    """Each key's value in each line of a batch, found SLICE_LINES lines at a time (see `_found`)."""

    def __init__(self, lines: pa.ChunkedArray, queries: _Queries) -> None:
        # per slice, each key's values (every second item: see `_between`) and where in them each line's value is
        self.parts: list[dict[str, tuple[pa.Array, np.ndarray]]] = []
        for start in range(0, max(len(lines), 1), SLICE_LINES):
            line = one_array(lines.slice(start, SLICE_LINES))
            table = _ALL_KEYS if queries.local_time_usual else _KEYS
            values, at = _found(line, table)
            part = {key: (values, at[number]) for number, key in enumerate(table.keys)}
            without_eventtime = at[table.keys.index("eventtime")] < 0
            # (a hint for the next slice, set by either parsing thread)
            queries.local_time_usual = np.count_nonzero(without_eventtime) > len(line) // 2
            if table is _KEYS and without_eventtime.any():
                part.update(_local_time(line, np.flatnonzero(without_eventtime)))
            self.parts.append(part)

    def value(self, key: str, where: pa.Array | None = None) -> pa.Array:
        """Per line, the value of `key` as text (null where the line has none, or where `where` is not true)."""
        keep = None if where is None else pc.fill_null(where, False).to_numpy(zero_copy_only=False)
        pieces, start = [], 0
        for part in self.parts:
            values, at = part[key] if key in part else (None, np.full(len(part["type"][1]), -1, np.intp))
            if keep is not None:
                at = np.where(keep[start:start + len(at)], at, -1)
            start += len(at)
            missing = at < 0
            pieces.append(pa.nulls(len(at), pa.string()) if missing.all() else
                          values.take(pa.array(2 * at, mask=missing if missing.any() else None)))
        return pieces[0] if len(pieces) == 1 else pa.concat_arrays(pieces)


def _local_time(line: pa.Array, rows: np.ndarray) -> dict[str, tuple[pa.Array, np.ndarray]]:
    """`date`, `time` and `tz` of some of the lines (those without `eventtime`), read on those lines only."""
    values, at = _found(line.take(pa.array(rows)), _LOCAL_TIME_KEYS)
    spread = np.full((len(LOCAL_TIME_KEYS), len(line)), -1, np.intp)
    spread[:, rows] = at
    return {key: (values, spread[number]) for number, key in enumerate(LOCAL_TIME_KEYS)}


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
    first_quote = np.minimum(quotes[quotes_from[with_pri]], line_end)  # (the padding's quote marks: past the line)
    cut = (closing >= 0) & (line_start + closing < first_quote)
    starts[with_pri[cut]] = (line_start + closing + 1)[cut]
    return starts


def _outcomes(connection: duckdb.DuckDBPyConnection, queries: _Queries, lines: pa.Table) -> pa.Table:
    """The lines' events, rejects (reject_reason) and ignored lines (is_ignored)."""
    found = _Found(lines.column("line"), queries)
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
        "ts": _times(connection, queries, eventtime, *(value(key, no_eventtime) for key in LOCAL_TIME_KEYS)),
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
