"""Fortinet FortiGate (FortiOS) syslog: `key=value` pairs, string values in double quotes.

The pairs are split out once per line (two `regexp_extract_all` passes: keys, values) and looked up by
name; measured faster than one regular expression per key, and indifferent to key order, to keys a
FortiOS version adds, and to the syslog header in front.

Events:
- `type=traffic` (forward, local, multicast, sniffer): the session, logged when it ends. `sentbyte` is
  client to server (`bytes_out`), `rcvdbyte` the reverse, `duration` in seconds. With `logtraffic-start`
  FortiOS also logs `action=start` when a session opens: ignored, so a session is counted once.
- `type=utm subtype=webfilter` and `subtype=app-ctrl`: `hostname` and `url` (the path) of a request.
- `type=utm subtype=dns` (FortiOS 6.2+) and `type=dns` (6.0): `qname`, `qtype`, answers in `ipaddr`.
Other types (event, other UTM subtypes: virus, ips, ...) are ignored. Only traffic logs carry byte counts
into the lake: UTM logs repeat the session's counters, and counting them too would double the upload.

Time: `eventtime` is epoch UTC in seconds, milliseconds, microseconds or nanoseconds (by FortiOS
version); without it, `date` + `time` with the `tz` offset (`-0500`), or else in the configured zone.
"""

from __future__ import annotations

from detector.ingest.base import Format, line_share, sql_parser

_PAIR = r'''(?:^|[\s>])([A-Za-z_][\w-]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)'''

KEYS = (
    "type", "subtype", "date", "time", "tz", "eventtime", "srcip", "dstip", "dstport", "proto", "action",
    "user", "unauthuser", "hostname", "url", "sentbyte", "rcvdbyte", "duration", "qname", "qtype", "ipaddr",
)

_LOOKUPS = ",\n        ".join(f"v[list_position(k, '{key}')] as {key}" for key in KEYS)

BLOCKED = ("deny", "blocked", "block", "reset", "reject", "drop", "dropped", "redirect")
ALLOWED = (
    "accept", "close", "timeout", "server-rst", "client-rst", "pass", "passthrough", "allow", "allowed",
    "permit", "exempt", "monitor", "monitored",
)

QUERY = rf"""
with pairs as (
    select line_no,
        regexp_extract_all(line, '{_PAIR}', 1) as k,
        list_transform(regexp_extract_all(line, '{_PAIR}', 2),
            lambda x: case when starts_with(x, '"') then x[2:-2] else x end) as v
    from lines
),
fields as (
    select line_no, len(k) as n,
        {_LOOKUPS}
    from pairs
),
classified as (
    select *,
        lower(action) as act,
        case
            when type = 'traffic' and lower(action) = 'start' then 'ignore'
            when type = 'traffic' then 'traffic'
            when type = 'utm' and subtype in ('webfilter', 'app-ctrl') then 'web'
            when (type = 'utm' and subtype = 'dns') or type = 'dns' then 'dns'
            else 'ignore'
        end as kind,
        try_cast(eventtime as bigint) as epoch
    from fields
)
select
    line_no,
    case when n = 0 or type is null then 'not a FortiGate key=value log line (no type=)' end as reject_reason,
    kind = 'ignore' and type is not null as is_ignored,
    coalesce(
        make_timestamp(case
            when epoch < 100000000000 then epoch * 1000000
            when epoch < 100000000000000 then epoch * 1000
            when epoch < 100000000000000000 then epoch
            else epoch // 1000
        end)::timestamptz,
        try_strptime(date || ' ' || time || ' ' || tz, '%Y-%m-%d %H:%M:%S %z'),
        timezone($tz, try_strptime(date || ' ' || time, '%Y-%m-%d %H:%M:%S'))
    ) as ts,
    srcip as src_ip,
    nullif(coalesce(user, unauthuser), '') as user_name,
    case when kind = 'dns' then clean_host(qname) else clean_host(hostname) end as host,
    case
        when kind = 'dns' and clean_host(qname) is not null then 'dns_query'
        when kind <> 'dns' and clean_host(hostname) is not null then 'url'
        else 'none'
    end as host_source,
    dstip as dst_ip,
    try_cast(dstport as integer) as dst_port,
    case proto when '6' then 'tcp' when '17' then 'udp' when '1' then 'icmp' when '58' then 'ipv6-icmp'
        else proto end as network_protocol,
    case when kind = 'web' then coalesce(url_path(url), split_part(split_part(url, '?', 1), '#', 1)) end as url_path,
    case when act in {BLOCKED} then 'blocked' when act in {ALLOWED} then 'allowed' else 'unknown' end as action,
    case when kind = 'traffic' then try_cast(sentbyte as bigint) end as bytes_out,
    case when kind = 'traffic' then try_cast(rcvdbyte as bigint) end as bytes_in,
    case when kind = 'traffic' then try_cast(duration as bigint) * 1000 end as duration_ms,
    case when kind = 'dns' then upper(qtype) end as dns_qtype,
    case when kind = 'dns' then nullif(list_transform(string_split(ipaddr, ','), lambda x: trim(x)), ['']) end
        as dns_answers
from classified
"""

SYSLOG = Format(
    name="fortigate",
    source_kind="firewall",
    summary="Fortinet FortiGate key=value syslog: traffic, web filter, application control and DNS logs",
    sniff=line_share(r'^.*?\blogid="?\d{10}"?\s.*\btype="?(?:traffic|utm|event|dns|anomaly)\b'),
    new_parser=sql_parser(QUERY),
    fields=(
        "ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol", "url_path",
        "action", "bytes_out", "bytes_in", "duration_ms", "dns_qtype", "dns_answers",
    ),
)
