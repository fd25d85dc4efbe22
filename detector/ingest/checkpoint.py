"""Check Point Log Exporter, syslog format: an RFC 5424 header, then `[key:"value"; key:"value"; ...]`; and Log
Exporter's Splunk format, `time=1763452930|hostname=gw|product=Firewall|action=Accept|src=...|` after any
syslog header (sk122323; `=`, `|` and a backslash in a value escaped with a backslash), read by a compiled pass
of its own (checkpoint_scan.py) as SPLUNK_SQL's regular expressions read it, key by key (a 1M-line file of it: the
whole ingest 9.5 s CPU with SPLUNK_SQL, 3.4 s with the pass).

Fields by name (the data read at its quote marks by a compiled pass, see key_values_scan.py; the first of
repeated keys wins):
`src`, `dst`, `service` (destination port), `proto` (IP protocol number), `action`, `time` (epoch),
the user from Identity Awareness (`src_user_name`, `source_user_name`, `user`), byte counts from
Accounting (`client_outbound_bytes` is what the client sent: `bytes_out`; `server_outbound_bytes`;
else the threat prevention blades' `sent_bytes` / `received_bytes`, and `sent_byte`), `elapsed`
(seconds), and the URL Filtering blade's `resource` (the URL, from which the host), with the request's `method`
and `user_agent` (as the Threat Prevention blades log a web request: `user_agent:"Mozilla/5.0 ..."`). Check Point's
own view is kept: Application Control's `appi_name` as vendor_app, its `app_category`, else URL Filtering's
`matched_category`, as vendor_category.

Events are logs of a connection decision: actions Accept, Allow, Encrypt, Decrypt (allowed: Encrypt
and Decrypt are accepted VPN traffic) and Drop, Reject, Block, Prevent (blocked); such a log without
`src` and `dst` is a reject, unless it is no traffic log: a Management Server's audit log (an administrator's
`operation`: "Log In", "Install Policy", ..., logged with action Accept) or an update of an earlier log
(product "Log Update": Accounting's byte counts of a connection logged before, matched to it only by its
`loguid`, which is not kept). Those, and everything else (System Monitor messages, updates, VPN key exchange,
Login, Detect/Inform, ...), carry no decision on traffic: ignored.

A gateway's own syslog export writes the same fields (Log Exporter's field names) in another layout: one RFC 5424
structured-data element of Check Point's enterprise number, `[Fields@1.3.6.1.4.1.2620 Action="accept" src="..."
dst="..." proto="6" service="443" s_port="52011" ...]`, `key="value"` pairs separated by spaces, the action in lower
case (`accept`, `drop`, `monitor`, ...) under `Action`, the destination port as `service` or `svc`. Those lines, seen
by the compiled pass as lines without `action:` (rare where Log Exporter writes the file), are read once more with
`key=` keys; their actions are then read as above (`accept` as Accept). (When every line of a slice is such a line,
as in a file of that export, the lines are scanned again as they are and their values used as found: a 1M-line
file's whole ingest 4.0-4.3 s CPU with a take and a put per key, 3.3-3.7 s without; and when no line of the slice
holds `:"`, where a Log Exporter key ends, only that scan is done: 3.2-3.5 s -> 2.9 s.)

Time: `time` (epoch seconds, the event) when present, else the header's ISO 8601 time (Log Exporter
writes RFC 5424 headers; one without an offset is read in the configured zone; an offset whose hour is padded with
`-`, as in `2016-06-02T15:09:05--5:00` from gateways' own syslog export, is read as `-05:00`).

Finding and cutting out the values with Numba costs ~11 ms per 16,384 benchmark lines where numpy's passes
over the quote marks took ~22 ms; with Numba's start-up (~0.5 s CPU once per run) a 1M-line file's parse costs
~1.67 s CPU instead of ~2.3.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, list_item, one_array, only_where, per_distinct
from detector.ingest.base import (
    BatchParser,
    Format,
    ParseContext,
    line_share,
)
from detector.ingest.distinct_sql import BIGINT_SQL, INTEGER_SQL, chunk_sliced_parser, integers, sql_literal
from detector.ingest.ip_protocols import protocol_names
from detector.ingest.key_values import milliseconds, spans_of
from detector.ingest.syslog import ISO_TIME

if TYPE_CHECKING:
    from detector.ingest.checkpoint_scan import SplunkValues
    from detector.ingest.key_values_scan import QuotedValues

# Log Exporter separates fields with `; `: the text between a value's closing quote mark and the next one's
# opening mark is `; key:`. In any other layout (and before the first value) that text's last word, without
# the `[` opening the data, is its key.
KEYS = (
    "action", "src", "dst", "service", "proto", "time", "src_user_name", "source_user_name", "user",
    "client_outbound_bytes", "server_outbound_bytes", "sent_bytes", "sent_byte", "received_bytes", "elapsed",
    "resource",
    "method", "user_agent", "appi_name", "app_category", "matched_category",
)

ALLOWED = ("Accept", "Allow", "Encrypt", "Decrypt")
BLOCKED = ("Drop", "Reject", "Block", "Prevent")
NOT_CHECK_POINT = 'not a Check Point log (no [key:"value"; ...] data, nor key=value|key=value|...)'
# Log Exporter's Splunk format: `time=<epoch>|key=value|...` (the first key is `time`), a line's keys by `|key=`.
SPLUNK_LINE = r"(?:^|\s)time=\d+\|"
_SPLUNK_VALUE = r"((?:[^|\\]|\\.)*)"


def _splunk_value_sql(key: str) -> str:
    """A key's value in a Splunk-format line: after `|key=` (`time`, the first key, after the header's space),
    as far as the next `|` not escaped; escapes undone; empty is none."""
    before = r"(?:^|[|\s])" if key == "time" else r"[|]"
    found = f"regexp_extract(line, '{before}{key}={_SPLUNK_VALUE}', 1)"
    return f"nullif(regexp_replace({found}, '\\\\(.)', '\\1', 'g'), '') as \"{key}\""


# What the lines of the Splunk format are read as: checkpoint_scan's compiled pass gives the same values (a test
# compares them), without a regular expression per key and line.
SPLUNK_SQL = f"select line_no, {', '.join(_splunk_value_sql(key) for key in KEYS)} from splunk_lines"
# A decision log without src and dst that is no traffic log: an audit log (an administrator's operation) or an
# update of an earlier log. Sought in the text of those lines only (rare).
NOT_TRAFFIC = r'(?:^|[\[;| ])(?:(?:operation|administrator)(?::"|=)|product(?::"|="?)Log Update(?:"|\|))'
# The structured-data element of a gateway's own syslog export (Check Point's enterprise number, 2620)
FIELDS_ELEMENT = "[Fields@1.3.6.1.4.1.2620 "
# Its keys as written there, where they differ from Log Exporter's: the first found wins
FIELDS_KEYS = {"action": ("Action", "action"), "service": ("service", "svc")}
# Lines read at a time: the text and its pieces stay in the CPU's caches from one step to the next.
SLICE_LINES = 16_384

# Text values: an escaped quote back (the key_values placeholder), `\]` unescaped; empty is none.
TEXT_SQL = r"""select nullif(replace(replace(value, chr(30), '"'), '\]', ']'), '') as value from distinct_values"""
RESOURCE_SQL = r"""
select hostport_host(rest_authority(rest)) as host, rest_path(rest) as url_path
from (select url_rest(replace(replace(value, chr(30), '"'), '\]', ']')) as rest from distinct_values)
"""
METHOD_SQL = "select upper(nullif(value, '')) as value from distinct_values"
# `time` is epoch seconds; one out of TIMESTAMP's range is none
EPOCH_SQL = "select try(to_timestamp(try_cast(value as bigint))) as ts from distinct_values"


def _header_time_sql(timezone: str) -> str:
    """The header's ISO 8601 time (in the text before the data): absolute with an offset, else in `timezone`."""
    zone = sql_literal(timezone)
    return rf"""
select case
    when iso_time = '' then null
    when regexp_matches(iso_time, '(Z|[+-]\d{{2}}:?\d{{2}})$') then try_cast(iso_time as timestamptz)
    else timezone({zone}, try_cast(iso_time as timestamp))
end as ts
from (select regexp_extract(regexp_replace(value, '(T[\d:.]+[+-])-(\d:\d{{2}})', '\10\2'), '({ISO_TIME})')
      as iso_time from distinct_values)
"""


class _Queries:
    """The per-distinct queries of one file, each remembering the values it has read."""

    def __init__(self, timezone: str) -> None:
        self.text = DistinctQuery(TEXT_SQL)
        self.resource = DistinctQuery(RESOURCE_SQL)
        self.method = DistinctQuery(METHOD_SQL)
        self.epoch = DistinctQuery(EPOCH_SQL)
        self.header_time = DistinctQuery(_header_time_sql(timezone))
        self.integer = DistinctQuery(INTEGER_SQL)
        self.bigint = DistinctQuery(BIGINT_SQL)


def new_parser(context: ParseContext) -> BatchParser:
    """Lines' values found by a compiled pass over their bytes, each distinct value read once in SQL."""
    queries = _Queries(context.timezone)
    from detector.ingest import key_values_scan  # (Numba: loaded only when a Check Point log is read)

    keys = key_values_scan.WantedKeys([f"{key}:" for key in KEYS])
    fields_keys = key_values_scan.WantedKeys(
        [f"{name}=" for key in KEYS for name in FIELDS_KEYS.get(key, (key,))])

    def scan(line: pa.Array) -> QuotedValues:
        """The data's quote marks and values: one compiled pass over each line (a line whose text after its
        second mark is not `; ` is of another layout: a key piece's last word, without `[`, is its key)."""
        return key_values_scan.QuotedValues(line, keys, "; ", key_values_scan.LastWordLines.NOT_PREFIXED,
                                            strip_bracket=True)

    def fields_scan(line: pa.Array) -> QuotedValues:
        """The lines read as of the `[Fields@... key="value" ...]` layout (see `_fields_columns`)."""
        return key_values_scan.QuotedValues(line, fields_keys, " ", key_values_scan.LastWordLines.NOT_PREFIXED,
                                            strip_bracket=True)

    splunk_keys = key_values_scan.WantedKeys(KEYS)

    def splunk_scan(line: pa.Array) -> SplunkValues:
        """Which lines are of the Splunk format, and their values by key (see checkpoint_scan)."""
        from detector.ingest import checkpoint_scan

        return checkpoint_scan.splunk_values(line, splunk_keys, KEYS.index("time"))

    return chunk_sliced_parser(
        context, lambda cursor, part: _outcomes(cursor, queries, scan, fields_scan, splunk_scan, part), SLICE_LINES)


def _values(line: pa.Array, scan: Callable[[pa.Array], QuotedValues]
            ) -> tuple[dict[str, pa.Array], QuotedValues]:
    """Per line, the value of each key (by `; key:`), and the scan (how many quoted values a line has, whether it
    holds a `[`, its head)."""
    found = scan(line)
    return {f"; {key}": value for key, value in found.columns().items()}, found


def _outcomes(connection: duckdb.DuckDBPyConnection, queries: _Queries, scan: Callable[[pa.Array], QuotedValues],
              fields_scan: Callable[[pa.Array], QuotedValues],
              splunk_scan: Callable[[pa.Array], SplunkValues], lines: pa.Table) -> pa.Table:
    """The lines' events, rejects (reject_reason) and ignored lines (is_ignored)."""
    line = one_array(lines.column("line"))
    splunk = splunk_scan(line) if len(line) and "[" not in line[0].as_py() else None  # (a Splunk-format file?)
    if splunk is not None and not splunk.has_open.any():
        # no `[`: no line has syslog-format data (nor a `[Fields@...` element), and the scan for it is not needed
        values = {f"; {key}:": pa.nulls(len(line), pa.string()) for key in KEYS}
        no_data = _put_splunk(line, np.ones(len(line), bool), values, np.arange(len(line)), splunk.splunk,
                              splunk.columns)
    else:
        # A slice of a gateway's own syslog export without `:"` anywhere: the syslog-format scan would find no value
        # (a Log Exporter key is `key:` just before a quote mark), and its marks and brackets are the `[Fields@...`
        # scan's (they depend on the bytes only): that scan alone is done.
        fields = fields_scan(line) if len(line) and FIELDS_ELEMENT in line[0].as_py() and not _has_colon_quote(
            line) else None
        if fields is not None:
            values, found = {f"; {key}:": pa.nulls(len(line), pa.string()) for key in KEYS}, fields
        else:
            values, found = _values(line, scan)
        no_data = ~found.has_open() | (found.values == 0)
        if no_data.any():  # (rare in a syslog-format file) lines of the Splunk format
            no_data = _splunk_values(line, no_data, values, splunk_scan)
        no_action = ~no_data & pc.is_null(values["; action:"]).to_numpy(zero_copy_only=False)
        if no_action.any():  # (rare in a Log Exporter file) lines of a gateway's own syslog export
            _fields_values(line, found, no_action, values, fields_scan, fields)

    def value(key: str) -> pa.Array:
        return values[f"; {key}:"]

    def text(values: pa.Array) -> pa.Array:
        return per_distinct(connection, values, queries.text)["value"]

    action = value("action")
    allowed, blocked = pc.is_in(action, pa.array(ALLOWED)), pc.is_in(action, pa.array(BLOCKED))
    decision = pc.or_(allowed, blocked).to_numpy(zero_copy_only=False)
    addressless = decision & pc.or_(pc.is_null(value("src")), pc.is_null(value("dst"))).to_numpy(
        zero_copy_only=False)
    if addressless.any():  # audit logs and log updates: no traffic, ignored (see the docstring)
        rows = np.flatnonzero(addressless)
        not_traffic = pc.match_substring_regex(line.take(pa.array(rows)), NOT_TRAFFIC).to_numpy(zero_copy_only=False)
        decision = decision.copy()
        decision[rows[not_traffic]] = False
        addressless[rows[not_traffic]] = False
    reason = pc.if_else(pa.array(no_data), NOT_CHECK_POINT, pc.if_else(
        pa.array(addressless), pc.binary_join_element_wise(action, " log without src and dst", ""),
        pa.scalar(None, pa.string())))
    event = decision & ~no_data & ~addressless
    epoch = _epoch_times(connection, queries, value("time"), pa.array(event))
    untimed = event & ~pc.is_valid(epoch).to_numpy(zero_copy_only=False)
    if untimed.any():
        # the header's time (before the data's `[`) where `time` is missing: a regular expression, dear enough to
        # skip otherwise
        rows = pa.array(untimed)
        header = list_item(pc.split_pattern(line.filter(rows), "[", max_splits=1), 0)
        header_time = per_distinct(connection, header, queries.header_time)["ts"]
        epoch = pc.replace_with_mask(epoch, rows, header_time.cast(epoch.type))
    resource = value("resource")
    place = per_distinct(connection, resource, queries.resource)
    has_host = pc.is_valid(place["host"])
    return pa.table({
        "line_no": lines.column("line_no"),
        "reject_reason": reason,
        "is_ignored": pa.array(~no_data & ~decision),
        "ts": epoch,
        "src_ip": value("src"),
        "user_name": text(pc.coalesce(value("src_user_name"), value("source_user_name"), value("user"))),
        "host": place["host"],
        "host_source": pc.if_else(has_host, "url", "none"),
        "dst_ip": value("dst"),
        "dst_port": integers(connection, queries.integer, value("service"), pa.int32()),
        "network_protocol": protocol_names(value("proto")),
        "http_method": per_distinct(connection, only_where(value("method"), pc.is_valid(resource)),
                                    queries.method)["value"],
        "url_path": place["url_path"],
        "user_agent": text(only_where(value("user_agent"), pc.is_valid(resource))),
        "action": pc.if_else(allowed, "allowed", pc.if_else(blocked, "blocked", "unknown")),
        "bytes_out": integers(connection, queries.bigint, pc.coalesce(value("client_outbound_bytes"),
                                                                      value("sent_bytes"), value("sent_byte")),
                             pa.int64()),
        "bytes_in": integers(connection, queries.bigint, pc.coalesce(value("server_outbound_bytes"),
                                                                     value("received_bytes")), pa.int64()),
        "duration_ms": milliseconds(integers(connection, queries.bigint, value("elapsed"), pa.int64())),
        "vendor_app": text(value("appi_name")),
        "vendor_category": text(pc.coalesce(value("app_category"), value("matched_category"))),
    })


def _fields_columns(found: QuotedValues) -> dict[str, pa.Array]:
    """The values of lines of the `[Fields@... key="value" ...]` layout by Log Exporter's key names."""
    columns = found.columns()
    return {key: pc.coalesce(*(columns[f"{name}="] for name in FIELDS_KEYS[key])) if key in FIELDS_KEYS
            else columns[f"{key}="] for key in KEYS}


def _has_colon_quote(line: pa.Array) -> bool:
    """Whether any of the lines holds `:"` (where a Log Exporter key ends: `key:"value"`), read in their bytes."""
    from detector.ingest.key_values_scan import arrow_bytes

    data, offsets = arrow_bytes(line)
    text = data[offsets[0]:offsets[-1]]
    colons = np.flatnonzero(text[:-1] == ord(":"))  # (a few per line: the header's times)
    return bool((text[colons + 1] == ord('"')).any())


def _fields_values(line: pa.Array, scanned: QuotedValues, no_action: np.ndarray, values: dict[str, pa.Array],
                   fields_scan: Callable[[pa.Array], QuotedValues], fields_scanned: QuotedValues | None = None
                   ) -> None:
    """The values of the lines of the `[Fields@1.3.6.1.4.1.2620 key="value" ...]` layout (the element's name in
    the text before the first quote mark) among those without an `action:`, put into `values` (the action
    capitalised as Log Exporter writes it: `accept` as Accept). `fields_scanned`: `fields_scan` of all the lines,
    when done already."""
    rows = np.flatnonzero(no_action)
    rows = rows[scanned.data[scanned.head_end[rows] - 1] == ord("=")]  # (a first key `key=`, not `key:`)
    if not len(rows):
        return
    head = spans_of(line, scanned.offsets[rows], scanned.head_end[rows])
    fields = pc.match_substring(head, FIELDS_ELEMENT).to_numpy(zero_copy_only=False)
    if not fields.any():
        return
    rows = rows[fields]
    every = len(rows) == len(line)  # (a file of a gateway's own syslog export: no take, no put)
    if every and fields_scanned is not None:
        found = _fields_columns(fields_scanned)
    else:
        found = _fields_columns(fields_scan(line if every else line.take(pa.array(rows))))
    found["action"] = pc.utf8_capitalize(found["action"])
    if every:
        values.update({f"; {key}:": found[key] for key in KEYS})
    else:
        _put_rows(values, found, rows, len(line))


def _put_rows(values: dict[str, pa.Array], found: dict[str, pa.Array], rows: np.ndarray, lines: int) -> None:
    """`found`'s values (of the lines `rows`, in order) put into `values` at those lines, per key."""
    at = np.full(lines, -1, np.int64)
    at[rows] = np.arange(len(rows))
    place = pa.array(np.where(at >= 0, at, 0))
    where = pa.array(at >= 0)
    for key in KEYS:
        column = found[key]
        values[f"; {key}:"] = pc.if_else(where, column.take(place), values[f"; {key}:"])


def _splunk_values(line: pa.Array, no_data: np.ndarray, values: dict[str, pa.Array],
                   splunk_scan: Callable[[pa.Array], SplunkValues]) -> np.ndarray:
    """The values of the lines of Log Exporter's Splunk format among those without syslog-format data (SPLUNK_LINE;
    read as SPLUNK_SQL reads them, by checkpoint_scan's compiled pass), put into `values` (null elsewhere); the
    lines left without data of either format."""
    every = bool(no_data.all())
    rows = np.flatnonzero(no_data)
    splunk, _, found = splunk_scan(line if every else line.take(pa.array(rows)))
    return _put_splunk(line, no_data, values, rows, splunk, found)


def _put_splunk(line: pa.Array, no_data: np.ndarray, values: dict[str, pa.Array], rows: np.ndarray,
                splunk: np.ndarray, found: dict[str, pa.Array]) -> np.ndarray:
    """`_splunk_values` once the lines `rows` are scanned (`splunk`, `found`: of those rows)."""
    every = len(rows) == len(line)
    if not splunk.any():
        return no_data
    if every and splunk.all():  # (a file of the Splunk format)
        values.update({f"; {key}:": found[key] for key in KEYS})
        return np.zeros(len(line), bool)
    kept = pa.array(splunk)
    rows = rows[splunk]
    _put_rows(values, {key: found[key].filter(kept) for key in KEYS}, rows, len(line))
    left = no_data.copy()
    left[rows] = False
    return left


def _epoch_times(connection: duckdb.DuckDBPyConnection, queries: _Queries, seconds: pa.Array, where: pa.Array
                 ) -> pa.Array:
    """`time` (epoch seconds) as a timestamp where `where` holds, as EPOCH_SQL reads it: plain digits (the usual
    case; up to 11, within TIMESTAMP's range) cast by Arrow, anything else once per distinct value in SQL."""
    digits = pc.and_(pc.ascii_is_decimal(seconds), pc.less_equal(pc.binary_length(seconds), 11))
    if not pc.all(pc.fill_null(digits, True)).as_py():
        return per_distinct(connection, seconds, queries.epoch, where=where)["ts"]
    micros = pc.multiply(pc.cast(seconds, pa.int64()), 1_000_000)
    return only_where(pc.cast(micros, pa.timestamp("us", tz="UTC")), where)


SYSLOG = Format(
    name="checkpoint",
    source_kind="firewall",
    summary='Check Point Log Exporter syslog ([key:"value"; ...]) or Splunk (key=value|...) format, or a gateway\'s '
            'own syslog ([Fields@1.3.6.1.4.1.2620 key="value" ...]): firewall and URL Filtering decisions',
    sniff=line_share(r'^(?:.*?\bCheckPoint\b.*\[[\w.-]+:+"|(?:.*\s)?time=\d{9,11}\|(?:[^|]*\|)*?loguid=\{0x'
                     r'|.*?\[Fields@1\.3\.6\.1\.4\.1\.2620 \w+=")'),
    new_parser=new_parser,
    independent_batches=True,
    fields=(
        "ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
        "http_method", "url_path", "user_agent", "action", "bytes_out", "bytes_in", "duration_ms", "vendor_app",
        "vendor_category",
    ),
)
