"""Cisco Umbrella Cloud-Delivered Firewall and IP logs as exported to S3 (`cloudfirewalllogs/`, `iplogs/`): CSV,
every field double-quoted, times in UTC; the optional log header row is counted as ignored. The DNS and web
(proxy) exports of the same family are read by umbrella.py.

`umbrella_firewall` (Cloud Firewall Log Formats,
https://docs.umbrella.com/umbrella-user-guide/docs/cloud-firewall-log-formats, and the v10 field list of
https://docs.sse.cisco.com/sse-user-guide/docs/cloud-firewall-log-formats):
    "timestamp","origin IDs","identities","identity type","direction","protocol","packet size","source IP",
    "source port","destination IP","destination port","data center","rule ID","action"[,"fqdns",
    "destination list IDs"[,"first packet timestamp","last packet timestamp","packets sent","packets received",
    "bytes sent","bytes received", ...]]
The first versions end at the action or after the destination list IDs; v10 and later add the flow's packet and
byte counts. `bytes sent` (what the source sent) is bytes_out and `bytes received` bytes_in; layouts without
them leave both null: the older `packet size` is the size of one packet, not what the client uploaded. The
protocol is written as a name (`TCP`) or as its IANA number (`6`, as in Elastic's test logs): both read as
ip_protocols names it. Only TCP, UDP and SCTP have ports. The first and last packet times (epoch seconds)
give the flow's duration. Lines written without any quote (seen in Elastic's cisco_umbrella test logs) are read
with every comma as a separator. `fqdns` is a list of names without a stated relation to the flow, so the
host stays null: the flow is named through DNS answers like the other firewall formats' flows.

`umbrella_ip` (IP logs of the IP-layer enforcement, field order of Elastic's cisco_umbrella pipeline,
https://github.com/elastic/integrations/tree/main/packages/cisco_umbrella):
    "timestamp","identity","source IP","source port","destination IP","destination port","categories"
No action (unknown), no protocol, no bytes; a port 0 (written for flows without ports) is none. The identity's
type is not logged, so no user is taken from it (it may be a computer or a network).

Umbrella's categories (`categories`) are kept as vendor_category, as logged. Users: as in umbrella.py, only an
identity whose type says user (`AD Users` ...) is one, pairing the identities list with the types list where
both have the same length; a single identity typed as user is taken whole (an AD label may hold a comma).

Speed (`python benchmarks/ingest.py --lines 1000 --formats umbrella_firewall --format-lines 1000000 --no-regex
--per-sample`, load 5-8, CPU seconds shadow-ai / generic DuckDB): before the users decided per distinct pair of
codes and the RE2 quote check, basic 2.66 / 1.18 (0.44), with_header 2.56 / 1.10 (0.43); after, runs of 2.52-2.62
/ 1.16-1.30 (0.46-0.50) and 2.23-2.53 / 0.97-0.99 (0.39-0.44). The largest costs of that Arrow reading (`_Fields`,
still umbrella_ip's) were umbrella.py's split and its dictionary of every field (~40 % of the parse), then
rewriting spaced separators and unquoted lines over the whole slice (~25 %). The firewall lines are now read by a
compiled kernel (`_Scanned`, umbrella_scan.py: one pass over each line's bytes; spaced lines alone rewritten, in
the kernel) whose fields texts_scan.DistinctTexts numbers per distinct text, reading the counts' plain digits in
the same pass. CPU of the whole `shadow-ai ingest` of 1M lines (Numba's import and kernel load, ~0.5 s a process,
included), interleaved, 3 runs each, load 9-12: basic 2.98-3.17 -> 2.23-2.41 s, with_header 2.80-3.02 -> 1.84-2.15.
The benchmark above after it (two runs, load 6-8): basic 2.04-2.19 / 1.15-1.19 (0.55-0.56 by CPU), with_header
1.83-1.91 / 1.02-1.06 (0.55-0.56). What a profile of that ingest still shows: imports (~35 %, Numba's ~0.3 s of
them), this parse (~30 %: the kernel's pass over the bytes about half of it, the numbering a sixth), the reader's
line split (~14 %) and the lake's writes (~11 %).
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, one_array, only_where
from detector.ingest.base import BatchParser, Format, ParseContext, line_share
from detector.ingest.distinct_sql import BIGINT_SQL, encoded, plain, sliced_parser, through
from detector.ingest.ip_protocols import protocol_name_sql
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.umbrella import _Fields as umbrella_fields
from detector.schema import TIMESTAMP

_HEADER_WORDS = "('timestamp', 'time', 'date', 'datetime')"
TIME_SQL = f"""
select lower(trim(value)) in {_HEADER_WORDS} as is_header,
    timezone('UTC', try_strptime(trim(value), '%Y-%m-%d %H:%M:%S')) as ts
from distinct_values
"""
PROTOCOL_SQL = f"""
select nullif({protocol_name_sql("p")}, '') as value
from (select lower(trim(value)) as p from distinct_values)
"""
# identities and their types joined by chr(31), one key per distinct combination
USER_SQL = """
select case
        when types ilike '%user%' and not contains(types, ',') then nullif(trim(ids), '')
        when types ilike '%user%' and len(string_split(ids, ',')) = len(string_split(types, ','))
            then trim(list_filter(list_zip(string_split(ids, ','), string_split(types, ',')),
                                  lambda x: lower(x[2]) like '%user%')[1][1])
    end as value
from (select split_part(value, chr(31), 1) as ids, split_part(value, chr(31), 2) as types from distinct_values)
"""
VERDICT_SQL = """
select case when upper(trim(value)) like 'ALLOW%' then 'allowed' when upper(trim(value)) like 'BLOCK%' then 'blocked'
            else 'unknown' end as value
from distinct_values
"""
TEXT_SQL = "select nullif(trim(value), '') as value from distinct_values"
PORT_SQL = "select case when p between 0 and 65535 then p end as value from " \
           "(select try_cast(trim(value) as integer) as p from distinct_values)"

# Cisco's own examples put a space after some separating commas (`"Passive Monitor", "CDFW Tunnel Device"`).
_SPACED_SEPARATOR = r'"[ \t]*,[ \t]*"'
_SPACE_AT_SEPARATOR = r'"(?:[ \t]+,[ \t]*|,[ \t]+)"'
_PORTED = ("tcp", "udp", "sctp")


class _Queries:
    """The per-distinct queries of one file's parse, each remembering its answers across the batches."""

    def __init__(self) -> None:
        self.time = DistinctQuery(TIME_SQL)
        self.protocol = DistinctQuery(PROTOCOL_SQL)
        self.user = DistinctQuery(USER_SQL)
        self.verdict = DistinctQuery(VERDICT_SQL)
        self.text = DistinctQuery(TEXT_SQL)
        self.port = DistinctQuery(PORT_SQL)
        self.bigint = DistinctQuery(BIGINT_SQL)


def _plain_separators(text: pa.Array) -> pa.Array:
    """Separators written with spaces made plain: the usual one space by a literal replacement (a fraction of a
    regular expression's cost), other runs of blanks by the expression."""
    for spaced in ('", "', '" ,"'):
        text = pc.replace_substring(text, spaced, '","')
    left = pc.fill_null(pc.match_substring_regex(text, _SPACE_AT_SEPARATOR), False)
    if pc.any(left).as_py():
        text = pc.replace_with_mask(text, left, pc.replace_substring_regex(text.filter(left), _SPACED_SEPARATOR, '","'))
    return text


class _Fields:
    """A slice of lines as quoted fields, split by umbrella.py's reader (one dictionary for all the columns): lines
    whose separators have spaces made plain first, lines without any quote quoted at every comma. Only the first
    `columns` fields are split (the layouts' later fields are not read)."""

    def __init__(self, lines: pa.Table, columns: int) -> None:
        text = one_array(lines.column("line"))
        spaced = pc.fill_null(pc.match_substring_regex(text, _SPACE_AT_SEPARATOR), False)
        if pc.any(spaced).as_py():
            text = pc.replace_with_mask(text, spaced, _plain_separators(text.filter(spaced)))
        opening = pc.fill_null(pc.starts_with(text, '"'), False)
        self.bare = pa.repeat(pa.scalar(False), len(text))
        if not pc.all(opening).as_py():  # (a quote elsewhere is looked for only in lines not opening with one)
            # (RE2 finds a literal character by memchr: a third of match_substring's CPU over the bare lines)
            self.bare = pc.and_(pc.invert(opening),
                                pc.invert(pc.fill_null(pc.match_substring_regex(text, '"'), False)))
            if pc.any(self.bare).as_py():
                text = pc.replace_with_mask(text, self.bare, pc.binary_join_element_wise(
                    '"', pc.replace_substring(text.filter(self.bare), ",", '","'), '"', ""))
        self._fields = umbrella_fields(lines.set_column(lines.schema.get_field_index("line"), "line",
                                                        pa.chunked_array([text])), columns)
        self.quoted, self.count, self.rows = self._fields.quoted, self._fields.count, self._fields.rows

    def column(self, at: int) -> pa.DictionaryArray:
        """Field `at` (0-based) of each line, dictionary-encoded, without the line's outer quotes (and trailing
        blanks) where it is the first or last; null where a line has no such field."""
        values = self._fields.encoded(at)
        return pa.DictionaryArray.from_arrays(values.indices, pc.utf8_trim(values.dictionary, '" \t\r'))


class _Scanned:
    """A slice of lines read as `_Fields` reads them, by a compiled kernel (umbrella_scan.csv_spans: one pass over
    each line's bytes, no copy of its fields) whose spans texts_scan.DistinctTexts numbers by their texts: the
    `texts` columns (0-based) as dictionary arrays, the `numbers` columns as int64 (plain digits read in the same
    pass; other texts through BIGINT_SQL, as before). Lines with blanks at a separator have them made plain
    (umbrella_scan.plain_separators, as `_plain_separators` does, only those lines) and are split again."""

    def __init__(self, lines: pa.Table, texts: tuple[int, ...], numbers: tuple[int, ...]) -> None:
        from detector.ingest import texts_scan, umbrella_scan

        read = texts + numbers
        self._slot = {column: slot for slot, column in enumerate(read)}
        slot_of_column = np.full(max(read) + 1, -1, np.int64)
        slot_of_column[list(read)] = np.arange(len(read))
        is_number = np.array([column in numbers for column in read], np.bool_)
        self.rows = rows = lines.num_rows
        count, quoted, bare = np.empty(rows, np.int32), np.empty(rows, np.bool_), np.empty(rows, np.bool_)
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, slice | np.ndarray]] = []

        def scan(data: np.ndarray, offsets: np.ndarray, at: slice | np.ndarray, spaced_check: bool) -> np.ndarray:
            size = len(offsets) - 1
            begin, end = np.empty((size, len(read)), np.int32), np.empty((size, len(read)), np.int32)
            missing, spaced = np.empty((size, len(read)), np.bool_), np.empty(size, np.bool_)
            line_count, line_quoted, line_bare = np.empty(size, np.int32), np.empty(size, np.bool_), \
                np.empty(size, np.bool_)
            umbrella_scan.csv_spans(data, offsets, slot_of_column, is_number, spaced_check, begin, end, missing,
                                    line_count, line_quoted, line_bare, spaced)
            count[at], quoted[at], bare[at] = line_count, line_quoted, line_bare
            parts.append((data, begin, end, missing, at))
            return spaced

        start = 0
        for chunk in lines.column("line").chunks:
            _, data, offsets = line_bytes(chunk)
            spaced = scan(data, offsets, slice(start, start + len(chunk)), True)
            if spaced.any():  # (their spans in the chunk's part are all missing: numbered as none, then overwritten)
                at = np.flatnonzero(spaced)
                lengths = offsets[at + 1] - offsets[at]
                out, out_offsets = np.empty(int(lengths.sum()), np.uint8), np.empty(len(at) + 1, np.int64)
                longest = int(lengths.max())
                umbrella_scan.plain_separators(data, offsets, at, out, out_offsets, np.empty(longest, np.uint8),
                                               np.empty(longest, np.uint8))
                scan(out, out_offsets, at + start, False)
            start += len(chunk)
        self.count, self.quoted, self.bare = pa.array(count), pa.array(quoted), pa.array(bare)

        distinct = texts_scan.DistinctTexts()
        text_slots = np.arange(len(texts), dtype=np.int64)
        number_slots = np.arange(len(texts), len(read), dtype=np.int64)
        self._codes = np.empty((len(texts), rows), np.int32)
        self._values = np.empty((len(numbers), rows), np.int64)
        self._absent = np.empty((len(numbers), rows), np.bool_)
        plain_digits = np.ones(len(numbers), np.bool_)
        for data, begin, end, missing, at in parts:
            codes, values, plain_part = distinct.read(data, begin, end, missing, text_slots, number_slots)
            self._codes[:, at], self._values[:, at] = codes, values
            self._absent[:, at] = missing[:, len(texts):].T
            plain_digits &= plain_part
        self._dictionaries = distinct.dictionaries(len(texts))
        self._parts, self._texts = parts, texts
        self._not_digits = {column for column, plain_part in zip(numbers, plain_digits, strict=True) if not plain_part}
        self._encoded: dict[int, pa.DictionaryArray] = {}

    def column(self, at: int) -> pa.DictionaryArray:
        """Text column `at` (0-based) of each line, dictionary-encoded, trimmed; null where a line has none."""
        if at not in self._encoded:
            codes = self._codes[self._slot[at]]
            absent = codes < 0
            self._encoded[at] = pa.DictionaryArray.from_arrays(
                pa.array(codes, mask=absent if absent.any() else None), self._dictionaries[self._slot[at]])
        return self._encoded[at]

    def number(self, connection: duckdb.DuckDBPyConnection, queries: _Queries, at: int) -> pa.Array:
        """Number column `at` as int64 (`try_cast(... as bigint)` of its text); null where a line has none."""
        if at not in self._not_digits:
            absent = self._absent[self._slot[at] - len(self._texts)]
            return pa.array(self._values[self._slot[at] - len(self._texts)], pa.int64(),
                            mask=absent if absent.any() else None)
        from detector.ingest import texts_scan

        distinct, codes = texts_scan.DistinctTexts(), np.empty(self.rows, np.int32)
        slot = np.array([self._slot[at]], np.int64)
        for data, begin, end, missing, rows in self._parts:
            codes[rows] = distinct.read(data, begin, end, missing, slot, np.empty(0, np.int64))[0][0]
        # (the kernel's "missing" for an empty number: its text, '', would read as none too)
        text = pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), distinct.dictionaries(1)[0])
        return _bigints(connection, queries, text)


def _parser(columns: Callable[[duckdb.DuckDBPyConnection, _Queries, pa.Table], pa.Table]
            ) -> Callable[[ParseContext], BatchParser]:
    def new_parser(context: ParseContext) -> BatchParser:
        queries = _Queries()
        return sliced_parser(context, lambda cursor, part: columns(cursor, queries, part))

    return new_parser


def _reasons(rows: int, *checks: tuple[pa.Array, str | Callable[[], pa.Array]]) -> pa.Array:
    """The first reason whose condition holds (null: the line parsed); conditions are masks, null = false."""
    reason = pa.nulls(rows, pa.string())
    for condition, text in reversed(checks):
        condition = pc.fill_null(condition, False)
        if pc.any(condition).as_py():
            reason = pc.if_else(condition, text() if callable(text) else text, reason)
    return reason


def _head(connection: duckdb.DuckDBPyConnection, queries: _Queries, fields: _Fields | _Scanned, layout: str,
          least: int,
          ) -> tuple[pa.Array, pa.Array, pa.Array]:
    """The time, whether the line is the header, and the reasons every layout checks first."""
    times = through(connection, queries.time, fields.column(0))
    is_header, ts = pc.fill_null(times["is_header"], False), pc.cast(times["ts"], TIMESTAMP)
    reason = _reasons(
        fields.rows,
        (pc.invert(fields.quoted), "not a quoted CSV line"),
        (pc.is_null(ts), lambda: pc.binary_join_element_wise(
            "timestamp is not yyyy-mm-dd hh:mm:ss: ", plain(fields.column(0)), "")),
        (pc.less(fields.count, least), lambda: pc.binary_join_element_wise(
            f"expected at least {least} columns (Umbrella {layout} layout), found ",
            pc.cast(fields.count, pa.string()), "")),
    )
    return ts, is_header, reason


def _with_destination(reason: pa.Array, dst_ip: pa.Array) -> pa.Array:
    """A flow without a destination address says nothing about where traffic went: a reject."""
    return pc.coalesce(reason, pc.if_else(pc.is_null(dst_ip), pa.scalar("empty destination IP"),
                                          pa.scalar(None, pa.string())))


def _bigints(connection: duckdb.DuckDBPyConnection, queries: _Queries, values: pa.DictionaryArray) -> pa.Array:
    return pc.cast(through(connection, queries.bigint, values)["value"], pa.int64())


def _users(connection: duckdb.DuckDBPyConnection, queries: _Queries, identities: pa.DictionaryArray,
           types: pa.DictionaryArray) -> pa.DictionaryArray:
    """The user of each line, its identities and their types joined for each distinct pair of their codes
    (not for every line: decoding and joining every line's texts cost ~6 % of a parse)."""
    width = len(types.dictionary) + 1
    pair = pc.add(pc.multiply(pc.cast(identities.indices, pa.int64()), width), pc.cast(types.indices, pa.int64()))
    pairs = pc.dictionary_encode(pair)  # (null where either is: the joined text was null there too)
    first, second = pc.divide(pairs.dictionary, width), pc.subtract(pairs.dictionary, pc.multiply(
        pc.divide(pairs.dictionary, width), width))
    key = pc.binary_join_element_wise(identities.dictionary.take(first), types.dictionary.take(second), chr(31))
    return through(connection, queries.user, encoded(key))["value"].take(pairs.indices)


def _firewall_columns(connection: duckdb.DuckDBPyConnection, queries: _Queries, lines: pa.Table) -> pa.Table:
    """Umbrella cloud firewall lines -> schema columns plus reject_reason / is_ignored."""
    fields = _Scanned(lines, texts=(0, 2, 3, 5, 7, 9, 10, 13), numbers=(16, 17, 20, 21))
    ts, is_header, reason = _head(connection, queries, fields, "cloud firewall", 14)
    protocol = through(connection, queries.protocol, fields.column(5))["value"]
    ported = pc.is_in(protocol.dictionary, value_set=pa.array(_PORTED)).take(protocol.indices)
    dst_ip = through(connection, queries.text, fields.column(9))["value"]
    # the flow's counts (v10 on); in a line written without quotes a comma inside the fqdns list shifts them
    counted = pc.and_(pc.greater_equal(fields.count, 22), pc.invert(fields.bare))
    first, last = (fields.number(connection, queries, at) for at in (16, 17))
    duration = pc.multiply(pc.subtract(last, first), 1000)
    return pa.table({
        "line_no": lines.column("line_no"),
        "reject_reason": _with_destination(reason, dst_ip),
        "is_ignored": is_header,
        "ts": ts,
        "src_ip": through(connection, queries.text, fields.column(7))["value"],
        "user_name": _users(connection, queries, fields.column(2), fields.column(3)),
        "dst_ip": dst_ip,
        "dst_port": pc.cast(only_where(through(connection, queries.port, fields.column(10))["value"], ported),
                            pa.int32()),
        "network_protocol": protocol,
        "action": through(connection, queries.verdict, fields.column(13))["value"],
        "bytes_out": only_where(fields.number(connection, queries, 20), counted),
        "bytes_in": only_where(fields.number(connection, queries, 21), counted),
        "duration_ms": only_where(duration, pc.and_(counted, pc.greater_equal(duration, 0))),
    })


def _ip_columns(connection: duckdb.DuckDBPyConnection, queries: _Queries, lines: pa.Table) -> pa.Table:
    """Umbrella IP lines -> schema columns plus reject_reason / is_ignored."""
    fields = _Fields(lines, columns=7)
    ts, is_header, reason = _head(connection, queries, fields, "IP", 7)
    dst_ip = through(connection, queries.text, fields.column(4))["value"]
    port = through(connection, queries.port, fields.column(5))["value"]
    return pa.table({
        "line_no": lines.column("line_no"),
        "reject_reason": _with_destination(reason, dst_ip),
        "is_ignored": is_header,
        "ts": ts,
        "src_ip": through(connection, queries.text, fields.column(2))["value"],
        "dst_ip": dst_ip,
        "dst_port": pc.cast(only_where(port, pc.greater(port, 0)), pa.int32()),
        "action": pa.repeat(pa.scalar("unknown"), fields.rows),
        "vendor_category": through(connection, queries.text, fields.column(6))["value"],
    })


_QUOTED_TIME = r'"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d",'
_TIME = r'(?:"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),'
_IP = r'"[0-9A-Fa-f.:]+"'

FIREWALL = Format(
    name="umbrella_firewall",
    source_kind="firewall",
    summary="Cisco Umbrella cloud-delivered firewall log, S3 CSV export (all layout versions)",
    sniff=line_share(_TIME + r'(?:(?: *"[^"]*",){3} *"[A-Z]*BOUND", *"[^"]*", *"\d*", *"[0-9A-Fa-f.:]*",'
                             r'|(?:[^,"]*,){3}[A-Z]*BOUND,[^,"]*,\d*,[0-9A-Fa-f.:]*,)'),
    new_parser=_parser(_firewall_columns),
    independent_batches=True,
    fields=("ts", "src_ip", "user_name", "dst_ip", "dst_port", "network_protocol", "action", "bytes_out",
            "bytes_in", "duration_ms"),
)

IP = Format(
    name="umbrella_ip",
    source_kind="firewall",
    summary="Cisco Umbrella IP log (IP-layer enforcement), S3 CSV export",
    sniff=line_share(_QUOTED_TIME + rf' *"[^"]*", *{_IP}, *"\d*", *{_IP}, *"\d*", *"[^"]*"\s*$'),
    new_parser=_parser(_ip_columns),
    independent_batches=True,
    fields=("ts", "src_ip", "dst_ip", "dst_port", "action", "vendor_category"),
)
