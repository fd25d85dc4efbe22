r"""Generic ArcSight CEF and IBM QRadar LEEF lines, with or without a syslog header (RFC 3164 or 5424).

    CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|key=value key=value ...
    LEEF:1.0|Vendor|Product|Version|EventID|key=value<TAB>key=value ...
    LEEF:2.0|Vendor|Product|Version|EventID|<delimiter>|key=value<delimiter>key=value ...

Many devices (web gateways, firewalls, Zscaler's CEF and LEEF feed types) can log this way; we read the
keys the standards define, in either their short or long names, case-insensitively:
- client: `src` / `sourceAddress`; user: `suser` / `sourceUserName`, LEEF `usrName`, else `duser`
  (some devices put the client's user there);
- destination: `dst`, `dpt`, `dhost`; URL: `request` (LEEF `url`), path-only or scheme-less URLs too;
  `requestMethod`, `requestClientApplication`; application protocol: `app`;
- bytes: `out` (LEEF `srcBytes`) is what the client sent (bytes_out); `in` (LEEF `dstBytes`) the reverse;
- decision: `act` (LEEF `action`); HTTP status: `outcome` when it is a number (Zscaler puts the response
  code there), else a custom field `csN`/`cnN` whose `csNLabel` says status; the same for content type;
- time: `rt`, else `end`, `start` (LEEF `devTime`): epoch milliseconds or `MMM dd [yyyy] HH:mm:ss[.SSS]
  [zone]`; else the syslog header's time. A time without zone is in the configured ingest zone; one
  without year gets it by the rule of `syslog.py` (the year that puts it before the file was written).
- the gateway's own view: application `destinationServiceName` (Zscaler puts its appname there), category
  `cat` (Zscaler: the URL category), department `dept` (Zscaler's LEEF feed: `role`); a labelled custom field
  (`csNLabel=urlcat`, `appname`, `dept` ...) wins over those keys; LEEF feeds name them directly (`appname=`).
CEF escapes (`\\`, `\|` in the header, `\=` in values) are honoured. Lines without any address, host or
URL (say, a login or a policy change) carry no traffic and are ignored; lines without a CEF/LEEF header
are rejected.

Source kind: proxy, as web gateways are the devices that log URLs and users this way. Firewalls that send
CEF land there too: their events are connections (addresses and ports, usually no host name).

These formats are generic, so they score at most 0.6 when sniffing: a vendor's own format wins on its
files, and CEF/LEEF is chosen only where nothing more specific fits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from detector.ingest.base import Format
from detector.ingest.syslog import syslog_sql_parser

GENERIC_SNIFF_CAP = 0.6

# Canonical field -> extension keys (lower case), in order of preference.
KEYS: dict[str, tuple[str, ...]] = {
    "t_rt": ("rt", "devtime", "end", "start", "deviceReceiptTime", "endTime", "startTime"),
    "time_format": ("devtimeformat",),
    "src": ("src", "sourceaddress"),
    "dst": ("dst", "destinationaddress"),
    "dpt": ("dpt", "destinationport", "dstport"),
    "usr": ("suser", "sourceusername", "usrname", "duser", "destinationusername"),
    "dhost": ("dhost", "destinationhostname"),
    "request": ("request", "requesturl", "url"),
    "method": ("requestmethod",),
    "agent": ("requestclientapplication", "useragent"),
    "sent": ("out", "bytesout", "srcbytes"),
    "received": ("in", "bytesin", "dstbytes"),
    "act": ("act", "deviceaction", "action"),
    "app": ("app", "applicationprotocol"),
    "outcome": ("outcome",),
    "service": ("destinationservicename", "appname"),
    "cat": ("cat", "urlcat", "urlcategory"),
    "dept": ("dept", "department", "role"),
}
KEYS = {name: tuple(key.lower() for key in keys) for name, keys in KEYS.items()}
# Custom fields and their labels, read only on lines that have labels.
CUSTOM = [f"cs{i}" for i in range(1, 7)] + [f"cn{i}" for i in range(1, 4)]
STATUS_LABELS = ("http status", "httpstatus", "http status code", "status", "status code", "statuscode",
                 "response code", "responsecode", "respcode", "http response code")
TYPE_LABELS = ("content type", "contenttype", "content-type", "mime type", "mimetype")
APP_LABELS = ("appname", "app name", "application", "application name")
CATEGORY_LABELS = ("urlcat", "urlcategory", "url category", "category")
DEPARTMENT_LABELS = ("dept", "department")

_SEP = ",\n        "


def _first(values: list[str]) -> str:
    return values[0] if len(values) == 1 else f"coalesce({', '.join(values)})"


# Steps shared by both formats. They start from `pairs(line_no, prefix, header_error, has_escape, k,
# <value source>)`; `value_of(position)` reads the value of the key at that position of `k`.
def _lookup_steps(value_of: Callable[[str], str]) -> str:
    def value(position: str) -> str:
        text = f"nullif(trim({value_of(position)}), '')"
        return (f"case when {position} is null then null "
                f"when has_escape then replace(replace(replace({text}, chr(1), '\\'), chr(2), '|'), chr(3), '=') "
                f"else {text} end")

    def position_labelled(labels: tuple[str, ...]) -> str:
        """The position of the custom field whose label is one of `labels`."""
        quoted = ", ".join(f"'{label}'" for label in labels)
        return _first([f"case when {c}_label in ({quoted}) then {c} end" for c in CUSTOM])

    positions = [f"{_first([f'list_position(k, {key!r})' for key in keys])} as {name}" for name, keys in KEYS.items()]
    positions += [f"list_position(k, '{c}{suffix}') as {c}{suffix}" for c in CUSTOM for suffix in ("", "label")]
    has_labels = f"coalesce({', '.join(f'{c}label' for c in CUSTOM)}) is not null"
    labels = [f"case when {has_labels} then lower({value(f'{c}label')}) end as {c}_label" for c in CUSTOM]
    labelled_at = ("status_at", "type_at", "app_at", "category_at", "dept_at")
    values = [f"{value(name)} as {name}" for name in (*KEYS, *labelled_at)]
    return f"""
positions as (
    select *,
        {_SEP.join(positions)}
    from pairs
),
labels as (
    select *,
        {_SEP.join(labels)}
    from positions
),
labelled as (
    -- custom fields (csN / cnN) are read where a label names what they hold
    select *,
        {position_labelled(STATUS_LABELS)} as status_at,
        {position_labelled(TYPE_LABELS)} as type_at,
        {position_labelled(APP_LABELS)} as app_at,
        {position_labelled(CATEGORY_LABELS)} as category_at,
        {position_labelled(DEPARTMENT_LABELS)} as dept_at
    from labels
),
fields as (
    select line_no, prefix, header_error,
        {_SEP.join(values)}
    from labelled
)"""


# Escapes: a `\\` first becomes chr(1), then `\|` chr(2) and `\=` chr(3), so that splitting on | and =
# sees only the real separators; values get their characters back once read.
_PROTECT = r"replace(replace(replace(body, '\\', chr(1)), '\|', chr(2)), '\=', chr(3))"

def _headed(marker: str) -> str:
    """The CTEs both formats start with: where the header starts, what precedes it (a syslog header), and
    the header split on its unescaped `|`."""
    return rf"""
with located as (
    select line_no, line, strpos(line, '{marker}') as head_at from lines
),
bodies as (
    select line_no, head_at, left(line, head_at - 1) as prefix, substr(line, head_at) as body,
        contains(substr(line, head_at), '\') as has_escape
    from located
),
headers as (
    select line_no, head_at, prefix, has_escape,
        string_split(case when has_escape then {_PROTECT} else body end, '|') as h
    from bodies
),"""


CEF_PAIRS = rf"""
{_headed("CEF:")}
extensions as (
    select line_no, prefix, has_escape,
        case when head_at = 0 then 'no CEF: header'
             when len(h) < 8 then 'CEF header has ' || (len(h) - 1) || ' of its 7 |-separated fields' end
            as header_error,
        case when len(h) = 8 then h[8] else array_to_string(h[8:], '|') end as extension
    from headers
),
pairs as (
    -- e[i] is `value(i-1) key(i)`: the key of the value in e[i+1] is e[i]'s last word. Keys are read from a
    -- lower-case copy (one lower() per line is much cheaper than one per key).
    select line_no, prefix, has_escape, header_error,
        string_split(extension, '=') as e,
        list_transform(string_split(lower(extension), '='), lambda x: split_part(x, ' ', -1)) as k
    from extensions
),"""


def _cef_value(name: str) -> str:
    # The value of key number j is e[j+1] without the next key (and its space) at its end; left() with a
    # negative length is several times cheaper than slicing.
    return (f"case when {name} + 1 = len(e) then e[{name} + 1] "
            f"else left(e[{name} + 1], -length(k[{name} + 1]) - 1) end")


LEEF_PAIRS = rf"""
{_headed("LEEF:")}
delimited as (
    -- LEEF 2.0 may name its attribute delimiter in a sixth header field: a character, or its code as
    -- x09 / 0x09; without one (and in LEEF 1.0) it is a tab.
    select *,
        starts_with(h[1], 'LEEF:2') and len(h) >= 7 and not contains(h[6], '=') as names_delimiter
    from headers
),
attributes as (
    select line_no, prefix, has_escape,
        case when head_at = 0 then 'no LEEF: header'
             when len(h) < 6 then 'LEEF header has ' || (len(h) - 1) || ' of its 5 |-separated fields' end
            as header_error,
        case
            when not names_delimiter or h[6] = '' then chr(9)
            when regexp_full_match(h[6], '(0?[xX])[0-9A-Fa-f]{{1,4}}')
                then chr(try_cast('0x' || regexp_extract(h[6], '[0-9A-Fa-f]+$') as integer))
            when h[6] = '\t' then chr(9)
            else h[6]
        end as delimiter,
        case when not names_delimiter and len(h) = 6 then h[6]
             when names_delimiter and len(h) = 7 then h[7]
             else array_to_string(h[case when names_delimiter then 7 else 6 end:], '|') end as attrs
    from delimited
),
pairs as (
    select line_no, prefix, has_escape, header_error,
        string_split(attrs, delimiter) as a,
        list_transform(string_split(lower(attrs), delimiter), lambda x: split_part(x, '=', 1)) as k
    from attributes
),"""


def _leef_value(name: str) -> str:
    return f"substr(a[{name}], strpos(a[{name}], '=') + 1)"


# Epoch (ms or s), `MMM dd yyyy HH:mm:ss[.SSS] [zone]`, ISO 8601, or year-less `MMM dd HH:mm:ss[.SSS]`
# (placed in a year, like a BSD syslog header, by syslog.py's `syslog_time`).
_ZONED = "['%b %d %Y %H:%M:%S.%g %Z', '%b %d %Y %H:%M:%S %Z']"
_LOCAL = "['%b %d %Y %H:%M:%S.%g', '%b %d %Y %H:%M:%S']"
_ZONE_AT_END = r"'(Z|[+-]\d\d:?\d\d)$'"


FINAL = rf"""
headed as (
    -- the syslog header's time, for lines whose extension has none
    select *,
        case when starts_with(prefix, '<') then substr(prefix, strpos(prefix, '>') + 1) else prefix end as syslog,
        case
            when t_rt is null then 'none'
            when regexp_full_match(t_rt, '\d{{9,16}}') then 'epoch'
            when regexp_matches(t_rt, '^\d{{4}}-\d\d-\d\d[T ]') then 'iso'
            when regexp_matches(t_rt, '^[A-Z][a-z][a-z] +\d{{1,2}} \d{{4}} ') then 'dated'
            else 'year-less'
        end as rt_kind
    from fields
),
timed as (
    select *,
        case
            when starts_with(syslog, '1 ') then split_part(syslog, ' ', 2)
            when regexp_matches(syslog, '^\d{{4}}-\d\d-\d\dT') then split_part(syslog, ' ', 1)
            when regexp_matches(syslog, '^[A-Z][a-z][a-z] [ \d]\d \d\d:\d\d:\d\d') then left(syslog, 15)
        end as header_time
    from headed
),
parsed as (
    select *,
        case rt_kind
            when 'epoch' then to_timestamp(try_cast(t_rt as bigint) / case when length(t_rt) >= 12 then 1000 else 1 end)
            when 'iso' then case when regexp_matches(t_rt, {_ZONE_AT_END}) then try_cast(t_rt as timestamptz)
                                 else timezone($tz, try_cast(t_rt as timestamp)) end
            when 'dated' then coalesce(try_strptime(t_rt, {_ZONED}), timezone($tz, try_strptime(t_rt, {_LOCAL})))
            when 'year-less' then syslog_time(t_rt, $tz, $ref)
        end as rt_time,
        -- the header's time is read only for lines that have no time of their own
        case when t_rt is null then syslog_time(header_time, $tz, $ref) end as syslog_time
    from timed
),
stamped as (
    select *,
        case when contains(request, '://') then url_rest(request) when starts_with(request, '/') then null
             else request end as rest,
        lower(act) as decision,
        -- 0.0.0.0 is what devices log when there was no address (a blocked request has no server)
        nullif(src, '0.0.0.0') as client,
        nullif(dst, '0.0.0.0') as server
    from parsed
),
hosted as (
    select *, authority_hostport(rest_authority(rest)) as hostport from stamped
)
select
    line_no,
    case
        when header_error is not null then header_error
        when client is null and server is null and dhost is null and request is null then null
        when t_rt is not null and rt_time is null
            then 'time is not epoch milliseconds or MMM dd yyyy HH:mm:ss: ' || t_rt
                 || coalesce(' (devTimeFormat ' || time_format || ')', '')
        when rt_time is null and syslog_time is null then 'no time: no rt/start/end/devTime and no syslog header'
    end as reject_reason,
    header_error is null and client is null and server is null and dhost is null and request is null as is_ignored,
    coalesce(rt_time, syslog_time) as ts,
    client as src_ip,
    usr as user_name,
    coalesce(hostport_host(hostport), clean_host(dhost)) as host,
    case
        when upper(method) = 'CONNECT' and coalesce(hostport_host(hostport), clean_host(dhost)) is not null
            then 'connect'
        when hostport_host(hostport) is not null then 'url'
        when clean_host(dhost) is not null then 'http_host'
        else 'none'
    end as host_source,
    server as dst_ip,
    coalesce(try_cast(dpt as integer), hostport_port(hostport)) as dst_port,
    coalesce(lower(app), url_scheme(request)) as network_protocol,
    upper(method) as http_method,
    case when starts_with(request, '/') then split_part(split_part(request, '?', 1), '#', 1)
         else rest_path(rest) end as url_path,
    coalesce(try_cast(case when regexp_full_match(outcome, '[1-5]\d\d') then outcome end as integer),
             try_cast(status_at as integer)) as http_status,
    case
        when decision is null then 'unknown'
        when regexp_matches(decision, 'den(y|ied)|block|drop|reject|reset|prevent') then 'blocked'
        when decision in ('allow', 'allowed', 'accept', 'accepted', 'permit', 'permitted', 'pass', 'passed',
                          'success', 'succeeded', 'alert', 'observed', 'monitor', 'monitored', 'continue')
             or decision like 'tcp\_%' escape '\' then 'allowed'
        else 'unknown'
    end as action,
    try_cast(sent as bigint) as bytes_out,
    try_cast(received as bigint) as bytes_in,
    agent as user_agent,
    lower(type_at) as content_type,
    coalesce(app_at, service) as vendor_app,
    coalesce(category_at, cat) as vendor_category,
    coalesce(dept_at, dept) as vendor_department
from hosted
"""

CEF_QUERY = CEF_PAIRS + _lookup_steps(_cef_value) + "," + FINAL
LEEF_QUERY = LEEF_PAIRS + _lookup_steps(_leef_value) + "," + FINAL


def _capped(pattern: str) -> Callable[[Sequence[str]], float]:
    regex = re.compile(pattern)

    def sniff(lines: Sequence[str]) -> float:
        if not lines:
            return 0.0
        return GENERIC_SNIFF_CAP * sum(1 for line in lines if regex.match(line)) / len(lines)

    return sniff


FIELDS = ("ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
          "http_method", "url_path", "http_status", "action", "bytes_out", "bytes_in", "user_agent",
          "content_type", "vendor_app", "vendor_category", "vendor_department")

CEF = Format(
    name="cef",
    source_kind="proxy",
    summary="ArcSight CEF (generic), with or without a syslog header",
    sniff=_capped(r"^.{0,300}?CEF:\d+\|"),
    new_parser=syslog_sql_parser(CEF_QUERY),
    independent_batches=True,
    fields=FIELDS,
)

LEEF = Format(
    name="leef",
    source_kind="proxy",
    summary="IBM QRadar LEEF 1.0/2.0 (generic), with or without a syslog header",
    sniff=_capped(r"^.{0,300}?LEEF:[12]\.0\|"),
    new_parser=syslog_sql_parser(LEEF_QUERY),
    independent_batches=True,
    # LEEF defines no key for the HTTP status or content type (custom csN fields are CEF's).
    fields=tuple(f for f in FIELDS if f not in ("http_status", "content_type")),
)
