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
  host name to the address; the header block and all other IDs are ignored.
"""

from __future__ import annotations

import re

from detector.ingest.base import Format, line_share, sql_parser
from detector.ingest.syslog import program_share, syslog_head_parser

ISC_QUERY = r"""
with messages as (
    -- Only dhcpd's DHCPACK lines are read further: a capturing pattern costs more than the rest of the line.
    -- (`syslog`: the lines with their headers, each distinct header read once; `ts` is the header's time)
    select line_no, header_ts <> '' as has_header, ts as header_time,
        case when app = 'dhcpd' and starts_with(msg, 'DHCPACK on ') then
            regexp_extract(msg, '^DHCPACK on (\S+) to ([0-9A-Fa-f:]+)(?: \(([^)]*)\))?(?: via \S+)?',
                ['ip', 'mac', 'name'])
        end as ack
    from syslog
)
select
    line_no,
    case when not has_header then 'no syslog header: not a dhcpd line' end as reject_reason,
    has_header and coalesce(ack.ip, '') = '' as is_ignored,
    case when ack.ip <> '' then header_time end as ts,
    nullif(ack.ip, '') as src_ip,
    nullif(lower(ack.name), '') as src_host,
    'dhcp' as network_protocol
from messages
"""

WINDOWS_QUERY = r"""
with fields as (
    select line_no, line, string_split(line, ',') as f from lines
),
typed as (
    select line_no, len(f) as n, try_cast(trim(f[1]) as integer) as id, f
    from fields
),
assignments as (
    -- Times are read only on assignment lines: reading a time costs more than the rest of the line.
    select line_no, n, id,
        case when id in (10, 11, 32) then
            try_strptime(trim(f[2]) || ' ' || trim(f[3]), ['%m/%d/%y %H:%M:%S', '%m/%d/%Y %H:%M:%S'])
        end as local_time,
        trim(f[5]) as ip, lower(trim(f[6])) as name
    from typed
)
select
    line_no,
    case
        when id is null or n < 7 then null
        when id in (10, 11, 32) and local_time is null then 'date/time is not MM/DD/YY HH:MM:SS'
        when id in (10, 11, 32) and ip = '' then 'assignment without an address'
    end as reject_reason,
    -- the header block, the column line and every non-assignment event
    id is null or n < 7 or id not in (10, 11, 32) as is_ignored,
    timezone($tz, local_time) as ts,
    nullif(ip, '') as src_ip,
    nullif(name, '') as src_host,
    'dhcp' as network_protocol
from assignments
"""

_WINDOWS_ROW = line_share(re.compile(r"^\d{2},\d{2}/\d{2}/\d{2,4},\d{2}:\d{2}:\d{2},"))
_WINDOWS_HEADER = re.compile(r"^\s*(?:Microsoft DHCP Service Activity Log|ID,Date,Time,Description,IP Address)")


def _sniff_windows(lines: list[str] | tuple[str, ...]) -> float:
    """The file's own header is proof; without it (a fragment), the share of audit rows."""
    if any(_WINDOWS_HEADER.match(line) for line in lines):
        return 1.0
    return _WINDOWS_ROW(lines)


ISC_DHCPD = Format(
    name="isc_dhcpd",
    source_kind="identity",
    summary="ISC dhcpd leases through syslog (Linux, pfSense, OPNsense): address -> workstation",
    sniff=program_share("dhcpd"),
    new_parser=syslog_head_parser(ISC_QUERY),
    independent_batches=True,
    fields=("ts", "src_ip", "src_host"),
)

WINDOWS_DHCP = Format(
    name="windows_dhcp",
    source_kind="identity",
    summary="Windows Server DHCP audit log (DhcpSrvLog CSV): address -> workstation",
    sniff=lambda lines: _sniff_windows(lines),
    new_parser=sql_parser(WINDOWS_QUERY),
    independent_batches=True,
    fields=("ts", "src_ip", "src_host"),
)
