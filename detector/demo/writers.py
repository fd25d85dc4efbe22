"""Writing a day's traffic as the devices of a real network log it, in several formats at once.

- `squid` (authenticated proxy, native format): every request of a proxied employee; CONNECT for HTTPS.
- `bind_query` (the internal DNS server): the lookup before each new connection, local time.
- `fortigate` (the firewall; FSSO names domain users; web filtering on, so traffic logs carry
  `hostname`): each session at its end, with sentbyte = what the client uploaded.
- `zeek_ssl` (a sensor on a SPAN port): each TLS handshake with its SNI.
- `isc_dhcpd` (the DHCP server, RFC 3339 syslog): each computer's boot and its renewals.
Lines are built column-wise with pyarrow.compute and written straight from the Arrow buffers: no Python
loop per line. A line is a head and a tail. A damaged line loses one of them, so that its parser rejects
it: Squid and Zeek lines keep too few fields, a BIND query loses its type, a FortiGate line its `type=`,
a dhcpd line its syslog header.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.demo.organisation import DNS_SERVER, Organisation
from detector.demo.services import Hosts
from detector.demo.traffic import CONNECT, PATHS, Clock, Connections, Lookups, Presence

CHUNK = 200_000  # lines formatted at once: bounds memory whatever the size of the day
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ZEEK_SSL_FIELDS = ("ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "version", "cipher", "curve",
                   "server_name", "resumed", "last_alert", "next_protocol", "established", "ssl_history",
                   "cert_chain_fps", "client_cert_chain_fps", "sni_matches_cert")
ZEEK_SSL_TYPES = ("time", "string", "addr", "port", "addr", "port", "string", "string", "string", "string", "bool",
                  "string", "string", "bool", "string", "vector[string]", "vector[string]", "bool")
BASE62 = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
RENEW_MS = 4 * 3600 * 1000  # dhcpd renews at half the 8-hour lease

Part = pa.Array | str


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """How clients and hosts are spelled in the logs, as Arrow arrays to `take` from (employees, then devices)."""

    ip: pa.Array
    proxy_user: pa.Array  # "-" for those who never reach the proxy
    firewall_user: pa.Array  # `user="..." ... ` for domain users, "" for the rest
    bind_object: pa.Array  # BIND's per-client object address
    mac: pa.Array
    dhcp_name: pa.Array  # the host name a computer announces to DHCP
    gateway: pa.Array
    host: pa.Array
    address: pa.Array

    @classmethod
    def of(cls, org: Organisation, hosts: Hosts) -> Vocabulary:
        count = org.employees + org.devices
        ips = np.concatenate([org.ip, org.device_ip]).tolist()
        firewall = [("" if direct else f'user="{u}" group="GG-Medewerkers" authserver="FSSO-AD" ')
                    for u, direct in zip(org.user, org.direct, strict=True)]
        proxy = ["-" if direct else u for u, direct in zip(org.proxy_user, org.direct, strict=True)]
        names = [w if n % 3 else f"{w}.gemeente.local" for n, w in enumerate(org.workstation)]
        return cls(
            ip=pa.array(ips, pa.string()),
            proxy_user=pa.array(proxy + ["-"] * org.devices, pa.string()),
            firewall_user=pa.array(firewall + [""] * org.devices, pa.string()),
            bind_object=pa.array([f"@0x7f{(n * 2654435761) % 16 ** 10:010x}" for n in range(count)], pa.string()),
            mac=pa.array([f"00:50:56:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}" for n in range(count)]),
            dhcp_name=pa.array(names + org.device_name.tolist(), pa.string()),
            gateway=pa.array([ip.rsplit(".", 1)[0] + ".1" for ip in ips], pa.string()),
            host=pa.array(hosts.name.tolist(), pa.string()),
            address=pa.array(hosts.address.tolist(), pa.string()),
        )


def _text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _pad(values: np.ndarray, width: int, fill: str = "0") -> pa.Array:
    return pc.utf8_lpad(_text(values), width, fill)


def _join(*parts: Part) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _take(values: pa.Array, index: np.ndarray) -> pa.Array:
    return values.take(pa.array(index))


def _lines(head: pa.Array, tail: pa.Array, damaged: np.ndarray, keep: str = "head") -> pa.Array:
    """head + tail + newline; where damaged, only the head (or only the tail) survives."""
    mask = pa.array(damaged)
    if keep == "head":
        return _join(head, pc.if_else(mask, "", tail), "\n")
    return _join(pc.if_else(mask, "", head), tail, "\n")


def write_lines(handle: BinaryIO, lines: pa.Array) -> None:
    """Write a string array whose values end in newlines: its data buffer is the file content."""
    array = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    if len(array) == 0:
        return
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)[array.offset: array.offset + len(array) + 1]
    handle.write(memoryview(array.buffers()[2])[offsets[0]: offsets[-1]])


def _local_time(ms: np.ndarray, clock: Clock) -> tuple[pa.Array, pa.Array]:
    """HH:MM:SS and milliseconds, local time of day."""
    local = ms - clock.midnight_ms
    seconds = local // 1000
    hms = _join(_pad(seconds // 3600, 2), ":", _pad(seconds // 60 % 60, 2), ":", _pad(seconds % 60, 2))
    return hms, _pad(local % 1000, 3)


def _offset(clock: Clock, colon: bool) -> str:
    minutes = clock.offset_seconds // 60
    return f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}{':' if colon else ''}{abs(minutes) % 60:02d}"


def damage(rng: np.random.Generator, count: int, rate: float, allowed: np.ndarray | None = None) -> np.ndarray:
    """Which lines of a file are damaged: about `rate` of them, at least one, and only where allowed."""
    allowed = np.ones(count, dtype=bool) if allowed is None else allowed
    damaged = (rng.random(count) < rate) & allowed
    candidates = np.flatnonzero(allowed)
    if not damaged.any() and len(candidates):
        damaged[candidates[rng.integers(0, len(candidates))]] = True
    return damaged


def squid_lines(c: Connections, rows: np.ndarray, words: Vocabulary, damaged: np.ndarray) -> pa.Array:
    """Squid native: `time elapsed client code/status bytes method URL user hierarchy/peer type`."""
    ends = c.start[rows] + c.duration[rows]
    blocked, method = c.blocked[rows], c.method[rows]
    host = _take(words.host, c.host[rows])
    kind = pa.array(np.where(blocked, 3, method))
    elapsed = np.where(blocked, 1, c.duration[rows])
    size = np.where(blocked, 3918, c.bytes_in[rows])
    url = pc.if_else(pa.array(method == CONNECT), _join(host, ":443"),
                     _join("http://", host, _take(pa.array(PATHS), c.path[rows])))
    peer = pc.if_else(pa.array(blocked), "HIER_NONE/-", _join("HIER_DIRECT/", _take(words.address, c.host[rows])))
    head = _join(_text(ends // 1000), ".", _pad(ends % 1000, 3), " ", pc.utf8_lpad(_text(elapsed), 6, " "), " ",
                 _take(words.ip, c.client[rows]), " ",
                 pa.array(["TCP_TUNNEL/200", "TCP_MISS/200", "TCP_MISS/200", "TCP_DENIED/403"]).take(kind),
                 " ", _text(size))
    tail = _join(" ", pa.array(["CONNECT", "GET", "POST", "CONNECT"]).take(kind), " ", url, " ",
                 _take(words.proxy_user, c.client[rows]), " ", peer, " ",
                 pa.array(["-", "text/html", "application/json", "text/html"]).take(kind))
    return _lines(head, tail, damaged)


def bind_lines(q: Lookups, rows: np.ndarray, words: Vocabulary, clock: Clock, damaged: np.ndarray,
               rng: np.random.Generator) -> pa.Array:
    """BIND 9 query log (own channel, local print-time): `client @0x… IP#PORT (NAME): query: NAME IN A +E(0)K`."""
    hms, millis = _local_time(q.ts[rows], clock)
    name = _take(words.host, q.host[rows])
    day = f"{clock.day.day:02d}-{MONTHS[clock.day.month - 1]}-{clock.day.year}"
    head = _join(day, " ", hms, ".", millis, " queries: info: client ", _take(words.bind_object, q.client[rows]),
                 " ", _take(words.ip, q.client[rows]), "#", _text(rng.integers(1024, 65535, len(rows))), " (", name,
                 "): query: ", name)
    qtype = pc.if_else(pa.array(q.aaaa[rows]), " IN AAAA +E(0)K (", " IN A +E(0)K (")
    return _lines(head, _join(qtype, DNS_SERVER, ")"), damaged)


def fortigate_lines(c: Connections, rows: np.ndarray, words: Vocabulary, clock: Clock, damaged: np.ndarray,
                    session_base: int, rng: np.random.Generator) -> pa.Array:
    """FortiOS forward traffic log at session end, with the web filter's `hostname` and the FSSO user if known."""
    ends = c.start[rows] + c.duration[rows]
    hms, _ = _local_time(ends, clock)
    https = pa.array(c.method[rows] == CONNECT)
    out, received = c.bytes_out[rows], c.bytes_in[rows]
    head = _join("<189>date=", clock.day.isoformat(), " time=", hms,
                 ' devname="fw-stadhuis" devid="FG200FTK21900123" eventtime=', _text(ends), "000000",
                 f' tz="{_offset(clock, colon=False)}"')
    tail = _join(' logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=',
                 _take(words.ip, c.client[rows]), " srcport=", _text(rng.integers(49152, 65535, len(rows))),
                 ' srcintf="lan" srcintfrole="lan" dstip=', _take(words.address, c.host[rows]),
                 " dstport=", pc.if_else(https, "443", "80"),
                 ' dstintf="wan1" dstintfrole="wan" sessionid=', _text(session_base + rows),
                 ' proto=6 action="close" policyid=12 policytype="policy" ', _take(words.firewall_user, c.client[rows]),
                 'service="', pc.if_else(https, "HTTPS", "HTTP"), '" hostname="', _take(words.host, c.host[rows]),
                 '" duration=', _text(c.duration[rows] // 1000), " sentbyte=", _text(out), " rcvdbyte=",
                 _text(received), " sentpkt=", _text(out // 1400 + 3), " rcvdpkt=", _text(received // 1400 + 3))
    return _lines(head, tail, damaged)


def zeek_ssl_header(clock: Clock) -> bytes:
    return ("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tssl\n"
            f"#open\t{clock.day.isoformat()}-00-00-00\n#fields\t" + "\t".join(ZEEK_SSL_FIELDS)
            + "\n#types\t" + "\t".join(ZEEK_SSL_TYPES) + "\n").encode()


def zeek_ssl_footer(clock: Clock) -> bytes:
    return f"#close\t{clock.day.isoformat()}-23-59-59\n".encode()


def zeek_ssl_lines(c: Connections, rows: np.ndarray, ts: np.ndarray, words: Vocabulary, damaged: np.ndarray,
                   rng: np.random.Generator) -> pa.Array:
    """Zeek ssl.log TSV: the handshake at `ts`, SNI = the host."""
    uid = np.ascontiguousarray(BASE62[rng.integers(0, 62, (len(rows), 17))]).view("<U17").ravel()
    head = _join(_text(ts // 1000), ".", _pad(ts % 1000, 3), "000\tC", pa.array(uid), "\t",
                 _take(words.ip, c.client[rows]), "\t", _text(rng.integers(49152, 65535, len(rows))), "\t",
                 _take(words.address, c.host[rows]), "\t443")
    tail = _join("\tTLSv13\tTLS_AES_128_GCM_SHA256\tx25519\t", _take(words.host, c.host[rows]),
                 "\tF\t-\th2\tT\tCsiI\t-\t-\t-")
    return _lines(head, tail, damaged)


@dataclass(frozen=True, eq=False)
class DhcpMessages:
    """dhcpd messages of a day: boots (DISCOVER, OFFER, REQUEST, ACK) and renewals (REQUEST, ACK)."""

    ts: np.ndarray
    client: np.ndarray
    step: np.ndarray  # 0 DISCOVER, 1 OFFER, 2 REQUEST, 3 ACK
    first_ack: np.ndarray  # the ACK that starts the day's lease: never damaged, it is the only proof of who

    @classmethod
    def of(cls, presence: Presence, rng: np.random.Generator) -> DhcpMessages:
        boot = presence.begin - rng.integers(60_000, 600_000, len(presence.client))
        renewals = np.maximum((presence.end - boot) // RENEW_MS, 0)
        boot_steps = np.tile(np.arange(4), len(boot))
        boot_ts = np.repeat(boot, 4) + np.tile(np.array([0, 150, 300, 420]), len(boot))
        owner = np.repeat(np.arange(len(boot)), renewals)
        number = np.arange(len(owner)) - np.repeat(np.cumsum(renewals) - renewals, renewals)
        renew_ts = boot[owner] + (number + 1) * RENEW_MS
        ts = np.concatenate([boot_ts, np.repeat(renew_ts, 2) + np.tile(np.array([0, 120]), len(owner))])
        step = np.concatenate([boot_steps, np.tile(np.array([2, 3]), len(owner))])
        client = np.concatenate([np.repeat(presence.client, 4), np.repeat(presence.client[owner], 2)])
        first = np.concatenate([boot_steps == 3, np.zeros(2 * len(owner), dtype=bool)])
        order = np.argsort(ts, kind="stable")
        return cls(ts=ts[order], client=client[order], step=step[order], first_ack=first[order])


def dhcpd_lines(m: DhcpMessages, rows: np.ndarray, words: Vocabulary, clock: Clock, damaged: np.ndarray
                ) -> pa.Array:
    """ISC dhcpd through syslog with RFC 3339 time stamps (rsyslog's default template on current distros)."""
    hms, millis = _local_time(m.ts[rows], clock)
    head = _join(clock.day.isoformat(), "T", hms, ".", millis, _offset(clock, colon=True), " dhcp01 dhcpd[812]:")
    client = m.client[rows]
    ip, mac, name, gateway = (_take(words.ip, client), _take(words.mac, client), _take(words.dhcp_name, client),
                              _take(words.gateway, client))
    messages = [
        _join(" DHCPDISCOVER from ", mac, " via ", gateway),
        _join(" DHCPOFFER on ", ip, " to ", mac, " (", name, ") via ", gateway),
        _join(" DHCPREQUEST for ", ip, " (10.20.0.67) from ", mac, " (", name, ") via ", gateway),
        _join(" DHCPACK on ", ip, " to ", mac, " (", name, ") via ", gateway),
    ]
    step = m.step[rows]
    tail = messages[0]
    for number in (1, 2, 3):
        tail = pc.if_else(pa.array(step == number), messages[number], tail)
    return _lines(head, tail, damaged, keep="tail")


class DayFiles:
    """One day's log files, each written in time order, chunk by chunk.

    Like logrotate with `compress` + `delaycompress`: every day but the newest is gzipped (level 1, no
    time stamp in the header, so the same seed gives the same bytes). At 5000 employees that is the
    difference between some 15 GB of logs and 2 GB.
    """

    def __init__(self, folder: Path, clock: Clock, keys: tuple[str, ...], compress: bool) -> None:
        stamp = clock.day.isoformat()
        self.compress = compress
        names = {
            "squid": f"proxy/access-{stamp}.log",
            "bind_query": f"dns/named-queries-{stamp}.log",
            "fortigate": f"firewall/fortigate-traffic-{stamp}.log",
            "zeek_ssl": f"zeek/ssl-{stamp}.log",
            "isc_dhcpd": f"dhcp/dhcpd-{stamp}.log",
        }
        suffix = ".gz" if compress else ""
        self.paths = {key: folder / (names[key] + suffix) for key in keys}
        for path in self.paths.values():
            path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, key: str, count: int, make: Callable[[np.ndarray], pa.Array], header: bytes = b"",
              footer: bytes = b"") -> int:
        """Write make(positions) for successive chunks of positions 0..count-1; returns the lines written."""
        path = self.paths[key]
        opened = gzip.GzipFile(path, "wb", compresslevel=1, mtime=0) if self.compress else path.open("wb")
        with opened as handle:
            handle.write(header)
            for begin in range(0, count, CHUNK):
                write_lines(handle, make(np.arange(begin, min(begin + CHUNK, count))))
            handle.write(footer)
        return count
