"""Microsoft Defender for Endpoint network events from the streaming API (Event Hubs or a Storage account).

Defender's streaming API ("Stream Microsoft Defender for Endpoint events", Microsoft's documentation) writes each
advanced hunting row as a record `{"time": ..., "tenantId": ..., "category": "AdvancedHunting-<table>",
"properties": {<the row's columns>}}`: a Storage account's blobs hold one record per line (Azure writes CRLF);
an Event Hubs message holds `{"records": [record, ...]}`. Events are the records of the DeviceNetworkEvents table
(columns as in its advanced hunting schema reference), and the network protection records of DeviceEvents
(`ExploitGuardNetworkProtectionBlocked` / `...Audited`, which carry the blocked URL in RemoteUrl). Other
categories and DeviceEvents' other action types are valid records of no traffic: ignored; so are
ListeningConnectionCreated records (a port opened for listening: no connection to anywhere).

Fields: properties.Timestamp (when the event happened; the envelope's `time` is when Defender received it, not
read), RemoteUrl (a URL or a bare host name: host, its path and scheme where it is a URL), RemoteIP, RemotePort,
LocalIP (the device's address: src_ip), DeviceName (src_host), the initiating process's account UPN, or its
name where the UPN is empty (local and system accounts), and ActionType (DEFENDER_ACTION_MACRO). Protocol is the
transport (Tcp, Udp) and no application protocol; Defender logs no bytes.

One line holding an Event Hubs message of one record is read as that record. A message of several records on
one line is rejected, naming the fix (`jq -c '.records[]'`): a line gives at most one event here (its line
number is the event's lineage).

How a batch is read: one DuckDB query; each line parsed once (`json_extract_string` with the list of paths), the
RemoteUrl values taken apart (scheme, host, port, path) once per distinct value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pyarrow as pa

from detector.ingest.base import (
    QUERY_ERRORS,
    BatchParser,
    Format,
    ParseContext,
    ParseResult,
    attach_lines,
    run_parse_query,
)

CATEGORY = "AdvancedHunting-DeviceNetworkEvents"
NETWORK_PROTECTION = "AdvancedHunting-DeviceEvents"

# Defender for Endpoint's ActionType (DeviceNetworkEvents; DeviceEvents' network protection): a connection made,
# found open, acknowledged or accepted went through; one Defender's network protection blocked was blocked (in
# audit mode it was let through). A request, an attempt or a failure says nothing Defender decided: unknown.
# (Also used by the generic CSV format for advanced hunting and Sentinel exports.)
DEFENDER_ACTION_MACRO = """
create or replace macro defender_action(a) as case
    when lower(a) in ('connectionsuccess', 'connectionfound', 'connectionacknowledged', 'inboundconnectionaccepted',
                      'exploitguardnetworkprotectionaudited') then 'allowed'
    when lower(a) = 'exploitguardnetworkprotectionblocked' then 'blocked'
end;
"""

PATHS = ("category", "properties.Timestamp", "properties.ActionType", "properties.RemoteUrl", "properties.RemoteIP",
         "properties.RemotePort", "properties.LocalIP", "properties.DeviceName",
         "properties.InitiatingProcessAccountUpn", "properties.InitiatingProcessAccountName")
_PATH_LIST = "[" + ", ".join(f"'$.{path}'" for path in PATHS) + "]"

QUERY = f"""
with src as (
    select line_no, line,
        case when starts_with(ltrim(line), '{{') and contains(line, '"records"')
             then try(json_extract(line, '$.records')) end as recs
    from lines
),
rec as (
    select line_no, recs,
        case when recs is null then line
             when json_array_length(recs) = 1 then json_extract(recs, '$[0]')::varchar end as record
    from src
),
j as (
    select line_no, recs, record,
        case when record is not null then try(json_extract_string(record, {_PATH_LIST})) end as v
    from rec
),
f as (
    select line_no, recs, record, v is not null as parsed,
        v[1] as category, v[2] as time_text, v[3] as action_type, null_if_dash(v[4]) as remote_url,
        null_if_dash(v[5]) as remote_ip, v[6] as remote_port, null_if_dash(v[7]) as local_ip,
        null_if_dash(v[8]) as device_name, null_if_dash(v[9]) as upn, null_if_dash(v[10]) as account
    from j
),
urls as (
    select remote_url, url_scheme(remote_url) as scheme, url_rest(remote_url) as rest
    from (select distinct remote_url from f where remote_url is not null)
),
urls2 as (
    select remote_url, scheme, rest,
        authority_hostport(coalesce(rest_authority(rest), regexp_extract(remote_url, '^[^/?#]*'))) as hostport
    from urls
),
places as (
    select remote_url, scheme, hostport_host(hostport) as host, hostport_port(hostport) as url_port,
        case when rest is not null then rest_path(rest) end as url_path
    from urls2
)
select
    f.line_no,
    try_cast(f.time_text as timestamptz) as ts,
    f.local_ip as src_ip,
    f.device_name as src_host,
    coalesce(f.upn, f.account) as user_name,
    p.host,
    case when p.host is not null then 'url' else 'none' end as host_source,
    f.remote_ip as dst_ip,
    coalesce(try_cast(f.remote_port as integer), p.url_port) as dst_port,
    p.scheme as network_protocol,
    p.url_path,
    coalesce(defender_action(f.action_type), 'unknown') as action,
    case
        when f.record is null and f.recs is not null then
            'an Event Hubs message of ' || coalesce(json_array_length(f.recs)::varchar, 'no') || ' records on one '
            || 'line: one event per line is read; write one record per line (jq -c ''.records[]'')'
        when not f.parsed then 'not a JSON object'
        when f.category is null then 'not a Defender streaming API record (no "category")'
        when f.category not in ('{CATEGORY}', '{NETWORK_PROTECTION}') then null
        when f.time_text is null then 'no properties.Timestamp'
        when try_cast(f.time_text as timestamptz) is null then 'time not understood: ' || f.time_text
    end as reject_reason,
    coalesce(f.parsed and f.category is not null and (
        f.category not in ('{CATEGORY}', '{NETWORK_PROTECTION}')
        or (f.category = '{NETWORK_PROTECTION}' and not starts_with(lower(coalesce(f.action_type, '')),
                                                                    'exploitguardnetworkprotection'))
        or lower(f.action_type) = 'listeningconnectioncreated'), false) as is_ignored
from f left join places p on f.remote_url = p.remote_url
order by f.line_no
"""


def new_parser(context: ParseContext) -> BatchParser:
    context.connection.execute(DEFENDER_ACTION_MACRO)

    def parse(lines: pa.Table) -> ParseResult:
        try:
            return run_parse_query(context, QUERY, lines)
        except QUERY_ERRORS:  # a line DuckDB's JSON reader fails on whatever `try` says: read one by one
            return _line_by_line(context, lines)

    return parse


def _line_by_line(context: ParseContext, lines: pa.Table) -> ParseResult:
    """The batch a line at a time; a line the query still fails on is rejected as no JSON object."""
    results = []
    for row in range(lines.num_rows):
        one = lines.slice(row, 1)
        try:
            results.append(run_parse_query(context, QUERY, one))
        except QUERY_ERRORS:
            results.append(ParseResult(pa.table({"line_no": pa.array([], pa.int64())}),
                                       attach_lines(one.column("line_no"), pa.array(["not a JSON object"]), one)))
    with_events = [r.events for r in results if "ts" in r.events.column_names]
    events = pa.concat_tables(with_events) if with_events else results[0].events
    return ParseResult(events, pa.concat_tables([r.rejects for r in results]), sum(r.ignored for r in results))


# A record of the streaming API as it starts: `{"time": ..., "category": "AdvancedHunting-...", ...}` or an Event
# Hubs message `{"records": [...]}` (keys in any order; spaced or not).
_RECORD = re.compile(r'^\s*\{.*"category"\s*:\s*"AdvancedHunting-Device[A-Za-z]*".*"properties"\s*:\s*\{'
                     r'|^\s*\{.*"properties"\s*:\s*\{.*"category"\s*:\s*"AdvancedHunting-Device[A-Za-z]*"')


def sniff(lines: Sequence[str]) -> float:
    """The share of lines that are streaming API records (or messages of them) of a Defender device table."""
    if not lines:
        return 0.0
    return sum(1 for line in lines if _RECORD.match(line)) / len(lines)


NETWORK = Format(
    name="defender_network",
    source_kind="sensor",
    summary="Microsoft Defender for Endpoint DeviceNetworkEvents (and network protection blocks) from the streaming "
            "API: Storage account JSON lines, or Event Hubs records one per line",
    sniff=sniff,
    new_parser=new_parser,
    fields=("ts", "src_ip", "src_host", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
            "url_path", "action"),
    independent_batches=True,
)
