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
One event per query: a reply or local-action line is joined to the latest query line before it with
the same client, name, type and class, and is then counted as ignored; one without such a query line
(`log-replies` alone, or its query more than `PAIR_LINES` lines before it) is an event itself. A batch
boundary between the two does not matter: each batch is parsed with the `PAIR_LINES` lines before and
after it (`Format.context_lines`). A query with
both a local action and a reply (the two lines after it for its key) takes the stricter: blocked over
allowed over unknown.
Other Unbound messages (server stats, sendto failed, start/stop, resolving, validation) are ignored.
"""

from __future__ import annotations

import re

from detector.ingest.base import Format
from detector.ingest.syslog import program_share, syslog_head_parser

# How many lines may separate a query from its reply and still be joined across a batch boundary.
PAIR_LINES = 4096

QUERY = r"""
with headed as (
    select line_no, header_ts <> '' as has_syslog, ts as header_time,
        string_split(case when header_ts <> '' then msg else line end, ' ') as t
    from syslog
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
    select line_no, has_syslog, is_own, header_time, t, k, level,
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
    select line_no, has_syslog, is_own, kind, t, k, header_time,
        case when kind = 'local' then 2 else 0 end as shift,
        case when kind in ('query', 'reply', 'local') and is_own then to_timestamp(try_cast(trim(t[1], '[]') as bigint))
            end as own_ts
    from classified
),
fields as materialized (
    select line_no, has_syslog, is_own, kind,
        case when is_own then own_ts when kind in ('query', 'reply', 'local') then header_time end as ts,
        case when kind = 'malformed' then array_to_string(t[k + 1:], ' ') end as text,
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
paired as (
    -- A reply or local-action line answers the query line before it with the same client, name, type and
    -- class (one or two outcome lines may follow a query): neighbours within that key, in line order.
    -- The key is hashed: sorting one number is cheaper than four strings.
    select *,
        lag(kind) over w as kind_1, lag(kind, 2) over w as kind_2,
        lead(kind) over w as next_kind_1, lead(kind, 2) over w as next_kind_2,
        lead(rcode) over w as next_rcode_1, lead(rcode, 2) over w as next_rcode_2,
        lead(duration_ms) over w as next_duration_1, lead(duration_ms, 2) over w as next_duration_2,
        lead(verdict) over w as next_verdict_1, lead(verdict, 2) over w as next_verdict_2
    from (
        select *, case when kind in ('query', 'reply', 'local') then hash(client, qname, qtype, qclass) end as pair_key
        from fields
    )
    window w as (partition by pair_key order by line_no)
),
answered as (
    select *,
        kind in ('reply', 'local')
            and (kind_1 = 'query' or (kind_1 in ('reply', 'local') and kind_2 = 'query')) as is_answer,
        next_kind_1 in ('reply', 'local') as has_outcome,
        next_kind_1 in ('reply', 'local') and next_kind_2 in ('reply', 'local') as has_two
    from paired
),
joined as (
    select *,
        case when kind = 'query' and has_outcome then
            coalesce(next_rcode_1, case when has_two then next_rcode_2 end) end as answer_rcode,
        case when kind = 'query' and has_outcome then
            coalesce(next_duration_1, case when has_two then next_duration_2 end) end as answer_duration_ms,
        case
            when kind <> 'query' or not has_outcome then null
            when 'blocked' in (next_verdict_1, case when has_two then next_verdict_2 end) then 'blocked'
            when 'allowed' in (next_verdict_1, case when has_two then next_verdict_2 end) then 'allowed'
            else 'unknown'
        end as answer_verdict
    from answered
)
select
    line_no,
    case
        when not has_syslog and not is_own
            then 'not an Unbound log line: no syslog header and no [epoch] unbound[pid] prefix'
        when kind = 'malformed' then 'Unbound query line not understood (expected "CLIENT NAME TYPE CLASS"): '
            || text
        when kind in ('query', 'reply', 'local') and ts is null then 'time stamp not understood'
    end as reject_reason,
    (has_syslog or is_own) and (kind in ('other', 'formerr') or is_answer) as is_ignored,
    ts,
    client as src_ip,
    clean_host(qname) as host,
    'dns_query' as host_source,
    'dns' as network_protocol,
    upper(qtype) as dns_qtype,
    case when kind = 'query' then answer_rcode else rcode end as dns_rcode,
    case when kind = 'query' then answer_duration_ms else duration_ms end as duration_ms,
    case when kind = 'query' then coalesce(answer_verdict, 'unknown') else coalesce(verdict, 'unknown') end as action
from joined
"""

OWN_FILE = re.compile(r"^\[\d+\] unbound\[\d+:\d+\] ")

LOG = Format(
    name="unbound",
    source_kind="dns",
    summary="Unbound log-queries / log-replies / log-local-actions lines (syslog, pfSense, OPNsense, own file)",
    sniff=program_share("unbound", also=OWN_FILE),
    new_parser=syslog_head_parser(QUERY),
    fields=("ts", "src_ip", "host", "host_source", "network_protocol", "dns_qtype", "dns_rcode", "duration_ms",
            "action"),
    context_lines=PAIR_LINES,
    independent_batches=True,
)
