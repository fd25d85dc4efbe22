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

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.base import Format
from detector.ingest.syslog import joined_lines_parser, program_share

# How many lines may separate a query from its reply and still be joined across a batch boundary.
PAIR_LINES = 4096

# Each line read: its kind (query, reply, local, other, ...) and fields, one row per line.
MARK = r"""
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
)
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
"""

# One row per line, from `marked` with the outcomes of each query's reply/local-action lines (`pair_outcomes`).
FINAL = r"""
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
    'dns_query' as host_source,
    'dns' as network_protocol,
    upper(qtype) as dns_qtype,
    case when kind = 'query' then answer_rcode else rcode end as dns_rcode,
    case when kind = 'query' then answer_duration_ms else duration_ms end as duration_ms,
    case when kind = 'query' then coalesce(answer_verdict, 'unknown') else coalesce(verdict, 'unknown') end as action
from marked
"""


OUTCOMES = ("reply", "local")


def pair_outcomes(marked: pa.Table) -> dict[str, pa.Array]:
    """Per line: `is_answer` (a reply or local action that answers a query), and for a query the outcome
    of the one or two reply/local-action lines after it (`answer_rcode`, `answer_duration_ms`,
    `answer_verdict`: blocked over allowed over unknown).

    A reply or local-action line answers the query line before it with the same client, name, type and
    class (one or two outcome lines may follow a query): the lookups sorted by that key, then by line,
    put each key's lines in order, and neighbours there are the lines compared. One sort in numpy; the
    window functions this replaced sorted the same, slower.
    """
    kind = marked.column("kind").combine_chunks()
    lookup = pc.is_in(kind, pa.array(["query", *OUTCOMES])).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(lookup)
    keys = [_codes(marked.column(name)) for name in ("client", "qname", "qtype", "qclass")]
    line_no = marked.column("line_no").to_numpy()
    order = rows[np.lexsort([line_no[rows], *(key[rows] for key in reversed(keys))])]
    size = len(order)
    same_as_previous = np.zeros(size, dtype=bool)
    if size > 1:
        same_as_previous[1:] = np.logical_and.reduce([key[order[1:]] == key[order[:-1]] for key in keys])
    key_number = np.cumsum(~same_as_previous)  # the lines of one key are consecutive in `order`
    query_line = pc.equal(kind, "query").to_numpy(zero_copy_only=False)
    outcome_line = pc.is_in(kind, pa.array(OUTCOMES)).to_numpy(zero_copy_only=False)

    def neighbour(step: int) -> tuple[np.ndarray, np.ndarray]:
        """Per lookup in `order`: the row `step` lines away within its key, and whether there is one."""
        at = np.arange(size) + step
        clipped = np.clip(at, 0, max(size - 1, 0))
        return order[clipped], (at >= 0) & (at < size) & (key_number[clipped] == key_number)

    is_query, is_outcome = query_line[order], outcome_line[order]
    (previous_1, has_previous_1), (previous_2, has_previous_2) = neighbour(-1), neighbour(-2)
    is_answer = is_outcome & ((has_previous_1 & query_line[previous_1]) | (
        has_previous_1 & outcome_line[previous_1] & has_previous_2 & query_line[previous_2]))
    (next_1, has_next_1), (next_2, has_next_2) = neighbour(1), neighbour(2)
    first = is_query & has_next_1 & outcome_line[next_1]  # a query with an outcome line after it
    second = first & has_next_2 & outcome_line[next_2]  # ... and a second one

    def outcome(name: str) -> pa.Array:
        """The first outcome line's value, else the second's (where there is a second)."""
        values = marked.column(name).combine_chunks()
        return pc.coalesce(pc.take(values, pa.array(next_1, mask=~first)),
                           pc.take(values, pa.array(next_2, mask=~second)))

    verdict = marked.column("verdict").combine_chunks()
    verdicts = [pc.fill_null(pc.take(verdict, pa.array(rows_at, mask=~where)), "") for rows_at, where in
                ((next_1, first), (next_2, second))]
    answer_verdict = pc.if_else(
        pc.or_(pc.equal(verdicts[0], "blocked"), pc.equal(verdicts[1], "blocked")), "blocked",
        pc.if_else(pc.or_(pc.equal(verdicts[0], "allowed"), pc.equal(verdicts[1], "allowed")), "allowed", "unknown"))
    # Back to line order; lines that are no lookup get nulls.
    position = np.zeros(len(marked), dtype=np.int64)
    position[order] = np.arange(size)
    back = pa.array(position, mask=~lookup)
    return {
        "is_answer": pc.take(pa.array(is_answer), back),
        "answer_rcode": pc.take(outcome("rcode"), back),
        "answer_duration_ms": pc.take(outcome("duration_ms"), back),
        "answer_verdict": pc.take(pc.if_else(pa.array(first), answer_verdict, None), back),
    }


def _codes(column: pa.ChunkedArray) -> np.ndarray:
    """Integer codes of a column's values (nulls: -1), for sorting and comparing."""
    values = column.combine_chunks()
    if pa.types.is_dictionary(values.type):  # its dictionary may hold a value twice
        values = values.cast(values.type.value_type)
    return pc.fill_null(pc.dictionary_encode(values).indices, -1).to_numpy(zero_copy_only=False)


# Lines read in SQL (`MARK`), queries paired with their outcome lines in numpy (`pair_outcomes`).
new_parser = joined_lines_parser(MARK, pair_outcomes, FINAL)

OWN_FILE = re.compile(r"^\[\d+\] unbound\[\d+:\d+\] ")

LOG = Format(
    name="unbound",
    source_kind="dns",
    summary="Unbound log-queries / log-replies / log-local-actions lines (syslog, pfSense, OPNsense, own file)",
    sniff=program_share("unbound", also=OWN_FILE),
    new_parser=new_parser,
    fields=("ts", "src_ip", "host", "host_source", "network_protocol", "dns_qtype", "dns_rcode", "duration_ms",
            "action"),
    context_lines=PAIR_LINES,
    independent_batches=True,
)
