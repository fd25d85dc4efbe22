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
gives). A response is joined to the latest query before it in the batch from the same address with
the same XID, type and name, and then counted as ignored, so that a lookup is one event carrying the
response code. Packets to and from forwarders/root servers (`Snd` queries, `Rcv` responses) and
notify/update opcodes are ignored.

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

import pyarrow as pa

from detector.ingest.base import BatchParser, Format, ParseContext, ParseResult, run_parse_query

QUERY = r"""
with packets as (
    select line_no, line,
        regexp_extract(line,
            '^(\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}|\d{8}) (\d{1,2}):(\d{2}):(\d{2})(?: ([AaPp])\.?[Mm]\.?)? +'
            || '[0-9A-Fa-f]+ +PACKET +[0-9A-Fa-f]+ +(UDP|TCP) +(Snd|Rcv) +(\S+) +([0-9A-Fa-f]+) +(?:(R) )?'
            || '([QNU?]) +\[[0-9A-Fa-f]+ +[A-Z ]*?([A-Z]+|\d+)\] +(\S+) +(\S+)$',
            ['date', 'hh', 'mi', 'ss', 'ampm', 'proto', 'dir', 'remote', 'xid', 'r', 'opcode', 'rcode',
             'qtype', 'qname']) as p
    from lines
),
classified as (
    select line_no, line, p,
        case
            when p.date = '' then case
                when contains(line, ' PACKET ') then 'malformed'
                when regexp_matches(line, '^\s|^(DNS Server log file|Log file wrap|Message logging key|Note:)')
                    or regexp_matches(line, '^(UDP|TCP) (question|response) info at ')
                    or regexp_matches(line, '^\S+ \d{1,2}:\d{2}:\d{2}(?: [AaPp]\.?[Mm]\.?)? +[0-9A-Fa-f]+ +[A-Z]')
                    then 'header'
                else 'unknown'
            end
            when p.opcode = 'Q' and p.dir = 'Rcv' and p.r = '' then 'query'
            when p.opcode = 'Q' and p.dir = 'Snd' and p.r = 'R' then 'response'
            else 'other'
        end as kind,
        regexp_extract(p.date, '^(\d+)([/.-])(\d+)[/.-](\d+)$', ['a', 'sep', 'b', 'c']) as d,
        lower(p.xid) as xid,
        clean_host(ltrim(regexp_replace(p.qname, '\(\d+\)', '.', 'g'), '.')) as qname
    from packets
),
dated as (
    select *,
        coalesce($order, case when d.sep = '/' and p.ampm <> '' then 'mdy' else 'dmy' end) = 'dmy' as day_first,
        try_cast(case when d.sep = '' then substr(p.date, 1, 4) when length(d.a) = 4 then d.a else d.c end
            as integer) as y,
        try_cast(case when d.sep = '' then substr(p.date, 5, 2) else d.b end as integer) as n2,
        try_cast(case when d.sep = '' then substr(p.date, 7, 2) when length(d.a) = 4 then d.c else d.a end
            as integer) as n1,
        try_cast(p.hh as integer) % case when p.ampm = '' then 24 else 12 end
            + case when upper(p.ampm) = 'P' then 12 else 0 end as hour
    from classified where kind in ('query', 'response')
),
stamped as (
    -- n1/n2 are (day, month) for YYYYMMDD and YYYY-M-D; for the rest the file's date order decides.
    select line_no, kind, p.remote, xid, p.qtype, qname, p.rcode,
        timezone($tz, try(make_timestamp(
            case when y < 100 then 2000 + y else y end,
            case when d.sep = '' or length(d.a) = 4 or day_first then n2 else n1 end,
            case when d.sep = '' or length(d.a) = 4 or day_first then n1 else n2 end,
            hour, try_cast(p.mi as integer), try_cast(p.ss as double)))) as ts
    from dated
),
queries as (
    select line_no, remote, xid, qtype, qname from stamped where kind = 'query'
),
responses as (
    select line_no, remote, xid, qtype, qname, rcode from stamped where kind = 'response'
),
paired as (
    select r.line_no as response_no, q.line_no as query_no, r.rcode
    from responses r asof join queries q
        on r.remote = q.remote and r.xid = q.xid and r.qtype = q.qtype and r.qname is not distinct from q.qname
        and r.line_no > q.line_no
),
answered as (
    select query_no, arg_min(rcode, response_no) as rcode from paired group by query_no
)
select
    c.line_no,
    case
        when c.kind = 'malformed' then 'PACKET line not understood (expected the layout of the Message logging key)'
        when c.kind = 'unknown' then 'not a Windows DNS debug log line'
        when s.line_no is not null and s.ts is null then 'date not understood: ' || c.p.date
    end as reject_reason,
    c.kind in ('header', 'other') or pr.response_no is not null as is_ignored,
    s.ts,
    nullif(c.p.remote, '') as src_ip,
    c.qname as host,
    'dns_query' as host_source,
    'dns' as network_protocol,
    nullif(upper(c.p.qtype), '') as dns_qtype,
    case when c.kind = 'response' then c.p.rcode else a.rcode end as dns_rcode,
    case
        when coalesce(a.rcode, case when c.kind = 'response' then c.p.rcode end) = 'REFUSED' then 'blocked'
        when a.rcode is not null or c.kind = 'response' then 'allowed'
        else 'unknown'
    end as action
from classified c
left join stamped s using (line_no)
left join answered a on a.query_no = c.line_no
left join paired pr on pr.response_no = c.line_no
"""

# Which number of an ambiguous date is the day: learned from dates whose day is above 12.
ORDER_EVIDENCE = r"""
select max(try_cast(d.a as integer)) as first, max(try_cast(d.b as integer)) as second
from (select regexp_extract(line, '^(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4} \d', ['a', 'b']) as d from lines)
where d.a <> ''
"""


def new_parser(context: ParseContext) -> BatchParser:
    """A parser that keeps the file's date order, once known, for all its later batches."""
    order: str | None = None

    def parse(lines: pa.Table) -> ParseResult:
        nonlocal order
        if order is None:
            order = date_order(context, lines)
        return run_parse_query(context, QUERY, lines, order=order)

    return parse


def date_order(context: ParseContext, lines: pa.Table) -> str | None:
    """'dmy' or 'mdy' when some date in the batch settles it, else None (the separator decides)."""
    connection = context.connection
    connection.register("lines", lines)
    try:
        first, second = connection.sql(ORDER_EVIDENCE).fetchall()[0]
    finally:
        connection.unregister("lines")
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
)
