"""Palo Alto Networks PAN-OS syslog, CSV payload in the PAN-OS 8.x-11.x field order.

A line is a syslog header (BSD, RFC 5424, or none) and then the CSV record:
`FUTURE_USE,receive time,serial,type,subtype,FUTURE_USE,generated time,src,dst,...`. Fields are found by
position (0-based below, as in the PAN-OS "Syslog Field Descriptions"):
- TRAFFIC: 6 generated time, 7 src, 8 dst, 12 source user, 14 application, 25 dst port, 29 protocol,
  30 action, 32 bytes sent (client to server: `bytes_out`), 33 bytes received, 36 elapsed seconds,
  37 URL category. A `drop` or `deny` record is a blocked session whatever its action field says (PAN-OS:
  subtype drop, "session dropped before the application is identified"; deny, "session dropped after").
- THREAT subtype `url` (URL Filtering): 14 application, 31 the URL, quoted, without scheme
  (`"chatgpt.com/c/123"`), 33 URL category, 41 content type, 46 user agent, 63 HTTP method.
- DECRYPTION (PAN-OS 10.0+, "Decryption Log Fields",
  https://docs.paloaltonetworks.com/pan-os/11-0/pan-os-admin/monitoring/use-syslog-for-monitoring/syslog-field-descriptions/decryption-log-fields,
  the same order in the 10.0, 10.1 and 12.2 pages and in Elastic's panw decryption pipeline): fields 0-30 as
  TRAFFIC's (6 generated time, 7 src, 8 dst, 12 source user, 14 application, 25 dst port, 29 protocol, 30 action),
  then 31 tunnel, 32-33 FUTURE_USE, ..., 37-38 handshake stages, 39 TLS version, ..., 60 subject common name,
  61 issuer, 62 root common name, 63 Server Name Indication, 64 error, ... Versions differ only after field 63
  (10.0 ends at action flags, field 90; 10.1+ add device group, vsys and application fields), so a record needs
  64 fields. The host is the SNI (host_source `sni`): for a firewall without URL Filtering the only name of a TLS
  session's destination. Its subtype is not read (PAN-OS writes 0). It has no bytes, duration or URL category
  (its field 37 is a handshake stage), and no SNI where PAN-OS does not log one (no-decrypt rules on TLS 1.2/1.3,
  inbound inspection: "Unsupported Parameters by Proxy Type and TLS Version"): host null, host_source `none`. The
  certificate's subject common name is not read as a host: it may be a wildcard or a CDN's name, not the name the
  client asked for. The session's bytes stay with its TRAFFIC record.
The application (App-ID) is kept as vendor_app (`ssl`, `web-browsing`, ... as App-ID names it: no host is read
from a TRAFFIC record, which has none), the URL category as vendor_category.
Times carry no zone: they are local to the firewall, read in the configured time zone, unless the line's syslog
header is an ISO or RFC 5424 time with its UTC offset (PAN-OS's "IETF" syslog format, a relay's ISO header:
`2026-05-20T13:36:16+07:00 fw01 1,2026/05/20 13:36:15,...`): then that offset is the firewall's, and its local
times are read with it. (PAN-OS 9.1+ also writes a High Resolution Timestamp with the offset, but at a place that
differs by log type and version, far past the fields read; a BSD header has no offset.)

Events are the records of a session, of a URL decision and of a TLS handshake (DECRYPTION: written for the
handshakes the decryption policy logs, by default the failed ones, with "Log successful TLS handshakes" all; so a
session may have a TRAFFIC and a DECRYPTION event, its bytes in the first). A session is counted once, at its end:
TRAFFIC `end` (bytes and duration known), `drop` and `deny` (blocked). TRAFFIC `start` (only written
when "log at session start" is on, and again on every App-ID change) is ignored, so a session is not
counted twice; a session still open when its file ends is counted from the file that has its `end`.
Other THREAT subtypes (their field 31 a file name or a threat's detail, not a destination) and other log types
are ignored: none is traffic to a destination (SYSTEM, CONFIG, USERID, IPTAG, HIP-MATCH, CORRELATION; AUTHENTICATION
names an authentication server; GLOBALPROTECT, "GlobalProtect Log Fields", names the VPN portal and gateway a
user connects to, whose sessions through the tunnel the firewall logs as TRAFFIC; SCTP and GTP are mobile-network
signalling). So are tunnel inspection logs, whose type is `START` or `END` ("Tunnel Inspection Log Fields": type
"START or END", subtype start/end/drop/deny, and from field 31 on severity, ..., tunnel, bytes, not TRAFFIC's
fields): they log the tunnel's own session (GRE, GTP-U, VXLAN, IPsec), whose inner sessions the firewall logs as
TRAFFIC records, so reading them would count that traffic twice and name no destination of it. The audit log
(PAN-OS 11.1+, "Audit Log Fields": `Serial Number, Generate Time, AUDIT, FUTURE_USE, Event ID, Object,
CLI Command, Severity`, an administrator's command) has its type in the third field; it is ignored too. A CSV
export of the web interface has the same fields in the same order under a line of column names, which is ignored.

Parsing: the line's fields are cut by a compiled kernel (panos_scan, Numba) in one pass over its bytes: a
comma separates fields unless an odd number of quote marks precede it in the line (CSV quoting: a field with
a comma, the THREAT URL or a user agent, is in double quotes), so the line's first field is the syslog header
and the record's FUTURE_USE (never read) and field N is field N. Every line is read as far as field 37 (what
TRAFFIC reads), the THREAT url and DECRYPTION records' rest on from there as far as field 63; the fields read are
copied out of the lines' buffer in one more pass, all of a line's at once. Fields with few distinct values (types,
times, actions, applications, URLs) are read once per distinct value. Against the numpy/pyarrow cutting it
replaced (quoted commas hidden, lines split in slices, fields taken): parse CPU per 262k-line batch 0.585 ->
0.30 s; loading Numba and the cached kernels costs ~0.5-0.7 s CPU and ~200 MiB of peak RSS once per
process, repaid from ~650,000 lines on (end to end, 1M lines: 4.47 -> 3.61 s CPU; 4M: 14.2 -> 11.7).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, one_array, only_where
from detector.ingest.base import (
    BatchParser,
    Format,
    ParseContext,
    ParseResult,
    line_share,
    parse_cursor,
    split_outcomes,
)
from detector.ingest.distinct_sql import BIGINT_SQL, INTEGER_SQL, in_time_zone, integers, through, without
from detector.ingest.layout_bytes import line_bytes

TYPES = (r"TRAFFIC|THREAT|SYSTEM|CONFIG|HIPMATCH|HIP-MATCH|GLOBALPROTECT|USERID|DECRYPTION|AUTHENTICATION|AUTH"
         r"|CORRELATION|IPTAG|SCTP|TUNNEL|GTP|START|END")
_TYPE_LIST = tuple(TYPES.split("|"))
# The audit log: `serial,generate time,AUDIT,...` (its type the third field), after any syslog header
AUDIT_LINE = r"^(?:.*[\s>])?[^,\s]*,\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2},(?i:audit),"

# PAN-OS actions: https://docs.paloaltonetworks.com (Traffic / Threat log fields, "Action").
ALLOWED = ("allow", "alert", "continue", "override")
BLOCKED = (
    "deny", "drop", "drop-icmp", "drop-all-packets", "reset-client", "reset-server", "reset-both",
    "block-url", "block-continue", "block-override", "override-lockout", "block-ip", "sinkhole",
)
ACTIONS = pa.array(["allowed", "blocked", "unknown"])
HOST_SOURCES = pa.array(["url", "none", "sni"])

# Field positions (0-based, as in the docstring; field 0 is the syslog header, if any, and FUTURE_USE).
HEADER = 0
RECEIVE_TIME, TYPE, SUBTYPE, GENERATED_TIME, SRC, DST, SRC_USER, APP = 1, 3, 4, 6, 7, 8, 12, 14
DST_PORT, PROTOCOL, ACTION, URL, BYTES_SENT, BYTES_RECEIVED, ELAPSED, TRAFFIC_CATEGORY = 25, 29, 30, 31, 32, 33, 36, 37
URL_CATEGORY = 33
CONTENT_TYPE, USER_AGENT, HTTP_METHOD = 41, 46, 63
SNI = 63  # DECRYPTION: Server Name Indication, where a THREAT url record has its HTTP method
MIN_FIELDS = 37
DECRYPTION_MIN_FIELDS = SNI + 1
# Every line is read as far as its 38th comma (fields 0-37; a line's field count stops at 39, the rest of the
# line counting as one), url and decryption records' rest on as far as field 63.
SPLITS = TRAFFIC_CATEGORY + 1
FIELDS = (HEADER, RECEIVE_TIME, TYPE, SUBTYPE, GENERATED_TIME, SRC, DST, SRC_USER, APP, DST_PORT, PROTOCOL, ACTION, URL,
          BYTES_SENT, BYTES_RECEIVED, ELAPSED, TRAFFIC_CATEGORY)
URL_FIELDS = (CONTENT_TYPE, USER_AGENT, HTTP_METHOD)

# A local time, or a local time with the header's UTC offset appended (`2026/05/20 13:36:15+07:00`).
TIME_SQL = """
select case when length(value) > 19 then try_strptime(value, '%Y/%m/%d %H:%M:%S%z')
            else timezone(@TZ@, try_strptime(value, '%Y/%m/%d %H:%M:%S')) end as ts
from distinct_values
"""
# The UTC offset of an ISO or RFC 5424 syslog header (syslog.py's ISO_TIME, with `<PRI>` and RFC 5424's version).
HEADER_OFFSET = (r"^\s*(?:<\d{1,3}>)?(?:1 )?\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?"
                 r"(?P<offset>Z|[+-]\d{2}:?\d{2})\s")
# A URL without a path, query or fragment (a bare `host` or `host:port`, as a CONNECT target is written; and a
# DECRYPTION record's SNI) has no url_path: nothing is known of one.
URL_SQL = """
select hostport_host(split_part(split_part(rest, '/', 1), '?', 1)) as host,
       case when regexp_matches(rest, '[/?#]') then rest_path(rest) end as url_path
from (select coalesce(url_rest(value), value) as rest from distinct_values)
"""


class PanosQueries:
    """The per-distinct queries of one file's parse, each remembering the values it has seen."""

    def __init__(self, timezone: str) -> None:
        self.time = DistinctQuery(in_time_zone(TIME_SQL, timezone))
        self.url = DistinctQuery(URL_SQL)
        self.integer = DistinctQuery(INTEGER_SQL)
        self.bigint = DistinctQuery(BIGINT_SQL)


def panos_parser(context: ParseContext) -> BatchParser:
    queries = PanosQueries(context.timezone)

    def parse(lines: pa.Table) -> ParseResult:
        with parse_cursor(context.connection) as cursor:
            return split_outcomes(_columns(cursor, queries, lines), lines)

    return parse


def _columns(cursor: duckdb.DuckDBPyConnection, queries: PanosQueries, lines: pa.Table) -> pa.Table:
    """PAN-OS lines -> schema columns plus reject_reason / is_ignored (see base.split_outcomes)."""
    fields = Fields(one_array(lines.column("line")))
    count = fields.count
    log_type, subtype = (pc.dictionary_encode(fields.kind[position]) for position in (TYPE, SUBTYPE))
    known_type = _per_row(log_type, pc.is_in(log_type.dictionary, value_set=pa.array(_TYPE_LIST)))
    # A CSV export of the web interface starts with its column names ("Domain,Receive Time,Serial #,Type,..."),
    # then has the syslog record's fields in the same order: that first line is no record, and is ignored.
    known_type |= _per_row(log_type, pc.equal(log_type.dictionary, "Type"))
    if not known_type.all():  # (rare) audit logs, their type in another place
        rows = np.flatnonzero(~known_type)
        audit = pc.match_substring_regex(one_array(lines.column("line")).take(pa.array(rows)), AUDIT_LINE)
        known_type[rows[audit.to_numpy(zero_copy_only=False)]] = True
    traffic = _per_row(log_type, pc.equal(log_type.dictionary, "TRAFFIC"))
    dropped = traffic & _per_row(subtype, pc.is_in(subtype.dictionary, value_set=pa.array(["drop", "deny"])))
    traffic &= dropped | _per_row(subtype, pc.equal(subtype.dictionary, "end"))
    url = _per_row(log_type, pc.equal(log_type.dictionary, "THREAT")) & _per_row(
        subtype, pc.equal(subtype.dictionary, "url"))
    decryption = _per_row(log_type, pc.equal(log_type.dictionary, "DECRYPTION"))  # any subtype (PAN-OS writes 0)
    event = traffic | url | decryption
    read = event & (count >= MIN_FIELDS)  # the lines whose fields are read: events, unless rejected for their length
    fields.read(read, read & (url | decryption))
    # a DECRYPTION record without its SNI (field 63) is cut short: its count is known once its rest is read
    read &= ~decryption | (fields.full_count >= DECRYPTION_MIN_FIELDS)
    local = _times(cursor, queries, fields, read)
    reason = _reject_reasons(known_type, event, read, pc.is_valid(local).to_numpy(zero_copy_only=False),
                             fields.kind[TYPE], fields.full_count, decryption)
    place = _place_fields(cursor, queries, fields, read & url, read & decryption)
    columns = {
        "line_no": lines.column("line_no"),
        "reject_reason": reason,
        "is_ignored": pa.array(known_type & ~event),
        "ts": local,
        **_common_fields(cursor, queries, fields, read, read & dropped),
        **_traffic_fields(cursor, queries, fields, read & traffic),
        **place,
        **_url_fields(fields, read & url),
        # "any": the session matched no URL category (URL Filtering not in use). A DECRYPTION record has none
        # (its field 37 is the handshake's stage).
        "vendor_category": without(pc.dictionary_encode(only_where(pc.if_else(
            pa.array(url), fields.at[URL_CATEGORY], fields.at[TRAFFIC_CATEGORY]), pa.array(read & ~decryption))),
            ["", "any"]),
    }
    return pa.table(columns)


def _times(cursor: duckdb.DuckDBPyConnection, queries: PanosQueries, fields: Fields, read: np.ndarray
           ) -> pa.Array:
    """The generated time (else the receive time) in UTC, read with the header's UTC offset where it has one, else
    in the configured zone, once per distinct time."""
    offset = _header_offsets(_items(fields, HEADER, read))
    generated = through(cursor, queries.time, _with_offset(_items(fields, GENERATED_TIME, read), offset))["ts"]
    missing = read & ~pc.is_valid(generated).to_numpy(zero_copy_only=False)
    if not missing.any():
        return generated
    received = through(cursor, queries.time, _with_offset(_items(fields, RECEIVE_TIME, missing), offset))["ts"]
    return pc.coalesce(generated, received)


def _header_offsets(headers: pa.Array) -> pa.Array | None:
    """Per line, its ISO syslog header's UTC offset (`+07:00`; `Z` as `+00:00`); None when no line has one."""
    encoded = pc.dictionary_encode(headers)
    if not pc.any(pc.match_substring_regex(encoded.dictionary, HEADER_OFFSET)).as_py():
        return None
    offsets = pc.struct_field(pc.extract_regex(encoded.dictionary, HEADER_OFFSET), [0])
    offsets = pc.if_else(pc.equal(offsets, "Z"), "+00:00", offsets)
    return pc.take(offsets, encoded.indices)


def _with_offset(times: pa.Array, offset: pa.Array | None) -> pa.DictionaryArray:
    """Local times, each followed by its line's header offset where there is one: one text per distinct pair."""
    if offset is not None:
        times = pc.coalesce(pc.binary_join_element_wise(times, offset, ""), times)
    return pc.dictionary_encode(times)


# Protocols whose sessions have ports (PAN-OS's protocol column: tcp, udp, sctp).
PORT_PROTOCOLS = pa.array(["tcp", "udp", "sctp"])


def _common_fields(cursor: duckdb.DuckDBPyConnection, queries: PanosQueries, fields: Fields,
                   read: np.ndarray, dropped: np.ndarray) -> dict[str, pa.Array]:
    """The fields of every event: addresses, user, port, protocol, action (blocked where `dropped`: TRAFFIC
    drop and deny records), application."""
    protocol = pc.dictionary_encode(_items(fields, PROTOCOL, read))
    action = pc.dictionary_encode(_items(fields, ACTION, read))
    words = pc.utf8_lower(action.dictionary)
    codes = np.where(pc.is_in(words, value_set=pa.array(ALLOWED)).to_numpy(zero_copy_only=False), 0,
                     np.where(pc.is_in(words, value_set=pa.array(BLOCKED)).to_numpy(zero_copy_only=False), 1, 2))
    action_code = pc.fill_null(pc.take(pa.array(codes, pa.int32()), action.indices), 2)
    if dropped.any():
        action_code = pc.if_else(pa.array(dropped), pa.scalar(1, pa.int32()), action_code)
    protocols = pc.utf8_lower(protocol.dictionary)
    dst_port = integers(cursor, queries.integer, _items(fields, DST_PORT, read), pa.int32())
    # PAN-OS writes port 0 for a protocol without ports (ICMP, ESP, GRE...): no port, as the other formats give it.
    portless = pc.take(pc.invert(pc.is_in(protocols, value_set=PORT_PROTOCOLS)), protocol.indices)  # per distinct
    no_port = pc.fill_null(pc.and_(portless, pc.equal(dst_port, 0)), False)
    if pc.any(no_port).as_py():
        dst_port = pc.if_else(no_port, pa.scalar(None, pa.int32()), dst_port)
    return {
        "src_ip": _items(fields, SRC, read),
        "user_name": _unquoted(_items(fields, SRC_USER, read)),
        "dst_ip": _items(fields, DST, read),
        "dst_port": dst_port,
        "network_protocol": pa.DictionaryArray.from_arrays(protocol.indices, protocols),
        "action": pa.DictionaryArray.from_arrays(action_code, ACTIONS),
        "vendor_app": _unquoted(_items(fields, APP, read)),
    }


def _traffic_fields(cursor: duckdb.DuckDBPyConnection, queries: PanosQueries, fields: Fields,
                    read: np.ndarray) -> dict[str, pa.Array]:
    """A session's bytes, duration and URL category (TRAFFIC)."""
    elapsed = integers(cursor, queries.bigint, _items(fields, ELAPSED, read), pa.int64())
    return {
        "bytes_out": integers(cursor, queries.bigint, _items(fields, BYTES_SENT, read), pa.int64()),
        "bytes_in": integers(cursor, queries.bigint, _items(fields, BYTES_RECEIVED, read), pa.int64()),
        "duration_ms": pc.multiply(elapsed, 1000),
    }


def _place_fields(cursor: duckdb.DuckDBPyConnection, queries: PanosQueries, fields: Fields, url: np.ndarray,
                  decryption: np.ndarray) -> dict[str, pa.Array]:
    """The destination host: of a URL decision (THREAT url) from its URL, with the URL's path; of a TLS session
    (DECRYPTION) from its SNI. An SNI is a bare host name (RFC 6066: no scheme, port or path), so the one
    per-distinct query reads both: lower case, no trailing dot, empty as null."""
    if decryption.any():
        text = only_where(pc.if_else(pa.array(url), fields.at[URL], fields.at[SNI]), pa.array(url | decryption))
    else:  # the usual file, of TRAFFIC and THREAT records: no choosing per row
        text = _items(fields, URL, url)
    place = through(cursor, queries.url, _unquoted(text, empty_is_null=False))
    has_host = pc.is_valid(place["host"]).to_numpy(zero_copy_only=False)
    return {
        "host": place["host"],
        "host_source": pa.DictionaryArray.from_arrays(pa.array(np.where(
            has_host, np.where(decryption, 2, 0), 1), pa.int32()), HOST_SOURCES),
        "url_path": only_where(place["url_path"], pa.array(url)),
    }


def _url_fields(fields: Fields, read: np.ndarray) -> dict[str, pa.Array]:
    """A URL decision's method, user agent and content type (THREAT url)."""
    method = pc.dictionary_encode(_items(fields, HTTP_METHOD, read))
    method = without(pa.DictionaryArray.from_arrays(method.indices, pc.utf8_upper(method.dictionary)), [""])
    return {
        "http_method": method,
        "user_agent": _unquoted(_items(fields, USER_AGENT, read)),
        "content_type": _unquoted(_items(fields, CONTENT_TYPE, read)),
    }


class Fields:
    """A batch's lines cut by panos_scan's kernel: each line read once as far as field 37 (FIELDS' places, and
    `count`); the type and subtype of every line (`kind`), then the texts of the lines read (`at`, filled by
    `read`): FIELDS, and the url and decryption records' URL_FIELDS after field 37 (their rest read on from
    there; field 63 is a url record's HTTP method, a decryption record's SNI), with their `full_count`."""

    def __init__(self, text: pa.Array) -> None:
        from detector.ingest import panos_scan, spans_scan  # loads Numba: only when PAN-OS lines are parsed

        self._buffer, self._data, self._offsets = line_bytes(text)
        self._spans = panos_scan.field_spans(self._data, self._offsets[:-1], self._offsets[1:], FIELDS)
        self.count = self._spans.counts
        self.full_count = self.count
        kinds = slice(FIELDS.index(TYPE), FIELDS.index(SUBTYPE) + 1)
        self.kind = dict(zip((TYPE, SUBTYPE), spans_scan.texts(
            self._buffer, self._spans.starts[kinds], self._spans.ends[kinds],
            self.count > np.array([TYPE, SUBTYPE])[:, None]), strict=True))
        self.at: dict[int, pa.Array] = {}

    def read(self, rows: np.ndarray, rest_rows: np.ndarray) -> None:
        """The texts of FIELDS in `rows` and of URL_FIELDS in `rest_rows` (null elsewhere, and where a line is
        shorter): only what is read is copied out of the lines. `full_count` is then the field count as far as
        field 64 (the rest of the line counting as one) where the rest was read, `count` elsewhere."""
        from detector.ingest import panos_scan, spans_scan

        spans, line_ends = self._spans, self._offsets[1:]
        self.at = dict(zip(FIELDS, spans_scan.texts(
            self._buffer, spans.starts, spans.ends, (self.count > np.array(FIELDS)[:, None]) & rows), strict=True))
        rest_rows = rest_rows & (self.count > SPLITS)
        # the rest of a record: from after the comma that ends field 37 (an empty rest in the other lines)
        rest = panos_scan.field_spans(self._data, np.where(rest_rows, spans.ends[-1] + 1, line_ends), line_ends,
                                      URL_FIELDS, SPLITS)
        self.full_count = np.where(rest_rows, SPLITS + rest.counts, self.count)
        self.at.update(zip(URL_FIELDS, spans_scan.texts(
            self._buffer, rest.starts, rest.ends, (rest.counts > np.array(URL_FIELDS)[:, None] - SPLITS) & rest_rows),
            strict=True))


def _items(fields: Fields, position: int, read: np.ndarray) -> pa.Array:
    """Field `position` of the rows read; null elsewhere and where a line is shorter."""
    return only_where(fields.at[position], pa.array(read))


def _per_row(encoded: pa.DictionaryArray, answers: pa.Array) -> np.ndarray:
    """A yes/no answer per distinct value -> per row (no where the value is null)."""
    per_value = np.append(pc.fill_null(answers, False).to_numpy(zero_copy_only=False), False)
    return per_value[pc.fill_null(encoded.indices, len(per_value) - 1).to_numpy()]


def _unquoted(values: pa.Array, empty_is_null: bool = True) -> pa.DictionaryArray:
    """A CSV field's value, once per distinct field: quotes removed, doubled quotes undone; '' as null unless
    `empty_is_null` is false."""
    encoded = pc.dictionary_encode(values)
    text = encoded.dictionary
    quoted = pc.starts_with(text, '"')
    if pc.any(quoted).as_py():
        text = pc.if_else(quoted, pc.replace_substring(pc.utf8_slice_codeunits(text, 1, -1), '""', '"'), text)
    unquoted = pa.DictionaryArray.from_arrays(encoded.indices, text)
    return without(unquoted, [""]) if empty_is_null else unquoted


def _reject_reasons(known_type: np.ndarray, event: np.ndarray, read: np.ndarray, has_time: np.ndarray,
                    log_type: pa.Array, count: np.ndarray, decryption: np.ndarray) -> pa.Array:
    """The first thing wrong with each rejected line, as a sentence; null for the others. `read`: the events of
    enough fields (MIN_FIELDS; DECRYPTION_MIN_FIELDS for a DECRYPTION record, whose SNI is field 63)."""
    short = event & ~read
    untimed = read & ~has_time
    if known_type.all() and not (short | untimed).any():
        return pa.nulls(len(known_type), pa.string())
    wanted = pa.array(np.where(decryption, DECRYPTION_MIN_FIELDS, MIN_FIELDS)).cast(pa.string())
    return pc.case_when(
        pa.StructArray.from_arrays([pa.array(~known_type), pa.array(short), pa.array(untimed)],
                                   names=["type", "short", "time"]),
        "not a PAN-OS CSV record (FUTURE_USE,receive time,serial,TYPE,...)",
        pc.binary_join_element_wise("expected at least ", wanted, " CSV fields for ", pc.fill_null(log_type, ""),
                                    ", found ", pc.cast(pa.array(count), pa.string()), ""),
        "generated time is not YYYY/MM/DD hh:mm:ss",
    )


SYSLOG = Format(
    name="panos",
    source_kind="firewall",
    summary="Palo Alto PAN-OS syslog CSV: TRAFFIC session ends, THREAT url (URL Filtering) and DECRYPTION (TLS SNI) "
            "records",
    sniff=line_share(rf"^(?:.*[\s>])?[^,\s]*,\d{{4}}/\d{{2}}/\d{{2}} \d{{2}}:\d{{2}}:\d{{2}},[^,]*,(?:{TYPES}),"),
    new_parser=panos_parser,
    independent_batches=True,
    fields=(
        "ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
        "http_method", "url_path", "action", "bytes_out", "bytes_in", "duration_ms", "user_agent",
        "content_type", "vendor_app", "vendor_category",
    ),
)
