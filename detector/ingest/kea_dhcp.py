"""ISC Kea DHCPv4/DHCPv6 lease logs: which workstation held which address when (source kind `identity`).

Kea replaced ISC dhcpd (end of life 2022). Like `dhcp.py`'s formats, one event per assignment: `src_ip` =
the leased address, `src_host` = the client's host name where Kea logged it (queries/dhcp_leases.sql
reads these events as it reads dhcpd's). Three layouts, in one file or apart:

- Kea's own log file (logger `output` a file or stdout; pattern `%D{%Y-%m-%d %H:%M:%S.%q} %-5p [%c/%i.%t] %m`,
  older versions `[%c/%i]`): `2026-11-20 09:14:02.123 INFO  [kea-dhcp4.leases/1234.140348] DHCP4_LEASE_ALLOC
  [hwtype=1 aa:bb:cc:dd:ee:ff], cid=[01:aa:bb:cc:dd:ee:ff], tid=0x5e1a: lease 10.20.3.14 has been allocated
  for 4000 seconds`. The time has no zone: it is the server's, read in the configured zone.
- The same messages through syslog (`output: syslog`, pattern `%-5p [%c.%t] %m`):
  `Nov 20 09:14:02 dhcp1 kea-dhcp4[1234]: INFO  [kea-dhcp4.leases.140348] DHCP4_LEASE_ALLOC ...`; any header
  syslog.py reads (BSD, ISO, RFC 5424), also with Kea's own time after it (stdout captured by journald),
  which is then the event's time: it has the year and milliseconds a BSD header lacks.
- The Forensic Logging hook's legal log (libdhcp_legal_log.so, `kea-legal*.txt`): `2026-11-20 09:14:02 CET
  Address: 10.20.3.14 has been assigned for 1 hrs 6 mins 40 secs to a device with hardware address: hwtype=1
  aa:bb:cc:dd:ee:ff, client-id: 01:aa:...`; its time zone is the abbreviation `%Z` writes (UTC/GMT and the
  European ones are read; any other is taken as the configured zone).

Assignments: DHCP4_LEASE_ALLOC and DHCP4_LEASE_REUSE (a renewal answered from the lease cache),
DHCP6_LEASE_ALLOC, DHCP6_LEASE_REUSE and DHCP6_LEASE_RENEW; in the legal log, `has been assigned` and
`has been renewed`. Offers (DHCP4_LEASE_ADVERT, DHCP4_LEASE_OFFER, DHCP6_LEASE_ADVERT), INIT-REBOOT requests,
releases, declines and expiries are not assignments and are ignored, as dhcp.py ignores DHCPOFFER and releases;
so are delegated prefixes (a prefix names a router, not a workstation), the legal log's administrator and HA
partner entries, every other Kea message and other programs' lines in the same file.

Host names: Kea's lease messages carry only the client's hardware address and client id. The name comes from
what the client sent, logged at debug level (logger `kea-dhcp4.ddns`, debuglevel 55): its Hostname option,
DHCP4_CLIENT_HOSTNAME_DATA `... tid=0x5e1a: client sent Hostname option: PC-0042`, or its Client FQDN option
(Windows sends this one), DHCP4_CLIENT_FQDN_DATA `... Client sent FQDN option: type=81 (CLIENT_FQDN), flags: (N=0,
E=0, O=0, S=1), domain-name='pc-0042.gemeente.local.' (full)`; or from a host reservation,
DHCP4_RESERVED_HOSTNAME_ASSIGNED `... server assigned reserved hostname pc-0042`. Kea logs them while it
handles the packet, before the lease line, under the same client label (`[hwtype=1 MAC], cid=[...]`). A
lease takes the name most recently logged for its client label within the `NAME_LINES` lines before it (the
lines parsed with its batch: `Format.context_lines`), so the outcome does not depend on where batches are cut.
A lease without such a line has no `src_host` (its address is still an event); the name lines are ignored.
The legal log names no host unless the hook's `response-parser-format` adds `, hostname: NAME` (docs/kea_dhcp.md).

Sources (message texts and layouts):
- Kea Messages Manual: https://kea.readthedocs.io/en/latest/kea-messages.html (DHCP4_LEASE_ALLOC "%1: lease
  %2 has been allocated for %3", DHCP6_LEASE_ALLOC "%1: lease for address %2 and iaid=%3 has been allocated for
  %4", DHCP4_CLIENT_HOSTNAME_DATA "%1: client sent Hostname option: %2", DHCP4_CLIENT_FQDN_DATA "%1: Client sent
  FQDN option: %2" as Option4ClientFqdn::toText writes it, src/lib/dhcp/option4_client_fqdn.cc); the client label
  (`Pkt4::makeLabel`, `Pkt6::makeLabel`): https://github.com/isc-projects/kea/blob/master/src/lib/dhcp/pkt4.cc
- Logging (default patterns): https://kea.readthedocs.io/en/latest/arm/logging.html
- Forensic Logging: https://kea.readthedocs.io/en/latest/arm/hooks-legal-log.html
"""

from __future__ import annotations

import re

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.lib.stride_tricks import sliding_window_view

from detector.ingest.arrow_ops import DistinctQuery, list_item, one_array, only_where, per_distinct
from detector.ingest.base import BatchParser, Format, ParseContext, ParseResult, parse_cursor, split_outcomes
from detector.ingest.byte_spans import spans
from detector.ingest.distinct_sql import in_chunk_slices, in_time_zone
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.message_tokens import mask
from detector.ingest.syslog import SyslogHeaders, define_head_macros, program_share, reference_time
from detector.schema import TIMESTAMP

# How far before its lease line a client's host name line may be and still name the lease (see above). Kea
# logs both while handling one packet: a few lines apart, even with several threads interleaving clients.
NAME_LINES = 4096
# A batch's lines are read in slices of about this many (distinct_sql.in_chunk_slices): with the whole window at
# once, its copies and splits of 139k lines made a parse's peak memory (two parses at once: 1.2 GiB RSS at 4M lines).
SLICE_LINES = 32_768

PROGRAMS = ("kea-dhcp4", "kea-dhcp6")
LEASE_IDS = pa.array(["DHCP4_LEASE_ALLOC", "DHCP4_LEASE_REUSE", "DHCP6_LEASE_ALLOC", "DHCP6_LEASE_REUSE",
                      "DHCP6_LEASE_RENEW"])
NAME_IDS = pa.array(["DHCP4_CLIENT_HOSTNAME_DATA", "DHCP4_CLIENT_FQDN_DATA", "DHCP4_RESERVED_HOSTNAME_ASSIGNED"])
# A Kea message follows its logger's `[...] `; its label ends in `, tid=0x` and up to 8 hex digits, then `: `.
MESSAGE_MARK, TID_MARK = "] DHCP", ", tid=0x"
ID_WINDOW, TID_WINDOW = 48, 10  # bytes searched for the end of a message ID (the longest: 32) and of a tid

# A line of Kea's own file or of the legal log starts with its date and time (a syslog ISO time has a 'T').
OWN_START = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
OWN_START_CHARS = 19
LEVELS = pa.array(["DEBUG", "INFO", "WARN", "ERROR", "FATAL"])  # log4cplus' severities, as Kea's `%-5p` writes them
OWN_STAMP_CHARS = 23  # `%Y-%m-%d %H:%M:%S.%q`
_OWN_LINE = re.compile(OWN_START + r"\.\d+ +(?:" + "|".join(LEVELS.to_pylist()) + r") +\[kea-")
_LEGAL_LINE = re.compile(OWN_START + r"(?:\.\d+)? \S+ (?:(?:Address|Prefix): ?\S+ has been |Administrator "
                         r"|HA partner )")
# Sniffing: lines from kea-dhcp4/kea-dhcp6 through syslog, or in Kea's own file or legal log layout.
_OWN_OR_LEGAL_LINE = re.compile(f"(?:{_OWN_LINE.pattern})|(?:{_LEGAL_LINE.pattern})")

NO_HEADER = "not a Kea log line: no Kea time and no syslog header"
BAD_TIME = "time not readable (Kea: YYYY-MM-DD HH:MM:SS.mmm; legal log: YYYY-MM-DD HH:MM:SS ZONE)"
NO_ADDRESS = "Kea lease message without an IPv4/IPv6 address"

# An address as Kea prints one (IOAddress::toText): dotted IPv4 or IPv6 hex groups (an IPv4 tail allowed).
IP_PATTERN = (r"^(?:(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])$"
              r"|^[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*$")

# Per distinct text after a lease message's label: the address (`lease ADDR ...`, `lease for address ADDR ...`).
LEASE_SQL = rf"""
select case when regexp_matches(ip, '{IP_PATTERN}') then lower(ip) end as ip
from (select regexp_extract(value, '^lease (?:for address )?(\S+)', 1) as ip from distinct_values)
"""
# Per distinct text after a host name message's label: the name, lower case, without a trailing dot.
NAME_SQL = r"""
select nullif(undot(lower(trim(coalesce(
    nullif(regexp_extract(value, '^(?:client sent Hostname option: |server assigned reserved hostname )(\S*)', 1), ''),
    regexp_extract(value, '^Client sent FQDN option: .*domain-name=''([^'']*)''', 1))))), '') as name
from distinct_values
"""
# Per distinct time of Kea's own file: local time in the configured zone.
OWN_TIME_SQL = """
select timezone(@TZ@, try_strptime(value, ['%Y-%m-%d %H:%M:%S.%g', '%Y-%m-%d %H:%M:%S'])) as ts
from distinct_values
"""
# The zone abbreviations of the legal log's `%Z` read as offsets (hours east of UTC); any other abbreviation
# is the server's own zone, taken to be the configured one.
ZONE_HOURS = {"UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "MET": 1, "CEST": 2,
              "MEST": 2, "EET": 2, "EEST": 3}
_ZONES = "\n".join(f"    when '{name}' then {hours}" for name, hours in ZONE_HOURS.items())
# Per distinct legal-log time and zone, `YYYY-MM-DD HH:MM:SS[.ffffff]` chr(31) `ZONE` (`%Q` adds the fraction).
LEGAL_TIME_SQL = f"""
select case
    when hours is not null then (local - to_hours(hours))::timestamptz
    else timezone(@TZ@, local)
end as ts
from (
    select try_strptime(left(value, strpos(value, chr(31)) - 1), ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f'])
            as local,
        case upper(substr(value, strpos(value, chr(31)) + 1))
{_ZONES}
        end as hours
    from distinct_values
)
"""
# Per distinct legal-log entry (after its time and zone): an assignment's address and the custom host name.
LEGAL_SQL = rf"""
select
    case when m.verb in ('assigned', 'renewed') and m.kind = 'Address' then
        case when regexp_matches(m.ip, '{IP_PATTERN}') then lower(m.ip) else '' end
    end as ip,
    nullif(undot(lower(regexp_extract(value, '[, ]hostname: ([^\s,]+)', 1))), '') as name
from (
    select value, regexp_extract(value, '^(Address|Prefix): ?(\S*) has been (\w+)', ['kind', 'ip', 'verb']) as m
    from distinct_values
)
"""
# A lease takes the latest host name logged for its client label in the NAME_LINES lines before it.
JOIN_SQL = f"""
select l.row, n.name
from leases l asof left join names n on l.client = n.client and l.line_no >= n.line_no
where n.line_no is null or l.line_no - n.line_no <= {NAME_LINES}
order by l.row
"""


def kea_parser(context: ParseContext) -> BatchParser:
    """Reads a batch with its context lines (names before leases); every line of it gets one outcome."""
    define_head_macros(context.connection)
    headers = SyslogHeaders(context.timezone, reference_time(context.path, context.timezone))
    lease_query, name_query, legal_query = DistinctQuery(LEASE_SQL), DistinctQuery(NAME_SQL), DistinctQuery(LEGAL_SQL)
    own_time = DistinctQuery(in_time_zone(OWN_TIME_SQL, context.timezone))
    legal_time = DistinctQuery(in_time_zone(LEGAL_TIME_SQL, context.timezone))

    def line_columns(cursor: duckdb.DuckDBPyConnection, lines: pa.Table) -> pa.Table:
        """What each line says by itself (all but the host names of leases, which come from lines before them)."""
        line = one_array(lines.column("line"))
        own = _starts_own(line)
        # Kea's own file `DATE TIME.mmm LEVEL [logger] MSG` (`%q`: always 3 digits) and the legal log `DATE TIME
        # ZONE ENTRY`, told apart by the severity word.
        leveled = _leveled(line, own)
        is_legal = own & ~leveled
        msg_id, client, text = _kea_messages(line)
        is_lease = pc.fill_null(pc.is_in(msg_id, value_set=LEASE_IDS), False)
        is_name = pc.fill_null(pc.is_in(msg_id, value_set=NAME_IDS), False)
        syslog_ts, has_header, message = _syslog_times(cursor, headers, lines, own)
        # Kea's own time after a syslog header (stdout through journald or a relay) has the year and the
        # milliseconds the header lacks: read it rather than the header's.
        relayed = _leveled(message, _starts_own(message))
        stamp = pc.coalesce(_stamps(line, leveled), _stamps(message, relayed))
        own_ts = per_distinct(cursor, stamp, own_time)["ts"]
        lease_ip = per_distinct(cursor, only_where(text, is_lease), lease_query)["ip"]
        name = per_distinct(cursor, only_where(text, is_name), name_query)["name"]
        legal_ts, legal_ip, legal_name = _legal_entries(cursor, line, is_legal, legal_time, legal_query)
        return pa.table({
            "is_own": pa.array(own), "has_header": has_header, "is_lease": is_lease, "is_name": is_name,
            "client": client, "name": pc.cast(name, pa.string()), "legal_name": legal_name,
            "ts": pc.coalesce(pc.cast(own_ts, TIMESTAMP), legal_ts, syslog_ts),
            "ip": pc.coalesce(pc.cast(lease_ip, pa.string()), legal_ip),
        })

    def parse(lines: pa.Table) -> ParseResult:
        n = lines.num_rows
        # In slices of the batch's chunks (its context lines before and after are chunks of their own): a slice's
        # copies and splits of its lines, not the whole window's, are in memory at once.
        with parse_cursor(context.connection) as cursor:
            table = in_chunk_slices(lines, lambda part: line_columns(cursor, part), SLICE_LINES)
            read = {name: table.column(name).combine_chunks() for name in table.column_names}
            is_own, has_header, is_lease, ts, ip = (read[name] for name in ("is_own", "has_header", "is_lease", "ts",
                                                                            "ip"))
            host = _names_of_leases(cursor, lines, is_lease, read["is_name"], read["client"], read["name"])
        legal_name = read["legal_name"]
        no_address = pc.or_(pc.fill_null(pc.equal(ip, ""), False), pc.and_(is_lease, pc.is_null(ip)))
        bad_time = pc.and_(pc.or_(is_own, pc.is_valid(ip)), pc.is_null(ts))
        reason = pc.if_else(pc.or_(is_own, has_header), pa.scalar(None, pa.string()), NO_HEADER)
        if pc.any(bad_time).as_py():
            reason = pc.if_else(bad_time, BAD_TIME, reason)
        if pc.any(no_address).as_py():
            reason = pc.if_else(no_address, NO_ADDRESS, reason)
        is_event = pc.and_(pc.is_valid(ip), pc.is_null(reason))
        columns = {
            "line_no": lines.column("line_no"),
            "reject_reason": reason,
            "is_ignored": pc.and_(pc.is_null(reason), pc.invert(is_event)),
            "ts": only_where(ts, is_event),
            "src_ip": only_where(ip, is_event),
            "src_host": only_where(pc.coalesce(host, legal_name), is_event),
            "network_protocol": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array(["dhcp"])),
        }
        return split_outcomes(pa.table(columns), lines)

    return parse


def _starts_own(line: pa.Array) -> np.ndarray:
    """Whether each line (null: no) starts with Kea's own `YYYY-MM-DD HH:MM:SS` (OWN_START), read from its bytes."""
    _, data, offsets = line_bytes(line)
    starts = offsets[:-1]
    own = np.diff(offsets) >= OWN_START_CHARS
    if line.null_count:
        own &= mask(pc.is_valid(line))
    rows = np.flatnonzero(own)
    rows = rows[data[starts[rows] + 4] == DASH]  # (few lines of other kinds get past this)
    head = data[starts[rows][:, None] + np.arange(OWN_START_CHARS)]
    own[:] = False
    own[rows] = ((head - np.uint8(ord("0")) <= 9) | ~_STAMP_DIGITS).all(axis=1) & \
        (np.where(_STAMP_DIGITS, 0, head) == _STAMP_MARKS).all(axis=1)
    return own


DASH = ord("-")
# OWN_START byte by byte: a digit, or the byte itself (`-`, ` `, `:`).
_STAMP_DIGITS = np.array([c == "d" for c in "dddd-dd-dd dd:dd:dd"])
_STAMP_MARKS = np.array([0 if c == "d" else ord(c) for c in "dddd-dd-dd dd:dd:dd"], np.uint8)
assert len(_STAMP_DIGITS) == OWN_START_CHARS


def _leveled(line: pa.Array, own: np.ndarray) -> np.ndarray:
    """Whether each line that starts with Kea's time (`own`) has a severity word after it (Kea's own file, not the
    legal log); false on the others."""
    rows = np.flatnonzero(own)
    leveled = np.zeros(len(line), bool)
    if len(rows):
        text = line if len(rows) == len(line) else line.take(pa.array(rows))
        leveled[rows] = mask(pc.is_in(pc.utf8_trim_whitespace(pc.utf8_slice_codeunits(text, 24, 29)),
                                      value_set=LEVELS))
    return leveled


def _stamps(text: pa.Array, rows: np.ndarray) -> pa.Array:
    """Kea's own `%Y-%m-%d %H:%M:%S.%q` at the start of each of the texts where `rows` (null on the others)."""
    if not rows.any():
        return pa.nulls(len(text), pa.string())
    if rows.all():
        return pc.utf8_slice_codeunits(text, 0, OWN_STAMP_CHARS)
    where = np.flatnonzero(rows)
    return _in_rows(pc.utf8_slice_codeunits(text.take(pa.array(where)), 0, OWN_STAMP_CHARS), where, len(text))


def _kea_messages(line: pa.Array) -> tuple[pa.DictionaryArray, pa.Array, pa.Array]:
    """Each line's Kea message `] ID LABEL, tid=0x..: TEXT` as its ID (dictionary-encoded), its client label (the
    LABEL: `[hwtype=1 MAC], cid=[...]`, `duid=[...], [...]`) and its TEXT; null where the line has none of them.
    Found on the lines' bytes and cut out of their buffer: splitting whole lines into lists would copy them
    several times over."""
    n = len(line)
    buffer, data, offsets = line_bytes(line)
    found = _first_places(data, offsets, MESSAGE_MARK)
    if line.null_count:
        found[~mask(pc.is_valid(line))] = -1
    rows = np.flatnonzero(found >= 0)
    starts, ends = offsets[:-1].copy(), offsets[:-1].copy()  # (an empty span: a row without a message)
    id_end, label_end, text_start = starts.copy(), starts.copy(), starts.copy()
    has_label, has_text = np.zeros(n, bool), np.zeros(n, bool)
    if len(rows):
        line_end = offsets[rows + 1]
        starts[rows] = offsets[rows] + found[rows] + 2
        ends[rows] = line_end
        id_end[rows] = _first_byte(data, starts[rows], line_end, ord(" "), ID_WINDOW)
        tid = _first_places(data, offsets, TID_MARK)[rows]
        has_label[rows] = tid >= 0
        label_end[rows] = np.where(tid >= 0, offsets[rows] + tid, id_end[rows])
        has_label[rows] &= label_end[rows] > id_end[rows]
        label_end[rows] = np.maximum(label_end[rows], id_end[rows])  # (within the line: spans must not overlap)
        colon = _first_byte(data, label_end[rows] + len(TID_MARK), line_end, ord(":"), TID_WINDOW)
        after = np.minimum(colon + 1, max(len(data) - 1, 0))
        has_text[rows] = has_label[rows] & (colon + 1 < line_end) & (data[after] == ord(" "))
        text_start[rows] = np.where(has_text[rows], colon + 2, line_end)
    has_id = np.zeros(n, bool)
    has_id[rows] = True
    msg_id = pc.dictionary_encode(spans(buffer, starts, id_end, has_id))
    client = spans(buffer, np.minimum(id_end + 1, label_end), label_end, has_label)
    text = spans(buffer, text_start, np.maximum(ends, text_start), has_text)
    return msg_id, client, text


def _first_places(data: np.ndarray, offsets: np.ndarray, needle: str) -> np.ndarray:
    """Per line, where `needle` (ASCII) first occurs in it (from its start, in bytes), -1 where it does not: as
    pc.find_substring, which compares at every byte (3-6x slower); here numpy finds the places of its first byte,
    the rest is checked at those only."""
    begin, end = int(offsets[0]), int(offsets[-1])
    code = needle.encode()
    places = np.flatnonzero(data[begin:end] == code[0]) + begin
    places = places[places + len(code) <= end]
    for shift, byte in enumerate(code[1:], start=1):
        places = places[data[places + shift] == byte]
    rows = np.searchsorted(offsets, places, "right") - 1
    inside = places + len(code) <= offsets[rows + 1]
    places, rows = places[inside], rows[inside]
    first = np.ones(len(rows), bool)
    first[1:] = rows[1:] != rows[:-1]
    found = np.full(len(offsets) - 1, -1, np.int64)
    found[rows[first]] = places[first] - offsets[rows[first]]
    return found


def _first_byte(data: np.ndarray, at: np.ndarray, end: np.ndarray, byte: int, width: int) -> np.ndarray:
    """Per row, where the first `byte` at or after `at` is, looking `width` bytes at most and not past `end`;
    `end` where there is none. Reads only those windows of the buffer."""
    if not len(at) or not len(data):
        return end.copy()
    width = min(width, len(data))
    base = np.minimum(at, len(data) - width)
    hits = sliding_window_view(data, width)[base] == byte
    hits &= np.arange(width) >= (at - base)[:, None]
    first = np.where(hits.any(axis=1), base + hits.argmax(axis=1), end)
    return np.minimum(first, end)


def _in_rows(values: pa.Array, rows: np.ndarray, n: int) -> pa.Array:
    """`values` of the rows `rows` (in order) spread to `n` rows: null in the others."""
    if len(rows) == n:
        return values
    where = np.zeros(n, np.int64)
    missing = np.ones(n, bool)
    where[rows] = np.arange(len(rows))
    missing[rows] = False
    return values.take(pa.array(where, mask=missing))


def _syslog_times(cursor: duckdb.DuckDBPyConnection, headers: SyslogHeaders, lines: pa.Table, own: np.ndarray
                  ) -> tuple[pa.Array, pa.Array, pa.Array]:
    """For the lines that do not start with Kea's own time: the syslog header's time (UTC), whether there is a
    header at all and the message after it; null (and true) on the other lines."""
    n = lines.num_rows
    rows = np.flatnonzero(~own)
    if not len(rows):
        return pa.nulls(n, TIMESTAMP), pa.array(np.ones(n, bool)), pa.nulls(n, pa.string())
    read = headers.read(cursor, lines if len(rows) == n else lines.take(pa.array(rows)))
    ts = pc.cast(read.column("ts").combine_chunks(), TIMESTAMP)
    headed = pc.not_equal(read.column("header_ts").combine_chunks(), "")
    message = pc.cast(only_where(read.column("msg").combine_chunks(), headed), pa.string())
    return _in_rows(ts, rows, n), pc.fill_null(_in_rows(headed, rows, n), True), _in_rows(message, rows, n)


def _legal_entries(cursor: duckdb.DuckDBPyConnection, line: pa.Array, is_legal: np.ndarray, times: DistinctQuery,
                   entries: DistinctQuery) -> tuple[pa.Array, pa.Array, pa.Array]:
    """The legal log's lines `DATE TIME ZONE ENTRY`: each one's time (UTC), assigned address ('' where the address
    is not one) and custom host name; null on the other lines."""
    n = len(line)
    rows = np.flatnonzero(is_legal)
    if not len(rows):
        return pa.nulls(n, TIMESTAMP), pa.nulls(n, pa.string()), pa.nulls(n, pa.string())
    words = pc.split_pattern(line.take(pa.array(rows)), " ", max_splits=3)
    local = pc.binary_join_element_wise(list_item(words, 0), list_item(words, 1), " ")
    stamp = pc.binary_join_element_wise(local, list_item(words, 2), chr(31))
    ts = pc.cast(per_distinct(cursor, stamp, times)["ts"], TIMESTAMP)
    entry = per_distinct(cursor, list_item(words, 3), entries)
    return (_in_rows(ts, rows, n), _in_rows(pc.cast(entry["ip"], pa.string()), rows, n),
            _in_rows(pc.cast(entry["name"], pa.string()), rows, n))


def _names_of_leases(cursor: duckdb.DuckDBPyConnection, lines: pa.Table, is_lease: pa.Array, is_name: pa.Array,
                     client: pa.Array, name: pa.Array) -> pa.Array:
    """Each lease line's host name: the latest name line of its client label within NAME_LINES before it."""
    n = lines.num_rows
    has_name = pc.and_(is_name, pc.is_valid(name))
    if not (pc.any(is_lease).as_py() and pc.any(has_name).as_py()):
        return pa.nulls(n, pa.string())
    line_no = one_array(lines.column("line_no"))
    lease_rows = pa.array(np.flatnonzero(np.asarray(is_lease, bool)))
    name_rows = pa.array(np.flatnonzero(np.asarray(has_name, bool)))
    cursor.register("leases", pa.table({"row": lease_rows, "line_no": line_no.take(lease_rows),
                                        "client": client.take(lease_rows)}))
    cursor.register("names", pa.table({"line_no": line_no.take(name_rows), "client": client.take(name_rows),
                                       "name": pc.cast(name.take(name_rows), pa.string())}))
    try:
        found = cursor.sql(JOIN_SQL).to_arrow_table()
    finally:
        cursor.unregister("leases")
        cursor.unregister("names")
    return _in_rows(found.column("name").combine_chunks(), np.asarray(found.column("row")), n)


LEASES = Format(
    name="kea_dhcp",
    source_kind="identity",
    summary="ISC Kea DHCPv4/DHCPv6 lease log (own file, syslog, forensic legal log): address -> workstation",
    sniff=program_share(*PROGRAMS, also=_OWN_OR_LEGAL_LINE),
    new_parser=kea_parser,
    independent_batches=True,
    context_lines=NAME_LINES,
    fields=("ts", "src_ip", "src_host"),
)
