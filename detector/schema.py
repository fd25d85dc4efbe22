"""The one event schema every ingestor produces and every query reads.

Column names follow the Elastic Common Schema where ECS has the concept, flattened to snake_case.
A column a format lacks is null, never a made-up value.
"""

from __future__ import annotations

import functools
from typing import Literal, get_args

import pyarrow as pa
import pyarrow.compute as pc

SourceKind = Literal["proxy", "dns", "firewall", "sensor", "identity"]
SOURCE_KINDS: tuple[str, ...] = get_args(SourceKind)

Action = Literal["allowed", "blocked", "unknown"]
ACTIONS: tuple[str, ...] = get_args(Action)

HostSource = Literal["url", "connect", "sni", "http_host", "dns_query", "dns_answer", "none"]
HOST_SOURCES: tuple[str, ...] = get_args(HostSource)

TIMESTAMP = pa.timestamp("us", tz="UTC")

# (name, type, doc). The order here is the column order in the lake and the views.
_COLUMNS: list[tuple[str, pa.DataType, str]] = [
    ("ts", TIMESTAMP, "when the event happened, UTC, microseconds"),
    ("source_kind", pa.string(), "proxy | dns | firewall | sensor | identity"),
    ("log_format", pa.string(), "registry key of the format that parsed the line (`shadow-ai formats`)"),
    ("src_ip", pa.string(), "client address as logged (IPv4 or IPv6 text)"),
    ("src_host", pa.string(), "client (workstation) name where logged: DHCP leases, some DNS, proxy and firewall logs"),
    ("user_name", pa.string(), "pseudonym of the authenticated user (keyed hash), null when not logged"),
    ("host", pa.string(), "destination host name: lower case, no port, no trailing dot"),
    ("host_source", pa.string(), "how `host` was learned: url | connect | sni | http_host | dns_query | none"),
    ("dst_ip", pa.string(), "destination (server) address"),
    ("dst_port", pa.int32(), "destination port"),
    ("network_protocol", pa.string(), "application protocol: http, https, dns, tls ... (lower case)"),
    ("http_method", pa.string(), "HTTP request method, upper case (CONNECT for tunnels)"),
    ("url_path", pa.string(), "path of the requested URL, without the query string"),
    ("http_status", pa.int32(), "HTTP status code returned to the client"),
    ("action", pa.string(), "allowed | blocked | unknown: what the device did with the request"),
    ("bytes_out", pa.int64(), "bytes client -> server (upload); null where the format does not log it"),
    ("bytes_in", pa.int64(), "bytes server -> client (download)"),
    ("duration_ms", pa.int64(), "duration of the request or connection in milliseconds"),
    ("user_agent", pa.string(), "HTTP User-Agent"),
    ("content_type", pa.string(), "MIME type of the response"),
    ("dns_qtype", pa.string(), "DNS query type (A, AAAA, HTTPS ...)"),
    ("dns_rcode", pa.string(), "DNS response code (NOERROR, NXDOMAIN ...)"),
    ("dns_answers", pa.list_(pa.string()), "DNS answer data: addresses and CNAME targets"),
    # What the gateway itself says about the request, as it logs it (its own names, not ours):
    ("vendor_app", pa.string(), "the gateway's name for the application, e.g. Zscaler `appname` \"ChatGPT\""),
    ("vendor_category", pa.string(),
     "the gateway's own URL or application category, e.g. Zscaler `urlcat`, Umbrella `categories`"),
    ("vendor_department", pa.string(), "the user's department in the gateway's directory, e.g. Zscaler `dept`"),
    ("file_id", pa.string(), "lineage: content id of the ingested file (see the ingest manifest)"),
    ("line_no", pa.int64(), "lineage: 1-based line number in that file"),
]

EVENTS = pa.schema([pa.field(name, typ) for name, typ, _ in _COLUMNS])
COLUMN_DOCS: dict[str, str] = {name: doc for name, _, doc in _COLUMNS}

# Partition columns live in the lake's directory names (Hive style), not inside the Parquet files.
PARTITION_COLUMNS = ("source_kind", "day")
EVENT_FILE_SCHEMA = pa.schema([f for f in EVENTS if f.name not in PARTITION_COLUMNS])

REJECTS = pa.schema(
    [
        pa.field("file_id", pa.string()),
        pa.field("path", pa.string()),
        pa.field("log_format", pa.string()),
        pa.field("line_no", pa.int64()),
        pa.field("line", pa.string()),
        pa.field("reason", pa.string()),
    ]
)


def conform(table: pa.Table, schema: pa.Schema = EVENTS, dictionaries: bool = False) -> pa.Table:
    """Return `table` with exactly `schema`'s columns, in order: missing ones null, types cast.

    Parsers only produce what their format has; this is the one place the rest is filled with nulls.
    Unknown columns are an error, since they mean a parser and the schema disagree.
    With `dictionaries`, a dictionary-encoded column of the right value type stays encoded (the lake
    writes it as such, without decoding it first); the result's schema then says so.
    """
    unknown = set(table.column_names) - set(schema.names)
    if unknown:
        raise ValueError(f"columns not in the event schema: {sorted(unknown)}")
    columns = []
    fields = []
    for field in schema:
        if field.name in table.column_names:
            column = table.column(field.name)
            encoded = dictionaries and pa.types.is_dictionary(column.type) and column.type.value_type.equals(field.type)
            if encoded:
                field = field.with_type(column.type)
            elif not column.type.equals(field.type):
                column = pc.cast(column, field.type)
            columns.append(column)
        else:
            columns.append(_nulls(table.num_rows, field.type))
        fields.append(field)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


@functools.lru_cache(maxsize=64)
def _nulls(rows: int, kind: pa.DataType) -> pa.Array:
    """An all-null column; cached, since every batch of a format lacks the same columns (and arrays are
    immutable)."""
    return pa.nulls(rows, kind)
