"""Benchmark: naming IP-only firewall flows through DNS answers (the `flow_names` step of classify).

Builds a lake with N DNS answers and N firewall flows directly as Parquet (the lake's own layout),
spread over --days days, then times the step as `shadow-ai classify` runs it
(`detector.classify.flows.update_flow_names`: each flow named after the answer its own client received
most recently, else any client's):

    full         no stored names yet: every day is named
    unchanged    the same lake again: every day's stored names still match their inputs
    one new day  a day of N/days more answers and flows is added: only that day is named

and compares the incremental result with a full recompute of the grown lake.

    python benchmarks/flow_names.py [--events 10000000] [--days 7] [--out DIR] [--keep]

Target (issue "Firewall and network-sensor formats"): 10 million flows against 10 million DNS answers
in under a minute on the 2-core machine. Figures are wall and CPU seconds (all threads; the one to
compare on a shared machine), with the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from detector import db
from detector.classify.flows import FlowNaming, update_flow_names
from detector.lake import PARQUET_OPTIONS, Lake
from detector.schema import EVENT_FILE_SCHEMA, conform

DAY_SECONDS = 86400
START = 1732752000  # 2024-11-28 00:00 UTC


def _addresses(values: np.ndarray, prefix: str) -> pa.Array:
    octets = [(values >> shift) & 255 for shift in (16, 8, 0)]
    text = pa.array(octets[0]).cast(pa.string())
    for part in octets[1:]:
        text = pa.compute.binary_join_element_wise(text, pa.array(part).cast(pa.string()), ".")
    return pa.compute.binary_join_element_wise(pa.scalar(prefix), text, "")


def write_day(lake: Lake, day: int, events: int, rng: np.random.Generator, chunk: int = 2_000_000) -> None:
    """`events` DNS answers then as many flows on day `day` (0 = 2024-11-28), from 5,000 clients to
    50,000 names on 20,000 addresses."""
    names = pa.array([f"host{i}.site{i % 9000}.example" for i in range(50_000)])
    name_address = np.random.default_rng(0).integers(0, 20_000, 50_000)  # shared CDN addresses
    start = START + day * DAY_SECONDS
    partition = time.strftime("%Y-%m-%d", time.gmtime(start))
    for part, first in enumerate(range(0, events, chunk)):
        n = min(chunk, events - first)
        clients = rng.integers(0, 5_000, n)
        name_index = rng.integers(0, 50_000, n)
        seconds = np.sort(rng.integers(0, DAY_SECONDS, n))
        # Most flows follow their own client's lookup; a fifth come from clients that did not look up.
        strangers = rng.random(n) < 0.2
        flow_clients = np.where(strangers, rng.integers(0, 5_000, n), clients)
        for kind, fmt, who, shift in (("dns", "zeek_dns", clients, 0), ("sensor", "zeek_conn", flow_clients, 5)):
            folder = lake.events_dir / f"source_kind={kind}" / f"day={partition}"
            folder.mkdir(parents=True, exist_ok=True)
            # flows `shift` seconds after their lookup: those of the day's last seconds fall on the next day
            ts = np.minimum(start + seconds + shift, start + DAY_SECONDS - 1)
            columns: dict[str, pa.Array] = {
                "ts": pa.array(ts * 1_000_000, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
                "src_ip": _addresses(who, "10."),
                "dst_ip": _addresses(name_address[name_index], "104."),
                "log_format": pa.repeat(pa.scalar(fmt), n),
                "file_id": pa.repeat(pa.scalar(f"bench-{kind}-{partition}"), n),
                "line_no": pa.array(np.arange(first + 1, first + n + 1), pa.int64()),
            }
            if kind == "dns":
                columns["host"] = names.take(pa.array(name_index))
                columns["host_source"] = pa.repeat(pa.scalar("dns_query"), n)  # as zeek_dns writes it
                columns["dns_answers"] = pa.ListArray.from_arrays(
                    pa.array(np.arange(n + 1), pa.int32()), columns.pop("dst_ip"))
            table = conform(pa.table(columns).append_column("source_kind", pa.repeat(pa.scalar(kind), n)))
            pq.write_table(table.select(EVENT_FILE_SCHEMA.names), folder / f"bench-{part}.parquet",
                           **PARQUET_OPTIONS)


def measured(step: Callable[[], FlowNaming]) -> tuple[FlowNaming, dict[str, Any]]:
    wall, cpu = time.perf_counter(), time.process_time()
    naming = step()
    return naming, {"seconds": round(time.perf_counter() - wall, 2), "cpu_seconds": round(time.process_time() - cpu, 2),
                    "days_named": len(naming.named_days), "days_kept": len(naming.kept_days)}


def connect(lake: Lake) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(":memory:")
    connection.execute("set TimeZone = 'UTC'")
    db.create_lake_views(connection, lake)
    return connection


def name_flows(lake: Lake, store: Path, window: int) -> FlowNaming:
    """The classify step on a fresh connection, as a classify run makes it."""
    with connect(lake) as connection:
        return update_flow_names(connection, lake, store, window)


def compare(files: list[Path], reference: list[Path]) -> dict[str, Any]:
    """How stored names differ from a full recompute's: flows named (or not) differently, and flows given
    another host (answers with the same time stamp keep the first name in name order, so both are 0)."""
    with duckdb.connect(":memory:") as connection:
        connection.read_parquet([str(p) for p in files]).create_view("a")
        connection.read_parquet([str(p) for p in reference]).create_view("b")
        named = connection.execute("select count(*) from (select file_id, line_no, certainty from a except all "
                                   "select file_id, line_no, certainty from b)").fetchone()[0] + connection.execute(
            "select count(*) from (select file_id, line_no, certainty from b except all "
            "select file_id, line_no, certainty from a)").fetchone()[0]
        hosts = connection.execute("select count(*) from a join b using (file_id, line_no) "
                                   "where a.host <> b.host").fetchone()[0]
    return {"flows_named_differently": named, "flows_given_another_host": hosts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000, help="DNS answers, and as many flows")
    parser.add_argument("--days", type=int, default=7, help="days the events are spread over")
    parser.add_argument("--window-seconds", type=int, default=3600)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="shadow-ai-flows-"))
    lake, store = Lake(root / "lake"), root / "flow-names"
    for previous in (lake.root, store):  # a kept --out of an earlier run: start again
        shutil.rmtree(previous, ignore_errors=True)
    result: dict[str, Any] = {"flows": args.events, "dns_answers": args.events, "days": args.days,
                              "load_before": os.getloadavg()}
    started = time.perf_counter()
    rng = np.random.default_rng(1)
    per_day = args.events // args.days
    for day in range(args.days):
        write_day(lake, day, per_day, rng)
    result["build_seconds"] = round(time.perf_counter() - started, 1)
    naming, result["full"] = measured(lambda: name_flows(lake, store, args.window_seconds))
    result["full"]["named"] = sum(pq.read_metadata(p).num_rows for p in naming.files)
    _, result["unchanged"] = measured(lambda: name_flows(lake, store, args.window_seconds))
    write_day(lake, args.days, per_day, rng)
    naming, result["one_new_day"] = measured(lambda: name_flows(lake, store, args.window_seconds))
    fresh = root / "flow-names-full"
    shutil.rmtree(fresh, ignore_errors=True)
    recomputed, result["full_after_new_day"] = measured(lambda: name_flows(lake, fresh, args.window_seconds))
    result["incremental_vs_full"] = compare(naming.files, recomputed.files)
    result["load_after"] = os.getloadavg()
    print(json.dumps(result, indent=2, default=str))
    full, new = result["full"], result["one_new_day"]
    print(f"\n{args.events:,} flows against {args.events:,} DNS answers over {args.days} days: named in "
          f"{full['seconds']:.1f} s ({full['cpu_seconds']:.1f} s CPU; target < 60 s); one new day of {per_day:,} "
          f"in {new['seconds']:.1f} s ({new['cpu_seconds']:.1f} s CPU, {new['days_named']} day named, "
          f"{new['days_kept']} kept); nothing new {result['unchanged']['seconds']:.2f} s; incremental vs full: "
          f"{result['incremental_vs_full']}; load {result['load_before'][0]:.1f} -> {result['load_after'][0]:.1f}")
    if not args.keep and args.out is None:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
