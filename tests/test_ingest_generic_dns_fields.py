"""DNS fields (dns_qtype, dns_rcode, dns_answers) of the generic `json` and `csv` formats, as the DNS formats give
them (docs/dns.md): type and code named in upper case, answers a list of addresses and CNAME targets, lower case,
no trailing dot.

Lines written from each schema's documentation, not copied from any log:
- Elastic Common Schema, DNS fields: https://www.elastic.co/guide/en/ecs/current/ecs-dns.html (`dns.question.name`,
  `dns.question.type`, `dns.response_code`, `dns.answers` records with `data`/`type`, `dns.resolved_ip`);
- OCSF DNS Activity (4003): https://schema.ocsf.io/classes/dns_activity (`query.hostname`, `query.type`, `rcode`,
  `rcode_id`, `answers` records with `rdata`/`type`);
- Cloudflare Gateway DNS (Logpush): https://developers.cloudflare.com/logs/reference/log-fields/account/gateway_dns/
  (`QueryName`, `QueryType` a number, `QueryTypeName`, `RCode` a number, `ResolvedIPs` an array, `SrcIP`);
- Google Cloud DNS query logs: https://cloud.google.com/dns/docs/monitoring (`jsonPayload.queryName`, `.queryType`,
  `.responseCode`, `.rdata`: the answer in presentation format, one record a line, name TTL class type data);
- Route 53 Resolver query logs: https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resolver-query-logs-format.html
  (`query_timestamp`, `srcaddr`, `query_name`, `query_type`, `rcode`, `answers` records with `Rdata`/`Type`/`Class`);
- numeric codes: IANA DNS parameters, https://www.iana.org/assignments/dns-parameters/dns-parameters.xhtml.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from detector.errors import FormatError
from detector.ingest import FORMATS
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings

DNS = ("dns_qtype", "dns_rcode", "dns_answers")


def parse(tmp_path: Path, name: str, text: str, column_map: Mapping[str, str] | None = None
          ) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    form = FORMATS["json" if name.endswith(".json") else "csv"]
    events, rejects, report = parse_file(path, form, golden_settings(), column_map)
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist()


def json_lines(*objects: object) -> str:
    return "".join(json.dumps(value) + "\n" for value in objects)


def dns(event: Mapping[str, object]) -> tuple[object, ...]:
    return tuple(event[field] for field in DNS)


def test_ecs_dns_question_type_response_code_and_answer_records(tmp_path: Path) -> None:
    events, rejects = parse(tmp_path, "ecs.json", json_lines(
        {"@timestamp": "2026-11-30T08:00:00Z", "source": {"ip": "10.0.0.5"},
         "dns": {"question": {"name": "chatgpt.com", "type": "AAAA"}, "response_code": "NOERROR",
                 "answers": [{"name": "chatgpt.com", "type": "CNAME", "data": "Chatgpt.Example-CDN.net."},
                             {"name": "chatgpt.example-cdn.net", "type": "AAAA", "data": "2001:DB8::10"},
                             {"name": "chatgpt.com", "type": "TXT", "data": "v=spf1 -all"}],
                 "resolved_ip": ["2001:db8::10"]}},
        {"@timestamp": "2026-11-30T08:00:01Z", "source": {"ip": "10.0.0.5"},
         "dns": {"question": {"name": "nope.example", "type": "A"}, "response_code": "NXDOMAIN"}},
        {"@timestamp": "2026-11-30T08:00:02Z", "source": {"ip": "10.0.0.6"},
         "dns": {"question": {"name": "claude.ai", "type": "A"}, "response_code": "NOERROR",
                 "resolved_ip": ["192.0.2.7", "192.0.2.8"]}},
    ))
    assert not rejects
    assert [dns(e) for e in events] == [
        ("AAAA", "NOERROR", ["chatgpt.example-cdn.net", "2001:db8::10"]),
        ("A", "NXDOMAIN", None),
        ("A", "NOERROR", ["192.0.2.7", "192.0.2.8"]),  # dns.resolved_ip where dns.answers is missing
    ]
    assert {e["host_source"] for e in events} == {"dns_query"}


def test_ocsf_dns_activity_names_and_numeric_rcode_id(tmp_path: Path) -> None:
    events, _ = parse(tmp_path, "ocsf.json", json_lines(
        {"time": 1764489600000, "class_uid": 4003, "src_endpoint": {"ip": "10.0.0.5"},
         "query": {"hostname": "gemini.google.com", "type": "A", "class": "IN"}, "rcode": "NoError", "rcode_id": 0,
         "answers": [{"rdata": "142.250.0.1", "type": "A", "class": "IN", "ttl": 60}]},
        {"time": 1764489601000, "class_uid": 4003, "src_endpoint": {"ip": "10.0.0.5"},
         "query": {"hostname": "x.example", "type": "HTTPS"}, "rcode_id": 2},
        {"time": 1764489602000, "class_uid": 4003, "src_endpoint": {"ip": "10.0.0.5"},
         "query": {"hostname": "y.example", "type": "A"}, "rcode": "NXDomain", "rcode_id": 3},
    ))
    assert [dns(e) for e in events] == [("A", "NOERROR", ["142.250.0.1"]), ("HTTPS", "SERVFAIL", None),
                                        ("A", "NXDOMAIN", None)]


def test_cloudflare_gateway_dns_numeric_codes_and_resolved_ips(tmp_path: Path) -> None:
    events, _ = parse(tmp_path, "gateway_dns.json", json_lines(
        {"Datetime": "2026-11-30T08:00:00Z", "SrcIP": "10.0.0.5", "QueryName": "chat.deepseek.com", "QueryType": 28,
         "QueryTypeName": "AAAA", "RCode": 0, "ResolvedIPs": ["2001:db8::1", "2001:db8::2"],
         "ResolverDecision": "allowedOnNoPolicyMatch"},
        {"Datetime": "2026-11-30T08:00:01Z", "SrcIP": "10.0.0.5", "QueryName": "blocked.example", "QueryType": 65,
         "RCode": 3, "ResolvedIPs": [], "ResolverDecision": "blockedByCategory"},
    ))
    assert [dns(e) for e in events] == [("AAAA", "NOERROR", ["2001:db8::1", "2001:db8::2"]),
                                        ("HTTPS", "NXDOMAIN", None)]  # QueryType where QueryTypeName is missing
    assert [e["action"] for e in events] == ["allowed", "blocked"]


def test_google_cloud_dns_rdata_zone_lines(tmp_path: Path) -> None:
    rdata = "perplexity.ai.\t300\tIN\tcname\tEdge.Example-CDN.net.\nedge.example-cdn.net.\t60\tIN\ta\t192.0.2.9\n" \
            "edge.example-cdn.net.\t60\tIN\ta\t192.0.2."  # (then `...`: cut short at 260 bytes)
    events, _ = parse(tmp_path, "cloud_dns.json", json_lines(
        {"timestamp": "2026-11-30T08:00:00Z", "jsonPayload": {
            "queryName": "perplexity.ai.", "queryType": "A", "responseCode": "NOERROR", "sourceIP": "10.0.0.5",
            "rdata": rdata + "..."}},
        {"timestamp": "2026-11-30T08:00:01Z", "jsonPayload": {
            "queryName": "nx.example.", "queryType": "AAAA", "responseCode": "NXDOMAIN", "sourceIP": "10.0.0.5"}},
    ))
    assert [dns(e) for e in events] == [("A", "NOERROR", ["edge.example-cdn.net", "192.0.2.9"]),
                                        ("AAAA", "NXDOMAIN", None)]
    assert events[0]["host"] == "perplexity.ai"


def test_route53_resolver_query_log_answer_records(tmp_path: Path) -> None:
    events, _ = parse(tmp_path, "route53.json", json_lines(
        {"version": "1.100000", "account_id": "111122223333", "region": "eu-west-1", "vpc_id": "vpc-1",
         "query_timestamp": "2026-11-30T08:00:00Z", "query_name": "api.openai.com.", "query_type": "A",
         "query_class": "IN", "rcode": "NOERROR",
         "answers": [{"Rdata": "api.openai.com.cdn.example.", "Type": "CNAME", "Class": "IN"},
                     {"Rdata": "192.0.2.44", "Type": "A", "Class": "IN"}],
         "srcaddr": "10.0.0.5", "srcport": "53123", "transport": "UDP", "srcids": {"instance": "i-1"}},
        {"version": "1.100000", "query_timestamp": "2026-11-30T08:00:01Z", "query_name": "gone.example.",
         "query_type": "AAAA", "query_class": "IN", "rcode": "NXDOMAIN", "answers": [], "srcaddr": "10.0.0.5"},
    ))
    assert [dns(e) for e in events] == [("A", "NOERROR", ["api.openai.com.cdn.example", "192.0.2.44"]),
                                        ("AAAA", "NXDOMAIN", None)]


def test_json_without_dns_keys_leaves_the_dns_fields_null(tmp_path: Path) -> None:
    events, _ = parse(tmp_path, "web.json", json_lines(
        {"@timestamp": "2026-11-30T08:00:00Z", "source": {"ip": "10.0.0.5"}, "url": {"full": "https://chatgpt.com/"},
         "http": {"response": {"status_code": 200}}}))
    assert dns(events[0]) == (None, None, None)
    assert events[0]["http_status"] == 200 and events[0]["host_source"] == "url"


def test_csv_dns_export_columns_and_answer_shapes(tmp_path: Path) -> None:
    events, rejects = parse(tmp_path, "dns.csv", (
        "timestamp,client_ip,query_name,qtype,rcode,answers\n"
        "2026-11-30T08:00:00Z,10.0.0.5,chatgpt.com,28,0,2001:db8::1;2001:db8::2\n"
        '2026-11-30T08:00:01Z,10.0.0.5,chatgpt.com,A,NOERROR,"[""192.0.2.1"",""Alias.Example.""]"\n'
        "2026-11-30T08:00:02Z,10.0.0.5,nx.example,AAAA (28),3,\n"
        "2026-11-30T08:00:03Z,10.0.0.5,claude.ai,1,NXDomain,-\n"
    ))
    assert not rejects
    assert {e["host_source"] for e in events} == {"dns_query"}  # (query_name: a DNS query's name)
    assert [dns(e) for e in events] == [
        ("AAAA", "NOERROR", ["2001:db8::1", "2001:db8::2"]),
        ("A", "NOERROR", ["192.0.2.1", "alias.example"]),
        ("AAAA", "NXDOMAIN", None),
        ("A", "NXDOMAIN", None),
    ]


def test_csv_response_code_is_the_dns_one_in_a_dns_export(tmp_path: Path) -> None:
    dns_export, _ = parse(tmp_path, "dns.csv", "time,src_ip,domain,record_type,response_code,resolved_ips\n"
                          "2026-11-30T08:00:00Z,10.0.0.5,chatgpt.com,AAAA,NXDOMAIN,\n")
    assert dns(dns_export[0]) == ("AAAA", "NXDOMAIN", None) and dns_export[0]["http_status"] is None
    # beside a query type, `domain` is the query's name (its answers may name flows); without one, any host
    assert dns_export[0]["host_source"] == "dns_query"
    web, _ = parse(tmp_path, "web.csv", "time,src_ip,domain,response_code\n2026-11-30T08:00:00Z,10.0.0.5,x.example,403\n")
    assert web[0]["http_status"] == 403 and dns(web[0]) == (None, None, None)
    assert web[0]["host_source"] == "url"


def test_map_names_dns_columns(tmp_path: Path) -> None:
    events, _ = parse(tmp_path, "odd.csv", "time,src_ip,domain,soort,uitkomst,adressen\n"
                      "2026-11-30T08:00:00Z,10.0.0.5,chatgpt.com,65,2,192.0.2.1 192.0.2.2\n",
                      column_map={"soort": "dns_qtype", "uitkomst": "dns_rcode", "adressen": "dns_answers"})
    assert dns(events[0]) == ("HTTPS", "SERVFAIL", ["192.0.2.1", "192.0.2.2"])
    json_events, _ = parse(tmp_path, "odd.json", json_lines(
        {"when": "2026-11-30T08:00:00Z", "host": "chatgpt.com", "x": {"t": 255, "r": 9, "a": ["192.0.2.3"]}}),
        column_map={"when": "ts", "x.t": "dns_qtype", "x.r": "dns_rcode", "x.a": "dns_answers"})
    assert dns(json_events[0]) == ("ANY", "NOTAUTH", ["192.0.2.3"])


def test_unnamed_numbers_read_as_rfc3597_style_names(tmp_path: Path) -> None:
    events, _ = parse(tmp_path, "dns.csv", "time,src_ip,domain,qtype,rcode\n"
                      "2026-11-30T08:00:00Z,10.0.0.5,chatgpt.com,65280,42\n")
    assert dns(events[0])[:2] == ("TYPE65280", "RCODE42")


def test_map_to_an_unknown_field_is_still_refused(tmp_path: Path) -> None:
    with pytest.raises(FormatError):
        parse(tmp_path, "dns.csv", "time,domain,q\n2026-11-30T08:00:00Z,chatgpt.com,A\n", column_map={"q": "dns_qtypo"})


def test_json_host_key_beside_a_query_type_is_the_dns_query_per_row(tmp_path: Path) -> None:
    # a home-made DNS export's `domain` is what was asked where the row has a query type (as in a CSV export); a
    # row of the same file without one (a web event) keeps `url`
    events, _ = parse(tmp_path, "dns.json", json_lines(
        {"time": "2026-11-30T08:00:00Z", "client_ip": "10.0.0.5", "domain": "chatgpt.com", "qtype": "A",
         "answers": ["104.18.32.47"]},
        {"time": "2026-11-30T08:00:01Z", "client_ip": "10.0.0.5", "domain": "claude.ai"},
    ))
    assert [(e["host"], e["host_source"], e["dns_qtype"]) for e in events] == [
        ("chatgpt.com", "dns_query", "A"), ("claude.ai", "url", None)]


def test_web_and_dns_events_in_one_ecs_file_keep_their_own_fields(tmp_path: Path) -> None:
    events, _ = parse(tmp_path, "mixed.json", json_lines(
        {"@timestamp": "2026-11-30T08:00:00Z", "source": {"ip": "10.0.0.5"}, "url": {"full": "https://chatgpt.com/c"},
         "http": {"response": {"status_code": 200}}},
        {"@timestamp": "2026-11-30T08:00:01Z", "source": {"ip": "10.0.0.5"},
         "dns": {"question": {"name": "chatgpt.com", "type": "A"}, "response_code": "NOERROR",
                 "resolved_ip": ["192.0.2.1"]}},
    ))
    assert [(e["host_source"], *dns(e)) for e in events] == [
        ("url", None, None, None), ("dns_query", "A", "NOERROR", ["192.0.2.1"])]


_FIELD_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00\x01\x02"),
                      max_size=40)


def _per_code_point(text: str, case: str) -> str:
    """`text` in upper or lower case code point by code point, as DuckDB's upper() and lower() change it: a code
    point whose case is more than one (the ligature U+FB00 'ff' upper-cased is 'FF') stays as it is."""
    return "".join(changed if len(changed := getattr(c, case)()) == 1 else c for c in text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_FIELD_TEXT, _FIELD_TEXT, _FIELD_TEXT), min_size=1, max_size=6))
@example(rows=[("", "\ufb00", "")])  # (found by CI's hypothesis run: a code whose upper case is two letters)
def test_any_dns_values_never_crash_and_answers_are_clean(tmp_path: Path, rows: list[tuple[str, str, str]]) -> None:
    events, _ = parse(tmp_path, "any.json", json_lines(*(
        {"@timestamp": "2026-11-30T08:00:00Z", "dns": {"question": {"name": "chatgpt.com", "type": qtype},
                                                       "response_code": rcode, "answers": answers}}
        for qtype, rcode, answers in rows)))
    assert len(events) == len(rows)
    for event in events:
        for answer in event["dns_answers"] or []:
            assert answer and answer == _per_code_point(answer, "lower") and not answer.endswith(".")
        for code in (event["dns_qtype"], event["dns_rcode"]):
            assert code is None or code == _per_code_point(code, "upper")
