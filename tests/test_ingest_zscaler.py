"""Zscaler NSS web feeds: field-name variants, time zones, layouts learned per batch, Zscaler's conventions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.config import Settings
from detector.ingest import FORMATS
from detector.ingest.pipeline import parse_file
from detector.ingest.zscaler import CSV_COLUMNS
from tests.golden import golden_settings

EVENT = {
    "time": "Mon Mar 11 08:02:13 2024", "login": "j.devries@gemeente-voorbeeld.nl", "proto": "HTTPS",
    "eurl": "chatgpt.com/backend-api/conversation", "action": "Allowed", "reqsize": "18422", "respsize": "3120",
    "ctime": "1904", "location": "Stadhuis", "cip": "10.20.1.15", "sip": "104.18.32.47", "reqmethod": "POST",
    "respcode": "200", "ua": "Mozilla/5.0", "contenttype": "text/event-stream", "urlcat": "AI & ML Applications",
}


def parse(tmp_path: Path, key: str, *lines: str, config: Settings | None = None) -> tuple[list[dict], list[dict]]:
    path = tmp_path / f"{key}.log"
    path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS[key], config or golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist()


def kv(event: dict[str, str]) -> str:
    return "\t".join(f"{k}={v}" for k, v in event.items())


def wrapped(event: dict[str, str]) -> str:
    return json.dumps({"sourcetype": "zscalernss-web", "event": event})


def test_json_wrapped_and_flat_lines_give_the_same_event(tmp_path: Path) -> None:
    events, rejects = parse(tmp_path, "zscaler_json", wrapped(EVENT), json.dumps(EVENT))
    assert not rejects
    first, second = ({k: v for k, v in e.items() if k != "line_no"} for e in events)
    assert first == second
    assert first["host"] == "chatgpt.com" and first["bytes_out"] == 18422 and first["bytes_in"] == 3120
    assert first["user_name"] == "j.devries@gemeente-voorbeeld.nl" and first["duration_ms"] == 1904


def test_time_is_local_unless_the_feed_says_gmt(tmp_path: Path) -> None:
    events, _ = parse(tmp_path, "zscaler_json", wrapped(EVENT), wrapped({**EVENT, "tz": "GMT"}))
    local, gmt = (e["ts"].isoformat() for e in events)
    assert local == "2024-03-11T07:02:13+00:00"  # Europe/Amsterdam, the configured zone, is UTC+1 in March
    assert gmt == "2024-03-11T08:02:13+00:00"


def test_epochtime_wins_over_the_zone_less_time(tmp_path: Path) -> None:
    events, _ = parse(tmp_path, "zscaler_json", wrapped({**EVENT, "epochtime": "1710144133"}))
    assert events[0]["ts"].isoformat() == "2024-03-11T08:02:13+00:00"


def test_location_name_as_login_and_obfuscated_login(tmp_path: Path) -> None:
    unauthenticated = {**EVENT, "login": "Stadhuis"}
    obfuscated = {k: v for k, v in EVENT.items() if k != "login"} | {"ologin": "4094304256"}
    events, _ = parse(tmp_path, "zscaler_json", wrapped(unauthenticated), wrapped(obfuscated))
    assert events[0].get("user_name") is None
    assert events[1]["user_name"] == "4094304256"


def test_blocked_request_has_no_server_and_connect_keeps_the_port(tmp_path: Path) -> None:
    blocked = {**EVENT, "action": "Blocked", "sip": "0.0.0.0", "respcode": "403"}
    tunnel = {**EVENT, "eurl": "api.openai.com:443", "reqmethod": "CONNECT", "proto": "HTTP_PROXY"}
    events, _ = parse(tmp_path, "zscaler_json", wrapped(blocked), wrapped(tunnel))
    assert events[0]["action"] == "blocked" and events[0]["dst_ip"] is None and events[0]["http_status"] == 403
    assert events[1]["host_source"] == "connect" and events[1]["dst_port"] == 443
    assert events[1]["url_path"] is None and events[1]["network_protocol"] == "http"


def test_placeholders_are_no_values(tmp_path: Path) -> None:
    events, _ = parse(tmp_path, "zscaler_json", wrapped({**EVENT, "login": "None", "ua": "NA", "respcode": "NA",
                                                          "contenttype": "Other", "reqmethod": "N/A"}))
    event = events[0]
    assert event["user_name"] is None and event["user_agent"] is None and event["http_status"] is None
    assert event["content_type"] is None and event["http_method"] is None


def test_kv_lines_off_the_batch_layout_are_read_by_name(tmp_path: Path) -> None:
    reordered = {k: EVENT[k] for k in reversed(EVENT)} | {"eurl": "claude.ai/api/organizations"}
    quoted = {k: f'"{v}"' for k, v in EVENT.items()} | {"eurl": '"www.deepl.com/translator"'}
    lines = [kv(EVENT)] * 5 + [kv(reordered), kv(quoted), "Mar 11 08:02:14 nss01 zscaler-nss: " + kv(EVENT)]
    events, rejects = parse(tmp_path, "zscaler_kv", *lines)
    assert not rejects
    assert [e["host"] for e in events[5:]] == ["claude.ai", "www.deepl.com", "chatgpt.com"]
    assert {e["bytes_out"] for e in events} == {18422}
    assert {e["user_name"] for e in events} == {"j.devries@gemeente-voorbeeld.nl"}


def test_kv_splunk_cim_names(tmp_path: Path) -> None:
    cim = {"datetime": "2024-03-11 08:02:13", "timezone": "GMT", "user": "p.bakker@gemeente-voorbeeld.nl",
           "ClientIP": "10.20.3.41", "serverip": "3.120.45.10", "url": "www.deepl.com/translator",
           "requestmethod": "GET", "status": "200", "requestsize": "902", "responsesize": "75112",
           "useragent": "curl/8.4.0", "protocol": "HTTPS", "action": "Allowed", "urlcategory": "Translators",
           "clienttranstime": "130"}
    events, _ = parse(tmp_path, "zscaler_kv", kv(cim))
    event = events[0]
    assert event["ts"].isoformat() == "2024-03-11T08:02:13+00:00"
    assert (event["src_ip"], event["dst_ip"], event["host"], event["url_path"]) == (
        "10.20.3.41", "3.120.45.10", "www.deepl.com", "/translator")
    assert (event["bytes_out"], event["bytes_in"], event["duration_ms"]) == (902, 75112, 130)


def test_zscaler_application_category_and_department_are_kept(tmp_path: Path) -> None:
    """appname, urlcat (else appclass) and dept: Zscaler's own view, in every feed type."""
    event = {**EVENT, "appname": "ChatGPT", "appclass": "AI & ML Applications", "dept": "Burgerzaken",
             "urlcat": "Generative AI"}
    json_events, _ = parse(tmp_path, "zscaler_json", wrapped(event), wrapped({**event, "urlcat": "None", "dept": "NA"}))
    kv_events, _ = parse(tmp_path, "zscaler_kv", kv(event))
    csv_line = '","'.join(event.get(column, "None") for column in CSV_COLUMNS)
    csv_events, _ = parse(tmp_path, "zscaler_csv", f'"{csv_line}"')
    for parsed in (json_events[0], kv_events[0], csv_events[0]):
        assert (parsed["vendor_app"], parsed["vendor_category"], parsed["vendor_department"]) == (
            "ChatGPT", "Generative AI", "Burgerzaken")
    # no URL category: the application class; placeholders are no department
    assert json_events[1]["vendor_category"] == "AI & ML Applications"
    assert json_events[1]["vendor_department"] is None


def test_csv_needs_the_default_column_count(tmp_path: Path) -> None:
    events, rejects = parse(tmp_path, "zscaler_csv", '"Mon Mar 11 08:02:13 2024","j.devries","HTTPS"')
    assert not events
    assert rejects[0]["reason"] == "expected the 33 columns of the default NSS web CSV feed, found 3"


@pytest.mark.parametrize("key", ["zscaler_json", "zscaler_csv", "zscaler_kv"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"),
                              max_size=80), min_size=1, max_size=8))
def test_arbitrary_lines_never_crash_and_are_all_counted(tmp_path: Path, key: str, lines: list[str]) -> None:
    noise = [line.replace("|", '","') if i % 2 else line.replace(" ", "\t") for i, line in enumerate(lines)]
    parse(tmp_path, key, *noise, kv(EVENT), '{"event": ' + json.dumps(EVENT)[:40])


def test_numbers_in_other_forms_read_as_sql_reads_them(tmp_path: Path) -> None:
    """Plain digits are cast by Arrow; any other form goes through SQL's try_cast (one meaning for both)."""
    forms = [("1288", 1288), (" 12", 12), ("1.5", 2), ("+4", 4), ("None", None)]
    codes = ["200", "0", "NA", "404", " 301"]
    lines = [kv({**EVENT, "reqsize": text, "respcode": code}) for (text, _), code in zip(forms, codes, strict=True)]
    events, rejects = parse(tmp_path, "zscaler_kv", *lines)
    assert not rejects
    assert [e["bytes_out"] for e in events] == [number for _, number in forms]
    assert [e["http_status"] for e in events] == [200, None, None, 404, 301]


def test_kv_batch_of_several_layouts_reads_each_line_as_by_name(tmp_path: Path) -> None:
    """Lines of two layouts interleaved (and one of its own): every line gets its own values."""
    other = {"tz": "GMT", **{k: EVENT[k] for k in reversed(EVENT)}}
    lines = []
    for i in range(12):
        event = {**EVENT, "reqsize": str(100 + i), "eurl": f"host{i}.example/p{i}"}
        lines.append(kv({**other, **event} if i % 3 == 0 else event))
    lines.append(kv({"eurl": "odd.example/x", "time": EVENT["time"], "urlcat": "AI"}))
    events, rejects = parse(tmp_path, "zscaler_kv", *lines)
    assert not rejects
    assert [e["bytes_out"] for e in events[:12]] == [100 + i for i in range(12)]
    assert [e["host"] for e in events] == [f"host{i}.example" for i in range(12)] + ["odd.example"]
    assert [e["ts"].isoformat() for e in events[:2]] == ["2024-03-11T08:02:13+00:00", "2024-03-11T07:02:13+00:00"]
