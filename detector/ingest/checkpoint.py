"""Check Point Log Exporter, syslog format: an RFC 5424 header, then `[key:"value"; key:"value"; ...]`.

Fields by name (the data split on its quote marks, keys looked up in a list; the first of repeated
keys wins):
`src`, `dst`, `service` (destination port), `proto` (IP protocol number), `action`, `time` (epoch),
the user from Identity Awareness (`src_user_name`, `source_user_name`, `user`), byte counts from
Accounting (`client_outbound_bytes` is what the client sent: `bytes_out`; `server_outbound_bytes`;
older `sent_byte` / `received_bytes`), `elapsed` (seconds), and the URL Filtering blade's `resource` (the
URL, from which the host). Check Point's own view is kept: Application Control's `appi_name` as vendor_app,
its `app_category`, else URL Filtering's `matched_category`, as vendor_category.

Events are logs of a connection decision: actions Accept, Allow, Encrypt, Decrypt (allowed: Encrypt
and Decrypt are accepted VPN traffic) and Drop, Reject, Block, Prevent (blocked); such a log without
`src` and `dst` is a reject. Everything else (System Monitor messages, updates, VPN key exchange,
Login, Detect/Inform, ...) carries no decision on traffic: ignored.

Time: `time` (epoch seconds, the event) when present, else the header's ISO 8601 time (Log Exporter
writes RFC 5424 headers; one without an offset is read in the configured zone).
"""

from __future__ import annotations

from detector.ingest.base import Format, line_share, sql_parser
from detector.ingest.ip_protocols import protocol_name_sql
from detector.ingest.syslog import ISO_TIME

KEYS = (
    "action", "src", "dst", "service", "proto", "time", "src_user_name", "source_user_name", "user",
    "client_outbound_bytes", "server_outbound_bytes", "sent_byte", "received_bytes", "elapsed", "resource",
    "method", "appi_name", "app_category", "matched_category",
)

def _lookup(key: str) -> str:
    """SQL for the value of `key`: the piece after its `key:` piece when the data is split on its quote marks.
    The first key ends piece 1 (after `[`), the n-th of the others (`keys`, from piece 3 on) is piece 2n + 1."""
    return f"case when first_key = '{key}:' then p[2] else p[nullif(list_position(keys, '; {key}:'), 0) * 2 + 2] end"


ALLOWED = ("Accept", "Allow", "Encrypt", "Decrypt")
BLOCKED = ("Drop", "Reject", "Block", "Prevent")
_DECISION = f"action in {ALLOWED + BLOCKED}"

# Keys every decision needs, and keys read only when needed (each lookup searches a list).
COMMON = (
    "action", "src", "dst", "service", "proto", "time", "src_user_name", "client_outbound_bytes",
    "server_outbound_bytes", "elapsed", "resource",
)
WHEN = {
    "source_user_name": "src_user_name is null", "user": "src_user_name is null",
    "sent_byte": "client_outbound_bytes is null", "received_bytes": "server_outbound_bytes is null",
    "method": "resource is not null",
    "appi_name": _DECISION, "app_category": _DECISION, "matched_category": f"{_DECISION} and app_category is null",
}
assert set(COMMON) | set(WHEN) == set(KEYS)
_COMMON_LOOKUPS = ",\n        ".join(f"{_lookup(key)} as {key}" for key in COMMON)
_OTHER_LOOKUPS = ",\n        ".join(f"case when {when} then {_lookup(key)} end as {key}" for key, when in WHEN.items())

QUERY = rf"""
with split as (
    select line_no, line,
        strpos(line, '[') as bracket,
        -- The line split on its quote marks: odd pieces end in `key:` (after `; ` or `[`), even ones are values.
        -- An escaped quote (\") is hidden until the split is done.
        string_split(case when contains(line, '\"') then replace(line, '\"', chr(30)) else line end, '"') as p
    from lines
),
keyed as (
    -- Log Exporter separates fields with `; `, so from piece 3 on the odd pieces are `; key:`; in any other
    -- layout each odd piece's last word is its key.
    select *, ltrim(split_part(p[1], ' ', -1), '[') as first_key,
        case
            when starts_with(p[3], '; ') then list_slice(p, 3, -1, 2)
            else list_transform(list_slice(p, 3, -1, 2), lambda piece: '; ' || ltrim(split_part(piece, ' ', -1), '['))
        end as keys
    from split
),
common as (
    select line_no, line, bracket, len(p) // 2 as n, p, first_key, keys,
        {_COMMON_LOOKUPS}
    from keyed
),
fields as (
    select * exclude (p, first_key, keys),
        {_OTHER_LOOKUPS}
    from common
),
checked as (
    select *,
        action in {ALLOWED} or action in {BLOCKED} as is_traffic,
        case
            when bracket = 0 or n = 0 then 'not a Check Point log (no [key:"value"; ...] data)'
            when action in {ALLOWED + BLOCKED} and (src is null or dst is null)
                then action || ' log without src and dst'
        end as reject_reason,
        url_rest(replace(replace(resource, chr(30), '"'), '\]', ']')) as rest,
        to_timestamp(try_cast(time as bigint)) as epoch_time
    from fields
),
dated as (
    -- The header's time only where `time` is missing (a regular expression: dear enough to skip).
    select * exclude (line),
        case when epoch_time is null
            then regexp_extract(substr(line, 1, greatest(bracket, 1) - 1), '({ISO_TIME})') end as iso_time
    from checked
)
select
    line_no,
    reject_reason,
    reject_reason is null and not coalesce(is_traffic, false) as is_ignored,
    coalesce(
        epoch_time,
        case
            when iso_time = '' then null
            when regexp_matches(iso_time, '(Z|[+-]\d{{2}}:?\d{{2}})$') then try_cast(iso_time as timestamptz)
            else timezone($tz, try_cast(iso_time as timestamp))
        end
    ) as ts,
    src as src_ip,
    nullif(replace(replace(coalesce(src_user_name, source_user_name, user), chr(30), '"'), '\]', ']'), '')
        as user_name,
    hostport_host(rest_authority(rest)) as host,
    case when hostport_host(rest_authority(rest)) is not null then 'url' else 'none' end as host_source,
    dst as dst_ip,
    try_cast(service as integer) as dst_port,
    {protocol_name_sql('proto')} as network_protocol,
    upper(nullif(method, '')) as http_method,
    rest_path(rest) as url_path,
    case when action in {ALLOWED} then 'allowed' when action in {BLOCKED} then 'blocked' else 'unknown' end
        as action,
    try_cast(coalesce(client_outbound_bytes, sent_byte) as bigint) as bytes_out,
    try_cast(coalesce(server_outbound_bytes, received_bytes) as bigint) as bytes_in,
    try_cast(elapsed as bigint) * 1000 as duration_ms,
    nullif(replace(replace(appi_name, chr(30), '"'), '\]', ']'), '') as vendor_app,
    nullif(replace(replace(coalesce(app_category, matched_category), chr(30), '"'), '\]', ']'), '')
        as vendor_category
from dated
"""

SYSLOG = Format(
    name="checkpoint",
    source_kind="firewall",
    summary='Check Point Log Exporter syslog ([key:"value"; ...]): firewall and URL Filtering decisions',
    sniff=line_share(r'^.*?\bCheckPoint\b.*\[[\w.-]+:+"'),
    new_parser=sql_parser(QUERY),
    independent_batches=True,
    fields=(
        "ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
        "http_method", "url_path", "action", "bytes_out", "bytes_in", "duration_ms", "vendor_app", "vendor_category",
    ),
)
