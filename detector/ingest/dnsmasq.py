"""dnsmasq and Pi-hole query logs (`log-queries`), through syslog or dnsmasq's own `log-facility` file.

Every line is `HEADER dnsmasq[pid]: [SERIAL [CLIENT/PORT ]]MESSAGE` (the serial and client come with
`log-queries=extra`); Pi-hole writes the same lines to /var/log/pihole/pihole.log. Messages:
- `query[TYPE] NAME from CLIENT`: the lookup, one event;
- `forwarded NAME to SERVER`, `dnssec-query[…] …`, `validation …`: bookkeeping, ignored;
- answers, `SOURCE NAME is ANSWER`: SOURCE is `reply` (upstream), `cached`, `cached-stale`, `config`
  (address=/local=), `DHCP`, `auth`, a hosts file path, or a Pi-hole policy (`gravity blocked`,
  `regex blacklisted`, `exactly denied`, `special domain`, `Apple iCloud Private Relay domain` …);
  ANSWER is an address, `<CNAME>` (the target is the NAME of the next answer line), `<TYPE>`,
  NXDOMAIN, NODATA[-IPv4|-IPv6], SERVFAIL or REFUSED.
One event per query, carrying its answers: dnsmasq logs one reply's answers on consecutive lines, so
those lines form a run (a new run starts where the name changes other than after a `<CNAME>`, or the
address family changes). A query takes the first run after it, in the same batch, that answers its
name and fits its type (A: IPv4, AAAA: IPv6, HTTPS: `<HTTPS>`; NXDOMAIN/NODATA/CNAME-only runs fit
any type). Several clients asking the same name before the upstream answers share one run, as
dnsmasq shares the reply. With `log-queries=extra` the serial links a query to its answers instead
of the name, which also attributes upstream errors (`reply error is SERVFAIL`); without it such
error lines are ignored. Answer lines are counted as ignored.
Action: `blocked` when a Pi-hole policy answered, or `config`/a hosts file answered 0.0.0.0, ::,
NXDOMAIN or NODATA (dnsmasq's own way to block: address=/name/; note that `local=/lan/` misses also
read `config … is NXDOMAIN`); `allowed` for any other answer; `unknown` when no answer was found.
Limit: answers logged in the next batch (about 1 query in 100 000 at the default batch size) are
not joined; that query's action is `unknown`.
"""

from __future__ import annotations

from detector.ingest.base import Format
from detector.ingest.syslog import program_share, syslog_sql_parser

QUERY = r"""
with headed as (
    select line_no, line, syslog_header(line) as hdr from lines
),
messages as (
    select line_no, line, hdr.ts as header_ts, hdr.ts <> '' as has_header, hdr.pid as pid,
        hdr.app in ('dnsmasq', 'pihole-FTL') as is_dnsmasq,
        regexp_extract(hdr.msg, '^(?:(?:TCP|UDP) )?(?:(\d+) (?:[0-9A-Fa-f:.]+/\d+ )?)?(.*)$',
            ['serial', 'body']) as m
    from headed
),
classified as (
    select line_no, line, header_ts, has_header, pid, m.serial, m.body,
        case
            when not is_dnsmasq then 'other'
            when starts_with(m.body, 'query[') then 'query'
            when starts_with(m.body, 'forwarded ') then 'forwarded'
            when regexp_matches(m.body, ' is \S+') and not regexp_matches(m.body, '^(validation|dnssec)') then 'answer'
            else 'other'
        end as kind
    from messages
),
parsed as (
    select *,
        case when kind = 'query' then regexp_extract(body, '^query\[([^\]]+)\] (\S+) from (\S+)$',
            ['qtype', 'name', 'client']) end as q,
        case when kind = 'answer' then regexp_extract(body, '^(.+?) (\S+) is (\S+)',
            ['source', 'name', 'answer']) end as a
    from classified
),
answers as (
    select line_no, pid, serial, lower(a.name) as qname, a.source, a.answer,
        case
            when a.answer like '%:%' or a.answer = 'NODATA-IPv6' then '6'
            when regexp_matches(a.answer, '^\d+\.\d+\.\d+\.\d+$') or a.answer = 'NODATA-IPv4' then '4'
            when a.answer like '<%>' and a.answer <> '<CNAME>' then upper(trim(a.answer, '<>'))
        end as family,
        a.source like '%blocked%' or a.source like '%blacklisted%' or a.source like '%denied%'
            or a.source in ('special domain', 'Apple iCloud Private Relay domain')
            or ((a.source = 'config' or a.source like '/%')
                and a.answer in ('0.0.0.0', '::', 'NXDOMAIN', 'NODATA', 'NODATA-IPv4', 'NODATA-IPv6'))
            as is_block
    from parsed where kind = 'answer'
),
sequenced as (
    -- Answers of one reply are consecutive dnsmasq lines of one process: compare each with the line before.
    select p.line_no, p.pid, p.kind, n.qname, n.answer, n.family, n.is_block, n.serial,
        lag(p.kind) over w as prev_kind, lag(n.qname) over w as prev_name, lag(n.answer) over w as prev_answer,
        lag(n.family) over w as prev_family, lag(n.serial) over w as prev_serial
    from parsed p left join answers n using (line_no)
    where p.kind <> 'other'
    window w as (partition by p.pid order by p.line_no)
),
starts as (
    select *,
        kind = 'answer' and not coalesce(prev_kind = 'answer' and serial = prev_serial and (
            prev_answer = '<CNAME>'
            or (prev_name = qname and (family is null or prev_family is null or family = prev_family))
        ), false) as run_start
    from sequenced
),
numbered as (
    select *, sum(run_start::int) over (partition by pid order by line_no rows unbounded preceding) as run_id
    from starts where kind in ('answer', 'query', 'forwarded')
),
runs as (
    select pid, run_id, min(line_no) as start_no, arg_min(serial, line_no) as serial,
        arg_min(qname, line_no) as first_name,
        case arg_min(family, line_no) filter (where family is not null)
            when '4' then 'A' when '6' then 'AAAA' else arg_min(family, line_no) filter (where family is not null)
        end as run_type,
        list_filter(flatten(list([
            case when not run_start and qname <> prev_name then qname end,
            case when family in ('4', '6') and answer not like 'NODATA%' then answer end
        ] order by line_no)), lambda x: x is not null) as answers,
        coalesce(arg_min(answer, line_no) filter (where answer in ('NXDOMAIN', 'SERVFAIL', 'REFUSED', 'FORMERR')),
            'NOERROR') as rcode,
        bool_or(is_block) as is_block
    from numbered where kind = 'answer'
    group by pid, run_id
),
keyed_runs as (
    -- With log-queries=extra the serial names the query; `reply error is SERVFAIL` has no other link.
    select *, case when serial = '' then first_name else '' end as name_key from runs
),
queries as (
    select line_no, pid, serial, case when serial = '' then lower(q.name) else '' end as name_key,
        upper(q.qtype) as qtype
    from parsed where kind = 'query' and q.name <> ''
),
typed as (
    select q.line_no, r.start_no from queries q
    asof join (select * from keyed_runs where run_type is not null) r
        on q.pid = r.pid and q.serial = r.serial and q.name_key = r.name_key and q.qtype = r.run_type
        and q.line_no < r.start_no
),
untyped as (
    select q.line_no, r.start_no from queries q
    asof join (select * from keyed_runs where run_type is null) r
        on q.pid = r.pid and q.serial = r.serial and q.name_key = r.name_key and q.line_no < r.start_no
),
matched as (
    select m.line_no, r.answers, r.rcode, r.is_block
    from (select line_no, min(start_no) as start_no from (from typed union all from untyped) group by line_no) m
    join runs r on r.start_no = m.start_no
)
select
    p.line_no,
    case
        when not p.has_header then 'not a dnsmasq log line: no syslog header'
        when p.kind = 'query' and p.q.name = ''
            then 'dnsmasq query line not understood (expected "query[TYPE] NAME from CLIENT"): ' || p.body
    end as reject_reason,
    p.has_header and p.kind <> 'query' as is_ignored,
    case when p.kind = 'query' then syslog_time(p.header_ts, $tz, $ref) end as ts,
    nullif(p.q.client, '') as src_ip,
    clean_host(p.q.name) as host,
    'dns_query' as host_source,
    'dns' as network_protocol,
    nullif(upper(p.q.qtype), '') as dns_qtype,
    m.rcode as dns_rcode,
    case when len(m.answers) > 0 then m.answers end as dns_answers,
    case when m.is_block then 'blocked' when m.line_no is not null then 'allowed' else 'unknown' end as action
from parsed p
left join matched m using (line_no)
"""

LOG = Format(
    name="dnsmasq",
    source_kind="dns",
    summary="dnsmasq / Pi-hole log-queries lines (query, reply, cached, gravity blocked ...), answers joined",
    sniff=program_share("dnsmasq", "pihole-FTL"),
    new_parser=syslog_sql_parser(QUERY),
    fields=("ts", "src_ip", "host", "host_source", "network_protocol", "dns_qtype", "dns_rcode", "dns_answers",
            "action"),
)
