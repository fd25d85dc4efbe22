"""DHCP server logs: which workstation held which address when (source kind `identity`).

DNS and firewall events carry only a client address; a lease names the workstation behind it, and
workstations.csv names its user (see queries/dhcp_leases.sql). One event per assignment:
`src_ip` = the leased address, `src_host` = the client's host name as it announced it.

- `isc_dhcpd`: ISC dhcpd through syslog (Linux, pfSense, OPNsense):
  `dhcpd[pid]: DHCPACK on 10.20.1.15 to 4c:55:41:a0:fa:99 (PC-0042) via eth0`. DHCPACK and DHCPOFFER
  name the address with the MAC and, where the client sent one, the host name; only the ACK is an
  assignment. Every other dhcpd message (DISCOVER, REQUEST, INFORM acks, DHCPv6, pool and service
  messages) and other programs' lines in the same file are ignored.
- `windows_dhcp`: the Windows Server DHCP audit log (`DhcpSrvLog-*.log`): CSV
  `ID,Date,Time,Description,IP Address,Host Name,MAC Address,...`, dates MM/DD/YY in the server's
  local time. IDs 10 (assign) and 11 (renew) are assignments, 32 (DNS update successful) also ties the
  host name to the address; the header block and all other IDs are ignored. The header block is in the
  server's language (`ID,Datum,Uhrzeit,...`), the rows are not.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, list_item, one_array, only_where, per_distinct
from detector.ingest.base import (
    BatchParser,
    Format,
    ParseContext,
    ParseResult,
    line_share,
    parse_cursor,
    split_outcomes,
)
from detector.ingest.distinct_sql import encoded, in_time_zone, through
from detector.ingest.syslog import SyslogHeaders, define_head_macros, program_share, reference_time
from detector.schema import TIMESTAMP

# Read in Arrow: each line's syslog header once per distinct header (syslog.SyslogHeaders), then dhcpd's
# DHCPACK messages once per distinct message (a lease's ACK repeats at every renewal) through a capturing
# pattern; every other line with a header is ignored, a line without one rejected.
ACK_SQL = r"""
select nullif(ack.ip, '') as src_ip, nullif(lower(ack.name), '') as src_host
from (
    select regexp_extract(value, '^DHCPACK on (\S+) to ([0-9A-Fa-f:]+)(?: \(([^)]*)\))?(?: via \S+)?',
        ['ip', 'mac', 'name']) as ack
    from distinct_values
)
"""
NO_HEADER = "no syslog header: not a dhcpd line"


def isc_parser(context: ParseContext) -> BatchParser:
    define_head_macros(context.connection)
    headers = SyslogHeaders(context.timezone, reference_time(context.path, context.timezone))
    acks = DistinctQuery(ACK_SQL)

    def parse(lines: pa.Table) -> ParseResult:
        with parse_cursor(context.connection) as cursor:
            syslog = headers.read(cursor, lines)
            msg = syslog.column("msg").combine_chunks()
            is_ack = pc.and_(pc.equal(syslog.column("app").combine_chunks(), "dhcpd"),
                             pc.starts_with(msg, "DHCPACK on "))
            lease = per_distinct(cursor, only_where(msg, is_ack), acks)
        has_header = pc.not_equal(syslog.column("header_ts").combine_chunks(), "")
        is_lease = pc.is_valid(lease["src_ip"])
        columns = {
            "line_no": lines.column("line_no"),
            "reject_reason": pc.if_else(has_header, pa.scalar(None, pa.string()), NO_HEADER),
            "is_ignored": pc.and_(has_header, pc.invert(is_lease)),
            "ts": only_where(syslog.column("ts").combine_chunks(), is_lease),
            "src_ip": lease["src_ip"],
            "src_host": lease["src_host"],
            "network_protocol": pa.DictionaryArray.from_arrays(pa.array(np.zeros(len(msg), np.int32)),
                                                          pa.array(["dhcp"])),
        }
        return split_outcomes(pa.table(columns), lines)

    return parse


# The Windows audit log is read in Arrow: a line splits at ',' (the log quotes nothing), and each distinct
# ID, date and time, address and host name goes through SQL once per file. Lines that are not IDs 10, 11 or
# 32 with at least 7 columns (the header block, the column line, other events) are ignored; times are read
# only on assignment lines.
ID_SQL = "select try_cast(trim(value) as integer) as value from distinct_values"
TIME_SQL = """
select timezone(@TZ@, try_strptime(trim(split_part(value, chr(31), 1)) || ' ' || trim(split_part(value, chr(31), 2)),
                                   ['%m/%d/%y %H:%M:%S', '%m/%d/%Y %H:%M:%S'])) as value
from distinct_values
"""
IP_SQL = "select nullif(trim(value), '') as value from distinct_values"
NAME_SQL = "select nullif(lower(trim(value)), '') as value from distinct_values"
ASSIGNMENTS = pa.array([10, 11, 32], pa.int32())


def windows_parser(context: ParseContext) -> BatchParser:
    id_query, ip_query, name_query = DistinctQuery(ID_SQL), DistinctQuery(IP_SQL), DistinctQuery(NAME_SQL)
    time_query = DistinctQuery(in_time_zone(TIME_SQL, context.timezone))

    def parse(lines: pa.Table) -> ParseResult:
        # the 6 columns read; a count above 6 only needs to say "7 or more"
        fields = pc.split_pattern(one_array(lines.column("line")), ",", max_splits=6)
        count = pc.list_value_length(fields)
        with parse_cursor(context.connection) as cursor:
            event_id = through(cursor, id_query, encoded(list_item(fields, 0)))["value"]
            is_assignment = pc.fill_null(pc.and_(pc.is_in(event_id, value_set=ASSIGNMENTS),
                                                 pc.greater_equal(count, 7)), False)
            when = pc.binary_join_element_wise(list_item(fields, 1), list_item(fields, 2), chr(31))
            ts = through(cursor, time_query, encoded(only_where(when, is_assignment)))["value"]
            ip = through(cursor, ip_query, encoded(list_item(fields, 4)))["value"]
            name = through(cursor, name_query, encoded(list_item(fields, 5)))["value"]
        reason = pa.nulls(len(count), pa.string())
        no_address = pc.and_(is_assignment, pc.is_null(ip))
        if pc.any(no_address).as_py():  # (an address of spaces only: trimmed, it is none)
            reason = pc.if_else(no_address, "assignment without an address", reason)
        bad_time = pc.and_(is_assignment, pc.is_null(ts))
        if pc.any(bad_time).as_py():
            reason = pc.if_else(bad_time, "date/time is not MM/DD/YY HH:MM:SS", reason)
        columns = {
            "line_no": lines.column("line_no"),
            "reject_reason": reason,
            "is_ignored": pc.invert(is_assignment),
            "ts": pc.cast(ts, TIMESTAMP),
            "src_ip": ip,
            "src_host": name,
            "network_protocol": pa.repeat(pa.scalar("dhcp"), len(count)),
        }
        return split_outcomes(pa.table(columns), lines)

    return parse


_WINDOWS_ROW_START = re.compile(r"^\d{2},\d{2}/\d{2}/\d{2,4},\d{2}:\d{2}:\d{2},")
_WINDOWS_ROW = line_share(_WINDOWS_ROW_START)
_WINDOWS_HEADER = re.compile(r"^\s*(?:Microsoft DHCP Service Activity Log|ID,Date,Time,Description,IP Address)")


# The column line in any language: the server writes its header block in its own language ("ID,Datum,Uhrzeit,
# Beschreibung,IP-Adresse,...", "ID,Date,Heure,Description,Adresse IP,..."), the rows as everywhere.
_WINDOWS_COLUMNS = re.compile(r"^ID(?:,[^,]+){6,}")


def _sniff_windows(lines: list[str] | tuple[str, ...]) -> float:
    """The file's own header is proof; a column line in another language, when audit rows follow it; without
    either (a fragment), the share of audit rows."""
    if any(_WINDOWS_HEADER.match(line) for line in lines):
        return 1.0
    columns = next((i for i, line in enumerate(lines) if _WINDOWS_COLUMNS.match(line)), None)
    if columns is not None:
        after = [line for line in lines[columns + 1:] if line.strip()]
        if after and sum(1 for line in after if _WINDOWS_ROW_START.match(line)) * 2 > len(after):
            return 1.0
    return _WINDOWS_ROW(lines)


ISC_DHCPD = Format(
    name="isc_dhcpd",
    source_kind="identity",
    summary="ISC dhcpd leases through syslog (Linux, pfSense, OPNsense): address -> workstation",
    sniff=program_share("dhcpd"),
    new_parser=isc_parser,
    independent_batches=True,
    fields=("ts", "src_ip", "src_host"),
)

WINDOWS_DHCP = Format(
    name="windows_dhcp",
    source_kind="identity",
    summary="Windows Server DHCP audit log (DhcpSrvLog CSV, header in any language): address -> workstation",
    sniff=lambda lines: _sniff_windows(lines),
    new_parser=windows_parser,
    independent_batches=True,
    fields=("ts", "src_ip", "src_host"),
)
