"""Windows Server DNS debug log (dns.log, "Log packets for debugging"), the text packet log.

The server documents its own layout in the `Message logging key` block at the top of the file:
    DATE TIME [AM|PM] THREAD PACKET PACKET-ID UDP|TCP Snd|Rcv REMOTE-IP XID [R] OPCODE
    [FLAGS-HEX FLAG-CHARS RCODE] QTYPE QNAME
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
`05/06/2013 10:00:32`, nl-NL `5-6-2013`, de-DE `05.06.2013`). Times are local to the configured zone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, list_item, only_where, per_distinct
from detector.ingest.base import Format, HeaderedParser, ParseContext, ParseResult, parse_cursor, split_outcomes

# How many lines may separate a query from its response and still be joined across a batch boundary.
PAIR_LINES = 4096

# Cut at the anchors the layout guarantees (` PACKET `, `[`, `]`) with string functions: one capturing
# regular expression over the whole line costs several times more (see docs/dns.md, "Throughput").
MARK = r"""
with anchored as (
    select line_no, line, strpos(line, ' PACKET ') as at_packet, strpos(line, '[') as lb, strpos(line, ']') as rb
    from lines
),
cut as (
    -- DATE TIME [AM|PM] THREAD PACKET ID PROTO DIR REMOTE XID [R] OPCODE [HEX CHARS RCODE] QTYPE QNAME
    select line_no, line, at_packet,
        at_packet > 0 and lb > at_packet and rb > lb as is_packet,
        string_split(left(line, at_packet - 1), ' ') as stamp,
        trim(substr(line, at_packet + 8, lb - at_packet - 8)) as head_text,
        string_split(substr(line, lb + 1, rb - lb - 1), ' ')[-1] as rcode,
        string_split(ltrim(substr(line, rb + 1)), ' ') as tail
    from anchored
),
split_head as (
    select *, string_split(head_text, ' ') as head from cut
),
fields as (
    select line_no, line, at_packet, is_packet, rcode,
        stamp[1] as date_text, stamp[2] as time_text,
        case when upper(stamp[3]) in ('AM', 'PM', 'A.M.', 'P.M.') then upper(left(stamp[3], 1)) end as ampm,
        head[2] as proto, head[3] as dir, head[4] as remote,
        -- after REMOTE (padded to 15 characters): `XID   OPCODE` or `XID R OPCODE`
        trim(substr(head_text, length(head[1]) + length(head[2]) + length(head[3]) + length(head[4]) + 5)) as rest,
        head[-1] as opcode,
        tail[1] as qtype,
        tail[-1] as qname_raw
    from split_head
),
classified as (
    select *,
        left(rest, strpos(rest, ' ') - 1) as xid, contains(rest, ' R ') as is_r,
        is_packet and proto in ('UDP', 'TCP') and dir in ('Snd', 'Rcv') and contains(rest, ' ')
            and opcode in ('Q', 'N', 'U', '?') and rcode <> '' and qname_raw <> '' and qtype <> qname_raw
            as understood
    from fields
),
kinds as (
    select line_no, rcode, date_text, time_text, ampm, remote, qtype, qname_raw,
        case
            when not understood then case
                when at_packet > 0 then 'malformed'
                when regexp_matches(line, '^\s|^(DNS Server log file|Log file wrap|Message logging key|Note:)')
                    or regexp_matches(line, '^(UDP|TCP) (question|response) info at ')
                    or regexp_matches(line, '^\S+ \d{1,2}:\d{2}:\d{2}(?: [AaPp]\.?[Mm]\.?)? +[0-9A-Fa-f]+ +[A-Z]')
                    then 'header'
                else 'unknown'
            end
            when opcode = 'Q' and dir = 'Rcv' and not is_r then 'query'
            when opcode = 'Q' and dir = 'Snd' and is_r then 'response'
            else 'other'
        end as kind,
        lower(xid) as xid_key
    from classified
),
select line_no, kind, rcode, date_text, remote, qtype, qname_raw, xid_key,
    -- `stamp`: the lookups (queries, responses) with a time to read, which are timed, named and paired.
    case when kind in ('query', 'response') and time_text is not null
        then date_text || ' ' || time_text || coalesce(' ' || ampm, '') end as stamp
from kinds
"""

# One row per line, from `marked` (the lines read) with their times, names and pairs (`pair_lookups`).
FINAL = r"""
with m as (
    select *, stamp is not null as is_lookup from marked
)
select
    line_no,
    case
        when kind = 'malformed' then 'PACKET line not understood (expected the layout of the Message logging key)'
        when kind = 'unknown' then 'not a Windows DNS debug log line'
        when kind in ('query', 'response') and ts is null then 'date not understood: ' || date_text
    end as reject_reason,
    kind in ('header', 'other') or coalesce(is_answer, false) as is_ignored,
    ts,
    case when is_lookup then remote end as src_ip,
    'dns_query' as host_source,
    'dns' as network_protocol,
    case when is_lookup then upper(qtype) end as dns_qtype,
    case when is_lookup then case when kind = 'response' then rcode else answer_rcode end end as dns_rcode,
    case
        when not is_lookup then 'unknown'
        when case when kind = 'response' then rcode else answer_rcode end = 'REFUSED' then 'blocked'
        when answer_rcode is not null or kind = 'response' then 'allowed'
        else 'unknown'
    end as action
from m
"""

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
    """Times of distinct `DATE TIME[ AM|PM]` stamps (see `numbers` for the date orders), in their order."""
    return (r"""
with stamps as (
    select date_text, time_text, ampm,
        string_split(translate(date_text, '.-', '//'), '/') as d,
        string_split(time_text, ':') as hms
    from (select split_part(value, ' ', 1) as date_text, split_part(value, ' ', 2) as time_text,
        nullif(split_part(value, ' ', 3), '') as ampm from distinct_values)
),
""" + NUMBERS_TO_TIMES + """
select ts from times
""").replace("$order", _sql_text(order) + "::varchar" if order else "null::varchar").replace("$tz", _sql_text(timezone))


# `(7)chatgpt(3)com(0)`: each `(n)` is a dot.
QNAMES = r"select clean_host(substr(regexp_replace(value, '\(\d+\)', '.', 'g'), 2)) as qname from distinct_values"


def new_parser(context: ParseContext) -> HeaderedParser:
    """Batches parsed under the file's date order once a batch has settled it (the state carried in file
    order; None until then), each distinct time stamp's time and query name's name read once per file."""
    stamps: dict[str | None, DistinctQuery] = {}  # per date order: set at most twice per file
    names = DistinctQuery(QNAMES)

    def carry(lines: pa.Table, order: str | None) -> str | None:
        if order is not None:
            return order
        # the packet lines' dates as MARK reads them (the text before the first space), without MARK
        text = lines.column("line").combine_chunks()
        packets = text.filter(pc.match_substring(text, " PACKET "))
        with parse_cursor(context.connection) as cursor:
            return order_of_dates(cursor, list_item(pc.split_pattern(packets, " ", max_splits=1), 0))

    def parse(lines: pa.Table, order: str | None) -> ParseResult:
        with parse_cursor(context.connection) as cursor:
            cursor.register("lines", lines)
            marked = cursor.sql(MARK).to_arrow_table()
            if order is None:
                order = date_order(cursor, marked)
            if order not in stamps:
                stamps[order] = DistinctQuery(stamp_query(context.timezone, order))
            stamp = marked.column("stamp").combine_chunks()
            ts = per_distinct(cursor, stamp, stamps[order])["ts"]
            qname = per_distinct(cursor, only_where(marked.column("qname_raw").combine_chunks(), pc.is_valid(stamp)),
                                 names)["qname"]
            answer_rcode, is_answer = pair_lookups(marked, qname)
            cursor.register("marked", marked.append_column("ts", ts).append_column("qname", qname)
                            .append_column("answer_rcode", answer_rcode).append_column("is_answer", is_answer))
            result = cursor.sql(FINAL).to_arrow_table()  # a projection: the lines stay in their order
        # The names stay dictionary-encoded down to the lake (null where the line is no lookup).
        return split_outcomes(result.append_column("host", qname), lines)

    return HeaderedParser(start=None, carry=carry, parse=parse)


def pair_lookups(marked: pa.Table, qname: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Per line: the response code of the response paired with a query (`answer_rcode`), and whether a
    response answers a query before it (`is_answer`).

    A response answers the latest query before it from the same address with the same XID, type and
    name: lookups (lines with a `stamp`) sorted by that key, then by line, put each key's lines in
    order, so a query's response is the next line of its key. One sort in numpy; a window function
    over a hash of the key sorted the same, slower.
    """
    lookup = pc.is_valid(marked.column("stamp")).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(lookup)
    keys = [_codes(marked.column(name)) for name in ("remote", "xid_key", "qtype")] + [_codes(qname)]
    line_no = marked.column("line_no").to_numpy()
    order = rows[np.lexsort([line_no[rows], *(key[rows] for key in reversed(keys))])]
    same_key = np.zeros(len(order), dtype=bool)  # as the line before it in `order`
    if len(order) > 1:
        same_key[1:] = np.logical_and.reduce([key[order[1:]] == key[order[:-1]] for key in keys])
    kind = marked.column("kind").combine_chunks()
    is_query = pc.equal(kind, "query").to_numpy(zero_copy_only=False)[order]
    is_response = pc.equal(kind, "response").to_numpy(zero_copy_only=False)[order]
    answered = np.zeros(len(order), dtype=bool)
    answered[:-1] = is_query[:-1] & same_key[1:] & is_response[1:]
    # Queries of its key before a line: a running count, less the count where its key starts.
    queries_before = np.cumsum(is_query) - is_query
    key_start = np.maximum.accumulate(np.where(same_key, 0, np.arange(len(order))))
    is_answer = is_response & (queries_before - queries_before[key_start] > 0)
    response = np.minimum(np.arange(len(order)) + 1, max(len(order) - 1, 0))
    rcode = pc.take(marked.column("rcode"), pa.array(order[response], mask=~answered))
    # Back to line order; lines that are no lookup get nulls.
    position = np.zeros(len(marked), dtype=np.int64)
    position[order] = np.arange(len(order))
    back = pa.array(position, mask=~lookup)
    return pc.take(rcode, back), pc.take(pa.array(is_answer), back)


def _codes(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Integer codes of a column's values (nulls: -1), for sorting and comparing."""
    values = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(values.type):  # its dictionary may hold a value twice (per-distinct results)
        values = values.cast(values.type.value_type)
    return pc.fill_null(pc.dictionary_encode(values).indices, -1).to_numpy(zero_copy_only=False)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def date_order(cursor: duckdb.DuckDBPyConnection, marked: pa.Table) -> str | None:
    """'dmy' or 'mdy' when some date in the batch settles it, else None (the separator decides)."""
    packets = pc.is_in(marked.column("kind"), pa.array(["query", "response", "other", "malformed"]))
    return order_of_dates(cursor, marked.column("date_text").filter(packets))


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
    r"^\S+ \d{1,2}:\d{2}:\d{2}(?: [AaPp]\.?[Mm]\.?)? +[0-9A-Fa-f]+ +PACKET +[0-9A-Fa-f]+ +(?:UDP|TCP) "
)
_HEADER = re.compile(r"^(?:DNS Server log file creation at |Message logging key \(for packets)")


def sniff(lines: Sequence[str]) -> float:
    """Certain on the server's own header block; otherwise the share of PACKET lines."""
    if not lines:
        return 0.0
    if any(_HEADER.match(line) for line in lines):
        return 1.0
    return sum(1 for line in lines if _PACKET.match(line)) / len(lines)


LOG = Format(
    name="windows_dns",
    source_kind="dns",
    summary="Windows Server DNS debug log (dns.log packet lines), queries joined with their responses",
    sniff=sniff,
    new_parser=new_parser,
    fields=("ts", "src_ip", "host", "host_source", "network_protocol", "dns_qtype", "dns_rcode", "action"),
    context_lines=PAIR_LINES,
    independent_batches=True,
)
