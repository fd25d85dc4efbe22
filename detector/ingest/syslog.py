"""Syslog headers, for every format whose lines arrive through syslog (or are written in its layout).

Recognised headers, each with an optional `<PRI>` in front:
- RFC 3164 / BSD: `Mmm dd HH:MM:SS [host ...] tag[pid]: message`. The host is optional (pfSense,
  dnsmasq's and unbound's own log files leave it out) and may be more than one token (relays that
  prepend an address, as Infoblox does).
- The ISO variant (rsyslog's RSYSLOG_FileFormat, syslog-ng, unbound `log-time-iso`):
  `YYYY-MM-DDTHH:MM:SS[.frac][Z|+hh:mm] [host ...] tag[pid]: message`.
- RFC 5424: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD ...]|- message`.

The SQL macro `syslog_header(line)` returns a struct {ts, host, app, pid, msg}; `ts` is '' when the
line has none of these headers. `syslog_time(ts, $tz, $ref)` turns the header's time into UTC.

Year-less BSD times: the year is the one that puts the date within the 365 days ending 30 days after
a reference date. The reference is a date in the file's name (logrotate's `dateext`,
`pihole.log-20240605`, `syslog-2024-06-05.gz`) when there is one, else the file's modification time:
a log is written before its file was last modified, and 30 days of slack absorb clocks and files
named by the day they start. The rule depends on the file only, never on today's date.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa

from detector.ingest.base import BatchParser, ParseContext, ParseResult, run_parse_query

# One definition of each header layout, used by the SQL macros and the Python sniffers alike.
# RE2 (DuckDB) and Python's `re` read these identically: no look-arounds, no back-references.
BSD_TIME = r"[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d+)?"
ISO_TIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
BSD_HEADER = (
    rf"^(?:<\d{{1,3}}>)?({BSD_TIME}|{ISO_TIME})(?: (.*?))?? +([^\s\[\]:]+)(?:\[([^\]]*)\])?:(?: (.*))?$"
)
RFC5424_HEADER = (
    r"^<\d{1,3}>1 (\S+) (\S+) (\S+) (\S+) \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (.*))?$"
)

SYSLOG_MACROS = (
    r"""
create or replace macro syslog_header(line) as case
    when starts_with(line, '<') and regexp_matches(line, '^<\d{1,3}>1 ')
        then regexp_extract(line, '@RFC5424@', ['ts', 'host', 'app', 'pid', 'msg'])
    else regexp_extract(line, '@BSD@', ['ts', 'host', 'app', 'pid', 'msg'])
end;
-- A BSD month-day-time read in leap year 2000, so that Feb 29 survives until the year is known.
create or replace macro syslog_month_day(ts) as
    try_strptime('2000 ' || ts, ['%Y %b %d %H:%M:%S', '%Y %b %d %H:%M:%S.%f']);
-- `t0` from syslog_month_day moved into the year that puts it in (ref - 335 days, ref + 30 days].
create or replace macro syslog_in_year(t0, ref) as t0 + to_years(year(ref) - 2000 - case
    when t0 + to_years(year(ref) - 2000) > ref + interval 30 day then 1
    when t0 + to_years(year(ref) - 2000) <= ref - interval 335 day then -1
    else 0 end);
-- Header time as UTC: ISO with an offset is absolute, anything else is local to `tz`.
create or replace macro syslog_time(ts, tz, ref) as case
    when ts is null or ts = '' then null
    when regexp_matches(ts, '^[A-Z]') then timezone(tz, syslog_in_year(syslog_month_day(ts), ref))
    when regexp_matches(ts, '(Z|[+-]\d{2}:?\d{2})$') then try_cast(ts as timestamptz)
    else timezone(tz, try_cast(ts as timestamp))
end;
""".replace("@RFC5424@", RFC5424_HEADER).replace("@BSD@", BSD_HEADER)
)

_HEADER = re.compile(BSD_HEADER)
_HEADER_5424 = re.compile(RFC5424_HEADER)
_NAME_DATE = re.compile(r"(?<!\d)(20\d\d)[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)")


def program_of(line: str) -> str | None:
    """The program (tag or APP-NAME) of a syslog line, or None when the line has no syslog header."""
    match = _HEADER_5424.match(line) if line.startswith("<") else None
    if match:
        return match.group(3)
    match = _HEADER.match(line)
    return match.group(3) if match else None


def program_share(*programs: str, also: re.Pattern[str] | None = None) -> Callable[[Sequence[str]], float]:
    """A sniffer: the share of lines logged by one of `programs` (or matching `also`, for own-file layouts)."""
    wanted = set(programs)

    def sniff(lines: Sequence[str]) -> float:
        if not lines:
            return 0.0
        hits = sum(1 for line in lines if program_of(line) in wanted or (also is not None and also.match(line)))
        return hits / len(lines)

    return sniff


def reference_time(path: str, timezone: str) -> datetime:
    """The naive local time that year-less dates are placed before (see the module docstring)."""
    match = _NAME_DATE.search(Path(path).name)
    if match:
        try:
            return datetime(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            pass  # e.g. 20230231: not a date after all
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return datetime.now(ZoneInfo(timezone)).replace(tzinfo=None)
    return datetime.fromtimestamp(mtime, ZoneInfo(timezone)).replace(tzinfo=None)


def syslog_sql_parser(query: str) -> Callable[[ParseContext], BatchParser]:
    """Like base.sql_parser, for queries that use the syslog macros and `$ref` (the reference time)."""

    def new_parser(context: ParseContext) -> BatchParser:
        context.connection.execute(SYSLOG_MACROS)
        params = {"ref": reference_time(context.path, context.timezone)} if "$ref" in query else {}

        def parse(lines: pa.Table) -> ParseResult:
            return run_parse_query(context, query, lines, **params)

        return parse

    return new_parser
