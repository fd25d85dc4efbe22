"""Cisco Meraki MX (and MR) syslog: web requests (`urls`), firewall flows, IDS alerts and content-filter blocks.

Every Meraki message is `<time> <device name> <event type> <body>`: the time is epoch seconds with nanoseconds
(`1700000000.123456789`), or an ISO 8601 time where newer firmware or a relay writes one; in front of it stand
`<PRI>1 ` (Meraki's own RFC 5424-like header), or a relay's header (`Apr 20 14:36:35 192.168.10.1 1 ...`), or
nothing. The device name is read past, the type decides what the line is:

- `urls` (HTTP requests the MX or MR saw): `src=ip:port dst=ip:port mac=... [agent='<User-Agent>'] request:
  <METHOD> <URL>`. An event, allowed (the MX logs requests it passed; blocks are `content_filtering_block`
  events). Host and path from the URL (host_source url); a `host:port` target without a scheme is a CONNECT
  (host_source connect). Meraki writes `UNKNOWN` for a method it could not read (HTTPS): none. The agent is
  quoted with `'` and may hold spaces and quotes: it runs to the quote before the last ` request: ` (a URL has
  no spaces, so the last one is the request's).
- Layer 3 firewall flows: `flows` (before MX 18.101), `firewall`, `vpn_firewall`, `cellular_firewall` and
  `bridge_anyconnect_client_vpn_firewall` (MX 18.101+): `src=ip dst=ip [mac=...] protocol=tcp sport=n dport=n
  pattern: <verdict> <rule>`; the verdict is `allow`/`deny`, or `0` (allow) / `1` (deny) for inbound rules,
  or a group policy's `Group Policy Allow`/`Deny`. MR access points write `flows allow|deny src=...` instead.
  `l7_firewall` carries `decision=allowed|blocked`. `ip_flow_start` (NAT sessions) is an allowed flow; its
  `ip_flow_end` twin is ignored, so that a flow is counted once.
- IDS alerts: `ids-alerts` and `security_event ids_alerted`: `direction=ingress|egress protocol=tcp/ip src=ip:port
  dst=ip:port [decision=allowed|blocked]`. An ingress alert is about a packet from the server to the client, so
  its `src` is the server: the event is turned around (client as src_ip, server as dst_ip and dst_port), as a
  flow is logged. Without `decision` (older `ids-alerts`) the action is unknown.
- `security_event security_filtering_file_scanned` (AMP): `url=... src=ip:port dst=ip:port ... action=block|allow`.
- `events content_filtering_block url='...' category0='...' server='ip:port' client_mac='...'`: a blocked web
  request (host and path from the URL, category0 as vendor_category); the client is named by MAC only, which
  the schema has no column for (not read), so src_ip is null.
Every other type and subtype carries no traffic and is ignored: `events` (VPN, uplink, DHCP leases, AnyConnect),
`airmarshal_events`, `security_filtering_disposition_change`, `ip_flow_end`. MAC addresses are not read.
Addresses: `ip:port`, `[v6]:port`, or bare; an IPv6 address with a port and no brackets
(`fe80:...:8330:80`, as MX firmware writes it in `urls`) has the port after its last colon. Meraki logs no
byte counts: bytes_out is null.

Time: epoch seconds are UTC; an ISO time with an offset is absolute, without one in the configured zone. A
traffic line without a source and a destination address, or with an unreadable time, is a counted reject; a
line without the Meraki `<time> <device> <type>` head is not a Meraki line (reject).

References: Meraki "Syslog Event Types and Log Samples"
(https://documentation.meraki.com/General_Administration/Monitoring_and_Reporting/Syslog_Event_Types_and_Log_Samples)
and "Syslog Server Overview and Configuration" (the MX 18.101 flows -> firewall rename, inbound 0/1 verdicts;
https://documentation.meraki.com/General_Administration/Monitoring_and_Reporting/Syslog_Server_Overview_and_Configuration);
Elastic's cisco_meraki integration (https://github.com/elastic/integrations/tree/main/packages/cisco_meraki:
urls/flows/ipflows/idsalerts pipelines, bracketed and unbracketed IPv6 with ports, agent inside the urls body);
Sekoia's intake format (https://github.com/SEKOIA-IO/intake-formats/tree/main/Cisco/cisco-meraki: `pattern: 0|1`,
content_filtering_block, IPv6 urls); LogZilla's Meraki notes (https://docs.logzilla.net/LogZilla_Appstore/Cisco_Meraki/).
"""

from __future__ import annotations

import re

from detector.ingest.base import Format, line_share, sql_parser
from detector.ingest.ip_protocols import protocol_name_sql
from detector.ingest.syslog import ISO_TIME

EPOCH_TIME = r"\d{9,10}\.\d{1,9}"
HEAD_TIME = rf"(?:{EPOCH_TIME}|{ISO_TIME})"
# `<time> <device> <type>`: at the line's start or after Meraki's `<PRI>1 ` (the common case: an anchored
# expression, cheap), else anywhere after a relay's header (its first occurrence: a relay's time is followed by
# a host and `1`, which is no type).
HEAD_AT_START = rf"^(?:<\d{{1,3}}>1 )?{HEAD_TIME} \S+ [a-z][a-z0-9_-]*(?: |$)"
HEAD_ANYWHERE = rf"(?:^|[ >]){HEAD_TIME} \S+ [a-z][a-z0-9_-]*(?: |$)"
# The types sniffing accepts: Meraki's MX/MR/MS syslog roles (a guessed type would let other formats' lines in).
TYPES = (
    "urls", "flows", "firewall", "vpn_firewall", "cellular_firewall", "bridge_anyconnect_client_vpn_firewall",
    "l7_firewall", "ip_flow_start", "ip_flow_end", "ids-alerts", "security_event", "events", "airmarshal_events",
)
FLOW_TYPES = ("flows", "firewall", "vpn_firewall", "cellular_firewall", "bridge_anyconnect_client_vpn_firewall",
              "l7_firewall", "ip_flow_start")

NOT_MERAKI = 'not a Cisco Meraki syslog line (no "<epoch time> <device> <event type>" head)'
NO_ADDRESS = "no source or destination address (src=/dst=)"
NO_URL = "content_filtering_block without url= or server="
BAD_TIME = "time is not epoch seconds or an ISO 8601 time: "
ALLOW_WORDS = ("allow", "allowed", "0")
DENY_WORDS = ("deny", "denied", "block", "blocked", "1")


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _address_sql(name: str) -> str:
    """SQL for the address (`<name>_ip`) and port (`<name>_port`) of the `ip[:port]` / `[v6]:port` text `<name>`.
    An IPv6 address without brackets has a port after its last colon only where the type writes ports (all but
    the flows: `ported`), and only where that colon follows a hex digit (`2001:db8::1` keeps its `::1`)."""
    return rf"""
        case
            when {name} is null or {name} = '' then null
            when starts_with({name}, '[') then regexp_extract({name}, '^\[([^\]]*)\]', 1)
            when {name}_colon = 0 then {name}
            when {name}_v4 then left({name}, {name}_colon - 1)
            when ported and regexp_matches({name}, '[0-9A-Fa-f]:\d{{1,5}}$')
                then regexp_extract({name}, '^(.*):\d+$', 1)
            else {name}
        end as {name}_ip,
        case
            when {name} is null or {name} = '' then null
            when starts_with({name}, '[') then try_cast(nullif(regexp_extract({name}, '\]:(\d+)$', 1), '') as integer)
            when {name}_colon = 0 then null
            when {name}_v4 then try_cast(substr({name}, {name}_colon + 1) as integer)
            when ported and regexp_matches({name}, '[0-9A-Fa-f]:\d{{1,5}}$')
                then try_cast(regexp_extract({name}, ':(\d+)$', 1) as integer)
        end as {name}_port"""


QUERY = rf"""
with anchored as (
    -- the head's text only (no capturing groups: the expression then runs at its fastest)
    select line_no, line, regexp_extract(line, '{HEAD_AT_START}') as head from lines
),
heads as (
    -- a relay's header in front: the head is found anywhere (which costs more), after its ' ' or '>'
    select line_no, line,
        case when head <> '' then head else regexp_extract(line, '{HEAD_ANYWHERE}') end as head,
        case when head <> '' then 1 else strpos(line, regexp_extract(line, '{HEAD_ANYWHERE}')) end as head_at
    from anchored
),
roles as (
    select line_no,
        ltrim(case when starts_with(head, '<') then substr(head, strpos(head, ' ') + 1) else head end, ' >') as words,
        case when head <> '' then ltrim(substr(line, head_at + length(head))) else '' end as body
    from heads
),
words as (
    select line_no, body, split_part(words, ' ', 1) as t, split_part(words, ' ', 3) as kind from roles
),
typed as (
    select *,
        case
            when t = '' then 'none'
            when kind = 'urls' then 'url'
            when kind in ({_sql_list(FLOW_TYPES)}) then 'flow'
            when kind = 'ids-alerts' then 'ids'
            when kind = 'security_event' and starts_with(body, 'ids_alerted ') then 'ids'
            when kind = 'security_event' and starts_with(body, 'security_filtering_file_scanned ') then 'file'
            when kind = 'events' and (starts_with(body, 'content_filtering_block ')
                or starts_with(body, 'type=content_filtering_block ')) then 'block'
            else 'ignored'
        end as role
    from words
),
kept as (
    select line_no, t, kind, role, body, role not in ('flow', 'block') as ported,
        -- the request at the end of a urls body: ` request: METHOD [URL]` (neither holds a space)
        case when role = 'url'
            then regexp_extract(body, '((?:^| )request: (\S*)(?: (\S+))?)$', ['tail', 'method', 'url']) end as req,
        -- `src=... dst=...` as Meraki writes them, side by side (an expression without groups costs half of two
        -- with); apart where a line has them so
        case when role in ('url', 'flow', 'ids', 'file') then regexp_extract(body, '(?:^| )src=\S* dst=\S*') end
            as pair,
        case when role = 'flow' then regexp_extract(body, '(?:^| )dport=(\d+)', 1) end as dport,
        case when role in ('flow', 'ids')
            then lower(split_part(regexp_extract(body, '(?:^| )protocol=(\S*)', 1), '/', 1)) end as protocol,
        case
            when role = 'flow' and kind = 'l7_firewall' then regexp_extract(body, '(?:^| )decision=(\S*)', 1)
            when role = 'flow' and kind = 'ip_flow_start' then 'allow'
            when role = 'flow' and (starts_with(body, 'allow ') or starts_with(body, 'deny '))
                then split_part(body, ' ', 1)
            when role = 'flow' then regexp_extract(body, ' pattern: (.*)$', 1)
            when role = 'ids' then regexp_extract(body, '(?:^| )decision=(\S*)', 1)
            when role = 'file' then regexp_extract(body, '(?:^| )action=(\S*)', 1)
        end as verdict,
        case when role = 'ids' then regexp_extract(body, '(?:^| )direction=(\S*)', 1) = 'ingress' end as ingress,
        case
            when role = 'file' then nullif(regexp_extract(body, '(?:^| )url=(\S*)', 1), '')
            when role = 'block' then nullif(regexp_extract(body, ' url=''([^'']*)''', 1), '')
        end as given_url,
        case when role = 'block' then nullif(regexp_extract(body, ' category0=''([^'']*)''', 1), '') end as category
    from typed
),
located as (
    select * exclude (pair), coalesce(nullif(req.url, ''), given_url) as url,
        case
            when pair <> '' then split_part(split_part(pair, 'src=', 2), ' ', 1)
            when role in ('url', 'flow', 'ids', 'file') then regexp_extract(body, '(?:^| )src=(\S*)', 1)
        end as src,
        case
            when pair <> '' then split_part(pair, ' dst=', 2)
            when role in ('url', 'flow', 'ids', 'file') then regexp_extract(body, '(?:^| )dst=(\S*)', 1)
            when role = 'block' then regexp_extract(body, ' server=''([^'']*)''', 1)
        end as dst
    from kept
),
counted as (
    select *,
        -- IPv4 with a port: its first colon after a dot (an IPv6 address has a colon before any dot)
        strpos(src, ':') as src_colon, strpos(src, ':') > strpos(src, '.') and contains(src, '.') as src_v4,
        strpos(dst, ':') as dst_colon, strpos(dst, ':') > strpos(dst, '.') and contains(dst, '.') as dst_v4,
        url_rest(url) as rest,
        case when role = 'url' then strpos(body, ' agent=''') end as agent_at,
        case when role = 'url' then left(body, length(body) - length(req.tail)) end as before_req
    from located
),
addresses as (
    select *,
        {_address_sql("src")},
        {_address_sql("dst")},
        -- `host:port` without a scheme: a CONNECT target
        rest is null and url is not null and regexp_full_match(url, '[^/\s]+:\d{{1,5}}') as is_connect,
        authority_hostport(rest_authority(rest)) as hostport,
        lower(split_part(trim(verdict), ' ', 1)) as verdict_word,
        case
            when role in ('none', 'ignored') then null
            when contains(t, 'T') and regexp_matches(t, '(Z|[+-]\d{{2}}:?\d{{2}})$') then try_cast(t as timestamptz)
            when contains(t, 'T') then timezone($tz, try_cast(t as timestamp))
            else make_timestamp(try_cast(split_part(t, '.', 1) as bigint) * 1000000
                + try_cast(rpad(left(split_part(t, '.', 2), 6), 6, '0') as bigint))::timestamptz
        end as ts
    from counted
),
named as (
    select *, hostport_host(case when is_connect then url else hostport end) as host from addresses
)
select
    line_no,
    case
        when role = 'none' then '{NOT_MERAKI}'
        when role = 'ignored' then null
        when role = 'block' and (dst_ip is null or url is null) then '{NO_URL}'
        when role <> 'block' and (src_ip is null or dst_ip is null) then '{NO_ADDRESS}'
        when ts is null then '{BAD_TIME}' || t
    end as reject_reason,
    role = 'ignored' as is_ignored,
    ts,
    case when ingress then dst_ip else src_ip end as src_ip,
    host,
    case when host is null then 'none' when is_connect then 'connect' else 'url' end as host_source,
    case when ingress then src_ip else dst_ip end as dst_ip,
    case when ingress then src_port else coalesce(try_cast(nullif(dport, '') as integer), dst_port) end as dst_port,
    coalesce(case when protocol <> '' then {protocol_name_sql("protocol")} end, url_scheme(url)) as network_protocol,
    case when role = 'url' and req.method not in ('', 'UNKNOWN') then upper(req.method)
         when is_connect then 'CONNECT' end as http_method,
    case when not is_connect then rest_path(rest) end as url_path,
    case
        when role = 'url' then 'allowed'
        when role = 'block' then 'blocked'
        when verdict_word in ({_sql_list(ALLOW_WORDS)}) then 'allowed'
        when verdict_word in ({_sql_list(DENY_WORDS)}) then 'blocked'
        -- a group policy's verdict: `Group Policy Allow` / `Group Policy Deny`
        when verdict_word = 'group' and lower(split_part(trim(verdict), ' ', 3)) in ({_sql_list(ALLOW_WORDS)})
            then 'allowed'
        when verdict_word = 'group' and lower(split_part(trim(verdict), ' ', 3)) in ({_sql_list(DENY_WORDS)})
            then 'blocked'
        else 'unknown'
    end as action,
    case when agent_at > 0 and ends_with(before_req, '''')
        then nullif(substr(before_req, agent_at + 8, length(before_req) - agent_at - 8), '') end as user_agent,
    category as vendor_category
from named
"""

SNIFF = re.compile(rf"^(?:.*?[ >])?{HEAD_TIME} \S+ (?:{'|'.join(map(re.escape, TYPES))})(?: |$)")

SYSLOG = Format(
    name="meraki",
    source_kind="firewall",
    summary="Cisco Meraki MX/MR syslog: urls (web requests with host, path, agent), L3/L7 firewall and flow "
            "verdicts, IDS alerts, AMP and content-filter blocks; events and air marshal ignored",
    sniff=line_share(SNIFF),
    new_parser=sql_parser(QUERY),
    independent_batches=True,
    fields=(
        "ts", "src_ip", "host", "host_source", "dst_ip", "dst_port", "network_protocol", "http_method", "url_path",
        "action", "user_agent", "vendor_category",
    ),
)
