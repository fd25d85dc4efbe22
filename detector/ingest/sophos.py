"""Sophos Firewall (XG / SFOS) syslog: web traffic from its content filter.

Every SFOS log line, whatever its type, is a syslog header (or none) followed by `key=value` pairs,
string values in double quotes. Web traffic is in `log_type="Content Filtering"` (component HTTP/HTTPS:
web requests; Application: application control; Web Content Policy, SFOS 18.5+'s DLP: the `website` a
`dictionary_name` matched on, `user`, `site_category`, and the decision in `action`), and in the web
components (HTTP, HTTPS, Web) of the Anti-Virus and ATP log types. Every other log type of the device
(Firewall, Event, IPS, Anti-Spam, System Health, ...) carries no web traffic: those lines are ignored, not
rejected.

Two generations of field names are read:
- SFOS 18.5 and later: `timestamp="2021-11-15T18:28:48-0600"`, `url` with scheme, `domain`, `http_status`,
  `bytes_sent` / `bytes_received`, `http_user_agent`, `content_type`;
- SFOS 17-18: `date=2016-12-02 time=18:27:03 timezone="GMT"`, `url` maybe without scheme, `domain`,
  `httpresponsecode` or `status_code`, `sent_bytes` / `recv_bytes`, `user_agent`, `contenttype`.
`bytes_sent` / `sent_bytes` is what the client sent (bytes_out). `date`/`time` are local: a `timezone`
of GMT/UTC is honoured, as is a numeric offset (`timezone="+08"`, `"+0530"`: the firewall's zone where it has
no abbreviation); other abbreviations (IST, CEST ...) are ambiguous, so the configured ingest zone
applies. `log_subtype` is the decision (Allowed, Denied, Warned ...), except where an `action` says Allow or
Deny (Web Content Policy lines are all `log_subtype="Alert"`). Warned is blocked: the firewall answered with its
warning page, the request was not passed (as the UTM's `warn` is read, sophos_utm). `http_status` 0 means none.
Sophos's own view is kept: `app_name` (application control) as vendor_app, the web category
`http_category` (SFOS 17: `category`), else the application's `app_category`, as vendor_category.

What a pair is: what the regular expression `PAIR` finds scanning a line from left to right, so key order
and added keys do not matter, and the first of repeated keys wins. Web lines are told from the others by
their raw text (DuckDB's `contains`, a fraction of the cost of splitting them). Web lines are then read
without the regular expression where it would find the same pairs (see `_read_pairs`): the line split at its
quote marks alternates text outside quotes and quoted values, and each outside piece (` key=`, or
` log_id=050901616001 log_type=`) is read once per distinct piece, as are the values. A line where a quote
mark does not open or close a value (a stray or unmatched quote) goes through `PAIRS_QUERY`, the regular
expression in SQL, which costs ten times more per line.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, one_array, per_distinct, spread
from detector.ingest.base import (
    REJECTS_OF_BATCH,
    BatchParser,
    Format,
    ParseContext,
    ParseResult,
    attach_lines,
    line_share,
    parse_cursor,
    split_outcomes,
)
from detector.ingest.distinct_sql import BIGINT_SQL, INTEGER_SQL, in_time_zone, integers
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.proxy_columns import first_valid
from detector.schema import TIMESTAMP

# Canonical field -> SFOS key names, newest first.
KEYS: dict[str, tuple[str, ...]] = {
    "subtype": ("log_subtype",),
    "iso_time": ("timestamp",),
    "log_date": ("date",),
    "log_clock": ("time",),
    "zone": ("timezone",),
    "account": ("user_name", "user"),
    "src": ("src_ip", "sourceip"),
    "dst": ("dst_ip", "destinationip"),
    "dport": ("dst_port",),
    "url": ("url",),
    "domain": ("domain", "domainname", "website"),
    "status": ("http_status", "httpresponsecode", "status_code"),
    "sent": ("bytes_sent", "sent_bytes"),
    "received": ("bytes_received", "recv_bytes"),
    "agent": ("http_user_agent", "user_agent"),
    "ctype": ("content_type", "contenttype"),
    "app": ("app_name",),
    "category": ("http_category", "category", "app_category", "site_category"),
    "decision": ("action",),
}
_WANTED = [key for keys in KEYS.values() for key in keys]
_NUMBER = {key: number for number, key in enumerate(_WANTED)}

PAIR = r'[A-Za-z_][A-Za-z0-9_]*=(?:"[^"]*"|[^\s"]*)'
# A pair within a token of text outside quotes (no whitespace, no quote in it): the leftmost key, and the rest
_TOKEN_PAIR = r"(?P<key>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)"

# Raw-text tests of a line's log type, as the regular expression reading did them
CONTENT_FILTERING = 'log_type="Content Filtering"'
OTHER_TYPES_SQL = f"""
select line_no,
    contains(line, 'log_type="') as has_type,
    case when contains(line, 'log_type="A')  -- (skips the other tests on most lines)
        then (contains(line, 'log_type="Anti-Virus"') or contains(line, 'log_type="ATP"'))
            and (contains(line, 'log_component="HTTP') or contains(line, 'log_component="Web"'))
        else false end as is_web
from lines
where not contains(line, '{CONTENT_FILTERING}')
"""
NO_TYPE = "no log_type field: not a Sophos Firewall log line"
NO_TIME = "no timestamp or date/time fields"
BAD_TIME = "time is not ISO 8601 or yyyy-mm-dd hh:mm:ss: "


def _lookups() -> tuple[str, str]:
    """SQL select items: each canonical field's `key=value` item, then its value unquoted."""
    items, values = [], []
    for name, keys in KEYS.items():
        picks = [f"p[list_position(k, '{key}')]" for key in keys]
        items.append(f"{picks[0] if len(picks) == 1 else 'coalesce(' + ', '.join(picks) + ')'} as {name}")
        value = f"substr({name}, strpos({name}, '=') + 1)"
        values.append(f"nullif(case when ends_with({name}, '\"') then {value}[2:-2] else {value} end, '') as {name}")
    sep = ",\n        "
    return sep.join(items), sep.join(values)


_ITEMS, _VALUES = _lookups()

# `action` (Web Content Policy, the DLP of SFOS 18.5+: `log_subtype="Alert"` with `action="Deny"`): the
# status values of Sophos's syslog guide (Allow, Deny, Allow Session, Deny Session, Would deny: a policy in
# monitor mode, the request went through). It decides where it says allow or deny; else log_subtype does.
_ALLOW = "'allow', 'allowed', 'allow session', 'would deny'"
_DENY = "'deny', 'denied', 'deny session', 'block', 'blocked', 'drop'"

def _local_time_sql(local: str, zone: str, configured: str) -> str:
    """SQL: the SFOS 17-18 `date time` (the SQL timestamp `local`) in its `timezone` (the SQL text `zone`): GMT/UTC,
    or a numeric offset as the firewall writes a zone without an abbreviation (`timezone="+08"`, `"+0530"`, `"-03"`:
    the tz database's name for such zones); any other name in the `configured` zone (SQL text)."""
    digits = f"replace(substr({zone}, 2), ':', '')"
    minutes = (f"(case when left({zone}, 1) = '-' then -1 else 1 end) * (cast(left({digits}, 2) as integer) * 60"
               f" + case when length({digits}) = 4 then cast(right({digits}, 2) as integer) else 0 end)")
    return (f"case when regexp_full_match(coalesce({zone}, ''), '[+-][0-9]{{2}}(:?[0-9]{{2}})?') "
            f"then timezone('UTC', {local} - to_minutes({minutes})) "
            f"else timezone(case when upper({zone}) in ('GMT', 'UTC') then 'UTC' else {configured} end, {local}) end")


# Lines the quote-mark reading cannot take: split into pairs by the regular expression itself.
PAIRS_QUERY = rf"""
with typed as (
    select line_no, line,
        contains(line, 'log_type="') as has_type,
        contains(line, 'log_type="Content Filtering"')
            or ((contains(line, 'log_type="Anti-Virus"') or contains(line, 'log_type="ATP"'))
                and (contains(line, 'log_component="HTTP') or contains(line, 'log_component="Web"'))) as is_web
    from lines
),
pairs as (
    select line_no, has_type, is_web, case when is_web then regexp_extract_all(line, '{PAIR}') end as p from typed
),
keyed as (
    select *, case when is_web then list_transform(p, lambda x: split_part(x, '=', 1)) end as k from pairs
),
items as (
    select line_no, has_type, is_web,
        {_ITEMS}
    from keyed
),
fields as (
    select line_no, has_type, is_web,
        {_VALUES}
    from items
),
classified as (
    select *,
        coalesce(url_rest(url), url) as rest,
        coalesce(
            try_cast(iso_time as timestamptz),
            {_local_time_sql("try_strptime(log_date || ' ' || log_clock, '%Y-%m-%d %H:%M:%S')", "zone", "$tz")}
        ) as event_time
    from fields
),
hosted as (
    select *, authority_hostport(rest_authority(rest)) as hostport from classified
)
select
    line_no,
    case
        when not has_type then '{NO_TYPE}'
        when not is_web then null
        when event_time is null and iso_time is null and log_date is null then '{NO_TIME}'
        when event_time is null then '{BAD_TIME}' || coalesce(iso_time, log_date || ' ' || log_clock)
    end as reject_reason,
    has_type and not is_web as is_ignored,
    event_time as ts,
    src as src_ip,
    account as user_name,
    coalesce(hostport_host(hostport), clean_host(domain)) as host,
    case when hostport_host(hostport) is not null then 'url' when clean_host(domain) is not null then 'http_host'
         else 'none' end as host_source,
    dst as dst_ip,
    try_cast(dport as integer) as dst_port,
    url_scheme(url) as network_protocol,
    rest_path(rest) as url_path,
    nullif(try_cast(status as integer), 0) as http_status,
    case
        when lower(decision) in ({_ALLOW}) then 'allowed'
        when lower(decision) in ({_DENY}) then 'blocked'
        when lower(subtype) in ('allowed', 'alert', 'clean') then 'allowed'
        when lower(subtype) in ('denied', 'blocked', 'drop', 'virus', 'pua', 'warned') then 'blocked'
        else 'unknown'
    end as action,
    try_cast(sent as bigint) as bytes_out,
    try_cast(received as bigint) as bytes_in,
    agent as user_agent,
    lower(ctype) as content_type,
    app as vendor_app,
    category as vendor_category
from hosted
"""

# Per distinct value: the same expressions as PAIRS_QUERY's
ISO_TIME_SQL = "select try_cast(value as timestamptz) as ts from distinct_values"
# `date time` and the zone, joined by a line feed (no value holds one)
LOCAL_TIME_SQL = f"""
select {_local_time_sql("try_strptime(split_part(value, chr(10), 1), '%Y-%m-%d %H:%M:%S')",
                        "split_part(value, chr(10), 2)", "@TZ@")} as ts
from distinct_values
"""
URL_SQL = """
select url_scheme(value) as network_protocol, rest_path(rest) as url_path, hostport_host(hostport) as host
from (select value, rest, authority_hostport(rest_authority(rest)) as hostport
      from (select value, coalesce(url_rest(value), value) as rest
            from distinct_values))
"""
DOMAIN_SQL = "select clean_host(value) as host from distinct_values"
ACTION_SQL = """
select case
    when lower(value) in ('allowed', 'alert', 'clean') then 'allowed'
    when lower(value) in ('denied', 'blocked', 'drop', 'virus', 'pua', 'warned') then 'blocked'
    else 'unknown'
end as action
from distinct_values
"""
DECISION_SQL = f"""
select case when lower(value) in ({_ALLOW}) then 0 when lower(value) in ({_DENY}) then 1 end as action
from distinct_values
"""
STATUS_SQL = "select nullif(try_cast(value as integer), 0) as value from distinct_values"
LOWER_SQL = "select lower(value) as value from distinct_values"
HOST_SOURCES = pa.array(["url", "http_host", "none"])
ACTIONS = pa.array(["allowed", "blocked", "unknown"])


class _Queries:
    """The per-distinct queries of one file's parse, each remembering the values it has seen."""

    def __init__(self, timezone: str) -> None:
        self.iso_time = DistinctQuery(ISO_TIME_SQL)
        self.local_time = DistinctQuery(in_time_zone(LOCAL_TIME_SQL, timezone))
        self.url = DistinctQuery(URL_SQL)
        self.domain = DistinctQuery(DOMAIN_SQL)
        self.action = DistinctQuery(ACTION_SQL)
        self.decision = DistinctQuery(DECISION_SQL)
        self.status = DistinctQuery(STATUS_SQL)
        self.integer = DistinctQuery(INTEGER_SQL)
        self.bigint = DistinctQuery(BIGINT_SQL)
        self.lower = DistinctQuery(LOWER_SQL)


def new_parser(context: ParseContext) -> BatchParser:
    """A parser for one file: its per-distinct queries remember values across the file's batches."""
    queries = _Queries(context.timezone)

    def parse(lines: pa.Table) -> ParseResult:
        with parse_cursor(context.connection) as cursor:  # a cursor of its own: batches run on two threads
            return _parse(cursor, queries, lines, context.timezone)

    return parse


def _parse(connection: duckdb.DuckDBPyConnection, queries: _Queries, lines: pa.Table, timezone: str
           ) -> ParseResult:
    """Web lines read by quote marks, the lines that cannot be read so by PAIRS_QUERY; the others are
    ignored (a log type without web traffic) or rejected (no log type at all)."""
    line_no = lines.column("line_no").combine_chunks()
    connection.register("lines", lines)
    try:
        others = connection.sql(OTHER_TYPES_SQL).to_arrow_table()
    finally:
        connection.unregister("lines")
    other_rows = np.searchsorted(line_no.to_numpy(), others.column("line_no").to_numpy())
    is_web = np.ones(len(line_no), bool)
    is_web[other_rows] = pc.fill_null(others.column("is_web"), False).to_numpy(zero_copy_only=False)
    has_type = pc.fill_null(others.column("has_type"), False).to_numpy(zero_copy_only=False)
    ignored = int((has_type & ~is_web[other_rows]).sum())
    untyped = other_rows[~has_type]
    rejects = [attach_lines(line_no.take(pa.array(untyped)), pa.repeat(pa.scalar(NO_TYPE), len(untyped)), lines)]

    text = lines.column("line")
    values, irregular = _read_pairs(one_array(text), is_web)
    read = is_web & ~irregular
    events = []
    if not read.all():
        selection = pa.array(read)
        values = {name: value.filter(selection) for name, value in values.items()}
        line_no = line_no.filter(selection)
    if irregular.any():
        slow = pairs_query_outcomes(connection, lines.filter(pa.array(irregular)), timezone)
        events.append(slow.events)
        rejects.append(slow.rejects)
    fast, fast_rejects = _outcomes(connection, queries, line_no, lines, values)
    events.insert(0, fast)
    rejects.append(fast_rejects)
    return ParseResult(events=_in_line_order(events), rejects=_in_line_order(rejects), ignored=ignored)


def pairs_query_outcomes(connection: duckdb.DuckDBPyConnection, lines: pa.Table, timezone: str) -> ParseResult:
    """PAIRS_QUERY over `lines`."""
    connection.register("lines", lines)
    try:
        result = connection.sql(PAIRS_QUERY, params={"tz": timezone}).to_arrow_table()
    finally:
        connection.unregister("lines")
    return split_outcomes(result, lines)


def _in_line_order(tables: list[pa.Table]) -> pa.Table:
    """Tables of the same columns as one, in line order. Text stays dictionary-encoded where one of them has
    it so (the other's text is encoded: a few lines read by PAIRS_QUERY do not decode a whole batch)."""
    tables = [table for table in tables if table.num_rows] or tables[:1]
    if len(tables) == 1:
        return tables[0]
    columns = {}
    for name in tables[0].column_names:
        parts = [table.column(name).combine_chunks() for table in tables]
        if any(pa.types.is_dictionary(part.type) for part in parts):
            parts = [part if pa.types.is_dictionary(part.type) else pc.dictionary_encode(part.cast(pa.string()))
                     for part in parts]
        else:
            kind = next((part.type for part in parts if not pa.types.is_null(part.type)), parts[0].type)
            parts = [part.cast(kind) for part in parts]
        columns[name] = pa.concat_arrays(parts)
    table = pa.table(columns)
    return table.take(pc.sort_indices(table.column("line_no")))


def _read_pairs(text: pa.Array, wanted: np.ndarray) -> tuple[dict[str, pa.DictionaryArray], np.ndarray]:
    """Each canonical field's value on each `wanted` line (dictionary-encoded, null where absent or empty;
    null on the others), and the wanted lines this reading cannot take (their values are to be ignored).

    A line split after its quote marks gives pieces that alternate text outside quotes and quoted values,
    each with the quote mark that ends it: `<30>device="`, `SFW"`, ` date=2024-03-11 time=08:02:13 timezone="`,
    `GMT"`, ... The regular expression finds the same pairs as a reading of these pieces when every quote mark
    opens or closes a value: the line has an even number of them, and each outside piece before a quote ends
    with a token `key=` (a token is text between whitespace). Then each outside piece's tokens are pairs with
    unquoted values (`a=b`, `a=b=c`) or none, its last token names the quoted value after it, and nothing
    depends on the pieces around it: pieces are read once per distinct piece.
    """
    pieces, quote_counts, irregular = _split_at_quotes(text, wanted)
    encoded = pc.dictionary_encode(pieces)
    piece_ids = np.frombuffer(encoded.indices.buffers()[1], np.int32, len(pieces))
    dictionary = encoded.dictionary
    outside_ids = piece_ids[0::2]  # (every line has an even number of pieces: outside ones are the even items)
    line_count = len(text)
    outside_line = np.repeat(np.arange(line_count, dtype=np.int32), quote_counts // 2 + 1)
    # each distinct outside piece read once (when the batch has few distinct pieces, all of them: cheaper than
    # finding which are outside ones); by dictionary id, its number of wanted pairs, -1 if it breaks the reading
    if 8 * len(dictionary) <= len(outside_ids):
        distinct = np.arange(len(dictionary))
    else:
        seen = np.zeros(len(dictionary), bool)
        seen[outside_ids] = True
        distinct = np.flatnonzero(seen)
    reading = _OutsideReading(dictionary.take(pa.array(distinct)))
    hit_counts, hit_starts = np.zeros(len(dictionary), np.int32), np.zeros(len(dictionary), np.int64)
    hit_counts[distinct] = np.where(reading.irregular, -1, reading.hit_counts)
    hit_starts[distinct] = reading.hit_starts

    # each occurrence of a piece with wanted pairs, once per pair: its first pair, then any second ...
    counts = hit_counts[outside_ids]
    broken = counts < 0
    if broken.any():
        irregular[outside_line[broken]] = True
    with_hits = np.flatnonzero(counts > 0)
    counts = counts[with_hits]
    each = np.repeat(np.arange(len(with_hits)), counts)
    hit = (hit_starts[outside_ids[with_hits]] - (np.cumsum(counts) - counts))[each] + np.arange(len(each))
    occurrence = with_hits[each]
    hit_line = outside_line[occurrence]
    # the value: the quoted piece after the key's (a dictionary id), else the unquoted value (after them)
    value_ids = len(dictionary) + hit
    quoted = reading.quoted[hit]
    value_ids[quoted] = piece_ids[2 * occurrence[quoted] + 1]
    hit_keys = reading.keys[hit]
    order = np.argsort(hit_keys, kind="stable")  # int16: a radix sort; each key's hits in line order
    bounds = np.searchsorted(hit_keys[order], np.arange(len(_WANTED) + 1))
    texts = _ValueTexts(dictionary, reading.values)
    values = {}
    for name, keys in KEYS.items():
        chosen = np.full(line_count, -1)
        for key in reversed(keys):  # later writes win: the preferred key, and its first occurrence
            number = _NUMBER[key]
            found = order[bounds[number]:bounds[number + 1]][::-1]
            chosen[hit_line[found]] = value_ids[found]
        values[name] = texts.column(chosen)
    return values, irregular


def _split_at_quotes(text: pa.Array, wanted: np.ndarray) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """The `wanted` lines of `text` cut after each quote mark, and a null piece after each line (so that every
    line has an even number of pieces): the pieces (a string array over the text's own buffer, line after
    line), the number of quote marks of each line, and the wanted lines with an odd number of them.

    A line not wanted, or with an odd number of quote marks, is one empty piece, its text in the null piece
    after it: no copy of the wanted lines is made, and dictionary encoding skips the others' text."""
    _, data, offsets = line_bytes(text)
    base = int(offsets[0])
    quotes = np.flatnonzero(data[base:offsets[-1]] == ord('"'))
    per_line = np.diff(np.searchsorted(quotes, offsets - base))
    odd = wanted & (per_line % 2 == 1)
    skipped = ~wanted | odd
    if skipped.any():
        quotes = quotes[~np.repeat(skipped, per_line)]
        per_line[skipped] = 0
    # line i's pieces start at its start, after each of its quote marks, at its end (the null piece)
    line_count = len(text)
    first = np.cumsum(per_line + 2) - (per_line + 2)
    last = first + per_line + 1
    bounds = np.empty(len(quotes) + 2 * line_count + 1, np.int32)
    at_quote = np.ones(len(bounds), bool)
    at_quote[first] = at_quote[last] = at_quote[-1] = False
    bounds[at_quote] = quotes + (base + 1)
    bounds[first], bounds[-1] = offsets[:-1], offsets[-1]
    bounds[last] = np.where(skipped, offsets[:-1], offsets[1:])
    valid = np.ones(len(bounds) - 1, bool)
    valid[last] = False
    pieces = pa.Array.from_buffers(pa.string(), len(bounds) - 1, [
        pa.py_buffer(np.packbits(valid, bitorder="little")), pa.py_buffer(bounds),
        text.buffers()[2] or pa.py_buffer(b"")])
    return pieces, per_line, odd


# Byte classes of text outside quotes: word characters (of keys), whitespace (RE2's \s), '=' and the rest
_WORD, _SPACE, _EQUALS, _OTHER = 0, 1, 2, 3
_CLASS = np.full(256, _OTHER, np.uint8)
_CLASS[np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_", np.uint8)] = _WORD
_CLASS[np.frombuffer(b"\t\n\f\r ", np.uint8)] = _SPACE
_CLASS[ord("=")] = _EQUALS
_END = np.iinfo(np.int64).max


class _OutsideReading:
    """Distinct outside pieces read: which break the quote-mark reading, and their wanted pairs in order
    (`hit_starts`/`hit_counts` per piece): key number, whether the value is the quoted piece after, and
    the unquoted value (text; for a quoted one unused).

    Read with numpy on the pieces' bytes. A token (text between whitespace) `key=value` whose key is plain
    (`[A-Za-z_][A-Za-z0-9_]*` from the token's start to its first '=') is the pair PAIR finds there; the
    few others (`<30>device=`, `x.y=1`, `=a=b`) are matched with PAIR's key pattern itself."""

    def __init__(self, pieces: pa.Array) -> None:
        _, data, offsets = line_bytes(pieces)
        count = len(pieces)
        starts, ends = offsets[:-1], offsets[1:].copy()
        before_quote = np.zeros(count, bool)
        filled = ends > starts
        before_quote[filled] = data[ends[filled] - 1] == ord('"')
        ends -= before_quote
        base = int(offsets[0])
        kinds = _CLASS[data[base:offsets[-1]]]
        spaces = np.flatnonzero(kinds == _SPACE) + base
        equals = np.append(np.flatnonzero(kinds == _EQUALS) + base, _END)
        breaks = np.append(np.flatnonzero(kinds != _WORD) + base, _END)
        # tokens: each piece's text cut at its whitespace
        per_piece = np.bincount(np.searchsorted(offsets, spaces, side="right") - 1, minlength=count)
        after = np.cumsum(per_piece)
        token_starts = np.insert(spaces + 1, after - per_piece, starts)
        token_ends = np.insert(spaces, after, ends)
        token_piece = np.repeat(np.arange(count), per_piece + 1)
        last = np.zeros(len(token_starts), bool)
        last[after + np.arange(count)] = True
        first_equals = equals[np.searchsorted(equals, token_starts)]
        has_equals = first_equals < token_ends
        first_break = breaks[np.searchsorted(breaks, token_starts)]
        digit_first = (data[np.minimum(token_starts, len(data) - 1)] - ord("0")) < 10 if len(data) else has_equals
        plain = has_equals & (first_break == first_equals) & (first_equals > token_starts) & ~digit_first
        names = np.full(len(token_starts), -1, np.int16)
        value_starts = np.where(plain, first_equals + 1, token_ends)
        has_pair = plain.copy()
        names[plain] = _key_numbers(_spans(pieces, token_starts[plain], first_equals[plain]))
        other = np.flatnonzero(has_equals & ~plain)
        if len(other):  # the leftmost key as the regular expression finds it, and the rest of the token
            found = pc.extract_regex(_spans(pieces, token_starts[other], token_ends[other]), _TOKEN_PAIR)
            matched = pc.is_valid(found).to_numpy(zero_copy_only=False)
            has_pair[other] = matched
            names[other] = np.where(matched, _key_numbers(pc.struct_field(found, "key")), -1)
            value_starts[other] = token_ends[other] - pc.fill_null(
                pc.binary_length(pc.struct_field(found, "value")), 0).to_numpy(zero_copy_only=False)
        names_value = last & before_quote[token_piece]
        # before a quote the last token must be `key=`: its '=' opens the quoted value
        opens = has_pair & (value_starts == token_ends)
        self.irregular = np.zeros(count, bool)
        self.irregular[token_piece[names_value & ~opens]] = True
        hits = np.flatnonzero(names >= 0)
        self.keys = names[hits]
        self.quoted = names_value[hits]
        self.values = _spans(pieces, value_starts[hits], token_ends[hits])
        self.hit_counts = np.bincount(token_piece[hits], minlength=count)
        self.hit_starts = np.cumsum(self.hit_counts) - self.hit_counts


def _key_numbers(keys: pa.Array) -> np.ndarray:
    """The number of each key in _WANTED (int16); -1 for any other (or null)."""
    found = pc.index_in(keys, value_set=pa.array(_WANTED, pa.string()))
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int16)


def _spans(text: pa.Array, starts: np.ndarray, ends: np.ndarray) -> pa.Array:
    """The text between `starts` and `ends` (positions in `text`'s data, in increasing order, not overlapping)
    as a string array: a view of the data (spans and the gaps between them), then every second item."""
    if len(starts) == 0:
        return pa.array([], pa.string())
    bounds = np.empty(2 * len(starts), np.int32)
    bounds[0::2], bounds[1::2] = starts, ends
    view = pa.Array.from_buffers(pa.string(), len(bounds) - 1, [None, pa.py_buffer(bounds), text.buffers()[2]])
    return view.take(pa.array(np.arange(0, len(bounds), 2, dtype=np.int32)))


class _ValueTexts:
    """Value texts by id: quoted pieces (a trailing quote mark to drop) by their dictionary id, unquoted
    values after them; a column of ids becomes a dictionary array over just the texts it uses."""

    def __init__(self, dictionary: pa.Array, unquoted: pa.Array) -> None:
        self.dictionary, self.unquoted = dictionary, unquoted

    def column(self, ids: np.ndarray) -> pa.DictionaryArray:
        """Null where an id is -1 or its text empty (as `nullif(value, '')`)."""
        size = len(self.dictionary)
        if size + len(self.unquoted) <= 4 * len(ids):  # a mark per id: the texts used, in id order
            used = np.zeros(size + len(self.unquoted) + 1, bool)  # (the last for -1)
            used[ids] = True
            used[-1] = False
            chosen = np.flatnonzero(used)
            indices = (np.cumsum(used) - 1)[ids]
        else:  # (many more texts than lines) the distinct ids, hashed, in id order
            distinct = pc.dictionary_encode(pa.array(ids))
            chosen, indices = distinct.dictionary.to_numpy(), distinct.indices.to_numpy()
            order = np.argsort(chosen)
            chosen, indices = chosen[order], np.argsort(order)[indices]
        lead = int((chosen[:1] < 0).sum())  # -1 (first, if there): an empty text, so null
        quoted, unquoted = chosen[lead:][chosen[lead:] < size], chosen[chosen >= size] - size
        texts = pa.concat_arrays([
            pa.array([""] * lead, pa.string()),
            pc.utf8_slice_codeunits(self.dictionary.take(pa.array(quoted)), 0, -1),
            self.unquoted.take(pa.array(unquoted)).cast(pa.string())])
        filled = np.append(pc.greater(pc.binary_length(texts), 0).to_numpy(zero_copy_only=False), False)
        valid = filled[indices] & (ids >= 0)
        return pa.DictionaryArray.from_arrays(
            pa.array(np.maximum(indices, 0).astype(np.int32), mask=None if valid.all() else ~valid), texts)


def _outcomes(connection: duckdb.DuckDBPyConnection, queries: _Queries, line_no: pa.Array, lines: pa.Table,
              values: dict[str, pa.DictionaryArray]) -> tuple[pa.Table, pa.Table]:
    """Events and rejects of web lines (numbered `line_no`, of the batch `lines`) from their fields' values
    (PAIRS_QUERY's meaning, per distinct value)."""
    rows = len(line_no)

    def through(query: DistinctQuery, column: pa.DictionaryArray) -> dict[str, pa.Array]:
        return spread(query.results_for(connection, column.dictionary), column.indices)

    iso_time, log_date, log_clock = values["iso_time"], values["log_date"], values["log_clock"]
    ts = through(queries.iso_time, iso_time)["ts"]
    local = pc.and_(pc.is_null(ts), pc.and_(pc.is_valid(log_date), pc.is_valid(log_clock)))
    if pc.any(local).as_py():
        where = np.flatnonzero(local.to_numpy(zero_copy_only=False))
        picked = pa.array(where)
        zone = values["zone"].take(picked)
        date_time = pc.binary_join_element_wise(log_date.take(picked).dictionary_decode(),
                                                log_clock.take(picked).dictionary_decode(), " ")
        local_text = pc.binary_join_element_wise(date_time, pc.fill_null(zone.dictionary_decode(), ""), "\n")
        local_ts = per_distinct(connection, local_text, queries.local_time)["ts"]
        mask = np.zeros(rows, bool)
        mask[where] = True
        ts = pc.replace_with_mask(ts, pa.array(mask), local_ts.cast(ts.type))
    ts = ts.cast(TIMESTAMP)
    missing = pc.is_null(ts)
    if pc.any(missing).as_py():
        failed = np.flatnonzero(missing.to_numpy(zero_copy_only=False))
        picked = pa.array(failed)
        iso = iso_time.take(picked).dictionary_decode()
        date_time = pc.binary_join_element_wise(log_date.take(picked).dictionary_decode(),
                                                log_clock.take(picked).dictionary_decode(), " ")
        shown = pc.coalesce(iso, date_time)
        reasons = pc.if_else(pc.and_(pc.is_null(iso), pc.is_null(log_date.take(picked))), NO_TIME,
                             pc.binary_join_element_wise(BAD_TIME, shown, ""))
        has_reason = pc.is_valid(reasons).to_numpy(zero_copy_only=False)
        rejected = failed[has_reason]
        rejects = attach_lines(line_no.take(pa.array(rejected)),
                               reasons.filter(pa.array(has_reason)), lines)
    else:
        rejected = np.zeros(0, np.int64)
        rejects = REJECTS_OF_BATCH.empty_table()

    url = through(queries.url, values["url"])
    domain_host = through(queries.domain, values["domain"])["host"]
    url_host = url["host"]
    from_url = pc.is_valid(url_host)
    from_domain = pc.is_valid(domain_host)
    host = first_valid(url_host, domain_host)
    source = np.where(from_url.to_numpy(zero_copy_only=False), 0,
                      np.where(from_domain.to_numpy(zero_copy_only=False), 1, 2)).astype(np.int32)
    columns = {
        "line_no": line_no,
        "ts": ts,
        "src_ip": values["src"],
        "user_name": values["account"],
        "host": host,
        "host_source": pa.DictionaryArray.from_arrays(pa.array(source), HOST_SOURCES),
        "dst_ip": values["dst"],
        "dst_port": integers(connection, queries.integer, values["dport"], pa.int32()),
        "network_protocol": url["network_protocol"],
        "url_path": url["url_path"],
        "http_status": pc.cast(through(queries.status, values["status"])["value"], pa.int32()),
        "action": _decided(through, queries, values),
        "bytes_out": integers(connection, queries.bigint, values["sent"], pa.int64()),
        "bytes_in": integers(connection, queries.bigint, values["received"], pa.int64()),
        "user_agent": values["agent"],
        "content_type": through(queries.lower, values["ctype"])["value"],
        "vendor_app": values["app"],
        "vendor_category": values["category"],
    }
    events = pa.table(columns)
    if len(rejected):
        keep = np.ones(rows, bool)
        keep[rejected] = False
        events = events.filter(pa.array(keep))
    return events, rejects


def _decided(through: Callable[[DistinctQuery, pa.DictionaryArray], dict[str, pa.Array]], queries: _Queries,
             values: dict[str, pa.DictionaryArray]) -> pa.DictionaryArray:
    """The action: `action` where it says allow or deny (DECISION_SQL), else by log_subtype (`_actions`)."""
    action = _actions(through(queries.action, values["subtype"])["action"])
    decision = values["decision"]
    if decision.null_count == len(decision):  # (no line has `action`: the usual batch)
        return action
    decided = pc.fill_null(through(queries.decision, decision)["action"], -1).to_numpy(zero_copy_only=False)
    if not (decided >= 0).any():
        return action
    by_subtype = pc.index_in(action.dictionary, value_set=ACTIONS).to_numpy(zero_copy_only=False)
    indices = np.where(decided >= 0, decided, by_subtype[action.indices.to_numpy(zero_copy_only=False)])
    return pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32)), ACTIONS)


def _actions(action: pa.DictionaryArray) -> pa.DictionaryArray:
    """ACTION_SQL's answers per line, 'unknown' where the line has no subtype (as the query's `else`)."""
    if action.null_count == 0:
        return action
    ids = pc.index_in(action.dictionary, value_set=ACTIONS).to_numpy(zero_copy_only=False)
    indices = np.where(pc.is_valid(action.indices).to_numpy(zero_copy_only=False),
                       ids[pc.fill_null(action.indices, 0).to_numpy(zero_copy_only=False)] if len(ids) else 2, 2)
    return pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32)), ACTIONS)


XG = Format(
    name="sophos_xg",
    source_kind="proxy",
    summary="Sophos Firewall (XG/SFOS) syslog: content filtering (web) logs, incl. Web Content Policy; other log "
            "types ignored",
    # `log_id` bare (`log_id=010101600001`) or quoted (`log_id="011902605151"`, as some SFOS 19.5+ firewalls write it)
    sniff=line_share(re.compile(r'^(?=.*\blog_id="?\d{12}\b)(?=.*\blog_type=")(?=.*\blog_component=")')),
    new_parser=new_parser,
    independent_batches=True,
    fields=("ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
            "url_path", "http_status", "action", "bytes_out", "bytes_in", "user_agent", "content_type",
            "vendor_app", "vendor_category"),
)
