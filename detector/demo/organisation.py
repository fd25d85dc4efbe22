"""The simulated municipality: departments, employees, workstations, subnets and its AI policy.

Everything an organisation keeps in its data directory comes from here: users.csv, networks.csv,
workstations.csv and policy.yaml. Employees sit in their own department's subnets, so the department the
product finds for an event is the same whether it learns the user (proxy log, firewall user, proxy
session) or only the client network.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WINDOWS_DOMAIN = "GEMEENTE"
MAIL_DOMAIN = "gemeente-voorbeeld.nl"
ADDRESSES_PER_SUBNET = 200  # workstations get .20-.219 of a /24; unauthenticated devices .230-.249
DEVICES_PER_SUBNET = 20
DNS_SERVER = "10.20.0.53"
DIRECT_SHARE = 0.05  # employees whose laptops go around the proxy


@dataclass(frozen=True)
class Department:
    name: str
    code: str
    share: float  # of the employees
    ai_affinity: float  # multiplies the share of employees who use AI on their own initiative


DEPARTMENTS: tuple[Department, ...] = (
    Department("Burgerzaken", "bz", 0.10, 0.8),
    Department("Sociaal Domein", "sd", 0.18, 0.9),
    Department("Belastingen", "bel", 0.07, 0.8),
    Department("Publiekszaken", "pz", 0.09, 0.7),
    Department("Ruimte", "ru", 0.14, 1.0),
    Department("ICT", "ict", 0.08, 1.6),
    Department("Communicatie", "com", 0.05, 1.4),
    Department("Financiën", "fin", 0.08, 0.9),
    Department("HR", "hr", 0.05, 1.0),
    Department("Juridische Zaken", "jz", 0.06, 1.0),
    Department("Bestuursondersteuning", "bo", 0.05, 1.1),
    Department("Openbare Orde en Veiligheid", "oov", 0.05, 0.8),
)
BURGERZAKEN, SOCIAAL_DOMEIN, RUIMTE, ICT, COMMUNICATIE, FINANCIEN, HR, JURIDISCHE_ZAKEN = 0, 1, 4, 5, 6, 7, 8, 9
MIN_EMPLOYEES = 2 * len(DEPARTMENTS)

FIRST_NAMES = (
    "Jan", "Pieter", "Kees", "Henk", "Willem", "Johan", "Bart", "Tim", "Daan", "Sem", "Lucas", "Thijs", "Ruben",
    "Jeroen", "Mark", "Sander", "Niels", "Bas", "Erik", "Frank", "Gert", "Hans", "Joost", "Koen", "Maarten",
    "Rob", "Stijn", "Wouter", "Youssef", "Mohamed", "Anna", "Emma", "Sophie", "Julia", "Lisa", "Sanne", "Anouk",
    "Eva", "Fleur", "Inge", "Marieke", "Linda", "Monique", "Petra", "Ingrid", "Karin", "Esther", "Mirjam",
    "Annemiek", "Yvonne", "Nicole", "Saskia", "Femke", "Lotte", "Noor", "Iris", "Fatima", "Samira", "Hanneke",
    "Wilma", "Gerda", "Ria", "Tineke", "Dewi",
)
SURNAMES = (
    "de Vries", "Jansen", "de Jong", "van den Berg", "Bakker", "Janssen", "Visser", "Smit", "Meijer", "de Boer",
    "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit",
    "Dijkstra", "Smits", "de Graaf", "van der Meer", "van der Linden", "Kok", "Jacobs", "de Haan", "Vermeulen",
    "van den Heuvel", "van der Veen", "van den Broek", "de Bruijn", "de Bruin", "van der Heijden", "Schouten",
    "van Beek", "Willems", "van Vliet", "van de Ven", "Hoekstra", "Maas", "Verhoeven", "Koster", "van Dam",
    "van der Wal", "Prins", "Blom", "Huisman", "Peeters", "de Jonge", "Kuipers", "van Veen", "Post", "Kuiper",
    "Veenstra", "Kramer", "van den Brink", "Scholten", "van Wijk", "Postma", "Martens", "Vink", "de Ruiter",
    "Timmermans", "Groen", "Gerritsen", "Jonker", "van Loon", "Boer", "van der Velde", "Willemsen", "Smeets",
    "de Lange", "de Vos", "Bosch", "van Dijk", "El Amrani", "Yilmaz", "Bouzid", "Kaya", "Nguyen", "Pinas",
)


@dataclass(frozen=True, eq=False)
class Organisation:
    """Per-employee and per-device columns (numpy), indexed by employee number then device number."""

    user: np.ndarray  # plain account name, as in users.csv: jdevries
    full_name: np.ndarray
    proxy_user: np.ndarray  # as the authenticated proxy logs it (URL-encoded): GEMEENTE%5Cjdevries, jdevries ...
    department: np.ndarray  # index into DEPARTMENTS
    workstation: np.ndarray
    ip: np.ndarray  # workstation address (DHCP hands each workstation the same one all period)
    direct: np.ndarray  # bypasses the proxy and is unknown to the firewall's FSSO (non-domain laptop)
    device_ip: np.ndarray  # meeting-room PCs and kiosks: no proxy authentication, no user anywhere
    device_name: np.ndarray  # their DHCP host names: in no workstations.csv row
    device_department: np.ndarray
    networks: tuple[tuple[str, int], ...]  # (cidr, department index)

    @property
    def employees(self) -> int:
        return len(self.user)

    @property
    def devices(self) -> int:
        return len(self.device_ip)

    def employees_per_department(self) -> np.ndarray:
        return np.bincount(self.department, minlength=len(DEPARTMENTS))


def department_sizes(employees: int) -> np.ndarray:
    """Largest-remainder split of the head count by share, at least two people per department."""
    if employees < MIN_EMPLOYEES:
        raise ValueError(f"a municipality needs at least {MIN_EMPLOYEES} employees, not {employees}")
    shares = np.array([d.share for d in DEPARTMENTS])
    spare = employees - 2 * len(DEPARTMENTS)
    exact = shares / shares.sum() * spare
    sizes = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - sizes), kind="stable")
    sizes[order[: spare - sizes.sum()]] += 1
    return sizes + 2


def _subnet(number: int) -> str:
    """The first three octets of the organisation's number-th /24."""
    return f"10.{20 + number // 256}.{number % 256}"


def build(employees: int, rng: np.random.Generator) -> Organisation:
    """Employees with unique Dutch-looking account names, workstations and addresses per department."""
    sizes = department_sizes(employees)
    department = np.repeat(np.arange(len(DEPARTMENTS)), sizes)
    first = rng.integers(0, len(FIRST_NAMES), employees)
    last = rng.integers(0, len(SURNAMES), employees)
    style = rng.choice(3, size=employees, p=[0.55, 0.35, 0.10])
    users, full_names, proxy_users, workstations = [], [], [], []
    taken: set[str] = set()
    for number in range(employees):  # one iteration per employee, never per log line
        given, surname = FIRST_NAMES[first[number]], SURNAMES[last[number]]
        base = given[0].lower() + surname.lower().replace(" ", "")
        user, suffix = base, 2
        while user in taken:
            user, suffix = f"{base}{suffix}", suffix + 1
        taken.add(user)
        users.append(user)
        full_names.append(f"{given} {surname}")
        proxy_users.append((f"{WINDOWS_DOMAIN}%5C{user}", user, f"{user}@{MAIL_DOMAIN}")[style[number]])
        workstations.append(f"WS{DEPARTMENTS[department[number]].code.upper()}-{number + 1:05d}")
    ips: list[str] = []
    networks: list[tuple[str, int]] = []
    device_ips: list[str] = []
    device_names: list[str] = []
    device_departments: list[int] = []
    next_subnet = 10  # subnet next_subnets: 10.20.10.0/24, 10.20.11.0/24 ... 10.20.255.0/24, 10.21.0.0/24 ...
    for index, size in enumerate(sizes):
        subnets = -(-int(size) // ADDRESSES_PER_SUBNET)
        for subnet in range(subnets):
            prefix = _subnet(next_subnet + subnet)
            networks.append((f"{prefix}.0/24", index))
            people = min(ADDRESSES_PER_SUBNET, int(size) - subnet * ADDRESSES_PER_SUBNET)
            ips += [f"{prefix}.{20 + host}" for host in range(people)]
        devices = min(DEVICES_PER_SUBNET * subnets, max(1, round(size * 0.03)))
        device_ips += [f"{_subnet(next_subnet + k // DEVICES_PER_SUBNET)}.{230 + k % DEVICES_PER_SUBNET}"
                       for k in range(devices)]
        device_departments += [index] * devices
        device_names += [f"VR-{DEPARTMENTS[index].code.upper()}-{k + 1:02d}" for k in range(devices)]
        next_subnet += subnets
    direct = rng.random(employees) < DIRECT_SHARE
    direct[np.r_[0, np.cumsum(sizes)[:-1]]] = False  # the first two of each department play the story's parts
    direct[np.r_[0, np.cumsum(sizes)[:-1]] + 1] = False
    direct[np.flatnonzero(department == RUIMTE)[-1]] = True  # at least one, whatever the size
    return Organisation(
        user=np.array(users), full_name=np.array(full_names), proxy_user=np.array(proxy_users),
        department=department, workstation=np.array(workstations), ip=np.array(ips), direct=direct,
        device_ip=np.array(device_ips), device_name=np.array(device_names),
        device_department=np.array(device_departments, dtype=np.int64), networks=tuple(networks),
    )


POLICY_YAML = """\
# The AI policy of the simulated Gemeente Voorbeeld (written by `shadow-ai demo`).
# Most specific wins: a service's department exception, the service, a category's department
# exception, the category, then `default`. See the starter policy of a fresh data directory for the
# full explanation.
default: shadow
services:
  m365_copilot: sanctioned        # licensed, with a processing agreement
  deepl:
    verdict: tolerated
    departments:
      Communicatie: sanctioned    # DeepL Pro team licence
  github_copilot:
    verdict: forbidden
    departments:
      ICT: sanctioned             # Copilot Business for the developers
  deepseek: forbidden
  deepseek_api: forbidden
categories:
  transcription: forbidden        # meeting note-takers record citizens' conversations
"""


def write_directory_files(org: Organisation, home: Path) -> None:
    """users.csv, networks.csv, workstations.csv and policy.yaml, as an organisation keeps them."""
    with (home / "users.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user", "department", "name"])
        for user, department, name in zip(org.user, org.department, org.full_name, strict=True):
            writer.writerow([user, DEPARTMENTS[department].name, name])
    with (home / "networks.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["cidr", "department"])
        for cidr, department in org.networks:
            writer.writerow([cidr, DEPARTMENTS[department].name])
    with (home / "workstations.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["workstation", "user"])
        writer.writerows(zip(org.workstation, org.user, strict=True))
    (home / "policy.yaml").write_text(POLICY_YAML, encoding="utf-8")


def verdict(service: str | None, category: str | None, department: str) -> str:
    """POLICY_YAML's verdict, decided here independently of the product so the truth can check it."""
    if service == "deepl":
        return "sanctioned" if department == "Communicatie" else "tolerated"
    if service == "github_copilot":
        return "sanctioned" if department == "ICT" else "forbidden"
    fixed = {"m365_copilot": "sanctioned", "deepseek": "forbidden", "deepseek_api": "forbidden"}
    if service in fixed:
        return fixed[service]
    if category == "transcription":
        return "forbidden"
    return "shadow"
