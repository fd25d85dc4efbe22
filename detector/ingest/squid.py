"""Squid access logs.

`squid` is Squid's native format (`logformat squid`, the default):
    time.ms elapsed client code/status bytes method URL user hierarchy/peer type
Fields are separated by one or more spaces (elapsed is right-aligned). Squid URL-encodes spaces in URLs
and user names, so a line always has exactly ten fields. `bytes` is what Squid sent to the client; the
native format does not log the request size, so `bytes_out` stays null.
"""

from __future__ import annotations

from detector.ingest.base import Format, line_share, sql_parser

# Result codes: https://wiki.squid-cache.org/SquidFaq/SquidLogs#squid-result-codes
# DENIED (TCP_DENIED, TCP_DENIED_REPLY, ...) is a refusal by the proxy; HIT/MISS/TUNNEL/REFRESH/
# REDIRECT/ABORTED variants mean the request went through; NONE/TAG_NONE/ERR_* carry no decision.
NATIVE_QUERY = r"""
with split as (
    select line_no, line, list_filter(string_split(line, ' '), lambda x: x <> '') as f
    from lines
),
fields as (
    select
        line_no, line, len(f) as n,
        try_cast(f[1] as double) as epoch,
        try_cast(f[2] as bigint) as elapsed,
        f[3] as client,
        upper(split_part(f[4], '/', 1)) as result_code,
        split_part(f[4], '/', 2) as status_text,
        try_cast(f[5] as bigint) as size,
        upper(f[6]) as method,
        f[7] as url,
        f[8] as ident,
        upper(split_part(f[9], '/', 1)) as hierarchy,
        split_part(f[9], '/', 2) as peer,
        f[10] as mime
    from split
),
checked as (
    select *,
        case
            when n <> 10 then 'expected 10 space-separated fields (Squid native), found ' || n
            when epoch is null then 'time is not epoch seconds: ' || split_part(trim(line), ' ', 1)
            when elapsed is null then 'elapsed time is not a whole number of milliseconds'
            when status_text = '' or try_cast(status_text as integer) is null
                then 'result is not CODE/STATUS: ' || result_code || '/' || status_text
            when size is null then 'size is not a whole number of bytes'
        end as reject_reason,
        method = 'CONNECT' as is_connect
    from fields
)
select
    line_no,
    reject_reason,
    false as is_ignored,
    to_timestamp(epoch) as ts,
    client as src_ip,
    url_decode(null_if_dash(ident)) as user_name,
    case
        when is_connect then clean_host(authority_host(url))
        else clean_host(authority_host(url_authority(url)))
    end as host,
    case
        when is_connect then 'connect'
        when url_rest(url) is not null then 'url'
        else 'none'
    end as host_source,
    case when hierarchy in ('DIRECT', 'HIER_DIRECT', 'ORIGINAL_DST', 'HIER_ORIGINAL_DST')
        then null_if_dash(peer) end as dst_ip,
    case when is_connect then authority_port(url) else authority_port(url_authority(url)) end as dst_port,
    case when not is_connect then url_scheme(url) end as network_protocol,
    nullif(nullif(method, 'NONE'), '-') as http_method,
    case when not is_connect then url_path(url) end as url_path,
    nullif(try_cast(status_text as integer), 0) as http_status,
    case
        when result_code like '%DENIED%' then 'blocked'
        when result_code like 'NONE%' or result_code like 'TAG_NONE%' or result_code like 'ERR%' then 'unknown'
        else 'allowed'
    end as action,
    size as bytes_in,
    elapsed as duration_ms,
    null_if_dash(mime) as content_type
from checked
"""

NATIVE = Format(
    name="squid",
    source_kind="proxy",
    summary="Squid native access.log (logformat squid, the default)",
    sniff=line_share(r"^\d{9,10}\.\d{3} +\d+ \S+ [A-Z_]+/\d{3} \d+ [A-Za-z_-]+ \S+ \S+ [A-Z_]+/\S+ \S+\s*$"),
    new_parser=sql_parser(NATIVE_QUERY),
    fields=(
        "ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
        "http_method", "url_path", "http_status", "action", "bytes_in", "duration_ms", "content_type",
    ),
)
