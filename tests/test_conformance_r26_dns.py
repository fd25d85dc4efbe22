"""Windows DNS debug log, dnsmasq / Pi-hole and Unbound against layouts seen in public real-world logs: each
test's lines are written here from the documented layouts (the Windows `Message logging key`, dnsmasq's
`log-queries` lines as Pi-hole v4 writes them, Unbound's `log-local-actions` and `log-replies`)."""

from __future__ import annotations

from pathlib import Path

from tests.golden import parse_lines


def parse(path: Path, key: str, *lines: str) -> tuple[list[dict[str, object]], list[dict[str, object]], int]:
    events, rejects, report = parse_lines(path, key, lines)
    return sorted(events.to_pylist(), key=lambda e: e["line_no"]), rejects.to_pylist(), report.ignored


# --- Windows Server DNS debug log: any run of spaces between the single-word fields -----------------------

def test_windows_dns_two_spaces_before_the_direction_are_read(tmp_path: Path) -> None:
    lines = (
        # a query to a forwarder (`Snd`, no R): ignored, not rejected
        "4/21/2014 7:18:36 AM 0714 PACKET  000000002CC599A0 UDP  Snd 8.8.8.8         3434   Q "
        "[1001   D   NOERROR] A      (3)cdn(7)example(3)net(0)",
        # a client's query and the response to it, both with two spaces after the protocol
        "4/21/2014 7:18:37 AM 0714 PACKET  000000002CC59A10 UDP  Rcv 10.20.1.15      4a3f   Q "
        "[0001   D   NOERROR] A      (7)chatgpt(3)com(0)",
        "4/21/2014 7:18:37 AM 0714 PACKET  000000002CC59A10 UDP  Snd 10.20.1.15      4a3f R Q "
        "[8081   DR  NOERROR] A      (7)chatgpt(3)com(0)",
        # TCP, refused by a DENY policy
        "4/21/2014 7:18:38 AM 0714 PACKET  000000002CC59B20 TCP  Rcv 10.20.1.16      5b40   Q "
        "[0001   D   NOERROR] AAAA   (6)claude(2)ai(0)",
        "4/21/2014 7:18:38 AM 0714 PACKET  000000002CC59B20 TCP  Snd 10.20.1.16      5b40 R Q "
        "[8105 A DR  REFUSED] AAAA   (6)claude(2)ai(0)",
        # still not the layout: an unknown direction, a missing XID
        "4/21/2014 7:18:39 AM 0714 PACKET  000000002CC59C30 UDP  Xmt 10.20.1.17      6c51   Q "
        "[0001   D   NOERROR] A      (7)chatgpt(3)com(0)",
        "4/21/2014 7:18:39 AM 0714 PACKET  000000002CC59C30 UDP  Rcv 10.20.1.17 [0001   D   NOERROR] A "
        "(7)chatgpt(3)com(0)",
    )
    events, rejects, ignored = parse(tmp_path / "dns.log", "windows_dns", *lines)
    got = [(e["line_no"], e["src_ip"], e["host"], e["dns_qtype"], e["dns_rcode"], e["action"]) for e in events]
    assert got == [
        (2, "10.20.1.15", "chatgpt.com", "A", "NOERROR", "allowed"),
        (4, "10.20.1.16", "claude.ai", "AAAA", "REFUSED", "blocked"),
    ]
    assert [r["line_no"] for r in rejects] == [6, 7]
    assert ignored == 3  # the forwarded query and the two joined responses


# --- Pi-hole (dnsmasq): an answer from a block list is a block, whatever its address ----------------------

PIHOLE = "Feb 27 16:28:0{} dnsmasq[7620]: {}"


def test_pihole_block_list_answers_are_blocks_in_ip_blocking_mode(tmp_path: Path) -> None:
    lines = [PIHOLE.format(second, message) for second, message in (
        # BLOCKINGMODE=IP: the answer is Pi-hole's own addresses
        (4, "query[A] pubads.g.doubleclick.net from 10.20.1.15"),
        (4, "/etc/pihole/gravity.list pubads.g.doubleclick.net is 10.20.0.2"),
        (4, "query[AAAA] pubads.g.doubleclick.net from 10.20.1.15"),
        (4, "/etc/pihole/gravity.list pubads.g.doubleclick.net is 2001:db8:c03a:809::a"),
        # the blacklist and the regex list, as hosts files
        (5, "query[A] tracker.example from 10.20.1.16"),
        (5, "/etc/pihole/black.list tracker.example is 10.20.0.2"),
        (6, "query[A] ads.tracker.example from 10.20.1.16"),
        (6, "/etc/pihole/regex.list ads.tracker.example is 10.20.0.2"),
        # Pi-hole's own names (local.list) and the hosts file are no block lists
        (7, "query[A] pi.hole from 10.20.1.17"),
        (7, "/etc/pihole/local.list pi.hole is 10.20.0.2"),
        (8, "query[A] nas.lan from 10.20.1.17"),
        (8, "/etc/hosts nas.lan is 10.20.0.9"),
    )]
    events, rejects, ignored = parse(tmp_path / "pihole.log", "dnsmasq", *lines)
    assert rejects == []
    assert ignored == 6
    got = [(e["line_no"], e["host"], e["dns_qtype"], e["dns_answers"], e["action"]) for e in events]
    assert got == [
        (1, "pubads.g.doubleclick.net", "A", ["10.20.0.2"], "blocked"),
        (3, "pubads.g.doubleclick.net", "AAAA", ["2001:db8:c03a:809::a"], "blocked"),
        (5, "tracker.example", "A", ["10.20.0.2"], "blocked"),
        (7, "ads.tracker.example", "A", ["10.20.0.2"], "blocked"),
        (9, "pi.hole", "A", ["10.20.0.2"], "allowed"),
        (11, "nas.lan", "A", ["10.20.0.9"], "allowed"),
    ]


def test_pihole_a_and_aaaa_queries_each_take_their_own_gravity_line(tmp_path: Path) -> None:
    core = [PIHOLE.format(5, message) for message in (
        "query[A] ads.example from 10.20.1.15",
        "/etc/pihole/gravity.list ads.example is 0.0.0.0",
        "query[AAAA] ads.example from 10.20.1.15",
        "/etc/pihole/gravity.list ads.example is ::",
    )]
    # wherever a batch (7 lines in these tests) is cut
    for before in range(8):
        filler = [PIHOLE.format(1, f"query[A] other{n}.example from 10.20.1.9") for n in range(before)]
        events, rejects, ignored = parse(tmp_path / "pihole.log", "dnsmasq", *filler, *core)
        assert rejects == []
        assert ignored == 2
        got = [(e["line_no"] - before, e["dns_qtype"], e["dns_answers"], e["action"]) for e in events
               if e["host"] == "ads.example"]
        assert got == [(1, "A", ["0.0.0.0"], "blocked"), (3, "AAAA", ["::"], "blocked")], before


# --- Unbound: a local action and its reply are one lookup ------------------------------------------------

UNBOUND = "[1791027875] unbound[687999:0] {}"


def test_unbound_local_action_and_its_reply_are_one_blocked_event(tmp_path: Path) -> None:
    lines = [UNBOUND.format(message) for message in (
        # log-local-actions and log-replies without log-queries
        "info: pub.sbxlab. always_nxdomain 192.168.1.50@59974 ads.pub.sbxlab. A IN",
        "reply: 192.168.1.50 ads.pub.sbxlab. A IN NXDOMAIN 0.000000 1 37",
        # the same client asks again: a second lookup
        "info: pub.sbxlab. always_nxdomain 192.168.1.50@59975 ads.pub.sbxlab. A IN",
        "reply: 192.168.1.50 ads.pub.sbxlab. A IN NXDOMAIN 0.000000 1 37",
        # a transparent zone lets the lookup through: one allowed event
        "info: lan. transparent 192.168.1.51@40000 nas.lan. A IN",
        "reply: 192.168.1.51 nas.lan. A IN NOERROR 0.002000 0 45",
        # with log-queries too: still one event per query
        "info: 192.168.1.52 ads.pub.sbxlab. AAAA IN",
        "info: pub.sbxlab. always_nxdomain 192.168.1.52@40001 ads.pub.sbxlab. AAAA IN",
        "reply: 192.168.1.52 ads.pub.sbxlab. AAAA IN NXDOMAIN 0.000000 1 37",
        # a reply alone is still an event
        "reply: 192.168.1.53 chatgpt.com. A IN NOERROR 0.031000 0 71",
    )]
    events, rejects, ignored = parse(tmp_path / "unbound.log", "unbound", *lines)
    assert rejects == []
    assert ignored == 5  # the replies of lines 1, 3 and 5, and the local action and reply of line 7's query
    got = [(e["line_no"], e["src_ip"], e["host"], e["dns_qtype"], e["dns_rcode"], e["duration_ms"], e["action"])
           for e in events]
    assert got == [
        (1, "192.168.1.50", "ads.pub.sbxlab", "A", "NXDOMAIN", 0, "blocked"),
        (3, "192.168.1.50", "ads.pub.sbxlab", "A", "NXDOMAIN", 0, "blocked"),
        (5, "192.168.1.51", "nas.lan", "A", "NOERROR", 2, "allowed"),
        (7, "192.168.1.52", "ads.pub.sbxlab", "AAAA", "NXDOMAIN", 0, "blocked"),
        (10, "192.168.1.53", "chatgpt.com", "A", "NOERROR", 31, "allowed"),
    ]


def test_unbound_local_action_and_its_reply_are_joined_across_batches(tmp_path: Path) -> None:
    pair = [UNBOUND.format("info: pub.sbxlab. always_nxdomain 192.168.1.50@59974 ads.pub.sbxlab. A IN"),
            UNBOUND.format("reply: 192.168.1.50 ads.pub.sbxlab. A IN NXDOMAIN 0.000000 1 37")]
    for before in range(8):  # batches of 7 lines: the two lines cut apart once
        filler = [UNBOUND.format("notice: init module 0: validator")] * before
        events, rejects, ignored = parse(tmp_path / "unbound.log", "unbound", *filler, *pair)
        assert rejects == []
        assert [(e["line_no"] - before, e["action"], e["dns_rcode"]) for e in events] == [
            (1, "blocked", "NXDOMAIN")], before
        assert ignored == before + 1
