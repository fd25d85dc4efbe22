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

import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery
from detector.ingest.base import BatchParser, Format, ParseContext, ParseResult, parse_cursor, split_outcomes
from detector.ingest.distinct_sql import encoded, plain, through
from detector.ingest.syslog import SyslogHeaders, define_head_macros, program_of, reference_time

# Parsed with string functions and token positions rather than capturing regular expressions, which
# cost several times more per line (see docs/dns.md, "Throughput").
QUERY = r"""
with headed as (
    -- `syslog`: the lines with their headers, each distinct header read once; `ts` is the header's time
    select line_no, nullif(header_ts, '') as syslog_time_text, ts as header_time,
        case when header_ts = '' then line else msg end as body
    from syslog
),
tokens as (
    select *, string_split(body, ' ') as t from headed
),
located as (
    -- `[TIME] [CATEGORY:] [SEVERITY:] client …` (Infoblox puts the category first): at most four tokens
    -- before `client`. TIME is BIND's `dd-Mon-yyyy HH:MM:SS.mmm` or ISO 8601.
    select *,
        -- (no slice t[1:5]: copying the list costs more than searching all of it)
        case when list_position(t, 'client') <= 5 then list_position(t, 'client') else 0 end as c,
        case when t[1] like '__-___-____' or t[1] like '____-__-__T%' then 1
            when t[2] like '__-___-____' or t[2] like '____-__-__T%' then 2 end as time_at
    from tokens
),
timed_text as (
    select *,
        case when t[time_at] like '____-%' then t[time_at] else t[time_at] || ' ' || t[time_at + 1] end
            as print_time
    from located
),
skip_address as (
    -- `client [@0x…] IP#PORT[:] [(NAME):] [view V:] [UDP:|TCP:] MESSAGE`: find where MESSAGE starts.
    select *, c + 1 + starts_with(t[c + 1], '@')::int as i from timed_text
),
skip_name as (
    select *, i + 1 + starts_with(t[i + 1], '(')::int as j1 from skip_address
),
skip_view as (
    select *, j1 + 2 * (t[j1] = 'view')::int as j2 from skip_name
),
message as (
    select *, j2 + (t[j2] in ('UDP:', 'TCP:'))::int as j from skip_view
),
kinds as (
    select *,
        case
            when c = 0 or not contains(t[i], '#') then
                case when starts_with(body, 'CEF:') and regexp_matches(body, '^CEF:\d+\|Infoblox\|[^|]*\|[^|]*\|RPZ-')
                    then 'cef' else 'other' end
            when t[j] = 'query:' then 'query'
            when t[j] = 'query' and (t[j + 1] is null or t[j + 1] in ('(cache)', 'denied', 'approved')
                or starts_with(t[j + 1], '''')) then 'access'
            when t[j] = 'rpz' or (t[j] = 'disabled' and t[j + 1] = 'rpz') then 'rpz'
            else 'other'
        end as kind,
        split_part(t[i], '#', 1) as client,
        case when starts_with(t[i + 1], '(') then rtrim(substr(t[i + 1], 2), '):') end as paren
    from message
),
fields as (
    select *,
        -- query: NAME CLASS TYPE [FLAGS] [(SERVER)] | query: NAME CLASS TYPE response: RCODE FLAGS [ANSWERS]
        kind = 'query' and t[j + 4] = 'response:' as is_response,
        -- query [(cache)] ['NAME/TYPE/CLASS'] denied|approved [(REASON)]
        j + 1 + (t[j + 1] = '(cache)')::int as quote_at,
        -- [disabled] rpz TRIGGER POLICY rewrite NAME[/TYPE/CLASS] [[TYPE]] via ZONE
        j + (t[j] = 'disabled')::int as rpz_at,
        case when kind = 'cef' then string_split(body, '|') end as cef
    from kinds
),
verdicts as (
    select *,
        starts_with(t[quote_at], '''') as is_quoted,
        t[quote_at + starts_with(t[quote_at], '''')::int] as verdict
    from fields
),
events as (
    select *,
        case kind
            when 'query' then t[j + 1]
            when 'access' then coalesce(
                case when is_quoted then nullif(split_part(substr(t[quote_at], 2), '/', 1), '') end, nullif(paren, ''))
            when 'rpz' then split_part(t[rpz_at + 4], '/', 1)
            when 'cef' then split_part(regexp_extract(cef[8], 'msg="[^"]* rewrite (\S+)', 1), '/', 1)
        end as qname,
        case kind
            when 'query' then t[j + 3]
            when 'access' then case when is_quoted then split_part(t[quote_at], '/', 2) end
            when 'rpz' then coalesce(nullif(split_part(t[rpz_at + 4], '/', 2), ''),
                case when starts_with(t[rpz_at + 5], '[') then trim(t[rpz_at + 5], '[]') end)
            when 'cef' then regexp_extract(cef[8], '(?:^| )qtype=(\S+)', 1)
        end as qtype_text,
        coalesce(case kind
            when 'query' then t[j + 3] is not null and (t[j + 5] is not null or not is_response)
                and (is_response or len(t) <= j + 5)
            when 'access' then verdict in ('denied', 'approved')
            when 'rpz' then t[rpz_at] = 'rpz' and t[rpz_at + 3] = 'rewrite' and t[rpz_at + 4] is not null
            else true
        end, false) as understood,
        case when is_response then t[j + 5] end as rcode,
        -- the answers are read from this text once per distinct text (ANSWERS_SQL), after this query
        case when is_response then array_to_string(t[j + 7:], ' ') end as answer_text
    from verdicts
),
checked as (
    select *,
        kind in ('query', 'access', 'rpz', 'cef') and understood and not (kind = 'access' and verdict = 'approved')
            and not (kind = 'query' and upper(qtype_text) in ('AXFR', 'IXFR')) as is_event,
        case
            when not understood and kind = 'query'
                then 'BIND query line not understood (expected "query: NAME CLASS TYPE FLAGS")'
            when not understood and kind = 'access'
                then 'BIND access-control line not understood (expected "query (cache) ''NAME/TYPE/CLASS'' denied")'
            when not understood and kind = 'rpz'
                then 'BIND RPZ line not understood (expected "rpz TYPE POLICY rewrite NAME via TRIGGER")'
            when kind = 'other' and syslog_time_text is null and print_time is null
                then 'not a BIND log line: no syslog header and no BIND time stamp'
        end as reason
    from events
),
timed as (
    select *,
        case
            when not is_event then null
            when print_time is null then header_time
            when print_time like '____-%' and regexp_matches(print_time, '(Z|[+-]\d{2}:?\d{2})$')
                then try_cast(print_time as timestamptz)
            when print_time like '____-%' then timezone($tz, try_cast(print_time as timestamp))
            when contains(print_time, '.') then timezone($tz, try_strptime(print_time, '%d-%b-%Y %H:%M:%S.%g'))
            else timezone($tz, try_strptime(print_time, '%d-%b-%Y %H:%M:%S'))
        end as ts
    from checked
)
select
    line_no,
    case
        when reason is not null then reason
        when is_event and ts is null
            then 'time stamp not understood: ' || coalesce(print_time, syslog_time_text, '(none)')
    end as reject_reason,
    reason is null and not is_event as is_ignored,
    ts,
    case when kind = 'cef' then regexp_extract(cef[8], '(?:^| )src=(\S+)', 1) else client end as src_ip,
    clean_host(qname) as host,
    'dns_query' as host_source,
    case
        when kind = 'query' and not is_response then trim(coalesce(
            case when starts_with(t[j + 5], '(') then t[j + 5] end,
            case when starts_with(t[j + 4], '(') then t[j + 4] end), '()')
        when kind = 'cef' then nullif(regexp_extract(cef[8], '(?:^| )dst=(\S+)', 1), '')
    end as dst_ip,
    'dns' as network_protocol,
    nullif(upper(qtype_text), '') as dns_qtype,
    rcode as dns_rcode,
    answer_text,
    case
        when kind = 'query' and not is_response then 'unknown'
        when kind = 'query' and rcode = 'REFUSED' then 'blocked'
        when kind = 'query' and answer_text is not null then null  -- by its answers: see ANSWERS_SQL
        when kind = 'query' then 'allowed'
        when kind = 'access' then 'blocked'
        when kind = 'rpz' and (t[j] = 'disabled' or upper(t[rpz_at + 2]) = 'PASSTHRU') then 'allowed'
        when kind = 'cef' and upper(cef[6]) = 'PASSTHRU' then 'allowed'
        else 'blocked'
    end as action
from timed
"""

# A response's answers (A/AAAA addresses, CNAME targets), read from its answer text once per distinct text
# (a name's answers repeat while their TTL runs); answers that are all 0.0.0.0 / :: are a sinkhole: blocked.
ANSWERS_SQL = r"""
select case when len(answers) > 0 then answers end as dns_answers,
    case when len(answers) > 0 and list_bool_and(list_transform(answers, lambda x: x in ('0.0.0.0', '::')))
        then 'blocked' else 'allowed' end as action
from (
    select list_transform(
        regexp_extract_all(regexp_replace(value, '"[^"]*"', '""', 'g'),
            '(?:^| )\S+ \d+ [A-Z]+ (?:A|AAAA|CNAME) ([^\s;]+);', 1),
        lambda x: rtrim(lower(x), '.')) as answers
    from distinct_values
)
"""


def query_parser(context: ParseContext) -> BatchParser:
    """QUERY over the lines with their syslog headers (each distinct header read once, see syslog.py), then
    each distinct answer text through ANSWERS_SQL."""
    define_head_macros(context.connection)
    reference = reference_time(context.path, context.timezone)
    headers = SyslogHeaders(context.timezone, reference)
    answers = DistinctQuery(ANSWERS_SQL)

    def parse(lines: pa.Table) -> ParseResult:
        with parse_cursor(context.connection) as cursor:
            cursor.register("syslog", headers.read(cursor, lines))
            result = cursor.sql(QUERY, params={"tz": context.timezone}).to_arrow_table()
            cursor.unregister("syslog")
            answer_text = result.column("answer_text").combine_chunks()
            read = through(cursor, answers, encoded(answer_text))
        action = result.column("action").combine_chunks()
        result = result.drop_columns(["answer_text"]).append_column("dns_answers", read["dns_answers"])
        result = result.set_column(result.schema.get_field_index("action"), "action",
                                   pc.coalesce(action, plain(read["action"])))
        return split_outcomes(result, lines)

    return parse


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
    new_parser=query_parser,
    independent_batches=True,
    fields=FIELDS,
)
