"""DNS and DHCP formats against layouts found in public real-world logs (elastic/integrations test logs, Wazuh
rules, vendor sources): each test's lines are written here from the vendor's documented layout."""

from __future__ import annotations

from pathlib import Path

from detector.ingest import sniff_scores
from tests.golden import parse_lines


def parse(path: Path, key: str, *lines: str) -> tuple[list[dict[str, object]], list[dict[str, object]], int]:
    events, rejects, report = parse_lines(path, key, lines)
    return sorted(events.to_pylist(), key=lambda e: e["line_no"]), rejects.to_pylist(), report.ignored


def utc(event: dict[str, object]) -> str:
    return event["ts"].isoformat().replace("+00:00", "Z")  # type: ignore[union-attr]


# --- Unbound's own log file with log-time-ascii / log-time-iso (util/log.c log_vmsg) -------------------

UNBOUND_ASCII = (
    # log-time-ascii: "%b %d %H:%M:%S" (day zero-padded), then "ident[pid:thread] level: message"
    "Jun 05 10:00:32 unbound[2104:0] info: 10.20.1.15 chatgpt.com. A IN",
    "Jun 05 10:00:32 unbound[2104:0] info: 10.20.1.15 chatgpt.com. A IN NOERROR 0.031000 0 71",
    "Jun 05 10:00:33 unbound[2104:1] info: api.openai.com. always_refuse 10.20.1.16@50212 api.openai.com. A IN",
    "Jun 05 10:00:40 unbound[2104:0] notice: init module 0: validator",
    # log-time-iso (with log-time-ascii): milliseconds and the offset; thread numbers in hex
    "2024-06-05T10:00:41.250+02:00 unbound[2104:b] query: 10.20.1.17 claude.ai. AAAA IN",
    "2024-06-05T10:00:41.262+02:00 unbound[2104:b] reply: 10.20.1.17 claude.ai. AAAA IN NOERROR 0.012000 0 99",
)


def test_unbound_own_file_with_ascii_or_iso_time_is_read(tmp_path: Path) -> None:
    events, rejects, ignored = parse(tmp_path / "unbound-20240605.log", "unbound", *UNBOUND_ASCII)
    assert rejects == []
    assert ignored == 3  # the joined reply lines and the notice
    got = [(utc(e), e["src_ip"], e["host"], e["dns_qtype"], e["action"], e["dns_rcode"], e["duration_ms"])
           for e in events]
    assert got == [
        ("2024-06-05T08:00:32Z", "10.20.1.15", "chatgpt.com", "A", "allowed", "NOERROR", 31),
        ("2024-06-05T08:00:33Z", "10.20.1.16", "api.openai.com", "A", "blocked", None, None),
        ("2024-06-05T08:00:41.250000Z", "10.20.1.17", "claude.ai", "AAAA", "allowed", "NOERROR", 12),
    ]


def test_unbound_own_file_with_ascii_time_is_recognised() -> None:
    (best, score), (_, second) = sniff_scores(list(UNBOUND_ASCII))[:2]
    assert (best, score) == ("unbound", 1.0) and second < 1.0


# --- BIND: ECS and TSIG in the query log (BIND ARM, "queries" category; ns/client.c) -----------------

def test_bind_query_with_client_subnet_or_tsig_key_is_read(tmp_path: Path) -> None:
    lines = (
        # "[ECS address/source/scope]" after the server when the query carried a CLIENT-SUBNET option
        "05-Jun-2024 10:00:38.001 queries: info: client @0x7f01 10.20.1.15#40001 (chatgpt.com): "
        "query: chatgpt.com IN A +E(0)K (10.20.0.53) [ECS 10.20.1.0/24/0]",
        "05-Jun-2024 10:00:38.002 queries: info: client @0x7f01 10.20.1.15#40002 (claude.ai): view intern: "
        "query: claude.ai IN AAAA -E(0)DC (10.20.0.53) [ECS 2001:db8:5::/56/0]",
        # "/key NAME" after the address of a TSIG-signed request
        "05-Jun-2024 10:00:38.003 queries: info: client @0x7f02 10.20.1.16#40003/key ddns-key.gemeente.nl "
        "(www.deepl.com): query: www.deepl.com IN A +SE(0) (10.20.0.53)",
        "05-Jun-2024 10:00:38.004 security: info: client @0x7f02 10.20.1.16#40004/key ddns-key "
        "(api.openai.com): query 'api.openai.com/A/IN' denied",
        # not a query: still ignored
        "05-Jun-2024 10:00:38.005 update-security: error: client @0x7f02 10.20.1.16#40005/key ddns-key: "
        "update 'gemeente.nl/IN' denied",
        # an ECS part that is not one: still rejected
        "05-Jun-2024 10:00:38.006 queries: info: client @0x7f01 10.20.1.15#40006 (x.nl): "
        "query: x.nl IN A +E(0)K (10.20.0.53) [FOO bar]",
    )
    events, rejects, ignored = parse(tmp_path / "named.log", "bind_query", *lines)
    got = [(e["line_no"], e["src_ip"], e["host"], e["dns_qtype"], e["dst_ip"], e["action"]) for e in events]
    assert got == [
        (1, "10.20.1.15", "chatgpt.com", "A", "10.20.0.53", "unknown"),
        (2, "10.20.1.15", "claude.ai", "AAAA", "10.20.0.53", "unknown"),
        (3, "10.20.1.16", "www.deepl.com", "A", "10.20.0.53", "unknown"),
        (4, "10.20.1.16", "api.openai.com", "A", None, "blocked"),
    ]
    assert ignored == 1 and [r["line_no"] for r in rejects] == [6]


# --- dnsmasq: the layouts of cache.c log_query() and log.c --------------------------------------------

def test_dnsmasq_extra_layouts_are_joined(tmp_path: Path) -> None:
    lines = (
        "Jun  5 10:00:32 dnsmasq[812]: 17 10.20.1.15/53211 query[A] chatgpt.com from 10.20.1.15",
        "Jun  5 10:00:32 dnsmasq[812]: 17 forwarded chatgpt.com to 127.0.0.1#5335",  # F_NOEXTRA; upstream port
        "Jun  5 10:00:32 dnsmasq[812]: 17 10.20.1.15/53211 reply chatgpt.com is 104.18.32.47 (DNSSEC signed)",
        "Jun  5 10:00:33 dnsmasq[812]: 18 10.20.1.16/40000 query[AAAA] claude.ai from 10.20.1.16",
        "Jun  5 10:00:33 dnsmasq[812]: 18 10.20.1.16/40000 reply error is SERVFAIL (EDE: network error)",
        "Jun  5 10:00:34 dnsmasq[812]: * 10.20.1.17/40001 forwarded www.deepl.com to 10.20.0.53",  # before 2.86
    )
    events, rejects, ignored = parse(tmp_path / "dnsmasq-20240605.log", "dnsmasq", *lines)
    assert rejects == [] and ignored == 4
    got = [(e["host"], e["action"], e["dns_rcode"], e["dns_answers"]) for e in events]
    assert got == [("chatgpt.com", "allowed", "NOERROR", ["104.18.32.47"]),
                   ("claude.ai", "allowed", "SERVFAIL", None)]


def test_dnsmasq_lines_without_a_time_say_why(tmp_path: Path) -> None:
    # log-facility=- (stderr, as in containers): `dnsmasq[pid]: message`, no time
    events, rejects, _ = parse(tmp_path / "d.log", "dnsmasq", "dnsmasq[1]: query[A] chatgpt.com from 172.17.0.5",
                               "pihole-FTL[1]: query[A] claude.ai from 172.17.0.5", "something else entirely")
    assert events == []
    assert [r["reason"].startswith("dnsmasq line without a time") for r in rejects] == [True, True, False]
    # `docker logs -t` puts an RFC 3339 time in front: read
    events, rejects, _ = parse(tmp_path / "t.log", "dnsmasq",
                               "2024-06-05T10:00:33.123456789Z dnsmasq[1]: query[A] chatgpt.com from 172.17.0.5")
    assert rejects == [] and [utc(e) for e in events] == ["2024-06-05T10:00:33.123456Z"]
