"""Zscaler Internet Access (ZIA) web logs, as the Nanolog Streaming Service (NSS) sends them.

NSS has no fixed layout: an admin picks a feed output type and may edit its field list. We read the
plain output types Zscaler documents for web logs ("NSS Feed Output Format: Web Logs"):

- `zscaler_json`: the JSON type, `{"sourcetype":"zscalernss-web","event":{"time":...}}` (or flat).
- `zscaler_csv`: the CSV type with Zscaler's default field list (positional: the feed has no header).
- `zscaler_kv`: name=value pairs separated by tabs (Zscaler's advice for SIEMs), such as the Splunk
  CIM style feed, after an optional syslog or time prefix; or by `^^` (the layout RSA NetWitness reads).

The JSON and name=value types name their fields, so both Zscaler's own names (`login`, `cip`, `eurl`,
`reqsize` ...) and the names of the widely used SIEM templates (`user`, `ClientIP`, `url`,
`requestsize` ...; Elastic's: `cltip`, `useragent` ...) are read. The CEF and LEEF output types are parsed by
the generic `cef` / `leef`.

What the fields mean (Zscaler's field reference):
- `time` has no zone: it is in the feed's time zone (NSS default GMT). A `tz` field saying GMT/UTC is
  honoured; otherwise the configured ingest time zone applies. `epochtime` wins when logged. A name=value line
  without either may have its time only in a prefix of NSS's date fields (`Mmm dd HH:MM:SS zscaler-nss: ...`, as
  SIEM templates begin): read then (PREFIX_TIME).
- `eurl` / `url` has no scheme: `host[:port][/path]`; a CONNECT logs `host:port`.
- `reqsize` is the whole request (headers and body): bytes_out; `respsize` the whole response.
- `sip` is 0.0.0.0 when the request was blocked: no destination, so null.
- `ctime` (`clienttranstime`) is the client-side transaction time in milliseconds.
- `None`, `NA`, `N/A` are placeholders for "no value".
- `b64url` / `b64host` are base64 (read where a feed has no plain URL / host); the hex-encoded fields (`elogin`,
  `eua`, `edepartment` ..., often under plain names in SIEM templates) write bytes <= 0x20 or >= 0x7F as %HH:
  login, user agent and department are read back from it.
- Zscaler's own view of the request is kept: `appname` (cloud application) as vendor_app, `urlcat` (else
  `appclass`) as vendor_category, `dept` (the user's department in Zscaler's directory) as
  vendor_department. `ologin`, the obfuscated login, is read as the user, pseudonymised like any login.

How lines are read: name=value and CSV lines are walked once each by a compiled kernel (zscaler_scan.py, Numba):
name=value items are found by name on every line (the last word before an item's first `=`; the first item of a
name counts; the first item may follow a syslog or time prefix), CSV lines split at `","`; the kernel writes where
each wanted value is; a second kernel reads all fields of a line at once while the line is in the cache
(texts_scan.numbered_fields): a text field's values numbered by their texts, each distinct text copied out once
(the field comes dictionary-encoded), plain-digit sizes and times as int64. A field with more than one distinct text
per DISTINCT_SHARE lines of a slice (URLs, mostly) is copied out whole instead (texts_scan.copied_texts) and
encoded by Arrow, whose hash table is cheaper for mostly distinct texts. Each field was one Arrow `take` (going down
the whole 8 MiB chunk again) and `dictionary_encode`. Whole ingest of 1M lines, CPU s, interleaved, load ~10: first
the copy line by line (for every text field), name=value basic 4.9-5.0 -> 4.1-4.3, splunk_cim 4.6-4.7 -> 4.0,
time_prefix 4.4-4.8 -> 3.9-4.2, CSV 4.0-4.4 -> 3.4-3.55; then the numbering, basic 4.1-4.6 -> 3.3-3.7, CSV 3.5-3.8 ->
2.9-3.2; on 300k lines with distinct URLs and many users, addresses and seconds (scratch files) unchanged (2.7-2.9
either way; numbering every field there cost ~+10 % parse CPU, hence the copy of the many-valued ones). Earlier,
measured per 1M lines of the benchmark files (parse CPU, interleaved with the previous numpy readers, load ~7): CSV
1.7 -> 1.35 s, name=value 2.15 -> 2.0 s (then ~-0.1 s: a name equal to the one the line before had at its place needs no
look-up; then 2.57 -> 2.32 s, whole ingest 4.7 -> 4.3 s CPU: such names compared and values' tabs found eight
bytes at a time, see zscaler_scan.py); on mutated lines of many layouts name=value 2x faster (no more SQL by
name). Of a name=value parse, the kernel is now about 0.57 us a line (Numba's start ~0.5 s CPU once per run
besides, ~0.2 s of it importing scipy.linalg for Numba's BLAS check), the `take`s and dictionary encoding of ~20
fields ~0.55-0.9 us a line. A line without a time field has its prefix's time read from its first 32 bytes, each
distinct start once (the time_prefix file: 0.47-0.62 -> 0.14-0.17 s per 1M lines, whole ingest of 1M lines 5.5-5.9 ->
4.4-4.6 s CPU, load 5). Tried and left: the values as Arrow string views over the buffer (no `take`; encoding them
cost more), one copy of all fields in line order (spans_scan.texts: no gain), lines in slices of ~2 MiB (+5 %),
numbering the texts in a kernel hash table as CEF does (cef_scan.distinct_values: +5 % with the transposes and
per-field renumbering around it).
JSON lines of a batch's most common layouts (learned from its first lines) are read on their bytes: each line walked
by a kernel (zscaler_scan.json_layout_spans) piece by piece (the template's constant text, compared eight bytes at a
time) and value by value (to its closing quote, found eight bytes at a time with any backslash or control character
that leaves the line to DuckDB), the values read then numbered as name=value fields are; any other line by DuckDB's
JSON reader. Before the walk, numpy found the pieces by the commas after a quote and checked them, the quotes,
backslashes and control characters in pass after pass over the bytes (layout_bytes.py), and each value was cut out
with the piece before it, checked once per distinct text: parse CPU per 561,256 benchmark lines (old module under
/tmp, interleaved, 3 runs of 2) basic 0.89-0.96 -> 0.55-0.57 s, syslog_header 0.55-0.59 (was 1.02-1.12),
siem_template 0.55-0.61 (0.91-0.98); of it the walk is ~340 ns a line (867 bytes), numbering ~19 values ~360 ns,
`_schema_columns` ~240 ns. Whole ingest of 1M lines (CPU s, trees interleaved, 3 runs each, load 12-17): basic
4.44-4.88 -> 3.68-3.95, syslog_header 4.48-4.79 -> 3.43-3.68, siem_template 4.42-4.53 -> 3.44-3.85. Sizes and times
(NUMBER_FIELDS) with many distinct texts (more than one per DISTINCT_SHARE lines: a real feed's) are then read as
int64 where plain digits by the numbering kernel, as name=value fields are, where they were copied out, hashed by
Arrow and cast per distinct text: parse CPU per 570,126 benchmark basic lines with random sizes (scratch file,
interleaved, 3 runs) 0.75-0.83 -> 0.63-0.65 s, whole ingest of 600,000 such lines 2.52-3.33 -> 2.34-2.55 s; the
benchmark's files (16 sizes repeated, numbered as before) unchanged. Benchmark after both (1M lines per sample,
2026-11-30 07:00 UTC, load ~3), shadow-ai / generic DuckDB: CPU ratio basic 0.52, siem_template 0.92, syslog_header
0.49 (shadow-ai 2.84-2.95 s CPU, of which ~0.8 s is the process's start; DuckDB 1.40-2.63 s), wall ratio 0.47, 0.62,
0.57. Where a JSON ingest's CPU goes now, per 1M benchmark lines: reading the lines (reader.py) ~0.7 s, the parse
~0.9-1.0 s (the walk ~330 ns a line, numbering ~315 ns, `_schema_columns` ~140-200 ns, per-slice Python ~15 ns),
writing Parquet ~0.45 s. Tried and left for the walk: the classic zero-byte test ((x - 0x01..) & ~x & 0x80..)
instead of the exact one (no change, 338 vs 337 ns a line); slices of 128 KiB to 4 MiB (TOKEN_BYTES: 2 MiB and up
cost least, smaller ones pay their Python per slice, 1000 ns a line at 128 KiB against 750); each value first
checked at the length the line before had there (then scanned only where that fails: 326 -> 406 ns a line on the
benchmark's lines). The walk and the numbering are two kernels; one kernel for both was not tried.
Lines behind a header (a syslog daemon's, `event=`) are read so too, the
object from the line's first brace (the benchmark's syslog_header lines all went to DuckDB before: parse CPU per 1M
lines ~6.4 -> ~2.7 s, whole ingest of 1M lines 8.7-10.9 -> 6.3-6.7 s CPU, load 5-7). A batch's layouts (those of
its first lines) are all read in one pass over its bytes, where each layout took a pass of its own over a copy of the
lines left (the siem_template file's three layouts: parse CPU per 1M lines 3.7-5.2 -> 2.0-2.2 s, load 6). JSON sizes
and times (strings, mostly distinct in a real feed) are cast once per distinct text, by Arrow where plain digits, where
each went through SQL (basic lines with random sizes: parse CPU per 1M lines 3.2-3.3 -> 2.5-2.6 s; the benchmark's
files repeat 16 values: unchanged there). Benchmark after these (2M lines per sample, 2026-11-30 01:09 UTC, load 4.5-6,
so noisy), CPU ratio to the generic DuckDB baseline: JSON basic 0.40 (0.36 at 00:25, idle), siem_template 0.59,
syslog_header 0.31 (0.21); name=value 0.34-0.36, CSV 0.46. After the line-by-line reading of name=value and CSV
fields (1M lines per sample, 2026-11-30 04:15 UTC, load ~7): name=value basic 0.50, splunk_cim 0.54, time_prefix 0.49,
CSV 0.59 (shadow-ai 2.8-3.05 s CPU against DuckDB's 1.5-1.6 s); JSON, not changed, basic 0.38, siem_template 0.75,
syslog_header 0.31. Of a JSON ingest's ~4.3 s CPU per 1M lines (idle), parsing
is ~1.7 s: cutting and encoding the ~19 values read ~0.7 s, placing the pieces ~0.7 s; reading and numbering the
lines (reader.py) and writing Parquet cost much of the rest. The values a layout reads (each with the piece before
it) are now numbered line by line as name=value and CSV fields are (`_values_between`: texts_scan.DistinctTexts, the
many-valued ones copied out), where each was cut out by a `take` and hashed by `dictionary_encode`: `_json_table` CPU
per 131,072-line batch (old code under /tmp, interleaved, 4 runs each) basic 0.53-0.77 -> 0.46-0.66 s, siem_template
0.20-0.23 -> 0.16-0.17, syslog_header 0.25-0.31 -> 0.19-0.21; less Numba's start (~0.4 s CPU once per run, which the
JSON path did not pay before), whole ingest of 1M lines (CPU s, 2 runs each, load ~7): syslog_header 6.2/6.0 ->
5.5/5.3, basic 9.1/8.5 -> 8.7/8.1, siem_template 5.9/5.2 -> 5.6/5.4. Benchmark after it (1M lines per sample, 2026-11-30
04:33 UTC, load ~5), CPU ratio to the generic DuckDB baseline: basic 0.43, siem_template 0.78, syslog_header 0.38
(shadow-ai ~4.0 s CPU each; DuckDB 1.7, 3.1, 1.5 s).
A compiled validating walk of each JSON line byte by byte (keys looked up, strings
checked for escapes, doubtful lines to DuckDB) read the benchmark's lines identically but cost ~5 % more parse
CPU (the kernel alone ~1.4 us a line: scalar code reads ~0.7 ns a byte here, numpy's vector passes less), so it
was left out then; the layout's walk above reads eight bytes at a time and looks no key up. Every text field is
dictionary-encoded once for the batch and read once per distinct value
(`_schema_columns`); sizes and times, mostly distinct, are cast as they are: in name=value (now also CSV) lines a
chunk's number fields that are all plain digits are read as int64 from their spans by a kernel (now
texts_scan.numbered_fields), not cut out as text first (~-0.05 s parse CPU per 1M lines, within the noise of a
busy machine).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, authority_and_path, only_where
from detector.ingest.base import (
    BatchParser,
    Format,
    ParseContext,
    line_share,
)
from detector.ingest.distinct_sql import (
    BIGINT_SQL,
    HOSTPORT_SQL,
    encoded,
    even_parts,
    in_time_zone,
    integers,
    plain,
    sliced_parser,
    split_scheme,
    through,
    without,
)
from detector.ingest.key_values import spans_of
from detector.ingest.layout_bytes import line_bytes, texts_between
from detector.ingest.proxy_columns import placed
from detector.ingest.syslog import RSYSLOG_TAB, reference_time
from detector.schema import TIMESTAMP

# Canonical field -> the names feeds use for it (Zscaler's own first, then SIEM template names).
# `ologin` is Zscaler's obfuscated login: a stable per-user token, as good as a name for counting.
ALIASES: dict[str, tuple[str, ...]] = {
    "time_text": ("time", "datetime"),
    "epoch": ("epochtime",),
    "tz_name": ("tz", "timezone"),
    "login": ("login", "elogin", "user", "ologin"),
    "location": ("location", "elocation"),
    "cip": ("cip", "ClientIP", "cltip"),
    "sip": ("sip", "serverip"),
    "url": ("eurl", "url"),
    "host_header": ("ehost", "host", "hostname"),
    "method": ("reqmethod", "requestmethod"),
    "status": ("respcode", "status"),
    "reqsize": ("reqsize", "requestsize"),
    "respsize": ("respsize", "responsesize"),
    "action": ("action",),
    "ua": ("ua", "eua", "useragent"),
    "proto": ("proto", "protocol"),
    "contenttype": ("contenttype",),
    "ctime": ("ctime", "clienttranstime"),
    "appname": ("appname",),
    "urlcat": ("urlcat", "urlcategory"),
    "appclass": ("appclass",),
    "dept": ("dept", "department"),
    # Zscaler's base64 fields (b64url, b64host), read where a feed has no plain URL or host field
    "url_b64": ("b64url",),
    "host_b64": ("b64host",),
}
# Fields used as text, where a placeholder must become null (numbers go through try_cast anyway).
TEXT_FIELDS = {"login", "cip", "sip", "url", "host_header", "method", "ua", "proto", "appname", "urlcat", "appclass",
               "dept"}
PLACEHOLDERS = ("", "-", "None", "NA", "N/A")
# Fields read as numbers: sizes and times, mostly distinct (a dictionary of them would be as long as the column).
NUMBER_FIELDS = ("reqsize", "respsize", "ctime")

# The CSV output type's default field list (the order of Zscaler's sample web log); a trailing
# `keyprotectiontype` column was added later, so 33 or more columns are accepted.
CSV_COLUMNS = (
    "time", "login", "proto", "eurl", "action", "appname", "appclass", "reqsize", "respsize", "stime",
    "ctime", "urlclass", "urlsupercat", "urlcat", "malwarecat", "threatname", "riskscore", "dlpeng",
    "dlpdict", "location", "dept", "cip", "sip", "reqmethod", "respcode", "ua", "ereferer", "ruletype",
    "rulelabel", "contenttype", "unscannabletype", "deviceowner", "devicehostname",
)


_SEP = ",\n        "


def _canonical_columns(raw: dict[str, str]) -> str:
    """SQL select items `<expr> as <canonical>` for every canonical field (null where a feed lacks it)."""
    return _SEP.join(f"{raw.get(name, 'null::varchar')} as {name}" for name in ALIASES)


def _first(values: list[str]) -> str:
    return values[0] if len(values) == 1 else f"coalesce({', '.join(values)})"


# From the canonical fields (line_no, parse_error and the ALIASES keys, as text) to the schema, in Arrow:
# each field is dictionary-encoded once and only its distinct values go through SQL (the shared host and
# time macros), with answers remembered across a file's batches (see distinct_sql.py).
TIME_FORMATS = "['%a %b %d %H:%M:%S %Y', '%b %d %H:%M:%S %Y', '%Y-%m-%d %H:%M:%S', '%y-%m-%d %H:%M:%S']"
# `time` has no zone: UTC when the line's `tz` says GMT/UTC, else the configured zone (both computed)
# (an RFC 3339 time with its offset, as rsyslog's file format writes its prefix, is that instant in either case)
TIME_SQL = rf"""
select coalesce(instant, timezone('UTC', t)) as utc_time, coalesce(instant, timezone(@TZ@, t)) as local_time
from (select try_strptime(value, {TIME_FORMATS}) as t,
             case when regexp_full_match(value, '\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)')
                  then try_cast(value as timestamptz) end as instant
      from distinct_values)
"""
EPOCH_SQL = "select to_timestamp(try_cast(value as bigint)) as value from distinct_values"
UTC_NAME_SQL = "select upper(value) in ('GMT', 'UTC') as value from distinct_values"
HOST_HEADER_SQL = "select clean_host(value) as value from distinct_values"
METHOD_SQL = "select upper(value) as value, upper(value) = 'CONNECT' as is_connect from distinct_values"
PROTOCOL_SQL = """
select case lower(value) when 'http_proxy' then 'http' when 'ssl' then 'tls' else lower(value) end as value
from distinct_values
"""
STATUS_SQL = "select nullif(try_cast(value as integer), 0) as value from distinct_values"
ACTION_SQL = """
select case lower(value) when 'allowed' then 'allowed' when 'blocked' then 'blocked' else 'unknown' end as value
from distinct_values
"""
CONTENT_TYPE_SQL = "select case when contains(value, '/') then lower(value) end as value from distinct_values"
# Zscaler's b64 fields (b64url, b64host ...): base64 of the text; null where it is not (or not UTF-8 text)
BASE64_SQL = "select try(decode(from_base64(value))) as value from distinct_values"
# Zscaler's hex-encoded fields (eua, elogin, edepartment ...) write bytes <= 0x20 or >= 0x7F, and the feed's escape
# characters, as %HH; SIEM templates put them under plain names (Elastic's: "login":"%s{elogin}",
# "useragent":"%s{eua}"), so a %HH in such a field is read back (a plain login, user agent or department holds none;
# a text that does not decode to UTF-8 is kept as it is)
HEX_DECODED_SQL = "select coalesce(try(url_decode(value)), value) as value from distinct_values"
HOST_SOURCES = pa.array(["connect", "url", "http_host", "none"])


class _FinalQueries:
    """The per-distinct queries of one file's parse (each remembers its answers across the batches)."""

    def __init__(self, timezone: str) -> None:
        self.time = DistinctQuery(in_time_zone(TIME_SQL, timezone))
        self.epoch = DistinctQuery(EPOCH_SQL)
        self.utc_name = DistinctQuery(UTC_NAME_SQL)
        self.hostport = DistinctQuery(HOSTPORT_SQL)
        self.host_header = DistinctQuery(HOST_HEADER_SQL)
        self.method = DistinctQuery(METHOD_SQL)
        self.protocol = DistinctQuery(PROTOCOL_SQL)
        self.status = DistinctQuery(STATUS_SQL)
        self.action = DistinctQuery(ACTION_SQL)
        self.content_type = DistinctQuery(CONTENT_TYPE_SQL)
        self.bigint = DistinctQuery(BIGINT_SQL)
        self.base64 = DistinctQuery(BASE64_SQL)
        self.hex_decoded = DistinctQuery(HEX_DECODED_SQL)


def _schema_columns(
    connection: duckdb.DuckDBPyConnection, queries: _FinalQueries, line_no: pa.Array,
    fields: dict[str, pa.Array], parse_error: pa.Array | None,
) -> pa.Table:
    """Canonical fields (text, null where a feed lacks one) -> schema columns plus reject_reason / is_ignored."""
    count = len(line_no)

    def field(name: str) -> pa.Array:
        values = fields.get(name)
        return pa.nulls(count, pa.string()) if values is None else values

    def number(name: str) -> pa.Array:  # (name=value lines' plain digits come read already)
        values = field(name)
        if values.type == pa.int64():
            return values
        if pa.types.is_dictionary(values.type):  # (JSON's: each distinct text cast, by Arrow where plain digits)
            return integers(connection, queries.bigint, values.dictionary, pa.int64()).take(values.indices)
        return integers(connection, queries.bigint, values, pa.int64())

    def text(name: str) -> pa.DictionaryArray:  # Zscaler's placeholders ("None", "NA" ...) are no value
        values = encoded(field(name))
        return without(values, PLACEHOLDERS) if name in TEXT_FIELDS else values

    def else_base64(values: pa.DictionaryArray, name: str) -> pa.DictionaryArray:  # (a b64 field where no plain one)
        return _else_decoded(connection, queries.base64, values, field(name))

    def hex_decoded(values: pa.DictionaryArray) -> pa.DictionaryArray:  # (%HH read back, once per distinct text)
        if not pc.any(pc.match_substring(values.dictionary, "%")).as_py():
            return values
        return through(connection, queries.hex_decoded, values)["value"]

    time_text, epoch = field("time_text"), field("epoch")
    event_time = _event_time(connection, queries, time_text, epoch, field("tz_name"))
    url = else_base64(without(encoded(field("url")), PLACEHOLDERS), "url_b64")
    place = _url_places(connection, queries, url.dictionary)
    has_hostport = pc.fill_null(place["has_hostport"].take(url.indices), False)
    host_header = else_base64(text("host_header"), "host_b64")
    method = through(connection, queries.method, text("method"))
    is_connect = pc.fill_null(method["is_connect"], False)
    login, location = hex_decoded(text("login")), field("location")
    if location.null_count < count:  # traffic Zscaler could not tie to a user is logged under its location
        location = hex_decoded(encoded(location))  # (elocation beside elogin: compared as read back)
        keep = pc.invert(pc.fill_null(pc.equal(plain(login), plain(location)), False))
        login = only_where(login, keep)
    has_header = pc.is_valid(host_header).to_numpy(zero_copy_only=False)
    source = np.where(has_hostport.to_numpy(zero_copy_only=False),
                      np.where(is_connect.to_numpy(zero_copy_only=False), 0, 1), np.where(has_header, 2, 3))
    url_category, app_class = text("urlcat"), text("appclass")
    columns = {
        "line_no": line_no,
        "reject_reason": _reject_reasons(parse_error, event_time, time_text, epoch,
                                         pc.and_(pc.is_null(url.indices), pc.is_null(host_header))),
        "is_ignored": pa.repeat(pa.scalar(False), count),
        "ts": event_time,
        "src_ip": text("cip"),
        "user_name": login,
        "host": _coalesce(_rows_of(place["host"], url.indices),
                          through(connection, queries.host_header, host_header)["value"]),
        "host_source": pa.DictionaryArray.from_arrays(pa.array(source.astype(np.int32)), HOST_SOURCES),
        "dst_ip": without(text("sip"), ["0.0.0.0"]),
        "dst_port": place["dst_port"].take(url.indices),
        "network_protocol": through(connection, queries.protocol, text("proto"))["value"],
        "http_method": method["value"],
        "url_path": pa.DictionaryArray.from_arrays(only_where(url.indices, pc.invert(is_connect)), place["path"]),
        "http_status": through(connection, queries.status, encoded(field("status")))["value"],
        "action": through(connection, queries.action, encoded(field("action")))["value"],
        "bytes_out": number("reqsize"),
        "bytes_in": number("respsize"),
        "duration_ms": number("ctime"),
        "user_agent": hex_decoded(text("ua")),
        "content_type": through(connection, queries.content_type, encoded(field("contenttype")))["value"],
        "vendor_app": text("appname"),
        # the URL category is set on every transaction; the app class only names something once Zscaler
        # recognised a cloud application (else "General Browsing")
        "vendor_category": _coalesce(url_category, app_class),
        "vendor_department": hex_decoded(text("dept")),
    }
    return pa.table(columns)


def _else_decoded(connection: duckdb.DuckDBPyConnection, query: DistinctQuery, values: pa.DictionaryArray,
                  encoded_values: pa.Array) -> pa.DictionaryArray:
    """`values`, else (where null) the text of `encoded_values` as `query` decodes it (once per distinct value)."""
    if values.null_count == 0 or encoded_values.null_count == len(encoded_values):
        return values
    decoded = through(connection, query, without(encoded(encoded_values), PLACEHOLDERS))["value"]
    return encoded(pc.coalesce(plain(values), plain(decoded)))


def _url_places(connection: duckdb.DuckDBPyConnection, queries: _FinalQueries, urls: pa.Array) -> dict[str, pa.Array]:
    """Host, port and path of each distinct URL (`eurl` has no scheme: host[:port][/path]; a `url` field may
    have one): computed once per distinct URL, read by the rows through their dictionary indices."""
    authority, path = authority_and_path(split_scheme(urls)[1])
    place = through(connection, queries.hostport, encoded(authority))
    return {**place, "path": path}


def _rows_of(values: pa.DictionaryArray, indices: pa.Array) -> pa.DictionaryArray:
    """A column given per distinct value (a dictionary array over a field's dictionary) spread to the rows."""
    return pa.DictionaryArray.from_arrays(values.indices.take(indices), values.dictionary)


def _event_time(connection: duckdb.DuckDBPyConnection, queries: _FinalQueries, time_text: pa.Array,
                epoch: pa.Array, tz_name: pa.Array) -> pa.Array:
    """`epochtime` when logged, else `time` in UTC when `tz` says GMT/UTC, else in the configured zone."""
    times = through(connection, queries.time, encoded(time_text))
    in_utc = pc.fill_null(through(connection, queries.utc_name, encoded(tz_name))["value"], False)
    ts = pc.if_else(in_utc, times["utc_time"], times["local_time"])
    if epoch.null_count < len(epoch):
        ts = pc.coalesce(through(connection, queries.epoch, encoded(epoch))["value"], ts)
    return pc.cast(ts, TIMESTAMP)


def _coalesce(first: pa.DictionaryArray, second: pa.DictionaryArray) -> pa.Array:
    """The first value, else the second (kept dictionary-encoded when the first is never null)."""
    if first.null_count == 0 or second.null_count == len(second):
        return first
    return pc.coalesce(plain(first), plain(second))


def _reject_reasons(parse_error: pa.Array | None, event_time: pa.Array, time_text: pa.Array, epoch: pa.Array,
                    no_place: pa.Array) -> pa.Array:
    """Why a line is rejected (null when it parsed): the layout's own error first, then time, then place."""
    count = len(event_time)
    reason = pa.nulls(count, pa.string()) if parse_error is None else parse_error
    bad_time = pc.is_null(event_time)
    if pc.any(bad_time).as_py():
        no_time = pc.and_(pc.is_null(time_text), pc.is_null(epoch))
        written = pc.binary_join_element_wise("time is not a Zscaler NSS time: ",
                                              pc.coalesce(plain(time_text), plain(epoch)), "")
        time_reason = pc.if_else(no_time, "no time field (time, datetime or epochtime)", written)
        reason = pc.coalesce(reason, only_where(time_reason, bad_time))
    if pc.any(no_place).as_py():
        reason = pc.coalesce(reason, only_where(
            pa.repeat(pa.scalar("no URL or host field (eurl, url, ehost, host)"), count), no_place))
    return reason


# What may stand before a JSON line's object, as a syslog daemon or a SIEM's documented NSS format writes it
# (`Mmm dd HH:MM:SS zscaler-nss NSS {...`, `<134>1 ... zscaler-nss NSS - - - event={...`): an RFC 5424 header whose
# structured data holds quotes, then any text without a quote or brace.
JSON_HEADER = r'(?:<\d{1,3}>1 \S+ \S+ \S+ \S+ \S+ (?:\[(?:[^\]\\]|\\.)*\])+ )?[^"{]*'


def _json_query() -> str:
    """One JSON parse per line into a struct of every alias, under `$.event` (NSS's wrapper) and at the top
    level: json_transform looks each key of the object up once, where one path per alias would scan the
    object's keys again for every alias."""
    aliases = list(dict.fromkeys(alias for names in ALIASES.values() for alias in names))
    fields = ", ".join(f'"{alias}": "VARCHAR"' for alias in aliases)
    shape = f'{{"event": {{{fields}}}, {fields}}}'
    raw = {name: _first([f"coalesce(j.event.{alias}, j.{alias})" for alias in names])
           for name, names in ALIASES.items()}
    return f"""
with transformed as (
    -- One parse per line, no validity check first: try() makes a line that is not JSON null (a batch
    -- without such lines pays nothing for it; json_valid cost a third of the transform).
    select line_no, line, try(json_transform(line, '{shape}')) as j from (
        -- A header before the object (JSON_HEADER: NSS feeds sent through syslog) is taken off. Only lines not
        -- read on their bytes come here.
        select line_no,
            case when starts_with(line, '{{') then line
                 else substr(line, length(regexp_extract(line, '^({JSON_HEADER})\\{{', 1)) + 1) end as line
        from lines)
),
extracted as (
    -- valid JSON that is not an object (an array, a string) transforms too, to a struct of nulls
    select line_no, j,
        -- CASE, not AND/OR: only CASE spares the other branches the rows it does not select.
        case when j is null then false
             when starts_with(line, '{{') then true
             else try(json_type(line)) = 'OBJECT' end as is_object
    from transformed
),
fields as (
    select line_no,
        case when not is_object then 'not a JSON object' end as parse_error,
        {_canonical_columns(raw)}
    from extracted
)
select * from fields"""


def _chunks(lines: pa.Table) -> list[pa.Array]:
    """The batch's line column as the reader's own chunks (each on a buffer of its own: a kernel reads it in
    place), at least one. (Measured: slices of about 2 MiB, for the values to be cut out while in the L2 cache,
    cost 5-7 % more parse CPU than the reader's 8 MiB chunks: each slice has a fixed cost of its own.)"""
    return lines.column("line").chunks or [pa.array([], pa.string())]


def _spans(count: int, slots: int) -> tuple[np.ndarray, np.ndarray]:
    """`starts`, `ends` for a kernel to fill: lines x slots, starts -1 (no value; ends are read only where a
    start is set). 32-bit: a chunk of lines is at most a read of the file (MiBs)."""
    return np.full((count, slots), -1, np.int32), np.empty((count, slots), np.int32)


def _choices(fields: dict[str, list[int]]) -> np.ndarray:
    """Each field's slots in order of preference (its aliases), one row per field, padded with -1."""
    widest = max(len(slots) for slots in fields.values())
    return np.array([slots + [-1] * (widest - len(slots)) for slots in fields.values()], np.int64)


# A text field is numbered by its texts in a slice's first chunk, and in the next ones while it has at most one
# distinct text per DISTINCT_SHARE lines so far; past that it is copied out (texts_scan.copied_texts) and
# dictionary-encoded by Arrow (whose hash table costs less than the kernel's for mostly distinct texts).
DISTINCT_SHARE = 4


def _field_parts(chunk: pa.Array, starts: np.ndarray, ends: np.ndarray, choices: np.ndarray, names: list[str],
                 distinct: object, read_lines: int) -> dict[str, pa.Array | np.ndarray]:
    """Each field of a chunk's lines (the lines of `starts`' rows; fields `names`, see `_choices`), found by
    zscaler_scan.field_spans and read line by line, all fields of a line at once while it is in the cache
    (`read_lines`: the lines of the slice read before this chunk). A text field comes as the numbers of its texts
    (`distinct`, a texts_scan.DistinctTexts shared by the chunks of a slice: each distinct text copied out of the
    buffer once; -1 where missing), or, where it has many distinct texts (DISTINCT_SHARE), as the texts copied out
    (texts_scan.copied_texts). A number field (NUMBER_FIELDS) whose values in the chunk are all plain digits (or
    missing) comes as int64, else cut out as text (one `take`)."""
    from detector.ingest import texts_scan, zscaler_scan

    count = starts.shape[0]
    begin = np.empty((count, len(choices)), np.int32)
    end = np.empty((count, len(choices)), np.int32)
    missing = np.empty((count, len(choices)), bool)
    sizes = np.empty(len(choices), np.int64)
    zscaler_scan.field_spans(starts, ends, choices, begin, end, missing, sizes)
    _, data, _ = line_bytes(chunk)
    texts = [field for field, name in enumerate(names) if name not in NUMBER_FIELDS]
    numbers = [field for field, name in enumerate(names) if name in NUMBER_FIELDS]
    copied = distinct.many_texts(len(texts), read_lines, DISTINCT_SHARE)  # type: ignore[attr-defined]
    numbered = np.array([-1 if many else field for field, many in zip(texts, copied, strict=True)], np.int64)
    codes, values, plain = distinct.read(  # type: ignore[attr-defined]
        data, begin, end, missing, numbered, np.array(numbers, np.int64))
    parts: dict[str, pa.Array | np.ndarray] = {names[field]: codes[k] for k, field in enumerate(texts)
                                              if not copied[k]}
    if copied.any():
        wanted = np.array([field for field, many in zip(texts, copied, strict=True) if many], np.int64)
        base = np.concatenate([[0], np.cumsum(sizes[wanted] + 8)]).astype(np.int64)  # (8 bytes to spare each)
        offsets = np.empty((len(wanted), count + 1), np.int32)
        out = np.empty(int(base[-1]), np.uint8)
        texts_scan.copied_texts(data, begin, end, missing, wanted, base, offsets, out)
        for k, field in enumerate(wanted):
            present = ~missing[:, field]
            bitmap = None if present.all() else pa.py_buffer(np.packbits(present, bitorder="little"))
            parts[names[field]] = pa.Array.from_buffers(pa.string(), count, [
                bitmap, pa.py_buffer(offsets[k]), pa.py_buffer(out[base[k]:base[k] + sizes[field]])])
    for k, field in enumerate(numbers):
        if missing[:, field].all():  # (a field the feed lacks: no cut out of nothing)
            parts[names[field]] = pa.nulls(count, pa.string())
        elif plain[k]:
            parts[names[field]] = pa.array(values[k], pa.int64(), mask=missing[:, field])
        else:
            parts[names[field]] = spans_of(chunk, begin[:, field], end[:, field], missing[:, field])
    return parts


def _fields_of(names: list[str], parts: dict[str, list[pa.Array | np.ndarray]], distinct: object
               ) -> dict[str, pa.Array]:
    """Each field's parts (per chunk, from `_field_parts`) put together: text as a dictionary array over its distinct
    texts (in order of first appearance, as `dictionary_encode` gives them); numbers plain (mostly distinct: cast
    without a lookup; int64 where every part was read as such, else text)."""
    texts = [name for name in names if name not in NUMBER_FIELDS]
    dictionaries = distinct.dictionaries(len(texts))  # type: ignore[attr-defined]
    fields = {}
    for name, dictionary in zip(texts, dictionaries, strict=True):
        numbered = [part for part in parts[name] if isinstance(part, np.ndarray)]
        indices = np.concatenate(numbered) if numbered else np.empty(0, np.int32)
        missing = indices < 0
        encoded = pa.DictionaryArray.from_arrays(
            pa.array(indices, pa.int32(), mask=missing if missing.any() else None), dictionary)
        if len(numbered) == len(parts[name]):
            fields[name] = encoded
        else:  # (numbered in the first chunks, copied out in the others: the numbered ones decoded, all encoded)
            fields[name] = _encoded_together([plain(encoded), *parts[name][len(numbered):]])
    for name in names:
        if name in NUMBER_FIELDS:
            numbers = parts[name]
            if any(part.type != pa.int64() for part in numbers):  # (numbers read written as digits: cast alike)
                numbers = [pc.cast(part, pa.string()) for part in numbers]
            fields[name] = pa.concat_arrays(numbers) if numbers else pa.nulls(0, pa.string())
    return {name: fields[name] for name in names}


def _csv_fields(lines: pa.Table) -> tuple[dict[str, pa.Array], pa.Array | None]:
    """The CSV type's fields by position: every field is quoted, so the line splits at `","`
    (zscaler_scan.csv_items: one pass over each chunk's bytes, the fields cut out of the buffer)."""
    from detector.ingest import texts_scan, zscaler_scan

    place = {name: i for i, name in enumerate(CSV_COLUMNS)}
    read = {name: place[aliases[0]] for name, aliases in ALIASES.items() if aliases[0] in place}
    slot_of_column = np.full(len(CSV_COLUMNS), -1, np.int64)
    slot_of_column[list(read.values())] = np.arange(len(read))
    choices = _choices({name: [slot] for slot, name in enumerate(read)})
    counts, quoted = [], []
    names = list(read)
    distinct, read_lines = texts_scan.DistinctTexts(), 0
    parts: dict[str, list[pa.Array | np.ndarray]] = {name: [] for name in read}
    for chunk in _chunks(lines):
        _, data, offsets = line_bytes(chunk)
        starts, ends = _spans(len(chunk), len(read))
        columns = np.empty(len(chunk), np.int64)
        zscaler_scan.csv_items(data, offsets, slot_of_column, starts, ends, columns)
        counts.append(columns)
        lengths = np.diff(offsets)
        quoted.append((lengths > 0) & (data[np.minimum(offsets[:-1], max(len(data) - 1, 0))] == ord('"'))
                      if len(data) else np.zeros(len(chunk), bool))
        for name, part in _field_parts(chunk, starts, ends, choices, names, distinct, read_lines).items():
            parts[name].append(part)
        read_lines += len(chunk)
    fields = _fields_of(names, parts, distinct)
    time_text = fields["time_text"]  # without the line's opening quote (trimmed once per distinct value)
    fields["time_text"] = pa.DictionaryArray.from_arrays(time_text.indices, pc.utf8_ltrim(time_text.dictionary, '"'))
    count, is_quoted = np.concatenate(counts), np.concatenate(quoted)
    short = count < len(CSV_COLUMNS)
    error = None
    if not (is_quoted & ~short).all():
        found = pc.binary_join_element_wise(
            f"expected the {len(CSV_COLUMNS)} columns of the default NSS web CSV feed, found ",
            pc.cast(pa.array(count), pa.string()), "")
        error = pc.if_else(pa.array(~is_quoted), "not a quoted CSV line", only_where(found, pa.array(short)))
    return fields, error


# The names the name=value and JSON kernels look for: every alias, each once.
NAMES = tuple(dict.fromkeys(alias for aliases in ALIASES.values() for alias in aliases))
PAIRS_ERROR = "expected tab-separated name=value pairs (Zscaler NSS feed)"


def _kv_table(lines: pa.Table) -> dict[str, pa.Array]:
    """The canonical fields and parse_error of name=value lines, one row per line, in line order: each item's
    name found as the last word before its first `=`, the first item of each wanted name read
    (zscaler_scan.kv_items: one pass over each chunk's bytes, the values cut out of the buffer)."""
    from detector.ingest import texts_scan, zscaler_scan
    from detector.ingest.compiled import WantedKeys

    keys = WantedKeys(NAMES)
    choices = _choices({name: [NAMES.index(alias) for alias in aliases] for name, aliases in ALIASES.items()})
    pairs = []
    names = list(ALIASES)
    distinct, read_lines = texts_scan.DistinctTexts(), 0
    parts: dict[str, list[pa.Array | np.ndarray]] = {name: [] for name in ALIASES}
    for chunk in _chunks(lines):
        _, data, offsets = line_bytes(chunk)
        starts, ends = _spans(len(chunk), len(NAMES))
        items = np.empty(len(chunk), np.int64)
        words = data[:len(data) // 8 * 8].view(np.uint64)
        zscaler_scan.kv_items(data, words, offsets, keys.text, keys.start, keys.number, keys.first, keys.count, starts,
                              ends, items, np.zeros((256, 4), np.int64))
        pairs.append(items)
        for name, part in _field_parts(chunk, starts, ends, choices, names, distinct, read_lines).items():
            parts[name].append(part)
        read_lines += len(chunk)
    few = np.concatenate(pairs) < 3
    error = only_where(pa.repeat(pa.scalar(PAIRS_ERROR), len(few)), pa.array(few)) if few.any() \
        else pa.nulls(len(few), pa.string())
    table = {"parse_error": error, **_fields_of(names, parts, distinct)}
    return _with_other_separators(lines, few, table) if few.any() else table


# A custom NSS feed may use another delimiter than the tab (Zscaler: "If you must use commas or other characters as
# delimiters, enter those characters in the Feed Escape Character field"). The layout RSA NetWitness's Zscaler NSS
# parser reads (ported to Elastic's beats `zscaler` module, whose tests hold such lines) separates the items with `^^`:
# `... ZSCALERNSS: time=%s{time}^^timezone=%s{tz}^^action=%s{action}^^...`, with the names of the SIEM templates.
CARET_SEPARATOR = "^^"


def _with_other_separators(lines: pa.Table, few: np.ndarray, table: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """The lines with too few tab-separated items that hold `^^` or `#011`, read again with that as the separator
    (lines off the tab-separated layouts only: they are rare, the other lines pay nothing)."""
    rows = np.flatnonzero(few)
    text = lines.column("line").take(pa.array(rows))
    separated = pc.match_substring_regex(text, f"{re.escape(CARET_SEPARATOR)}|{RSYSLOG_TAB}")
    again_rows = pc.fill_null(separated, False).to_numpy(zero_copy_only=False)
    if not again_rows.any():
        return table
    rows, text = rows[again_rows], text.filter(pa.array(again_rows))
    text = pc.replace_substring(pc.replace_substring(text, CARET_SEPARATOR, "\t"), RSYSLOG_TAB, "\t")
    again = _kv_table(pa.table({"line": text}))
    count = len(few)
    keep = np.ones(count, bool)
    keep[rows] = False
    kept = np.flatnonzero(keep)

    def merged(name: str) -> pa.Array:
        first, second = table[name], again[name]
        if first.type != second.type:  # (numbers read as int64 in one part, as text in the other)
            first, second = pc.cast(plain(first), pa.string()), pc.cast(plain(second), pa.string())
        return placed(count, [(kept, first.filter(pa.array(keep))), (rows, second)])

    columns = {name: merged(name) for name in table}
    columns["parse_error"] = plain(columns["parse_error"])
    for name in NUMBER_FIELDS:  # (numbers as the readers give them: plain, not encoded)
        columns[name] = plain(columns[name])
    return columns


# A name=value feed may carry its time only in a prefix made of Zscaler's date fields ("NSS Feed Output Format: Web
# Logs", Date/Time: %s{mon}, %02d{dd}, %02d{hh} ... %04d{yyyy}, %02d{mth}): the syslog-style
# `%s{mon} %02d{dd} %02d{hh}:%02d{mm}:%02d{ss}` SIEM templates begin with (`... zscaler-nss: reason=...`), or
# `%04d{yyyy}-%02d{mth}-%02d{dd} %02d{hh}:%02d{mm}:%02d{ss}`. Read only for lines without a time field (time,
# datetime, epochtime): in the feed's zone as `time` is; a year-less one in the year that puts it no later than the
# file's reference time (syslog.reference_time: its name's date, else its modification time).
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PREFIX_TIME = (rf"^(?:<\d{{1,3}}> ?)?(?P<time>(?:{'|'.join(MONTHS)}) [ 0-3]?\d \d\d:\d\d:\d\d"
               r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
               # (rsyslog's file format: RFC 3339 with microseconds and the offset)
               r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d))(?:[ \t]|$)")
# What PREFIX_TIME reads of a line: at most `<ddd> ` and 35 bytes of time, then the character after them.
PREFIX_BYTES = 48


def _first_bytes(text: pa.Array, size: int) -> pa.Array:
    """Each line's first `size` bytes as text (whole characters: fewer where one would be cut)."""
    buffer, data, offsets = line_bytes(text)
    starts, ends = offsets[:-1], np.minimum(offsets[:-1] + size, offsets[1:])
    if len(data):
        for _ in range(3):  # (back to the start of a character cut at the end: UTF-8 continuation bytes, 10xxxxxx)
            ends -= (ends < offsets[1:]) & ((data[np.minimum(ends, len(data) - 1)] & 0xC0) == 0x80)
    return texts_between(buffer, [starts], [ends])[0]


def _with_prefix_times(lines: pa.Table, fields: dict[str, pa.Array], reference: datetime) -> dict[str, pa.Array]:
    """`fields` with the time of each line's prefix (PREFIX_TIME) as its `time_text` where it has no time field."""
    time_text, epoch = fields["time_text"], fields["epoch"]
    if not time_text.null_count or not epoch.null_count:  # (the common case: every line has its time field)
        return fields
    rows = np.flatnonzero(pc.and_(pc.is_null(time_text), pc.is_null(epoch)).to_numpy(zero_copy_only=False))
    if not len(rows):
        return fields
    # Only the lines' first bytes, each distinct start once (PREFIX_TIME ends within 26 bytes, so a cut at
    # PREFIX_BYTES reads the same; many lines share a second)
    starts = encoded(pa.chunked_array([_first_bytes(chunk, PREFIX_BYTES) for chunk in lines.column("line").chunks],
                                      pa.string()).take(pa.array(rows)))
    found = pc.struct_field(pc.extract_regex(starts.dictionary, PREFIX_TIME), [0])
    if found.null_count == len(found):
        return fields
    month = pc.add(pc.index_in(pc.utf8_slice_codeunits(found, 0, 3), pa.array(MONTHS)), 1)  # (null: with a year)
    year = pc.if_else(pc.fill_null(pc.greater(month, reference.month), False), str(reference.year - 1),
                      str(reference.year))
    prefix_time = pc.if_else(pc.is_valid(month), pc.binary_join_element_wise(found, year, " "), found) \
        .take(starts.indices)
    return {**fields, "time_text": pc.coalesce(plain(time_text), placed(lines.num_rows, [(rows, prefix_time)]))}


def _kv_parser(context: ParseContext) -> BatchParser:
    final = _FinalQueries(context.timezone)
    reference = reference_time(context.path, context.timezone)

    def columns_of(cursor: duckdb.DuckDBPyConnection, part: pa.Table) -> pa.Table:
        fields = _with_prefix_times(part, _kv_table(part), reference)
        error = fields.pop("parse_error")
        return _schema_columns(cursor, final, part.column("line_no"), fields, error)

    return sliced_parser(context, columns_of)


def _encoded_together(parts: list[pa.Array]) -> pa.DictionaryArray:
    """Text arrays dictionary-encoded as one column: one hash table over them all, without a copy of them put
    together first (Arrow gives every chunk of an encoded chunked array the whole dictionary)."""
    chunks = pc.dictionary_encode(pa.chunked_array(parts, pa.string())).chunks
    if not chunks:  # (no lines)
        return pa.DictionaryArray.from_arrays(pa.array([], pa.int32()), pa.array([], pa.string()))
    dictionary = chunks[-1].dictionary
    if not all(_same_array(chunk.dictionary, dictionary) for chunk in chunks):  # (not seen: unified then)
        return pa.chunked_array(chunks).unify_dictionaries().combine_chunks()
    return pa.DictionaryArray.from_arrays(pa.concat_arrays([chunk.indices for chunk in chunks]), dictionary)


def _same_array(one: pa.Array, other: pa.Array) -> bool:
    """Whether two arrays are the same data (the same buffers, offset and length), without comparing values."""
    return len(one) == len(other) and one.offset == other.offset and all(
        (a.address if a is not None else None) == (b.address if b is not None else None)
        for a, b in zip(one.buffers(), other.buffers(), strict=True))


# JSON lines are read on their bytes by the layouts a batch's first lines have (below), each line walked along its
# layout by a kernel (zscaler_scan.json_layout_spans): see the module docstring.
LAYOUT_SAMPLE = 50


# A batch may mix a few layouts (feeds merged into one file): each of the most common is read on its bytes;
# what is left after them, by DuckDB.
LAYOUTS_PER_BATCH = 3


def _read_by_layouts(connection: duckdb.DuckDBPyConnection, lines: pa.Table, layouts: int,
                     by_layouts: Callable[[pa.Table, int], list[tuple[np.ndarray, dict[str, pa.Array]]]], query: str
                     ) -> dict[str, pa.Array]:
    """Up to `layouts` layouts, learned from the first lines not read yet, and the lines that fit them read on their
    bytes (`by_layouts(lines, most)`: per layout found, at most `most`, which lines fit and their fields; none when no
    layout is found); what is left by DuckDB's `query` over them. The canonical fields and parse_error, one row per
    line, in line order."""
    count = lines.num_rows
    parts: list[tuple[np.ndarray, dict[str, pa.Array]]] = []  # (the rows read, their fields)
    rest = np.arange(count)
    left = layouts
    while left > 0 and len(rest):
        read = by_layouts(lines if len(rest) == count else lines.take(pa.array(rest)), left)
        if not read:
            break
        left -= len(read)
        fitting = np.zeros(len(rest), bool)
        for fits, fields in read:
            parts.append((rest[fits], fields))
            fitting |= fits
        rest = rest[~fitting]
    error = pa.nulls(count, pa.string())
    if len(rest):
        connection.register("lines", lines if len(rest) == count else lines.take(pa.array(rest)))
        try:
            read_by_query = connection.sql(query).to_arrow_table()
        finally:
            connection.unregister("lines")
        parts.append((rest, {name: read_by_query.column(name).combine_chunks() for name in ALIASES}))
        error = plain(placed(count, [(rest, read_by_query.column("parse_error").combine_chunks())]))
    columns = {name: _placed_field(connection, name, count,
                                   [(rows, fields[name]) for rows, fields in parts if name in fields])
               for name in ALIASES}
    return {"parse_error": error, **columns}


def _placed_field(connection: duckdb.DuckDBPyConnection, name: str, count: int,
                  parts: list[tuple[np.ndarray, pa.Array]]) -> pa.Array:
    """One field's parts (rows, values) put together (`placed`). A number field read as int64 by a layout stays
    plain int64: its parts in text (lines DuckDB read) cast as `_schema_columns` casts them (BIGINT_SQL)."""
    if name not in NUMBER_FIELDS or not any(values.type == pa.int64() for _, values in parts):
        return placed(count, parts)
    if len(parts) == 1 and len(parts[0][0]) == count:
        return parts[0][1]
    numbers, valid = np.zeros(count, np.int64), np.zeros(count, bool)
    for rows, values in parts:
        if values.type != pa.int64():
            values = integers(connection, DistinctQuery(BIGINT_SQL), plain(values), pa.int64())
        numbers[rows] = pc.fill_null(values, 0).to_numpy(zero_copy_only=False)
        valid[rows] = pc.is_valid(values).to_numpy(zero_copy_only=False)
    return pa.array(numbers, pa.int64(), mask=None if valid.all() else ~valid)


# Text read on its bytes at once (see _json_fields): about a core's L2 cache, so that the lines' bytes and the places
# found in them stay there between the steps (measured: slices of 8,192 lines, 7 MB of JSON lines, cost ~13 % more
# CPU per batch for JSON, the same for name=value and CSV before their kernels).
TOKEN_BYTES = 2 << 20


def _line_slices(lines: pa.Table) -> list[pa.Array]:
    """The lines' text in slices of about TOKEN_BYTES bytes, views of the batch's chunks (never copied): each chunk
    in as many slices of about equal line counts as are nearest to TOKEN_BYTES each (not full ones and a small rest:
    each slice has a cost of its own)."""
    slices = []
    for chunk in lines.column("line").chunks:
        wanted = (pc.sum(pc.binary_length(chunk)).as_py() or 0) / TOKEN_BYTES
        slices += [chunk.slice(start, length) for start, length in even_parts(len(chunk), wanted)]
    return slices or [pa.array([], pa.string())]


# JSON feeds: NSS writes every line from one template (the same keys in the same order, every value a
# string), so the layout most lines of a batch share is learned from its first lines: the constant text
# between the values ("pieces", keys included). A line that is those pieces with values between them that hold
# no quote, backslash or control character is valid JSON with the template's keys and plain values: it is read
# on its bytes, as name=value lines are. Every other line goes through DuckDB's JSON reader (JSON_QUERY).


@dataclass(frozen=True)
class _JsonLayout:
    pieces: tuple[bytes, ...]  # the n + 1 texts around n values (each value's quotes in the pieces)
    paths: tuple[tuple[str, ...], ...]  # each value's key: (key,) at the top level or ("event", key)
    # The lines have a header before the object (JSON_HEADER: a syslog header, `event=`): text without a quote or
    # brace, so the object starts at the line's first brace, as DuckDB's reading takes the header off.
    prefixed: bool = False


def _json_layouts(text: pa.ChunkedArray, known: _KnownLayouts | None = None, most: int = 1) -> list[_JsonLayout]:
    """The layouts of the batch's first lines, the most common first, at most `most` (none: DuckDB reads them all)."""
    layout_of = _json_layout_of if known is None else known.layout_of
    layouts: Counter[_JsonLayout] = Counter()
    for line in text.slice(0, LAYOUT_SAMPLE).to_pylist():
        layout = layout_of(line)
        if layout is not None:
            layouts[layout] += 1
    return [layout for layout, _ in layouts.most_common(most)]


class _KnownLayouts:
    """The JSON layouts a file's lines had so far, each with a pattern its lines match (its pieces, with values
    that hold no quote, backslash or control character between them): a line that matches one has that layout,
    found without cutting the line up and parsing its template again (tens of microseconds a line)."""

    LIMIT = 16  # (a feed has one or a few: past this many, new ones are only learned, not kept)

    def __init__(self) -> None:
        self._known: list[tuple[re.Pattern[str], _JsonLayout]] = []

    def layout_of(self, line: str | None) -> _JsonLayout | None:
        """`_json_layout_of(line)`, looked up among the known layouts first."""
        if line is None:
            return None
        for pattern, layout in tuple(self._known):  # (a copy: another thread may add one meanwhile)
            if pattern.fullmatch(line):
                return layout
        layout = _json_layout_of(line)
        if layout is not None and len(self._known) < self.LIMIT:
            value = r'[^"\\\x00-\x1f]*'  # (no quote, backslash or control character)
            pattern = value.join(re.escape(piece.decode()) for piece in layout.pieces)
            if layout.prefixed:  # (any header: no quote or brace, and no backslash or control character either)
                pattern = r'[^"{\\\x00-\x1f]*' + pattern
            self._known.append((re.compile(pattern, re.DOTALL), layout))
        return layout


_CONTROL = re.compile(r"[\x00-\x1f]")
_QUOTE = re.compile('"')


def _json_layout_of(line: str | None) -> _JsonLayout | None:
    """One line's layout: its string values cut out. None when the line is not a JSON object whose values are
    all strings (or an `event` object of strings), with no escapes or repeated keys, after a header without a
    quote (JSON_HEADER, as a syslog daemon writes it): DuckDB reads such lines."""
    if not line or "\\" in line or _CONTROL.search(line) or not line.endswith("}"):
        return None
    brace = line.find("{")
    if brace < 0 or '"' in line[:brace]:
        return None
    prefixed, line = brace > 0, line[brace:]
    quotes = [found.start() for found in _QUOTE.finditer(line)]
    bounds = [0]
    for opening, closing in zip(quotes[0::2], quotes[1::2], strict=False):
        before, after = opening - 1, closing + 1
        while before > 0 and line[before] == " ":
            before -= 1
        while after < len(line) - 1 and line[after] == " ":
            after += 1
        if line[before] == ":" and line[after] in ",}":  # a value, not a key
            bounds += [opening + 1, closing]
    bounds.append(len(line))
    pieces = [line[bounds[i]:bounds[i + 1]] for i in range(0, len(bounds), 2)]
    if len(pieces) < 3 or any('",' in piece for piece in (pieces[0], pieces[-1])) \
            or any(piece.count('",') != 1 for piece in pieces[1:-1]):
        return None
    template = "".join(piece + (f"{i}" if i < len(pieces) - 1 else "") for i, piece in enumerate(pieces))
    paths: dict[int, tuple[str, ...]] = {}

    def distinct_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
        if len({key for key, _ in pairs}) < len(pairs):  # DuckDB reads the first of repeated keys
            raise ValueError("a key repeated")
        return dict(pairs)

    try:
        top = json.loads(template, object_pairs_hook=distinct_keys)
    except ValueError:
        return None
    if not isinstance(top, dict):
        return None
    for key, value in top.items():
        if key == "event" and not isinstance(value, dict):  # (DuckDB's transform into an object fails)
            return None
        inner = value.items() if key == "event" else [(None, value)]
        for inner_key, inner_value in inner:
            if not isinstance(inner_value, str):
                return None
            paths[int(inner_value)] = (key,) if inner_key is None else (key, inner_key)
    if len(paths) != len(pieces) - 1:
        return None
    return _JsonLayout(tuple(piece.encode() for piece in pieces), tuple(paths[i] for i in range(len(paths))), prefixed)


class _JsonReading:
    """How one layout's lines are read: the value (slot) of each canonical field it has (`read`), the slots read."""

    def __init__(self, layout: _JsonLayout) -> None:
        self.layout = layout
        slot = {path: i for i, path in reversed(list(enumerate(layout.paths)))}
        paths = {name: [path for alias in aliases for path in (("event", alias), (alias,)) if path in slot]
                 for name, aliases in ALIASES.items()}
        self.read = {name: slot[found[0]] for name, found in paths.items() if found}
        self.slots = sorted(set(self.read.values()))
        # the slots of number fields (sizes, times): read as int64 where plain digits, as name=value fields are
        self.numbers = sorted({slot for name, slot in self.read.items() if name in NUMBER_FIELDS}
                              - {slot for name, slot in self.read.items() if name not in NUMBER_FIELDS})


class _LayoutWalk:
    """A batch's layouts as zscaler_scan.json_layout_spans walks them: their pieces one after the other (eight bytes
    to spare after each, for loads of whole words), where each layout's pieces start, and the column of each value
    read (its place among its layout's slots)."""

    def __init__(self, readings: list[_JsonReading]) -> None:
        pieces = [piece for reading in readings for piece in reading.layout.pieces]
        self.pieces = np.frombuffer(b"".join(piece + bytes(8) for piece in pieces) or bytes(8), np.uint8)
        self.piece_length = np.array([len(piece) for piece in pieces], np.int64)
        self.piece_start = (np.cumsum(self.piece_length + 8) - self.piece_length - 8).astype(np.int64)
        self.first_piece = np.cumsum([0] + [len(reading.layout.pieces) for reading in readings]).astype(np.int64)
        self.prefixed = np.array([reading.layout.prefixed for reading in readings], bool)
        self.bracketed = np.array([any(b"[" in piece for piece in reading.layout.pieces) for reading in readings],
                                  bool)
        columns = []
        for reading in readings:
            column = {slot: k for k, slot in enumerate(reading.slots)}
            columns += [column.get(value, -1) for value in range(len(reading.layout.pieces) - 1)]
        self.column_of = np.array(columns, np.int64)
        self.width = max([len(reading.slots) for reading in readings], default=0)


def _json_fields(lines: pa.Table, layouts: list[_JsonLayout]) -> list[tuple[np.ndarray, dict[str, pa.Array]]]:
    """Per layout, which lines have it, and the fields of those lines (only theirs, in order, dictionary-encoded); a
    line has at most one: the first that fits. Read on the bytes, about 2 MiB of lines at a time, all layouts in one
    walk of each line (`_layout_values`)."""
    from detector.ingest import texts_scan

    readings = [_JsonReading(layout) for layout in layouts]
    walk = _LayoutWalk(readings)
    distinct = [texts_scan.DistinctTexts() for _ in readings]
    read_lines = [0] * len(readings)
    slices = [_layout_values(text, walk, readings, distinct, read_lines) for text in _line_slices(lines)]
    read = []
    for k, reading in enumerate(readings):
        fits = np.concatenate([found[k][0] for found in slices])
        items = _numbered_items(reading.slots, [found[k][1] for found in slices], distinct[k], reading.numbers)
        read.append((fits, {name: items[i] for name, i in reading.read.items()}))
    return read


def _layout_values(text: pa.Array, walk: _LayoutWalk, readings: list[_JsonReading], distinct: list[object],
                   read_lines: list[int]) -> list[tuple[np.ndarray, dict[int, pa.Array | np.ndarray]]]:
    """Per layout, which lines have it (zscaler_scan.json_layout_spans: each line walked piece by piece and value by
    value, the pieces compared in place, the values checked for quotes, backslashes and control characters) and the
    values at its slots of those lines (`_values_between`: numbered by `distinct[k]`, or copied out; `read_lines[k]`
    counts the lines of layout k read so far). Where numpy found the lines' commas after a quote to place the
    pieces, compared them and counted quotes, backslashes and control characters, pass after pass over the bytes."""
    from detector.ingest import zscaler_scan

    _, data, offsets = line_bytes(text)
    count = len(text)
    valid = pc.is_valid(text).to_numpy(zero_copy_only=False) if text.null_count else np.ones(count, bool)
    layout_of = np.empty(count, np.int8)
    begin = np.empty((count, walk.width), np.int32)
    end = np.empty((count, walk.width), np.int32)
    zscaler_scan.json_layout_spans(data, offsets, valid, walk.pieces, walk.piece_start, walk.piece_length,
                                     walk.first_piece, walk.prefixed, walk.bracketed, walk.column_of, layout_of,
                                     begin, end)
    found_by_layout = []
    for k, reading in enumerate(readings):
        fits = layout_of == k
        width = len(reading.slots)
        if width == walk.width and fits.all():  # (the usual case: every line of the one layout, nothing gathered)
            spans = begin, end
        else:
            rows = np.flatnonzero(fits)
            spans = np.ascontiguousarray(begin[rows, :width]), np.ascontiguousarray(end[rows, :width])
        found_by_layout.append((fits, _values_between(data, *spans, reading.slots, distinct[k], read_lines[k],
                                                      reading.numbers)))
        read_lines[k] += len(spans[0])
    return found_by_layout


def _values_between(data: np.ndarray, begin: np.ndarray, end: np.ndarray, slots: list[int], distinct: object,
                    read_lines: int, numbers: Sequence[int] = ()) -> dict[int, pa.Array | np.ndarray]:
    """The texts `data[begin[:, k]:end[:, k]]` of each slot `slots[k]`, read line by line while the line is in the
    cache (as name=value and CSV fields, `_field_parts`): numbered by their texts (`distinct`, a
    texts_scan.DistinctTexts shared by a layout's slices: each distinct text copied out once), or, for a slot with
    more than one distinct text per DISTINCT_SHARE of the `read_lines` lines read before (URLs, mostly), copied out
    (texts_scan.copied_texts), to be encoded by Arrow. Where `texts_between` cut every value out and Arrow's
    `dictionary_encode` hashed each copy. A slot of `numbers` (sizes, times) with many distinct texts is read as
    int64 instead where all its values in the slice are plain digits (as name=value fields' are read)."""
    from detector.ingest import texts_scan

    count = len(begin)
    missing = np.zeros((count, len(slots)), bool)
    copied = distinct.many_texts(len(slots), read_lines, DISTINCT_SHARE)  # type: ignore[attr-defined]
    numbered = np.where(copied, -1, np.arange(len(slots))).astype(np.int64)
    number_columns = np.array([k for k in np.flatnonzero(copied) if slots[k] in numbers], np.int64) \
        if copied.any() and numbers else np.empty(0, np.int64)
    codes, read, plain_digits = distinct.read(  # type: ignore[attr-defined]
        data, begin, end, missing, numbered, number_columns)
    values: dict[int, pa.Array | np.ndarray] = {slot: codes[k] for k, slot in enumerate(slots)
                                               if numbered[k] >= 0}
    for j, column in enumerate(number_columns):
        if plain_digits[j]:
            values[slots[column]] = pa.array(read[j], pa.int64())
    wanted = np.array([k for k in range(len(slots)) if numbered[k] < 0 and slots[k] not in values], np.int64)
    if len(wanted):
        sizes = np.maximum(end[:, wanted].astype(np.int64) - begin[:, wanted], 0).sum(axis=0)
        base = np.concatenate([[0], np.cumsum(sizes + 8)]).astype(np.int64)  # (8 bytes to spare each)
        offsets = np.empty((len(wanted), count + 1), np.int32)
        out = np.empty(int(base[-1]), np.uint8)
        texts_scan.copied_texts(data, begin, end, missing, wanted, base, offsets, out)
        for j, field in enumerate(wanted):
            values[slots[field]] = pa.Array.from_buffers(pa.string(), count, [
                None, pa.py_buffer(offsets[j]), pa.py_buffer(out[base[j]:base[j] + sizes[j]])])
    return values


def _numbered_items(slots: list[int], parts: list[dict[int, pa.Array | np.ndarray]], distinct: object,
                    numbers: Sequence[int] = ()) -> dict[int, pa.Array]:
    """Each slot's parts (per slice, from `_values_between`) as one dictionary array over its distinct texts in
    order of first appearance (as `dictionary_encode` of them all gives it): numbered slices first, then copied
    ones. A number slot (`numbers`) read as int64 in the later slices is int64 where the texts of the first are
    plain digits too, else text."""
    dictionaries = distinct.dictionaries(len(slots))  # type: ignore[attr-defined]
    items: dict[int, pa.Array] = {}
    for slot, dictionary in zip(slots, dictionaries, strict=True):
        numbered = [part[slot] for part in parts if isinstance(part[slot], np.ndarray)]
        indices = np.concatenate(numbered) if numbered else np.empty(0, np.int32)
        encoded = pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), dictionary)
        rest = [part[slot] for part in parts[len(numbered):]]
        if not rest:
            items[slot] = encoded
        elif slot in numbers and all(part.type == pa.int64() for part in rest) and _plain_digits(dictionary):
            items[slot] = pa.concat_arrays([pc.cast(dictionary, pa.int64()).take(encoded.indices), *rest])
        else:  # (numbered in the first slices, copied out in the others: the numbered ones decoded, all encoded)
            rest = [pc.cast(part, pa.string()) if part.type == pa.int64() else part for part in rest]
            items[slot] = _encoded_together([plain(encoded), *rest])
    return items


def _plain_digits(texts: pa.Array) -> bool:
    """Whether every text is 1 to 18 plain digits (what texts_scan.numbered_fields reads as int64, and a cast reads
    alike)."""
    lengths = pc.binary_length(texts)
    return bool(pc.all(pc.and_(pc.ascii_is_decimal(texts), pc.and_(pc.greater_equal(lengths, 1),
                                                                     pc.less_equal(lengths, 18)))).as_py() is not False)


def _json_table(connection: duckdb.DuckDBPyConnection, lines: pa.Table, layouts: int,
                known: _KnownLayouts | None = None) -> dict[str, pa.Array]:
    """The canonical fields (dictionary-encoded) and parse_error of JSON lines, one row per line, in line order:
    the lines of each of the batch's most common layouts read on their bytes, the others by DuckDB. `known`: the
    layouts of the file's batches before (learned again without it)."""

    def by_layouts(part: pa.Table, most: int) -> list[tuple[np.ndarray, dict[str, pa.Array]]]:
        found = _json_layouts(part.column("line"), known, most)
        return _json_fields(part, found) if found else []

    return _read_by_layouts(connection, lines, layouts, by_layouts, JSON_QUERY)


def _json_parser(context: ParseContext) -> BatchParser:
    final = _FinalQueries(context.timezone)
    known = _KnownLayouts()

    def columns_of(cursor: duckdb.DuckDBPyConnection, part: pa.Table) -> pa.Table:
        fields = _json_table(cursor, part, LAYOUTS_PER_BATCH, known)
        error = fields.pop("parse_error")
        return _other_log_types(_schema_columns(cursor, final, part.column("line_no"), fields, error), part)

    return sliced_parser(context, columns_of)


# NSS's other log types in the JSON output type name themselves the same way (`"sourcetype":"zscalernss-fw"` ...):
# Zscaler's names of them, for a rejected line's reason.
NSS_LOG_TYPES = {"fw": "firewall", "dns": "DNS", "tunnel": "tunnel", "audit": "admin audit", "edlp": "endpoint DLP",
                 "emaildlp": "email DLP", "saas_security": "SaaS security"}
# Cloud NSS can send its events batched in one JSON array (its feeds' jsonArrayToggle): a file whose first line is such
# a batch is read event by event (json_document); a batch among single events is rejected with this reason.
JSON_ARRAY_ERROR = "a JSON array of events (Cloud NSS's JSON array option): one NSS event per line is read"
_SOURCETYPE = r'"sourcetype"\s*:\s*"zscalernss-(?P<kind>[\w-]+)"'


def _other_log_types(table: pa.Table, lines: pa.Table) -> pa.Table:
    """A rejected line that names another NSS log type (`"sourcetype":"zscalernss-dns"` ...) is rejected as such,
    not for the web fields it lacks; a JSON array as that. Only the rejected lines are searched."""
    reasons = plain(table.column("reject_reason").combine_chunks())
    rejected = pc.is_valid(reasons)
    if not pc.any(rejected).as_py():
        return table
    said = reasons.filter(rejected)
    line = pc.fill_null(lines.column("line").combine_chunks().filter(rejected), "")
    kind = pc.struct_field(pc.extract_regex(line, _SOURCETYPE), [0])  # (null where the line names none)
    other = pc.fill_null(pc.not_equal(kind, "web"), False)
    array = pc.and_(pc.equal(said, "not a JSON object"), pc.starts_with(pc.utf8_ltrim_whitespace(line), "["))
    if not (pc.any(other).as_py() or pc.any(array).as_py()):
        return table
    kinds = pc.dictionary_encode(kind)
    texts = pa.array([f"a Zscaler NSS {NSS_LOG_TYPES.get(name, name)} log record (sourcetype zscalernss-{name}), "
                      "not a web log" for name in kinds.dictionary.to_pylist()], pa.string())  # (a few distinct)
    said = pc.if_else(array, JSON_ARRAY_ERROR, pc.if_else(other, texts.take(kinds.indices), said))
    reason = placed(len(reasons), [(np.flatnonzero(rejected.to_numpy(zero_copy_only=False)), said)])
    return table.set_column(table.schema.get_field_index("reject_reason"), "reject_reason", plain(reason))


def _csv_parser(context: ParseContext) -> BatchParser:
    final = _FinalQueries(context.timezone)

    def columns_of(cursor: duckdb.DuckDBPyConnection, part: pa.Table) -> pa.Table:
        fields, error = _csv_fields(part)
        return _schema_columns(cursor, final, part.column("line_no"), fields, error)

    return sliced_parser(context, columns_of)


JSON_QUERY = _json_query()

FIELDS = (
    "ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
    "http_method", "url_path", "http_status", "action", "bytes_out", "bytes_in", "duration_ms",
    "user_agent", "content_type", "vendor_app", "vendor_category", "vendor_department",
)

_JSON_WRAPPED = rf'^{JSON_HEADER}\{{(?=.*"sourcetype"\s*:\s*"zscalernss-web")'
_JSON_FLAT = (rf'^{JSON_HEADER}\{{(?=.*"(?:eurl|url)"\s*:)(?=.*"(?:reqmethod|requestmethod)"\s*:)'
              r'(?=.*"(?:urlcat|urlcategory)"\s*:)')
_KV_NAMES = (rf"^(?=.*(?:\t|{RSYSLOG_TAB}))(?=.*(?:^|[\t ]|{RSYSLOG_TAB})(?:eurl|url)=)"
             rf"(?=.*(?:^|[\t ]|{RSYSLOG_TAB})(?:urlcat|urlcategory|urlsupercat|urlclass)=)")
_KV_CARETS = r"^(?=.*\^\^)(?=.*(?:^|[ ^])(?:eurl|url)=)(?=.*\^\^(?:urlcat|urlcategory|urlsupercat|urlclass)=)"

JSON = Format(
    name="zscaler_json",
    source_kind="proxy",
    summary="Zscaler ZIA NSS web log, JSON feed output type (also behind a syslog header)",
    sniff=line_share(re.compile(f"{_JSON_WRAPPED}|{_JSON_FLAT}")),
    new_parser=_json_parser,
    independent_batches=True,
    fields=FIELDS,
)

KV = Format(
    name="zscaler_kv",
    source_kind="proxy",
    summary="Zscaler ZIA NSS web log, name=value feed separated by tabs (or ^^, or #011 where rsyslog escaped "
            "the tabs) (Zscaler or Splunk CIM field names)",
    sniff=line_share(re.compile(f"{_KV_NAMES}|{_KV_CARETS}")),
    new_parser=_kv_parser,
    independent_batches=True,
    fields=FIELDS,
)

CSV = Format(
    name="zscaler_csv",
    source_kind="proxy",
    summary="Zscaler ZIA NSS web log, CSV feed output type with the default field list",
    sniff=line_share(r'^"\w{3} \w{3} +\d{1,2} \d\d:\d\d:\d\d \d{4}","'),
    new_parser=_csv_parser,
    independent_batches=True,
    fields=FIELDS,
)
