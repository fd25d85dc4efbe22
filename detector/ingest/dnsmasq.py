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

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.base import BatchParser, Format, ParseContext, ParseResult, parse_cursor, split_outcomes
from detector.ingest.syslog import SyslogHeaders, define_head_macros, program_share, reference_time

# How many lines may separate a query from its answers and still be joined across a batch boundary.
# dnsmasq logs the answer as the upstream replies (milliseconds): a few lines later, even when busy.
PAIR_LINES = 4096

# Each line read: its kind (query, forwarded, answer, other) and fields, scalars only.
MARK = r"""
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
)
select * exclude (name, source),
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
"""

# Answer runs (`runs`, from `answer_runs`) joined to the queries they answer; one row per line of `marked`.
JOIN = r"""
with keyed_runs as (
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



def new_parser(context: ParseContext) -> BatchParser:
    """Lines read in SQL (`MARK`), answer runs found in Arrow (`answer_runs`), queries joined in SQL (`JOIN`)."""
    define_head_macros(context.connection)
    headers = SyslogHeaders(context.timezone, reference_time(context.path, context.timezone))

    def parse(lines: pa.Table) -> ParseResult:
        with parse_cursor(context.connection) as cursor:
            cursor.register("syslog", _syslog(cursor, headers, lines))
            marked = cursor.sql(MARK).to_arrow_table()
            cursor.register("marked", marked)
            cursor.register("runs", answer_runs(marked))
            result = cursor.sql(JOIN).to_arrow_table()
        return split_outcomes(result, lines)

    return parse


def _syslog(cursor: duckdb.DuckDBPyConnection, headers: SyslogHeaders, lines: pa.Table) -> pa.Table:
    """The lines with their syslog headers' columns, each distinct header read once where that pays."""
    headed = headers.read(cursor, lines)
    if headed is None:  # no header worth reading once (see SyslogHeaders.read): every line read whole
        cursor.register("lines", lines)
        headed = cursor.sql("select * from syslog_lines($tz, $ref)",
                            params={"tz": headers.timezone, "ref": headers.reference}).to_arrow_table()
    return headed


def answer_runs(marked: pa.Table) -> pa.Table:
    """The answer runs of a batch: pid, start_no (first line), serial, first_name, run_type (A, AAAA, or
    the first `<TYPE>`), answers (addresses and CNAME targets, in order), rcode and is_block.

    Answers of one reply are consecutive dnsmasq lines of one process: each line is compared with the one
    before it of its process (queries, forwards and answers; other lines do not count). An answer starts
    a run unless the line before is an answer of the same serial that is a `<CNAME>` (then this line's
    name is the CNAME's target) or that names the same name in a compatible family. A window function
    would sort every line, and grouping the runs again; here one stable sort of the process codes puts
    each process's lines in order, and a run is a stretch of that order. Comparisons follow SQL's rules
    for nulls (Kleene logic), as the query this replaced did.
    """
    kind = marked.column("kind").combine_chunks()
    in_sequence = pc.fill_null(pc.not_equal(kind, "other"), False).to_numpy(zero_copy_only=False)
    line_no = marked.column("line_no").to_numpy()
    process = pc.dictionary_encode(marked.column("pid").combine_chunks().cast(pa.string()))
    process_code = pc.fill_null(process.indices, -1).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(in_sequence)
    order = rows[np.lexsort((line_no[rows], process_code[rows]))]
    first_of_process = np.ones(len(order), dtype=bool)
    first_of_process[1:] = process_code[order[1:]] != process_code[order[:-1]]
    previous = pa.array(np.roll(order, 1), mask=first_of_process)

    def now(name: str) -> pa.Array:
        return pc.take(marked.column(name), pa.array(order)).combine_chunks()

    def before(name: str) -> pa.Array:
        return pc.take(marked.column(name), previous).combine_chunks()

    family, answer, is_answer = now("family"), now("answer"), pc.equal(now("kind"), "answer")
    same_name = pc.equal(before("qname"), now("qname"))
    continues = pc.and_kleene(
        pc.and_kleene(pc.equal(before("kind"), "answer"), pc.equal(now("serial"), before("serial"))),
        pc.or_kleene(pc.equal(before("answer"), "<CNAME>"), pc.and_kleene(same_name, pc.or_kleene(
            pc.or_kleene(pc.is_null(family), pc.is_null(before("family"))), pc.equal(family, before("family"))))))
    run_start = pc.and_(is_answer, pc.invert(pc.fill_null(continues, False)))
    cname_target = pc.if_else(pc.and_kleene(pc.invert(run_start), pc.invert(same_name)), now("qname"), None)
    address = pc.if_else(pc.and_kleene(pc.is_in(family, pa.array(["4", "6"])),
                                       pc.invert(pc.starts_with(answer, "NODATA"))), answer, None)

    # From here on the answer lines only: a run is a stretch of them, from its start to the next start.
    answers = np.flatnonzero(is_answer.to_numpy(zero_copy_only=False))
    starts = run_start.to_numpy(zero_copy_only=False)[answers]
    run_of = np.cumsum(starts) - 1  # each answer line's run, 0-based
    first = answers[starts]
    runs = len(first)

    def first_where(mask: np.ndarray) -> np.ndarray:
        """Per run, the position (in `answers`) of its first line where `mask` holds, or -1."""
        found = np.full(runs, -1, dtype=np.int64)
        hits = np.flatnonzero(mask)
        run_ids, at = np.unique(run_of[hits], return_index=True)
        found[run_ids] = hits[at]
        return found

    def per_run(values: pa.Array, position: np.ndarray) -> pa.Array:
        return pc.take(values, pa.array(answers[np.maximum(position, 0)], mask=position < 0))

    typed = first_where(pc.is_valid(family).to_numpy(zero_copy_only=False)[answers])
    run_type = per_run(family, typed)
    run_type = pc.if_else(pc.equal(run_type, "4"), "A", pc.if_else(pc.equal(run_type, "6"), "AAAA", run_type))
    errors = pc.is_in(answer, pa.array(["NXDOMAIN", "SERVFAIL", "REFUSED", "FORMERR"]))
    rcode = pc.fill_null(per_run(answer, first_where(errors.to_numpy(zero_copy_only=False)[answers])), "NOERROR")
    blocked = pc.fill_null(now("is_block"), False).to_numpy(zero_copy_only=False)[answers]
    # A run's answers: each line's CNAME target, then its address (where there are), in line order.
    items = pa.concat_arrays([pc.take(cname_target, pa.array(answers)), pc.take(address, pa.array(answers))])
    interleaved = pc.take(items, pa.array(np.column_stack([np.arange(len(answers)),
                                                           np.arange(len(answers)) + len(answers)]).ravel()))
    present = pc.is_valid(interleaved).to_numpy(zero_copy_only=False)
    counts = np.bincount(np.repeat(run_of, 2)[present], minlength=runs)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    return pa.table({
        "pid": pc.take(now("pid"), pa.array(first)),
        "start_no": pa.array(line_no[order[first]], pa.int64()),
        "serial": pc.take(now("serial"), pa.array(first)),
        "first_name": pc.take(now("qname"), pa.array(first)),
        "run_type": run_type,
        "answers": pa.ListArray.from_arrays(offsets, interleaved.filter(pa.array(present))),
        "rcode": rcode,
        "is_block": pa.array(np.bincount(run_of[blocked], minlength=runs) > 0),
    })


LOG = Format(
    name="dnsmasq",
    source_kind="dns",
    summary="dnsmasq / Pi-hole log-queries lines (query, reply, cached, gravity blocked ...), answers joined",
    sniff=program_share("dnsmasq", "pihole-FTL"),
    new_parser=new_parser,
    fields=("ts", "src_ip", "host", "host_source", "network_protocol", "dns_qtype", "dns_rcode", "dns_answers",
            "action"),
    context_lines=PAIR_LINES,
    independent_batches=True,
)
