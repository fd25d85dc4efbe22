"""The dashboard: every page through Streamlit's AppTest on a small constructed organisation, with
figures checked against SQL over the views, small groups suppressed, and no client address anywhere."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from detector import db
from detector.config import load_settings

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboards" / "streamlit_app.py"
# Each page, and a figure of its tables that shows the rendered text includes table contents.
PAGES = {"overview": "ChatGPT", "departments": "Financien", "services": "DeepSeek",
         "discovery": "novel-ai-writer.io", "data_health": "squid"}
NEWEST = date(2025, 3, 30)
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")

# The organisation: department -> (employees, network). users.csv lists them all; not all use AI.
DEPARTMENTS = {
    "Burgerzaken": (["b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8"], "10.20.1"),
    "Financien": (["f1", "f2", "f3", "f4", "f5", "f6"], "10.20.2"),
    "ICT": (["i1", "i2", "i3"], "10.20.3"),
}
# Who uses what in the current period (the 30 days up to NEWEST); the hosts' services are in the catalog
# except the two the test's model scores (one above its threshold, one just under).
CURRENT_USE = {
    "chatgpt.com": ["b1", "b2", "b3", "b4", "b5", "b6"],
    "www.deepl.com": ["f1", "f2", "f3", "f4", "f5"],
    "claude.ai": ["f1", "f2"],
    "chat.deepseek.com": ["i1"],
    "novel-ai-writer.io": ["b7"],
    "maybe-ai-tool.com": ["b8"],
}
PREVIOUS_USE = {"chatgpt.com": ["b1", "b2", "b3"]}
MODEL_SCORES = {"novel-ai-writer.io": 0.9, "maybe-ai-tool.com": 0.45}
# A client no user can be attributed to (its address must never be shown).
ANONYMOUS_CLIENT = "10.20.9.77"


class FixedScorer:
    """Stands in for the trained model: fixed scores per host, so the candidates are known."""

    threshold = 0.5
    name = "test-model"

    def score(self, hosts: Sequence[str], behaviour: pa.Table | None) -> np.ndarray:
        return np.array([MODEL_SCORES.get(h, 0.02) for h in hosts], dtype=np.float64)

    def listed_ai(self, host: str) -> bool:
        return False


def _address(user: str) -> str:
    for users, network in DEPARTMENTS.values():
        if user in users:
            return f"{network}.{10 + users.index(user)}"
    raise KeyError(user)


def _proxy_lines() -> list[str]:
    lines = ["timestamp,src_ip,user,url,method,status,action,bytes_sent,bytes_received"]
    def add(day: date, hour: int, user: str | None, host: str, method: str = "POST", sent: int = 2000) -> None:
        ip = _address(user) if user else ANONYMOUS_CLIENT
        stamp = datetime(day.year, day.month, day.day, hour, 15).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(f"{stamp},{ip},{user or '-'},https://{host}/api/v1/chat,{method},200,allowed,{sent},9000")

    for offset in range(0, 30, 3):  # current period: every third day
        day = NEWEST - timedelta(days=offset)
        for host, users in CURRENT_USE.items():
            for user in users:
                add(day, 9, user, host)
        add(day, 10, None, "chatgpt.com")
        for users, _ in DEPARTMENTS.values():
            for user in users:
                add(day, 11, user, "www.rijksoverheid.nl", "GET", 300)
    for offset in range(31, 60, 7):  # previous period
        day = NEWEST - timedelta(days=offset)
        for host, users in PREVIOUS_USE.items():
            for user in users:
                add(day, 9, user, host)
    lines.append("not a time,10.20.1.10,b1,https://chatgpt.com/,GET,200,allowed,1,1")  # one rejected line
    return lines


def build_lake(home: Path) -> Path:
    """A small lake: a proxy export of the organisation above plus a vendor sample (an older Squid
    log: a source that stopped sending), users.csv, networks.csv and policy.yaml; classified."""
    from detector.classify import run as classify_run
    from detector.ingest.pipeline import ingest_paths

    settings = load_settings(home)
    config = home / "shadow-ai.toml"
    config.write_text(config.read_text().replace('timezone = "local"', 'timezone = "UTC"'))
    (home / "users.csv").write_text(
        "user,department\n" + "".join(f"{u},{d}\n" for d, (users, _) in DEPARTMENTS.items() for u in users))
    (home / "networks.csv").write_text(
        "cidr,department\n" + "".join(f"{net}.0/24,{d}\n" for d, (_, net) in DEPARTMENTS.items())
        + "10.20.9.0/24,Burgerzaken\n")
    (home / "policy.yaml").write_text("default: shadow\nservices:\n  deepl: sanctioned\n  deepseek: forbidden\n"
                                      "categories: {}\n")
    logs = home.parent / "logs"
    logs.mkdir(exist_ok=True)
    (logs / "proxy_export.csv").write_text("\n".join(_proxy_lines()) + "\n")
    paths = [str(logs / "proxy_export.csv"), str(ROOT / "sample_logs" / "squid" / "basic.log")]
    reports = list(ingest_paths(load_settings(home), paths))
    assert all(not r.error for r in reports), [r.error for r in reports]
    original = classify_run.load_scorer
    classify_run.load_scorer = lambda _settings: FixedScorer()  # type: ignore[assignment]
    try:
        classify_run.classify(settings)
    finally:
        classify_run.load_scorer = original  # type: ignore[assignment]
    return home


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_lake(tmp_path_factory.mktemp("dashboard") / "home")


@pytest.fixture
def app(lake: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    monkeypatch.setenv("SHADOW_AI_HOME", str(lake))
    at = AppTest.from_file(str(APP), default_timeout=120)
    yield at


def sql(home: Path, query: str, **params: Any) -> list[tuple[Any, ...]]:
    with db.connect(load_settings(home, create=False)) as connection:
        return connection.execute(query, params or None).fetchall()


def rendered_text(at: AppTest) -> str:
    """Everything the page sent to the browser: every element's protobuf, tables and charts included."""
    texts = []
    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            texts.append(str(proto))
        children = getattr(node, "children", None)
        for child in (children.values() if isinstance(children, dict) else children or []):
            walk(child)
    walk(at._tree)
    return "\n".join(texts)


def client_addresses(home: Path) -> set[str]:
    return {row[0] for row in sql(home, "select distinct src_ip from events where src_ip is not null")}


def open_page(at: AppTest, page: str, **params: str) -> AppTest:
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page != "overview":
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}: {[m.label for m in at.metric]}"
    return found[0]


@pytest.mark.parametrize(("page", "expected"), PAGES.items())
def test_every_page_renders_without_exception_or_client_address(
    app: AppTest, lake: Path, page: str, expected: str
) -> None:
    at = open_page(app, page, period="All data")
    text = rendered_text(at)
    assert expected in text
    leaked = {ip for ip in client_addresses(lake) if ip in text}
    assert not leaked, f"client addresses shown on {page}: {leaked}"
    assert not IPV4.findall(text), f"an IP address is shown on {page}: {IPV4.findall(text)[:5]}"
    assert not [e for e in at.error], [e.value for e in at.error]


def test_overview_shares_match_sql(app: AppTest, lake: Path) -> None:
    at = open_page(app, "overview")
    start, end = NEWEST - timedelta(days=29), NEWEST
    in_directory = "user_id in (select user_id from user_departments)"
    ai_people, employees_ai, employees_unsanctioned = sql(lake, f"""
        select count(distinct coalesce(user_id, src_ip)),
               count(distinct user_id) filter (where {in_directory}),
               count(distinct user_id) filter (where {in_directory} and verdict in ('shadow', 'forbidden'))
        from ai_events where day between $start and $end""", start=start, end=end)[0]
    employees = sum(len(users) for users, _ in DEPARTMENTS.values())
    assert ai_people == 14  # 6 + 5 + 1 + 1 (the model's find) + the anonymous client
    assert employees_ai == 13
    assert metric(at, "People using AI") == f"{ai_people:,}"
    assert metric(at, "Share using AI") == f"{employees_ai / employees:.0%}"
    assert metric(at, "Share using unsanctioned AI") == f"{employees_unsanctioned / employees:.0%}"
    assert metric(at, "AI services in use") == "5"
    new = sql(lake, """select count(*) from (select coalesce(service, host) as s from ai_events group by s
                         having min(day) between $start and $end)""", start=start, end=end)[0][0]
    assert new == 1  # only the model's find: the Squid sample saw the catalog services in 2024
    assert metric(at, "New services this period") == "1"
    assert "30 days before" in " ".join(c.value for c in at.sidebar.caption)


def test_filters_come_from_the_url_and_apply(app: AppTest) -> None:
    at = open_page(app, "overview", department="Financien")
    assert at.multiselect(key="department").value == ["Financien"]
    assert metric(at, "People using AI") == "5"
    assert metric(at, "Share using AI") == f"{5 / 6:.0%}"
    at = open_page(app, "overview", verdict="sanctioned")
    assert metric(at, "People using unsanctioned AI") == "< 5"  # none: shown as a small group


def test_a_department_filter_cannot_single_someone_out(app: AppTest) -> None:
    at = open_page(app, "overview", department="ICT")  # one person there uses AI: i1, forbidden DeepSeek
    assert metric(at, "People using AI") == "< 5"
    assert metric(at, "Uploaded: unsanctioned") == "< 5 people"
    assert metric(at, "Share using AI") == "–"
    top = at.dataframe[0].value
    assert list(top["people_label"]) == ["< 5"] and top["events"].isna().all()


def test_filters_survive_a_page_switch(app: AppTest) -> None:
    at = open_page(app, "overview", department="ICT", period="Last 90 days")
    at.switch_page("app_pages/services.py").run()
    assert at.multiselect(key="department").value == ["ICT"]
    assert at.selectbox(key="period").value == "Last 90 days"


def test_departments_suppress_small_groups(app: AppTest) -> None:
    at = open_page(app, "departments")
    usage = at.dataframe[0].value.set_index("department")
    assert usage.loc["Burgerzaken", "ai_people"] == "7"  # b1-b7: shares count employees in users.csv only
    assert usage.loc["Financien", "ai_people"] == "5"
    assert usage.loc["ICT", "people"] == "< 5"
    assert usage.loc["ICT", "ai_people"] == "< 5"
    assert pd.isna(usage.loc["ICT", "share_ai"])
    assert usage.loc["Financien", "share_ai"] == pytest.approx(5 / 6)
    assert usage.loc["Financien", "unsanctioned_people"] == "< 5"  # f1, f2 on claude
    assert pd.isna(usage.loc["Financien", "share_unsanctioned"])
    text = rendered_text(at)
    assert "< 5" in text


def test_overview_top_services_are_the_services_pages_first_rows(app: AppTest) -> None:
    """The overview's most used services read the services page's query, cut to ten: same order, same figures."""
    top = next(frame.value for frame in open_page(app, "overview").dataframe if "verdicts" in frame.value.columns)
    services = open_page(app, "services").dataframe[0].value
    assert 0 < len(top) <= 10
    assert list(top["service_key"]) == list(services["service_key"])[:len(top)]
    assert list(top["verdicts"]) == list(services["verdict"])[:len(top)]
    assert list(top["people_label"]) == list(services["people"])[:len(top)]
    assert list(top["people_label"])[:2] == ["7", "5"]  # chatgpt, then deepl: most people first


def test_services_list_and_detail(app: AppTest, lake: Path) -> None:
    at = open_page(app, "services")
    services = at.dataframe[0].value.set_index("service_key")
    assert {"chatgpt", "deepl", "claude", "deepseek", "novel-ai-writer.io"} <= set(services.index)
    assert services.loc["deepl", "verdict"] == "sanctioned"
    assert services.loc["deepseek", "verdict"] == "forbidden"
    assert services.loc["chatgpt", "people"] == "7"  # b1-b6 and the anonymous client
    assert services.loc["claude", "people"] == "< 5"
    assert pd.isna(services.loc["claude", "events"])  # figures of fewer than 5 people are hidden
    events = sql(lake, "select count(*) from ai_events where service = 'deepl' and day >= $start",
                 start=NEWEST - timedelta(days=29))[0][0]
    assert services.loc["deepl", "events"] == events
    at.selectbox(key="service_detail").set_value("deepl").run()
    assert not at.exception
    assert metric(at, "Verdict") == "sanctioned"
    departments = at.dataframe[1].value
    assert list(departments["department"]) == ["Financien"]


def test_discovery_lists_candidates_and_records_a_label(app: AppTest, lake: Path) -> None:
    from detector.labels import labels_path, read_labels

    at = open_page(app, "discovery")
    found = at.dataframe[0].value.set_index("host")
    assert found.loc["novel-ai-writer.io", "match"] == "model"
    assert found.loc["maybe-ai-tool.com", "match"] == "none"  # just under the threshold
    assert str(found.loc["novel-ai-writer.io", "rule"]).startswith("model ")  # why it is listed
    assert "chatgpt.com" not in found.index
    try:
        at.selectbox(key="candidate").set_value("maybe-ai-tool.com").run()
        assert metric(at, "Score") == "0.45"
        assert [c for c in at.caption if c.value.startswith("Flagged by: model ")]
        at.radio(key="decision").set_value("AI: a new service of category")
        at.selectbox(key="label_category").set_value("writing")
        [submit] = [b for b in at.button if b.label == "Record decision"]
        submit.click().run()
        assert not at.exception
        assert [s.value for s in at.success if "Recorded" in s.value]
        label = read_labels(lake)["maybe-ai-tool.com"]
        assert (label.ai, label.service, label.category) == (True, None, "writing")
        at.run()
        again = at.dataframe[0].value.set_index("host")
        assert again.loc["maybe-ai-tool.com", "pending_label"] == "AI"
    finally:
        labels_path(lake).unlink(missing_ok=True)


def test_data_health_shows_sources_fields_gaps_and_rejects(app: AppTest) -> None:
    at = open_page(app, "data_health")
    sources = at.dataframe[0].value.set_index("log_format")
    assert sources.loc["csv", "user"] == "✓ yes"
    assert sources.loc["csv", "url_path"] == "✓ yes"
    assert sources.loc["csv", "bytes_out"] == "✓ yes"
    assert sources.loc["squid", "bytes_out"] == "✗ no"
    assert bool(sources.loc["squid", "gap"]) and not bool(sources.loc["csv", "gap"])
    assert [w for w in at.warning if "squid" in w.value]
    rejects = at.dataframe[1].value
    assert int(rejects.loc[rejects["log_format"] == "csv", "lines"].sum()) == 1


def test_people_page_only_when_configured(app: AppTest, lake: Path) -> None:
    at = open_page(app, "overview")
    with pytest.raises(ValueError):
        at.switch_page("app_pages/people.py")
    config = lake / "shadow-ai.toml"
    original = config.read_text()
    config.write_text(original.replace("show_people = false", "show_people = true", 1))
    try:
        at = AppTest.from_file(str(APP), default_timeout=120)
        at = open_page(at, "people")
        people = at.dataframe[0].value
        assert set(people["user_id"]).isdisjoint({u for users, _ in DEPARTMENTS.values() for u in users})
        assert all(p.startswith("u-") for p in people["user_id"])
        assert len(people) == 13  # users only: the anonymous client is left out
        assert not IPV4.findall(rendered_text(at))
    finally:
        config.write_text(original)


def test_empty_and_unclassified_lakes_say_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "empty"
    monkeypatch.setenv("SHADOW_AI_HOME", str(home))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert "shadow-ai demo" in at.info[0].value
    assert not home.exists()  # looking does not create the data directory

    from detector.ingest.pipeline import ingest_paths

    list(ingest_paths(load_settings(home), [str(ROOT / "sample_logs" / "squid" / "basic.log")]))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert "shadow-ai classify" in at.info[0].value
    at.switch_page("app_pages/data_health.py").run()
    assert not at.exception
    assert len(at.dataframe) >= 1


def test_csv_download_neutralises_formulas() -> None:
    from dashboards import data

    cells = ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "plain", "a=b"]
    frame = pd.DataFrame({"cell": cells, "number": [-3, 1, 2, 3, 4, 5, 6, 7]})
    rows = list(csv.reader(io.StringIO(data.to_csv(frame).decode(), newline="")))
    assert rows[0] == ["cell", "number"]
    assert [r[0] for r in rows[1:]] == ["'" + c for c in cells[:6]] + ["plain", "a=b"]
    assert rows[1][1] == "-3"  # numbers stay numbers


def test_dashboard_command_binds_loopback_headless_without_statistics(lake: Path) -> None:
    from detector import dashboard

    command = dashboard.command(8600)
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert command[command.index("--server.headless") + 1] == "true"
    assert command[command.index("--browser.gatherUsageStats") + 1] == "false"
    assert command[command.index("--server.port") + 1] == "8600"
    assert Path(command[command.index("run") + 1]) == APP
    assert dashboard.show_people(load_settings(lake, create=False)) is False


def test_show_people_must_be_a_boolean(tmp_path: Path) -> None:
    from detector.errors import ConfigError

    home = tmp_path / "h"
    load_settings(home)
    config = home / "shadow-ai.toml"
    config.write_text(config.read_text().replace("show_people = false", 'show_people = "yes"', 1))
    with pytest.raises(ConfigError, match="show_people"):
        load_settings(home)


def test_password_from_secrets_guards_every_page(app: AppTest) -> None:
    app.secrets["dashboard"] = {"password": "correct horse"}
    at = app.run()
    assert not at.exception
    assert not at.metric and not at.dataframe  # nothing shown before the password
    at.text_input[0].input("wrong").run()
    assert [e for e in at.error if "Wrong password" in e.value]
    assert not at.metric
    at.text_input[0].input("correct horse").run()
    assert not at.exception
    assert metric(at, "People using AI")


def test_a_catalog_from_another_version_asks_for_classify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import duckdb

    from detector.ingest.pipeline import ingest_paths

    home = tmp_path / "old"
    list(ingest_paths(load_settings(home), [str(ROOT / "sample_logs" / "squid" / "basic.log")]))
    duckdb.connect(str(home / "shadow-ai.duckdb")).close()  # a catalog database without the tables
    monkeypatch.setenv("SHADOW_AI_HOME", str(home))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert "shadow-ai classify" in at.warning[0].value
