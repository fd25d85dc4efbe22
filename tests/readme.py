"""The README's generated parts (the format table), kept in step with the registry by a test.

Regenerate with:  python -m tests.readme --update
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from detector.ingest import FORMATS

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- formats:start -->", "<!-- formats:end -->"
SHOWN = ["user_name", "host", "url_path", "bytes_out", "bytes_in", "user_agent", "dns_answers", "action"]


def table_cell(text: str) -> str:
    """A pipe in a summary would end its Markdown table cell."""
    return text.replace("|", "\\|")


def format_table() -> str:
    header = "| format | source | what it reads | " + " | ".join(SHOWN) + " |"
    rule = "|" + "---|" * (3 + len(SHOWN))
    rows = [
        f"| `{fmt.name}` | {fmt.source_kind} | {table_cell(fmt.summary)} | "
        + " | ".join("✓" if column in fmt.fields else "" for column in SHOWN)
        + " |"
        for fmt in FORMATS.values()
    ]
    return "\n".join([header, rule, *rows])


def rendered(text: str) -> str:
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    return pattern.sub(f"{START}\n{format_table()}\n{END}", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--update", action="store_true")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    new = rendered(text)
    if new == text:
        return 0
    if args.update:
        README.write_text(new, encoding="utf-8")
        print("README.md format table updated")
        return 0
    print("README.md format table is out of date: python -m tests.readme --update")
    return 1


if __name__ == "__main__":
    sys.exit(main())
