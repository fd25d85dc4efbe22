r"""Generic ArcSight CEF and IBM QRadar LEEF lines, with or without a syslog header (RFC 3164 or 5424).

    CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|key=value key=value ...
    LEEF:1.0|Vendor|Product|Version|EventID|key=value<TAB>key=value ...
    LEEF:2.0|Vendor|Product|Version|EventID|<delimiter>|key=value<delimiter>key=value ...

Many devices (web gateways, firewalls, Zscaler's CEF and LEEF feed types) can log this way; we read the
keys the standards define, in either their short or long names, case-insensitively:
- client: `src` / `sourceAddress`; user: `suser` / `sourceUserName`, LEEF `usrName`, else `duser`
  (some devices put the client's user there);
- destination: `dst`, `dpt`, `dhost`; URL: `request` (LEEF `url`), path-only or scheme-less URLs too;
  `requestMethod`, `requestClientApplication`; application protocol: `app`;
- bytes: `out` (LEEF `srcBytes`) is what the client sent (bytes_out); `in` (LEEF `dstBytes`) the reverse;
- decision: `act` (LEEF `action`); HTTP status: `outcome` when it is a number (Zscaler puts the response
  code there), else a custom field `csN`/`cnN` whose `csNLabel` says status; the same for content type;
- time: `rt`, else `end`, `start` (LEEF `devTime`): epoch milliseconds or `MMM dd [yyyy] HH:mm:ss[.SSS]
  [zone]`; else the syslog header's time. A time without zone is in the configured ingest zone; one
  without year gets it by the rule of `syslog.py` (the year that puts it before the file was written).
- the gateway's own view: application `destinationServiceName` (Zscaler puts its appname there), category
  `cat` (Zscaler: the URL category), department `dept` (Zscaler's LEEF feed: `role`); a labelled custom field
  (`csNLabel=urlcat`, `appname`, `dept` ...) wins over those keys; LEEF feeds name them directly (`appname=`).
CEF escapes (`\\`, `\|` in the header, `\=` in values) are honoured. Lines without any address, host or
URL (say, a login or a policy change) carry no traffic and are ignored; lines without a CEF/LEEF header
are rejected.

Source kind: proxy, as web gateways are the devices that log URLs and users this way. Firewalls that send
CEF land there too: their events are connections (addresses and ports, usually no host name).

Parsing: the header is split with pyarrow, the `key=value` items are found with numpy on the lines' bytes
(byte_spans.py: separators located once, keys looked up once per distinct key, only the values read become
strings); what the values mean (times, URLs, decisions) is the shared SQL macros' answer, run once per
distinct value of a file (arrow_ops.DistinctQuery) and combined in Arrow.

These formats are generic, so they score at most 0.6 when sniffing: a vendor's own format wins on its
files, and CEF/LEEF is chosen only where nothing more specific fits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest import distinct_sql
from detector.ingest.arrow_ops import DistinctQuery, FirstItems, flattened, list_item, only_where, space_trimmed
from detector.ingest.base import BatchParser, Format, ParseContext, ParseResult, parse_cursor, split_outcomes
from detector.ingest.byte_spans import delimited_items, first_at_or_after, row_of, spans, text_bytes
from detector.ingest.distinct_sql import BIGINT_SQL, INTEGER_SQL, encoded, in_time_zone, integers, plain, without
from detector.ingest.syslog import define_macros, reference_time
from detector.schema import TIMESTAMP

GENERIC_SNIFF_CAP = 0.6

# Canonical field -> extension keys (lower case), in order of preference.
KEYS: dict[str, tuple[str, ...]] = {
    "t_rt": ("rt", "devtime", "end", "start", "deviceReceiptTime", "endTime", "startTime"),
    "time_format": ("devtimeformat",),
    "src": ("src", "sourceaddress"),
    "dst": ("dst", "destinationaddress"),
    "dpt": ("dpt", "destinationport", "dstport"),
    "usr": ("suser", "sourceusername", "usrname", "duser", "destinationusername"),
    "dhost": ("dhost", "destinationhostname"),
    "request": ("request", "requesturl", "url"),
    "method": ("requestmethod",),
    "agent": ("requestclientapplication", "useragent"),
    "sent": ("out", "bytesout", "srcbytes"),
    "received": ("in", "bytesin", "dstbytes"),
    "act": ("act", "deviceaction", "action"),
    "app": ("app", "applicationprotocol"),
    "outcome": ("outcome",),
    "service": ("destinationservicename", "appname"),
    "cat": ("cat", "urlcat", "urlcategory"),
    "dept": ("dept", "department", "role"),
}
KEYS = {name: tuple(key.lower() for key in keys) for name, keys in KEYS.items()}
# Custom fields and their labels, read only on lines that have labels.
CUSTOM = [f"cs{i}" for i in range(1, 7)] + [f"cn{i}" for i in range(1, 4)]
STATUS_LABELS = ("http status", "httpstatus", "http status code", "status", "status code", "statuscode",
                 "response code", "responsecode", "respcode", "http response code")
TYPE_LABELS = ("content type", "contenttype", "content-type", "mime type", "mimetype")
APP_LABELS = ("appname", "app name", "application", "application name")
CATEGORY_LABELS = ("urlcat", "urlcategory", "url category", "category")
DEPARTMENT_LABELS = ("dept", "department")

LABELLED = {"status_at": STATUS_LABELS, "type_at": TYPE_LABELS, "app_at": APP_LABELS,
            "category_at": CATEGORY_LABELS, "dept_at": DEPARTMENT_LABELS}
# Every label, and the number (in LABELLED) of what it names; the last number: no label of ours.
_LABEL_SET = pa.array([label for labels in LABELLED.values() for label in labels])
_LABEL_MEANINGS = np.array([n for n, labels in enumerate(LABELLED.values()) for _ in labels] + [len(LABELLED)])

# Every key the parse reads.
_ALL_KEYS: list[str] = []
for _keys in (*KEYS.values(), *([c, f"{c}label"] for c in CUSTOM)):
    _ALL_KEYS += [key for key in _keys if key not in _ALL_KEYS]

# Escapes: a `\\` first becomes chr(1), then `\|` chr(2) and `\=` chr(3), so that splitting on | and =
# sees only the real separators; values get their characters back once read.
_ESCAPES = (("\\\\", "\x01"), ("\\|", "\x02"), ("\\=", "\x03"))
_RESTORE = (("\x01", "\\"), ("\x02", "|"), ("\x03", "="))


def _protected(body: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    """The header and extension with escaped separators hidden, and which lines had a backslash (None: none)."""
    body = pc.fill_null(body, "")
    _, data, offsets = text_bytes(body)
    backslashes = np.flatnonzero(data[offsets[0]:offsets[-1]] == 92) + offsets[0]
    if not len(backslashes):
        return body, None
    has_escape = np.zeros(len(body), bool)
    has_escape[np.searchsorted(offsets, backslashes, side="right") - 1] = True
    has_escape = pa.array(has_escape)
    return _replaced_where(body, has_escape, _ESCAPES), has_escape


def _has_placeholder(text: pa.Array) -> bool:
    """Whether `text`'s data holds an escape's placeholder (chr(1) to chr(3); a chr(0) too: a false yes costs only
    the work it would have saved)."""
    data = text.buffers()[2]
    return data is not None and bool((np.frombuffer(data, np.uint8) <= 3).any())


def _replaced_where(text: pa.Array, where: pa.Array, replacements: Sequence[tuple[str, str]]) -> pa.Array:
    """`text` with each (old, new) of `replacements` applied in the rows where `where` is true (few, usually)."""
    rows = text.filter(where)
    for old, new in replacements:
        rows = pc.replace_substring(rows, old, new)
    return pc.replace_with_mask(text, where, rows)


def _split_at_marker(lines: pa.Table, marker: str) -> tuple[pa.Array, pa.Array]:
    """What precedes the first `marker` (a syslog header, or nothing), and the text after it (null: none)."""
    at_marker = pc.split_pattern(lines.column("line").combine_chunks(), marker, max_splits=1)
    return list_item(at_marker, 0), list_item(at_marker, 1)


@dataclass
class _Pairs:
    """A batch's `key=value` items: the key of each item, the row it belongs to, and where its value is in
    `data` (the bytes of the text the items were found in; `value_end <= value_start`: no value)."""

    data: pa.Buffer
    keys: pa.Array
    rows: np.ndarray
    value_start: np.ndarray
    value_end: np.ndarray
    row_start: np.ndarray  # where each row's text starts in `data` (an empty span there: no value)


def _cef_pairs(extension: pa.Array) -> _Pairs:
    """CEF's `key=value key=value`: a key is the word before an '=' (after the last space or '=' before it),
    its value runs to the space before the next key (`a=b=c`: `a` empty, `b`=`c`). Found with numpy on the
    bytes: the spaces and '=' signs of the lines once, then only those positions."""
    buffer, data, offsets = text_bytes(pc.fill_null(extension, ""))
    marks = np.flatnonzero((data == 32) | (data == 61))
    rows_of_marks = row_of(marks, offsets)
    equals = np.flatnonzero(data[marks] == 61)
    rows = rows_of_marks[equals]
    after_mark = np.zeros(len(equals), bool)  # another space or '=' before it in its line
    after_mark[equals > 0] = rows_of_marks[np.maximum(equals - 1, 0)][equals > 0] == rows[equals > 0]
    key_start = np.where(after_mark, marks[np.maximum(equals - 1, 0)] + 1, offsets[rows])
    key_end = marks[equals]
    keys = spans(buffer, key_start, key_end)
    next_in_row = np.zeros(len(equals), bool)
    next_in_row[:-1] = rows[1:] == rows[:-1]
    value_end = np.where(next_in_row, np.roll(key_start, -1) - 1, offsets[rows + 1])
    return _Pairs(buffer, keys, rows, key_end + 1, value_end, offsets[:-1])


def _leef_pairs(attributes: pa.Array, delimiters: pa.Array) -> _Pairs:
    """LEEF's `key=value<delimiter>key=value`: the key up to the first '=', the value after it (an item
    without '=' is its own key and value). Found with numpy on the bytes, each line at its own delimiter
    (usually one for all: a tab); a delimiter that is not one ASCII character is split with pyarrow."""
    attributes = pc.fill_null(attributes, "")
    encoded = pc.dictionary_encode(delimiters)
    marks = [mark.encode() for mark in encoded.dictionary.to_pylist()] or [b"\t"]
    if any(len(mark) != 1 or mark in (b"=", b"\x00") or mark[0] > 127 for mark in marks):
        return _leef_pairs_split(attributes, encoded)
    buffer, data, offsets = text_bytes(attributes)
    if len(marks) == 1:
        cuts = np.flatnonzero(data == marks[0][0])
    else:  # each line's own delimiter: positions of each, kept in the lines that use it
        line_marks = encoded.indices.to_numpy()
        cuts = np.sort(np.concatenate([
            found[line_marks[row_of(found, offsets)] == number]
            for number, mark in enumerate(marks) for found in [np.flatnonzero(data == mark[0])]]))
    rows, starts, ends = delimited_items(data, offsets, cuts)
    first_equals, has_value = first_at_or_after(np.flatnonzero(data == 61), starts, ends)
    key_end = np.where(has_value, first_equals, ends)
    keys = spans(buffer, starts, key_end)
    return _Pairs(buffer, keys, rows, np.where(has_value, first_equals + 1, starts), ends, offsets[:-1])


def _leef_pairs_split(attributes: pa.Array, encoded: pa.DictionaryArray) -> _Pairs:
    """`_leef_pairs` for delimiters of several characters: the items split with pyarrow, then as above."""
    if len(encoded.dictionary) <= 1:
        lists = pc.split_pattern(attributes, encoded.dictionary[0].as_py() if len(encoded.dictionary) else "\t")
    else:
        lists = _split_per_delimiter(attributes, encoded)
    items, rows, _ = flattened(lists)
    buffer, _, offsets = text_bytes(items)
    key_value = pc.split_pattern(items, "=", max_splits=1)
    has_value = pc.list_value_length(key_value).to_numpy() == 2
    keys = list_item(key_value, 0)
    key_end = offsets[:-1] + pc.binary_length(keys).to_numpy(zero_copy_only=False)
    row_start = offsets[np.minimum(np.searchsorted(rows, np.arange(len(attributes))), len(offsets) - 1)]
    return _Pairs(buffer, keys, rows, np.where(has_value, key_end + 1, offsets[:-1]), offsets[1:], row_start)


def _split_per_delimiter(attributes: pa.Array, encoded: pa.DictionaryArray) -> pa.ListArray:
    """Each line's attributes split at its own delimiter, the lines in their order."""
    indices = encoded.indices.to_numpy()
    rows_of = [np.nonzero(indices == number)[0] for number in range(len(encoded.dictionary))]
    parts = [pc.split_pattern(attributes.take(rows), encoded.dictionary[number].as_py())
             for number, rows in enumerate(rows_of)]
    order = np.argsort(np.concatenate(rows_of), kind="stable")
    return pa.concat_arrays(parts).take(order)


def _lookups(pairs: _Pairs, row_count: int, escaped: pa.Array | None) -> dict[str, pa.Array]:
    """The value of each canonical field (its first key present, at that key's first item) and of each
    custom field and label: trimmed of spaces, null when empty; escapes restored."""
    found = FirstItems(pairs.keys, pairs.rows, row_count, _ALL_KEYS, pc.utf8_lower)
    chosen = found.first

    def value(item: np.ndarray) -> pa.Array:
        present = item >= 0
        if not present.any():
            return pa.nulls(row_count, pa.string())
        at = np.maximum(item, 0)
        starts = np.where(present, pairs.value_start[at], pairs.row_start)
        ends = np.where(present, pairs.value_end[at], pairs.row_start)
        text = space_trimmed(spans(pairs.data, starts, ends, present))
        text = only_where(text, pc.greater(pc.binary_length(text), 0))
        if escaped is not None and _has_placeholder(text):  # escapes back, on the lines that had some
            text = _replaced_where(text, escaped, _RESTORE)
        return text

    values = {name: value(chosen(keys)) for name, keys in KEYS.items()}
    # custom fields (csN / cnN) are read where a label names what they hold: the first such field
    labelled = {name: np.full(row_count, -1) for name in LABELLED}
    for c in reversed(CUSTOM):
        custom, label = chosen([c]), chosen([f"{c}label"])
        if (custom < 0).all() or (label < 0).all():
            continue
        names = pc.index_in(pc.utf8_lower(value(label)), value_set=_LABEL_SET)
        meaning = _LABEL_MEANINGS[pc.fill_null(names, len(_LABEL_MEANINGS) - 1).to_numpy()]
        for number, name in enumerate(LABELLED):
            labelled[name] = np.where((meaning == number) & (custom >= 0), custom, labelled[name])
    values.update({name: value(item) for name, item in labelled.items()})
    return values


def _fields_table(lines: pa.Table, prefix: pa.Array, header_error: pa.Array, values: dict[str, pa.Array]) -> pa.Table:
    return pa.table({"line_no": lines.column("line_no"), "prefix": prefix, "header_error": header_error, **values})


def _split_header(lines: pa.Table, marker: str, fields: int
                  ) -> tuple[pa.Array, pa.ListArray, pa.Array, pa.Array]:
    """(syslog prefix, the `fields` |-separated header fields plus the rest, escapes, header error) of
    lines with a `marker:` header (CEF, LEEF)."""
    prefix, body = _split_at_marker(lines, f"{marker}:")
    protected, escaped = _protected(body)
    header = pc.split_pattern(protected, "|", max_splits=fields)
    count = pc.fill_null(pc.list_value_length(header), 0)
    header_error = pc.case_when(
        pa.StructArray.from_arrays([pc.is_null(body), pc.less(count, fields + 1)], names=["none", "short"]),
        f"no {marker}: header",
        pc.binary_join_element_wise(f"{marker} header has ", pc.cast(pc.subtract(count, 1), pa.string()),
                                    f" of its {fields} |-separated fields", ""))
    return prefix, header, escaped, header_error


def _cef_fields(lines: pa.Table) -> pa.Table:
    """CEF lines -> `fields(line_no, prefix, header_error, <field values>)` for the final query."""
    # the 8th item is the extension, '|'s and all
    prefix, header, escaped, header_error = _split_header(lines, "CEF", fields=7)
    pairs = _cef_pairs(list_item(header, 7))
    return _fields_table(lines, prefix, header_error, _lookups(pairs, lines.num_rows, escaped))


def _leef_fields(lines: pa.Table) -> pa.Table:
    """LEEF lines -> `fields(line_no, prefix, header_error, <field values>)` for the final query."""
    # the 6th item: the delimiter (2.0) and attributes
    prefix, header, escaped, header_error = _split_header(lines, "LEEF", fields=5)
    rest = pc.fill_null(list_item(header, 5), "")
    at_bar = pc.split_pattern(rest, "|", max_splits=1)
    # LEEF 2.0 may name its attribute delimiter in a sixth header field; without one (and in 1.0) it is a tab.
    names_delimiter = pc.fill_null(pc.and_(
        pc.and_(pc.starts_with(list_item(header, 0), "2"), pc.equal(pc.list_value_length(at_bar), 2)),
        pc.invert(pc.match_substring(list_item(at_bar, 0), "="))), False)
    delimiter_field = pc.if_else(names_delimiter, list_item(at_bar, 0), "")
    encoded = pc.dictionary_encode(delimiter_field)
    delimiters = pa.DictionaryArray.from_arrays(
        encoded.indices, pa.array([_leef_delimiter(text) for text in encoded.dictionary.to_pylist()]))
    attributes = pc.if_else(names_delimiter, list_item(at_bar, 1), rest)
    pairs = _leef_pairs(attributes, delimiters)
    return _fields_table(lines, prefix, header_error, _lookups(pairs, lines.num_rows, escaped))


def _leef_delimiter(field: str) -> str:
    """The delimiter a LEEF 2.0 header names: a character, or its code as x09 / 0x09; a tab when none."""
    if field == "" or field == "\\t":
        return "\t"
    if re.fullmatch(r"0?[xX][0-9A-Fa-f]{1,4}", field):
        return chr(int(re.search(r"[0-9A-Fa-f]+$", field)[0], 16))  # type: ignore[index]
    return field


# Epoch (ms or s), `MMM dd yyyy HH:mm:ss[.SSS] [zone]`, ISO 8601, or year-less `MMM dd HH:mm:ss[.SSS]`
# (placed in a year, like a BSD syslog header, by syslog.py's `syslog_time`).
_ZONED = "['%b %d %Y %H:%M:%S.%g %Z', '%b %d %Y %H:%M:%S %Z']"
_LOCAL = "['%b %d %Y %H:%M:%S.%g', '%b %d %Y %H:%M:%S']"
_ZONE_AT_END = r"'(Z|[+-]\d\d:?\d\d)$'"

# What the values mean, each query once per distinct value (of a file: see arrow_ops.DistinctQuery); @TZ@ and
# @REF@ stand for the configured zone and the reference time of year-less dates.
TIME_SQL = rf"""
select case
    when regexp_full_match(value, '\d{{9,16}}')
        then to_timestamp(try_cast(value as bigint) / case when length(value) >= 12 then 1000 else 1 end)
    when regexp_matches(value, '^\d{{4}}-\d\d-\d\d[T ]')
        then case when regexp_matches(value, {_ZONE_AT_END}) then try_cast(value as timestamptz)
                  else timezone(@TZ@, try_cast(value as timestamp)) end
    when regexp_matches(value, '^[A-Z][a-z][a-z] +\d{{1,2}} \d{{4}} ')
        then coalesce(try_strptime(value, {_ZONED}), timezone(@TZ@, try_strptime(value, {_LOCAL})))
    else syslog_time(value, @TZ@, @REF@)
end as value
from distinct_values
"""
# the syslog header's time (RFC 5424 or 3164, after its <PRI>), for lines whose extension has none
HEADER_TIME_SQL = r"""
select syslog_time(case
        when starts_with(syslog, '1 ') then split_part(syslog, ' ', 2)
        when regexp_matches(syslog, '^\d{4}-\d\d-\d\dT') then split_part(syslog, ' ', 1)
        when regexp_matches(syslog, '^[A-Z][a-z][a-z] [ \d]\d \d\d:\d\d:\d\d') then left(syslog, 15)
    end, @TZ@, @REF@) as value
from (select case when starts_with(value, '<') then substr(value, strpos(value, '>') + 1) else value end as syslog
      from distinct_values)
"""
# `request`: a URL, a scheme-less one, or a path only
REQUEST_SQL = """
select hostport_host(hostport) as host, hostport_port(hostport) as port, url_scheme(value) as scheme,
    case when starts_with(value, '/') then split_part(split_part(value, '?', 1), '#', 1) else rest_path(rest) end
        as path
from (select *, authority_hostport(rest_authority(rest)) as hostport
      from (select value, case when contains(value, '://') then url_rest(value) when starts_with(value, '/') then null
                               else value end as rest
            from distinct_values))
"""
HOST_SQL = "select clean_host(value) as value from distinct_values"
METHOD_SQL = "select upper(value) as value, upper(value) = 'CONNECT' as is_connect from distinct_values"
LOWER_SQL = "select lower(value) as value from distinct_values"
ACTION_SQL = r"""
select case
    when regexp_matches(decision, 'den(y|ied)|block|drop|reject|reset|prevent') then 'blocked'
    when decision in ('allow', 'allowed', 'accept', 'accepted', 'permit', 'permitted', 'pass', 'passed',
                      'success', 'succeeded', 'alert', 'observed', 'monitor', 'monitored', 'continue')
         or decision like 'tcp\_%' escape '\' then 'allowed'
    else 'unknown'
end as value
from (select lower(value) as decision from distinct_values)
"""
# Zscaler puts the HTTP response code in `outcome`; other devices a word (success, failure)
OUTCOME_SQL = r"""
select try_cast(case when regexp_full_match(value, '[1-5]\d\d') then value end as integer) as value
from distinct_values
"""
HOST_SOURCES = pa.array(["connect", "url", "http_host", "none"])


class _Queries:
    """The per-distinct queries of one file's parse (each remembers its answers across the batches)."""

    def __init__(self, timezone: str, reference: datetime) -> None:
        def bound(query: str) -> str:
            return in_time_zone(query, timezone).replace(
                "@REF@", f"timestamp '{reference.isoformat(sep=' ')}'")

        self.time, self.header_time = DistinctQuery(bound(TIME_SQL)), DistinctQuery(bound(HEADER_TIME_SQL))
        self.request, self.host, self.method = DistinctQuery(REQUEST_SQL), DistinctQuery(HOST_SQL), \
            DistinctQuery(METHOD_SQL)
        self.lower, self.action, self.outcome = DistinctQuery(LOWER_SQL), DistinctQuery(ACTION_SQL), \
            DistinctQuery(OUTCOME_SQL)
        self.integer, self.bigint = DistinctQuery(INTEGER_SQL), DistinctQuery(BIGINT_SQL)


def _schema_columns(connection: duckdb.DuckDBPyConnection, queries: _Queries, fields: pa.Table) -> pa.Table:
    """`fields` (line_no, prefix, header_error and the values read) -> schema columns, reject_reason and
    is_ignored. Every value goes through SQL once per distinct value; what combines them is Arrow's."""
    def field(name: str) -> pa.Array:
        return fields.column(name).combine_chunks()

    def through(name: str, query: DistinctQuery) -> dict[str, pa.Array]:
        return distinct_sql.through(connection, query, encoded(field(name)))

    t_rt, request, dhost = field("t_rt"), field("request"), field("dhost")
    rt_time = through("t_rt", queries.time)["value"]
    no_rt = pc.is_null(t_rt)
    header_time = pa.nulls(len(t_rt), rt_time.type)
    if pc.any(no_rt).as_py():  # the header's time is read only for lines that have no time of their own
        prefix = encoded(field("prefix"))
        prefix = pa.DictionaryArray.from_arrays(only_where(prefix.indices, no_rt), prefix.dictionary)
        header_time = distinct_sql.through(connection, queries.header_time, prefix)["value"]
    url = through("request", queries.request)
    host_header = through("dhost", queries.host)["value"]
    method = through("method", queries.method)
    client, server = without(encoded(field("src")), ["0.0.0.0"]), without(encoded(field("dst")), ["0.0.0.0"])
    no_place = pc.and_(pc.and_(pc.is_null(client), pc.is_null(server)), pc.and_(pc.is_null(dhost), pc.is_null(request)))
    header_error = field("header_error")
    reason = _reject_reasons(header_error, no_place, t_rt, field("time_format"), rt_time, header_time)
    url_host, header_host = plain(url["host"]), plain(host_header)
    source = np.where(pc.is_valid(url_host).to_numpy(zero_copy_only=False), 1,
                      np.where(pc.is_valid(header_host).to_numpy(zero_copy_only=False), 2, 3))
    host = pc.coalesce(url_host, header_host)
    connect = pc.and_(pc.fill_null(method["is_connect"], False), pc.is_valid(host)).to_numpy(zero_copy_only=False)
    action = through("act", queries.action)["value"]
    return pa.table({
        "line_no": fields.column("line_no"),
        "reject_reason": reason,
        "is_ignored": pc.and_(pc.is_null(header_error), no_place),
        "ts": pc.cast(pc.coalesce(rt_time, header_time), TIMESTAMP),
        "src_ip": client,
        "user_name": field("usr"),
        "host": host,
        "host_source": pa.DictionaryArray.from_arrays(pa.array(np.where(connect, 0, source).astype(np.int32)),
                                                      HOST_SOURCES),
        "dst_ip": server,
        "dst_port": pc.coalesce(integers(connection, queries.integer, field("dpt"), pa.int32()), url["port"]),
        "network_protocol": pc.coalesce(plain(through("app", queries.lower)["value"]), plain(url["scheme"])),
        "http_method": method["value"],
        "url_path": url["path"],
        "http_status": pc.coalesce(through("outcome", queries.outcome)["value"],
                                   integers(connection, queries.integer, field("status_at"), pa.int32())),
        "action": pc.fill_null(plain(action), "unknown"),
        "bytes_out": integers(connection, queries.bigint, field("sent"), pa.int64()),
        "bytes_in": integers(connection, queries.bigint, field("received"), pa.int64()),
        "user_agent": field("agent"),
        "content_type": through("type_at", queries.lower)["value"],
        "vendor_app": pc.coalesce(field("app_at"), field("service")),
        "vendor_category": pc.coalesce(field("category_at"), field("cat")),
        "vendor_department": pc.coalesce(field("dept_at"), field("dept")),
    })


def _reject_reasons(header_error: pa.Array, no_place: pa.Array, t_rt: pa.Array, time_format: pa.Array,
                    rt_time: pa.Array, header_time: pa.Array) -> pa.Array:
    """Why a line is rejected (null when it parsed or is ignored): its header, then its time."""
    bad_time = pc.and_(pc.is_valid(t_rt), pc.is_null(rt_time))
    no_time = pc.and_(pc.is_null(rt_time), pc.is_null(header_time))
    reason = header_error
    if pc.any(pc.and_(pc.invert(no_place), pc.or_(bad_time, no_time))).as_py():
        written = pc.binary_join_element_wise(
            "time is not epoch milliseconds or MMM dd yyyy HH:mm:ss: ", t_rt,
            pc.fill_null(pc.binary_join_element_wise(" (devTimeFormat ", time_format, ")", ""), ""), "")
        time_reason = pc.if_else(bad_time, written, "no time: no rt/start/end/devTime and no syslog header")
        reason = pc.coalesce(reason, only_where(time_reason, pc.and_(pc.invert(no_place), no_time)))
    return reason


SLICE_LINES = 8_192


def arrow_parser(fields_of: Callable[[pa.Table], pa.Table]) -> Callable[[ParseContext], BatchParser]:
    """A parser that splits lines into `fields` with pyarrow (`fields_of`), then reads what they mean."""

    def new_parser(context: ParseContext) -> BatchParser:
        define_macros(context.connection)
        queries = _Queries(context.timezone, reference_time(context.path, context.timezone))

        def parse(lines: pa.Table) -> ParseResult:
            # in slices: the split items of a whole batch (a few million strings, several copies) would take
            # hundreds of MB at once
            fields = pa.concat_tables([fields_of(lines.slice(start, SLICE_LINES))
                                       for start in range(0, max(lines.num_rows, 1), SLICE_LINES)])
            with parse_cursor(context.connection) as cursor:  # a cursor of its own: batches run on two threads
                return split_outcomes(_schema_columns(cursor, queries, fields), lines)

        return parse

    return new_parser


def _capped(pattern: str) -> Callable[[Sequence[str]], float]:
    regex = re.compile(pattern)

    def sniff(lines: Sequence[str]) -> float:
        if not lines:
            return 0.0
        return GENERIC_SNIFF_CAP * sum(1 for line in lines if regex.match(line)) / len(lines)

    return sniff


FIELDS = ("ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
          "http_method", "url_path", "http_status", "action", "bytes_out", "bytes_in", "user_agent",
          "content_type", "vendor_app", "vendor_category", "vendor_department")

CEF = Format(
    name="cef",
    source_kind="proxy",
    summary="ArcSight CEF (generic), with or without a syslog header",
    sniff=_capped(r"^.{0,300}?CEF:\d+\|"),
    new_parser=arrow_parser(_cef_fields),
    independent_batches=True,
    fields=FIELDS,
)

LEEF = Format(
    name="leef",
    source_kind="proxy",
    summary="IBM QRadar LEEF 1.0/2.0 (generic), with or without a syslog header",
    sniff=_capped(r"^.{0,300}?LEEF:[12]\.0\|"),
    new_parser=arrow_parser(_leef_fields),
    independent_batches=True,
    # LEEF defines no key for the HTTP status or content type (custom csN fields are CEF's).
    fields=tuple(f for f in FIELDS if f not in ("http_status", "content_type")),
)
