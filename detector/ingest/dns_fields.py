"""The DNS fields of the generic CSV and JSON formats: a query's type, its response code and its answers, read from
the columns (keys) csv_generic.ALIASES and json_keys.SCHEMA_ALIASES recognise, as the DNS formats give them
(docs/dns.md): the type and code as names in upper case (A, AAAA, HTTPS; NOERROR, NXDOMAIN), the answers as a list
of addresses and CNAME targets, lower case, without the trailing dot.

Exports write them in several ways, all read here once per distinct value, in SQL:
- a type or code as a name (`AAAA`, `NXDomain`), a number (`28`, `3`: IANA's DNS parameters registry,
  https://www.iana.org/assignments/dns-parameters/dns-parameters.xhtml; Cloudflare's `QueryType`, `RCode` and OCSF's
  `rcode_id` are numbers) or both (`28 (AAAA)`, as Umbrella writes them); a number the registry leaves unnamed reads
  as RFC 3597's `TYPE<n>` (and `RCODE<n>`); `NA` (Sentinel's ASIM: not applicable, a request's code), `N/A`
  and `-` are none;
- answers as a JSON array of texts (ECS `dns.resolved_ip`, Cloudflare `ResolvedIPs`), a JSON array of records (ECS
  `dns.answers` with `data`/`type`, OCSF `answers` with `rdata`/`type`, Route 53 `answers` with `Rdata`/`Type`,
  Google's `structuredRdata` with `rvalue`/`type`: records other than A, AAAA and CNAME are left out), zone file lines
  (Google Cloud DNS `rdata`: `name TTL class type data`, one record a line, `...` where it was cut short), or a
  delimited text (`1.2.3.4;5.6.7.8`, `a, b`, `['1.2.3.4']`).
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import pyarrow as pa

from detector.ingest.arrow_ops import DistinctQuery, per_distinct

# IANA DNS parameters: resource record types (the ones a client asks for or a log names) and RCODEs; the names as
# Zeek and dig write them (255 as ANY).
QTYPE_NAMES: dict[int, str] = {
    1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT", 17: "RP", 18: "AFSDB",
    24: "SIG", 25: "KEY", 28: "AAAA", 29: "LOC", 33: "SRV", 35: "NAPTR", 36: "KX", 37: "CERT", 39: "DNAME", 41: "OPT",
    42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 49: "DHCID", 50: "NSEC3",
    51: "NSEC3PARAM", 52: "TLSA", 53: "SMIMEA", 55: "HIP", 59: "CDS", 60: "CDNSKEY", 61: "OPENPGPKEY", 62: "CSYNC",
    63: "ZONEMD", 64: "SVCB", 65: "HTTPS", 99: "SPF", 108: "EUI48", 109: "EUI64", 249: "TKEY", 250: "TSIG",
    251: "IXFR", 252: "AXFR", 253: "MAILB", 254: "MAILA", 255: "ANY", 256: "URI", 257: "CAA",
}
RCODE_NAMES: dict[int, str] = {
    0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED", 6: "YXDOMAIN", 7: "YXRRSET",
    8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE", 11: "DSOTYPENI", 16: "BADVERS", 17: "BADKEY", 18: "BADTIME",
    19: "BADMODE", 20: "BADNAME", 21: "BADALG", 22: "BADTRUNC", 23: "BADCOOKIE",
}
# Other spellings of a code's name, upper-cased: OCSF's rcode captions (FormError, ServError, NotImp ...,
# https://schema.ocsf.io/classes/dns_activity) and the words some resolvers log.
RCODE_SPELLINGS: dict[str, str] = {
    "FORMERROR": "FORMERR", "SERVERROR": "SERVFAIL", "SERVERFAILURE": "SERVFAIL", "NAMEERROR": "NXDOMAIN",
    "NOTIMPL": "NOTIMP", "NOTIMPLEMENTED": "NOTIMP", "NOERR": "NOERROR", "BADSIG_VERS": "BADVERS",
}
# The record types whose data is an answer here: an address, or a name the queried one stands for.
ANSWER_TYPES = ("A", "AAAA", "CNAME", "1", "28", "5")


def _number_case(names: Mapping[int, str], prefix: str) -> str:
    """A SQL expression naming the integer `n` by `names`, else `prefix || n`."""
    whens = " ".join(f"when {code} then '{name}'" for code, name in names.items())
    return f"case n {whens} else '{prefix}' || n end"


# A value: a number, `28 (AAAA)`, `AAAA (28)`, or a name; then @SPELLED@ names it as the DNS formats do.
_CODE_SQL = r"""
select @SPELLED@ as value from (
    select case when v is null or v = '' or upper(v) in ('NA', 'N/A', '-') then null
                when n is not null then @NUMBER@
                when regexp_full_match(v, '\d+\s*\(\s*[A-Za-z][A-Za-z0-9_-]*\s*\)')
                    then upper(trim(regexp_extract(v, '\(\s*([^)\s]+)', 1)))
                when regexp_full_match(v, '[A-Za-z][A-Za-z0-9_-]*\s*\(\s*\d+\s*\)')
                    then upper(trim(regexp_extract(v, '^[^(\s]+')))
                else upper(v) end as name
    from (select v, case when regexp_full_match(v, '\d{1,5}') then cast(v as integer) end as n
          from (select trim(value) as v from distinct_values)))
"""
QTYPE_SQL = _CODE_SQL.replace("@NUMBER@", _number_case(QTYPE_NAMES, "TYPE")).replace("@SPELLED@", "name")
RCODE_SQL = _CODE_SQL.replace("@NUMBER@", _number_case(RCODE_NAMES, "RCODE")).replace(
    "@SPELLED@", "case name " + " ".join(f"when '{k}' then '{v}'" for k, v in RCODE_SPELLINGS.items())
    + " else name end")

# Answers, per distinct text: see the module docstring for the shapes.
_ANSWER_TYPES_SQL = "(" + ", ".join(f"'{kind}'" for kind in ANSWER_TYPES) + ")"
# A response code's name is no answer: some ASIM DNS sources write it in DnsResponseName (the response's content).
_CODE_NAMES_SQL = "(" + ", ".join(f"'{name.lower()}'" for name in RCODE_NAMES.values()) + ")"
ANSWERS_SQL = rf"""
select nullif(list_filter(list_transform(raw, lambda x: rtrim(lower(trim(x, ' []''"')), '.')),
                          lambda x: x is not null and x <> '' and x <> '-' and x not in {_CODE_NAMES_SQL}), [])
       as value
from (select case
    when v is null or v = '' then null
    when starts_with(v, '[') and json_valid(v) then list_transform(from_json(v, '["JSON"]'), lambda e:
        case when json_type(e) = 'OBJECT' then
                  case when coalesce(upper(coalesce(e->>'type', e->>'Type', e->>'TYPE', e->>'rrtype')), 'A')
                            in {_ANSWER_TYPES_SQL}
                       then coalesce(e->>'data', e->>'rdata', e->>'Rdata', e->>'RData', e->>'rvalue', e->>'value') end
             when json_type(e) in ('ARRAY', 'NULL') then null
             else e->>'$' end)
    when contains(v, chr(10)) or contains(v, chr(9)) then list_transform(
        list_transform(string_split(v, chr(10)), lambda l: string_split_regex(trim(l), '\s+')),
        lambda p: case when len(p) >= 5 and upper(p[4]) in {_ANSWER_TYPES_SQL} and not ends_with(p[5], '...')
                       then p[5] end)
    else string_split_regex(v, '[\s,;|]+') end as raw
      from (select trim(value) as v from distinct_values))
"""

DNS_FIELDS = ("dns_qtype", "dns_rcode", "dns_answers")


class DnsQueries:
    """The per-distinct queries of one file's DNS fields (each remembering the values it has seen)."""

    def __init__(self) -> None:
        self.queries = {"dns_qtype": DistinctQuery(QTYPE_SQL), "dns_rcode": DistinctQuery(RCODE_SQL),
                        "dns_answers": DistinctQuery(ANSWERS_SQL)}


def dns_columns(connection: duckdb.DuckDBPyConnection, queries: DnsQueries, values: Mapping[str, pa.Array]
                ) -> dict[str, pa.Array]:
    """dns_qtype, dns_rcode and dns_answers of the rows, for those of them a column (key) was found for; the others
    are left to the schema's nulls."""
    return {field: per_distinct(connection, values[field], queries.queries[field])["value"]
            for field in DNS_FIELDS if field in values}
