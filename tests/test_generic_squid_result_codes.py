"""A CSV or JSON export whose action column holds Squid-style result codes reads them as Squid does.

Proxies that export their access log as CSV or JSON (Squid's own logformat with `%Ss`, Cisco WSA and ProxySG
report exports) write the result code where a firewall writes a verdict: `TCP_MISS`, `TCP_TUNNEL/200`,
`TCP_DENIED:HIER_NONE` (https://wiki.squid-cache.org/SquidFaq/SquidLogs#squid-result-codes). A code of a
request that went through is `allowed`, a DENIED one `blocked`, NONE `unknown`; before, every code but the DENIED
ones was `unknown`. Lines are written here from that documented shape, not copied from any log.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.golden import parse_lines

CODES = [("TCP_MISS", "allowed"), ("TCP_TUNNEL/200", "allowed"), ("TCP_HIT:HIER_NONE", "allowed"),
         ("TCP_DENIED:HIER_NONE", "blocked"), ("NONE_NONE", "unknown"), ("Allowed", "allowed")]


def actions(tmp_path: Path, key: str, lines: list[str]) -> list[object]:
    events, rejects, report = parse_lines(tmp_path / f"{key}.log", key, lines)
    assert not rejects.num_rows and report.parsed == len(CODES)
    return [row["action"] for row in sorted(events.to_pylist(), key=lambda e: e["line_no"])]


def test_csv_action_column_of_squid_result_codes(tmp_path: Path) -> None:
    lines = ["timestamp,client_ip,url,action,bytes_sent"] + [
        f"2026-03-13T09:15:{i:02d}Z,10.20.1.22,https://chatgpt.com/c/{i},{code},812" for i, (code, _) in enumerate(CODES)]
    assert actions(tmp_path, "csv", lines) == [action for _, action in CODES]


def test_json_action_key_of_squid_result_codes(tmp_path: Path) -> None:
    lines = [json.dumps({"timestamp": f"2026-03-13T09:15:{i:02d}Z", "client_ip": "10.20.1.22",
                         "url": f"https://chatgpt.com/c/{i}", "action": code}) for i, (code, _) in enumerate(CODES)]
    assert actions(tmp_path, "json", lines) == [action for _, action in CODES]
