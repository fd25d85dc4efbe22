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
