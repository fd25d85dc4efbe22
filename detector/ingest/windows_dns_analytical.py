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
query came in on (`InterfaceIP`; 0.0.0.0 is none). A successful response's message (`PacketData`, in hex) gives
the addresses it answered with (dns_answers: A and AAAA records, dns_packet.py), which name a firewall's
address-only flows.

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

from detector.ingest.arrow_ops import taken
from detector.ingest.base import BatchParser, Format, ParseContext, ParseResult, parse_cursor, split_outcomes
from detector.ingest.distinct_sql import sql_literal
from detector.ingest.dns_fields import DnsQueries, dns_columns
from detector.ingest.dns_packet import answered_addresses
from detector.ingest.json_read import copied_out, unescaped, walked_lines
from detector.ingest.message_tokens import constant

if TYPE_CHECKING:
    from detector.ingest.json_scan import PathTrie

# How many lines may separate a query from its response and still be joined across a batch boundary. The server logs
# both within milliseconds of each other unless an upstream server is slow: 2,048 lines are about a second of a server
# answering 700 lookups a second (a query, a response and often two recursion events each). Half the debug log's 4,096:
# every batch is parsed with this many lines on each side (12 % more work at 32,768 lines a batch, not 25 %), and an
# answer farther away is an event of its own, folded with its query in the per-minute view (docs/dns.md).
PAIR_LINES = 2048
# Lines per batch (Format.batch_lines): events of 400-1,000 bytes. At 60,000 lines (32 MiB, the reader's cap) an
# ingest held ~1.1 GB; at 32,768, 0.75 GB, and it ran no slower (2M lines of Elasticsearch hits, 2026-12-02).
BATCH_LINES = 32_768

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
    "packet": ("winlog.event_data.PacketData", "microsoft_dnsserver.analytical.packet_data", "PacketData"),
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
# they hold, with one parse of each object for all the paths.
DOUBTFUL_SQL = f"""
with checked as (select line_no, line, json_valid(line) and starts_with(ltrim(line), '{{') as is_object from lines)
select line_no, false as is_object from checked where not is_object
union all by name
select line_no, true as is_object, {", ".join(f"v[{at + 1}] as s{at}" for at in range(len(SLOTS)))}
from (select line_no, json_extract_string(line, [{", ".join(sql_literal(_json_path(path)) for path in SLOTS)}]) as v
    from checked where is_object)
"""


def _fields_sql(present: frozenset[int]) -> str:
    """Per field, the SQL of its first value found among the slots present (`s0` ...; a file fills a few)."""
    fields, at = [], 0
    for name, keys in PATHS.items():
        found = [f"nullif(s{at + i + offset}, '')" for offset in (0, len(_PLAIN)) for i in range(len(keys))
                 if at + i + offset in present]
        fields.append(f"coalesce({', '.join(found)}) as {name}" if found else f"null::varchar as {name}")
        at += len(keys)
    return ",\n        ".join(fields)


KIND_QUERY, KIND_RESPONSE = 1, 2


def judged_query(walked: tuple[int, ...], doubted: tuple[int, ...] | None) -> str:
    """Per line, in file order: the lookup's values, its kind (KIND_QUERY; KIND_RESPONSE: an answer or an ignored
    query; else null) and whether it is rejected (with the reason) or another event (ignored). `walked` and `doubted`
    name the slots each table fills; the lines the walk doubted come from `doubted` (their own rows: no copy of every
    column to put them in place), None where it doubted none."""
    present = frozenset(walked) | frozenset(doubted or ())
    texts = "select line_no, true as is_object" + "".join(f", s{at}" for at in walked) + " from walked"
    if doubted is not None:
        texts += (" where walked union all by name select line_no, is_object" + "".join(f", s{at}" for at in doubted)
                  + " from doubted")
    return rf"""
with texts as ({texts}),
fields as (
    select line_no, is_object,
        {_fields_sql(present)}
    from texts
),
read as (
    select line_no, is_object, provider is not null and lower(provider) not like '%dnsserver%' as other_provider,
        clean_host(qname) as host, qname is null as no_name, xid, qtype, rcode, source, destination, packet,
        case when interface not in ('0.0.0.0', '::') then interface end as dst_ip,
        try_cast(event_id as integer) as event_id,
        -- ISO 8601 with its offset (`Z`, `+01:00`, `+0100`) as written, without one in the configured zone; a date
        -- alone is no time
        case when length(time) < 16 then null
             when ends_with(time, 'Z') or substr(time, -6, 1) in ('+', '-') or substr(time, -5, 1) in ('+', '-')
                 then try_cast(time as timestamptz)
             else timezone($tz, try_cast(time as timestamp)) end as ts
    from fields
),
kinds as (
    select *,
        case when event_id = {QUERY_RECEIVED} then {KIND_QUERY}
             when event_id in ({RESPONSE_SUCCESS}, {RESPONSE_FAILURE}, {IGNORED_QUERY}) then {KIND_RESPONSE}
        end::tinyint as kind
    from read
)
select line_no, ts,
    case when event_id in ({QUERY_RECEIVED}, {IGNORED_QUERY}) then source else destination end as src_ip,
    host, dst_ip, qtype as dns_qtype, rcode as dns_rcode, xid, event_id, kind,
    case when event_id = {RESPONSE_SUCCESS} then packet end as packet,
    case when not is_object then {sql_literal(NOT_JSON)}
         when other_provider then null
         when event_id is null then {sql_literal(NO_EVENT_ID)}
         when kind is null then null
         when no_name then {sql_literal(NO_NAME)}
         when ts is null then {sql_literal(NO_TIME)} end as reject_reason,
    is_object and (other_provider or (event_id is not null and kind is null)) as is_ignored
from kinds
order by line_no
"""


def paired_queries(kind: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Per row, the row of its query's response where it is a query that has one, else -1. A response goes to the
    nearest query of its key (client, XID, name) before or after it, ties to the earlier; a query keeps the nearest
    of the responses that chose it. Rows are in file order; rows of kind 0 take no part. One sort by key, not a join
    of every query with every response: a key that repeats (a stub resolver's fixed port and XID) stays linear."""
    rows = len(kind)
    paired = np.full(rows, -1, np.int64)
    taking = np.flatnonzero(kind > 0)
    if not len(taking):
        return paired
    order = taking[np.lexsort((taking, key[taking]))]  # by key, then file order
    sorted_key, is_query = key[order], kind[order] == KIND_QUERY
    count = len(order)
    position = np.arange(count)
    new_key = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
    last_of_key = np.r_[sorted_key[1:] != sorted_key[:-1], True]
    key_start = np.maximum.accumulate(np.where(new_key, position, 0))
    key_end = np.minimum.accumulate(np.where(last_of_key, position, count)[::-1])[::-1]
    # the nearest query at or before each position, and at or after it, within its key
    before = np.maximum.accumulate(np.where(is_query, position, -1))
    before = np.where(before >= key_start, before, -1)
    after = np.minimum.accumulate(np.where(is_query, position, count)[::-1])[::-1]
    after = np.where(after <= key_end, after, -1)
    responses = np.flatnonzero(~is_query)
    gap_before = np.where(before[responses] >= 0, order[responses] - order[before[responses]], rows + 1)
    gap_after = np.where(after[responses] >= 0, order[after[responses]] - order[responses], rows + 1)
    chosen = np.where(gap_before <= gap_after, before[responses], after[responses])
    found = chosen >= 0
    query_rows, response_rows = order[chosen[found]], order[responses[found]]
    best = np.lexsort((response_rows, np.abs(response_rows - query_rows), query_rows))
    query_rows, response_rows = query_rows[best], response_rows[best]
    first = np.r_[True, query_rows[1:] != query_rows[:-1]] if len(best) else np.empty(0, bool)
    paired[query_rows[first]] = response_rows[first]
    return paired


def new_parser(context: ParseContext) -> BatchParser:
    dns = DnsQueries()
    queries: dict[tuple[tuple[int, ...], tuple[int, ...] | None], str] = {}

    def parse(lines: pa.Table) -> ParseResult:
        with parse_cursor(context.connection) as cursor:
            walked, doubted = _slot_values(cursor, lines)
            layout = (_slots_of(walked), None if doubted is None else _slots_of(doubted))
            if layout not in queries:
                queries[layout] = judged_query(*layout)
            cursor.register("walked", walked)
            if doubted is not None:
                cursor.register("doubted", doubted)
            read = _joined(cursor.sql(queries[layout], params={"tz": context.timezone}).to_arrow_table())
            named = dns_columns(cursor, dns, {"dns_qtype": read.column("dns_qtype").combine_chunks(),
                                              "dns_rcode": read.column("dns_rcode").combine_chunks()})
        rcode = named["dns_rcode"]
        refused = pc.fill_null(pc.equal(rcode, "REFUSED"), False).to_numpy(zero_copy_only=False)
        action = np.where(refused, BLOCKED, np.where(read.column("answered").to_numpy(), ALLOWED, UNKNOWN))
        rows = read.num_rows
        read = (read.set_column(read.schema.get_field_index("dns_qtype"), "dns_qtype", named["dns_qtype"])
                .set_column(read.schema.get_field_index("dns_rcode"), "dns_rcode", rcode)
                .drop_columns(["answered"])
                .append_column("action", pa.DictionaryArray.from_arrays(pa.array(action.astype(np.int32)), ACTIONS))
                .append_column("host_source", constant("dns_query", rows))
                .append_column("network_protocol", constant("dns", rows)))
        return split_outcomes(read, lines)

    return parse


ACTIONS = pa.array(["allowed", "blocked", "unknown"])
ALLOWED, BLOCKED, UNKNOWN = range(3)


def _joined(read: pa.Table) -> pa.Table:
    """The lines with each query joined to its response (paired_queries): the query takes the response's code and
    whether it was answered (RESPONSE_SUCCESS, RESPONSE_FAILURE); the response is then ignored."""
    rows = read.num_rows
    ignored = pc.fill_null(read.column("is_ignored"), False).to_numpy(zero_copy_only=False)
    lookup = pc.is_null(read.column("reject_reason")).to_numpy(zero_copy_only=False) & ~ignored
    kind = np.where(lookup, pc.fill_null(read.column("kind"), 0).to_numpy(zero_copy_only=False), 0).astype(np.int8)
    keys = pc.binary_join_element_wise(*(pc.fill_null(read.column(name), "") for name in ("src_ip", "xid", "host")),
                                       "\x00")
    key = pc.dictionary_encode(keys).combine_chunks().indices.to_numpy()
    paired = paired_queries(kind, key)
    event_id = pc.fill_null(read.column("event_id"), 0).to_numpy(zero_copy_only=False)
    answers = np.isin(event_id, (RESPONSE_SUCCESS, RESPONSE_FAILURE))
    is_query = kind == KIND_QUERY
    answered = np.where(is_query, (paired >= 0) & answers[np.maximum(paired, 0)], answers)
    take = np.where(is_query, paired, np.arange(rows))
    taking = pa.array(take, mask=take < 0)
    rcode = read.column("dns_rcode").combine_chunks().take(taking)
    answers = answered_addresses(read.column("packet")).take(taking)
    ignored[paired[paired >= 0]] = True
    return (read.set_column(read.schema.get_field_index("dns_rcode"), "dns_rcode", rcode)
            .set_column(read.schema.get_field_index("is_ignored"), "is_ignored", pa.array(ignored))
            .drop_columns(["xid", "event_id", "kind", "packet"]).append_column("answered", pa.array(answered))
            .append_column("dns_answers", answers))


def _slots_of(table: pa.Table) -> tuple[int, ...]:
    return tuple(int(name[1:]) for name in table.column_names if re.fullmatch(r"s\d+", name))


def _slot_values(cursor: duckdb.DuckDBPyConnection, lines: pa.Table) -> tuple[pa.Table, pa.Table | None]:
    """The text of each slot the lines fill (`s0` ...), read by the compiled walk (json_scan, its values copied out
    as Zeek's are: zeek_json): `line_no`, `walked` (false where the walk doubted the line, whose values it left null)
    and the slots; and the lines it doubted, read by DOUBTFUL_SQL (`line_no`, `is_object` and the slots they fill),
    or None."""
    from detector.ingest.json_scan import PathTrie  # (Numba only once such a file is read: see compiled.py)

    global _TRIE
    if _TRIE is None:
        _TRIE = PathTrie(SLOTS, compact=True)  # (an object where a value is read: the line is doubtful)
    text = lines.column("line")
    rows = lines.num_rows
    # walked WALK_LINES of a chunk at a time (no copy of the lines into one array: a window of a batch and its
    # context lines is three chunks); the walk's (lines x paths) positions stay small
    parts: dict[int, list[tuple[int, pa.Array]]] = {}
    doubtful_parts = []
    chunk_row = 0
    for chunk in text.chunks:
        for start in range(0, len(chunk), WALK_LINES):
            data, begin, end, missing, doubtful_mask = walked_lines(chunk.slice(start, WALK_LINES), _TRIE)
            found = np.flatnonzero(~missing.all(axis=0))  # (a file fills a few of the paths)
            for at, value in copied_out(data, begin, end, missing, found).items():
                parts.setdefault(at, []).append((chunk_row + start, value))
            doubtful_parts.append(np.flatnonzero(doubtful_mask) + chunk_row + start)
        chunk_row += len(chunk)
    filled = {at: _plain(unescaped(_rows_of(rows, values))) for at, values in parts.items()}
    doubtful = np.concatenate(doubtful_parts) if doubtful_parts else np.empty(0, np.int64)
    walked_mask = np.ones(rows, bool)
    walked_mask[doubtful] = False
    walked = pa.table({"line_no": lines.column("line_no"), "walked": pa.array(walked_mask),
                       **{f"s{at}": value for at, value in filled.items()}})
    if not len(doubtful):
        return walked, None
    cursor.register("lines", pa.table({"line_no": taken(lines.column("line_no"), doubtful),
                                       "line": taken(text, doubtful)}))
    read = cursor.sql(DOUBTFUL_SQL).to_arrow_table()  # (a broken line costs no reading of the paths)
    kept = [f"s{at}" for at in range(len(SLOTS)) if read.column(f"s{at}").null_count < len(doubtful)]
    return walked, read.select(["line_no", "is_object", *kept])


def _plain(values: pa.Array) -> pa.Array:
    """Plain text (unescaped() gives a dictionary where it read escapes): DuckDB reads it faster than Arrow's
    dictionaries, and decoding costs Arrow little."""
    return values.dictionary_decode() if isinstance(values, pa.DictionaryArray) else values


# Lines walked at a time: the walk's positions are 16 bytes per line and path (82 paths: 21 MB for 16,384 lines).
WALK_LINES = 16_384


def _rows_of(rows: int, parts: list[tuple[int, pa.Array]]) -> pa.Array:
    """One column of `rows` texts from slices' values (each at its first row), null where no slice gave one."""
    pieces, at = [], 0
    for first_row, values in parts:
        if first_row > at:
            pieces.append(pa.nulls(first_row - at, pa.string()))
        pieces.append(values)
        at = first_row + len(values)
    if at < rows:
        pieces.append(pa.nulls(rows - at, pa.string()))
    return pa.concat_arrays(pieces)


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
    fields=("ts", "src_ip", "host", "host_source", "network_protocol", "dst_ip", "dns_qtype", "dns_rcode",
            "dns_answers", "action"),
    context_lines=PAIR_LINES,
    independent_batches=True,
    batch_lines=BATCH_LINES,
)
