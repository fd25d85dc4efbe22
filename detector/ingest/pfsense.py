"""pfSense and OPNsense packet filter logs: `filterlog` syslog lines with a CSV body.

The CSV (pfSense "Filter Log Format", shared by OPNsense), 0-based:
0 rule, 1 sub-rule, 2 anchor, 3 tracker, 4 interface, 5 reason, 6 action (pass | block | reject),
7 direction, 8 IP version; then for IPv4: 9 TOS, 10 ECN, 11 TTL, 12 id, 13 offset, 14 flags,
15 protocol id, 16 protocol name, 17 length, 18 source, 19 destination; for IPv6: 9 class,
10 flow label, 11 hop limit, 12 protocol name, 13 protocol id, 14 length, 15 source, 16 destination.
TCP and UDP then carry source port, destination port and data length.

Headers are read by `syslog.syslog_head_parser`, once per distinct header (a year-less BSD time gets its
year from the file's date).
A line is one packet that matched a rule with logging on: a passed packet is normally the one that
created the state, so it stands for the connection, and the packet's source is the client. There are no
byte counts and no user. Other programs in the same file (dhcpd, unbound, ...) are ignored: those are
other formats.
"""

from __future__ import annotations

from detector.ingest.base import Format
from detector.ingest.syslog import program_share, syslog_head_parser

QUERY = r"""
with split as (
    select line_no, header_ts, app, ts, case when app = 'filterlog' then string_split(msg, ',') end as f
    from syslog
),
fields as (
    select line_no, header_ts, app, ts, len(f) as n, lower(f[7]) as act, f[9] as ipver,
        case f[9] when '4' then lower(f[17]) when '6' then lower(f[13]) end as proto,
        case f[9] when '4' then f[19] when '6' then f[16] end as src,
        case f[9] when '4' then f[20] when '6' then f[17] end as dst,
        case f[9] when '4' then f[22] when '6' then f[19] end as dport
    from split
),
checked as (
    select *,
        case
            when header_ts = '' then 'not a syslog line (no syslog header)'
            when app <> 'filterlog' then null
            when ipver not in ('4', '6') then 'IP version (field 8) is not 4 or 6: ' || coalesce(ipver, 'missing')
            when (ipver = '4' and n < 20) or (ipver = '6' and n < 17)
                then 'expected at least ' || case ipver when '4' then 20 else 17 end
                    || ' fields for IPv' || ipver || ', found ' || n
        end as reject_reason
    from fields
)
select
    line_no,
    reject_reason,
    reject_reason is null and app <> 'filterlog' as is_ignored,
    ts,
    src as src_ip,
    'none' as host_source,
    dst as dst_ip,
    case when proto in ('tcp', 'udp', 'sctp') then try_cast(dport as integer) end as dst_port,
    proto as network_protocol,
    case when act = 'pass' then 'allowed' when act in ('block', 'reject') then 'blocked' else 'unknown' end
        as action
from checked
"""

FILTERLOG = Format(
    name="pfsense_filterlog",
    source_kind="firewall",
    summary="pfSense / OPNsense filterlog (packet filter CSV in syslog), IPv4 and IPv6",
    sniff=program_share("filterlog"),
    new_parser=syslog_head_parser(QUERY),
    independent_batches=True,
    fields=("ts", "src_ip", "dst_ip", "dst_port", "network_protocol", "action"),
)
