"""Cisco Umbrella logs as exported to S3 (CSV, every field double-quoted, times in UTC, no header unless
the optional log header is switched on, which we count as ignored).

`umbrella_dns` (DNS Log Formats):
    "timestamp","most granular identity","identities","internal ip","external ip","action",
    "query type","response code","domain","categories"[,"most granular identity type","identity types",
    "blocked categories", ...]
Older exports have only the first ten columns, and files exist with an extra identity column before the
internal IP, so the columns are found from the action column (`Allowed` / `Blocked`), not by count.
`query type` reads `1 (A)`: the type is the name in brackets. The domain ends with a dot.

`umbrella_proxy` (Web / proxy Log Formats):
    "timestamp","policy identity label","internal client ip","external client ip","destination ip",
    "content type","action","url","referer","user agent","status code","request size","response size",
    "response body size","sha256","categories","av detections","puas","amp disposition","amp malware name",
    "amp score","policy identity type","blocked categories","identities","identity types",
    "request method", ...
Early exports put an identities list in the third column and have no destination IP; a third column that
is not an address marks that layout. Request size is what the client sent: bytes_out.

Umbrella's content categories of the destination (`categories`, a comma-separated list such as
`Software/Technology,Business Services`) are kept as vendor_category, as logged.

Users: an Umbrella identity can be an AD user, a computer, a network or a site. A user name is only taken
from identities whose type says user (`AD Users`, `Users` ...), pairing the identities list with the
identity types list when both have the same length; computers and networks are not users. The same way, the
client's name (src_host) is an identity whose type says computer or roaming client (`Roaming Computers`,
`AD Computers`, `Anyconnect Roaming Client`): a roaming laptop's internal IP is an address of whatever network
it is on, its name is what attributes it (workstations.csv). The proxy log's
policy identity is one identity where its type is one type: an AD user's label may hold a comma (`Vries, Jan de
(j.devries@example.nl)`, a display name written surname first).
The proxy lines are split by a compiled kernel (umbrella_scan.split_spans, `_ScannedFields`) whose fields
texts_scan.DistinctTexts numbers per column, where pyarrow's split copied the first 27 fields of every line into
lists and dictionary_encode hashed them all (a third of the ingest's CPU): whole ingest of the benchmark's basic
sample (CPU, old/new interleaved, load ~8-10): 1M lines 3.99-4.14 -> 3.14-3.73 s, 4M lines 14.6-15.2 -> 8.5-8.9 s;
peak RSS at 4M ~690 MiB either way (Numba, now loaded, turns on the reader's compiled line cutting). The DNS export
keeps the pyarrow split (`_Fields`: its action column is found by value, among all the columns).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, dictionary_array, only_where
from detector.ingest.base import (
    BatchParser,
    Format,
    ParseContext,
    line_share,
)
from detector.ingest.distinct_sql import (
    BIGINT_SQL,
    HOSTPORT_SQL,
    encoded,
    integers,
    plain,
    sliced_parser,
    through,
    url_parts,
)
from detector.ingest.key_values import in_line_order
from detector.ingest.layout_bytes import line_bytes
from detector.schema import TIMESTAMP

# The S3 export's optional header row starts with a column name instead of a time.
_HEADER_WORDS = "('timestamp', 'time', 'date', 'datetime')"


# Identity types (lower case) that name users, and those that name a computer
USER_TYPE = "{} like '%user%'"
COMPUTER_TYPE = "({0} like '%computer%' or {0} like '%roaming%')"


def _among(ids: str, types: str, kind: str = USER_TYPE) -> str:
    """SQL `when ... then ...`: the first identity of the comma-separated `ids` whose type, at the same
    place in `types`, is of `kind` (users, computers); only when both lists have the same length (else the pairs
    are unknown)."""
    ids_list, types_list = f"string_split({ids}, ',')", f"string_split({types}, ',')"
    return (
        f"when {kind.format(f'lower({types})')} and len({ids_list}) = len({types_list})\n"
        f"                then trim(list_filter(list_zip({ids_list}, {types_list}),"
        f" lambda x: {kind.format('lower(x[2])')})[1][1])"
    )


# Both exports are parsed in Arrow: every field is quoted, so a line splits at `","` (pyarrow's string kernels
# cost a fraction of DuckDB's per line). Each column read is dictionary-encoded once (`_Fields`), and every
# step after that (trimming a quote, a URL's parts, the shared macros' meaning of a host, a time or a user)
# works on its distinct values only, through SQL once per file (see distinct_sql.py).
# (the first column still has the line's opening quote)
TIME_SQL = f"""
select lower(time_text) in {_HEADER_WORDS} as is_header,
    timezone('UTC', try_strptime(time_text, '%Y-%m-%d %H:%M:%S')) as ts, time_text
from (select ltrim(value, '"') as time_text from distinct_values)
"""
# identities and their types, joined by a unit separator (a key per distinct combination; chr(30) is null)
_PARTS = ", ".join(f"nullif(split_part(value, chr(31), {i}), chr(30)) as {name}" for i, name in
                   enumerate(("granular", "granular_type", "identities", "identity_types"), start=1))
DNS_USER_SQL = f"""
select case
        when granular_type ilike '%user%' then granular
        {_among("identities", "identity_types")}
    end as user_name,
    case
        when {COMPUTER_TYPE.format("lower(granular_type)")} then granular
        {_among("identities", "identity_types", COMPUTER_TYPE)}
    end as src_host
from (select {_PARTS} from distinct_values)
"""
PROXY_USER_SQL = f"""
select case
        when granular_type ilike '%user%' and not (contains(granular, ',') and contains(granular_type, ','))
            then granular
        {_among("granular", "granular_type")}
        {_among("identities", "identity_types")}
    end as user_name,
    case
        when {COMPUTER_TYPE.format("lower(granular_type)")} and not contains(granular, ',') then granular
        {_among("identities", "identity_types", COMPUTER_TYPE)}
    end as src_host
from (select {_PARTS} from distinct_values)
"""
LOWER_SQL = "select lower(value) as value from distinct_values"
QTYPE_SQL = """
select case when contains(value, '(') then split_part(split_part(value, '(', 2), ')', 1)
            else nullif(value, '') end as value
from distinct_values
"""
RCODE_SQL = "select nullif(upper(value), '') as value from distinct_values"
DOMAIN_SQL = "select clean_host(value) as value from distinct_values"
# (a user agent of one space, as Umbrella logs some clients', is none either)
EMPTY_SQL = "select case when trim(value) <> '' then value end as value from distinct_values"
CURRENT_SQL = r"""
select value = '' or regexp_full_match(value, '\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*') as value
from distinct_values
"""
# (a quote in the verdict is a separator with a space after it, read as one column with the next: see _respaced)
VERDICT_SQL = """
select case when contains(value, '"') then 'unknown'
            when upper(value) like 'ALLOW%' then 'allowed' when upper(value) like 'BLOCK%' then 'blocked'
            else 'unknown' end as value
from distinct_values
"""
METHOD_SQL = "select nullif(upper(value), '') as value from distinct_values"
STATUS_SQL = "select nullif(try_cast(value as integer), 0) as value from distinct_values"


class _Queries:
    """The per-distinct queries of one file's parse, each remembering its answers across the batches."""

    def __init__(self, user_sql: str) -> None:
        self.time = DistinctQuery(TIME_SQL)
        self.user = DistinctQuery(user_sql)
        self.lower = DistinctQuery(LOWER_SQL)
        self.qtype = DistinctQuery(QTYPE_SQL)
        self.rcode = DistinctQuery(RCODE_SQL)
        self.domain = DistinctQuery(DOMAIN_SQL)
        self.empty = DistinctQuery(EMPTY_SQL)
        self.current = DistinctQuery(CURRENT_SQL)
        self.verdict = DistinctQuery(VERDICT_SQL)
        self.method = DistinctQuery(METHOD_SQL)
        self.status = DistinctQuery(STATUS_SQL)
        self.bigint = DistinctQuery(BIGINT_SQL)
        self.hostport = DistinctQuery(HOSTPORT_SQL)
        self.scheme = DistinctQuery(LOWER_SQL)


def _arrow_parser(columns: Callable[[duckdb.DuckDBPyConnection, _Queries, pa.Table], pa.Table], user_sql: str
                  ) -> Callable[[ParseContext], BatchParser]:
    def new_parser(context: ParseContext) -> BatchParser:
        queries = _Queries(user_sql)
        return sliced_parser(context, lambda cursor, part: _respaced(columns, cursor, queries, part))

    return new_parser


# Cisco's own examples of the logs (DNS Log Formats: `"ActiveDirectoryUserName", "ActiveDirectoryUserName,ADSite,
# Network", "10.10.1.100",...`) put a space after some of the separating commas; such lines split at `","` into
# too few columns. They are read again, their separators made plain, where the plain reading found no verdict.
_SPACED_SEPARATOR = r'"[ \t]*,[ \t]*"'
_SPACE_AT_SEPARATOR = r'"(?:[ \t]+,[ \t]*|,[ \t]+)"'


def _without_verdict(action: pa.ChunkedArray) -> pa.ChunkedArray:
    """Per line, whether its action is neither allowed nor blocked; looked at in the dictionary (no per-line
    work where every action is one of the two, as in a plain file)."""
    chunks = []
    for chunk in action.chunks:
        if not pa.types.is_dictionary(chunk.type):
            chunk = pc.dictionary_encode(chunk)
        other = pc.invert(pc.is_in(chunk.dictionary, value_set=pa.array(["allowed", "blocked"])))
        if chunk.null_count == 0 and not pc.any(other).as_py():
            chunks.append(pa.repeat(pa.scalar(False), len(chunk)))
        else:
            chunks.append(pc.fill_null(pc.array_take(other, chunk.indices), True))
    return pa.chunked_array(chunks, pa.bool_())


def _respaced(columns: Callable[[duckdb.DuckDBPyConnection, _Queries, pa.Table], pa.Table],
              connection: duckdb.DuckDBPyConnection, queries: _Queries, lines: pa.Table) -> pa.Table:
    """`columns` of the lines, with the lines whose reading found no Allowed/Blocked verdict (rejected, or an
    unknown action) and whose separators have spaces read again without the spaces: only those lines, so that
    the plain reading costs nothing more."""
    table = columns(connection, queries, lines)
    suspect = pc.or_(pc.is_valid(table.column("reject_reason")), _without_verdict(table.column("action")))
    if not pc.any(suspect).as_py():
        return table
    rows = pc.indices_nonzero(suspect)
    text = lines.column("line").take(rows)
    spaced = pc.fill_null(pc.match_substring_regex(text, _SPACE_AT_SEPARATOR), False)
    if not pc.any(spaced).as_py():
        return table
    rows = rows.filter(spaced)
    again = lines.take(rows).set_column(
        lines.schema.get_field_index("line"), "line",
        pc.replace_substring_regex(text.filter(spaced), _SPACED_SEPARATOR, '","'))
    keep = np.ones(len(lines), np.bool_)
    keep[rows.to_numpy()] = False
    return in_line_order(table.filter(pa.array(keep)), columns(connection, queries, again), keep)


class _Fields:
    """A slice of lines split at `","`, every field dictionary-encoded in one go (one hash table for all the
    columns costs less than one per column); a column read is its fields' codes, renumbered to its own values.

    With `columns`, a line is split no further than that: the last field holds the rest of the line and the
    count stops at `columns` + 1 (for layouts whose later columns are not read).
    """

    def __init__(self, lines: pa.Table, columns: int | None = None) -> None:
        column = lines.column("line")
        text = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
        self.lists = pc.split_pattern(text, '","', max_splits=columns)
        self.count = pc.list_value_length(self.lists)
        self.quoted = pc.starts_with(text, '"')
        self.rows = len(text)
        items = pc.dictionary_encode(self.lists.values)  # (a fresh split: its offsets start at 0)
        self._codes, self.values = items.indices.to_numpy(), items.dictionary
        self._starts, self._lengths = self.lists.offsets.to_numpy()[:-1], self.count.to_numpy()
        self._encoded: dict[tuple[int, int], pa.DictionaryArray] = {}

    def encoded(self, at: int | np.ndarray, since: int = 0) -> pa.DictionaryArray:
        """Column `at` (0-based; or per line, where the layouts differ) dictionary-encoded; null where a line
        has no such field, or fewer than `since` fields."""
        if not isinstance(at, int):
            return self._renumbered(self.codes(at, since))
        if (at, since) not in self._encoded:
            self._encoded[at, since] = self._renumbered(self.codes(at, since))
        return self._encoded[at, since]

    def among(self, at: int, wanted: np.ndarray) -> np.ndarray:
        """Per line, whether field `at` is one of the values `wanted` marks (a mask over `values`; a line
        without the field reads the False appended at code -1)."""
        return np.append(wanted, False)[self.codes(at)]

    def codes(self, at: int | np.ndarray, since: int = 0) -> np.ndarray:
        """Per line, the code (in `values`) of field `at` (or per line: -1 for none); -1 where there is none,
        or fewer than `since` fields."""
        found = self._codes[np.clip(self._starts + at, 0, len(self._codes) - 1)]
        found[(self._lengths <= at) | (self._lengths < since) | (at < 0)] = -1
        return found

    def text(self, codes: np.ndarray) -> pa.Array:
        """The values of `codes` (null for -1)."""
        return self.values.take(pa.array(codes, mask=codes < 0))

    def _renumbered(self, codes: np.ndarray) -> pa.DictionaryArray:
        """Codes in `values` -> a dictionary array of the values they use."""
        renumbered = pc.dictionary_encode(pa.array(codes, mask=codes < 0))
        return pa.DictionaryArray.from_arrays(renumbered.indices, self.values.take(renumbered.dictionary))


class _ScannedFields:
    """A slice of lines split at `","` as `_Fields` splits them with `columns` (pc.split_pattern's max_splits), by a
    compiled kernel (umbrella_scan.split_spans: one pass over each line's bytes up to its last split, no copy of its
    fields) whose spans of the columns `read` texts_scan.DistinctTexts numbers by their texts, per column. `values`
    holds every column's texts one after the other, so that a column's codes in it are its own plus a shift. Where
    `_Fields` copied all the fields of every line into lists and hashed them all (~27 a proxy line, 17 of them read)."""

    def __init__(self, lines: pa.Table, columns: int, read: Sequence[int]) -> None:
        from detector.ingest import texts_scan, umbrella_scan

        self._slot = {column: slot for slot, column in enumerate(read)}
        slot_of_column = np.full(max(read) + 1, -1, np.int64)
        slot_of_column[list(read)] = np.arange(len(read))
        self.rows = rows = lines.num_rows
        count, quoted = np.empty(rows, np.int32), np.zeros(rows, np.bool_)
        self._codes = np.empty((len(read), rows), np.int32)
        distinct = texts_scan.DistinctTexts()
        start = 0
        for chunk in lines.column("line").chunks:
            _, data, offsets = line_bytes(chunk)
            size = len(chunk)
            begin, end = np.empty((size, len(read)), np.int32), np.empty((size, len(read)), np.int32)
            missing, chunk_count = np.empty((size, len(read)), np.bool_), np.empty(size, np.int32)
            umbrella_scan.split_spans(data, offsets, columns, slot_of_column, begin, end, missing, chunk_count)
            count[start:start + size] = chunk_count
            filled = offsets[1:] > offsets[:-1]
            quoted[start:start + size][filled] = data[offsets[:-1][filled]] == ord('"')
            self._codes[:, start:start + size] = distinct.read(data, begin, end, missing,
                                                               np.arange(len(read), dtype=np.int64),
                                                               np.empty(0, np.int64))[0]
            start += size
        self._dictionaries = distinct.dictionaries(len(read))
        self._shift = np.cumsum([0] + [len(dictionary) for dictionary in self._dictionaries])
        self.values = pa.concat_arrays(self._dictionaries) if read else pa.array([], pa.string())
        self._count = count
        self.count, self.quoted = pa.array(count), pa.array(quoted)
        self._encoded: dict[tuple[int, int], pa.DictionaryArray] = {}

    def encoded(self, at: int | np.ndarray, since: int = 0) -> pa.DictionaryArray:
        """Column `at` (0-based; or per line, where the layouts differ) dictionary-encoded; null where a line
        has no such field, or fewer than `since` fields."""
        if not isinstance(at, int):
            codes = self.codes(at, since)
            renumbered = pc.dictionary_encode(pa.array(codes, mask=codes < 0))
            return pa.DictionaryArray.from_arrays(renumbered.indices, self.values.take(renumbered.dictionary))
        if (at, since) not in self._encoded:
            codes = self._own_codes(at, since)
            absent = codes < 0
            self._encoded[at, since] = pa.DictionaryArray.from_arrays(
                pa.array(codes, mask=absent if absent.any() else None), self._dictionaries[self._slot[at]])
        return self._encoded[at, since]

    def codes(self, at: int | np.ndarray, since: int = 0) -> np.ndarray:
        """Per line, the code (in `values`) of field `at` (or per line: -1 for none); -1 where there is none,
        or fewer than `since` fields."""
        if isinstance(at, int):
            codes = self._own_codes(at, since)
            return np.where(codes < 0, -1, codes + self._shift[self._slot[at]])
        found = np.full(self.rows, -1, np.int64)
        for column in np.unique(at[at >= 0]).tolist():
            rows = at == column
            found[rows] = self.codes(column, since)[rows]
        return found

    def text(self, codes: np.ndarray) -> pa.Array:
        """The values of `codes` (null for -1)."""
        return self.values.take(pa.array(codes, mask=codes < 0))

    def _own_codes(self, at: int, since: int) -> np.ndarray:
        """Column `at`'s codes in its own dictionary, -1 where there is none or fewer than `since` fields."""
        codes = self._codes[self._slot[at]]
        return np.where(self._count < since, -1, codes) if since else codes


def _has_quote(values: pa.DictionaryArray) -> pa.Array:
    """Per line, whether the column's text has a quote (looked for once per distinct value)."""
    return pc.array_take(pc.match_substring(values.dictionary, '"'), values.indices)


def _bigints(connection: duckdb.DuckDBPyConnection, queries: _Queries, values: pa.DictionaryArray) -> pa.Array:
    """Text -> int64, read once per distinct value (see `integers`: Arrow's cast for plain digits)."""
    return integers(connection, queries.bigint, values.dictionary, pa.int64()).take(values.indices)


def _unquoted_end(values: pa.DictionaryArray) -> pa.DictionaryArray:
    """A field that may be the line's last: without its closing quote (`rtrim(x, '"')`)."""
    return pa.DictionaryArray.from_arrays(values.indices, pc.utf8_rtrim(values.dictionary, '"'))


def _users(connection: duckdb.DuckDBPyConnection, queries: _Queries, fields: _Fields | _ScannedFields,
           granular: np.ndarray, granular_type: np.ndarray, identities: np.ndarray, identity_types: np.ndarray
           ) -> dict[str, pa.Array]:
    """The user and the computer among the identities (their codes in `fields`: `user_name` and `src_host`),
    decided once per distinct combination of identities and types, whose text is put together for those
    combinations only."""
    combination, first = _combinations((granular, granular_type, identities, identity_types), len(fields.values))

    def text(codes: np.ndarray, maybe_last: bool = False) -> pa.Array:  # of each combination
        values = fields.text(codes[first])
        return pc.utf8_rtrim(values, '"') if maybe_last else values

    key = pc.binary_join_element_wise(text(granular), text(granular_type, True), text(identities),
                                      text(identity_types, True), chr(31), null_handling="replace",
                                      null_replacement=chr(30))
    found = through(connection, queries.user, encoded(key))
    rows = pa.array(combination)
    return {name: found[name].take(rows) for name in ("user_name", "src_host")}


def _combinations(columns: Sequence[np.ndarray], values: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the number of its combination of the columns' codes (below `values`; -1 for none), and the
    first row of each combination. Two columns at a time, renumbered after each: the numbers stay below
    rows x (values + 1), so they fit int64."""
    number = np.zeros(len(columns[0]), np.int64)
    for codes in columns:
        number = pc.dictionary_encode(number * (values + 1) + codes + 1).indices.to_numpy().astype(np.int64)
    first = np.full(int(number.max()) + 1 if len(number) else 0, len(number))
    np.minimum.at(first, number, np.arange(len(number)))
    return number, first


# A reject reason: text, or (costly per line) made only when some line has it; None: no reason (ignored).
Reason = str | Callable[[], pa.Array] | None


def _reasons(count: int, *checks: tuple[pa.Array, Reason]) -> pa.Array:
    """The first reason whose condition holds (null: the line parsed); conditions are masks, null = false."""
    reason = pa.nulls(count, pa.string())
    for condition, text in reversed(checks):
        condition = pc.fill_null(condition, False)
        if pc.any(condition).as_py():
            text = text() if callable(text) else text
            reason = pc.if_else(condition, pa.scalar(None, pa.string()) if text is None else text, reason)
    return reason


def _line_checks(is_header: pa.Array, quoted: pa.Array, ts: pa.Array, time_text: pa.Array
                 ) -> list[tuple[pa.Array, Reason]]:
    """The checks of `_reasons` both layouts start with: the header (ignored, no reason), quoting, time."""
    return [
        (is_header, None),
        (pc.invert(quoted), "not a quoted CSV line"),
        (pc.is_null(ts), lambda: pc.binary_join_element_wise(
            "timestamp is not yyyy-mm-dd hh:mm:ss: ", plain(time_text), "")),
    ]


def _time(connection: duckdb.DuckDBPyConnection, queries: _Queries, fields: _Fields | _ScannedFields
          ) -> tuple[pa.Array, pa.Array, pa.Array]:
    """The first column without the line's opening quote, whether it is the header's, and its time."""
    times = through(connection, queries.time, fields.encoded(0))
    return times["time_text"], pc.fill_null(times["is_header"], False), pc.cast(times["ts"], TIMESTAMP)


def _dns_columns(connection: duckdb.DuckDBPyConnection, queries: _Queries, lines: pa.Table) -> pa.Table:
    """Umbrella DNS lines -> schema columns plus reject_reason / is_ignored."""
    fields = _Fields(lines)
    rows, count = fields.rows, fields.count
    time_text, is_header, ts = _time(connection, queries, fields)
    # the action column (0-based 5, else 6, 4 or 7): found by its value, as the layouts differ before it
    is_verdict = pc.is_in(pc.utf8_lower(fields.values), value_set=pa.array(["allowed", "blocked"])).to_numpy(
        zero_copy_only=False)
    found = np.full(rows, -1)
    for at in (7, 4, 6, 5):
        found = np.where(fields.among(at, is_verdict), at, found)
    action_at = pa.array(found, mask=found < 0)
    places = np.unique(found[found >= 0]).tolist() or [5]  # (lines without an action are rejected)

    def place(offset: int) -> int | np.ndarray:
        return places[0] + offset if len(places) == 1 else np.where(found < 0, -1, found + offset)

    def column(offset: int) -> pa.DictionaryArray:
        return fields.encoded(place(offset))
    domain = through(connection, queries.domain, _unquoted_end(column(3)))["value"]
    no_action = pc.is_null(action_at)
    # a quote inside the query type, response code or domain: a separator with a space after it (_respaced)
    quoted = [_has_quote(column(offset)) for offset in (1, 2)] + [_has_quote(_unquoted_end(column(3)))]
    columns = {
        "line_no": lines.column("line_no"),
        "reject_reason": _reasons(
            rows,
            *_line_checks(is_header, fields.quoted, ts, time_text),
            (no_action, lambda: pc.binary_join_element_wise(
                "no Allowed/Blocked action column (Umbrella DNS layout) in ", pc.cast(count, pa.string()),
                " columns", "")),
            (pc.less(count, pc.add(action_at, 4)), "line ends before the domain column"),
            (pc.or_(pc.or_(quoted[0], quoted[1]), quoted[2]), "a quote inside the query type, response code or "
                                                              "domain column"),
            (pc.is_null(domain), "empty domain"),
        ),
        "is_ignored": is_header,
        "ts": ts,
        "network_protocol": pa.repeat(pa.scalar("dns"), rows),
        "src_ip": through(connection, queries.empty, column(-2))["value"],
        **_users(connection, queries, fields, fields.codes(1), fields.codes(place(5)), fields.codes(place(-3)),
                 fields.codes(place(6))),
        "host": domain,
        "host_source": pa.repeat(pa.scalar("dns_query"), rows),
        "dns_qtype": through(connection, queries.qtype, column(1))["value"],
        "dns_rcode": through(connection, queries.rcode, _unquoted_end(column(2)))["value"],
        "action": through(connection, queries.lower, column(0))["value"],
        "vendor_category": through(connection, queries.empty, _unquoted_end(column(4)))["value"],
    }
    return pa.table(columns)


# the proxy columns read (0-based): time, identity, internal ip (or identities), ..., request method
_PROXY_READ = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 15, 21, 23, 24, 25)


def _proxy_columns(connection: duckdb.DuckDBPyConnection, queries: _Queries, lines: pa.Table) -> pa.Table:
    """Umbrella proxy lines -> schema columns plus reject_reason / is_ignored."""
    # the 26 columns (request method is the last); a count above 26 only needs to say "more"
    fields = _ScannedFields(lines, 26, _PROXY_READ)
    rows, count, column = fields.rows, fields.count, fields.encoded
    time_text, is_header, ts = _time(connection, queries, fields)
    # the third column is the internal client IP, except in early exports (an identities list)
    current = pc.fill_null(through(connection, queries.current, column(2))["value"], False)
    internal = column(2) if pc.all(current).as_py() else column(np.where(current.to_numpy(zero_copy_only=False), 2, 3))
    url = column(7)
    # the URL's parts, per distinct URL
    scheme, _, authority, path = url_parts(url.dictionary)
    place = through(connection, queries.hostport, encoded(authority))
    host = place["host"].take(url.indices)
    columns = {
        "line_no": lines.column("line_no"),
        "reject_reason": _reasons(
            rows,
            *_line_checks(is_header, fields.quoted, ts, time_text),
            (pc.less(count, 13), lambda: pc.binary_join_element_wise(
                "expected at least 13 columns (Umbrella proxy layout), found ", pc.cast(count, pa.string()), "")),
            (pc.is_null(host), lambda: pc.binary_join_element_wise("no host in the URL column: ", plain(url), "")),
        ),
        "is_ignored": is_header,
        "ts": ts,
        "src_ip": through(connection, queries.empty, internal)["value"],
        **_users(connection, queries, fields, fields.codes(1), fields.codes(21), fields.codes(23, since=25),
                 fields.codes(24, since=25)),
        "host": host,
        "host_source": pa.repeat(pa.scalar("url"), rows),
        "dst_ip": only_where(through(connection, queries.empty, column(4))["value"], current),
        "dst_port": place["dst_port"].take(url.indices),
        "network_protocol": through(connection, queries.scheme, encoded(scheme))["value"].take(url.indices),
        "http_method": through(connection, queries.method, _unquoted_end(column(25, since=26)))["value"],
        "url_path": dictionary_array(url.indices, path),
        "http_status": through(connection, queries.status, column(10))["value"],
        "action": through(connection, queries.verdict, column(6))["value"],
        "bytes_out": _bigints(connection, queries, column(11)),
        "bytes_in": _bigints(connection, queries, column(12)),
        "user_agent": through(connection, queries.empty, column(9))["value"],
        "content_type": through(connection, queries.empty, column(5))["value"],
        "vendor_category": through(connection, queries.empty, _unquoted_end(column(15, since=16)))["value"],
    }
    return pa.table(columns)


_TIME = r'^"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d",'

DNS = Format(
    name="umbrella_dns",
    source_kind="dns",
    summary="Cisco Umbrella DNS log, S3 CSV export (all layout versions)",
    sniff=line_share(_TIME + r'.*"(?:Allowed|Blocked)", *"\d+ \([^)"]*\)", *"[A-Z]*", *"'),
    new_parser=_arrow_parser(_dns_columns, DNS_USER_SQL),
    independent_batches=True,
    fields=("ts", "src_ip", "src_host", "user_name", "host", "host_source", "network_protocol", "action",
            "dns_qtype", "dns_rcode", "vendor_category"),
)

PROXY = Format(
    name="umbrella_proxy",
    source_kind="proxy",
    summary="Cisco Umbrella web (proxy) log, S3 CSV export",
    sniff=line_share(_TIME + r'(?: *"[^"]*",){5} *"[A-Z]+", *"[A-Za-z][A-Za-z0-9+.-]*://'),
    new_parser=_arrow_parser(_proxy_columns, PROXY_USER_SQL),
    independent_batches=True,
    fields=("ts", "src_ip", "src_host", "user_name", "host", "host_source", "dst_ip", "dst_port",
            "network_protocol", "http_method", "url_path", "http_status", "action", "bytes_out", "bytes_in",
            "user_agent", "content_type", "vendor_category"),
)
