"""Palo Alto Networks PAN-OS syslog, CSV payload in the PAN-OS 8.x-11.x field order.

A line is a syslog header (BSD, RFC 5424, or none) and then the CSV record:
`FUTURE_USE,receive time,serial,type,subtype,FUTURE_USE,generated time,src,dst,...`. Fields are found by
position (0-based below, as in the PAN-OS "Syslog Field Descriptions"):
- TRAFFIC: 6 generated time, 7 src, 8 dst, 12 source user, 14 application, 25 dst port, 29 protocol,
  30 action, 32 bytes sent (client to server: `bytes_out`), 33 bytes received, 36 elapsed seconds,
  37 URL category.
- THREAT subtype `url` (URL Filtering): 14 application, 31 the URL, quoted, without scheme
  (`"chatgpt.com/c/123"`), 33 URL category, 41 content type, 46 user agent, 63 HTTP method.
The application (App-ID) is kept as vendor_app, the URL category as vendor_category.
Times carry no zone: they are local to the firewall, read in the configured time zone.

Events are the records of a session and of a URL decision. A session is counted once, at its end:
TRAFFIC `end` (bytes and duration known), `drop` and `deny` (blocked). TRAFFIC `start` (only written
when "log at session start" is on, and again on every App-ID change) is ignored, so a session is not
counted twice; a session still open when its file ends is counted from the file that has its `end`.
Other THREAT subtypes and other log types (SYSTEM, CONFIG, USERID, ...) are ignored.
"""

from __future__ import annotations

from detector.ingest.base import Format, line_share, sql_parser

TYPES = r"TRAFFIC|THREAT|SYSTEM|CONFIG|HIPMATCH|GLOBALPROTECT|USERID|DECRYPTION|AUTH|CORRELATION|IPTAG|SCTP|TUNNEL|GTP"
_TYPE_LIST = tuple(TYPES.split("|"))

# PAN-OS actions: https://docs.paloaltonetworks.com (Traffic / Threat log fields, "Action").
ALLOWED = ("allow", "alert", "continue", "override")
BLOCKED = (
    "deny", "drop", "drop-icmp", "drop-all-packets", "reset-client", "reset-server", "reset-both",
    "block-url", "block-continue", "block-override", "override-lockout", "block-ip", "sinkhole",
)



def _unquote(field: str) -> str:
    """SQL for a CSV field's value: quotes removed, doubled quotes undone, hidden commas restored."""
    return (f"replace(case when starts_with({field}, '\"') then replace({field}[2:-2], '\"\"', '\"') "
            f"else {field} end, chr(31), ',')")


QUERY = rf"""
with split as (
    -- The CSV starts at the token before the first comma, after the syslog header if any: the line is split
    -- whole, so its first field is the header and that token (FUTURE_USE, never read).
    -- CSV quoting: a field with a comma (the THREAT URL, a user agent) is in double quotes. Commas inside
    -- quotes (the even pieces between quote marks) are hidden as U+001F before splitting on commas;
    -- `unquote` puts them back. Much faster than a CSV-aware regular expression.
    select line_no,
        string_split(
            case when contains(line, '"') then array_to_string(list_transform(string_split(line, '"'),
                lambda piece, i: case when i % 2 = 0 then replace(piece, ',', chr(31)) else piece end), '"')
            else line end,
            ',') as f
    from lines
),
fields as (
    select line_no, len(f) as n,
        f[4] as log_type, f[5] as subtype,
        coalesce(try_strptime(f[7], '%Y/%m/%d %H:%M:%S'), try_strptime(f[2], '%Y/%m/%d %H:%M:%S')) as local_time,
        f[8] as src, f[9] as dst, nullif({_unquote('f[13]')}, '') as src_user, f[26] as dport, lower(f[30]) as proto,
        lower(f[31]) as act, {_unquote('f[32]')} as f31, f[33] as f32, f[34] as f33, f[37] as f36,
        nullif({_unquote('f[42]')}, '') as ctype, nullif({_unquote('f[47]')}, '') as ua, nullif(f[64], '') as method,
        nullif({_unquote('f[15]')}, '') as app, f[34] as threat_category, f[38] as traffic_category
    from split
),
classified as (
    select *,
        case
            when log_type is null or log_type not in {_TYPE_LIST} then 'ignore'
            when log_type = 'TRAFFIC' and subtype in ('end', 'drop', 'deny') then 'traffic'
            when log_type = 'THREAT' and subtype = 'url' then 'url'
            else 'ignore'
        end as kind
    from fields
),
checked as (
    select *,
        case
            when log_type is null or log_type not in {_TYPE_LIST}
                then 'not a PAN-OS CSV record (FUTURE_USE,receive time,serial,TYPE,...)'
            when kind = 'ignore' then null
            when n < 37 then 'expected at least 37 CSV fields for ' || log_type || ', found ' || n
            when local_time is null then 'generated time is not YYYY/MM/DD hh:mm:ss'
        end as reject_reason,
        case when kind = 'url' then coalesce(url_rest(f31), f31) end as url_rest
    from classified
),
url as (
    select *, split_part(split_part(url_rest, '/', 1), '?', 1) as url_hostport from checked
)
select
    line_no,
    reject_reason,
    kind = 'ignore' and reject_reason is null as is_ignored,
    timezone($tz, local_time) as ts,
    src as src_ip,
    src_user as user_name,
    case when kind = 'url' then hostport_host(url_hostport) end as host,
    case when kind = 'url' and hostport_host(url_hostport) is not null then 'url' else 'none' end as host_source,
    dst as dst_ip,
    try_cast(dport as integer) as dst_port,
    proto as network_protocol,
    case when kind = 'url' then upper(method) end as http_method,
    case when kind = 'url' then rest_path(url_rest) end as url_path,
    case
        when act in {ALLOWED} then 'allowed'
        when act in {BLOCKED} then 'blocked'
        else 'unknown'
    end as action,
    case when kind = 'traffic' then try_cast(f32 as bigint) end as bytes_out,
    case when kind = 'traffic' then try_cast(f33 as bigint) end as bytes_in,
    case when kind = 'traffic' then try_cast(f36 as bigint) * 1000 end as duration_ms,
    case when kind = 'url' then ua end as user_agent,
    case when kind = 'url' then ctype end as content_type,
    app as vendor_app,
    -- "any": the session matched no URL category (URL Filtering not in use).
    nullif(nullif(case kind when 'url' then threat_category when 'traffic' then traffic_category end, ''), 'any')
        as vendor_category
from url
"""

SYSLOG = Format(
    name="panos",
    source_kind="firewall",
    summary="Palo Alto PAN-OS syslog CSV: TRAFFIC session ends and THREAT url (URL Filtering) records",
    sniff=line_share(rf"^(?:.*[\s>])?[^,\s]*,\d{{4}}/\d{{2}}/\d{{2}} \d{{2}}:\d{{2}}:\d{{2}},[^,]*,(?:{TYPES}),"),
    new_parser=sql_parser(QUERY),
    independent_batches=True,
    fields=(
        "ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
        "http_method", "url_path", "action", "bytes_out", "bytes_in", "duration_ms", "user_agent",
        "content_type", "vendor_app", "vendor_category",
    ),
)
