"""What Defender for Endpoint's network inspection records say in AdditionalFields: DNS lookups, HTTP requests, TLS.

Defender's Zeek-based network protocol parsing (Microsoft, "Enrich your advanced hunting experience using network
layer signals from Zeek",
https://techcommunity.microsoft.com/t5/microsoft-defender-for-endpoint/enrich-your-advanced-hunting-experience-using-network-layer/ba-p/3794693)
writes DeviceNetworkEvents rows whose ActionType names the protocol and whose AdditionalFields hold the Zeek record:

- DnsConnectionInspected, Zeek's dns.log: `direction` (Out: the device asked; In: it was asked), `query`,
  `qtype_name`, `rcode_name`, `answers` (a JSON array, itself written as a JSON string) and more (the streamed record in
  elastic/integrations packages/m365_defender/data_stream/event/_dev/test/pipeline/test-device.log, and that package's
  pipeline_device.yml, which reads the same keys). The answers carry no record types: the data without spaces are kept
  (addresses, CNAME and other names; Zeek writes TXT data as `TXT <length> <text>`), lower case, no trailing dot.
- HttpConnectionInspected, Zeek's http.log: `direction`, `host` (the Host header, `host[:port]`), `uri` (the request
  target: a path and query, or a whole URL in a request to a proxy), `method`, `user_agent`, `request_body_len` and
  `response_body_len` (the uncompressed sizes of the bodies the client and the server sent: Zeek's HTTP::Info,
  https://docs.zeek.org/en/master/logs/http.html), `status_code`, `status_msg`, `trans_depth`, `tags`, `version`.
- SslConnectionInspected, Zeek's ssl.log: `direction`, `server_name` (the TLS SNI the client sent), `version`,
  `established`, `cipher`, `next_protocol` ... (https://docs.zeek.org/en/master/logs/ssl.html).

Public KQL hunting queries read these keys by the same names (`AdditionalFields.host`, `.uri`, `.method`,
`.user_agent`, `.request_body_len`, `.response_body_len`, `.status_code`, `.direction`; `.server_name`,
`.established`), e.g. the ClearFake, DarkGate and BunnyLoader detections of the GitHub hunting-query collections.

A request body is what the client sent (bytes_out, upload), a response body what the server sent (bytes_in): the
bodies only, without headers, and uncompressed: near, not equal to, the bytes on the wire. A record the
device was the server of (direction In) has the remote end as its client (see the callers).

AdditionalFields is JSON text in most streamed records and an object in some (and text in a CSV export): all are read
by INSPECTED_KEYS_SQL. Used by defender.py (the streaming API) and csv_generic.py (advanced hunting exports).
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, only_where, per_distinct, spread
from detector.ingest.distinct_sql import plain
from detector.ingest.proxy_columns import UrlQueries, constant_text, first_valid, hostports, url_columns

# The ActionTypes (lower case), in the order of their kind: 0 DNS, 1 HTTP, 2 TLS; and each kind's network_protocol.
INSPECTED_ACTIONS = ("dnsconnectioninspected", "httpconnectioninspected", "sslconnectioninspected")
DNS, HTTP, TLS = range(3)
PROTOCOLS = pa.array(["dns", "http", "tls"])
# The keys read, of all three kinds at once (one extraction; a kind's other keys are absent, null).
KEYS = ("direction", "query", "qtype_name", "rcode_name", "answers", "host", "uri", "method", "user_agent",
        "request_body_len", "response_body_len", "status_code", "server_name")


def keys_sql(fields: str) -> str:
    """SQL: the values of KEYS (a list, in their order) of the JSON `fields`: an object, JSON text of one, or a JSON
    string holding that text. `try`: null where it is no JSON."""
    paths = ", ".join(f"'$.{key}'" for key in KEYS)
    return (f"try(json_extract_string(case when json_type({fields}) = 'VARCHAR' then {fields}->>'$' else {fields} end, "
            f"[{paths}]))")


# Each kind's own keys (inspected_columns reads no other kind's): a record's AdditionalFields read in the streaming
# API's query (kind_keys_sql) looks up only its kind's.
KIND_KEYS = (("direction", "query", "qtype_name", "rcode_name", "answers"),
             ("direction", "host", "uri", "method", "user_agent", "request_body_len", "response_body_len",
              "status_code"),
             ("direction", "server_name"))


def kind_keys_sql(fields: str, action: str) -> str:
    """SQL: per kind, a column `keys{kind}` of KIND_KEYS' values (a list) of the JSON text `fields` where the lower
    case `action` names that kind (null elsewhere, and where `fields` is no JSON): one parse of the text, of the
    rows of an inspection record only. Read by columns_sql(kind_key_sql())."""
    return ", ".join(
        f"case when {action} = '{name}' then try(json_extract_string({fields}, "
        f"[{', '.join(repr(f'$.{key}') for key in keys)}])) end as keys{kind}"
        for kind, (name, keys) in enumerate(zip(INSPECTED_ACTIONS, KIND_KEYS, strict=True)))


def kind_key_sql() -> dict[str, str]:
    """Each key of KEYS as kind_keys_sql's columns give it (a key of several kinds: the first that has it)."""
    found: dict[str, list[str]] = {key: [] for key in KEYS}
    for kind, keys in enumerate(KIND_KEYS):
        for at, key in enumerate(keys, start=1):
            found[key].append(f"keys{kind}[{at}]")
    return {key: ref[0] if len(ref) == 1 else f"coalesce({', '.join(ref)})" for key, ref in found.items()}


# Each key's columns (those inspected_columns reads), as SQL of the key's value `{0}`, in the order of KEYS. A request
# target starting with `/` is a path (its query and fragment cut off); one with a scheme is a whole URL (a request to a
# proxy), read by url_columns.
KEY_COLUMNS = (
    ("direction", "lower({0}) as direction"),
    ("query", "clean_host({0}) as query"),
    ("qtype_name", "upper({0}) as qtype"),
    ("rcode_name", "upper({0}) as rcode"),
    ("answers", "{0} as answers"),
    ("host", "nullif(trim({0}), '') as http_host"),
    ("uri", "case when starts_with({0}, '/') then rest_path({0}) end as uri_path, "
            "case when regexp_matches({0}, '^[A-Za-z][A-Za-z0-9+.-]*://') then {0} end as uri_url"),
    ("method", "upper(null_if_dash({0})) as method"),
    ("user_agent", "null_if_dash({0}) as user_agent"),
    ("request_body_len", "try_cast(round(try_cast({0} as double)) as bigint) as request_body_len"),
    ("response_body_len", "try_cast(round(try_cast({0} as double)) as bigint) as response_body_len"),
    ("status_code", "case when try_cast({0} as integer) between 100 and 599 then try_cast({0} as integer) end "
                    "as status_code"),
    ("server_name", "clean_host({0}) as server_name"),
)


def columns_sql(key: dict[str, str]) -> str:
    """SQL: KEY_COLUMNS of the keys' values (SQL expressions, by key)."""
    return ", ".join(columns.format(key[name]) for name, columns in KEY_COLUMNS)


COLUMNS_SQL = columns_sql({key: f"f[{at}]" for at, key in enumerate(KEYS, start=1)})
# Keys whose values are mostly distinct (a request's target and body sizes; DNS answers, read once per distinct text
# by inspected_columns anyway), and their columns: made per row by the query that reads the keys (query_columns_sql).
# The others' (a direction, name, type, code, method, user agent: values that repeat) once per distinct value
# (key_columns): measured per 335k HTTP/TLS lines, per distinct ~1.17 -> ~1.06 s CPU where the values repeat; where
# every line's values differ, ~1.39 -> ~1.77 s if the request's target and sizes are read so too.
PER_ROW = {"answers": ("answers",), "uri": ("uri_path", "uri_url"), "request_body_len": ("request_body_len",),
           "response_body_len": ("response_body_len",)}


def query_columns_sql(key: dict[str, str]) -> str:
    """SQL, for the query that reads the keys (their values as SQL expressions `key`, by key): the columns of the
    keys of PER_ROW, and each other key's value as `key_<key>` (for key_columns)."""
    return ", ".join(columns.format(key[name]) if name in PER_ROW else f"{key[name]} as key_{name}"
                     for name, columns in KEY_COLUMNS)


QUERY_COLUMNS = tuple(name for names in PER_ROW.values() for name in names) + tuple(
    f"key_{key}" for key in KEYS if key not in PER_ROW)
# AdditionalFields as a column of texts (a CSV export), once per distinct text.
FIELDS_SQL = f"select {COLUMNS_SQL} from (select {keys_sql('value')} as f from distinct_values)"
ANSWERS_SQL = r"""
select nullif(list_transform(list_filter(coalesce(try(json_extract_string(value, '$[*]')), []),
    lambda a: a is not null and not regexp_matches(a, '\s')), lambda a: rtrim(lower(a), '.')), []) as value
from distinct_values
"""
# host_source of the host each kind gives: the queried name, the Host header, the request's URL, the SNI.
HOST_SOURCES = ("dns_query", "http_host", "url", "sni")


class InspectionQueries:
    """The per-distinct queries of a file's inspection records (each keeping the values it has seen)."""

    def __init__(self, urls: UrlQueries | None = None) -> None:
        self.urls = urls or UrlQueries()
        self.answers = DistinctQuery(ANSWERS_SQL)
        self.fields = DistinctQuery(FIELDS_SQL)
        # (each key's columns, once per distinct value: key_columns)
        self.keys = {key: DistinctQuery(f"select {columns.format('value')} from distinct_values")
                     for key, columns in KEY_COLUMNS if key not in PER_ROW}


def key_columns(connection: duckdb.DuckDBPyConnection, queries: InspectionQueries, value: Mapping[str, pa.Array]
                ) -> dict[str, pa.Array]:
    """The columns inspected_columns reads (those of COLUMNS_SQL) from query_columns_sql's per row (`value`, by name:
    QUERY_COLUMNS): a key of PER_ROW's as they are, another's made once per distinct value of its text."""
    found = {name: value[name] for names in PER_ROW.values() for name in names}
    for key, query in queries.keys.items():
        found.update(per_distinct(connection, value[f"key_{key}"], query))
    return found


def inspection_kinds(action_type: pa.Array) -> np.ndarray:
    """Per row, the kind of inspection record its ActionType names (DNS, HTTP, TLS; -1 for none), tested once per
    distinct value."""
    action = pc.dictionary_encode(action_type) if not pa.types.is_dictionary(action_type.type) else action_type
    kind = pc.index_in(pc.utf8_lower(action.dictionary.cast(pa.string())), value_set=pa.array(INSPECTED_ACTIONS))
    at = pc.fill_null(action.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return np.append(pc.fill_null(kind, -1).to_numpy(zero_copy_only=False), -1)[at]


def inspected_columns(connection: duckdb.DuckDBPyConnection, queries: InspectionQueries,
                      found: Mapping[str, pa.Array], kind: np.ndarray) -> dict[str, pa.Array | np.ndarray]:
    """Event columns from COLUMNS_SQL's values per row (`found`) and each row's kind (inspection_kinds): each kind's
    own keys only (null elsewhere). `host_source` is an index into HOST_SOURCES (-1: no host), `asked` whether the
    device was asked (direction In: it is the server), `network_protocol` the kind's."""
    is_dns, is_http, is_tls = (pa.array(kind == each) for each in (DNS, HTTP, TLS))
    header = hostports(connection, queries.urls, only_where(found["http_host"], is_http))
    target = url_columns(connection, queries.urls, only_where(found["uri_url"], is_http))
    names = [only_where(found["query"], is_dns), header["host"], target["host"],
             only_where(found["server_name"], is_tls)]
    named = [pc.is_valid(name).to_numpy(zero_copy_only=False) for name in names]
    answers = per_distinct(connection, only_where(plain(found["answers"]), is_dns), queries.answers)["value"]
    return {
        "host": first_valid(*names),
        "host_source": np.select(named, list(range(len(names))), -1),
        "dst_port": pc.coalesce(header["dst_port"], target["dst_port"]).cast(pa.int32()),
        "network_protocol": constant_text(PROTOCOLS, kind),
        "url_path": first_valid(only_where(found["uri_path"], is_http), target["url_path"]),
        "http_method": only_where(found["method"], is_http),
        "user_agent": only_where(found["user_agent"], is_http),
        "http_status": only_where(found["status_code"], is_http),
        "bytes_out": only_where(found["request_body_len"], is_http),
        "bytes_in": only_where(found["response_body_len"], is_http),
        "dns_qtype": only_where(found["qtype"], is_dns),
        "dns_rcode": only_where(found["rcode"], is_dns),
        "dns_answers": answers,
        "asked": np.asarray(pc.fill_null(pc.equal(plain(found["direction"]), "in"), False)
                            .to_numpy(zero_copy_only=False), bool),
    }


def export_columns(connection: duckdb.DuckDBPyConnection, queries: InspectionQueries, integer: DistinctQuery,
                   action_type: pa.DictionaryArray, fields: pa.DictionaryArray, local_port: pa.Array | None,
                   columns: Mapping[str, pa.Array]) -> dict[str, pa.Array]:
    """An advanced hunting export's (CSV) columns changed where a row is an inspection record: what its AdditionalFields
    (a text per row, read once per distinct text by FIELDS_SQL) say first, `columns` (as the generic reader made them
    from RemoteUrl and the other columns) after; a connection the device was asked (direction In) has the remote end
    as src_ip and LocalPort as dst_port (`integer`: INTEGER_SQL), no device or user. Empty where no row is one."""
    kind = inspection_kinds(action_type)
    inspected = kind >= 0
    if not inspected.any():
        return {}
    # only the texts of inspection rows are read (other rows' AdditionalFields say other things)
    at = pc.fill_null(fields.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    at = np.where(inspected, at, -1)
    wanted = np.unique(at[at >= 0])
    place = np.full(len(fields.dictionary) + 1, -1, np.int64)
    place[wanted] = np.arange(len(wanted))
    rows = place[at]  # (at -1 picks the -1 at the end)
    found = spread(queries.fields.results_for(connection, plain(fields.dictionary).take(pa.array(wanted))),
                   pa.array(rows, mask=rows < 0))
    seen = inspected_columns(connection, queries, found, kind)
    changed: dict[str, pa.Array] = {
        "host": first_valid(seen["host"], columns["host"]),
        "host_source": first_valid(constant_text(pa.array(HOST_SOURCES), seen["host_source"]), columns["host_source"]),
        "dst_port": pc.coalesce(columns["dst_port"], seen["dst_port"]),
        "network_protocol": first_valid(seen["network_protocol"], columns["network_protocol"]),
        "url_path": first_valid(seen["url_path"], columns["url_path"]),
        "http_method": first_valid(seen["http_method"], columns["http_method"]),
        "user_agent": first_valid(seen["user_agent"], columns["user_agent"]),
        "http_status": pc.coalesce(seen["http_status"], columns["http_status"]),
        "bytes_out": pc.coalesce(seen["bytes_out"], columns["bytes_out"]),
        "bytes_in": pc.coalesce(seen["bytes_in"], columns["bytes_in"]),
        "dns_qtype": seen["dns_qtype"],
        "dns_rcode": seen["dns_rcode"],
        "dns_answers": seen["dns_answers"],
    }
    if seen["asked"].any():
        asked = pa.array(seen["asked"])
        kept = pc.invert(asked)
        src, dst = columns["src_ip"], columns["dst_ip"]
        changed["src_ip"] = first_valid(only_where(dst, asked), only_where(src, kept))
        changed["dst_ip"] = first_valid(only_where(src, asked), only_where(dst, kept))
        changed["src_host"] = only_where(columns["src_host"], kept)
        changed["user_name"] = only_where(columns["user_name"], kept)
        if local_port is not None:
            port = per_distinct(connection, local_port, integer)["value"]
            changed["dst_port"] = pc.if_else(asked, port, changed["dst_port"])
    return changed
