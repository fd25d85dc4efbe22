"""Golden files: the expected outcome of every line of every sample in `sample_logs/<format>/`.

Each sample `sample_logs/<key>/<scenario>.<ext>` has `<scenario>.expected.jsonl` beside it: one JSON
object per line of the sample that is not ignored, sorted keys, in line order — the event's non-null
columns, or {"line_no": N, "reject": reason}. Regenerate (then review the diff!) with:

    python -m tests.golden --update [FORMAT ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa

from detector.config import Settings
from detector.ingest import FORMATS
from detector.ingest.base import ParseResult
from detector.ingest.pipeline import FileReport, parse_file

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"
GOLDEN_SUFFIX = ".expected.jsonl"
# Golden files are made in a fixed zone, so that they do not depend on the machine's.
GOLDEN_TIMEZONE = "Europe/Amsterdam"
LINEAGE = {"file_id", "source_kind", "log_format"}


def golden_settings(home: Path = ROOT) -> Settings:
    return Settings(home=home, organisation="", timezone=GOLDEN_TIMEZONE, batch_lines=7, max_line_bytes=65536,
                    min_group_size=5, allow_reveal=False, keep_identity_map=False)


def parse_lines(path: Path, key: str, lines: Iterable[str]) -> tuple[pa.Table, pa.Table, FileReport]:
    """Write `lines` to `path` and parse it as format `key` with the golden settings; every line accounted for."""
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS[key], golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events, rejects, report


def comparable(result: ParseResult) -> tuple[list[dict[str, object]], list[dict[str, object]], int]:
    """A parser's events and rejects in line order, and its ignored count, for comparing two readings of the same
    lines. Times as microseconds: a parser may give a time before year 1 (`-2026-03-13` reads as 2027 BC), which
    the pipeline, not the parser, rejects, and which Python's datetime cannot hold."""
    events = result.events
    if "ts" in events.column_names:
        events = events.set_column(events.column_names.index("ts"), "ts", events.column("ts").cast(pa.int64()))
    return (sorted(events.to_pylist(), key=lambda row: row["line_no"]),
            sorted(result.rejects.to_pylist(), key=lambda row: row["line_no"]), result.ignored)


def samples(key: str) -> list[Path]:
    folder = SAMPLES / key
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.endswith(GOLDEN_SUFFIX))


def golden_path(sample: Path) -> Path:
    return sample.with_name(sample.name.split(".", 1)[0] + GOLDEN_SUFFIX)


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def outcomes(sample: Path, key: str) -> list[dict[str, object]]:
    """What parsing the sample gives, line by line, in the golden files' form."""
    events, rejects, _ = parse_file(sample, FORMATS[key], golden_settings())
    records = [
        {k: _plain(v) for k, v in row.items() if v is not None and k not in LINEAGE} for row in events.to_pylist()
    ]
    records += [{"line_no": row["line_no"], "reject": row["reason"]} for row in rejects.to_pylist()]
    return sorted(records, key=lambda r: int(r["line_no"]))  # type: ignore[call-overload]


def render(records: list[dict[str, object]]) -> str:
    return "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in records)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("formats", nargs="*", help="format keys (default: all)")
    parser.add_argument("--update", action="store_true", help="write the golden files")
    args = parser.parse_args(argv)
    stale = 0
    for key in args.formats or list(FORMATS):
        for sample in samples(key):
            text = render(outcomes(sample, key))
            target = golden_path(sample)
            if target.exists() and target.read_text(encoding="utf-8") == text:
                continue
            stale += 1
            if args.update:
                target.write_text(text, encoding="utf-8")
                print(f"wrote {target.relative_to(ROOT)}")
            else:
                print(f"differs: {target.relative_to(ROOT)}")
    return 1 if stale and not args.update else 0


if __name__ == "__main__":
    sys.exit(main())
