"""Cisco Umbrella logs as exported to S3 (CSV, every field double-quoted, times in UTC, no header unless
the optional log header is switched on, which we count as ignored).

`umbrella_dns` (DNS Log Formats):
    "timestamp","most granular identity","identities","internal ip","external ip","action",
    "query type","response code","domain","categories"[,"most granular identity type","identity types",
    "blocked categories", ...]
Older exports have only the first ten columns, and files exist with an extra identity column before the
internal IP, so the columns are found from the action column (`Allowed` / `Blocked`), not by count.
`query type` reads `1 (A)`: the type is the name in brackets. The domain ends with a dot.

`umbrella_proxy` (Web / proxy Log Formats):
    "timestamp","policy identity label","internal client ip","external client ip","destination ip",
    "content type","action","url","referer","user agent","status code","request size","response size",
    "response body size","sha256","categories","av detections","puas","amp disposition","amp malware name",
    "amp score","policy identity type","blocked categories","identities","identity types",
    "request method", ...
Early exports put an identities list in the third column and have no destination IP; a third column that
is not an address marks that layout. Request size is what the client sent: bytes_out.

Umbrella's content categories of the destination (`categories`, a comma-separated list such as
`Software/Technology,Business Services`) are kept as vendor_category, as logged.

Users: an Umbrella identity can be an AD user, a computer, a network or a site. A user name is only taken
from identities whose type says user (`AD Users`, `Users` ...), pairing the identities list with the
identity types list when both have the same length; computers and networks are not users.
"""

from __future__ import annotations

from detector.ingest.base import Format, line_share, sql_parser

# The S3 export's optional header row starts with a column name instead of a time.
_HEADER = "lower(ltrim(f[1], '\"')) in ('timestamp', 'time', 'date', 'datetime')"



def _user_among(ids: str, types: str) -> str:
    """SQL `when ... then ...`: the first identity of the comma-separated `ids` whose type, at the same
    place in `types`, names users; only when both lists have the same length (else the pairs are unknown)."""
    ids_list, types_list = f"string_split({ids}, ',')", f"string_split({types}, ',')"
    return (
        f"when {types} ilike '%user%' and len({ids_list}) = len({types_list})\n"
        f"                then trim(list_filter(list_zip({ids_list}, {types_list}),"
        f" lambda x: lower(x[2]) like '%user%')[1][1])"
    )


DNS_QUERY = rf"""
with split as (
    select line_no, starts_with(line, '"') as quoted, string_split(line, '","') as f from lines
),
anchored as (
    select line_no, quoted, f, len(f) as n,
        ltrim(f[1], '"') as time_text,
        -- the action column: after the time, one to three identity columns and the two addresses
        case when lower(f[6]) in ('allowed', 'blocked') then 6
             when lower(f[7]) in ('allowed', 'blocked') then 7
             when lower(f[5]) in ('allowed', 'blocked') then 5
             when lower(f[8]) in ('allowed', 'blocked') then 8 end as k
    from split
),
fields as (
    select line_no, quoted, n, k, time_text,
        {_HEADER} as is_header,
        f[2] as granular,
        f[k - 3] as identities,
        nullif(f[k - 2], '') as internal_ip,
        lower(f[k]) as verdict,
        f[k + 1] as qtype_text,
        rtrim(f[k + 2], '"') as rcode,
        rtrim(f[k + 3], '"') as domain,
        nullif(rtrim(f[k + 4], '"'), '') as categories,
        rtrim(f[k + 5], '"') as granular_type,
        rtrim(f[k + 6], '"') as identity_types,
        timezone('UTC', try_strptime(time_text, '%Y-%m-%d %H:%M:%S')) as event_time
    from anchored
),
users as (
    select *,
        case
            when granular_type ilike '%user%' then granular
            {_user_among("identities", "identity_types")}
        end as user_name
    from fields
)
select
    line_no,
    case
        when is_header then null
        when not quoted then 'not a quoted CSV line'
        when event_time is null then 'timestamp is not yyyy-mm-dd hh:mm:ss: ' || time_text
        when k is null then 'no Allowed/Blocked action column (Umbrella DNS layout) in ' || n || ' columns'
        when n < k + 3 then 'line ends before the domain column'
        when clean_host(domain) is null then 'empty domain'
    end as reject_reason,
    is_header as is_ignored,
    event_time as ts,
    'dns' as network_protocol,
    internal_ip as src_ip,
    user_name,
    clean_host(domain) as host,
    'dns_query' as host_source,
    case when contains(qtype_text, '(') then split_part(split_part(qtype_text, '(', 2), ')', 1)
         else nullif(qtype_text, '') end as dns_qtype,
    nullif(upper(rcode), '') as dns_rcode,
    verdict as action,
    categories as vendor_category
from users
"""

PROXY_QUERY = rf"""
with split as (
    select line_no, starts_with(line, '"') as quoted, string_split(line, '","') as f from lines
),
laid_out as (
    select line_no, quoted, f, len(f) as n,
        ltrim(f[1], '"') as time_text,
        -- the third column is the internal client IP, except in early exports (an identities list)
        f[3] = '' or regexp_full_match(f[3], '\d{{1,3}}(\.\d{{1,3}}){{3}}|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*') as current
    from split
),
fields as (
    select line_no, quoted, n, time_text,
        {_HEADER} as is_header,
        nullif(case when current then f[3] else f[4] end, '') as internal_ip,
        case when current then nullif(f[5], '') end as destination_ip,
        nullif(f[6], '') as content_type,
        upper(f[7]) as verdict,
        f[8] as url,
        nullif(f[10], '') as user_agent,
        f[11] as status,
        f[12] as request_size,
        f[13] as response_size,
        f[2] as granular,
        rtrim(f[22], '"') as granular_type,
        case when n >= 25 then f[24] end as identities,
        case when n >= 25 then rtrim(f[25], '"') end as identity_types,
        case when n >= 26 then nullif(upper(rtrim(f[26], '"')), '') end as method,
        case when n >= 16 then nullif(rtrim(f[16], '"'), '') end as categories,
        timezone('UTC', try_strptime(time_text, '%Y-%m-%d %H:%M:%S')) as event_time
    from laid_out
),
located as (
    select *,
        case when contains(url, '://') then url_rest(url) else url end as rest,
        case
            when granular_type ilike '%user%' and not contains(granular, ',') then granular
            {_user_among("granular", "granular_type")}
            {_user_among("identities", "identity_types")}
        end as user_name
    from fields
),
hosted as (
    select *, authority_hostport(rest_authority(rest)) as hostport from located
)
select
    line_no,
    case
        when is_header then null
        when not quoted then 'not a quoted CSV line'
        when event_time is null then 'timestamp is not yyyy-mm-dd hh:mm:ss: ' || time_text
        when n < 13 then 'expected at least 13 columns (Umbrella proxy layout), found ' || n
        when hostport_host(hostport) is null then 'no host in the URL column: ' || url
    end as reject_reason,
    is_header as is_ignored,
    event_time as ts,
    internal_ip as src_ip,
    user_name,
    hostport_host(hostport) as host,
    'url' as host_source,
    destination_ip as dst_ip,
    hostport_port(hostport) as dst_port,
    url_scheme(url) as network_protocol,
    method as http_method,
    rest_path(rest) as url_path,
    nullif(try_cast(status as integer), 0) as http_status,
    case when verdict like 'ALLOW%' then 'allowed' when verdict like 'BLOCK%' then 'blocked' else 'unknown' end
        as action,
    try_cast(request_size as bigint) as bytes_out,
    try_cast(response_size as bigint) as bytes_in,
    user_agent,
    content_type,
    categories as vendor_category
from hosted
"""

_TIME = r'^"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d",'

DNS = Format(
    name="umbrella_dns",
    source_kind="dns",
    summary="Cisco Umbrella DNS log, S3 CSV export (all layout versions)",
    sniff=line_share(_TIME + r'.*"(?:Allowed|Blocked)","\d+ \([^)"]*\)","[A-Z]*","'),
    new_parser=sql_parser(DNS_QUERY),
    independent_batches=True,
    fields=("ts", "src_ip", "user_name", "host", "host_source", "network_protocol", "action", "dns_qtype",
            "dns_rcode", "vendor_category"),
)

PROXY = Format(
    name="umbrella_proxy",
    source_kind="proxy",
    summary="Cisco Umbrella web (proxy) log, S3 CSV export",
    sniff=line_share(_TIME + r'(?:"[^"]*",){5}"[A-Z]+","[A-Za-z][A-Za-z0-9+.-]*://'),
    new_parser=sql_parser(PROXY_QUERY),
    independent_batches=True,
    fields=("ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
            "http_method", "url_path", "http_status", "action", "bytes_out", "bytes_in", "user_agent",
            "content_type", "vendor_category"),
)
