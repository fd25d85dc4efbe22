"""Symantec / Blue Coat ProxySG (Edge SWG) access logs without their `#Fields:` header.

ProxySG writes its access log in ELFF, the W3C extended format, and the `w3c` format reads it when the
`#Fields:` directive is there. Forwarded over syslog (each line behind a syslog header), or uploaded,
rotated or exported without its directives, the same lines name no columns; this format recognises the
appliance's predefined layouts by their number of values instead, and reads each layout's lines as `w3c`
reads them under that layout's field list (`w3c.event_columns`: one reading of ELFF for both formats).

Layouts, by number of values (every one starts with `date time time-taken c-ip`; `date`/`time` are UTC):
- `main`, 24 values: Broadcom's default formats page
  https://techdocs.broadcom.com/us/en/symantec-security-software/web-and-network-security/edge-swg/7-3/getting-started/page-help-administration/page-help-logging/log-formats/default-formats.html
  as read by Elastic's ProxySG integration
  (https://github.com/elastic/integrations/blob/main/packages/proxysg/data_stream/log/elasticsearch/ingest_pipeline/main.yml)
  and Cortex XSIAM's Symantec Blue Coat ProxySG pack (demisto/content), which has the appliance send it over syslog.
- `main` of SGOS 6.5 and before, 25 values: the same with `s-hierarchy` before `s-supplier-name` (the `#Fields:`
  lines of SGOS 6.5 logs quoted in public Logstash guides, relayed through syslog, and in the comments of SARG's
  reader of ProxySG's extended log).
- `bcreportermain_v1`, 27 values: the layout the Splunk Add-on for Blue Coat ProxySG
  (`bluecoat:proxysg:access:syslog` / `:file`, https://docs.splunk.com/Documentation/AddOns/latest/BlueCoatProxySG/About)
  names field by field in its `:file` form; Splunk Connect for Syslog's ProxySG tests send it behind a syslog header
  (https://github.com/splunk/splunk-connect-for-syslog, tests `test_bluecoatproxySG_syslog` and `..._access`).
- `bcreportermain_v1` with the supplier fields and `cs-threat-risk`, 32 values (SC4S' test
  `test_bluecoatproxySG_otherSyslog`).
- `bcreportermain_v1` of Edge SWG 7.3, 42 values (threat sources and ids, application groups, access security policy,
  transaction UUID, ICAP metadata): Elastic's
  https://github.com/elastic/integrations/blob/main/packages/proxysg/data_stream/log/elasticsearch/ingest_pipeline/bcreportermain_v1.yml
  which also notes that the appliance sometimes writes two spaces between values of this format: runs of spaces
  separate one pair of values here, as in `w3c` (an empty value is written `-`).
- `main` of SGOS 3 to 5, 26 values: `date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method
  cs-uri-scheme cs-host cs-uri-path cs-uri-query cs-username s-hierarchy s-supplier-name rs(Content-Type)
  cs(User-Agent) sc-filter-result sc-filter-category x-virus-id s-ip s-sitename x-virus-details x-icap-error-code
  x-icap-error-details` (no port: the scheme's), the `#Fields:` line of SGOS 3.2 logs quoted by Splunk's and
  several ELFF parsers' documentation, still what older appliances relay over syslog.
- `main` with `s-hierarchy` and, after `s-ip`, `r-ip cs(User-Agent) x-rs-certificate-signature-algorithm`, 27
  values: the on-premises layout of Elastic's ProxySG integration tests
  (https://github.com/elastic/integrations/blob/main/packages/proxysg/data_stream/log/_dev/test/pipeline/proxy-onprem.log),
  sent over syslog in its system tests.
- `bcreportermain_v1` of SGOS before the application fields, 25 values (ending at `x-virus-id`), as relayed over
  syslog in public parser tests (Apache Metron-style Blue Coat parsers' fixtures).
Two counts have two layouts: 25 and 27. A line of such a count whose 5th and 6th values are a status and an s-action
code (`302 TCP_NC_MISS`) is read as main, any other as bcreportermain_v1 (whose 5th and 6th are the user name and
group), line by line.
`bcreporterssl_v1` (the SSL interception log) holds no request: its lines are rejected with their count, as are
lines of any other count (a custom format needs its `#Fields:` line and the `w3c` format).

A syslog header (`<PRI>`, an RFC 3164 or ISO time (syslog.py's BSD_TIME / ISO_TIME / BSD_YEAR_TIME), or RFC 5424's
`<PRI>1 TIME HOST APP PROCID MSGID SD`, then host and tag if any) is taken off each line up to the ELFF line's own
`YYYY-MM-DD HH:MM:SS`, whose time is used, or up to a directive. Directive and comment lines (`#Software:`,
`#Remark:`) are ignored; a rejected line is shown as written, header and all.

Mapped as `w3c` maps ProxySG: time-taken (ms) -> duration_ms, c-ip -> src_ip, cs-username -> user_name,
cs-host / cs-uri-path / cs-uri-port -> host, url_path, dst_port, sc-status -> http_status, sc-bytes -> bytes_in,
cs-bytes -> bytes_out, cs(User-Agent) -> user_agent, rs(Content-Type) -> content_type, cs-categories ->
vendor_category, x-bluecoat-application-name -> vendor_app; action blocked when sc-filter-result is DENIED,
s-action a *_DENIED code or x-exception-id a denial (`policy_denied`, `content_filter_denied`), allowed when
PROXIED/OBSERVED or another s-action code; unknown when sc-status is 407, the proxy asking for credentials
(`407 TCP_DENIED`, `authentication_failed`: with NTLM every connection starts so, Symantec KB 167686), whatever
the other fields say, or 401 with TCP_DENIED (the same challenge when the appliance authenticates transparently).
s-ip is the appliance's own address and is not read as the destination.

How a batch is read: one compiled pass over its lines' bytes (proxysg_scan) cuts each header, counts the values,
chooses the layout and numbers the values the layout reads by their text, so that the columns are made from indices
and distinct values (w3c.columns_of_fields); the lines it is not sure of (tabs, odd quoting, a `#` in the header, a
count of no layout) are read by `read_values`: headers cut (unwrapped), values counted and read by Arrow's CSV reader
as `w3c` reads them. Both give a line the same outcome (tests/test_proxysg_scan.py compares them).
Eighteenth session, benchmark (CPU s shadow-ai/generic DuckDB, peak RSS; load 6-9): before the pass, 1M lines: main
3.22/1.69, main_syslog 4.23/1.96, bcreportermain_v1 3.57/1.81, its syslog file 5.31/2.42 (RSS 665-849 MiB); with it
2.53/1.71, 2.45/1.84, 2.65/1.69, 3.27/2.44 (586-662 MiB); 4M lines with it: 7.13/6.05, 7.35/6.85, 6.94/7.60,
9.29/8.77 (607-651 MiB; the last session's idle runs: 8.4-16.5 s, 825-1016 MiB). Whole ingest of the 1M-line files
(runat, before/after interleaved x2): main 3.08/2.80 -> 2.28/2.23 s, main_syslog 3.78/4.37 -> 2.48/2.55,
bcreportermain_v1 3.87/4.66 -> 2.62/2.80, its syslog file 7.38/5.95 -> 3.07/2.98; that file with its paths, times,
clients and transaction ids made distinct line by line: 6.73/7.01 -> 5.22/4.42 s, peak RSS 852/896 -> 665/646 MiB.
Per 131k-line batch the pass is 0.07-0.09 s (the values' hash table half of it), the columns from the distinct values
~0.05; of a whole ingest of the syslog BC Reporter file (3.65 s) the parse is 1.67, imports 1.04 (Numba's ~0.5).
Earlier (measured and left): the CSV reader ~0.09 s of a batch, w3c.line_kinds ~0.03, unwrapped ~0.065 on wrapped
lines; a W3C batch combined once in glibc's heap (no CPU saved, +55-75 MiB); a single-thread parse costs ~1.5x under
stages.tune_allocators' jemalloc pool than under pyarrow's default pool (fresh pages for every large temporary).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.base import (
    REJECTS_OF_BATCH,
    BatchParser,
    Format,
    ParseContext,
    ParseResult,
    attach_lines,
    parse_cursor,
    split_outcomes,
)
from detector.ingest.byte_spans import spans
from detector.ingest.cisco_wsa import WSA_MACROS
from detector.ingest.distinct_sql import in_slices
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.proxy_columns import VALUE_SLICE, has_control_bytes, line_text
from detector.ingest.squid import PROXY_MACROS
from detector.ingest.syslog import BSD_TIME, BSD_YEAR_TIME, ISO_TIME
from detector.ingest.w3c import W3C, Header, Plan, cleaned, columns_of_fields, combine, data_fields, event_columns

if TYPE_CHECKING:
    from detector.ingest.proxysg_scan import Layouts

_MAIN = ("date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme cs-host cs-uri-port "
         "cs-uri-path cs-uri-query cs-username cs-auth-group {hierarchy}s-supplier-name rs(content-type) cs(referer) "
         "cs(user-agent) sc-filter-result cs-categories x-virus-id s-ip")
_REPORTER = ("date time time-taken c-ip cs-username cs-auth-group {supplier}x-exception-id sc-filter-result "
             "cs-categories cs(referer) sc-status s-action cs-method rs(content-type) cs-uri-scheme cs-host "
             "cs-uri-port cs-uri-path cs-uri-query cs-uri-extension cs(user-agent) s-ip sc-bytes cs-bytes "
             "x-virus-id {threats}x-bluecoat-application-name x-bluecoat-application-operation{tail}")
_SUPPLIER = "s-supplier-name s-supplier-ip s-supplier-country s-supplier-failures "
# `main` with s-hierarchy, and the upstream address, the agent and the server certificate's algorithm after s-ip.
_MAIN_SERVER = (_MAIN.format(hierarchy="s-hierarchy ").replace("cs(user-agent) ", "")
                + " r-ip cs(user-agent) x-rs-certificate-signature-algorithm")
# The default `main` of SGOS 3 to 5 (no port, no auth group or referer; the ICAP fields at the end).
_MAIN_SGOS5 = ("date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme cs-host "
               "cs-uri-path cs-uri-query cs-username s-hierarchy s-supplier-name rs(content-type) cs(user-agent) "
               "sc-filter-result sc-filter-category x-virus-id s-ip s-sitename x-virus-details x-icap-error-code "
               "x-icap-error-details")


@dataclass(frozen=True)
class Layout:
    """One predefined ELFF field list, known by its number of values."""

    name: str
    fields: tuple[str, ...]


LAYOUTS: tuple[Layout, ...] = (
    Layout("main", tuple(_MAIN.format(hierarchy="").split())),
    Layout("main with s-hierarchy", tuple(_MAIN.format(hierarchy="s-hierarchy ").split())),
    Layout("bcreportermain_v1", tuple(_REPORTER.format(supplier="", threats="", tail="").split())),
    Layout("bcreportermain_v1 with suppliers", tuple(_REPORTER.format(
        supplier=_SUPPLIER, threats="", tail=" cs-threat-risk").split())),
    Layout("bcreportermain_v1 of Edge SWG 7.3", tuple(_REPORTER.format(
        supplier=_SUPPLIER, threats="cs-threat-source cs-threat-id rs-threat-source rs-threat-id ",
        tail=" x-bluecoat-application-groups cs-threat-risk x-bluecoat-access-security-policy-action "
             "x-bluecoat-access-security-policy-reason x-bluecoat-transaction-uuid "
             "x-icap-reqmod-header(x-icap-metadata) x-icap-respmod-header(x-icap-metadata)").split())),
    Layout("main of SGOS 3 to 5", tuple(_MAIN_SGOS5.split())),
    Layout("main with s-hierarchy, r-ip and the server certificate", tuple(_MAIN_SERVER.split())),
    Layout("bcreportermain_v1 without the application", tuple(_REPORTER.format(
        supplier="", threats="", tail="").split()[:-2])),
)
# Two counts have two layouts each: 25 (main with s-hierarchy; bcreportermain_v1 of SGOS before the application
# fields) and 27 (bcreportermain_v1; main with r-ip and the server certificate). A line of such a count is main when
# its 5th and 6th values are a status and an s-action code (`302 TCP_NC_MISS`), where bcreportermain_v1 has the
# user name and group; every other layout is told by its count alone.


def _by_count() -> tuple[dict[int, int], dict[int, tuple[int, int]]]:
    """Each count's first layout, and for the counts of two layouts: (its main layout, its bcreportermain_v1)."""
    first: dict[int, int] = {}
    shared: dict[int, tuple[int, int]] = {}
    for index, layout in enumerate(LAYOUTS):
        count = len(layout.fields)
        if count not in first:
            first[count] = index
        elif LAYOUTS[first[count]].fields[4] == "sc-status":
            shared[count] = (first[count], index)
        else:
            shared[count] = (index, first[count])
    return first, shared


_BY_COUNT, SHARED = _by_count()
assert all(LAYOUTS[main].fields[4:6] == ("sc-status", "s-action") and LAYOUTS[other].fields[4] == "cs-username"
           for main, other in SHARED.values()), "a shared count is told apart by main's status and s-action"
MAIN_SHAPE = r"^\S+ +\S+ +\S+ +\S+ +\d{1,3} +[A-Z][A-Z0-9_]* "
_COUNTS_TEXT = "main: 24, 25, 26 or 27, bcreportermain_v1: 25, 27, 32 or 42"

# The ELFF line's own date and time, which every predefined layout starts with.
ELFF_START = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} "
# A syslog header up to the ELFF line: `<PRI>` (RFC 5424's `<PRI>1 `), a time, then anything (host, tag,
# RFC 5424's fields) up to the first ELFF date and time, or a directive (`#Software:`).
SYSLOG_HEAD = (rf"^(?:<\d{{1,3}}>(?:1 )? ?)?(?:{BSD_TIME}|{ISO_TIME}|{BSD_YEAR_TIME}) (?:.*? )??"
               rf"({ELFF_START}|#[A-Za-z-]+:)")
_SYSLOG_HEAD = re.compile(SYSLOG_HEAD)
_ELFF_START = re.compile(ELFF_START)
SPACE, QUOTE, HASH = ord(" "), ord('"'), ord("#")
ELFF_DATE_LENGTH = len("YYYY-MM-DD")


def unwrapped(text: pa.Array) -> pa.Array:
    """The lines without a syslog header before the ELFF line (others as they are); tabs read as spaces."""
    if has_control_bytes(text) and pc.any(pc.match_substring(text, "\t")).as_py():
        text = pc.replace_substring(text, "\t", " ")
    buffer, data, offsets = line_bytes(text)
    starts, lengths = offsets[:-1], np.diff(offsets)
    first = np.where(lengths > 0, data[np.minimum(starts, max(len(data) - 1, 0))], 0) if len(data) else \
        np.zeros(len(starts), np.uint8)
    bare = first == HASH  # a directive
    dated = (first - np.uint8(ord("0")) <= 9) & (lengths > ELFF_DATE_LENGTH)
    dated[dated] = data[starts[dated] + ELFF_DATE_LENGTH] == SPACE  # `YYYY-MM-DD `; an ISO syslog time has a `T`
    if (bare | dated).all():
        return text  # no line has a syslog header
    if text.null_count:
        return pc.replace_substring_regex(text, SYSLOG_HEAD, r"\1", max_replacements=1)
    heads = np.concatenate([syslog_heads(*_line_bytes_of(text.slice(start, COUNT_SLICE)))
                            for start in range(0, len(text), COUNT_SLICE)])
    return spans(buffer, starts + heads, offsets[1:])


def _line_bytes_of(text: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """A slice of lines with its bytes and offsets (syslog_heads' arguments: its scans in a slice at a time make
    arrays of the slice's size, not the batch's)."""
    _, data, offsets = line_bytes(text)
    return text, data, offsets


COLON, DASH = ord(":"), ord("-")
# ELFF_START's digits, from its first colon (`YYYY-MM-DD HH:MM:SS `: the 14th byte; its space before, -14)
_DIGITS_FROM_COLON = np.array([-13, -12, -11, -10, -8, -7, -5, -4, -2, -1, 1, 2, 4, 5])


def syslog_heads(text: pa.Array, data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Each line's bytes up to where SYSLOG_HEAD's group begins (0 where it does not match): the bytes
    `replace_substring_regex(text, SYSLOG_HEAD, r"\1")` takes off, found without its group. Which lines match is
    the expression's (a match without places, a fifth of the cost); where: the line's first ELFF date and time
    after a space, found with numpy from the colons (none is in a header up to its time, which the expression
    reads before looking for one). A line with a `#`, whose group may be a directive, is left to the expression."""
    heads = np.zeros(len(text), np.int64)
    matched = np.asarray(pc.fill_null(pc.match_substring_regex(text, SYSLOG_HEAD), False), bool)
    if not matched.any():
        return heads
    begin, end = int(offsets[0]), int(offsets[-1])
    colons = np.flatnonzero(data[begin:end] == COLON) + begin
    colons = colons[(colons - 14 >= begin) & (colons + 6 < end)]
    colons = colons[data[colons + 3] == COLON]  # (a time's first colon: few are left)
    colons = colons[(data[colons - 3] == SPACE) & (data[colons - 6] == DASH) & (data[colons - 9] == DASH)
                    & (data[colons - 14] == SPACE) & (data[colons + 6] == SPACE)]
    colons = colons[(data[colons[:, None] + _DIGITS_FROM_COLON] - np.uint8(ord("0")) <= 9).all(axis=1)]
    places = colons - 13
    rows = np.searchsorted(offsets, places, "right") - 1
    inside = (places - 1 >= offsets[rows]) & (places + 19 < offsets[rows + 1])  # the space before, the one after
    places, rows = places[inside], rows[inside]
    first = np.ones(len(rows), bool)
    first[1:] = rows[1:] != rows[:-1]
    found = np.zeros(len(text), bool)
    found[rows[first]] = True
    heads[rows[first]] = places[first] - offsets[rows[first]]
    hashes = np.flatnonzero(data[begin:end] == HASH) + begin
    hashed = np.zeros(len(text), bool)
    hashed[np.searchsorted(offsets, hashes, "right") - 1] = True
    heads[~matched] = 0
    odd = np.flatnonzero(matched & (hashed | ~found))
    if len(odd):
        lines = text.take(pa.array(odd))
        heads[odd] = (pc.binary_length(lines).to_numpy(zero_copy_only=False) - pc.binary_length(
            pc.replace_substring_regex(lines, SYSLOG_HEAD, r"\1", max_replacements=1)).to_numpy(zero_copy_only=False))
    return heads


def value_counts(text: pa.Array) -> np.ndarray:
    """Each line's number of values: runs of spaces outside double quotes separate them (`""` inside quotes
    is a quote). Found on the lines' bytes with numpy: a separator is a space followed by a byte of its own
    line that is not a space; those between a pair of quotes (the 1st and 2nd quote of a line, the 3rd and
    4th, ...) are taken off. The separators before a line's start or a quote are counted eight bytes at a time
    (a running count of the separators of each eight-byte word, and those of the word it falls in that come
    before it): the places of every separator (eight bytes each, and binary searches of the quotes among them)
    cost half the count."""
    _, data, offsets = line_bytes(text)
    starts, ends = offsets[:-1], offsets[1:]
    counts = np.zeros(len(text), np.int64)
    filled = ends > starts
    counts[filled] = data[starts[filled]] != SPACE
    begin, end = int(offsets[0]), int(offsets[-1])
    if end - begin < 2:
        return counts
    body = data[begin:end]
    bounds = offsets - begin
    spaces = body == SPACE
    separator = np.zeros(len(body) // WORD * WORD + WORD, np.uint8)  # (whole words, a zero word past the end)
    np.greater(spaces[:-1], spaces[1:], out=separator[:len(body) - 1].view(bool))
    separator[bounds[1:][filled] - 1] = 0  # a line's last byte is followed by the next line's
    quotes = np.flatnonzero(body == QUOTE)
    if len(quotes) and (np.diff(np.searchsorted(quotes, bounds)) % 2).any():
        places = np.flatnonzero(separator)
        return _value_counts_unbalanced(places, bounds, quotes, counts + np.diff(np.searchsorted(places, bounds)))
    before = _separators_before(separator)
    counts += np.diff(before(bounds))
    if not len(quotes):
        return counts
    # every line holds an even number of quotes: the batch's quotes pair up within lines
    opening, closing = quotes[0::2], quotes[1::2]
    quoted = np.zeros(len(opening) + 1, np.int64)
    np.cumsum(before(closing) - before(opening), out=quoted[1:])
    return counts - np.diff(quoted[np.searchsorted(opening, bounds)])


WORD = 8
# The bytes of an eight-byte word before its k-th (little-endian: its low bytes)
_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(WORD)], np.uint64)


def _separators_before(separator: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """For a 0/1 byte per place (whole words), a function giving the number of ones before each of some places:
    a running sum of each word's ones (its bits, one per byte that is 1) and those of the place's own word below it."""
    words = separator.view(np.uint64)
    running = np.zeros(len(words) + 1, np.int64)
    np.cumsum(np.bitwise_count(words), out=running[1:])

    def before(places: np.ndarray) -> np.ndarray:
        at = places // WORD
        return running[at] + np.bitwise_count(words[at] & _LOW_BYTES[places % WORD])

    return before


# Lines counted at a time by counted_in_slices: value_counts' passes over the bytes make arrays of the slice's size
# (its spaces' places take eight bytes each): a whole batch of mixed layouts at once raised the peak RSS of an ingest
# of 1M such lines from ~880 to ~1000 MiB; in slices it is ~830 MiB, and the CPU 5.8-6.2 -> 5.3-5.8 s (smaller arrays).
COUNT_SLICE = 16_384


def counted_in_slices(text: pa.Array) -> np.ndarray:
    """value_counts of each line, a slice of lines at a time."""
    if len(text) <= COUNT_SLICE:
        return value_counts(text)
    return np.concatenate([value_counts(text.slice(start, COUNT_SLICE))
                           for start in range(0, len(text), COUNT_SLICE)])


def _value_counts_unbalanced(places: np.ndarray, bounds: np.ndarray, quotes: np.ndarray, counts: np.ndarray
                             ) -> np.ndarray:
    """As value_counts, for a batch with a line of an odd number of quotes: the quotes before each separator
    are counted from its own line's start (a binary search per separator, slower)."""
    rows = np.searchsorted(bounds, places, "right") - 1
    inside = (np.searchsorted(quotes, places) - np.searchsorted(quotes, bounds[:-1][rows])) % 2 == 1
    return counts - np.bincount(rows[inside], minlength=len(counts))


def new_parser(context: ParseContext) -> BatchParser:
    """Each batch: syslog headers off, lines grouped by layout (their number of values), each group read as
    `w3c` reads ProxySG lines under that field list; other counts rejected, comment lines ignored."""
    for macros in (PROXY_MACROS, WSA_MACROS):
        context.connection.execute(macros)
    plans = [Plan(Header(fields=layout.fields), context.timezone) for layout in LAYOUTS]

    def read_layout(cursor: duckdb.DuckDBPyConnection, part: pa.Table, index: int) -> ParseResult:
        plan, layout = plans[index], LAYOUTS[index]
        columns = in_slices(part, lambda piece: _layout_columns(cursor, plan, layout, piece), VALUE_SLICE)
        return _named(split_outcomes(columns, part), layout)

    def read_groups(cursor: duckdb.DuckDBPyConnection, part: pa.Table, counts: np.ndarray) -> list[ParseResult]:
        """Lines grouped by the layout of their count, each group read apart; other counts rejected."""
        layout = np.full(len(counts), -1, np.int64)
        for count, index in _BY_COUNT.items():
            layout[counts == count] = index
        for count, (main, other) in SHARED.items():
            shared = np.flatnonzero(counts == count)
            if len(shared):
                shaped = pc.match_substring_regex(line_text(part.take(pa.array(shared))), MAIN_SHAPE)
                layout[shared] = np.where(np.asarray(pc.fill_null(shaped, False), bool), main, other)
        results = []
        for index in np.unique(layout).tolist():
            rows = np.flatnonzero(layout == index)
            group = part if len(rows) == len(counts) else part.take(pa.array(rows))
            results.append(ParseResult(NO_EVENTS, _rejects(group, counts[rows])) if index < 0 else
                           read_layout(cursor, group, index))
        return results

    def read_values(original: pa.Table) -> ParseResult:
        """The batch is read as the layout most of its first lines have (w3c counts each line's values as it
        reads them); only the lines of another count are counted here and read by their own layouts."""
        text = unwrapped(line_text(original))
        lines = original.set_column(original.schema.get_field_index("line"), "line", text)
        _, data, offsets = line_bytes(text)
        filled = offsets[1:] > offsets[:-1]
        comment = np.zeros(len(text), bool)
        comment[filled] = data[offsets[:-1][filled]] == HASH
        if comment.any():
            lines = lines.filter(pa.array(~comment))
        with parse_cursor(context.connection) as cursor:
            likely = _likely_layout(line_text(lines))
            if likely is None:
                results = read_groups(cursor, lines, counted_in_slices(line_text(lines)))
            else:
                results = [read_layout(cursor, lines, likely)]
                results += _others(results[0], lines, len(LAYOUTS[likely].fields),
                                   lambda part, counts: read_groups(cursor, part, counts))
        result = combine(results, ignored=int(comment.sum()))
        if result.rejects.num_rows:  # a reject shows its line as written, syslog header and all
            result.rejects = attach_lines(result.rejects.column("line_no"), result.rejects.column("reason"), original)
        if len(results) > 1 and result.events.num_rows:  # groups parsed apart: events back in line order
            result.events = result.events.take(pc.sort_indices(result.events.column("line_no")))
        return result

    layouts = scanning(plans)

    def parse(original: pa.Table) -> ParseResult:
        """The lines the compiled pass reads (proxysg_scan) read by their layouts from its indices and distinct
        values; the others (and a batch it reads none of) by read_values."""
        text = line_text(original)
        buffer, data, offsets = line_bytes(text)
        scanned = layouts.read(buffer, data, offsets)
        unsure = scanned.layout < 0
        if unsure.all():
            return read_values(original)
        results = []
        with parse_cursor(context.connection) as cursor:
            for index in np.unique(scanned.layout[~unsure]).tolist():
                rows = None if len(text) == 1 or (scanned.layout == index).all() else \
                    np.flatnonzero(scanned.layout == index)
                line_no = original.column("line_no") if rows is None else original.column("line_no").take(rows)
                values = layouts.values(scanned, index, rows, cleaned)
                columns = columns_of_fields(cursor, plans[index], line_no, pa.repeat(
                    pa.scalar(len(LAYOUTS[index].fields), pa.int64()), len(line_no)), values)
                if EXCEPTION_ID in LAYOUTS[index].fields:
                    columns = _denied_by_exception(columns, values[LAYOUTS[index].fields.index(EXCEPTION_ID)])
                # (a reject's line is found by its number in the batch: rows not taken out of it)
                results.append(_named(split_outcomes(columns, original), LAYOUTS[index]))
        if unsure.any():
            results.append(read_values(original.take(pa.array(np.flatnonzero(unsure)))))
        result = combine(results, ignored=0)
        if sum(part.events.num_rows > 0 for part in results) > 1:  # groups read apart: events back in line order
            result.events = result.events.take(pc.sort_indices(result.events.column("line_no")))
        if sum(part.rejects.num_rows > 0 for part in results) > 1:  # (and rejects)
            result.rejects = result.rejects.take(pc.sort_indices(result.rejects.column("line_no")))
        return result

    return parse


def scanning(plans: Sequence[Plan]) -> Layouts:
    """What proxysg_scan's pass is told of the layouts: each layout's count and the values its plan reads (and
    x-exception-id), a value's slot by its field name, the counts of two layouts (SHARED) told apart by main's shape."""
    from detector.ingest import proxysg_scan  # (Numba: loaded when a parser is made, not with the registry)

    return proxysg_scan.Layouts(
        [(len(layout.fields), sorted(plan.used.union([layout.fields.index(EXCEPTION_ID)]
                                                     if EXCEPTION_ID in layout.fields else [])))
         for plan, layout in zip(plans, LAYOUTS, strict=True)],
        names=[layout.fields for layout in LAYOUTS], shared=SHARED)


NO_EVENTS = pa.table({"line_no": pa.array([], pa.int64())})
LIKELY_SAMPLE = 64  # lines whose counts choose the layout a batch is read as first
# The share of those lines the layout must have for the batch to be read as it first (see _likely_layout). A log
# whose syslog relay mixes two layouts line by line (SC4S' 32- and 42-value bcreportermain_v1) read as the likelier
# one paid a reading of every line and a reject per other line before those were read again: whole ingest of 1M
# such lines, half of each, 8.6-8.9 s CPU read so, 7.3 s grouped by count.
LIKELY_SHARE = 0.75
# w3c's reason for a line of another count, as _named words it
MISCOUNTED = r"^\d+ values but ProxySG's "


def _likely_layout(text: pa.Array) -> int | None:
    """The layout most of the first lines have, or None when none of them has one or it is not the count of three
    quarters of them (a log of mixed layouts: each line's count then decides, read_groups, rather than a reading
    of every line as one layout and of the others' lines again). Of two layouts of one count (SHARED),
    bcreportermain_v1 when no line of the batch has main's shape, main when every line has it, else None."""
    counts = value_counts(text.slice(0, LIKELY_SAMPLE))
    found = [_BY_COUNT[count] for count in counts.tolist() if count in _BY_COUNT]
    likely = max(set(found), key=found.count) if found else None
    if likely is not None and found.count(likely) < len(counts) * LIKELY_SHARE:
        return None
    if likely is None or len(LAYOUTS[likely].fields) not in SHARED:
        return likely
    main, other = SHARED[len(LAYOUTS[likely].fields)]
    shaped = pc.sum(pc.match_substring_regex(text, MAIN_SHAPE)).as_py() or 0
    return other if shaped == 0 else main if shaped == len(text) else None


def _others(first: ParseResult, lines: pa.Table, count: int,
            read_groups: Callable[[pa.Table, np.ndarray], list[ParseResult]]) -> list[ParseResult]:
    """The lines `first` rejected for their count (read as another layout than theirs), read by their own
    layouts: taken out of `first`'s rejects, and their outcomes returned. A line whose count is the layout's
    after all (w3c and value_counts disagree on it: stray spaces) keeps w3c's reason."""
    if not first.rejects.num_rows:
        return []
    miscounted = pc.fill_null(pc.match_substring_regex(first.rejects.column("reason"), MISCOUNTED), False)
    if not pc.any(miscounted).as_py():
        return []
    numbers = first.rejects.column("line_no").filter(miscounted)
    positions = np.searchsorted(lines.column("line_no").to_numpy(), numbers.to_numpy())
    again = lines.take(pa.array(positions))
    counts = value_counts(line_text(again))
    other = counts != count
    if not other.any():
        return []
    first.rejects = first.rejects.filter(pc.invert(pc.is_in(first.rejects.column("line_no"),
                                                           numbers.filter(pa.array(other)))))
    return read_groups(again.filter(pa.array(other)), counts[other])


def _rejects(part: pa.Table, counts: np.ndarray) -> pa.Table:
    """Lines of no layout's count: those that start as ELFF lines say their count, the others (a syslog
    message of another kind, a line of another log) that they are no ProxySG access-log line."""
    counted = pc.binary_join_element_wise(
        pa.array(counts).cast(pa.string()),
        f" values: not a ProxySG access-log layout without #Fields ({_COUNTS_TEXT} values); "
        "a custom or bcreporterssl_v1 log needs its #Fields line (format w3c)", "")
    elff = pc.fill_null(pc.match_substring_regex(line_text(part), "^" + ELFF_START), False)
    reason = pc.if_else(elff, counted, pa.scalar(NOT_ELFF_REASON))
    return pa.Table.from_arrays([part.column("line_no"), part.column("line"), reason], schema=REJECTS_OF_BATCH)


NOT_ELFF_REASON = ("not a ProxySG access-log line: no date and time (YYYY-MM-DD HH:MM:SS) where its values begin, "
                   "after the syslog header if it has one")


def _named(result: ParseResult, layout: Layout) -> ParseResult:
    """`w3c`'s reasons, worded for a log without #Fields."""
    if result.rejects.num_rows:
        reasons = pc.replace_substring(result.rejects.column("reason"), "but #Fields names",
                                       f"but ProxySG's {layout.name} has")
        result.rejects = result.rejects.set_column(2, "reason", reasons)
    return result


EXCEPTION_ID = "x-exception-id"
# ProxySG's exception pages for a denial: policy_denied, content_filter_denied, ...
DENIED_EXCEPTION = r"^[a-z_]+_denied$"


def _layout_columns(connection: duckdb.DuckDBPyConnection, plan: Plan, layout: Layout, lines: pa.Table) -> pa.Table:
    """`w3c.event_columns` of lines of this layout, with x-exception-id read in the same pass as the other fields."""
    if EXCEPTION_ID not in layout.fields:
        return event_columns(connection, plan, lines)
    at = layout.fields.index(EXCEPTION_ID)
    counts, values = data_fields(plan, line_text(lines), (at,))
    columns = columns_of_fields(connection, plan, lines.column("line_no"), counts, values)
    return _denied_by_exception(columns, values[at])


def _denied_by_exception(columns: pa.Table, exception_id: pa.DictionaryArray) -> pa.Table:
    """Blocked also where x-exception-id names a denial (`policy_denied`): each distinct value matched once. (Read
    with the other fields: finding the lines by a substring search and splitting them again cost a quarter of a
    bcreportermain_v1 parse where a quarter of the lines were denials.)"""
    denied = pc.fill_null(pc.match_substring_regex(exception_id.dictionary, DENIED_EXCEPTION).take(
        exception_id.indices), False)
    if not pc.any(denied).as_py():
        return columns
    action = columns.column("action").combine_chunks()
    blocked = pc.index(action.dictionary, "blocked").as_py()
    if blocked < 0:
        return columns  # (the action column always offers it)
    indices = pc.if_else(denied, pa.scalar(blocked, pa.int32()), action.indices)
    return columns.set_column(columns.schema.get_field_index("action"), "action",
                              pa.DictionaryArray.from_arrays(indices, action.dictionary))


def sniff(lines: Sequence[str]) -> float:
    """Share of lines (behind a syslog header or not) that have a predefined layout's number of values and its
    shape: date, time, a whole number of milliseconds, then sc-status and an s-action code where the layout
    has them; comment lines count as matching. A file with a #Fields line is `w3c`'s."""
    lines = [_SYSLOG_HEAD.sub(r"\1", line, count=1).lstrip(" \ufeff") for line in lines]
    if not lines or any(line[:8].lower() == "#fields:" for line in lines):
        return 0.0
    matching = 0
    data_lines = 0
    for line in lines:
        if line.startswith("#"):
            matching += 1
            continue
        data_lines += 1
        values = _VALUE.findall(line)
        index = _BY_COUNT.get(len(values))
        shapes = [] if index is None else list(SHARED.get(len(values), (index,)))
        if shapes and _ELFF_START.match(line) and values[2].isdigit() and any(
                _shaped(values, LAYOUTS[shape]) for shape in shapes):
            matching += 1
    return matching / len(lines) if data_lines else 0.0


_VALUE = re.compile(r'"(?:[^"]|"")*"|[^ "]\S*')
_STATUS = re.compile(r"\d{1,3}|-")
_ACTION = re.compile(r"[A-Z][A-Z0-9_]*|-")


def _shaped(values: list[str], layout: Layout) -> bool:
    fields = layout.fields
    return bool(_STATUS.fullmatch(values[fields.index("sc-status")])
                and _ACTION.fullmatch(values[fields.index("s-action")]))


PROXYSG = Format(
    name="proxysg",
    source_kind="proxy",
    summary="Symantec/Blue Coat ProxySG (Edge SWG) access log without #Fields, bare or behind a syslog header: "
            "main and bcreportermain_v1 layouts",
    sniff=sniff,
    new_parser=new_parser,
    independent_batches=True,
    fields=W3C.fields,
)
