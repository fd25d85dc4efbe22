"""Windows Server DNS debug log (dns.log, "Log packets for debugging"), the text packet log.

The server documents its own layout in the `Message logging key` block at the top of the file:
    DATE TIME [AM|PM] THREAD PACKET PACKET-ID UDP|TCP Snd|Rcv REMOTE-IP XID [R] OPCODE
    [FLAGS-HEX FLAG-CHARS RCODE] QTYPE QNAME
(fields after `PACKET` up to the opcode are single words padded with spaces; any run of spaces separates them,
as some servers write `UDP  Snd`)
e.g. `6/5/2013 10:00:32 AM 0E70 PACKET  00000000033397A0 UDP Rcv 10.0.0.5   4a3f   Q [0001   D   NOERROR] A
(7)chatgpt(3)com(0)`. QNAME is length-prefixed labels; `(n)` becomes a dot. `R` marks a response.
The header block, blank lines, the indented packet details (`Log packets` with "Details") and
server events (`EVENT`, `Note:`) are ignored; a PACKET line that does not fit is rejected.
Events: a query received from a client (`Rcv`, no `R`, opcode Q; action `unknown`) and a response sent
to a client (`Snd R Q`; `allowed`, or `blocked` when REFUSED, which a DENY query-resolution policy
gives). A response is joined to the latest query before it from the same address with the same XID,
type and name, and then counted as ignored, so that a lookup is one event carrying the response code;
a response without such a query (incoming packets not logged, or the query more than `PAIR_LINES`
lines before) is an event itself. A batch boundary between the two does not matter: each batch is
parsed with the `PAIR_LINES` lines before and after it (`Format.context_lines`). Packets to and from
forwarders/root servers (`Snd` queries, `Rcv` responses) and notify/update opcodes are ignored.

Dates follow the server's regional format. Accepted: `M/D/YYYY` and `D/M/YYYY` (also `-` and `.`
separators, 2-digit years), `YYYY-M-D`, `YYYY/M/D`, `YYYYMMDD`, with a 12-hour `AM`/`PM` or 24-hour
time. Day-first or month-first is decided per file: a first number above 12 means day first, a
second number above 12 means month first, learned from the first batch that shows one (and not the
other) and kept for the rest of the file. Until then the locale's clock decides: `/` with AM/PM is
month first (en-US, the Windows default), anything else is day first (en-GB and fr-FR
`05/06/2013 10:00:32`, nl-NL `5-6-2013`, de-DE `05.06.2013`). Locales that write the AM/PM marker before the
time (ko-KR `2013-06-05 오후 3:00:32`, zh-TW `下午`, ja-JP `午後`) are read too. Times are local to the configured
zone.

The same lines forwarded through syslog (NXLog, Snare or a relay reading dns.log) carry a header before them: BSD or
ISO `time host [tag[pid]: ]` (RFC 3164 allows a message without a tag) or RFC 5424's. It is taken off where the
log's own date (or a detail line's indent) follows it (SYSLOG_HEAD), and the line read as the server wrote it, with
its own time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, dictionary_array, list_item, space_trimmed
from detector.ingest.base import Format, HeaderedParser, ParseContext, ParseResult, attach_lines, parse_cursor
from detector.ingest.distinct_sql import sql_literal
from detector.ingest.row_edits import with_rows
from detector.ingest.syslog import BSD_TIME, ISO_TIME, may_have_header

# How many lines may separate a query from its response and still be joined across a batch boundary.
PAIR_LINES = 4096

MALFORMED = "PACKET line not understood (expected the layout of the Message logging key)"
NOT_THIS_LOG = "not a Windows DNS debug log line"

# Lines of the log that are no packet: the header block, packet details (indented, or `UDP question info
# at ...`), server events (`DATE TIME THREAD EVENT ...`) and notes. (`\s`: RE2's ASCII white space.)
OTHER_LINE = (r"^(?:\s|DNS Server log file|Log file wrap|Message logging key|Note:"
              r"|(?:UDP|TCP) (?:question|response) info at "
              r"|\S+ \d{1,2}:\d{2}:\d{2}(?: [AaPp]\.?[Mm]\.?)? +[0-9A-Fa-f]+ +[A-Z])")

# Which number of an ambiguous date is the day: learned from dates whose day is above 12.
# Read from the distinct dates (first words) of a batch's PACKET lines, registered as `distinct_values`.
ORDER_EVIDENCE = r"""
select max(try_cast(split_part(d, '/', 1) as integer)) as first,
    max(try_cast(split_part(d, '/', 2) as integer)) as second
from (select translate(value, '.-', '//') as d from distinct_values)
where length(split_part(d, '/', 1)) <= 2
"""


NUMBERS_TO_TIMES = r"""
numbers as (
    select *,
        -- n1, n2: day and month when the year comes first (or YYYYMMDD); the file's order decides otherwise.
        len(d) = 1 or length(d[1]) = 4 as year_first,
        coalesce($order, case when contains(date_text, '/') and ampm is not null then 'mdy' else 'dmy' end) = 'dmy'
            as day_first,
        try_cast(case when len(d) = 1 then left(date_text, 4) when length(d[1]) = 4 then d[1] else d[3] end
            as integer) as y,
        try_cast(case when len(d) = 1 then substr(date_text, 5, 2) else d[2] end as integer) as n2,
        try_cast(case when len(d) = 1 then substr(date_text, 7, 2) when length(d[1]) = 4 then d[3] else d[1] end
            as integer) as n1,
        try_cast(hms[1] as integer) % case when ampm is null then 24 else 12 end
            + case when ampm = 'P' then 12 else 0 end as hour
    from stamps
),
calendar as (
    select *,
        case when y < 100 then 2000 + y else y end as year,
        case when year_first or day_first then n2 else n1 end as month,
        case when year_first or day_first then n1 else n2 end as day
    from numbers
),
times as (
    -- Checked before make_timestamp: a row that raises (6/31) would make DuckDB retry its whole vector slowly.
    select date_text, time_text, ampm,
        case when month between 1 and 12 then
            case when day between 1 and day(last_day(make_date(year, month, 1))) and hour between 0 and 23
                and try_cast(hms[2] as integer) between 0 and 59 and try_cast(hms[3] as double) between 0 and 60.999
            then
                timezone($tz, make_timestamp(year, month, day, hour,
                    try_cast(hms[2] as integer), try_cast(hms[3] as double)))
            end
        end as ts
    from calendar
)
"""


def stamp_query(timezone: str, order: str | None) -> str:
    """Per distinct stamp (a packet line's text before ` PACKET `: `DATE TIME [AM|PM] THREAD`), in their
    order: its date as written, whether it has a time, and the time (see `numbers` for the date orders)."""
    return (r"""
with stamps as (
    select date_text, time_text, ampm,
        string_split(translate(date_text, '.-', '//'), '/') as d,
        string_split(time_text, ':') as hms
    from (select s[1] as date_text, case when s[2] in @BEFORE@ then s[3] else s[2] end as time_text,
            case when upper(s[3]) in ('AM', 'PM', 'A.M.', 'P.M.') then upper(left(s[3], 1))
                when s[2] in @BEFORE_AM@ then 'A' when s[2] in @BEFORE_PM@ then 'P' end as ampm
        from (select string_split(value, ' ') as s from distinct_values))
),
""" + NUMBERS_TO_TIMES + """
select date_text, time_text is not null as has_time, ts from times
""").replace("$order", sql_literal(order) + "::varchar" if order else "null::varchar").replace(
        "$tz", sql_literal(timezone)).replace("@BEFORE_AM@", _sql_list(MERIDIEM_BEFORE_AM)).replace(
        "@BEFORE_PM@", _sql_list(MERIDIEM_BEFORE_PM)).replace("@BEFORE@", _sql_list(
            MERIDIEM_BEFORE_AM + MERIDIEM_BEFORE_PM))


# Locales whose clock puts the AM/PM marker before the time (Windows' ko-KR `tt h:mm:ss`, `오후 3:03:06`; zh-TW
# `tt hh:mm:ss`, `下午 03:03:06`; ja-JP with a 12-hour clock, `午後 3:03:06`): the stamp is `DATE MARKER TIME THREAD`.
MERIDIEM_BEFORE_AM = ("오전", "上午", "午前")
MERIDIEM_BEFORE_PM = ("오후", "下午", "午後")


def _sql_list(words: tuple[str, ...]) -> str:
    return "(" + ", ".join(sql_literal(word) for word in words) + ")"


# Per distinct text after `]` (`QTYPE<padding> QNAME`): the type, whether both are there, and the name as a
# host: `(7)chatgpt(3)com(0)`, each `(n)` a dot.
TAILS = r"""
select qtype, upper(qtype) as dns_qtype, qname_raw <> '' and qtype <> qname_raw as complete,
    clean_host(substr(regexp_replace(qname_raw, '\(\d+\)', '.', 'g'), 2)) as qname
from (select tail[1] as qtype, tail[-1] as qname_raw
    from (select string_split(ltrim(value), ' ') as tail from distinct_values))
"""


def new_parser(context: ParseContext) -> HeaderedParser:
    """Batches parsed under the file's date order once a batch has settled it (the state carried in file
    order; None until then), each distinct time stamp's time and query name's name read once per file."""
    stamps: dict[str | None, DistinctQuery] = {}  # per date order: set at most twice per file
    tails = DistinctQuery(TAILS)

    def carry(lines: pa.Table, order: str | None) -> str | None:
        if order is not None:
            return order
        rows, parts = at_packet(_text(lines))
        with parse_cursor(context.connection) as cursor:
            return order_of_dates(cursor, _first_words(pc.unique(_part(parts, rows, 0))))

    def parse(lines: pa.Table, order: str | None) -> ParseResult:
        text = _text(lines)
        rows, parts = at_packet(text)
        stamp, after = pc.dictionary_encode(_part(parts, rows, 0)), _part(parts, rows, 1)
        with parse_cursor(context.connection) as cursor:
            if order is None:
                order = order_of_dates(cursor, _first_words(stamp.dictionary))
            if order not in stamps:
                stamps[order] = DistinctQuery(stamp_query(context.timezone, order))
            packets = Packets(cursor, stamp, after, stamps[order], tails)
        line_no = lines.column("line_no").combine_chunks()
        return packets.outcomes(line_no.take(pa.array(rows)), _other_lines(text, rows, line_no), lines)

    return HeaderedParser(start=None, carry=carry, parse=parse)


def _text(lines: pa.Table) -> pa.Array:
    column = lines.column("line")
    return unwrapped(column.chunk(0) if column.num_chunks == 1 else column.combine_chunks())


# A syslog header before a line of the log (see the module docstring): BSD or ISO time, one or two host words (a
# relay may add its address; no more, or words of a message would pass for them) and an optional
# `tag[pid]: `, or RFC 5424's seven fields; then what a line of the log starts with (kept: group 1), a date
# (`6/5/2013 `, `05.06.2013 `, `2013-06-05 `, `20130605 `) or the indent of a packet's details.
_HEADS = (rf"(?:<\d{{1,3}}> ?)?(?:{BSD_TIME}|{ISO_TIME})(?: \S+){{0,2}}? (?:[^\s\[\]:]+(?:\[[^\]]*\])?: +)?"
          r"|<\d{1,3}>1 \S+ \S+ \S+ \S+ \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+) ")
SYSLOG_HEAD = rf"^(?:{_HEADS})(\d{{1,4}}[/.-]\d{{1,2}}[/.-]\d{{1,4}} |\d{{8}} |\s)"
# a header with its tag before any other line of the log (its header block, events, notes): taken off too
TAGGED_HEAD = (rf"^(?:(?:<\d{{1,3}}> ?)?(?:{BSD_TIME}|{ISO_TIME})(?: \S+)*? [^\s\[\]:]+(?:\[[^\]]*\])?: +"
               r"|<\d{1,3}>1 \S+ \S+ \S+ \S+ \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+) )")


def unwrapped(text: pa.Array) -> pa.Array:
    """The lines without a syslog header before them (SYSLOG_HEAD, else TAGGED_HEAD), looked for only on the lines
    whose first bytes may start a header (syslog.may_have_header), of those starting with a date only the ISO
    header's (`2024-06-05T`): none of the server's own file, whatever its locale's date."""
    maybe = may_have_header(text)
    if maybe.any() and text.type == pa.string() and not text.null_count:
        offsets = np.frombuffer(text.buffers()[1], np.int32, len(text) + 1, 4 * text.offset)
        data = np.frombuffer(text.buffers()[2], np.uint8) if text.buffers()[2] is not None else np.zeros(1, np.uint8)
        dated = np.flatnonzero(maybe & (np.diff(offsets) > 10))
        dated = dated[data[offsets[dated]] - np.uint8(ord("0")) <= 9]  # (bytes below '0' wrap past 9)
        maybe[dated] = data[offsets[dated] + 10] == ord("T")
        short = maybe & (np.diff(offsets) <= 10)
        maybe[short] = False  # (no header and a line of the log fit in ten bytes)
    rows = np.flatnonzero(maybe)
    if not len(rows):
        return text
    taken = text.take(pa.array(rows))
    stripped = pc.replace_substring_regex(taken, SYSLOG_HEAD, r"\1", max_replacements=1)
    stripped = pc.replace_substring_regex(stripped, TAGGED_HEAD, "", max_replacements=1)
    # A header taken off shortens its line; the batch is rebuilt (two copies of all its text) only for those, so
    # the server's own file, whose `UDP question info` lines all pass the first-byte test, is not copied twice.
    shorter = pc.fill_null(pc.not_equal(pc.binary_length(stripped), pc.binary_length(taken)), False)
    changed = np.flatnonzero(shorter.to_numpy(zero_copy_only=False))
    if not len(changed):
        return text
    return with_rows(text, rows[changed], stripped.take(pa.array(changed)))


def at_packet(text: pa.Array) -> tuple[np.ndarray, pa.ListArray]:
    """The PACKET lines (their places among the lines), and every line cut at its first ` PACKET `."""
    parts = pc.split_pattern(text, " PACKET ", max_splits=1)
    return np.flatnonzero(pc.list_value_length(parts).to_numpy() == 2), parts


def _part(parts: pa.ListArray, rows: np.ndarray, index: int) -> pa.Array:
    """Part `index` of the lines at `rows`, which have it."""
    return parts.values.take(pa.array(parts.offsets.to_numpy()[rows] + index))


def _first_words(text: pa.Array) -> pa.Array:
    return list_item(pc.split_pattern(text, " ", max_splits=1), 0)


def _cut(text: pa.Array, mark: str) -> tuple[pa.Array, pa.Array]:
    """`text` before the first `mark`, and after it (null where there is none)."""
    parts = pc.split_pattern(text, mark, max_splits=1)
    return list_item(parts, 0), list_item(parts, 1)


def _mask(condition: pa.Array) -> np.ndarray:
    """A boolean array as numpy, null as false."""
    return pc.fill_null(condition, False).to_numpy(zero_copy_only=False)


def _per_value(values: pa.DictionaryArray, of_dictionary: pa.Array) -> np.ndarray:
    """A condition read once per dictionary value (`of_dictionary`), per row; null rows are false."""
    return _mask(of_dictionary.take(values.indices))


class Packets:
    """A batch's PACKET lines cut at the anchors the layout guarantees (` PACKET `, the first `]`, the first
    `[` before it), which one capturing regular expression would cost several times more:
        DATE TIME [AM|PM] THREAD PACKET ID PROTO DIR REMOTE XID [R] OPCODE [FLAGS-HEX FLAG-CHARS RCODE] QTYPE QNAME
    The parts with few values (the stamp before ` PACKET `, what follows the XID, the bracket, the tail)
    are read once per distinct value.
    """

    def __init__(self, cursor: duckdb.DuckDBPyConnection, stamp: pa.DictionaryArray, after: pa.Array,
                 times: DistinctQuery, tails: DistinctQuery) -> None:
        before_close, tail = _cut(after, "]")
        head, flags = _cut(before_close, "[")
        # the anchors in their order: no bracket before ` PACKET `, a `]` after it and a `[` before that
        in_order = (~_per_value(stamp, pc.match_substring_regex(stamp.dictionary, r"[\[\]]"))
                    & _mask(pc.is_valid(tail)) & _mask(pc.is_valid(flags)))
        # ID PROTO DIR REMOTE (padded to 15 characters) and the rest: `XID   OPCODE` or `XID R OPCODE`. Each
        # field is one word, cut at any run of spaces: some servers write two before `Snd`/`Rcv` (`UDP  Snd`).
        fields = pc.ascii_split_whitespace(space_trimmed(head), max_splits=4)
        protocol, direction = list_item(fields, 1), list_item(fields, 2)
        self.remote = pc.dictionary_encode(list_item(fields, 3))
        xid, after_xid = _cut(space_trimmed(pc.fill_null(list_item(fields, 4), "")), " ")
        self.xid = pc.dictionary_encode(xid)
        after_xid = pc.dictionary_encode(after_xid)  # `  Q` or ` R Q`: a few values
        opcode = list_item(pc.split_pattern(after_xid.dictionary, " "), -1)
        is_r = _per_value(after_xid, pc.match_substring(pc.binary_join_element_wise(" ", after_xid.dictionary, ""),
                                                        " R "))
        flags = pc.dictionary_encode(flags)
        self.rcode = pa.DictionaryArray.from_arrays(flags.indices,
                                                    list_item(pc.split_pattern(flags.dictionary, " "), -1))
        self.tail = pc.dictionary_encode(tail)
        self.named = tails.results_for(cursor, self.tail.dictionary)
        self.understood = (in_order
                           & _mask(pc.is_in(protocol, value_set=pa.array(["UDP", "TCP"])))
                           & _mask(pc.is_in(direction, value_set=pa.array(["Snd", "Rcv"])))
                           & _per_value(after_xid, pc.is_in(opcode, value_set=pa.array(["Q", "N", "U", "?"])))
                           & _per_value(self.rcode, pc.not_equal(self.rcode.dictionary, ""))
                           & _per_value(self.tail, self.named.column("complete").combine_chunks()))
        is_q = self.understood & _per_value(after_xid, pc.equal(opcode, "Q"))
        self.is_query = is_q & _mask(pc.equal(direction, "Rcv")) & ~is_r
        self.is_response = is_q & _mask(pc.equal(direction, "Snd")) & is_r
        timed = times.results_for(cursor, stamp.dictionary)
        self.stamp = stamp
        self.ts = timed.column("ts").combine_chunks().take(stamp.indices)
        self.date_text = timed.column("date_text").combine_chunks()
        # the lookups (queries, responses) with a time to read: the ones paired
        self.timed = (self.is_query | self.is_response) & _per_value(stamp, timed.column("has_time").combine_chunks())

    def outcomes(self, line_no: pa.Array, others: tuple[np.ndarray, np.ndarray, pa.Array], lines: pa.Table
                 ) -> ParseResult:
        """Events (lookups, each joined with its response), rejects and the count of ignored lines, together
        with the lines that are no packet (`others`: their header mask, unknown mask and line numbers)."""
        answer, is_answer = pair_lookups(self.timed, [
            _codes(self.remote), _codes(pa.DictionaryArray.from_arrays(self.xid.indices,
                                                                       pc.utf8_lower(self.xid.dictionary))),
            _codes(self._tail_column("qtype")), _codes(self._tail_column("qname"))], line_no.to_numpy(),
            self.is_query, self.is_response)
        has_ts = _mask(pc.is_valid(self.ts))
        lookup = self.is_query | self.is_response
        event = lookup & has_ts & ~is_answer
        rows = np.flatnonzero(event)
        # the response code: a response's own, a query's from its response (-1: none)
        source = np.where(self.is_response, np.arange(len(event)), answer)[rows]
        rcode = self.rcode.take(pa.array(source, mask=source < 0))
        # the action per response code (a DENY policy answers REFUSED), `unknown` without one
        refused = pc.equal(self.rcode.dictionary, "REFUSED")
        verdicts = pa.concat_arrays([pc.if_else(refused, "blocked", "allowed"), pa.array(["unknown"])])
        taken = pa.array(rows)
        events = pa.table({
            "line_no": line_no.take(taken),
            "ts": self.ts.take(taken),
            "src_ip": self.remote.take(taken),
            "host_source": pa.repeat(pa.scalar("dns_query"), len(rows)),
            "network_protocol": pa.repeat(pa.scalar("dns"), len(rows)),
            "dns_qtype": self._tail_column("dns_qtype").take(taken),
            "dns_rcode": rcode,
            "action": pa.DictionaryArray.from_arrays(pc.fill_null(rcode.indices, len(verdicts) - 1), verdicts),
            "host": self._tail_column("qname").take(taken),
        })
        is_header, is_unknown, other_line_no = others
        undated = lookup & ~has_ts & ~is_answer
        rejects = _in_line_order([
            (line_no.filter(pa.array(~self.understood)), MALFORMED),
            (line_no.filter(pa.array(undated)), lambda: pc.binary_join_element_wise(
                "date not understood: ", self.date_text.take(self.stamp.indices.filter(pa.array(undated))), "")),
            (other_line_no.filter(pa.array(is_unknown)), NOT_THIS_LOG),
        ])
        ignored = int(is_header.sum() + (self.understood & ~lookup).sum() + (lookup & is_answer).sum())
        return ParseResult(events=events, rejects=attach_lines(*rejects, lines), ignored=ignored)

    def _tail_column(self, name: str) -> pa.DictionaryArray | pa.Array:
        """A column of the tail's distinct values per packet line (text stays dictionary-encoded)."""
        values = self.named.column(name).combine_chunks()
        if pa.types.is_string(values.type):
            return dictionary_array(self.tail.indices, values)
        return values.take(self.tail.indices)


def _other_lines(text: pa.Array, packet_rows: np.ndarray, line_no: pa.Array
                 ) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """The lines that are no PACKET line: which are the log's own (header, details, events), which not,
    and their line numbers. Indented lines (the packet details) need no regular expression."""
    is_other = np.ones(len(text), dtype=bool)
    is_other[packet_rows] = False
    indented = _mask(pc.or_(pc.starts_with(text, " "), pc.starts_with(text, "\t")))
    is_header = indented[is_other]
    others = np.flatnonzero(is_other)
    unsure = np.flatnonzero(~is_header)
    if len(unsure):
        is_header[unsure] = _mask(pc.match_substring_regex(text.take(pa.array(others[unsure])), OTHER_LINE))
    return is_header, ~is_header, line_no.take(pa.array(others))


def _in_line_order(rejects: Sequence[tuple[pa.Array, str | Callable[[], pa.Array]]]) -> tuple[pa.Array, pa.Array]:
    """Line numbers and reasons of rejects found apart, in line order; a reason is one text, or made (per
    line) only when some line has it."""
    numbers, reasons = [], []
    for line_no, reason in rejects:
        if len(line_no):
            numbers.append(line_no)
            reasons.append(reason() if callable(reason) else pa.repeat(pa.scalar(reason), len(line_no)))
    if not numbers:
        return pa.array([], pa.int64()), pa.array([], pa.string())
    line_no, reason = pa.concat_arrays(numbers), pa.concat_arrays(reasons)
    order = pc.sort_indices(line_no)
    return line_no.take(order), reason.take(order)


def pair_lookups(is_lookup: np.ndarray, keys: Sequence[np.ndarray], line_no: np.ndarray, is_query: np.ndarray,
                 is_response: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per line: the line of the response that answers it, if a query (-1: none), and whether it is a
    response that answers a query before it.

    A response answers the latest query before it from the same address with the same XID, type and
    name: lookups sorted by that key (integer codes), then by line, put each key's lines in order, so a
    query's response is the next line of its key. One sort in numpy; a window function over a hash of
    the key sorted the same, slower.
    """
    rows = np.flatnonzero(is_lookup)
    order = rows[np.lexsort([line_no[rows], *(key[rows] for key in reversed(keys))])]
    same_key = np.zeros(len(order), dtype=bool)  # as the line before it in `order`
    if len(order) > 1:
        same_key[1:] = np.logical_and.reduce([key[order[1:]] == key[order[:-1]] for key in keys])
    query, response = is_query[order], is_response[order]
    answered = np.zeros(len(order), dtype=bool)
    answered[:-1] = query[:-1] & same_key[1:] & response[1:]
    # Queries of its key before a line: a running count, less the count where its key starts.
    queries_before = np.cumsum(query) - query
    key_start = np.maximum.accumulate(np.where(same_key, 0, np.arange(len(order))))
    answer = np.full(len(is_lookup), -1)
    answer[order[:-1][answered[:-1]]] = order[1:][answered[:-1]]
    is_answer = np.zeros(len(is_lookup), dtype=bool)
    is_answer[order] = response & (queries_before - queries_before[key_start] > 0)
    return answer, is_answer


def _codes(values: pa.DictionaryArray) -> np.ndarray:
    """Integer codes of a column's values (nulls: -1), for sorting and comparing: read from its dictionary,
    which may hold a value twice (per-distinct results)."""
    distinct = pc.dictionary_encode(values.dictionary).indices
    return pc.fill_null(distinct.take(values.indices), -1).to_numpy(zero_copy_only=False)


def order_of_dates(cursor: duckdb.DuckDBPyConnection, dates: pa.Array | pa.ChunkedArray) -> str | None:
    """'dmy' or 'mdy' when some of the packet lines' dates settle it, else None."""
    cursor.register("distinct_values", pa.table({"value": pc.unique(dates)}))
    try:
        first, second = cursor.sql(ORDER_EVIDENCE).fetchall()[0]
    finally:
        cursor.unregister("distinct_values")
    day_first, month_first = (first or 0) > 12, (second or 0) > 12
    if day_first != month_first:  # both: the dates contradict each other, so they settle nothing
        return "dmy" if day_first else "mdy"
    return None


_PACKET = re.compile(
    r"^\S+ (?:(?:" + "|".join(MERIDIEM_BEFORE_AM + MERIDIEM_BEFORE_PM) + r") )?\d{1,2}:\d{2}:\d{2}"
    r"(?: [AaPp]\.?[Mm]\.?)? +[0-9A-Fa-f]+ +PACKET +[0-9A-Fa-f]+ +(?:UDP|TCP) "
)
_HEADER = re.compile(r"^(?:DNS Server log file creation at |Message logging key \(for packets)")
_SYSLOG_HEAD = re.compile(SYSLOG_HEAD)
_ANY_HEAD = re.compile(rf"^(?:{_HEADS})")
_HEADER_TEXT = re.compile(r"(?:DNS Server log file creation at |Message logging key \(for packets)")


def sniff(lines: Sequence[str]) -> float:
    """Certain on the server's own header block; otherwise the share of PACKET lines."""
    if not lines:
        return 0.0
    if any(_HEADER.match(line) or (_ANY_HEAD.match(line) and _HEADER_TEXT.search(line)) for line in lines):
        return 1.0
    return sum(1 for line in lines if _PACKET.match(line) or _PACKET.match(_SYSLOG_HEAD.sub(r"\1", line, count=1))
               ) / len(lines)


LOG = Format(
    name="windows_dns",
    source_kind="dns",
    summary="Windows Server DNS debug log (dns.log packet lines, any locale's date), queries joined with their "
            "responses",
    sniff=sniff,
    new_parser=new_parser,
    fields=("ts", "src_ip", "host", "host_source", "network_protocol", "dns_qtype", "dns_rcode", "action"),
    context_lines=PAIR_LINES,
    independent_batches=True,
)
