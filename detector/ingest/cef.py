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

Parsing works on the lines' own bytes, in slices of 8,192 lines (their bytes stay in the CPU's caches): the
marker is found by Arrow, the header's '|', backslashes and CEF's spaces and '=' by numpy (escaped '|' and '='
by the parity of their backslash run), LEEF's delimiters of one byte and '=' by numpy in one pass (every line at
its own delimiter), others by an Arrow split (escapes behind placeholders of their length, so places in the
items are places in the lines); keys are matched once per
distinct key and only the values of keys we read are cut out (byte_spans.spans), dictionary-encoded once, then
trimmed, unescaped and matched to custom labels once per distinct value; fields whose keys a batch lacks take
no work. Fields are dictionary arrays to the end; what the
values mean (times, URLs, decisions) is the shared SQL macros' answer, run once per distinct value of a file
(arrow_ops.DistinctQuery) and combined in Arrow.

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
from detector.ingest.arrow_ops import DistinctQuery, one_array, only_where, space_trimmed
from detector.ingest.base import BatchParser, Format, ParseContext, ParseResult, parse_cursor, split_outcomes
from detector.ingest.byte_spans import row_of, spans
from detector.ingest.distinct_sql import BIGINT_SQL, INTEGER_SQL, encoded, in_time_zone, integers, plain, without
from detector.ingest.layout_bytes import line_bytes
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

# Escapes: `\\`, `\|` and `\=` stand for `\`, `|` and `=`. Escaped '|' and '=' separate nothing; the values read get
# their characters back (once per distinct value that has a backslash).
_UNESCAPE = (r"\\([\\|=])", r"\1")
# LEEF delimiters of several characters are split with pyarrow, escapes hidden behind placeholders of their length
_PLACEHOLDERS = (("\\\\", "\x01\x01"), ("\\|", "\x02\x02"), ("\\=", "\x03\x03"))
BACKSLASH, BAR, EQUALS, SPACE = 92, 124, 61, 32
# Lines are located in slices: the bytes of one stay in the CPU's caches while numpy passes over them.
SLICE_LINES = 8_192


@dataclass
class _Lines:
    """Lines on their bytes (no copy): the text's data buffer and where each line starts and ends in it
    (`bounds`: the starts, then the last end)."""

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

    def positions_of(self, *marks: int, without: np.ndarray | None = None) -> np.ndarray:
        """Where any of the bytes `marks` occurs in the lines (sorted positions in `data`), except at the
        positions `without` (few: escaped ones)."""
        region = self.data[self.bounds[0]:self.bounds[-1]]
        found = region == marks[0]
        for mark in marks[1:]:
            found |= region == mark
        if without is not None and len(without):  # (an escape at a slice's end may point past it)
            found[without[without < self.bounds[-1]] - self.bounds[0]] = False
        places = np.flatnonzero(found)
        places += self.bounds[0]
        return places

    def rows(self, start: int, count: int) -> _Lines:
        return _Lines(self.text.slice(start, count), self.buffer, self.data, self.bounds[start:start + count + 1])


def _line_bytes(lines: pa.Table) -> _Lines:
    text = one_array(lines.column("line"))
    if text.null_count or text.type != pa.string():
        text = pc.cast(pc.fill_null(text, ""), pa.string())
    return _Lines(text, *line_bytes(text))


def _escaped_separators(data: np.ndarray, backslashes: np.ndarray) -> np.ndarray:
    """The '|' and '=' that a backslash escapes: in a run of backslashes, the first, third ... escape the byte
    after them (`\\\\=`: an escaped backslash, then a real '=')."""
    if not len(backslashes):
        return backslashes
    run_starts = np.ones(len(backslashes), bool)
    run_starts[1:] = backslashes[1:] != backslashes[:-1] + 1
    first_of_run = backslashes[run_starts][np.cumsum(run_starts) - 1]
    escaped = backslashes[(backslashes - first_of_run) % 2 == 0] + 1
    escaped = escaped[escaped < len(data)]
    return escaped[(data[escaped] == BAR) | (data[escaped] == EQUALS)]


@dataclass
class _Header:
    """Where the `MARKER:a|b|...|` headers of some lines are: the syslog prefix's end, the body's start (after
    the marker), the text after the header's last field (`rest_start`; the line's end where the header is
    incomplete), the real (unescaped) '|', the escaped '|' and '=', the backslashes after the markers, and why
    a header is wrong (null: it is not)."""

    prefix_end: np.ndarray
    body_start: np.ndarray
    rest_start: np.ndarray
    bars: np.ndarray
    first_bar: np.ndarray  # the number (in `bars`) of each line's first bar after its marker
    bar_count: np.ndarray
    escaped: np.ndarray  # positions of escaped '|' and '='
    backslashes: np.ndarray  # positions of the backslashes after the markers
    error: pa.Array


def _header(lines: _Lines, marker: str, fields: int) -> _Header:
    """Find `fields` |-separated header fields after each line's first `marker:` (CEF, LEEF)."""
    found = pc.find_substring(lines.text, f"{marker}:").to_numpy(zero_copy_only=False)
    has_marker = found >= 0
    prefix_end = np.where(has_marker, lines.starts + found, lines.ends)
    body_start = np.where(has_marker, prefix_end + len(marker) + 1, lines.ends)
    backslashes = lines.positions_of(BACKSLASH)
    escaped = _escaped_separators(lines.data, backslashes)
    if len(backslashes):
        backslashes = backslashes[backslashes >= body_start[row_of(backslashes, lines.bounds)]]
    bars = lines.positions_of(BAR, without=escaped)
    first_bar = np.searchsorted(bars, body_start)
    bar_count = np.searchsorted(bars, lines.ends) - first_bar
    complete = bar_count >= fields
    last_bar = bars[np.minimum(first_bar + fields - 1, len(bars) - 1)] if len(bars) else lines.ends
    rest_start = np.where(complete, last_bar + 1, lines.ends)
    if complete.all():
        error = pa.nulls(len(found), pa.string())
    else:
        count = pc.binary_join_element_wise(f"{marker} header has ", pc.cast(pa.array(bar_count), pa.string()),
                                            f" of its {fields} |-separated fields", "")
        error = pc.if_else(pa.array(has_marker), only_where(count, pa.array(~complete)), f"no {marker}: header")
    return _Header(prefix_end, body_start, rest_start, bars, first_bar, bar_count, escaped, backslashes, error)


@dataclass
class _Located:
    """What some lines hold: per line, the syslog prefix's end and the header's error; per item of a key we
    read: the key's number (in `_ALL_KEYS`), its line and where its value is (positions in the lines' data;
    `value_end <= value_start`: empty)."""

    prefix_end: np.ndarray
    error: pa.Array
    keys: np.ndarray
    rows: np.ndarray
    value_start: np.ndarray
    value_end: np.ndarray

    @staticmethod
    def of(lines: _Lines, header: _Header, rows: np.ndarray, key_start: np.ndarray, key_end: np.ndarray,
           value_start: np.ndarray, value_end: np.ndarray) -> _Located:
        """The items whose key (`key_start`..`key_end`) is one we read."""
        keys = _key_numbers(spans(lines.buffer, key_start, key_end))
        read = np.flatnonzero(keys >= 0)
        return _Located(header.prefix_end, header.error, keys[read], rows[read],
                        value_start[read], value_end[read])


_KEY_SET = pa.array(_ALL_KEYS, pa.string())


def _key_numbers(keys: pa.Array) -> np.ndarray:
    """Each key's number in `_ALL_KEYS` (case-insensitively), -1 for keys we do not read; matched once per
    distinct key."""
    encoded = pc.dictionary_encode(keys)
    numbers = pc.fill_null(pc.index_in(pc.utf8_lower(encoded.dictionary), value_set=_KEY_SET), -1)
    return numbers.to_numpy(zero_copy_only=False).astype(np.int16)[encoded.indices.to_numpy()] if len(numbers) \
        else np.zeros(len(keys), np.int16)


def _cef_located(lines: _Lines) -> _Located:
    """CEF's `key=value key=value` after the header's 7 fields: a key is the word before an '=' (after the last
    space or '=' before it), its value runs to the space before the next key (`a=b=c`: `a` empty, `b`=`c`).
    Found with numpy on the bytes: the spaces and real '=' of the lines once, then only those positions."""
    header = _header(lines, "CEF", fields=7)
    marks = lines.positions_of(SPACE, EQUALS, without=header.escaped)
    at_equals = np.flatnonzero(lines.data[marks] == EQUALS)
    equals = marks[at_equals]
    rows = row_of(equals, lines.bounds)
    rest_start = header.rest_start[rows]
    in_extension = equals >= rest_start
    if not in_extension.all():
        at_equals, equals, rows, rest_start = (a[in_extension] for a in (at_equals, equals, rows, rest_start))
    after_mark = np.where(at_equals > 0, marks[np.maximum(at_equals - 1, 0)] + 1, 0)
    key_start = np.maximum(after_mark, rest_start)
    next_in_row = np.zeros(len(equals), bool)
    next_in_row[:-1] = rows[1:] == rows[:-1]
    value_end = np.where(next_in_row, np.roll(key_start, -1) - 1, lines.ends[rows])
    return _Located.of(lines, header, rows, key_start, equals, equals + 1, value_end)


def _leef_located(lines: _Lines) -> _Located:
    """LEEF's `key=value<delimiter>key=value` after the header's 5 fields (and, in 2.0, the delimiter's): the
    key up to the first '=', the value after it (an item without '=' is its own key and value). The header and
    the items are found on the bytes (`_leef_items`), as places in the lines."""
    header = _header(lines, "LEEF", fields=5)
    # LEEF 2.0 may name its attribute delimiter in a sixth header field; without one (and in 1.0) it is a tab.
    bars = header.bars
    sixth_bar = bars[np.minimum(header.first_bar + 5, len(bars) - 1)] if len(bars) else lines.ends
    version_2 = lines.data[np.minimum(header.body_start, len(lines.data) - 1)] == ord("2")
    names_delimiter = (header.bar_count >= 6) & version_2
    if names_delimiter.any():  # a sixth field with a real '=' in it is the first attribute, not a delimiter
        named = np.flatnonzero(names_delimiter)
        equals = pc.count_substring(spans(lines.buffer, header.rest_start[named], sixth_bar[named]), "=")
        escaped = header.escaped[lines.data[header.escaped] == EQUALS]
        escaped_equals = np.searchsorted(escaped, sixth_bar[named]) - np.searchsorted(escaped, header.rest_start[named])
        names_delimiter[named] = equals.to_numpy(zero_copy_only=False) == escaped_equals
    field = spans(lines.buffer, header.rest_start, np.where(names_delimiter, sixth_bar, header.rest_start))
    encoded = pc.dictionary_encode(field)
    delimiters = pa.DictionaryArray.from_arrays(
        encoded.indices, pa.array([_leef_delimiter(named) for named in encoded.dictionary.to_pylist()]))
    attributes_start = np.where(names_delimiter, sixth_bar + 1, header.rest_start)
    rows, starts, ends, key_end = _leef_items(lines, header, attributes_start, delimiters)
    return _Located.of(lines, header, rows, starts, key_end, np.where(key_end < ends, key_end + 1, starts), ends)


def _leef_items(lines: _Lines, header: _Header, attributes_start: np.ndarray, delimiters: pa.DictionaryArray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The items of each line's attributes (from `attributes_start`), cut at its delimiter: their rows, starts,
    ends and keys' ends (the first real '=' in them, else their end), as places in the lines. Delimiters of one
    byte (a tab, '^', ...) are found with numpy on the lines' bytes, in the same pass as the '='; others with an
    Arrow split."""
    named = delimiters.dictionary.to_pylist()
    marks = [mark.encode() for mark in dict.fromkeys(named)] or [b"\t"]  # ("" and x09 both name the tab)
    if any(len(mark) != 1 or mark in (b"=", b"\\") for mark in marks):
        return _split_items(lines, header, attributes_start, delimiters)
    places = lines.positions_of(EQUALS, *(mark[0] for mark in marks), without=header.escaped)
    rows = row_of(places, lines.bounds)
    at = lines.data[places]
    is_cut = at != EQUALS
    keep = places >= attributes_start[rows]
    line_marks = np.array([mark.encode()[0] for mark in named] or [9], np.uint8)[
        delimiters.indices.to_numpy(zero_copy_only=False)]
    keep &= ~is_cut | (at == line_marks[rows])  # a cut is at the delimiter of its own line
    if not keep.all():
        places, rows, is_cut = places[keep], rows[keep], is_cut[keep]
    cut_at = np.flatnonzero(is_cut)
    cuts, cut_rows = places[cut_at], rows[cut_at]
    # a line's items: from its attributes' start to its first cut, from each cut to the next, the last to its end
    cut_counts = np.bincount(cut_rows, minlength=len(attributes_start))
    first = np.arange(len(attributes_start)) + np.cumsum(cut_counts) - cut_counts
    after_cut = np.arange(len(cuts)) + cut_rows + 1
    starts, ends = np.empty(len(cuts) + len(first), np.int64), np.empty(len(cuts) + len(first), np.int64)
    starts[first], starts[after_cut] = attributes_start, cuts + 1
    ends[after_cut - 1], ends[first + cut_counts] = cuts, lines.ends
    # an item's key ends at the first place after its start (after its cut, or its line's first) if it is an '='
    item_rows = np.repeat(np.arange(len(first)), cut_counts + 1)
    place_counts = np.bincount(rows, minlength=len(first))
    following = np.empty(len(starts), np.int64)
    following[first], following[after_cut] = np.cumsum(place_counts) - place_counts, cut_at + 1
    following = np.minimum(following, len(places) - 1) if len(places) else following
    ends_key = (~is_cut[following] & (rows[following] == item_rows)) if len(places) else np.zeros(len(starts), bool)
    key_end = np.where(ends_key, places[following] if len(places) else ends, ends)
    return item_rows, starts, ends, key_end


def _split_items(lines: _Lines, header: _Header, attributes_start: np.ndarray, delimiters: pa.DictionaryArray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The items of each line's attributes (from `attributes_start`), split with pyarrow at its delimiter: their
    rows, starts, ends and keys' ends (the first real '=' in them, else their end), as places in the lines.
    Escapes are hidden behind placeholders of their length first, so that places in the items are places in
    the lines and an escaped '|' or '=' separates nothing."""
    attributes = spans(lines.buffer, attributes_start, lines.ends)
    if len(header.backslashes):
        has_backslash = np.zeros(len(attributes), bool)
        has_backslash[row_of(header.backslashes, lines.bounds)] = True
        attributes = _replaced_where(attributes, pa.array(has_backslash), _PLACEHOLDERS)
    indices = delimiters.indices.to_numpy(zero_copy_only=False)
    marks = delimiters.dictionary.to_pylist()
    if len(marks) <= 1:
        lists = pc.split_pattern(attributes, marks[0] if marks else "\t")
    else:
        rows_of = [np.flatnonzero(indices == number) for number in range(len(marks))]
        parts = [pc.split_pattern(attributes.take(rows), mark) for rows, mark in zip(rows_of, marks, strict=True)]
        lists = pa.concat_arrays(parts).take(np.argsort(np.concatenate(rows_of), kind="stable"))
    line_items = lists.offsets.to_numpy().astype(np.int64)
    line_items -= line_items[0]
    items = lists.flatten()
    offsets = line_bytes(items)[2]
    offsets -= offsets[0]
    counts = np.diff(line_items)
    rows = np.repeat(np.arange(len(counts)), counts)
    # an item's place: its line's attributes' start, the items before it in its line, a delimiter after each
    delimiter_lengths = np.array([len(mark.encode()) for mark in marks] or [1], np.int64)[indices]
    line_base = attributes_start - offsets[line_items[:-1]] - line_items[:-1] * delimiter_lengths
    place_in_line = np.arange(len(rows)) * (delimiter_lengths[rows] if len(marks) > 1 else len(marks[0].encode())) \
        if marks else np.zeros(0, np.int64)
    starts = line_base[rows] + offsets[:-1] + place_in_line
    ends = starts + np.diff(offsets)
    equals = pc.find_substring(items, "=").to_numpy(zero_copy_only=False)
    key_end = np.where(equals >= 0, starts + equals, ends)
    return rows, starts, ends, key_end


def _replaced_where(text: pa.Array, where: pa.Array, replacements: Sequence[tuple[str, str]]) -> pa.Array:
    """`text` with each (old, new) of `replacements` applied in the rows where `where` is true (few, usually)."""
    rows = text.filter(where)
    for old, new in replacements:
        rows = pc.replace_substring(rows, old, new)
    return pc.replace_with_mask(text, where, rows)


# The gateway's own view: a custom field whose label names it, else the gateway's key.
_COMBINED = {"vendor_app": ("app_at", "service"), "vendor_category": ("category_at", "cat"),
             "vendor_department": ("dept_at", "dept")}
_CUSTOM_KEYS = [key for c in CUSTOM for key in (c, f"{c}label")]


# What each item row of `_chosen_items` holds: a field (its keys in order of preference), a custom field or label.
_ITEM_KEYS: dict[str, tuple[str, ...]] = {**KEYS, **{key: (key,) for key in _CUSTOM_KEYS}}
# The fields `_values_of` gives: each key's field, what labels name, the gateway's view combined.
_FIELD_NAMES = [*(name for name in KEYS if name not in {other for _, other in _COMBINED.values()}),
                *(name for name in LABELLED if name not in {preferred for preferred, _ in _COMBINED.values()}),
                *_COMBINED]


def _item_names(key_seen: np.ndarray) -> list[str]:
    """The item rows (as in `_ITEM_KEYS`) that some line may have: those with a key among `key_seen` (a mark per
    key of `_ALL_KEYS`). Fields whose keys a batch never has take no work."""
    return [name for name, keys in _ITEM_KEYS.items() if any(key_seen[_KEY_NUMBERS[key]] for key in keys)]


def _chosen_items(count: int, located: _Located, names: list[str]) -> np.ndarray:
    """Per line (column, `count` lines), the item (number in `located`) of each of `names` (rows, as in
    `_ITEM_KEYS`): its first key present, at that key's first occurrence. -1: none."""
    first_items = np.full((len(_ALL_KEYS), count), -1, np.int32)
    first_items[located.keys[::-1], located.rows[::-1]] = np.arange(len(located.rows) - 1, -1, -1, dtype=np.int32)
    items = np.empty((len(names), count), np.int32)
    for row, name in enumerate(names):
        keys = _ITEM_KEYS[name]
        item = first_items[_KEY_NUMBERS[keys[-1]]]
        for key in reversed(keys[:-1]):  # the preferred key wins
            preferred = first_items[_KEY_NUMBERS[key]]
            item = np.where(preferred >= 0, preferred, item)
        items[row] = item
    return items


_KEY_NUMBERS = {key: number for number, key in enumerate(_ALL_KEYS)}


def _values_of(values: list[pa.Array], items: list[np.ndarray], names: list[str]) -> dict[str, pa.DictionaryArray]:
    """The fields' values (dictionary-encoded), from the slices' `values` (their items' texts as cut out) and
    `items` (`_chosen_items` of `names`: numbers in the slice's `values`; -1: none). Values are trimmed of
    spaces (empty: none) and their escapes undone once per distinct value, of one dictionary for all slices
    (one hash table: cheaper than a dictionary per slice made one); a custom field is read where its label names
    what it holds."""
    encoded = pc.dictionary_encode(pa.chunked_array(values, pa.string())).chunks  # (empty slices: no chunk)
    chunks = iter(encoded)
    numbers = [next(chunks).indices.to_numpy(zero_copy_only=False) if len(part) else np.zeros(0, np.int32)
               for part in values]
    distinct = space_trimmed(encoded[-1].dictionary if encoded else pa.array([], pa.string()))
    escaped = pc.match_substring(distinct, "\\")
    if pc.any(escaped).as_py():
        distinct = pc.replace_with_mask(distinct, escaped,
                                        pc.replace_substring_regex(distinct.filter(escaped), *_UNESCAPE))
    empty = pc.equal(pc.binary_length(distinct), 0).to_numpy(zero_copy_only=False)
    codes = []
    for slice_numbers, slice_items in zip(numbers, items, strict=True):
        item_codes = np.append(slice_numbers, -1).astype(np.int32)  # (the last, -1: for item -1)
        if empty.any():
            item_codes[:-1][empty[item_codes[:-1]]] = -1
        codes.append(item_codes[slice_items])
    line_count = sum(part.shape[1] for part in items)
    absent = np.full(line_count, -1, np.int32)
    fields = dict(zip(names, np.concatenate(codes, axis=1) if names else [], strict=True))
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
        # whether the custom field is there at all (an empty one hides later ones too)
        custom = np.concatenate([part[names.index(c)] for part in items]) >= 0
        meaning = meanings[label]  # (-1: the last, no meaning)
        for number, name in enumerate(LABELLED):
            labelled[name] = np.where((meaning == number) & custom, value, labelled[name])
    fields.update(labelled)
    for name, (preferred, other) in _COMBINED.items():
        fields[name] = np.where(fields[preferred] >= 0, fields.pop(preferred), fields.pop(other, absent))
    return {name: _dictionary_array(fields.get(name, absent), distinct) for name in _FIELD_NAMES}


def _dictionary_array(codes: np.ndarray, values: pa.Array) -> pa.DictionaryArray:
    """`codes` (numbers in `values`, -1: null) as a dictionary array of only the values used: marked in a table
    of `values` when it is small, else found by hashing the codes (the work then grows with the codes only)."""
    codes = np.ascontiguousarray(codes, np.int32)  # (Arrow takes its buffer)
    valid = codes >= 0
    if not valid.any():
        return pa.DictionaryArray.from_arrays(pa.nulls(len(codes), pa.int32()), pa.array([], pa.string()))
    validity = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))  # (Arrow's bitmap)
    if len(values) > 4 * len(codes):
        used = pc.dictionary_encode(pa.Array.from_buffers(pa.int32(), len(codes), [validity, pa.py_buffer(codes)]))
        return pa.DictionaryArray.from_arrays(used.indices, values.take(used.dictionary))
    used = np.zeros(len(values) + 1, bool)
    used[codes] = True  # (-1: the extra last)
    used = used[:-1]
    renumbered = np.cumsum(used, dtype=np.int32) - 1  # (at -1, for nulls: the last, any valid number)
    indices = pa.Array.from_buffers(pa.int32(), len(codes), [validity, pa.py_buffer(renumbered[codes])])
    return pa.DictionaryArray.from_arrays(indices, values.filter(pa.array(used)))


def _fields_of(locate: Callable[[_Lines], _Located]) -> Callable[[pa.Table], pa.Table]:
    """Lines -> `fields(line_no, prefix_end, header_error, <field values>)`, found a slice of lines at a time (their
    bytes stay in the CPU's caches) by `locate`, the values dictionary-encoded."""

    def fields(lines: pa.Table) -> pa.Table:
        text = _line_bytes(lines)
        prefix_ends, errors, values, slices = [], [], [], []
        key_seen = np.zeros(len(_ALL_KEYS), bool)
        for start in range(0, max(lines.num_rows, 1), SLICE_LINES):
            some = text.rows(start, SLICE_LINES)
            located = locate(some)
            prefix_ends.append(located.prefix_end)
            errors.append(located.error)
            values.append(spans(some.buffer, located.value_start, located.value_end))
            key_seen[located.keys] = True
            slices.append((len(some.starts), located))
        names = _item_names(key_seen)
        items = [_chosen_items(count, located, names) for count, located in slices]
        columns = _values_of(values, items, names)
        return pa.table({"line_no": lines.column("line_no"), "prefix_end": np.concatenate(prefix_ends),
                         "header_error": pa.concat_arrays(errors), **columns})

    return fields


_cef_fields = _fields_of(_cef_located)
_leef_fields = _fields_of(_leef_located)


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


def _schema_columns(connection: duckdb.DuckDBPyConnection, queries: _Queries, fields: pa.Table, lines: pa.Table
                    ) -> pa.Table:
    """`fields` (line_no, prefix_end, header_error and the values read) of `lines` -> schema columns, reject_reason and
    is_ignored. Every value goes through SQL once per distinct value; what combines them is Arrow's."""
    def field(name: str) -> pa.Array:
        return fields.column(name).combine_chunks()

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
        text = _line_bytes(lines)  # the syslog prefix (before the marker) of those lines
        prefix = encoded(spans(text.buffer, text.starts, field("prefix_end").to_numpy(),
                               no_rt.to_numpy(zero_copy_only=False)))
        header_time = distinct_sql.through(connection, queries.header_time, prefix)["value"]
    url = through("request", queries.request)
    host_header = through("dhost", queries.host)["value"]
    method = through("method", queries.method)
    client, server = without(encoded(field("src")), ["0.0.0.0"]), without(encoded(field("dst")), ["0.0.0.0"])
    no_place = pc.and_(pc.and_(pc.is_null(client), pc.is_null(server)), pc.and_(pc.is_null(dhost), pc.is_null(request)))
    header_error = field("header_error")
    reason = _reject_reasons(header_error, no_place, t_rt, plain(field("time_format")), rt_time, header_time)
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
        "dst_port": pc.coalesce(number("dpt", queries.integer, pa.int32()), url["port"]),
        "network_protocol": pc.coalesce(plain(through("app", queries.lower)["value"]), plain(url["scheme"])),
        "http_method": method["value"],
        "url_path": url["path"],
        "http_status": pc.coalesce(through("outcome", queries.outcome)["value"],
                                   number("status_at", queries.integer, pa.int32())),
        "action": pc.fill_null(plain(action), "unknown"),
        "bytes_out": number("sent", queries.bigint, pa.int64()),
        "bytes_in": number("received", queries.bigint, pa.int64()),
        "user_agent": field("agent"),
        "content_type": through("type_at", queries.lower)["value"],
        "vendor_app": field("vendor_app"),
        "vendor_category": field("vendor_category"),
        "vendor_department": field("vendor_department"),
    })


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
