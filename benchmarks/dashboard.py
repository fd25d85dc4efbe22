"""Dashboard benchmark: how long each page takes on a lake of N events (target: < 1 s per page).

Why: the dashboard must stay interactive on a municipality's quarter of proxy logs (tens of millions of
events). Pages read rollups, not events; this measures whether that holds, per page, in three states:

    first    the first page after a classify (the catalog database replaced, in a dashboard already
             running: its modules imported): attaches the new catalog database, builds the dashboard's
             in-memory rollups and runs the page's queries (the lake's event files are not opened)
    cold     the page's queries on the built rollups (query cache cleared): a filter change
    warm     the page again with the same filters (query cache hit): switching back and forth

The lake is written directly as Parquet in the lake's layout (lake.py: source_kind=/day=/*.parquet),
generated with numpy: proxy events of E employees in 12 departments over D days, about 8% of them to
catalogued AI services and a few to unknown AI-looking hosts, the rest to thousands of ordinary sites,
in `--files-per-day` files a day (default 24, as hourly ingests write them: a reader that opens the
lake reads every file's footer, so the file count matters, not only the events).
Then `classify` runs (timed too) and every page runs through Streamlit's AppTest, in this process.

    python benchmarks/dashboard.py                      # full size: 50M events (the lead runs this)
    python benchmarks/dashboard.py --events 2000000     # smoke run on a shared machine
    python benchmarks/dashboard.py --events 2000000 --no-model --keep --out /tmp/dash-bench

Not a test: it asserts nothing, it measures. Results: DIR/dashboard-results.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from detector.config import load_settings  # noqa: E402
from detector.enrich.pseudonym import load_key, pseudonym  # noqa: E402
from detector.schema import EVENT_FILE_SCHEMA  # noqa: E402

APP = ROOT / "dashboards" / "streamlit_app.py"
PAGES = ["overview", "departments", "services", "discovery", "data_health"]
TARGET_SECONDS = 1.0
DEPARTMENTS = ["Burgerzaken", "Financien", "ICT", "Communicatie", "Sociaal Domein", "Ruimte", "Belastingen",
               "Juridische Zaken", "HR", "Inkoop", "Archief", "Bestuursondersteuning"]
AI_HOSTS = ["chatgpt.com", "www.deepl.com", "claude.ai", "gemini.google.com", "copilot.microsoft.com",
            "chat.deepseek.com", "api.openai.com", "www.perplexity.ai", "otter.ai", "www.grammarly.com",
            "api.mistral.ai", "huggingface.co"]
UNKNOWN_AI_HOSTS = ["ai-notulist.example", "schrijfhulp-ai.example", "chat.llm-hub.example"]
ORDINARY_SITES = 5000
AI_SHARE, UNKNOWN_AI_SHARE = 0.08, 0.002
PROXY_PATHS = ["/", "/api/v1/chat", "/backend-api/conversation", "/translate", "/index.html", "/search"]


def write_lake(home: Path, events: int, days: int, employees: int, seed: int, files_per_day: int) -> dict[str, Any]:
    """Proxy events as Parquet partitions (`files_per_day` files a day), plus users.csv and networks.csv
    for attribution."""
    rng = np.random.default_rng(seed)
    load_settings(home)
    key = load_key(home)
    names = [f"medewerker{i:05d}" for i in range(employees)]
    departments = rng.integers(0, len(DEPARTMENTS), employees)
    (home / "users.csv").write_text("user,department\n" + "".join(
        f"{n},{DEPARTMENTS[d]}\n" for n, d in zip(names, departments, strict=True)))
    (home / "networks.csv").write_text("cidr,department\n" + "".join(
        f"10.{20 + i}.0.0/16,{d}\n" for i, d in enumerate(DEPARTMENTS)))
    pseudonyms = np.array([pseudonym(key, n) for n in names], dtype=object)
    addresses = np.array([f"10.{20 + d}.{i // 250 % 250}.{i % 250 + 1}" for i, d in enumerate(departments)],
                         dtype=object)
    # a few heavy AI users, most occasional: each employee's propensity to use AI
    propensity = rng.beta(0.6, 3.0, employees)
    propensity /= propensity.sum()
    ordinary = np.array([f"www.site{i:04d}.example" for i in range(ORDINARY_SITES)], dtype=object)
    ai_hosts = np.array(AI_HOSTS + UNKNOWN_AI_HOSTS, dtype=object)
    ai_weights = np.array([1 / (i + 1) for i in range(len(AI_HOSTS))] + [0.0] * len(UNKNOWN_AI_HOSTS))
    ai_weights = ai_weights / ai_weights.sum() * (AI_SHARE / (AI_SHARE + UNKNOWN_AI_SHARE))
    ai_weights[len(AI_HOSTS):] = (UNKNOWN_AI_SHARE / (AI_SHARE + UNKNOWN_AI_SHARE)) / len(UNKNOWN_AI_HOSTS)
    paths = np.array(PROXY_PATHS, dtype=object)
    first_day = date(2025, 1, 6)
    per_day = events // days
    folder = home / "lake" / "events" / "source_kind=proxy"
    for index in range(days):
        day = first_day + timedelta(days=index)
        n = per_day + (events - per_day * days if index == days - 1 else 0)
        start = int(datetime(day.year, day.month, day.day, 7, tzinfo=UTC).timestamp() * 1_000_000)
        ts = np.sort(start + rng.integers(0, 11 * 3600 * 1_000_000, n))
        is_ai = rng.random(n) < AI_SHARE + UNKNOWN_AI_SHARE
        who = np.where(is_ai, rng.choice(employees, n, p=propensity), rng.integers(0, employees, n))
        hosts = np.where(is_ai, ai_hosts[rng.choice(len(ai_hosts), n, p=ai_weights)],
                         ordinary[rng.zipf(1.3, n) % ORDINARY_SITES])
        anonymous = rng.random(n) < 0.05
        user = np.where(anonymous, None, pseudonyms[who])
        columns: dict[str, pa.Array] = {
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "log_format": pa.array(np.full(n, "squid", dtype=object), pa.string()),
            "src_ip": pa.array(addresses[who], pa.string()),
            "user_name": pa.array(user, pa.string()),
            "host": pa.array(hosts, pa.string()),
            "host_source": pa.array(np.full(n, "url", dtype=object), pa.string()),
            "dst_port": pa.array(np.full(n, 443, dtype=np.int32)),
            "http_method": pa.array(np.where(is_ai & (rng.random(n) < 0.6), "POST", "GET").astype(object),
                                    pa.string()),
            "url_path": pa.array(paths[rng.integers(0, len(paths), n)], pa.string()),
            "http_status": pa.array(np.full(n, 200, dtype=np.int32)),
            "action": pa.array(np.full(n, "allowed", dtype=object), pa.string()),
            "bytes_out": pa.array(rng.lognormal(7, 1.5, n).astype(np.int64)),
            "bytes_in": pa.array(rng.lognormal(9, 1.5, n).astype(np.int64)),
            "file_id": pa.array(np.full(n, f"bench{index:04d}", dtype=object), pa.string()),
            "line_no": pa.array(np.arange(1, n + 1, dtype=np.int64)),
        }
        table = pa.table({f.name: columns.get(f.name, pa.nulls(n, f.type)) for f in EVENT_FILE_SCHEMA},
                         schema=EVENT_FILE_SCHEMA)
        target = folder / f"day={day.isoformat()}"
        target.mkdir(parents=True, exist_ok=True)
        # one file per ingested segment, as a lake fed several times a day has
        bounds = np.linspace(0, n, files_per_day + 1).astype(np.int64)
        for part, (begin, end) in enumerate(itertools.pairwise(bounds)):
            pq.write_table(table.slice(begin, end - begin), target / f"bench-{index:04d}-{part:03d}.parquet",
                           compression="zstd")
    return {"events": events, "days": days, "employees": employees, "files": days * files_per_day,
            "first_day": first_day.isoformat()}


def classify(home: Path, use_model: bool) -> float:
    from detector.classify import run

    if not use_model:
        run.load_scorer = lambda _settings: None  # type: ignore[assignment]
    started = time.perf_counter()
    run.classify(load_settings(home))
    return time.perf_counter() - started


def time_pages(home: Path, repeat: int) -> list[dict[str, Any]]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["SHADOW_AI_HOME"] = str(home)

    def run(page: str, cpu: list[float] | None = None) -> float:
        at = AppTest.from_file(str(APP), default_timeout=3600)
        at.query_params["period"] = "Last 90 days"
        started, started_cpu = time.perf_counter(), time.process_time()
        at.run()
        if page != "overview":
            at.switch_page(f"app_pages/{page}.py").run()
        elapsed = time.perf_counter() - started
        if cpu is not None:
            cpu.append(time.process_time() - started_cpu)
        if at.exception:
            raise RuntimeError(f"{page}: {at.exception[0].value}")
        if at.error:  # e.g. "classify again": a page that shows only a message measures nothing
            raise RuntimeError(f"{page} shows an error: {at.error[0].value}")
        return elapsed

    empty = Path(tempfile.mkdtemp()) / "empty_app.py"
    empty.write_text("import streamlit as st\nst.title('empty')\n")
    started = time.perf_counter()
    AppTest.from_file(str(empty), default_timeout=60).run()
    baseline = time.perf_counter() - started
    st.cache_data.clear()
    st.cache_resource.clear()
    first_cpu: list[float] = []
    rows = [{"page": "AppTest itself (an empty app)", "seconds": baseline},
            {"page": "overview, first in this process", "seconds": run("overview")}]
    # a classify replaces the catalog database: a new lake version, as a running dashboard sees it
    os.utime(home / "shadow-ai.duckdb")
    rows.append({"page": "overview (first after classify)", "seconds": run("overview", first_cpu),
                 "cpu_seconds": first_cpu[0]})
    for page in PAGES:
        cold, warm = [], []
        for _ in range(repeat):
            st.cache_data.clear()
            cold.append(run(page))
            warm.append(run(page))
        rows.append({"page": page, "cold": min(cold), "warm": min(warm)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000_000, help="events to generate (default 50M)")
    parser.add_argument("--days", type=int, default=90, help="days they span (default 90)")
    parser.add_argument("--employees", type=int, default=3000, help="employees (default 3000)")
    parser.add_argument("--files-per-day", type=int, default=24,
                        help="Parquet files per day, as hourly ingests write them (default 24)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=2, help="runs per page; the fastest counts")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "shadow-ai-dashboard-bench")
    parser.add_argument("--keep", action="store_true", help="keep the generated lake")
    parser.add_argument("--reuse", action="store_true", help="use the lake already in --out (no generation)")
    parser.add_argument("--no-model", action="store_true", help="classify with the catalog only (faster)")
    args = parser.parse_args(argv)

    home = args.out / "home"
    load_before = os.getloadavg()
    results: dict[str, Any] = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                           "load_before": load_before}}
    if not args.reuse:
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        started = time.perf_counter()
        results["lake"] = write_lake(home, args.events, args.days, args.employees, args.seed, args.files_per_day)
        results["generate_seconds"] = round(time.perf_counter() - started, 1)
        print(f"generated {args.events:,} events in {results['generate_seconds']} s", flush=True)
        results["classify_seconds"] = round(classify(home, not args.no_model), 1)
        print(f"classify: {results['classify_seconds']} s", flush=True)
    pages = time_pages(home, args.repeat)
    results["pages"] = pages
    results["machine"]["load_after"] = os.getloadavg()
    (args.out / "dashboard-results.json").write_text(json.dumps(results, indent=2))

    baseline = pages[0]["seconds"]
    print(f"\n{'page':<34} {'cold s':>8} {'warm s':>8} {'cold - AppTest':>15}   target < {TARGET_SECONDS:.0f} s")
    for row in pages:
        if "seconds" in row:
            cpu = f"   (cpu {row['cpu_seconds']:.2f} s)" if "cpu_seconds" in row else ""
            print(f"{row['page']:<34} {row['seconds']:>8.2f}{cpu}")
        else:
            flag = "" if row["cold"] < TARGET_SECONDS else "  over target (cold)"
            print(f"{row['page']:<34} {row['cold']:>8.2f} {row['warm']:>8.2f} {row['cold'] - baseline:>15.2f}{flag}")
    print(f"load average before {load_before[0]:.1f}, after {results['machine']['load_after'][0]:.1f} "
          f"(on {os.cpu_count()} cores; figures from a busy machine are noise)")
    if not args.keep and not args.reuse:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
