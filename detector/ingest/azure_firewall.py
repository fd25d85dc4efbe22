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
so a time without an offset is read as UTC, not in the configured zone. Some Azure services write `time` in .NET's
US form instead of ISO 8601 (`11/14/2025 1:48:53 AM`, month first; https://github.com/elastic/integrations/issues/15977):
read as UTC too, or with its offset where one follows.

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

One record per line. A file whose first line is `{"records": [...]}` (Event Hubs messages) is read a record a line
(json_document); elsewhere a line holding `{"records": [...]}` of one record is read as that record, and of several
it is rejected (a line gives at most one event: its line number is the event's lineage), naming the fix `jq -c
'.records[]'`. A storage-account file pretty-printed over many lines is read as its records, one a line
(json_document); a line of such a file that reaches a parser (a broken document) is rejected with the same hint.

How a batch is read: a compiled walk over each line's bytes (azure_firewall_scan.py) checks its JSON and finds
the category, time and message, or the properties, and a legacy rule message's words (`m_*`, as rule_words reads
them), giving the same values RECORDS_QUERY and rule_words would give; the message itself is not copied out. A line
it does not take (several records, an escape in a value read, a number DuckDB may write otherwise, Unicode spaces
where a value is trimmed: see that module) is read by RECORDS_QUERY and rule_words, as before. Parse CPU per ~270k
lines of the benchmark files (interleaved, 3 runs each, load 6-12), the query and Arrow's words on every line -> the
walk (JSON only, then with its `records` and the rule words): legacy_diagnostics 1.06-1.28 -> 0.91-0.94 -> 0.65-0.71
s, log_analytics_export 1.45-1.56 -> 1.06-1.10 -> 0.77-0.80, structured_event_hubs 1.15-1.22 -> 1.02-1.10 ->
0.58-0.61. Of that, per 270k lines: the walk 0.135 s (legacy) to 0.23 (Log Analytics rows, ~20 keys each; ~0.8 ns
a byte: its key look-up is compiled into its loop, a call per key cost ~60 ns), copying the values out 0.07-0.11 (only
the slots some line of a chunk has), EVENTS_QUERY and the encoding 0.18-0.24 (~0.01 per output column, none
dominant), dns_words and places ~0.05 each. benchmarks/ingest.py --per-sample at 1M lines (CPU shadow-ai against the
generic baseline), before the walk (load ~15) -> after it and its later steps (2026-11-30 06:53 UTC, load ~8):
legacy_diagnostics 6.01/1.86 (0.31) -> 3.67/1.81 (0.50), log_analytics_export 6.60/2.39 (0.36) -> 4.26/2.19 (0.51),
structured_event_hubs 6.00/1.65 (0.28) -> 3.80/1.58 (0.41); of the ~3.8 s, ~0.85 s is the command's start (imports,
Numba and the cached kernels: a 20-line file costs that much) and ~2.1 s the parse. Tried and left: a DNS proxy
message's words read by the walk too (its copies cost what Arrow's split did), the keys compared eight bytes at a time
or first filtered by their first byte (both slower: most keys differ from the wanted ones at the first byte anyway),
`kind` as a number in EVENTS_QUERY and the walk's per-line resets as loops (no change). Later (2026-11-30): the records
EVENTS_QUERY would only count as ignored (categories not read: flow trace, fat flow, aggregations, other services'; an
empty Event Hubs message) are counted after the walk and handed to no later step; a batch is walked ~4 MiB at a time
(SLICE_BYTES: the reader's one 32 MiB chunk a batch had the values gathered from memory, not the cache); the walk finds
keys by a hash (azure_firewall_scan.HashedKeys). Parse thread CPU per 262k lines, one chunk a batch, interleaved, load
~7: structured_event_hubs 0.545-0.549 -> 0.43-0.44 s, legacy_diagnostics 0.51-0.53 -> 0.45-0.46, log_analytics_export
0.65-0.69 -> 0.54-0.55 (DuckDB's threads +0.01-0.02). Tried and left: json_scan's walk (`spans`) in front of this one
(before HashedKeys: 0.114 s per 262k structured lines against this walk's ~0.17); but the lines it doubts (a fraction
at RequestDurationSecs: every DNS record) and Event Hubs messages still need this walk, and making its spans this
walk's values cost ~0.07: 0.23 in all against 0.21.
Before the walk: RECORDS_QUERY parses each line once for its category, time and message (`json_extract_string`
with a list of paths; the Log Analytics spellings only where those are missing) and a structured record a second time
for its properties (nested or flat); the legacy messages are split into words in Arrow (`rule_words`, `dns_words`),
Arrow casts the times; EVENTS_QUERY then chooses each field from what its kind of record has and names the rejects.
Measured (benchmarks/ingest.py --formats azure_firewall, 1M legacy lines of ~450 bytes, a loaded machine): 4.9 s
CPU against the generic DuckDB baseline's 1.7 (0.35); the parse itself ~2.5 s of it, a third of that the JSON parse.
Per 262,144 lines of the legacy sample (CPU, best of 7, a loaded machine): RECORDS_QUERY 0.24-0.29 s (the JSON
extraction alone ~0.12, its `try` ~0.02; handing `msg` to Arrow ~0.07), rule_words 0.18, dns_words 0.05 (the sample is
one eighth DNS proxy lines), EVENTS_QUERY 0.13, places 0.05: no single cost is the floor's missing fifth. A batch
without structured records (or without DNS proxy lines) skips their property lists (or words) altogether; a Log
Analytics row has its seven envelope paths read in one parse. benchmarks/ingest.py --per-sample at 1M lines, load ~6,
CPU shadow-ai against the generic baseline, before -> after: legacy_diagnostics 5.13/1.95 (0.38) -> 4.89/1.82 (0.37),
log_analytics_export 7.33/2.16 (0.29) -> 6.21/2.38 (0.38), structured_event_hubs 5.63/1.58 (0.28) -> 5.65/1.55 (0.27).

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

import dataclasses
import re
from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, list_item, one_array, only_where
from detector.ingest.base import (
    BatchParser,
    Format,
    ParseContext,
    ParseResult,
    line_share,
    parse_cursor,
    split_outcomes,
)
from detector.ingest.distinct_sql import INTEGER_SQL, encoded, integers, plain, sql_literal, through
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.proxy_columns import UrlQueries, first_valid, is_ip_literal, url_columns
from detector.schema import TIMESTAMP

# Paths read from every record: its category, its time, and a legacy record's message; and where the category or the
# time is missing, their Log Analytics spellings (a path costs about a sixth of a line's parse: not read on every line).
ENVELOPE = ("category", "time", "properties.msg")
EXPORTED = ("Type", "Category", "TimeGenerated", "msg_s")
# Paths read from structured records only (a second parse of those: a path costs about a sixth of a line's parse,
# so reading the 16 nested and flat spellings of every record cost legacy files more than the second parse does).
PROPERTIES = ("SourceIp", "DestinationIp", "DestinationPort", "Protocol", "Action", "Fqdn", "TargetUrl", "Url",
              "WebCategory", "QueryName", "QueryType", "ResponseCode", "RequestSize", "ResponseSize",
              "RequestDurationSecs")


def _path_list(prefix: str, keys: Sequence[str]) -> str:
    return "[" + ", ".join(f"'$.{prefix}{key}'" for key in keys) + "]"


def _sql_text(values: Sequence[str]) -> str:
    return ", ".join(sql_literal(value) for value in values)


# The categories (diagnostic settings) or tables (Log Analytics) read as traffic, by kind.
LEGACY_RULES = ("AzureFirewallApplicationRule", "AzureFirewallNetworkRule")
LEGACY_DNS = "AzureFirewallDnsProxy"
STRUCTURED_RULES = ("AZFWApplicationRule", "AZFWNetworkRule", "AZFWNatRule", "AZFWThreatIntel", "AZFWIdpsSignature")
STRUCTURED_DNS = "AZFWDnsQuery"

# A legacy rule message, read by its words (a regular expression with groups cost ten times as much):
# `<proto>[ Type=<n>] request from <src>[:<port>][ to <dst>[:<port>]][ was DNAT'ed to ...|. [Url: <url>. ]Action: <a>.]`
# (`from` is one word later after `Type=8`, and after Azure's `HTTP  request`, two spaces). CoreDNS's DNS proxy line
# has fixed words:
# `DNS Request: <ip>:<port> - <id> <type> <class> <name> <proto> <size> <do> <bufsize> <rcode> <rflags> <rsize>
# <duration>s`.
WEB_CATEGORY = "Web Category: "

_SEVERAL = ("a message of ", " records on one line: one event per line is read; write one record per line "
            "(jq -c '.records[]' FILE)")
_NOT_JSON = ("not a JSON record on one line (a storage-account file pretty-printed over many lines is read after "
             "jq -c '.records[]' FILE)")


# Each record's category, time and kind, a structured record's properties (`p`, PROPERTIES' order), and a legacy
# rule or DNS proxy message as it is (read in Arrow: rule_words, dns_words).
RECORDS_QUERY = rf"""
with src as (
    select line_no, line, starts_with(line, '{{"records"') or starts_with(line, '{{ "records"') as is_message
    from lines
), doc as (
    select line_no, is_message,
        case when is_message and try(json_type(line, '$.records')) = 'ARRAY'
             then try(json_array_length(line, '$.records')) end as records,
        case when is_message and try(json_array_length(line, '$.records')) >= 1
             then try(json_extract(line, '$.records[0]'))::varchar else line end as record
    from src
), both_found as (  -- (a Log Analytics row's paths all read in one parse, not two)
    select *, case when contains(record, '"TimeGenerated"')
                   then try(json_extract_string(record, {_path_list("", (*ENVELOPE, *EXPORTED))})) end as vw
    from doc
), found as (
    select line_no, is_message, records, record, vw,
        case when vw is null then try(json_extract_string(record, {_path_list("", ENVELOPE)}))
             else vw[1:{len(ENVELOPE)}] end as v
    from both_found
), exported as (
    select * exclude (vw),
        case when v[1] is null or v[2] is null then
            case when vw is null then try(json_extract_string(record, {_path_list("", EXPORTED)}))
                 else vw[{len(ENVELOPE) + 1}:] end
        end as w
    from found
), record as (
    select line_no, records, record, v is not null and (not is_message or records is not null) as parsed,
        coalesce(v[1], nullif(w[1], 'AzureDiagnostics'), w[2]) as category,
        nullif(trim(coalesce(v[2], w[3])), '') as time_text,
        nullif(coalesce(v[3], w[4]), '') as msg,  -- (trimmed only where read by DuckDB: a trim copies it)
        w[1] is not null and v[2] is null as flat
    from exported
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
)
select line_no, records, parsed, category is null as no_category, coalesce(category = 'AZFWNatRule', false) as nat_rule,
    kind, time_text, p,  -- (the category's text is not handed on: an Arrow copy of every record's)
    case when kind = 'rule_msg' then msg end as rule_msg,
    case when kind = 'dns_msg' then trim(msg) end as dns_msg,
    kind in ('rule_msg', 'dns_msg') and msg is null as no_msg,
    case when kind = 'dns_msg' then starts_with(trim(msg), 'Error:') end as dns_error  -- (a case: trim only these)
from kind
"""

# The events of the records (with the legacy rule messages' words, read in Arrow: `m_*`).
EVENTS_QUERY = rf"""
with fields as (
    select line_no, records, parsed, no_category, kind, time_text, m_dst_is_ip,
        coalesce(arrow_ts, try_cast(time_text as timestamptz),
                 try_strptime(time_text, ['%m/%d/%Y %I:%M:%S %p', '%m/%d/%Y %H:%M:%S'])::timestamptz,
                 try_strptime(time_text, '%m/%d/%Y %I:%M:%S %p %z')) as ts,
        dns_error, no_msg,
        (kind = 'rule_msg' and not m_ok) or (kind = 'dns_msg' and not d_ok and not dns_error) as msg_unread,
        case kind when 'rule_msg' then m_src when 'dns_msg' then d_src else nullif(trim(p_sourceip), '') end
            as src_ip,
        case when kind = 'rule_msg' then m_dst else nullif(trim(p_destinationip), '') end as dst,
        case when kind = 'rule_msg' then m_port else try_cast(p_destinationport as integer) end as dst_port,
        nullif(case when kind = 'rule_msg' then m_proto else lower(p_protocol) end, '') as protocol,
        case
            when kind = 'rule_msg' and m_nat then 'allowed'
            when nat_rule or kind in ('dns', 'dns_msg') then 'allowed'
            when lower(case when kind = 'rule_msg' then m_action else p_action end) in ('allow', 'alert')
                then 'allowed'
            when lower(case when kind = 'rule_msg' then m_action else p_action end) in ('deny', 'drop', 'reject')
                then 'blocked'
            else 'unknown'
        end as action,
        url_host, url_path, fqdn_host, dst_host, qname_host,
        nullif(trim(coalesce(p_webcategory, m_category)), '') as vendor_category,
        upper(nullif(case when kind = 'dns_msg' then d_qtype else p_querytype end, '')) as dns_qtype,
        upper(nullif(case when kind = 'dns_msg' then d_rcode else p_responsecode end, '')) as dns_rcode,
        try_cast(nullif(case when kind = 'dns_msg' then d_size else p_requestsize end, '') as bigint) as bytes_out,
        try_cast(nullif(case when kind = 'dns_msg' then d_rsize else p_responsesize end, '') as bigint) as bytes_in,
        try_cast(round(try_cast(nullif(case when kind = 'dns_msg' then d_seconds else p_requestdurationsecs end, '')
                            as double) * 1000) as bigint) as duration_ms
    from records
), final as (
    select *,
        case when kind = 'rule_msg' then m_dst_is_ip else dst is not null end as dst_is_ip,
        case when kind in ('dns', 'dns_msg') then qname_host else coalesce(url_host, fqdn_host, dst_host) end as host
    from fields
), verdict as (
    select *,
        case
            when records > 1 then '{_SEVERAL[0]}' || records || '{_SEVERAL[1].replace("'", "''")}'
            when not parsed then '{_NOT_JSON.replace("'", "''")}'
            when records = 0 then null
            when no_category then 'not an Azure Firewall record (no category or Type)'
            when kind is null or dns_error then null
            when no_msg then 'no properties.msg'
            when msg_unread then 'message not in a known Azure Firewall layout'
            when kind in ('rule', 'dns') and src_ip is null and host is null and dst is null
                then 'no SourceIp, DestinationIp, Fqdn, TargetUrl or QueryName'
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
"""

# Event columns of few distinct values, handed on dictionary-encoded.
ENCODED = ("src_ip", "host", "host_source", "dst_ip", "network_protocol", "action", "dns_qtype", "dns_rcode",
           "vendor_category")


def rule_words(connection: duckdb.DuckDBPyConnection, ports: DistinctQuery, msg: pa.Array) -> dict[str, pa.Array]:
    """The legacy rule messages' words (null where `msg` is): `m_ok` (it is a request with an action or a DNAT),
    `m_proto` (lower case), `m_src`, `m_dst` and `m_port` (of the `<address>[:<port>]` words), `m_nat`, `m_action`,
    `m_url` (as written, without a scheme) and `m_category` (the web category). One Arrow split of each message into
    its first words, read by position from `from` on (one word later after `Type=8` or Azure's `HTTP  request`):
    DuckDB's string functions cost ten times as much, a regular expression with groups a hundred."""
    words = pc.split_pattern(msg, " ", max_splits=12)
    from_at = pc.if_else(pc.fill_null(pc.equal(list_item(words, 2), "from"), False), 2,
                         pc.if_else(pc.fill_null(pc.equal(list_item(words, 3), "from"), False), 3, None))
    # (item_at's arithmetic done once for all the words read, and each word taken once)
    starts = words.offsets.to_numpy()
    lengths = np.diff(starts)
    found = pc.is_valid(from_at).to_numpy(zero_copy_only=False)
    base = np.where(found, pc.fill_null(from_at, 0).to_numpy(zero_copy_only=False).astype(np.int64), 0)
    taken: dict[int, pa.Array] = {}

    def word(after_from: int) -> pa.Array:
        if after_from not in taken:
            missing = ~found | (base + after_from >= lengths)
            positions = np.where(missing, 0, starts[:-1] + base + after_from)
            taken[after_from] = words.values.take(pa.array(positions, mask=missing if missing.any() else None))
        return taken[after_from]

    second, fourth = word(2), word(4)
    has_to = pc.fill_null(pc.equal(second, "to"), False)
    nat = pc.and_(has_to, pc.fill_null(pc.equal(fourth, "was"), False))
    with_url = pc.and_(has_to, pc.fill_null(pc.equal(fourth, "Url:"), False))
    action = pc.case_when(
        pc.make_struct(pc.fill_null(pc.equal(second, "Action:"), False),
                       pc.and_(has_to, pc.fill_null(pc.equal(fourth, "Action:"), False)),
                       pc.and_(with_url, pc.fill_null(pc.equal(word(6), "Action:"), False))),
        word(3), word(5), word(7))
    action = pc.utf8_rtrim(action, ".")
    src, _ = _address(pc.utf8_rtrim(word(1), "."))
    dst, port = _address(only_where(pc.utf8_rtrim(word(3), "."), has_to))
    return {
        "m_ok": pc.and_(pc.is_valid(from_at), pc.or_(pc.is_valid(action), nat)),
        "m_proto": pc.utf8_lower(list_item(words, 0)),
        "m_src": src,
        "m_dst": dst,
        "m_dst_is_ip": is_ip_literal(dst),
        "m_port": integers(connection, ports, port, pa.int32()),
        "m_nat": nat,
        "m_action": action,
        "m_url": only_where(pc.utf8_rtrim(word(5), "."), with_url),
        "m_category": pc.utf8_trim_whitespace(_split_once(msg, WEB_CATEGORY)[1]),
    }


RULE_WORDS = ("m_ok", "m_proto", "m_src", "m_dst", "m_dst_is_ip", "m_port", "m_nat", "m_action", "m_url", "m_category")

CLEAN_HOST_SQL = "select clean_host(value) as value from distinct_values"


class Queries:
    """The per-distinct queries of a file's parse (each keeping the values it has seen)."""

    def __init__(self) -> None:
        self.port = DistinctQuery(INTEGER_SQL)
        self.urls = UrlQueries()
        self.host = DistinctQuery(CLEAN_HOST_SQL)


def places(connection: duckdb.DuckDBPyConnection, queries: Queries, records: pa.Table) -> dict[str, pa.Array]:
    """The host names a record may be named by, each read once per distinct value: the URL's host and path
    (`url_host`, `url_path`: TargetUrl or Url, or the legacy `Url:` written without a scheme, as host/path), the
    FQDN (`fqdn_host`), a legacy message's destination where it is no address (`dst_host`), the DNS query
    (`qname_host`)."""

    def written(name: str) -> pa.Array:
        values = one_array(records.column(name))
        return only_where(values, pc.not_equal(pc.utf8_trim_whitespace(values), ""))

    def cleaned(values: pa.Array) -> pa.Array:
        return plain(through(connection, queries.host, encoded(values))["value"])

    url = pc.coalesce(written("m_url"), written("p_targeturl"), written("p_url"))
    place = url_columns(connection, queries.urls, url, bare="/?")
    return {
        "url_host": plain(place["host"]),
        "url_path": plain(first_valid(place["url_path"], place["bare_path"])),
        "fqdn_host": cleaned(written("p_fqdn")),
        "dst_host": cleaned(only_where(one_array(records.column("m_dst")),
                                       pc.invert(one_array(records.column("m_dst_is_ip"))))),
        "qname_host": cleaned(pc.coalesce(one_array(records.column("d_qname")),
                                          one_array(records.column("p_queryname")))),
    }


def _properties(found: pa.ChunkedArray) -> dict[str, pa.Array]:
    """The structured records' property values (a list per record, PROPERTIES' order) as columns `p_<name>`."""
    if found.null_count == len(found):  # (no structured record in the batch: a legacy file; its chunks not joined)
        return {f"p_{key.lower()}": pa.nulls(len(found), pa.string()) for key in PROPERTIES}
    lists = one_array(found)
    return {f"p_{key.lower()}": list_item(lists, at) for at, key in enumerate(PROPERTIES)}


def dns_words(msg: pa.ChunkedArray) -> dict[str, pa.Array]:
    """A legacy DNS proxy line's words (`d_*`, null where `msg` is): `d_ok` (it is CoreDNS's request line), the
    client address, query type and name, request and response size and the duration's seconds."""
    if msg.null_count == len(msg):  # (no DNS proxy message in the batch; its chunks not joined)
        none = pa.nulls(len(msg), pa.string())
        return {"d_ok": pa.array(np.zeros(len(msg), dtype=bool)), **{name: none for name in (
            "d_src", "d_qtype", "d_qname", "d_size", "d_rcode", "d_rsize", "d_seconds")}}
    words = pc.split_pattern(one_array(msg), " ")
    src, _ = _address(list_item(words, 2))
    ok = pc.and_(pc.and_(pc.greater_equal(pc.list_value_length(words), 16), pc.equal(list_item(words, 0), "DNS")),
                 pc.and_(pc.equal(list_item(words, 1), "Request:"), pc.equal(list_item(words, 3), "-")))
    return {"d_ok": pc.fill_null(ok, False), "d_src": src, "d_qtype": list_item(words, 5),
            "d_qname": list_item(words, 7), "d_size": list_item(words, 9), "d_rcode": list_item(words, 12),
            "d_rsize": list_item(words, 14), "d_seconds": pc.utf8_rtrim(list_item(words, 15), "s")}


def _times(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """ISO 8601 times with a zone (Azure writes `Z`) read by Arrow, about ten times cheaper than DuckDB's cast; all
    null when one is not of that form (the query then casts them itself: naive times as UTC, others rejected)."""
    try:
        return pc.cast(pc.cast(text, pa.timestamp("ns", "UTC")), TIMESTAMP, safe=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.chunked_array([pa.nulls(len(text), TIMESTAMP)])


def _split_once(text: pa.Array, mark: str) -> tuple[pa.Array, pa.Array]:
    """`text` before and after the first `mark`: (the whole text, null) where it has none."""
    parts = pc.split_pattern(text, mark, max_splits=1)
    return list_item(parts, 0), list_item(parts, 1)


_BRACKETED = r"^\[(?P<address>[^\]]*)\]:?(?P<port>.*)$"


def _address(word: pa.Array) -> tuple[pa.Array, pa.Array]:
    """`ip:port`, `ip`, `ip:` (an empty port), `[v6]:port` or a bare IPv6 address -> the address and the port text."""
    address, port = _split_once(word, ":")
    odd = pc.fill_null(pc.or_(pc.starts_with(word, "["), pc.greater(pc.count_substring(word, ":"), 1)), False)
    if pc.any(odd).as_py():
        bracketed = pc.extract_regex(word, _BRACKETED)
        in_brackets = pc.fill_null(pc.starts_with(word, "["), False)
        address = pc.if_else(in_brackets, pc.struct_field(bracketed, "address"), pc.if_else(odd, word, address))
        port = pc.if_else(in_brackets, pc.struct_field(bracketed, "port"), only_where(port, pc.invert(odd)))
    return address, port


# The columns of a batch's records (RECORDS_QUERY's, each property as a column `p_<name>`), in this order.
RECORD_COLUMNS = ("line_no", "records", "parsed", "no_category", "nat_rule", "kind", "time_text", "rule_msg",
                  "dns_msg", "no_msg", "dns_error", *(f"p_{key.lower()}" for key in PROPERTIES))
# The rule messages' words as the walk gives them (the texts as written: lower case, addresses and ports read after).
SCANNED_WORDS = ("m_ok", "m_nat", "m_proto", "m_src", "m_dst", "m_port", "m_action", "m_url", "m_category")
CATEGORIES = (*LEGACY_RULES, LEGACY_DNS, *STRUCTURED_RULES, STRUCTURED_DNS, "AzureDiagnostics")
_KIND_NAMES = pa.array([None, "rule_msg", "dns_msg", "rule", "dns"], pa.string())


class Scan:
    """The compiled walk's wanted keys (azure_firewall_scan.scan), built once per parser."""

    def __init__(self) -> None:
        from detector.ingest import azure_firewall_scan as scan  # (Numba is loaded only where a parser is made)
        from detector.ingest.compiled import WantedKeys
        from detector.ingest.gather_scan import gathered

        def arrays(keys: Sequence[str]) -> tuple[np.ndarray, ...]:
            wanted = WantedKeys(keys)
            return wanted.text, wanted.start, wanted.number, wanted.first, wanted.count

        self.scan = scan
        self.gathered = gathered
        self.top = scan.HashedKeys(("category", "time", "Type", "Category", "TimeGenerated", "msg_s", "properties",
                                    "records", *PROPERTIES)).arrays()
        self.nested = scan.HashedKeys(("msg", *PROPERTIES)).arrays()
        self.categories = arrays(CATEGORIES)
        kinds = {**dict.fromkeys(LEGACY_RULES, scan.KIND_RULE_MSG), LEGACY_DNS: scan.KIND_DNS_MSG,
                 **dict.fromkeys(STRUCTURED_RULES, scan.KIND_RULE), "AZFWNatRule": -1, STRUCTURED_DNS: scan.KIND_DNS,
                 "AzureDiagnostics": -2}
        self.kinds = np.array([kinds[name] for name in CATEGORIES], np.int64)
        duration = PROPERTIES.index("RequestDurationSecs")
        self.duration = (scan.TOP_FIRST_PROPERTY + duration, scan.NESTED_FIRST_PROPERTY + duration)


# The lines walked at a time (a slice of a batch's chunk, no copy): about this many bytes, so that the values are
# gathered while the lines are still in the cache.
SLICE_BYTES = 4 * 1024 * 1024


def _slices(lines: pa.ChunkedArray) -> list[pa.Array]:
    """`lines` as slices of about SLICE_BYTES (one empty array where there are none)."""
    slices = []
    for chunk in lines.chunks:
        _, _, offsets = line_bytes(chunk)
        step = max(1, len(chunk) * SLICE_BYTES // max(int(offsets[-1] - offsets[0]), 1))
        slices += [chunk.slice(start, step) for start in range(0, len(chunk), step)]
    return slices or [pa.array([], pa.string())]


def _scanned(scan: Scan, lines: pa.Table) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """The records of the lines the compiled walk reads (RECORD_COLUMNS), which lines those are (`ok`) and which of
    them EVENTS_QUERY would only count as ignored (`ignored`: records of a category not read, such as the flow trace,
    and empty Event Hubs messages; left out of the records, as they give nothing the later steps would read): the
    same values RECORDS_QUERY gives them, without DuckDB's JSON parse."""
    tables, oks, skipped = [], [], []
    numbers = lines.column("line_no")
    at = 0
    for chunk in _slices(lines.column("line")):
        _, data, offsets = line_bytes(chunk)
        ok, kind, nat, records, no_category, m_ok, m_nat, starts, ends, valid = scan.scan.scan(
            data, offsets, scan.top, scan.nested, scan.categories, scan.kinds, *scan.duration, len(PROPERTIES))
        oks.append(ok)
        # (EVENTS_QUERY's verdict on them: no reject reason, ignored; a message of several records is rejected)
        ignored = ok & (kind == scan.scan.KIND_NONE) & ~no_category & (records <= 1)
        skipped.append(ignored)
        taken = ok & ~ignored
        rows = None if taken.all() else np.flatnonzero(taken)
        if rows is not None:  # (the walk wrote the texts of these lines only, one column each)
            kind, nat, records, no_category = kind[rows], nat[rows], records[rows], no_category[rows]
            m_ok, m_nat = m_ok[rows], m_nat[rows]
            starts, ends, valid = starts[:, :len(rows)], ends[:, :len(rows)], valid[:, :len(rows)]
        has_msg = valid[scan.scan.SLOT_RULE_MSG] | valid[scan.scan.SLOT_DNS_MSG]
        valid[scan.scan.SLOT_RULE_MSG] = False  # (a rule message is read by its words: its text is not copied)
        count = len(kind)
        used = np.flatnonzero(valid.any(axis=1))  # (a slot no line has, the properties of a legacy file: not walked)
        texts = [pa.nulls(count, pa.string())] * len(valid)
        for slot, text in zip(used, scan.gathered(data, starts[used], ends[used], valid[used]), strict=True):
            texts[slot] = text
        line_no = numbers.slice(at, len(chunk))
        line_no = one_array(line_no) if rows is None else one_array(line_no).take(pa.array(rows))
        at += len(chunk)
        dns_msg = texts[scan.scan.SLOT_DNS_MSG]
        records = pa.array(records, pa.uint64(), mask=records < 0)
        columns = [line_no, records, pa.array(np.ones(count, bool)), pa.array(no_category),
                   pa.array(nat), _KIND_NAMES.take(pa.array(kind)), texts[scan.scan.SLOT_TIME],
                   texts[scan.scan.SLOT_RULE_MSG], dns_msg,
                   pa.array(((kind == scan.scan.KIND_RULE_MSG) | (kind == scan.scan.KIND_DNS_MSG)) & ~has_msg),
                   pc.starts_with(dns_msg, "Error:"), *texts[scan.scan.SLOT_FIRST_PROPERTY:],
                   pa.array(m_ok), pa.array(m_nat), *texts[scan.scan.SLOT_PROTO:scan.scan.SLOT_FIRST_PROPERTY]]
        tables.append(pa.Table.from_arrays(columns, names=[*RECORD_COLUMNS, *SCANNED_WORDS]))
    if not oks:
        return pa.concat_tables(tables), np.zeros(0, bool), np.zeros(0, bool)
    return pa.concat_tables(tables), np.concatenate(oks), np.concatenate(skipped)


def _finished_words(connection: duckdb.DuckDBPyConnection, ports: DistinctQuery, records: pa.Table) -> pa.Table:
    """The walk's records with their rule words as rule_words gives them (`m_proto` in lower case, `m_dst_is_ip`,
    `m_port` as a number), in rule_words' order after RECORD_COLUMNS."""
    words = {name: one_array(records.column(name)) for name in SCANNED_WORDS}
    words["m_proto"] = pc.utf8_lower(words["m_proto"])
    words["m_dst_is_ip"] = is_ip_literal(words["m_dst"])
    words["m_port"] = integers(connection, ports, words["m_port"], pa.int32())
    return pa.Table.from_arrays([*records.select(list(RECORD_COLUMNS)).columns, *(words[name] for name in RULE_WORDS)],
                                names=[*RECORD_COLUMNS, *RULE_WORDS])


def _queried(cursor: duckdb.DuckDBPyConnection, ports: DistinctQuery, lines: pa.Table) -> pa.Table:
    """The records of `lines` read by DuckDB (RECORDS_QUERY), as RECORD_COLUMNS, and their rule words (rule_words,
    RULE_WORDS)."""
    cursor.register("lines", lines)
    records = cursor.sql(RECORDS_QUERY).to_arrow_table()
    for name, column in _properties(records.column("p")).items():
        records = records.append_column(name, column)
    words = rule_words(cursor, ports, one_array(records.column("rule_msg")))
    return pa.Table.from_arrays([*records.select(list(RECORD_COLUMNS)).columns, *(words[name] for name in RULE_WORDS)],
                                names=[*RECORD_COLUMNS, *RULE_WORDS])


def new_parser(context: ParseContext) -> BatchParser:
    """RECORDS_QUERY on each batch, the rule messages' words in Arrow, then EVENTS_QUERY over all of it."""
    queries = Queries()
    scan = Scan()

    def parse(lines: pa.Table) -> ParseResult:
        with parse_cursor(context.connection) as cursor:
            records, ok, ignored = _scanned(scan, lines)
            records = _finished_words(cursor, queries.port, records)
            if not ok.all():  # (lines off the walk's JSON: read by DuckDB and Arrow, as before)
                records = pa.concat_tables([records, _queried(cursor, queries.port, lines.filter(pa.array(~ok)))])
            records = records.append_column("arrow_ts", _times(records.column("time_text")))
            for name, column in dns_words(records.column("dns_msg")).items():
                records = records.append_column(name, column)
            for name, column in places(cursor, queries, records).items():
                records = records.append_column(name, column)
            records = records.drop_columns(["rule_msg", "dns_msg"])  # (read: not scanned again by DuckDB)
            cursor.register("records", records)
            result = cursor.sql(EVENTS_QUERY).to_arrow_table()
        numbers = result.column("line_no").to_numpy()
        if len(numbers) > 1 and not (numbers[1:] > numbers[:-1]).all():  # DuckDB may hand rows back out of order
            result = result.take(np.argsort(numbers, kind="stable"))
        for name in ENCODED:  # (the lake writes them encoded: hashed once here, not again by the writer)
            at = result.schema.get_field_index(name)
            result = result.set_column(at, name, pc.dictionary_encode(result.column(name)))
        outcome = split_outcomes(result, lines)
        return dataclasses.replace(outcome, ignored=outcome.ignored + int(np.count_nonzero(ignored)))

    return parse


# A record of the firewall as it starts: a JSON object naming an Azure Firewall category or table.
_CATEGORY = r'"(?:category|Category|Type)"\s*:\s*"(?:AzureFirewall[A-Za-z]*|AZFW[A-Za-z]+)"'
_RECORD = re.compile(r"^\s*\{.*" + _CATEGORY)
_PRETTY_CATEGORY = re.compile(r"^\s*" + _CATEGORY)
_RECORDS_SHARE = line_share(_RECORD)
_PRETTY_START = re.compile(r'^\s*(?:\{|\[|\{\s*"records"\s*:\s*\[)\s*$')


def sniff(lines: Sequence[str]) -> float:
    """The share of lines that are Azure Firewall records; 1 for a storage-account file pretty-printed over many
    lines (its lines are then rejected with the hint to convert it, rather than the file not being recognised)."""
    if lines and _PRETTY_START.match(lines[0]) and any(_PRETTY_CATEGORY.match(line) for line in lines):
        return 1.0
    return _RECORDS_SHARE(lines)


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
