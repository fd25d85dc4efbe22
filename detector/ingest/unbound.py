"""Unbound query, reply and local-action logs, through syslog (pfSense, OPNsense, Linux) or its own file.

Headers: any syslog header (see syslog.py), whose message starts with `[pid:thread]`, or Unbound's own
log file (`logfile:`, util/log.c): `[epoch] unbound[pid:thread] level: …`, with `log-time-ascii: yes`
`Mmm dd HH:MM:SS unbound[pid:thread] level: …` (year-less, local time), with `log-time-iso: yes` as well
`YYYY-MM-DDTHH:MM:SS.mmm+hh:mm unbound[pid:thread] level: …` (the thread in hex). The last two read as
a syslog header whose host is `unbound[pid:thread]` and whose tag is the level: the message is then the
level and what follows it.
Lookups, after `info:` (or `query:` / `reply:` with `log-tag-queryreply`):
- `log-queries`: `CLIENT NAME. TYPE CLASS`: logged on arrival, so action `unknown`;
- `log-replies`: `CLIENT NAME. TYPE CLASS RCODE SECONDS CACHED SIZE`: `allowed` (REFUSED, which
  `access-control` deny/refuse gives: `blocked`); SECONDS fills `duration_ms`; with `log-destaddr`
  (1.19.1+) followed by `on TYPE ADDRESS PORT`, where the query arrived (udp, tcp, dot, doh ...: not read);
- `log-local-actions` (and `inform` zones): `ZONE. ZONETYPE CLIENT@PORT NAME. TYPE CLASS`: blocked for
  deny, refuse, redirect, always_* and inform_deny/inform_redirect zones, allowed for transparent,
  typetransparent and inform, unknown for static (local data, or NXDOMAIN for the rest of the zone);
- `rpz-log` (an RPZ policy applied): `rpz: applied [LOG-NAME] [TRIGGER] NAME ACTION CLIENT@PORT NAME. TYPE CLASS`:
  blocked for rpz-nxdomain, -nodata, -drop, -local-data and -cname-override, allowed for rpz-passthru, -disabled
  and -tcp-only; like a local action, it answers the query line before it (one without a client is ignored).
One event per query: a reply or local-action line is joined to the latest query line before it with
the same client, name, type and class, and is then counted as ignored; one without such a query line
(`log-replies` alone, or its query more than `PAIR_LINES` lines before it) is an event itself, except a
reply right after a local-action line of its key (`log-local-actions` with `log-replies`, without
`log-queries`: `always_nxdomain` then its `NXDOMAIN` reply), which is joined to that line's event. A batch
boundary between the two does not matter: each batch is parsed with the `PAIR_LINES` lines before and
after it (`Format.context_lines`). A query with
both a local action and a reply (the two lines after it for its key), or a local action with its reply,
takes the stricter: blocked over allowed over unknown.
Other Unbound messages (server stats, sendto failed, start/stop, resolving, validation) are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, dictionary_array, list_item, only_where
from detector.ingest.base import BatchParser, Format, ParseContext, ParseResult, attach_lines, parse_cursor
from detector.ingest.message_tokens import Tokens, codes, constant, folded, indices, is_one_of, lookup, mask, nullable
from detector.ingest.syslog import (
    BSD_TIME,
    ISO_TIME,
    SyslogHeaders,
    define_head_macros,
    program_share,
    reference_time,
)

# How many lines may separate a query from its reply and still be joined across a batch boundary.
PAIR_LINES = 4096

# The tokens `log-destaddr` adds after a reply's size: `on TYPE ADDRESS PORT`.
DESTINATION_FIELDS = 4

# A line's kind: lookups (query, reply, local action) and the rest.
OTHER, FORMERR, QUERY, REPLY, LOCAL, MALFORMED = 0, 1, 2, 3, 4, 5
LEVELS = ("info", "query", "reply")
# Unbound's own file with an ascii or ISO time: its levels (util/log.c), and `ident[pid:thread]` before them.
OWN_LEVELS = ("info", "query", "reply", "notice", "debug", "warning", "error")
OWN_IDENT = r"^[^\s\[\]]+\[\d+:[0-9a-f]+\]$"
CLIENT = r"^(?:\d{1,3}\.){3}\d{1,3}(?:@\d+)?$|^[0-9A-Fa-f]*:[0-9A-Fa-f:.]*(?:@\d+)?$"
ALLOWING_ZONES = ("transparent", "typetransparent", "always_transparent", "inform", "nodefault")
# `rpz-log: yes` (services/rpz.c, log_rpz_apply): `info: rpz: applied [LOG-NAME] [TRIGGER] NAME ACTION CLIENT@PORT
# QNAME TYPE CLASS`, its action one of rpz_action_to_string's. Actions that answer from the policy instead of the
# name's own data block (as deny/redirect zones do); passthru, disabled (logged, not applied) and tcp-only (the
# client asks again over TCP) let the lookup through.
RPZ_BLOCKING = ("rpz-nxdomain", "rpz-nodata", "rpz-drop", "rpz-local-data", "rpz-cname-override")
RPZ_ALLOWING = ("rpz-passthru", "rpz-disabled", "rpz-tcp-only")
NOT_UNBOUND = "not an Unbound log line: no syslog header and no [epoch] unbound[pid] prefix"
NOT_UNDERSTOOD = 'Unbound query line not understood (expected "CLIENT NAME TYPE CLASS"): '
NO_TIME = "time stamp not understood"
VERDICTS = pa.array(["blocked", "allowed", "unknown"])
BLOCKED, ALLOWED, UNKNOWN = 0, 1, 2

# Per distinct value, through SQL once per file.
NAMES_SQL = "select lower(value) as qname, clean_host(lower(value)) as host from distinct_values"
QTYPES_SQL = "select upper(value) as qtype from distinct_values"
# own file: `[epoch]`
# years 1 to 9999 (a larger number would fail the batch: it is a line whose time is not understood)
EPOCHS_SQL = """select to_timestamp(case when try_cast(trim(value, '[]') as bigint)
    between -62135596800 and 253402300799 then try_cast(trim(value, '[]') as bigint) end) as ts from distinct_values"""


@dataclass
class Lines:
    """A batch's lines read: per line (numpy) its kind, codes of its lookup key (client, name, type, class),
    and its own outcome (reply or local action); per distinct value what events show."""

    kind: np.ndarray
    known: np.ndarray  # a syslog header or Unbound's own prefix
    ts: pa.Array
    key: np.ndarray  # lookups: client, name, type and class folded into one number
    lookup_index: np.ndarray  # a lookup line's `CLIENT NAME TYPE CLASS`: its row in the next three
    client: pa.Array  # CLIENT (without @PORT)
    host: pa.Array
    qtype: pa.Array  # in upper case
    reply_rank: np.ndarray  # a reply line's row in `rcode` and `duration_ms`, -1 for other lines
    rcode: pa.Array  # per reply
    duration_ms: pa.Array  # per reply
    verdict: np.ndarray  # replies and local actions: BLOCKED, ALLOWED or UNKNOWN
    malformed: np.ndarray  # the malformed lines
    text: pa.Array  # per malformed line: the message after the level


def new_parser(context: ParseContext) -> BatchParser:
    """Lines read with Arrow (`read_lines`, each distinct value through SQL once per file), queries paired with
    their outcome lines in numpy (`pair_outcomes`)."""
    define_head_macros(context.connection)
    headers = SyslogHeaders(context.timezone, reference_time(context.path, context.timezone))
    queries = {name: DistinctQuery(sql) for name, sql in
               (("names", NAMES_SQL), ("qtypes", QTYPES_SQL), ("epochs", EPOCHS_SQL))}

    def parse(lines: pa.Table) -> ParseResult:
        with parse_cursor(context.connection) as cursor:
            read = read_lines(cursor, headers.read(cursor, lines), queries)
        line_no = lines.column("line_no").to_numpy()
        return _outcomes(read, pair_outcomes(read, line_no), lines)

    return parse


def read_lines(cursor: duckdb.DuckDBPyConnection, headed: pa.Table, queries: dict[str, DistinctQuery]) -> Lines:
    """Each line's kind and fields. syslog: `[pid:thread] level: text`; own file: `[epoch] unbound[pid:thread]
    level: text`. Lookups: query `CLIENT NAME TYPE CLASS`; reply `… RCODE SECONDS CACHED SIZE`; local
    action `ZONE ZONETYPE CLIENT@PORT NAME TYPE CLASS`."""
    rows = headed.num_rows
    has_syslog = ~is_one_of(headed.column("header_ts"), [""], null=True)
    line, msg = _array(headed.column("line")), _array(headed.column("msg"))
    text = msg if has_syslog.all() else line if not has_syslog.any() else pc.if_else(pa.array(has_syslog), msg, line)
    timed_own = _timed_own_file(headed) & has_syslog
    if timed_own.any():  # `TIME unbound[pid:thread] level: text`: the level is the header's tag
        app = pc.cast(_array(headed.column("app")), pa.string())
        text = pc.if_else(pa.array(timed_own), pc.binary_join_element_wise(app, text, ": "), text)
    tokens = Tokens(text)
    nowhere = np.zeros(rows, np.int64)
    first = tokens.at(nowhere)
    bracketed = mask(pc.and_(pc.starts_with(first, "["), pc.ends_with(first, "]"))) & (tokens.length(nowhere) >= 2)
    # own file: `[epoch] unbound[pid:thread] `, the second token like '%[%]'
    is_own = np.zeros(rows, dtype=bool)
    maybe_own = np.flatnonzero(~has_syslog & bracketed)
    second = tokens.at(np.ones(len(maybe_own), np.int64), maybe_own)
    opening = pc.fill_null(pc.find_substring(second, "["), -1).to_numpy(zero_copy_only=False)
    is_own[maybe_own] = (mask(pc.ends_with(second, "]")) & (opening >= 0)
                         & (opening < tokens.length(np.ones(len(maybe_own), np.int64), maybe_own) - 1))
    level_at = np.where(has_syslog, bracketed.astype(np.int64), np.where(is_own, 2, -1))

    def after(offset: int, where: np.ndarray | None = None) -> np.ndarray:
        """The position `offset` tokens after the level (of the rows `where`), -1 for lines without a level."""
        at = level_at if where is None else level_at[where]
        return np.where(at >= 0, at + offset, -1)

    level_token = pc.dictionary_encode(tokens.at(level_at))
    level_of = level_token.dictionary
    level = pc.if_else(pc.ends_with(level_of, ":"), pc.utf8_rtrim(level_of, ":"), pa.scalar(None, pa.string()))
    level_index = indices(level_token)
    other_level = lookup(mask(pc.and_(pc.is_valid(level), pc.invert(pc.is_in(level, pa.array(LEVELS))))),
                         level_index, False)
    is_info = lookup(mask(pc.equal(level, "info")), level_index, False)
    fields = np.where(level_at >= 0, tokens.counts - level_at - 1, -1)  # tokens after the level
    # The four tokens after the level, as one text read once per distinct text: a query's or reply's
    # CLIENT NAME TYPE CLASS (a client asks the same name again and again, and the reply repeats the query's).
    leveled = np.flatnonzero(level_at >= 0)
    head = pc.dictionary_encode(tokens.span(leveled, level_at[leveled] + 1, level_at[leveled] + 5))
    head_tokens = Tokens(head.dictionary)
    head_start = np.zeros(len(head.dictionary), np.int64)
    starts_with_client, is_formerr = np.zeros(rows, dtype=bool), np.zeros(rows, dtype=bool)
    starts_with_client[leveled] = mask(pc.match_substring_regex(head_tokens.at(head_start), CLIENT))[indices(head)]
    is_formerr[leveled] = head_tokens.equal(head_start + 1, "-")[indices(head)]
    # `log-destaddr` (Unbound 1.19.1+) ends a reply with ` on TYPE ADDRESS PORT` (udp, tcp, dot, doh ...)
    with_destination = np.flatnonzero(starts_with_client & (fields == 8 + DESTINATION_FIELDS) & ~other_level)
    destined = np.zeros(rows, dtype=bool)
    if len(with_destination):
        destined[with_destination] = tokens.equal(after(9, with_destination), "on", with_destination)
    reply_like = np.flatnonzero(starts_with_client & ((fields == 8) | destined) & ~other_level)
    seconds = tokens.at(after(6, reply_like), reply_like)
    is_seconds = _decimal_fraction(seconds)
    is_reply = np.zeros(rows, dtype=bool)
    is_reply[reply_like[is_seconds]] = True
    # `rpz-log`: found from the line's end (a log name may hold spaces); a client is needed to pair it
    rpz_like = np.flatnonzero(~starts_with_client & is_info & (fields >= 8))
    is_rpz = np.zeros(rows, dtype=bool)
    if len(rpz_like):
        ends = tokens.counts[rpz_like]
        is_rpz[rpz_like] = (tokens.equal(after(1, rpz_like), "rpz:", rpz_like)
                            & tokens.equal(after(2, rpz_like), "applied", rpz_like)
                            & mask(pc.match_substring_regex(tokens.at(ends - 4, rpz_like), CLIENT))
                            & mask(pc.starts_with(tokens.at(ends - 5, rpz_like), "rpz-"))
                            & mask(pc.match_substring(tokens.at(ends - 4, rpz_like), "@")))
    local_like = np.flatnonzero(~starts_with_client & is_info & (fields == 6))
    zone_type = pc.dictionary_encode(tokens.at(after(2, local_like), local_like))
    is_local = np.zeros(rows, dtype=bool)
    is_local[local_like] = (mask(pc.match_substring(tokens.at(after(3, local_like), local_like), "@"))
                            & lookup(mask(pc.match_substring_regex(zone_type.dictionary, "^[a-z_]+$")),
                                     indices(zone_type), False))
    kind = np.select(
        [other_level, starts_with_client & is_formerr, starts_with_client & (fields == 4),
         is_reply, starts_with_client, is_local | is_rpz],
        [OTHER, FORMERR, QUERY, REPLY, MALFORMED, LOCAL], OTHER).astype(np.int8)

    # The lookup's fields: CLIENT NAME TYPE CLASS, after ZONE ZONETYPE for a local action (read as above), the
    # last four tokens of an RPZ line.
    locals_ = np.flatnonzero(kind == LOCAL)
    local_rpz = is_rpz[locals_]
    local_start = np.where(local_rpz, tokens.counts[locals_] - 4, level_at[locals_] + 3)
    local_text = pc.dictionary_encode(tokens.span(locals_, local_start, local_start + 4))
    lookup_index = np.full(rows, -1, dtype=np.int64)
    lookup_index[leveled] = indices(head)
    lookup_index[locals_] = indices(local_text) + len(head.dictionary)
    lookup_index[(kind != QUERY) & (kind != REPLY) & (kind != LOCAL)] = -1
    parts = pc.split_pattern(pa.concat_arrays([head.dictionary, local_text.dictionary]), " ")
    client = list_item(pc.split_pattern(list_item(parts, 0), "@", max_splits=1), 0)
    names = pc.dictionary_encode(list_item(parts, 1))
    named = queries["names"].results_for(cursor, names.dictionary)
    qtype, qclass = pc.dictionary_encode(list_item(parts, 2)), list_item(parts, 3)
    upper = queries["qtypes"].results_for(cursor, qtype.dictionary).column("qtype").combine_chunks()
    key = lookup(folded([codes(client), lookup(codes(named.column("qname")), indices(names), -1), indices(qtype),
                         codes(qclass)]), lookup_index, -1)
    replies = np.flatnonzero(kind == REPLY)
    reply_rank = np.full(rows, -1, dtype=np.int64)
    reply_rank[replies] = np.arange(len(replies))
    rcode = tokens.at(level_at[replies] + 5, replies)
    reply_like_rank = np.full(rows, -1, dtype=np.int64)
    reply_like_rank[reply_like] = np.arange(len(reply_like))
    seconds = pc.cast(seconds.take(pa.array(reply_like_rank[replies])), pa.float64())  # checked: digits.digits
    duration = pc.cast(pc.round(pc.multiply(seconds, 1000.0), round_mode="half_towards_infinity"), pa.int64())
    verdict = np.full(rows, UNKNOWN, dtype=np.int8)
    verdict[replies] = np.where(mask(pc.equal(rcode, "REFUSED")), BLOCKED, ALLOWED)
    zone = pc.dictionary_encode(tokens.at(level_at[locals_] + 2, locals_))
    verdict[locals_] = lookup(np.select([mask(pc.is_in(zone.dictionary, pa.array(ALLOWING_ZONES))),
                                         mask(pc.equal(zone.dictionary, "static"))], [ALLOWED, UNKNOWN], BLOCKED),
                              indices(zone), UNKNOWN)
    rpz = locals_[local_rpz]
    if len(rpz):
        action = pc.dictionary_encode(tokens.at(tokens.counts[rpz] - 5, rpz))
        verdict[rpz] = lookup(np.select([mask(pc.is_in(action.dictionary, pa.array(RPZ_BLOCKING))),
                                         mask(pc.is_in(action.dictionary, pa.array(RPZ_ALLOWING)))],
                                        [BLOCKED, ALLOWED], UNKNOWN), indices(action), UNKNOWN)

    # Times: the header's, or the own file's `[epoch]`.
    ts = _array(headed.column("ts"))
    if is_own.any():
        epochs = pc.dictionary_encode(only_where(first, pa.array(is_own & (lookup_index >= 0))))
        epoch_ts = queries["epochs"].results_for(cursor, epochs.dictionary).column("ts").combine_chunks()
        ts = pc.if_else(pa.array(is_own), epoch_ts.take(epochs.indices).cast(ts.type), ts)
    malformed = np.flatnonzero(kind == MALFORMED)
    return Lines(
        kind=kind, known=has_syslog | is_own, ts=ts, key=key, lookup_index=lookup_index, client=client,
        host=named.column("host").combine_chunks().take(names.indices), qtype=upper.take(qtype.indices),
        reply_rank=reply_rank, rcode=rcode, duration_ms=duration,
        verdict=verdict, malformed=malformed, text=tokens.span(malformed, level_at[malformed] + 1))


def _timed_own_file(headed: pa.Table) -> np.ndarray:
    """Per line: Unbound's own file with `log-time-ascii` (or `-iso`), read as a syslog header whose tag is a
    level (`info`, `query`, `reply` ...) and whose host is `ident[pid:thread]`. Tested per distinct tag, and
    per distinct host only where a tag is a level (a syslog line's tag is `unbound` or the like)."""
    app = _array(headed.column("app"))
    app = app if pa.types.is_dictionary(app.type) else pc.dictionary_encode(app)
    is_level = pc.fill_null(pc.is_in(app.dictionary, pa.array(OWN_LEVELS)), False)
    if not pc.any(is_level).as_py():
        return np.zeros(headed.num_rows, dtype=bool)
    host = _array(headed.column("host"))
    host = host if pa.types.is_dictionary(host.type) else pc.dictionary_encode(host)
    is_ident = pc.fill_null(pc.match_substring_regex(host.dictionary, OWN_IDENT), False)
    return lookup(mask(is_level), indices(app), False) & lookup(mask(is_ident), indices(host), False)


def _array(column: pa.ChunkedArray) -> pa.Array:
    """A column as one array (without a copy when it is one chunk already)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _decimal_fraction(text: pa.Array) -> np.ndarray:
    r"""Whether each value is `digits.digits` (r'^\d+\.\d+$'), from the bytes: no regular expression per row."""
    offsets = np.frombuffer(text.buffers()[1], np.int32, len(text) + 1, text.offset * 4).astype(np.int64)
    data = np.frombuffer(text.buffers()[2], np.uint8)[:offsets[-1]] if len(text) and text.buffers()[2] else []
    data = np.asarray(data if len(data) else np.zeros(1), np.uint8)
    lengths = np.diff(offsets)
    is_dot = data == ord(".")
    is_digit = (data >= ord("0")) & (data <= ord("9"))
    per_value = np.add.reduceat  # sums over each value's bytes (an empty value reads its neighbour's: excluded below)
    starts = np.minimum(offsets[:-1], len(data) - 1)
    dots = per_value(is_dot.astype(np.int64), starts)
    digits = per_value(is_digit.astype(np.int64), starts)
    last = np.maximum(offsets[1:] - 1, 0)
    return (mask(text.is_valid()) & (lengths >= 3) & (dots == 1) & (digits == lengths - 1)
            & is_digit[starts] & is_digit[np.minimum(last, len(data) - 1)])


def pair_outcomes(read: Lines, line_no: np.ndarray) -> dict[str, np.ndarray]:
    """Per line: `is_answer` (a reply or local action that answers a query, or a reply that answers a local
    action) and, for a query, the rows of the one or two reply/local-action lines after it (`first_outcome`,
    `second_outcome`; -1 for none); for a local action that answers no query, the row of its reply.

    A reply or local-action line answers the query line before it with the same client, name, type and
    class (one or two outcome lines may follow a query); without such a query line, a reply answers the
    local-action line just before it of the same key (`log-local-actions` and `log-replies` without
    `log-queries`). The lookups sorted by that key, then by line, put each key's lines in order, and
    neighbours there are the lines compared.
    """
    rows = np.flatnonzero(read.key >= 0)
    span = int(line_no.max(initial=0)) + 1
    if (int(read.key.max(initial=0)) + 1) * span < 2**62:  # key and line as one number: one quicksort
        order = rows[np.argsort(read.key[rows] * span + line_no[rows])]
    else:
        order = rows[np.lexsort((line_no[rows], read.key[rows]))]
    size = len(order)
    key = read.key[order]
    is_query = read.kind[order] == QUERY
    is_outcome = (read.kind[order] == REPLY) | (read.kind[order] == LOCAL)

    def shifted(values: np.ndarray, step: int) -> np.ndarray:
        """Per lookup in `order`, the value of the lookup `step` places later (earlier when negative) if it
        has the same key; false where there is none."""
        moved = np.zeros(size, dtype=bool)
        if step > 0:
            moved[:-step] = values[step:] & (key[step:] == key[:-step])
        else:
            moved[-step:] = values[:step] & (key[:step] == key[-step:])
        return moved

    answers_query = is_outcome & (shifted(is_query, -1) | (shifted(is_outcome, -1) & shifted(is_query, -2)))
    # A local action without its query line (`log-queries` off) stands for the query: the reply after it answers it.
    is_reply = read.kind[order] == REPLY
    local_head = (read.kind[order] == LOCAL) & ~answers_query
    is_answer = answers_query | (is_reply & shifted(local_head, -1))
    first = (is_query & shifted(is_outcome, 1)) | (local_head & shifted(is_reply, 1))  # with an outcome line after
    second = is_query & first & shifted(is_outcome, 2)  # ... and a second one (a query's)
    next_1, next_2 = (order[np.minimum(np.arange(size) + step, max(size - 1, 0))] for step in (1, 2))
    result = {"is_answer": np.zeros(len(read.kind), dtype=bool),
              "first_outcome": np.full(len(read.kind), -1, dtype=np.int64),
              "second_outcome": np.full(len(read.kind), -1, dtype=np.int64)}
    result["is_answer"][order] = is_answer
    result["first_outcome"][order] = np.where(first, next_1, -1)
    result["second_outcome"][order] = np.where(second, next_2, -1)
    return result


def _outcomes(read: Lines, paired: dict[str, np.ndarray], lines: pa.Table) -> ParseResult:
    """Events, rejects and the ignored count. A query takes its outcome lines' rcode and duration (the first
    line's, else the second's) and the stricter verdict (blocked over allowed over unknown); a local action
    without its query, its reply's rcode and duration and the stricter of its own verdict and the reply's."""
    kind, line_no = read.kind, lines.column("line_no").to_numpy()
    is_lookup = (kind == QUERY) | (kind == REPLY) | (kind == LOCAL)
    no_time = is_lookup & ~read.ts.is_valid().to_numpy(zero_copy_only=False)
    ignored = read.known & ((kind == OTHER) | (kind == FORMERR) | paired["is_answer"])
    rejected = ~ignored & (~read.known | (kind == MALFORMED) | no_time)
    rows = np.flatnonzero(~ignored & ~rejected)
    first, second = paired["first_outcome"][rows], paired["second_outcome"][rows]
    is_query = kind[rows] == QUERY
    own = np.where(is_query, -1, rows)  # an outcome line's (or unanswered reply's) own values

    # The reply whose rcode and duration a line shows: its own, or for a query its first outcome line if that
    # is a reply, else its second (a local action has neither).
    own_reply, first_reply, second_reply = (lookup(read.reply_rank, where, -1) for where in (own, first, second))
    reply = np.where(own_reply >= 0, own_reply, np.where(first_reply >= 0, first_reply, second_reply))

    # the stricter of its own verdict (none for a query) and its outcome lines': BLOCKED < ALLOWED < UNKNOWN
    action = np.minimum.reduce([lookup(read.verdict, where, UNKNOWN) for where in (own, first, second)])
    events = pa.table({
        "line_no": pa.array(line_no[rows], pa.int64()),
        "ts": read.ts.take(pa.array(rows)),
        "src_ip": dictionary_array(pa.array(read.lookup_index[rows], pa.int32()), read.client),
        "host_source": constant("dns_query", len(rows)),
        "network_protocol": constant("dns", len(rows)),
        "dns_qtype": dictionary_array(pa.array(read.lookup_index[rows], pa.int32()), read.qtype),
        "dns_rcode": read.rcode.take(nullable(reply)),
        "duration_ms": read.duration_ms.take(nullable(reply)),
        "action": dictionary_array(pa.array(action, pa.int32()), VERDICTS),
        "host": dictionary_array(pa.array(read.lookup_index[rows], pa.int32()), read.host),
    })
    bad = np.flatnonzero(rejected)
    text_of = np.where(kind[bad] == MALFORMED, np.searchsorted(read.malformed, bad), -1)
    text = pc.binary_join_element_wise(NOT_UNDERSTOOD, read.text.take(nullable(text_of)), "")
    reason = pc.if_else(pa.array(~read.known[bad]), NOT_UNBOUND,
                        pc.if_else(pa.array(kind[bad] == MALFORMED), text, NO_TIME))
    rejects = attach_lines(pa.array(line_no[bad], pa.int64()), reason, lines)
    return ParseResult(events, rejects, int(np.count_nonzero(ignored)))


# Own file: `[epoch]`, or with log-time-ascii / log-time-iso a syslog-like time, then `unbound[pid:thread] `.
OWN_FILE = re.compile(rf"^(?:\[\d+\]|{BSD_TIME}|{ISO_TIME}) unbound\[\d+:[0-9a-f]+\] ")

LOG = Format(
    name="unbound",
    source_kind="dns",
    summary="Unbound log-queries / log-replies / log-local-actions / rpz-log lines (syslog, pfSense, OPNsense, own "
            "file)",
    sniff=program_share("unbound", also=OWN_FILE),
    new_parser=new_parser,
    fields=("ts", "src_ip", "host", "host_source", "network_protocol", "dns_qtype", "dns_rcode", "duration_ms",
            "action"),
    context_lines=PAIR_LINES,
    independent_batches=True,
)
