"""Which keys of a JSON-lines file feed which event field (format `json`): the file's first objects flattened to
dotted keys, recognised by SCHEMA_ALIASES (Elastic Common Schema, OCSF, Cloudflare Gateway HTTP; see json_generic's
docstring for the sources) and then by the generic CSV format's names and `--map` (csv_generic.resolve).

The key set plays the part of a CSV header: it is read once per file, in Python, from at most KEY_LINES objects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from detector.ingest.asim_columns import is_asim
from detector.ingest.csv_generic import MAPPABLE, has_destination, has_time, normalise, other_spellings, resolve
from detector.ingest.distinct_sql import sql_literal
from detector.ingest.gsa_columns import is_global_secure_access

# Objects read (in Python, once per file) to learn the keys; lines looked at by the sniffer likewise.
KEY_LINES = 100
# Envelopes whose keys are read without their prefix: Splunk's export (`result`), an Elasticsearch hit (`_source`).
ENVELOPES = ("result.", "_source.")

# A DNS query's name: a host read from it was learned from a DNS query (host_source dns_query). ECS
# `dns.question.name`; Cloudflare Gateway DNS's `QueryName`; Sysmon's DNS query event (22) as Winlogbeat ships it
# without its Sysmon processing (`winlog.event_data.QueryName`); Google Cloud DNS query logs
# (`jsonPayload.queryName`); OCSF DNS Activity (4003, https://schema.ocsf.io/classes/dns_activity: `query.hostname`,
# as AWS Security Lake writes Route 53 Resolver queries); Route 53 Resolver query logs' own `query_name`
# (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resolver-query-logs-format.html). Names as
# csv_generic.other_spellings reads them.
DNS_QUESTION = ("dns_question_name", "query_name", "winlog_event_data_query_name", "json_payload_query_name",
                "query_hostname")

# The names of ECS, OCSF and Cloudflare Gateway (normalised, see the module docstring), tried before the generic
# names (csv_generic.ALIASES), in this order. `url` is not a schema field: it gives host, port, scheme and path.
SCHEMA_ALIASES: dict[str, tuple[str, ...]] = {
    "ts": ("timestamp", "datetime", "time", "time_dt", "query_timestamp"),
    "src_ip": ("source_internal_ip", "source_ip", "client_ip", "src_endpoint_ip", "json_payload_source_ip", "srcaddr"),
    "src_host": ("src_endpoint_hostname", "source_domain", "client_domain", "device_name", "winlog_computer_name"),
    "user_name": ("user_name", "source_user_name", "client_user_name", "actor_user_name", "actor_user_email_addr",
                  "email", "user_email", "winlog_event_data_user"),
    "url": ("url_full", "url_original", "http_request_url_url_string", "http_request_url", "url"),
    "host": ("url_domain", "destination_domain", "server_domain", "http_request_url_hostname",
             "dst_endpoint_hostname", "dst_endpoint_domain", "http_host", *DNS_QUESTION, "destination_address"),
    "dst_ip": ("destination_ip", "server_ip", "dst_endpoint_ip"),
    "dst_port": ("destination_port", "server_port", "dst_endpoint_port", "url_port", "http_request_url_port"),
    "network_protocol": ("network_protocol", "url_scheme", "http_request_url_scheme"),
    "http_method": ("http_request_method", "http_request_http_method", "http_method"),
    "url_path": ("url_path", "http_request_url_path"),
    "http_status": ("http_response_status_code", "http_response_code", "http_status_code", "http_status"),
    "action": ("action", "disposition", "event_action", "resolver_decision"),
    "bytes_out": ("http_request_bytes", "source_bytes", "client_bytes", "traffic_bytes_out"),
    "bytes_in": ("http_response_bytes", "destination_bytes", "server_bytes", "traffic_bytes_in"),
    "user_agent": ("user_agent_original", "http_request_user_agent", "http_user_agent"),
    "content_type": ("http_response_mime_type", "http_response_content_type", "http_content_type"),
    # DNS (dns_fields reads the values): ECS `dns.question.type`, `dns.response_code`, `dns.answers` (records with
    # `data` and `type`) and `dns.resolved_ip`; Cloudflare Gateway DNS `QueryTypeName` / `QueryType` (a number),
    # `RCode` (a number), `ResolvedIPs`; Google Cloud DNS `jsonPayload.queryType`, `.responseCode`,
    # `.structuredRdata` / `.rdata` (zone file lines); OCSF DNS Activity `query.type`, `rcode` / `rcode_id`,
    # `answers` (records with `rdata`); Route 53 Resolver `query_type`, `rcode`, `answers` (records with `Rdata`)
    "dns_qtype": ("dns_question_type", "query_type_name", "query_type", "json_payload_query_type", "qtype_name"),
    "dns_rcode": ("dns_response_code", "json_payload_response_code", "rcode", "r_code", "rcode_id"),
    "dns_answers": ("dns_answers", "json_payload_structured_rdata", "dns_resolved_ip", "answers", "resolved_i_ps",
                    "resolvedips", "json_payload_rdata", "dns_answers_data"),
}


def flattened(value: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The key paths of an object's values, nested objects flattened (lists and scalars are values)."""
    if not isinstance(value, dict):
        return [prefix] if prefix else []
    paths: list[tuple[str, ...]] = []
    for key, inner in value.items():
        paths.extend(flattened(inner, (*prefix, str(key))))
    return paths


def key_paths(lines: Sequence[str]) -> list[tuple[str, ...]]:
    """The flattened keys of the JSON objects among `lines` (the first KEY_LINES of them), in first-seen order."""
    seen: dict[tuple[str, ...], None] = {}
    read = 0
    for line in lines:
        text = line.lstrip("\ufeff").strip()
        if not text.startswith("{"):
            continue
        try:
            value = json.loads(text)
        except ValueError:
            continue
        seen.update(dict.fromkeys(path for path in flattened(value) if all('"' not in part for part in path)))
        read += 1
        if read >= KEY_LINES:
            break
    return list(seen)


# Splunk's default fields, on every event of an export (https://docs.splunk.com/Documentation/Splunk/latest/Data/
# Aboutdefaultfields): `host` is the device that sent the event (the proxy or firewall itself), `source` the file or
# input it came from; neither is the event's destination or client (CIM names those `dest` and `src`). Under the
# `result.` envelope they keep its prefix, so that no field takes them.
SPLUNK_DEFAULT_FIELDS = frozenset({"host", "source", "sourcetype", "index", "splunk_server", "linecount", "punct",
                                   "eventtype", "timestartpos", "timeendpos"})


def key_name(path: Sequence[str]) -> str:
    """The dotted name of a key path, without an envelope's prefix (ENVELOPES; Splunk's default fields keep it)."""
    name = ".".join(path)
    for envelope in ENVELOPES:
        if name.startswith(envelope) and len(name) > len(envelope):
            inner = name[len(envelope):]
            return name if envelope == "result." and inner in SPLUNK_DEFAULT_FIELDS else inner
    return name


# Keys that log shippers add to each event naming the device that sent it, not the event's destination or client:
# Logstash's `host` (a string beside `@version`; https://www.elastic.co/guide/en/logstash/current/plugins-inputs-
# syslog.html) and Graylog's `source` (beside its `gl2_*` keys; https://go2docs.graylog.org/current/
# getting_in_log_data/default_fields.html); and Microsoft Sentinel's CommonSecurityLog rows (beside DeviceVendor),
# whose DeviceName is the proxy or firewall that logged the event (CEF's dvchost; Microsoft's CommonSecurityLog table
# reference), not the client device it names in Cloudflare's and Defender's records. Renamed where the marker key is.
SHIPPER_KEYS: tuple[tuple[str, str, str], ...] = (("@version", "host", "logstash.host"),
                                                  ("gl2_", "source", "graylog.source"),
                                                  ("DeviceVendor", "DeviceName", "CommonSecurityLog.DeviceName"))


# ECS's categorisation of an event (`event.type`, a list: https://www.elastic.co/guide/en/ecs/current/
# ecs-allowed-values-event-type.html): its `allowed` / `denied` is the verdict where `event.action` names none (the
# Fortinet, PAN-OS, Cisco ASA and Zscaler integrations write `["connection", "denied"]` beside a vendor's action).
# Read as an extra field of that name (json_generic.with_event_type_verdict).
EVENT_TYPE = "event_type"


def key_names(paths: Sequence[tuple[str, ...]]) -> list[str]:
    """The names the keys are recognised by (key_name), a shipper's own keys renamed (SHIPPER_KEYS)."""
    names = [key_name(path) for path in paths]
    for marker, key, renamed in SHIPPER_KEYS:
        if any(name.startswith(marker) for name in names):
            names = [renamed if name == key else name for name in names]
    return names


def choose(names: Sequence[str], column_map: Mapping[str, str] | None = None) -> dict[str, int]:
    """Which key (index into `names`) feeds which field: --map first, then SCHEMA_ALIASES, then csv_generic's."""
    column_map = dict(column_map or {})
    spellings = [{normalise(name), *other_spellings(name)} for name in names]
    mapped_keys = {normalise(source) for source in column_map}
    preferred: dict[str, int] = {}
    taken: set[int] = set()
    has_date = any("date" in spelled for spelled in spellings)
    for field, aliases in _schema_aliases(spellings).items():
        if field in column_map.values():
            continue
        for alias in aliases:
            if alias == "time" and has_date:  # separate date and time keys: combined, as in a CSV
                continue
            at = next((at for at, spelled in enumerate(spellings)
                       if alias in spelled and at not in taken and normalise(names[at]) not in mapped_keys), None)
            if at is not None:
                preferred[field] = at
                taken.add(at)
                break
    mappable = {names[at]: field for field, at in preferred.items() if field in MAPPABLE}
    chosen = resolve(names, {**mappable, **column_map})
    for field, at in preferred.items():  # (`url` is no --map target)
        if field not in MAPPABLE and field not in chosen and at not in chosen.values():
            chosen[field] = at
    return chosen


def fallbacks(names: Sequence[str], chosen: Mapping[str, int], column_map: Mapping[str, str] | None = None
              ) -> dict[str, tuple[int, ...]]:
    """For each field chosen, the other keys SCHEMA_ALIASES names for it (in its order), read where the chosen
    key is missing: an ECS file mixes proxy events (`url.domain`) and DNS events (`dns.question.name`)."""
    spellings = [{normalise(name), *other_spellings(name)} for name in names]
    used = set(chosen.values())
    mapped = set((column_map or {}).values())
    found: dict[str, tuple[int, ...]] = {}
    for field, aliases in _schema_aliases(spellings).items():
        if field not in chosen or field in mapped:
            continue
        others = [at for alias in aliases for at, spelled in enumerate(spellings)
                  if alias in spelled and at not in used]
        if others:
            found[field] = tuple(dict.fromkeys(others))
            used.update(others)
    return found


def _schema_aliases(spellings: Sequence[set[str]]) -> dict[str, tuple[str, ...]]:
    """SCHEMA_ALIASES, or none for Sentinel's normalised (ASIM) keys and Global Secure Access's, which
    csv_generic.resolve reads by their own names (asim_columns, gsa_columns: ECS's `network.protocol` would read
    their transport or IP version, `NetworkProtocol`)."""
    return {} if is_asim(spellings) or is_global_secure_access(spellings) else SCHEMA_ALIASES


def json_path(path: Sequence[str]) -> str:
    """A key path as a DuckDB JSON path, each key quoted (keys may hold dots or `@`)."""
    return "$" + "".join(f'."{part}"' for part in path)


@dataclass(frozen=True)
class Layout:
    """The keys the file's first objects have, which of them feed which field, and the query reading them."""

    names: tuple[str, ...]
    chosen: Mapping[str, int]  # field -> index into names
    fallbacks: Mapping[str, tuple[int, ...]]  # field -> keys read where its chosen key is missing
    missing: str | None  # why no line can be an event (no time or no destination key)
    query: str  # a line that is no valid JSON gives `parsed` false
    strict_query: str  # the same without checking each line first (~25% less CPU): raises on a line that is no JSON
    read: tuple[int, ...] = ()  # the keys the queries read (column `k{at}` for each), in this order
    read_paths: tuple[tuple[str, ...], ...] = ()  # their paths in the objects
    requests_ignored: bool = False  # ASIM DNS with responses: its request rows are ignored (asim_columns)

    @classmethod
    def of(cls, paths: Sequence[tuple[str, ...]], column_map: Mapping[str, str]) -> Layout:
        names = tuple(key_names(paths))
        chosen = choose(names, column_map)
        at = next((at for at, name in enumerate(names) if normalise(name) == EVENT_TYPE), None)
        if at is not None and at not in chosen.values():
            chosen = {**chosen, EVENT_TYPE: at}
        more = fallbacks(names, chosen, column_map)
        read = sorted(set(chosen.values()).union(*more.values()))
        listed = "[" + ", ".join(sql_literal(json_path(paths[at])) for at in read) + "]" if read else "['$']"
        columns = ", ".join(f"v[{n}] as k{at}" for n, at in enumerate(read, start=1))
        extract = f"json_extract_string(line, {listed})"
        query = f"select v is not null as parsed{', ' + columns if columns else ''} " \
                "from (select @READ@ as v from lines)"
        # (not `try`: on a vector of lines holding one that is no JSON, DuckDB's try reads each line alone, ~0.65 s
        # per 131k lines where every 8th is broken against ~0.15 with json_valid, the same reader with the same flags)
        return cls(names, chosen, more, missing_reason(names, chosen),
                   query.replace("@READ@", f"case when json_valid(line) then {extract} end"),
                   query.replace("@READ@", extract), tuple(read), tuple(tuple(paths[at]) for at in read))

    def keys_of(self, *fields: str) -> str:
        """The keys read for these fields, for a reject's reason."""
        return "/".join(self.names[at] for field in fields if field in self.chosen
                        for at in (self.chosen[field], *self.fallbacks.get(field, ())))


def missing_reason(names: Sequence[str], chosen: Mapping[str, int]) -> str | None:
    """Why no line of this file can be an event, naming the --map option; None when nothing is missing."""
    missing = []
    if not has_time(chosen):
        missing.append("no time key (like @timestamp, time, timestamp, Datetime): name one with --map KEY=ts")
    if not has_destination(chosen):
        missing.append("no destination key (like url.full, destination.domain, host, url, dest): "
                       "name one with --map KEY=host")
    if not missing:
        return None
    shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
    return f"keys of the first objects ({shown or 'none'}) have " + "; and ".join(missing)

