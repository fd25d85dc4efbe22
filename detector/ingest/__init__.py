"""The registry of log formats, and recognising a file's format from its first lines.

Adding a format: one module in this package and one line in FORMATS. `shadow-ai formats`, the
`--format` choices, sniffing and the registry-driven tests all read this dict.
"""

from __future__ import annotations

from collections.abc import Sequence

from detector.errors import FormatError
from detector.ingest import (
    azure_firewall,
    bind,
    cef,
    checkpoint,
    cisco_asa,
    cisco_wsa,
    csv_generic,
    defender,
    dhcp,
    dnsmasq,
    fortigate,
    infoblox,
    json_generic,
    juniper_srx,
    kea_dhcp,
    meraki,
    panos,
    pfsense,
    proxysg,
    proxysg_kv,
    skyhigh_swg,
    skyhigh_swg_kv,
    sonicwall,
    sophos,
    sophos_utm,
    squid,
    suricata_eve,
    umbrella,
    umbrella_fw,
    unbound,
    w3c,
    watchguard,
    windows_dns,
    windows_dns_analytical,
    windows_firewall,
    zeek,
    zscaler,
)
from detector.ingest.base import Format

FORMATS: dict[str, Format] = {
    fmt.name: fmt
    for fmt in (
        squid.NATIVE,
        squid.COMMON,
        squid.EXTENDED,
        cisco_wsa.ACCESS,
        windows_firewall.FIREWALL,  # before w3c: its files are W3C-like, and a tie goes to the first
        w3c.W3C,
        proxysg.PROXYSG,
        proxysg_kv.ACCESS,
        skyhigh_swg.ACCESS,
        skyhigh_swg_kv.ACCESS,
        csv_generic.CSV,
        zeek.ZEEK_CONN,
        zeek.ZEEK_SSL,
        zeek.ZEEK_QUIC,
        zeek.ZEEK_HTTP,
        zeek.ZEEK_DNS,
        suricata_eve.EVE,
        panos.SYSLOG,
        fortigate.SYSLOG,
        sonicwall.SYSLOG,
        cisco_asa.SYSLOG,
        juniper_srx.SYSLOG,
        watchguard.SYSLOG,
        meraki.SYSLOG,
        checkpoint.SYSLOG,
        pfsense.FILTERLOG,
        bind.QUERY_LOG,
        infoblox.NIOS,
        unbound.LOG,
        dnsmasq.LOG,
        windows_dns.LOG,
        windows_dns_analytical.ANALYTICAL,
        dhcp.ISC_DHCPD,
        dhcp.WINDOWS_DHCP,
        kea_dhcp.LEASES,
        zscaler.JSON,
        zscaler.CSV,
        zscaler.KV,
        umbrella.PROXY,
        umbrella.DNS,
        umbrella_fw.FIREWALL,
        umbrella_fw.IP,
        sophos.XG,
        sophos_utm.UTM,
        cef.CEF,
        cef.LEEF,
        cef.FORCEPOINT_KV,
        defender.NETWORK,
        azure_firewall.AZURE_FIREWALL,
        json_generic.JSON,
    )
}

# A format must match at least this share of a file's first lines to be chosen without --format.
SNIFF_THRESHOLD = 0.5


def sniff_scores(lines: Sequence[str]) -> list[tuple[str, float]]:
    """Every format's score for these lines, best first (registry order breaks ties)."""
    scores = [(name, _safe_score(fmt, lines)) for name, fmt in FORMATS.items()]
    return sorted(scores, key=lambda item: -item[1])


def _safe_score(fmt: Format, lines: Sequence[str]) -> float:
    """A sniffer that trips over odd input must not stop recognition by the others: it scores 0."""
    try:
        return float(fmt.sniff(lines))
    except Exception:
        return 0.0


def sniff(lines: Sequence[str], source: str | None = None) -> Format:
    """The format of a file whose first non-blank lines are `lines`; FormatError naming the closest."""
    if not lines:
        raise FormatError("empty file: nothing to recognise", source)
    scores = sniff_scores(lines)
    best, score = scores[0]
    if score >= SNIFF_THRESHOLD:
        return FORMATS[best]
    closest = ", ".join(f"{name} ({share:.0%} of lines)" for name, share in scores[:3] if share > 0)
    hint = f"closest: {closest}" if closest else "no format matched any of its first lines"
    raise FormatError(f"unknown log format ({hint}); name one with --format (see `shadow-ai formats`)", source)


def get_format(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise FormatError(f"unknown format {name!r}; known: {', '.join(FORMATS)}") from None
