"""pfSense and OPNsense packet filter logs: `filterlog` syslog lines with a CSV body.

The CSV (pfSense "Filter Log Format", shared by OPNsense), 0-based:
0 rule, 1 sub-rule, 2 anchor, 3 tracker, 4 interface, 5 reason, 6 action (pass | block | reject),
7 direction, 8 IP version; then for IPv4: 9 TOS, 10 ECN, 11 TTL, 12 id, 13 offset, 14 flags,
15 protocol id, 16 protocol name, 17 length, 18 source, 19 destination; for IPv6: 9 class,
10 flow label, 11 hop limit, 12 protocol name, 13 protocol id, 14 length, 15 source, 16 destination.
TCP and UDP then carry source port, destination port and data length.

A line is one packet that matched a rule with logging on: a passed packet is normally the one that
created the state, so it stands for the connection, and the packet's source is the client. There are no
byte counts and no user. Other programs in the same file (dhcpd, unbound, ...) are ignored: those are
other formats.

Parsing: each line is split at its commas once, in Arrow, as far as field 21. The syslog header is the
line's first comma-separated token up to its message (`112` of `<134>Nov 18 09:00:00 filterlog[1]: 112`),
so it is read by `syslog.SyslogHeaders` once per distinct first token (a time, a host, a rule: far fewer
than lines), and the message's fields are the line's other tokens. Where the header may run past the
first comma (a comma in a host name or in RFC 5424 structured data), the line's header is read whole and
its message split on its own.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, list_item, one_array, only_where
from detector.ingest.base import BatchParser, Format, ParseContext, ParseResult, parse_cursor, split_outcomes
from detector.ingest.distinct_sql import INTEGER_SQL, integers, item_at, plain
from detector.ingest.syslog import (
    _FIRST_5_CHARS,
    _RFC5424_START,
    SyslogHeaders,
    define_head_macros,
    program_share,
    reference_time,
)

# An IPv4 packet's destination port is field 21: a split at the first 22 commas reaches every field read.
SPLITS = 22
# Fields by IP version: protocol name, source, destination, destination port.
IPV4_FIELDS = (16, 18, 19, 21)
IPV6_FIELDS = (12, 15, 16, 18)
ACTION_FIELD, VERSION_FIELD = 6, 8
MIN_FIELDS = {"4": 20, "6": 17}  # an IPv4 line needs its destination (field 19), an IPv6 one field 16
PORT_PROTOCOLS = ("tcp", "udp", "sctp")
ACTIONS = pa.array(["allowed", "blocked", "unknown"])


def filterlog_parser(context: ParseContext) -> BatchParser:
    headers = FirstTokenHeaders(context)
    ports = DistinctQuery(INTEGER_SQL)

    def parse(lines: pa.Table) -> ParseResult:
        with parse_cursor(context.connection) as cursor:
            return split_outcomes(_columns(cursor, headers, ports, lines), lines)

    return parse


def _columns(cursor: duckdb.DuckDBPyConnection, headers: FirstTokenHeaders, ports: DistinctQuery,
             lines: pa.Table) -> pa.Table:
    """filterlog lines -> schema columns plus reject_reason / is_ignored (see base.split_outcomes)."""
    has_header, is_filterlog, ts, fields = _headers_and_fields(cursor, headers, lines)
    count = np.diff(fields.offsets.to_numpy())
    version = list_item(fields, VERSION_FIELD)
    ipv4 = pc.fill_null(pc.equal(version, "4"), False).to_numpy(zero_copy_only=False)
    ipv6 = pc.fill_null(pc.equal(version, "6"), False).to_numpy(zero_copy_only=False)
    # Only events need these: rows of other versions read IPv6 positions, and are rejected or ignored.
    protocol, src, dst, port = (item_at(fields, pa.array(np.where(ipv4, v4, v6)))
                                for v4, v6 in zip(IPV4_FIELDS, IPV6_FIELDS, strict=True))
    protocol = pc.dictionary_encode(protocol)
    protocol = pa.DictionaryArray.from_arrays(protocol.indices, pc.utf8_lower(protocol.dictionary))
    has_port = pc.is_in(protocol.dictionary, value_set=pa.array(PORT_PROTOCOLS)).take(protocol.indices)
    in_filterlog = has_header & is_filterlog
    bad_version = in_filterlog & ~(ipv4 | ipv6)
    short = in_filterlog & ((ipv4 & (count < MIN_FIELDS["4"])) | (ipv6 & (count < MIN_FIELDS["6"])))
    return pa.table({
        "line_no": lines.column("line_no"),
        "reject_reason": _reject_reasons(~has_header, bad_version, short, version, count),
        "is_ignored": pa.array(has_header & ~is_filterlog),
        "ts": ts,
        "src_ip": src,
        "host_source": pa.DictionaryArray.from_arrays(pa.array(np.zeros(len(count), np.int32)), pa.array(["none"])),
        "dst_ip": dst,
        "dst_port": integers(cursor, ports, only_where(port, has_port), pa.int32()),
        "network_protocol": protocol,
        "action": _actions(list_item(fields, ACTION_FIELD)),
    })


def _actions(words: pa.Array) -> pa.DictionaryArray:
    """pass -> allowed, block and reject -> blocked, anything else -> unknown (any case), once per distinct word."""
    encoded = pc.dictionary_encode(words)
    lower = pc.utf8_lower(encoded.dictionary)
    codes = np.where(pc.equal(lower, "pass").to_numpy(zero_copy_only=False), 0,
                     np.where(pc.is_in(lower, value_set=pa.array(["block", "reject"])).to_numpy(zero_copy_only=False),
                              1, 2))
    indices = pc.fill_null(pc.take(pa.array(codes, pa.int32()), encoded.indices), 2)
    return pa.DictionaryArray.from_arrays(indices, ACTIONS)


def _reject_reasons(no_header: np.ndarray, bad_version: np.ndarray, short: np.ndarray, version: pa.Array,
                    count: np.ndarray) -> pa.Array:
    """The first thing wrong with each rejected line, as a sentence; null for the others."""
    rejected = no_header | bad_version | short
    if not rejected.any():
        return pa.nulls(len(rejected), pa.string())
    ipv4 = pc.equal(version, "4")
    return pc.case_when(
        pa.StructArray.from_arrays([pa.array(no_header), pa.array(bad_version), pa.array(short)],
                                   names=["header", "version", "short"]),
        "not a syslog line (no syslog header)",
        pc.binary_join_element_wise("IP version (field 8) is not 4 or 6: ", pc.fill_null(version, "missing"), ""),
        pc.binary_join_element_wise(
            pc.if_else(ipv4, "expected at least 20 fields for IPv4, found ",
                       "expected at least 17 fields for IPv6, found "),
            pc.cast(pa.array(count), pa.string()), ""),
    )


def _headers_and_fields(cursor: duckdb.DuckDBPyConnection, headers: FirstTokenHeaders, lines: pa.Table
                        ) -> tuple[np.ndarray, np.ndarray, pa.Array, pa.ListArray]:
    """Per line: whether it has a syslog header, whether `filterlog` wrote it, the header's time, and its
    message's fields (as far as field 21, the rest in the last; field 0 is not read)."""
    line = one_array(lines.column("line"))
    tokens = pc.split_pattern(line, ",", max_splits=SPLITS)
    first = pc.dictionary_encode(list_item(tokens, 0))
    read = headers.by_first_token.results_for(cursor, first.dictionary)
    has_header, is_filterlog = (pc.fill_null(read.column(name), False).to_numpy(zero_copy_only=False)
                                for name in ("has_header", "is_filterlog"))
    # Reading the first token is reading the line's header where the header ends inside it: before its
    # first ': ' (BSD and ISO headers; read_by_header's premise), or RFC 5424's, found there whole (not
    # cut inside its structured data: then the token's message would start with the next element).
    rfc5424 = pc.match_substring_regex(first.dictionary, _RFC5424_START).to_numpy(zero_copy_only=False)
    at_colon = pc.find_substring(first.dictionary, ": ").to_numpy(zero_copy_only=False)
    whole_5424 = has_header & ~pc.fill_null(read.column("element_next"), True).to_numpy(zero_copy_only=False)
    header_inside = np.where(rfc5424, whole_5424, at_colon >= _FIRST_5_CHARS)
    row = first.indices.to_numpy()
    unsure = ~header_inside[row]
    has_header, is_filterlog, ts = has_header[row], is_filterlog[row], read.column("ts").take(first.indices)
    if unsure.any():
        # The others: their header read from the whole line, their message split on its own.
        headed = headers.whole.read(cursor, lines.filter(pa.array(unsure)))
        header_ts, app = (plain(headed.column(name).combine_chunks()) for name in ("header_ts", "app"))
        has_header[unsure] = pc.fill_null(pc.not_equal(header_ts, ""), False).to_numpy(zero_copy_only=False)
        is_filterlog[unsure] = pc.fill_null(pc.equal(app, "filterlog"), False).to_numpy(zero_copy_only=False)
        ts = pc.replace_with_mask(ts, pa.array(unsure), headed.column("ts").combine_chunks().cast(ts.type))
        others = pc.split_pattern(headed.column("msg").combine_chunks(), ",", max_splits=SPLITS)
        place = np.arange(len(row))
        place[unsure] = len(row) + np.arange(int(unsure.sum()))
        tokens = pa.concat_arrays([tokens, others]).take(pa.array(place))
    return has_header, is_filterlog, ts, tokens


class FirstTokenHeaders:
    """A file's syslog headers: read from each distinct first token of its lines once per file (in
    `syslog_heads`, which reads a text as the line `text || ': '`: the same header where the token holds
    it), or from whole lines (`SyslogHeaders`)."""

    def __init__(self, context: ParseContext) -> None:
        define_head_macros(context.connection)
        self.whole = SyslogHeaders(context.timezone, reference_time(context.path, context.timezone))
        self.by_first_token = DistinctQuery(
            "select header_ts <> '' as has_header, app = 'filterlog' as is_filterlog, ts, "
            "starts_with(msg, '[') as element_next "
            f"from syslog_heads({self.whole.arguments})")


FILTERLOG = Format(
    name="pfsense_filterlog",
    source_kind="firewall",
    summary="pfSense / OPNsense filterlog (packet filter CSV in syslog), IPv4 and IPv6",
    sniff=program_share("filterlog"),
    new_parser=filterlog_parser,
    independent_batches=True,
    fields=("ts", "src_ip", "dst_ip", "dst_port", "network_protocol", "action"),
)
