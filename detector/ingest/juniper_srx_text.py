"""Junos' plain-text session and web filtering lines read in Arrow: the pieces juniper_srx.QUERY's regular
expressions find, cut by one compiled pass (juniper_srx_scan), each syslog header read once per distinct header
(syslog.SyslogHeaders), and QUERY's columns made of them; plus the value readers both of the format's Arrow paths
share (users, applications, paths).

A line is read here when QUERY would read it as plain text from its syslog header's time: no `[junos@`, a header
(`header_ts` not empty) read from the text before the first `: ` (as SyslogHeaders reads a BSD or ISO header; not
RFC 5424), no device time relayed at the start of the message (a message starting with a digit is left to QUERY),
no whitespace but spaces. QUERY reads the other lines, with the same outcome.

Measured: the text sample repeated to 1M lines (a third of them sessions closed, the rest denied sessions, web
filtering decisions and other messages) took ~13.4 s CPU for the whole ingest with every line through QUERY
(its per-line regular expressions ~90 % of the parse), ~2.5-2.7 s read here (benchmark at 1M lines, loaded machine:
2.73 s against the generic DuckDB query's 1.48). Of a slice's parse, the cut is ~45 %, the columns made of its
pieces ~25 %, copying the pieces out ~10 %. Left: the columns' Arrow steps are a few dozen, each under 3 % of it.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import (
    DistinctQuery,
    dictionary_array,
    has_bytes,
    one_array,
    only_where,
    per_distinct,
)
from detector.ingest.distinct_sql import integers
from detector.ingest.ip_protocols import protocol_names
from detector.ingest.key_values import HIDDEN_QUOTE, milliseconds, spans_of, without_text
from detector.ingest.syslog import SyslogHeaders, may_have_header


def text_columns(connection: duckdb.DuckDBPyConnection, headers: SyslogHeaders, integer: DistinctQuery,
                 bigint: DistinctQuery, lines: pa.Table) -> tuple[pa.Table, np.ndarray]:
    """QUERY's columns of the `lines` read here, and which those are (the others are for QUERY)."""
    from detector.ingest import juniper_srx_scan as scan
    from detector.ingest.key_values_scan import arrow_bytes

    line = one_array(lines.column("line"))
    data, offsets = arrow_bytes(line)
    pieces = scan.TextPieces(data, offsets)
    sure = ~pieces.unsure & may_have_header(line)
    rows = np.flatnonzero(sure)
    if not len(rows):
        return lines.slice(0, 0), sure
    # each distinct header text (before the first `: `) read once, as syslog_lines reads the line
    head = spans_of(line, offsets[rows], pieces.head_end[rows])
    read = per_distinct(connection, head, headers.heads)
    header_ts = read["header_ts"]
    headed = pc.fill_null(pc.not_equal(header_ts.dictionary, ""), False).to_numpy(zero_copy_only=False)[
        pc.fill_null(header_ts.indices, 0).to_numpy(zero_copy_only=False)]
    ts = read["ts"]
    if not headed.all():
        rows, ts = rows[headed], ts.filter(pa.array(headed))
        sure[:] = False
        sure[rows] = True
    if not len(rows):
        return lines.slice(0, 0), sure
    every = len(rows) == len(line)
    taken = pa.array(rows)
    values = {name: column if every else column.take(taken) for name, column in pieces.texts(data).items()}
    return _columns(connection, integer, bigint, lines if every else lines.take(taken), pieces.event[rows], ts,
                    values), sure


def _columns(connection: duckdb.DuckDBPyConnection, integer: DistinctQuery, bigint: DistinctQuery, lines: pa.Table,
             event: np.ndarray, ts: pa.Array, values: dict[str, pa.Array]) -> pa.Table:
    """QUERY's columns of plain-text lines with a syslog header, from their events (numbers into
    juniper_srx_scan.EVENTS) and pieces."""
    from detector.ingest import juniper_srx_scan as scan

    read = event >= scan.CLOSE
    src, dst, proto = values["src"], values["dst"], values["proto"]
    rejected = read & pc.or_(pc.is_null(src), pc.is_null(dst)).to_numpy(zero_copy_only=False)
    reason = pa.nulls(len(event), pa.string())
    if rejected.any():
        names = pa.array(scan.EVENTS).take(pa.array(event[rejected].astype(np.int64)))
        reason = pc.replace_with_mask(reason, pa.array(rejected), pc.binary_join_element_wise(
            names, " without source and destination addresses", ""))
    close = pa.array(event == scan.CLOSE)
    host = per_distinct_value(values["url"], lambda url: without_text(pc.utf8_lower(url), ("",)))
    icmp = pc.fill_null(pc.is_in(proto, pa.array(["1", "58"])), False)

    def count(name: str) -> pa.Array:
        return only_where(integers(connection, bigint, values[name], pa.int64()), close)

    return pa.table({
        "line_no": lines.column("line_no"),
        "reject_reason": reason,
        "is_ignored": pa.array(~read),
        "ts": only_where(ts, pa.array(read & ~rejected)),
        "src_ip": src,
        "user_name": user_names(values["user"]),
        "host": host,
        "host_source": pc.if_else(pc.is_null(host), "none", "url"),
        "dst_ip": dst,
        "dst_port": only_where(integers(connection, integer, values["dport"], pa.int32()), pc.invert(icmp)),
        "network_protocol": protocol_names(proto),
        "action": pc.if_else(pa.array((event == scan.DENY) | (event == scan.BLOCKED)), "blocked", "allowed"),
        "url_path": per_distinct_value(values["obj"], path_of),
        "bytes_out": count("bytes_out"),
        "bytes_in": count("bytes_in"),
        "duration_ms": milliseconds(count("elapsed")),
        "vendor_app": application(values["nested"], values["app"]),
        "vendor_category": without_text(values["category"], ("N/A", "")),
    })


def per_distinct_value(values: pa.Array, read: Callable[[pa.Array], pa.Array]) -> pa.DictionaryArray:
    """`read` of each distinct value (web filtering's hosts and paths repeat), dictionary-encoded as the lake
    writes it."""
    encoded = pc.dictionary_encode(values)
    return dictionary_array(encoded.indices, read(encoded.dictionary))


def path_of(obj: pa.Array) -> pa.Array:
    """Junos' `obj`, the path the client asked for with its query: the path (none where empty)."""
    from detector.ingest.arrow_ops import list_item

    return without_text(list_item(pc.split_pattern(obj, "?", max_splits=1), 0), ("",))


def user_names(users: pa.Array) -> pa.DictionaryArray:
    """QUERY's `username` in Arrow, once per distinct user: an escaped quote back as `"`, `\\\\` read as one
    backslash (`DOMAIN\\\\user`), `N/A` and empty as none; dictionary-encoded as the lake writes it."""
    encoded = pc.dictionary_encode(users)
    names = encoded.dictionary
    if has_bytes(names, (HIDDEN_QUOTE + "\\").encode()):
        names = pc.replace_substring(pc.replace_substring(names, HIDDEN_QUOTE, '"'), "\\\\", "\\")
    return dictionary_array(encoded.indices, without_text(names, ("N/A", "")))


def application(nested: pa.Array, application: pa.Array) -> pa.Array:
    """AppSecure's nested application when identified, else the application (`UNKNOWN`, `N/A`: none)."""
    identified = without_text(nested, ("UNKNOWN", "N/A"))
    return without_text(pc.coalesce(identified, without_text(application, ("UNKNOWN", "N/A"))), ("",))
