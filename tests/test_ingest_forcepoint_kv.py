"""Forcepoint (Websense) Web Security's own SIEM format: `key=value` pairs from `vendor=` on, values unquoted and
unescaped (lines written here from the layout syslog-ng's websense-parser documents and the keys SIEM parsers of the
format read: vendor, product, action, category, user, src_host, dst_host, dst_ip, bytes_out, http_method,
http_user_agent, http_proxy_status_code, disposition, policy, role, url ...; not copied from a sample)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from detector.ingest import FORMATS, sniff_scores
from detector.ingest.base import ParseContext, open_parse_connection

HEAD = "<159>Nov 30 08:40:01 CET 10.40.0.20 "
PAIRS = {
    "vendor": "Websense", "product": "Security", "product_version": "8.5.4", "action": "permitted", "severity": "1",
    "category": "1504", "user": "LDAP://10.40.0.5 OU=Medewerkers,DC=gemeente,DC=local/r.dekker",
    "src_host": "10.40.2.17", "src_port": "51545", "dst_host": "chatgpt.com", "dst_ip": "104.18.32.47",
    "dst_port": "443", "bytes_out": "48213", "bytes_in": "9120", "http_response": "200", "http_method": "POST",
    "http_content_type": "text/event-stream; charset=utf-8",
    "http_user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)",
    "http_proxy_status_code": "200", "reason": "-", "disposition": "1034", "policy": "role-8**Standaard Medewerkers",
    "role": "8", "duration": "14", "url": "https://chatgpt.com/backend-api/conversation?model=auto&x=1",
}


def line(head: str = HEAD, **changes: str) -> str:
    return head + " ".join(f"{key}={value}" for key, value in {**PAIRS, **changes}.items())


def parse(lines: list[str]) -> tuple[list[dict], list[dict], int]:
    parser = FORMATS["forcepoint_kv"].new_parser(ParseContext("proxy-20261130.log", "Europe/Amsterdam",
                                                              open_parse_connection()))
    result = parser(pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": lines}))
    assert result.events.num_rows + result.rejects.num_rows + result.ignored == len(lines)
    return result.events.to_pylist(), result.rejects.to_pylist(), result.ignored


def test_a_request_is_read_whole_though_values_hold_spaces_and_equals_signs() -> None:
    events, rejects, ignored = parse([line()])
    assert not rejects and ignored == 0
    event = events[0]
    assert event["user_name"] == "r.dekker"  # the directory path's unescaped `OU=...,DC=...` is no key
    assert (event["src_ip"], event["dst_ip"], event["dst_port"]) == ("10.40.2.17", "104.18.32.47", 443)
    assert (event["host"], event["url_path"], event["http_method"]) == ("chatgpt.com", "/backend-api/conversation",
                                                                        "POST")
    assert (event["bytes_out"], event["bytes_in"], event["http_status"], event["action"]) == (48213, 9120, 200,
                                                                                              "allowed")
    assert event["content_type"] == "text/event-stream"
    assert event["user_agent"] == PAIRS["http_user_agent"]
    assert event["ts"].isoformat() == "2026-11-30T07:40:01+00:00"  # the header's time, in the configured zone
    assert event["vendor_category"] == "1504"
    assert event["vendor_department"] is None  # role=8 is a policy role's ID, no department


@pytest.mark.parametrize(("changes", "expected"), [
    ({"action": "blocked", "http_proxy_status_code": "403", "http_response": "0"}, ("blocked", 403)),
    ({"action": "blocked", "http_proxy_status_code": "407", "user": "-"}, ("unknown", 407)),  # an auth challenge
    ({"user": "WinNT://GEMEENTE/s.vermeulen"}, ("allowed", 200)),
])
def test_decisions_statuses_and_users(changes: dict[str, str], expected: tuple[str, int]) -> None:
    event = parse([line(**changes)])[0][0]
    assert (event["action"], event["http_status"]) == expected
    assert event["user_name"] == {"-": None, "WinNT://GEMEENTE/s.vermeulen": "s.vermeulen"}.get(
        changes.get("user", ""), "r.dekker")


def test_an_rfc5424_header_and_the_forcepoint_vendor_name() -> None:
    head = "<158>1 2026-11-30T09:10:31+01:00 fp-proxy01 - - - - "
    event = parse([line(head, vendor="Forcepoint", url="https://www.deepl.com/translator",
                        dst_host="www.deepl.com")])[0][0]
    assert event["ts"].isoformat() == "2026-11-30T08:10:31+00:00" and event["host"] == "www.deepl.com"


def test_other_syslog_messages_are_ignored_and_other_text_is_rejected_with_its_reason() -> None:
    events, rejects, ignored = parse([line(), HEAD + "Content Gateway: WCCP cache 10.40.0.21 joined service group 0",
                                      "this is no log line"])
    assert len(events) == 1 and ignored == 1
    assert [r["reason"] for r in rejects] == ["no vendor=... key=value pairs (Forcepoint Web Security SIEM format)"]


def test_the_format_is_recognised_from_its_lines() -> None:
    lines = [line(), line(action="blocked"), HEAD + "Content Gateway: started"]
    assert sniff_scores(lines)[0][0] == "forcepoint_kv"


@pytest.mark.parametrize("seed", [1, 2])
def test_pairs_in_any_order_and_hostile_values_neither_crash_nor_drop_lines(seed: int) -> None:
    import random

    rnd = random.Random(seed)
    values = ["-", "", " ", "a b", "x=y", "OU=A,DC=b", "=", "\\", '"q"', "é ü", "Mozilla/5.0 (X; Y) Z/1", "1" * 40]
    lines, shuffled = [], []
    for _ in range(300):
        pairs = list(PAIRS.items())
        if rnd.random() < 0.5:
            pairs = [(key, rnd.choice(values) if rnd.random() < 0.3 else value) for key, value in pairs]
        lines.append(HEAD + " ".join(f"{key}={value}" for key, value in pairs))
        rnd.shuffle(pairs)
        shuffled.append(HEAD + " ".join(f"{key}={value}" for key, value in pairs))
    events, rejects, ignored = parse(lines)  # (parse asserts every line is an event, a reject or ignored)
    assert len(events) + len(rejects) + ignored == len(lines) and events
    intact = [line for line in lines if line == HEAD + " ".join(f"{k}={v}" for k, v in PAIRS.items())]
    assert sum(1 for event in events if event["user_name"] == "r.dekker") >= len(intact)
    parse(shuffled)
