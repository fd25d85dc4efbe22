"""Host names out of the lists analysts are handed, in the syntaxes such lists are written in.

An AI blocklist arrives as a hosts file, an Adblock filter list, a dnsmasq or Unbound config, a Clash/Surge
rule set, a v2fly/geosite list, a DNS RPZ zone or a spreadsheet export. Reading only the first word of each
line judged `0.0.0.0` instead of the host after it and `||perplexity.ai^` as a name, so each line is read by
the syntax it is written in. A line that names no host (an IP-CIDR or keyword rule, a regular expression) is
skipped and counted with its reason, never judged as a name and never dropped unseen:
lines = lines with hosts + skipped + ignored (blank lines, comments, headers).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from detector.lookup import NotAHost, host_and_path
from detector.signatures import is_ip_address, normalise_host

COMMENT_STARTS = ("#", "!", "//", ";", "$")  # shell/hosts, Adblock, C-style, zone files and their $TTL/$ORIGIN
HOST_RULES = {"domain", "domain-suffix", "host", "host-suffix", "full", "domain_suffix"}
OTHER_RULES = {  # rule types of Clash, Surge, Quantumult X, Loon, sing-box and v2fly that name no host
    "domain-keyword", "host-keyword", "keyword", "domain-regex", "regexp", "regex", "domain-wildcard",
    "host-wildcard", "ip-cidr", "ip-cidr6", "ip6-cidr", "ip-asn", "src-ip-cidr", "geoip", "geosite", "user-agent",
    "url-regex", "process-name", "process-path", "dst-port", "src-port", "and", "or", "not", "rule-set",
    "include", "final", "match",
}
DNSMASQ_KEYS = {"server", "address", "local", "ipset", "nftset", "rebind-domain-ok"}
QUOTES = "\"'`"
HOST_COLUMNS = {"domain", "domains", "host", "hostname", "host_name", "url", "website", "site", "fqdn", "link",
                "domain_name", "web", "homepage", "address"}
HOST_CHARACTERS = re.compile(r"\w[\w-]*(?:\.\w[\w-]*)*")  # labels of letters, digits, - and _; not led by -


@dataclass
class HostList:
    """The hosts of one list (as given: a URL keeps its path) and what was not read as a host, and why."""

    hosts: list[str] = field(default_factory=list)
    skipped: dict[str, list[int]] = field(default_factory=dict)  # reason -> line numbers
    ignored: int = 0

    def skip(self, reason: str, number: int) -> None:
        self.skipped.setdefault(reason, []).append(number)

    def describe_skipped(self, source: str) -> str:
        """`ai.list: 3 lines name no host, skipped: IP-CIDR rule 2 (lines 4, 9), regexp: rule 1 (line 7)`."""
        def lines(numbers: list[int]) -> str:
            shown = ", ".join(map(str, numbers[:5])) + (", ..." if len(numbers) > 5 else "")
            return f"line{'s' if len(numbers) > 1 else ''} {shown}"
        total = sum(len(numbers) for numbers in self.skipped.values())
        reasons = ", ".join(f"{reason} {len(numbers)} ({lines(numbers)})" for reason, numbers in self.skipped.items())
        plural = total > 1
        return f"{source}: {total} line{'s' if plural else ''} name{'' if plural else 's'} no host, skipped: {reasons}"


def read_host_list(lines: Iterable[str]) -> HostList:
    """Every line accounted for: hosts, a counted skip with its reason, or ignored (blank, comment, header)."""
    found = HostList()
    column: int | None = None  # a spreadsheet's host column, once its header row named it
    seen_data = False
    for number, line in enumerate(lines, start=1):
        text = line.strip().lstrip("\ufeff")
        if not text or text.startswith(COMMENT_STARTS) or is_section_header(text):
            found.ignored += 1
            continue
        if not seen_data:
            seen_data = True
            header = column_header(text)
            if header is not None:
                column = header
                found.ignored += 1
                continue
        hosts, reason = hosts_of_line(text, column)
        if hosts:
            found.hosts.extend(hosts)
        else:
            found.skip(reason, number)
    return found


def is_section_header(text: str) -> bool:
    """`[Adblock Plus 2.0]`, an INI/Surge `[Rule]` section, a YAML `payload:` key, a JSON bracket."""
    return (text.startswith("[") and text.endswith("]") and "://" not in text) or text.endswith(":") \
        or text in {"{", "}", "[", "]", "},", "],"}


def cells(text: str) -> list[str]:
    """A spreadsheet row's cells (comma, tab or semicolon separated; quoted cells may hold separators)."""
    outside_quotes = re.sub(r'"[^"]*"', "", text)
    delimiter = "\t" if "\t" in text else max(",;", key=outside_quotes.count)
    return [cell.strip() for cell in next(csv.reader([text], delimiter=delimiter))]


def column_header(text: str) -> int | None:
    """The host column of a spreadsheet's first row (`name,url,category` -> 1), or None if the row is data.
    A first row of words without a dot (`domain`, `Host;Owner`) is a header; its host column is the first
    one named like a host (domain, host, url, website ...), else the first."""
    row = [cell.lower() for cell in cells(text)] if re.search(r"[,;\t]", text) else [text.strip(QUOTES).lower()]
    if not row or row[0] in OTHER_RULES or any("." in cell or ":" in cell or "/" in cell for cell in row) \
            or not all(re.fullmatch(r"[\w -]*", cell) for cell in row):
        return None
    return next((i for i, cell in enumerate(row) if cell.replace(" ", "_") in HOST_COLUMNS), 0)


def hosts_of_line(text: str, column: int | None = None) -> tuple[list[str], str]:
    """The hosts a line names, or none and the reason."""
    if column is not None:  # a spreadsheet whose header named the host column
        row = cells(text)
        cell = [adblock_host(row[column])] if column < len(row) else []
        return checked(cell, "row with no host in its host column")
    text = re.sub(r"\s#.*", "", text).removeprefix("- ").strip()  # a trailing comment; a YAML list item
    unquoted = text.rstrip(",")  # a JSON array's item: `"a.com",`
    if len(unquoted) > 1 and unquoted[0] in QUOTES and unquoted[-1] == unquoted[0]:
        text = unquoted[1:-1]
    if text.startswith("local-zone:") or text.startswith("local-data:"):  # Unbound
        quoted = re.search(r"[\"']([^\"'\s]+)", text)
        return checked([quoted.group(1)] if quoted else [], "Unbound line without a quoted name")
    key, equals, value = text.partition("=")
    if equals and key.strip().lower() in DNSMASQ_KEYS:
        names = [part for part in value.split("/")[1:-1] if part and part != "#"]
        return checked(names, "dnsmasq line without a domain")
    if "##" in text or "#@#" in text or "#?#" in text:
        return [], "Adblock element-hiding rule"
    words = text.split()
    if not words:
        return [], "not a host name"
    if len(words) > 1 and is_ip_address(normalise_host(words[0])):  # a hosts file: `0.0.0.0 a.com b.com`
        return checked(words[1:], "hosts-file line")
    rule, comma, value = (part.strip() for part in text.partition(","))
    if comma and rule.lower() in HOST_RULES | OTHER_RULES:  # Clash, Surge, Quantumult X, Loon
        if rule.lower() in OTHER_RULES:
            return [], f"{rule.upper()} rule"
        return checked([value.split(",")[0]], f"{rule.upper()} rule without a domain")
    prefix, colon, value = words[0].partition(":")
    if colon and not value.startswith("//") and prefix.lower() in HOST_RULES | OTHER_RULES:  # v2fly `full:a.com`
        if prefix.lower() in OTHER_RULES:
            return [], f"{prefix.lower()}: rule"
        return checked([value], f"{prefix.lower()}: rule without a domain")
    first = words[0]
    if "," in text or "\t" in text or (";" in text and "://" not in text):  # a spreadsheet row: its host cell
        row = cells(text)
        first = next((cell for cell in row if "." in cell and " " not in cell.strip()), row[0])
    return checked([adblock_host(first)], "not a host name")


def adblock_host(word: str) -> str:
    """`||a.com^$third-party`, `@@||a.com^`, `|https://a.com/x|` -> what names the host (a URL stays a URL)."""
    word = word.removeprefix("@@")
    if word.startswith("||") or word.startswith("|"):
        word = word.lstrip("|").split("$", 1)[0].split("^", 1)[0].rstrip("|")
    elif word.endswith("^") or "^$" in word:
        word = word.split("^", 1)[0]
    return word


def checked(names: list[str], reason: str) -> tuple[list[str], str]:
    """The names that are hosts (a wildcard's or suffix rule's leading `*.`, `+.` or `.` taken off: the
    domain it covers), or none and the reason; a URL or `host/path` is kept whole for its path."""
    hosts = []
    for raw in names:
        name = raw.strip().strip(QUOTES + ",")
        for lead in ("*.", "+.", "."):
            name = name.removeprefix(lead)
        try:
            host, _ = host_and_path(name)
        except (NotAHost, ValueError):  # no host in it, or a URL urllib cannot split (`http://[::1`)
            return [], reason
        if "*" in host:
            return [], "wildcard pattern inside a name"
        if not (is_ip_address(host) or HOST_CHARACTERS.fullmatch(host)):
            return [], reason
        hosts.append(name)
    return hosts, reason
