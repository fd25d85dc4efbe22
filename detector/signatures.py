"""The AI-service catalog: `signatures/*.yaml` read into frozen `Service` records, validated, matched.

One YAML file per service (data, not code). `validate()` returns every issue with its file and line;
`load_catalog()` refuses a catalog with issues; `Catalog.match_host()` is the one matching code, used
both by the validator (each service's `examples:` must match it) and by the classifier. The risk score
formula lives here, once (`risk_components`). The schema and rules are documented in docs/catalog.md.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args
from urllib.parse import urlsplit

import tldextract
import yaml

from detector.errors import SignatureError
from detector.paths import SIGNATURES_DIR as PACKAGED_SIGNATURES_DIR

SIGNATURES_DIR = PACKAGED_SIGNATURES_DIR  # re-exported: one definition, in detector.paths

Category = Literal["chat", "api", "writing", "translation", "transcription", "code", "image", "video",
                   "audio", "search", "document", "presentation", "agent", "other"]
CATEGORIES: tuple[str, ...] = get_args(Category)
DataLocation = Literal["EU", "US", "CN", "other"]
DATA_LOCATIONS: tuple[str, ...] = get_args(DataLocation)
MatchRule = Literal["url_pattern", "domain", "host_pattern", "user_agent"]
RiskLevel = Literal["low", "medium", "high", "critical"]
Tristate = bool | None  # None: unknown

ID_PATTERN = re.compile(r"^[a-z0-9_]+$")
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
DOMAIN_PATTERN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+$")

SERVICE_KEYS = ("id", "name", "vendor", "category", "description", "domains", "exclude", "url_patterns",
                "host_patterns", "shared_domain", "user_agents", "examples", "risk")
REQUIRED_KEYS = ("id", "name", "vendor", "category", "risk")
RISK_KEYS = ("hq_country", "data_location", "trains_on_inputs", "enterprise_plan", "gdpr_dpa", "sources",
             "last_verified")
URL_PATTERN_KEYS = ("host", "path")
EXAMPLE_KEYS = ("host", "path", "user_agent")

ISO_COUNTRIES = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO
FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE
JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO
MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW
PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM
TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW""".split())  # noqa: SIM905 (a block of codes reads better than 249 quoted strings)
EU_EEA = frozenset("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK IS LI NO".split())  # noqa: SIM905
# An operator whose headquarters no public source establishes (anonymous companies behind a consumer app).
# Scored as outside the EU/EEA by risk_components: an unknown operator is at least as risky as a known
# non-EEA one, and no EEA law is known to reach it.
UNKNOWN_COUNTRY = "unknown"

# Whole domains that carry far more than one AI service: claiming one would flag all of its traffic.
# A service inside them lists its dedicated subdomains (gemini.google.com) or uses url_patterns.
SHARED_DOMAINS = frozenset("""
google.com google.nl googleapis.com gstatic.com googleusercontent.com googlevideo.com youtube.com
microsoft.com microsoftonline.com live.com msn.com bing.com bing.net office.com office.net office365.com
microsoft365.com cloud.microsoft sharepoint.com skype.com linkedin.com azure.com azure.net windows.net
azureedge.net azurefd.net github.com githubusercontent.com githubassets.com amazon.com amazonaws.com
awsstatic.com cloudfront.net akamai.net akamaihd.net akamaized.net edgekey.net edgesuite.net fastly.net
cloudflare.com cloudflare.net jsdelivr.net unpkg.com apple.com icloud.com facebook.com fbcdn.net
instagram.com whatsapp.com whatsapp.net meta.com x.com twitter.com twimg.com tiktok.com bytedance.com
capcut.com snapchat.com baidu.com qq.com alibaba.com aliyun.com aliyuncs.com alibabacloud.com alicdn.com
yandex.ru yandex.com naver.com samsung.com adobe.com canva.com notion.so notion.com slack.com zoom.us
atlassian.com atlassian.net salesforce.com dropbox.com box.com duckduckgo.com brave.com mozilla.org
wordpress.com medium.com wikipedia.org""".split())  # noqa: SIM905

# A host or user-agent pattern that matches one of these would flag ordinary traffic.
_CANARY_HOSTS = ("www.google.com", "example.com", "www.rijksoverheid.nl", "login.microsoftonline.com",
                 "s3.eu-central-1.amazonaws.com")
_CANARY_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1",
    "curl/8.5.0", "python-requests/2.32.3",
)

KeyPath = tuple[str | int, ...]
T = TypeVar("T")


@dataclass(frozen=True)
class Issue:
    """One problem in the catalog, printable as `file:line: message`."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


class _Reader:
    """Reads one service mapping, collecting every problem with the key path it concerns (not just the first)."""

    def __init__(self) -> None:
        self.problems: list[tuple[KeyPath, str]] = []

    def fail(self, path: KeyPath, message: str) -> None:
        self.problems.append((path, message))

    def mapping(self, value: object, path: KeyPath, allowed: tuple[str, ...], what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"{what} must be a mapping of fields")
            return {}
        for key in value:
            if key not in allowed:
                self.fail((*path, str(key)), f"unknown field {key!r} in {what} (allowed: {', '.join(allowed)})")
        return value

    def text(self, data: dict[str, Any], key: str, path: KeyPath, required: bool = True) -> str:
        value = data.get(key)
        if value is None:
            if required:
                self.fail(path, f"missing required field {key!r}")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.fail((*path, key), f"{key} must be a non-empty string")
            return ""
        return value.strip()

    def items(self, data: dict[str, Any], key: str, path: KeyPath) -> list[tuple[KeyPath, object]]:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail((*path, key), f"{key} must be a list")
            return []
        return [((*path, key, i), item) for i, item in enumerate(value)]

    def strings(self, data: dict[str, Any], key: str, path: KeyPath = ()) -> list[tuple[KeyPath, str]]:
        found = []
        for where, item in self.items(data, key, path):
            if isinstance(item, str) and item:
                found.append((where, item))
            else:
                self.fail(where, f"each entry of {key} must be a non-empty string, not {item!r}")
        return found

    def tristate(self, data: dict[str, Any], key: str, path: KeyPath) -> Tristate:
        value = data.get(key)
        if value is None and key not in data:
            self.fail(path, f"missing required field {key!r}")
        elif isinstance(value, bool):
            return value
        elif value != "unknown":
            self.fail((*path, key), f"{key} must be true, false or unknown, not {value!r}")
        return None

    def domain(self, where: KeyPath, name: str, what: str) -> bool:
        if not DOMAIN_PATTERN.match(name):
            self.fail(where, f"{what} {name!r} is not a lower-case host name (no scheme, path, port, wildcard "
                             "or trailing dot)")
            return False
        if not _extractor()(name).suffix:
            self.fail(where, f"{what} {name!r} has no known public suffix (typo in the top-level domain?)")
            return False
        return True


@dataclass(frozen=True)
class UrlPattern:
    """AI inside a shared host: matches `host` (or its subdomains) when the URL path starts with `path`."""

    host: str
    path: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UrlPattern:
        return _checked(lambda reader: _read_url_pattern(reader, data, ()), "url pattern")

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "path": self.path}


@dataclass(frozen=True)
class Example:
    """Evidence that a signature fires: a request that must match its own service."""

    host: str
    path: str | None = None
    user_agent: str | None = None

    def to_dict(self) -> str | dict[str, str]:
        if self.user_agent is None:
            return self.host + (self.path or "")
        found = {"host": self.host, "path": self.path, "user_agent": self.user_agent}
        return {key: value for key, value in found.items() if value is not None}


@dataclass(frozen=True)
class RiskFacts:
    """The facts an analyst needs about a vendor, from its public documentation as of `last_verified`."""

    hq_country: str  # ISO 3166-1 alpha-2, or UNKNOWN_COUNTRY (scored as outside the EU/EEA)
    data_location: DataLocation
    trains_on_inputs: Tristate
    enterprise_plan: Tristate
    gdpr_dpa: Tristate
    sources: tuple[str, ...]
    last_verified: date

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RiskFacts:
        return _checked(lambda reader: _read_risk(reader, data, ()), "risk")

    def to_dict(self) -> dict[str, Any]:
        def tri(value: Tristate) -> bool | str:
            return "unknown" if value is None else value

        return {"hq_country": self.hq_country, "data_location": self.data_location,
                "trains_on_inputs": tri(self.trains_on_inputs), "enterprise_plan": tri(self.enterprise_plan),
                "gdpr_dpa": tri(self.gdpr_dpa), "sources": list(self.sources),
                "last_verified": self.last_verified.isoformat()}


@dataclass(frozen=True)
class Service:
    """One AI service of the catalog (one `signatures/<id>.yaml`)."""

    id: str
    name: str
    vendor: str
    category: Category
    risk: RiskFacts
    description: str = ""
    domains: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    url_patterns: tuple[UrlPattern, ...] = ()
    host_patterns: tuple[str, ...] = ()
    user_agents: tuple[str, ...] = ()
    shared_domain: bool = False
    examples: tuple[Example, ...] = ()

    @classmethod
    def from_dict(cls, data: object) -> Service:
        """Validate and build; raises SignatureError naming every problem found."""
        service = _checked(lambda reader: _read_service(reader, data), "service")
        assert service is not None  # _read_service returns None only after recording a problem
        return service

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "id": self.id, "name": self.name, "vendor": self.vendor, "category": self.category,
            "description": self.description, "domains": list(self.domains), "exclude": list(self.exclude),
            "url_patterns": [p.to_dict() for p in self.url_patterns], "host_patterns": list(self.host_patterns),
            "shared_domain": self.shared_domain, "user_agents": list(self.user_agents),
            "examples": [e.to_dict() for e in self.examples], "risk": self.risk.to_dict(),
        }
        return {key: value for key, value in found.items() if value not in ("", [])}

    @property
    def risk_score(self) -> float:
        return risk_score(self.risk)

    @property
    def risk_level(self) -> RiskLevel:
        return risk_level(self.risk_score)


def _checked(read: Callable[[_Reader], T], what: str) -> T:
    reader = _Reader()
    built = read(reader)
    if reader.problems:
        details = "; ".join(f"{'.'.join(map(str, path)) or what}: {message}" for path, message in reader.problems)
        raise SignatureError(f"invalid {what}: {details}")
    return built


def _read_url_pattern(reader: _Reader, value: object, path: KeyPath) -> UrlPattern:
    data = reader.mapping(value, path, URL_PATTERN_KEYS, "a url pattern")
    host, url_path = reader.text(data, "host", path), reader.text(data, "path", path)
    if host:
        reader.domain((*path, "host"), host, "url pattern host")
    if url_path and not url_path.startswith("/"):
        reader.fail((*path, "path"), f"url pattern path {url_path!r} must start with '/'")
    return UrlPattern(host, url_path)


def _read_example(reader: _Reader, value: object, path: KeyPath) -> Example:
    if isinstance(value, str):
        host, slash, rest = value.partition("/")
        example = Example(host, slash + rest if slash else None)
    else:
        data = reader.mapping(value, path, EXAMPLE_KEYS, "an example")
        example = Example(reader.text(data, "host", path), reader.text(data, "path", path, required=False) or None,
                          reader.text(data, "user_agent", path, required=False) or None)
    if example.host and not DOMAIN_PATTERN.match(example.host):
        reader.fail(path, f"example host {example.host!r} is not a lower-case host name")
    if example.path is not None and not example.path.startswith("/"):
        reader.fail(path, f"example path {example.path!r} must start with '/'")
    return example


def _read_risk(reader: _Reader, value: object, path: KeyPath) -> RiskFacts:
    data = reader.mapping(value, path, RISK_KEYS, "risk")
    country = reader.text(data, "hq_country", path)
    if country and country not in ISO_COUNTRIES and country != UNKNOWN_COUNTRY:
        hint = " (the United Kingdom is GB)" if country == "UK" else " (Greece is GR)" if country == "EL" else ""
        reader.fail((*path, "hq_country"), f"hq_country {country!r} is not an ISO 3166-1 alpha-2 code{hint}; "
                                           f"write {UNKNOWN_COUNTRY!r} only when no source establishes it")
    location = reader.text(data, "data_location", path)
    if location and location not in DATA_LOCATIONS:
        reader.fail((*path, "data_location"), f"data_location {location!r} is not one of {', '.join(DATA_LOCATIONS)}")
    trains, enterprise, dpa = (reader.tristate(data, key, path)
                               for key in ("trains_on_inputs", "enterprise_plan", "gdpr_dpa"))
    if data.get("sources") in (None, []):
        reader.fail((*path, "sources") if "sources" in data else path, "sources must list at least one https URL")
    sources = reader.strings(data, "sources", path)
    for where, url in sources:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.netloc or any(c.isspace() for c in url):
            reader.fail(where, f"source {url!r} is not an https URL")
    verified = _read_date(reader, data, "last_verified", path)
    return RiskFacts(country, location, trains, enterprise, dpa, tuple(url for _, url in sources),  # type: ignore[arg-type]
                     verified)


def _read_date(reader: _Reader, data: dict[str, Any], key: str, path: KeyPath) -> date:
    value = data.get(key)
    if value is None:
        reader.fail(path, f"missing required field {key!r}")
        return date.min
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        reader.fail((*path, key), f"{key} {value!r} is not a valid date (YYYY-MM-DD)")
        return date.min
    if day > date.today() + timedelta(days=1):
        reader.fail((*path, key), f"{key} {day.isoformat()} is in the future")
    return day


def _read_service(reader: _Reader, value: object) -> Service | None:
    if not isinstance(value, dict):
        reader.fail((), "a service file must be a mapping of fields (key: value)")
        return None
    data = reader.mapping(value, (), SERVICE_KEYS, "a service file")
    ident = reader.text(data, "id", ())
    if ident and not ID_PATTERN.match(ident):
        reader.fail(("id",), f"id {ident!r} must match {ID_PATTERN.pattern}")
    name, vendor = reader.text(data, "name", ()), reader.text(data, "vendor", ())
    description = reader.text(data, "description", (), required=False)
    category = reader.text(data, "category", ())
    if category and category not in CATEGORIES:
        reader.fail(("category",), f"category {category!r} is not one of {', '.join(CATEGORIES)}")

    domains = [(w, d) for w, d in reader.strings(data, "domains") if reader.domain(w, d, "domain")]
    claimed = {d for _, d in domains}
    seen: set[str] = set()
    for where, domain in domains:
        if domain in SHARED_DOMAINS:
            reader.fail(where, f"{domain} is shared infrastructure: list the service's own subdomains or use "
                               "url_patterns")
        elif not _extractor()(domain, include_psl_private_domains=True).domain:
            reader.fail(where, f"{domain} is a public suffix: claiming it would match unrelated sites")
        if domain in seen:
            reader.fail(where, f"domain {domain} is listed twice")
        elif any(parent in claimed for parent in _parents(domain)):
            reader.fail(where, f"domain {domain} is already covered by a parent domain of this service")
        seen.add(domain)
    excludes = [(w, d) for w, d in reader.strings(data, "exclude") if reader.domain(w, d, "exclude")]
    for where, domain in excludes:
        if not any(parent in claimed for parent in _parents(domain)):
            reader.fail(where, f"exclude {domain} is not a subdomain of one of this service's domains")

    url_patterns = [_read_url_pattern(reader, item, where) for where, item in reader.items(data, "url_patterns", ())]
    host_patterns = reader.strings(data, "host_patterns")
    for where, pattern in host_patterns:
        compiled = _compile(reader, where, pattern)
        if compiled and (hit := next((h for h in _CANARY_HOSTS if compiled.fullmatch(h)), None)):
            reader.fail(where, f"host pattern {pattern!r} is too broad: it matches {hit}")
    user_agents = reader.strings(data, "user_agents")
    for where, pattern in user_agents:
        compiled = _compile(reader, where, pattern)
        if compiled and (hit := next((a for a in _CANARY_AGENTS if compiled.search(a)), None)):
            reader.fail(where, f"user agent pattern {pattern!r} is too broad: it matches {hit!r}")
    shared = data.get("shared_domain", False)
    if not isinstance(shared, bool):
        reader.fail(("shared_domain",), "shared_domain must be true or false")
    if not any(data.get(key) for key in ("domains", "url_patterns", "host_patterns", "user_agents")):
        reader.fail((), "a service needs at least one of domains, url_patterns, host_patterns, user_agents")
    examples = [_read_example(reader, item, where) for where, item in reader.items(data, "examples", ())]
    risk = _read_risk(reader, data["risk"], ("risk",)) if "risk" in data else None
    if risk is None:
        reader.fail((), "missing required field 'risk'")
    return Service(ident, name, vendor, category, risk, description,  # type: ignore[arg-type]
                   tuple(d for _, d in domains), tuple(d for _, d in excludes), tuple(url_patterns),
                   tuple(p for _, p in host_patterns), tuple(p for _, p in user_agents), shared is True,
                   tuple(examples))


def _compile(reader: _Reader, where: KeyPath, pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        reader.fail(where, f"invalid regular expression {pattern!r}: {exc}")
        return None


# ---- matching -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """Which service a request belongs to, and the rule and pattern that said so."""

    service: Service
    rule: MatchRule
    pattern: str


def normalise_host(host: str) -> str:
    """Lower case, no surrounding space, no trailing dot, no `:port`, an IPv6 address without its brackets
    (`[2001:db8::1]:443`, as URLs and CONNECT targets write it): the form the catalog is keyed by."""
    name = host.strip().lower().rstrip(".")
    if name.startswith("["):
        inside, closed, rest = name[1:].partition("]")
        if closed and (not rest or (rest[0] == ":" and rest[1:].isdigit())):
            return inside
    if name.count(":") == 1:
        bare, _, port = name.partition(":")
        if port.isdigit():
            name = bare.rstrip(".")
    return name


def is_ip_address(host: str) -> bool:
    """Whether a (normalised) host is an IPv4 or IPv6 address rather than a name: nothing to match or judge by
    name (a flow without a DNS answer, a CONNECT to an address)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _suffixes(name: str) -> Iterator[str]:
    """The host itself, then each parent: a.b.c, b.c, c (O(labels))."""
    yield name
    dot = name.find(".")
    while dot != -1:
        yield name[dot + 1:]
        dot = name.find(".", dot + 1)


def _parents(name: str) -> Iterator[str]:
    suffixes = _suffixes(name)
    next(suffixes)
    return suffixes


def _path_has_prefix(path: str, prefix: str) -> bool:
    """Prefix on path-segment boundaries: /chat matches /chat, /chat/x and /chat?q but not /chatter."""
    if not path.startswith(prefix):
        return False
    return len(path) == len(prefix) or prefix.endswith("/") or path[len(prefix)] in "/?#;"


def _prefilter(patterns: list[str]) -> re.Pattern[str] | None:
    """One alternation of all patterns, so most hosts cost one regex call; None where that is unsafe."""
    if not patterns or any(re.search(r"\\[1-9]|\(\?P=", p) for p in patterns):
        return None
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    except re.error:
        return None


class Catalog:
    """The services and their lookup indexes (a domain dict walked by suffix, url patterns by host)."""

    def __init__(self, services: Iterable[Service]) -> None:
        ordered = sorted(services, key=lambda s: s.id)
        self.services: dict[str, Service] = {s.id: s for s in ordered}
        # domain -> its service, or None for an excluded subtree; a claim outranks another's exclude.
        self._domains: dict[str, Service | None] = {}
        for service in ordered:
            self._domains.update((name, None) for name in service.exclude)
        for service in ordered:
            self._domains.update((name, service) for name in service.domains)
        self._urls: dict[str, list[tuple[str, UrlPattern, Service]]] = {}
        for service in ordered:
            for pattern in service.url_patterns:
                self._urls.setdefault(pattern.host, []).append((pattern.path.lower(), pattern, service))
        for candidates in self._urls.values():
            candidates.sort(key=lambda c: -len(c[0]))
        self._hosts = [(re.compile(p, re.IGNORECASE), p, s) for s in ordered for p in s.host_patterns]
        self._hosts_any = _prefilter([p for _, p, _ in self._hosts])
        self._agents = [(re.compile(p, re.IGNORECASE), p, s) for s in ordered for p in s.user_agents]
        self._agents_any = _prefilter([p for _, p, _ in self._agents])

    def __len__(self) -> int:
        return len(self.services)

    def match_host(self, host: str, path: str | None = None, user_agent: str | None = None) -> Match | None:
        """The service a request belongs to: url_pattern (with a path), then domain, then host_pattern,
        then user_agent (with a user agent); None when nothing matches. Never raises on odd input."""
        name = normalise_host(host)
        found = None
        if name:
            if path is not None and self._urls:
                found = self._match_url(name, path)
            found = found or self._match_domain(name) or self._match_host_pattern(name)
        if found is None and user_agent:
            found = self._match_agent(user_agent)
        return found

    def needs_path(self, host: str) -> bool:
        """Whether a url pattern covers this host, i.e. its paths can change the answer of match_host."""
        return any(suffix in self._urls for suffix in _suffixes(normalise_host(host)))

    def registered_domain(self, host: str) -> str | None:
        return registered_domain(host)

    def _match_url(self, name: str, path: str) -> Match | None:
        wanted = path.strip().lower()
        wanted = wanted if wanted.startswith("/") else "/" + wanted
        for suffix in _suffixes(name):
            for prefix, pattern, service in self._urls.get(suffix, ()):
                if _path_has_prefix(wanted, prefix):
                    return Match(service, "url_pattern", pattern.host + pattern.path)
        return None

    def _match_domain(self, name: str) -> Match | None:
        for suffix in _suffixes(name):
            if suffix in self._domains:
                service = self._domains[suffix]
                return Match(service, "domain", suffix) if service else None
        return None

    def _match_host_pattern(self, name: str) -> Match | None:
        if not self._hosts or (self._hosts_any and not self._hosts_any.fullmatch(name)):
            return None
        for compiled, pattern, service in self._hosts:
            if compiled.fullmatch(name) and not any(p in service.exclude for p in _suffixes(name)):
                return Match(service, "host_pattern", pattern)
        return None

    def _match_agent(self, agent: str) -> Match | None:
        if not self._agents or (self._agents_any and not self._agents_any.search(agent)):
            return None
        for compiled, pattern, service in self._agents:
            if compiled.search(agent):
                return Match(service, "user_agent", pattern)
        return None


@functools.cache
def _extractor() -> tldextract.TLDExtract:
    # The Public Suffix List snapshot bundled with tldextract only: no URL to fetch, no cache to write.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def registered_domain(host: str) -> str | None:
    """The registrable domain (eTLD+1) of a host, e.g. bbc.co.uk; None for IPs and unknown suffixes."""
    name = normalise_host(host)
    if not name:
        return None
    parts = _extractor()(name)
    return f"{parts.domain}.{parts.suffix}" if parts.domain and parts.suffix else None


# ---- risk -----------------------------------------------------------------------------------------------

RISK_WEIGHTS = {"data_location": 3.0, "trains_on_inputs": 3.0, "gdpr_dpa": 2.0, "enterprise_plan": 1.0,
                "hq_outside_eea": 1.0}
LOCATION_RISK: dict[str, float] = {"EU": 0.0, "US": 0.6, "other": 0.8, "CN": 1.0}
UNKNOWN_RISK = 0.5  # an unknown fact counts as half a risk: not proof of safety, not proof of harm
RISK_LEVELS: tuple[tuple[float, RiskLevel], ...] = ((2.5, "low"), (5.0, "medium"), (7.5, "high"))


def risk_components(facts: RiskFacts) -> dict[str, float]:
    """Each fact's share of the score (weight x risk fraction 0..1); the weights add up to 10."""

    def risk_if(value: Tristate, bad: bool) -> float:
        return UNKNOWN_RISK if value is None else float(value is bad)

    fractions = {
        "data_location": LOCATION_RISK[facts.data_location],
        "trains_on_inputs": risk_if(facts.trains_on_inputs, bad=True),
        "gdpr_dpa": risk_if(facts.gdpr_dpa, bad=False),
        "enterprise_plan": risk_if(facts.enterprise_plan, bad=False),
        "hq_outside_eea": 0.0 if facts.hq_country in EU_EEA else 1.0,  # UNKNOWN_COUNTRY counts as outside too
    }
    return {key: RISK_WEIGHTS[key] * fraction for key, fraction in fractions.items()}


def risk_score(facts: RiskFacts) -> float:
    """0 (no known risk) .. 10 (worst), one decimal; the formula is documented in docs/catalog.md."""
    return round(sum(risk_components(facts).values()), 1)


def risk_level(score: float) -> RiskLevel:
    for below, level in RISK_LEVELS:
        if score < below:
            return level
    return "critical"


# ---- loading and validating -----------------------------------------------------------------------------


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # libyaml parses 5x faster
    """SafeLoader that leaves dates as text, so a bad date becomes an issue with a line, not a crash."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _line_map(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], problems: list[tuple[int, str]]) -> None:
    """Record the 1-based line of every mapping key and list item, and any duplicate key."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                problems.append((key_node.start_mark.line + 1, f"duplicate key {key!r}"))
            seen.add(key)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _line_map(value_node, (*path, key), lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            _line_map(item, (*path, i), lines, problems)


def _line(lines: dict[KeyPath, int], path: KeyPath) -> int:
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return 1


@dataclass(frozen=True)
class _Entry:
    file: str
    service: Service
    lines: dict[KeyPath, int]


def _load_file(path: Path) -> tuple[_Entry | None, list[Issue]]:
    file = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Issue(file, None, f"cannot read: {exc}")]
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [Issue(file, mark.line + 1 if mark else None, f"not valid YAML: {exc}")]
    finally:
        loader.dispose()
    if data is None:
        return None, [Issue(file, None, "empty file")]
    lines: dict[KeyPath, int] = {}
    duplicates: list[tuple[int, str]] = []
    _line_map(node, (), lines, duplicates)
    issues = [Issue(file, line, message) for line, message in duplicates]
    reader = _Reader()
    service = _read_service(reader, data)
    issues += [Issue(file, _line(lines, where), message) for where, message in reader.problems]
    ident = data.get("id") if isinstance(data, dict) else None
    if isinstance(ident, str) and ident != path.stem:
        issues.append(Issue(file, lines.get(("id",), 1), f"id {ident!r} must equal the file name's stem "
                                                         f"{path.stem!r}"))
    return (_Entry(file, service, lines) if service and not issues else None), issues


def _cross_check(entries: list[_Entry]) -> list[Issue]:
    """Rules between files: unique ids, one owner per domain, excludes under their own claim, url patterns."""
    issues: list[Issue] = []
    ids: dict[str, str] = {}
    claims: dict[str, _Entry] = {}
    for entry in entries:
        service = entry.service
        if service.id in ids:
            issues.append(Issue(entry.file, _line(entry.lines, ("id",)), f"id {service.id!r} is also used by "
                                                                         f"{ids[service.id]}"))
        ids.setdefault(service.id, entry.file)
        for i, name in enumerate(service.domains):
            owner = claims.setdefault(name, entry)
            if owner is not entry:
                issues.append(Issue(entry.file, _line(entry.lines, ("domains", i)),
                                    f"domain {name} is already claimed by {owner.service.id} ({owner.file})"))
    for entry in entries:
        for i, name in enumerate(entry.service.exclude):
            nearest = next((claims[p] for p in _parents(name) if p in claims), None)
            if nearest is not None and nearest is not entry:
                issues.append(Issue(entry.file, _line(entry.lines, ("exclude", i)),
                                    f"exclude {name} lies under {nearest.service.id}'s more specific domain; "
                                    "it has no effect here"))
    patterns: dict[tuple[str, str], _Entry] = {}
    for entry in entries:
        for i, pattern in enumerate(entry.service.url_patterns):
            owner = patterns.setdefault((pattern.host, pattern.path.lower()), entry)
            if owner is not entry:
                issues.append(Issue(entry.file, _line(entry.lines, ("url_patterns", i)),
                                    f"url pattern {pattern.host}{pattern.path} is already claimed by "
                                    f"{owner.service.id} ({owner.file})"))
    return issues


def _check_examples(catalog: Catalog, entries: list[_Entry]) -> list[Issue]:
    """Each example must match its own service through Catalog.match_host, the classifier's code."""
    issues = []
    for entry in entries:
        for i, example in enumerate(entry.service.examples):
            found = catalog.match_host(example.host, example.path, example.user_agent)
            if found is None or found.service.id != entry.service.id:
                what = "no service" if found is None else f"{found.service.id} (by {found.rule} {found.pattern})"
                issues.append(Issue(entry.file, _line(entry.lines, ("examples", i)),
                                    f"example {example.host}{example.path or ''} matches {what}, "
                                    f"not {entry.service.id}"))
    return issues


def _load(directory: Path) -> tuple[Catalog, list[Issue]]:
    if not directory.is_dir():
        return Catalog([]), [Issue(str(directory), None, "not a directory")]
    issues = [Issue(str(stray), None, "only *.yaml files are read: rename it to .yaml")
              for stray in sorted(directory.glob("*.yml"))]
    entries = []
    for path in sorted(directory.glob("*.yaml")):
        if not path.is_file():
            continue
        if not ID_PATTERN.match(path.stem):
            issues.append(Issue(str(path), None, f"file name must be <id>.yaml with id matching {ID_PATTERN.pattern}"))
        entry, found = _load_file(path)
        issues += found
        if entry:
            entries.append(entry)
    issues += _cross_check(entries)
    catalog = Catalog(entry.service for entry in entries)
    issues += _check_examples(catalog, entries)
    return catalog, sorted(issues, key=lambda issue: (issue.file, issue.line or 0, issue.message))


def validate(directory: str | Path = SIGNATURES_DIR) -> list[Issue]:
    """Every issue in the catalog folder's *.yaml files (not subfolders), sorted by file and line."""
    return _load(Path(directory))[1]


def load_catalog(directory: str | Path = SIGNATURES_DIR) -> Catalog:
    """The catalog in `directory`; raises SignatureError listing all issues when any file is invalid."""
    catalog, issues = _load(Path(directory))
    if issues:
        listing = "\n".join(str(issue) for issue in issues)
        raise SignatureError(f"{len(issues)} issue(s) in the signature catalog:\n{listing}", str(directory))
    return catalog


def read_domain_list(path: str | Path) -> list[str]:
    """A plain-text domain list (signatures/non_ai/*.txt, heldout_ai.txt): one per line, `#` comments."""
    names = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            names.append(name)
    return names
