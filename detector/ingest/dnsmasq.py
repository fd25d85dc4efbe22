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
address family changes). A query takes the first run after it that answers its name and fits its
type (A: IPv4, AAAA: IPv6, HTTPS: `<HTTPS>`; NXDOMAIN/NODATA/CNAME-only runs fit any type), among
the lines parsed with it: its batch and the `PAIR_LINES` lines before and after that batch
(`Format.context_lines`), so that answers up to that many lines after their query are joined
wherever batches are cut. Several clients asking the same name before the upstream answers share
one run, as dnsmasq shares the reply. With `log-queries=extra` the serial links a query to its
answers instead of the name, which also attributes upstream errors (`reply error is SERVFAIL`);
without it such error lines are ignored. Answer lines are counted as ignored.
Action: `blocked` when a Pi-hole policy answered, or `config`/a hosts file answered 0.0.0.0, ::,
NXDOMAIN or NODATA (dnsmasq's own way to block: address=/name/; note that `local=/lan/` misses also
read `config … is NXDOMAIN`); `allowed` for any other answer; `unknown` when no answer was found.
"""

from __future__ import annotations

from detector.ingest.base import Format
from detector.ingest.syslog import program_share, syslog_head_parser

# How many lines may separate a query from its answers and still be joined across a batch boundary.
# dnsmasq logs the answer as the upstream replies (milliseconds): a few lines later, even when busy.
PAIR_LINES = 4096

QUERY = r"""
with headed as (
    -- `syslog`: the lines with their headers, each distinct header read once (syslog.syslog_head_parser).
    select line_no, header_ts <> '' as has_header, ts as header_time, pid,
        app in ('dnsmasq', 'pihole-FTL') as is_dnsmasq,
        case when app in ('dnsmasq', 'pihole-FTL') then string_split(msg, ' ') end as t
    from syslog
),
extra as (
    -- log-queries=extra prefixes `[TCP|UDP ]SERIAL [CLIENT/PORT ]`.
    select *, 1 + (t[1] in ('TCP', 'UDP'))::int as s0 from headed
),
located as (
    select *,
        case when regexp_matches(t[s0], '^\d+$') then t[s0] else '' end as serial,
        case
            when not regexp_matches(t[s0], '^\d+$') then s0
            else s0 + 1 + regexp_matches(t[s0 + 1], '^[0-9A-Fa-f:.]+/\d+$')::int
        end as s,
        list_position(t, 'is') as is_at  -- answers: SOURCE… NAME is ANSWER [(extra)]
    from extra
),
classified as (
    select *,
        case
            when not is_dnsmasq then 'other'
            when starts_with(t[s], 'query[') then 'query'
            when t[s] = 'forwarded' then 'forwarded'
            when is_at >= s + 2 and t[s] not in ('validation', 'non-query') then 'answer'
            else 'other'
        end as kind,
        len(t) = s + 3 and t[s + 1] <> '' and t[s + 2] = 'from' and ends_with(t[s], ']') as query_shape
    from located
),
parsed as (
    -- query[TYPE] NAME from CLIENT | SOURCE… NAME is ANSWER: scalars only from here on.
    select line_no, has_header, case when kind = 'query' then header_time end as ts,
        pid, serial, kind,
        kind = 'query' and query_shape as understood,
        case when kind = 'query' and not query_shape then array_to_string(t[s:], ' ') end as text,
        case kind when 'query' then t[s + 1] when 'answer' then t[is_at - 1] end as name,
        case when kind = 'query' then t[s + 3] end as client,
        case when kind = 'query' then upper(substr(t[s], 7, length(t[s]) - 7)) end as qtype,
        case when kind = 'answer' then t[is_at + 1] end as answer,
        case when kind = 'answer' then array_to_string(t[s:is_at - 2], ' ') end as source
    from classified
),
marked as materialized (
    select *,
        lower(name) as qname,
        case
            when answer like '%:%' or answer = 'NODATA-IPv6' then '6'
            when regexp_matches(answer, '^\d+\.\d+\.\d+\.\d+$') or answer = 'NODATA-IPv4' then '4'
            when answer like '<%>' and answer <> '<CNAME>' then upper(trim(answer, '<>'))
        end as family,
        source like '%blocked%' or source like '%blacklisted%' or source like '%denied%'
            or source in ('special domain', 'Apple iCloud Private Relay domain')
            or ((source = 'config' or source like '/%')
                and answer in ('0.0.0.0', '::', 'NXDOMAIN', 'NODATA', 'NODATA-IPv4', 'NODATA-IPv6'))
            as is_block
    from parsed
),
sequenced as (
    -- Answers of one reply are consecutive dnsmasq lines of one process: compare each with the line before.
    -- Only the columns the comparison needs go through the window (it sorts what it carries).
    select line_no, pid, kind, serial, qname, answer, family, is_block,
        lag(kind) over w as prev_kind, lag(qname) over w as prev_name, lag(answer) over w as prev_answer,
        lag(family) over w as prev_family, lag(serial) over w as prev_serial
    from marked where kind <> 'other'
    window w as (partition by pid order by line_no)
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
    select *,
        sum(run_start::int) over (partition by pid order by line_no rows unbounded preceding) as run_id
    from starts
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
    select line_no, pid, serial, case when serial = '' then qname else '' end as name_key, qtype
    from marked where understood
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
    n.line_no,
    case
        when not n.has_header then 'not a dnsmasq log line: no syslog header'
        when n.kind = 'query' and not n.understood
            then 'dnsmasq query line not understood (expected "query[TYPE] NAME from CLIENT"): ' || n.text
    end as reject_reason,
    n.has_header and n.kind <> 'query' as is_ignored,
    case when n.kind = 'query' then n.ts end as ts,
    n.client as src_ip,
    clean_host(n.qname) as host,
    'dns_query' as host_source,
    'dns' as network_protocol,
    n.qtype as dns_qtype,
    m.rcode as dns_rcode,
    case when len(m.answers) > 0 then m.answers end as dns_answers,
    case when m.is_block then 'blocked' when m.line_no is not null then 'allowed' else 'unknown' end as action
from marked n
left join matched m using (line_no)
"""

LOG = Format(
    name="dnsmasq",
    source_kind="dns",
    summary="dnsmasq / Pi-hole log-queries lines (query, reply, cached, gravity blocked ...), answers joined",
    sniff=program_share("dnsmasq", "pihole-FTL"),
    new_parser=syslog_head_parser(QUERY),
    fields=("ts", "src_ip", "host", "host_source", "network_protocol", "dns_qtype", "dns_rcode", "dns_answers",
            "action"),
    context_lines=PAIR_LINES,
    independent_batches=True,
)
