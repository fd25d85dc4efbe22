"""Suricata EVE JSON (`eve.json`): one JSON object per line, `event_type` says which record it is.

Events: `tls` (SNI), `quic` (Suricata 7+: the SNI of QUIC's client hello, HTTP/3; a QUIC record without one is
ignored), `http` (Host, or HTTP/2's `:authority`; URL, method, status, response length), `dns` (query name,
type, rcode, answers), `flow` (bytes each way, duration), `alert` and `drop` (what an IPS did, with the SNI,
Host, `:authority`, DNS query or QUIC SNI of the flow when the alert carries it: OTHER_HOSTS_SQL). Every other
record (`stats`, `fileinfo`, `ssh`, `anomaly`, ...) carries no traffic we need: ignored.
A line may have a syslog header (its `<PRI>` perhaps followed by a space) or EVE's `prefix` (`@cee: `) before
its object (EVE's `filetype: syslog`, as a syslog daemon writes it): taken off (`_without_prefixes`; looked for
only on lines that do not start with `{`).

DNS records come in three layouts: v1 (one record per answer: `rrname`, `rrtype`, `rdata`), v2 (one
answer record with an `answers` array, or `grouped` by type) and v3 (Suricata 8: `queries` and
`answers` arrays, types `request`/`response`). Each gives host (the query name; a v2 answer without a question:
its first answer's name), dns_qtype (none on a v1 answer record: its `rrtype` is the record's own), dns_rcode
(none on a request) and dns_answers (A/AAAA addresses and CNAME targets, as the other DNS formats keep them).
One lookup is one event, as the other DNS formats give it (_Lookups): the records of one flow (`flow_id`) with one
DNS id (`dns.id`) are a query and its answer (v1: an answer record per answer RR; v2: one, `answers` or `grouped`;
v3: `request` and `response`): a query record and the records after it with its flow and DNS id, up to the next
query with them (a DNS id is 16 bits, and a forwarder's long-lived flow reuses it; records logged before their
query join it) and at most MAX_LOOKUP_RECORDS. The query record is its event, else (Suricata set to log answers
only, or the query too far away) its first answer record; its other records are ignored (counted), their answers
(in line order), response code, and the query's type and name where the event lacks them joined to it. (A v1 answer
record names its own owner: past a CNAME, the alias's target; only the lookup's first record names the query.) A
record without a flow id or DNS id is a lookup of its own. Each batch is parsed with the PAIR_LINES lines before
and after it (Format.context_lines): records of a lookup up to that many lines apart are joined wherever the batches
are cut; farther apart, as the cut falls, the query and the answer may be two events (the answer named by its first
record).
On an answer record Suricata (before 7, and v3's responses: 8.0's upgrade notes) logs the packet's direction,
server to client; such records are turned around so that `src_ip` is always the client. An alert's addresses are
its packet's, which may be the server's reply: Suricata 7+ also gives the flow's own (`flow.src_ip`, ...: the
client's side), used where present; else an alert that says its packet went to the client (`"direction":
"to_client"`) is turned around; else (Suricata 6 says neither) one on a flow with an application protocol, from a
system port (below 1024) to a port above it, is the server's reply and turned around (_addresses). An alert's `http`
object (its flow's request) gives url_path, http_method and user_agent as an `http` record does.

Suricata is a sensor: except for alerts and drops, it saw traffic but decided nothing (`unknown`).
`flow.bytes_toserver` is what the client sent: `bytes_out`.

How a batch is read: by json_scan's compiled walk (suricata_eve_walk, _walked): one pass over each line validates
it and finds where every path's value is (every record type's paths, and the extra reads below as the file's hints
turn them on); the record type is the `event_type` text; each type's values are then copied out as text in one pass
over the lines (suricata_eve_scan), a table per type as the query below gives it; `[0]` paths are read once per
distinct text of their array (items_query). The lines the walk doubts (see json_scan: escapes in keys, fractions at a
path read, a repeated key, a spaced container read whole, a `[0]` path holding a string, anything that might not be
JSON) are read by the query, with every path; after a batch where it doubted most lines the walk is not tried again
for the file (Walk.tried), and every line is read by the query, as follows.
DuckDB parses each line once (`json_extract_string` with a list of paths: one parse,
each path's value as text; `from_json` into a STRUCT cost as much). Each path looked up costs about a sixth
of the parse, so each line reads only its record type's paths: Suricata writes compact JSON, so the type is
guessed from the text after `"event_type":"` (read at the few places a sample of the batch's lines has it,
searched for with Arrow on the other lines: _places), one query reads every guessed type's lines with that
type's paths (a UNION ALL: each query costs ~4 ms whatever its rows), and the type the parse finds checks the
guess; a line whose type was not guessed (spaced JSON), or guessed wrong, is read
by every path. Each type's columns are then made in Arrow on that type's rows, hosts, URLs, times and
numbers through the shared SQL macros once per distinct value. The JSON query is still two thirds of the
parse: more than the generic baseline's whole split of the same bytes.
Two values are needed by only some records of a type: a v1 answer record's response key (`flow_id`, `dns.id`),
and an alert's or drop's host when it has no SNI or Host (its DNS query, QUIC SNI or HTTP/2 `:authority`). A
second query reads them on just those lines, which parses them again; a file whose last batch needed them on more
than a sixth of its DNS records (a quarter of its alerts and drops) reads them in the main query instead
(EXTRA_READS): on the dns_versions benchmark sample (a quarter of its lines v1 answers, an eighth DNS alerts) that
parse went from ~0.035 s of second queries per 131k lines to ~0.02 s of paths (parse 0.25-0.27 -> 0.23-0.245 s).

Why not read values on the lines' bytes (as Zscaler's feeds are read): DuckDB must parse every line anyway to
decide which lines are valid JSON (`json_valid` alone costs ~0.29 µs per 400-byte line; finding every quote
with numpy to prove a line well-formed costs more), and a value found on the bytes costs more than a JSON path
(~15-30 ns per line): each read at a line's place is a cache miss (~7 ms per 8-byte word over 262k lines), and
EVE's values have no fixed places (measured: the timestamp alone on the bytes, 40 ms per 262k lines; as a path,
~5-10 ms).

Also measured and left (262k-line batch of 427-byte lines, CPU; the one query ~0.29 s, the guess 0.045 s (a
search of every line; read at its places instead, 0.013-0.014 s on both benchmark samples), the generic baseline's
whole query 0.15 s): the parse alone (`json_valid`) is 0.08 s, each value read ~40 ns a
line (~15 of them Arrow conversion, ~4 ms per column); pyarrow's JSON reader 0.83 s and DuckDB's `read_ndjson`
0.39 s for the same fields; every path on every line without the guess 0.43 s (mostly-null columns still
convert); the lists returned whole and split in Arrow save 0.04 s in the query but cost 0.05-0.08 in takes;
the guess as a CASE in the query, `->>`, JSON pointers, `from_json` per type, smaller Arrow batches: no gain.
A compiled walk of each line (`json_scan`, commit abb44cb: validity and every path's span in one pass, values cut
out of the buffer, the guess no longer needed) was measured against the query at 131k lines (CPU, load ~7): the walk
0.08-0.09 s, the columns cut out 0.06-0.09, the whole parse 0.214 s against 0.234; end to end at 1M lines
4.24 s CPU against 3.61 (Numba's start, ~0.6 s a run, is more than the parse saves), output identical on
samples, 200k benchmark lines, 60k fuzzed and 60k all-distinct lines: left out.
Where a parse's CPU goes (2026-11-30, 131k-line batches of the basic benchmark sample, best of 8, load ~6): ~0.22 s,
of it the query ~0.15 (the JSON work ~0.11: parse ~0.03 and ~12 paths a line, ~20-40 ns each; the rest its ~18
columns' conversion to Arrow), the guess ~0.007, Arrow's takes ~0.011, casts ~0.007, per-distinct SQL ~0.011 (values
repeat: each is looked up once per file), numpy and the other Arrow kernels the rest. Also measured and left: DuckDB's
string_view export (`arrow_output_version` 1.4): no less; `set threads = 1`, or one parse thread instead of
PARSE_WORKERS' two: the same CPU for a whole dry run of 1M lines (2.6-2.9 s), so the two workers do not fight;
`from_json` with typed fields (ports as INTEGER) for the common keys: 0.15 s per 262k lines against 0.10 as paths.
The dns_versions sample (2026-11-30, 131k lines, extra reads on, load ~8): ~0.23 s, the query ~0.16 (DNS lines: parse
~0.03, 15-17 paths ~0.05, conversion ~0.03), DNS columns ~0.014, hosts ~0.014, addresses ~0.007, guess ~0.007,
times ~0.006. Each batch also costs ~0.02 s whatever its lines (a 2048-line batch: ~0.024 s): the query's bind and
plan ~0.008, ~150 Arrow calls ~0.003, per-distinct look-ups ~0.002, the cursor ~0.001; the reader's batches of these
lines are ~80k lines (32 MiB), so ~0.25 s per 1M lines. A whole ingest of 1M lines (shadow-ai ingest, CPU): ~0.5 s
to start, the parse ~1.75 s, reading and writing ~1 s. Also measured and left (2026-11-30): src_ip and dst_ip
dictionary-encoded in the parse (both columns' addresses hashed once, chosen and turned around on their indices):
the parse 5 ms per 131k lines dearer, a whole ingest of 500k lines the same (2.05-2.22 s either way: the writer's
hashing saved what the parse added); the query without its `guess` and (strict) `parsed` columns: no gain; a
second query's lines chosen by a mask over the registered batch instead of a take, or as Arrow string views (no
copy): dearer (DuckDB reads every line, or copies the views); Arrow's match_substring to pick the alerts that carry
headers: ~0.8 µs per 480-byte line, as much as a parse; the alert hosts read in the main query on every file:
+2 % on the basic sample (its alerts have an SNI or Host), hence per file (EXTRA_READS); the DNS columns made per
distinct value instead: their kernels each cost 0.5-1.5 ms per 131k lines, so at most ~0.004 s to gain (estimated).
Where a whole ingest goes (2026-11-30, fourteenth session, 1M basic lines, 3.0-3.3 s CPU; py-spy of the process): the
parse 44 % of the samples, start-up imports 23 %, the reader 21 %, Parquet writing 7 %. Of the parse (~1.65 s CPU per
1M lines, 80k-line batches) the main query is ~62 %; no other call is above ~4 %. What the parse hands on costs the
rest little: 480k rows of its output written as the lake writes them in 0.11 s CPU, no column above 8 ms. Measured
and left that day, each as whole parses of 640k benchmark lines (old and new module in one process, interleaved,
3 runs each, load ~12; per-query figures best of 7-9 on one 131k-line batch):
- each column of the query costs 2-6 ms per 131k lines (its list_extract and Arrow conversion; the query ~0.13 s),
  but a column made smaller in SQL costs the same: event_type as a type number (CASE), dest_port as an integer
  (try_cast) 0.131-0.136 against 0.131-0.132; the timestamp cut out of the bytes of the lines that start
  `{"timestamp":"` instead of read as a path (an upper bound: no fallback for other lines) 1.09-1.15 s either way
  (basic), 1.16-1.36 against 1.25-1.36 (dns_versions);
- the UNION ALL's branches each go through the whole batch: with each type's lines in a table of its own the query
  is 0.127 -> 0.100 s (basic; dns_versions, mostly one type, 0.116 -> 0.108), but making such tables costs more than
  that: copying all but the commonest type's lines 1.03-1.04 -> 1.10-1.36 s (basic), 1.22-1.24 -> 1.27-1.33
  (dns_versions); string views of the lines in type order (no copy, 5 ms to build) made the query no cheaper
  (0.128-0.133 against 0.128-0.130); one scan with a CASE per type instead of the UNION is dearer (0.125-0.152 against
  0.115-0.136); the lists returned whole and cut into columns by one take: 0.129 against 0.128;
- a compiled walk like azure_firewall_scan.py's: importing Numba and a kernel module costs ~0.65 s CPU per process
  (measured on zscaler_scan), 40 % of a 1M-line parse and 10 % of a 4M-line one: more than the walk measured here
  before saved (9 %, see above).
Measured and left the same day (fourteenth session, load ~1-2): json_read's walk as the format `json` reads with it
(json_scan's trie of every path any type reads, `[0]` paths as their array's text read once per distinct value,
values numbered by their texts and kept dictionary-encoded until `at`; no guess, one table split by type). Output
identical on both benchmark samples (524k lines, old and new `_columns` side by side). Per 131k lines the walk alone
is 0.042-0.044 s for one key and 0.060-0.067 for all 31 (DuckDB's parse is ~0.03), with the values numbered
0.103-0.105, against 0.14-0.15 for the guess and query it replaces; a parse of 524k lines 0.857-0.948 -> 0.757-0.775
s (basic), 0.857-1.086 -> 0.836-0.904 (dns_versions). Whole ingests (CPU, old and new copy interleaved, 3 runs): 1M
lines basic 2.87-3.48 -> 3.49-3.85 s, dns_versions 3.17-3.48 -> 3.40-3.86 (Numba's start and json_scan's kernels load
0.30-0.32 s per process); 4M basic lines (the 1M file four times) 9.26-9.40 -> 9.20-9.24: no gain worth its code.
Where that gain was lost, and the walk kept (fifteenth session, 2026-11-30; per-thread CPU with /tmp/s15/tl3.py, old
and new interleaved, load 5-9): values numbered by their texts pay on the benchmark's files, whose lines are a dozen
records repeated, and not on real ones, whose times, ports and flow ids differ on every line. Rebuilt as then (every
value numbered, dictionary kept through the columns: src_ip/dst_ip chosen on indices, comparisons once per dictionary
value), a parse of 570k benchmark lines was 0.75-0.88 s against the query's 0.92-1.16, but of 262k lines with
distinct times, ports and flow ids (hosts from 5,000, clients from 2,000) 0.57-0.60 against 0.49-0.51: the
numbering's hash tables, and `at` decoding each type's values (a take of every value) cost more than the query's
conversion. Copying the values out as text instead, per type (json_read's `copied_out` per slice and type: ~1000 calls
per 786k lines; or the spans gathered per type first) cost as much as the query (0.33 against 0.31 per 262k lines):
the per-call work and the gathers, not the copying. One pass over the lines that copies each line's values into its
type's runs (suricata_eve_scan), with the type read from the walk's spans (no numbering): the walk's part of the parse
~0.27 s against the query's ~0.32 per 262k lines of distinct values, and a parse of 570k benchmark lines 0.71-0.76 s
against 0.90-0.91 (530k dns_versions lines 0.75-0.80 against 0.89-0.93; the batches' 8 MiB chunks joined first in
both). Whole ingests of the benchmark's 4M-line files: basic 11.43-12.33 s CPU -> 10.13-11.38 (the parse with DuckDB's
threads 7.20-7.55 -> 5.66-6.23; the main thread +0.3: Numba's import), dns_versions 11.72-12.60 -> 11.23-11.44. With
the reader's one chunk a batch and its compiled line cutting (3937357: used where a format loaded Numba, as this one now
does), at 09:40 (load ~7, 2 runs each, e37f414's suricata_eve against this one): basic 11.02-11.32 -> 8.29-8.80,
dns_versions 11.45-11.56 -> 8.91-9.18 (DuckDB's threads and the reader 2.7-3.4 -> 0.9-1.1). Output
identical: goldens, tests, vendor samples, ~500k fuzzed lines old against new (spaced, escaped, cut, retyped values),
240k lines of distinct values, and the walk against the query on hypothesis' records (test_ingest_suricata_walk);
except that a type's rows are now kept in batch order where some were read apart (_in_batch_order: before, a line whose
type was not guessed came after the others, so a spaced v1 answer record could be named by a later record of its
response; the fuzz found it the other way round, with the lines the walk doubts).
Measured and left with the walk: Arrow's match_substring to find values with escapes costs ~170 ms per 131k lines
(libc's memchr over the batch: ~2 ms; only a batch with a backslash looks further: _escaped_lines).
Seventeenth session (2026-11-30): where a 131k-line dns_versions batch went (~0.18 s CPU, 37 slots with both extra
reads on): the walk 0.068 s (0.043 of it for one key: matching ~16 keys at a record's top and ~11 under `dns` was the
rest), the copy per type 0.020, grouping by type 0.007, numpy's checks of spaced and string-holding arrays 0.007,
sizes 0.0025, the columns after _Records ~0.06. json_scan now finds keys in a hash table and makes those lines doubtful
itself (suricata_eve_walk): the parse of that batch (CPU, best of 9, HEAD's tree and this one alternated x3, load ~11)
0.183-0.191 -> 0.159-0.170 s; basic ~3 % less. Measured and left: the walk, grouping and sizes per ~2,000-line slice
(the lines in the cache; grouping, checks and sizes in one kernel): 0.094 -> 0.087-0.091 s per 131k lines for those
steps, and the one kernel without slices no cheaper (0.098): their cost is reading each line's bytes again, not numpy.
"""

from __future__ import annotations

import contextlib

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, only_where, per_distinct
from detector.ingest.base import (
    QUERY_ERRORS,
    BatchParser,
    Format,
    ParseContext,
    ParseResult,
    line_share,
    parse_cursor,
    split_outcomes,
)
from detector.ingest.distinct_sql import BIGINT_SQL, INTEGER_SQL, integers
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.proxy_columns import constant_text, first_valid, placed
from detector.ingest.row_edits import first_match_replaced
from detector.ingest.suricata_eve_walk import Walk, walked_path
from detector.ingest.syslog import BSD_TIME, ISO_TIME
from detector.schema import TIMESTAMP

EVENT_TYPES = ("tls", "http", "dns", "flow", "alert", "drop", "quic")
# How far apart (in lines) a DNS lookup's query and answer records may be and still be one event (_Lookups): each
# batch is parsed with that many lines before and after it (Format.context_lines), as the other DNS formats are.
PAIR_LINES = 4096

# The JSON paths each record type reads, after those every record reads.
COMMON = ("event_type", "timestamp", "src_ip", "dest_ip", "dest_port")
DROP = ("proto", "app_proto", "tls.sni", "http.hostname")
READS = {
    "tls": ("tls.sni",),
    "http": ("http.hostname", "http.url", "http.http_method", "http.status", "http.length", "http.http_user_agent",
             "http.http_content_type"),
    # v1/v2 name the query in `rrname`/`rrtype`, v3 in `queries`; answers: v1 `rdata`, v2 `answers` or `grouped`,
    # v3 `answers` (both arrays read as their JSON text, then once per distinct text)
    # (`flow_id` and `dns.id` tell a lookup's records: _Lookups)
    "dns": ("src_port", "flow_id", "dns.id", "dns.type", "dns.rrname", "dns.queries[0].rrname", "dns.rrtype",
            "dns.queries[0].rrtype", "dns.rcode", "dns.rdata", "dns.answers", "dns.grouped"),
    "flow": ("proto", "app_proto", "flow.bytes_toserver", "flow.bytes_toclient", "flow.start", "flow.end"),
    # Suricata 7+ says which way the alerting packet went (`direction`; to_client: its source is the server) and
    # the flow's own addresses (`flow.src_ip` ...: the client's side); the flow's HTTP request, if any (`http`)
    "alert": (*DROP, "alert.action", "direction", "src_port", "flow.src_ip", "flow.dest_ip", "flow.dest_port",
              "http.url", "http.http_method", "http.http_user_agent"),
    "drop": DROP,  # (a drop is a block, whatever its alert says)
    # Suricata 7+: QUIC's client Initial (HTTP/3) with the TLS SNI it carries; a record without one is ignored
    "quic": ("quic.sni",),
}
# The paths read by each guess: 0 every path (type not guessed), 1-6 an event type's, 7 a record that is no event.
GUESS_PATHS = (
    tuple(dict.fromkeys(COMMON + sum(READS.values(), ()))),
    *(COMMON + READS[kind] for kind in EVENT_TYPES),
    ("event_type",),
)
ANY_TYPE, OTHER_TYPE = 0, len(GUESS_PATHS) - 1

# Paths that a file's later batches read in the main query once its earlier batches show that they pay
# (Queries.extra): the hosts of an alert or drop without SNI or Host (OTHER_HOSTS_SQL). (A DNS v1 answer record's key,
# `flow_id` and `dns.id`, was one until every DNS record needed it: READS.) Otherwise a second query reads them on
# only the lines that need them, which parses those lines again (~0.5-1 µs a line); a path in the main query costs
# ~0.05-0.1 µs a line on every line of its type, so a file's batches read them there where at least the share given
# needs them.
IPS_OTHER = ("dns.query[0].rrname", "dns.queries[0].rrname", "quic.sni", "http.request_headers",
             "http.request.headers", "dns.answer.rrname")
EXTRA_READS = {"ips_hosts": {"alert": IPS_OTHER, "drop": IPS_OTHER}}
EXTRA_SHARES = {"ips_hosts": 1 / 4}

# The paths with an array index (`[0]`) per array: the walk (suricata_eve_walk) finds the array, whose items are read
# once per distinct array text (items_query)
_EVERY_PATH = tuple(dict.fromkeys(COMMON + sum(READS.values(), ()) + sum(
    (paths for reads in EXTRA_READS.values() for paths in reads.values()), ())))
ARRAY_ITEMS = {array: tuple(path for path in _EVERY_PATH if walked_path(path) == array and path != array)
               for array in dict.fromkeys(walked_path(path) for path in _EVERY_PATH if "[" in path)}


def items_query(paths: tuple[str, ...]) -> str:
    """The query of these paths' values (`a.b[0].c`: `$[0].c`) on the distinct texts of their array (columns
    `c1`, `c2` ... in their order)."""
    listed = ", ".join(f"'${path[path.index('['):]}'" for path in paths)
    columns = ", ".join(f"v[{at}] as c{at}" for at in range(1, len(paths) + 1))
    return f"select {columns} from (select json_extract_string(value, [{listed}]) as v from distinct_values)"


def kind_paths(kind: str, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The paths a record type's lines read: COMMON, READS and the extra reads turned on (`extra`) it has."""
    return COMMON + READS[kind] + tuple(path for name in extra for path in EXTRA_READS[name].get(kind, ()))


def guess_paths(guess: int, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """GUESS_PATHS[guess] with the extra reads turned on (`extra`)."""
    if guess == ANY_TYPE:
        return tuple(dict.fromkeys(sum((kind_paths(kind, extra) for kind in EVENT_TYPES), ())))
    return GUESS_PATHS[guess] if guess == OTHER_TYPE else kind_paths(EVENT_TYPES[guess - 1], extra)

# How Suricata writes the type, and the first four bytes of each type's value (with its closing quote if shorter).
TYPE_KEY, SPACED_TYPE_KEY = '"event_type":"', '"event_type": "'
TYPE_HEADS = np.array([int.from_bytes((kind + '"').encode()[:4], "little") for kind in EVENT_TYPES], np.uint32)

# Suricata's own time format (`2025-11-18T09:00:01.102345+0100`), read by Arrow; any other through SQL.
SURICATA_TIME_BYTES = {4: b"-", 7: b"-", 10: b"T", 13: b":", 16: b":", 19: b".", 26: b"+-"}
SURICATA_TIME_LENGTH = 31
TIME_SQL = "select try_cast(value as timestamptz) as ts from distinct_values"
CLEAN_HOST_SQL = "select clean_host(value) as value from distinct_values"
HOSTPORT_HOST_SQL = "select hostport_host(value) as value from distinct_values"
UPPER_SQL = "select upper(value) as value from distinct_values"
LOWER_SQL = "select lower(value) as value from distinct_values"
URL_PATH_SQL = """
select coalesce(rest_path(url_tail), split_part(split_part(url, '?', 1), '#', 1)) as value
from (select value as url, url_rest(value) as url_tail from distinct_values)
"""
# The answers kept are those the schema's dns_answers holds, as the other DNS formats keep them: A and AAAA
# addresses and CNAME targets (lower case, no trailing dot); TXT, MX, NS, PTR data and SOA, SRV, SSHFP objects
# are left out (rust/src/dns/log.rs writes the last as objects, which are no answer text).
ANSWER_TYPES = ("A", "AAAA", "CNAME")
# v2/v3 `answers` ("detailed": one object per record, its `rdata`), and the first record's name: the queried
# name where the record has no query (v2 logs `rrname` only when the response has a question; 6.x's docs show
# such an answer). Read as typed structs (`from_json`: a third cheaper than a path per record); `try`: a value
# that is not an array of objects is no answer.
ANSWERS_SQL = f"""
select nullif(list_transform(list_filter(r, lambda a: upper(a.rrtype) in {ANSWER_TYPES} and a.rdata is not null),
    lambda a: rtrim(lower(a.rdata), '.')), []) as value, r[1].rrname as name
from (select try(from_json(value, '[{{"rrname": "VARCHAR", "rrtype": "VARCHAR", "rdata": "VARCHAR"}}]')) as r
      from distinct_values)
"""
# v2/v3 `grouped` ("grouped": each type's data in an array under the type's name), CNAME targets first as in an
# answer section
GROUPED_SQL = """
select nullif(list_transform(list_filter(coalesce(g.CNAME, []) || coalesce(g.A, []) || coalesce(g.AAAA, []),
    lambda x: x is not null), lambda x: rtrim(lower(x), '.')), []) as value
from (select try(from_json(value, '{"CNAME": ["VARCHAR"], "A": ["VARCHAR"], "AAAA": ["VARCHAR"]}')) as g
      from distinct_values)
"""
# What may stand before a line's JSON object, with the object's `{`: EVE's `prefix` option (suricata.yaml:
# `#prefix: "@cee: "`), and a syslog header (`filetype: syslog`: BSD, ISO or RFC 5424, any host, any identity).
_CEE = r"(?:@cee: ?)?"
_SYSLOG_PREFIX = (rf"(?:<\d{{1,3}}> ?)?(?:{BSD_TIME}|{ISO_TIME})(?: \S+)*? [^\s\[\]:]+(?:\[[^\]]*\])?: "
                  r"|<\d{1,3}>1 \S+ \S+ \S+ \S+ \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+) ")
EVE_PREFIX = rf"^(?:{_SYSLOG_PREFIX})?{_CEE} *\{{"
HOST_SOURCES = pa.array(["dns_query", "sni", "http_host", "none"])
# Hosts that are not where the paths above look, read by a second, small query on only the records that lack one:
# - HTTP/2 (an `http` record, or an alert's `http` object, with `version` "2"): browsers send the `:authority`
#   pseudo-header, not Host, and Suricata 6-8 fill `hostname` from a Host header only (rust/src/http2/logger.rs;
#   `:authority` became `hostname` in 2026, OISF/suricata#16165); the headers are in `http.request_headers`
#   (Suricata 6.0.0's first releases: `http.request.headers`), as {"name": ..., "value": ...} objects;
# - an alert on a DNS flow carries the flow's query (its app-layer metadata, on by default): Suricata 6 and 7
#   `dns.query[0].rrname`, 8 (DNS v3) `dns.queries[0].rrname`, and an alert on a response in 6 and 7 its
#   `dns.answer.rrname` (docs: upgrade/8.0-dns-logging-changes); on a QUIC flow (7+) `quic.sni`.
# (IPS_OTHER's paths, in its order; a file whose alerts and drops often need them reads them in the main query)
# The `:authority` header's value among the two arrays of headers (as JSON text); null when there are none.
AUTHORITY = """case when {0} is not null or {1} is not null then
    list_filter(coalesce(try(json_extract({0}, '$[*]')), []) || coalesce(try(json_extract({1}, '$[*]')), []),
        lambda h: lower(h->>'name') = ':authority')[1]->>'value' end"""
OTHER_HOSTS_SQL = f"""
select row, coalesce(v[1], v[2], v[6]) as dns_name, v[3] as quic_sni, {AUTHORITY.format('v[4]', 'v[5]')} as authority
from (select row, try(json_extract_string(line, [{", ".join(f"'$.{path}'" for path in IPS_OTHER)}])) as v
      from other_lines)
"""
AUTHORITY_SQL = f"select row, {AUTHORITY.format('h1', 'h2')} as authority from headers"
# The application protocols whose alerts may carry such a host
_OTHER_HOST_PROTOCOLS = pa.array(["dns", "quic", "http", "http2"])
ACTIONS = pa.array(["blocked", "allowed", "unknown"])
REJECT_REASONS = pa.array(["not a valid JSON object", "no event_type"])


def groups_query(guesses: tuple[int, ...], tolerant: bool, extra: tuple[str, ...] = ()) -> str:
    """The lines of these guesses (`lines.guess`) in one query: per guess, in the order given, its rows
    (`row`, in batch order), whether the line is valid JSON (`parsed`) and its paths' values in columns
    `c1`, `c2`, ... (GUESS_PATHS order; null past the guess's own paths). One query, not one per guess:
    each costs ~4 ms whatever its rows, and the reader's batches of long lines are ~80k lines. The lists of
    values are made columns once, after the UNION ALL, not in each branch: a query of 6 branches is then
    planned in ~6 ms instead of ~11. Tolerant: a line that is not valid JSON gives nulls (`try`) instead of
    failing the query; that costs ~10%, so a batch is first read without it. `extra`: the extra reads turned on
    (guess_paths)."""
    width = max(len(guess_paths(guess, extra)) for guess in guesses)
    branches = []
    for guess in guesses:
        listed = ", ".join(f"'$.{path}'" for path in guess_paths(guess, extra))
        extract = f"json_extract_string(line, [{listed}])"
        branches.append(f"select {guess}::tinyint as guess, row, {f'try({extract})' if tolerant else extract} as value "
                        f"from lines where guess = {guess}")
    columns = ", ".join(f"value[{i}] as c{i}" for i in range(1, width + 1))
    return f"select guess, row, value is not null as parsed, {columns} from ({' union all '.join(branches)})"


class Queries:
    """The per-distinct queries of one file's parse, each remembering the values it has seen."""

    def __init__(self) -> None:
        self.time = DistinctQuery(TIME_SQL)
        self.integer = DistinctQuery(INTEGER_SQL)
        self.bigint = DistinctQuery(BIGINT_SQL)
        self.clean_host = DistinctQuery(CLEAN_HOST_SQL)
        self.hostport_host = DistinctQuery(HOSTPORT_HOST_SQL)
        self.upper = DistinctQuery(UPPER_SQL)
        self.lower = DistinctQuery(LOWER_SQL)
        self.url_path = DistinctQuery(URL_PATH_SQL)
        self.answers = DistinctQuery(ANSWERS_SQL)
        self.grouped = DistinctQuery(GROUPED_SQL)
        # Whether the file's last batch had a line that is not valid JSON: then the next batch is read with
        # the tolerant query at once (a failed strict read has cost most of a read; a file that has one such
        # line often has more). A hint shared by the file's two parse threads: a race costs time, not output.
        self.malformed_before = False
        # The extra reads (EXTRA_READS) the next batch makes in its main query, as the file's last batch needed
        # them: a hint like malformed_before (the values are the same wherever they are read).
        self.extra: tuple[str, ...] = ()
        # The compiled walk of the lines (set by eve_parser), and per array it finds, its items' query (items_query)
        self.walk: Walk | None = None
        self.items = {array: DistinctQuery(items_query(paths)) for array, paths in ARRAY_ITEMS.items()}

    def need(self, name: str, needed: int, among: int) -> None:
        """Turn an extra read on for the next batches if `needed` of the `among` lines it is made on need it
        (at least its EXTRA_SHARES), off otherwise."""
        on = among > 0 and needed >= EXTRA_SHARES[name] * among
        if on != (name in self.extra):
            self.extra = tuple(sorted(set(self.extra) ^ {name}))


def eve_parser(context: ParseContext) -> BatchParser:
    queries = Queries()
    queries.walk = Walk()

    def parse(lines: pa.Table) -> ParseResult:
        # A cursor of its own per batch: batches are parsed on two threads at once.
        with parse_cursor(context.connection) as cursor:
            return split_outcomes(_columns(cursor, queries, lines), lines)

    return parse


def _guesses(text: pa.Array) -> np.ndarray:
    """Each line's record type (see GUESS_PATHS) by the text after `"event_type":"` (or, on the lines without
    it, `"event_type": "`, as JSON tools space it): a guess, checked by the parse (the text may sit inside a
    value, the JSON be spaced otherwise, a type begin like another). Where the text is looked for: _places."""
    offsets, data = _layout(text)
    if len(data) < WINDOW:
        data = np.concatenate([data, np.zeros(WINDOW, np.uint8)])
    # each byte's WINDOW bytes as one item: one gather reads a line's key and the value's head (past a line's end
    # they are the next line's, and the last line's may be read from before its place: the check catches that guess)
    windows = np.ndarray((len(data) - WINDOW + 1,), np.dtype((np.void, WINDOW)), data, strides=(1,))
    starts = offsets[:-1]
    at, head = _places(text, starts, offsets[1:] - starts, windows)
    rest = np.flatnonzero(at < 0)
    if len(rest):
        searched = text if len(rest) == len(text) else text.take(pa.array(rest))
        found = pc.fill_null(pc.find_substring(searched, TYPE_KEY), -1).to_numpy(zero_copy_only=False).astype(np.int64)
        value_at = found + len(TYPE_KEY)
        missing = np.flatnonzero(found < 0)
        if len(missing):
            found[missing] = pc.fill_null(pc.find_substring(searched.take(pa.array(missing)), SPACED_TYPE_KEY),
                                          -1).to_numpy(zero_copy_only=False)
            value_at[missing] = found[missing] + len(SPACED_TYPE_KEY)
        at[rest] = found
        head[rest] = _window_words(windows, starts[rest] + value_at)[:, 0] & 0xFFFFFFFF
    guess = np.full(len(text), OTHER_TYPE, np.int8)
    for number, value in enumerate(TYPE_HEADS, start=1):
        guess[head == value] = number
    guess[at < 0] = ANY_TYPE
    return guess


# Lines whose `"event_type":"` is searched to learn where a batch's lines have it; a place is then checked on every
# line if at least PLACE_SHARE of them have it there, the PLACES_TRIED commonest at most.
PLACE_SAMPLE, PLACE_SHARE, PLACES_TRIED = 256, 1 / 16, 4
# The bytes read at a place (a multiple of 8): TYPE_KEY and the first four bytes of its value.
WINDOW = 24
_KEY_BYTES = TYPE_KEY.encode()
# TYPE_KEY as little-endian 64-bit words: bytes 0-7, and 8-13 under a mask
_KEY_FIRST = int.from_bytes(_KEY_BYTES[:8], "little")
_KEY_REST_MASK = (1 << 8 * (len(_KEY_BYTES) - 8)) - 1
_KEY_REST = int.from_bytes(_KEY_BYTES[8:], "little")


def _window_words(windows: np.ndarray, places: np.ndarray) -> np.ndarray:
    """The WINDOW bytes from each place (kept inside the data) as rows of little-endian 64-bit words."""
    return windows[np.minimum(places, len(windows) - 1)].view("<u8").reshape(len(places), WINDOW // 8)


def _places(text: pa.Array, starts: np.ndarray, lengths: np.ndarray, windows: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Where each line has `"event_type":"` (bytes from its start; -1 where not found here) and the four bytes
    after it (as one little-endian number). Suricata writes each record's common keys first, in one order (the EVE
    format's "Common Section": timestamp, flow_id, in_iface, event_type, ...), so a file's lines have it at a few
    places only, set by the lengths of the values before it (flow_id's digits, the interface's name): the places
    found by searching a sample of the lines are checked on every line, each with one read of the line's bytes there
    (a search, Arrow's find_substring, reads every byte before the key: ~0.2 µs a line for a key 80 bytes in, the
    read at one place ~0.03). The caller searches the lines it is at none of. A line may have the text at a place
    tried and also earlier, inside a nested object: its guess is then the later one's, and like any guess it is
    checked by the parse."""
    count = len(text)
    at, head = np.full(count, -1, np.int64), np.zeros(count, np.uint64)
    if not count:
        return at, head
    sample = np.unique(np.linspace(0, count - 1, min(count, PLACE_SAMPLE)).astype(np.int64))
    found = pc.fill_null(pc.find_substring(text.take(pa.array(sample)), TYPE_KEY), -1).to_numpy(zero_copy_only=False)
    places, seen = np.unique(found[found >= 0], return_counts=True)
    commonest = np.argsort(-seen, kind="stable")[:PLACES_TRIED]
    tried = places[commonest][seen[commonest] >= PLACE_SHARE * len(sample)]
    rest = np.arange(count)
    for place in tried:
        words = _window_words(windows, starts[rest] + place)
        hit = (lengths[rest] >= place + len(_KEY_BYTES)) & (words[:, 0] == _KEY_FIRST) \
            & ((words[:, 1] & _KEY_REST_MASK) == _KEY_REST)
        rows = rest[hit]
        at[rows] = place
        head[rows] = (words[hit, 1] >> 48) | ((words[hit, 2] & 0xFFFF) << 16)
        rest = rest[~hit]
        if not len(rest):
            break
    return at, head


def _event_numbers(event_type: pa.Array) -> np.ndarray:
    """Each record type's place in EVENT_TYPES; -1 for any other type and where there is none."""
    return pc.fill_null(pc.index_in(event_type, value_set=pa.array(EVENT_TYPES)), -1).to_numpy(zero_copy_only=False)


class _Records:
    """A batch's lines read by record type: for each event type, its rows and a table of their paths' values
    (compact: only those rows), spread back to the batch's rows at the end."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, text: pa.Array, queries: Queries) -> None:
        self.count = len(text)
        self.extra = extra = queries.extra
        walk = queries.walk
        if walk is not None and walk.tried and text.type == pa.string():  # (the walk reads 32-bit offsets)
            read, guess = _walked(connection, queries, walk, text, extra)
        else:
            guess = _guesses(text)
            guessed = tuple(int(number) for number in np.flatnonzero(np.bincount(guess, minlength=len(GUESS_PATHS)))
                            if number != ANY_TYPE)
            read = _read(connection, text, guess, guessed, queries.malformed_before, extra)
            for number, (rows, table, found) in read.items():  # the parse's type against the guess
                wrong = (found >= 0) & (found != number)
                if wrong.any():
                    guess[rows[wrong]] = ANY_TYPE
                    read[number] = rows[~wrong], table.filter(pa.array(~wrong)), found[~wrong]
        if (guess == ANY_TYPE).any():
            read.update(_read(connection, text, guess, (ANY_TYPE,), queries.malformed_before, extra))
        self.parsed = np.zeros(self.count, bool)
        self.found = np.full(self.count, -1)  # see _found
        parts: dict[str, list[tuple[np.ndarray, pa.Table]]] = {kind: [] for kind in EVENT_TYPES}
        for number, (rows, table, found) in read.items():
            self.parsed[rows] = table.column("parsed").to_numpy()
            self.found[rows] = found
            for kind in EVENT_TYPES if number == ANY_TYPE else EVENT_TYPES[number - 1:number]:
                mine = found == EVENT_TYPES.index(kind) + 1
                paths = list(kind_paths(kind, extra))
                parts[kind].append((rows[mine], table.select(paths).filter(pa.array(mine)) if not mine.all()
                                    else table.select(paths)))
        queries.malformed_before = not self.parsed.all()
        self.kinds = {kind: _in_batch_order(parts[kind], kind_paths(kind, extra)) for kind in EVENT_TYPES}
        self._places: dict[tuple[str, ...], pa.Array] = {}  # see spread
        self._rows: dict[tuple[str, ...], np.ndarray] = {}  # see rows

    def reads(self, name: str) -> bool:
        """Whether this batch made the extra read `name` (EXTRA_READS) in its main query."""
        return name in self.extra

    def rows(self, *kinds: str) -> np.ndarray:
        """The rows of these record types (in the order `at` gives their values)."""
        if kinds not in self._rows:
            self._rows[kinds] = np.concatenate([self.kinds[kind][0] for kind in kinds])
        return self._rows[kinds]

    def at(self, path: str, *kinds: str) -> pa.Array:
        """`path`'s text on the rows of these record types."""
        return _one_array([chunk for kind in kinds for chunk in self.kinds[kind][1].column(path).chunks],
                          pa.string())

    def spread(self, kinds: tuple[str, ...], values: pa.Array) -> pa.Array:
        """Values of the rows of these record types (as `at` gives them) as a column of the batch: null on the
        other rows (dictionaries stay encoded)."""
        if kinds not in self._places:
            index = np.full(self.count, -1, np.int64)
            rows = self.rows(*kinds)
            index[rows] = np.arange(len(rows))
            self._places[kinds] = pa.array(index, mask=index < 0)
        return values.take(self._places[kinds])


def _in_batch_order(parts: list[tuple[np.ndarray, pa.Table]], paths: tuple[str, ...]) -> tuple[np.ndarray, pa.Table]:
    """A record type's parts (rows and their values) as one, its rows in batch order: the lines read apart (those the
    walk doubts, or whose type was not guessed) among the others, as _Lookups' "first record of its lookup" needs
    them."""
    if len(parts) == 1:
        return parts[0]
    rows = np.concatenate([rows for rows, _ in parts] + [np.zeros(0, np.int64)])
    table = pa.concat_tables([table for _, table in parts] or [_NO_ROWS.select(list(paths))])
    if len(rows) > 1 and (np.diff(rows) < 0).any():
        order = np.argsort(rows, kind="stable")
        rows, table = rows[order], table.take(pa.array(order))
    return rows, table


def _walked(connection: duckdb.DuckDBPyConnection, queries: Queries, walk: Walk, text: pa.Array,
            extra: tuple[str, ...]) -> tuple[dict[int, tuple[np.ndarray, pa.Table, np.ndarray]], np.ndarray]:
    """What _read gives, read by the walk: per record type found, its rows, their paths' values as text and the
    type; the other lines (another record, or no event_type) under OTHER_TYPE. The lines the walk doubts are
    guessed ANY_TYPE (for _read), the others no guess."""
    count = len(text)
    walked = {number: tuple(dict.fromkeys(walked_path(path) for path in kind_paths(kind, extra)))
              for number, kind in enumerate(EVENT_TYPES, start=1)}
    found, groups = walk.grouped(text, guess_paths(ANY_TYPE, extra), "event_type", _TYPE_NUMBERS, OTHER_TYPE, walked)
    doubtful = found == -2
    guess = np.where(doubtful, ANY_TYPE, -1).astype(np.int8)
    if 2 * doubtful.sum() > count:
        walk.tried = False
    read = {}
    for number, group in groups.items():
        paths = kind_paths(EVENT_TYPES[number - 1], extra)
        values = group.values
        for array, items in ARRAY_ITEMS.items():
            if array in values and any(path in paths for path in items):
                found_items = per_distinct(connection, values[array], queries.items[array])
                values.update({path: _decoded(found_items[f"c{at}"]) for at, path in enumerate(items, start=1)})
        rows = group.rows
        read[number] = rows, pa.table({"parsed": np.ones(len(rows), bool), **{path: values[path] for path in paths}}), \
            np.full(len(rows), number)
    others = np.flatnonzero((found == OTHER_TYPE) | (found == -1))
    read[OTHER_TYPE] = others, pa.table({"parsed": np.ones(len(others), bool)}), found[others]
    return read, guess


# The guess each event type calls for (see _found)
_TYPE_NUMBERS = {kind: number for number, kind in enumerate(EVENT_TYPES, start=1)}


def _read(connection: duckdb.DuckDBPyConnection, text: pa.Array, guess: np.ndarray, guesses: tuple[int, ...],
          tolerant: bool, extra: tuple[str, ...] = ()) -> dict[int, tuple[np.ndarray, pa.Table, np.ndarray]]:
    """Per guess: its rows, their paths' values (columns named by path) and the record type the parse found
    (see _found). Not `tolerant`: the strict query first, the tolerant one only if a line is not valid JSON."""
    if not guesses:
        return {}
    guesses = tuple(sorted(guesses))  # (the branches' order, which a reordered result is sorted back to)
    connection.register("lines", pa.table({"line": text, "guess": guess, "row": np.arange(len(text), dtype=np.int32)}))
    try:
        table = None
        if not tolerant:
            # a line that is not valid JSON (any other error, the tolerant query raises)
            with contextlib.suppress(*QUERY_ERRORS):
                table = connection.sql(_GROUPS_QUERIES[guesses, False, extra]).to_arrow_table()
        if table is None:
            table = connection.sql(_GROUPS_QUERIES[guesses, True, extra]).to_arrow_table()
    finally:
        connection.unregister("lines")
    rows = [np.flatnonzero(guess == number) for number in guesses]
    if not _in_order(table, rows):
        table = table.take(np.lexsort((table.column("row").to_numpy(), table.column("guess").to_numpy())))
    read, start = {}, 0
    for number, mine in zip(guesses, rows, strict=True):
        paths = guess_paths(number, extra)
        part = table.slice(start, len(mine))
        part = pa.table([part.column("parsed"), *(part.column(f"c{i}") for i in range(1, len(paths) + 1))],
                        names=["parsed", *paths])
        read[number] = mine, part, _found(part, number)
        start += len(mine)
    return read


def _in_order(table: pa.Table, rows: list[np.ndarray]) -> bool:
    """Whether the query's rows came back branch after branch, each in batch order (DuckDB keeps insertion
    order unless told otherwise; checked, not assumed)."""
    return np.array_equal(table.column("row").to_numpy(), np.concatenate(rows))


class _GroupsQueries(dict[tuple[tuple[int, ...], bool, tuple[str, ...]], str]):
    """groups_query's text for each set of guesses (and extra reads) a batch has, made once."""

    def __missing__(self, key: tuple[tuple[int, ...], bool, tuple[str, ...]]) -> str:
        self[key] = groups_query(*key)
        return self[key]


_GROUPS_QUERIES = _GroupsQueries()


def _found(table: pa.Table, guess: int) -> np.ndarray:
    """The guess each row's parsed event_type calls for: 1-6 an event type, 7 another record; -1 where the line
    is no valid JSON or has no event_type (it is rejected whatever its guess). A comparison with the guessed
    type first: it is nearly always right, and one comparison costs a fifth of a lookup in every type."""
    event_type = table.column("event_type")
    if ANY_TYPE < guess < OTHER_TYPE and _flag(pc.equal(event_type, EVENT_TYPES[guess - 1])).all():
        return np.full(len(table), guess)
    number = _event_numbers(event_type)
    found = np.where(number >= 0, number + 1, OTHER_TYPE)
    return np.where(event_type.is_valid().to_numpy(zero_copy_only=False), found, -1)


# A read of no lines, with every path's column.
_NO_ROWS = pa.table({path: pa.array([], pa.string()) for path in guess_paths(ANY_TYPE, tuple(EXTRA_READS))})


def _columns(connection: duckdb.DuckDBPyConnection, queries: Queries, lines: pa.Table) -> pa.Table:
    """EVE lines -> schema columns plus reject_reason / is_ignored (see base.split_outcomes)."""
    text = _without_prefixes(_one_array(lines.column("line").chunks, pa.string()))
    records = _Records(connection, text, queries)
    ok = records.parsed & _starts_an_object(text)
    answers = per_distinct(connection, records.at("dns.answers", "dns"), queries.answers)
    lookups = _Lookups(records, ok)
    columns = {
        "line_no": lines.column("line_no"),
        "reject_reason": constant_text(REJECT_REASONS, np.where(~ok, 0, np.where(records.found >= 0, -1, 1))),
        "is_ignored": pa.array(ok & ((records.found == OTHER_TYPE) | _quic_without_sni(records) | lookups.ignored)),
        "ts": records.spread(EVENT_TYPES, _times(connection, queries, records.at("timestamp", *EVENT_TYPES))),
        **_addresses(connection, queries, records),
        **_hosts(connection, queries, records, text, answers["name"], lookups),
        **_http_columns(connection, queries, records),
        **_flow_columns(connection, queries, records),
        **_dns_columns(connection, queries, records, answers["value"], lookups),
    }
    return pa.table(columns)


def _addresses(connection: duckdb.DuckDBPyConnection, queries: Queries, records: _Records) -> dict[str, pa.Array]:
    """src_ip, dst_ip and dst_port, always from the client's side: a DNS answer logged from the server (port 53) is
    turned around. An alert's addresses are its packet's, which may be the server's reply: Suricata 7+ gives the
    flow's own (`flow.src_ip`, `flow.dest_ip`, `flow.dest_port`: as the flow was opened), used where there; else an
    alert that says its packet went to the client (`"direction":"to_client"`) is turned around; else (Suricata 6 and
    older say neither) one on a flow whose application protocol Suricata found (`app_proto`: so it has a server)
    from a system port (below 1024, where servers listen) to a port above it (where clients' ephemeral ports are),
    a server's reply (an HTTP response's alert, port 80 -> 47592), is turned around. Any other alert keeps its
    packet's addresses."""
    dns, alert = ("dns",), ("alert",)
    others = tuple(kind for kind in EVENT_TYPES if kind not in (*dns, *alert))
    dns_turned = pc.and_(pc.and_(
        pc.is_in(records.at("dns.type", *dns), value_set=pa.array(["answer", "response"])),
        pc.equal(records.at("src_port", *dns), "53")), pc.not_equal(records.at("dest_port", *dns), "53"))
    alert_turned = _alert_turned(connection, queries, records)
    src_ip, dst_ip, dst_port = [], [], []
    for kinds, turned in ((dns, dns_turned), (alert, alert_turned)):
        source, destination = records.at("src_ip", *kinds), records.at("dest_ip", *kinds)
        source_port, destination_port = records.at("src_port", *kinds), records.at("dest_port", *kinds)
        turned = pa.array(_flag(turned))
        if pc.any(turned).as_py():
            source, destination, destination_port = (pc.if_else(turned, destination, source),
                                                     pc.if_else(turned, source, destination),
                                                     pc.if_else(turned, source_port, destination_port))
        if kinds == alert:
            flow_source, flow_destination = records.at("flow.src_ip", *alert), records.at("flow.dest_ip", *alert)
            of_flow = pc.and_(pc.is_valid(flow_source), pc.is_valid(flow_destination))
            if pc.any(of_flow).as_py():
                source, destination = pc.if_else(of_flow, flow_source, source), \
                    pc.if_else(of_flow, flow_destination, destination)
                destination_port = pc.if_else(of_flow, records.at("flow.dest_port", *alert), destination_port)
        src_ip.append(source)
        dst_ip.append(destination)
        dst_port.append(destination_port)
    kinds = (*dns, *alert, *others)
    return {
        "src_ip": records.spread(kinds, pa.concat_arrays([*src_ip, records.at("src_ip", *others)])),
        "dst_ip": records.spread(kinds, pa.concat_arrays([*dst_ip, records.at("dest_ip", *others)])),
        "dst_port": records.spread(kinds, integers(connection, queries.integer, pa.concat_arrays(
            [*dst_port, records.at("dest_port", *others)]), pa.int32())),
    }


# Ports below this are IANA's system ports, where servers listen; clients' ephemeral ports are above (_addresses)
SYSTEM_PORTS = 1024


def _alert_turned(connection: duckdb.DuckDBPyConnection, queries: Queries, records: _Records) -> pa.Array:
    """Which alerts' packets went to the client: those that say so (`direction`), and of those that say no
    direction, the ones on a flow with an application protocol from a system port to a port above (_addresses)."""
    direction = records.at("direction", "alert")
    said = pc.equal(direction, "to_client")
    app_proto = records.at("app_proto", "alert")
    unsaid = pc.and_(pc.is_null(direction), pc.and_(pc.is_valid(app_proto), pc.not_equal(app_proto, "failed")))
    if not pc.any(unsaid).as_py():
        return said
    source_port = integers(connection, queries.integer, records.at("src_port", "alert"), pa.int32())
    destination_port = integers(connection, queries.integer, records.at("dest_port", "alert"), pa.int32())
    reply = pc.and_(pc.less(source_port, SYSTEM_PORTS), pc.greater_equal(destination_port, SYSTEM_PORTS))
    return pc.or_(pc.fill_null(said, False), pc.fill_null(pc.and_(unsaid, reply), False))


def _hosts(connection: duckdb.DuckDBPyConnection, queries: Queries, records: _Records, text: pa.Array,
           answer_name: pa.Array, lookups: _Lookups) -> dict[str, pa.Array]:
    """host and host_source: a DNS record's query name, a TLS record's SNI, an HTTP record's Host (HTTP/2: its
    `:authority`); an alert's or drop's SNI, else its Host, else its DNS query, QUIC SNI or `:authority` (see
    OTHER_HOSTS_SQL). network_protocol: the record type, or for flows and IPS records the application protocol
    Suricata found, else the transport. A DNS record's name: v1/v2 `rrname`, v3 `queries[0].rrname`, else (a response
    without a question) its first answer's name (`answer_name`, per DNS record); a lookup's event without one takes
    its other records' (_Lookups: a v1 answer record past a CNAME names the alias's target, so only the lookup's first
    record names it)."""
    dns_name = per_distinct(connection, lookups.filled(pc.coalesce(records.at("dns.rrname", "dns"),
                                                                   records.at("dns.queries[0].rrname", "dns"),
                                                                   _decoded(answer_name))),
                            queries.clean_host)["value"]
    sni = per_distinct(connection, pa.concat_arrays([records.at("tls.sni", "tls"), records.at("quic.sni", "quic")]),
                       queries.clean_host)["value"]
    http_host = per_distinct(connection, records.at("http.hostname", "http"), queries.hostport_host)["value"]
    ips_sni = per_distinct(connection, records.at("tls.sni", "alert", "drop"), queries.clean_host)["value"]
    ips_host = per_distinct(connection, records.at("http.hostname", "alert", "drop"), queries.hostport_host)["value"]
    ips = records.rows("alert", "drop")
    http_rows = records.rows("http")
    # the records that may have a host elsewhere (OTHER_HOSTS_SQL): HTTP without a Host, alerts and drops on
    # DNS, QUIC and HTTP flows without an SNI or Host (their values in the order: http rows, then ips rows)
    http_other = ~_flag(pc.is_valid(records.at("http.hostname", "http")))
    ips_other = ~_flag(pc.is_valid(records.at("tls.sni", "alert", "drop"))) \
        & ~_flag(pc.is_valid(records.at("http.hostname", "alert", "drop"))) \
        & _flag(pc.is_in(records.at("app_proto", "alert", "drop"), value_set=_OTHER_HOST_PROTOCOLS))
    queries.need("ips_hosts", int(ips_other.sum()), len(ips))
    ips_dns = ips_sni_other = None
    # (read by the main query when the file's alerts and drops often need them: then only HTTP records here)
    in_main = records.reads("ips_hosts")
    if http_other.any() or (ips_other.any() and not in_main):
        other = _other_hosts(connection, queries, text,
                             np.concatenate([http_rows[http_other], ips[ips_other & (not in_main)]]))
        count = int(http_other.sum())
        http_host = _filled(http_host, http_other, other["authority"].slice(0, count))
        if not in_main:
            ips_host = _filled(ips_host, ips_other, other["authority"].slice(count))
            ips_dns = _filled(pa.nulls(len(ips), pa.string()), ips_other, other["dns_name"].slice(count))
            ips_sni_other = _filled(pa.nulls(len(ips), pa.string()), ips_other, other["quic_sni"].slice(count))
    if in_main and ips_other.any():
        other = _ips_other_hosts(connection, queries, records, ips_other)
        ips_host = _filled(ips_host, ips_other, other["authority"])
        ips_dns = _filled(pa.nulls(len(ips), pa.string()), ips_other, other["dns_name"])
        ips_sni_other = _filled(pa.nulls(len(ips), pa.string()), ips_other, other["quic_sni"])
    source = np.full(records.count, 3)  # none
    for kinds, host, number in ((("dns",), dns_name, 0), (_SNI_KINDS, sni, 1), (("http",), http_host, 2)):
        source[records.rows(*kinds)[_flag(pc.is_valid(host))]] = number
    ips_hosts = [ips_sni, ips_host]
    ips_has_sni = _flag(pc.is_valid(ips_sni))
    source[ips[ips_has_sni]] = 1
    ips_has_host = ~ips_has_sni & _flag(pc.is_valid(ips_host))
    source[ips[ips_has_host]] = 2
    if ips_dns is not None:  # (then the DNS query, then QUIC's SNI)
        ips_has_dns = ~ips_has_sni & ~ips_has_host & _flag(pc.is_valid(ips_dns))
        source[ips[ips_has_dns]] = 0
        source[ips[~ips_has_sni & ~ips_has_host & ~ips_has_dns & _flag(pc.is_valid(ips_sni_other))]] = 1
        ips_hosts += [ips_dns, ips_sni_other]
    app_proto = records.at("app_proto", "flow", "alert", "drop")
    transport = pc.if_else(_flag(pc.not_equal(app_proto, "failed")), app_proto,
                           records.at("proto", "flow", "alert", "drop"))
    named = [(records.rows(kind), pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(len(records.rows(kind)), np.int32)), pa.array([kind])))
        for kind in ("tls", "http", "dns", "quic")]
    return {
        "host": placed(records.count, [(records.rows("dns"), dns_name), (records.rows(*_SNI_KINDS), sni),
                                       (http_rows, http_host), (ips, first_valid(*ips_hosts))]),
        "host_source": constant_text(HOST_SOURCES, source),
        "network_protocol": placed(records.count, [*named, (records.rows("flow", "alert", "drop"), per_distinct(
            connection, transport, queries.lower)["value"])]),
    }


class _Lookups:
    """The DNS records of a batch grouped by lookup: the records of one flow (`flow_id`) with one DNS id (`dns.id`)
    are a query and its answer (v1: one answer record per answer; v2: one with `answers` or `grouped`; v3: `request`
    and `response`). A lookup is one event, as the other DNS formats give it: its query record (v1/v2 `query`,
    v3 `request`) and the records after it up to the next query of the key, else (answers logged without their
    query, or the query too far away) its first record; its other records are ignored (accounted for), their answers,
    response code, query type and name joined to the event. A record without both keys, and a line rejected, is a
    lookup of its own (see the module docstring for the lines around a batch)."""

    def __init__(self, records: _Records, ok: np.ndarray) -> None:
        dns_rows = records.rows("dns")
        count = len(dns_rows)
        # the key (flow_id, dns.id) as one number: the two texts' codes combined (-1: either is missing)
        flow, dns_id = (pc.dictionary_encode(records.at(path, "dns")) for path in ("flow_id", "dns.id"))
        flow_code, id_code = (pc.fill_null(codes.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
                              for codes in (flow, dns_id))
        code = np.where((flow_code < 0) | (id_code < 0), -1, flow_code * len(dns_id.dictionary) + id_code)
        code[~ok[dns_rows]] = -1
        alone = code < 0
        code[alone] = code.max(initial=-1) + 1 + np.arange(int(alone.sum()))
        # Per key in batch order, a lookup starts at the key's first record, at each query record after the key's
        # first (a DNS id is 16 bits: a forwarder's long-lived flow reuses it, and each query is a lookup of its own;
        # records before the first query join it), and after MAX_LOOKUP_RECORDS records (a bound on what one event
        # joins, whatever a file repeats).
        request = _flag(pc.is_in(records.at("dns.type", "dns"), value_set=_REQUEST_TYPES))
        order = np.lexsort((np.arange(count), code))
        place = np.arange(count)
        new_key = np.r_[True, code[order][1:] != code[order][:-1]] if count else np.zeros(0, bool)
        key_start = np.maximum.accumulate(np.where(new_key, place, 0))
        queries = np.cumsum(request[order])
        starts = new_key | (request[order] & (queries - (queries - request[order])[key_start] >= 2))
        since = place - np.maximum.accumulate(np.where(starts, place, 0))
        starts |= since % MAX_LOOKUP_RECORDS == 0
        self.group = np.empty(count, np.int64)
        self.group[order] = np.cumsum(starts) - 1
        self.groups = int(starts.sum())
        self.merged = self.groups < count  # (else every record is its own lookup: nothing to join)
        self.event = np.ones(count, bool)
        if self.merged:  # a lookup's event: its query, else its first record
            by_lookup = np.lexsort((place, ~request, self.group))
            first = np.r_[True, self.group[by_lookup][1:] != self.group[by_lookup][:-1]]
            self.event[:] = False
            self.event[by_lookup[first]] = True
        self.ignored = np.zeros(records.count, bool)
        self.ignored[dns_rows[~self.event]] = True

    def filled(self, values: pa.Array) -> pa.Array:
        """Per DNS record, its value; on an event without one, the first value of its lookup's other records."""
        if not self.merged:
            return values
        valid = _flag(pc.is_valid(values))
        rows = np.flatnonzero(valid)[::-1]
        first = np.full(self.groups, -1, np.int64)
        first[self.group[rows]] = rows  # (the last write of a place wins: the earliest row)
        place = np.arange(len(values))
        wanted = self.event & ~valid
        place[wanted] = first[self.group[wanted]]
        return values.take(pa.array(place, mask=place < 0)) if wanted.any() else values

    def joined(self, lists: pa.Array) -> pa.Array:
        """Per DNS record that is its lookup's event, the lists of the lookup's records one after another in batch
        order (null where none, and on the records joined to an event: they are no events)."""
        if not self.merged:
            return lists
        order = np.lexsort((np.arange(len(lists)), self.group))
        taken = lists.take(pa.array(order))
        lengths = pc.fill_null(pc.list_value_length(taken), 0).to_numpy(zero_copy_only=False)
        sizes = np.bincount(self.group[order], weights=lengths, minlength=self.groups).astype(np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32)
        per_lookup = pa.ListArray.from_arrays(pa.array(offsets), taken.flatten(), mask=pa.array(sizes == 0))
        return per_lookup.take(pa.array(self.group, mask=~self.event))


# The records whose host is a TLS SNI: TLS's, and QUIC's (the SNI of its TLS client hello)
_SNI_KINDS = ("tls", "quic")


def _other_hosts(connection: duckdb.DuckDBPyConnection, queries: Queries, text: pa.Array, rows: np.ndarray
                 ) -> dict[str, pa.Array]:
    """OTHER_HOSTS_SQL on these rows of the batch: dns_name and quic_sni cleaned as hosts, authority as a
    host:port's host; in the order of `rows`."""
    connection.register("other_lines", pa.table({"row": np.arange(len(rows), dtype=np.int32),
                                                 "line": text.take(pa.array(rows))}))
    try:
        table = connection.sql(OTHER_HOSTS_SQL).to_arrow_table()
    finally:
        connection.unregister("other_lines")
    order = table.column("row").to_numpy()
    if not np.array_equal(order, np.arange(len(rows))):
        table = table.take(np.argsort(order))
    return {
        "dns_name": per_distinct(connection, table.column("dns_name").combine_chunks(), queries.clean_host)["value"],
        "quic_sni": per_distinct(connection, table.column("quic_sni").combine_chunks(), queries.clean_host)["value"],
        "authority": per_distinct(connection, table.column("authority").combine_chunks(),
                                  queries.hostport_host)["value"],
    }


def _ips_other_hosts(connection: duckdb.DuckDBPyConnection, queries: Queries, records: _Records,
                     where: np.ndarray) -> dict[str, pa.Array]:
    """What _other_hosts gives for the alerts and drops `where` says (in their order), from IPS_OTHER's paths as
    the main query read them: only the `:authority` of the few that have headers takes a query."""
    keep = pa.array(where)

    def values(path: str) -> pa.Array:
        return records.at(path, "alert", "drop").filter(keep)

    headers = pa.table({"row": np.arange(int(where.sum()), dtype=np.int32), "h1": values(IPS_OTHER[3]),
                        "h2": values(IPS_OTHER[4])})
    has = _flag(pc.or_(pc.is_valid(headers.column("h1")), pc.is_valid(headers.column("h2"))))
    authority = pa.nulls(len(has), pa.string())
    if has.any():
        connection.register("headers", headers.filter(pa.array(has)))
        try:
            found = connection.sql(AUTHORITY_SQL).to_arrow_table()
        finally:
            connection.unregister("headers")
        found = found.take(np.argsort(found.column("row").to_numpy(), kind="stable"))
        place = np.full(len(has), -1, np.int64)
        place[has] = np.arange(int(has.sum()))
        authority = found.column("authority").combine_chunks().take(pa.array(place, mask=place < 0))
    dns_name = pc.coalesce(values(IPS_OTHER[0]), values(IPS_OTHER[1]), values(IPS_OTHER[5]))
    return {
        "dns_name": per_distinct(connection, dns_name, queries.clean_host)["value"],
        "quic_sni": per_distinct(connection, values(IPS_OTHER[2]), queries.clean_host)["value"],
        "authority": per_distinct(connection, authority, queries.hostport_host)["value"],
    }


def _filled(values: pa.Array, where: np.ndarray, found: pa.Array) -> pa.DictionaryArray:
    """`values` with `found` (one value per true place of `where`, in order) put in those places."""
    place = np.full(len(values), -1, np.int64)
    place[where] = np.arange(int(where.sum()))
    spread = found.take(pa.array(place, mask=place < 0))
    return first_valid(spread, values)


def _quic_without_sni(records: _Records) -> np.ndarray:
    """The QUIC records that carry no SNI (a server's packets, short headers: nothing the flow record lacks)."""
    rows = records.rows("quic")
    ignored = np.zeros(records.count, bool)
    if len(rows):
        ignored[rows[~_flag(pc.is_valid(records.at("quic.sni", "quic")))]] = True
    return ignored


def _http_columns(connection: duckdb.DuckDBPyConnection, queries: Queries, records: _Records
                  ) -> dict[str, pa.Array]:
    """The HTTP record's request and response, and an alert's request (method, URL, user agent: its `http` object);
    the decision of alerts and drops (`action`)."""
    alerts, alert_action = records.rows("alert"), records.at("alert.action", "alert")
    action = np.full(records.count, 2)  # unknown
    action[alerts[_flag(pc.equal(alert_action, "allowed"))]] = 1
    action[alerts[_flag(pc.equal(alert_action, "blocked"))]] = 0
    action[records.rows("drop")] = 0

    def spread(values: pa.Array) -> pa.Array:
        return records.spread(("http",), values)

    def spread_request(values: pa.Array) -> pa.Array:  # (an alert's `http` object: its flow's request)
        return records.spread(("http", "alert"), values)

    method = per_distinct(connection, records.at("http.http_method", "http", "alert"), queries.upper)["value"]
    url_path = per_distinct(connection, records.at("http.url", "http", "alert"), queries.url_path)["value"]
    # CONNECT's URL is its tunnel's host:port (RFC 9110 9.3.6), no path
    is_connect = pc.equal(method.dictionary, "CONNECT").to_numpy(zero_copy_only=False)
    if is_connect.any():
        connect = pc.fill_null(pc.is_in(method.indices, value_set=pa.array(np.flatnonzero(is_connect),
                                                                             method.indices.type)), False)
        url_path = only_where(url_path, pc.invert(connect))
    return {
        "http_method": spread_request(method),
        "url_path": spread_request(url_path),
        "http_status": spread(integers(connection, queries.integer, records.at("http.status", "http"), pa.int32())),
        "action": constant_text(ACTIONS, action),
        "user_agent": spread_request(pc.dictionary_encode(records.at("http.http_user_agent", "http", "alert"))),
        "content_type": spread(pc.dictionary_encode(records.at("http.http_content_type", "http"))),
    }


def _flow_columns(connection: duckdb.DuckDBPyConnection, queries: Queries, records: _Records
                  ) -> dict[str, pa.Array]:
    """Bytes each way and duration from the flow record (alerts carry the flow's bytes so far: the flow record
    has the totals, so only it counts them); bytes_in of an HTTP record is its response length."""
    start = _times(connection, queries, records.at("flow.start", "flow"))
    end = _times(connection, queries, records.at("flow.end", "flow"))
    sent = records.at("flow.bytes_toserver", "flow")
    received = pa.concat_arrays([records.at("flow.bytes_toclient", "flow"), records.at("http.length", "http")])
    return {
        "bytes_out": records.spread(("flow",), integers(connection, queries.bigint, sent, pa.int64())),
        "bytes_in": records.spread(("flow", "http"),
                                   integers(connection, queries.bigint, received, pa.int64())),
        "duration_ms": records.spread(("flow",), _milliseconds_between(start, end)),
    }


def _dns_columns(connection: duckdb.DuckDBPyConnection, queries: Queries, records: _Records, answers: pa.Array,
                 lookups: _Lookups) -> dict[str, pa.Array]:
    """dns_qtype, dns_rcode and dns_answers of DNS records: `answers` (v2/v3 `answers` as ANSWERS_SQL reads them,
    per DNS record), else v2/v3 `grouped`, else v1's `rdata` of an A, AAAA or CNAME record. A v1 answer record
    (one record of the answer section, with its `rdata`) names that record's own type, not the query's: no
    dns_qtype. A request (v1/v2 `query`, v3 `request`) has no response code (v3 logs its header's, always
    NOERROR): no dns_rcode."""
    dns = ("dns",)
    grouped = per_distinct(connection, records.at("dns.grouped", "dns"), queries.grouped)["value"]
    rdata, rrtype = records.at("dns.rdata", "dns"), records.at("dns.rrtype", "dns")
    kept = only_where(rdata, pc.is_in(pc.utf8_upper(rrtype), value_set=pa.array(ANSWER_TYPES)))
    kept = pc.utf8_rtrim(pc.utf8_lower(kept), characters=".")
    single = pa.ListArray.from_arrays(pa.array(np.arange(len(kept) + 1, dtype=np.int32)), pc.fill_null(kept, ""),
                                      mask=pc.is_null(kept))
    qtype = only_where(pc.coalesce(rrtype, records.at("dns.queries[0].rrtype", "dns")), pc.is_null(rdata))
    rcode = only_where(records.at("dns.rcode", "dns"),
                       pc.invert(pc.is_in(records.at("dns.type", "dns"), value_set=_REQUEST_TYPES)))
    return {
        "dns_qtype": records.spread(dns, pc.dictionary_encode(lookups.filled(qtype))),
        "dns_rcode": records.spread(dns, pc.dictionary_encode(lookups.filled(rcode))),
        "dns_answers": records.spread(dns, lookups.joined(pc.coalesce(answers, grouped, single))),
    }


# What Suricata calls a DNS request's record: v1/v2 `query`, v3 `request`
_REQUEST_TYPES = pa.array(["query", "request"])
# The most records one DNS lookup joins (a query and its v1 answer records, one per answer: a long CNAME chain
# with its addresses is some tens)
MAX_LOOKUP_RECORDS = 64


def _decoded(values: pa.Array) -> pa.Array:
    """A column as plain values (a dictionary-encoded one decoded), as pc.coalesce takes it with plain ones."""
    return values.dictionary_decode() if pa.types.is_dictionary(values.type) else values


def _one_array(chunks: list[pa.Array], kind: pa.DataType) -> pa.Array:
    """Chunks as one array: the chunk itself when there is one (combine_chunks would copy it)."""
    return chunks[0] if len(chunks) == 1 else pa.concat_arrays(chunks) if chunks else pa.array([], kind)


def _layout(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A string array's value offsets (int64) and data bytes (at least one, so that clipped reads stay inside)."""
    _, data, offsets = line_bytes(text)
    return offsets, data if len(data) else np.zeros(1, np.uint8)


def _flag(mask: pa.Array) -> np.ndarray:
    """A boolean array as numpy, null as false."""
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


def _without_prefixes(text: pa.Array) -> pa.Array:
    """The lines with what Suricata may write before the JSON object taken off: a syslog header (EVE's
    `filetype: syslog`, as a syslog daemon writes it to a file) and EVE's `prefix` option (`@cee: `). Looked for
    only on the lines that do not start with `{` (none, in a file EVE wrote itself: one look at each line's first
    byte); a line with another prefix is left as it is (a reject)."""
    offsets, data = _layout(text)
    filled = offsets[1:] > offsets[:-1]
    first = np.where(filled, data[np.where(filled, offsets[:-1], 0)], 0)
    return first_match_replaced(text, np.flatnonzero(filled & (first != ord("{")) & (first != ord(" "))), EVE_PREFIX,
                                "{")


def _starts_an_object(text: pa.Array) -> np.ndarray:
    """Whether each line's first character after leading spaces is `{` (a JSON object, not another value)."""
    offsets, data = _layout(text)
    filled = offsets[1:] > offsets[:-1]
    first = np.where(filled, data[np.where(filled, offsets[:-1], 0)], 0)
    spaced = first == ord(" ")
    if spaced.any():
        rows = np.flatnonzero(spaced)
        trimmed = pc.utf8_ltrim(text.take(pa.array(rows)), " ")
        first[rows] = _flag(pc.starts_with(trimmed, "{")) * ord("{")
    return first == ord("{")


def _times(connection: duckdb.DuckDBPyConnection, queries: Queries, text: pa.Array) -> pa.Array:
    """ISO 8601 times with an offset -> UTC timestamps as DuckDB's `try_cast(... as timestamptz)` reads them
    (null where not a time). Suricata's own format is read by Arrow; any other spelling, and a batch with a
    value Arrow refuses, through SQL once per distinct value."""
    shaped = _suricata_shaped(text)
    ts = pa.nulls(len(text), TIMESTAMP)
    if shaped.any():
        try:
            ts = pc.cast(only_where(text, pa.array(shaped)), TIMESTAMP)
        except pa.ArrowInvalid:  # (a month 13, an hour 24 ...: SQL says what they mean)
            shaped[:] = False
    other = pa.array(~shaped & pc.is_valid(text).to_numpy(zero_copy_only=False))
    if pc.any(other).as_py():
        spelled = pc.cast(per_distinct(connection, text, queries.time, where=other)["ts"], TIMESTAMP)
        ts = pc.if_else(other, spelled, ts)
    return ts


def _suricata_shaped(text: pa.Array) -> np.ndarray:
    """Which values have the length and separators of Suricata's time format (their digits are Arrow's to check).
    When every value has that length (the usual batch), the values are the rows of a byte matrix: its
    columns are read in place instead of gathered."""
    offsets, data = _layout(text)
    shaped = (np.diff(offsets) == SURICATA_TIME_LENGTH) & pc.is_valid(text).to_numpy(zero_copy_only=False)
    if shaped.all():
        matrix = data[offsets[0]:offsets[-1]].reshape(-1, SURICATA_TIME_LENGTH)

        def bytes_at(place: int) -> np.ndarray:
            return matrix[:, place]
    else:
        starts = np.where(shaped, offsets[:-1], 0)

        def bytes_at(place: int) -> np.ndarray:
            return data[np.minimum(starts + place, len(data) - 1)]
    for place, allowed in SURICATA_TIME_BYTES.items():
        found = bytes_at(place)
        shaped &= np.logical_or.reduce([found == byte for byte in allowed])
    return shaped


def _milliseconds_between(start: pa.Array, end: pa.Array) -> pa.Array:
    """end - start in whole milliseconds as DuckDB's date_diff('millisecond', ...) counts them: the millisecond
    boundaries crossed (each time rounded down to its millisecond first)."""
    missing = ~_flag(pc.and_(pc.is_valid(start), pc.is_valid(end)))
    start_us, end_us = (pc.fill_null(pc.cast(ts, pa.int64()), 0).to_numpy() for ts in (start, end))
    return pa.array(end_us // 1000 - start_us // 1000, mask=missing if missing.any() else None)


EVE = Format(
    name="suricata_eve",
    source_kind="sensor",
    summary="Suricata EVE JSON: tls and quic (SNI), http (Host or HTTP/2 :authority), dns (a query and its answer "
            "records: one event per lookup), flow, alert and drop records (alerts on the client's side)",
    sniff=line_share(EVE_PREFIX.replace("^", "^\\s*", 1) + r'.*"event_type"\s*:\s*"'),
    new_parser=eve_parser,
    independent_batches=True,
    context_lines=PAIR_LINES,
    fields=(
        "ts", "src_ip", "host", "host_source", "dst_ip", "dst_port", "network_protocol", "http_method",
        "url_path", "http_status", "action", "bytes_out", "bytes_in", "duration_ms", "user_agent",
        "content_type", "dns_qtype", "dns_rcode", "dns_answers",
    ),
)
