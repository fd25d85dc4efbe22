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
    select line_no, header_ts <> '' as has_syslog, ts as syslog_ts,
        string_split(case when header_ts <> '' then msg else line end, ' ') as t
    from syslog_lines($tz, $ref)
),
located as (
    -- syslog: `[pid:thread] level: text`; own file: `[epoch] unbound[pid:thread] level: text`.
    select *,
        not has_syslog and t[1] like '[%]' and t[2] like '%[%]' as is_own,
        case
            when has_syslog then 1 + (t[1] like '[%]')::int
            when t[1] like '[%]' and t[2] like '%[%]' then 3
        end as k
    from headed
),
words as (
    select *,
        case when ends_with(t[k], ':') then rtrim(t[k], ':') end as level,
        len(t) - k as n,
        regexp_matches(t[k + 1], '^(?:\d{1,3}\.){3}\d{1,3}(?:@\d+)?$|^[0-9A-Fa-f]*:[0-9A-Fa-f:.]*(?:@\d+)?$')
            as starts_with_client
    from located
),
classified as (
    select line_no, has_syslog, is_own, syslog_ts, t, k, level,
        case
            when level not in ('info', 'query', 'reply') then 'other'
            when starts_with_client and t[k + 2] = '-' then 'formerr'
            when starts_with_client and n = 4 then 'query'
            when starts_with_client and n = 8 and regexp_matches(t[k + 6], '^\d+\.\d+$') then 'reply'
            when starts_with_client then 'malformed'
            when level = 'info' and n = 6 and contains(t[k + 3], '@') and regexp_matches(t[k + 2], '^[a-z_]+$')
                then 'local'
            else 'other'
        end as kind
    from words
),
parsed as (
    -- query CLIENT NAME TYPE CLASS; reply … RCODE SECONDS CACHED SIZE; local ZONE ZONETYPE CLIENT@PORT NAME TYPE CLASS
    select line_no, has_syslog, is_own, kind, t, k,
        case when kind = 'local' then 2 else 0 end as shift,
        case when is_own then to_timestamp(try_cast(trim(t[1], '[]') as bigint)) else syslog_ts end as ts
    from classified
),
fields as (
    select line_no, has_syslog, is_own, kind, ts, t, k,
        split_part(t[k + 1 + shift], '@', 1) as client,
        lower(t[k + 2 + shift]) as qname,
        t[k + 3 + shift] as qtype,
        t[k + 4 + shift] as qclass,
        case when kind = 'reply' then t[k + 5] end as rcode,
        case when kind = 'reply' then round(try_cast(t[k + 6] as double) * 1000)::bigint end as duration_ms,
        case
            when kind = 'reply' then case when t[k + 5] = 'REFUSED' then 'blocked' else 'allowed' end
            when kind = 'local' and t[k + 2] in ('transparent', 'typetransparent', 'always_transparent', 'inform',
                'nodefault') then 'allowed'
            when kind = 'local' and t[k + 2] = 'static' then 'unknown'
            when kind = 'local' then 'blocked'
        end as verdict
    from parsed
),
queries as (
    select line_no, client, qname, qtype, qclass from fields where kind = 'query'
),
outcomes as (
    select line_no, client, qname, qtype, qclass, rcode, duration_ms, verdict
    from fields where kind in ('reply', 'local')
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
    f.line_no,
    case
        when not f.has_syslog and not f.is_own
            then 'not an Unbound log line: no syslog header and no [epoch] unbound[pid] prefix'
        when f.kind = 'malformed' then 'Unbound query line not understood (expected "CLIENT NAME TYPE CLASS"): '
            || array_to_string(f.t[f.k + 1:], ' ')
        when f.kind in ('query', 'reply', 'local') and f.ts is null then 'time stamp not understood'
    end as reject_reason,
    (f.has_syslog or f.is_own) and (f.kind in ('other', 'formerr') or p.outcome_no is not null) as is_ignored,
    f.ts,
    f.client as src_ip,
    clean_host(f.qname) as host,
    'dns_query' as host_source,
    'dns' as network_protocol,
    upper(f.qtype) as dns_qtype,
    coalesce(a.rcode, f.rcode) as dns_rcode,
    coalesce(a.duration_ms, f.duration_ms) as duration_ms,
    coalesce(a.verdict, f.verdict, 'unknown') as action
from fields f
left join answered a on a.query_no = f.line_no
left join paired p on p.outcome_no = f.line_no
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
