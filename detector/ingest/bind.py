"""BIND 9 (named) query logs, through syslog or BIND's own log channel.

A line is `[syslog header] [print-time] [category: ] [severity: ] message`, where print-time is BIND's
`dd-Mon-YYYY HH:MM:SS.mmm` (local) or, from 9.16, ISO 8601. The messages that are DNS lookups:
- `queries`: `client [@0x…] IP#PORT [(NAME)]: [view V: ]query: NAME CLASS TYPE FLAGS [(SERVER)]`
  (FLAGS: `+` recursion desired, `E(0)` EDNS, `T` TCP, `D` DO, `C` CD, `S` signed, `K`/`V` cookie).
  It is logged when the query arrives, before any policy applies: action `unknown`. AXFR/IXFR
  requests are zone transfers between servers, not lookups: ignored.
- `security`: `client … : query [(cache)] ['NAME/TYPE/CLASS'] denied [(reason)]`: action `blocked`.
  Old releases leave out the name; the event then has no host.
- `rpz`: `client … : [disabled ]rpz QNAME|IP|NSDNAME|NSIP|CLIENT-IP POLICY rewrite NAME[/TYPE/CLASS| [TYPE]]
  via TRIGGER`: `blocked`, except the PASSTHRU policy and `disabled` (log-only) rules: `allowed`.
- Infoblox NIOS additions (same daemon, same grammar; `infoblox_nios` sniffs them): response logging
  `client IP#PORT: [view V: ]UDP: query: NAME CLASS TYPE response: RCODE FLAGS [NAME TTL CLASS TYPE DATA; …]`
  (answers: A/AAAA addresses and CNAME targets; REFUSED, or answers that are all 0.0.0.0/::, a sinkhole,
  are `blocked`), and RPZ hits as CEF (`CEF:0|Infoblox|NIOS|…|RPZ-…|POLICY|…|src=… msg="rpz … rewrite NAME …"`).
Everything else named logs (query-errors, zone transfers, notifies, updates, DNSSEC, RPZ reloads, Infoblox
query rewrites) is not a lookup by a client and is counted as ignored; so are other programs' lines
in a shared syslog file. A `query-errors` line repeats a query that also has its `queries` line.
Lines with neither a syslog header nor a BIND time are rejected.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from detector.ingest.base import Format
from detector.ingest.syslog import program_of, syslog_sql_parser

QUERY = r"""
with headed as (
    select line_no, line, syslog_header(line) as hdr from lines
),
bodies as (
    -- Infoblox puts the category before the time, BIND after it: accept either.
    select line_no, line, nullif(hdr.ts, '') as syslog_ts,
        regexp_extract(case when hdr.ts = '' then line else hdr.msg end,
            '^(?:[a-z][a-z0-9-]*: )?'
            || '(?:(\d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}:\d{2}(?:\.\d+)?'
            || '|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?) )?'
            || '(?:[a-z][a-z0-9-]*: )?(?:(?:info|notice|warning|error|critical|dynamic|debug(?: \d+)?): )?(.*)$',
            ['print_time', 'msg']) as body
    from headed
),
clients as (
    select line_no, line, syslog_ts, nullif(body.print_time, '') as print_time, body.msg,
        regexp_extract(body.msg,
            '^client (?:@0x[0-9a-fA-F]+ )?(\S+)#\d+(?: \(([^)]*)\))?:? (?:view [^:]*: )?(.*)$',
            ['ip', 'paren', 'rest']) as c
    from bodies
),
kinds as (
    select *,
        case
            when c.ip <> '' and regexp_matches(c.rest, '^(?:(?:UDP|TCP): )?query: ') then 'query'
            when c.ip <> '' and regexp_matches(c.rest, '^query(?: \(cache\))?(?: ''|$| denied| approved)') then 'access'
            when c.ip <> '' and regexp_matches(c.rest, '^(?:disabled )?rpz .* rewrite ') then 'rpz'
            when starts_with(msg, 'CEF:') and regexp_matches(msg, '^CEF:\d+\|Infoblox\|[^|]*\|[^|]*\|RPZ-') then 'cef'
            else 'other'
        end as kind
    from clients
),
fields as (
    select line_no, line, kind, syslog_ts, print_time, c.ip as client, c.paren,
        case when kind = 'query' then regexp_extract(c.rest,
            '^(?:(?:UDP|TCP): )?query: (\S+) (\S+) (\S+)'
            || '(?: response: (\S+) ([-+]\S*)(?: (.*))?|(?: [-+]\S*)?(?: \(([^)]*)\))?)$',
            ['name', 'class', 'qtype', 'rcode', 'rflags', 'answers', 'server']) end as q,
        case when kind = 'access' then regexp_extract(c.rest,
            '^query(?: \(cache\))?(?: ''([^/'']*)/([^/'']*)/[^'']*'')? (denied|approved)(?: \(.*\))?$',
            ['name', 'qtype', 'verdict']) end as a,
        case when kind = 'rpz' then regexp_extract(c.rest,
            '^(disabled )?rpz \S+ (\S+) rewrite (\S+?)(?:/([^/\s]+)/\S+| \[(\S+)\])? via \S+',
            ['disabled', 'policy', 'name', 'qtype', 'qtype2']) end as r,
        case when kind = 'cef' then regexp_extract(msg,
            '^CEF:\d+\|[^|]*\|[^|]*\|[^|]*\|[^|]*\|([^|]*)\|[^|]*\|(.*)$', ['policy', 'ext']) end as e
    from kinds
),
events as (
    select *,
        case kind
            when 'query' then q.name
            when 'access' then coalesce(nullif(a.name, ''), nullif(paren, ''))
            when 'rpz' then r.name
            when 'cef' then split_part(regexp_extract(e.ext, 'msg="[^"]* rewrite (\S+)', 1), '/', 1)
        end as qname,
        case kind
            when 'query' then q.qtype
            when 'access' then a.qtype
            when 'rpz' then coalesce(nullif(r.qtype, ''), r.qtype2)
            when 'cef' then regexp_extract(e.ext, '(?:^| )qtype=(\S+)', 1)
        end as qtype_text,
        case
            when kind = 'query' and q.rcode <> '' then list_transform(
                regexp_extract_all(regexp_replace(q.answers, '"[^"]*"', '""', 'g'),
                    '(?:^| )\S+ \d+ [A-Z]+ (?:A|AAAA|CNAME) ([^\s;]+);', 1),
                lambda x: rtrim(lower(x), '.'))
        end as answers,
        case
            when print_time like '____-%' and regexp_matches(print_time, '(Z|[+-]\d{2}:?\d{2})$')
                then try_cast(print_time as timestamptz)
            when print_time like '____-%' then timezone($tz, try_cast(print_time as timestamp))
            when print_time is not null then timezone($tz,
                try_strptime(print_time, ['%d-%b-%Y %H:%M:%S.%g', '%d-%b-%Y %H:%M:%S']))
            else syslog_time(syslog_ts, $tz, $ref)
        end as ts
    from fields
),
checked as (
    select *,
        kind in ('query', 'access', 'rpz', 'cef')
            and not (kind = 'access' and a.verdict = 'approved')
            and not (kind = 'query' and upper(q.qtype) in ('AXFR', 'IXFR')) as is_event,
        case
            when kind = 'query' and q.name = ''
                then 'BIND query line not understood (expected "query: NAME CLASS TYPE FLAGS")'
            when kind = 'access' and a.verdict = ''
                then 'BIND access-control line not understood (expected "query (cache) ''NAME/TYPE/CLASS'' denied")'
            when kind = 'rpz' and r.name = ''
                then 'BIND RPZ line not understood (expected "rpz TYPE POLICY rewrite NAME via TRIGGER")'
            when kind = 'other' and syslog_ts is null and print_time is null
                then 'not a BIND log line: no syslog header and no BIND time stamp'
        end as reason
    from events
)
select
    line_no,
    case
        when reason is not null then reason
        when is_event and ts is null then 'time stamp not understood: ' || coalesce(print_time, syslog_ts, '(none)')
    end as reject_reason,
    reason is null and not is_event as is_ignored,
    ts,
    case when kind = 'cef' then regexp_extract(e.ext, '(?:^| )src=(\S+)', 1) else client end as src_ip,
    clean_host(qname) as host,
    'dns_query' as host_source,
    case
        when kind = 'query' then nullif(q.server, '')
        when kind = 'cef' then nullif(regexp_extract(e.ext, '(?:^| )dst=(\S+)', 1), '')
    end as dst_ip,
    'dns' as network_protocol,
    nullif(upper(qtype_text), '') as dns_qtype,
    case when kind = 'query' then nullif(q.rcode, '') end as dns_rcode,
    case when len(answers) > 0 then answers end as dns_answers,
    case
        when kind = 'query' and q.rcode = '' then 'unknown'
        when kind = 'query' and q.rcode = 'REFUSED' then 'blocked'
        when kind = 'query' and len(answers) > 0
            and list_bool_and(list_transform(answers, lambda x: x in ('0.0.0.0', '::'))) then 'blocked'
        when kind = 'query' then 'allowed'
        when kind = 'access' then 'blocked'
        when kind = 'rpz' and (r.disabled <> '' or upper(r.policy) = 'PASSTHRU') then 'allowed'
        when kind = 'cef' and upper(e.policy) = 'PASSTHRU' then 'allowed'
        else 'blocked'
    end as action
from checked
"""

_BIND_TIME = re.compile(r"^\d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}:\d{2}")
_BIND_CLIENT = re.compile(r"client (?:@0x[0-9a-fA-F]+ )?\S+#\d+")
_INFOBLOX = re.compile(r"infoblox-responses: |CEF:\d+\|Infoblox\||: (?:UDP|TCP): query: \S+ \S+ \S+ response: ")


def bind_share(lines: Sequence[str]) -> float:
    """Share of lines written by named: its syslog tag, BIND's own time stamp, or a `client IP#port` message."""
    if not lines:
        return 0.0
    hits = sum(
        1 for line in lines if program_of(line) == "named" or _BIND_TIME.match(line) or _BIND_CLIENT.search(line)
    )
    return hits / len(lines)


def has_infoblox_messages(lines: Sequence[str]) -> bool:
    """Whether the lines hold messages only Infoblox NIOS writes (response logging, CEF RPZ hits)."""
    return any(_INFOBLOX.search(line) for line in lines)


def sniff(lines: Sequence[str]) -> float:
    """BIND's share, halved for files that Infoblox's own messages mark as NIOS (its format wins them)."""
    share = bind_share(lines)
    return share / 2 if has_infoblox_messages(lines) else share


FIELDS = (
    "ts", "src_ip", "host", "host_source", "dst_ip", "network_protocol", "dns_qtype", "action",
)

QUERY_LOG = Format(
    name="bind_query",
    source_kind="dns",
    summary="BIND 9 named query log (queries, denied queries, RPZ rewrites), syslog or its own file",
    sniff=sniff,
    new_parser=syslog_sql_parser(QUERY),
    fields=FIELDS,
)
