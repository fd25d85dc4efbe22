"""Cisco Web Security Appliance (WSA / Secure Web Appliance) native access log.

Squid-like, then Cisco's policy fields (AsyncOS user guide, "Access Log Files"):
    time.ms elapsed client code/status size method URL user hierarchy/server type ACL-tag <verdicts> ...
The ACL decision tag (`DEFAULT_CASE_12-Policy-Identity-...`, `BLOCK_WEBCAT_12-...`) says what the
proxy decided; the `<IW_comp,6.9,...>` scanning verdicts and anything the administrator appended follow.
Of the verdicts, the first is the URL category's code (`IW_comp`, `IW_aiml`: vendor_category) and the
24th the application the AVC engine recognised (vendor_app; "Unknown" when none).
`size` is what the proxy sent to the client; the default format has no request size, so `bytes_out`
stays null. The user is `-` or a quoted `"DOMAIN\\user@realm"`. Tunnels log as CONNECT/TCP_CONNECT with
`tunnel://host:443/` or `host:port` (an address when the client was redirected transparently; the
hierarchy field then often names the server). Lines pushed over syslog keep their `... Info: ` prefix;
the appliance's own `Info: Begin Logfile` / `Version:` / `Time offset from UTC:` lines are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from detector.ingest.base import BatchParser, Format, ParseContext, sql_parser
from detector.ingest.squid import PROXY_MACROS

# ACL decision tags: BLOCK_*/DROP_* refuse, the NO_* tags are failed authentication, REDIRECT_* sends
# the client elsewhere; ALLOW_*, DEFAULT_CASE, MONITOR_*, PASSTHRU_*, DECRYPT_* let it through. Any
# other tag (OTHER, NONE, -) leaves the decision to the Squid-style result code.
WSA_MACROS = r"""
create or replace macro wsa_acl_action(tag, code) as case
    when upper(code) like '%DENIED%' then 'blocked'
    when regexp_matches(upper(tag), '^(BLOCK_|DROP_|REDIRECT_|NO_PASSWORD|NO_AUTHORIZATION)') then 'blocked'
    when regexp_matches(upper(tag), '^(ALLOW_|DEFAULT_CASE|MONITOR_|PASSTHRU_|DECRYPT_|SAAS_AUTH)') then 'allowed'
    else squid_result_action(code)
end;
"""

QUERY = r"""
with bodies as (
    -- lines pushed over syslog carry a prefix up to 'Info: '; access lines start with the epoch time
    select line_no, line,
        case when substr(line, 1, 1) between '0' and '9' or strpos(line, 'Info: ') = 0 then line
            else substr(line, strpos(line, 'Info: ') + 6) end as body
    from lines
),
parts as (
    -- the <...> scanning verdicts hold spaces and quotes: split the fields before them at spaces
    select line_no, line, body, strpos(body, ' <') as verdict_at,
        string_split(case when strpos(body, ' <') > 0 then substr(body, 1, strpos(body, ' <') - 1)
            else body end, ' ') as f,
        trim(case when strpos(body, ' <') > 0 then substr(body, strpos(body, '> ') + 2) end) as after_verdicts,
        -- the verdicts, split at commas (their first 28 hold no quoted comma); the tail after '>' is not read
        case when strpos(body, ' <') > 0 then string_split(substr(body, strpos(body, ' <') + 2), ',') end as v
    from bodies
),
fields as (
    select line_no, line, len(f) as n,
        cast(try_cast(f[1] as decimal(18, 6)) as double) as epoch, f[2] as elapsed, f[3] as client,
        upper(split_part(f[4], '/', 1)) as code, split_part(f[4], '/', 2) as status, f[5] as size,
        upper(f[6]) as method, f[7] as url, f[8] as ident,
        upper(split_part(f[9], '/', 1)) as hierarchy, split_part(f[9], '/', 2) as server, f[10] as mime,
        regexp_replace(split_part(f[11], '-', 1), '_\d+$', '') as acl_tag,
        case when starts_with(after_verdicts, '"') then split_part(after_verdicts, '"', 2)
            else split_part(after_verdicts, ' ', 1) end as agent,
        (len(f) = 11 or verdict_at = 0 and len(f) >= 11) and contains(f[4], '/') and contains(f[9], '/') as shaped,
        nullif(replace(v[1], '"', ''), '-') as web_category,
        -- the AVC application name, where the fields line up: the 28th is the bandwidth, a bare number
        case when len(v) >= 28 and not starts_with(v[28], '"') then v[24] end as avc_app
    from parts
),
checked as (
    select *,
        shaped and epoch is not null and try_cast(elapsed as bigint) is not null
            and try_cast(status as integer) is not null and try_cast(size as bigint) is not null as ok,
        upper(method) in ('CONNECT', 'TCP_CONNECT') or lower(url) like 'tunnel://%' as is_tunnel,
        url_rest(url) as rest,
        case when server not in ('', '-') then hostport_host(server) end as server_host
    from fields
),
authority_steps as (
    -- a URL without a scheme is a transparent tunnel's host:port
    select *, authority_hostport(coalesce(rest_authority(rest), split_part(url, '/', 1))) as hostport
    from checked
),
host_steps as (
    select *,
        hostport_host(hostport) as url_host,
        -- the appliance's own status lines, written with a ctime stamp or pushed over syslog
        case when ok then false else
            regexp_matches(line, '^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} [A-Za-z]+: ')
            or regexp_matches(line,
                '(Info|Warning): (Begin Logfile|End Logfile|Logfile rolled over|Version: |Time offset from UTC: )')
        end as is_ignored
    from authority_steps
)
select
    line_no,
    case when not ok and not is_ignored then
        'not a Cisco WSA access log line: expected time elapsed client code/status size method URL user '
        || 'hierarchy/server type ACL-tag'
    end as reject_reason,
    is_ignored,
    to_timestamp(epoch) as ts,
    client as src_ip,
    null_if_dash(unquote(ident)) as user_name,
    -- a transparent tunnel logs the server's address; the hierarchy field then often has its name
    case
        when is_ip_literal(url_host) and server_host is not null and not is_ip_literal(server_host) then server_host
        else coalesce(url_host, server_host)
    end as host,
    case
        when url_host is null and server_host is null then 'none'
        when is_tunnel then 'connect'
        else 'url'
    end as host_source,
    case
        when hierarchy = 'DIRECT' and is_ip_literal(server_host) then server_host
        when is_ip_literal(url_host) then url_host
    end as dst_ip,
    hostport_port(hostport) as dst_port,
    case when not is_tunnel then url_scheme(url) end as network_protocol,
    -- TCP_CONNECT is how the appliance logs a transparently redirected tunnel
    case method when 'NONE' then null when '-' then null when 'TCP_CONNECT' then 'CONNECT' else method end
        as http_method,
    case when not is_tunnel then rest_path(rest) end as url_path,
    nullif(try_cast(status as integer), 0) as http_status,
    wsa_acl_action(acl_tag, code) as action,
    try_cast(size as bigint) as bytes_in,
    try_cast(elapsed as bigint) as duration_ms,
    null_if_dash(agent) as user_agent,
    null_if_dash(mime) as content_type,
    case when avc_app not in ('"-"', '"Unknown"', '-') then trim(avc_app, '"') end as vendor_app,
    web_category as vendor_category
from host_steps
"""


def new_parser(context: ParseContext) -> BatchParser:
    """The query's parser, on a connection with the proxy and WSA macros defined."""
    context.connection.execute(PROXY_MACROS)
    context.connection.execute(WSA_MACROS)
    return sql_parser(QUERY)(context)

_ACCESS_LINE = re.compile(
    r'^(?:.*?Info: )?\d{9,10}\.\d+ +\d+ \S+ [A-Z_]+/\d{1,3} \d+ \S+ \S+ ("[^"]*"|\S+) [A-Z_]+/\S+ \S+ '
    r"[A-Z][A-Z_]*(_\d+)?(-\S*)?( <|\s+-|\s*$)"
)
_STATUS_LINE = re.compile(
    r"^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} [A-Za-z]+: "
    r"|(Info|Warning): (Begin Logfile|End Logfile|Logfile rolled over|Version: |Time offset from UTC: )"
)


def sniff(lines: Sequence[str]) -> float:
    """Share of access lines, counting the appliance's status lines (a new file starts with three)."""
    access = sum(1 for line in lines if _ACCESS_LINE.match(line))
    status = sum(1 for line in lines if _STATUS_LINE.search(line))
    return (access + status) / len(lines) if access else 0.0


ACCESS = Format(
    name="cisco_wsa",
    source_kind="proxy",
    summary="Cisco WSA / Secure Web Appliance native access log (ACL decision tags, scanning verdicts)",
    sniff=sniff,
    new_parser=new_parser,
    independent_batches=True,
    fields=(
        "ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
        "http_method", "url_path", "http_status", "action", "bytes_in", "duration_ms", "user_agent",
        "content_type", "vendor_app", "vendor_category",
    ),
)
