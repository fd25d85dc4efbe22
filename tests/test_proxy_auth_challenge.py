"""A proxy's request for credentials (HTTP 407, Proxy Authentication Required) is no verdict on the site: its
action is `unknown` in every proxy format, as Squid's (tests/test_conformance_r13.py); a refusal stays blocked.

Why: RFC 9110 section 15.5.8 (https://www.rfc-editor.org/rfc/rfc9110#section-15.5.8): 407 "indicates that the
client needs to authenticate itself in order to use a proxy", and the client repeats the request with
Proxy-Authorization. With NTLM/Negotiate every new connection starts so; Symantec's KB 167686 ("ProxySG appliance
access logs show 401 TCP_DENIED or 407 TCP_DENIED and no username is logged when NTLM is enabled",
https://knowledge.broadcom.com/external/article/167686) describes the sequence 407, 407, 200, and that "this
sequence looks like two failed attempts to authenticate followed by one successful attempt". Counted as blocked,
an allowed AI site showed blocked attempts that went through.

Test lines are written from the documented layouts, not copied from logs:
- Cisco WSA native access log (AsyncOS user guide, "Access Log Files" and "ACL Decision Tags": `NO_PASSWORD`,
  "The user failed authentication"; Cisco's "Understand Secure Web Appliance Access Logs",
  https://www.cisco.com/c/en/us/support/docs/security/secure-web-appliance/225832-understand-secure-web-appliance.html);
- Cisco WSA W3C access log (the same guide's W3C field names: timestamp x-elapsed-time c-ip
  x-resultcode-httpstatus ... x-acltag);
- ProxySG ELFF with #Fields, the `bcreportermain_v1` field list (SGOS Access Logging reference), the predefined
  `main` layout without #Fields, and the key=value layout of Splunk's add-on (`SPLV5.1 key=value`,
  https://docs.splunk.com/Documentation/AddOns/latest/BlueCoatProxySG/About): a challenge is `407 TCP_DENIED`
  with x-exception-id `authentication_failed` and sc-filter-result DENIED (or PROXIED), `401 TCP_DENIED` when the
  appliance authenticates transparently (KB 167686), a policy denial `403 TCP_DENIED`, `policy_denied`, DENIED.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.golden import parse_lines


def parse(tmp_path: Path, key: str, *lines: str) -> tuple[list[dict], list[dict]]:
    events, rejects, report = parse_lines(tmp_path / f"{key}.log", key, lines)
    assert report.lines == len(lines) == report.parsed + report.rejected + report.ignored
    return sorted(events.to_pylist(), key=lambda e: e["line_no"]), rejects.to_pylist()


def outcomes(events: list[dict]) -> list[tuple[object, object, object]]:
    return [(e["host"], e["http_status"], e["action"]) for e in events]


# --- Cisco WSA native access log ------------------------------------------------------------------------------
VERDICTS = '<"IW_aiml",-,-,"-",-,-,-,-,"-",-,-,-,"-",-,-,"-","-",-,-,"-",-,"-","-","-","-","-","-","-",0.00,0,-> - -'


def wsa(epoch: str, code: str, method: str, url: str, user: str, hierarchy: str, acl: str) -> str:
    return f"{epoch} 1 10.20.1.22 {code} 1742 {method} {url} {user} {hierarchy} - {acl} {VERDICTS}"


WSA_LINES = (
    wsa("1773389720.010", "TCP_DENIED/407", "CONNECT", "tunnel://chatgpt.com:443/", "-", "NONE/-",
        "NO_PASSWORD_0-DefaultGroup-NONE-NONE-NONE-NONE-DefaultGroup-NONE"),
    wsa("1773389720.050", "TCP_MISS/200", "CONNECT", "tunnel://chatgpt.com:443/", '"GEMEENTE\\jdevries@Realm"',
        "DIRECT/chatgpt.com", "DEFAULT_CASE_12-DefaultGroup-Medewerkers-NONE-NONE-NONE-DefaultGroup-NONE"),
    wsa("1773389721.000", "TCP_DENIED/403", "CONNECT", "tunnel://chat.deepseek.com:443/", '"GEMEENTE\\jdevries@Realm"',
        "NONE/-", "BLOCK_WEBCAT_12-DefaultGroup-Medewerkers-NONE-NONE-NONE-DefaultGroup-NONE"),
    # transparent authentication: the proxy's own 401
    wsa("1773389721.500", "TCP_DENIED/401", "GET", "http://www.deepl.com/", "-", "NONE/-",
        "OTHER-NONE-DefaultGroup-NONE-NONE-NONE-DefaultGroup-NONE"),
    # authenticated, but the user's group is not allowed through: a refusal
    wsa("1773389722.000", "TCP_DENIED/403", "GET", "http://claude.ai/", '"GEMEENTE\\gast@Realm"', "NONE/-",
        "NO_AUTHORIZATION_0-DefaultGroup-NONE-NONE-NONE-NONE-DefaultGroup-NONE"),
)
WSA_EXPECTED = [("chatgpt.com", 407, "unknown"), ("chatgpt.com", 200, "allowed"), ("chat.deepseek.com", 403, "blocked"),
                ("www.deepl.com", 401, "unknown"), ("claude.ai", 403, "blocked")]


def test_cisco_wsa_password_challenge_is_no_verdict(tmp_path: Path) -> None:
    events, rejects = parse(tmp_path, "cisco_wsa", *WSA_LINES)
    assert rejects == []
    assert outcomes(events) == WSA_EXPECTED


def test_cisco_wsa_challenge_over_syslog_is_no_verdict(tmp_path: Path) -> None:
    head = "Mar 13 09:15:20 wsa01 accesslogs: Info: "
    events, rejects = parse(tmp_path, "cisco_wsa", *(head + text for text in WSA_LINES))
    assert rejects == []
    assert outcomes(events) == WSA_EXPECTED


# --- Cisco WSA W3C access log ---------------------------------------------------------------------------------
def test_cisco_wsa_w3c_password_challenge_is_no_verdict(tmp_path: Path) -> None:
    lines = (
        "#Software: AsyncOS for Web 15.2.0",
        "#Fields: timestamp x-elapsed-time c-ip x-resultcode-httpstatus sc-bytes cs-method cs-url cs-username "
        "x-acltag",
        "1773389720.010 1 10.20.1.22 TCP_DENIED/407 1742 CONNECT tunnel://chatgpt.com:443/ - "
        "NO_PASSWORD_0-DefaultGroup-NONE-NONE-NONE-NONE-DefaultGroup-NONE",
        '1773389720.050 80 10.20.1.22 TCP_MISS/200 9120 CONNECT tunnel://chatgpt.com:443/ "GEMEENTE\\jdevries@Realm" '
        "DEFAULT_CASE_12-DefaultGroup-Medewerkers-NONE-NONE-NONE-DefaultGroup-NONE",
        '1773389721.000 1 10.20.1.22 TCP_DENIED/403 0 GET https://claude.ai/ "GEMEENTE\\jdevries@Realm" '
        "BLOCK_WEBCAT_12-DefaultGroup-Medewerkers-NONE-NONE-NONE-DefaultGroup-NONE",
        "1773389721.500 1 10.20.1.22 TCP_DENIED/401 0 GET http://www.deepl.com/ - "
        "OTHER-NONE-DefaultGroup-NONE-NONE-NONE-DefaultGroup-NONE",
    )
    events, rejects = parse(tmp_path, "w3c", *lines)
    assert rejects == []
    assert outcomes(events) == [("chatgpt.com", 407, "unknown"), ("chatgpt.com", 200, "allowed"),
                                ("claude.ai", 403, "blocked"), ("www.deepl.com", 401, "unknown")]


# --- Symantec / Blue Coat ProxySG -----------------------------------------------------------------------------
REPORTER_FIELDS = ("date time time-taken c-ip cs-username cs-auth-group x-exception-id sc-filter-result cs-categories "
                   "cs(Referer) sc-status s-action cs-method rs(Content-Type) cs-uri-scheme cs-host cs-uri-port "
                   "cs-uri-path cs-uri-query cs-uri-extension cs(User-Agent) s-ip sc-bytes cs-bytes x-virus-id")
# (exception, filter result, status, s-action, method, scheme, host, port, expected action)
PROXYSG_CASES = (
    ("authentication_failed", "DENIED", "407", "TCP_DENIED", "CONNECT", "tcp", "chatgpt.com", "443", "unknown"),
    ("authentication_failed", "PROXIED", "407", "TCP_DENIED", "GET", "http", "www.deepl.com", "80", "unknown"),
    ("-", "OBSERVED", "200", "TCP_TUNNELED", "CONNECT", "tcp", "chatgpt.com", "443", "allowed"),
    ("policy_denied", "DENIED", "403", "TCP_DENIED", "CONNECT", "tcp", "chat.deepseek.com", "443", "blocked"),
    # transparent authentication: the appliance's own 401 (KB 167686's "401 TCP_DENIED"); a server's 401 went through
    ("authentication_failed", "DENIED", "401", "TCP_DENIED", "GET", "http", "www.deepl.com", "80", "unknown"),
    ("-", "OBSERVED", "401", "TCP_NC_MISS", "GET", "http", "intranet.example.nl", "80", "allowed"),
)


def reporter_line(exception: str, result: str, status: str, action: str, method: str, scheme: str, host: str,
                  port: str) -> str:
    user = "-" if status in ("401", "407") else "jdevries"
    return (f'2026-03-13 08:16:30 1 10.20.5.30 {user} - {exception} {result} "Artificial Intelligence" - {status} '
            f'{action} {method} text/html {scheme} {host} {port} / - - "Mozilla/5.0" 10.20.0.5 3950 220 -')


def test_proxysg_w3c_authentication_challenge_is_no_verdict(tmp_path: Path) -> None:
    lines = ("#Software: SGOS 7.3.16.2", "#Version: 1.0", f"#Fields: {REPORTER_FIELDS}",
             *(reporter_line(*case[:-1]) for case in PROXYSG_CASES))
    events, rejects = parse(tmp_path, "w3c", *lines)
    assert rejects == []
    assert outcomes(events) == [(case[6], int(case[2]), case[-1]) for case in PROXYSG_CASES]


@pytest.mark.parametrize("head", ["", "Mar 13 09:16:30 proxysg01 "])
def test_proxysg_without_fields_authentication_challenge_is_no_verdict(tmp_path: Path, head: str) -> None:
    # the predefined bcreportermain_v1 layout (no #Fields line), alone or behind a syslog header
    lines = tuple(head + reporter_line(*case[:-1]) + " - -" for case in PROXYSG_CASES)
    events, rejects = parse(tmp_path, "proxysg", *lines)
    assert rejects == []
    assert outcomes(events) == [(case[6], int(case[2]), case[-1]) for case in PROXYSG_CASES]


def test_proxysg_main_layout_challenge_is_no_verdict(tmp_path: Path) -> None:
    # `main`: date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme cs-host
    # cs-uri-port cs-uri-path cs-uri-query cs-username cs-auth-group s-supplier-name rs(content-type) cs(referer)
    # cs(user-agent) sc-filter-result cs-categories x-virus-id s-ip
    def main(status: str, action: str, user: str, result: str) -> str:
        return (f"2026-11-02 08:15:04 44 10.20.1.15 {status} {action} 2251 492 GET http copilot.microsoft.com 80 "
                f'/c/api - {user} - - text/html - "Mozilla/5.0" {result} "Artificial Intelligence" - 10.0.0.5')
    lines = (main("407", "TCP_DENIED", "-", "DENIED"), main("200", "TCP_NC_MISS", "jdevries", "OBSERVED"),
             main("403", "TCP_DENIED", "jdevries", "DENIED"))
    events, rejects = parse(tmp_path, "proxysg", *lines)
    assert rejects == []
    assert [e["action"] for e in events] == ["unknown", "allowed", "blocked"]


def test_proxysg_kv_authentication_challenge_is_no_verdict(tmp_path: Path) -> None:
    head = "<134>1 2026-11-02T08:15:04.000Z sgproxy01 bluecoat[0]: SPLV5.1 "

    def kv(status: str, action: str, result: str, exception: str, host: str) -> str:
        return (head + f"c-ip=10.20.1.15 cs-host={host} cs-method=CONNECT cs-uri-port=443 cs-uri-scheme=tcp "
                f"s-action={action} sc-bytes=3950 sc-filter-result={result} sc-status={status} "
                f"x-exception-id={exception} time-taken=1")
    lines = (kv("407", "TCP_DENIED", "DENIED", "authentication_failed", "chatgpt.com"),
             kv("200", "TCP_TUNNELED", "OBSERVED", "-", "chatgpt.com"),
             kv("403", "TCP_DENIED", "DENIED", "policy_denied", "chat.deepseek.com"))
    events, rejects = parse(tmp_path, "proxysg_kv", *lines)
    assert rejects == []
    assert outcomes(events) == [("chatgpt.com", 407, "unknown"), ("chatgpt.com", 200, "allowed"),
                                ("chat.deepseek.com", 403, "blocked")]


# --- Squid: native and common layouts (https://wiki.squid-cache.org/Features/LogFormat) -------------------------
def test_squid_own_401_challenge_is_no_verdict_and_a_passed_through_401_stays_allowed(tmp_path: Path) -> None:
    # Squid as a reverse proxy (accelerator) asks for credentials with its own 401, logged TCP_DENIED/401, as it logs
    # its forward-proxy challenge TCP_DENIED/407; a 401 a web server answered comes through as TCP_MISS/401.
    native = [
        "1773389721.500      1 10.20.1.22 TCP_DENIED/401 3900 GET http://www.deepl.com/ - HIER_NONE/- text/html",
        "1773389722.500     80 10.20.1.22 TCP_MISS/401 900 GET http://intranet.example.nl/ - HIER_DIRECT/10.0.0.8 "
        "text/html",
        "1773389723.500      1 10.20.1.22 TCP_DENIED/403 3900 GET http://claude.ai/ - HIER_NONE/- text/html",
    ]
    events, rejects = parse(tmp_path, "squid", *native)
    assert not rejects
    assert outcomes(events) == [("www.deepl.com", 401, "unknown"), ("intranet.example.nl", 401, "allowed"),
                                ("claude.ai", 403, "blocked")]
    common = [
        '10.20.1.22 - - [13/Mar/2026:09:15:21 +0000] "GET http://www.deepl.com/ HTTP/1.1" 401 3900 TCP_DENIED:HIER_NONE',
        '10.20.1.22 - - [13/Mar/2026:09:15:22 +0000] "GET http://intranet.example.nl/ HTTP/1.1" 401 900 '
        "TCP_MISS:HIER_DIRECT",
        '10.20.1.22 - - [13/Mar/2026:09:15:23 +0000] "GET http://claude.ai/ HTTP/1.1" 403 3900 TCP_DENIED:HIER_NONE',
    ]
    events, rejects = parse(tmp_path, "squid_common", *common)
    assert not rejects
    assert outcomes(events) == [("www.deepl.com", 401, "unknown"), ("intranet.example.nl", 401, "allowed"),
                                ("claude.ai", 403, "blocked")]
