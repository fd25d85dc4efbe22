"""Layouts met in public sample logs of the proxy formats (second pass: Sekoia intake tests, Microsoft
Sentinel's sample data, vendors' examples), written here from the vendors' documentation: each test says which
documented shape it stands for."""

from __future__ import annotations

from pathlib import Path

from tests.golden import parse_lines


def parse(tmp_path: Path, key: str, *lines: str) -> tuple[list[dict], list[dict]]:
    events, rejects, _ = parse_lines(tmp_path / f"{key}.log", key, lines)
    return events.to_pylist(), rejects.to_pylist()


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
