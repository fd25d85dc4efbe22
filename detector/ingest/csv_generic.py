"""Generic CSV/TSV exports with a header row (SIEM exports, cloud proxy reports, spreadsheets).

The first non-comment line is the header; its delimiter (comma, tab, semicolon or pipe) is the one it
uses most. Columns are recognised by name, case-insensitively and ignoring punctuation (`Source IP`,
`src_ip`, `c-ip`), and `ingest --map COLUMN=FIELD` names the rest. A URL column gives host and path;
a host column may hold a bare name, `host:port` or a URL. Quoted fields may contain the delimiter,
with `""` for a quote. A line repeating the header (concatenated exports) is ignored.

Times: epoch seconds or milliseconds; ISO 8601 with a zone; otherwise local to the configured zone:
ISO without a zone, `dd-mm-yyyy HH:MM[:SS]` (Dutch), `dd/mm/yyyy ...` (day first), `mm/dd/yyyy
hh:mm:ss AM` (the AM/PM marks the US order), `dd.mm.yyyy ...`, or separate date and time columns.
Without a recognisable time or destination column every line is rejected, naming the --map option.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from detector.errors import FormatError
from detector.ingest.arrow_ops import (
    dictionary_array,
    fields_in_slices,
    only_where,
    quoted_value,
    space_trimmed,
    split_quoted,
)
from detector.ingest.base import (
    Format,
    HeaderedParser,
    ParseContext,
    ParseResult,
    parse_cursor,
    split_outcomes,
)
from detector.ingest.squid import PROXY_MACROS
from detector.ingest.w3c import combine

DELIMITERS = (",", "\t", ";", "|")
# Generic formats score at most this, so that a vendor format recognising the same file wins.
MAX_SNIFF_SCORE = 0.6

# Recognised column names (normalised: lower case, punctuation runs as `_`) -> schema field; English
# names as SIEM and proxy exports write them, and the Dutch ones of a Dutch-language export.
# `date`, `time` and `url` are not schema fields: they combine into ts, and give host and url_path.
ALIASES: dict[str, tuple[str, ...]] = {
    "ts": ("timestamp", "datetime", "date_time", "ts", "time_stamp", "event_time", "eventtime", "log_time",
           "logtime", "time_generated", "timegenerated", "received_time", "receive_time", "start_time",
           "tijdstip", "datum_tijd"),
    "date": ("date", "log_date", "datum"),
    "time": ("time", "log_time_of_day", "tijd"),
    "src_ip": ("src_ip", "source_ip", "client_ip", "clientip", "source", "src", "c_ip", "source_address",
               "client_address", "internal_ip", "srcip", "client", "bron_ip", "client_adres"),
    "user_name": ("user", "username", "user_name", "login", "account", "src_user", "userid", "user_id",
                  "identity", "cs_username", "gebruiker", "gebruikersnaam"),
    "url": ("url", "uri", "request_url", "full_url", "cs_uri", "cs_url", "request", "url_full"),
    "host": ("host", "domain", "hostname", "dest_host", "destination_host", "dst_host", "dest", "destination",
             "fqdn", "site", "server_name", "sni", "url_host", "cs_host", "dhost", "hostname_fqdn", "domein",
             "bestemming"),
    "dst_ip": ("dst_ip", "dest_ip", "destination_ip", "server_ip", "dstip", "destination_address", "remote_ip"),
    "dst_port": ("dst_port", "dest_port", "destination_port", "dport", "dstport", "server_port", "port"),
    "network_protocol": ("protocol", "scheme", "network_protocol", "app_protocol"),
    "http_method": ("method", "http_method", "request_method", "cs_method"),
    "url_path": ("path", "url_path", "uri_path"),
    "http_status": ("status", "status_code", "http_status", "response_code", "sc_status", "http_status_code"),
    "action": ("action", "verdict", "decision", "disposition", "policy_action", "actie"),
    "bytes_out": ("bytes_sent", "bytes_out", "request_size", "sent_bytes", "bytes_up", "upload_bytes",
                  "sentbyte", "cs_bytes", "request_bytes", "client_bytes", "bytes_to_server", "bytes_verzonden"),
    "bytes_in": ("bytes_received", "bytes_in", "response_size", "received_bytes", "bytes_down", "download_bytes",
                 "rcvdbyte", "sc_bytes", "response_bytes", "server_bytes", "bytes_to_client", "bytes_ontvangen"),
    "duration_ms": ("duration_ms", "elapsed_ms", "time_taken_ms", "latency_ms"),
    "user_agent": ("user_agent", "useragent", "ua", "agent", "http_user_agent", "cs_user_agent"),
    "content_type": ("content_type", "mime_type", "mime", "contenttype", "response_content_type"),
    # what the exporting gateway itself says: its application, category and the user's department
    "vendor_app": ("app", "application", "app_name", "appname", "application_name", "cloud_app", "applicatie"),
    "vendor_category": ("category", "url_category", "urlcategory", "urlcat", "categories", "web_category",
                        "categorie"),
    "vendor_department": ("department", "dept", "afdeling"),
}
# What --map may name: the event columns a CSV can fill.
MAPPABLE = ("ts", "src_ip", "user_name", "host", "dst_ip", "dst_port", "network_protocol", "http_method",
            "url_path", "http_status", "action", "bytes_out", "bytes_in", "duration_ms", "user_agent",
            "content_type", "vendor_app", "vendor_category", "vendor_department")
TEXT_FIELDS = ("src_ip", "user_name", "dst_ip", "user_agent", "content_type", "vendor_app", "vendor_category",
               "vendor_department")

OUTPUT_TYPES: dict[str, str] = {
    "ts": "timestamptz", "src_ip": "varchar", "user_name": "varchar", "host": "varchar",
    "host_source": "varchar", "dst_ip": "varchar", "dst_port": "integer", "network_protocol": "varchar",
    "http_method": "varchar", "url_path": "varchar", "http_status": "integer", "action": "varchar",
    "bytes_out": "bigint", "bytes_in": "bigint", "duration_ms": "bigint", "user_agent": "varchar",
    "content_type": "varchar", "vendor_app": "varchar", "vendor_category": "varchar",
    "vendor_department": "varchar",
}

CSV_MACROS = r"""
-- `t` is a trimmed field: a macro repeats its argument at each use, so the trim is done once, a step before.
create or replace macro csv_value(t, sep) as nullif(null_if_dash(quoted_value(t, sep)), '');
create or replace macro csv_naive_time(t) as coalesce(
    try_cast(t as timestamp),
    try_strptime(t, ['%m/%d/%Y %I:%M:%S %p', '%m/%d/%Y %I:%M %p', '%d-%m-%Y %H:%M:%S', '%d-%m-%Y %H:%M',
                     '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%d.%m.%Y %H:%M:%S', '%d.%m.%Y %H:%M',
                     '%Y/%m/%d %H:%M:%S']));
"""

# The time of a value: epoch (seconds or milliseconds), a zone it carries, or the configured zone.
TIME_EXPRESSION = r"""case
        when regexp_full_match({t}, '\d{{9,10}}(\.\d+)?') then to_timestamp(cast({t} as double))
        when regexp_full_match({t}, '\d{{12,13}}') then to_timestamp(cast({t} as double) / 1000)
        when regexp_matches({t}, '^\d\d/[A-Za-z]{{3}}/\d{{4}}:') then try_strptime({t}, '%d/%b/%Y:%H:%M:%S %z')
        when regexp_matches({t}, '\d(Z|[+-]\d\d:?\d\d)$') then try_cast({t} as timestamptz)
        else timezone($tz, csv_naive_time({t}))
    end"""


def normalise(name: str) -> str:
    """`Source IP`, `source-ip` and `"SOURCE_IP"` all become `source_ip`."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().strip('"').lower()).strip("_")


def detect_delimiter(header: str) -> str | None:
    """The candidate the header uses most, or None when it uses none."""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else None


def split_header(header: str, delimiter: str) -> list[str]:
    return next(csv.reader([header], delimiter=delimiter))


def resolve(columns: Sequence[str], column_map: Mapping[str, str] | None = None) -> dict[str, int]:
    """Which column (0-based) feeds which field: --map first, then the first recognised alias."""
    names = [normalise(c) for c in columns]
    chosen: dict[str, int] = {}
    for source, target in (column_map or {}).items():
        if target not in MAPPABLE:
            raise FormatError(f"--map {source}={target}: a CSV column cannot fill {target}; "
                              f"choose one of {', '.join(MAPPABLE)}")
        wanted = normalise(source)
        if wanted not in names:
            raise FormatError(f"--map {source}={target}: no column {source!r} in the header "
                              f"(columns: {', '.join(columns)})")
        chosen[target] = names.index(wanted)
    taken = set(chosen.values())
    for field, aliases in ALIASES.items():
        if field in chosen:
            continue
        for alias in aliases:
            if alias in names and names.index(alias) not in taken:
                chosen[field] = names.index(alias)
                taken.add(chosen[field])
                break
    return chosen


def has_time(chosen: Mapping[str, int]) -> bool:
    return bool({"ts", "date", "time"} & chosen.keys())


def has_destination(chosen: Mapping[str, int]) -> bool:
    return bool({"host", "url", "dst_ip"} & chosen.keys())


def missing_reason(columns: Sequence[str], chosen: Mapping[str, int]) -> str | None:
    """Why no line of this file can be an event, naming the --map option; None when nothing is missing."""
    missing = []
    if not has_time(chosen):
        missing.append("no time column (like timestamp, time, date, datetime): name one with --map COLUMN=ts")
    if not has_destination(chosen):
        missing.append("no destination column (like host, domain, url, dest): name one with --map COLUMN=host")
    return f"header ({', '.join(columns)}) has " + "; and ".join(missing) if missing else None


def build_query(columns: Sequence[str], chosen: Mapping[str, int]) -> str:
    """The query for one header, over `vals` (see `values_table`). Only positions enter the SQL text, never
    the file's column names."""
    def v(field: str) -> str | None:
        return f"v{chosen[field] + 1}" if field in chosen else None

    out: dict[str, str] = {}
    if v("ts"):
        time_value = v("ts")
    elif v("date") and v("time"):
        time_value = f"({v('date')} || ' ' || {v('time')})"
    else:
        time_value = v("date") or v("time")
    for field in TEXT_FIELDS:
        if v(field):
            out[field] = v(field)  # type: ignore[assignment]
    for field in ("dst_port", "http_status"):
        if v(field):
            out[field] = f"try_cast({v(field)} as integer)"
    if v("http_status"):
        out["http_status"] = f"case when {out['http_status']} between 100 and 599 then {out['http_status']} end"
    for field in ("bytes_out", "bytes_in", "duration_ms"):
        if v(field):
            out[field] = f"try_cast(round(try_cast({v(field)} as double)) as bigint)"
    if v("http_method"):
        out["http_method"] = f"upper({v('http_method')})"
    out["action"] = f"coalesce(verdict_word_action({v('action')}), 'unknown')" if v("action") else "'unknown'"
    host, url = v("host") or "null::varchar", v("url") or "null::varchar"
    out["host"] = "coalesce(hostport_host(host_hp), hostport_host(url_hp))"
    out["host_source"] = ("case when coalesce(hostport_host(host_hp), hostport_host(url_hp)) is null then 'none'"
                          " when http_method_v = 'CONNECT' then 'connect' else 'url' end")
    if not v("dst_ip"):
        out["dst_ip"] = "case when is_ip_literal(coalesce(hostport_host(host_hp), hostport_host(url_hp))) " \
                        "then coalesce(hostport_host(host_hp), hostport_host(url_hp)) end"
    out["dst_port"] = f"coalesce({out.get('dst_port', 'null')}, hostport_port(host_hp), hostport_port(url_hp))"
    scheme = f"lower({v('network_protocol')})" if v("network_protocol") else "null"
    out["network_protocol"] = f"coalesce({scheme}, url_scheme({url}), url_scheme({host}))"
    path = v("url_path") or "null"
    out["url_path"] = (f"case when http_method_v = 'CONNECT' then null else coalesce({path}, rest_path(url_rest_v),"
                       " case when url_bare is not null and contains(url_bare, '/') then rest_path(url_bare) end) end")
    # A header without a time or a destination column: every line says what is missing.
    missing = "" if time_value and has_destination(chosen) else "when true then $missing"
    selected = ",\n    ".join(
        f"cast({out.get(name, 'null')} as {sql_type}) as {name}" for name, sql_type in OUTPUT_TYPES.items()
        if name != "ts"
    )
    ts = TIME_EXPRESSION.format(t=time_value) if time_value else "null"
    return f"""
with url_steps as (
    select *,
        {ts} as ts_value,
        {f"upper({v('http_method')})" if v("http_method") else "null::varchar"} as http_method_v,
        url_rest({host}) as host_rest_v,
        url_rest({url}) as url_rest_v,
        case when {url} is not null and not contains({url}, '://') and not starts_with({url}, '/') then {url} end
            as url_bare
    from vals
),
authority_steps as (
    select *,
        authority_hostport(coalesce(rest_authority(host_rest_v), split_part(split_part({host}, '/', 1), '?', 1)))
            as host_hp,
        authority_hostport(coalesce(rest_authority(url_rest_v), split_part(split_part(url_bare, '/', 1), '?', 1)))
            as url_hp
    from url_steps
)
select
    line_no,
    case
        {missing}
        when line = $header then null
        when (length(line) - length(replace(line, '"', ''))) % 2 = 1 then 'unbalanced quotes'
        when n <> $column_count then 'expected ' || $column_count || ' columns as in the header, found ' || n
        when ts_value is null then 'time not understood: ' || coalesce({time_value or "null"}, '(empty)')
    end as reject_reason,
    line = $header as is_ignored,
    cast(ts_value as timestamptz) as ts,
    {selected}
from authority_steps
"""


def values_table(lines: pa.Table, delimiter: str, positions: Sequence[int]) -> pa.Table:
    """`vals(line_no, line, n, v<position>...)`: each line's number of fields and the used ones (0-based
    `positions`, named 1-based), unquoted and trimmed, null when `-` or empty. Split with pyarrow, and each
    field's values read once per distinct value."""
    text = lines.column("line").combine_chunks()
    counts, fields = fields_in_slices(text, lambda part: split_quoted(part, delimiter), positions)
    columns = {"line_no": lines.column("line_no"), "line": text, "n": pc.cast(counts, pa.int64())}
    for position, encoded in zip(positions, fields, strict=True):
        value = space_trimmed(quoted_value(space_trimmed(encoded.dictionary), delimiter))
        value = only_where(value, pc.and_(pc.not_equal(value, "-"), pc.not_equal(value, "")))
        columns[f"v{position + 1}"] = dictionary_array(encoded.indices, value)
    return pa.table(columns)


@dataclass(frozen=True)
class Layout:
    """What the header line says: the query for its columns, the positions it reads, the query's values."""

    query: str
    delimiter: str
    positions: tuple[int, ...]
    params: tuple[tuple[str, object], ...]  # the query's named parameters


def new_parser(context: ParseContext) -> HeaderedParser:
    """Batches parsed under the header of the file's first line (None until it is seen)."""
    for macros in (PROXY_MACROS, CSV_MACROS):
        context.connection.execute(macros)

    def layout_of(header: str) -> Layout:
        delimiter = detect_delimiter(header) or ","
        columns = split_header(header, delimiter)
        chosen = resolve(columns, context.column_map)
        query = build_query(columns, chosen)
        params = {"header": header, "delimiter": delimiter, "column_count": len(columns),
                  "missing": missing_reason(columns, chosen)}
        used = tuple((k, v) for k, v in params.items() if f"${k}" in query)
        return Layout(query, delimiter, tuple(sorted(set(chosen.values()))), used)

    def carry(lines: pa.Table, layout: Layout | None) -> Layout | None:
        if layout is not None:
            return layout
        row = _header_row(lines)
        return layout_of(_header_text(lines, row)) if row >= 0 else None

    def parse(lines: pa.Table, layout: Layout | None) -> ParseResult:
        skipped = 0
        if layout is None:
            # Comment lines before the header are ignored; the header itself too.
            row = _header_row(lines)
            if row < 0:
                return combine([], ignored=lines.num_rows)
            layout = layout_of(_header_text(lines, row))
            skipped = row + 1
            lines = lines.slice(skipped)
        params = dict(layout.params)
        values = values_table(lines, layout.delimiter, layout.positions)
        with parse_cursor(context.connection) as cursor:
            cursor.register("vals", values)
            if "$tz" in layout.query:
                params["tz"] = context.timezone
            result = split_outcomes(cursor.sql(layout.query, params=params or None).to_arrow_table(), lines)
        result.ignored += skipped
        return result

    return HeaderedParser(start=None, carry=carry, parse=parse)


def _header_row(lines: pa.Table) -> int:
    """The row of the header: the first line that is neither blank nor a comment (-1: none here)."""
    text = pc.utf8_ltrim_whitespace(lines.column("line"))
    before_header = pc.or_(pc.starts_with(text, "#"), pc.equal(text, ""))
    return pc.index(before_header, False).as_py()


def _header_text(lines: pa.Table, row: int) -> str:
    return lines.column("line")[row].as_py().lstrip("\ufeff").rstrip()  # Excel writes a byte order mark


def sniff(lines: Sequence[str]) -> float:
    """Up to MAX_SNIFF_SCORE, by how well the header is recognised (time and destination columns, one
    of them, or neither), when most lines have the header's column count."""
    content = [line.lstrip("\ufeff") for line in lines if not line.lstrip().startswith("#")]
    if len(content) < 2:
        return 0.0
    delimiter = detect_delimiter(content[0])
    if not delimiter:
        return 0.0
    columns = split_header(content[0], delimiter)
    if len(columns) < 2:
        return 0.0
    try:
        chosen = resolve(columns)
    except FormatError:
        return 0.0
    weight = {2: MAX_SNIFF_SCORE, 1: 0.45, 0: 0.3}[has_time(chosen) + has_destination(chosen)]
    rows = list(csv.reader(content, delimiter=delimiter))
    share = sum(len(row) == len(columns) for row in rows) / len(rows)
    return weight if share >= 0.75 else weight * share  # a few broken lines do not make it another format


CSV = Format(
    name="csv",
    source_kind="proxy",
    summary="Generic CSV/TSV with a header row (columns by name, or --map COLUMN=FIELD)",
    sniff=sniff,
    new_parser=new_parser,
    independent_batches=True,
    fields=(
        "ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
        "http_method", "url_path", "http_status", "action", "bytes_out", "bytes_in", "duration_ms",
        "user_agent", "content_type", "vendor_app", "vendor_category", "vendor_department",
    ),
)
