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
transport (Tcp, Udp) and no application protocol; Defender logs no bytes. An InboundConnectionAccepted record (the
device is the server) is read as an inspected connection of direction In (below): the remote end is src_ip.

Network inspection records (Defender's Zeek-based inspection of the device's traffic, a Zeek record in
AdditionalFields: see defender_inspection) name the host the other rows lack. DnsConnectionInspected records are DNS
events: host is the queried name (host_source dns_query), with dns_qtype, dns_rcode and dns_answers, network_protocol
`dns`. HttpConnectionInspected records are HTTP requests: host from the Host header (host_source http_host; its port
dropped, RemotePort stays dst_port), else from a request target that is a whole URL (url); url_path, http_method,
user_agent, http_status, and the request and response body sizes as bytes_out and bytes_in; network_protocol `http`.
SslConnectionInspected records are TLS connections named by their SNI (host_source sni), network_protocol `tls`. A
record without the key keeps RemoteUrl's host, if any. They name no process or account (Microsoft: the Zeek-based
action types do not carry them), so user_name is mostly empty. A record of a connection the device was asked
(direction In: it is the server) has the remote end as src_ip, LocalPort as dst_port and no src_host or user. They are
read from AdditionalFields' text, in the main query itself, by one more parse of that text on those rows only, for
their kind's keys only (inspection.kind_keys_sql). It was a second parse of the whole line and three of
AdditionalFields (262k DNS or HTTP/TLS inspection lines, DuckDB on one thread, busy machine: ~1.9-2.3 s CPU ->
~1.25-1.4 s), then a second query over the text the first gave to Arrow (~316k DNS lines: 1.23 -> 1.11 s; ~335k
HTTP/TLS lines: 1.41 -> 1.29 s).

A file whose first line is an Event Hubs message reaches this parser a record a line (json_document). Elsewhere,
one line holding a message of one record is read as that record, and a message of several records on one line is
rejected, naming the fix (`jq -c '.records[]'`): a line gives at most one event here (its line
number is the event's lineage).

How a batch is read: the records' lines by json_scan's compiled walk (defender_walk: one pass over each line, a second
over an inspection record's AdditionalFields once its escapes are read; the values numbered by their texts or copied
out), the lines it doubts by the query below, which decides what they hold (after a batch where it doubted most lines,
the walk is not tried again for the file); Numba loads with the first batch of records, so that a file of Event Hubs
messages, read by the query alone, never loads it. The query: one DuckDB query parses each line once
(`json_extract_string` with the list of paths, and the time cast); the rest in Arrow, per distinct value where it is SQL
(RemoteUrl's scheme, host, port and path, the action, the port). Lines that start as an Event Hubs message
(`{"records"`: a prefix test, where a substring search of every line cost a third of the parse) are read in a query over
those lines only, which also reads the second record's path: the records are counted (`json_array_length`, a second
parse of the line: a third of that query's cost) only where that leaves a doubt (_record_counts; a parse of 356k lines
of messages: ~1.29 -> ~0.82 s CPU). Measured (262k lines of ~700 bytes, CPU): the query ~0.45 s, the rest ~0.2 s; where
lines that are no JSON are common (one in nine), `try` makes DuckDB redo each chunk row by row: ~1.2 s.

Where the CPU goes (30 Nov 2026, 1M lines built by benchmarks/ingest.py from each sample, `--per-sample`): the JSON
query is ~3/4 of the parse (yyjson's parse of the line and of AdditionalFields ~30% of it, the paths' values, their
copies and Arrow conversion most of the rest), the parse ~2/3 of the ingest, reading the file into lines ~1/8. Whole
ingest, user+sys CPU, interleaved with commit 896755e (before the Event Hubs, AdditionalFields, chunk and per-distinct
changes), load 2-5: DNS inspection 7.5 -> 6.2-6.4 s, HTTP/TLS inspection 7.0-7.6 -> 6.1-6.2, Event Hubs messages
5.4-6.2 -> 4.6-4.8, Storage records 4.3-4.8 -> 4.3-4.6. The benchmark after the table code (dbb66b5, load ~2.5;
`python benchmarks/ingest.py --lines 1000 --formats defender_network --format-lines 1000000 --no-regex
--per-sample`), DNS/Event Hubs/HTTP-TLS/Storage: 5.4/4.3/6.0/4.1 s CPU against the generic DuckDB split's
1.7/2.5/1.8/1.6; throughput by wall time 0.37/0.68/0.44/0.41 of the baseline's. The inspection and Storage records
stay short of half: the query that parses the JSON alone costs about the baseline's whole split.

Measured and left (30 Nov 2026, fourteenth session; parse CPU of 8 benchmark batches, 335k HTTP/TLS inspection lines,
DuckDB on one thread, best of 2, load 9-19): a compiled scan (Numba) of each line's bytes instead of the JSON query, a
strict reader of compact JSON that leaves every line it cannot read as yyjson would to the query, AdditionalFields'
escaped text read where it stands (`\\"` as its quote mark) without unescaping it first. The scan alone costs ~0.42
s where the query cost ~0.75-0.9; but cutting its ~25 values out as strings (gather_scan ~0.2 s), the SQL still needed
(time cast, table code, the kind's keys ~0.18 s) and the rest (~0.2 s) brought the parse back to the query's (1.12-1.28
s against 1.11-1.21), before Numba's import (~0.4 s a process) and its first compile (~10-18 s). Worth redoing only
with the values handed over as dictionary codes and integers (texts_scan.DistinctTexts), no strings cut out; in the
scan, looking the keys up and writing their places cost half of it (0.12 s without). Also measured: one DuckDB thread
for the parse instead of two, whole ingest of 1M HTTP/TLS lines 5.8-6.2 s CPU either way. Benchmark (1M lines, load
~11, CPU shadow-ai/generic): DNS 5.37/2.01 (0.38), Event Hubs 3.90/2.68 (0.69), HTTP/TLS 5.70/1.82 (0.32), Storage
4.23/1.74 (0.41): the inspection and Storage records still miss the 0.5 floor.

The walk measured (30 Nov 2026, fifteenth session, load ~1-2; per-thread CPU of whole ingests of the benchmark's 1M-line
files, HEAD before and after interleaved, 3 runs each): DNS inspection 5.95-6.09 -> 5.40-5.55 s, HTTP/TLS inspection
6.00-6.34 -> 4.87-4.97, Storage records 4.44-4.70 -> 3.37-3.60, Event Hubs messages 4.49-4.60 -> 4.47-4.59 (not walked).
The parse threads and DuckDB's together: DNS 3.7 -> 3.4 s, HTTP/TLS 3.9 -> 3.0; the reader ~1.0 -> ~0.7 (its compiled
line cutting, now that the format loads Numba). Of a parse of 256k DNS lines (DuckDB on one thread, 0.87 -> 0.70 s):
json_scan's two walks (the line, then AdditionalFields) ~0.32 s, the unescaping copy ~0.08, the numbering ~0.07, the
compares ~0.03; the walk of the line stops at each escaped quote of AdditionalFields' text, and the inner JSON is walked
again: the cost left. The benchmark's 4M-line files (idle machine, load ~0.3-1.6; `--format-lines 4000000 --no-regex
--per-sample`), shadow-ai CPU / the generic DuckDB split's, and throughput by wall time against that split's: DNS
inspection 15.5/6.5 s (0.48, was 19.8/6.6 and 0.42 at 09:54 the same day), HTTP/TLS 13.0/6.1 (0.55, was 23.3/6.3 and
0.33), Storage 8.1/5.6 (0.79, was 14.0/5.6 and 0.49), Event Hubs 13.8/9.5 (0.73, as before); peak RSS 751/736/753/682 MB
against 742/696/673/714 (Numba's own memory where the walk loads it). DNS inspection records, the longest
AdditionalFields, stay just short of the 0.5 floor. Per DNS line (~1 KB, ~330 bytes of inner JSON): the walk of the line
~1.15 us (a plain count of one byte ~0.32), the unescaping copy ~0.30, the inner walk ~0.41, each compare ~0.05. Tried
and left: 8 MiB slices instead of json_read's 2 MiB (parse no cheaper: 0.70-0.76 s against 0.70 per 256k lines), the
compares eight bytes at a time (0.05 -> 0.02 us: ~1 % of the ingest). What would pay: a walk that steps over an escaped
string's backslashes a word at a time (json_scan stops at each), or reads AdditionalFields' escaped JSON where it
stands. Lines whose values differ (times, ports, addresses, names, URIs, sizes, Zeek uids: DNS and HTTP/TLS records
mixed, whole ingest, 2 runs each): 1M lines 16.6-17.5 -> 15.7-16.0 s CPU (the parse with DuckDB's threads 5.3-5.8 ->
5.0-5.1, the reader 0.94-0.98 -> 0.63-0.65); 200k lines 4.1-4.2 -> 4.3-4.5, Numba's import (~0.3 s) not yet paid back.

AdditionalFields copied by the walk of the line (30 Nov 2026, sixteenth session; json_scan.spans_copying, since
removed: read_inside copies so where it gives up; where defender_scan.unescaped copied it after the walk had stepped
over its escapes): kernels on 240k DNS inspection lines (CPU, one thread) 0.20 + 0.085 -> 0.20 s, their parse
0.78-0.80 -> 0.66-0.71; whole ingest of the benchmark's 1M-line
files (HEAD before/after interleaved, load 8-12): DNS inspection 5.32-5.47 -> 5.01-5.21 s, HTTP/TLS 4.81-4.96 ->
4.54-4.74, Storage no dearer (two rounds: 3.42-3.63 -> 3.58-3.74, 3.63-4.01 -> 3.48-3.66 and one run of 4.95 at a busy
moment; the walk alone 0.59 us a line either way, best of 7). The benchmark at 1M
(load ~10), CPU shadow-ai/generic: DNS 5.20/2.01, HTTP/TLS 4.58/1.75, Storage 3.42/1.81, Event Hubs 4.54/2.82. Per DNS
line now (~1 KB, ~75 escapes in AdditionalFields): the walk with the copy ~0.80 us (~0.51 were those escapes plain
letters), the inner walk ~0.42, the numbering ~0.4, the two compares ~0.2; the numpy and Arrow steps around them, made
once per 2 MiB slice, ~0.8 more. Tried and left: the copy stepping over each escape of a word without loading the next
word (the rest of the word stored again one byte back), 0.795 -> 0.705 us a DNS line: ~1.8 % of the ingest, less than
its code is worth (what is left is the branch on how many escapes a word holds).

AdditionalFields read where they stand (30 Nov 2026, seventeenth session; defender_lines: the Zeek record's keys read in
the line's escaped text by the walk of the line, only their values copied, where the walk copied the whole text out
and json_scan walked the copy): the walks alone, per line of the benchmark's files, DNS inspection 1.45 -> 0.93-0.97 us,
HTTP/TLS 1.31 -> 0.88 (one line in seven there has AdditionalFields as an object, still copied and walked again),
Storage 0.67 -> 0.62; whole ingest of the 1M-line files (HEAD before/after interleaved x2, load ~11): DNS inspection
5.52-6.45 -> 4.90-4.94 s CPU, HTTP/TLS 5.38-5.50 -> 5.24-5.32. The benchmark after it (load ~12, CPU shadow-ai/generic
and their ratio): 4M lines DNS inspection 16.9/8.2 (0.49; idle before it 16.8/7.3, 0.44), HTTP/TLS 15.8/8.5 (0.54;
idle before 18.9/8.7, 0.46), Event Hubs 16.6/11.9 (0.72), Storage 12.2/8.4 (0.69); peak RSS 585/582/651/585 MiB; 1M
lines 4.5/2.3, 5.1/2.1, 4.6/2.9, 3.8/1.9. Tried and left: slices of 4 MiB for the walk instead of json_read's 2 MiB
(parse of 316k DNS lines best of 4: 0.78-0.79 s either way). Where the parse goes now (316k DNS lines, one thread): the
walk ~40 %, the numbering of values (texts_scan) ~14 %, the two name compares ~4 %, the rest numpy, Arrow and DuckDB
steps once per 2 MiB slice or batch.

The eighteenth session (30 Nov 2026): the reading in place moved into json_scan (read_inside: its walk with a flag,
its hash table of keys; defender_lines, a copy of the old walk, is gone), and an AdditionalFields object (one line in
seven of the HTTP/TLS sample) read where it stands too, not copied and walked again. The walks alone per line (200k
lines, best of 7, the session's start interleaved x2, load 6-10): HTTP/TLS 1.06-1.08 -> 0.83-0.85 us, DNS inspection
0.93-1.00 -> 0.88-0.89, Storage 0.63 -> 0.55; the parse alone (393k lines, one DuckDB thread): HTTP/TLS 0.95-0.96 ->
0.85-0.92 s, Storage 0.58-0.60 -> 0.53-0.56, DNS as before. The benchmark after it (load ~10, other helpers
benchmarking; CPU shadow-ai/generic and their ratio): 4M lines DNS inspection 16.25/8.00 (0.49), HTTP/TLS 15.16/7.52
(0.50), Event Hubs 16.23/11.88 (0.73), Storage 10.07/8.10 (0.80), peak RSS 627/579/655/752 MiB; 1M lines 5.14/2.11
(0.41), 4.42/1.99 (0.45), 4.37/3.05 (0.70), 3.30/1.89 (0.57). HTTP/TLS gained ~5 % of its CPU, short of the ~10 % a
safe margin asks: the walk is now ~0.85 us of a ~0.95 KB line (a plain byte count ~0.3), the numbering and the per-slice
numpy, Arrow and DuckDB steps the rest of the parse.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest import defender_inspection as inspection
from detector.ingest.arrow_ops import DistinctQuery, only_where, per_distinct
from detector.ingest.base import (
    BatchParser,
    Format,
    ParseContext,
    ParseResult,
    line_share,
    parse_cursor,
    query_in_halves,
    split_outcomes,
)
from detector.ingest.distinct_sql import INTEGER_SQL, encoded, integers, without
from detector.ingest.distinct_sql import plain as decoded
from detector.ingest.proxy_columns import UrlQueries, constant_text, first_valid, url_columns

if TYPE_CHECKING:
    from detector.ingest.defender_walk import Walk

CATEGORY = "AdvancedHunting-DeviceNetworkEvents"
NETWORK_PROTECTION = "AdvancedHunting-DeviceEvents"

# Defender for Endpoint's ActionType (DeviceNetworkEvents; DeviceEvents' network protection): a connection made,
# found open, acknowledged or accepted went through; one Defender's network protection blocked was blocked (in
# audit mode it was let through). A request, an attempt or a failure says nothing Defender decided: unknown.
# With aggregated reporting on (Microsoft: "Aggregated reporting in Microsoft Defender for Endpoint", sensor 2411 and
# later) an hour's successful connections to one destination come as one ConnectionSuccessAggregatedReport row.
# (Also used by the generic CSV format for advanced hunting and Sentinel exports.)
DEFENDER_ACTION_MACRO = """
create or replace macro defender_action(a) as case
    when lower(a) in ('connectionsuccess', 'connectionfound', 'connectionacknowledged', 'inboundconnectionaccepted',
                      'exploitguardnetworkprotectionaudited', 'connectionsuccessaggregatedreport') then 'allowed'
    when lower(a) = 'exploitguardnetworkprotectionblocked' then 'blocked'
end;
"""

PATHS = ("category", "properties.Timestamp", "properties.ActionType", "properties.RemoteUrl", "properties.RemoteIP",
         "properties.RemotePort", "properties.LocalIP", "properties.DeviceName",
         "properties.InitiatingProcessAccountUpn", "properties.InitiatingProcessAccountName", "properties.LocalPort",
         "properties.AdditionalFields")
NAMES = ("category", "time_text", "action_type", "remote_url", "remote_ip", "remote_port", "local_ip", "device_name",
         "upn", "account", "local_port", "additional_fields")


def _values_query(prefix: str, more: tuple[tuple[str, str], ...] = ()) -> str:
    """One parse of each line: the paths' values under `prefix` (`try`: a line that is no JSON gives null,
    `parsed` false, not an error), the time cast; an inspection record's AdditionalFields read by one parse of its
    text (inspection.kind_keys_sql: its kind's keys only; inspection.query_columns_sql: the columns of the keys whose
    values are mostly distinct, the others' text, made into columns once per distinct value by _inspected); then the
    values of the paths `more` (name, path) as they are named."""
    paths = "[" + ", ".join([f"'$.{prefix}{path}'" for path in PATHS] + [f"'{path}'" for _, path in more]) + "]"
    names = ", ".join(_VALUE_SQL.get(name, f"v[{at}] as {name}")
                      for at, name in enumerate(NAMES + tuple(name for name, _ in more), start=1)
                      if name != "additional_fields")
    action = f"case when v[1] = '{CATEGORY}' then lower(v[3]) end"
    keys = inspection.query_columns_sql(inspection.kind_key_sql())
    return (f"select v is not null as parsed, ts, {names}, {keys} "
            f"from (select v, ts, {inspection.kind_keys_sql('v[12]', 'action')} "
            f"from (select v, try_cast(v[2] as timestamptz) as ts, {action} as action "
            f"from (select try(json_extract_string(line, {paths})) as v from lines)))")


# The category as the table it names (0 DeviceNetworkEvents, 1 DeviceEvents, 2 another; null: none), and the time's
# text only where it is not understood (for the reject's reason): ~35 and ~28 bytes a line less to copy to Arrow.
_VALUE_SQL = {"category": f"case when v[1] = '{CATEGORY}' then 0 when v[1] = '{NETWORK_PROTECTION}' then 1 "
                          "when v[1] is not null then 2 end::tinyint as table_code",
              "time_text": "case when ts is null then v[2] end as time_text"}


QUERY = _values_query("")
# An Event Hubs message on one line: its first record's values, and its second record where it holds one (its text;
# null where there is none, or where it is a JSON null: see _record_counts).
MESSAGE_QUERY = _values_query("records[0].", (("second", "$.records[1]"),))
# The number of records of a message (0: none, or no array of them), on the few lines where MESSAGE_QUERY leaves it
# in doubt: `json_array_length` parses the whole line again (a third of MESSAGE_QUERY's cost on every line).
RECORDS_QUERY = "select coalesce(try(json_array_length(line, '$.records')), 0) as records from lines"
# A JSON null after a record (`[{...}, null]`): MESSAGE_QUERY's `$.records[1]` reads it as no record. A record that
# MESSAGE_QUERY found a value in is an object, so such a null follows its `}` and a `,` (JSON's white space between).
NULL_AFTER_RECORD = r"\}[ \t\r\n]*,[ \t\r\n]*null"
ACTION_SQL = "select coalesce(defender_action(value), 'unknown') as value from distinct_values"
# How an Event Hubs message starts (`records` is its only key), compact or spaced as JSON tools write it.
MESSAGE_START, SPACED_MESSAGE_START = '{"records"', '{ "records"'
IGNORED_ACTIONS = ("listeningconnectioncreated",)
# A connection the device accepted (it is the server): the client is the remote end, LocalPort the port it reached.
INBOUND_ACTIONS = ("inboundconnectionaccepted",)
NETWORK_PROTECTION_ACTIONS = "exploitguardnetworkprotection"
PLACEHOLDERS = ("", "-")
# host_source: RemoteUrl's host, none, then the inspection records' (defender_inspection.HOST_SOURCES)
HOST_SOURCES = pa.array(["url", "none", *inspection.HOST_SOURCES])
class Queries:
    """The per-distinct queries of a file's parse (each keeping the values it has seen)."""

    def __init__(self) -> None:
        self.action = DistinctQuery(ACTION_SQL)
        self.port = DistinctQuery(INTEGER_SQL)
        self.urls = UrlQueries()
        self.inspection = inspection.InspectionQueries(self.urls)
        # The compiled walk of the records' lines (set by new_parser; its kernels load with the first batch it reads)
        self.walk: Walk | None = None


def new_parser(context: ParseContext) -> BatchParser:
    context.connection.execute(DEFENDER_ACTION_MACRO)
    queries = Queries()
    from detector.ingest.defender_walk import Walk

    queries.walk = Walk(PATHS, NAMES, (CATEGORY, NETWORK_PROTECTION))

    def parse(lines: pa.Table) -> ParseResult:
        with parse_cursor(context.connection) as cursor:
            columns = _columns(cursor, queries, lines)
        return split_outcomes(columns, lines)

    return parse


def _parsed(connection: duckdb.DuckDBPyConnection, text: pa.ChunkedArray, walk: Walk | None = None
            ) -> tuple[dict[str, pa.Array], np.ndarray]:
    """QUERY's columns per line, an Event Hubs message of one record read as that record; and per line, the number
    of records of a message of several (0 elsewhere). Only lines starting `{"records"` are looked at as messages
    (read by MESSAGE_QUERY alone); one of no records is read as it is."""
    starts = pc.or_(pc.starts_with(text, MESSAGE_START), pc.starts_with(text, SPACED_MESSAGE_START))
    message = pc.fill_null(starts, False).to_numpy(zero_copy_only=False)
    maybe = np.flatnonzero(message)
    several = np.zeros(len(text), np.int64)
    if not len(maybe):
        return _records(connection, walk, text), several
    others = np.flatnonzero(~message)
    messages = text if not len(others) else text.take(pa.array(maybe))
    inner = _query_columns(connection, MESSAGE_QUERY, messages)
    records = _record_counts(connection, inner, messages)
    several[maybe[records > 1]] = records[records > 1]
    plain = records == 0  # no records: read as it is (and rejected for what it lacks)
    del inner["second"]
    if not len(others) and not plain.any():  # (a file of Event Hubs messages: no take)
        return inner, several
    parts, order = [inner], [maybe]
    if plain.any():
        parts = [{name: column.filter(pa.array(~plain)) for name, column in inner.items()},
                 _query_columns(connection, QUERY, text.take(pa.array(maybe[plain])))]
        order = [maybe[~plain], maybe[plain]]
    if len(others):
        parts.insert(0, _records(connection, walk, text.take(pa.array(others))))
        order.insert(0, others)
    at = np.empty(len(text), np.int64)
    at[np.concatenate(order)] = np.arange(len(text))
    rows = pa.array(at)
    return {name: pa.concat_arrays([decoded(part[name]) for part in parts]).take(rows) for name in parts[0]}, several


def _records(connection: duckdb.DuckDBPyConnection, walk: Walk | None, text: pa.ChunkedArray) -> dict[str, pa.Array]:
    """QUERY's columns of these lines: read by the compiled walk (defender_walk) where it is tried, with QUERY on the
    lines it doubts; after a batch where it doubted most lines, by QUERY alone."""
    if walk is None or not walk.tried or text.type != pa.string():  # (the walk reads 32-bit offsets)
        return _query_columns(connection, QUERY, text)
    columns, doubtful = walk.columns(connection, text)
    if 2 * len(doubtful) > len(text):
        walk.tried = False
    if not len(doubtful):
        return columns
    from detector.ingest.defender_walk import put_together

    return put_together(len(text), columns, doubtful, _query_columns(connection, QUERY, text.take(pa.array(doubtful))))


def _query_columns(connection: duckdb.DuckDBPyConnection, query: str, text: pa.ChunkedArray) -> dict[str, pa.Array]:
    """`query`'s columns over these lines (base.query_in_halves), each as one array."""
    found = query_in_halves(connection, query, text)
    return {name: found.column(name).combine_chunks() for name in found.column_names}


def _record_counts(connection: duckdb.DuckDBPyConnection, inner: dict[str, pa.Array], messages: pa.ChunkedArray
                   ) -> np.ndarray:
    """Per message line (MESSAGE_QUERY's columns `inner`), the number of records it holds, as `json_array_length`
    counts them (0 where there is no array of them, or no JSON). Counted by RECORDS_QUERY only where MESSAGE_QUERY
    leaves a doubt: no JSON, a second record, no value in the first (none, or not a record: the array may be empty or
    no array), or a JSON null after the first (NULL_AFTER_RECORD); elsewhere the first record is the only one: 1."""
    found = np.zeros(len(messages), bool)
    for name in ("ts", "table_code", *NAMES):
        if name in inner:  # (additional_fields is read in the query; time_text where ts is null)
            found |= pc.is_valid(inner[name]).to_numpy(zero_copy_only=False)
    doubt = (~found | pc.is_valid(inner["second"]).to_numpy(zero_copy_only=False)
             | pc.fill_null(pc.match_substring_regex(messages, NULL_AFTER_RECORD), True).to_numpy(zero_copy_only=False))
    records = np.ones(len(messages), np.int64)
    lines = np.flatnonzero(doubt)
    if len(lines):
        counted = query_in_halves(connection, RECORDS_QUERY, messages.take(pa.array(lines)))
        records[lines] = counted.column("records").to_numpy()
    return records


def _columns(connection: duckdb.DuckDBPyConnection, queries: Queries, lines: pa.Table) -> pa.Table:
    """Streaming API lines -> schema columns plus reject_reason / is_ignored (see base.split_outcomes)."""
    text = lines.column("line")  # (its chunks as the reader cut them: put together, 32 MiB would be copied)
    rows = len(text)
    value, several = _parsed(connection, text, queries.walk)
    parsed = value["parsed"].to_numpy(zero_copy_only=False)
    table = pc.fill_null(value["table_code"], -1).to_numpy(zero_copy_only=False)
    is_known = (table == 0) | (table == 1)
    is_protection_table = table == 1
    is_network_table = table == 0
    action_type = encoded(value["action_type"])
    lowered = pc.utf8_lower(action_type.dictionary)
    protection = _rows_where(action_type, pc.starts_with(lowered, NETWORK_PROTECTION_ACTIONS))
    listening = _rows_where(action_type, pc.is_in(lowered, value_set=pa.array(IGNORED_ACTIONS)))
    kind = np.where(parsed & is_network_table & (several == 0), inspection.inspection_kinds(action_type), -1)
    has_category = table >= 0
    ignored = parsed & has_category & (several == 0) & (~is_known | (is_protection_table & ~protection) | listening)

    remote_url = without(encoded(value["remote_url"]), PLACEHOLDERS)
    place = url_columns(connection, queries.urls, remote_url, bare="/?")
    seen = _inspected(connection, queries, value, kind)
    host = first_valid(seen["host"], place["host"])
    ports = integers(connection, queries.port, value["remote_port"], pa.int32())
    user = first_valid(without(encoded(value["upn"]), PLACEHOLDERS), without(encoded(value["account"]), PLACEHOLDERS))
    local_ip = without(encoded(value["local_ip"]), PLACEHOLDERS)
    remote_ip = without(encoded(value["remote_ip"]), PLACEHOLDERS)
    device = without(encoded(value["device_name"]), PLACEHOLDERS)
    # a connection the device was asked (an inspected one of direction In, an accepted inbound one: it is the
    # server): the client is the remote end
    asked_rows = seen["asked"] | _rows_where(action_type, pc.is_in(lowered, value_set=pa.array(INBOUND_ACTIONS)))
    if asked_rows.any():
        asked = pa.array(asked_rows)
        kept = pc.invert(asked)
        local_ip, remote_ip = (first_valid(only_where(remote_ip, asked), only_where(local_ip, kept)),
                               first_valid(only_where(local_ip, asked), only_where(remote_ip, kept)))
        ports = pc.if_else(asked, integers(connection, queries.port, value["local_port"], pa.int32()), ports)
        device, user = only_where(device, kept), only_where(user, kept)
    found = seen["host_source"]
    source = np.where(found >= 0, found + 2, np.where(_at(encoded(place["host"])) >= 0, 0, 1))
    columns: dict[str, pa.Array] = {
        "line_no": lines.column("line_no"),
        "ts": value["ts"],
        "src_ip": local_ip,
        "src_host": device,
        "user_name": user,
        "host": host,
        "host_source": constant_text(HOST_SOURCES, source),
        "dst_ip": remote_ip,
        "dst_port": pc.coalesce(ports, seen["dst_port"], place["dst_port"].cast(pa.int32())),
        "network_protocol": first_valid(constant_text(inspection.PROTOCOLS, kind), place["scheme"]),
        "url_path": first_valid(seen["url_path"], place["url_path"], place["bare_path"]),
        "http_method": seen["http_method"],
        "http_status": seen["http_status"],
        "bytes_out": seen["bytes_out"],
        "bytes_in": seen["bytes_in"],
        "user_agent": seen["user_agent"],
        "action": per_distinct(connection, action_type, queries.action)["value"],
        "dns_qtype": seen["dns_qtype"],
        "dns_rcode": seen["dns_rcode"],
        "dns_answers": seen["dns_answers"],
        "reject_reason": _reasons(rows, several, parsed, has_category, ignored, value),
        "is_ignored": pa.array(ignored),
    }
    return pa.table(columns)


def _inspected(connection: duckdb.DuckDBPyConnection, queries: Queries, value: dict[str, pa.Array], kind: np.ndarray
               ) -> dict[str, pa.Array | np.ndarray]:
    """The query's AdditionalFields columns (`value`: inspection.QUERY_COLUMNS, read on every inspection record's
    line) of the rows of an inspection record (`kind` >= 0: inspection.inspection_kinds), made into the columns of
    COLUMNS_SQL (inspection.key_columns: some once per distinct value) and read by inspection.inspected_columns;
    spread to the batch's rows (null elsewhere; `host_source` -1 and `asked` false there). Defender's network
    inspection records (DeviceNetworkEvents, ActionType DnsConnectionInspected, HttpConnectionInspected,
    SslConnectionInspected: see defender_inspection) hold a Zeek record in AdditionalFields."""
    count = len(kind)
    rows = np.flatnonzero(kind >= 0)
    if not len(rows):
        return {**{name: pa.nulls(count, kind_of) for name, kind_of in _INSPECTED_TYPES.items()},
                "host_source": np.full(count, -1), "asked": np.zeros(count, bool)}
    every = len(rows) == count  # (every row one: no takes)
    taken = pa.array(rows)  # (one row per such row, in their order)
    keys = {name: value[name] if every else value[name].take(taken) for name in inspection.QUERY_COLUMNS}
    found = inspection.key_columns(connection, queries.inspection, keys)
    columns = inspection.inspected_columns(connection, queries.inspection, found, kind[rows])
    if every:
        return columns
    place = np.full(count, -1, np.int64)
    place[rows] = np.arange(len(rows))
    at = pa.array(place, mask=place < 0)
    spread: dict[str, pa.Array | np.ndarray] = {}
    for name, column in columns.items():
        if isinstance(column, np.ndarray):
            spread[name] = np.full(count, -1 if column.dtype != bool else False, column.dtype)
            spread[name][rows] = column
        else:
            spread[name] = column.take(at)
    return spread


_INSPECTED_TYPES = {"host": pa.string(), "dst_port": pa.int32(),
                    "network_protocol": pa.string(), "url_path": pa.string(), "http_method": pa.string(),
                    "user_agent": pa.string(), "http_status": pa.int32(), "bytes_out": pa.int64(),
                    "bytes_in": pa.int64(), "dns_qtype": pa.string(), "dns_rcode": pa.string(),
                    "dns_answers": pa.list_(pa.string())}


def _rows_where(column: pa.DictionaryArray, of_dictionary: pa.Array) -> np.ndarray:
    """Per row, the test `of_dictionary` made once per distinct value (false where the row is null)."""
    return np.append(pc.fill_null(of_dictionary, False).to_numpy(zero_copy_only=False), False)[_at(column)]


def _at(column: pa.DictionaryArray) -> np.ndarray:
    """Each row's index into the column's dictionary, -1 where the row is null."""
    return pc.fill_null(column.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def _reasons(rows: int, several: np.ndarray, parsed: np.ndarray, has_category: np.ndarray, ignored: np.ndarray,
             value: dict[str, pa.Array]) -> pa.Array:
    """Each line's reject reason (null for an event or an ignored line), the first that applies; in Arrow, so that
    a whole file of another kind (every line a reject) costs no more than its events would."""
    no_time = pc.is_null(value["ts"]).to_numpy(zero_copy_only=False)
    failing = (several > 0) | ~parsed | ~has_category | (no_time & ~ignored)
    if not failing.any():
        return pa.nulls(rows, pa.string())
    has_time_text = pc.is_valid(value["time_text"]).to_numpy(zero_copy_only=False)
    choice = np.select([several > 0, ~parsed, ~has_category, ~has_time_text], [0, 1, 2, 3], 4)
    reasons = constant_text(_REASONS, np.where(failing, choice, -1)).dictionary_decode()
    records = pa.array(several).cast(pa.string())
    specific = pc.if_else(pa.array(choice == 0),
                          pc.binary_join_element_wise(_SEVERAL[0], records, _SEVERAL[1], ""),
                          pc.binary_join_element_wise(_REASONS[4], value["time_text"], ""))
    return pc.if_else(pa.array(failing & ((choice == 0) | (choice == 4))), specific, reasons)


_SEVERAL = ("an Event Hubs message of ", " records on one line: one event per line is read; write one record per "
            "line (jq -c '.records[]')")
_REASONS = pa.array(["an Event Hubs message on one line", "not a JSON object",
                     'not a Defender streaming API record (no "category")', "no properties.Timestamp",
                     "time not understood: "])


# A record of the streaming API as it starts: `{"time": ..., "category": "AdvancedHunting-...", ...}` or an Event
# Hubs message `{"records": [...]}` (keys in any order; spaced or not).
_RECORD = re.compile(r'^\s*\{.*"category"\s*:\s*"AdvancedHunting-Device[A-Za-z]*".*"properties"\s*:\s*\{'
                     r'|^\s*\{.*"properties"\s*:\s*\{.*"category"\s*:\s*"AdvancedHunting-Device[A-Za-z]*"')


NETWORK = Format(
    name="defender_network",
    source_kind="sensor",
    summary="Microsoft Defender for Endpoint DeviceNetworkEvents (with its network inspection's DNS queries and "
            "answers, HTTP requests and TLS SNI) and network protection blocks from the streaming API: Storage account "
            "JSON lines, or Event Hubs records one per line",
    sniff=line_share(_RECORD),  # streaming API records (or messages of them) of a Defender device table
    new_parser=new_parser,
    fields=("ts", "src_ip", "src_host", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
            "http_method", "url_path", "http_status", "action", "bytes_out", "bytes_in", "user_agent", "dns_qtype",
            "dns_rcode", "dns_answers"),
    independent_batches=True,
)
