"""Fortinet FortiGate (FortiOS) syslog: `key=value` pairs, string values in double quotes.

The line is split once into tokens and each key is looked up by name (a list search): measured several
times faster than a regular expression per key or a key=value regular expression over the line, and
indifferent to key order, to keys a FortiOS version adds, and to the syslog header in front.

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

KEYS = (
    "type", "subtype", "date", "time", "tz", "eventtime", "srcip", "dstip", "dstport", "proto", "action",
    "user", "unauthuser", "hostname", "url", "sentbyte", "rcvdbyte", "duration", "qname", "qtype", "ipaddr",
)


def _unquote(key: str) -> str:
    """SQL for the value of `key` from its raw token: a quoted value is unquoted, and one that the split
    cut apart (it holds a space or an '=') is taken whole from the line instead."""
    return (
        f"case when {key} is null or not starts_with({key}, '\"') then {key} "
        f"when length({key}) > 1 and ends_with({key}, '\"') then {key}[2:-2] "
        f"else split_part(split_part(b, ' {key}=\"', 2), '\"', 1) end"
    )


# Keys every line needs, and keys only some lines need (looked up only for those: each lookup is a
# search of the token list).
COMMON = ("type", "subtype", "action", "eventtime", "srcip", "dstip", "dstport", "proto", "user")
WHEN = {
    "date": "eventtime is null", "time": "eventtime is null", "tz": "eventtime is null",
    "unauthuser": "user is null",
    "sentbyte": "type = 'traffic'", "rcvdbyte": "type = 'traffic'", "duration": "type = 'traffic'",
    "hostname": "type <> 'dns' and subtype <> 'dns'", "url": "type = 'utm'",
    "qname": "(type = 'dns' or subtype = 'dns')", "qtype": "(type = 'dns' or subtype = 'dns')",
    "ipaddr": "(type = 'dns' or subtype = 'dns')",
}
assert set(COMMON) | set(WHEN) == set(KEYS)


def _token(key: str) -> str:
    return f"t[list_position(t, '{key}=') + 1]"


_COMMON_TOKENS = ",\n        ".join(f"{_token(key)} as {key}" for key in COMMON)
_COMMON_VALUES = ",\n        ".join(f"{_unquote(key)} as {key}" for key in COMMON)
_OTHER_TOKENS = ",\n        ".join(f"case when {when} then {_token(key)} end as {key}" for key, when in WHEN.items())
_OTHER_VALUES = ",\n        ".join(f"{_unquote(key)} as {key}" for key in WHEN)

BLOCKED = ("deny", "blocked", "block", "reset", "reject", "drop", "dropped", "redirect")
ALLOWED = (
    "accept", "close", "timeout", "server-rst", "client-rst", "pass", "passthrough", "allow", "allowed",
    "permit", "exempt", "monitor", "monitored",
)

# Splitting on spaces after turning each '=' into '= ' makes every key a token of its own ('srcip='),
# which a list lookup finds: words inside quoted values ("URL belongs to ...") never end in '='.
QUERY = rf"""
with body as (
    select line_no,
        ' ' || case when starts_with(line, '<') then substr(line, strpos(line, '>') + 1) else line end as b
    from lines
),
tokens as (
    select line_no, b, string_split(replace(b, '=', '= '), ' ') as t from body
),
common as materialized (
    select line_no, b, t,
        {_COMMON_TOKENS}
    from tokens
),
common_values as (
    select line_no, b, t,
        {_COMMON_VALUES}
    from common
),
raw as materialized (
    select line_no, b, type, subtype, action, eventtime, srcip, dstip, dstport, proto, user,
        {_OTHER_TOKENS}
    from common_values
),
fields as (
    select line_no, type, subtype, action, eventtime, srcip, dstip, dstport, proto, user,
        {_OTHER_VALUES}
    from raw
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
    case when type is null or type = '' then 'not a FortiGate key=value log line (no type=)' end as reject_reason,
    kind = 'ignore' and coalesce(type, '') <> '' as is_ignored,
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
