"""Who works where: users.csv (or an Active Directory CSV or LDIF export), networks.csv and
workstations.csv, read into small tables keyed by pseudonym, IP address and workstation name.

User names are hashed with the data directory's key as they are read, so these tables hold no names.
IP-to-network matching runs per DISTINCT client address (thousands), with Python's ipaddress module;
DuckDB's inet extension would have to be downloaded, and this product never downloads anything.
"""

from __future__ import annotations

import base64
import csv
import ipaddress
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.enrich.pseudonym import load_key, pseudonym
from detector.errors import ConfigError
from detector.text_files import open_text, read_text

USERS_FILE = "users.csv"
NETWORKS_FILE = "networks.csv"
WORKSTATIONS_FILE = "workstations.csv"

# Column names accepted for the user and the department, in order of preference (case-insensitive).
USER_COLUMNS = ("user", "username", "samaccountname", "userprincipalname", "upn", "mail", "login", "gebruiker",
                "gebruikersnaam", "account")
DEPARTMENT_COLUMNS = ("department", "afdeling", "dept", "ou")

USER_DEPARTMENTS = pa.schema([("user_id", pa.string()), ("department", pa.string())])
IP_DEPARTMENTS = pa.schema([("src_ip", pa.string()), ("network", pa.string()), ("department", pa.string())])
WORKSTATION_USERS = pa.schema([("workstation", pa.string()), ("user_id", pa.string())])


def read_users(home: Path) -> pa.Table:
    """users.csv, an AD CSV export or an LDIF export (users.ldif) -> (user_id pseudonym, department)."""
    key = load_key(home)
    rows: dict[str, str | None] = {}
    csv_path, ldif_path = home / USERS_FILE, home / "users.ldif"
    records: Iterable[tuple[str, str | None]] = []
    if csv_path.exists():
        records = _users_from_csv(csv_path)
    elif ldif_path.exists():
        records = _users_from_ldif(ldif_path)
    for user, department in records:
        rows[pseudonym(key, user)] = department
    return pa.table(
        {"user_id": list(rows), "department": list(rows.values())}, schema=USER_DEPARTMENTS
    )


def _pick(header: list[str], wanted: tuple[str, ...], what: str, source: str) -> int:
    lowered = [h.strip().lower() for h in header]
    for name in wanted:
        if name in lowered:
            return lowered.index(name)
    raise ConfigError(f"no {what} column: expected one of {', '.join(wanted)} (found {', '.join(header)})", source)


def _users_from_csv(path: Path) -> Iterator[tuple[str, str | None]]:
    with open_text(path) as handle:
        sample = handle.read(4096)
        handle.seek(0)
        try:
            dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(handle, dialect)
        header = next(reader, None)
        if header is None:
            return
        user_at = _pick(header, USER_COLUMNS, "user", str(path))
        department_at = _pick(header, DEPARTMENT_COLUMNS, "department", str(path))
        for number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) <= max(user_at, department_at):
                raise ConfigError("too few columns", f"{path}:{number}")
            user, department = row[user_at].strip(), row[department_at].strip()
            if user:
                yield user, department or None


def _users_from_ldif(path: Path) -> Iterator[tuple[str, str | None]]:
    """LDIF entries (blank-line separated; `attr: value`, `attr:: base64`, continuation lines)."""
    entry: dict[str, str] = {}
    for line in [*_unfolded(read_text(path).splitlines()), ""]:
        if not line.strip():
            user = entry.get("samaccountname") or entry.get("userprincipalname") or entry.get("uid")
            if user:
                yield user, entry.get("department") or None
            entry = {}
            continue
        if line.startswith("#") or ":" not in line:
            continue
        name, _, value = line.partition(":")
        if value.startswith(":"):
            value = base64.b64decode(value[1:].strip()).decode("utf-8", errors="replace")
        entry.setdefault(name.strip().lower(), value.strip())


def _unfolded(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if line.startswith(" ") and out:
            out[-1] += line[1:]
        else:
            out.append(line)
    return out


def read_networks(home: Path) -> list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]]:
    """networks.csv (cidr,department), most specific prefix first."""
    path = home / NETWORKS_FILE
    if not path.exists():
        return []
    networks = []
    with open_text(path) as handle:
        reader = csv.reader(handle)
        header = next(reader, None) or []
        cidr_at = _pick(header, ("cidr", "network", "subnet", "prefix"), "cidr", str(path))
        department_at = _pick(header, DEPARTMENT_COLUMNS, "department", str(path))
        for number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            try:
                network = ipaddress.ip_network(row[cidr_at].strip(), strict=False)
            except (ValueError, IndexError) as exc:
                raise ConfigError(f"not a network: {exc}", f"{path}:{number}") from exc
            networks.append((network, row[department_at].strip()))
    return sorted(networks, key=lambda item: -item[0].prefixlen)


def ip_departments(addresses: Iterable[str], networks: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]]
                   ) -> pa.Table:
    """Each distinct client address with its most specific network's department (longest prefix wins).

    Dotted IPv4 addresses are matched as integers with numpy (a lake may hold millions of distinct
    addresses); IPv6 and anything else go through Python's ipaddress, one by one."""
    if not networks:
        return IP_DEPARTMENTS.empty_table()
    text = pa.array(list(addresses), pa.string())
    dotted = pc.fill_null(pc.match_substring_regex(text, r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$"), False)
    v4_text = pc.filter(text, dotted)
    octets = np.stack([
        pc.list_element(pc.split_pattern(v4_text, "."), i).cast(pa.int64()).to_numpy(zero_copy_only=False)
        for i in range(4)
    ]) if len(v4_text) else np.zeros((4, 0), np.int64)
    valid = (octets <= 255).all(axis=0)
    numbers = (octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]
    chosen = np.full(len(numbers), -1)
    # Shortest prefix first, so that a longer (more specific) one overwrites it.
    for index, (network, _) in sorted(enumerate(networks), key=lambda item: item[1][0].prefixlen):
        if network.version == 4:
            first, last = int(network.network_address), int(network.broadcast_address)
            chosen[valid & (numbers >= first) & (numbers <= last)] = index
    rows = [
        {"src_ip": address, "network": str(networks[i][0]), "department": networks[i][1]}
        for address, i in zip(v4_text.to_pylist(), chosen.tolist(), strict=True) if i >= 0
    ]
    for address in pc.filter(text, pc.invert(dotted)).to_pylist():
        found = _network_of(address, networks)
        if found is not None:
            rows.append({"src_ip": address, "network": str(found[0]), "department": found[1]})
    return pa.Table.from_pylist(rows, schema=IP_DEPARTMENTS)


def _network_of(address: str | None, networks: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]]
                ) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str] | None:
    """The most specific network holding an address (IPv6, IPv4-mapped, scoped); None if none or no address."""
    try:
        ip = ipaddress.ip_address((address or "").strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for network, department in networks:  # most specific first (read_networks sorts them)
        if ip.version == network.version and ip in network:
            return network, department
    return None


def read_workstations(home: Path) -> pa.Table:
    """workstations.csv (workstation,user): whose computer a DHCP host name is."""
    path = home / WORKSTATIONS_FILE
    if not path.exists():
        return WORKSTATION_USERS.empty_table()
    key = load_key(home)
    rows = []
    with open_text(path) as handle:
        reader = csv.reader(handle)
        header = next(reader, None) or []
        host_at = _pick(header, ("workstation", "hostname", "host", "computer", "device"), "workstation", str(path))
        user_at = _pick(header, USER_COLUMNS, "user", str(path))
        for row in reader:
            if len(row) > max(host_at, user_at) and row[host_at].strip() and row[user_at].strip():
                rows.append({"workstation": normalise_workstation(row[host_at]),
                             "user_id": pseudonym(key, row[user_at])})
    return pa.Table.from_pylist(rows, schema=WORKSTATION_USERS)


def normalise_workstation(name: str) -> str:
    """`PC-0042.gemeente.local` and `pc-0042` are one workstation."""
    return name.strip().lower().split(".", 1)[0]
