r"""Generic ArcSight CEF and IBM QRadar LEEF lines, with or without a syslog header (RFC 3164 or 5424).

    CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|key=value key=value ...
    LEEF:1.0|Vendor|Product|Version|EventID|key=value<TAB>key=value ...
    LEEF:2.0|Vendor|Product|Version|EventID|<delimiter>|key=value<delimiter>key=value ...
(McAfee/Skyhigh Web Gateway cuts LEEF 1.0's attributes at '|' instead of tabs, `...|0|devTime=...|src=...`: read so.
A tab written `#011` is a tab: rsyslog escapes control characters so by default, and files it writes carry it. Lines
whose tabs became spaces on the way (a relay, a copy from a console) are read by CEF's rule: a key is the word before
an '=', its value runs to the space before the next key.)

Many devices (web gateways, firewalls, Zscaler's CEF and LEEF feed types) can log this way; we read the
keys the standards define, in either their short or long names, case-insensitively:
- client: `src` / `sourceAddress` (an address: a placeholder or other text is none); user: `loginID` (Forcepoint's
  login name), else `suser` / `sourceUserName`, LEEF `usrName`, else `duser` (some devices put the client's user
  there); a directory path or DN there (Forcepoint's `suser=LDAP://10.0.0.5 OU\=Users,.../jdevries`) is read as
  the account it ends in (user_names.py);
- destination: `dst`, `dpt`, `dhost`; URL: `request` (LEEF `url`), path-only or scheme-less URLs too;
  `requestMethod`, `requestClientApplication`; application protocol: `app`;
- bytes: `out` (LEEF `srcBytes`) is what the client sent (bytes_out); `in` (LEEF `dstBytes`) the reverse, as
  FortiGate and Zscaler write them; but Palo Alto Networks' CEF follows the standard's definition of bytesIn
  (`in=$bytes_sent out=$bytes_received`): its lines are read the other way round (SOURCE_SENT_IN);
- decision: `act` (LEEF `action`), else LEEF's event ID where it names one (Forcepoint: `transaction:blocked`);
  HTTP status: `outcome` when it is a number (Zscaler puts the response code there), Forcepoint's LEEF
  `proxyStatus-code`, McAfee Web Gateway's `httpStatus`, else a custom field `csN`/`cnN` whose `csNLabel` says
  status; the same for content type. A 407 (Proxy Authentication Required) is the proxy asking for credentials: action
  unknown whatever `act` says, as is a 401 with `act=TCP_DENIED` (auth_challenge), as Squid's and the WSA's;
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

Parsing walks each line's bytes once, in compiled kernels (`cef_scan`, Numba), chunk by chunk of a batch on the
chunks' own buffers (no copy of the lines): the marker and the header's real '|' (escapes skipped as pairs), then
the extension's items, recording per line where the value of each wanted field is (its most preferred key present,
first occurrence; spaces trimmed), and numbering those values by their text in a hash table (each field's dictionary
then holds only its own values). Numpy and Arrow did the same in ~20 passes over every byte: per 262k-line batch of
the benchmark sample, CPU to the fields CEF 0.72 -> 0.30 s, LEEF 0.59 -> 0.27 s (the whole parse 0.78 -> 0.37 s,
0.60 -> 0.29 s). Numba costs ~0.5 s CPU once per run (its import and the first cached kernel's load), repaid within
the first million lines. Only LEEF 2.0's delimiter fields are read in Python, once per distinct field. Fields are
dictionary arrays to the end, their escapes undone and custom labels matched once per distinct value; what the
values mean (times, URLs, decisions) is the shared SQL macros' answer, run once per distinct value of a file
(arrow_ops.DistinctQuery) and combined in Arrow.

These formats are generic, so they score at most 0.6 when sniffing: a vendor's own format wins on its
files, and CEF/LEEF is chosen only where nothing more specific fits.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest import distinct_sql
from detector.ingest.arrow_ops import DistinctQuery, one_array, only_where
from detector.ingest.auth_challenge import unknown_where_challenged
from detector.ingest.base import (
    BatchParser,
    Format,
    ParseContext,
    ParseResult,
    line_share,
    parse_cursor,
    split_outcomes,
)
from detector.ingest.byte_spans import spans
from detector.ingest.distinct_sql import BIGINT_SQL, INTEGER_SQL, encoded, in_time_zone, integers, plain, without
from detector.ingest.key_values import spans_of
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.proxy_columns import first_valid
from detector.ingest.syslog import BSD_TIME, ISO_TIME, define_macros, reference_time
from detector.ingest.user_names import account_names, addresses
from detector.schema import TIMESTAMP

GENERIC_SNIFF_CAP = 0.6

# Canonical field -> extension keys (lower case), in order of preference. The last names of a list are often those of
# Forcepoint's own key=value format (`forcepoint_kv`, below: src_host, dst_ip, user, http_method ...).
KEYS: dict[str, tuple[str, ...]] = {
    "t_rt": ("rt", "devtime", "end", "start", "deviceReceiptTime", "endTime", "startTime"),
    "time_format": ("devtimeformat",),
    "src": ("src", "sourceaddress", "src_host"),
    "dst": ("dst", "destinationaddress", "dst_ip"),
    "dpt": ("dpt", "destinationport", "dstport", "dst_port"),
    "usr": ("suser", "sourceusername", "usrname", "duser", "destinationusername", "user"),
    "dhost": ("dhost", "destinationhostname", "dst_host"),
    "request": ("request", "requesturl", "url"),
    "method": ("requestmethod", "method", "http_method"),  # (Citrix NetScaler's application firewall: `method=GET`)
    "agent": ("requestclientapplication", "useragent", "http_user_agent"),
    "sent": ("out", "bytesout", "srcbytes", "bytes_out"),
    "received": ("in", "bytesin", "dstbytes", "bytes_in"),
    "act": ("act", "deviceaction", "action"),
    "app": ("app", "applicationprotocol"),
    # the HTTP status where it is a number: Zscaler's CEF and LEEF feeds put the response code in `outcome`,
    # Forcepoint's LEEF the proxy's answer to the client in `proxyStatus-code` (its server's in serverStatus-code;
    # its key=value format: http_proxy_status_code, http_response), McAfee Web Gateway's LEEF log handler in
    # `httpStatus`
    "outcome": ("outcome", "proxystatus-code", "httpstatus", "http_proxy_status_code", "http_response"),
    "service": ("destinationservicename", "appname"),
    "cat": ("cat", "urlcat", "urlcategory", "category"),
    "dept": ("dept", "department", "role"),
    # Forcepoint Web Security's SIEM formats: `loginID` (the login name), beside `suser`, its directory path
    "login": ("loginid",),
    "ctype": ("http_content_type",),  # (CEF and LEEF name it in a labelled custom field)
}
KEYS = {name: tuple(key.lower() for key in keys) for name, keys in KEYS.items()}
# Custom fields and their labels, read only on lines that have labels.
CUSTOM = [f"cs{i}" for i in range(1, 7)] + [f"cn{i}" for i in range(1, 4)]
STATUS_LABELS = ("http status", "httpstatus", "http status code", "status", "status code", "statuscode",
                 "response code", "responsecode", "respcode", "http response code")
TYPE_LABELS = ("content type", "contenttype", "content-type", "mime type", "mimetype")
APP_LABELS = ("appname", "app name", "application", "application name")
CATEGORY_LABELS = ("urlcat", "urlcategory", "url category", "category", "url categories", "urlcategories")
DEPARTMENT_LABELS = ("dept", "department")

LABELLED = {"status_at": STATUS_LABELS, "type_at": TYPE_LABELS, "app_at": APP_LABELS,
            "category_at": CATEGORY_LABELS, "dept_at": DEPARTMENT_LABELS}
# Every label, and the number (in LABELLED) of what it names; the last number: no label of ours.
_LABEL_SET = pa.array([label for labels in LABELLED.values() for label in labels])
_LABEL_MEANINGS = np.array([n for n, labels in enumerate(LABELLED.values()) for _ in labels] + [len(LABELLED)])

# Escapes: `\\`, `\|` and `\=` stand for `\`, `|` and `=`. Escaped '|' and '=' separate nothing (the kernels skip
# them); the values read get their characters back (once per distinct value that has a backslash).
_UNESCAPE = (r"\\([\\|=])", r"\1")

# The gateway's own view: a custom field whose label names it, else the gateway's key.
_COMBINED = {"vendor_app": ("app_at", "service"), "vendor_category": ("category_at", "cat"),
             "vendor_department": ("dept_at", "dept"), "content_type": ("type_at", "ctype")}
_CUSTOM_KEYS = [key for c in CUSTOM for key in (c, f"{c}label")]

# What the kernels look for, one row of their output each: a field (its keys in order of preference), a custom
# field or its label.
_ITEM_KEYS: dict[str, tuple[str, ...]] = {**KEYS, **{key: (key,) for key in _CUSTOM_KEYS}}
_ITEM_ROW = {name: row for row, name in enumerate(_ITEM_KEYS)}
# The fields `_values_of` gives: each key's field, what labels name, the gateway's view combined.
_FIELD_NAMES = [*(name for name in KEYS if name not in {other for _, other in _COMBINED.values()}),
                *(name for name in LABELLED if name not in {preferred for preferred, _ in _COMBINED.values()}),
                *_COMBINED]


@dataclass
class _Lines:
    """Lines on their bytes (no copy): the text, its data buffer and bytes, and where each line starts and ends
    in them (`bounds`: the starts, then the last end)."""

    text: pa.Array
    buffer: pa.Buffer
    data: np.ndarray
    bounds: np.ndarray

    @property
    def starts(self) -> np.ndarray:
        return self.bounds[:-1]

    @property
    def ends(self) -> np.ndarray:
        return self.bounds[1:]


def _chunks(lines: pa.Table) -> list[_Lines]:
    """The lines' chunks on their bytes, each on its own buffer (made one, they would be copied)."""
    chunks = [chunk for chunk in lines.column("line").chunks if len(chunk)] or [pa.array([], pa.string())]
    return [_Lines(text, *line_bytes(text)) for text in (
        pc.cast(pc.fill_null(chunk, ""), pa.string()) if chunk.null_count or chunk.type != pa.string() else chunk
        for chunk in chunks)]


@dataclass
class _Found:
    """What the kernels found in some lines: per row of `_ITEM_KEYS` and line, the number of the value of its most
    preferred key (spaces trimmed) among the distinct texts (-1: none, or empty), whether a row has any line
    with its key (`present`), and, for the custom fields, which lines have it at all (`there`: an empty one
    counts)."""

    codes: np.ndarray
    present: np.ndarray
    distinct: pa.Array
    there: dict[str, np.ndarray]


@dataclass
class _Header:
    prefix_end: np.ndarray
    error: pa.Array
    rest_start: np.ndarray  # the text after the header's last field (the line's end where it is incomplete)
    field_end: np.ndarray  # LEEF 2.0: the end of a sixth field that names the delimiter, else -1
    cut: np.ndarray  # LEEF: what the attributes are cut at where it is not a tab (cef_scan.CUT_*)
    complete: np.ndarray  # the header has all its fields


def _header(lines: _Lines, marker: str, fields: int, delimiter_field: bool = False, written: str = "",
            missing: str = "") -> _Header:
    """Find `fields` |-separated header fields after each line's first `marker:` (CEF, LEEF; or the text `written`),
    with a kernel. A line without it is rejected for that (`missing`, else "no <marker>: header")."""
    from detector.ingest import cef_scan  # (Numba: loaded only by a parse)

    count = len(lines.starts)
    marker_at, rest_start, bar_count, field_end = (np.empty(count, np.int64) for _ in range(4))
    cef_scan.headers(lines.data, lines.bounds, np.frombuffer((written or f"{marker}:").encode(), np.uint8), fields,
                     delimiter_field, marker_at, rest_start, bar_count, field_end)
    has_marker = marker_at >= 0
    complete = has_marker & (bar_count >= fields)
    if complete.all():
        error = pa.nulls(count, pa.string())
    else:
        short = pc.binary_join_element_wise(f"{marker} header has ", pc.cast(pa.array(bar_count), pa.string()),
                                            f" of its {fields} |-separated fields", "")
        error = pc.if_else(pa.array(has_marker), only_where(short, pa.array(~complete)),
                           missing or f"no {marker}: header")
    return _Header(np.where(has_marker, marker_at, lines.ends), error, rest_start, field_end,
                   np.zeros(count, np.int8), complete)


@functools.cache
def _key_table():  # -> cef_scan.KeyTable (a module that loads Numba)
    from detector.ingest import cef_scan

    return cef_scan.KeyTable.of(list(_ITEM_KEYS.values()))


def _cef_found(lines: _Lines, numbered: _Numbered) -> _Header:
    """CEF's `key=value key=value` after the header's 7 fields: a key is the word before an '=' (after the last
    space or '=' before it), its value runs to the space before the next key (`a=b=c`: `a` empty, `b`=`c`)."""
    from detector.ingest import cef_scan

    header = _header(lines, "CEF", fields=7)
    _find(lines, numbered, header.rest_start, cef_rule=np.full(len(lines.starts), cef_scan.CEF_RULE, np.int8))
    return header


def _leef_found(lines: _Lines, numbered: _Numbered) -> _Header:
    """LEEF's `key=value<delimiter>key=value` after the header's 5 fields (and, in 2.0, the delimiter's): the
    key up to the first '=', the value after it (an item without '=' is its own key and value)."""
    # LEEF 2.0 may name its attribute delimiter in a sixth header field; without one (and in 1.0) it is a tab (or
    # `#011`, rsyslog's escape of it), but for the lines that cut their attributes at '|' (McAfee Web Gateway:
    # `...|0|devTime=...|src=...`) or whose tabs became spaces on the way, which are read by CEF's rule.
    from detector.ingest import cef_scan

    header = _header(lines, "LEEF", fields=5, delimiter_field=True)
    named = header.field_end >= 0
    if not named.any():
        _find(lines, numbered, _past_spaces(lines, header.rest_start))
        if not _recut(lines, numbered, header):
            return header
        numbered.row -= len(lines.starts)  # read again, those lines' attributes cut otherwise
    field = pc.dictionary_encode(spans_of(lines.text, header.rest_start,
                                          np.where(named, header.field_end, header.rest_start)))
    marks = [b"\t", b"|", *(_leef_delimiter(text).encode("utf-8", "surrogatepass")
                             for text in field.dictionary.to_pylist())]
    delimiter_of_line = np.where(named, 2 + field.indices.to_numpy().astype(np.int64),
                                 np.where(header.cut == cef_scan.CUT_BARS, 1, 0))
    _find(lines, numbered, _past_spaces(lines, np.where(named, header.field_end + 1, header.rest_start)), marks=marks,
          delimiter_of_line=delimiter_of_line,
          cef_rule=np.where(~named & (header.cut == cef_scan.CUT_SPACES), cef_scan.CEF_RULE, cef_scan.LEEF_ITEMS
                            ).astype(np.int8))
    return header


def _recut(lines: _Lines, numbered: _Numbered, header: _Header) -> bool:
    """Whether some LEEF lines just read found no address, host or URL because their attributes are cut at '|' or
    at spaces, not at tabs (see cef_scan.cuts), marked in `header.cut`: looked at only on such lines, so that
    others cost nothing."""
    from detector.ingest import cef_scan

    codes = numbered.codes[:, numbered.row - len(lines.starts):numbered.row]
    nothing = np.logical_and.reduce([codes[_ITEM_ROW[name]] < 0 for name in ("src", "dst", "dhost", "request")])
    rows = np.flatnonzero(nothing & header.complete)
    if not len(rows):
        return False
    cut = np.empty(len(rows), np.int8)
    cef_scan.cuts(lines.data, lines.bounds, rows, header.rest_start, cut)
    version_one = lines.data[header.prefix_end[rows] + len("LEEF:")] == ord("1")  # (bars: a LEEF 1.0 habit)
    cut[(cut == cef_scan.CUT_BARS) & ~version_one] = cef_scan.CUT_TAB
    header.cut[rows] = cut
    return bool(cut.any())


# Forcepoint's key=value pairs start at its first key (`vendor=Websense product=Security ...`); what comes before is a
# syslog header.
FORCEPOINT_FIRST_KEY = "vendor="
# A line that starts as syslog does (`<PRI>`, a BSD or ISO time) but holds no pairs is another of the device's messages
OTHER_SYSLOG_MESSAGE = rf"^(?:<\d{{1,3}}>|{BSD_TIME} |{ISO_TIME} )"


def _forcepoint_found(lines: _Lines, numbered: _Numbered) -> _Header:
    """Forcepoint Web Security's `key=value key=value` pairs from `vendor=` on, read by CEF's rule: its values are not
    quoted and may hold spaces (`policy=role-8**Default Settings`), so a value runs to the space before the next key;
    and they may hold an unescaped '=' after a space (`user=LDAP://10.0.0.5 OU=Users,DC=example,DC=local/jdevries`),
    so only a word without capitals is a key (all of the format's are lower case)."""
    from detector.ingest import cef_scan

    header = _header(lines, "Forcepoint", fields=0, written=FORCEPOINT_FIRST_KEY,
                     missing="no vendor=... key=value pairs (Forcepoint Web Security SIEM format)")
    without = np.flatnonzero(~header.complete)
    if len(without):  # another message of the device's syslog (Content Gateway's own): ignored, not rejected
        other = pc.fill_null(pc.match_substring_regex(lines.text.take(pa.array(without)), OTHER_SYSLOG_MESSAGE), False)
        rows = without[other.to_numpy(zero_copy_only=False)]
        if len(rows):
            kept = np.ones(len(lines.starts), np.bool_)
            kept[rows] = False
            header.error = only_where(header.error, pa.array(kept))
    _find(lines, numbered, header.prefix_end, cef_rule=np.full(len(lines.starts), cef_scan.CEF_LOWER_KEYS, np.int8))
    return header


def _past_spaces(lines: _Lines, start: np.ndarray, most: int = 4) -> np.ndarray:
    """`start` moved past the spaces there (up to `most`): IBM's LEEF examples end a header with `| `, so the first
    key may follow a space (it would be read as ` src`)."""
    moved = start
    for _ in range(most):
        at = np.flatnonzero((moved >= 0) & (moved < lines.ends))
        spaced = at[lines.data[moved[at]] == 0x20]
        if not len(spaced):
            break
        moved = moved.copy() if moved is start else moved
        moved[spaced] += 1
    return moved


@dataclass
class _Numbered:
    """Where a batch's chunks put what they find: the numbers of the values (fields x lines, see `_Found`; the
    chunk's lines from `row`), the fields present, the distinct texts (`cef_scan.DistinctTexts`)."""

    codes: np.ndarray
    present: np.ndarray
    texts: object  # cef_scan.DistinctTexts (a module that loads Numba)
    row: int = 0


def _find(lines: _Lines, numbered: _Numbered, extension_start: np.ndarray, cef_rule: np.ndarray | None = None,
          marks: Sequence[bytes] = (b"\t",), delimiter_of_line: np.ndarray | None = None) -> None:
    """The values of the wanted keys after `extension_start`, found by the kernel (`cef_scan.values`: CEF's
    rule on the lines `cef_rule` marks (cef_scan.CEF_RULE, CEF_LOWER_KEYS), else LEEF's items cut at each line's
    delimiter, number `delimiter_of_line` in `marks`; a tab) and numbered into `numbered`."""
    from detector.ingest import cef_scan  # (Numba: loaded only by a parse)

    count = len(lines.starts)
    value_start, value_end = np.empty((count, len(_ITEM_KEYS)), np.int32), np.empty((count, len(_ITEM_KEYS)), np.int32)
    lengths = np.array([len(mark) for mark in marks], np.int64)
    keys = _key_table()
    cef_scan.values(lines.data, lines.bounds, extension_start,
                    np.full(count, cef_scan.LEEF_ITEMS, np.int8) if cef_rule is None else cef_rule,
                    np.zeros(count, np.int64) if delimiter_of_line is None else delimiter_of_line,
                    np.frombuffer(b"".join(marks), np.uint8), np.cumsum(lengths) - lengths, lengths,
                    *keys.arrays, value_start, value_end)
    numbered.texts.number(lines.data, value_start, value_end, numbered.codes[:, numbered.row:numbered.row + count],
                          numbered.present)
    numbered.row += count


def _values_of(found: _Found) -> dict[str, pa.DictionaryArray]:
    """The fields' values as dictionary arrays: the texts the kernel found numbered in a hash table (one for all
    fields: `cef_scan.distinct_values`), their escapes undone once per distinct text; a custom field is read where
    its label names what it holds."""
    codes, distinct = found.codes, found.distinct
    count = codes.shape[1]
    escaped = pc.match_substring(distinct, "\\")
    if pc.any(escaped).as_py():
        distinct = pc.replace_with_mask(distinct, escaped,
                                        pc.replace_substring_regex(distinct.filter(escaped), *_UNESCAPE))
    fields = {name: codes[row] for row, name in enumerate(_ITEM_KEYS) if found.present[row]}
    absent = np.full(count, -1, np.int32)
    # custom fields (csN / cnN) are read where a label names what they hold: the first such field (what a label
    # means is looked up for the values that labels have, not every value)
    labels = np.zeros(len(distinct) + 1, bool)
    for c in CUSTOM:
        labels[fields.get(f"{c}label", absent)] = True  # (-1: the extra last)
    labels = np.flatnonzero(labels[:-1])
    names_of_labels = pc.index_in(pc.utf8_lower(distinct.take(labels)), value_set=_LABEL_SET)
    meanings = np.full(len(distinct) + 1, len(LABELLED))  # the last: for no label (-1)
    meanings[labels] = _LABEL_MEANINGS[pc.fill_null(names_of_labels, len(_LABEL_MEANINGS) - 1).to_numpy()]
    labelled = {name: absent for name in LABELLED}
    for c in reversed(CUSTOM):
        label, value = fields.pop(f"{c}label", None), fields.pop(c, None)
        if label is None or value is None or not (label >= 0).any():
            continue
        custom = found.there[c]  # whether it is there at all (an empty one hides later ones)
        meaning = meanings[label]  # (-1: the last, no meaning)
        for number, name in enumerate(LABELLED):
            labelled[name] = np.where((meaning == number) & custom, value, labelled[name])
    fields.update(labelled)
    for name, (preferred, other) in _COMBINED.items():
        fields[name] = np.where(fields[preferred] >= 0, fields.pop(preferred), fields.pop(other, absent))
    return _dictionary_arrays({name: fields.get(name, absent) for name in _FIELD_NAMES}, distinct)


def _dictionary_arrays(codes: dict[str, np.ndarray], values: pa.Array) -> dict[str, pa.DictionaryArray]:
    """`codes` (per field, numbers in `values`, -1: null) as dictionary arrays, each of only the values it uses (as
    numbered by a kernel, `cef_scan.renumbered`)."""
    from detector.ingest import cef_scan

    every = np.stack(list(codes.values())).astype(np.int32, copy=False)
    fields, count = every.shape
    indices, used = every, np.empty((fields, min(len(values), count)), np.int32)  # (renumbered in place)
    used_count = np.empty(fields, np.int64)
    cef_scan.renumbered(every, len(values), indices, used, used_count)
    arrays = {}
    for field, name in enumerate(codes):
        valid = indices[field] >= 0
        validity = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))  # (Arrow's bitmap)
        arrays[name] = pa.DictionaryArray.from_arrays(
            pa.Array.from_buffers(pa.int32(), count, [validity, pa.py_buffer(indices[field])]),
            values.take(used[field, :used_count[field]]))
    return arrays


def _fields_of(find: Callable[[_Lines, _Numbered], _Header], event_id: bool = False
               ) -> Callable[[pa.Table], pa.Table]:
    """Lines -> `fields(line_no, prefix_length, header_error, <field values>)`: the values found by `find` (a
    kernel's walk over the lines, chunk by chunk), dictionary-encoded. With `event_id` (LEEF), also the header's
    event ID of the lines that have no decision key (`event_id`: Forcepoint names its decision there,
    `transaction:blocked`); else (CEF) whether the header's vendor is one of SOURCE_SENT_IN."""

    def fields(lines: pa.Table) -> pa.Table:
        from detector.ingest import cef_scan

        numbered = _Numbered(np.empty((len(_ITEM_KEYS), lines.num_rows), np.int32), np.zeros(len(_ITEM_KEYS), bool),
                             cef_scan.DistinctTexts())
        prefix_lengths, errors, headers = [], [], []
        for chunk in _chunks(lines):
            header = find(chunk, numbered)
            prefix_lengths.append(header.prefix_end - chunk.starts)
            errors.append(header.error)
            headers.append(header)
        codes = numbered.codes
        if event_id:
            ids = {"event_id": _event_ids(lines, headers, codes[_ITEM_ROW["act"]] < 0)}
        else:
            ids = {"source_sent_in": _source_sent_in(lines, headers)}
        there = {c: codes[_ITEM_ROW[c]] != -1 for c in CUSTOM if numbered.present[_ITEM_ROW[c]]}
        np.maximum(codes, -1, out=codes)  # (empty: none)
        offsets, text = numbered.texts.texts()
        distinct = pa.StringArray.from_buffers(len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(text))
        return pa.table({"line_no": lines.column("line_no"), "prefix_length": np.concatenate(prefix_lengths),
                         "header_error": pa.concat_arrays(errors),
                         **_values_of(_Found(codes, numbered.present, distinct, there)), **ids})

    return fields


def _source_sent_in(lines: pa.Table, headers: Sequence[_Header]) -> np.ndarray:
    """Per line, whether its header's vendor is one of SOURCE_SENT_IN (ASCII case-insensitively), written as these
    vendors write it, right after `CEF:0|`: compared on the lines' bytes where its first letter is a listed name's
    (no text per line; one byte read per line)."""
    found, first = np.zeros(lines.num_rows, np.bool_), 0
    after = len("CEF:0|")
    for chunk, header in zip(_chunks(lines), headers, strict=True):
        vendor = np.minimum(header.prefix_end + after, len(chunk.data) - 1)
        letters = chunk.data[vendor] & 0xDF  # (letters in upper case)
        for name in SOURCE_SENT_IN:
            rows = np.flatnonzero(letters == (name[0] & 0xDF))
            rows = rows[header.complete[rows] & (vendor[rows] + len(name) < header.rest_start[rows])]
            if len(rows):
                written = chunk.data[vendor[rows][:, None] + np.arange(len(name) + 1)]
                lowered = np.where((written >= 65) & (written <= 90), written + 32, written)
                found[first + rows] |= (lowered == np.frombuffer(name + b"|", np.uint8)).all(axis=1)
        first += len(chunk.starts)
    return found


def _event_ids(lines: pa.Table, headers: Sequence[_Header], wanted: np.ndarray) -> pa.DictionaryArray:
    """The header's last field (LEEF's event ID: after the header's last '|' but one) of the `wanted` lines with a
    complete header, cut out chunk by chunk; null elsewhere (so that lines with a decision key cost nothing)."""
    parts, first = [], 0
    for chunk, header in zip(_chunks(lines), headers, strict=True):
        rows = np.flatnonzero(wanted[first:first + len(chunk.starts)] & header.complete)
        ids = pa.nulls(len(chunk.starts), pa.string())
        if len(rows):
            found = spans(chunk.buffer, header.prefix_end[rows], header.rest_start[rows] - 1)
            place = np.full(len(chunk.starts), -1, np.int64)
            place[rows] = np.arange(len(rows))
            ids = found.take(pa.array(place, mask=place < 0))
        parts.append(ids)
        first += len(chunk.starts)
    headers_text = pc.dictionary_encode(pa.concat_arrays(parts))
    return pa.DictionaryArray.from_arrays(headers_text.indices,
                                          pc.extract_regex(headers_text.dictionary, r"(?P<id>[^|]*)$").field("id"))


_cef_fields = _fields_of(_cef_found)
_leef_fields = _fields_of(_leef_found, event_id=True)
_forcepoint_fields = _fields_of(_forcepoint_found)



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
-- (a space after the PRI, as some relays write `<134> Jun  5 ...`, is no part of the time)
from (select case when starts_with(value, '<') then ltrim(substr(value, strpos(value, '>') + 1), ' ') else value end
          as syslog
      from distinct_values)
"""
# `request`: a URL, a scheme-less one, or a path only
REQUEST_SQL = """
select hostport_host(hostport) as host, hostport_port(hostport) as port, url_scheme(value) as scheme,
    case when starts_with(value, '/') then split_part(split_part(value, '?', 1), '#', 1) else rest_path(rest) end
        as path
from (select *, authority_hostport(rest_authority(rest)) as hostport
      from (select value, case when starts_with(value, '/') then null else coalesce(url_rest(value), value) end as rest
            from distinct_values))
"""
HOST_SQL = "select clean_host(value) as value from distinct_values"
# (a dash is no method: Forcepoint's LEEF writes `method=-` where the event names none)
METHOD_SQL = ("select nullif(nullif(upper(value), '-'), '') as value, upper(value) = 'CONNECT' as is_connect"
              " from distinct_values")
# (a dash or nothing is no value: Forcepoint writes `cs3Label=ContentType cs3=-` for a response without a type)
LOWER_SQL = "select nullif(nullif(lower(value), '-'), '') as value from distinct_values"
# (Forcepoint's key=value format leaves `; charset=utf-8` unescaped: read as a pair of its own, the ';' stays behind)
CONTENT_TYPE_SQL = "select nullif(nullif(lower(rtrim(value, '; ')), '-'), '') as value from distinct_values"
ACTION_SQL = r"""
select case
    -- (Citrix NetScaler's application firewall logs `act=not blocked` for a violation it let through)
    when regexp_matches(decision, '^not (blocked|denied|dropped)$') then 'allowed'
    -- (Forcepoint NGFW: Discard drops silently, Refuse answers with an ICMP error or a TCP reset)
    when regexp_matches(decision, 'den(y|ied)|block|drop|reject|reset|prevent|refuse|discard') then 'blocked'
    when decision in ('allow', 'allowed', 'accept', 'accepted', 'permit', 'permitted', 'pass', 'passed',
                      'success', 'succeeded', 'alert', 'observed', 'monitor', 'monitored', 'continue',
                      -- FortiOS traffic logs: a session that ended (normally, idle, or reset by one end)
                      'close', 'timeout', 'client-rst', 'server-rst')
         or decision like 'tcp\_%' escape '\' then 'allowed'
    else 'unknown'
end as value
from (select lower(value) as decision from distinct_values)
"""
# LEEF's event ID where it names the decision after its last ':' (Forcepoint: `transaction:blocked`,
# `transaction:permitted`); any other event ID decides nothing (null)
EVENT_ACTION_SQL = r"""
select case when decision in ('blocked', 'block', 'denied', 'deny', 'dropped', 'drop', 'rejected', 'reject')
                then 'blocked'
            when decision in ('permitted', 'permit', 'allowed', 'allow', 'accepted', 'accept', 'passed', 'pass')
                then 'allowed'
       end as value
from (select lower(trim(regexp_extract(value, '([^:]*)$', 1))) as decision from distinct_values)
"""
# Zscaler puts the HTTP response code in `outcome`; other devices a word (success, failure)
OUTCOME_SQL = r"""
select try_cast(case when regexp_full_match(value, '[1-5]\d\d') then value end as integer) as value
from distinct_values
"""
HOST_SOURCES = pa.array(["connect", "url", "http_host", "none"])
# Vendors (header field 2, lower case) whose documented CEF puts the bytes the source sent in `in` and the bytes it
# received in `out`, as the CEF standard defines bytesIn/bytesOut (Palo Alto's CEF guide: `in=$bytes_sent
# out=$bytes_received`); other devices (FortiGate, Zscaler's feeds) write `out` for what the client sent.
SOURCE_SENT_IN = (b"palo alto networks",)
# A user of a dash, quoted or not (Barracuda's WAF writes `suser="-"`), is none; so is an address of 0.0.0.0, a dash
# (Barracuda's WAF: `dst=-`) or any other text that is no address (user_names.addresses)
_NO_USER = ["-", '"-"']


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
        self.event_action, self.content_type = DistinctQuery(EVENT_ACTION_SQL), DistinctQuery(CONTENT_TYPE_SQL)
        self.integer, self.bigint = DistinctQuery(INTEGER_SQL), DistinctQuery(BIGINT_SQL)


def _prefixes(lines: pa.Table, rows: np.ndarray, lengths: np.ndarray) -> pa.Array:
    """The first `lengths[row]` bytes of each of `rows` (in order) of the lines, cut out chunk by chunk."""
    parts, first = [], 0
    for chunk in _chunks(lines):
        inside = rows[(rows >= first) & (rows < first + len(chunk.starts))]
        starts = chunk.starts[inside - first]
        parts.append(spans(chunk.buffer, starts, starts + lengths[inside]))
        first += len(chunk.starts)
    return pa.concat_arrays(parts)


def _schema_columns(connection: duckdb.DuckDBPyConnection, queries: _Queries, fields: pa.Table, lines: pa.Table
                    ) -> pa.Table:
    """`fields` (line_no, prefix_length, header_error and the values read) of `lines` -> schema columns,
    reject_reason and is_ignored. Every value goes through SQL once per distinct value; what combines them is
    Arrow's."""
    def field(name: str) -> pa.Array:
        return one_array(fields.column(name))

    def through(name: str, query: DistinctQuery) -> dict[str, pa.Array]:
        return distinct_sql.through(connection, query, encoded(field(name)))

    def number(name: str, query: DistinctQuery, target: pa.DataType) -> pa.Array:
        values = field(name)  # dictionary-encoded: the distinct values cast, then spread
        return integers(connection, query, values.dictionary, target).take(values.indices)

    t_rt, request, dhost = field("t_rt"), field("request"), field("dhost")
    rt_time = through("t_rt", queries.time)["value"]
    no_rt = pc.is_null(t_rt)
    header_time = pa.nulls(len(t_rt), rt_time.type)
    if pc.any(no_rt).as_py():  # the header's time is read only for lines that have no time of their own
        without_rt = no_rt.to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(without_rt)
        prefix = encoded(_prefixes(lines, rows, field("prefix_length").to_numpy()))  # (before the marker)
        place = np.zeros(len(without_rt), np.int64)
        place[rows] = np.arange(len(rows))
        header_time = distinct_sql.through(connection, queries.header_time, prefix)["value"].take(
            pa.array(place, mask=~without_rt))
    url = through("request", queries.request)
    host_header = through("dhost", queries.host)["value"]
    method = through("method", queries.method)
    client, server = addresses(field("src")), addresses(field("dst"))
    no_place = pc.and_(pc.and_(pc.is_null(client), pc.is_null(server)), pc.and_(pc.is_null(dhost), pc.is_null(request)))
    header_error = field("header_error")
    reason = _reject_reasons(header_error, no_place, t_rt, plain(field("time_format")), rt_time, header_time)
    url_host, header_host = plain(url["host"]), plain(host_header)
    source = np.where(pc.is_valid(url_host).to_numpy(zero_copy_only=False), 1,
                      np.where(pc.is_valid(header_host).to_numpy(zero_copy_only=False), 2, 3))
    host = pc.coalesce(url_host, header_host)
    connect = pc.and_(pc.fill_null(method["is_connect"], False), pc.is_valid(host)).to_numpy(zero_copy_only=False)
    action = plain(through("act", queries.action)["value"])
    if "event_id" in fields.column_names:  # LEEF: a decision named by the event ID where no key gives one
        action = pc.coalesce(action, plain(through("event_id", queries.event_action)["value"]))
    sent, received = number("sent", queries.bigint, pa.int64()), number("received", queries.bigint, pa.int64())
    if "source_sent_in" in fields.column_names:  # vendors whose CEF puts what the source sent in `in` (the standard's)
        swapped = fields.column("source_sent_in").combine_chunks()
        if pc.any(swapped).as_py():
            sent, received = pc.if_else(swapped, received, sent), pc.if_else(swapped, sent, received)
    http_status = pc.coalesce(through("outcome", queries.outcome)["value"],
                              number("status_at", queries.integer, pa.int32()))
    return pa.table({
        "line_no": fields.column("line_no"),
        "reject_reason": reason,
        "is_ignored": pc.and_(pc.is_null(header_error), no_place),
        "ts": pc.cast(pc.coalesce(rt_time, header_time), TIMESTAMP),
        "src_ip": client,
        "user_name": _user_names(field("login"), field("usr")),
        "host": host,
        "host_source": pa.DictionaryArray.from_arrays(pa.array(np.where(connect, 0, source).astype(np.int32)),
                                                      HOST_SOURCES),
        "dst_ip": server,
        "dst_port": pc.coalesce(number("dpt", queries.integer, pa.int32()), url["port"]),
        "network_protocol": pc.coalesce(plain(through("app", queries.lower)["value"]), plain(url["scheme"])),
        "http_method": method["value"],
        "url_path": url["path"],
        "http_status": http_status,
        # a 407 is the proxy asking for credentials, no verdict, whatever `act` says (auth_challenge)
        "action": unknown_where_challenged(pc.fill_null(action, "unknown"), http_status, field("act")),
        "bytes_out": sent,
        "bytes_in": received,
        "user_agent": without(encoded(field("agent")), ["-"]),  # (Forcepoint's LEEF: `userAgent=-`)
        "content_type": through("content_type", queries.content_type)["value"],
        "vendor_app": field("vendor_app"),
        "vendor_category": field("vendor_category"),
        "vendor_department": _named(field("vendor_department")),
    })


def _named(departments: pa.DictionaryArray) -> pa.DictionaryArray:
    """A department that is a number names none: Forcepoint's `role=8` is the ID of a policy role (Zscaler's LEEF
    feed writes the department's name under the same key)."""
    numbers = np.flatnonzero(pc.fill_null(pc.match_substring_regex(departments.dictionary, r"^\d+$"), False)
                             .to_numpy(zero_copy_only=False))
    if not len(numbers):
        return departments
    named = pc.invert(pc.fill_null(pc.is_in(departments.indices, pa.array(numbers, departments.indices.type)), False))
    return pa.DictionaryArray.from_arrays(only_where(departments.indices, named), departments.dictionary)


def _user_names(login: pa.Array, user: pa.Array) -> pa.DictionaryArray:
    """The account users.csv names: a login ID where the line has one (Forcepoint), else the user field, each a
    directory path or DN reduced to its account (user_names.account_names); a dash is none."""
    user = account_names(without(encoded(user), _NO_USER))
    if login.null_count == len(login):
        return user
    return first_valid(account_names(without(encoded(login), _NO_USER)), user)


def _reject_reasons(header_error: pa.Array, no_place: pa.Array, t_rt: pa.Array, time_format: pa.Array,
                    rt_time: pa.Array, header_time: pa.Array) -> pa.Array:
    """Why a line is rejected (null when it parsed or is ignored): its header, then its time."""
    bad_time = pc.and_(pc.is_valid(t_rt), pc.is_null(rt_time))
    no_time = pc.and_(pc.is_null(rt_time), pc.is_null(header_time))
    reason = header_error
    if pc.any(pc.and_(pc.invert(no_place), pc.or_(bad_time, no_time))).as_py():
        written = pc.binary_join_element_wise(
            "time is not epoch milliseconds or MMM dd yyyy HH:mm:ss: ", plain(t_rt),
            pc.fill_null(pc.binary_join_element_wise(" (devTimeFormat ", time_format, ")", ""), ""), "")
        time_reason = pc.if_else(bad_time, written, "no time: no rt/start/end/devTime and no syslog header")
        reason = pc.coalesce(reason, only_where(time_reason, pc.and_(pc.invert(no_place), no_time)))
    return reason


def arrow_parser(fields_of: Callable[[pa.Table], pa.Table]) -> Callable[[ParseContext], BatchParser]:
    """A parser that splits lines into `fields` with pyarrow (`fields_of`), then reads what they mean."""

    def new_parser(context: ParseContext) -> BatchParser:
        define_macros(context.connection)
        queries = _Queries(context.timezone, reference_time(context.path, context.timezone))

        def parse(lines: pa.Table) -> ParseResult:
            fields = fields_of(lines)
            with parse_cursor(context.connection) as cursor:  # a cursor of its own: batches run on two threads
                return split_outcomes(_schema_columns(cursor, queries, fields, lines), lines)

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
    sniff=_capped(r"^.{0,300}?CEF: ?\d+\|"),  # FortiOS writes `CEF: 0|` (its log reference's CEF examples)
    new_parser=arrow_parser(_cef_fields),
    independent_batches=True,
    fields=FIELDS,
)

FORCEPOINT_KV = Format(
    name="forcepoint_kv",
    source_kind="proxy",
    summary="Forcepoint (Websense) Web Security / Content Gateway SIEM key=value syslog (vendor=Websense "
            "product=Security ... url=...), its native format beside CEF and LEEF",
    sniff=line_share(re.compile(r"^.{0,300}?\bvendor=(?:Websense|Forcepoint) product=(?=.* (?:dst_host|url)=)")),
    new_parser=arrow_parser(_forcepoint_fields),
    independent_batches=True,
    # (the format names no application; `role` is a policy role's ID, no department)
    fields=tuple(f for f in FIELDS if f not in ("vendor_app", "vendor_department")),
)

LEEF = Format(
    name="leef",
    source_kind="proxy",
    summary="IBM QRadar LEEF 1.0/2.0 (generic), with or without a syslog header",
    sniff=_capped(r"^.{0,300}?LEEF:[12]\.0\|"),
    new_parser=arrow_parser(_leef_fields),
    independent_batches=True,
    # LEEF defines no key for the HTTP status or content type (custom csN fields are CEF's); the status is read where
    # a feed writes it (Zscaler's `outcome`, Forcepoint's `proxyStatus-code`, McAfee Web Gateway's `httpStatus`).
    fields=tuple(f for f in FIELDS if f != "content_type"),
)
