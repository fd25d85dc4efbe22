"""Azure Firewall rule, threat-intelligence, IDPS and DNS proxy logs as Azure Monitor exports them (JSON records).

A diagnostic setting sends the firewall's logs to an Event Hub or a storage account as records `{"time": ...,
"resourceId": ..., "category": ..., "operationName": ..., "properties": {...}}`, in one of two forms:

- legacy (Azure diagnostics mode): categories AzureFirewallApplicationRule, AzureFirewallNetworkRule (also its NAT,
  threat-intelligence and IDPS messages) and AzureFirewallDnsProxy, whose only property `msg` is text:
  `HTTPS request from 10.0.0.4:54321 to chatgpt.com:443. [Url: host/path. ]Action: Allow. Policy: ... Rule: ...
  [Web Category: ...]`, `TCP request from ip:port to ip:port. Action: Deny. `, `ICMP Type=8 request from ip to ip.
  Action: Deny. `, `TCP request from ip:port to ip:port was DNAT'ed to ip:port...`, `... Action: drop. Signature:
  ... IDS: ...`, `... Url: host. Action: Deny. ThreatIntel: ...`; and CoreDNS's log line for the DNS proxy, `DNS
  Request: ip:port - id type class name. proto size do bufsize rcode flags rsize durations`;
- structured (resource-specific mode): categories AZFWApplicationRule (Fqdn, TargetUrl, Protocol, DestinationPort,
  Action, WebCategory, ...), AZFWNetworkRule, AZFWNatRule, AZFWThreatIntel (Fqdn, TargetUrl or Url),
  AZFWIdpsSignature (SourceIp, DestinationIp, DestinationPort, Protocol, Action) and AZFWDnsQuery (QueryName,
  QueryType, ResponseCode, RequestSize, ResponseSize, RequestDurationSecs) with typed properties.

Log Analytics and Sentinel exports write the same columns flat beside `TimeGenerated` and the table name in `Type`
(AzureDiagnostics rows: `Category` and `msg_s`): those are read too. Times are UTC (Microsoft: "timestamp (UTC)"),
so a time without an offset is read as UTC, not in the configured zone.

What is read. ts from `time` (else `TimeGenerated`); src_ip, dst_ip, dst_port, network_protocol (the logged protocol,
lower case: https, http, tcp, udp, icmp; `dns` for DNS proxy records); action: Allow -> allowed, Deny/Drop/Reject ->
blocked, Alert -> allowed (IDPS in alert mode lets the packet through); a NAT rule hit is a DNAT the firewall made
(it lets the translated traffic through): allowed. Host: from the URL where one is logged (TargetUrl/Url, or the
legacy `Url:` written without a scheme; host_source url, with url_path); else the application rule's FQDN, which
on HTTPS without TLS inspection is the client's SNI (Microsoft: TargetUrl is "only available for HTTP or TLS
inspected HTTPS requests", Fqdn is the request's target): host_source sni, or http_host for HTTP; a destination
that is an address is dst_ip and no host. vendor_category is the web category. Azure Firewall logs no user and no
bytes of a connection.

DNS proxy records are read as firewall events (the format has one source kind): host is the query name
(host_source dns_query), with dns_qtype, dns_rcode, bytes_out/bytes_in (request and response size), duration_ms,
network_protocol `dns`, action allowed (the proxy forwarded and answered the query).

Ignored (valid records, no client traffic): the DNS proxy's own upstream errors (`Error: ...` messages), the flow
trace, fat flow, policy-analytics aggregation and FQDN resolution failure categories (they repeat or aggregate the
connections the rule logs already give: reading them would count them twice), records of other Azure services in
the same export, and an empty `{"records": []}`. Rejected: a line that is not a JSON object, a record without a
category or Type, a traffic record without a readable time, a legacy message not in the layouts above.

One record per line. A line holding `{"records": [...]}` of one record is read as that record; of several, it is
rejected (a line gives at most one event: its line number is the event's lineage), naming the fix `jq -c
'.records[]'`. A storage-account file pretty-printed over many lines cannot be read line by line either: each of
its lines is rejected with that hint (and such a file is still recognised, so that the hint is what the user sees).

How a batch is read: one DuckDB query; each line parsed once (`json_extract_string` with the list of paths, nested
and flat spellings), the legacy messages by one regular expression per kind (`regexp_extract` with named groups).

References: Microsoft Learn "Azure Firewall logs and metrics" / "Monitor Azure Firewall"
(https://learn.microsoft.com/azure/firewall/firewall-diagnostics), "Azure Structured Firewall Logs"
(https://learn.microsoft.com/azure/firewall/firewall-structured-logs), the table references
(https://learn.microsoft.com/azure/azure-monitor/reference/tables/azfwapplicationrule, .../azfwnetworkrule,
.../azfwnatrule, .../azfwthreatintel, .../azfwidpssignature, .../azfwdnsquery), the supported log categories
(https://learn.microsoft.com/azure/azure-monitor/reference/supported-logs/microsoft-network-azurefirewalls-logs),
Elastic's azure firewall_logs pipeline and its test records
(https://github.com/elastic/integrations/tree/main/packages/azure/data_stream/firewall_logs), CoreDNS's log plugin
for the DNS proxy line (https://coredns.io/plugins/log/).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from detector.ingest.base import BatchParser, Format, ParseContext, sql_parser

# Paths read from every record: its category or table, its time, and a legacy record's message.
ENVELOPE = ("category", "Type", "Category", "time", "TimeGenerated", "properties.msg", "msg_s")
# Paths read from structured records only (a second parse of those: a path costs about a sixth of a line's parse,
# so reading the 16 nested and flat spellings of every record cost legacy files more than the second parse does).
PROPERTIES = ("SourceIp", "DestinationIp", "DestinationPort", "Protocol", "Action", "Fqdn", "TargetUrl", "Url",
              "WebCategory", "QueryName", "QueryType", "ResponseCode", "RequestSize", "ResponseSize",
              "RequestDurationSecs")


def _path_list(prefix: str, keys: Sequence[str]) -> str:
    return "[" + ", ".join(f"'$.{prefix}{key}'" for key in keys) + "]"


_PROPERTY_COLUMNS = ",\n        ".join(f"p[{at}] as p_{key.lower()}" for at, key in enumerate(PROPERTIES, start=1))

# The categories (diagnostic settings) or tables (Log Analytics) read as traffic, by kind.
LEGACY_RULES = ("AzureFirewallApplicationRule", "AzureFirewallNetworkRule")
LEGACY_DNS = "AzureFirewallDnsProxy"
STRUCTURED_RULES = ("AZFWApplicationRule", "AZFWNetworkRule", "AZFWNatRule", "AZFWThreatIntel", "AZFWIdpsSignature")
STRUCTURED_DNS = "AZFWDnsQuery"

# A legacy rule message, read by its words (a regular expression with groups cost ten times as much):
# `<proto>[ Type=<n>] request from <src>[:<port>][ to <dst>[:<port>]][ was DNAT'ed to ...|. [Url: <url>. ]Action: <a>.]`
# (Azure writes `HTTP  request`, two spaces: made one first). CoreDNS's DNS proxy line has fixed words:
# `DNS Request: <ip>:<port> - <id> <type> <class> <name> <proto> <size> <do> <bufsize> <rcode> <rflags> <rsize>
# <duration>s`.
WEB_CATEGORY = "Web Category: "

_SEVERAL = ("a message of ", " records on one line: one event per line is read; write one record per line "
            "(jq -c '.records[]' FILE)")
_NOT_JSON = ("not a JSON record on one line (a storage-account file pretty-printed over many lines is read after "
             "jq -c '.records[]' FILE)")


def _sql_text(values: Sequence[str] | str) -> str:
    items = [values] if isinstance(values, str) else list(values)
    return ", ".join("'" + item.replace("'", "''") + "'" for item in items)


# `ip:port`, `[v6]:port`, a bare address, or `ip:` (an empty port) -> the address and the port text: hostport_host
# and hostport_port's cases without their lower-casing and regular expression (every line has two of these).
MACROS = r"""
create or replace macro address_of(w) as case
    when starts_with(w, '[') then split_part(substr(w, 2), ']', 1)
    when w like '%:%:%' then w
    else split_part(w, ':', 1)
end;
create or replace macro port_of(w) as case
    when starts_with(w, '[') then split_part(w, ']:', 2)
    when w like '%:%:%' then ''
    else split_part(w, ':', 2)
end;
"""

QUERY = rf"""
with src as (
    select line_no, line, starts_with(line, '{{"records"') or starts_with(line, '{{ "records"') as is_message
    from lines
), doc as (
    select line_no, is_message,
        case when is_message then try(json_array_length(line, '$.records')) end as records,
        case when is_message and try(json_array_length(line, '$.records')) >= 1
             then try(json_extract(line, '$.records[0]'))::varchar else line end as record
    from src
), found as (
    select line_no, is_message, records, record,
        try(json_extract_string(record, {_path_list("", ENVELOPE)})) as v
    from doc
), record as (
    select line_no, records, record, v is not null and (not is_message or records is not null) as parsed,
        coalesce(v[1], nullif(v[2], 'AzureDiagnostics'), v[3]) as category,
        nullif(trim(coalesce(v[4], v[5])), '') as time_text,
        nullif(trim(coalesce(v[6], v[7])), '') as msg,
        v[2] is not null and v[4] is null as flat
    from found
), kind as (
    select * exclude (record),
        case
            when category in ({_sql_text(LEGACY_RULES)}) then 'rule_msg'
            when category = '{LEGACY_DNS}' then 'dns_msg'
            when category in ({_sql_text(STRUCTURED_RULES)}) then 'rule'
            when category = '{STRUCTURED_DNS}' then 'dns'
        end as kind,
        case when category in ({_sql_text((*STRUCTURED_RULES, STRUCTURED_DNS))}) then
            case when flat then try(json_extract_string(record, {_path_list("", PROPERTIES)}))
                 else try(json_extract_string(record, {_path_list("properties.", PROPERTIES)})) end
        end as p
    from record
), property as (
    select * exclude (p),
        {_PROPERTY_COLUMNS},
        case when kind = 'rule_msg' then substr(msg, strpos(msg, ' request from ') + 14) end as rest,
        case when kind = 'dns_msg' then string_split(msg, ' ') end as dt
    from kind
), words as (
    select *,
        strpos(msg, ' request from ') > 0 as has_request,
        rtrim(split_part(rest, ' ', 1), '.') as src_word,
        split_part(rest, ' ', 2) = 'to' as has_to,
        case when contains(msg, 'Action: ') then split_part(split_part(msg, 'Action: ', 2), '.', 1) end
            as msg_action,
        case when contains(msg, '. Url: ') then rtrim(split_part(split_part(msg, '. Url: ', 2), ' ', 1), '.') end
            as msg_url,
        case when kind = 'rule_msg' and contains(msg, '{WEB_CATEGORY}')
             then trim(split_part(msg, '{WEB_CATEGORY}', 2)) end as msg_category
    from property
), message as (
    select *,
        case when has_to then rtrim(split_part(rest, ' ', 3), '.') end as dst_word,
        has_to and split_part(rest, ' ', 4) = 'was' as nat,
        case when kind = 'dns_msg' then {{
            'ok': coalesce(len(dt) >= 16 and dt[1] = 'DNS' and dt[2] = 'Request:' and dt[4] = '-', false),
            'src': dt[3], 'qtype': dt[6], 'qname': dt[8], 'size': dt[10], 'rcode': dt[13], 'rsize': dt[15],
            'seconds': rtrim(dt[16], 's')}} end as d
    from words
), hostports as (
    select *,
        case when kind = 'rule_msg' then address_of(src_word) when kind = 'dns_msg' then address_of(d.src) end
            as msg_src,
        case when kind = 'rule_msg' then address_of(dst_word) end as msg_dst,
        case when kind = 'rule_msg' then try_cast(port_of(dst_word) as integer) end as msg_port
    from message
), fields as (
    select line_no, records, parsed, category, kind, msg, time_text, try_cast(time_text as timestamptz) as ts,
        kind = 'dns_msg' and starts_with(msg, 'Error:') as dns_error,
        (kind = 'rule_msg' and not coalesce(has_request and (msg_action is not null or nat), false))
            or (kind = 'dns_msg' and not d.ok and not starts_with(msg, 'Error:')) as msg_unread,
        case when kind in ('rule_msg', 'dns_msg') then msg_src else nullif(trim(p_sourceip), '') end as src_ip,
        case when kind = 'rule_msg' then msg_dst else nullif(trim(p_destinationip), '') end as dst,
        case when kind = 'rule_msg' then msg_port else try_cast(p_destinationport as integer) end as dst_port,
        lower(nullif(case when kind = 'rule_msg' then split_part(msg, ' ', 1) else p_protocol end, '')) as protocol,
        case
            when kind = 'rule_msg' and nat then 'allowed'
            when category = 'AZFWNatRule' or kind in ('dns', 'dns_msg') then 'allowed'
            when lower(case when kind = 'rule_msg' then msg_action else p_action end) in ('allow', 'alert')
                then 'allowed'
            when lower(case when kind = 'rule_msg' then msg_action else p_action end) in ('deny', 'drop', 'reject')
                then 'blocked'
            else 'unknown'
        end as action,
        nullif(trim(case when kind = 'rule_msg' then msg_url else coalesce(nullif(trim(p_targeturl), ''), p_url) end),
               '') as url_text,
        nullif(trim(p_fqdn), '') as fqdn,
        nullif(trim(coalesce(p_webcategory, msg_category)), '') as vendor_category,
        case when kind = 'dns_msg' then d.qname else p_queryname end as qname,
        upper(nullif(case when kind = 'dns_msg' then d.qtype else p_querytype end, '')) as dns_qtype,
        upper(nullif(case when kind = 'dns_msg' then d.rcode else p_responsecode end, '')) as dns_rcode,
        try_cast(nullif(case when kind = 'dns_msg' then d.size else p_requestsize end, '') as bigint) as bytes_out,
        try_cast(nullif(case when kind = 'dns_msg' then d.rsize else p_responsesize end, '') as bigint) as bytes_in,
        cast(round(try_cast(nullif(case when kind = 'dns_msg' then d.seconds else p_requestdurationsecs end, '')
                            as double) * 1000) as bigint) as duration_ms
    from hostports
), urls as (
    select *,
        -- the legacy `Url:` is written without a scheme: the logged protocol's
        case when url_text is null then null
             when regexp_matches(url_text, '^@SCHEME@://') then url_text
             else coalesce(protocol, 'http') || '://' || url_text end as url
    from fields
), url_rest as (
    select *, url_rest(url) as rest from urls
), url_authority as (
    select *, authority_hostport(rest_authority(rest)) as hostport, rest_path(rest) as url_path from url_rest
), place as (
    select *,
        hostport_host(hostport) as url_host,
        regexp_matches(dst, '^[0-9.]+$') or contains(dst, ':') as dst_is_ip
    from url_authority
), final as (
    select *,
        case when kind in ('dns', 'dns_msg') then clean_host(qname)
             else coalesce(url_host, clean_host(fqdn), case when not dst_is_ip then clean_host(dst) end) end as host
    from place
), verdict as (
    select *,
        case
            when records > 1 then '{_SEVERAL[0]}' || records || '{_SEVERAL[1].replace("'", "''")}'
            when not parsed then '{_NOT_JSON.replace("'", "''")}'
            when records = 0 then null
            when category is null then 'not an Azure Firewall record (no category or Type)'
            when kind is null or dns_error then null
            when kind in ('rule_msg', 'dns_msg') and msg is null then 'no properties.msg'
            when msg_unread then 'message not in a known Azure Firewall layout'
            when time_text is null then 'no time (time or TimeGenerated)'
            when ts is null then 'time not understood: ' || time_text
        end as reject_reason
    from final
)
select line_no, ts, src_ip, host,
    case
        when host is null then 'none'
        when kind in ('dns', 'dns_msg') then 'dns_query'
        when url_host is not null then 'url'
        when protocol = 'http' then 'http_host'
        else 'sni'
    end as host_source,
    case when dst_is_ip then dst end as dst_ip,
    dst_port,
    case when kind in ('dns', 'dns_msg') then 'dns' else protocol end as network_protocol,
    case when url_host is not null then url_path end as url_path,
    action, bytes_out, bytes_in, duration_ms, dns_qtype, dns_rcode, vendor_category, reject_reason,
    reject_reason is null and (records = 0 or kind is null or dns_error) as is_ignored
from verdict
""".replace("@SCHEME@", r"[A-Za-z][A-Za-z0-9+._-]*")

def new_parser(context: ParseContext) -> BatchParser:
    """QUERY on each batch, its macros defined on the file's connection first."""
    context.connection.execute(MACROS)
    return sql_parser(QUERY)(context)


# A record of the firewall as it starts: a JSON object naming an Azure Firewall category or table.
_CATEGORY = r'"(?:category|Category|Type)"\s*:\s*"(?:AzureFirewall[A-Za-z]*|AZFW[A-Za-z]+)"'
_RECORD = re.compile(r"^\s*\{.*" + _CATEGORY)
_PRETTY_CATEGORY = re.compile(r"^\s*" + _CATEGORY)
_PRETTY_START = re.compile(r'^\s*(?:\{|\[|\{\s*"records"\s*:\s*\[)\s*$')


def sniff(lines: Sequence[str]) -> float:
    """The share of lines that are Azure Firewall records; 1 for a storage-account file pretty-printed over many
    lines (its lines are then rejected with the hint to convert it, rather than the file not being recognised)."""
    if not lines:
        return 0.0
    if _PRETTY_START.match(lines[0]) and any(_PRETTY_CATEGORY.match(line) for line in lines):
        return 1.0
    return sum(1 for line in lines if _RECORD.match(line)) / len(lines)


AZURE_FIREWALL = Format(
    name="azure_firewall",
    source_kind="firewall",
    summary="Azure Firewall application, network, NAT, threat-intelligence, IDPS and DNS proxy logs (legacy "
            "AzureDiagnostics `msg` and structured AZFW* records): JSON lines from Event Hubs, storage accounts, "
            "Log Analytics or Sentinel exports",
    sniff=sniff,
    new_parser=new_parser,
    fields=("ts", "src_ip", "host", "host_source", "dst_ip", "dst_port", "network_protocol", "url_path", "action",
            "bytes_out", "bytes_in", "duration_ms", "dns_qtype", "dns_rcode", "vendor_category"),
    independent_batches=True,
)
