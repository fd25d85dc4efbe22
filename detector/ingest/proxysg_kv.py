"""Symantec / Blue Coat ProxySG access logs in key=value form: a custom access-log format whose pairs are named
by ELFF field names, as SIEM add-ons ask the appliance to write it.

Two documented layouts:
- Splunk's `bluecoat:proxysg:access:kv` (a sourcetype of the Splunk Add-on for Symantec Blue Coat ProxySG,
  https://docs.splunk.com/Documentation/AddOns/latest/BlueCoatProxySG/About): space-separated
  `key=value` pairs after `SPLV5.1`, values with spaces in double quotes (`cs-User-Agent="Mozilla/5.0 (...)"`),
  usually behind a syslog header (Splunk Connect for Syslog's test `test_bluecoatproxySG_kv`,
  https://github.com/splunk/splunk-connect-for-syslog/blob/main/tests/test_bluecoatproxySG.py). It may carry
  `date=` and `time=` (ELFF, UTC) or not: then the syslog header's time is the event's.
- IBM QRadar's Blue Coat SG DSM ("Creating extra custom format key-value pairs", https://www.ibm.com/docs/en/dsm?topic=sg-creating-extra-custom-format-key-value-pairs):
  `Bluecoat|src=$(c-ip)|srcport=$(c-port)|dst=$(cs-uri-address)|dstport=$(cs-uri-port)|username=$(cs-username)|
  devicetime=$(gmttime)|s-action=$(s-action)|sc-status=$(sc-status)|cs-method=$(cs-method)`, and further ELFF
  fields added as `name=$(name)` (the guide's `sc-bytes`, `rs(Content-Type)`; public QRadar test generators add
  time-taken, cs-bytes, cs-host, cs-uri-path, cs(User-Agent), sc-filter-result, `filter-category`, cs-uri):
  `|`-separated pairs (values may hold spaces), time from `devicetime` (`[dd/Mon/yyyy:hh:mm:ss GMT]`, or with a
  numeric month), else `date`/`time`, else the syslog header.

The pairs are split with Arrow (a pair's key is the text before its first `=`; keys compared in lower case, `_`
read as `-`, so `rs_Content_Type` is `rs(content-type)`), the wanted values are written back as one ELFF line
under a fixed field list, and that line is read by `w3c.event_columns`: one reading of ProxySG's fields for the
`w3c`, `proxysg` and this format (denials by x-exception-id as `proxysg` reads them). A line with no `c-ip`/`src`
and no host or URL key is a counted reject (not such a line); a line without a readable time likewise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import flattened, quoted_value, split_quoted
from detector.ingest.base import (
    BatchParser,
    Format,
    ParseContext,
    ParseResult,
    attach_lines,
    parse_cursor,
    split_outcomes,
)
from detector.ingest.cisco_wsa import WSA_MACROS
from detector.ingest.distinct_sql import in_slices
from detector.ingest.key_values import spans_of
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.proxy_columns import VALUE_SLICE, line_text
from detector.ingest.proxysg import Layout, _denied_by_exception
from detector.ingest.squid import PROXY_MACROS
from detector.ingest.syslog import SyslogHeaders, define_head_macros, reference_time
from detector.ingest.w3c import W3C, Header, Plan, combine, event_columns
from detector.schema import TIMESTAMP

# The ELFF line written for each kv line, and the keys (lower case, `_` as `-`) each field is read from.
ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("date",),
    "time": ("time",),
    "time-taken": ("time-taken",),
    "c-ip": ("c-ip", "src"),
    "cs-username": ("cs-username", "username"),
    "cs-auth-group": ("cs-auth-group",),
    "x-exception-id": ("x-exception-id",),
    "cs-method": ("cs-method",),
    "cs-uri": ("cs-uri", "c-url", "cs-url"),
    "cs-host": ("cs-host",),
    "r-ip": ("r-ip", "dst", "cs-uri-address", "s-supplier-ip"),  # (w3c reads the first of these it has)
    "cs-uri-port": ("cs-uri-port", "dstport"),
    "cs-uri-scheme": ("cs-uri-scheme",),
    "cs-uri-path": ("cs-uri-path",),
    "sc-status": ("sc-status",),
    "s-action": ("s-action",),
    "sc-filter-result": ("sc-filter-result",),
    "sc-bytes": ("sc-bytes",),
    "cs-bytes": ("cs-bytes",),
    "cs(user-agent)": ("cs(user-agent)", "cs-user-agent"),
    "rs(content-type)": ("rs(content-type)", "rs-content-type", "content-type"),
    "cs-categories": ("cs-categories", "sc-filter-category", "filter-category"),
    "x-bluecoat-application-name": ("x-bluecoat-application-name",),
    "s-ip": ("s-ip",),
    "devicetime": ("devicetime",),  # (not an ELFF field w3c reads: the time when date/time are missing)
}
FIELDS = tuple(ALIASES)
LAYOUT = Layout("key=value", FIELDS)
_KEY_FIELD = {alias: field for field, aliases in ALIASES.items() for alias in aliases}
_FIELD_OF_KEY = np.array([FIELDS.index(field) for field in _KEY_FIELD.values()])
# `devicetime` (QRadar's $(gmttime)): `[10/Apr/2018:16:22:12 GMT]`, or with the month as a number
DEVICE_TIME_FORMATS = ("%d/%b/%Y:%H:%M:%S", "%d/%m/%Y:%H:%M:%S")
# A QRadar line's marker; the syslog header (if any) is what precedes it
PIPE_MARK = "Bluecoat|"
NOT_KV = ("not a ProxySG key=value access-log line: no c-ip= (src=) or no cs-host=/cs-uri=/c-url= pair "
          "(Splunk's SPLV5.1 layout or QRadar's Bluecoat|key=value|... layout)")
NO_TIME = ("no time: no date= and time= pairs, no readable devicetime= ([dd/Mon/yyyy:hh:mm:ss GMT]) "
           "and no syslog header time")
# Lines parsed at a time (see parse)
SLICE_LINES = 32_768
# SonicWall's trick: a header read as `<header>- x: -`, once per distinct header; only its time is used
_TAGGED = "- x: -"


def _pairs(text: pa.Array) -> tuple[np.ndarray, pa.Array, np.ndarray]:
    """The wanted `key=value` tokens of every line: the ELFF field (index in FIELDS) each names, its value
    (unquoted) and its row. Lines with the QRadar mark are split at `|`, the others at spaces outside double
    quotes. Keys are cut out of the tokens' buffer and named once per distinct key; only the wanted tokens'
    values are cut out."""
    piped = pc.fill_null(pc.match_substring(text, PIPE_MARK, ignore_case=True), False).to_numpy(zero_copy_only=False)
    fields, values, rows = [], [], []
    for mask, split in ((piped, lambda t: pc.split_pattern(t, "|")), (~piped, lambda t: split_quoted(t, " "))):
        if not mask.any():
            continue
        where = np.flatnonzero(mask)
        tokens, token_rows, _ = flattened(split(text.take(pa.array(where))))
        if not len(tokens):
            continue
        equals = pc.fill_null(pc.find_substring(tokens, "="), -1).to_numpy(zero_copy_only=False)
        _, _, offsets = line_bytes(tokens)
        starts, ends, paired = offsets[:-1], offsets[1:], equals >= 0
        keys = pc.dictionary_encode(spans_of(tokens, starts, np.where(paired, starts + equals, starts), ~paired))
        names = pc.replace_substring(pc.utf8_lower(keys.dictionary), "_", "-")
        known = pc.fill_null(pc.index_in(names, pa.array(list(_KEY_FIELD))), -1).to_numpy(zero_copy_only=False)
        field = np.append(_FIELD_OF_KEY[np.maximum(known, 0)] * (known >= 0) - (known < 0), -1)
        indices = pc.fill_null(keys.indices, len(known)).to_numpy(zero_copy_only=False)
        wanted = np.flatnonzero(field[indices] >= 0)
        if not len(wanted):
            continue
        value = spans_of(tokens, starts[wanted] + equals[wanted] + 1, ends[wanted])
        fields.append(field[indices[wanted]])
        values.append(value if piped[where[0]] else quoted_value(value, " "))
        rows.append(where[token_rows[wanted]])
    if not fields:
        return np.zeros(0, np.int64), pa.array([], pa.string()), np.zeros(0, np.int64)
    return np.concatenate(fields), pa.concat_arrays(values), np.concatenate(rows)


def _field_values(which: np.ndarray, values: pa.Array, rows: np.ndarray, count: int) -> dict[str, pa.Array]:
    """Per ELFF field, each line's first value of any of its keys (null where none)."""
    out = {}
    for number, field in enumerate(FIELDS):  # (a loop over the ~25 fields, not over lines)
        found = np.flatnonzero(which == number)
        position = np.full(count, -1, np.int64)
        position[rows[found][::-1]] = found[::-1]  # the first occurrence in a line wins
        missing = position < 0
        out[field] = values.take(pa.array(np.maximum(position, 0), mask=missing)) if len(values) else \
            pa.nulls(count, pa.string())
    return out


def _device_time(text: pa.Array) -> pa.Array:
    """`[dd/Mon/yyyy:hh:mm:ss GMT]` (or a numeric month) as a UTC timestamp; null where unreadable."""
    bare = pc.utf8_trim(pc.replace_substring_regex(text, r"(?i)\s*(GMT|UTC)?\]?$", ""), "[ ")
    found = pa.nulls(len(text), pa.timestamp("s"))
    for pattern in DEVICE_TIME_FORMATS:
        found = pc.coalesce(found, pc.strptime(bare, pattern, "s", error_is_null=True))
    return found


def _elff_value(value: pa.Array) -> pa.Array:
    """A value as ELFF writes it: `-` when empty or missing, in double quotes (`""` for a quote) with spaces."""
    value = pc.if_else(pc.fill_null(pc.equal(value, ""), True), "-", value)
    spaced = pc.fill_null(pc.match_substring_regex(value, r'[ "]'), False)
    if not pc.any(spaced).as_py():
        return value
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(value, '"', '""'), '"', "")
    return pc.if_else(spaced, quoted, value)


def new_parser(context: ParseContext) -> BatchParser:
    """Each batch: pairs split, wanted values written as ELFF lines, read as `w3c` reads ProxySG."""
    for macros in (PROXY_MACROS, WSA_MACROS):
        context.connection.execute(macros)
    define_head_macros(context.connection)
    plan = Plan(Header(fields=FIELDS), "UTC")
    headers = SyslogHeaders(context.timezone, reference_time(context.path, context.timezone))

    def header_times(cursor: duckdb.DuckDBPyConnection, text: pa.Array, line_no: pa.Array) -> pa.Array:
        head = pc.extract_regex(text, r"^(?P<head>.*?)(?:SPLV[\d.]*\s|(?i:bluecoat)\||[^\s|=\"]+=)")
        head = pc.fill_null(pc.struct_field(head, [0]), "")
        table = pa.table({"line_no": line_no, "line": pc.binary_join_element_wise(head, _TAGGED, "")})
        return headers.read(cursor, table).column("ts").combine_chunks().cast(TIMESTAMP)

    def parse(lines: pa.Table) -> ParseResult:
        """The batch in slices: the tokens of a whole batch (~25 a line) would take most of the memory."""
        if lines.num_rows <= SLICE_LINES:
            return parse_slice(lines)
        return combine([parse_slice(lines.slice(start, SLICE_LINES))
                        for start in range(0, lines.num_rows, SLICE_LINES)], ignored=0)

    def parse_slice(lines: pa.Table) -> ParseResult:
        text = line_text(lines)
        count = len(text)
        values = _field_values(*_pairs(text), count)
        ours = pc.and_(pc.is_valid(values["c-ip"]), pc.or_(pc.is_valid(values["cs-host"]),
                                                           pc.is_valid(values["cs-uri"])))
        no_time = np.zeros(count, bool)
        with parse_cursor(context.connection) as cursor:
            timed = pc.and_(pc.is_valid(values["date"]), pc.is_valid(values["time"]))
            untimed = np.flatnonzero(~pc.fill_null(timed, False).to_numpy(zero_copy_only=False))
            if len(untimed):
                device = pa.nulls(len(untimed), TIMESTAMP)
                if pc.any(pc.is_valid(values["devicetime"])).as_py():
                    device = _device_time(values["devicetime"].take(pa.array(untimed))).cast(TIMESTAMP)
                missing = np.flatnonzero(pc.is_null(device).to_numpy(zero_copy_only=False))
                if len(missing):
                    rows = pa.array(untimed[missing])
                    device = pc.replace_with_mask(
                        device, pa.array(np.isin(np.arange(len(untimed)), missing)),
                        header_times(cursor, text.take(rows), lines.column("line_no").take(rows)))
                scatter = np.full(count, -1, np.int64)
                scatter[untimed] = np.arange(len(untimed))
                ts = device.take(pa.array(np.maximum(scatter, 0), mask=scatter < 0))
                no_time = pc.is_null(ts).to_numpy(zero_copy_only=False) & (scatter >= 0)
                values["date"] = pc.coalesce(values["date"], pc.strftime(ts, "%Y-%m-%d"))
                values["time"] = pc.coalesce(values["time"], pc.strftime(ts, "%H:%M:%S"))
            elff = pc.binary_join_element_wise(*[_elff_value(values[field]) for field in FIELDS], " ")
            part = pa.table({"line_no": lines.column("line_no"), "line": elff})
            columns = in_slices(part, lambda piece: event_columns(cursor, plan, piece), VALUE_SLICE)
        reason = pc.if_else(pc.fill_null(ours, False), pc.if_else(pa.array(no_time), pa.scalar(NO_TIME),
                                                                  columns.column("reject_reason")), pa.scalar(NOT_KV))
        columns = columns.set_column(columns.schema.get_field_index("reject_reason"), "reject_reason", reason)
        result = _denied_by_exception(split_outcomes(columns, part), part, LAYOUT)
        if result.rejects.num_rows:  # a reject shows its line as written
            result.rejects = attach_lines(result.rejects.column("line_no"), result.rejects.column("reason"), lines)
        return result

    return parse


_SPLUNK = re.compile(r"(?:^|\s)c-ip=\S")
_QRADAR = re.compile(r"(?i:bluecoat)\|(?:[^|]*\|)*src=")
_PROXY_KEY = re.compile(r"(?:^|[\s|])(?:s-action|sc-filter-result|cs-host|c-url|cs-uri)=")


def sniff(lines: Sequence[str]) -> float:
    """Share of lines that have ProxySG's key=value shape: `c-ip=` (or QRadar's `Bluecoat|...src=`) and an ELFF
    proxy key (`s-action=`, `sc-filter-result=`, `cs-host=`, `cs-uri=`, `c-url=`). FortiGate, SonicWall, CEF
    and LEEF name their keys otherwise (`srcip=`, `src=` without the Bluecoat mark)."""
    if not lines:
        return 0.0
    matching = sum(1 for line in lines
                   if (_SPLUNK.search(line) or _QRADAR.search(line)) and _PROXY_KEY.search(line))
    return matching / len(lines)


ACCESS = Format(
    name="proxysg_kv",
    source_kind="proxy",
    summary="Symantec/Blue Coat ProxySG access log as key=value pairs named by ELFF fields: Splunk's "
            "bluecoat:proxysg:access:kv (SPLV5.1 ...) and QRadar's Bluecoat|src=...|... custom format",
    sniff=sniff,
    new_parser=new_parser,
    independent_batches=True,
    fields=W3C.fields,
)
