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

Parsing: the header and the `key=value` items are split with pyarrow (a few kernels over all of a batch's
items, keys looked up once per distinct key); what the values mean (times, URLs, decisions) is one DuckDB
query over the resulting `fields` table. Splitting in SQL (a lambda per item, a list search per key) cost
1.5x more.

These formats are generic, so they score at most 0.6 when sniffing: a vendor's own format wins on its
files, and CEF/LEEF is chosen only where nothing more specific fits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import FirstItems, flattened, list_item, only_where, space_trimmed
from detector.ingest.base import BatchParser, Format, ParseContext, ParseResult, parse_cursor, split_outcomes
from detector.ingest.byte_spans import delimited_items, first_at_or_after, row_of, spans, text_bytes
from detector.ingest.syslog import define_macros, reference_time

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


FINAL = rf"""
headed as (
    -- the syslog header's time, for lines whose extension has none
    select *,
        case when starts_with(prefix, '<') then substr(prefix, strpos(prefix, '>') + 1) else prefix end as syslog,
        case
            when t_rt is null then 'none'
            when regexp_full_match(t_rt, '\d{{9,16}}') then 'epoch'
            when regexp_matches(t_rt, '^\d{{4}}-\d\d-\d\d[T ]') then 'iso'
            when regexp_matches(t_rt, '^[A-Z][a-z][a-z] +\d{{1,2}} \d{{4}} ') then 'dated'
            else 'year-less'
        end as rt_kind
    from fields
),
timed as (
    select *,
        case
            when starts_with(syslog, '1 ') then split_part(syslog, ' ', 2)
            when regexp_matches(syslog, '^\d{{4}}-\d\d-\d\dT') then split_part(syslog, ' ', 1)
            when regexp_matches(syslog, '^[A-Z][a-z][a-z] [ \d]\d \d\d:\d\d:\d\d') then left(syslog, 15)
        end as header_time
    from headed
),
parsed as (
    select *,
        case rt_kind
            when 'epoch' then to_timestamp(try_cast(t_rt as bigint) / case when length(t_rt) >= 12 then 1000 else 1 end)
            when 'iso' then case when regexp_matches(t_rt, {_ZONE_AT_END}) then try_cast(t_rt as timestamptz)
                                 else timezone($tz, try_cast(t_rt as timestamp)) end
            when 'dated' then coalesce(try_strptime(t_rt, {_ZONED}), timezone($tz, try_strptime(t_rt, {_LOCAL})))
            when 'year-less' then syslog_time(t_rt, $tz, $ref)
        end as rt_time,
        -- the header's time is read only for lines that have no time of their own
        case when t_rt is null then syslog_time(header_time, $tz, $ref) end as syslog_time
    from timed
),
stamped as (
    select *,
        case when contains(request, '://') then url_rest(request) when starts_with(request, '/') then null
             else request end as rest,
        lower(act) as decision,
        -- 0.0.0.0 is what devices log when there was no address (a blocked request has no server)
        nullif(src, '0.0.0.0') as client,
        nullif(dst, '0.0.0.0') as server
    from parsed
),
hosted as (
    select *, authority_hostport(rest_authority(rest)) as hostport from stamped
)
select
    line_no,
    case
        when header_error is not null then header_error
        when client is null and server is null and dhost is null and request is null then null
        when t_rt is not null and rt_time is null
            then 'time is not epoch milliseconds or MMM dd yyyy HH:mm:ss: ' || t_rt
                 || coalesce(' (devTimeFormat ' || time_format || ')', '')
        when rt_time is null and syslog_time is null then 'no time: no rt/start/end/devTime and no syslog header'
    end as reject_reason,
    header_error is null and client is null and server is null and dhost is null and request is null as is_ignored,
    coalesce(rt_time, syslog_time) as ts,
    client as src_ip,
    usr as user_name,
    coalesce(hostport_host(hostport), clean_host(dhost)) as host,
    case
        when upper(method) = 'CONNECT' and coalesce(hostport_host(hostport), clean_host(dhost)) is not null
            then 'connect'
        when hostport_host(hostport) is not null then 'url'
        when clean_host(dhost) is not null then 'http_host'
        else 'none'
    end as host_source,
    server as dst_ip,
    coalesce(try_cast(dpt as integer), hostport_port(hostport)) as dst_port,
    coalesce(lower(app), url_scheme(request)) as network_protocol,
    upper(method) as http_method,
    case when starts_with(request, '/') then split_part(split_part(request, '?', 1), '#', 1)
         else rest_path(rest) end as url_path,
    coalesce(try_cast(case when regexp_full_match(outcome, '[1-5]\d\d') then outcome end as integer),
             try_cast(status_at as integer)) as http_status,
    case
        when decision is null then 'unknown'
        when regexp_matches(decision, 'den(y|ied)|block|drop|reject|reset|prevent') then 'blocked'
        when decision in ('allow', 'allowed', 'accept', 'accepted', 'permit', 'permitted', 'pass', 'passed',
                          'success', 'succeeded', 'alert', 'observed', 'monitor', 'monitored', 'continue')
             or decision like 'tcp\_%' escape '\' then 'allowed'
        else 'unknown'
    end as action,
    try_cast(sent as bigint) as bytes_out,
    try_cast(received as bigint) as bytes_in,
    agent as user_agent,
    lower(type_at) as content_type,
    coalesce(app_at, service) as vendor_app,
    coalesce(category_at, cat) as vendor_category,
    coalesce(dept_at, dept) as vendor_department
from hosted
"""

QUERY = "with" + FINAL


SLICE_LINES = 8_192


def arrow_parser(fields_of: Callable[[pa.Table], pa.Table]) -> Callable[[ParseContext], BatchParser]:
    """A parser that splits lines into `fields` with pyarrow (`fields_of`), then runs QUERY over them."""

    def new_parser(context: ParseContext) -> BatchParser:
        define_macros(context.connection)
        params = {"tz": context.timezone, "ref": reference_time(context.path, context.timezone)}

        def parse(lines: pa.Table) -> ParseResult:
            # in slices: the split items of a whole batch (a few million strings, several copies) would take
            # hundreds of MB at once
            fields = pa.concat_tables([fields_of(lines.slice(start, SLICE_LINES))
                                       for start in range(0, max(lines.num_rows, 1), SLICE_LINES)])
            with parse_cursor(context.connection) as cursor:  # a cursor of its own: batches run on two threads
                cursor.register("fields", fields)
                result = cursor.sql(QUERY, params=params).to_arrow_table()
            return split_outcomes(result, lines)

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
