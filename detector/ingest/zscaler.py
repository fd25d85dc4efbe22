"""Zscaler Internet Access (ZIA) web logs, as the Nanolog Streaming Service (NSS) sends them.

NSS has no fixed layout: an admin picks a feed output type and may edit its field list. We read the
plain output types Zscaler documents for web logs ("NSS Feed Output Format: Web Logs"):

- `zscaler_json`: the JSON type, `{"sourcetype":"zscalernss-web","event":{"time":...}}` (or flat).
- `zscaler_csv`: the CSV type with Zscaler's default field list (positional: the feed has no header).
- `zscaler_kv`: name=value pairs separated by tabs (Zscaler's advice for SIEMs), such as the Splunk
  CIM style feed, after an optional syslog or time prefix.

The JSON and name=value types name their fields, so both Zscaler's own names (`login`, `cip`, `eurl`,
`reqsize` ...) and the names of the widely used SIEM templates (`user`, `ClientIP`, `url`,
`requestsize` ...) are read. The CEF and LEEF output types are parsed by the generic `cef` / `leef`.

What the fields mean (Zscaler's field reference):
- `time` has no zone: it is in the feed's time zone (NSS default GMT). A `tz` field saying GMT/UTC is
  honoured; otherwise the configured ingest time zone applies. `epochtime` wins when logged.
- `eurl` / `url` has no scheme: `host[:port][/path]`; a CONNECT logs `host:port`.
- `reqsize` is the whole request (headers and body): bytes_out; `respsize` the whole response.
- `sip` is 0.0.0.0 when the request was blocked: no destination, so null.
- `ctime` (`clienttranstime`) is the client-side transaction time in milliseconds.
- `None`, `NA`, `N/A` are placeholders for "no value".
- Zscaler's own view of the request is kept: `appname` (cloud application) as vendor_app, `urlcat` (else
  `appclass`) as vendor_category, `dept` (the user's department in Zscaler's directory) as
  vendor_department. `ologin`, the obfuscated login, is read as the user, pseudonymised like any login.
"""

from __future__ import annotations

import re
from collections import Counter

import pyarrow as pa

from detector.ingest.base import BatchParser, Format, ParseContext, ParseResult, line_share, run_parse_query, sql_parser

# Canonical field -> the names feeds use for it (Zscaler's own first, then SIEM template names).
# `ologin` is Zscaler's obfuscated login: a stable per-user token, as good as a name for counting.
ALIASES: dict[str, tuple[str, ...]] = {
    "time_text": ("time", "datetime"),
    "epoch": ("epochtime",),
    "tz_name": ("tz", "timezone"),
    "login": ("login", "elogin", "user", "ologin"),
    "location": ("location", "elocation"),
    "cip": ("cip", "ClientIP"),
    "sip": ("sip", "serverip"),
    "url": ("eurl", "url"),
    "host_header": ("ehost", "host", "hostname"),
    "method": ("reqmethod", "requestmethod"),
    "status": ("respcode", "status"),
    "reqsize": ("reqsize", "requestsize"),
    "respsize": ("respsize", "responsesize"),
    "action": ("action",),
    "ua": ("ua", "eua", "useragent"),
    "proto": ("proto", "protocol"),
    "contenttype": ("contenttype",),
    "ctime": ("ctime", "clienttranstime"),
    "appname": ("appname",),
    "urlcat": ("urlcat", "urlcategory"),
    "appclass": ("appclass",),
    "dept": ("dept", "department"),
}
# Fields used as text, where a placeholder must become null (numbers go through try_cast anyway).
TEXT_FIELDS = {"login", "cip", "sip", "url", "host_header", "method", "ua", "proto", "appname", "urlcat", "appclass",
               "dept"}
PLACEHOLDERS = ("", "-", "None", "NA", "N/A")

# The CSV output type's default field list (the order of Zscaler's sample web log); a trailing
# `keyprotectiontype` column was added later, so 33 or more columns are accepted.
CSV_COLUMNS = (
    "time", "login", "proto", "eurl", "action", "appname", "appclass", "reqsize", "respsize", "stime",
    "ctime", "urlclass", "urlsupercat", "urlcat", "malwarecat", "threatname", "riskscore", "dlpeng",
    "dlpdict", "location", "dept", "cip", "sip", "reqmethod", "respcode", "ua", "ereferer", "ruletype",
    "rulelabel", "contenttype", "unscannabletype", "deviceowner", "devicehostname",
)


_SEP = ",\n        "


def _canonical_columns(raw: dict[str, str]) -> str:
    """SQL select items `<expr> as <canonical>` for every canonical field (null where a feed lacks it)."""
    return _SEP.join(f"{raw.get(name, 'null::varchar')} as {name}" for name in ALIASES)


def _placeholders_to_null() -> str:
    """SQL `* replace (...)` items: Zscaler's placeholders in text fields become null. Spelled as ORs: DuckDB
    plans `x in (...)` over a constant list as a join, which costs more here."""
    tests = " or ".join(f"{{name}} = '{p}'" for p in PLACEHOLDERS)
    return _SEP.join(f"case when {tests.format(name=name)} then null else {name} end as {name}"
                     for name in ALIASES if name in TEXT_FIELDS)


def _first(values: list[str]) -> str:
    return values[0] if len(values) == 1 else f"coalesce({', '.join(values)})"


# From the canonical fields (CTE `fields`: line_no, parse_error and the ALIASES keys) to the schema.
# Each step computes a value once; later steps only refer to it (DuckDB inlines macros, not columns).
FINAL = r"""
, cleaned as (
    select * replace (
        @PLACEHOLDERS@
    )
    from fields
),
located as (
    select *,
        case when contains(url, '://') then url_rest(url) else url end as rest,
        upper(method) as verb,
        coalesce(
            to_timestamp(try_cast(epoch as bigint)),
            timezone(
                case when upper(tz_name) in ('GMT', 'UTC') then 'UTC' else $tz end,
                try_strptime(time_text, ['%a %b %d %H:%M:%S %Y', '%b %d %H:%M:%S %Y',
                                         '%Y-%m-%d %H:%M:%S', '%y-%m-%d %H:%M:%S']))
        ) as event_time
    from cleaned
),
hosted as (
    select *, authority_hostport(rest_authority(rest)) as hostport from located
)
select
    line_no,
    case
        when parse_error is not null then parse_error
        when event_time is null and time_text is null and epoch is null
            then 'no time field (time, datetime or epochtime)'
        when event_time is null then 'time is not a Zscaler NSS time: ' || coalesce(time_text, epoch)
        when url is null and host_header is null then 'no URL or host field (eurl, url, ehost, host)'
    end as reject_reason,
    false as is_ignored,
    event_time as ts,
    cip as src_ip,
    -- Traffic Zscaler could not tie to a user is logged under its location's name: no user.
    case when login is distinct from location then login end as user_name,
    coalesce(hostport_host(hostport), clean_host(host_header)) as host,
    case
        when verb = 'CONNECT' and hostport <> '' then 'connect'
        when hostport <> '' then 'url'
        when host_header is not null then 'http_host'
        else 'none'
    end as host_source,
    nullif(sip, '0.0.0.0') as dst_ip,
    hostport_port(hostport) as dst_port,
    case lower(proto) when 'http_proxy' then 'http' when 'ssl' then 'tls' else lower(proto) end as network_protocol,
    verb as http_method,
    case when verb is distinct from 'CONNECT' then rest_path(rest) end as url_path,
    nullif(try_cast(status as integer), 0) as http_status,
    case lower(action) when 'allowed' then 'allowed' when 'blocked' then 'blocked' else 'unknown' end as action,
    try_cast(reqsize as bigint) as bytes_out,
    try_cast(respsize as bigint) as bytes_in,
    try_cast(ctime as bigint) as duration_ms,
    ua as user_agent,
    case when contains(contenttype, '/') then lower(contenttype) end as content_type,
    appname as vendor_app,
    -- the URL category is set on every transaction; the app class only names something once Zscaler
    -- recognised a cloud application (else "General Browsing")
    coalesce(urlcat, appclass) as vendor_category,
    dept as vendor_department
from hosted
""".replace("@PLACEHOLDERS@", _placeholders_to_null())


def _json_query() -> str:
    """One JSON parse per line into a struct of every alias, under `$.event` (NSS's wrapper) and at the top
    level: json_transform looks each key of the object up once, where one path per alias would scan the
    object's keys again for every alias."""
    aliases = list(dict.fromkeys(alias for names in ALIASES.values() for alias in names))
    fields = ", ".join(f'"{alias}": "VARCHAR"' for alias in aliases)
    shape = f'{{"event": {{{fields}}}, {fields}}}'
    raw = {name: _first([f"coalesce(j.event.{alias}, j.{alias})" for alias in names])
           for name, names in ALIASES.items()}
    return f"""
with transformed as (
    -- One parse per line, no validity check first: try() makes a line that is not JSON null (a batch
    -- without such lines pays nothing for it; json_valid cost a third of the transform).
    select line_no, line, try(json_transform(line, '{shape}')) as j from lines
),
extracted as (
    -- valid JSON that is not an object (an array, a string) transforms too, to a struct of nulls
    select line_no, j,
        -- CASE, not AND/OR: only CASE spares the other branches the rows it does not select.
        case when j is null then false
             when starts_with(line, '{{') then true
             else try(json_type(line)) = 'OBJECT' end as is_object
    from transformed
),
fields as (
    select line_no,
        case when not is_object then 'not a JSON object' end as parse_error,
        {_canonical_columns(raw)}
    from extracted
)""" + FINAL


def _csv_query() -> str:
    position = {name: i + 1 for i, name in enumerate(CSV_COLUMNS)}
    raw = {}
    for name, aliases in ALIASES.items():
        picks = [f"f[{position[a]}]" for a in aliases if a in position]
        if picks:
            raw[name] = _first(picks)
    raw["time_text"] = "ltrim(f[1], '\"')"  # the line's opening quote stays on the first field
    return rf"""
with split as (
    select line_no, starts_with(line, '"') as quoted, string_split(line, '","') as f from lines
),
fields as (
    select line_no,
        case when not quoted then 'not a quoted CSV line'
             when len(f) < {len(CSV_COLUMNS)}
                 then 'expected the {len(CSV_COLUMNS)} columns of the default NSS web CSV feed, found ' || len(f)
        end as parse_error,
        {_canonical_columns(raw)}
    from split
)""" + FINAL


# name=value feeds: a feed's template fixes which names come in which order, so the layout most lines
# of a batch share is learned from its first lines and each field is read by position. A line with
# another layout is read by name instead (slower, but any order).
_PAIR = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")
LAYOUT_SAMPLE = 50


def _kv_layout(lines: pa.Table) -> tuple[str, ...]:
    """The names, in order, that most of the batch's first lines have (three pairs or more)."""
    layouts: Counter[tuple[str, ...]] = Counter()
    for line in lines.column("line").slice(0, LAYOUT_SAMPLE).to_pylist():
        names = []
        for i, item in enumerate(line.split("\t")):
            found = _PAIR.search(item) if i == 0 else _PAIR.match(item)
            if not found or (found.start() and item[found.start() - 1] != " "):
                break
            names.append(found.group(1))
        else:
            if len(names) >= 3:
                layouts[tuple(names)] += 1
    return layouts.most_common(1)[0][0] if layouts else ()


def _kv_query(layout: tuple[str, ...]) -> str:
    position = {name: i for i, name in reversed(list(enumerate(layout, start=1)))}
    # Does the line have the layout? The first pair may follow a syslog or time prefix.
    fits = " and ".join(
        [f"len(p) = {len(layout)}"]
        + [f"(starts_with(p[1], '{name}=') or contains(p[1], ' {name}='))" if i == 1
           else f"starts_with(p[{i}], '{name}=')" for i, name in enumerate(layout, start=1)]
    ) if layout else "false"
    items, values, unquoted = [], [], []
    for name, aliases in ALIASES.items():
        at = [f"p[{position[a]}]" for a in aliases if a in position]
        by_name = _first([f"p[list_position(k, {a!r})]" for a in aliases])
        items.append(f"case when fits then {_first(at) if at else 'null'} else {by_name} end as {name}")
        # An item is `[prefix ]name=value`, the value maybe quoted (trim only those: it is not cheap).
        values.append(f"substr({name}, strpos({name}, '=') + 1) as {name}")
        unquoted.append(f"case when starts_with({name}, '\"') then trim({name}, '\"') else {name} end as {name}")
    # CASE, never WHERE, on computed columns: DuckDB pushes a filter down through the projections,
    # recomputing what it refers to (the split) for every term; a CASE branch only runs for its rows.
    return rf"""
with split as (
    select line_no, string_split(line, chr(9)) as p from lines
),
shaped as (
    select line_no, p, {fits} as fits from split
),
keyed as (
    select *,
        case when not fits then list_transform(p, lambda x: split_part(split_part(x, '=', 1), ' ', -1)) end as k
    from shaped
),
items as (
    select line_no, fits, len(p) as pairs,
        {_SEP.join(items)}
    from keyed
),
valued as (
    select line_no, fits, pairs,
        {_SEP.join(values)}
    from items
),
unquoted as (
    select line_no, fits, pairs,
        {_SEP.join(unquoted)}
    from valued
),
fields as (
    select line_no,
        case when not fits and pairs < 3 then 'expected tab-separated name=value pairs (Zscaler NSS feed)'
        end as parse_error,
        {_canonical_columns({name: name for name in ALIASES})}
    from unquoted
)""" + FINAL


def _kv_parser(context: ParseContext) -> BatchParser:
    queries: dict[tuple[str, ...], str] = {}

    def parse(lines: pa.Table) -> ParseResult:
        layout = _kv_layout(lines)
        if layout not in queries:
            queries[layout] = _kv_query(layout)
        return run_parse_query(context, queries[layout], lines)

    return parse


JSON_QUERY = _json_query()
CSV_QUERY = _csv_query()

FIELDS = (
    "ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
    "http_method", "url_path", "http_status", "action", "bytes_out", "bytes_in", "duration_ms",
    "user_agent", "content_type", "vendor_app", "vendor_category", "vendor_department",
)

_JSON_WRAPPED = r'^\s*\{(?=.*"sourcetype"\s*:\s*"zscalernss-web")'
_JSON_FLAT = r'^\s*\{(?=.*"(?:eurl|url)"\s*:)(?=.*"(?:reqmethod|requestmethod)"\s*:)(?=.*"(?:urlcat|urlcategory)"\s*:)'
_KV_NAMES = r"^(?=.*\t)(?=.*(?:^|[\t ])(?:eurl|url)=)(?=.*(?:^|[\t ])(?:urlcat|urlcategory|urlsupercat|urlclass)=)"

JSON = Format(
    name="zscaler_json",
    source_kind="proxy",
    summary="Zscaler ZIA NSS web log, JSON feed output type",
    sniff=line_share(re.compile(f"{_JSON_WRAPPED}|{_JSON_FLAT}")),
    new_parser=sql_parser(JSON_QUERY),
    independent_batches=True,
    fields=FIELDS,
)

KV = Format(
    name="zscaler_kv",
    source_kind="proxy",
    summary="Zscaler ZIA NSS web log, tab-separated name=value feed (Zscaler or Splunk CIM field names)",
    sniff=line_share(re.compile(_KV_NAMES)),
    new_parser=_kv_parser,
    independent_batches=True,
    fields=FIELDS,
)

CSV = Format(
    name="zscaler_csv",
    source_kind="proxy",
    summary="Zscaler ZIA NSS web log, CSV feed output type with the default field list",
    sniff=line_share(r'^"\w{3} \w{3} +\d{1,2} \d\d:\d\d:\d\d \d{4}","'),
    new_parser=sql_parser(CSV_QUERY),
    independent_batches=True,
    fields=FIELDS,
)
