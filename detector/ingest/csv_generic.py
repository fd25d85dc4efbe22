"""Generic CSV/TSV exports with a header row (SIEM exports, cloud proxy reports, spreadsheets).

The first non-comment line is the header; its delimiter (comma, tab, semicolon or pipe) is the one it
uses most. Columns are recognised by name, case-insensitively and ignoring punctuation (`Source IP`,
`src_ip`, `c-ip`); a field no name fits is looked for in CamelCase names read as words and without a unit in
brackets (Microsoft Sentinel's CommonSecurityLog export: `SourceIP`, `RequestURL`, `TimeGenerated [UTC]`);
`ingest --map COLUMN=FIELD` names the rest. A header with Microsoft Defender for Endpoint's DeviceNetworkEvents
columns (`RemoteIP`, `LocalIP`, `RemoteUrl`: an advanced hunting or Sentinel export) is read by that table's
names (DEFENDER_ALIASES), after the columns named exactly as a field; one with Sentinel's normalised (ASIM) columns
(`SrcIpAddr`, `DnsQuery`, `Url`: an `_Im_WebSession`, `_Im_NetworkSession` or `_Im_Dns` export) by ASIM's names
(asim_columns); one with Microsoft Entra Internet Access's (Global Secure Access: `DestinationFqdn`, `TrafficType`) by
its names (gsa_columns). A URL column gives host and path;
a host column may hold a bare name, `host:port` or a URL. Quoted fields may contain the delimiter,
with `""` for a quote. A line repeating the header (concatenated exports) is ignored. An address column keeps only
addresses: a placeholder (Forcepoint's cloud exports write `Not available`; `N/A`, `unknown`, `-`, 0.0.0.0) or other
text is none, the row kept; a user column's LDAP path or DN becomes the account it names (user_names.py).

Times: epoch seconds or milliseconds; .NET's `/Date(ms)/` (Windows PowerShell 5.1's ConvertTo-Json); ISO 8601 with a
zone; otherwise local to the configured zone:
ISO without a zone, `dd-mm-yyyy HH:MM[:SS]` (Dutch), `dd/mm/yyyy ...` (day first), `mm/dd/yyyy
hh:mm:ss AM` (the AM/PM marks the US order), `dd.mm.yyyy ...`, or separate date and time columns; in UTC
where the time column's name says so (`TimeGenerated [UTC]`, `time_utc`).
Without a recognisable time or destination column every line is rejected, naming the --map option.

DNS exports: a query's name (`query_name`, `qname`, `dns.question.name`, or any host column beside a query type
column) is the host, with host_source dns_query;
its type (`qtype`, `query_type`, `record_type`), response code (`rcode`, and `response_code` in a header that names a
type) and answers (`answers`, `resolved_ips`, `dns.answers.data`) fill dns_qtype, dns_rcode and dns_answers
(dns_fields: names or numbers; answers as a JSON array, zone file lines or a delimited list).
"""

from __future__ import annotations

import csv
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.errors import FormatError
from detector.ingest.arrow_ops import (
    DistinctQuery,
    flags,
    only_where,
    per_distinct,
    positions,
    quoted_value,
    space_trimmed,
    split_quoted,
)
from detector.ingest.asim_columns import (
    FIRST_LINES,
    LOOKUP_PART,
    ignored_rows,
    is_asim,
    requests_repeated,
    resolve_asim,
)
from detector.ingest.auth_challenge import unknown_where_challenged
from detector.ingest.base import (
    Format,
    HeaderedParser,
    ParseContext,
    ParseResult,
    parse_cursor,
    split_outcomes,
)
from detector.ingest.csv_fields import delimited_fields
from detector.ingest.defender import DEFENDER_ACTION_MACRO
from detector.ingest.defender_inspection import InspectionQueries, export_columns
from detector.ingest.distinct_sql import INTEGER_SQL, encoded, in_slices, plain, sql_literal
from detector.ingest.dns_fields import DnsQueries, dns_columns
from detector.ingest.gsa_columns import is_global_secure_access, resolve_global_secure_access
from detector.ingest.proxy_columns import (
    VALUE_SLICE,
    UrlQueries,
    bools,
    constant_text,
    first_reasons,
    first_valid,
    is_ip_literal,
    joined_pairs,
    line_text,
    no_text,
    url_columns,
    where,
)
from detector.ingest.squid import PROXY_MACROS
from detector.ingest.user_names import account_names, addresses
from detector.ingest.w3c import combine
from detector.schema import TIMESTAMP

DELIMITERS = (",", "\t", ";", "|")
# Generic formats score at most this, so that a vendor format recognising the same file wins.
MAX_SNIFF_SCORE = 0.6

# Recognised column names (normalised: lower case, punctuation runs as `_`) -> schema field; English
# names as SIEM and proxy exports write them, and the Dutch ones of a Dutch-language export.
# `date`, `time` and `url` are not schema fields: they combine into ts, and give host and url_path.
ALIASES: dict[str, tuple[str, ...]] = {
    "ts": ("timestamp", "datetime", "date_time", "ts", "time_stamp", "event_time", "eventtime", "log_time",
           "logtime", "time_generated", "timegenerated", "received_time", "receive_time", "start_time",
           "x_cs_timestamp", "tijdstip", "datum_tijd",
           # Windows events (Get-WinEvent's TimeCreated, as PowerShell exports them) and Microsoft Graph records
           "time_created", "created_date_time"),  # (Netskope: epoch seconds; its date and time are UTC)
    "date": ("date", "log_date", "datum"),
    "time": ("time", "log_time_of_day", "tijd"),
    "src_host": ("src_host", "source_host", "client_host"),
    # (Netskope: `userip` is the user's own address, `srcip` the egress address the service saw)
    "src_ip": ("src_ip", "source_ip", "client_ip", "clientip", "source", "src", "c_ip", "source_address",
               "client_address", "internal_ip", "userip", "srcip", "client", "bron_ip", "client_adres"),
    "user_name": ("user", "username", "user_name", "login", "account", "src_user", "source_user", "userid",
                  "user_id", "identity", "cs_username", "source_user_name", "gebruiker", "gebruikersnaam"),
    # (Netskope's web transactions: x-cs-url is the whole URL, cs-uri its path)
    "url": ("url", "uri", "request_url", "full_url", "x_cs_url", "cs_uri", "cs_url", "request", "url_full"),
    "host": ("host", "domain", "hostname", "dest_host", "destination_host", "dst_host", "dest", "destination",
             "fqdn", "site", "server_name", "sni", "url_host", "cs_host", "dhost", "hostname_fqdn",
             "destination_host_name", "domein",
             "bestemming", "qname", "query_name", "dns_question_name", "question_name", "dns_query"),
    "dst_ip": ("dst_ip", "dest_ip", "destination_ip", "server_ip", "dstip", "destination_address", "remote_ip"),
    "dst_port": ("dst_port", "dest_port", "destination_port", "dport", "dstport", "server_port", "port"),
    "network_protocol": ("protocol", "scheme", "network_protocol", "app_protocol"),
    "http_method": ("method", "http_method", "request_method", "cs_method", "http_request_method"),
    "url_path": ("path", "url_path", "uri_path", "x_cs_uri_path", "cs_uri_stem"),
    "http_status": ("status", "status_code", "http_status", "response_code", "sc_status", "http_status_code"),
    # a DNS export's query type, response code and answers (dns_fields reads them); `response_code` is the DNS one
    # in a header that names a query type (resolve)
    "dns_qtype": ("qtype", "dns_qtype", "qtype_name", "query_type", "querytype", "dns_query_type", "query_type_name",
                  "record_type", "recordtype", "question_type", "dns_question_type", "rr_type", "rrtype",
                  "query_record_type"),
    "dns_rcode": ("rcode", "dns_rcode", "rcode_name", "dns_response_code", "reply_code", "return_code",
                  "query_result", "rcode_id"),
    "dns_answers": ("answers", "dns_answers", "dns_answers_data", "dns_resolved_ip", "resolved_ips", "resolved_ip",
                    "resolvedips", "answer", "rdata", "query_response", "answer_rrset"),
    "action": ("action", "verdict", "decision", "disposition", "policy_action", "device_action", "x_policy_action",
               "actie"),
    "bytes_out": ("bytes_sent", "bytes_out", "request_size", "sent_bytes", "bytes_up", "upload_bytes",
                  "sentbyte", "cs_bytes", "request_bytes", "client_bytes", "bytes_to_server", "bytes_verzonden"),
    "bytes_in": ("bytes_received", "bytes_in", "response_size", "received_bytes", "bytes_down", "download_bytes",
                 "rcvdbyte", "sc_bytes", "response_bytes", "server_bytes", "bytes_to_client", "bytes_ontvangen"),
    "duration_ms": ("duration_ms", "elapsed_ms", "time_taken_ms", "latency_ms", "time_taken"),  # (W3C proxies: ms)
    "user_agent": ("user_agent", "useragent", "ua", "agent", "http_user_agent", "cs_user_agent",
                   "request_client_application", "user_agent_string"),
    "content_type": ("content_type", "mime_type", "mime", "contenttype", "response_content_type", "sc_content_type"),
    # what the exporting gateway itself says: its application, category and the user's department
    "vendor_app": ("app", "application", "app_name", "appname", "application_name", "cloud_app", "x_cs_app",
                   "applicatie"),
    "vendor_category": ("category", "url_category", "urlcategory", "urlcat", "categories", "web_category",
                        "x_category", "categorie"),
    "vendor_department": ("department", "dept", "afdeling"),
}
# What --map may name: the event columns a CSV can fill.
MAPPABLE = ("ts", "src_ip", "src_host", "user_name", "host", "dst_ip", "dst_port", "network_protocol", "http_method",
            "url_path", "http_status", "action", "bytes_out", "bytes_in", "duration_ms", "user_agent",
            "content_type", "vendor_app", "vendor_category", "vendor_department", "dns_qtype", "dns_rcode",
            "dns_answers")
TEXT_FIELDS = ("src_ip", "src_host", "user_name", "dst_ip", "user_agent", "content_type", "vendor_app",
               "vendor_category", "vendor_department")

# Microsoft Defender for Endpoint's DeviceNetworkEvents table (Microsoft's advanced hunting schema reference; the
# same columns in Sentinel's table of that name): a header with all of DEFENDER_SIGNATURE (as spelled or read as
# CamelCase words) is read by these names. RemoteUrl holds a URL or a bare host name (FQDN); DeviceName is the
# workstation; the account that ran the connecting process is its UPN, or where that is empty (local and system
# accounts) its name (`user_alt`, per row). Protocol (Tcp, Udp, TcpV4 ...) is the transport, not the
# application protocol `network_protocol` means: not read. Defender logs no byte counts.
DEFENDER_SIGNATURE = ("remote_ip", "local_ip", "remote_url")
DEFENDER_ALIASES: dict[str, tuple[str, ...]] = {
    "ts": ("timestamp",),
    "src_ip": ("local_ip",),
    "src_host": ("device_name",),
    "user_name": ("initiating_process_account_upn",),
    "user_alt": ("initiating_process_account_name",),
    "url": ("remote_url",),
    "dst_ip": ("remote_ip",),
    "dst_port": ("remote_port",),
    "action": ("action_type",),
    # the network inspection records' Zeek record (defender_inspection.export_columns), and the device's port
    "additional_fields": ("additional_fields",),
    "local_port": ("local_port",),
}
DEFENDER_UNREAD = ("protocol",)

OUTPUT_TYPES: dict[str, str] = {
    "ts": "timestamptz", "src_ip": "varchar", "src_host": "varchar", "user_name": "varchar", "host": "varchar",
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
                     -- (Log Analytics' CSV export: `12/10/2020, 10:22:47.092 AM`)
                     '%m/%d/%Y, %I:%M:%S.%g %p', '%m/%d/%Y, %I:%M:%S %p',
                     '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%d.%m.%Y %H:%M:%S', '%d.%m.%Y %H:%M',
                     '%Y/%m/%d %H:%M:%S']));
"""

# The time of a value: epoch (seconds or milliseconds), a zone it carries, or the configured zone.
TIME_EXPRESSION = r"""case
        when regexp_full_match({t}, '\d{{9,10}}(\.\d+)?') then to_timestamp(cast({t} as double))
        when regexp_full_match({t}, '\d{{12,13}}') then to_timestamp(cast({t} as double) / 1000)
        when regexp_matches({t}, '^\d\d/[A-Za-z]{{3}}/\d{{4}}:') then try_strptime({t}, '%d/%b/%Y:%H:%M:%S %z')
        when regexp_matches({t}, '\d(Z|[+-]\d\d:?\d\d)$') then try_cast({t} as timestamptz)
        -- Windows PowerShell 5.1's ConvertTo-Json (and .NET's older JSON writers): `/Date(<ms since 1970 UTC>)/`,
        -- an offset after the milliseconds only saying the writer's zone
        when starts_with({t}, '/Date(') and regexp_full_match({t}, '/Date\(-?\d{{1,15}}([+-]\d{{4}})?\)/') then
            to_timestamp(cast(regexp_extract({t}, '-?\d+') as double) / 1000)
        else timezone($tz, csv_naive_time({t}))
    end"""


def normalise(name: str) -> str:
    """`Source IP`, `source-ip` and `"SOURCE_IP"` all become `source_ip`."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().strip('"').lower()).strip("_")


# A unit in brackets after a column's name: Log Analytics (Microsoft Sentinel) exports write `TimeGenerated [UTC]`.
_UNIT = re.compile(r"\s*[\[(][^\])]*[\])]\s*$")


def other_spellings(name: str) -> list[str]:
    """The column's name read as words where it runs them together in CamelCase (`SourceIP` -> `source_ip`,
    `RequestURL` -> `request_url`, as Microsoft Sentinel's CommonSecurityLog names its columns), and without a
    unit in brackets after it (`TimeGenerated [UTC]`); normalised."""
    bare = _UNIT.sub("", name.strip().strip('"'))
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", bare))
    return [spelling for spelling in dict.fromkeys((normalise(bare), normalise(words))) if spelling != normalise(name)]


def says_utc(name: str) -> bool:
    """Whether a column's name says its times are UTC (`TimeGenerated [UTC]`, `time_utc`, `Date (UTC)`)."""
    return "utc" in normalise(name).split("_")


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
    spellings = [other_spellings(c) for c in columns]
    if is_defender_network(names, spellings):
        _resolve_defender(names, spellings, chosen, taken)
    every_spelling = [{name, *others} for name, others in zip(names, spellings, strict=True)]
    if is_asim(every_spelling):
        resolve_asim(every_spelling, chosen, taken)
    elif is_global_secure_access(every_spelling):
        resolve_global_secure_access(every_spelling, chosen, taken)
    for field, aliases in ALIASES.items():
        if field in chosen:
            continue
        for alias in aliases:
            if alias in names and names.index(alias) not in taken:
                chosen[field] = names.index(alias)
                taken.add(chosen[field])
                break
    # then, for fields still without a column, the names' other spellings (CamelCase, a unit in brackets)
    for field, aliases in ALIASES.items():
        if field in chosen:
            continue
        for alias in aliases:
            at = next((at for at, names_of in enumerate(spellings) if alias in names_of), None)
            if at is not None and at not in taken:
                chosen[field] = at
                taken.add(at)
                break
    _response_code_of_dns(columns, chosen, column_map or {})
    return chosen


# A column named `response_code` (normalised) in a header that also names a DNS query type: the DNS response code.
DNS_RESPONSE_CODE = ("response_code", "responsecode")


def _response_code_of_dns(columns: Sequence[str], chosen: dict[str, int], column_map: Mapping[str, str]) -> None:
    """In a DNS export (a query type column, no response code column), `response_code` is the DNS response code
    (NOERROR, 3), not an HTTP status, unless --map names it http_status."""
    at = chosen.get("http_status")
    if at is None or "dns_qtype" not in chosen or "dns_rcode" in chosen or "http_status" in column_map.values():
        return
    if {normalise(columns[at]), *other_spellings(columns[at])} & set(DNS_RESPONSE_CODE):
        chosen["dns_rcode"] = chosen.pop("http_status")


# Columns holding a DNS query's name (normalised, or as other_spellings reads them): a host read from one was learned
# from a DNS query (host_source dns_query). ECS `dns.question.name` in a Kibana CSV export, Route 53's `query_name`,
# FortiGate's and many resolvers' `qname`; Cloudflare Gateway DNS's `QueryName`; Google Cloud DNS's `queryName`.
DNS_QUESTION_COLUMNS = ("qname", "query_name", "dns_question_name", "question_name", "dns_query",
                        "json_payload_query_name", "winlog_event_data_query_name", "query_hostname")


def is_dns_question(column: str) -> bool:
    """Whether a column's name says it holds a DNS query's name (DNS_QUESTION_COLUMNS)."""
    return bool({normalise(column), *other_spellings(column)} & set(DNS_QUESTION_COLUMNS))


def is_defender_network(names: Sequence[str], spellings: Sequence[Sequence[str]]) -> bool:
    """Whether a header has DeviceNetworkEvents' columns (DEFENDER_SIGNATURE), as written or as CamelCase words."""
    known = set(names).union(*spellings)
    return all(name in known for name in DEFENDER_SIGNATURE)


def _resolve_defender(names: Sequence[str], spellings: Sequence[Sequence[str]], chosen: dict[str, int],
                      taken: set[int]) -> None:
    """DeviceNetworkEvents' columns into `chosen` (which --map has filled): a column named exactly as a field keeps
    it, then DEFENDER_ALIASES; its Protocol column is left unread (DEFENDER_UNREAD)."""
    for field in MAPPABLE:
        if field not in chosen and field in names and names.index(field) not in taken:
            chosen[field] = names.index(field)
            taken.add(chosen[field])
    for field, aliases in DEFENDER_ALIASES.items():
        if field in chosen or (field == "url" and "host" in chosen):
            continue
        for alias in aliases:
            at = next((at for at, name in enumerate(names) if alias == name or alias in spellings[at]), None)
            if at is not None and at not in taken:
                chosen[field] = at
                taken.add(at)
                break
    for name in DEFENDER_UNREAD:
        taken.update(at for at, written in enumerate(names) if written == name and at not in chosen.values())


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


# A line the CSV reader and the quote-aware split read alike: every field plain (no quote) or quoted as a
# whole ("" for a quote inside; not starting with one, where the split pairs quotes otherwise), no carriage
# return and none of the split's placeholders (chr(1), chr(2)). Other lines take the split.
_PLAIN_FIELD = '[^"\\r\\x01\\x02{sep}]*'
_QUOTED_FIELD = '""|"[^"\\r\\x01\\x02](?:[^"\\r\\x01\\x02]|"")*"'
_SEPARATOR_PATTERNS = {",": ",", "\t": "\\t", ";": ";", "|": "\\|"}


def regular_line_pattern(delimiter: str) -> str:
    sep = _SEPARATOR_PATTERNS[delimiter]
    field = f"(?:{_PLAIN_FIELD.format(sep=sep)}|{_QUOTED_FIELD})"
    return f"^{field}(?:{sep}{field})*$"


# An action column holding Squid-style result codes (TCP_MISS, TCP_TUNNEL/200, TCP_DENIED:HIER_NONE, NONE_NONE), as
# proxies' CSV and JSON exports write them: read as Squid reads its own (squid_result_action); DENIED ones are
# already `blocked` by verdict_word_action.
SQUID_CODE_ACTION = ("case when regexp_matches(upper(value), '^(TCP|UDP|NONE|TAG_NONE)_[A-Z_]*[A-Z](/[0-9]{3})?"
                     "(:[A-Z_/0-9.-]*)?$') then squid_result_action(split_part(split_part(value, '/', 1), ':', 1)) end")


class Queries:
    """The per-distinct queries of one file's parse (each remembering the values it has seen)."""

    def __init__(self, timezone: str) -> None:
        def time_in(zone: str) -> DistinctQuery:
            return DistinctQuery(f"select cast({TIME_EXPRESSION.format(t='value')} as timestamptz) as ts "
                                 "from distinct_values".replace("$tz", sql_literal(zone)))

        self.time = time_in(timezone)
        self.utc_time = time_in("UTC")  # for a time column whose name says UTC
        self.integer = DistinctQuery(INTEGER_SQL)
        self.status = DistinctQuery("select case when try_cast(value as integer) between 100 and 599 "
                                    "then try_cast(value as integer) end as value from distinct_values")
        self.count = DistinctQuery("select try_cast(round(try_cast(value as double)) as bigint) as value "
                                   "from distinct_values")
        self.method = DistinctQuery("select upper(value) as value from distinct_values")
        self.action = DistinctQuery(f"select coalesce(verdict_word_action(value), defender_action(value), "
                                    f"{SQUID_CODE_ACTION}, 'unknown') as value from distinct_values")
        self.protocol = DistinctQuery("select lower(value) as value from distinct_values")
        self.places = Places()
        self.inspection = InspectionQueries(self.places.urls)
        self.dns = DnsQueries()


class Places:
    """What host and URL values give (host, dst_port, scheme, path: url_columns, the path a URL's or else a
    bare host/path's). The dozen kernel calls of url_columns cost more than a lookup of few values, so a few
    thousand values are kept per file, as DistinctQuery keeps its results; many distinct values (full URLs
    with their queries) are read afresh, where keeping them would cost more than it saves. Thread-safe."""

    def __init__(self, limit: int = 4096) -> None:
        self.urls = UrlQueries()
        self._limit = limit
        self._values: pa.Array | None = None
        self._places: pa.Table | None = None
        self._lock = threading.Lock()

    def of(self, connection: duckdb.DuckDBPyConnection, values: pa.Array) -> pa.Table:
        """The places of `values` (no nulls), one row each, in their order."""
        if len(values) > self._limit:
            return self._read(connection, values, decoded=False)
        with self._lock:
            if self._values is not None and len(self._values) + len(values) > self._limit:
                self._values = self._places = None
            new = values if self._values is None else values.filter(pc.invert(pc.is_in(values, self._values)))
            if len(new) or self._values is None:
                found = self._read(connection, new)
                self._values = new if self._values is None else pa.concat_arrays([self._values, new])
                self._places = found if self._places is None else \
                    pa.concat_tables([self._places, found]).combine_chunks()
            known, places = self._values, self._places
        assert known is not None and places is not None  # set by the first call
        return places.take(pc.index_in(values, value_set=known))

    def _read(self, connection: duckdb.DuckDBPyConnection, values: pa.Array, decoded: bool = True) -> pa.Table:
        """url_columns' texts as it gives them (dictionary-encoded), or decoded to be kept."""
        place = url_columns(connection, self.urls, values, bare="/?")
        text = plain if decoded else (lambda column: column)
        # a bare number names no host (PAN-OS exports start with a `Domain` column holding 1): the URL's is used
        host = place["host"]
        number = pc.fill_null(pc.match_substring_regex(plain(host), r"^[0-9]+$"), False)
        if pc.any(number).as_py():
            host = pc.if_else(number, pa.scalar(None, pa.string()), plain(host))
        path = first_valid(place["url_path"], place["bare_path"])
        # a path alone (Netskope's cs-uri, W3C's cs-uri-stem under a `url`-like name) is the path: its host is
        # another column's
        own = pc.struct_field(pc.extract_regex(values, r"^(?P<path>/[^?#]*)"), [0])
        if own.null_count < len(own):
            path = first_valid(path, own)
        return pa.table({"host": text(host), "dst_port": place["dst_port"], "scheme": text(place["scheme"]),
                         "path": text(path)})


def event_columns(connection: duckdb.DuckDBPyConnection, queries: Queries, layout: Layout, lines: pa.Table
                  ) -> pa.Table:
    """The events of a batch under `layout`, plus reject_reason / is_ignored (see base.split_outcomes)."""
    text = line_text(lines)
    delimiter = layout.delimiter
    regular, counts, fields = delimited_fields(
        text, delimiter, layout.column_count, layout.positions, lambda part: split_quoted(part, delimiter),
        lambda field: field)
    cleaned = _cleaned(fields, delimiter)
    values = with_host_alternative({field: cleaned[at] for field, at in layout.chosen.items()})
    from_question = None
    if layout.host_is_question:  # a DNS export: host_source dns_query where the host is the query's (no URL)
        from_question = bools(pc.is_valid(values["host"]))
        if "url" in values:
            from_question &= ~bools(pc.is_valid(values["url"]))
    columns, time_value = value_columns(connection, queries, values, len(text),
                                        queries.utc_time if layout.time_in_utc else queries.time, from_question)
    destination = bools(pc.or_(pc.is_valid(columns["host"]), pc.is_valid(columns["dst_ip"])))
    columns = {"line_no": lines.column("line_no"),
               "reject_reason": _reasons(text, layout, regular, counts, columns["ts"], time_value, destination),
               "is_ignored": pc.equal(text, layout.header), **columns}
    ignored = ignored_rows(values, len(text), layout.requests_ignored)  # (ASIM DNS: rows that are no lookup)
    if ignored is not None:
        columns["is_ignored"] = pc.or_(columns["is_ignored"], pa.array(ignored))
    user_alt = values.get("user_alt")
    if user_alt is not None:  # (Defender: the account's name where its UPN is empty)
        user = values.get("user_name")
        columns["user_name"] = first_valid(user, user_alt) if user is not None else user_alt
    if "additional_fields" in values and "action" in values:  # (Defender: its network inspection records)
        columns.update(export_columns(connection, queries.inspection, queries.integer, values["action"],
                                      values["additional_fields"], values.get("local_port"), columns))
    return pa.table(columns)


def with_host_alternative(values: Mapping[str, pa.DictionaryArray]) -> dict[str, pa.DictionaryArray]:
    """The values with `host_alt` read into `host` where that is empty (ASIM: a destination's host name where its
    FQDN is empty; asim_columns)."""
    values = dict(values)
    alternative = values.pop("host_alt", None)
    if alternative is not None:
        values["host"] = first_valid(values["host"], alternative) if "host" in values else alternative
    return values


def value_columns(connection: duckdb.DuckDBPyConnection, queries: Queries, values: Mapping[str, pa.DictionaryArray],
                  rows: int, time_query: DistinctQuery, from_question: np.ndarray | None = None,
                  ) -> tuple[dict[str, pa.Array], pa.Array | None]:
    """The event columns of a batch from each recognised field's text per row (dictionary-encoded, cleaned),
    and the time text they were read from (for the reject reasons); the CSV and JSON formats alike.
    What the host and URL values give (host, port, scheme, path) is read once per distinct value and reaches the
    rows through the dictionary indices. `from_question` marks rows whose host is a DNS query's name."""

    def v(field: str) -> pa.DictionaryArray | None:
        return values.get(field)

    date, time = v("date"), v("time")
    if v("ts") is not None:
        time_value: pa.Array | None = v("ts")
    elif date is not None and time is not None:
        time_value = joined_pairs(date, time)
    else:
        time_value = date if date is not None else time
    ts = per_distinct(connection, time_value, time_query)["ts"] if time_value is not None else \
        pa.nulls(rows, TIMESTAMP)
    method = v("http_method")
    if method is not None:
        method = per_distinct(connection, method, queries.method)["value"]
        is_connect = flags(pc.equal(method.dictionary, "CONNECT"), method)
    else:
        method, is_connect = pa.nulls(rows, pa.string()), np.zeros(rows, bool)
    places = {field: queries.places.of(connection, values[field].dictionary) for field in ("host", "url")
              if field in values}

    def from_places(name: str, *fields: str) -> list[pa.Array]:
        return [onto_rows(values[field], places[field].column(name).combine_chunks()) for field in fields
                if field in places]

    nothing = no_text(rows)
    host = coalesced(from_places("host", "host", "url")) or nothing
    host_at = positions(host)
    columns: dict[str, pa.Array] = {"ts": ts}
    for field in TEXT_FIELDS:
        columns[field] = values.get(field, nothing)
    # an address column holds addresses (a placeholder such as `Not available` is none, the row kept); a user
    # column's directory path or DN is the account it names (user_names.py)
    for field in ("src_ip", "dst_ip"):
        if field in values:
            columns[field] = addresses(values[field])
    if "user_name" in values:
        columns["user_name"] = account_names(values["user_name"])
    columns["host"] = host
    asked = from_question if from_question is not None else np.zeros(rows, bool)
    columns["host_source"] = constant_text(HOST_SOURCES, np.select([host_at < 0, is_connect, asked], [2, 0, 3], 1))
    if v("dst_ip") is None:  # the host where it is an address
        literal = np.append(flags(is_ip_literal(host.dictionary)), False)
        columns["dst_ip"] = text_at(np.where(literal[host_at], host_at, -1), host.dictionary)
    ports = [places[field].column("dst_port").combine_chunks().take(values[field].indices) for field in ("host", "url")
             if field in places]
    if v("dst_port") is not None:
        ports.insert(0, per_distinct(connection, v("dst_port"), queries.integer)["value"])
    columns["dst_port"] = (pc.coalesce(*ports) if len(ports) > 1 else ports[0]) if ports else \
        pa.nulls(rows, pa.int32())
    schemes = from_places("scheme", "url", "host")
    if v("network_protocol") is not None:
        schemes.insert(0, per_distinct(connection, v("network_protocol"), queries.protocol)["value"])
    columns["network_protocol"] = coalesced(schemes) or nothing
    paths = from_places("path", "url")
    if v("url_path") is not None:
        paths.insert(0, v("url_path"))
    path = coalesced(paths) or nothing
    columns["url_path"] = where(pa.array(~is_connect), path) if is_connect.any() else path
    columns["http_method"] = method
    columns["http_status"] = per_distinct(connection, v("http_status"), queries.status)["value"] \
        if v("http_status") is not None else pa.nulls(rows, pa.int32())
    action = v("action")
    if action is not None:  # `unknown` also where the action is empty or missing
        verdicts = queries.action.results_for(connection, action.dictionary).column("value").combine_chunks()
        verdicts = pc.fill_null(verdicts.cast(pa.string()), UNKNOWN[0])
        verdict_at = positions(action)
        columns["action"] = text_at(np.where(verdict_at < 0, len(verdicts), verdict_at),
                                    pa.concat_arrays([verdicts, UNKNOWN]))
        # a 407 is the proxy asking for credentials, no verdict, whatever the action column says (auth_challenge)
        columns["action"] = unknown_where_challenged(columns["action"], columns["http_status"], action)
    else:
        columns["action"] = constant_text(UNKNOWN, np.zeros(rows, np.int32))
    for field in ("bytes_out", "bytes_in", "duration_ms"):
        columns[field] = per_distinct(connection, v(field), queries.count)["value"] if v(field) is not None \
            else pa.nulls(rows, pa.int64())
    columns.update(dns_columns(connection, queries.dns, values))
    return columns, time_value


def text_at(at: np.ndarray, dictionary: pa.Array) -> pa.DictionaryArray:
    """Row i is `dictionary[at[i]]`, null where at[i] is negative (the dictionary holds no null)."""
    return pa.DictionaryArray.from_arrays(int32_indices(at), dictionary)


def int32_indices(at: np.ndarray) -> pa.Array:
    """`at` as an int32 Arrow array, null where negative."""
    missing = at < 0
    return pa.array(at.astype(np.int32, copy=False), mask=missing if missing.any() else None)


def onto_rows(column: pa.DictionaryArray, per_value: pa.Array) -> pa.DictionaryArray:
    """`per_value` (one row per value of the column's dictionary) on the column's rows, kept
    dictionary-encoded: only indices move, through numpy (null where the row or its value is)."""
    inner = encoded(per_value)
    inner_at = np.append(positions(inner), np.int32(-1))  # a row's -1 picks the -1 appended
    return text_at(inner_at[positions(column)], inner.dictionary)


def coalesced(columns: Sequence[pa.Array]) -> pa.Array | None:
    """Per row, the first of `columns` not null there (None when there are none)."""
    if not columns:
        return None
    return columns[0] if len(columns) == 1 else first_valid(*columns)


HOST_SOURCES = pa.array(["connect", "url", "none", "dns_query"])
UNKNOWN = pa.array(["unknown"])


def _reasons(text: pa.Array, layout: Layout, regular: np.ndarray, counts: np.ndarray, ts: pa.Array,
             time_value: pa.Array | None, destination: np.ndarray) -> pa.Array:
    """Each line's reject reason (the header repeated is ignored whatever its reason): broken quotes, a wrong
    column count, no time, no destination (host, URL or address). The texts are made only for the lines that have
    one."""
    rows = len(text)
    if layout.missing:
        return pa.repeat(pa.scalar(layout.missing), rows)
    unbalanced = np.zeros(rows, bool)
    if not regular.all():  # a regular line's quotes are balanced
        odd_rows = np.flatnonzero(~regular)
        quotes = pc.count_substring(text.take(pa.array(odd_rows)), '"').to_numpy(zero_copy_only=False)
        unbalanced[odd_rows] = quotes % 2 == 1
    wrong_count = counts != layout.column_count
    no_time = bools(pc.is_null(ts))
    failing = np.flatnonzero(unbalanced | wrong_count | no_time | ~destination)
    if not len(failing):
        return pa.nulls(rows, pa.string())
    picked = pa.array(failing)
    time_text = pc.fill_null(plain(time_value.take(picked)), "(empty)") if time_value is not None else \
        pa.repeat(pa.scalar("(empty)"), len(failing))
    reasons = first_reasons([
        (pa.array(unbalanced[failing]), "unbalanced quotes"),
        (pa.array(wrong_count[failing]), lambda: pc.binary_join_element_wise(
            f"expected {layout.column_count} columns as in the header, found ",
            pc.cast(pa.array(counts[failing]), pa.string()), "")),
        (pa.array(no_time[failing]), lambda: pc.binary_join_element_wise("time not understood: ", time_text, "")),
        (pa.array(~destination[failing]), "no destination (" + "/".join(
            layout.columns[layout.chosen[field]] for field in ("host", "url", "dst_ip") if field in layout.chosen)
            + " empty)"),
    ], len(failing))
    at = np.full(rows, -1, np.int64)
    at[failing] = np.arange(len(failing))
    return reasons.take(int32_indices(at))


def _cleaned(fields: Mapping[int, pa.DictionaryArray], delimiter: str) -> dict[int, pa.DictionaryArray]:
    """Field values, once per distinct value: unquoted (a split's token) and trimmed, null when `-` or empty.
    The columns' dictionaries are cleaned together, one after the other: one set of kernel calls, not one
    per column."""
    if not fields:  # a header naming no column we read
        return {}
    lengths = [len(field.dictionary) for field in fields.values()]
    value = space_trimmed(quoted_value(space_trimmed(pa.concat_arrays([f.dictionary for f in fields.values()])),
                                       delimiter))
    value = only_where(value, pc.and_(pc.not_equal(value, "-"), pc.not_equal(value, "")))
    ends = np.cumsum(lengths)
    cleaned = {}
    for (position, field), end, length in zip(fields.items(), ends, lengths, strict=True):
        part = value.slice(end - length, length)
        cleaned[position] = onto_rows(field, part) if part.null_count else \
            pa.DictionaryArray.from_arrays(field.indices, part)
    return cleaned


@dataclass(frozen=True)
class Layout:
    """What the header line says: where each field is read from, and what a line must look like."""

    header: str
    delimiter: str
    column_count: int
    chosen: Mapping[str, int]  # field -> column (0-based)
    missing: str | None  # why no line can be an event (no time or no destination column)
    time_in_utc: bool = False  # its time column says UTC (`TimeGenerated [UTC]`): a time without a zone is UTC
    # its host column is a DNS query's name: named so (DNS_QUESTION_COLUMNS), or beside a query type column (a DNS
    # export whatever its name column is called: `--map Name=host` on Log Analytics' DnsEvents)
    host_is_question: bool = False
    columns: tuple[str, ...] = ()  # the header's column names, for the reject reasons
    requests_ignored: bool = False  # ASIM DNS with responses: its request rows are ignored (asim_columns)

    @property
    def positions(self) -> tuple[int, ...]:
        return tuple(sorted(set(self.chosen.values())))


def new_parser(context: ParseContext) -> HeaderedParser:
    """Batches parsed under the header of the file's first line (None until it is seen)."""
    for macros in (PROXY_MACROS, CSV_MACROS, DEFENDER_ACTION_MACRO):
        context.connection.execute(macros)
    queries = Queries(context.timezone)

    def layout_of(lines: pa.Table, row: int) -> Layout:
        header = _header_text(lines, row)
        delimiter = detect_delimiter(header) or ","
        columns = split_header(header, delimiter)
        chosen = resolve(columns, context.column_map)
        time_at = next((chosen[field] for field in ("ts", "date", "time") if field in chosen), None)
        sub_type_at = chosen.get(LOOKUP_PART)
        first = lines.column("line").slice(row + 1, FIRST_LINES).to_pylist() if sub_type_at is not None else []
        return Layout(header, delimiter, len(columns), chosen, missing_reason(columns, chosen),
                      time_in_utc=time_at is not None and says_utc(columns[time_at]),
                      host_is_question="host" in chosen and (is_dns_question(columns[chosen["host"]])
                                                             or "dns_qtype" in chosen),
                      columns=tuple(columns),
                      requests_ignored=requests_repeated(
                          fields[sub_type_at] for fields in csv.reader(first, delimiter=delimiter)
                          if len(fields) > sub_type_at))

    def carry(lines: pa.Table, layout: Layout | None) -> Layout | None:
        if layout is not None:
            return layout
        row = _header_row(lines)
        return layout_of(lines, row) if row >= 0 else None

    def parse(lines: pa.Table, layout: Layout | None) -> ParseResult:
        skipped = 0
        if layout is None:
            # Comment lines before the header are ignored; the header itself too.
            row = _header_row(lines)
            if row < 0:
                return combine([], ignored=lines.num_rows)
            layout = layout_of(lines, row)
            skipped = row + 1
            lines = lines.slice(skipped)
        with parse_cursor(context.connection) as cursor:
            # in slices: the values of a whole batch would take several times its size
            columns = in_slices(lines, lambda part: event_columns(cursor, queries, layout, part), VALUE_SLICE)
            result = split_outcomes(columns, lines)
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


# The event fields a header-named export can fill (also the JSON format's: the same columns by key).
FIELDS = (
    "ts", "src_ip", "src_host", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
    "http_method", "url_path", "http_status", "action", "bytes_out", "bytes_in", "duration_ms",
    "user_agent", "content_type", "vendor_app", "vendor_category", "vendor_department", "dns_qtype", "dns_rcode",
    "dns_answers",
)

CSV = Format(
    name="csv",
    source_kind="proxy",
    summary="Generic CSV/TSV with a header row (columns by name, or --map COLUMN=FIELD; also Microsoft Sentinel "
            "CommonSecurityLog and normalised (ASIM) web, network and DNS session exports, Defender for Endpoint "
            "DeviceNetworkEvents exports, Microsoft Entra Internet Access (Global Secure Access) traffic logs, "
            "Netskope web transactions (Log Streaming), and DNS query exports)",
    sniff=sniff,
    new_parser=new_parser,
    independent_batches=True,
    fields=FIELDS,
)
