"""W3C extended log format: Symantec/Blue Coat ProxySG ELFF, Microsoft TMG/ISA, Cisco WSA W3C, IIS.

The columns are named by `#Fields:` directives (https://www.w3.org/TR/WD-logfile), which may change in
the middle of a file (a web server restarts, an administrator adds a field), so the header in force
travels from batch to batch in file order (a `HeaderedParser`: the batches themselves parse two at a
time) and a batch is split at its directive lines; each run of data lines is
split into values with pyarrow (`values_table`) and read by one DuckDB query built for its field list.
Values are separated by spaces (Oracle pads with several); strings may be quoted, with `""` for a quote;
`-` is an empty value.

Times: `date`/`time` are UTC by the standard, shifted by a `#GMT-Offset:` directive where a server
writes one; `date-local`/`time-local` are in the configured zone; `timestamp` (Cisco WSA) is epoch
seconds; a log with `time` only takes its date from the last `#Date:` directive.

The host: a proxy logs the destination (`cs-host` from the URL on ProxySG, `r-host` on TMG, the URL in
`cs-uri`/`cs-url`); a web server logs its own name as the client asked for it (`cs(Host)`), and `s-ip` is
then the server's address. On ProxySG `s-ip` is the appliance itself, so it is not the destination.
`cs-bytes` (client to server) feeds `bytes_out`, `sc-bytes` feeds `bytes_in`; the standard's `bytes`
has no direction and is left out. `time-taken` is milliseconds on IIS, ProxySG and TMG, and seconds
when written with a decimal point as the standard has it. The proxy's categories (ProxySG
`cs-categories`, older `sc-filter-category`; Cisco WSA `x-webcat-code-full` or `x-webcat-code-abr`) feed
vendor_category, its application name (ProxySG `x-bluecoat-application-name`, WSA `x-avc-app`) vendor_app.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import (
    dictionary_array,
    fields_in_slices,
    only_where,
    quoted_value,
    space_trimmed,
    split_quoted,
    without_empty,
)
from detector.ingest.base import (
    REJECTS_OF_BATCH,
    Format,
    HeaderedParser,
    ParseContext,
    ParseResult,
    parse_cursor,
    run_parse_query,
    split_outcomes,
)
from detector.ingest.cisco_wsa import WSA_MACROS
from detector.ingest.squid import PROXY_MACROS

# A value is a quoted string (with "" inside) or a run of non-space characters (for sniffing).
_TOKEN = re.compile(r'"(?:[^"]|"")*"|\S+')
_DIRECTIVE = re.compile(r"#(Fields|Software|Version|Date|Start-Date|End-Date|Remark|GMT-Offset):", re.IGNORECASE)
_FIELDS = re.compile(r"#Fields:", re.IGNORECASE)

# Fields whose presence marks a ProxySG log, where `s-ip`/`s-port` are the appliance's own.
PROXYSG_FIELDS = frozenset(
    {"s-action", "sc-filter-result", "s-supplier-ip", "s-supplier-name", "x-exception-id", "cs-auth-group"}
)

# The event columns every query returns, with their SQL types, so that the results of the segments
# of a batch (parsed with different field lists) concatenate.
OUTPUT_TYPES: dict[str, str] = {
    "ts": "timestamptz", "src_ip": "varchar", "user_name": "varchar", "host": "varchar",
    "host_source": "varchar", "dst_ip": "varchar", "dst_port": "integer", "network_protocol": "varchar",
    "http_method": "varchar", "url_path": "varchar", "http_status": "integer", "action": "varchar",
    "bytes_out": "bigint", "bytes_in": "bigint", "duration_ms": "bigint", "user_agent": "varchar",
    "content_type": "varchar", "vendor_app": "varchar", "vendor_category": "varchar",
}


@dataclass(frozen=True)
class Header:
    """What the directives so far say about the data lines that follow them (immutable: batches parsed
    at once share it)."""

    fields: tuple[str, ...] | None = None
    date: str | None = None  # from #Date:, for logs with a `time` field but no `date`
    gmt_offset_minutes: int = 0

    def applied(self, directive: str) -> Header:
        """The header after one more directive line (other directives and comments change nothing)."""
        name, _, value = directive.partition(":")
        name = name.strip().lower()
        if name == "#fields":
            return replace(self, fields=tuple(f.lower() for f in value.split()) or None)
        if name in ("#date", "#start-date"):
            return replace(self, date=_directive_date(value))
        if name == "#gmt-offset":
            match = re.fullmatch(r"\s*([+-])(\d\d):?(\d\d)\s*", value)
            if match:
                sign = -1 if match[1] == "-" else 1
                return replace(self, gmt_offset_minutes=sign * (int(match[2]) * 60 + int(match[3])))
        return self


def _directive_date(value: str) -> str | None:
    """The date of a #Date directive as YYYY-MM-DD (IIS writes ISO; some vendors dd/Mon/yyyy)."""
    text = value.strip().split()[0] if value.strip() else ""
    for pattern in ("%Y-%m-%d", "%d/%b/%Y", "%d/%b/%Y:%H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    return None


class QueryBuilder:
    """Builds the query for one field list: which value (by position) feeds which schema column.

    Field names never enter the SQL text, only positions in the line do; names come from the file.
    """

    def __init__(self, fields: tuple[str, ...], header: Header) -> None:
        self.fields = fields
        self.header = header
        self.used: dict[int, str] = {}  # position (1-based) -> value column name
        self.params: dict[str, object] = {"field_count": len(fields)}

    def value(self, *names: str) -> str | None:
        """The value column of the first of `names` the header has, or None."""
        for name in names:
            if name in self.fields:
                position = self.fields.index(name) + 1
                return self.used.setdefault(position, f"v{position}")
        return None

    def build(self) -> tuple[str, dict[str, object]]:
        """The query text (over `vals(line_no, n, v<position>...)`, see `values_table`) and its parameters;
        afterwards `used` names the positions it reads."""
        ts, ts_reason = self._time()
        steps, columns = self._url_steps(), self._columns()
        selected = ",\n    ".join(
            f"cast({columns.get(name, 'null')} as {sql_type}) as {name}" for name, sql_type in OUTPUT_TYPES.items()
            if name != "ts"
        )
        query = f"""
with url_steps as (
    select *, {ts} as ts_value, {steps}
    from vals
),
authority_steps as (
    -- the authority of an absolute URL, or of a scheme-less host[:port][/path]
    select *, authority_hostport(coalesce(rest_authority(rest), split_part(split_part(bare, '/', 1), '?', 1)))
        as hostport
    from url_steps
),
host_steps as (
    select *, hostport_host(hostport) as url_host from authority_steps
)
select
    line_no,
    case
        when n <> $field_count then n || ' values but #Fields names ' || $field_count
        when ts_value is null then {ts_reason}
    end as reject_reason,
    false as is_ignored,
    cast(ts_value as timestamptz) as ts,
    {selected}
from host_steps
"""
        return query, self.params

    def _time(self) -> tuple[str, str]:
        """The `ts` expression, and the reject reason when it is null."""
        epoch = self.value("timestamp", "x-timestamp-unix")
        date, time = self.value("date"), self.value("time")
        local_date, local_time = self.value("date-local"), self.value("time-local")
        if epoch:
            # via decimal: a double would take 'nan' and 'inf', which no timestamp holds
            seconds = f"cast(try_cast({epoch} as decimal(18, 6)) as double)"
            return f"to_timestamp({seconds})", f"'timestamp is not epoch seconds: ' || {epoch}"
        if local_date and local_time:
            naive = f"try_cast({local_date} || ' ' || {local_time} as timestamp)"
            return (f"timezone($tz, {naive})",
                    f"'date-local/time-local not understood: ' || {local_date} || ' ' || {local_time}")
        if time and (date or self.header.date):
            if not date:
                self.params["day"] = self.header.date
            day = date or "$day"
            self.params["offset_minutes"] = self.header.gmt_offset_minutes
            naive = f"try_cast({day} || ' ' || {time} as timestamp)"
            return (f"timezone('UTC', {naive} - to_minutes(cast($offset_minutes as integer)))",
                    f"'date/time not understood: ' || coalesce({day}, '-') || ' ' || coalesce({time}, '-')")
        if time:
            return "null", "'a time without a date: no date field and no #Date directive before this line'"
        return "null", "'no date/time field in #Fields (date and time, date-local and time-local, or timestamp)'"

    def _url_steps(self) -> str:
        """Step columns: `rest` of an absolute URL, `bare` scheme-less host[:port][/path], `is_connect`."""
        url = self.value("cs-url", "cs-uri")
        method = self.value("cs-method", "s-operation")
        # TMG logs a CONNECT's target as host:port, Incapsula its URLs without a scheme.
        bare = (
            f"case when not contains({url}, '://') "
            f"and regexp_matches({url}, '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9_.-]+)(:\\d+)?(/|$)') then {url} end"
            if url else "null::varchar"
        )
        return ",\n        ".join([
            f"url_rest({url}) as rest" if url else "null::varchar as rest",
            f"{bare} as bare",
            f"coalesce(upper({method}) = 'CONNECT', false) as is_connect" if method else "false as is_connect",
        ])

    def _columns(self) -> dict[str, str]:
        """SQL expressions for the event columns (over `host_steps`); missing ones are null."""
        out: dict[str, str] = {}
        out["src_ip"] = self.value("c-ip") or "null"
        if user := self.value("cs-username", "c-auth-id", "cs-userdn"):
            # TMG writes `anonymous` when the client did not authenticate: no user, not a user of that name.
            out["user_name"] = f"case when lower({user}) <> 'anonymous' then {user} end"
        if method := self.value("cs-method", "s-operation"):
            out["http_method"] = f"upper({method})"
        out.update(self._host())
        code_status = self.value("x-resultcode-httpstatus")
        status = self.value("sc-status", "sc-http-status") or (
            f"split_part({code_status}, '/', 2)" if code_status else None)
        if status:
            # TMG puts Windows error numbers (10060, 12209) where a status goes: not HTTP statuses.
            out["http_status"] = (f"case when try_cast({status} as integer) between 100 and 599 "
                                  f"then try_cast({status} as integer) end")
        out["action"] = self._action(code_status)
        out["bytes_out"] = self._integer(self.value("cs-bytes"))
        out["bytes_in"] = self._integer(self.value("sc-bytes"))
        out["duration_ms"] = self._duration()
        out["user_agent"] = self.value("cs(user-agent)", "c-agent") or "null"
        out["content_type"] = self.value("rs(content-type)", "sc(content-type)", "cs-mime-type") or "null"
        # The proxy's own view: ProxySG's application name and categories, Cisco WSA's AVC application
        # and web category (its full name, else its code).
        app = self.value("x-bluecoat-application-name", "x-avc-app")
        out["vendor_app"] = f"case when lower({app}) not in ('none', 'unknown') then {app} end" if app else "null"
        out["vendor_category"] = self.value("cs-categories", "sc-filter-category", "x-webcat-code-full",
                                            "x-webcat-code-abr") or "null"
        return out

    def _host(self) -> dict[str, str]:
        url = self.value("cs-url", "cs-uri")
        named = self.value("cs-host", "r-host", "s-hostname")
        host_header = self.value("cs(host)")
        proxysg = any(name in self.fields for name in PROXYSG_FIELDS)
        named_host = f"hostport_host({named})" if named else "null"
        header_host = f"hostport_host({host_header})" if host_header else "null"
        out = {
            "host": f"coalesce(url_host, {named_host}, {header_host})",
            "host_source": (
                f"case when coalesce(url_host, {named_host}) is not null"
                " then case when is_connect then 'connect' else 'url' end"
                f" when {header_host} is not null then 'http_host' else 'none' end"
            ),
        }
        server_ip = None if proxysg else self.value("s-ip")
        ips = [f for f in (self.value("r-ip", "s-supplier-ip"), server_ip) if f]
        out["dst_ip"] = f"coalesce({', '.join([*ips, 'case when is_ip_literal(url_host) then url_host end'])})"
        server_port = None if proxysg else self.value("s-port")
        ports = [f"try_cast({f} as integer)" for f in (self.value("r-port", "cs-uri-port"), server_port) if f]
        out["dst_port"] = f"coalesce({', '.join([*ports, 'hostport_port(hostport)'])})"
        scheme = self.value("cs-uri-scheme", "cs-protocol")
        schemes = [f"lower({scheme})"] if scheme else []
        if url:
            schemes.append(f"url_scheme({url})")
        out["network_protocol"] = f"case when not is_connect then coalesce({', '.join([*schemes, 'null'])}) end"
        paths = ["rest_path(rest)", "case when contains(bare, '/') then rest_path(bare) end"]
        if url:
            paths.append(f"case when starts_with({url}, '/') then split_part({url}, '?', 1) end")
        if stem := self.value("cs-uri-stem", "cs-uri-path"):
            paths.append(stem)
        out["url_path"] = f"case when not is_connect then coalesce({', '.join(paths)}) end"
        return out

    def _action(self, code_status: str | None) -> str:
        """Every verdict the fields carry, each allowed/blocked/null: any block wins, then any allow."""
        verdicts = []
        if word := self.value("sc-filter-result"):
            verdicts.append(f"verdict_word_action({word})")
        if tag := self.value("x-acltag"):
            verdicts.append(
                f"nullif(wsa_acl_action(regexp_replace(split_part({tag}, '-', 1), '_\\d+$', ''), ''), 'unknown')"
            )
        codes = [self.value("s-action"), self.value("sc-result-code", "x-result-code"),
                 f"split_part({code_status}, '/', 1)" if code_status else None]
        verdicts += [f"nullif(squid_result_action({code}), 'unknown')" for code in codes if code]
        if word := self.value("action", "sc-action", "x-action"):
            verdicts.append(f"verdict_word_action({word})")
        if not verdicts:
            return "'unknown'"
        listed = ", ".join(verdicts)
        return (f"case when 'blocked' in ({listed}) then 'blocked' when 'allowed' in ({listed}) then 'allowed' "
                "else 'unknown' end")

    def _duration(self) -> str:
        if taken := self.value("time-taken"):
            seconds = f"try_cast({taken} as double)"
            return (f"case when contains({taken}, '.') then try_cast(round({seconds} * 1000) as bigint)"
                    f" else try_cast({taken} as bigint) end")
        return self._integer(self.value("x-elapsed-time", "timetakenms"))

    @staticmethod
    def _integer(column: str | None) -> str:
        return f"try_cast({column} as bigint)" if column else "null"


def values_table(lines: pa.Table, used: dict[int, str]) -> pa.Table:
    """`vals(line_no, n, v<position>...)`: the number of values on each line and the used ones (1-based
    positions), each unquoted, trimmed, null when `-` or empty. Split with pyarrow: values are separated by
    one space (IIS, ProxySG) or padded with several, or tabs (Oracle); strings may be quoted."""
    text = lines.column("line").combine_chunks()
    if pc.any(pc.match_substring(text, "\t")).as_py():
        text = pc.replace_substring(text, "\t", " ")
    counts, values = fields_in_slices(text, _split_values, [position - 1 for position in sorted(used)])
    columns = {"line_no": lines.column("line_no"), "n": pc.cast(counts, pa.int64())}
    for (_, name), encoded in zip(sorted(used.items()), values, strict=True):
        # once per distinct value: most columns repeat a few values (addresses, statuses, hosts, agents)
        value = space_trimmed(quoted_value(encoded.dictionary, " "))
        value = only_where(value, pc.and_(pc.not_equal(value, "-"), pc.not_equal(value, "")))
        columns[name] = dictionary_array(encoded.indices, value)
    return pa.table(columns)


def _split_values(text: pa.Array) -> pa.ListArray:
    """Lines split at single spaces, or (a line padded with several) at runs of them."""
    padded = pc.match_substring(text, "  ")
    if pc.all(pc.invert(padded)).as_py():
        return split_quoted(text, " ")
    # padded lines lose their empty values (and their leading and trailing spaces)
    tokens = without_empty(split_quoted(pc.utf8_trim(text, " "), " "))
    return tokens if pc.all(padded).as_py() else pc.if_else(padded, tokens, split_quoted(text, " "))


BLANK = " \t\ufeff"
NO_FIELDS_REASON = "no #Fields directive before this line: W3C extended logs name their columns in one"


def new_parser(context: ParseContext) -> HeaderedParser:
    """Batches parsed under the #Fields (and #Date, #GMT-Offset) in force at their start."""
    for macros in (PROXY_MACROS, WSA_MACROS):
        context.connection.execute(macros)
    queries: dict[tuple[object, ...], tuple[str, dict[str, object], dict[int, str]]] = {}

    def parse_segment(lines: pa.Table, header: Header) -> ParseResult:
        if not header.fields:
            query = "select line_no, $reason as reject_reason, false as is_ignored from lines"
            return run_parse_query(context, query, lines, reason=NO_FIELDS_REASON)
        key = (header.fields, header.date, header.gmt_offset_minutes)
        if key not in queries:  # built twice at worst when two threads meet a new header at once
            builder = QueryBuilder(header.fields, header)
            queries[key] = (*builder.build(), builder.used)
        query, params, used = queries[key]
        with parse_cursor(context.connection) as cursor:
            cursor.register("vals", values_table(lines, used))
            parameters = {"tz": context.timezone, **params} if "$tz" in query else params
            return split_outcomes(cursor.sql(query, params=parameters).to_arrow_table(), lines)

    def parse(lines: pa.Table, header: Header) -> ParseResult:
        directive_rows, directives = _directives(lines)
        results: list[ParseResult] = []
        start = 0
        # A loop over the (few) directive lines only; the data lines between them are parsed in bulk.
        for row, directive in zip(directive_rows, directives, strict=True):
            if row > start:
                results.append(parse_segment(lines.slice(start, row - start), header))
            header = header.applied(directive.strip(BLANK))
            start = row + 1
        if start < lines.num_rows:
            results.append(parse_segment(lines.slice(start), header))
        return combine(results, ignored=len(directive_rows))

    return HeaderedParser(start=Header(), carry=_carry_header, parse=parse)


def _directives(lines: pa.Table) -> tuple[list[int], list[str]]:
    """The rows and texts of a batch's directive lines (a UTF-8 byte order mark may precede the first)."""
    text = lines.column("line")
    rows = pc.indices_nonzero(pc.starts_with(pc.utf8_ltrim(text, characters=BLANK), "#")).to_pylist()
    return rows, (pc.take(text, rows).to_pylist() if rows else [])


def _carry_header(lines: pa.Table, header: Header) -> Header:
    for directive in _directives(lines)[1]:
        header = header.applied(directive.strip(BLANK))
    return header


def combine(results: list[ParseResult], ignored: int) -> ParseResult:
    """One ParseResult from the segments of a batch (every W3C query returns the same columns)."""
    events = [r.events for r in results if r.events.num_rows]
    return ParseResult(
        events=pa.concat_tables(events) if events else pa.table({"line_no": pa.array([], pa.int64())}),
        rejects=pa.concat_tables([r.rejects for r in results]) if results else REJECTS_OF_BATCH.empty_table(),
        ignored=ignored + sum(r.ignored for r in results),
    )


def sniff(lines: Sequence[str]) -> float:
    """Share of directive lines and of data lines with as many values as the last #Fields names."""
    if not lines or not any(_FIELDS.match(line.lstrip(BLANK)) for line in lines):
        return 0.0
    count = None
    matching = 0
    for line in (text.lstrip(BLANK) for text in lines):
        if line.startswith("#"):
            if _FIELDS.match(line):
                count = len(line.split(":", 1)[1].split())
            matching += bool(_DIRECTIVE.match(line))
        elif count is not None and len(_TOKEN.findall(line)) == count:
            matching += 1
    return matching / len(lines)


W3C = Format(
    name="w3c",
    source_kind="proxy",
    summary="W3C extended log format with #Fields (ProxySG ELFF, TMG/ISA, Cisco WSA W3C, IIS)",
    sniff=sniff,
    new_parser=new_parser,
    independent_batches=True,
    fields=(
        "ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
        "http_method", "url_path", "http_status", "action", "bytes_out", "bytes_in", "duration_ms",
        "user_agent", "content_type", "vendor_app", "vendor_category",
    ),
)
