"""Juniper SRX session logs: RT_FLOW_SESSION_CREATE / CLOSE / DENY (and their `_LS` logical-system twins).

Two bodies, behind any syslog header:
- structured-data (`set system syslog ... structured-data`, RFC 5424 or relayed inside a BSD header as
  `junos-flow: <ISO time> host RT_FLOW - RT_FLOW_SESSION_CLOSE [junos@2636... key="value" ...]`): fields
  by name, `source-address`, `destination-port`, `protocol-id`, `username`, `bytes-from-client`,
  `bytes-from-server`, `elapsed-time`. Some devices put typographic quotes around values; both kinds
  are read.
- the older plain text (`RT_FLOW: RT_FLOW_SESSION_CLOSE: session closed TCP FIN: 10.0.0.1/5000->1.2.3.4/443
  0x0 junos-https ... 10(1024) 8(4096) 30 ...`): the first `a/p->b/q` is client to server, and
  `packets(bytes) packets(bytes) seconds` are the client's, the server's and the elapsed time. Columns
  between move with the Junos version; the protocol and the user are read by their place next to these.
The client is the source: SRX logs the session as its first packet saw it.
AppSecure's view is kept: the nested application (`CHATGPT` over `SSL`), else the application, as
vendor_app (`UNKNOWN` and `N/A` are none), and the structured data's `application-category` as
vendor_category.

A session is counted once, at CLOSE (bytes each way and duration known); DENY is a blocked session;
CREATE is ignored so that a session is not counted twice (one still open when the file ends is counted
from the file with its CLOSE). Other Junos messages (RT_IDS screens, APPTRACK, RT_UTM, ...) are ignored.

Time: the device's ISO 8601 time when the line was relayed inside another header, else the syslog
header's (RFC 5424: absolute; year-less BSD: placed by `syslog.syslog_time`, in the configured zone).
"""

from __future__ import annotations

from detector.ingest.base import Format, line_share
from detector.ingest.ip_protocols import protocol_name_sql
from detector.ingest.syslog import ISO_TIME, syslog_sql_parser

KEYS = (
    "source-address", "source-port", "destination-address", "destination-port", "protocol-id", "username",
    "bytes-from-client", "bytes-from-server", "elapsed-time", "application", "nested-application",
    "application-category",
)
# The value of a key is the piece after its `key=` piece when the data is split on its quote marks: the
# first key ends piece 1 (after the header), the n-th of the others (`keys`, from piece 3 on) is piece 2n + 1.
_LOOKUPS = ",\n        ".join(
    f"case when first_key = '{key}=' then p[2] else p[nullif(list_position(keys, ' {key}='), 0) * 2 + 2] end "
    f"as \"{key}\""
    for key in KEYS
)
_EVENT = r"\b(RT_FLOW_SESSION_(?:CREATE|CLOSE|DENY))(?:_LS)?\b"
_TEXT = r"(\S+?)/(\d+)->(\S+?)/(\d+)"
# CLOSE: protocol policy from-zone to-zone session-id packets(bytes) packets(bytes) seconds [app nested user(roles)]
_TEXT_CLOSE = r" (\d+) \S+ \S+ \S+ \d+ \d+\((\d+)\) \d+\((\d+)\) (\d+)(?: (\S+) (\S+) ([^\s(]+)\()?"
# DENY: ... service protocol(icmp-type) policy ...
_TEXT_DENY = r"->\S+/\d+ (?:0x\w+ )?\S+ (\d+)\(\d+\) "

QUERY = rf"""
with tagged as (
    select line_no, line, header_ts,
        regexp_extract(line, '{_EVENT}', 1) as event,
        contains(line, '[junos@') as structured,
        -- Relayed inside a BSD header (`junos-flow: <ISO time> host RT_FLOW - ...`): the device's own time.
        regexp_extract(msg, '^({ISO_TIME}) ', 1) as inner_time
    from syslog_lines($tz, $ref)
),
parts as (
    select line_no, line, event, structured, header_ts, inner_time,
        -- Structured data, split on its quote marks: the odd pieces end in `key=`, the even ones are values.
        -- Typographic quotes count as quotes; an escaped quote (RFC 5424: \") is hidden until the split is done.
        -- CREATE is ignored: only CLOSE and DENY are read.
        case when event in ('RT_FLOW_SESSION_CLOSE', 'RT_FLOW_SESSION_DENY') and structured then string_split(
            case when contains(line, '“') or contains(line, '”') or contains(line, '\"')
                then replace(replace(replace(line, '\"', chr(30)), '“', '"'), '”', '"') else line end,
            '"') end as p,
        case when event in ('RT_FLOW_SESSION_CLOSE', 'RT_FLOW_SESSION_DENY') and not structured then
            regexp_extract(line, '{_TEXT}', ['src', 'sport', 'dst', 'dport']) end as t,
        case when event = 'RT_FLOW_SESSION_CLOSE' and not structured then
            regexp_extract(line, '{_TEXT_CLOSE}', ['proto', 'out', 'inb', 'elapsed', 'app', 'nested', 'user'])
        end as tb,
        case when event = 'RT_FLOW_SESSION_DENY' and not structured then
            regexp_extract(line, '{_TEXT_DENY}', 1) end as deny_proto
    from tagged
),
keyed as (
    -- From piece 3 on the odd pieces are ` key=` (SD-PARAMs are separated by one space); with several SD
    -- elements (`"][elem key="`) some are not, and each piece's last word is the key.
    select *, split_part(p[1], ' ', -1) as first_key,
        case
            when contains(line, '][') then list_transform(list_slice(p, 3, -1, 2),
                lambda piece: ' ' || split_part(piece, ' ', -1))
            else list_slice(p, 3, -1, 2)
        end as keys
    from parts
),
fields as (
    select line_no, event, structured, header_ts, inner_time, t, tb, deny_proto,
        {_LOOKUPS}
    from keyed
),
unified as (
    select line_no, event, header_ts, inner_time,
        coalesce("source-address", nullif(t.src, '')) as src,
        coalesce("destination-address", nullif(t.dst, '')) as dst,
        coalesce("destination-port", nullif(t.dport, '')) as dport,
        coalesce("protocol-id", nullif(tb.proto, ''), nullif(deny_proto, '')) as proto,
        nullif(nullif(replace(replace(coalesce("username", tb.user), chr(30), '"'), '\\', '\'), 'N/A'), '')
            as username,
        coalesce("bytes-from-client", nullif(tb.out, '')) as bytes_client,
        coalesce("bytes-from-server", nullif(tb.inb, '')) as bytes_server,
        coalesce("elapsed-time", nullif(tb.elapsed, '')) as elapsed,
        -- AppSecure's application: the nested one (CHATGPT over SSL) when it was identified.
        coalesce(nullif(nullif(coalesce("nested-application", tb.nested), 'UNKNOWN'), 'N/A'),
            nullif(nullif(coalesce("application", tb.app), 'UNKNOWN'), 'N/A')) as application,
        nullif(nullif("application-category", 'N/A'), '') as application_category
    from fields
),
checked as (
    select *,
        case
            when header_ts = '' and inner_time = '' then 'not a Junos syslog line (no syslog header)'
            when event in ('RT_FLOW_SESSION_CLOSE', 'RT_FLOW_SESSION_DENY') and (src is null or dst is null)
                then event || ' without source and destination addresses'
        end as reject_reason
    from unified
)
select
    line_no,
    reject_reason,
    reject_reason is null and event not in ('RT_FLOW_SESSION_CLOSE', 'RT_FLOW_SESSION_DENY') as is_ignored,
    case
        when inner_time = '' then syslog_time(header_ts, $tz, $ref)
        when regexp_matches(inner_time, '(Z|[+-]\d{{2}}:?\d{{2}})$') then try_cast(inner_time as timestamptz)
        else timezone($tz, try_cast(inner_time as timestamp))
    end as ts,
    src as src_ip,
    username as user_name,
    'none' as host_source,
    dst as dst_ip,
    -- For ICMP the 'port' is the ICMP identifier, not a port.
    case when proto not in ('1', '58') or proto is null then try_cast(dport as integer) end as dst_port,
    {protocol_name_sql('proto')} as network_protocol,
    case event when 'RT_FLOW_SESSION_DENY' then 'blocked' else 'allowed' end as action,
    case when event = 'RT_FLOW_SESSION_CLOSE' then try_cast(bytes_client as bigint) end as bytes_out,
    case when event = 'RT_FLOW_SESSION_CLOSE' then try_cast(bytes_server as bigint) end as bytes_in,
    case when event = 'RT_FLOW_SESSION_CLOSE' then try_cast(elapsed as bigint) * 1000 end as duration_ms,
    nullif(application, '') as vendor_app,
    application_category as vendor_category
from checked
"""

SYSLOG = Format(
    name="juniper_srx",
    source_kind="firewall",
    summary="Juniper SRX RT_FLOW session logs (structured-data or plain text): session close and deny",
    sniff=line_share(r"^.*?\b(?:RT_FLOW|RT_IDS|RT_IDP|APPTRACK|RT_UTM|RT_SCREEN)\w*(?: - |: )"),
    new_parser=syslog_sql_parser(QUERY),
    independent_batches=True,
    fields=(
        "ts", "src_ip", "user_name", "dst_ip", "dst_port", "network_protocol", "action", "bytes_out", "bytes_in",
        "duration_ms", "vendor_app", "vendor_category",
    ),
)
