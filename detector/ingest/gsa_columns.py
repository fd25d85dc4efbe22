"""Microsoft Entra Internet Access (Global Secure Access) traffic logs in a CSV or JSON export.

Microsoft's security service edge logs every connection and HTTP transaction its client or a branch's tunnel sends
through it. Its traffic log reaches an analyst as the Log Analytics table `NetworkAccessTraffic` (diagnostic
setting `NetworkAccessTrafficLogs`; the portal's *Export to CSV* or `az monitor log-analytics query`, docs/sentinel.md)
or through Microsoft Graph (`GET /networkAccess/logs/traffic`, PowerShell's `Get-MgBetaNetworkAccessLogTraffic`).
The names (https://learn.microsoft.com/azure/azure-monitor/reference/tables/networkaccesstraffic; Graph's
networkAccessTraffic resource, camelCase) are read by GSA_ALIASES before the generic ones wherever the header names
`DestinationFqdn` and `TrafficType`. The user is the UserPrincipalName (UserId is an object ID, no name); SentBytes are
what the client sent (bytes_out); DestinationUrl, where the service inspected TLS, gives the path. Left unread
(GSA_UNREAD): `NetworkProtocol` is IPv4 or IPv6 and `TransportProtocol` TCP or UDP, neither the application
protocol `network_protocol` means.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# Both name the export as Global Secure Access's (as written or as CamelCase words: `destination_fqdn`).
GSA_SIGNATURE = ("destination_fqdn", "traffic_type")
# In order of preference: Graph's createdDateTime, the older table's TimeStamp (the connection's start), TimeGenerated.
GSA_ALIASES: dict[str, tuple[str, ...]] = {
    "ts": ("created_date_time", "time_stamp", "time_generated"),
    "src_ip": ("source_ip",),
    "src_host": ("client_device_name",),
    "user_name": ("user_principal_name",),
    "url": ("destination_url",),
    "host": ("destination_fqdn",),
    "dst_ip": ("destination_ip",),
    "dst_port": ("destination_port",),
    "http_method": ("http_method",),
    "action": ("action",),
    "bytes_out": ("sent_bytes",),
    "bytes_in": ("received_bytes",),
    "vendor_category": ("destination_web_categories", "destination_web_category_display_name",
                        "destination_web_category"),
}
GSA_UNREAD = ("network_protocol", "transport_protocol", "user_id")


def is_global_secure_access(spellings: Sequence[Iterable[str]]) -> bool:
    """Whether a header's columns (each as its spellings) are Global Secure Access's (GSA_SIGNATURE)."""
    known = set().union(*spellings) if spellings else set()
    return all(name in known for name in GSA_SIGNATURE)


def resolve_global_secure_access(spellings: Sequence[Iterable[str]], chosen: dict[str, int], taken: set[int]) -> None:
    """Global Secure Access's columns into `chosen` (which --map has filled), its misleading ones into `taken`."""
    spelled = [set(names) for names in spellings]
    for field, aliases in GSA_ALIASES.items():
        if field in chosen:
            continue
        at = next((at for alias in aliases for at, names in enumerate(spelled) if alias in names and at not in taken),
                  None)
        if at is not None:
            chosen[field] = at
            taken.add(at)
    taken.update(at for at, names in enumerate(spelled) if names & set(GSA_UNREAD) and at not in chosen.values())
