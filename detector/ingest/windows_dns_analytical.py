"""Windows Server DNS analytical events (ETW provider Microsoft-Windows-DNSServer, channel Analytical) as JSON lines.

Microsoft recommends the analytical channel over the debug log (windows_dns.py) on busy servers: it costs little and
names every lookup. It is an ETW session, not a file, so it reaches a SIEM through a collector, which writes each event
as one JSON object:
- Elastic Agent (`microsoft_dnsserver` integration) and Filebeat's `etw` input: the event's values under
  `winlog.event_data` (`QNAME`, `Source`, ...), its ID in `winlog.event_id` or `event.code`, the time in
  `@timestamp`; after Elastic's ingest pipeline, as Elasticsearch exports it, the same values renamed under
  `microsoft_dnsserver.analytical` (`question_name`, `source.ip`, `destination.ip`, `xid`, `question_type`,
  `response_code`), also inside an Elasticsearch hit's `_source`;
- NXLog's im_etw: the values at the top level beside `EventID`, `SourceName` and `EventTime` (with or without its
  offset; without, the configured zone's time).
The provider's event IDs (its manifest; Elastic's pipeline names them alike): 256 QUERY_RECEIVED (the client in
`Source`, its `Port`, the query's `XID`, `QNAME`, `QTYPE`), 257 RESPONSE_SUCCESS and 258 RESPONSE_FAILURE (the client
in `Destination`, `RCODE`), 259 IGNORED_QUERY (the client in `Source`, a `Reason`). Those are the client's lookups;
every other ID is the server's own work (260-262 recursion to forwarders, whose `Source`/`Destination` is the
upstream server, not a client; dynamic updates, zone transfers, notifies, internal lookups) or the audit channel's
(zone and record changes), and is ignored, as are events of other providers in the same export.

One event per lookup, as for the debug log: a response (or ignored-query event) is joined to the query with the same
client, XID and name nearest to it in the file (before or after it: ETW does not keep threads' events in order)
and is then counted as ignored, so that the query carries the response code; a response without such a query (query
events not collected, or more than PAIR_LINES lines away) is an event itself. Action: `blocked` when the server
answered REFUSED (what a DNS policy's DENY gives), `allowed` for another answer, `unknown` for a query without one
(or one the server ignored: the event says why, not whether a policy did it). `dst_ip` is the server's address the
query came in on (`InterfaceIP`; 0.0.0.0 is none). The response's raw packet (`PacketData`) is not decoded: no
answers are read.

Rejected: a line that is not a JSON object, an event without an ID, and a lookup event without its name or time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import one_array
from detector.ingest.base import BatchParser, Format, ParseContext, ParseResult, parse_cursor, split_outcomes
from detector.ingest.distinct_sql import sql_literal
from detector.ingest.json_read import read_values
from detector.ingest.proxy_columns import placed

if TYPE_CHECKING:
    from detector.ingest.json_scan import PathTrie
from detector.ingest.dns_fields import DnsQueries, dns_columns

# How many lines may separate a query from its response and still be joined across a batch boundary.
PAIR_LINES = 4096

QUERY_RECEIVED, RESPONSE_SUCCESS, RESPONSE_FAILURE, IGNORED_QUERY = 256, 257, 258, 259

# Where each value may be, first found wins: Elastic Agent/Filebeat as collected, then as Elastic's pipeline renamed
# it, then NXLog's top-level keys, then ECS (processed events also carry `dns.*`, `source.*` and `destination.*`).
PATHS: dict[str, tuple[str, ...]] = {
    "event_id": ("winlog.event_id", "event.code", "EventID", "EventId"),
    "provider": ("winlog.provider_name", "event.provider", "SourceName", "ProviderName"),
    "time": ("@timestamp", "EventTime", "TimeCreated"),
    "qname": ("winlog.event_data.QNAME", "microsoft_dnsserver.analytical.question_name", "QNAME",
              "dns.question.name"),
    "source": ("winlog.event_data.Source", "microsoft_dnsserver.analytical.source.ip", "Source", "source.ip"),
    "destination": ("winlog.event_data.Destination", "microsoft_dnsserver.analytical.destination.ip", "Destination",
                    "destination.ip"),
    "xid": ("winlog.event_data.XID", "microsoft_dnsserver.analytical.xid", "XID", "dns.id"),
    "qtype": ("winlog.event_data.QTYPE", "microsoft_dnsserver.analytical.question_type", "QTYPE",
              "dns.question.type"),
    "rcode": ("winlog.event_data.RCODE", "microsoft_dnsserver.analytical.response_code", "RCODE",
              "dns.response_code"),
    "interface": ("winlog.event_data.InterfaceIP", "microsoft_dnsserver.analytical.interface_ip", "InterfaceIP"),
}

NOT_JSON = "not a JSON object (one event per line; a JSON array or a pretty-printed file: jq -c '.[]' FILE)"
NO_EVENT_ID = "no event ID (winlog.event_id, event.code or EventID): not a Windows DNS Server event"
NO_NAME = "DNS Server lookup event without its query name (QNAME)"
NO_TIME = "DNS Server lookup event without a time read (@timestamp or EventTime, ISO 8601)"


# The walk's key paths: PATHS' in their order, then each inside an Elasticsearch hit's `_source`.
_PLAIN = [tuple(path.split(".")) for keys in PATHS.values() for path in keys]
SLOTS = [*_PLAIN, *(("_source", *path) for path in _PLAIN)]


def _json_path(path: tuple[str, ...]) -> str:
    return "$." + ".".join(key if re.fullmatch(r"\w+", key) else f'"{key}"' for key in path)


# The lines the compiled walk doubts (json_read: escaped keys, repeated keys, broken JSON ...): DuckDB decides what
# they hold, with one parse of each for all the paths.
DOUBTFUL_SQL = f"""
select is_object, {", ".join(f"v[{at + 1}] as s{at}" for at in range(len(SLOTS)))}
from (select is_object, json_extract_string(case when is_object then line end,
        [{", ".join(sql_literal(_json_path(path)) for path in SLOTS)}]) as v
    from (select line, json_valid(line) and starts_with(ltrim(line), '{{') as is_object from lines))
"""


def _fields_sql() -> str:
    """Per field, the SQL of its first value found among the slots (`s0` ...)."""
    fields, at = [], 0
    for name, keys in PATHS.items():
        found = ", ".join(f"nullif(trim(s{at + i + offset}), '')" for offset in (0, len(_PLAIN))
                          for i in range(len(keys)))
        fields.append(f"coalesce({found}) as {name}")
        at += len(keys)
    return ",\n        ".join(fields)


QUERY = rf"""
with fields as (
    select line_no, is_object,
        {_fields_sql()}
    from texts
),
read as (
    select line_no, is_object, provider, qname, xid, qtype, rcode, interface,
        try_cast(event_id as integer) as event_id,
        case when try_cast(event_id as integer) in ({QUERY_RECEIVED}, {IGNORED_QUERY}) then source
             else destination end as client,
        case when try_cast(event_id as integer) = {QUERY_RECEIVED} then 'query'
             when try_cast(event_id as integer) in ({RESPONSE_SUCCESS}, {RESPONSE_FAILURE}, {IGNORED_QUERY})
                 then 'response' end as kind,
        -- ISO 8601 with its offset (`Z`, `+01:00`, `+0100`) as written, without one in the configured zone; a date
        -- alone is no time
        case when length(time) < 16 then null
             when ends_with(time, 'Z') or substr(time, -6, 1) in ('+', '-') or substr(time, -5, 1) in ('+', '-')
                 then try_cast(time as timestamptz)
             else timezone($tz, try_cast(time as timestamp)) end as ts
    from fields
),
judged as (
    select *,
        case when not is_object then {sql_literal(NOT_JSON)}
             when provider is not null and lower(provider) not like '%dnsserver%' then null
             when event_id is null then {sql_literal(NO_EVENT_ID)}
             when kind is null then null
             when qname is null then {sql_literal(NO_NAME)}
             when ts is null then {sql_literal(NO_TIME)} end as reject_reason,
        is_object and ((provider is not null and lower(provider) not like '%dnsserver%')
                       or (event_id is not null and kind is null)) as is_other
    from read
),
lookups as (
    select line_no, kind, event_id, client, xid, lower(qname) as qname, rcode
    from judged where reject_reason is null and not is_other
),
-- A response's nearest query of the same client, XID and name on either side: window functions over the lines of
-- each key in file order (a sort, not a join of every query with every response: a key that repeats, say a stub
-- resolver's fixed port and XID, stays linear).
neighbours as (
    select line_no, kind, event_id, rcode,
        max(case when kind = 'query' then line_no end) over (partition by client, xid, qname order by line_no
            rows between unbounded preceding and 1 preceding) as query_before,
        min(case when kind = 'query' then line_no end) over (partition by client, xid, qname order by line_no
            rows between 1 following and unbounded following) as query_after
    from lookups
),
chosen as (
    select line_no as response_no, event_id as response_id, rcode,
        case when query_after is null or line_no - query_before <= query_after - line_no then query_before
             else query_after end as query_no
    from neighbours where kind = 'response'
),
pairs as (
    select * from chosen where query_no is not null
    qualify row_number() over (partition by query_no order by abs(response_no - query_no), response_no) = 1
)
select j.line_no, j.ts, j.client as src_ip, clean_host(j.qname) as host,
    'dns_query' as host_source, 'dns' as network_protocol,
    case when j.interface not in ('0.0.0.0', '::') then j.interface end as dst_ip,
    j.qtype as dns_qtype,
    case when j.kind = 'query' then p.rcode else j.rcode end as dns_rcode,
    case when j.kind = 'query' then coalesce(p.response_id in ({RESPONSE_SUCCESS}, {RESPONSE_FAILURE}), false)
         else j.event_id in ({RESPONSE_SUCCESS}, {RESPONSE_FAILURE}) end as answered,
    j.reject_reason,
    j.is_other or (j.kind = 'response' and j.line_no in (select response_no from pairs)) as is_ignored
from judged j left join pairs p on p.query_no = j.line_no
order by j.line_no
"""


def new_parser(context: ParseContext) -> BatchParser:
    dns = DnsQueries()

    def parse(lines: pa.Table) -> ParseResult:
        with parse_cursor(context.connection) as cursor:
            cursor.register("texts", _slot_values(cursor, lines))
            read = cursor.sql(QUERY, params={"tz": context.timezone}).to_arrow_table()
            named = dns_columns(cursor, dns, {"dns_qtype": read.column("dns_qtype").combine_chunks(),
                                              "dns_rcode": read.column("dns_rcode").combine_chunks()})
        rcode = named["dns_rcode"]
        refused = pc.fill_null(pc.equal(rcode, "REFUSED"), False).to_numpy(zero_copy_only=False)
        answered = pc.fill_null(read.column("answered"), False).to_numpy(zero_copy_only=False)
        action = np.where(refused, "blocked", np.where(answered, "allowed", "unknown"))
        read = (read.set_column(read.schema.get_field_index("dns_qtype"), "dns_qtype", named["dns_qtype"])
                .set_column(read.schema.get_field_index("dns_rcode"), "dns_rcode", rcode)
                .drop_columns(["answered"]).append_column("action", pa.array(action, pa.string())))
        return split_outcomes(read, lines)

    return parse


def _slot_values(cursor: duckdb.DuckDBPyConnection, lines: pa.Table) -> pa.Table:
    """`line_no`, `is_object` and each slot's text (`s0` ...) of the lines: read by the compiled walk (json_read, as the
    format `json` reads its lines), the lines it doubts by DOUBTFUL_SQL."""
    from detector.ingest.json_scan import PathTrie  # (Numba only once such a file is read: see compiled.py)

    global _TRIE
    if _TRIE is None:
        _TRIE = PathTrie(SLOTS)
    text = lines.column("line")
    values, doubtful = read_values(text, _TRIE)
    rows = lines.num_rows
    is_object = np.ones(rows, bool)
    if len(doubtful):
        cursor.register("lines", pa.table({"line": one_array(text).take(pa.array(doubtful))}))
        read = cursor.sql(DOUBTFUL_SQL).to_arrow_table()
        kept = np.ones(rows, bool)
        kept[doubtful] = False
        kept_rows, mask = np.flatnonzero(kept), pa.array(kept)
        values = [placed(rows, [(kept_rows, value.filter(mask)), (doubtful, one_array(read.column(f"s{at}")))])
                  for at, value in enumerate(values)]
        is_object[doubtful] = pc.fill_null(read.column("is_object"), False).to_numpy(zero_copy_only=False)
    return pa.table({"line_no": lines.column("line_no"), "is_object": is_object,
                     **{f"s{at}": value for at, value in enumerate(values)}})


_TRIE: PathTrie | None = None

_EVENT = re.compile(r'^\s*\{.*(?:"QNAME"|"question_name"|Microsoft-Windows-DNSServer|"microsoft_dnsserver)')


def sniff(lines: Sequence[str]) -> float:
    """The share of lines that are JSON objects of the DNS Server provider (its name, or its events' QNAME)."""
    content = [line for line in lines if line.strip()]
    return sum(1 for line in content if _EVENT.match(line)) / len(content) if content else 0.0


ANALYTICAL = Format(
    name="windows_dns_analytical",
    source_kind="dns",
    summary="Windows Server DNS analytical events (ETW Microsoft-Windows-DNSServer/Analytical) as JSON lines from "
            "Elastic Agent, Filebeat or NXLog: queries joined with their responses",
    sniff=sniff,
    new_parser=new_parser,
    fields=("ts", "src_ip", "host", "host_source", "network_protocol", "dst_ip", "dns_qtype", "dns_rcode", "action"),
    context_lines=PAIR_LINES,
    independent_batches=True,
)
