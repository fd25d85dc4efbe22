"""Skyhigh Secure Web Gateway (formerly McAfee Web Gateway, on premises) native access.log.

The appliance's Default Log Handler rule set writes `access.log` through its nested "Access Log" rule set
(`Set User-Defined.logLine = DateTime.ToWebReporterString + ...`, then `FileSystemLogging.WriteLogEntry`).
Neither W3C nor CSV: values are separated by single spaces, text values in double quotes. Layouts, told by
their number of values:

- 12 values, the default of MWG 7.x and Skyhigh SWG (Skyhigh's "Access log rule set" page,
  https://success.skyhighsecurity.com/Skyhigh_Secure_Web_Gateway_(On_Prem)/Monitoring/Logging/Access_log_rule_set,
  and the MWG 7.1.5 product guide, section "Log handler rule sets"; the header line the appliance writes,
  quoted in https://community.mcafee.com/thread/27946):
      time_stamp "auth_user" src_ip status_code "req_line" "categories" "rep_level" "media_type"
      bytes_to_client "user_agent" "virus_name" "block_res"
- 14 values, the same with `bytes_from_client` after `bytes_to_client` and `"application_name"` at the end (the
  header of later rule sets, as Web Reporter / Content Security Reporter read it).

Read: time_stamp `[dd/Mon/yyyy:HH:MM:SS +zzzz]` (DateTime.ToWebReporterString, with its zone) -> ts in UTC;
auth_user (Authentication.UserName; `-`/empty: none) -> user_name; src_ip (Client.IP) -> src_ip; status_code
(Response.StatusCode) -> http_status; req_line (RequestHeader.FirstLine: `METHOD URL HTTP/x.y`) -> http_method and
the URL's host, port, scheme and path (`CONNECT host:port`: the tunnel's target, host_source connect; a relative
URL, as transparent mode logs it, or a line without its target, `CONNECT HTTP/1.1`, names no host); categories
(URL.Categories) -> vendor_category; media_type -> content_type; bytes_to_client (Body.Size of the response) ->
bytes_in; bytes_from_client -> bytes_out (null in the 12-value layout: never guessed); user_agent; application_name
-> vendor_app. rep_level and virus_name are not read.
action: block_res (Block.ID) 0 -> allowed; 81 (authentication required: the gateway asks for credentials, 407 or
its login page, no verdict yet, as Squid's 407) -> unknown; any other number -> blocked (the appliance answers such
requests with its block page, mostly 403); no block_res -> unknown. A client address `-`, empty or unspecified
(`0:0:0:0:0:0:0:0`, `::`, `0.0.0.0`, written when the gateway has none) is null, never an address.

The same lines forwarded over syslog (rsyslog, `mwg: [20/Nov/2026:...] ...`) are read after their header, whose
time is not used (the line has its own, with its zone). Lines of the appliance that hold no access record (header
and comment lines, other syslog messages) are ignored; the gateway's LEEF/CEF syslog is read by `leef` / `cef`.
The parts between the quotes are found, the layout tested and the values numbered by their texts by a compiled pass
over the lines' bytes (skyhigh_swg_scan, texts_scan), where a pyarrow split copied every part of every line, a take
copied the parts read again and forty-odd kernels tested the layout: whole ingest of the benchmark's syslog sample
(CPU, old/new interleaved, load ~6): 1M lines 3.65-3.66 -> 3.15-3.19 s, default 3.12-3.17 -> 2.67-2.91 s; 4M syslog
lines 11.9 -> 8.4 s, peak RSS 607 -> 796 MiB (Numba, and the reader's compiled line cutting that it turns on).
Lines behind a syslog header are read where their record starts in the lines' own buffer (`header_lengths`), not
from a copy of the lines without their headers: 4M syslog lines 9.0 -> 8.1 s, 1M 3.09-3.58 -> 2.78-3.27 s.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import (
    DistinctQuery,
    first_bytes,
    list_item,
    per_distinct,
)
from detector.ingest.base import BatchParser, Format, ParseContext
from detector.ingest.byte_spans import spans
from detector.ingest.distinct_sql import SLICE_LINES, chunk_sliced_parser, encoded, plain, without
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.proxy_columns import (
    UrlQueries,
    bools,
    constant_text,
    first_reasons,
    first_valid,
    line_text,
    url_columns,
    where,
)
from detector.ingest.squid import (
    CLF_TIME_SQL,
    COMMON_METHOD_SQL,
    COMMON_SIZE_SQL,
    DASH_SQL,
    PROXY_MACROS,
)
from detector.ingest.syslog import BSD_TIME, BSD_YEAR_TIME, ISO_TIME

# A line split at its double quotes: the quoted values are its odd parts, the even ones hold the unquoted values
# and the spaces between. In the 12-value layout (8 quoted values when block_res is quoted: 17 parts)
#   0 `[time] `  1 user  2 ` client status `  3 request  4 ` `  5 categories  6 ` `  7 reputation  8 ` `
#   9 media type  10 ` bytes_to_client `  11 user agent  12 ` `  13 virus  14 ` `  15 block_res  16 ``
# the 14-value layout has ` bytes_to_client bytes_from_client ` in part 10 and ` ` 16, application 17, `` 18 after;
# an unquoted block_res (Number.ToString) joins its neighbours: part 14 ` 0` (12 values) or ` 0 ` (14 values).
SHORT_QUOTED, SHORT_BARE, LONG_QUOTED, LONG_BARE = 17, 15, 19, 17
TIME_CHARS = len("[dd/Mon/yyyy:HH:MM:SS +zzzz] ")
SHAPE_REASON = ("not in a layout of 12 or 14 values (Skyhigh SWG access.log: [time] \"user\" client status "
                "\"request\" \"categories\" \"reputation\" \"media type\" bytes_to_client [bytes_from_client] "
                "\"user agent\" \"virus\" block_res [\"application\"])")
NOT_A_RECORD = "not a Skyhigh SWG access log line (expected [dd/Mon/yyyy:HH:MM:SS +zzzz] first): "
HOST_SOURCES = pa.array(["connect", "url", "none"])
ACTIONS = pa.array(["allowed", "blocked", "unknown"])
# Block.ID 81: "authentication required" (the gateway's authentication rule sets answer with a credentials
# challenge, 407 or a redirect to its login page): no verdict on the request yet.
AUTH_REQUIRED = 81
# Client addresses the gateway writes when it has none: the unspecified address in either family.
NO_ADDRESS = ("0:0:0:0:0:0:0:0", "::", "0.0.0.0")
BRACKET, HASH = ord("["), ord("#")

# The record's own time, which every access line starts with.
RECORD_START = r"\[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "
# A syslog header before the record: `<PRI>` (RFC 5424's `<PRI>1 `), a time, then anything (host, tag, RFC 5424's
# fields) up to the record's `[dd/Mon/yyyy:`.
SYSLOG_TIME = rf"^(?:<\d{{1,3}}>(?:1 )? ?)?(?:{BSD_TIME}|{ISO_TIME}|{BSD_YEAR_TIME}) "
SYSLOG_HEAD = rf"{SYSLOG_TIME}(?:.*? )??(\[\d{{2}}/[A-Z][a-z]{{2}}/\d{{4}}:)"
# The header line the appliance writes at the top of each file (`Log header` of its file system logging)
LOG_HEADER = "time_stamp "


class Queries:
    """The per-distinct queries of one file's parse, each remembering the values it has seen."""

    def __init__(self) -> None:
        self.time = DistinctQuery(CLF_TIME_SQL)
        self.number = DistinctQuery(COMMON_SIZE_SQL)
        self.method = DistinctQuery(COMMON_METHOD_SQL)  # the request line's method, and CONNECT
        self.text = DistinctQuery(DASH_SQL)
        self.urls = UrlQueries()


def new_parser(context: ParseContext) -> BatchParser:
    """A file's parser: each batch in slices (`chunk_sliced_parser`), each distinct value read once per file."""
    context.connection.execute(PROXY_MACROS)
    queries = Queries()
    return chunk_sliced_parser(context, lambda cursor, part: _columns(cursor, queries, part), SLICE_LINES)


def unwrapped(text: pa.Array) -> pa.Array:
    """The lines without a syslog header before the record (others as they are): the text
    `replace_substring_regex(text, SYSLOG_HEAD, r"\1")` leaves (see `header_lengths`)."""
    heads = header_lengths(text)
    if heads is None:
        return pc.replace_substring_regex(text, SYSLOG_HEAD, r"\1", max_replacements=1)
    if not heads.any():
        return text
    buffer, _, offsets = line_bytes(text)
    return spans(buffer, offsets[:-1] + heads, offsets[1:])


def header_lengths(text: pa.Array) -> np.ndarray | None:
    """Per line, the bytes of the syslog header before its record (0 where none): what
    `replace_substring_regex(text, SYSLOG_HEAD, r"\1")` takes off (None for text with null lines: the caller
    replaces). Which lines lose a header is the expression's (a match without places costs a sixth of the
    replacement); where the record starts: the line's first ` [` (a header up to its time holds no `[`, and the
    record's `[` follows a space), when the bytes after it are `dd/Mon/yyyy:`. Lines whose first ` [` is something
    else (RFC 5424 structured data) are left to the expression. The parse reads the records where they start in
    the lines' own buffer (no copy of the lines without their headers)."""
    heads = np.zeros(len(text), np.int64)
    first = first_bytes(text)
    if ((first == BRACKET) | (first == HASH)).all():
        return heads
    if text.null_count:
        return None
    _, data, offsets = line_bytes(text)
    starts = offsets[:-1]
    matched = bools(pc.fill_null(pc.match_substring_regex(text, SYSLOG_HEAD), False))
    rows = np.flatnonzero(matched)
    if len(rows):
        space = np.asarray(pc.find_substring(text, " ["), np.int64)[rows]
        place = starts[rows] + space + 1  # the `[`
        fits = (space >= 0) & (place + len(RECORD_DATE) <= offsets[rows + 1])
        shape = data[np.minimum(place, len(data) - len(RECORD_DATE))[:, None] + np.arange(len(RECORD_DATE))]
        fits &= (np.where(_DATE_DIGITS, shape - np.uint8(ord("0")) <= 9, True)
                 & np.where(_DATE_UPPER, shape - np.uint8(ord("A")) <= 25, True)
                 & np.where(_DATE_LOWER, shape - np.uint8(ord("a")) <= 25, True)
                 & np.where(_DATE_FIXED > 0, shape == _DATE_FIXED, True)).all(axis=1)
        heads[rows[fits]] = space[fits] + 1
        odd = rows[~fits]
        if len(odd):
            lines = text.take(pa.array(odd))
            heads[odd] = bools(pc.binary_length(lines)) - bools(pc.binary_length(
                pc.replace_substring_regex(lines, SYSLOG_HEAD, r"\1", max_replacements=1)))
    return heads


# The record's first bytes `[dd/Mon/yyyy:` (what SYSLOG_HEAD's group reads), byte by byte: a digit, an upper or a
# lower case letter, or the byte itself.
RECORD_DATE = "[dd/Mon/yyyy:"
_DATE_DIGITS = np.array([c in "dy" for c in RECORD_DATE])
_DATE_UPPER = np.array([c == "M" for c in RECORD_DATE])
_DATE_LOWER = np.array([c in "on" for c in RECORD_DATE])
_DATE_FIXED = np.array([ord(c) if c in "[/:" else 0 for c in RECORD_DATE], np.uint8)


def _kinds(original: pa.Array, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which lines hold a record (start with `[`, header off: `first` is that byte), and which are to be ignored:
    comment and header lines, and syslog messages of the appliance that hold no record."""
    record = first == BRACKET
    ignored = first == HASH
    other = np.flatnonzero(~record & ~ignored)
    if len(other):
        rest = original.take(pa.array(other))
        quiet = pc.or_(pc.starts_with(rest, LOG_HEADER), pc.match_substring_regex(rest, SYSLOG_TIME))
        ignored[other] = bools(pc.fill_null(quiet, False))
    return record, ignored


VERSION_ONLY = r"^HTTP/\d"  # a request line's second word that is its protocol version: no target


def _tokens(text: pa.Array, heads: np.ndarray | None = None) -> tuple[np.ndarray, list[pa.DictionaryArray]]:
    """Whether each line has a layout's shape, and its values dictionary-encoded (null where missing, and on a line
    without the shape, which is rejected): time, user, client, status, request, categories, media type, bytes to and
    from the client, user agent, block_res and application. A compiled pass over the lines' bytes finds the parts
    between their quotes and tests the layout (skyhigh_swg_scan.access_spans), and the values are numbered by their
    texts as spans of the lines' buffer (texts_scan.DistinctTexts): no copy of each line's parts. A line's record
    starts after its `heads` bytes (a syslog header, see `header_lengths`)."""
    from detector.ingest import skyhigh_swg_scan, texts_scan  # (Numba: loaded only when such a log is read)

    buffer, data, offsets = line_bytes(text)
    rows, slots = len(text), skyhigh_swg_scan.SLOTS
    starts = offsets[:-1] if heads is None else offsets[:-1] + heads
    begin, end = np.empty((rows, slots), np.int32), np.empty((rows, slots), np.int32)
    missing, shaped, ascii_time = np.empty((rows, slots), np.bool_), np.empty(rows, np.bool_), np.empty(rows, np.bool_)
    skyhigh_swg_scan.access_spans(data, starts, offsets[1:], begin, end, missing, shaped, ascii_time)
    if text.null_count:  # (a null line: no shape, no values)
        null = ~bools(text.is_valid())
        shaped[null], missing[null] = False, True
    distinct = texts_scan.DistinctTexts()
    codes, _, _ = distinct.read(data, begin, end, missing, np.arange(slots, dtype=np.int64), np.empty(0, np.int64))
    columns = [pa.DictionaryArray.from_arrays(pa.array(codes[slot], mask=codes[slot] < 0), dictionary)
               for slot, dictionary in enumerate(distinct.dictionaries(slots))]
    odd = np.flatnonzero(shaped & ~ascii_time)  # a time with other than ASCII: cut by characters, as Arrow does
    if len(odd):
        times = pc.utf8_slice_codeunits(spans(buffer, starts[odd], starts[odd] + TIME_CHARS), 1, TIME_CHARS - 2)
        place = np.zeros(rows, np.bool_)
        place[odd] = True
        columns[0] = encoded(pc.replace_with_mask(columns[0].cast(pa.string()), pa.array(place), times))
    return shaped, columns


def _columns(connection: duckdb.DuckDBPyConnection, queries: Queries, lines: pa.Table) -> pa.Table:
    """Access lines -> schema columns plus reject_reason / is_ignored (see base.split_outcomes)."""
    original = line_text(lines)
    heads = header_lengths(original)
    text = original
    if heads is None:  # (null lines: the expression takes the headers off)
        text = pc.replace_substring_regex(original, SYSLOG_HEAD, r"\1", max_replacements=1)
        heads = np.zeros(len(text), np.int64)
    buffer, data, offsets = line_bytes(text)
    starts = offsets[:-1] + heads
    filled = starts < offsets[1:]
    first = np.zeros(len(text), np.uint8)
    first[filled] = data[starts[filled]]
    record, ignored = _kinds(original, first)
    shaped, values = _tokens(text, heads)
    shaped = pa.array(record & shaped)
    time, user, client, status, request, categories, media, to_client, from_client, agent, block, app = values
    ts = per_distinct(connection, time, queries.time, where=shaped)["ts"]
    status_of = _numbers(connection, queries, status)
    status_value = status_of["value"]
    status_bad = pc.fill_null(pc.or_kleene(status_of["invalid"], pc.or_kleene(pc.greater(status_value, 999),
                                                                             pc.less(status_value, 0))), False)
    to_client_of = _numbers(connection, queries, to_client)
    from_client_of = _numbers(connection, queries, from_client)
    block_of = _numbers(connection, queries, block)
    reasons = [
        (pa.array(~record), lambda: pc.binary_join_element_wise(NOT_A_RECORD, pc.utf8_slice_codeunits(
            spans(buffer, starts, offsets[1:], bools(text.is_valid()) if text.null_count else None), 0, 40), "")),
        (pc.invert(shaped), SHAPE_REASON),
        (pc.is_null(ts), lambda: pc.binary_join_element_wise(
            "time is not dd/Mon/yyyy:HH:MM:SS +zzzz: ", plain(time), "")),
        (status_bad, lambda: pc.binary_join_element_wise(
            "status is not an HTTP status code: ", plain(status), "")),
        (to_client_of["invalid"], lambda: pc.binary_join_element_wise(
            "bytes_to_client is not a whole number of bytes: ", plain(to_client), "")),
        (from_client_of["invalid"], lambda: pc.binary_join_element_wise(
            "bytes_from_client is not a whole number of bytes: ", plain(from_client), "")),
        (block_of["invalid"], lambda: pc.binary_join_element_wise(
            "block_res is not a number: ", plain(block), "")),
    ]
    if ignored.any():  # (an ignored line's outcome is no reject: no reason is made for it)
        kept = pa.array(~ignored)
        reasons = [(pc.and_(condition, kept), reason) for condition, reason in reasons]
    place = request_columns(connection, queries, request)
    action = actions(block_of["value"])
    rows = len(text)
    columns = {
        "line_no": lines.column("line_no"),
        "reject_reason": first_reasons(reasons, rows),
        "is_ignored": pa.array(ignored),
        "ts": ts,
        "src_ip": client_address(connection, queries, client),
        "user_name": _text(connection, queries, user),
        **place,
        "http_status": pc.cast(where(pc.and_(pc.not_equal(status_value, 0), pc.invert(status_bad)), status_value),
                               pa.int32()),
        "action": action,
        "bytes_out": from_client_of["value"],
        "bytes_in": to_client_of["value"],
        "user_agent": _text(connection, queries, agent),
        "content_type": _text(connection, queries, media),
        "vendor_category": _text(connection, queries, categories),
        "vendor_app": _text(connection, queries, app),
    }
    return pa.table(columns)


def request_columns(connection: duckdb.DuckDBPyConnection, queries: Queries, request: pa.DictionaryArray
                    ) -> dict[str, pa.Array]:
    """The request line's (`METHOD URL HTTP/x.y`) columns: host, host_source, dst_port, network_protocol,
    http_method and url_path; `CONNECT host:port` names the tunnel's target (host_source connect)."""
    parts = pc.split_pattern(request.dictionary, " ", max_splits=2)
    method = per_distinct(connection, pa.DictionaryArray.from_arrays(request.indices, list_item(parts, 0)),
                          queries.method)
    # `CONNECT HTTP/1.1`: a request line without its target (logged so for a refused CONNECT, e.g. a 407) names
    # no host; its second word is the protocol version, not a URL.
    target = list_item(parts, 1)
    target = where(pc.invert(pc.fill_null(pc.match_substring_regex(target, VERSION_ONLY), False)), target)
    url = pa.DictionaryArray.from_arrays(request.indices, target)
    is_connect = pc.fill_null(method["is_connect"], False)
    not_connect = pc.invert(is_connect)
    place = url_columns(connection, queries.urls, url, connect=is_connect)
    has_url = pc.and_(not_connect, pc.fill_null(place["has_rest"], False))
    host = first_valid(where(is_connect, place["connect_host"]), where(has_url, place["host"]))
    source = np.select([bools(is_connect) & bools(pc.is_valid(host)), bools(has_url)], [0, 1], 2)
    return {
        "host": host,
        "host_source": constant_text(HOST_SOURCES, source),
        "dst_port": pc.if_else(is_connect, place["connect_port"], place["dst_port"]),
        "network_protocol": where(has_url, place["scheme"]),
        "http_method": method["http_method"],
        "url_path": where(has_url, place["url_path"]),
    }


def actions(block_id: pa.Array) -> pa.DictionaryArray:
    """Block.ID as an action: 0 allowed; AUTH_REQUIRED (the gateway asks for credentials: no verdict yet, as
    Squid's 407) and no value unknown; any other block reason blocked."""
    missing = bools(pc.is_null(block_id)) | bools(pc.fill_null(pc.equal(block_id, AUTH_REQUIRED), False))
    allowed = bools(pc.fill_null(pc.equal(block_id, 0), False))
    return constant_text(ACTIONS, np.where(missing, 2, np.where(allowed, 0, 1)))


def client_address(connection: duckdb.DuckDBPyConnection, queries: Queries, values: pa.DictionaryArray
                   ) -> pa.Array:
    """Client.IP, null where `-`, empty or the unspecified address the gateway writes when it has none."""
    return without(_text(connection, queries, values), NO_ADDRESS)


def _numbers(connection: duckdb.DuckDBPyConnection, queries: Queries, tokens: pa.DictionaryArray
             ) -> dict[str, pa.Array]:
    """`value` (bigint; `-` or empty: null) and `invalid` (a value that is no whole number) of each token."""
    return per_distinct(connection, tokens, queries.number)


def _text(connection: duckdb.DuckDBPyConnection, queries: Queries, values: pa.DictionaryArray) -> pa.Array:
    """The values, null where `-` or empty, once per distinct value."""
    return per_distinct(connection, values, queries.text)["value"]


_SYSLOG_HEAD = re.compile(SYSLOG_HEAD)
_LINE = re.compile(
    rf'{RECORD_START}"(?:[^"]|"")*" \S+ (?:\d{{1,3}}|-) "(?:[^"]|"")*"(?: "(?:[^"]|"")*"){{3}} (?:\d+|-)'
    r'(?: (?:\d+|-))?(?: "(?:[^"]|"")*"){2} (?:"?\d+"?|-)(?: "(?:[^"]|"")*")?\s*$')


def sniff(lines: Sequence[str]) -> float:
    """Share of lines (behind a syslog header or not) that are access records of a layout, or the appliance's
    header and comment lines (when there is a record among them)."""
    if not lines:
        return 0.0
    records = 0
    quiet = 0
    for line in lines:
        line = _SYSLOG_HEAD.sub(r"\1", line, count=1).lstrip("\ufeff")
        if _LINE.match(line) and len(_VALUE.findall(line)) in _SNIFFED_TOKENS:
            records += 1
        elif line.startswith(("#", LOG_HEADER)):
            quiet += 1
    return (records + quiet) / len(lines) if records else 0.0


_VALUE = re.compile(r'"(?:[^"]|"")*"|[^ "]\S*')
_SNIFFED_TOKENS = (13, 15)  # 12 or 14 values, the time counted as two tokens


ACCESS = Format(
    name="skyhigh_swg",
    source_kind="proxy",
    summary="Skyhigh Secure Web Gateway / McAfee Web Gateway access.log (default Log Handler, 12 or 14 values), "
            "bare or behind a syslog header",
    sniff=sniff,
    new_parser=new_parser,
    independent_batches=True,
    fields=(
        "ts", "src_ip", "user_name", "host", "host_source", "dst_port", "network_protocol", "http_method",
        "url_path", "http_status", "action", "bytes_out", "bytes_in", "user_agent", "content_type",
        "vendor_category", "vendor_app",
    ),
)
