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
Action: `blocked` when a Pi-hole policy or block list answered (`gravity blocked`, `regex blacklisted`,
`/etc/pihole/gravity.list`, `black.list`, `regex.list`: whatever the address, which is Pi-hole's own in
its IP blocking mode), or `config`/another hosts file answered 0.0.0.0, ::, NXDOMAIN or NODATA
(dnsmasq's own way to block: address=/name/; note that `local=/lan/` misses also read `config … is
NXDOMAIN`); `allowed` for any other answer; `unknown` when no answer was found.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, dictionary_array, one_array
from detector.ingest.base import BatchParser, Format, ParseContext, ParseResult, attach_lines, parse_cursor
from detector.ingest.message_tokens import Tokens, codes, constant, folded, indices, is_one_of, lookup, mask, nullable
from detector.ingest.syslog import SyslogHeaders, define_head_macros, program_share, reference_time

# How many lines may separate a query from its answers and still be joined across a batch boundary.
# dnsmasq logs the answer as the upstream replies (milliseconds): a few lines later, even when busy.
PAIR_LINES = 4096

PROGRAMS = ("dnsmasq", "pihole-FTL")
# A line's kind. Queries, forwards and answers make a process's sequence of lines; other lines do not count.
OTHER, QUERY, FORWARDED, ANSWER = 0, 1, 2, 3
# `log-queries=extra`: the client and port after the serial.
CLIENT_PORT = r"^[0-9A-Fa-f:.]+/\d+$"
NO_HEADER = "not a dnsmasq log line: no syslog header"
# dnsmasq logging to stderr (`log-facility=-`, as in containers) writes `dnsmasq[pid]: message` without a time
NO_TIME = ("dnsmasq line without a time (log-facility=- writes none; save container logs with "
           "`docker logs -t`, or log to a file or syslog)")
UNTIMED = r"^(?:dnsmasq|pihole-FTL)\[\d+\]: "
NOT_UNDERSTOOD = 'dnsmasq query line not understood (expected "query[TYPE] NAME from CLIENT"): '

# Per distinct name as logged: the query name and the host it names.
NAMES_SQL = "select lower(value) as qname, clean_host(lower(value)) as host from distinct_values"
# Per distinct `query[TYPE]` token: TYPE.
QTYPES_SQL = "select upper(substr(value, 7, length(value) - 7)) as qtype from distinct_values"
# Per distinct answer: its address family ('4', '6') or record type (`<HTTPS>`: HTTPS; none for NXDOMAIN,
# NODATA, <CNAME>) and the run type it gives (A, AAAA, HTTPS ...); whether it is an address, a CNAME, an
# error, or what dnsmasq's own blocking answers.
ANSWERS_SQL = r"""
select family, case family when '4' then 'A' when '6' then 'AAAA' else family end as run_type,
    family in ('4', '6') and not starts_with(value, 'NODATA') as is_address,
    value = '<CNAME>' as is_cname,
    value in ('NXDOMAIN', 'SERVFAIL', 'REFUSED', 'FORMERR') as is_error,
    value in ('0.0.0.0', '::', 'NXDOMAIN', 'NODATA', 'NODATA-IPv4', 'NODATA-IPv6') as blocks_if_configured
from (
    select value, case
        when value like '%:%' or value = 'NODATA-IPv6' then '6'
        when regexp_matches(value, '^\d+\.\d+\.\d+\.\d+$') or value = 'NODATA-IPv4' then '4'
        when value like '<%>' and value <> '<CNAME>' then upper(trim(value, '<>'))
    end as family
    from distinct_values
)
"""
# Pi-hole's block lists, read by dnsmasq as hosts files (Pi-hole v4 and before: `/etc/pihole/gravity.list`, the
# blacklist `black.list`, the regex list): an answer from one is a block whatever its address, as in Pi-hole's
# IP blocking mode (BLOCKINGMODE=IP, IP-NODATA-AAAA) the answer is Pi-hole's own address, not 0.0.0.0.
BLOCK_LISTS = ("gravity.list", "black.list", "blacklist.txt", "regex.list")
# Per distinct answer source (`reply`, `cached`, `gravity blocked`, a hosts file ...): a Pi-hole policy (or block
# list), or dnsmasq's configuration (address=/local=, a hosts file).
SOURCES_SQL = """
select value like '%blocked%' or value like '%blacklisted%' or value like '%denied%'
        or value in ('special domain', 'Apple iCloud Private Relay domain')
        or (value like '/%' and regexp_extract(value, '[^/]*$') in (@BLOCK_LISTS@)) as is_policy,
    value = 'config' or value like '/%' as is_configured
from distinct_values
""".replace("@BLOCK_LISTS@", ", ".join(f"'{name}'" for name in BLOCK_LISTS))
ACTIONS = pa.array(["blocked", "allowed", "unknown"])


@dataclass
class Lines:
    """A batch's lines read: per line (numpy) its kind and the codes the join compares (equal values, equal
    codes; -1 for none); per distinct name and answer what the events show."""

    kind: np.ndarray
    understood: np.ndarray  # a query line of the expected shape: an event
    has_header: np.ndarray
    position: np.ndarray  # where the message proper starts (after a serial and client); -1 if unknown
    process: np.ndarray
    serial: np.ndarray
    has_serial: np.ndarray  # log-queries=extra: the serial, not the name, links a query to its answers
    name: np.ndarray  # the name (lower case) of queries and answers
    answer: np.ndarray  # an answer line's row in `answers`
    blocks: np.ndarray  # an answer line that blocks
    name_index: np.ndarray  # each line's row in `names`
    names: pa.Table  # per distinct name as logged: qname, host
    answers: pa.Table  # per distinct answer: value, family, run_type, is_address, is_cname, is_error
    qtype_index: np.ndarray  # each understood query's row in `qtypes`
    qtypes: pa.Array  # per distinct `query[TYPE]` token: TYPE
    tokens: Tokens


@dataclass
class Runs:
    """The answer runs of a batch (see `answer_runs`): per run its key, start and answers."""

    first: np.ndarray  # its first line (row)
    run_type: pa.Array  # A, AAAA, or the first `<TYPE>`; null when untyped
    start: np.ndarray  # line number of its first line
    answers: pa.ListArray  # addresses and CNAME targets, in order; null when none
    rcode: pa.Array
    blocks: np.ndarray


def new_parser(context: ParseContext) -> BatchParser:
    """Lines read with Arrow (`read_lines`, each distinct value through SQL once per file), queries joined
    with their answers in numpy (`answer_runs`, `matched_runs`)."""
    define_head_macros(context.connection)
    headers = SyslogHeaders(context.timezone, reference_time(context.path, context.timezone))
    queries = {name: DistinctQuery(sql) for name, sql in
               (("names", NAMES_SQL), ("qtypes", QTYPES_SQL), ("answers", ANSWERS_SQL), ("sources", SOURCES_SQL))}

    def parse(lines: pa.Table) -> ParseResult:
        with parse_cursor(context.connection) as cursor:
            headed = headers.read(cursor, lines)
            read = read_lines(cursor, headed, queries)
            line_no = lines.column("line_no").to_numpy()
            runs = answer_runs(read, line_no)
            events = _events(headed, read, runs, matched_runs(read, runs, line_no), line_no)
        ignored = int(np.count_nonzero(read.has_header & (read.kind != QUERY)))
        return ParseResult(events, _rejects(read, lines), ignored)

    return parse


def read_lines(cursor: duckdb.DuckDBPyConnection, headed: pa.Table, queries: dict[str, DistinctQuery]) -> Lines:
    """Each line's kind and fields: `HEADER dnsmasq[pid]: [[TCP|UDP ]SERIAL [CLIENT/PORT ]]MESSAGE`."""
    rows = headed.num_rows
    has_header = ~is_one_of(headed.column("header_ts"), [""], null=True)
    is_dnsmasq = is_one_of(headed.column("app"), PROGRAMS)
    tokens = Tokens(one_array(headed.column("msg")), is_dnsmasq)
    # log-queries=extra prefixes `[TCP|UDP ]SERIAL [CLIENT/PORT ]`
    nowhere = np.zeros(rows, np.int64)
    start = np.zeros(rows, np.int64)
    maybe = np.flatnonzero(tokens.length(nowhere) == 3)  # TCP or UDP: only such lines are read further
    start[maybe] = mask(pc.is_in(tokens.at(nowhere[maybe], maybe), pa.array(["TCP", "UDP"])))
    leading = tokens.first_byte(start)
    maybe = np.flatnonzero((leading >= ord("0")) & (leading <= ord("9")))
    serial_text = tokens.at(start[maybe], maybe)
    has_serial = np.zeros(rows, dtype=bool)
    has_serial[maybe] = mask(pc.ascii_is_decimal(serial_text))
    position = start.copy()
    serial_rows = np.flatnonzero(has_serial)
    client = pc.match_substring_regex(tokens.at(start[serial_rows] + 1, serial_rows), CLIENT_PORT)
    position[serial_rows] = np.where(pc.is_valid(client).to_numpy(zero_copy_only=False),
                                     start[serial_rows] + 1 + mask(client), -1)
    is_at = tokens.first("is")  # answers: SOURCE… NAME is ANSWER [(extra)]
    word = tokens.at(position)
    kind = np.select(
        [mask(pc.starts_with(word, "query[")), mask(pc.equal(word, "forwarded")),
         (position >= 0) & (is_at >= position + 2) & ~mask(pc.is_in(word, pa.array(["validation", "non-query"])))],
        [QUERY, FORWARDED, ANSWER], OTHER).astype(np.int8)
    kind[~is_dnsmasq] = OTHER

    # SOURCE… NAME is ANSWER and query[TYPE] NAME, each as one span of its message read once per distinct span.
    answer_rows = np.flatnonzero(kind == ANSWER)
    said = pc.dictionary_encode(tokens.span(answer_rows, position[answer_rows], is_at[answer_rows] + 2))
    said_tokens, said_count = Tokens(said.dictionary), len(said.dictionary)
    said_is = said_tokens.first("is")
    answer_text = pc.dictionary_encode(said_tokens.at(said_is + 1))
    source = pc.dictionary_encode(said_tokens.span(np.arange(said_count), np.zeros(said_count, np.int64), said_is - 1))
    # query[TYPE] NAME from CLIENT: the query's shape is its span's (`query[TYPE] NAME from`) and its length
    query_rows = np.flatnonzero(kind == QUERY)
    asked = pc.dictionary_encode(tokens.span(query_rows, position[query_rows], position[query_rows] + 3))
    asked_tokens, asked_count = Tokens(asked.dictionary), len(asked.dictionary)
    nowhere_asked = np.zeros(asked_count, np.int64)
    shaped = ((asked_tokens.counts == 3) & mask(pc.ends_with(asked_tokens.at(nowhere_asked), "]"))
              & (asked_tokens.length(nowhere_asked + 1) > 0) & asked_tokens.equal(nowhere_asked + 2, "from"))
    understood = np.zeros(rows, dtype=bool)
    understood[query_rows] = (tokens.counts[query_rows] == position[query_rows] + 4) & shaped[indices(asked)]
    qtype_token = pc.dictionary_encode(asked_tokens.at(np.zeros(asked_count, np.int64)))

    names = pc.dictionary_encode(pa.concat_arrays([said_tokens.at(said_is - 1),
                                                   asked_tokens.at(np.ones(asked_count, np.int64))]))
    named = queries["names"].results_for(cursor, names.dictionary)
    name_index = np.full(rows, -1, dtype=np.int64)
    name_index[answer_rows] = indices(names)[:said_count][indices(said)]
    name_index[query_rows] = indices(names)[said_count:][indices(asked)]
    name = lookup(codes(named.column("qname")), name_index, -1)

    answer = np.full(rows, -1, dtype=np.int64)
    answer[answer_rows] = indices(answer_text)[indices(said)]
    answers = queries["answers"].results_for(cursor, answer_text.dictionary)
    sources = queries["sources"].results_for(cursor, source.dictionary)
    source_index = indices(source)
    said_blocks = lookup(mask(sources.column("is_policy")), source_index, False) | (
        lookup(mask(sources.column("is_configured")), source_index, False)
        & lookup(mask(answers.column("blocks_if_configured")), indices(answer_text), False))
    blocks = np.zeros(rows, dtype=bool)
    blocks[answer_rows] = said_blocks[indices(said)]
    answers = pa.table({"value": answer_text.dictionary, "family": codes(answers.column("family")),
                        **{name: answers.column(name) for name in ("run_type", "is_address", "is_cname", "is_error")}})
    qtype_index = np.full(rows, -1, dtype=np.int64)
    qtype_index[query_rows] = np.where(understood[query_rows], indices(qtype_token)[indices(asked)], -1)
    qtypes = queries["qtypes"].results_for(cursor, qtype_token.dictionary).column("qtype").combine_chunks()
    serial = np.zeros(rows, dtype=np.int64)  # '' for lines without a serial
    serial[maybe] = np.where(has_serial[maybe], codes(serial_text) + 1, 0)
    return Lines(kind, understood, has_header, position, codes(headed.column("pid")), serial, has_serial, name,
                 answer, blocks, name_index, named, answers, qtype_index, qtypes, tokens)


def answer_runs(read: Lines, line_no: np.ndarray) -> Runs:
    """The answer runs of a batch: answers of one reply are consecutive dnsmasq lines of one process, so
    each line is compared with the one before it of its process (queries, forwards and answers). An answer
    starts a run unless the line before is an answer of the same serial that is a `<CNAME>` (then this
    line's name is the CNAME's target) or that names the same name in a compatible family. One stable sort
    of the process codes puts each process's lines in order; a run is a stretch of that order."""
    rows = np.flatnonzero(read.kind != OTHER)
    span = int(line_no.max(initial=0)) + 1
    order = rows[np.argsort((read.process[rows] + 1) * span + line_no[rows])]  # by process, then line
    first_of_process = np.ones(len(order), dtype=bool)
    first_of_process[1:] = read.process[order[1:]] != read.process[order[:-1]]
    previous = np.roll(order, 1)
    is_answer = read.kind[order] == ANSWER
    after_answer = ~first_of_process & (read.kind[previous] == ANSWER)
    answer, previous_answer = read.answer[order], read.answer[previous]
    family_of = read.answers.column("family").to_numpy()
    family, previous_family = lookup(family_of, answer, -1), lookup(family_of, previous_answer, -1)
    same_name = read.name[order] == read.name[previous]
    continues = after_answer & (read.serial[order] == read.serial[previous]) & (
        lookup(mask(read.answers.column("is_cname")), previous_answer, False)
        | (same_name & ((family < 0) | (previous_family < 0) | (family == previous_family))))

    # From here on the answer lines only (`at`, in the order): a run is a stretch of them, from a start to the next.
    at = np.flatnonzero(is_answer)
    starts = ~continues[at]
    run_of = np.cumsum(starts) - 1  # each answer line's run, 0-based
    first = order[at[starts]]  # each run's first line
    runs = len(first)
    answer = answer[at]

    def first_where(mask: np.ndarray) -> np.ndarray:
        """Per run, the answer (its row in `read.answers`) of its first line where `mask` holds, or -1."""
        found = np.full(runs, -1, dtype=np.int64)
        hits = np.flatnonzero(mask)
        first_hit = np.ones(len(hits), dtype=bool)
        first_hit[1:] = run_of[hits[1:]] != run_of[hits[:-1]]
        found[run_of[hits[first_hit]]] = answer[hits[first_hit]]
        return found

    run_type = read.answers.column("run_type").combine_chunks().take(nullable(first_where(family[at] >= 0)))
    rcode = pc.fill_null(read.answers.column("value").combine_chunks().take(
        nullable(first_where(lookup(mask(read.answers.column("is_error")), answer, False)))), "NOERROR")
    # A run's answers: each line's CNAME target (a line after the first, of another name), then its address.
    target = ~starts & ~same_name[at]
    address = lookup(mask(read.answers.column("is_address")), answer, False)
    named = read.names.column("qname").combine_chunks()
    values = pa.concat_arrays([named, read.answers.column("value").combine_chunks()])
    item = np.column_stack([read.name_index[order[at]], answer + len(named)]).ravel()
    present = np.column_stack([target, address]).ravel()
    counts = np.bincount(run_of, weights=target.astype(np.int64) + address, minlength=runs).astype(np.int64)
    items = values.take(pa.array(item[present]))
    return Runs(
        first=first, run_type=run_type, start=line_no[first],
        answers=pa.ListArray.from_arrays(pa.array(np.concatenate([[0], np.cumsum(counts)]), pa.int32()), items,
                                         mask=pa.array(counts == 0)),  # no answers: null
        rcode=rcode, blocks=np.bincount(run_of[read.blocks[order[at]]], minlength=runs) > 0)



def matched_runs(read: Lines, runs: Runs, line_no: np.ndarray) -> np.ndarray:
    """Per understood query line (in line order), the run it takes (its row in `runs`), -1 for none.

    A query takes the first run after it of its process, serial and name key (with `log-queries=extra`
    the serial names the query, so the name key is empty; without it, the name) whose type fits: the
    first typed run of its type or the first untyped run (NXDOMAIN, NODATA, CNAME only), whichever comes
    first. Found like an as-of join (`_first_after`).
    """
    queries = np.flatnonzero(read.understood)
    best = np.full(len(queries), -1, dtype=np.int64)
    if len(queries) == 0 or len(runs.start) == 0:
        return best
    no_name = read.name.max(initial=-1) + 1  # the name key of lines with a serial

    def key_of(rows: np.ndarray) -> list[np.ndarray]:
        return [read.process[rows], read.serial[rows], np.where(read.has_serial[rows], no_name, read.name[rows])]

    types = codes(pa.concat_arrays([read.qtypes, runs.run_type.cast(pa.string())]))
    query_type, run_type = types[:len(read.qtypes)][read.qtype_index[queries]], types[len(read.qtypes):]
    for typed in (True, False):
        taking = np.flatnonzero((run_type >= 0) == typed)
        if len(taking) == 0:
            continue
        query_keys, run_keys = key_of(queries), key_of(runs.first[taking])
        if typed:
            query_keys.append(query_type)
            run_keys.append(run_type[taking])
        found = _first_after(query_keys, line_no[queries], run_keys, runs.start[taking])
        found = np.where(found >= 0, taking[np.maximum(found, 0)], -1)
        earlier = (found >= 0) & ((best < 0) | (runs.start[np.maximum(found, 0)] < runs.start[np.maximum(best, 0)]))
        best = np.where(earlier, found, best)
    return best


def _first_after(query_keys: list[np.ndarray], query_at: np.ndarray, run_keys: list[np.ndarray],
                 run_at: np.ndarray) -> np.ndarray:
    """For each query (key parts `query_keys`, line `query_at`), the index of the first run of equal key at a
    later line (`run_at`), or -1. A null key part (code -1) matches nothing, as in SQL. The parts are folded
    into one number (renumbered densely only if it would grow too large), so that key and line make one
    sortable number: the runs sorted once, each query found by binary search."""
    queries = len(query_at)
    valid = np.logical_and.reduce([np.concatenate([q, r]) >= 0 for q, r in zip(query_keys, run_keys, strict=True)])
    span = int(max(query_at.max(initial=0), run_at.max(initial=0))) + 1
    key = folded([np.concatenate([q, r]) for q, r in zip(query_keys, run_keys, strict=True)], span)
    runs = np.flatnonzero(valid[queries:])
    if len(runs) == 0:
        return np.full(queries, -1, dtype=np.int64)
    placed = key[queries:][runs] * span + run_at[runs]
    sorting = np.argsort(placed)
    placed, runs = placed[sorting], runs[sorting]
    asked = key[:queries] * span + query_at
    in_order = np.argsort(asked)  # sorted needles: the binary searches walk the runs once
    found = np.empty(queries, dtype=np.int64)
    found[in_order] = np.searchsorted(placed, asked[in_order], side="right")
    hit = (found < len(placed)) & valid[:queries]
    hit[hit] = placed[found[hit]] // span == key[:queries][hit]
    return np.where(hit, runs[np.minimum(found, len(runs) - 1)], -1)


def _events(headed: pa.Table, read: Lines, runs: Runs, taken: np.ndarray, line_no: np.ndarray) -> pa.Table:
    """One event per understood query line with a header, with the answers of the run it took."""
    queries = np.flatnonzero(read.understood)
    kept = read.has_header[queries]
    rows, taken = queries[kept], taken[kept]
    picked = nullable(taken)
    action = np.where(taken < 0, 2, np.where(lookup(runs.blocks, taken, False), 0, 1))
    return pa.table({
        "line_no": pa.array(line_no[rows], pa.int64()),
        "ts": headed.column("ts").take(pa.array(rows)),
        "src_ip": read.tokens.at(read.position[rows] + 3, rows),
        "host_source": constant("dns_query", len(rows)),
        "network_protocol": constant("dns", len(rows)),
        "dns_qtype": dictionary_array(pa.array(read.qtype_index[rows], pa.int32()), read.qtypes),
        "dns_rcode": runs.rcode.take(picked),
        "dns_answers": runs.answers.take(picked),
        "action": dictionary_array(pa.array(action, pa.int32()), ACTIONS),
        "host": dictionary_array(pa.array(read.name_index[rows], pa.int32()),
                                 read.names.column("host").combine_chunks()),
    })


def _rejects(read: Lines, lines: pa.Table) -> pa.Table:
    """Lines without a syslog header, and query lines not of the expected shape."""
    rows = np.flatnonzero(~read.has_header | ((read.kind == QUERY) & ~read.understood))
    text = read.tokens.span(rows, np.maximum(read.position[rows], 0))
    no_header = ~read.has_header[rows]
    reason = pc.if_else(pa.array(no_header), NO_HEADER, pc.binary_join_element_wise(NOT_UNDERSTOOD, text, ""))
    if no_header.any():
        untimed = pc.fill_null(pc.match_substring_regex(lines.column("line").combine_chunks().take(pa.array(rows)),
                                                        UNTIMED), False)
        reason = pc.if_else(pc.and_(pa.array(no_header), untimed), NO_TIME, reason)
    return attach_lines(pa.array(lines.column("line_no").to_numpy()[rows], pa.int64()), reason, lines)


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
