"""Fortinet FortiGate (FortiOS) syslog: `key=value` pairs, string values in double quotes.

The line is split once into tokens, quoted values kept whole, and each key is looked up by name (a list
search): measured several times faster than a regular expression per key or a key=value regular
expression over the line, and indifferent to key order, to keys a FortiOS version adds, and to the
syslog header in front. Text inside a quoted value (a message, a user agent) is never read as a key.

Events:
- `type=traffic` (forward, local, multicast, sniffer): the session, logged when it ends. `sentbyte` is
  client to server (`bytes_out`), `rcvdbyte` the reverse, `duration` in seconds. With `logtraffic-start`
  FortiOS also logs `action=start` when a session opens: ignored, so a session is counted once.
- `type=utm subtype=webfilter` and `subtype=app-ctrl`: `hostname` and `url` (the path) of a request.
- `type=utm subtype=dns` (FortiOS 6.2+) and `type=dns` (6.0): `qname`, `qtype`, answers in `ipaddr`.
Every kind keeps FortiOS's own view: the application control's `app` (vendor_app), and the web filter's
category `catdesc`, else the application category `appcat`, as vendor_category.
Other types (event, other UTM subtypes: virus, ips, ...) are ignored. Only traffic logs carry byte counts
into the lake: UTM logs repeat the session's counters, and counting them too would double the upload.

Time: `eventtime` is epoch UTC in seconds, milliseconds, microseconds or nanoseconds (by FortiOS
version); without it, `date` + `time` with the `tz` offset (`-0500`), or else in the configured zone.
"""

from __future__ import annotations

from detector.ingest.base import Format, line_share, sql_parser
from detector.ingest.ip_protocols import protocol_name_sql

KEYS = (
    "type", "subtype", "date", "time", "tz", "eventtime", "srcip", "dstip", "dstport", "proto", "action",
    "user", "unauthuser", "hostname", "url", "sentbyte", "rcvdbyte", "duration", "qname", "qtype", "ipaddr",
    "app", "appcat", "catdesc",
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
    "app": "type in ('traffic', 'utm')", "appcat": "type in ('traffic', 'utm')",
    "catdesc": "type in ('utm', 'dns')",
}
assert set(COMMON) | set(WHEN) == set(KEYS)


# A quoted value's marker: U+001F, then the character U+E000 + the value's index among the quote-split pieces.
_MARK = 0xE000


def _value(key: str) -> str:
    """SQL for the value of `key`, whose token `key=` is at `p_key` in the token list `t`: the next token, or
    for a quoted value the piece of `q` its marker names (see the `tokens` step of the query)."""
    pos = f"p_{key}"
    token = f"t[{pos} + 1]"
    return (f"case when {pos} = 0 then null when starts_with({token}, chr(31)) then q[unicode({token}[2:]) - {_MARK}] "
            f"else {token} end as {key}")

_COMMON_POSITIONS = ",\n        ".join(f"list_position(t, '{key}=') as p_{key}" for key in COMMON)
_COMMON_VALUES = ",\n        ".join(_value(key) for key in COMMON)
_OTHER_POSITIONS = ",\n        ".join(f"case when {when} then list_position(t, '{key}=') end as p_{key}"
                                      for key, when in WHEN.items())
_OTHER_VALUES = ",\n        ".join(_value(key) for key in WHEN)

BLOCKED = ("deny", "blocked", "block", "reset", "reject", "drop", "dropped", "redirect")
ALLOWED = (
    "accept", "close", "timeout", "server-rst", "client-rst", "pass", "passthrough", "allow", "allowed",
    "permit", "exempt", "monitor", "monitored",
)

QUERY = rf"""
with pieces as (
    -- Split on the double quotes: the even pieces are quoted values, the odd ones `key=value key=` text.
    select line_no, string_split(line, '"') as q from lines
),
tokens as (
    -- Each quoted value becomes a marker naming its piece, so that words inside a quoted value (a user agent,
    -- a message) can never pass for a key; the rest is split on spaces after turning each '=' into '= ', which
    -- makes every key a token of its own ('srcip='), found by a list lookup. The PRI (`<189>`) is cut off.
    select line_no, q,
        string_split(replace(array_to_string(list_transform(q, lambda piece, i: case
            when i % 2 = 0 then chr(31) || chr(({_MARK} + i)::int)
            when i = 1 and starts_with(piece, '<') then ' ' || substr(piece, strpos(piece, '>') + 1)
            else piece end), ''), '=', '= '), ' ') as t
    from pieces
),
common as (
    select line_no, q, t,
        {_COMMON_POSITIONS}
    from tokens
),
common_values as (
    select line_no, q, t,
        {_COMMON_VALUES}
    from common
),
other as (
    select *,
        {_OTHER_POSITIONS}
    from common_values
),
fields as (
    select line_no, type, subtype, action, eventtime, srcip, dstip, dstport, proto, user,
        {_OTHER_VALUES}
    from other
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
),
hosted as (
    select *, case when kind = 'dns' then clean_host(qname) else clean_host(hostname) end as host from classified
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
    host,
    case when host is null then 'none' when kind = 'dns' then 'dns_query' else 'url' end as host_source,
    dstip as dst_ip,
    try_cast(dstport as integer) as dst_port,
    {protocol_name_sql('proto')} as network_protocol,
    case when kind = 'web' then coalesce(url_path(url), split_part(split_part(url, '?', 1), '#', 1)) end as url_path,
    case when act in {BLOCKED} then 'blocked' when act in {ALLOWED} then 'allowed' else 'unknown' end as action,
    case when kind = 'traffic' then try_cast(sentbyte as bigint) end as bytes_out,
    case when kind = 'traffic' then try_cast(rcvdbyte as bigint) end as bytes_in,
    case when kind = 'traffic' then try_cast(try_cast(duration as hugeint) * 1000 as bigint) end as duration_ms,
    case when kind = 'dns' then upper(qtype) end as dns_qtype,
    case when kind = 'dns' then nullif(list_transform(string_split(ipaddr, ','), lambda x: trim(x)), ['']) end
        as dns_answers,
    nullif(app, '') as vendor_app,
    -- The web filter's category (`catdesc`), else application control's (`appcat`; "unscanned" is none).
    coalesce(nullif(catdesc, ''), nullif(nullif(appcat, ''), 'unscanned')) as vendor_category
from hosted
"""

SYSLOG = Format(
    name="fortigate",
    source_kind="firewall",
    summary="Fortinet FortiGate key=value syslog: traffic, web filter, application control and DNS logs",
    sniff=line_share(r'^.*?\blogid="?\d{10}"?\s.*\btype="?(?:traffic|utm|event|dns|anomaly)\b'),
    new_parser=sql_parser(QUERY),
    independent_batches=True,
    fields=(
        "ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol", "url_path",
        "action", "bytes_out", "bytes_in", "duration_ms", "dns_qtype", "dns_answers", "vendor_app", "vendor_category",
    ),
)
