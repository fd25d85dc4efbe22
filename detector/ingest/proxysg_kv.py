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

The pairs are found by one compiled pass over each line's bytes (`proxysg_kv_scan`: a pair's key is the text before
its first `=`; keys compared in lower case, `_` read as `-`, so `rs_Content_Type` is `rs(content-type)`), which
cuts out the values of the wanted fields (unquoted) and dictionary-encodes those `w3c` reads (but the byte counts);
each field's distinct values are trimmed, null when `-` or empty, and handed by ELFF name to
`w3c.columns_of_fields`: one reading of ProxySG's fields for the `w3c`, `proxysg` and this format (denials by
x-exception-id as `proxysg` reads them). Lines without date= and time= take them from devicetime or the syslog
header, each distinct time read once per batch and each distinct header once per file (`_HeaderTimes`). A line
with no `c-ip`/`src` and no host or URL key is a counted reject (not such a line); a line without a readable time
likewise.

CPU of the whole ingest of 1M benchmark lines (`shadow-ai ingest --format proxysg_kv` of benchmarks/ingest.py's
files, --format-lines 1000000 --per-sample; user+sys of the process, the code before and after alternately, 7 runs
each over the last commits, 2-core machine at load ~7): QRadar 4.3-5.0 s before the scan found its bytes eight at
a time and encoded the values itself, 4.0-4.6 s now; Splunk kv 5.3-5.7 s, 4.3-4.6 s; peak RSS unchanged (~760-800
MiB). Generic DuckDB takes 1.2-1.4 s and 1.9-2.2 s: the issue's 0.5 is not reached (the benchmark's ratios 0.33
and 0.40 by wall time, 0.30 and 0.45 by CPU, on a busy machine). Parse per 262,144-line slice: ~0.48 s, of which
the scan and the encoding ~0.30 s (finding the pairs ~0.16 s, a third of it finding the bytes), and
`w3c.columns_of_fields` ~0.08 s (per-distinct queries); ~1 s of each process is imports and loading Numba, the
rest the reader and the lake.

Since the scan takes a token's key from the line before's token of the same number when written alike, and reads a
line after a QRadar line for its `|` first (see `proxysg_kv_scan`): QRadar 4.36-4.58 -> 4.13-4.24 s (the same
measure, 3 runs each, load ~9), the parse of its 1M lines in a thread 1.89-2.00 -> 1.64-1.80 s; Splunk kv 4.45-4.62
-> 4.23-4.54 s (noise: its benchmark file alternates three layouts line by line). Left as measured: joining a
batch's chunks into one array costs ~0.06 s per 1M lines on the parse threads (~0.3 s only on the main thread, where
jemalloc hands the pages back), not worth a reused buffer; startup ~1 s of which importing Numba (and LLVM)
~0.6 s.

With the reader's one chunk a batch (~70k QRadar lines, 32 MiB) the syslog headers' query (~17 ms CPU whatever the
number of headers) was paid by every batch: each distinct header is now read once per file (`_HeaderTimes`), and
devicetime and x-exception-id come encoded from the scan: QRadar 3.51-3.73 -> 3.03-3.13 s, Splunk kv 3.67-3.86 ->
3.27-3.33 s (the same measure, 3 runs each, load ~6); the parse thread of 1M QRadar lines 1.78-1.80 -> ~1.43 s.
A 70k-line batch's parse (~93 ms thread CPU, ~15 ms of it the same whatever its lines) is then the scan ~60 ms
(`_value_spans` ~32, `_gathered` ~25: hardly less on 8k lines whose bytes stay in the cache, 0.40 against 0.45 us a
line, so walking a batch in cache-sized parts as azure_firewall does was left), `w3c.columns_of_fields` ~20 ms (of
which ~4.5 ms the per-line text of its date/time reject reason, ~4 ms `first_valid`), the fields' cleaning ~4 ms.
Left as estimated under 2 % of the ingest each: taking a token's `=` at the place the line before's key ends
(saves the `=` search, not the key's compare), cleaning all fields' dictionaries at once.
Measured and left (eighteenth session, 70k-line QRadar batches, thread CPU, 2 runs of 4 batches, load ~9): the scan
`_value_spans` 28-31 ms and `_gathered` 25-28 ms a batch, `w3c.columns_of_fields` 22-35 ms, `_cleaned` ~4.5 ms, the
rest ~10 ms; a 1000-line batch costs ~10 ms (columns_of_fields ~4, `_cleaned` ~1.6). Whole ingest of 1M lines by
thread: parse ~1.6 s, main thread ~1.1 s (imports, Numba), reader ~0.46 s, writer ~0.35 s. No single step left
here is worth 2 % of the ingest; the benchmark's 4M QRadar run at load ~12: CPU 9.45 s against DuckDB's 5.39 s.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, dictionary_array, only_where, space_trimmed
from detector.ingest.base import (
    BatchParser,
    Format,
    ParseContext,
    ParseResult,
    parse_cursor,
    split_outcomes,
)
from detector.ingest.cisco_wsa import WSA_MACROS
from detector.ingest.proxy_columns import line_text
from detector.ingest.proxysg import DENIED_EXCEPTION
from detector.ingest.squid import PROXY_MACROS
from detector.ingest.syslog import SyslogHeaders, define_head_macros, reference_time
from detector.ingest.w3c import W3C, Header, Plan, columns_of_fields, combine
from detector.schema import TIMESTAMP

# The ELFF fields of a kv line (the field list `w3c` reads them under), and the keys (lower case, `_` as `-`)
# each field is read from.
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
_KEY_FIELD = {alias: field for field, aliases in ALIASES.items() for alias in aliases}
_FIELD_OF_KEY = np.array([FIELDS.index(field) for field in _KEY_FIELD.values()])
# `devicetime` (QRadar's $(gmttime)): `[10/Apr/2018:16:22:12 GMT]`, or with the month as a number
DEVICE_TIME_FORMATS = ("%d/%b/%Y:%H:%M:%S", "%d/%m/%Y:%H:%M:%S")
NOT_KV = ("not a ProxySG key=value access-log line: no c-ip= (src=) or no cs-host=/cs-uri=/c-url= pair "
          "(Splunk's SPLV5.1 layout or QRadar's Bluecoat|key=value|... layout)")
NO_TIME = ("no time: no date= and time= pairs, no readable devicetime= ([dd/Mon/yyyy:hh:mm:ss GMT]) "
           "and no syslog header time")
# Lines parsed at a time (see parse): a whole batch at once, as each per-distinct query costs the same whatever the
# number of lines behind it. The reader's batches pass its 131,072 lines by up to a chunk's lines (140k of the
# benchmark's): a limit of 131,072 cut them into a batch and a small rest that paid every query again.
SLICE_LINES = 262_144
# SonicWall's trick: a header read as `<header>- x: -`, once per distinct header; only its time is used
_TAGGED = "- x: -"
# The fields `w3c.columns_of_fields` reads only as numbers of bytes (given to it as plain text)
_COUNTS = ("cs-bytes", "sc-bytes")
# The fields read here (besides those `w3c.columns_of_fields` reads)
_READ_HERE = ("date", "time", "c-ip", "cs-host", "cs-uri", "devicetime", "x-exception-id")


def _device_time(text: pa.Array) -> pa.Array:
    """`[dd/Mon/yyyy:hh:mm:ss GMT]` (or a numeric month) as a UTC timestamp; null where unreadable."""
    bare = pc.utf8_trim(pc.replace_substring_regex(text, r"(?i)\s*(GMT|UTC)?\]?$", ""), "[ ")
    found = pa.nulls(len(text), pa.timestamp("s"))
    for pattern in DEVICE_TIME_FORMATS:
        found = pc.coalesce(found, pc.strptime(bare, pattern, "s", error_is_null=True))
    return found


def _cleaned(encoded: pa.DictionaryArray) -> pa.DictionaryArray:
    """A value as `w3c` reads a field: dictionary-encoded (by the scan), trimmed of spaces, null when `-` or empty
    (the scan has unquoted it already); each distinct value cleaned once."""
    text = space_trimmed(encoded.dictionary)
    return dictionary_array(encoded.indices, only_where(text, pc.and_(pc.not_equal(text, "-"), pc.not_equal(text, ""))))


def _filled(value: pa.DictionaryArray, found: pa.Array, other: pa.DictionaryArray) -> pa.DictionaryArray:
    """`value` where `found`, else `other` (each null where it is): one dictionary after the other, no text copied."""
    shift = pa.scalar(len(value.dictionary), pa.int32())
    indices = pc.if_else(found, value.indices, pc.add(other.indices.cast(pa.int32()), shift))
    return pa.DictionaryArray.from_arrays(indices, pa.concat_arrays([value.dictionary, other.dictionary]))


def _cleaned_text(value: pa.Array) -> pa.Array:
    """As `_cleaned`, not dictionary-encoded: for byte counts, mostly distinct, which `w3c` casts to integers
    as they are (encoding them would cost a hash of every value, and a query over as many distinct ones)."""
    text = space_trimmed(value)
    return only_where(text, pc.and_(pc.not_equal(text, "-"), pc.not_equal(text, "")))


def _denied_by_exception(columns: pa.Table, exception_id: pa.DictionaryArray) -> pa.Table:
    """Blocked also where x-exception-id names a denial (`policy_denied`), as `proxysg` reads it: from the value
    the scan found (each distinct one matched once), not by splitting the ELFF line once more."""
    if exception_id.null_count == len(exception_id):  # (QRadar's layout has no such pair)
        return columns
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


class _HeaderTimes(DistinctQuery):
    """The times of distinct syslog headers (lines without date= and time= nor a readable devicetime=), kept across
    a file's batches as each field's per-distinct answers are: the headers' query costs ~17 ms CPU whatever the
    number of headers (DuckDB binding `syslog_heads`), paid by every batch that had such a line when each batch's
    headers were read afresh (~15 % of the parse of 1M QRadar benchmark lines, a third of them behind a header)."""

    def __init__(self, headers: SyslogHeaders) -> None:
        super().__init__("")
        self.headers = headers

    def run(self, connection: duckdb.DuckDBPyConnection, values: pa.Array) -> pa.Table:
        """The time (column `ts`) of each of the distinct headers `values`, read as SonicWall reads them: as
        `<header>- x: -`."""
        tagged = pc.binary_join_element_wise(values, _TAGGED, "")
        table = pa.table({"line_no": pa.array(np.arange(1, len(tagged) + 1), pa.int64()), "line": tagged})
        times = self.headers.read(connection, table).column("ts").combine_chunks().cast(TIMESTAMP)
        return pa.table({"ts": times})


def new_parser(context: ParseContext) -> BatchParser:
    """Each batch: pairs found, wanted values cut out and read as `w3c` reads ProxySG's fields."""
    for macros in (PROXY_MACROS, WSA_MACROS):
        context.connection.execute(macros)
    define_head_macros(context.connection)
    from detector.ingest.compiled import WantedKeys  # (Numba: loaded only when a ProxySG kv log is read)
    from detector.ingest.proxysg_kv_scan import Scanned

    keys = WantedKeys(list(_KEY_FIELD))
    plan = Plan(Header(fields=FIELDS), "UTC")
    # the fields `w3c.columns_of_fields` reads come dictionary-encoded from the scan, but for the byte counts; so do
    # devicetime and x-exception-id, read here once per distinct value
    encoded = [FIELDS[position] for position in sorted(plan.used) if FIELDS[position] not in _COUNTS] + \
        ["devicetime", "x-exception-id"]
    as_text = [field for field in FIELDS if field not in encoded and (field in _READ_HERE or field in _COUNTS)]
    headers = SyslogHeaders(context.timezone, reference_time(context.path, context.timezone))

    header_times_of = _HeaderTimes(headers)

    def header_times(cursor: duckdb.DuckDBPyConnection, head: pa.Array) -> pa.Array:
        """The time of each syslog header, each distinct header read once per file."""
        distinct = pc.dictionary_encode(head)
        times = header_times_of.results_for(cursor, distinct.dictionary).column("ts").combine_chunks()
        return times.take(distinct.indices)

    def parse(lines: pa.Table) -> ParseResult:
        """The batch in slices when larger than SLICE_LINES: the scan keeps two offsets for each field of a line."""
        if lines.num_rows <= SLICE_LINES:
            return parse_slice(lines)
        return combine([parse_slice(lines.slice(start, SLICE_LINES))
                        for start in range(0, lines.num_rows, SLICE_LINES)], ignored=0)

    def parse_slice(lines: pa.Table) -> ParseResult:
        text = line_text(lines)
        count = len(text)
        scanned = Scanned(text, keys, _FIELD_OF_KEY, FIELDS, as_text, encoded)
        values = {**scanned.columns, **scanned.encoded}
        ours = pc.and_(pc.is_valid(values["c-ip"]), pc.or_(pc.is_valid(values["cs-host"]),
                                                           pc.is_valid(values["cs-uri"])))
        no_time = np.zeros(count, bool)
        with parse_cursor(context.connection) as cursor:
            timed = pc.and_(pc.is_valid(values["date"]), pc.is_valid(values["time"]))
            untimed = np.flatnonzero(~pc.fill_null(timed, False).to_numpy(zero_copy_only=False))
            if len(untimed):
                device = pa.nulls(len(untimed), TIMESTAMP)
                if pc.any(pc.is_valid(values["devicetime"])).as_py():
                    written = values["devicetime"].take(pa.array(untimed))
                    device = _device_time(written.dictionary).cast(TIMESTAMP).take(written.indices)
                missing = np.flatnonzero(pc.is_null(device).to_numpy(zero_copy_only=False))
                if len(missing):
                    device = pc.replace_with_mask(
                        device, pa.array(np.isin(np.arange(len(untimed)), missing)),
                        header_times(cursor, scanned.head(untimed[missing])))
                scatter = np.full(count, -1, np.int64)
                scatter[untimed] = np.arange(len(untimed))
                ts = device.take(pa.array(np.maximum(scatter, 0), mask=scatter < 0))
                no_time = pc.is_null(ts).to_numpy(zero_copy_only=False) & (scatter >= 0)
            fields = {position: _cleaned_text(values[FIELDS[position]]) if FIELDS[position] in _COUNTS
                      else _cleaned(scanned.encoded[FIELDS[position]]) for position in sorted(plan.used)}
            if len(untimed):  # the lines without date= or time= take them from the time found here
                stamps = pc.dictionary_encode(ts)
                for field, pattern in (("date", "%Y-%m-%d"), ("time", "%H:%M:%S")):
                    position = FIELDS.index(field)
                    written = pa.DictionaryArray.from_arrays(stamps.indices, pc.strftime(stamps.dictionary, pattern))
                    fields[position] = _filled(fields[position], pc.is_valid(values[field]), written)
            columns = columns_of_fields(cursor, plan, lines.column("line_no"), pa.repeat(len(FIELDS), count), fields)
        reason = pc.if_else(pc.fill_null(ours, False), pc.if_else(pa.array(no_time), pa.scalar(NO_TIME),
                                                                  columns.column("reject_reason")), pa.scalar(NOT_KV))
        columns = columns.set_column(columns.schema.get_field_index("reject_reason"), "reject_reason", reason)
        return split_outcomes(_denied_by_exception(columns, values["x-exception-id"]), lines)

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
