"""Benchmark: each format's parse of one batch alone, beside the generic DuckDB split of the same batch.

`ingest.py` measures whole runs (reading, parsing, writing the lake), which on a shared machine move with
the load. This times only what a format owns: its parser on one batch of 262,144 lines (the reader's batch
size), built like `ingest.py` builds its files (the richest sample's event lines, repeated), against the
generic baseline's query (`ingest.generic_split_sql` without the file reading and the COPY) on the same
batch. CPU seconds, best of `--repeat`; the ratio is baseline / format (higher is better).

    python benchmarks/parse_queries.py panos,fortigate,cisco_asa [--repeat 5]

Not a test: it asserts nothing, it measures. The figures are per batch: a 1M-line file is ~3.8 batches.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ingest  # the sibling benchmark: sample parsing, layouts, the generic query

from detector.ingest import FORMATS
from detector.ingest.base import ParseContext, in_file_order, open_parse_connection
from detector.ingest.stages import tune_allocators

BATCH_LINES = 262_144


def best_cpu(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the run with the least CPU time."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu), key=lambda t: t[1])
    return best


def batch_of(sample: ingest.Sample) -> tuple[pa.Table, int, list[str]]:
    """A batch of the sample's lines: its header once (what precedes the first event: W3C `#Fields:`,
    Zeek's header, a CSV header row), then its lines from the first to the last event (rejects and `#`
    directives left out) repeated, as `ingest.build_format_file` builds a file; and the header's length."""
    kept = [(n, line) for n, line in enumerate(sample.lines, start=1) if n not in sample.rejects and line.strip()]
    positions = [i for i, (n, _) in enumerate(kept) if n in sample.events]
    header = [line for _, line in kept[: positions[0]]]
    unit = [line for _, line in kept[positions[0]: positions[-1] + 1] if not line.startswith("#")]
    lines = (header + unit * (BATCH_LINES // len(unit) + 1))[:BATCH_LINES]
    batch = pa.table({"line_no": pa.array(range(1, BATCH_LINES + 1), pa.int64()), "line": pa.array(lines)})
    return batch, len(header), [line for n, line in kept if n in sample.events]


def baseline_query(event_lines: list[str]) -> str:
    """The generic baseline's query over the registered `lines` instead of a file, without the COPY."""
    layout = ingest.pick_layout(event_lines)
    sql = ingest.generic_split_sql(Path("IN"), Path("OUT"), layout)
    body = sql.split("copy (", 1)[1].rsplit(") to ", 1)[0]
    source = ingest.read_lines_sql(Path("IN"), "where not starts_with(line, '#')")
    return body.replace(source, "(select line from lines where not starts_with(line, '#'))")


def measure(key: str, work: Path, repeat: int) -> str:
    """One report row: the format's and the baseline's CPU seconds on the same batch."""
    samples = ingest.parse_samples(key, work)
    if not samples:
        return f"{key:<20}no sample with events"
    sample = max(samples, key=lambda s: len(s.events))
    batch, header_lines, event_lines = batch_of(sample)
    connection = open_parse_connection()
    parse = in_file_order(FORMATS[key].new_parser(ParseContext(str(sample.path), "Europe/Amsterdam", connection)))
    events = parse(batch).events.num_rows
    # timed as a later batch of the file: the parser has read the header (and filled its caches) above; the
    # header again would be read as data (a CSV header row, a reject)
    body = batch.slice(header_lines)
    _, format_cpu = best_cpu(lambda: parse(body), repeat)
    connection.register("lines", batch)
    query = baseline_query(event_lines)
    _, baseline_cpu = best_cpu(lambda: connection.sql(query).to_arrow_table(), repeat)
    connection.unregister("lines")
    return (f"{key:<20}{sample.path.name[:25]:<26}{events:>8,}{format_cpu:>14.3f}{baseline_cpu:>16.3f}"
            f"{baseline_cpu / format_cpu:>7.2f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("formats", help="comma list of registry keys")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    tune_allocators()  # as `shadow-ai ingest` allocates
    print(f"{'format':<20}{'sample':<26}{'events':>8}{'format cpu s':>14}{'baseline cpu s':>16}{'ratio':>7}")
    with tempfile.TemporaryDirectory() as work:
        for key in [k.strip() for k in args.formats.split(",") if k.strip()]:
            print(measure(key, Path(work), args.repeat), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
