"""Layouts met in public sample logs of the proxy formats (Squid, W3C, Cisco WSA, CSV, Umbrella), written here
from the vendors' documentation: each test says which documented shape it stands for."""

from __future__ import annotations

from pathlib import Path

from detector.ingest import sniff
from tests.golden import parse_lines

USER = "Jan de Vries (j.devries@gemeente-voorbeeld.nl)"


def parse(tmp_path: Path, key: str, *lines: str) -> tuple[list[dict], list[dict]]:
    events, rejects, _ = parse_lines(tmp_path / f"{key}.log", key, lines)
    return events.to_pylist(), rejects.to_pylist()


def spaced_csv(*values: str, spaced: tuple[int, ...]) -> str:
    """Quoted CSV with `", "` (a space after the comma) before the values at the `spaced` places, as Cisco's
    Umbrella documentation prints its example lines."""
    return "".join(((", " if at in spaced else ",") if at else "") + f'"{value}"' for at, value in enumerate(values))


def sniffed(path: Path) -> str:
    return sniff(path.read_text(encoding="utf-8").splitlines()).name


# Umbrella "DNS Log Formats": <timestamp><most granular identity><identities><internal ip><external ip><action>
# <query type><response code><domain><categories>[<most granular identity type><identity types><blocked categories>]
DNS_TEN = ("2024-03-11 07:02:11", "BZ-LT-0042", "BZ-LT-0042,Stadhuis", "10.20.1.15", "198.51.100.23", "Allowed",
           "1 (A)", "NOERROR", "chatgpt.com.", "Generative AI")
DNS_CURRENT = ("2024-03-11 07:02:12", USER, f"{USER},Stadhuis", "10.20.1.16", "198.51.100.23", "Blocked", "28 (AAAA)",
               "NOERROR", "claude.ai.", "Generative AI,Application", "AD Users", "AD Users,Sites", "Generative AI")


def test_umbrella_dns_lines_with_a_space_after_some_separators_are_read(tmp_path: Path) -> None:
    """Cisco's documented DNS examples put a space after some separating commas: read like the plain ones."""
    lines = [spaced_csv(*DNS_TEN, spaced=(2, 3, 7, 9)), spaced_csv(*DNS_CURRENT, spaced=(2, 3, 7, 9)),
             spaced_csv(*DNS_TEN, spaced=())]
    events, rejects = parse(tmp_path, "umbrella_dns", *lines)
    assert not rejects
    assert [(e["src_ip"], e["host"], e["action"], e["dns_qtype"], e["dns_rcode"]) for e in events] == [
        ("10.20.1.15", "chatgpt.com", "allowed", "A", "NOERROR"),
        ("10.20.1.16", "claude.ai", "blocked", "AAAA", "NOERROR"),
        ("10.20.1.15", "chatgpt.com", "allowed", "A", "NOERROR")]
    assert [e["user_name"] for e in events] == [None, USER, None]
    assert [e["line_no"] for e in events] == [1, 2, 3]
    assert sniffed(tmp_path / "umbrella_dns.log") == "umbrella_dns"


def test_umbrella_dns_only_spaced_lines_are_sniffed(tmp_path: Path) -> None:
    path = tmp_path / "dns.csv"
    path.write_text(spaced_csv(*DNS_TEN, spaced=(2, 3, 7, 9)) + "\n" + spaced_csv(*DNS_CURRENT, spaced=(6, 7, 8))
                    + "\n", encoding="utf-8")
    assert sniffed(path) == "umbrella_dns"


# Umbrella "Proxy Log Formats" (early layout): <timestamp><identities><internal ip><external ip><destination ip>
# <content type><verdict><url><referer><user agent><status code><request size><response size><response body size>...
PROXY = ("2017-10-02 23:52:53", "BZ-LT-0042", "10.20.1.15", "198.51.100.23", "104.18.32.47", "", "ALLOWED",
         "https://chatgpt.com/backend-api/conversation", "", "Mozilla/5.0 (Windows NT 10.0)", "200", "562", "1489",
         "", "", "Generative AI", "", "", "", "", "", "Roaming Computers", "", "BZ-LT-0042", "Roaming Computers",
         "POST")


def test_umbrella_proxy_line_with_a_space_after_a_separator_is_not_shifted(tmp_path: Path) -> None:
    events, rejects = parse(tmp_path, "umbrella_proxy", spaced_csv(*PROXY, spaced=(4,)),
                            spaced_csv(*PROXY, spaced=()))
    assert not rejects
    for event in events:
        assert (event["src_ip"], event["dst_ip"], event["action"], event["http_status"]) == (
            "10.20.1.15", "104.18.32.47", "allowed", 200)
        assert (event["bytes_out"], event["bytes_in"], event["http_method"]) == (562, 1489, "POST")
        assert (event["host"], event["user_agent"], event["content_type"]) == (
            "chatgpt.com", "Mozilla/5.0 (Windows NT 10.0)", None)


def test_umbrella_blank_user_agent_is_none(tmp_path: Path) -> None:
    blank = list(PROXY)
    blank[9] = " "
    events, _ = parse(tmp_path, "umbrella_proxy", spaced_csv(*blank, spaced=()))
    assert events[0]["user_agent"] is None and events[0]["host"] == "chatgpt.com"


def test_umbrella_spaces_only_after_the_verdict_are_found_too(tmp_path: Path) -> None:
    """A spaced separator after the verdict leaves it readable but shifts what follows: still read again."""
    proxy, rejects = parse(tmp_path, "umbrella_proxy", spaced_csv(*PROXY, spaced=(7,)))
    assert not rejects
    assert (proxy[0]["host"], proxy[0]["http_status"], proxy[0]["bytes_in"], proxy[0]["http_method"]) == (
        "chatgpt.com", 200, 1489, "POST")
    dns, rejects = parse(tmp_path, "umbrella_dns", spaced_csv(*DNS_CURRENT, spaced=(7, 9)))
    assert not rejects
    assert (dns[0]["host"], dns[0]["dns_rcode"], dns[0]["vendor_category"], dns[0]["user_name"]) == (
        "claude.ai", "NOERROR", "Generative AI,Application", USER)


def test_umbrella_line_without_a_verdict_is_still_rejected_with_its_reason(tmp_path: Path) -> None:
    no_verdict = spaced_csv(*DNS_TEN[:5], "Maybe", *DNS_TEN[6:], spaced=(3,))
    events, rejects = parse(tmp_path, "umbrella_dns", no_verdict, spaced_csv(*DNS_TEN, spaced=(3,)))
    assert [e["line_no"] for e in events] == [2]
    assert [r["line_no"] for r in rejects] == [1]
    assert rejects[0]["reason"].startswith("no Allowed/Blocked action column")


# Squid: `%>a` is the client's address, `%>A` its name (Squid 2: `log_fqdn on`); `%<a` the server's address,
# `%<A` its name (Squid 2: `log_ip_on_direct off`). A name is not an address.
def test_squid_client_name_is_src_host_and_a_server_name_no_dst_ip(tmp_path: Path) -> None:
    native = ["1773390002.391    104 PC-0142.gemeente.local TCP_MISS/200 15904 GET http://www.overheid.nl/ - "
              "HIER_DIRECT/www.overheid.nl text/html",
              "1773390003.000     12 2001:db8::15 TCP_MISS/200 512 GET http://example.org/ - HIER_DIRECT/2001:db8::80 -",
              "1773390004.000     12 fe80::15 TCP_MISS/200 512 GET http://example.org/ - DIRECT/192.0.2.80 -",
              "1773390005.000     12 10.20.1.15 TCP_MISS/200 512 GET http://example.org/ - FIRSTUP_PARENT/10.0.0.1 -"]
    events, rejects = parse(tmp_path, "squid", *native)
    assert not rejects
    assert [(e["src_ip"], e["src_host"], e["dst_ip"]) for e in events] == [
        (None, "pc-0142.gemeente.local", None), ("2001:db8::15", None, "2001:db8::80"),
        ("fe80::15", None, "192.0.2.80"), ("10.20.1.15", None, None)]


def test_squid_common_and_extended_client_names(tmp_path: Path) -> None:
    common, _ = parse(tmp_path, "squid_common",
                      'pc-0142 - - [30/Mar/2026:08:01:15 +0200] "CONNECT claude.ai:443 HTTP/1.1" 200 120 '
                      "TCP_TUNNEL:HIER_DIRECT")
    assert (common[0]["src_ip"], common[0]["src_host"]) == (None, "pc-0142")
    extended, _ = parse(tmp_path, "squid_extended",
                        '1773390002.391    104 pc-0142 58938 TCP_MISS/200 904 123 364 123 528 GET http://example.com/ '
                        '1.1 - HIER_DIRECT/example.com 80 text/html - - "-" "curl/8.14.1" "example.com" "-" 53 -')
    assert (extended[0]["src_ip"], extended[0]["src_host"], extended[0]["dst_ip"]) == (None, "pc-0142", None)


def test_squid_address_only_logs_have_no_src_host(tmp_path: Path) -> None:
    events, _ = parse(tmp_path, "squid", "1773390003.000     12 10.0.0.5 TCP_MISS/200 512 GET http://example.org/ - "
                      "HIER_DIRECT/192.0.2.80 -")
    assert (events[0]["src_ip"], events[0]["src_host"], events[0]["dst_ip"]) == ("10.0.0.5", None, "192.0.2.80")


# A PAN-OS web interface export (Monitor > Logs > Export to CSV): its columns are named as in PAN-OS's syslog
# field list, the first being `Domain` (a number, 1), then `Receive Time` (yyyy/mm/dd, local), `Source address`,
# `NAT Source IP`, `Source User` ...; the URL log adds `URL` (without a scheme) and `Category`.
PANOS_URL_HEADER = ("Domain,Receive Time,Serial #,Type,Threat/Content Type,Source address,Destination address,"
                    "NAT Source IP,NAT Destination IP,Rule,Source User,Destination User,Application,Destination Port,"
                    "Action,URL,Category")


def test_csv_export_with_a_numeric_domain_column_takes_the_host_from_the_url(tmp_path: Path) -> None:
    rows = ["1,2026/03/11 07:02:15,001801000123,THREAT,url,10.20.1.15,104.18.32.47,198.51.100.23,104.18.32.47,"
            r"allow-web,gemeente\jdevries,,openai-chatgpt,443,alert,chatgpt.com/backend-api/conversation,generative-ai",
            "1,2026/03/11 07:02:16,001801000123,THREAT,url,10.20.1.16,160.79.104.10,198.51.100.23,160.79.104.10,"
            r"block-ai,gemeente\asmit,,claude-base,443,block-url,claude.ai/,generative-ai"]
    events, rejects = parse(tmp_path, "csv", PANOS_URL_HEADER, *rows)
    assert not rejects
    assert [(e["host"], e["url_path"], e["src_ip"], e["dst_ip"], e["user_name"]) for e in events] == [
        ("chatgpt.com", "/backend-api/conversation", "10.20.1.15", "104.18.32.47", "gemeente\\jdevries"),
        ("claude.ai", "/", "10.20.1.16", "160.79.104.10", "gemeente\\asmit")]
    assert [e["action"] for e in events] == ["allowed", "blocked"]  # alert: allowed and logged (PAN-OS)


def test_csv_numeric_host_column_alone_names_no_host(tmp_path: Path) -> None:
    events, _ = parse(tmp_path, "csv", "timestamp,source_ip,domain,dst_ip",
                      "2026-03-11T07:02:15Z,10.20.1.15,1,104.18.32.47", "2026-03-11T07:02:16Z,10.20.1.15,chatgpt.com,")
    assert [(e["host"], e["dst_ip"]) for e in events] == [(None, "104.18.32.47"), ("chatgpt.com", None)]


# ProxySG's access log relayed through a syslog server: every line, directives too, behind the relay's header.
PROXYSG = [
    "#Software: SGOS 6.7.5.3",
    "#Version: 1.0",
    "#Fields: date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme cs-host "
    "cs-uri-port cs-uri-path cs-uri-query cs-username cs-auth-group s-supplier-name rs(Content-Type) cs(User-Agent) "
    "sc-filter-result cs-categories s-ip",
    '2026-03-11 07:02:15 812 10.20.1.15 200 TCP_NC_MISS 5120 18422 POST https chatgpt.com 443 '
    '/backend-api/conversation - jdevries GEMEENTE\\Medewerkers chatgpt.com application/json "Mozilla/5.0 (X11)" '
    'OBSERVED "Generative AI" 10.0.0.2',
    '2026-03-11 07:02:16 3 10.20.1.16 403 TCP_DENIED 3900 510 CONNECT tcp claude.ai 443 / - asmit - - - '
    '"Mozilla/5.0 (X11)" DENIED "Generative AI" 10.0.0.2',
]


def test_w3c_relayed_through_syslog_reads_as_the_plain_log(tmp_path: Path) -> None:
    plain, _ = parse(tmp_path, "w3c", *PROXYSG)
    for header in ("Mar 11 08:02:17 10.0.0.2 ", "<134>Mar 11 08:02:17 proxysg01 ProxySG: ",
                   "2026-03-11T08:02:17.120+01:00 proxysg01 bluecoat[412]: "):
        path = tmp_path / "relayed.log"
        path.write_text("".join(header + line + "\n" for line in PROXYSG), encoding="utf-8")
        assert sniffed(path) == "w3c"
        events, rejects = parse(tmp_path, "w3c", *(header + line for line in PROXYSG))
        assert not rejects
        assert events == plain
    assert [(e["host"], e["action"], e["bytes_out"]) for e in plain] == [
        ("chatgpt.com", "allowed", 18422), ("claude.ai", "blocked", 510)]
