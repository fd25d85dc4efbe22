"""Microsoft Sentinel's normalised columns (ASIM, the Advanced Security Information Model) in a CSV or JSON export.

An analyst exports `_Im_WebSession`, `_Im_NetworkSession` or `_Im_Dns` (any proxy, firewall or DNS server Sentinel
has a parser for), or the tables the ingestion-time parsers fill (ASimWebSessionLogs, ASimNetworkSessionLogs,
ASimDnsActivityLogs: Windows DNS servers through the Azure Monitor Agent land in the last). The columns are the same
in each (https://learn.microsoft.com/azure/sentinel/normalization-schema-web, -network, -dns; Azure-Sentinel's
ASIM/dev/ASimTester/ASimTester.csv lists them). A header naming `SrcIpAddr` or `DstIpAddr` is read by ASIM_ALIASES
before the generic names, and its ambiguous aliases are left unread (ASIM_UNREAD): `User` is the *destination*
user in a network session and `Hostname` the destination's there but the source's in DNS; `Src`, `Dst` and `Dvc`
hold a name or an address; `NetworkProtocol` is the transport (TCP), not the application protocol; `Domain`
repeats DnsQuery. A DNS export's rows that are no client's lookup are ignored (ignored_rows): another EventType than
Query, Windows DNS servers' own recursion, updates and internal lookups, and requests whose responses it holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import flags

# Either names the export as ASIM's (as written, or its CamelCase read as words: `src_ip_addr`).
ASIM_SIGNATURE = ("src_ip_addr", "dst_ip_addr")
# In order of preference. TimeGenerated is the event's time in every Log Analytics table (EventStartTime, the first
# of an aggregated event's, repeats it where the source gives none); SrcBytes are sent by the source (the user),
# DstBytes by the destination; the durations are milliseconds.
ASIM_ALIASES: dict[str, tuple[str, ...]] = {
    "ts": ("time_generated", "event_start_time"),
    "src_ip": ("src_ip_addr", "ip_addr"),
    "src_host": ("src_hostname", "src_fqdn"),
    "user_name": ("src_username",),
    "url": ("url", "url_original"),
    "host": ("dns_query", "http_host", "dst_fqdn", "dst_hostname"),
    "host_alt": ("dst_hostname",),  # read where the host's column (DstFQDN) is empty
    "dst_ip": ("dst_ip_addr",),
    "dst_port": ("dst_port_number",),
    "network_protocol": ("network_application_protocol",),
    "http_method": ("http_request_method",),
    "http_status": ("http_status_code",),
    "action": ("dvc_action",),
    "bytes_out": ("src_bytes",),
    "bytes_in": ("dst_bytes",),
    "duration_ms": ("network_duration", "dns_network_duration", "duration"),
    "user_agent": ("http_user_agent", "user_agent"),
    "content_type": ("http_content_type",),
    "vendor_app": ("dst_app_name",),
    "vendor_category": ("url_category", "domain_category"),
    "dns_qtype": ("dns_query_type_name", "dns_query_type"),
    "dns_rcode": ("dns_response_code_name", "dns_response_code"),
    "dns_answers": ("dns_response_name",),
}
# A destination's device names are the host only without a URL (a proxy's DstHostname may drop the domain); its
# FQDN first, its host name where that is empty (`host_alt`, per row).
DEVICE_HOSTS = ("dst_fqdn", "dst_hostname")
# The result's details: the HTTP status in a web session (HttpStatusCode is its alias), the response code's name
# (NXDOMAIN) in DNS; read where the export has no column of its own for it.
RESULT_DETAILS = "event_result_details"
ASIM_UNREAD = ("user", "hostname", "src", "dst", "dvc", "network_protocol", "domain")
# A DNS export's EventSubType (`request` or `response`), read as this pseudo-field: where the export holds responses,
# a request row repeats the lookup its response records and is ignored (requests_repeated).
SUB_TYPE = "event_sub_type"
LOOKUP_PART = "dns_sub_type"
REQUEST, RESPONSE = "request", "response"
# The lines after the header looked at for a response (a request's response follows it within milliseconds).
FIRST_LINES = 400
# A DNS export's rows that are no client's lookup, ignored: an EventType other than Query (Update, XFR, Notify,
# Status ...), and Windows DNS servers' own work by its analytical event ID (EventOriginalType, where EventProduct
# is "DNS Server"): 260-262 its recursion to a forwarder (whose address is the row's source: it would count the
# forwarder as a user of every service), 263-278 updates and zone transfers, 279-280 internal lookups. Their columns
# are read as these pseudo-fields.
DNS_ROW_COLUMNS = {"dns_event_type": "event_type", "dns_original_type": "event_original_type",
                   "dns_product": "event_product"}
QUERY = "query"
WINDOWS_DNS_PRODUCT = "dns server"
SERVER_OWN_EVENTS = (260, 280)


def is_asim(spellings: Sequence[Iterable[str]]) -> bool:
    """Whether a header's columns (each as its spellings) are ASIM's (ASIM_SIGNATURE)."""
    return any(name in spelled for spelled in spellings for name in ASIM_SIGNATURE)


def resolve_asim(spellings: Sequence[Iterable[str]], chosen: dict[str, int], taken: set[int]) -> None:
    """ASIM's columns into `chosen` (which --map has filled), its ambiguous ones into `taken` (left unread)."""
    spelled = [set(names) for names in spellings]

    def column(alias: str) -> int | None:
        return next((at for at, names in enumerate(spelled) if alias in names and at not in taken), None)

    for field, aliases in ASIM_ALIASES.items():
        if field in chosen:
            continue
        for alias in aliases:
            if alias in DEVICE_HOSTS and "url" in chosen:
                continue
            at = column(alias)
            if at is not None:
                chosen[field] = at
                taken.add(at)
                break
    is_dns = "host" in chosen and "dns_query" in spelled[chosen["host"]]
    details = column(RESULT_DETAILS)
    if details is not None:
        if is_dns:
            if "dns_rcode" not in chosen:
                chosen["dns_rcode"] = details
        elif "url" in chosen and "http_status" not in chosen:
            chosen["http_status"] = details
        taken.add(details)
    if is_dns:
        for field, name in {LOOKUP_PART: SUB_TYPE, **DNS_ROW_COLUMNS}.items():
            at = column(name)
            if at is not None:
                chosen[field] = at
                taken.add(at)
    taken.update(at for at, names in enumerate(spelled) if names & set(ASIM_UNREAD) and at not in chosen.values())


def requests_repeated(sub_types: Iterable[object]) -> bool:
    """Whether a DNS export's first rows (their EventSubType) hold a response: then every lookup has one, and its
    request rows are ignored rather than counted as second lookups. A source logging requests alone keeps them."""
    return any(isinstance(value, str) and value.strip().lower() == RESPONSE for value in sub_types)


def ignored_rows(values: Mapping[str, pa.DictionaryArray], rows: int, requests_ignored: bool) -> np.ndarray | None:
    """Which rows of a DNS export are ignored: no client's lookup (DNS_ROW_COLUMNS), or a request where the export
    holds responses (`requests_ignored`: requests_repeated). None where it has none of those columns."""
    event_type, original_type, product = (values.get(field) for field in DNS_ROW_COLUMNS)
    sub_type = values.get(LOOKUP_PART) if requests_ignored else None
    if event_type is None and original_type is None and sub_type is None:
        return None
    ignored = np.zeros(rows, bool)
    if sub_type is not None:
        ignored |= flags(pc.equal(_words(sub_type), REQUEST), sub_type)
    if event_type is not None:
        ignored |= flags(pc.not_equal(_words(event_type), QUERY), event_type)
    if original_type is not None and product is not None:
        words = _words(original_type)
        number = pc.cast(pc.if_else(pc.match_substring_regex(words, r"^\d{1,9}$"), words, None), pa.int64())
        own = pc.and_(pc.greater_equal(number, SERVER_OWN_EVENTS[0]), pc.less_equal(number, SERVER_OWN_EVENTS[1]))
        ignored |= flags(own, original_type) & flags(pc.equal(_words(product), WINDOWS_DNS_PRODUCT), product)
    return ignored


def _words(column: pa.DictionaryArray) -> pa.Array:
    """A column's distinct values trimmed and in lower case, as they are compared."""
    return pc.utf8_lower(pc.utf8_trim_whitespace(column.dictionary))

