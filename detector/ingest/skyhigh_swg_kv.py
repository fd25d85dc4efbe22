"""Skyhigh Secure Web Gateway (McAfee Web Gateway, on premises) access records as key=value pairs, as the
gateway's syslog log handler writes them for a SIEM.

MWG has no fixed syslog layout: a Log Handler rule sets `User-Defined.logLine` to pairs of the administrator's
choosing and its Syslog event sends it (Skyhigh's "Configure Syslog for your SIEM",
https://success.skyhighsecurity.com/Skyhigh_Secure_Web_Gateway_(On_Prem)/Best_Practices/Logging_and_Monitoring/Configure_Syslog_for_your_SIEM).
The pairs SIEM integrations document are read, under the names they use: space-separated `key=value`, text values
in double quotes, usually behind a syslog header (`... mwg: date="..." ...`). SEKOIA.IO's McAfee Web Gateway
format (https://github.com/SEKOIA-IO/intake-formats/tree/main/McAfee/mcafee_web_gateway):
    date="2026-11-29T13:02:11.390Z" hostname="..." username="..." source_ip=... destination_ip=...
    destination_host="..." http_status_code=... media_type="..." source_bytes=... destination_bytes=...
    http_request_first_line="GET http://... HTTP/1.1" url_categories="..." url_reputation_string="..."
    url_reputation_code=... ruleset_name="..." rule_name="..." block_id=... block_reason="..." ...
    application_name="..." http_referer="..." user_agent="..."
and the same properties under the names of the access log's header (`user_name`, `status`, `bytes_to_client`,
`bytes_from_client`, `categories`, `block_res`, ...). Pairs may come in any order; unknown pairs are left alone.

Read (the first key of each list that a line has; `-` or empty: none):
- time: date / datetime / time_stamp: ISO 8601 with `Z` or an offset, or `[dd/Mon/yyyy:HH:MM:SS +zzzz]`
  (DateTime.ToWebReporterString) -> ts in UTC; an ISO time without a zone is in the configured zone;
- source_ip / src_ip / client_ip -> src_ip (the unspecified address, `0:0:0:0:0:0:0:0`, `::` or `0.0.0.0`, as
  the gateway writes it when it has none, is null); destination_ip / server_ip -> dst_ip (likewise, and the
  broadcast address `255.255.255.255` it writes for a request it never sent);
- username / user_name / auth_user -> user_name;
- http_request_first_line / req_line (`METHOD URL HTTP/x.y`) -> http_method and the URL's host, port, scheme and
  path, as `skyhigh_swg` reads it (`CONNECT host:port`: the tunnel's target); where it names no host,
  destination_host (URL.Host) -> host;
- http_status_code / status / status_code -> http_status; source_bytes / bytes_from_client -> bytes_out;
  destination_bytes / bytes_to_client -> bytes_in; user_agent; media_type -> content_type;
  url_categories / categories -> vendor_category; application_name -> vendor_app;
- block_id / block_res (Block.ID) -> action as `skyhigh_swg` reads it: 0 allowed, 81 (authentication required)
  unknown, any other number blocked, none unknown.

A line with neither http_request_first_line nor destination_host is not an access record: ignored when it is
another syslog message (the gateway's audit log, system messages), else a counted reject. An access record without
a readable time, status, byte count or block id is a counted reject with its reason.

The pairs are found by `proxysg_kv_scan`'s compiled pass over the lines' bytes (pairs separated by spaces outside
double quotes, so a rule name or block reason that itself holds ` source_ip=...` is no pair; key names compared in
lower case; a quote left open closes at the line's end), then each distinct value is read once per file. CPU of the
parse of 262,144 SEKOIA-layout lines (process_time, scratch script, 2 runs each): 10.6 s with a quote-aware
regular expression per key, 3.9 s with a plain one per key (and a second search where it matched inside quotes),
0.76-1.07 s with the scan (the first run loads Numba).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, first_bytes, per_distinct
from detector.ingest.base import BatchParser, Format, ParseContext
from detector.ingest.distinct_sql import SLICE_LINES, chunk_sliced_parser, in_time_zone, plain, without
from detector.ingest.proxy_columns import (
    bools,
    constant_text,
    first_reasons,
    first_valid,
    hostports,
    line_text,
    where,
)
from detector.ingest.skyhigh_swg import (
    HOST_SOURCES,
    NO_ADDRESS,
    SYSLOG_TIME,
    Queries,
    actions,
    client_address,
    request_columns,
)
from detector.ingest.squid import PROXY_MACROS

# The values read, and the keys each is read from (the first a line has).
KEYS: dict[str, tuple[str, ...]] = {
    "time": ("date", "datetime", "time_stamp"),
    "client": ("source_ip", "src_ip", "client_ip"),
    "server": ("destination_ip", "server_ip"),
    "user": ("username", "user_name", "auth_user"),
    "request": ("http_request_first_line", "req_line"),
    "host": ("destination_host",),
    "status": ("http_status_code", "status", "status_code"),
    "from_client": ("source_bytes", "bytes_from_client"),
    "to_client": ("destination_bytes", "bytes_to_client"),
    "agent": ("user_agent",),
    "media": ("media_type",),
    "categories": ("url_categories", "categories"),
    "app": ("application_name",),
    "block": ("block_id", "block_res"),
}
# A record names its request: its first line or at least the host (the keys `sniff` looks for)
RECORD_KEYS = ("http_request_first_line", "req_line", "destination_host")
# Server addresses that are none: the unspecified ones, and the broadcast address written for an unsent request
NO_SERVER = (*NO_ADDRESS, "255.255.255.255")
TIME_SQL = r"""
select case
    when value like '[%]' then try_strptime(trim(value, '[]'), '%d/%b/%Y:%H:%M:%S %z')
    when regexp_matches(value, '(Z|[+-]\d{2}:?\d{2})$') then try_cast(value as timestamptz)
    else timezone(@TZ@, try_cast(value as timestamp))
end as ts
from distinct_values
"""
NOT_A_RECORD = ("not a Skyhigh SWG / McAfee Web Gateway key=value access record "
                "(no http_request_first_line= or destination_host= pair): ")
NO_TIME = "no date= (or datetime=, time_stamp=) pair: the record has no time"


# Each key as the scan compares it (`_` read as `-`), and the place in KEYS of the value it names
SCANNED_KEYS = [key.replace("_", "-") for keys in KEYS.values() for key in keys]
FIELD_OF_KEY = np.array([position for position, keys in enumerate(KEYS.values()) for _ in keys])
_RECORD = rf"(?:^|\s)(?:{'|'.join(RECORD_KEYS)})="


class KvQueries(Queries):
    """`skyhigh_swg`'s per-distinct queries, and the time of this layout, read in the configured zone."""

    def __init__(self, timezone: str) -> None:
        super().__init__()
        self.time = DistinctQuery(in_time_zone(TIME_SQL, timezone))


def new_parser(context: ParseContext) -> BatchParser:
    """A file's parser: each batch in slices, each distinct value read once per file."""
    context.connection.execute(PROXY_MACROS)
    queries = KvQueries(context.timezone)
    return chunk_sliced_parser(context, lambda cursor, part: _columns(cursor, queries, part), SLICE_LINES)


def scanned_values(text: pa.Array) -> dict[str, pa.DictionaryArray]:
    """The value of each name of KEYS on each line (null where the line has none of its keys), dictionary-encoded:
    one compiled pass over the lines' bytes (`proxysg_kv_scan`: pairs separated by spaces outside double quotes,
    so ` source_ip=` inside a quoted rule name is no pair; the first key of a name on a line counts; values come
    unquoted, a quote left open closes at the line's end)."""
    from detector.ingest.compiled import WantedKeys  # (Numba: loaded only when such a log is read)
    from detector.ingest.proxysg_kv_scan import Scanned

    scanned = Scanned(text, WantedKeys(SCANNED_KEYS), FIELD_OF_KEY, tuple(KEYS), (), tuple(KEYS))
    return {name: scanned.encoded[name] for name in KEYS}


def _columns(connection: duckdb.DuckDBPyConnection, queries: KvQueries, lines: pa.Table) -> pa.Table:
    """Key=value lines -> schema columns plus reject_reason / is_ignored (see base.split_outcomes)."""
    text = line_text(lines)
    value = scanned_values(text)
    record = pc.or_(pc.is_valid(value["request"]), pc.is_valid(value["host"]))
    blank = first_bytes(text) == ord("#")
    other = pc.fill_null(pc.match_substring_regex(text, SYSLOG_TIME), False)
    ignored = ~bools(record) & (blank | bools(other))
    ts = per_distinct(connection, value["time"], queries.time, where=record)["ts"]
    texts = {name: per_distinct(connection, value[name], queries.text)["value"]
             for name in ("user", "agent", "media", "categories", "app")}
    numbers = {name: per_distinct(connection, value[name], queries.number)
               for name in ("status", "from_client", "to_client", "block")}
    status = numbers["status"]["value"]
    status_bad = pc.fill_null(pc.or_kleene(numbers["status"]["invalid"], pc.or_kleene(pc.greater(status, 999),
                                                                                     pc.less(status, 0))), False)
    time_text = plain(value["time"])
    reasons = [
        (pc.invert(record), lambda: pc.binary_join_element_wise(NOT_A_RECORD, pc.utf8_slice_codeunits(text, 0, 40),
                                                                "")),
        (pc.is_null(time_text), NO_TIME),
        (pc.is_null(ts), lambda: pc.binary_join_element_wise(
            "date is not an ISO 8601 time or [dd/Mon/yyyy:HH:MM:SS +zzzz]: ", time_text, "")),
        (status_bad, lambda: pc.binary_join_element_wise(
            "the status (http_status_code=, status=) is not an HTTP status code: ", plain(value["status"]), "")),
        (numbers["from_client"]["invalid"], lambda: pc.binary_join_element_wise(
            "bytes from the client are not a whole number: ", plain(value["from_client"]), "")),
        (numbers["to_client"]["invalid"], lambda: pc.binary_join_element_wise(
            "bytes to the client are not a whole number: ", plain(value["to_client"]), "")),
        (numbers["block"]["invalid"], lambda: pc.binary_join_element_wise(
            "the block id (block_id=, block_res=) is not a number: ", plain(value["block"]), "")),
    ]
    place = request_columns(connection, queries, value["request"])
    # Where the request line names no host (`CONNECT :80 HTTP/1.1`, a relative URL): URL.Host, as logged
    named = hostports(connection, queries.urls, plain(per_distinct(connection, value["host"], queries.text)["value"]))
    from_line = pc.is_valid(place["host"])
    host = first_valid(place["host"], named["host"])
    is_connect = bools(pc.fill_null(pc.equal(plain(place["http_method"]), "CONNECT"), False))
    has_host = bools(pc.is_valid(host))
    source = np.select([has_host & is_connect, has_host], [0, 1], 2)
    server = without(per_distinct(connection, value["server"], queries.text)["value"], NO_SERVER)
    columns = {
        "line_no": lines.column("line_no"),
        "reject_reason": first_reasons(reasons, len(text)),
        "is_ignored": pa.array(ignored),
        "ts": ts,
        "src_ip": client_address(connection, queries, value["client"]),
        "user_name": texts["user"],
        **place,
        "host": host,
        "host_source": constant_text(HOST_SOURCES, source),
        "dst_ip": server,
        "dst_port": pc.if_else(from_line, place["dst_port"], named["dst_port"]),
        "http_status": pc.cast(where(pc.and_(pc.not_equal(status, 0), pc.invert(status_bad)), status), pa.int32()),
        "action": actions(numbers["block"]["value"]),
        "bytes_out": numbers["from_client"]["value"],
        "bytes_in": numbers["to_client"]["value"],
        "user_agent": texts["agent"],
        "content_type": texts["media"],
        "vendor_category": texts["categories"],
        "vendor_app": texts["app"],
    }
    return pa.table(columns)


_SNIFF_RECORD = re.compile(_RECORD)
_SNIFF_CLIENT = re.compile(rf"(?:^|\s)(?:{'|'.join(KEYS['client'])})=")
_SNIFF_SYSLOG = re.compile(SYSLOG_TIME)


def sniff(lines: Sequence[str]) -> float:
    """Share of lines that are access records (a client pair and http_request_first_line= or destination_host=),
    or other syslog messages of the appliance among them (when there is a record)."""
    if not lines:
        return 0.0
    records = sum(1 for line in lines if _SNIFF_RECORD.search(line) and _SNIFF_CLIENT.search(line))
    quiet = sum(1 for line in lines if not _SNIFF_RECORD.search(line) and _SNIFF_SYSLOG.match(line))
    return (records + quiet) / len(lines) if records else 0.0


ACCESS = Format(
    name="skyhigh_swg_kv",
    source_kind="proxy",
    summary="Skyhigh Secure Web Gateway / McAfee Web Gateway access records as key=value pairs for a SIEM "
            "(date=... source_ip=... http_request_first_line=\"...\" block_id=...), bare or behind a syslog header",
    sniff=sniff,
    new_parser=new_parser,
    independent_batches=True,
    fields=(
        "ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol", "http_method",
        "url_path", "http_status", "action", "bytes_out", "bytes_in", "user_agent", "content_type",
        "vendor_category", "vendor_app",
    ),
)
