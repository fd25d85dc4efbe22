"""CEF and LEEF lines whose only time is the syslog header's, with a space after the PRI (`<134> Jun  5 ...`,
as some relays write it; RFC 3164 does not forbid it): the header's time is read. They were rejected as
having no time."""

from __future__ import annotations

from pathlib import Path

from tests.golden import parse_lines

CEF = ("<134> Jun  5 10:00:30 proxy1 CEF:0|Forcepoint|Security|8.5|0|Transaction permitted|1| act=permitted "
       "src=10.1.2.3 dhost=chatgpt.com requestMethod=POST request=https://chatgpt.com/backend-api/conversation out=2048")
LEEF = "<134> Jun  5 10:00:31 proxy1 LEEF:1.0|Forcepoint|Security|8.5|transaction:permitted|src=10.1.2.4\tdhost=claude.ai"


def test_header_time_after_a_space_after_the_pri(tmp_path: Path) -> None:
    for key, line, host, second in (("cef", CEF, "chatgpt.com", 30), ("leef", LEEF, "claude.ai", 31)):
        events, rejects, _ = parse_lines(tmp_path / f"{key}-20240605.log", key, [line, line.replace("<134> ", "<134>")])
        assert rejects.num_rows == 0, rejects.to_pylist()
        assert [(e["host"], e["ts"].month, e["ts"].day, e["ts"].second) for e in events.to_pylist()] == [
            (host, 6, 5, second)] * 2
