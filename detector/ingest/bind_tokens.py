"""BIND and Infoblox NIOS lines read in Arrow (the grammar is bind.py's docstring; bind.py makes the parser).

Each line's head `[TIME] [CATEGORY:] [SEVERITY:] client [@0x…] IP#PORT` holds what differs from line to line
(times, source ports); it is read per line from its first tokens. The message after the address
(`(NAME): view V: query: NAME IN A +E(0)K (SERVER)`) repeats heavily (a name, its type and flags, the server),
so the grammar of messages runs once per distinct message. Print-times go through SQL once per distinct
second, a response's answers once per distinct answer text.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, dictionary_array, list_item, only_where, per_distinct
from detector.ingest.byte_spans import spans, text_bytes
from detector.ingest.distinct_sql import encoded, in_time_zone, plain, through

# Token positions are 1-based, as the SQL grammar this replaced read `t[k]`; NO_POSITION is SQL's null position:
# whatever is added to it, it stays before the first token, so every token read from it is null.
NO_POSITION = -(1 << 40)
# `client` is among the first five tokens and the address at most two after it: the head is 7 tokens at most
HEAD_TOKENS = 7
# The most tokens a view's name is read across (`view Recursion View:`)
VIEW_NAME_TOKENS = 8
# What a time stamp token looks like (SQL `LIKE '__-___-____'` or `LIKE '____-__-__T%'`): BIND's day, or ISO 8601
TIME_TOKEN = r"(?s)^(?:.{2}-.{3}-.{4}$|.{4}-.{2}-.{2}T)"
ISO_TOKEN = r"(?s)^.{4}-"
# A print-time read once per distinct text: BIND's `dd-Mon-yyyy HH:MM:SS[.mmm]` (local) or ISO 8601. The
# milliseconds of BIND's times are cut off first and added back in Arrow, so most texts are a second of the log.
PRINT_TIME_SQL = r"""
select case
    when value like '____-%' and regexp_matches(value, '(Z|[+-]\d{2}:?\d{2})$') then try_cast(value as timestamptz)
    when value like '____-%' then timezone(@TZ@, try_cast(value as timestamp))
    when contains(value, '.') then timezone(@TZ@, try_strptime(value, '%d-%b-%Y %H:%M:%S.%g'))
    else timezone(@TZ@, try_strptime(value, '%d-%b-%Y %H:%M:%S'))
end as ts
from distinct_values
"""
HOST_SQL = "select clean_host(value) as host from distinct_values"
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
OTHER, QUERY, ACCESS, RPZ, CEF = range(5)  # kinds of message
REASONS = pa.array([
    "BIND query line not understood (expected \"query: NAME CLASS TYPE FLAGS\")",
    "BIND access-control line not understood (expected \"query (cache) 'NAME/TYPE/CLASS' denied\")",
    "BIND RPZ line not understood (expected \"rpz TYPE POLICY rewrite NAME via TRIGGER\")",
    "not a BIND log line: no syslog header and no BIND time stamp",
])
NOT_BIND = 3
ACTIONS = pa.array(["unknown", "blocked", "allowed"])
UNKNOWN, BLOCKED, ALLOWED = range(3)
CEF_RPZ = r"^CEF:\d+\|Infoblox\|[^|]*\|[^|]*\|RPZ-"
NO_TEXT = pa.scalar(None, pa.string())


class Tokens:
    """Texts split at single spaces (as SQL's `string_split(text, ' ')`), read at 1-based per-text positions.
    With `limit`, only the first `limit` tokens are read (the rest of a text stays one item)."""

    def __init__(self, text: pa.Array, limit: int | None = None) -> None:
        lists = pc.split_pattern(text, " ", max_splits=limit)
        offsets = lists.offsets.to_numpy().astype(np.int64)
        self.values, self.limit = lists.values, limit
        self.starts, self.count = offsets[:-1], np.diff(offsets)
        self.buffer, self.data, self.token_offsets = text_bytes(self.values)  # the tokens' bytes

    def index(self, position: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """Where the token at `position` is in `values`, and where there is none."""
        if isinstance(position, int):  # (the same, with fewer steps)
            missing = self.count < position if 1 <= position <= (self.limit or position) \
                else np.ones(len(self.count), bool)
            return np.minimum(self.starts + (position - 1), max(len(self.values) - 1, 0)), missing
        position = np.broadcast_to(position, self.count.shape)
        missing = (position < 1) | (position > self.count)
        if self.limit is not None:
            missing |= position > self.limit
        return np.where(missing, 0, self.starts + position - 1), missing

    def starts_with(self, position: np.ndarray | int, character: str) -> np.ndarray:
        """Whether the token at `position` starts with the (ASCII) `character`: read from the tokens' bytes."""
        index, missing = self.index(position)
        start = self.token_offsets[index]
        if not len(self.data):
            return np.zeros(len(index), bool)
        return ~missing & (self.token_offsets[index + 1] > start) \
            & (self.data[np.minimum(start, len(self.data) - 1)] == ord(character))

    def at(self, position: np.ndarray | int) -> pa.Array:
        """The token at `position` of each text; null past the end or at NO_POSITION."""
        index, missing = self.index(position)
        return self.values.take(pa.array(index, mask=missing if missing.any() else None))

    def rest(self, position: np.ndarray, rows: np.ndarray) -> pa.Array:
        """For the texts `rows` (a mask): the tokens from `position` to the end, joined by spaces ('' past the end)."""
        starts, count = self.starts[rows], self.count[rows]
        first = starts + np.minimum(position[rows] - 1, count)
        lengths = starts + count - first
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        items = np.arange(offsets[-1]) - np.repeat(offsets[:-1] - first, lengths)
        lists = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), self.values.take(pa.array(items)))
        return pc.binary_join(lists, " ")


def _flags(values: pa.Array) -> np.ndarray:
    """A boolean array as numpy, null read as false (as SQL's `case when` reads it)."""
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def _is(tokens: pa.Array, *words: str) -> np.ndarray:
    if len(words) == 1:
        return _flags(pc.equal(tokens, words[0]))
    return _flags(pc.is_in(tokens, value_set=pa.array(words, pa.string())))


def _starts(tokens: pa.Array, prefix: str) -> np.ndarray:
    return _flags(pc.starts_with(tokens, prefix))


def _valid(values: pa.Array) -> np.ndarray:
    return pc.is_valid(values).to_numpy(zero_copy_only=False)


def _null_if_empty(text: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text)


def _filled(base: pa.Array, rows: np.ndarray, values: pa.Array) -> pa.Array:
    """`base` with its rows `rows` (a mask) replaced by `values` (one per such row)."""
    if not rows.any():
        return base
    return pc.replace_with_mask(base, pa.array(rows), values.cast(base.type))


def _extracted(text: pa.Array, pattern: str) -> pa.Array:
    """SQL's `regexp_extract(text, pattern, 1)` (its one group named): '' without a match, null for null text."""
    found = pc.struct_field(pc.extract_regex(text, pattern), [0])
    return pc.if_else(pc.is_valid(text), pc.fill_null(found, ""), NO_TEXT)


def _looks_like(tokens: pa.Array, pattern: str) -> np.ndarray:
    """Whether each token matches `pattern` (false for null), tested once per distinct token."""
    encoded = pc.dictionary_encode(tokens)
    matches = np.append(_flags(pc.match_substring_regex(encoded.dictionary, pattern)), False)
    return matches[pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)]


class Queries:
    """The per-distinct queries of one file's parse (see arrow_ops.DistinctQuery)."""

    def __init__(self, timezone: str) -> None:
        self.print_time = DistinctQuery(in_time_zone(PRINT_TIME_SQL, timezone))
        self.host = DistinctQuery(HOST_SQL)
        self.answers = DistinctQuery(ANSWERS_SQL)


def _messages(connection: duckdb.DuckDBPyConnection, queries: Queries, text: pa.Array) -> pa.Table:
    """Distinct messages (what follows a client's `IP#PORT `) -> kind, understood, excluded (not a lookup after
    all), reason (index into REASONS, -1 for none), qname, qtype, dst_ip, dns_rcode, action (code), dns_answers."""
    t = Tokens(text)
    count = len(text)
    # `[(NAME):] [view V:] [UDP:|TCP:] MESSAGE`: find where MESSAGE starts (j)
    name_token = t.at(1)
    j1 = np.where(_valid(name_token), 1 + _starts(name_token, "("), NO_POSITION)
    view_token = t.at(j1)
    is_view = _is(view_token, "view")
    j2 = np.where(_valid(view_token), j1 + 2 * is_view, NO_POSITION)
    # A view's name may hold spaces (named.conf's view names are quoted strings; Infoblox NIOS names views
    # freely, `view Recursion View: query: …`): it ends at the first token ending in ':'.
    spaced = is_view & ~_flags(pc.ends_with(t.at(np.where(is_view, j1 + 1, NO_POSITION)), ":"))
    if spaced.any():
        for k in range(2, VIEW_NAME_TOKENS + 1):
            ends = spaced & _flags(pc.ends_with(t.at(np.where(spaced, j1 + k, NO_POSITION)), ":"))
            j2[ends] = j1[ends] + k + 1
            spaced &= ~ends
    protocol_token = t.at(j2)
    j = np.where(_valid(protocol_token), j2 + _is(protocol_token, "UDP:", "TCP:"), NO_POSITION)
    verb, following = t.at(j), t.at(j + 1)
    kind = np.select(
        [_is(verb, "query:"),
         _is(verb, "query") & (~_valid(following) | _is(following, "(cache)", "denied", "approved")
                               | _starts(following, "'")),
         _is(verb, "rpz") | (_is(verb, "disabled") & _is(following, "rpz"))],
        [QUERY, ACCESS, RPZ], OTHER)
    query, access, rpz = (kind == QUERY), (kind == ACCESS), (kind == RPZ)

    # query: NAME CLASS TYPE [FLAGS] [(SERVER)] [[ECS …]] | query: NAME CLASS TYPE response: RCODE FLAGS [ANSWERS]
    # query [(cache)] ['NAME/TYPE/CLASS'] denied|approved [(REASON)]
    # [disabled] rpz TRIGGER POLICY rewrite NAME[/TYPE/CLASS] [[TYPE]] via ZONE
    quote_at = np.where(access & _valid(following), j + 1 + _is(following, "(cache)"), NO_POSITION)
    rpz_at = j + _is(verb, "disabled")
    name_at = t.at(np.select([rpz, access], [rpz_at + 4, quote_at], NO_POSITION))  # rpz and access names
    is_quoted = access & _starts(name_at, "'")
    third = t.at(np.select([query, rpz, access], [j + 3, rpz_at + 5, quote_at + is_quoted], NO_POSITION))
    fourth = t.at(np.select([query, rpz], [j + 4, rpz_at + 3], NO_POSITION))
    fifth = t.at(np.select([query, rpz], [j + 5, rpz_at], NO_POSITION))
    is_response = query & _is(fourth, "response:")
    # after the server, `[ECS ADDRESS/SOURCE/SCOPE]` when the query carried a CLIENT-SUBNET option (9.11+)
    with_ecs = query & (t.count == j + 7) & _is(t.at(j + 6), "[ECS") & _flags(pc.ends_with(t.at(j + 7), "]"))
    understood = np.select([query, access, rpz], [
        _valid(third) & _valid(fourth) & (_valid(fifth) | ~is_response)
        & (is_response | (t.count <= j + 5) | with_ecs),
        _is(third, "denied", "approved"),
        _is(fifth, "rpz") & _is(fourth, "rewrite") & _valid(name_at)], True)

    action = np.where(query & ~is_response, UNKNOWN, BLOCKED)  # responses: by their answers, below
    qname = pc.if_else(pa.array(query), following, NO_TEXT)
    qtype = pc.if_else(pa.array(query), third, NO_TEXT)
    if rpz.any():  # NAME/TYPE/CLASS, or NAME and [TYPE]
        parts = pc.split_pattern(name_at.filter(pa.array(rpz)), "/")
        bracketed = third.filter(pa.array(rpz))
        qname = _filled(qname, rpz, list_item(parts, 0))
        qtype = _filled(qtype, rpz, pc.coalesce(_null_if_empty(list_item(parts, 1)), pc.if_else(
            pc.starts_with(bracketed, "["), pc.utf8_trim(bracketed, "[]"), NO_TEXT)))
        policy = t.at(np.where(rpz, rpz_at + 2, NO_POSITION)).filter(pa.array(rpz))  # a log-only rule, or PASSTHRU
        action[rpz] = np.where(_is(verb.filter(pa.array(rpz)), "disabled") | _is(pc.utf8_upper(policy), "PASSTHRU"),
                               ALLOWED, BLOCKED)
    if access.any():  # 'NAME/TYPE/CLASS', else the (NAME) after the client's address
        quoted = pc.split_pattern(name_at.filter(pa.array(access)), "/")
        paren = name_token.filter(pa.array(access))
        paren = pc.if_else(pc.starts_with(paren, "("), pc.utf8_rtrim(pc.utf8_slice_codeunits(paren, 1), "):"),
                           NO_TEXT)
        quoted_flag = pa.array(is_quoted[access])
        qname = _filled(qname, access, pc.coalesce(_null_if_empty(pc.if_else(
            quoted_flag, pc.utf8_slice_codeunits(list_item(quoted, 0), 1), NO_TEXT)), _null_if_empty(paren)))
        qtype = _filled(qtype, access, pc.if_else(quoted_flag, pc.fill_null(list_item(quoted, 1), ""), NO_TEXT))
    dst_ip = pc.if_else(pa.array(query & ~is_response), pc.utf8_trim(pc.coalesce(
        pc.if_else(pc.starts_with(fifth, "("), fifth, NO_TEXT),
        pc.if_else(pc.starts_with(fourth, "("), fourth, NO_TEXT)), "()"), NO_TEXT)

    # A response's answers, once per distinct answer text: its action unless REFUSED
    answer_text = _filled(pa.nulls(count, pa.string()), is_response, t.rest(j + 7, is_response))
    read = through(connection, queries.answers, encoded(answer_text))
    by_answers = is_response & ~_is(fifth, "REFUSED")
    if by_answers.any():
        answered = pc.index_in(read["action"].dictionary, value_set=ACTIONS).to_numpy(zero_copy_only=False)
        codes = pc.fill_null(read["action"].indices, 0).to_numpy(zero_copy_only=False)
        action = np.where(by_answers, answered[codes], action)
    excluded = (access & _is(third, "approved")) \
        | (query & _flags(pc.is_in(pc.utf8_upper(qtype), value_set=pa.array(["AXFR", "IXFR"]))))
    return pa.table({
        "kind": kind, "understood": understood, "excluded": excluded,
        "reason": np.select([~understood & query, ~understood & access, ~understood & rpz], [0, 1, 2], -1),
        "qname": qname, "qtype": qtype, "dst_ip": dst_ip,
        "dns_rcode": pc.if_else(pa.array(is_response), fifth, NO_TEXT),
        "action": action, "dns_answers": plain(read["dns_answers"]),
    })


def _cef_messages(body: pa.Array) -> pa.Table:
    """Infoblox's RPZ hits in CEF (`CEF:0|Infoblox|NIOS|VERSION|RPZ-…|POLICY|SEVERITY|EXTENSION`) as
    `_messages` returns messages, plus src_ip (one per line)."""
    fields = pc.split_pattern(body, "|")
    extension = list_item(fields, 7)
    count = len(body)
    return pa.table({
        "kind": np.full(count, CEF), "understood": np.ones(count, bool), "excluded": np.zeros(count, bool),
        "reason": np.full(count, -1),
        "qname": _rewritten_names(extension),
        "qtype": _extracted(extension, r"(?:^| )qtype=(?P<value>\S+)"),
        "dst_ip": _null_if_empty(_extracted(extension, r"(?:^| )dst=(?P<value>\S+)")),
        "dns_rcode": pa.nulls(count, pa.string()),
        "action": np.where(_is(pc.utf8_upper(list_item(fields, 5)), "PASSTHRU"), ALLOWED, BLOCKED),
        "dns_answers": pa.nulls(count, pa.list_(pa.string())),
        "src_ip": _extracted(extension, r"(?:^| )src=(?P<value>\S+)"),
    })


def _rewritten_names(extension: pa.Array) -> pa.Array:
    """The NAME of the CEF extension's `msg="… rewrite NAME[/TYPE/CLASS] …"`, as SQL's
    `split_part(regexp_extract(extension, 'msg="[^"]* rewrite (\\S+)', 1), '/', 1)` reads it, once per distinct
    text after the first `msg="` (a rule's message repeats; the source port before it does not)."""
    after = pc.dictionary_encode(list_item(pc.split_pattern(extension, 'msg="', max_splits=1), 1))
    texts = after.dictionary
    name = pc.struct_field(pc.extract_regex(texts, r'^[^"]* rewrite (?P<name>\S+)'), [0])
    later = pc.and_(pc.is_null(name), pc.match_substring(texts, 'msg="'))  # none in the first message: a later one
    if pc.any(later).as_py():
        name = pc.coalesce(name, pc.struct_field(pc.extract_regex(texts, r'msg="[^"]* rewrite (?P<name>\S+)'), [0]))
    names = list_item(pc.split_pattern(pc.fill_null(name, ""), "/"), 0).take(after.indices)
    return pc.if_else(pc.is_valid(extension), pc.fill_null(names, ""), NO_TEXT)


def read_columns(connection: duckdb.DuckDBPyConnection, queries: Queries, syslog: pa.Table) -> pa.Table:
    """Lines with their syslog headers -> schema columns plus reject_reason / is_ignored (split_outcomes)."""
    rows = syslog.num_rows
    header_ts = syslog.column("header_ts").combine_chunks()
    no_header = _is(header_ts, "")
    has_header_time = _valid(header_ts) & ~no_header
    if no_header.all() or not no_header.any():  # (a column is put together from its chunks only when needed)
        body = syslog.column("line" if no_header.all() else "msg").combine_chunks()
    else:
        body = pc.if_else(pa.array(no_header), syslog.column("line"), syslog.column("msg")).combine_chunks()

    # `[TIME] [CATEGORY:] [SEVERITY:] client [@0x…] IP#PORT`: `client` among the first five tokens (Infoblox puts
    # the category first); TIME is BIND's `dd-Mon-yyyy HH:MM:SS.mmm` or ISO 8601, the first or second token.
    t = Tokens(body, limit=HEAD_TOKENS)
    is_client = _is(t.values, "client")
    client_at = np.zeros(rows, np.int64)
    for k in range(5, 0, -1):
        index, missing = t.index(k)
        client_at[is_client[index] & ~missing] = k
    first = t.at(1)
    time_at = np.where(_looks_like(first, TIME_TOKEN), 1, NO_POSITION)
    stamp = first
    if (time_at < 0).any():
        later = time_at < 0
        second = t.at(np.where(later, 2, NO_POSITION))
        time_at[later & _looks_like(second, TIME_TOKEN)] = 2
        stamp = only_where(second, pa.array(time_at == 2)) if not (time_at == 1).any() else t.at(time_at)
    clock = t.at(time_at + 1)
    iso = _looks_like(stamp, ISO_TOKEN)
    has_print_time = (time_at > 0) & (iso | _valid(clock))
    has_client = client_at > 0
    i = np.where(has_client, client_at + 1 + t.starts_with(client_at + 1, "@"), NO_POSITION)
    i[has_client & (client_at >= t.count)] = NO_POSITION  # `client` ends the line
    at_address, no_address = t.index(i)
    address = pc.split_pattern(t.at(i), "#", max_splits=1)  # IP#PORT
    addressed = _flags(pc.equal(pc.list_value_length(address), 2))
    unaddressed = ~has_client | (~no_address & ~addressed)
    # The client's address up to its '#', and the message: the text after the address and its space (none when
    # the address ends the line). Token k of a line starts at (the lengths of the tokens before it) + k - 1.
    src_ip = only_where(list_item(address, 0), pa.array(addressed))
    has_message = addressed & (i < t.count)
    body_buffer, _, body_offsets = text_bytes(body)
    message_start = body_offsets[:-1] + t.token_offsets[np.minimum(at_address + 1, len(t.values))] \
        - t.token_offsets[t.starts] + i
    message = spans(body_buffer, np.where(has_message, message_start, body_offsets[:-1]), body_offsets[1:],
                    has_message)

    # A TSIG-signed request: `IP#PORT/key KEYNAME (NAME): …` (ns/client.c); the key's name is no part of the message
    signed = addressed & _flags(pc.ends_with(list_item(address, 1), "/key"))
    if signed.any():
        message = _filled(message, signed, list_item(pc.split_pattern(message.filter(pa.array(signed)), " ",
                                                                      max_splits=1), 1))

    # Each distinct message read once; Infoblox's CEF lines one by one
    distinct = pc.dictionary_encode(message)
    messages = _messages(connection, queries, distinct.dictionary)
    is_cef = unaddressed & _starts(body, "CEF:")
    if is_cef.any():
        is_cef[is_cef] = _flags(pc.match_substring_regex(body.filter(pa.array(is_cef)), CEF_RPZ))
    which = pc.fill_null(distinct.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    if is_cef.any():
        cef = _cef_messages(body.filter(pa.array(is_cef)))
        src_ip = _filled(src_ip, is_cef, cef.column("src_ip").combine_chunks())
        which[is_cef] = len(messages) + np.arange(is_cef.sum())
        messages = pa.concat_tables([messages, cef.drop_columns(["src_ip"])])
    read = {name: messages.column(name).combine_chunks() for name in messages.column_names}
    of_line = pa.array(which, mask=which < 0)
    kind = _of_lines(read["kind"], which, OTHER)
    understood = _of_lines(read["understood"], which, True)
    excluded = _of_lines(read["excluded"], which, False)
    reason = _of_lines(read["reason"], which, -1)
    is_event = (kind != OTHER) & understood & ~excluded
    reason[(kind == OTHER) & ~has_header_time & ~has_print_time] = NOT_BIND

    # Times: the print-time when the line has one, else the syslog header's
    timed = is_event & has_print_time
    ts = _print_times(connection, queries, stamp, clock, iso, timed)
    ts = pc.if_else(pa.array(timed), ts, syslog.column("ts").combine_chunks().cast(ts.type))
    ts = only_where(ts, pa.array(is_event))
    reason_text = REASONS.take(pa.array(np.maximum(reason, 0), mask=reason < 0))
    untimed = is_event & (reason < 0) & ~_valid(ts)
    if untimed.any():
        print_time = pc.if_else(pa.array(iso), stamp, pc.binary_join_element_wise(stamp, clock, " "))
        shown = pc.coalesce(only_where(print_time, pa.array(has_print_time)), _null_if_empty(plain(header_ts)),
                            "(none)")
        reason_text = pc.if_else(pa.array(untimed), pc.binary_join_element_wise(
            "time stamp not understood: ", plain(shown), ""), reason_text)
    host = per_distinct(connection, read["qname"], queries.host)["host"]
    qtype = _upper_codes(read["qtype"])
    return pa.table({
        "line_no": syslog.column("line_no"),
        "reject_reason": reason_text,
        "is_ignored": pa.array((reason < 0) & ~is_event),
        "ts": ts,
        "src_ip": src_ip,
        "host": pa.DictionaryArray.from_arrays(host.indices.take(of_line), host.dictionary),
        "host_source": pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int32)), pa.array(["dns_query"])),
        "dst_ip": dictionary_array(of_line, read["dst_ip"]),
        "network_protocol": pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int32)), pa.array(["dns"])),
        "dns_qtype": pa.DictionaryArray.from_arrays(qtype.indices.take(of_line), qtype.dictionary),
        "dns_rcode": dictionary_array(of_line, read["dns_rcode"]),
        "action": pa.DictionaryArray.from_arrays(pa.array(_of_lines(read["action"], which, UNKNOWN).astype(np.int32)),
                                                 ACTIONS),
        "dns_answers": read["dns_answers"].take(of_line),
    })


def _of_lines(values: pa.Array, which: np.ndarray, default: object) -> np.ndarray:
    """Per line, the value of its message (`which`: its index in `values`; -1 for none: `default`)."""
    if not len(values):
        return np.full(len(which), default)
    return np.where(which >= 0, values.to_numpy(zero_copy_only=False)[which], default)


def _upper_codes(text: pa.Array) -> pa.DictionaryArray:
    """`nullif(upper(text), '')`, upper-cased once per distinct value."""
    values = pc.dictionary_encode(text)
    return dictionary_array(values.indices, _null_if_empty(pc.utf8_upper(values.dictionary)))


def _print_times(connection: duckdb.DuckDBPyConnection, queries: Queries, stamp: pa.Array, clock: pa.Array,
                 iso: np.ndarray, rows: np.ndarray) -> pa.Array:
    """The print-times of the lines `rows` (UTC). BIND's `dd-Mon-yyyy HH:MM:SS.mmm` goes through SQL once per
    distinct day and second (the clock's digits read in numpy, its milliseconds added after); other texts (ISO
    8601, other fractions) once per distinct text."""
    micros, known = np.zeros(len(clock), np.int64), np.zeros(len(clock), bool)
    _, data, offsets = text_bytes(clock)
    candidates = rows & ~iso & _valid(clock) & (np.diff(offsets) == len("HH:MM:SS.mmm"))
    characters = data.reshape(-1, 12) if candidates.all() else data[offsets[:-1][candidates][:, None] + np.arange(12)]
    digits = characters[:, [0, 1, 3, 4, 6, 7, 9, 10, 11]] - np.uint8(ord("0"))  # (other bytes wrap past 9)
    shaped = (digits <= 9).all(1) & (characters[:, 2] == ord(":")) & (characters[:, 5] == ord(":")) \
        & (characters[:, 8] == ord("."))
    exact = candidates.copy()
    exact[candidates] = shaped
    digits = digits[shaped].astype(np.int64)
    if exact.any():
        day = pc.dictionary_encode(stamp.filter(pa.array(exact))).indices.to_numpy(zero_copy_only=False)
        second = pc.dictionary_encode(pa.array(day * 1_000_000 + digits[:, :6] @ [100_000, 10_000, 1_000, 100, 10, 1]))
        at_second = second.indices.to_numpy(zero_copy_only=False)
        first_line = np.zeros(len(second.dictionary), np.int64)  # of each second (read as its text)
        first_line[at_second[::-1]] = np.arange(len(at_second))[::-1]
        first_line = pa.array(np.flatnonzero(exact)[first_line])
        texts = pc.binary_join_element_wise(stamp.take(first_line),
                                            pc.utf8_slice_codeunits(clock.take(first_line), 0, 8), " ")
        found = queries.print_time.results_for(connection, texts).column("ts").combine_chunks().take(at_second)
        milliseconds = digits[:, 6:] @ [100_000, 10_000, 1_000]  # in microseconds
        micros[exact] = pc.fill_null(pc.cast(found, pa.int64()), 0).to_numpy() + milliseconds
        known[exact] = _valid(found)
    others = rows & ~exact
    if others.any():
        text = pc.if_else(pa.array(iso), stamp, pc.binary_join_element_wise(stamp, clock, " "))
        found = per_distinct(connection, text.filter(pa.array(others)), queries.print_time)["ts"]
        micros[others] = pc.fill_null(pc.cast(found, pa.int64()), 0).to_numpy()
        known[others] = _valid(found)
    return pa.array(micros, mask=~known).cast(pa.timestamp("us", "UTC"))
