"""Cisco ASA and Firepower Threat Defense syslog (`%ASA-6-302014: ...`, `%FTD-...`).

Events, by message ID (layouts from Cisco's "Syslog Messages" guide):
- 302014 / 302016, Teardown TCP / UDP connection: the flow. A connection is counted once, at its end,
  where the log knows its duration. Built (302013 / 302015) is ignored: counting both would count each
  connection twice. The cost: a connection still open when the file ends is counted from the file that
  holds its Teardown; one that never tears down (a reload) is not counted.
  The `bytes N` of a Teardown is the total of both directions: it is neither `bytes_out` nor `bytes_in`,
  so both stay null (a wrong direction would mislead an upload analysis more than a missing number).
  A Teardown does not say who opened the connection. The ASA prints the lower-security side first in
  Built and Teardown alike, and that side is the client for inbound connections and the server for
  outbound ones. So the client is: the side carrying an identity-firewall user `(DOMAIN\\user)`; else
  the side with the higher port (servers listen on the lower one); else, ports being equal, the second
  side (outbound, the usual case: a client inside opening a connection out).
- 106100, access-list permitted / est-allowed / denied: an ACL decision, source first.
- 106023, Deny ... by access-group: a blocked packet, source first.
- 304001, Accessed URL / 304002, Access denied URL: URL filtering; the URL may be absolute (a host) or
  only a path (no host).
Every other message ID (NAT, ICMP, VPN, failover, ...) is ignored.

Time: the ASA's own `Mmm dd yyyy HH:MM:SS` (`logging timestamp`), with an optional zone abbreviation
(`EDT`: the common ones are known; others, and none, mean the configured zone); else an ISO 8601 time
(RFC 5424 or rsyslog); else the syslog header's (year-less: placed in a year by `syslog.syslog_time`).
"""

from __future__ import annotations

from detector.ingest.base import Format, line_share
from detector.ingest.syslog import ISO_TIME, syslog_head_parser

_ID = r"%(?:ASA|FTD|FWSM|PIX)-(?:[A-Za-z_]+-)?\d-(\d{6})"

# Zone abbreviations an ASA may print after its time (`clock timezone NAME offset` picks the name, so
# any other name is read in the configured zone). Hours east of UTC.
ZONES = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0, "WEST": 1, "CET": 1, "CEST": 2, "MET": 1, "MEST": 2,
    "EET": 2, "EEST": 3, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
}
_ZONE_CASE = " ".join(f"when '{name}' then {hours}" for name, hours in ZONES.items())

# The ASA's own time stamp (`logging timestamp`): with the year, maybe a zone abbreviation after it.
ASA_TIME = r"([A-Z][a-z]{2} +\d{1,2} \d{4} \d{2}:\d{2}:\d{2}(?:\.\d+)?)(?: ([A-Z]{1,5}))?"

_ENDPOINT = r"([^:\s]+):(\S+?)/(\d+)(?:\(([^)]*)\))?(?: ([^\s()]+))??"
TEARDOWN = rf"^Teardown (TCP|UDP) connection \d+ for {_ENDPOINT} to {_ENDPOINT} duration (\d+):(\d+):(\d+) bytes \d+"
ACL = (
    r"^access-list \S+ (permitted|denied|est-allowed) (\S+) "
    r"[^/\s]+/(\S+?)\((\d+)\)(?:\(([^)]*)\))? -> [^/\s]+/(\S+?)\((\d+)\)"
)
DENY = (
    r"^Deny (?:protocol )?(\S+) src [^:\s]+:(\S+?)(?:/(\d+))?(?: \(([^,)]*)[^)]*\))? "
    r"dst [^:\s]+:(\S+?)(?:/(\d+))?[ ,].*by access-group"
)
ACCESSED = r"^(?:(\S+)@)?([^\s(@]+)(?:\(([^)]*)\))? Accessed (?:JAVA )?URL ([^\s:]+):(.*)$"
DENIED_URL = r"^Access denied URL (\S+) SRC ([^\s(]+)(?:\(([^)]*)\))? DEST ([^\s(]+)"

QUERY = rf"""
with tagged as (
    -- Find the tag, then cut the line at it: cheaper than one expression capturing the whole line.
    select line_no, line, ts as header_time, regexp_extract(line, '({_ID}:? ?)', ['tag', 'id']) as m
    from syslog
),
located as (
    select line_no, line, header_time, m.id, m.tag, strpos(line, m.tag) as tag_at from tagged
),
parts as (
    select line_no, header_time, nullif(id, '') as id,
        case when id <> '' then substr(line, tag_at + length(tag)) end as msg,
        left(line, tag_at - 1) as prefix,
        regexp_extract(left(line, tag_at - 1), '{ASA_TIME}', ['t', 'zone']) as asa_time
    from located
),
parsed as (
    select line_no, id, msg, header_time, prefix,
        case
            when asa_time.t <> '' then
                case asa_time.zone {_ZONE_CASE} end
        end as zone_hours,
        coalesce(try_strptime(asa_time.t, '%b %d %Y %H:%M:%S'), try_strptime(asa_time.t, '%b %d %Y %H:%M:%S.%f'))
            as asa_local,
        case when id in ('302014', '302016') then regexp_extract(msg, '{TEARDOWN}',
            ['proto', 'if_a', 'ip_a', 'port_a', 'id_a', 'word_a', 'if_b', 'ip_b', 'port_b', 'id_b', 'word_b',
             'h', 'm', 's']) end as td,
        case when id = '106100' then regexp_extract(msg, '{ACL}',
            ['verdict', 'proto', 'src', 'sport', 'user', 'dst', 'dport']) end as acl,
        case when id = '106023' then regexp_extract(msg, '{DENY}',
            ['proto', 'src', 'sport', 'user', 'dst', 'dport']) end as deny,
        case when id = '304001' then regexp_extract(msg, '{ACCESSED}',
            ['user', 'src', 'identity', 'dst', 'url']) end as acc,
        case when id = '304002' then regexp_extract(msg, '{DENIED_URL}',
            ['url', 'src', 'identity', 'dst']) end as den
    from parts
),
teardown as (
    select *,
        -- An ISO 8601 time only where the ASA's own is missing (a regular expression: dear enough to skip).
        case when asa_local is null then regexp_extract(prefix, '({ISO_TIME})') end as iso_time,
        nullif(coalesce(nullif(td.id_a, ''), td.word_a), '') as user_a,
        nullif(coalesce(nullif(td.id_b, ''), td.word_b), '') as user_b,
        try_cast(td.port_a as integer) as port_a,
        try_cast(td.port_b as integer) as port_b
    from parsed
),
sides as (
    select *,
        case
            when td is null then null
            when user_a is not null and user_b is null then true
            when user_b is not null and user_a is null then false
            else port_a > port_b
        end as client_first
    from teardown
),
unified as (
    select line_no, id, zone_hours, asa_local, iso_time, header_time,
        case
            when id is null then 'not a Cisco ASA/FTD message (no %ASA-n-NNNNNN)'
            when id in ('302014', '302016') and td.proto = '' then 'Teardown message not in the documented layout'
            when id = '106100' and acl.verdict = '' then '106100 message not in the documented layout'
            when id = '106023' and deny.proto = '' then '106023 message not in the documented layout'
            when id = '304001' and acc.src = '' then '304001 message not in the documented layout'
            when id = '304002' and den.src = '' then '304002 message not in the documented layout'
        end as reject_reason,
        id not in ('302014', '302016', '106100', '106023', '304001', '304002') as is_ignored,
        case id
            when '302014' then case when client_first then td.ip_a else td.ip_b end
            when '302016' then case when client_first then td.ip_a else td.ip_b end
            when '106100' then acl.src
            when '106023' then deny.src
            when '304001' then acc.src
            when '304002' then den.src
        end as src_ip,
        case id
            when '302014' then case when client_first then user_a else user_b end
            when '302016' then case when client_first then user_a else user_b end
            when '106100' then nullif(acl.user, '')
            when '106023' then nullif(deny.user, '')
            when '304001' then coalesce(nullif(acc.identity, ''), nullif(acc.user, ''))
            when '304002' then nullif(den.identity, '')
        end as user_name,
        case id
            when '302014' then case when client_first then td.ip_b else td.ip_a end
            when '302016' then case when client_first then td.ip_b else td.ip_a end
            when '106100' then acl.dst
            when '106023' then deny.dst
            when '304001' then acc.dst
            when '304002' then den.dst
        end as dst_ip,
        case id
            when '302014' then case when client_first then port_b else port_a end
            when '302016' then case when client_first then port_b else port_a end
            when '106100' then case when lower(acl.proto) not like 'icmp%' then try_cast(acl.dport as integer) end
            when '106023' then try_cast(nullif(deny.dport, '') as integer)
        end as dst_port,
        lower(coalesce(td.proto, acl.proto, deny.proto)) as protocol,
        case id
            when '302014' then 'allowed' when '302016' then 'allowed' when '304001' then 'allowed'
            when '106023' then 'blocked' when '304002' then 'blocked'
            when '106100' then case acl.verdict when 'denied' then 'blocked' else 'allowed' end
        end as action,
        case when id in ('302014', '302016') then
            ((try_cast(td.h as bigint) * 60 + try_cast(td.m as bigint)) * 60 + try_cast(td.s as bigint)) * 1000
        end as duration_ms,
        coalesce(acc.url, den.url) as url
    from sides
),
urls as (
    select *, url_rest(url) as rest from unified
)
select
    line_no, reject_reason, is_ignored and reject_reason is null as is_ignored,
    coalesce(
        case when asa_local is not null then
            case when zone_hours is null then timezone($tz, asa_local)
                 else (asa_local - to_hours(zone_hours))::timestamptz end
        end,
        case
            when iso_time = '' then null
            when regexp_matches(iso_time, '(Z|[+-]\d{{2}}:?\d{{2}})$') then try_cast(iso_time as timestamptz)
            else timezone($tz, try_cast(iso_time as timestamp))
        end,
        header_time
    ) as ts,
    src_ip, user_name,
    hostport_host(rest_authority(rest)) as host,
    case when hostport_host(rest_authority(rest)) is not null then 'url' else 'none' end as host_source,
    dst_ip, dst_port,
    coalesce(protocol, url_scheme(url)) as network_protocol,
    case when url is not null then coalesce(rest_path(rest), split_part(split_part(url, '?', 1), '#', 1)) end
        as url_path,
    action, duration_ms
from urls
"""

SYSLOG = Format(
    name="cisco_asa",
    source_kind="firewall",
    summary="Cisco ASA / FTD syslog: connection teardowns, ACL decisions and URL filtering messages",
    sniff=line_share(r"^.*?%(?:ASA|FTD|FWSM|PIX)-(?:[A-Za-z_]+-)?\d-\d{6}\b"),
    new_parser=syslog_head_parser(QUERY),
    independent_batches=True,
    fields=(
        "ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol", "url_path",
        "action", "duration_ms",
    ),
)
