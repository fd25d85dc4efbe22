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

# The fields read, as a DuckDB STRUCT type for `from_json`: each line is parsed once into it. Scalars are
# read as VARCHAR (numbers and booleans as their JSON text), whatever their JSON type.
RECORD = """{
    "event_type": "VARCHAR", "timestamp": "VARCHAR", "src_ip": "VARCHAR", "src_port": "VARCHAR",
    "dest_ip": "VARCHAR", "dest_port": "VARCHAR", "proto": "VARCHAR", "app_proto": "VARCHAR",
    "http": {"hostname": "VARCHAR", "url": "VARCHAR", "http_method": "VARCHAR", "status": "VARCHAR",
             "length": "VARCHAR", "http_user_agent": "VARCHAR", "http_content_type": "VARCHAR"},
    "flow": {"bytes_toserver": "VARCHAR", "bytes_toclient": "VARCHAR", "start": "VARCHAR", "end": "VARCHAR"},
    "dns": {"type": "VARCHAR", "rrname": "VARCHAR", "rrtype": "VARCHAR", "rcode": "VARCHAR", "rdata": "VARCHAR",
            "queries": [{"rrname": "VARCHAR", "rrtype": "VARCHAR"}], "answers": [{"rdata": "VARCHAR"}],
            "grouped": "MAP(VARCHAR, VARCHAR[])"},
    "tls": {"sni": "VARCHAR"},
    "alert": {"action": "VARCHAR"}
}"""

EVENT_TYPES = ("tls", "http", "dns", "flow", "alert", "drop")

# `try`: a line that is not valid JSON gives null instead of failing the batch.
QUERY = f"""
with parsed as (
    select line_no, line, try(from_json(line, '{" ".join(RECORD.split())}')) as r from lines
),
fields as (
    select line_no, r is not null and starts_with(ltrim(line), '{{') as ok,
        r.event_type, r.timestamp, r.src_ip, r.src_port, r.dest_ip, r.dest_port, r.proto, r.app_proto,
        r.http, r.flow, r.dns, r.alert.action as alert_action,
        clean_host(r.tls.sni) as sni, hostport_host(r.http.hostname) as hostname, url_rest(r.http.url) as url_tail
    from parsed
),
typed as (
    select *,
        clean_host(coalesce(dns.rrname, dns.queries[1].rrname)) as dns_name,
        -- Before Suricata 7 an answer is logged as the packet flew: from the server (port 53).
        event_type = 'dns' and dns.type in ('answer', 'response') and src_port = '53' and dest_port <> '53'
            as turned
    from fields
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
    case when event_type = 'http' then upper(http.http_method) end as http_method,
    case when event_type = 'http' then
        coalesce(rest_path(url_tail), split_part(split_part(http.url, '?', 1), '#', 1)) end as url_path,
    case when event_type = 'http' then try_cast(http.status as integer) end as http_status,
    case when event_type = 'http' then http.http_user_agent end as user_agent,
    case when event_type = 'http' then http.http_content_type end as content_type,
    case
        when event_type = 'drop' or alert_action = 'blocked' then 'blocked'
        when event_type = 'alert' and alert_action = 'allowed' then 'allowed'
        else 'unknown'
    end as action,
    -- Alerts carry the flow's bytes so far; the flow record has the totals, so only it counts them.
    case when event_type = 'flow' then try_cast(flow.bytes_toserver as bigint) end as bytes_out,
    case
        when event_type = 'flow' then try_cast(flow.bytes_toclient as bigint)
        when event_type = 'http' then try_cast(http.length as bigint)
    end as bytes_in,
    case when event_type = 'flow' then
        date_diff('millisecond', try_cast(flow.start as timestamptz), try_cast(flow."end" as timestamptz))
    end as duration_ms,
    case when event_type = 'dns' then coalesce(dns.rrtype, dns.queries[1].rrtype) end as dns_qtype,
    case when event_type = 'dns' then dns.rcode end as dns_rcode,
    case when event_type = 'dns' then coalesce(
        nullif(list_filter(list_transform(dns.answers, lambda a: a.rdata), lambda x: x is not null), []),
        nullif(flatten(map_values(dns.grouped)), []),
        case when dns.rdata is not null then [dns.rdata] end)
    end as dns_answers
from typed
"""

EVE = Format(
    name="suricata_eve",
    source_kind="sensor",
    summary="Suricata EVE JSON: tls (SNI), http, dns, flow, alert and drop records",
    sniff=line_share(r'^\s*\{.*"event_type"\s*:\s*"'),
    new_parser=sql_parser(QUERY),
    independent_batches=True,
    fields=(
        "ts", "src_ip", "host", "host_source", "dst_ip", "dst_port", "network_protocol", "http_method",
        "url_path", "http_status", "action", "bytes_out", "bytes_in", "duration_ms", "user_agent",
        "content_type", "dns_qtype", "dns_rcode", "dns_answers",
    ),
)
