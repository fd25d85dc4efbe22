"""Benchmark: naming IP-only firewall flows through DNS answers (the `flow_names` step of classify).

Builds a lake with N DNS answers and N firewall flows directly as Parquet (the lake's own layout), then
times the ASOF-join query that names every flow after the answer its own client received most recently
(else any client's), exactly as `shadow-ai classify` runs it.

    python benchmarks/flow_names.py [--events 10000000] [--out DIR] [--keep]

Target (issue "Firewall and network-sensor formats"): 10 million flows against 10 million DNS answers
in under a minute on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from detector import db
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


def write_lake(root: Path, events: int, seed: int = 1, chunk: int = 2_000_000) -> None:
    """N DNS answers then N flows, over one day, from 5,000 clients to 50,000 names on 20,000 addresses."""
    rng = np.random.default_rng(seed)
    names = pa.array([f"host{i}.site{i % 9000}.example" for i in range(50_000)])
    name_address = rng.integers(0, 20_000, 50_000)  # shared CDN addresses: several names per address
    lake = Lake(root / "lake")
    for part, first in enumerate(range(0, events, chunk)):
        n = min(chunk, events - first)
        clients = rng.integers(0, 5_000, n)
        name_index = rng.integers(0, 50_000, n)
        seconds = np.sort(rng.integers(0, DAY_SECONDS, n))
        # Most flows follow their own client's lookup; a fifth come from clients that did not look up.
        strangers = rng.random(n) < 0.2
        flow_clients = np.where(strangers, rng.integers(0, 5_000, n), clients)
        for kind, fmt, who, shift in (("dns", "zeek_dns", clients, 0), ("sensor", "zeek_conn", flow_clients, 5)):
            folder = lake.events_dir / f"source_kind={kind}" / "day=2024-11-28"
            folder.mkdir(parents=True, exist_ok=True)
            columns: dict[str, pa.Array] = {
                "ts": pa.array((START + seconds + shift) * 1_000_000, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
                "src_ip": _addresses(who, "10."),
                "dst_ip": _addresses(name_address[name_index], "104."),
                "log_format": pa.repeat(pa.scalar(fmt), n),
                "file_id": pa.repeat(pa.scalar(f"bench-{kind}"), n),
                "line_no": pa.array(np.arange(first + 1, first + n + 1), pa.int64()),
            }
            if kind == "dns":
                columns["host"] = names.take(pa.array(name_index))
                columns["dns_answers"] = pa.ListArray.from_arrays(
                    pa.array(np.arange(n + 1), pa.int32()), columns.pop("dst_ip"))
            table = conform(pa.table(columns).append_column("source_kind", pa.repeat(pa.scalar(kind), n)))
            pq.write_table(table.select(EVENT_FILE_SCHEMA.names), folder / f"bench-{part}.parquet",
                           **PARQUET_OPTIONS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000, help="DNS answers, and as many flows")
    parser.add_argument("--window-seconds", type=int, default=3600)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="shadow-ai-flows-"))
    started = time.perf_counter()
    write_lake(root, args.events)
    built = time.perf_counter() - started
    connection = duckdb.connect(":memory:")
    connection.execute("set TimeZone = 'UTC'")
    db.create_lake_views(connection, Lake(root / "lake"))
    started = time.perf_counter()
    named = db.run(connection, "flow_names", window_seconds=args.window_seconds)
    seconds = time.perf_counter() - started
    same = sum(1 for c in named.column("certainty").to_pylist() if c == "same_client")
    result = {
        "flows": args.events, "dns_answers": args.events, "named": named.num_rows, "same_client": same,
        "seconds": round(seconds, 2), "flows_per_second": round(args.events / seconds),
        "build_seconds": round(built, 1),
    }
    print(json.dumps(result, indent=2))
    print(f"\n{args.events:,} flows against {args.events:,} DNS answers named in {seconds:.1f} s (target < 60 s)")
    if not args.keep and args.out is None:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
