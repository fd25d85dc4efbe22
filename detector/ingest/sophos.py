"""Sophos Firewall (XG / SFOS) syslog: web traffic from its content filter.

Every SFOS log line, whatever its type, is a syslog header (or none) followed by `key=value` pairs,
string values in double quotes. Web traffic is in `log_type="Content Filtering"` (component HTTP/HTTPS:
web requests; Application: application control), and in the web components (HTTP, HTTPS, Web) of the
Anti-Virus and ATP log types. Every other log type of the device (Firewall, Event, IPS, Anti-Spam, System
Health, ...) carries no web traffic: those lines are ignored, not rejected.

Two generations of field names are read:
- SFOS 18.5 and later: `timestamp="2021-11-15T18:28:48-0600"`, `url` with scheme, `domain`, `http_status`,
  `bytes_sent` / `bytes_received`, `http_user_agent`, `content_type`;
- SFOS 17-18: `date=2016-12-02 time=18:27:03 timezone="GMT"`, `url` maybe without scheme, `domain`,
  `httpresponsecode` or `status_code`, `sent_bytes` / `recv_bytes`, `user_agent`, `contenttype`.
`bytes_sent` / `sent_bytes` is what the client sent (bytes_out). `date`/`time` are local: a `timezone`
of GMT/UTC is honoured, other abbreviations (IST, CEST ...) are ambiguous, so the configured ingest zone
applies. `log_subtype` is the decision (Allowed, Denied, Warned ...). `http_status` 0 means none.
Sophos's own view is kept: `app_name` (application control) as vendor_app, the web category
`http_category` (SFOS 17: `category`), else the application's `app_category`, as vendor_category.

Web lines are told from the others by their raw text; only they are split into pairs, with one
`regexp_extract_all` (no capture group: several times faster than extracting keys and values with
groups), and looked up by name, so key order and added keys do not matter.
"""

from __future__ import annotations

import re

from detector.ingest.base import Format, line_share, sql_parser

# Canonical field -> SFOS key names, newest first.
KEYS: dict[str, tuple[str, ...]] = {
    "subtype": ("log_subtype",),
    "iso_time": ("timestamp",),
    "log_date": ("date",),
    "log_clock": ("time",),
    "zone": ("timezone",),
    "account": ("user_name",),
    "src": ("src_ip", "sourceip"),
    "dst": ("dst_ip", "destinationip"),
    "dport": ("dst_port",),
    "url": ("url",),
    "domain": ("domain", "domainname"),
    "status": ("http_status", "httpresponsecode", "status_code"),
    "sent": ("bytes_sent", "sent_bytes"),
    "received": ("bytes_received", "recv_bytes"),
    "agent": ("http_user_agent", "user_agent"),
    "ctype": ("content_type", "contenttype"),
    "app": ("app_name",),
    "category": ("http_category", "category", "app_category"),
}

_PAIR = r'[A-Za-z_][A-Za-z0-9_]*=(?:"[^"]*"|[^\s"]*)'


def _lookups() -> tuple[str, str]:
    """SQL select items: each canonical field's `key=value` item, then its value unquoted."""
    items, values = [], []
    for name, keys in KEYS.items():
        picks = [f"p[list_position(k, '{key}')]" for key in keys]
        items.append(f"{picks[0] if len(picks) == 1 else 'coalesce(' + ', '.join(picks) + ')'} as {name}")
        value = f"substr({name}, strpos({name}, '=') + 1)"
        values.append(f"nullif(case when ends_with({name}, '\"') then {value}[2:-2] else {value} end, '') as {name}")
    sep = ",\n        "
    return sep.join(items), sep.join(values)


_ITEMS, _VALUES = _lookups()

QUERY = rf"""
with typed as (
    -- Whether a line is web traffic is read from the raw text first: only those lines are split into
    -- pairs (the costly step), so a stream of mostly firewall logs costs little.
    select line_no, line,
        contains(line, 'log_type="') as has_type,
        contains(line, 'log_type="Content Filtering"')
            or ((contains(line, 'log_type="Anti-Virus"') or contains(line, 'log_type="ATP"'))
                and (contains(line, 'log_component="HTTP') or contains(line, 'log_component="Web"'))) as is_web
    from lines
),
pairs as (
    select line_no, has_type, is_web, case when is_web then regexp_extract_all(line, '{_PAIR}') end as p from typed
),
keyed as (
    select *, case when is_web then list_transform(p, lambda x: split_part(x, '=', 1)) end as k from pairs
),
items as (
    select line_no, has_type, is_web,
        {_ITEMS}
    from keyed
),
fields as (
    select line_no, has_type, is_web,
        {_VALUES}
    from items
),
classified as (
    select *,
        case when contains(url, '://') then url_rest(url) else url end as rest,
        coalesce(
            try_cast(iso_time as timestamptz),
            timezone(case when upper(zone) in ('GMT', 'UTC') then 'UTC' else $tz end,
                     try_strptime(log_date || ' ' || log_clock, '%Y-%m-%d %H:%M:%S'))
        ) as event_time
    from fields
),
hosted as (
    select *, authority_hostport(rest_authority(rest)) as hostport from classified
)
select
    line_no,
    case
        when not has_type then 'no log_type field: not a Sophos Firewall log line'
        when not is_web then null
        when event_time is null and iso_time is null and log_date is null then 'no timestamp or date/time fields'
        when event_time is null
            then 'time is not ISO 8601 or yyyy-mm-dd hh:mm:ss: ' || coalesce(iso_time, log_date || ' ' || log_clock)
    end as reject_reason,
    has_type and not is_web as is_ignored,
    event_time as ts,
    src as src_ip,
    account as user_name,
    coalesce(hostport_host(hostport), clean_host(domain)) as host,
    case when hostport_host(hostport) is not null then 'url' when clean_host(domain) is not null then 'http_host'
         else 'none' end as host_source,
    dst as dst_ip,
    try_cast(dport as integer) as dst_port,
    url_scheme(url) as network_protocol,
    rest_path(rest) as url_path,
    nullif(try_cast(status as integer), 0) as http_status,
    case
        when lower(subtype) in ('allowed', 'alert', 'clean') then 'allowed'
        when lower(subtype) in ('denied', 'blocked', 'drop', 'virus', 'pua') then 'blocked'
        else 'unknown'
    end as action,
    try_cast(sent as bigint) as bytes_out,
    try_cast(received as bigint) as bytes_in,
    agent as user_agent,
    lower(ctype) as content_type,
    app as vendor_app,
    category as vendor_category
from hosted
"""

XG = Format(
    name="sophos_xg",
    source_kind="proxy",
    summary="Sophos Firewall (XG/SFOS) syslog: content filtering (web) logs; other log types ignored",
    sniff=line_share(re.compile(r'^(?=.*\blog_id=\d{12}\b)(?=.*\blog_type=")(?=.*\blog_component=")')),
    new_parser=sql_parser(QUERY),
    independent_batches=True,
    fields=("ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
            "url_path", "http_status", "action", "bytes_out", "bytes_in", "user_agent", "content_type",
            "vendor_app", "vendor_category"),
)
