"""Generic JSON lines (one object per line): SIEM and log-shipper exports, the JSON twin of the generic CSV format.

The keys of the file's first objects play the part of a CSV header: nested objects are flattened to dotted keys
(`{"source": {"ip": ...}}` -> `source.ip`), and each key is recognised by name as the CSV format recognises its
columns (csv_generic's `normalise`, ALIASES, CamelCase spellings and `--map KEY=FIELD`, which takes the dotted
name). Before those generic names, the names of the schemas such exports use are tried (SCHEMA_ALIASES):

- Elastic Common Schema (Filebeat, Elastic Agent, Winlogbeat; https://www.elastic.co/guide/en/ecs/current/
  ecs-field-reference.html): `@timestamp`, `source.ip`, `destination.ip` / `.port` / `.domain`, `url.full` /
  `.original` / `.domain` / `.path`, `user.name`, `user_agent.original`, `http.request.method`,
  `http.request.bytes`, `http.response.bytes`, `http.response.status_code`, `event.action`, `network.protocol`,
  `dns.question.name`; `source.bytes` is what the source sent (bytes_out), `destination.bytes` what it got back.
- OCSF (HTTP Activity 4002 and the network classes, https://schema.ocsf.io/classes/http_activity): `time` (epoch
  ms), `src_endpoint.ip`, `dst_endpoint.ip` / `.hostname` / `.port`, `http_request.url.url_string` / `.hostname`
  / `.path`, `http_request.http_method`, `http_request.user_agent`, `http_response.code`, `actor.user.name`,
  `traffic.bytes_out` / `.bytes_in`, `disposition` / `action`.
- Cloudflare Gateway HTTP via Logpush (https://developers.cloudflare.com/logs/reference/log-fields/account/
  gateway_http/): `Datetime` (RFC 3339, or epoch s or ns as the job's timestamp option says), `SourceIP`, `DeviceName`,
  `DestinationIP`, `DestinationPort`, `HTTPHost`, `URL`, `Email`, `HTTPMethod`, `HTTPStatusCode`, `UserAgent`,
  `Action`; `SourceInternalIP` (the device's LAN address) before `SourceIP`. Gateway DNS: `QueryName` (the host, a DNS
  query's), `SrcIP`, `ResolverDecision` (camelCase decisions, _ACTION_SQL); Gateway Network: `SNI`.
- DNS queries elsewhere (json_keys.DNS_QUESTION): Sysmon's event 22 via Winlogbeat, Google Cloud DNS query logs,
  OCSF DNS Activity (`query.hostname`), Route 53 Resolver query logs (`query_name`, `query_timestamp`, `srcaddr`).
- DNS fields (dns_fields, json_keys.SCHEMA_ALIASES): a query's type (ECS `dns.question.type`, OCSF `query.type`,
  Cloudflare `QueryTypeName` / `QueryType`, Google `jsonPayload.queryType`, Route 53 `query_type`), its response code
  (`dns.response_code`, `rcode` / `rcode_id`, `RCode`, `jsonPayload.responseCode`) and its answers (`dns.answers`,
  `dns.resolved_ip`, `answers`, `ResolvedIPs`, `jsonPayload.structuredRdata` / `.rdata`), names or numbers alike.
- Splunk's JSON export (`{"preview": false, "result": {...}}`) and Elasticsearch documents dumped with their
  envelope (`{"_source": {...}}`): keys under `result.` / `_source.` are read without that prefix, so Splunk's
  CIM names (`_time`, `src`, `dest`, `url`, `user`, `http_user_agent`) are recognised as in a CSV.
- Microsoft Sentinel's normalised (ASIM) rows, keys `SrcIpAddr` / `DstIpAddr` among them: read by ASIM's names
  (asim_columns, through csv_generic.resolve) instead of SCHEMA_ALIASES, whose `network.protocol` and `user.name`
  would read ASIM's transport and the wrong account.

Times: ISO 8601 with a zone, epoch seconds, milliseconds, microseconds or nanoseconds; a time without a zone is
in the configured zone (csv_generic.TIME_EXPRESSION). A URL gives host, port, scheme and path; a host key a bare
name, `host:port` or a URL; `host_source` is `url` (`connect` for a CONNECT request) as in the CSV format, and
`dns_query` where the host is a DNS query's name (ECS `dns.question.name`).

Objects behind a syslog header (rsyslog or syslog-ng forwarding a JSON template, OPNsense's Squid with its JSON
log format, as elastic/integrations' pfsense test-opnsense-squid.log shows): the header (BSD, ISO or RFC 5424, as
squid.SYSLOG_HEAD reads it) is taken off a line whose JSON object follows it, and the object read as any other; so is
the CEE cookie `@cee:` that rsyslog and syslog-ng put before structured JSON messages (with or without a header).

Lines: a line that is no JSON object, or has no time or no destination (no host, no address), is a reject with its
reason; a key missing from a line is null there. Keys first seen after the first lines are not read (as columns
not in a CSV header). Nothing is ignored: a JSON object is one event or one reject.

How a batch is read (json_read): a compiled walk of each line (json_scan) finds the chosen keys' values, numbered by
their texts (dictionary-encoded as they are found); the lines it doubts (escaped keys, fractions at a key read,
repeated keys, anything that might not be JSON ...) go to one DuckDB query that parses each of them once
(`json_extract_string` with the list of the chosen keys' paths; where a slice holds a line that is no JSON, each line is
checked by `json_valid` first), which before read every line; the rest in Arrow, per distinct value where it is SQL
(csv_generic's Queries: times, the URL's parts, status, action, counts). Which keys feed which field is json_keys'
part. The walk, against the query it replaced (2026-11-30, load ~15, CPU, 3 interleaved runs each): a parse of 262k
lines, OCSF 0.52-0.56 -> 0.35 s, ECS 0.46-0.58 -> 0.30-0.33, Cloudflare HTTP 0.40-0.41 -> 0.26, Cloudflare DNS
0.24-0.27 -> 0.16, Route 53 0.20-0.21 -> 0.16, the home-made sample (a third of its lines with an escaped `\\` in the
user name) 0.28 -> 0.18-0.20, Splunk export (escaped names too) 0.34 -> 0.22-0.23; the
whole ingest of 1M lines OCSF 4.01-4.18 -> 3.52-3.81 s, ECS 3.40-3.67 -> 3.13-3.28 (it now pays Numba's start, ~0.4 s
once per run). Benchmark after it (`--format-lines 1000000 --per-sample`, 2026-11-30 06:30 UTC, load ~10-12), CPU ratio
to the generic DuckDB baseline, before (05:47, load ~15) -> after: ECS 0.36 -> 0.42 (3.63 -> 3.26 s), OCSF 0.35 -> 0.41
(4.07 -> 3.60), Cloudflare HTTP 0.50 -> 0.50 (3.34 -> 2.93), Cloudflare DNS 0.38 -> 0.52, home-made 0.45 -> 0.47,
Splunk 0.47 -> 0.46, Route 53 0.59 -> 0.56: at 1M lines a run's fixed ~1 s (imports, Numba) weighs more than at the
issue's 4M: there, OCSF's whole ingest of 4M lines (the benchmark file four times, 3 interleaved runs each, load ~7-10)
took 13.5-14.6 s CPU before and 11.0-11.4 after (the lead's idle run before: 13.1 s against DuckDB's 4.8, wall ratio
0.43). Benchmark at 4M lines per sample (06:52-06:59 UTC, load ~7, before e36ad88's key comparison), CPU ratio:
Cloudflare DNS 0.61, Cloudflare HTTP 0.57, ECS 0.50, home-made 0.58, OCSF 0.45 (10.5 s against DuckDB's 4.7), Route 53
0.67, Splunk 0.61 (the lead's idle 4M run before: 0.37-0.65); at 1M after it (07:00, load ~3-5): ECS 2.87 s, OCSF
3.18, Cloudflare HTTP 3.24 (ratios 0.41-0.52: a run's ~1.2 s start weighs there). Figures below this paragraph are
of the query alone, before the walk.
Measured on 262k ECS lines of ~480 bytes with 20 keys read (CPU, warm, in slices of 131k lines): the query ~0.26-0.29 s
(each path ~11 ms: 1 path 0.095 s, 20 paths 0.305, the JSON parse alone 0.084), the rest ~0.11 s, of it ~0.05 the keys'
dictionary encoding. Checked by `json_valid` first, the query costs ~0.42 s; in `try` ~0.33, but where every 1000th line
is broken the whole parse took 1.50 s in `try` against 0.59 checked (once a line of a vector fails, DuckDB's try reads
each line of it alone). Measured and not kept (the same 262k lines): `json_transform` into a struct of the keys 0.39 s
against 0.28 for the list alone; the list's items taken in Arrow (`list_element` or a take, then encoded) 0.46-0.48
against 0.32-0.37 for the query's own `v[n]`; the list's values encoded once for all keys 0.38 against 0.37; JSON
pointers or unquoted paths: the same; pyarrow.json with an explicit schema 0.84 (and numbers would need typed fields);
`set threads = 1` for the parse: no less CPU in the whole ingest.
Benchmark at 1M ECS lines (`benchmarks/ingest.py --formats json --format-lines 1000000`, 2026-11-29 22:40, load ~3.5,
runs interleaved with the code of d16b531 put first on PYTHONPATH): 3.21-3.29 s CPU against the generic baseline's
1.17-1.24 (0.36-0.39 by CPU, 0.43-0.47 by wall time); d16b531 3.57-3.99 (0.32). Where the CPU goes: starting the command
~0.5 s, reading the lines ~0.6, this parse ~1.6 (the query ~1.0), the lake's writing ~0.3: the floor of 0.5 by CPU would
need the parse under ~0.9 s, less than the query.
Measured again 2026-11-30 (ECS, CPU, load ~6): a parse costs ~1.6 µs a line and ~9 ms a batch (8k, 66k and 131k-line
batches: 0.021, 0.112, 0.215 s); of a 131k-line parse (~0.22-0.27 s) the query ~0.15-0.19, of which the JSON work
~0.09-0.11 (count(*) over the same list) and the 20 columns' conversion to Arrow the rest; the keys' dictionary
encoding ~0.03, the fallbacks' first_valid ~0.016. DuckDB's string_view export and `from_json` with typed fields:
no less (see suricata_eve).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence
from dataclasses import replace

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.errors import FormatError
from detector.ingest.arrow_ops import DistinctQuery, one_array, only_where
from detector.ingest.asim_columns import LOOKUP_PART, ignored_rows, requests_repeated
from detector.ingest.auth_challenge import unknown_where_challenged
from detector.ingest.base import (
    Format,
    HeaderedParser,
    ParseContext,
    ParseResult,
    parse_cursor,
    split_outcomes,
)
from detector.ingest.csv_generic import (
    CSV_MACROS,
    FIELDS,
    SQUID_CODE_ACTION,
    TIME_EXPRESSION,
    Queries,
    has_destination,
    has_time,
    is_dns_question,
    onto_rows,
    value_columns,
    with_host_alternative,
)
from detector.ingest.defender import DEFENDER_ACTION_MACRO
from detector.ingest.defender_inspection import export_columns
from detector.ingest.distinct_sql import encoded, in_slices, plain, sql_literal
from detector.ingest.json_keys import EVENT_TYPE, KEY_LINES, Layout, choose, key_names, key_paths
from detector.ingest.json_read import Hint, Scan, scanned
from detector.ingest.json_read import found as read_found
from detector.ingest.proxy_columns import (
    bools,
    first_reasons,
    first_valid,
)
from detector.ingest.squid import PROXY_MACROS, SYSLOG_HEAD

# The least score chosen without --format (ingest.SNIFF_THRESHOLD): any format that recognises the file enough to be
# chosen scores as much or more, and wins (ties go to registry order, where json comes last). So the specific JSON
# formats (suricata_eve, zscaler_json, defender_network, zeek JSON: near 1 on their files) keep their files.
MAX_SNIFF_SCORE = 0.5
# Lines parsed at a time: a whole batch as the reader makes them (131,072 lines, at most 32 MiB: the keys' values are
# less). Each slice costs a query and a dozen per-distinct lookups: the batch in slices of 65,536 lines (one full, one
# of ~12k ECS lines) cost ~8% more CPU (1.65-1.73 s against 1.83-1.91 per 1M lines, 3 interleaved runs).
SLICE_LINES = 131_072

# Epoch times finer than csv_generic's milliseconds: microseconds (16 digits) and nanoseconds (19: Cloudflare
# Logpush's default `unixnano`), read to the microsecond; then TIME_EXPRESSION. (19 digits past 2^63 - 1, no
# nanosecond time before the year 2262, are no time: a reject, where a `cast` failed the whole file.)
_TIME_SQL = r"""select cast(case
        when regexp_full_match(value, '\d{19}') then make_timestamp(try_cast(value as bigint) // 1000)
        when regexp_full_match(value, '\d{16}') then make_timestamp(cast(value as bigint))
        else @EXPRESSION@
    end as timestamptz) as ts from distinct_values"""


def time_query(timezone: str) -> DistinctQuery:
    """Per distinct time value, its instant (naive times in `timezone`)."""
    expression = TIME_EXPRESSION.format(t="value").replace("$tz", sql_literal(timezone))
    return DistinctQuery(_TIME_SQL.replace("@EXPRESSION@", expression))


def _cleaned(values: pa.Array) -> pa.DictionaryArray:
    """A key's values dictionary-encoded, trimmed, null where `-` or empty (as a CSV field)."""
    column = encoded(values)
    value = pc.utf8_trim_whitespace(column.dictionary)
    value = only_where(value, pc.and_(pc.not_equal(value, "-"), pc.not_equal(value, "")))
    return onto_rows(column, value) if value.null_count else pa.DictionaryArray.from_arrays(column.indices, value)


class _Keys:
    """A batch's values per key (index into Layout.names), each cleaned once (_cleaned) when first asked for."""

    def __init__(self, found: pa.Table) -> None:
        self._found = found
        self._cleaned: dict[int, pa.DictionaryArray] = {}

    def __getitem__(self, at: int) -> pa.DictionaryArray:
        if at not in self._cleaned:
            self._cleaned[at] = _cleaned(one_array(self._found.column(f"k{at}")))
        return self._cleaned[at]

    def first_of(self, keys: Sequence[int]) -> pa.DictionaryArray:
        """A field's values: its key's, else (per row) the first of its fallback keys' that has one."""
        main = self[keys[0]]
        if len(keys) == 1 or not main.null_count:
            return main
        return first_valid(main, *(self[at] for at in keys[1:]))


def _from_question(keyed: _Keys, layout: Layout, rows: int) -> np.ndarray:
    """Per row, whether its host is a DNS query's name: the first host key with a value names one
    (csv_generic.is_dns_question, the CSV format's rule; ECS's `dns.question.name` may come twice: bare and inside
    an Elasticsearch `_source`), or the row has a DNS query type (a host key of any name beside `qtype` is what was
    asked, as in a CSV export), and no URL has a value. host_source `dns_query`."""
    keys = (layout.chosen["host"], *layout.fallbacks.get("host", ())) if "host" in layout.chosen else ()
    asked = [is_dns_question(layout.names[key]) for key in keys]
    mask = np.zeros(rows, bool)
    if keys and "dns_qtype" in layout.chosen:
        for key in (layout.chosen["dns_qtype"], *layout.fallbacks.get("dns_qtype", ())):
            mask |= bools(pc.is_valid(keyed[key]))
    if not any(asked) and not mask.any():
        return mask
    decided = np.zeros(rows, bool)
    for key, question in zip(keys, asked, strict=True):
        valid = bools(pc.is_valid(keyed[key]))
        if question:
            mask |= valid & ~decided
        decided |= valid
    if "url" in layout.chosen:
        for key in (layout.chosen["url"], *layout.fallbacks.get("url", ())):
            mask &= ~bools(pc.is_valid(keyed[key]))
    return mask


# Cloudflare Gateway's decisions in one camelCase word (DNS `ResolverDecision`: allowedOnNoPolicyMatch,
# blockedByCategory, blockedAlwaysCategory ...; Network `Action`: allowedOnNoRuleMatch ...), as elastic/integrations'
# cloudflare_logpush pipeline tests show them: the first word says it; before csv_generic's words.
_ACTION_SQL = f"""select coalesce(case when regexp_matches(value, '^blocked[A-Z]') then 'blocked'
                                      when regexp_matches(value, '^allowed[A-Z]') then 'allowed' end,
                                 verdict_word_action(value), defender_action(value), {SQUID_CODE_ACTION},
                                 'unknown') as value
                 from distinct_values"""


# ECS event.type (a JSON list, as text): its `denied` or `allowed`.
_EVENT_TYPE_SQL = """select case when contains(lower(value), '"denied"') then 'blocked'
                                when contains(lower(value), '"allowed"') then 'allowed' end as value
                     from distinct_values"""


class JsonQueries(Queries):
    """csv_generic's per-distinct queries, with the finer epoch times (time_query), Cloudflare's decisions and ECS's
    event.type."""

    def __init__(self, timezone: str) -> None:
        super().__init__(timezone)
        self.time = time_query(timezone)
        self.action = DistinctQuery(_ACTION_SQL)
        self.event_type = DistinctQuery(_EVENT_TYPE_SQL)


def with_event_type_verdict(connection: duckdb.DuckDBPyConnection, queries: JsonQueries, action: pa.Array,
                            event_type: pa.DictionaryArray) -> pa.Array:
    """The action, where it is `unknown`, from ECS event.type's `denied` / `allowed` (once per distinct list)."""
    verdict = queries.event_type.results_for(connection, event_type.dictionary).column("value").combine_chunks()
    per_row = onto_rows(event_type, verdict) if verdict.null_count else \
        pa.DictionaryArray.from_arrays(event_type.indices, verdict)
    per_row = per_row.dictionary_decode()
    if not pc.any(pc.is_valid(per_row)).as_py():
        return action
    plain = action.dictionary_decode() if pa.types.is_dictionary(action.type) else action
    return pc.if_else(pc.and_(pc.equal(plain, "unknown"), pc.is_valid(per_row)), per_row, plain)


def event_columns(connection: duckdb.DuckDBPyConnection, queries: JsonQueries, layout: Layout, lines: pa.Table,
                  hint: Hint | None = None, scan: Scan | None = None) -> pa.Table:
    """The events of a batch under `layout`, plus reject_reason / is_ignored (see base.split_outcomes)."""
    text = lines.column("line")  # (chunked as read: one array would be a copy of every line, ~0.1 s per 262k lines)
    rows = len(text)
    if layout.missing:
        return pa.table({"line_no": lines.column("line_no"), "reject_reason": pa.repeat(layout.missing, rows),
                         "is_ignored": pa.repeat(False, rows)})
    is_object = pc.fill_null(pc.starts_with(text, "{"), False)
    if not pc.all(is_object).as_py():  # (only then can a line start with a byte order mark or spaces)
        if pc.any(pc.starts_with(text, "\ufeff")).as_py():  # a byte order mark (the file's first line)
            text = pc.replace_substring_regex(text, "^\ufeff", "")
            is_object = pc.fill_null(pc.starts_with(text, "{"), False)
        if not pc.all(is_object).as_py():  # objects behind a syslog header
            text = _without_syslog_heads(text, is_object)
            is_object = pc.fill_null(pc.starts_with(text, "{"), False)
        # (a copy of the lines trimmed only where one does not start with `{`)
        is_object = pc.or_(is_object, pc.fill_null(pc.starts_with(pc.utf8_ltrim_whitespace(text), "{"), False))
    is_object = is_object.combine_chunks()
    hint = hint or Hint()
    found = scanned(connection, layout, text, hint, scan) if scan is not None else read_found(connection, layout, text,
                                                                                             hint)
    parsed = pc.and_(is_object, pc.fill_null(found.column("parsed").combine_chunks(), False))
    keyed = _Keys(found)
    values = with_host_alternative({field: keyed.first_of((at, *layout.fallbacks.get(field, ())))
                                    for field, at in layout.chosen.items()})
    from_question = _from_question(keyed, layout, rows)
    columns, time_value = value_columns(connection, queries, values, rows, queries.time, from_question)
    if EVENT_TYPE in values:
        columns["action"] = with_event_type_verdict(connection, queries, columns["action"], values[EVENT_TYPE])
        # (event.type's `denied` does not overrule the proxy's 407 either: auth_challenge)
        columns["action"] = unknown_where_challenged(columns["action"], columns["http_status"], values.get("action"))
    # Defender's DeviceNetworkEvents exported as JSON (Sentinel, Log Analytics, advanced hunting): as csv_generic
    # reads them, the account's name where its UPN is empty, and the inspection records' AdditionalFields
    if "user_alt" in values:
        user = values.get("user_name")
        columns["user_name"] = first_valid(user, values["user_alt"]) if user is not None else values["user_alt"]
    if "additional_fields" in values and "action" in values:
        columns.update(export_columns(connection, queries.inspection, queries.integer, values["action"],
                                      values["additional_fields"], values.get("local_port"), columns))
    destination = pc.or_(pc.is_valid(columns["host"]), pc.is_valid(columns["dst_ip"]))
    # (ASIM DNS: rows that are no client's lookup, and requests whose responses the export holds)
    ignored = ignored_rows(values, rows, layout.requests_ignored)
    ignored = pa.array(ignored) if ignored is not None else pa.repeat(False, rows)
    return pa.table({"line_no": lines.column("line_no"),
                     "reject_reason": _reasons(layout, is_object, parsed, columns["ts"], time_value, destination),
                     "is_ignored": ignored, **columns})


# A syslog header and/or the CEE cookie (https://www.rsyslog.com/doc/configuration/modules/mmjsonparse.html:
# `@cee:` before the JSON), then the JSON object's `{` (kept by the replacement)
_SYSLOG_OBJECT = rf"^(?:(?:{SYSLOG_HEAD})?@cee: ?|{SYSLOG_HEAD})\{{"
_SYSLOG_OBJECT_RE = re.compile(_SYSLOG_OBJECT)


def _without_syslog_heads(text: pa.ChunkedArray, is_object: pa.ChunkedArray) -> pa.ChunkedArray:
    """The lines with the syslog header before their JSON object taken off, looked for only on the lines that do
    not start with `{`; any other line as it is (the chunks as they were)."""
    other = ~pc.fill_null(is_object, False).to_numpy(zero_copy_only=False)
    chunks, start = [], 0
    for chunk in text.chunks:
        rows = np.flatnonzero(other[start:start + len(chunk)])
        start += len(chunk)
        if not len(rows):
            chunks.append(chunk)
            continue
        stripped = pc.replace_substring_regex(chunk.take(pa.array(rows)), _SYSLOG_OBJECT, "{", max_replacements=1)
        index = np.arange(len(chunk))
        index[rows] = len(chunk) + np.arange(len(rows))
        chunks.append(pa.concat_arrays([chunk, stripped.cast(chunk.type)]).take(pa.array(index)))
    return pa.chunked_array(chunks, text.type)


def values_at(lines: Sequence[str], path: Sequence[str]) -> list[object]:
    """The value at `path` in each of the sample lines' JSON objects (None where a line has none)."""
    found: list[object] = []
    for line in lines:
        try:
            value = json.loads(line)
        except ValueError:
            continue
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        found.append(value)
    return found


def unwrapped_lines(lines: Sequence[str]) -> list[str]:
    """Sample lines with a syslog header before their JSON object taken off (as `_without_syslog_heads`)."""
    return [_SYSLOG_OBJECT_RE.sub("{", line, count=1) if line[:1] != "{" else line for line in lines]


def _reasons(layout: Layout, is_object: pa.Array, parsed: pa.Array, ts: pa.Array, time_value: pa.Array | None,
             destination: pa.Array) -> pa.Array:
    """Each line's reject reason, the first that applies: no JSON object, no time, no destination."""
    rows = len(parsed)
    no_time = f"no time ({layout.keys_of('ts', 'date', 'time')} missing or empty)"
    not_object = [(pc.invert(is_object), "not a JSON object"),
                  (pc.invert(parsed), "not valid JSON (a line cut short, or a syntax error)")]
    if time_value is None:
        return first_reasons([*not_object, (pa.repeat(True, rows), no_time)], rows)
    return first_reasons([
        *not_object,
        (pc.is_null(time_value), no_time),
        (pc.is_null(ts), lambda: pc.binary_join_element_wise("time not understood: ", plain(time_value), "")),
        (pc.invert(destination), f"no destination ({layout.keys_of('host', 'url', 'dst_ip')} missing or empty)"),
    ], rows)


def new_parser(context: ParseContext) -> HeaderedParser:
    """Batches parsed under the keys of the file's first JSON objects (None until a batch has one)."""
    for macros in (PROXY_MACROS, CSV_MACROS, DEFENDER_ACTION_MACRO):
        context.connection.execute(macros)
    queries = JsonQueries(context.timezone)
    column_map = dict(context.column_map)
    hint = Hint()
    scan = Scan()

    def layout_of(lines: pa.Table) -> Layout | None:
        head = unwrapped_lines([line for line in lines.column("line").slice(0, KEY_LINES * 4).to_pylist()
                                if line is not None])
        paths = key_paths(head)
        if not paths:
            return None
        layout = Layout.of(paths, column_map)
        if LOOKUP_PART in layout.chosen:
            layout = replace(layout, requests_ignored=requests_repeated(
                values_at(head, paths[layout.chosen[LOOKUP_PART]])))
        return layout

    def carry(lines: pa.Table, layout: Layout | None) -> Layout | None:
        return layout if layout is not None else layout_of(lines)

    def parse(lines: pa.Table, layout: Layout | None) -> ParseResult:
        layout = layout if layout is not None else layout_of(lines)
        if layout is None:  # no object in this batch (nor before it): every line is a reject
            rows = lines.num_rows
            reasons = pa.repeat("not a JSON object", rows)
            return split_outcomes(pa.table({"line_no": lines.column("line_no"), "reject_reason": reasons,
                                            "is_ignored": pa.repeat(False, rows)}), lines)
        with parse_cursor(context.connection) as cursor:
            columns = in_slices(lines, lambda part: event_columns(cursor, queries, layout, part, hint, scan),
                                SLICE_LINES)
        return split_outcomes(columns, lines)

    return HeaderedParser(start=None, carry=carry, parse=parse)


_OBJECT = re.compile(r"^\s*\{")


def sniff(lines: Sequence[str]) -> float:
    """Up to MAX_SNIFF_SCORE, by how well the first objects' keys are recognised (time and destination keys, one
    of them, or neither), when most lines are JSON objects."""
    content = unwrapped_lines([line.lstrip("\ufeff") for line in lines if line.strip()])
    if not content:
        return 0.0
    objects = 0
    for line in content:
        if _OBJECT.match(line):
            with contextlib.suppress(ValueError):
                objects += isinstance(json.loads(line), dict)
    if not objects:
        return 0.0
    try:
        chosen = choose(key_names(key_paths(content)))
    except FormatError:
        return 0.0
    weight = {2: MAX_SNIFF_SCORE, 1: 0.35, 0: 0.2}[has_time(chosen) + has_destination(chosen)]
    share = objects / len(content)
    return weight if share >= 0.75 else weight * share  # a few broken lines do not make it another format


JSON = Format(
    name="json",
    source_kind="proxy",
    summary="Generic JSON lines, one object per line (keys by name, nested keys dotted, or --map KEY=FIELD; "
            "Elastic Common Schema, OCSF, Cloudflare Gateway HTTP and DNS, Route 53 and Google Cloud DNS query logs, "
            "Microsoft Sentinel ASIM rows, Microsoft Entra Global Secure Access traffic logs, Splunk and SIEM "
            "exports)",
    sniff=sniff,
    new_parser=new_parser,
    independent_batches=True,
    fields=FIELDS,
)
