"""Suricata EVE JSON (`eve.json`): one JSON object per line, `event_type` says which record it is.

Events: `tls` (SNI), `http` (Host, URL, method, status, response length), `dns` (query name, type,
rcode, answers), `flow` (bytes each way, duration), `alert` and `drop` (what an IPS did, with the SNI or
Host of the flow when the alert carries it). Every other record (`stats`, `fileinfo`, `ssh`, `anomaly`,
...) carries no traffic we need: ignored.

DNS records come in three layouts: v1 (one record per answer: `rrname`, `rrtype`, `rdata`), v2 (one
answer record with an `answers` array, or `grouped` by type) and v3 (Suricata 8: `queries` and
`answers` arrays). Queries and answers are separate records and each is an event (like ECS's
`dns.type` query/answer): the answer is what maps addresses back to names. On an answer record Suricata
(before 7) logs the packet's direction, server to client; such records are turned around so that
`src_ip` is always the client.

Suricata is a sensor: except for alerts and drops, it saw traffic but decided nothing (`unknown`).
`flow.bytes_toserver` is what the client sent: `bytes_out`.
"""

from __future__ import annotations

from detector.ingest.base import Format, line_share, sql_parser

# JSON paths read from every record, and per record type (read only for records of that type).
COMMON = ["event_type", "timestamp", "src_ip", "src_port", "dest_ip", "dest_port", "proto", "app_proto"]
BY_TYPE = {
    "http": ["http.hostname", "http.url", "http.http_method", "http.status", "http.length", "http.http_user_agent",
             "http.http_content_type"],
    "flow": ["flow.bytes_toserver", "flow.bytes_toclient", "flow.start", "flow.end"],
    "dns": ["dns.type", "dns.rrname", "dns.rrtype", "dns.rcode", "dns.rdata", "dns.queries[0].rrname",
            "dns.queries[0].rrtype"],
    # tls, alert and drop records: the SNI, the Host of an alerted HTTP flow, the IPS decision
    "other": ["tls.sni", "http.hostname", "alert.action"],
}


def _paths(paths: list[str]) -> str:
    return "[" + ", ".join(f"'$.{p}'" for p in paths) + "]"


def _column(group: str, path: str) -> str:
    name = ("other_" if group == "other" else "") + path.replace(".", "_").replace("[0]", "0")
    return f"{group}_j[{BY_TYPE[group].index(path) + 1}] as {name}"


_COMMON_COLUMNS = ",\n        ".join(f"j[{i}] as {name}" for i, name in enumerate(COMMON, start=1))
_TYPE_COLUMNS = ",\n        ".join(_column(group, path) for group, paths in BY_TYPE.items() for path in paths)

EVENT_TYPES = ("tls", "http", "dns", "flow", "alert", "drop")

# `try`: a line that is not valid JSON gives null instead of failing the batch.
QUERY = f"""
with parsed as (
    select line_no, line, try(json_extract_string(line, {_paths(COMMON)})) as j
    from lines
),
common as (
    select line_no, line, j is not null and starts_with(ltrim(line), '{{') as ok,
        {_COMMON_COLUMNS}
    from parsed
),
by_type as (
    select *,
        case when event_type = 'http' then json_extract_string(line, {_paths(BY_TYPE["http"])}) end as http_j,
        case when event_type = 'flow' then json_extract_string(line, {_paths(BY_TYPE["flow"])}) end as flow_j,
        case when event_type = 'dns' then json_extract_string(line, {_paths(BY_TYPE["dns"])}) end as dns_j,
        case when event_type in ('tls', 'alert', 'drop') then json_extract_string(line, {_paths(BY_TYPE["other"])})
            end as other_j
    from common
),
fields as (
    select line_no, line, ok, event_type, timestamp, src_ip, src_port, dest_ip, dest_port, proto, app_proto,
        {_TYPE_COLUMNS}
    from by_type
),
fields2 as (
    select *, clean_host(other_tls_sni) as sni, hostport_host(coalesce(http_hostname, other_http_hostname)) as hostname,
        other_alert_action as alert_action, url_rest(http_url) as url_tail
    from fields
),
typed as (
    select *,
        clean_host(coalesce(dns_rrname, dns_queries0_rrname)) as dns_name,
        -- Before Suricata 7 an answer is logged as the packet flew: from the server (port 53).
        event_type = 'dns' and dns_type in ('answer', 'response') and src_port = '53' and dest_port <> '53'
            as turned
    from fields2
)
select
    line_no,
    case
        when not ok then 'not a valid JSON object'
        when event_type is null then 'no event_type'
    end as reject_reason,
    ok and event_type is not null and event_type not in {EVENT_TYPES} as is_ignored,
    try_cast(timestamp as timestamptz) as ts,
    case when turned then dest_ip else src_ip end as src_ip,
    case when turned then src_ip else dest_ip end as dst_ip,
    try_cast(case when turned then src_port else dest_port end as integer) as dst_port,
    case
        when event_type in ('tls', 'http', 'dns') then event_type
        else lower(coalesce(nullif(app_proto, 'failed'), proto))
    end as network_protocol,
    case
        when event_type = 'dns' then dns_name
        when event_type in ('tls', 'alert', 'drop') and sni is not null then sni
        when event_type in ('http', 'alert', 'drop') then hostname
    end as host,
    case
        when event_type = 'dns' and dns_name is not null then 'dns_query'
        when event_type in ('tls', 'alert', 'drop') and sni is not null then 'sni'
        when event_type in ('http', 'alert', 'drop') and hostname is not null then 'http_host'
        else 'none'
    end as host_source,
    case when event_type = 'http' then upper(http_http_method) end as http_method,
    case when event_type = 'http' then
        coalesce(rest_path(url_tail), split_part(split_part(http_url, '?', 1), '#', 1)) end as url_path,
    case when event_type = 'http' then try_cast(http_status as integer) end as http_status,
    case when event_type = 'http' then http_http_user_agent end as user_agent,
    case when event_type = 'http' then http_http_content_type end as content_type,
    case
        when event_type = 'drop' or alert_action = 'blocked' then 'blocked'
        when event_type = 'alert' and alert_action = 'allowed' then 'allowed'
        else 'unknown'
    end as action,
    -- Alerts carry the flow's bytes so far; the flow record has the totals, so only it counts them.
    case when event_type = 'flow' then try_cast(flow_bytes_toserver as bigint) end as bytes_out,
    case
        when event_type = 'flow' then try_cast(flow_bytes_toclient as bigint)
        when event_type = 'http' then try_cast(http_length as bigint)
    end as bytes_in,
    case when event_type = 'flow' then
        date_diff('millisecond', try_cast(flow_start as timestamptz), try_cast(flow_end as timestamptz))
    end as duration_ms,
    case when event_type = 'dns' then coalesce(dns_rrtype, dns_queries0_rrtype) end as dns_qtype,
    case when event_type = 'dns' then dns_rcode end as dns_rcode,
    case when event_type = 'dns' then coalesce(
        nullif(json_extract_string(line, '$.dns.answers[*].rdata'), []),
        nullif(json_extract_string(line, '$.dns.grouped.*[*]'), []),
        case when dns_rdata is not null then [dns_rdata] end)
    end as dns_answers
from typed
"""

EVE = Format(
    name="suricata_eve",
    source_kind="sensor",
    summary="Suricata EVE JSON: tls (SNI), http, dns, flow, alert and drop records",
    sniff=line_share(r'^\s*\{.*"event_type"\s*:\s*"'),
    new_parser=sql_parser(QUERY),
    fields=(
        "ts", "src_ip", "host", "host_source", "dst_ip", "dst_port", "network_protocol", "http_method",
        "url_path", "http_status", "action", "bytes_out", "bytes_in", "duration_ms", "user_agent",
        "content_type", "dns_qtype", "dns_rcode", "dns_answers",
    ),
)
