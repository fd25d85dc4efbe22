"""Squid access logs, and the Squid-style result codes other proxies reuse.

`squid` is Squid's native format (`logformat squid`, the default):
    time.ms elapsed client code/status bytes method URL user hierarchy/peer type
Fields are separated by one or more spaces (elapsed is right-aligned). Squid URL-encodes spaces in URLs
and user names, so a line always has exactly ten fields, unless the administrator appended quoted request
headers to them (`... %mt "%{Referer}>h" "%{User-Agent}>h"`): the ten are read, the appended ones are not.
`bytes` is what Squid sent to the client; the native format does not log the request size, so `bytes_out`
stays null.

`squid_common` is Squid's `logformat common` / `combined` (Apache CLF, local time with its offset):
    client ident user [dd/Mon/yyyy:HH:MM:SS +zzzz] "METHOD URL HTTP/x.y" status bytes ["referer" "agent"] code:hier

`squid_extended` is the extended custom logformat Elastic's Squid integration is tested with: native's
leading fields plus client port, request/reply sizes, HTTP version, server port, and quoted referer,
user agent, Host header, X-Forwarded-For and (optionally) TLS SNI. Its request size feeds `bytes_out`.

Squid also writes its access log to syslog (squid.conf `access_log syslog:facility.priority`); the lines a syslog
daemon or relay then stores carry a header before Squid's own text: BSD or ISO `time [host] tag[pid]: ` (Squid 4+'s
worker processes name themselves `(squid-1)`, as pfSense's logs show) or RFC 5424's. In all three layouts the
header is taken off (SYSLOG_HEAD) and the line read as Squid wrote it; the time is Squid's own, not the header's.

In all three the client is its address (`%>a`), or its name where the logformat says `%>A` (Squid 2:
`log_fqdn on`): a name goes to `src_host`, not `src_ip`. The peer after `DIRECT/` is the server's address
(`%<a`) and feeds `dst_ip`, unless it is the server's name (`%<A`; Squid 2: `log_ip_on_direct off`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import (
    DistinctQuery,
    first_bytes,
    list_item,
    only_where,
    per_distinct,
    trimmed,
    whole_number,
    without_empty,
)
from detector.ingest.auth_challenge import challenge_sql, unknown_where_challenged
from detector.ingest.base import (
    BatchParser,
    Format,
    ParseContext,
    ParseResult,
    line_share,
    parse_cursor,
    split_outcomes,
)
from detector.ingest.distinct_sql import BIGINT_SQL, integers, plain
from detector.ingest.proxy_columns import (
    DASH_BIGINT_SQL,
    DASH_INTEGER_SQL,
    EPOCH_SQL,
    UrlQueries,
    bools,
    constant_text,
    epoch_times,
    first_reasons,
    first_valid,
    has_control_bytes,
    has_text,
    is_ip_literal,
    joined_pairs,
    last_bytes,
    line_text,
    list_items,
    no_text,
    read_in_slices,
    url_columns,
    where,
)
from detector.ingest.row_edits import first_match_replaced
from detector.ingest.syslog import BSD_TIME, ISO_TIME, may_have_header
from detector.ingest.text_views import digits_only, find, places
from detector.ingest.url_places import url_places
from detector.schema import TIMESTAMP

# Macros shared by the proxy families (Squid variants, Cisco WSA, W3C, CSV); defined on the parse
# connection when a parser is made, so each family's query can rely on them.
# Result codes: https://wiki.squid-cache.org/SquidFaq/SquidLogs#squid-result-codes
# DENIED (TCP_DENIED, TCP_DENIED_REPLY, ...) is a refusal by the proxy; HIT/MISS/TUNNEL/REFRESH/
# REDIRECT/ABORTED variants mean the request went through; NONE/TAG_NONE/ERR_* carry no decision.
PROXY_MACROS = r"""
create or replace macro squid_result_action(code) as case
    when code is null or code = '' then 'unknown'
    when upper(code) like '%DENIED%' then 'blocked'
    when upper(code) like 'NONE%' or upper(code) like 'TAG_NONE%' or upper(code) like 'ERR%' then 'unknown'
    else 'allowed'
end;
-- (ALERT: PAN-OS URL filtering lets the request through and logs it; its exports say `alert`. RESET: a denial
-- answered with a TCP reset, PAN-OS `reset-both` and ASIM's DvcAction `Reset`, `Reset Source` ...)
create or replace macro verdict_word_action(word) as case
    when regexp_matches(upper(word),
        '(^|[^A-Z])(DENY|DENIED|BLOCK|BLOCKED|DROP|DROPPED|REJECT|REJECTED|RESET|GEBLOKKEERD|GEWEIGERD)([^A-Z]|$)')
        then 'blocked'
    when regexp_matches(upper(word),
        '^(ALLOW|ALLOWED|ACCEPT|ACCEPTED|PERMIT|PERMITTED|PASS|PASSED|PROXIED|OBSERVED|OK|REQ_PASSED|TOEGESTAAN|ALERT)$')
        then 'allowed'
end;
create or replace macro is_ip_literal(h) as regexp_full_match(h, '[0-9.]+') or contains(h, ':');
-- Split s on sep, keeping sep inside "..." (with "" for a quote). Tokens keep their quotes and carry
-- placeholders: chr(2) for a sep inside quotes, chr(1) for "" (a quote inside, or an empty quoted value);
-- quoted_value(token, sep) turns one back into its text. Measured 3x faster than regexp_extract_all.
create or replace macro split_quoted(s, sep) as string_split(array_to_string(list_transform(
    string_split(replace(s, '""', chr(1)), '"'),
    lambda x, i: case when i % 2 = 0 then '"' || replace(x, sep, chr(2)) || '"' else x end), ''), sep);
create or replace macro quoted_value(t, sep) as case
    when t = chr(1) then ''
    else replace(replace(case when t like '"%"' and length(t) >= 2 then substr(t, 2, length(t) - 2) else t end,
        chr(2), sep), chr(1), '"')
end;
create or replace macro unquote(s) as case
    when s like '"%"' and length(s) >= 2 then replace(substr(s, 2, length(s) - 2), '\"', '"')
    else s
end;
"""


# A syslog header before Squid's text (see the module docstring): BSD or ISO time, any host words, a tag with an
# optional [pid] and ': '; or RFC 5424's seven fields with `-` or structured data. Squid's own lines start with
# their epoch time (native, extended) or the client (common), which no header's time matches.
SYSLOG_HEAD = (rf"(?:<\d{{1,3}}> ?)?(?:{BSD_TIME}|{ISO_TIME})(?: \S+)*? [^\s\[\]:]+(?:\[[^\]]*\])?: +"
               r"|<\d{1,3}>1 \S+ \S+ \S+ \S+ \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+) +")


def unwrapped(text: pa.Array) -> pa.Array:
    """The lines without a syslog header before Squid's text (SYSLOG_HEAD). Looked for only on the lines whose
    first bytes may start a header (syslog.may_have_header: none in a file Squid wrote itself); a line without one
    is left as it is."""
    return first_match_replaced(text, np.flatnonzero(may_have_header(text)), f"^(?:{SYSLOG_HEAD})", "")


# Native lines split cleanly on whitespace, so they are tokenised with pyarrow (see arrow_ops.py) and
# only the low-cardinality fields go through the shared SQL macros, once per distinct value. The URL's parts and the
# time's check are read from their places in the fields' own bytes (url_places, text_views). Where a native line's
# parse goes (2026-11-30, ~1 us, busy machine): the split at whitespace ~25 %, taking the ten fields out of the lists
# ~15 %, the per-distinct encoding ~10 %; at 4M lines the parse threads take ~3.9 s CPU of ~7.2 (4.9 of 8.4 before
# url_places), writing ~1.0, imports ~1.0, reading ~0.5. Measured and left: a compiled tokeniser (Numba) would take
# the split, the take and the URL in one pass, but loading Numba alone costs a native ingest ~0.6 s CPU and ~100 MiB
# of peak RSS at 1M lines (the reader's compiled cutting and pooled buffers come with it); Arrow's search for a byte
# most values lack (`?` in a URL) reads every byte at ~1 ns, ten times numpy's comparison (text_views.first_of).
NATIVE_FIELDS = 10
# CODE/STATUS (result) and HIERARCHY/PEER: each value split at its '/' once, in a step of its own
SPLIT_AT_SLASH = """
select
    upper(case when contains(value, '/') then left(value, strpos(value, '/') - 1) else value end) as head,
    case when contains(value, '/') then substr(value, strpos(value, '/') + 1) end as tail
from distinct_values
"""
# HTTP 407 (Proxy Authentication Required) is Squid's challenge for credentials, logged TCP_DENIED/407: a browser's
# first request on a connection gets it and is sent again with them (https://wiki.squid-cache.org/Features/
# Authentication: "If the header is missing, Squid returns an HTTP reply with status 407 ... sent in the Authorization
# header for subsequent requests"). It is no verdict on the site: its action is unknown, not blocked. So is a
# TCP_DENIED/401, Squid's own challenge where it authenticates as a reverse proxy (auth_challenge, as every proxy
# format reads it).
RESULT_SQL = f"""
select case when {challenge_sql("status", "upper(head)")} then 'unknown' else squid_result_action(head) end as action,
    nullif(status, 0) as http_status, status is not null as valid
from (select head, try_cast(tail as integer) as status from ({SPLIT_AT_SLASH}))
"""
# the peer is the server's address only when Squid went direct to it, and when it is logged as an address
# (`%<a`; `%<A` or Squid 2's `log_ip_on_direct off` log the server's name there instead)
HIERARCHY_SQL = f"""
select case when head in ('DIRECT', 'HIER_DIRECT', 'ORIGINAL_DST', 'HIER_ORIGINAL_DST') and is_ip_literal(tail)
    then tail end as dst_ip
from ({SPLIT_AT_SLASH})
"""
HOSTPORT_SQL = """
select hostport_host(hostport) as host, hostport_port(hostport) as dst_port
from (select authority_hostport(value) as hostport from distinct_values)
"""
METHOD_SQL = """
select nullif(nullif(nullif(upper(value), 'NONE'), '-'), '') as http_method, upper(value) = 'CONNECT' as is_connect
from distinct_values
"""
# A user whose %-escapes do not decode to UTF-8 keeps its text as logged (url_decode would fail the batch)
USER_SQL = """select coalesce(try(url_decode(null_if_dash(value))), null_if_dash(value)) as user_name
    from distinct_values"""
DASH_SQL = "select null_if_dash(value) as value from distinct_values"
# Where a native or common line's host came from (also Cisco WSA's)
HOST_SOURCES = pa.array(["connect", "url", "none"])
# time.ms as Squid writes it (%ts.%03tu); exact to the microsecond through float64 for 12-digit seconds
EPOCH_SECONDS = r"^[0-9]{1,12}(\.[0-9]{1,6})?$"


Queries = TypeVar("Queries")


def _parser(context: ParseContext, queries: Queries,
            columns: Callable[[duckdb.DuckDBPyConnection, Queries, pa.Table], pa.Table]) -> BatchParser:
    """A parser of one of Squid's layouts: `columns` reads a batch with the file's own `queries` (which remember
    the values they have seen), on a cursor of its own per batch (batches are parsed on two threads at once)."""
    context.connection.execute(PROXY_MACROS)

    def parse(lines: pa.Table) -> ParseResult:
        with parse_cursor(context.connection) as cursor:
            return split_outcomes(columns(cursor, queries, lines), lines)

    return parse


def native_parser(context: ParseContext) -> BatchParser:
    return _parser(context, NativeQueries(), _native_columns)


class NativeQueries:
    """The per-distinct queries of one file's parse, each remembering the values it has seen."""

    def __init__(self) -> None:
        self.result = DistinctQuery(RESULT_SQL)
        self.method = DistinctQuery(METHOD_SQL)
        self.hostport = DistinctQuery(HOSTPORT_SQL)
        self.user = DistinctQuery(USER_SQL)
        self.hierarchy = DistinctQuery(HIERARCHY_SQL)
        self.content_type = DistinctQuery(DASH_SQL)


def _native_columns(connection: duckdb.DuckDBPyConnection, queries: NativeQueries, lines: pa.Table) -> pa.Table:
    """Squid native lines -> schema columns plus reject_reason / is_ignored (see base.split_outcomes)."""
    count, appended, (epoch_text, elapsed_text, client, result, size_text, method_text, url, ident, hierarchy,
                      mime) = _native_fields(lines)
    epoch_valid = _epoch_seconds(epoch_text)
    micros = pc.round(pc.multiply(pc.cast(pc.if_else(epoch_valid, epoch_text, "0"), pa.float64()), 1e6))
    elapsed, elapsed_valid = whole_number(elapsed_text)
    size, size_valid = whole_number(size_text)
    outcome = per_distinct(connection, result, queries.result)
    method = per_distinct(connection, method_text, queries.method)
    is_connect = pc.fill_null(method["is_connect"], False)
    # CONNECT's URL is host:port; any other URL is scheme://authority/path (else it names no host)
    scheme, authority, path = url_places(url)
    has_scheme = pc.is_valid(scheme)
    place = per_distinct(connection, authority, queries.hostport, where=pc.or_(is_connect, has_scheme))
    has_url = pc.and_(pc.invert(is_connect), has_scheme)
    src_ip, src_host = _client(client)
    valid = pc.fill_null(pc.and_(pc.and_(pc.or_(pc.equal(count, NATIVE_FIELDS), appended), epoch_valid),
                                 pc.and_(pc.and_(elapsed_valid, size_valid), outcome["valid"])), False)
    columns = {
        "line_no": lines.column("line_no"),
        "reject_reason": _native_reject_reasons(valid, count, appended, epoch_valid, elapsed_valid,
                                                outcome["valid"], epoch_text, result),
        "is_ignored": pa.repeat(pa.scalar(False), len(count)),
        "ts": pc.cast(pc.cast(micros, pa.int64()), TIMESTAMP),
        "src_ip": src_ip,
        "src_host": src_host,
        "user_name": per_distinct(connection, ident, queries.user)["user_name"],
        "host": place["host"],
        "host_source": pa.DictionaryArray.from_arrays(pa.array(np.where(
            is_connect.to_numpy(zero_copy_only=False), 0,
            np.where(pc.fill_null(has_scheme, False).to_numpy(zero_copy_only=False), 1, 2)).astype(np.int32)),
            HOST_SOURCES),
        "dst_ip": per_distinct(connection, hierarchy, queries.hierarchy)["dst_ip"],
        "dst_port": place["dst_port"],
        "network_protocol": _lower_case_scheme(scheme, has_url),
        "http_method": method["http_method"],
        "url_path": only_where(path, has_url),
        "http_status": outcome["http_status"],
        "action": outcome["action"],
        "bytes_in": size,
        "duration_ms": elapsed,
        "content_type": per_distinct(connection, mime, queries.content_type)["value"],
    }
    return pa.table(columns)


def _epoch_seconds(text: pa.Array) -> pa.Array:
    """Whether each text is time.ms as Squid writes it (EPOCH_SECONDS: 1-12 digits, then a `.` and 1-6 digits or
    nothing; null: no), tested on the parts before and after the `.` in the texts' own bytes (`text_views`): the
    regular expression cost ~0.2 us a line, 7 % of a native line's parse."""
    buffer, start, end, valid = places(text)
    dot = find(buffer, start, end, ".")
    has_dot = dot >= 0
    whole_end = np.where(has_dot, start + dot, end)
    fraction_start = np.where(has_dot, whole_end + 1, end)
    whole, fraction = whole_end - start, end - fraction_start
    plain = valid & (whole >= 1) & (whole <= 12) & digits_only(buffer, start, whole_end)
    return pa.array(plain & (~has_dot | ((fraction >= 1) & (fraction <= 6) & digits_only(buffer, fraction_start,
                                                                                              end))))


def _client(client: pa.Array) -> tuple[pa.Array, pa.Array]:
    """src_ip and src_host of the client field: an address, or the client's name where Squid logs one (`%>A` in
    a logformat, Squid 2's `log_fqdn on`). Only lines whose client starts with a letter are looked at (an IPv4
    address starts with a digit, an IPv6 one with a hex digit or ':'), so address-only logs cost nothing more."""
    rows = np.flatnonzero(first_bytes(client) >= ord("A"))
    if len(rows) == 0:
        return client, no_text(len(client))
    literal = pc.fill_null(is_ip_literal(client.take(pa.array(rows))), True).to_numpy(zero_copy_only=False)
    named = np.zeros(len(client), np.bool_)
    named[rows[~literal]] = True
    if not named.any():
        return client, no_text(len(client))
    is_named = pa.array(named)
    return where(pc.invert(is_named), client), pc.utf8_lower(where(is_named, client))


def _lower_case_scheme(scheme: pa.Array, has_url: pa.Array) -> pa.DictionaryArray:
    """The URL scheme, lower case, where the line has a URL: lowered once per distinct scheme."""
    encoded = pc.dictionary_encode(scheme)
    return pa.DictionaryArray.from_arrays(only_where(encoded.indices, has_url), pc.utf8_lower(encoded.dictionary))


def _native_fields(lines: pa.Table) -> tuple[pa.Array, pa.Array, list[pa.Array]]:
    """The number of whitespace-separated fields per line, whether a longer line is the ten native fields with
    quoted fields appended (see APPENDED), and the first ten fields (null where missing).

    Its own function so that the token lists (as big as the lines) are freed before parsing goes on.
    """
    text = trimmed(unwrapped(line_text(lines)))
    tokens = pc.ascii_split_whitespace(text)
    count = pc.list_value_length(tokens)
    return count, _appended(text, count), list_items(tokens, range(NATIVE_FIELDS))


# A logformat that appends quoted request headers to the native fields, as administrators add the referer and
# user agent (`logformat squid ... %mt "%{Referer}>h" "%{User-Agent}>h"`): the native ten are read, the rest not.
APPENDED = r'^(?:\S+ +){9}\S+(?: +"(?:[^"\\]|\\.)*")+$'


def _appended(text: pa.Array, count: pa.Array) -> pa.Array:
    """Per line, whether it has more than ten fields, the ones after the tenth quoted (APPENDED); looked at only on
    the lines with more fields, so that native files cost nothing more."""
    longer = np.flatnonzero(pc.fill_null(pc.greater(count, NATIVE_FIELDS), False).to_numpy(zero_copy_only=False))
    appended = np.zeros(len(count), np.bool_)
    if len(longer):
        appended[longer] = pc.fill_null(pc.match_substring_regex(text.take(pa.array(longer)), APPENDED),
                                        False).to_numpy(zero_copy_only=False)
    return pa.array(appended)


def _native_reject_reasons(valid: pa.Array, count: pa.Array, appended: pa.Array, epoch_valid: pa.Array,
                           elapsed_valid: pa.Array, result_valid: pa.Array, epoch_text: pa.Array, result: pa.Array
                           ) -> pa.Array:
    """The first thing wrong with each invalid line, as a sentence; null for valid lines."""
    if pc.all(valid).as_py():
        return pa.nulls(len(valid), pa.string())
    conditions = pa.StructArray.from_arrays(
        [pc.and_(pc.not_equal(count, NATIVE_FIELDS), pc.invert(appended)), pc.invert(epoch_valid),
         pc.invert(elapsed_valid),
         pc.invert(pc.fill_null(result_valid, False)), pc.invert(valid)],
        names=["fields", "time", "elapsed", "result", "size"],
    )
    return pc.case_when(
        conditions,
        pc.binary_join_element_wise(
            "expected 10 space-separated fields (Squid native), found ", pc.cast(count, pa.string()), ""),
        pc.binary_join_element_wise("time is not epoch seconds: ", pc.fill_null(epoch_text, ""), ""),
        "elapsed time is not a whole number of milliseconds",
        pc.binary_join_element_wise("result is not CODE/STATUS: ", pc.fill_null(result, ""), ""),
        "size is not a whole number of bytes",
    )


NATIVE = Format(
    name="squid",
    source_kind="proxy",
    summary="Squid native access.log (logformat squid, the default)",
    sniff=line_share(rf"^(?:{SYSLOG_HEAD})?"
                     r"\d{9,10}\.\d{3} +\d+ \S+ [A-Z_]+/\d{3} \d+ [A-Za-z_-]+ \S+ \S+ [A-Z_]+/\S+ \S+"
                     r'(?: +"(?:[^"\\]|\\.)*")*\s*$'),
    new_parser=native_parser,
    independent_batches=True,
    fields=(
        "ts", "src_ip", "src_host", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
        "http_method", "url_path", "http_status", "action", "bytes_in", "duration_ms", "content_type",
    ),
)


# Apache-style CLF as Squid writes it (`logformat common`, `combined`): the request line is quoted,
# and Squid appends `%Ss:%Sh` (result code : hierarchy). The referer/agent pair is combined's only.
# Split at quotes, then each part at single spaces, with pyarrow; each field's distinct values go through
# the shared macros once:
#   part 1  client ident user [dd/Mon/yyyy:HH:MM:SS +zzzz]   (5 fields)
#   part 2  METHOD URL HTTP/x.y
#   part 3  status bytes, then code:hier in common            (2 or 3 fields)
#   combined: part 4 referer, part 5 ' ', part 6 agent, part 7 code:hier
COMMON_SHAPE_REASON = "not a Squid common/combined line: expected client ident user [time] \"request\" status bytes"
CLF_TIME_SQL = "select try_strptime(value, '%d/%b/%Y:%H:%M:%S %z') as ts from distinct_values"
COMMON_RESULT_SQL = "select squid_result_action(split_part(value, ':', 1)) as action from distinct_values"
COMMON_METHOD_SQL = """
select nullif(nullif(upper(value), 'NONE'), '-') as http_method, upper(value) = 'CONNECT' as is_connect
from distinct_values
"""
COMMON_STATUS_SQL = "select nullif(try_cast(value as integer), 0) as value from distinct_values"
COMMON_SIZE_SQL = """
select try_cast(null_if_dash(value) as bigint) as value,
    try_cast(null_if_dash(value) as bigint) is null and null_if_dash(value) is not null as invalid
from distinct_values
"""
UNKNOWN = pa.DictionaryArray.from_arrays(pa.array([0], pa.int32()), ["unknown"])  # a common line without code:hier


class CommonQueries:
    """The per-distinct queries of one common/combined log's parse, each remembering the values it has seen."""

    def __init__(self) -> None:
        self.time = DistinctQuery(CLF_TIME_SQL)
        self.result = DistinctQuery(COMMON_RESULT_SQL)
        self.method = DistinctQuery(COMMON_METHOD_SQL)
        self.status = DistinctQuery(COMMON_STATUS_SQL)
        self.size = DistinctQuery(COMMON_SIZE_SQL)
        self.user = DistinctQuery(USER_SQL)
        self.agent = DistinctQuery(AGENT_SQL)
        self.urls = UrlQueries()


def common_parser(context: ParseContext) -> BatchParser:
    return _parser(context, CommonQueries(), _common_columns)


def _common_columns(connection: duckdb.DuckDBPyConnection, queries: CommonQueries, lines: pa.Table) -> pa.Table:
    """Squid common/combined lines -> schema columns plus reject_reason / is_ignored (see base.split_outcomes).
    Tokenised in slices (the tokens of a whole batch would take several times its size), the rest per batch."""
    (shaped, client), (user, opened, closed, method_text, url, status, size, code, agent) = \
        read_in_slices(unwrapped(line_text(lines)), _common_fields)
    # `[dd/Mon/yyyy:HH:MM:SS` and `+zzzz]` as one text, made once per distinct pair
    day = pa.DictionaryArray.from_arrays(opened.indices, pc.utf8_slice_codeunits(opened.dictionary, 1))
    time_text = joined_pairs(day, pa.DictionaryArray.from_arrays(closed.indices, pc.utf8_rtrim(closed.dictionary, "]")))
    ts = per_distinct(connection, time_text, queries.time)["ts"]
    size_of = per_distinct(connection, size, queries.size)
    reasons = [
        (pc.invert(shaped), COMMON_SHAPE_REASON),
        (pc.is_null(ts), lambda: pc.binary_join_element_wise(
            "time is not dd/Mon/yyyy:HH:MM:SS +zzzz: ", plain(time_text), "")),
        (size_of["invalid"], lambda: pc.binary_join_element_wise(
            "size is not a whole number of bytes: ", plain(size), "")),
    ]
    method = per_distinct(connection, method_text, queries.method)
    is_connect = pc.fill_null(method["is_connect"], False)
    not_connect = pc.invert(is_connect)
    place = url_columns(connection, queries.urls, url, connect=is_connect)
    has_rest = pc.fill_null(place["has_rest"], False)
    source = np.select([bools(is_connect), bools(has_rest)], [0, 1], 2)
    rows = len(client)
    src_ip, src_host = _client(client)
    http_status = per_distinct(connection, status, queries.status)["value"]
    columns = {
        "line_no": lines.column("line_no"),
        "reject_reason": first_reasons(reasons, rows),
        "is_ignored": pa.repeat(pa.scalar(False), rows),
        "ts": ts,
        "src_ip": src_ip,
        "src_host": src_host,
        "user_name": per_distinct(connection, user, queries.user)["user_name"],
        "host": first_valid(where(is_connect, place["connect_host"]), where(not_connect, place["host"])),
        "host_source": constant_text(HOST_SOURCES, source),
        "dst_port": pc.if_else(is_connect, place["connect_port"], place["dst_port"]),
        "network_protocol": where(not_connect, place["scheme"]),
        "http_method": method["http_method"],
        "url_path": where(not_connect, place["url_path"]),
        "http_status": http_status,
        "action": unknown_where_challenged(first_valid(per_distinct(connection, code, queries.result)["action"],
                                                       UNKNOWN), http_status, code),
        "bytes_in": size_of["value"],
        "user_agent": per_distinct(connection, agent, queries.agent)["value"],
    }
    return pa.table(columns)


def _common_fields(text: pa.Array) -> tuple[list[pa.Array], list[pa.Array]]:
    """Whether each line has the common/combined shape, and its client; its user, time (`[dd/Mon/yyyy:HH:MM:SS`
    and `+zzzz]`), method, URL, status, size, result code (with its `:hier`) and user agent (combined only)."""
    if has_text(text, b'\\"'):  # Squid escapes a quote inside a quoted value as \"; hidden while splitting
        text = pc.replace_substring(text, '\\"', "\x01")
    parts = pc.split_pattern(text, '"')
    count = pc.list_value_length(parts)
    head = pc.split_pattern(pc.utf8_trim(list_item(parts, 0), " "), " ")
    request = pc.split_pattern(list_item(parts, 1), " ")
    middle = pc.split_pattern(pc.utf8_trim(list_item(parts, 2), " "), " ")
    combined = pc.equal(count, 7)
    combined_ok = pc.and_kleene(combined, pc.equal(list_item(parts, 4), " "))
    middle_count, head_count = pc.list_value_length(middle), pc.list_value_length(head)
    opened, closed = list_item(head, 3), list_item(head, 4)
    shaped = pc.and_kleene(
        pc.or_kleene(pc.and_kleene(pc.equal(count, 3), pc.is_in(middle_count, pa.array([2, 3], pa.int32()))),
               pc.and_kleene(combined_ok, pc.equal(middle_count, 2))),
        pc.and_kleene(pc.and_kleene(pc.equal(head_count, 5), pc.starts_with(opened, "[")),
                pc.and_kleene(pc.ends_with(closed, "]"), pc.greater_equal(pc.list_value_length(request), 2))))
    code = list_item(middle, 2)  # in common; combined has it after the agent
    if pc.any(combined).as_py():
        code = first_valid(where(combined, pc.utf8_trim(list_item(parts, 6), " ")), code)
    agent = only_where(list_item(parts, 5), combined)
    return [pc.fill_null(shaped, False), list_item(head, 0)], [
        list_item(head, 2), opened, closed, list_item(request, 0), list_item(request, 1), list_item(middle, 0),
        list_item(middle, 1), code, agent]


COMMON = Format(
    name="squid_common",
    source_kind="proxy",
    summary="Squid logformat common or combined (Apache-style CLF with Squid's code:hierarchy)",
    sniff=line_share(rf"^(?:{SYSLOG_HEAD})?"
                     r'\S+ \S+ \S+ \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "[A-Za-z_-]+ \S+[^"]*" '
                     r'(\d{1,3}|-) (\d+|-)( "[^"]*" "[^"]*")? [A-Z_]+:[A-Z_]+\s*$'),
    new_parser=common_parser,
    independent_batches=True,
    fields=(
        "ts", "src_ip", "src_host", "user_name", "host", "host_source", "dst_port", "network_protocol",
        "http_method", "url_path", "http_status", "action", "bytes_in", "user_agent",
    ),
)

# The extended layout, split at its quotes: the part before the first quote holds 19 space-separated fields
#   1 time.ms  2 elapsed  3 client  4 client port  5 code/status  6 reply size  7 request size
#   8 reply header size  9 request header size  10 reply body size  11 method  12 URL  13 HTTP version
#   14 user  15 hierarchy/peer  16 server port  17 content type  18-19 (unused)
# then quoted referer (part 2), user agent (4), Host (6), X-Forwarded-For (8), optionally TLS SNI (10),
# and a tail of two fields (server time and one more). Tokenised with pyarrow; each field's distinct
# values go through the shared macros once.
EXTENDED_FIELDS = 19
SPACE = ord(" ")
# 0-based: the fields the events use, read row by row (time, elapsed, client, sizes, server port) and per
# distinct value (code/status, method, URL, user, hierarchy, content type)
EXTENDED_KEPT = (0, 1, 2, 5, 6, 15)
EXTENDED_ENCODED = (4, 10, 11, 13, 14, 16)
EXTENDED_SHAPE_REASON = ("expected 19 fields, then quoted referer, user agent, Host, X-Forwarded-For (and TLS SNI), "
                         "then 2 fields (Squid extended logformat)")
# code/status, split as split_part does (the status is what lies between the first and a second '/')
CODE_STATUS_SQL = f"""
select case when {challenge_sql("try_cast(status_text as integer)", "code")} then 'unknown'
        else squid_result_action(code) end as action,
    try_cast(status_text as integer) as status,
    code || '/' || status_text as shown
from (select upper(split_part(value, '/', 1)) as code, split_part(value, '/', 2) as status_text from distinct_values)
"""
EXTENDED_METHOD_SQL = """
select nullif(nullif(upper(value), 'NONE'), '-') as http_method, upper(value) = 'CONNECT' as is_connect
from distinct_values
"""
EXTENDED_HIERARCHY_SQL = """
select case when is_direct and is_ip_literal(peer) then peer end as dst_ip, is_direct
from (select upper(split_part(value, '/', 1)) in ('DIRECT', 'HIER_DIRECT', 'ORIGINAL_DST', 'HIER_ORIGINAL_DST')
        as is_direct, split_part(value, '/', 2) as peer from distinct_values)
"""
AGENT_SQL = "select null_if_dash(replace(value, chr(1), '\"')) as value from distinct_values"
HOST_HEADER_SQL = "select hostport_host(authority_hostport(null_if_dash(value))) as host from distinct_values"
SNI_SQL = """
select null_if_dash(value) is not null as present, clean_host(null_if_dash(value)) as host from distinct_values
"""
EXTENDED_HOST_SOURCES = pa.array(["connect", "url", "sni", "http_host", "none"])


class ExtendedQueries:
    """The per-distinct queries of one extended log's parse, each remembering the values it has seen."""

    def __init__(self) -> None:
        self.epoch = DistinctQuery(EPOCH_SQL)
        self.result = DistinctQuery(CODE_STATUS_SQL)
        self.method = DistinctQuery(EXTENDED_METHOD_SQL)
        self.user = DistinctQuery(USER_SQL)
        self.hierarchy = DistinctQuery(EXTENDED_HIERARCHY_SQL)
        self.content_type = DistinctQuery(DASH_SQL)
        self.agent = DistinctQuery(AGENT_SQL)
        self.host_header = DistinctQuery(HOST_HEADER_SQL)
        self.sni = DistinctQuery(SNI_SQL)
        self.bigint = DistinctQuery(BIGINT_SQL)
        self.dash_bigint = DistinctQuery(DASH_BIGINT_SQL)
        self.dash_integer = DistinctQuery(DASH_INTEGER_SQL)
        self.urls = UrlQueries()


def extended_parser(context: ParseContext) -> BatchParser:
    return _parser(context, ExtendedQueries(), _extended_columns)


def _extended_columns(connection: duckdb.DuckDBPyConnection, queries: ExtendedQueries, lines: pa.Table) -> pa.Table:
    """Squid extended lines -> schema columns plus reject_reason / is_ignored (see base.split_outcomes).
    Tokenised in slices (the tokens of a whole batch would take several times its size), the rest per batch."""
    text = unwrapped(line_text(lines))
    (shaped, epoch_text, elapsed_text, client, reply_text, request_text, port_text), \
        (result, method_text, url, ident, hierarchy, mime, agent, host_header, sni) = \
        read_in_slices(text, _extended_parts)
    ts = epoch_times(connection, queries.epoch, epoch_text)
    elapsed = integers(connection, queries.bigint, elapsed_text, pa.int64())
    reply_size = integers(connection, queries.bigint, reply_text, pa.int64())
    outcome = per_distinct(connection, result, queries.result)
    reasons = [
        (pc.invert(shaped), EXTENDED_SHAPE_REASON),
        (pc.is_null(ts), lambda: pc.binary_join_element_wise(
            "time is not epoch seconds: ", list_item(pc.split_pattern(pc.utf8_trim(text, " "), " ", max_splits=1), 0),
            "")),
        (pc.is_null(elapsed), "elapsed time is not a whole number of milliseconds"),
        (pc.is_null(outcome["status"]),
         lambda: pc.binary_join_element_wise("result is not CODE/STATUS: ", plain(outcome["shown"]), "")),
        (pc.is_null(reply_size), "reply size is not a whole number of bytes"),
    ]
    method = per_distinct(connection, method_text, queries.method)
    is_connect = pc.fill_null(method["is_connect"], False)
    place = url_columns(connection, queries.urls, url, connect=is_connect)
    sni_of = per_distinct(connection, sni, queries.sni)
    has_sni = pc.fill_null(sni_of["present"], False)
    url_host = first_valid(where(is_connect, place["connect_host"]), where(pc.invert(is_connect), place["host"]))
    url_port = pc.if_else(is_connect, place["connect_port"], place["dst_port"])
    # a tunnel to a bare address says less than the name the client asked for in its TLS hello
    use_url_host = pc.and_(pc.is_valid(url_host),
                           pc.invert(pc.and_(pc.and_(is_connect, pc.fill_null(is_ip_literal(url_host), False)),
                                             has_sni)))
    header_host = per_distinct(connection, host_header, queries.host_header)["host"]
    host = first_valid(where(use_url_host, url_host), where(pc.and_(pc.invert(use_url_host), has_sni), sni_of["host"]),
                       where(pc.invert(pc.or_(use_url_host, has_sni)), header_host))
    source = np.select([bools(use_url_host) & bools(is_connect), bools(use_url_host), bools(has_sni),
                        bools(pc.is_valid(header_host))], [0, 1, 2, 3], 4)
    src_ip, src_host = _client(client)
    direct = per_distinct(connection, hierarchy, queries.hierarchy)
    is_direct = pc.fill_null(direct["is_direct"], False)
    server_port = integers(connection, queries.dash_integer, port_text, pa.int32())
    not_connect = pc.invert(is_connect)
    columns = {
        "line_no": lines.column("line_no"),
        "reject_reason": first_reasons(reasons, len(text)),
        "is_ignored": pa.repeat(pa.scalar(False), len(text)),
        "ts": ts,
        "src_ip": src_ip,
        "src_host": src_host,
        "user_name": per_distinct(connection, ident, queries.user)["user_name"],
        "host": host,
        "host_source": constant_text(EXTENDED_HOST_SOURCES, source),
        "dst_ip": direct["dst_ip"],
        "dst_port": pc.if_else(pc.and_(is_direct, pc.is_valid(server_port)), pc.cast(server_port, pa.int32()),
                               pc.cast(url_port, pa.int32())),
        "network_protocol": where(not_connect, place["scheme"]),
        "http_method": method["http_method"],
        "url_path": where(not_connect, place["url_path"]),
        "http_status": pc.if_else(pc.equal(outcome["status"], 0), pa.scalar(None, pa.int32()), outcome["status"]),
        "action": outcome["action"],
        "bytes_out": integers(connection, queries.dash_bigint, request_text, pa.int64()),
        "bytes_in": reply_size,
        "duration_ms": elapsed,
        "user_agent": per_distinct(connection, agent, queries.agent)["value"],
        "content_type": per_distinct(connection, mime, queries.content_type)["value"],
    }
    return pa.table(columns)


def _extended_parts(text: pa.Array) -> tuple[list[pa.Array], list[pa.Array]]:
    """Whether each line has the extended shape (19 fields, quoted parts, a tail of two fields) and its time,
    elapsed, client, size and port fields; its other fields the events use (null where missing), and the user
    agent, Host and SNI parts: those to be read once per distinct value.

    Squid escapes a quote inside a quoted value as \\"; those are hidden (chr(1)) before splitting at quotes.
    """
    if has_text(text, b'\\"'):
        text = pc.replace_substring(text, '\\"', "\x01")
    parts = pc.split_pattern(text, '"')
    count = pc.list_value_length(parts)
    head = list_item(parts, 0)
    if has_control_bytes(head):  # split at spaces only, as the layout does, runs of them as one
        tokens = without_empty(pc.split_pattern(head, " "))
        field_count = pc.list_value_length(tokens)
    elif (first_bytes(head) == SPACE).any():
        tokens = pc.ascii_split_whitespace(trimmed(head))
        field_count = pc.list_value_length(tokens)
    else:  # a head ending in a space (as it does before its quote) ends in an empty token: not trimmed (a copy)
        tokens = pc.ascii_split_whitespace(head)
        field_count = pc.subtract(pc.list_value_length(tokens), pa.array((last_bytes(head) == SPACE).astype(np.int32)))
    shaped = pc.and_(pc.and_(pc.equal(field_count, EXTENDED_FIELDS),
                             pc.is_in(count, pa.array([9, 11]))),
                     pc.equal(pc.count_substring(pc.utf8_trim(list_item(parts, -1), " "), " "), 1))
    fields = list_items(tokens, EXTENDED_KEPT + EXTENDED_ENCODED)
    agent, host, sni = list_items(parts, (3, 5, 9))
    kept = len(EXTENDED_KEPT)
    return [shaped, *fields[:kept]], [*fields[kept:], agent, host, only_where(sni, pc.equal(count, 11))]


EXTENDED = Format(
    name="squid_extended",
    source_kind="proxy",
    summary="Squid extended custom logformat (request/reply sizes, user agent, Host, X-Forwarded-For, SNI)",
    sniff=line_share(rf"^(?:{SYSLOG_HEAD})?"
                     r"\d{9,10}\.\d{3} +\d+ \S+ \d+ [A-Z_]+/\d{3} \d+ (\d+|-) (\d+|-) (\d+|-) (\d+|-) "
                     r"[A-Za-z_-]+ \S+ [\d.]+ \S+ [A-Z_]+/\S+ "),
    new_parser=extended_parser,
    independent_batches=True,
    fields=(
        "ts", "src_ip", "src_host", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
        "http_method", "url_path", "http_status", "action", "bytes_out", "bytes_in", "duration_ms",
        "user_agent", "content_type",
    ),
)
