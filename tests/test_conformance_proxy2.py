"""Layouts met in public sample logs of the proxy formats (second pass: Sekoia intake tests, Microsoft
Sentinel's sample data, vendors' examples), written here from the vendors' documentation: each test says which
documented shape it stands for."""

from __future__ import annotations

from pathlib import Path

from detector.ingest import sniff
from tests.golden import parse_lines


def parse(tmp_path: Path, key: str, *lines: str) -> tuple[list[dict], list[dict]]:
    events, rejects, _ = parse_lines(tmp_path / f"{key}.log", key, lines)
    return events.to_pylist(), rejects.to_pylist()


def sniffed(path: Path) -> str:
    return sniff(path.read_text(encoding="utf-8").splitlines()).name


# CEF: a device with nothing to put in a field may write a dash (Barracuda's WAF: `dst=-`, `suser="-"`). A dash is
# no address and no user: it must not become a destination IP or a user to attribute traffic to.
def test_cef_dash_is_no_address_and_no_user(tmp_path: Path) -> None:
    line = ('<134>Mar 30 08:01:15 gw CEF:0|ExampleVendor|WebGateway|1.0|100|Request|3|rt=1774857675000 '
            'src=10.20.1.15 dst=- suser="-" duser="-" dhost=chatgpt.com request=https://chatgpt.com/ act=allowed')
    plain = line.replace('suser="-"', "suser=-").replace("dst=-", "dst=104.18.32.47")
    events, rejects = parse(tmp_path, "cef", line, plain)
    assert not rejects
    assert [(e["src_ip"], e["dst_ip"], e["user_name"], e["host"]) for e in events] == [
        ("10.20.1.15", None, None, "chatgpt.com"), ("10.20.1.15", "104.18.32.47", None, "chatgpt.com")]
    leef = "LEEF:1.0|ExampleVendor|WebGateway|1.0|100|devTime=1774857675000\tsrc=-\tdst=104.18.32.47\tusrName=-\t" \
           "url=https://claude.ai/"
    events, rejects = parse(tmp_path, "leef", leef)
    assert not rejects
    assert (events[0]["src_ip"], events[0]["user_name"], events[0]["host"]) == (None, None, "claude.ai")


def quoted_csv(*values: str) -> str:
    return ",".join(f'"{value}"' for value in values)


# Umbrella "Proxy Log Formats": ... <policy identity type> (22nd) <blocked categories> <identities> <identity types>
# <request method> ... An AD user's policy identity label is its display name and UPN; directories that write display
# names surname first put a comma in it.
SURNAME_FIRST = "Vries, Jan de (j.devries@gemeente-voorbeeld.nl)"


def umbrella_proxy_line(label: str, label_type: str, identities: str, identity_types: str) -> str:
    return quoted_csv("2025-01-09 12:41:41", label, "10.20.1.15", "198.51.100.23", "104.18.32.47", "text/html",
                      "ALLOWED", "https://chatgpt.com/backend-api/conversation", "", "Mozilla/5.0", "200", "562",
                      "1489", "1400", "", "Generative AI", "", "", "", "", "", label_type, "", identities,
                      identity_types, "POST")


def test_umbrella_proxy_user_whose_display_name_has_a_comma(tmp_path: Path) -> None:
    lines = [umbrella_proxy_line(SURNAME_FIRST, "AD Users", f"{SURNAME_FIRST},Stadhuis,Tunnel-01",
                                 "AD Users,Sites,Network Tunnels"),
             # a policy identity of several identities with as many types: paired, as before
             umbrella_proxy_line("BZ-LT-0042,j.devries", "Roaming Computers,AD Users", "", ""),
             # a computer is no user, whatever its label holds
             umbrella_proxy_line("BZ-LT-0042, Stadhuis", "Roaming Computers", "", "")]
    events, rejects = parse(tmp_path, "umbrella_proxy", *lines)
    assert not rejects
    assert [e["user_name"] for e in events] == [SURNAME_FIRST, "j.devries", None]
    assert [e["host"] for e in events] == ["chatgpt.com"] * 3


# Microsoft Sentinel keeps CEF in the CommonSecurityLog table, whose columns (Microsoft's table reference) run
# words together in CamelCase: TimeGenerated, DeviceAction, SourceIP, DestinationIP, DestinationPort,
# DestinationHostName, RequestURL, RequestMethod, RequestClientApplication, SourceUserName, SentBytes, ReceivedBytes.
# Log Analytics' "Export to CSV" writes a time column as `TimeGenerated [UTC]`, its values as `12/10/2020, 10:22:47.092
# AM`: in UTC, whatever the zone configured for times without one.
SENTINEL_HEADER = ("TenantId,TimeGenerated [UTC],DeviceVendor,DeviceProduct,DeviceAction,DestinationPort,"
                   "DestinationIP,SourceIP,DestinationHostName,SentBytes,ReceivedBytes,RequestURL,"
                   "RequestClientApplication,RequestMethod,SourceUserName,Type")


def test_sentinel_common_security_log_export(tmp_path: Path) -> None:
    rows = ['0d6c,"3/30/2026, 8:01:15.250 AM",ExampleVendor,Web,Blocked,443,104.18.32.47,10.20.1.15,chatgpt.com,'
            '2710,512,https://chatgpt.com/backend-api/conversation,Mozilla/5.0,POST,j.devries,CommonSecurityLog',
            '0d6c,"3/30/2026, 1:05:00.000 PM",ExampleVendor,Web,Allowed,443,160.79.104.10,10.20.1.16,,'
            '120,35000,https://claude.ai/,Mozilla/5.0,GET,,CommonSecurityLog']
    events, rejects = parse(tmp_path, "csv", SENTINEL_HEADER, *rows)
    assert not rejects
    assert [(e["ts"].isoformat(), e["action"], e["src_ip"], e["dst_ip"], e["dst_port"], e["host"]) for e in events] == [
        ("2026-03-30T08:01:15.250000+00:00", "blocked", "10.20.1.15", "104.18.32.47", 443, "chatgpt.com"),
        ("2026-03-30T13:05:00+00:00", "allowed", "10.20.1.16", "160.79.104.10", 443, "claude.ai")]
    assert [(e["http_method"], e["url_path"], e["bytes_out"], e["bytes_in"], e["user_agent"], e["user_name"])
            for e in events] == [("POST", "/backend-api/conversation", 2710, 512, "Mozilla/5.0", "j.devries"),
                                 ("GET", "/", 120, 35000, "Mozilla/5.0", None)]


def test_csv_names_as_written_win_over_other_spellings(tmp_path: Path) -> None:
    """A column named exactly as a field keeps it; a CamelCase name only fills a field no column names, and a time
    column without UTC in its name stays in the configured zone."""
    header = "Timestamp,src_ip,SourceIP,RequestURL"
    events, rejects = parse(tmp_path, "csv", header, "2026-03-30 10:01:15,10.20.1.15,10.99.99.99,https://claude.ai/")
    assert not rejects
    assert (events[0]["src_ip"], events[0]["host"], events[0]["ts"].isoformat()) == (
        "10.20.1.15", "claude.ai", "2026-03-30T08:01:15+00:00")


# Squid's native logformat (`%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt`) with request headers
# appended by the administrator, as squid.conf's logformat directive allows: `... %mt "%{Referer}>h"
# "%{User-Agent}>h"`. The native ten fields are read; the appended ones are not.
APPENDED_NATIVE = [
    '1774857675.120    245 10.20.1.15 TCP_TUNNEL/200 6120 CONNECT chatgpt.com:443 j.devries HIER_DIRECT/104.18.32.47 '
    '- "-" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"',
    '1774857676.004     12 10.20.1.16 TCP_DENIED/403 3868 GET http://claude.ai/login - HIER_NONE/- text/html '
    '"http://www.example.nl/" "curl/8.5.0"',
    '1774857677.500     30 10.20.1.17 TCP_MISS/200 512 GET http://example.org/ - HIER_DIRECT/192.0.2.80 text/html',
]


def test_squid_native_with_appended_quoted_headers(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text("".join(line + "\n" for line in APPENDED_NATIVE), encoding="utf-8")
    assert sniffed(path) == "squid"
    events, rejects = parse(tmp_path, "squid", *APPENDED_NATIVE)
    assert not rejects
    assert [(e["src_ip"], e["host"], e["dst_port"], e["http_method"], e["http_status"], e["action"], e["bytes_in"],
             e["user_name"], e["dst_ip"], e["content_type"]) for e in events] == [
        ("10.20.1.15", "chatgpt.com", 443, "CONNECT", 200, "allowed", 6120, "j.devries", "104.18.32.47", None),
        ("10.20.1.16", "claude.ai", None, "GET", 403, "blocked", 3868, None, None, "text/html"),
        ("10.20.1.17", "example.org", None, "GET", 200, "allowed", 512, None, "192.0.2.80", "text/html")]


def test_squid_native_with_unquoted_extra_fields_is_still_rejected(tmp_path: Path) -> None:
    line = "1774857676.004     12 10.20.1.16 TCP_MISS/200 3868 GET http://claude.ai/ - HIER_NONE/- text/html extra"
    events, rejects = parse(tmp_path, "squid", line)
    assert not events
    assert rejects[0]["reason"] == "expected 10 space-separated fields (Squid native), found 11"


# ISA Server and Forefront TMG write their W3C web proxy log with tab-separated fields, `#Fields:` naming them
# separated by tabs too; values keep their spaces (a rule name such as `Allow Web Access`, user agents).
TMG_FIELDS = ("c-ip", "cs-username", "c-agent", "sc-authenticated", "date", "time", "s-svcname", "s-computername",
              "cs-referred", "r-host", "r-ip", "r-port", "time-taken", "cs-bytes", "sc-bytes", "cs-protocol",
              "cs-transport", "s-operation", "cs-uri", "cs-mime-type", "s-object-source", "sc-status",
              "s-cache-info", "rule", "FilterInfo", "cs-Network", "sc-Network", "error-info", "action")
TMG_LINES = [
    ("10.20.1.15", r"GEMEENTE\jdevries", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0", "Y", "2026-03-13",
     "08:15:02", "w3proxy", "TMG01", "-", "chatgpt.com", "104.18.32.47", "443", "30158", "94211", "188540",
     "SSL-tunnel", "TCP", "CONNECT", "chatgpt.com:443", "-", "Internet", "0", "0x0", "Allow Web Access", "-",
     "Internal", "External", "0x0", "Allowed"),
    ("10.20.4.40", "anonymous", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4)", "N", "2026-03-13", "08:16:00",
     "w3proxy", "TMG01", "-", "claude.ai", "-", "443", "0", "612", "0", "http", "TCP", "GET", "http://claude.ai/new",
     "-", "-", "12202", "0x0", "Block AI Sites", "Denied by policy", "Internal", "External", "0xc0040034", "Denied"),
]


def test_tmg_tab_separated_values_with_spaces(tmp_path: Path) -> None:
    lines = ["#Software: Microsoft Forefront Threat Management Gateway 7.0", "#Version: 1.0",
             "#Date: 2026-03-13 08:00:00", "#Fields: " + "\t".join(TMG_FIELDS),
             *("\t".join(values) for values in TMG_LINES)]
    path = tmp_path / "w3c.log"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    assert sniffed(path) == "w3c"
    events, rejects = parse(tmp_path, "w3c", *lines)
    assert not rejects
    assert [(e["src_ip"], e["user_name"], e["host"], e["http_method"], e["action"], e["bytes_out"], e["bytes_in"])
            for e in events] == [("10.20.1.15", r"GEMEENTE\jdevries", "chatgpt.com", "CONNECT", "allowed", 94211,
                                  188540),
                                 ("10.20.4.40", None, "claude.ai", "GET", "blocked", 612, 0)]
    assert [e["user_agent"] for e in events] == [TMG_LINES[0][2], TMG_LINES[1][2]]


# The CEF standard asks for '=' in a value to be escaped (`\=`); web gateways such as McAfee/Skyhigh Web Gateway
# write URLs with their query unescaped (`request=https://host/path?token=X`). Such an '=' belongs to the value: the
# URL (and its host) must not be lost to a key named `https://host/path?token`. Its URL categories come in a custom
# field labelled `URL Categories`.
def test_cef_unescaped_equals_inside_a_url_and_url_categories_label(tmp_path: Path) -> None:
    line = ("<30>Mar 30 08:01:15 mwg01 mwg: CEF:0|McAfee|Web Gateway|12.2.7|200|Request|2|rt=Mar 30 2026 08:01:15 "
            "cat=Access Log src=10.20.1.15 suser=j.devries requestMethod=POST "
            "request=https://chatgpt.com/backend-api/conversation?model=gpt-4o&x=1 app=HTTPS "
            "cs4=Generative AI, Chat cs4Label=URL Categories")
    escaped = line.replace("?model=gpt-4o&x=1", r"?model\=gpt-4o&x\=1")
    glued = line.replace(" app=HTTPS", "").replace("x=1", "x=1=2")
    events, rejects = parse(tmp_path, "cef", line, escaped, glued)
    assert not rejects
    assert [(e["host"], e["url_path"], e["network_protocol"]) for e in events] == [
        ("chatgpt.com", "/backend-api/conversation", "https"), ("chatgpt.com", "/backend-api/conversation", "https"),
        ("chatgpt.com", "/backend-api/conversation", "https")]
    assert [e["vendor_category"] for e in events] == ["Generative AI, Chat"] * 3
    assert events[0]["src_ip"] == "10.20.1.15" and events[0]["user_name"] == "j.devries"


# McAfee/Skyhigh Web Gateway's QRadar log handler writes LEEF 1.0 with its attributes cut at '|', not at tabs:
# `LEEF:1.0|McAfee|Web Gateway|<version>|<event>|devTime=<epoch ms>|src=...|usrName=...|dst=...|url=...`.
# Forcepoint Web Security's LEEF (IBM's DSM guide) names its decision only in the event ID: `transaction:blocked`,
# `transaction:permitted`.
def test_leef_attributes_cut_at_bars_and_a_decision_in_the_event_id(tmp_path: Path) -> None:
    mwg = ("<30>Mar 30 08:01:15 mwg01 mwg: LEEF:1.0|McAfee|Web Gateway|12.2.7|0|devTime=1774857675000|src=10.20.1.15|"
           "usrName=j.devries|dst=104.18.32.47|httpStatus=200|blockReason=|url=https://chatgpt.com/backend-api/c")
    forcepoint = ("<159>Mar 30 08:01:16 fp01 LEEF:1.0|Forcepoint|Security|8.5.6|transaction:{decision}|sev=7\tcat=1504\t"
                  "usrName=k.mulder\tsrc=10.20.1.16\tsrcBytes=812\tdstBytes=0\tdst=160.79.104.10\tdstPort=443\t"
                  "method=POST\turl=https://claude.ai/api/append_message")
    tabbed = "LEEF:1.0|ExampleVendor|WebGateway|1.0|0|devTime=1774857677000\tsrc=10.20.1.17\turl=https://a.example/?x=1|y"
    with_key = forcepoint.format(decision="blocked").replace("\tsrc=", "\taction=permitted\tsrc=")
    events, rejects = parse(tmp_path, "leef", mwg, forcepoint.format(decision="blocked"),
                            forcepoint.format(decision="permitted"), tabbed, with_key)
    assert not rejects
    assert [(e["src_ip"], e["user_name"], e["dst_ip"], e["host"], e["url_path"]) for e in events[:2]] == [
        ("10.20.1.15", "j.devries", "104.18.32.47", "chatgpt.com", "/backend-api/c"),
        ("10.20.1.16", "k.mulder", "160.79.104.10", "claude.ai", "/api/append_message")]
    assert events[0]["ts"].isoformat() == "2026-03-30T08:01:15+00:00"
    assert [e["action"] for e in events] == ["unknown", "blocked", "allowed", "unknown", "allowed"]
    assert (events[3]["src_ip"], events[3]["host"]) == ("10.20.1.17", "a.example")  # a '|' in a tab line's value


# Palo Alto Networks' CEF format (its CEF configuration guide, TRAFFIC and THREAT): `in=$bytes_sent
# out=$bytes_received` - the CEF standard's bytesIn, what the source sent - with the URL category labelled
# `URL Category`; FortiGate's CEF (Fortinet's log reference) writes `out=` for what the client sent.
def test_cef_byte_directions_of_palo_alto_and_fortigate(tmp_path: Path) -> None:
    panos = ("<14>Mar 30 08:01:15 pa-fw01 CEF:0|Palo Alto Networks|PAN-OS|11.1.2|end|TRAFFIC|1|rt=Mar 30 2026 08:01:15 "
             "GMT deviceExternalId=0123456789 src=10.20.1.15 dst=104.18.32.47 suser=gemeente\\\\jdevries app=ssl "
             "spt=52001 dpt=443 proto=tcp act=allow flexNumber1Label=Total bytes flexNumber1=52710 in=2710 out=50000 "
             "cs2Label=URL Category cs2=artificial-intelligence")
    forti = ("<189>Mar 30 08:01:16 FGT01 CEF: 0|Fortinet|Fortigate|v7.4.3|00013|traffic:forward close|3|"
             "deviceExternalId=FGT01 cat=traffic:forward src=10.20.1.16 spt=52002 dst=160.79.104.10 dpt=443 proto=6 "
             "act=close app=HTTPS out=2710 in=50000")
    events, rejects = parse(tmp_path, "cef", panos, forti)
    assert not rejects
    assert [(e["src_ip"], e["bytes_out"], e["bytes_in"]) for e in events] == [
        ("10.20.1.15", 2710, 50000), ("10.20.1.16", 2710, 50000)]
    assert (events[0]["vendor_category"], events[0]["user_name"], events[0]["action"]) == (
        "artificial-intelligence", "gemeente\\jdevries", "allowed")
