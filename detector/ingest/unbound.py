"""Unbound query, reply and local-action logs, through syslog (pfSense, OPNsense, Linux) or its own file.

Headers: any syslog header (see syslog.py), whose message starts with `[pid:thread]`, or Unbound's own
log file: `[epoch] unbound[pid:thread] level: …` (`log-time-ascii` gives a year-less syslog-like time).
Lookups, after `info:` (or `query:` / `reply:` with `log-tag-queryreply`):
- `log-queries`: `CLIENT NAME. TYPE CLASS`: logged on arrival, so action `unknown`;
- `log-replies`: `CLIENT NAME. TYPE CLASS RCODE SECONDS CACHED SIZE`: `allowed` (REFUSED, which
  `access-control` deny/refuse gives: `blocked`); SECONDS fills `duration_ms`;
- `log-local-actions` (and `inform` zones): `ZONE. ZONETYPE CLIENT@PORT NAME. TYPE CLASS`: blocked for
  deny, refuse, redirect, always_* and inform_deny/inform_redirect zones, allowed for transparent,
  typetransparent and inform, unknown for static (local data, or NXDOMAIN for the rest of the zone).
One event per query: a reply or local-action line is joined to the latest query line before it in the
batch with the same client, name, type and class, and is then counted as ignored; one without such a
query line (`log-replies` alone, or its query in the previous batch) is an event itself.
Other Unbound messages (server stats, sendto failed, start/stop, resolving, validation) are ignored.
"""

from __future__ import annotations

import re

from detector.ingest.base import Format
from detector.ingest.syslog import program_share, syslog_sql_parser

QUERY = r"""
with headed as (
    select line_no, line, syslog_header(line) as hdr from lines
),
bodies as (
    select line_no, line, hdr,
        case when hdr.ts = '' then regexp_extract(line, '^\[(\d+)\] \S+\[[^\]]*\] (.*)$', ['epoch', 'msg']) end as own
    from headed
),
messages as (
    select line_no, line,
        hdr.ts <> '' or own.epoch <> '' as has_header,
        case
            when hdr.ts <> '' then syslog_time(hdr.ts, $tz, $ref)
            else to_timestamp(try_cast(nullif(own.epoch, '') as bigint))
        end as ts,
        regexp_extract(case when hdr.ts <> '' then hdr.msg else own.msg end,
            '^(?:\[[^\]]*\] )?([a-z]+): (.*)$', ['level', 'text']) as m
    from bodies
),
parsed as (
    select line_no, line, has_header, ts, m.level, m.text,
        m.level in ('info', 'query', 'reply')
            and regexp_matches(m.text, '^(?:\d{1,3}\.){3}\d{1,3}(?:@\d+)? |^[0-9A-Fa-f]*:[0-9A-Fa-f:.]*(?:@\d+)? ')
            as from_client,
        regexp_extract(m.text,
            '^([0-9A-Fa-f:.]+)(?:@\d+)? (\S+) (\S+) (\S+)(?: (\S+) (\d+\.\d+) \d+ \d+)?$',
            ['ip', 'name', 'qtype', 'qclass', 'rcode', 'seconds']) as q,
        regexp_extract(m.text,
            '^(\S+) ([a-z_]+) ([0-9A-Fa-f:.]+)@\d+ (\S+) (\S+) (\S+)$',
            ['zone', 'zone_type', 'ip', 'name', 'qtype', 'qclass']) as l
    from messages
),
classified as (
    select line_no, line, has_header, ts, text,
        case
            when from_client and regexp_matches(text, '^\S+ - - - ') then 'formerr'
            when from_client and q.ip <> '' and q.rcode = '' then 'query'
            when from_client and q.ip <> '' then 'reply'
            when from_client then 'malformed'
            when level = 'info' and l.ip <> '' then 'local'
            else 'other'
        end as kind,
        coalesce(nullif(q.ip, ''), l.ip) as client,
        lower(coalesce(nullif(q.name, ''), l.name)) as qname,
        coalesce(nullif(q.qtype, ''), l.qtype) as qtype,
        coalesce(nullif(q.qclass, ''), l.qclass) as qclass,
        nullif(q.rcode, '') as rcode,
        round(try_cast(nullif(q.seconds, '') as double) * 1000)::bigint as duration_ms,
        case
            when q.rcode <> '' then case when q.rcode = 'REFUSED' then 'blocked' else 'allowed' end
            when l.zone_type in ('transparent', 'typetransparent', 'always_transparent', 'inform', 'nodefault')
                then 'allowed'
            when l.zone_type = 'static' then 'unknown'
            when l.zone_type <> '' then 'blocked'
        end as verdict
    from parsed
),
queries as (
    select line_no, client, qname, qtype, qclass from classified where kind = 'query'
),
outcomes as (
    select line_no, client, qname, qtype, qclass, rcode, duration_ms, verdict
    from classified where kind in ('reply', 'local')
),
paired as (
    select o.line_no as outcome_no, q.line_no as query_no, o.rcode, o.duration_ms, o.verdict
    from outcomes o asof join queries q
        on o.client = q.client and o.qname = q.qname and o.qtype = q.qtype and o.qclass = q.qclass
        and o.line_no > q.line_no
),
answered as (
    select query_no,
        arg_min(rcode, outcome_no) filter (where rcode is not null) as rcode,
        arg_min(duration_ms, outcome_no) filter (where duration_ms is not null) as duration_ms,
        case
            when bool_or(verdict = 'blocked') then 'blocked'
            when bool_or(verdict = 'allowed') then 'allowed'
            else 'unknown'
        end as verdict
    from paired group by query_no
)
select
    c.line_no,
    case
        when not c.has_header then 'not an Unbound log line: no syslog header and no [epoch] unbound[pid] prefix'
        when c.kind = 'malformed' then 'Unbound query line not understood (expected "CLIENT NAME TYPE CLASS"): '
            || c.text
        when c.kind in ('query', 'reply', 'local') and c.ts is null then 'time stamp not understood'
    end as reject_reason,
    c.has_header and (c.kind in ('other', 'formerr') or p.outcome_no is not null) as is_ignored,
    c.ts,
    c.client as src_ip,
    clean_host(c.qname) as host,
    'dns_query' as host_source,
    'dns' as network_protocol,
    upper(c.qtype) as dns_qtype,
    coalesce(a.rcode, c.rcode) as dns_rcode,
    coalesce(a.duration_ms, c.duration_ms) as duration_ms,
    coalesce(a.verdict, c.verdict, 'unknown') as action
from classified c
left join answered a on a.query_no = c.line_no
left join paired p on p.outcome_no = c.line_no
"""

OWN_FILE = re.compile(r"^\[\d+\] unbound\[\d+:\d+\] ")

LOG = Format(
    name="unbound",
    source_kind="dns",
    summary="Unbound log-queries / log-replies / log-local-actions lines (syslog, pfSense, OPNsense, own file)",
    sniff=program_share("unbound", also=OWN_FILE),
    new_parser=syslog_sql_parser(QUERY),
    fields=("ts", "src_ip", "host", "host_source", "network_protocol", "dns_qtype", "dns_rcode", "duration_ms",
            "action"),
)
