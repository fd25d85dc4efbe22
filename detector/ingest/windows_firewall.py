"""Windows Defender Firewall log (`%systemroot%\\system32\\LogFiles\\Firewall\\pfirewall.log`).

Every Windows workstation and server writes it once logging is on (Group Policy "Windows Defender Firewall:
Customize Logging Settings", `Set-NetFirewallProfile -LogAllowed True -LogBlocked True`): Microsoft Learn,
"Configure Windows Firewall logging" (https://learn.microsoft.com/en-us/windows/security/operating-system-security/
network-security/windows-firewall/configure-logging) and, for the fields, "Interpreting the Windows Firewall Log"
(https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-server-2003/cc758040(v=ws.10)). Its
layout is W3C-like (https://www.w3.org/TR/WD-logfile): a header of directives, then one space-separated line per
connection or dropped packet, `-` for an empty value:

    #Version: 1.5
    #Software: Microsoft Windows Firewall
    #Time Format: Local
    #Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin
             icmptype icmpcode info path pid

Windows 10 and later append `pid` (the process); older versions end at `path`. Without a `#Fields` directive
(a collector that forwarded the data lines only) a line of 17 or 18 values is read in that order. A `#Fields`
directive names the columns of the lines after it (so a rotated `pfirewall.log.old` put in front of the current
log reads right); the header in force travels from batch to batch in file order, as for W3C logs (`w3c.py`,
whose directive handling this reuses), and a syslog header in front of every line (NXLog relaying the file) is
taken off as there.

Fields read: `date` and `time` (`#Time Format: Local`: the configured zone; a log saying `UTC` is read as UTC),
`action`, `protocol`, `src-ip`, `dst-ip`, `dst-port`. Actions: ALLOW (a connection allowed: logged when it is
made, with "log successful connections") is allowed, DROP (a packet dropped) blocked; Windows XP's OPEN and
OPEN-INBOUND (a session opened) are allowed, its CLOSE (the same session's end) ignored, so that a session counts
once. INFO-EVENTS-LOST (the `info` field says how many events the firewall could not write) carries no traffic:
ignored, like the header; not a reject, since nothing in the line failed to parse and nothing can be done about
it in the file; the line stays countable in `ignored`. Any other action is a reject naming it.

Protocol: TCP, UDP, ICMP lower case as the other firewall formats write them (`tcp`, `udp`, `icmp`); ICMPv6 and
IP protocol numbers as `ip_protocols` names them (`ipv6-icmp`, `6` -> `tcp`); only TCP and UDP have ports (others
write `-`: null). `size` is the size of one packet, not the bytes of a connection: neither bytes_out nor bytes_in.
The source port has no column in the schema.

Direction (`path`): SEND is a packet the machine sent, RECEIVE one it received (inbound: the local machine is the
destination), FORWARD one it routed. The firewall logs the packet that opens a connection (or the one it
dropped), so its source is the connection's client in every direction: the addresses are kept as logged, the
packet's source as `src_ip` and its destination as `dst_ip`, as `pfsense.py` keeps a filtered packet's and
`cisco_asa.py` puts the client first. An inbound connection's `dst_ip` is the workstation itself: no DNS answer
names it (flow_names.sql names a flow by the destination address its client looked up), so inbound traffic is
never taken for use of an AI service, and DROP RECEIVE lines still show as blocked traffic.

Parsing: a batch is cut at its directive lines; in each run of data lines, lines of single spaces (as Windows
writes them) are cut at the spaces found with numpy and only the seven values read become strings
(`layout_bytes`); other lines (runs of blanks, tabs) are split by Arrow. Dates and times, actions, protocols, ports
and the address check go once per distinct value (times through DuckDB's zone rules); a reject's reason is made
for the rejected lines only. Measured (`benchmarks/ingest.py --formats windows_firewall --format-lines 1000000`,
2 shared CPUs): 1.25 s CPU for 1M lines against the generic DuckDB baseline's 1.17 s (0.94 by CPU); an Arrow
split of every value cost 2.3x more.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, dictionary_array, list_item, only_where, per_distinct, trimmed
from detector.ingest.base import Format, HeaderedParser, ParseContext, ParseResult, parse_cursor, split_outcomes
from detector.ingest.distinct_sql import in_slices, in_time_zone, plain
from detector.ingest.ip_protocols import NAMES as PROTOCOL_NUMBERS
from detector.ingest.layout_bytes import byte_places, line_bytes, texts_between
from detector.ingest.proxy_columns import VALUE_SLICE, bools, constant_text, joined_pairs, line_text, placed
from detector.ingest.w3c import BLANK, SYSLOG_PREFIX, header_after, parse_by_directives
from detector.schema import TIMESTAMP

# The layout Windows writes (Windows 10 and later add `pid`), for lines under no #Fields directive.
DEFAULT_FIELDS = ("date", "time", "action", "protocol", "src-ip", "dst-ip", "src-port", "dst-port", "size",
                  "tcpflags", "tcpsyn", "tcpack", "tcpwin", "icmptype", "icmpcode", "info", "path", "pid")
DEFAULT_COUNTS = (17, 18)
REQUIRED = ("date", "time", "action", "src-ip", "dst-ip")
SPACE = ord(" ")
ALLOWED_WORDS = ("ALLOW", "OPEN", "OPEN-INBOUND")
BLOCKED_WORDS = ("DROP",)
IGNORED_WORDS = ("INFO-EVENTS-LOST", "CLOSE")
ACTIONS = pa.array(["allowed", "blocked"])
HOST_SOURCES = pa.array(["none"])
PROTOCOL_NAMES = {**PROTOCOL_NUMBERS, "icmpv6": "ipv6-icmp", "icmp6": "ipv6-icmp"}
# An IPv4 or IPv6 address as Windows writes it (an IPv6 one may carry a zone: fe80::1%12).
ADDRESS = r"^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:%[0-9A-Za-z]+)?)$"
LOCAL_TIME_SQL = "select timezone(@TZ@, try_cast(value as timestamp)) as ts from distinct_values"
UTC_TIME_SQL = "select timezone('UTC', try_cast(value as timestamp)) as ts from distinct_values"


@dataclass(frozen=True)
class Header:
    """What the directives so far say about the lines after them (immutable: shared by batches parsed at once)."""

    fields: tuple[str, ...] | None = None
    utc: bool = False  # `#Time Format: UTC`; Windows writes `Local`

    def applied(self, directive: str) -> Header:
        """The header after one more directive line (the others change nothing)."""
        name, _, value = directive.partition(":")
        name = name.strip().lower()
        if name == "#fields":
            return replace(self, fields=tuple(value.lower().split()) or None)
        if name == "#time format":
            return replace(self, utc=value.strip().lower() == "utc")
        return self


class Plan:
    """Where one field list puts the fields read, and the per-distinct queries kept across its batches."""

    def __init__(self, header: Header, timezone: str) -> None:
        names = header.fields or DEFAULT_FIELDS
        self.counts = (len(names),) if header.fields else DEFAULT_COUNTS
        self.missing = [name for name in REQUIRED if name not in names]
        self.positions = {name: names.index(name) for name in (*REQUIRED, "protocol", "dst-port") if name in names}
        self.times = DistinctQuery(UTC_TIME_SQL if header.utc else in_time_zone(LOCAL_TIME_SQL, timezone))


def event_columns(connection: duckdb.DuckDBPyConnection, plan: Plan, lines: pa.Table) -> pa.Table:
    """The events of a run of data lines under one field list, plus reject_reason / is_ignored."""
    rows = lines.num_rows
    if plan.missing:
        reason = f"#Fields names no {', '.join(plan.missing)}: a Windows Firewall log line needs them"
        return pa.table({"line_no": lines.column("line_no"), "reject_reason": pa.repeat(pa.scalar(reason), rows),
                         "is_ignored": pa.repeat(pa.scalar(False), rows)})
    counts, fields = _fields(line_text(lines), plan)
    action, date, time, src, dst = (fields[name] for name in ("action", "date", "time", "src-ip", "dst-ip"))
    code, ignored = _actions(action)
    ts = pc.cast(per_distinct(connection, joined_pairs(date, time), plan.times)["ts"], TIMESTAMP)
    expected = " or ".join(str(count) for count in plan.counts)
    traffic = ~ignored
    reasons = _first_reasons(rows, [
        (~np.isin(counts, plan.counts) & traffic, lambda at: pc.binary_join_element_wise(
            pc.cast(pa.array(counts[at]), pa.string()), f" values, where a Windows Firewall line has {expected}", "")),
        ((code < 0) & traffic, lambda at: pc.binary_join_element_wise(
            "action is not one Windows Firewall logs (ALLOW, DROP, INFO-EVENTS-LOST): ", _text(action, at), "")),
        (bools(pc.is_null(ts)) & traffic, lambda at: pc.binary_join_element_wise(
            "date/time not understood: ", _text(date, at), " ", _text(time, at), "")),
        (_not_address(src) & traffic, lambda at: pc.binary_join_element_wise(
            "src-ip is not an IP address: ", _text(src, at), "")),
        (_not_address(dst) & traffic, lambda at: pc.binary_join_element_wise(
            "dst-ip is not an IP address: ", _text(dst, at), "")),
    ])
    protocol = fields.get("protocol")
    return pa.table({
        "line_no": lines.column("line_no"),
        "reject_reason": reasons,
        "is_ignored": pa.array(ignored),
        "ts": ts,
        "src_ip": src,
        "host_source": constant_text(HOST_SOURCES, np.zeros(rows, np.int64)),
        "dst_ip": dst,
        "dst_port": _ports(fields.get("dst-port"), rows),
        "network_protocol": _protocols(protocol) if protocol is not None else
        pa.DictionaryArray.from_arrays(pa.nulls(rows, pa.int32()), pa.array([], pa.string())),
        "action": constant_text(ACTIONS, np.maximum(code, 0)),
    })


def _fields(text: pa.Array, plan: Plan) -> tuple[np.ndarray, dict[str, pa.DictionaryArray]]:
    """Each line's number of values, and the values read (dictionary-encoded; null past a line's end).

    Lines of single spaces between values (as Windows writes them) are cut at the spaces found with numpy, only
    the values read becoming strings (layout_bytes); any other line (runs of blanks, tabs, a value missing) is
    split at its whitespace by Arrow, which copies every value (several times the cost)."""
    buffer, data, offsets = line_bytes(text)
    places, first = byte_places(data, offsets, SPACE)
    spaces = np.diff(first)
    rows = len(text)
    line_starts, line_ends = offsets[:-1], offsets[1:]
    # A value is empty where a space comes first, last or beside another; tabs and other control bytes are blanks
    # too: such lines take the general split.
    odd = np.zeros(rows, bool)
    filled = line_ends > line_starts
    odd[filled] = (data[line_starts[filled]] == SPACE) | (data[line_ends[filled] - 1] == SPACE)
    odd[np.searchsorted(offsets, places[1:][np.diff(places) == 1], "right") - 1] = True
    odd[np.searchsorted(offsets, np.flatnonzero(data[int(offsets[0]):int(offsets[-1])] < SPACE) + int(offsets[0]),
                        "right") - 1] = True
    regular = np.zeros(rows, bool)
    counts = np.zeros(rows, np.int64)
    names = list(plan.positions)
    wanted = [plan.positions[name] for name in names]
    parts: dict[str, list[tuple[np.ndarray, pa.Array]]] = {name: [] for name in names}
    for count in plan.counts:
        at = np.flatnonzero((spaces == count - 1) & ~odd)
        if not len(at):
            continue
        regular[at], counts[at] = True, count
        reach = min(max(wanted) + 1, count - 1)  # the spaces before and after the last value read
        cuts = places[first[at][:, None] + np.arange(reach)]
        starts = [line_starts[at] if k == 0 else cuts[:, k - 1] + 1 for k in wanted]
        ends = [line_ends[at] if k == count - 1 else cuts[:, k] for k in wanted]
        for name, value in zip(names, texts_between(buffer, starts, ends), strict=True):
            parts[name].append((at, value))
    others = np.flatnonzero(~regular)
    if len(others):
        split = pc.ascii_split_whitespace(trimmed(text.take(pa.array(others))))
        counts[others] = pc.list_value_length(split).to_numpy(zero_copy_only=False)
        for name in names:
            parts[name].append((others, list_item(split, plan.positions[name])))
    return counts, {name: placed(rows, parts[name]) for name in names}


def _text(values: pa.DictionaryArray, at: np.ndarray) -> pa.Array:
    """The values of the rows `at` as plain text, `-` where null (for a reject's reason)."""
    return pc.fill_null(plain(values.take(pa.array(at))), "-")


def _first_reasons(rows: int, reasons: list[tuple[np.ndarray, Callable[[np.ndarray], pa.Array]]]) -> pa.Array:
    """Per row, the reason of the first condition that holds there (null where none does); each reason is made
    for the rows it is given for only (`reason(rows)`: few, where lines are rejected at all)."""
    chosen = np.full(rows, -1, np.int64)
    for k, (condition, _) in enumerate(reasons):
        chosen[(chosen < 0) & condition] = k
    rejected = np.flatnonzero(chosen >= 0)
    if not len(rejected):
        return pa.nulls(rows, pa.string())
    texts = pa.nulls(len(rejected), pa.string())
    for k, (_, reason) in enumerate(reasons):
        mine = chosen[rejected] == k
        if mine.any():
            spread = np.cumsum(mine) - 1
            made = reason(rejected[mine]).take(pa.array(spread, mask=~mine))
            texts = pc.if_else(pa.array(mine), made, texts)
    slot = np.cumsum(chosen >= 0) - 1
    return texts.take(pa.array(slot, mask=chosen < 0))


def _actions(words: pa.DictionaryArray) -> tuple[np.ndarray, np.ndarray]:
    """Per line: 0 allowed, 1 blocked, -1 an action the firewall does not log (a reject); and whether the line
    carries no traffic (INFO-EVENTS-LOST, CLOSE): ignored. Once per distinct word, any case."""
    upper = pc.utf8_upper(words.dictionary)
    codes = np.select([bools(pc.is_in(upper, value_set=pa.array(ALLOWED_WORDS))),
                       bools(pc.is_in(upper, value_set=pa.array(BLOCKED_WORDS))),
                       bools(pc.is_in(upper, value_set=pa.array(IGNORED_WORDS)))], [0, 1, 2], -1)
    at = pc.fill_null(words.indices, -1).to_numpy(zero_copy_only=False)
    code = np.where(at >= 0, codes[np.maximum(at, 0)] if len(codes) else -1, -1)
    return np.where(code == 2, 0, code), code == 2


def _not_address(values: pa.DictionaryArray) -> np.ndarray:
    """Where a line's value is no IPv4 or IPv6 address (each distinct value looked at once)."""
    good = pc.match_substring_regex(values.dictionary, ADDRESS)
    return ~bools(pc.fill_null(good.take(values.indices), False))


def _protocols(values: pa.DictionaryArray) -> pa.DictionaryArray:
    """TCP -> tcp, ICMPv6 and numbers as `ip_protocols` names them, `-` -> null; once per distinct value."""
    names = [None if value == "-" else PROTOCOL_NAMES.get(value.lower(), value.lower())
             for value in values.dictionary.to_pylist()]
    return dictionary_array(values.indices, pa.array(names, pa.string()))


def _ports(values: pa.DictionaryArray | None, rows: int) -> pa.Array:
    """The destination port, null where written `-` (protocols without ports) or not a port number; each distinct
    value read once."""
    if values is None:
        return pa.nulls(rows, pa.int32())
    words = values.dictionary
    number = pc.and_(pc.ascii_is_decimal(words), pc.less_equal(pc.binary_length(words), 5))
    ports = pc.cast(pc.if_else(number, words, "0"), pa.int32())
    return pc.take(only_where(ports, pc.and_(number, pc.less_equal(ports, 65535))), values.indices)


def new_parser(context: ParseContext) -> HeaderedParser:
    """Batches parsed under the #Fields (and #Time Format) in force at their start."""
    plans: dict[Header, Plan] = {}

    def parse_segment(lines: pa.Table, header: Header) -> ParseResult:
        if header not in plans:  # made twice at worst when two threads meet a new header at once
            plans[header] = Plan(header, context.timezone)
        with parse_cursor(context.connection) as cursor:
            columns = in_slices(lines, lambda part: event_columns(cursor, plans[header], part), VALUE_SLICE)
            return split_outcomes(columns, lines)

    def parse(lines: pa.Table, header: Header) -> ParseResult:
        return parse_by_directives(lines, header, parse_segment)

    return HeaderedParser(start=Header(), carry=header_after, parse=parse)


_SYSLOG_PREFIX = re.compile(SYSLOG_PREFIX)
_LINE = re.compile(r"\d{4}-\d\d-\d\d\s+\d\d:\d\d:\d\d\s+(?:ALLOW|DROP|INFO-EVENTS-LOST|OPEN|OPEN-INBOUND|CLOSE)\s")
_OWN_DIRECTIVE = re.compile(r"#(?:Software:\s*Microsoft Windows Firewall|Fields:\s*date\s+time\s+action\s+protocol"
                            r"\s+src-ip\s+dst-ip)", re.IGNORECASE)
_DIRECTIVE = re.compile(r"#(?:Version|Software|Time Format|Fields):", re.IGNORECASE)


def sniff(lines: Sequence[str]) -> float:
    """Share of the lines that are its directives or firewall lines (date, time, an action it logs), in a file
    with at least one of its own: the `Microsoft Windows Firewall` software, its field list, or such a line.
    (A W3C web server log shares the directives, never the rest: it scores 0.)"""
    if any(_SYSLOG_PREFIX.match(line) for line in lines[:5]):
        lines = [_SYSLOG_PREFIX.sub("", line, count=1) for line in lines]
    texts = [line.lstrip(BLANK) for line in lines]
    own = sum(1 for text in texts if _LINE.match(text) or _OWN_DIRECTIVE.match(text))
    if not own:
        return 0.0
    return sum(1 for text in texts if _LINE.match(text) or _DIRECTIVE.match(text)) / len(texts)


FIREWALL = Format(
    name="windows_firewall",
    source_kind="firewall",
    summary="Windows Defender Firewall log (pfirewall.log), with or without pid, IPv4 and IPv6",
    sniff=sniff,
    new_parser=new_parser,
    independent_batches=True,
    fields=("ts", "src_ip", "host_source", "dst_ip", "dst_port", "network_protocol", "action"),
)
