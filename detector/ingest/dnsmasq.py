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

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.base import Format
from detector.ingest.syslog import joined_lines_parser, program_share

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

# One row per line of `marked`, with the answers of the run its query took (`matched_runs`).
FINAL = r"""
select
    line_no,
    case
        when not has_header then 'not a dnsmasq log line: no syslog header'
        when kind = 'query' and not understood
            then 'dnsmasq query line not understood (expected "query[TYPE] NAME from CLIENT"): ' || text
    end as reject_reason,
    has_header and kind <> 'query' as is_ignored,
    case when kind = 'query' then ts end as ts,
    client as src_ip,
    'dns_query' as host_source,
    'dns' as network_protocol,
    qtype as dns_qtype,
    answer_rcode as dns_rcode,
    case when len(answers) > 0 then answers end as dns_answers,
    case when answer_is_block then 'blocked' when answered then 'allowed' else 'unknown' end as action
from marked
"""


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


def matched_runs(marked: pa.Table, runs: pa.Table) -> dict[str, pa.Array]:
    """Per line, for a query: the run it takes (`answered`) and that run's `answers`, `answer_rcode` and
    `answer_is_block`.

    A query takes the first run after it of its process, serial and name key (with `log-queries=extra`
    the serial names the query, so the name key is empty; without it, the name) whose type fits: the
    first typed run of its type or the first untyped run (NXDOMAIN, NODATA, CNAME only), whichever comes
    first. Found like an as-of join: queries and runs sorted by key, then by line; in that order each
    query's nearest run after it, if of its key, is the one.
    """
    size = len(marked)
    query = pc.fill_null(marked.column("understood"), False).to_numpy(zero_copy_only=False)
    query_rows = np.flatnonzero(query)
    name_key = pc.if_else(pc.equal(marked.column("serial"), ""), marked.column("qname"), "")
    run_name_key = pc.if_else(pc.equal(runs.column("serial"), ""), runs.column("first_name"), "")
    typed = pc.is_valid(runs.column("run_type")).to_numpy(zero_copy_only=False)
    starts = runs.column("start_no").to_numpy()
    line_no = marked.column("line_no").to_numpy()
    best = np.full(len(query_rows), -1, dtype=np.int64)  # per query: the run taken, -1 for none
    for of_type in (True, False):
        run_rows = np.flatnonzero(typed == of_type)
        if len(run_rows) == 0 or len(query_rows) == 0:
            continue
        parts = [("pid", "pid"), ("serial", "serial")] + ([("qtype", "run_type")] if of_type else [])
        keys = [_codes(pc.take(marked.column(q), pa.array(query_rows)), pc.take(runs.column(r), pa.array(run_rows)))
                for q, r in parts]
        keys.append(_codes(pc.take(name_key, pa.array(query_rows)), pc.take(run_name_key, pa.array(run_rows))))
        found = _first_after(keys, line_no[query_rows], starts[run_rows])
        found = np.where(found >= 0, run_rows[np.maximum(found, 0)], -1)
        earlier = (found >= 0) & ((best < 0) | (starts[np.maximum(found, 0)] < starts[np.maximum(best, 0)]))
        best = np.where(earlier, found, best)
    run_of_line = np.full(size, -1, dtype=np.int64)
    run_of_line[query_rows] = best
    taken = pa.array(np.maximum(run_of_line, 0), mask=run_of_line < 0)
    return {
        "answered": pa.array(run_of_line >= 0),
        "answers": pc.take(runs.column("answers"), taken),
        "answer_rcode": pc.take(runs.column("rcode"), taken),
        "answer_is_block": pc.take(runs.column("is_block"), taken),
    }


def _codes(*parts: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Integer codes of the values of `parts` taken one after the other (nulls: -1), for sorting and comparing."""
    values = pa.concat_arrays([
        (part.combine_chunks() if isinstance(part, pa.ChunkedArray) else part).cast(pa.string()) for part in parts])
    return pc.fill_null(pc.dictionary_encode(values).indices, -1).to_numpy(zero_copy_only=False)


def _first_after(keys: list[np.ndarray], query_at: np.ndarray, run_at: np.ndarray) -> np.ndarray:
    """For each query (key codes first, then runs' in `keys`; position `query_at`), the index of the
    first run of equal key at a later position (`run_at`), or -1. A null key part (code -1) matches
    nothing, as in SQL."""
    queries = len(query_at)
    at = np.concatenate([query_at, run_at])
    is_run = np.arange(len(at)) >= queries
    order = np.lexsort([at, *reversed(keys)])
    ordered_keys = [key[order] for key in keys]
    group = np.cumsum(np.concatenate([[True], np.logical_or.reduce(
        [key[1:] != key[:-1] for key in ordered_keys])])) if len(order) else np.zeros(0, dtype=np.int64)
    # The nearest run at or after each place in the order (a run of a later key means none of this key).
    marks = np.where(is_run[order], np.arange(len(order)), len(order))
    nearest = np.minimum.accumulate(marks[::-1])[::-1]
    valid_key = np.logical_and.reduce([key >= 0 for key in ordered_keys])
    hit = (nearest < len(order)) & valid_key
    hit[hit] &= group[nearest[hit]] == group[hit]
    found_sorted = np.where(hit, order[np.minimum(nearest, len(order) - 1)] - queries, -1)
    found = np.full(queries, -1, dtype=np.int64)
    is_query_sorted = ~is_run[order]
    found[order[is_query_sorted]] = found_sorted[is_query_sorted]
    return found


def _joined(marked: pa.Table) -> dict[str, pa.Array]:
    """Answer runs found (`answer_runs`) and taken by the queries (`matched_runs`)."""
    return matched_runs(marked, answer_runs(marked))


# Lines read in SQL (`MARK`), joined in numpy (`_joined`), events made in SQL (`FINAL`).
new_parser = joined_lines_parser(MARK, _joined, FINAL)


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
