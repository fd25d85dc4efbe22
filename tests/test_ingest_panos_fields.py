"""PAN-OS fields cut by the compiled kernel (panos_scan) read as a plain CSV split would read them."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pyarrow as pa

from detector.ingest import panos
from detector.ingest.base import ParseContext, in_file_order, open_parse_connection
from tests.edits import edited

SAMPLE = Path(__file__).resolve().parent.parent / "sample_logs" / "panos" / "basic.log"


def reference_fields(line: str) -> list[str]:
    """The line's fields: split at the commas outside double quotes (an odd number of quote marks before it)."""
    fields, start, quoted = [], 0, False
    for at, character in enumerate(line):
        if character == '"':
            quoted = not quoted
        elif character == "," and not quoted:
            fields.append(line[start:at])
            start = at + 1
    return [*fields, line[start:]]


def expected(line: str) -> tuple[int, dict[int, str | None]]:
    """Field count (as far as the 39th, the rest of the line counting as one) and the fields read."""
    fields = reference_fields(line)
    count = min(len(fields), panos.SPLITS + 1)
    at: dict[int, str | None] = {p: fields[p] if p < len(fields) else None for p in panos.FIELDS}
    url = len(fields) > panos.SPLITS and fields[panos.TYPE] == "THREAT" and fields[panos.SUBTYPE] == "url"
    at.update({p: fields[p] if url and p < len(fields) else None for p in panos.URL_FIELDS})
    return count, at


def edited_lines(count: int, seed: int) -> list[str]:
    """The sample's lines, as they are and with quotes, commas and text inserted, bytes cut out, or cut short."""
    rng = random.Random(seed)
    lines = [line for line in SAMPLE.read_text().splitlines() if line]
    pieces = ['"', '""', ",", '"a,b"', "é", "THREAT,url", "日本", ""]
    out = [edited(rng.choice(lines), rng, pieces, edits=3) for _ in range(count)]
    return [*lines, *out, "", ",", '"', '",', ",,,," * 20, '1,"a,b",c,THREAT,url' + ",x" * 70]


def test_fields_are_the_csv_split() -> None:
    lines = edited_lines(3000, seed=8)
    text = pa.concat_arrays([pa.array(["skipped"]), pa.array(lines)]).slice(1)  # a slice: offsets not from 0
    fields = panos.Fields(text)
    url = (fields.kind[panos.TYPE].to_numpy(zero_copy_only=False) == "THREAT") \
        & (fields.kind[panos.SUBTYPE].to_numpy(zero_copy_only=False) == "url")
    fields.read(np.ones(len(lines), bool), url)
    for row, line in enumerate(lines):
        assert fields.kind[panos.TYPE][row].as_py() == (at := expected(line)[1])[panos.TYPE]
        assert fields.kind[panos.SUBTYPE][row].as_py() == at[panos.SUBTYPE]
        count, at = expected(line)
        assert fields.count[row] == count, line
        for position, value in at.items():
            assert fields.at[position][row].as_py() == value, (position, line)


def test_quoted_commas_stay_commas(tmp_path: Path) -> None:
    """A quoted field with a comma keeps its comma wherever it is read (before the kernel, fields that were not
    unquoted, such as the URL category, showed the U+001F that hid it during the split)."""
    line = next(line for line in SAMPLE.read_text().splitlines() if ",TRAFFIC,end," in line)
    fields = reference_fields(line)
    fields[panos.TRAFFIC_CATEGORY] = '"ai,tools"'
    fields[panos.SRC_USER] = '"corp\\a,b"'
    parse = in_file_order(panos.panos_parser(ParseContext("x.log", "UTC", open_parse_connection())))
    result = parse(pa.table({"line_no": pa.array([1], pa.int64()), "line": pa.array([",".join(fields)])}))
    event = result.events.to_pylist()[0]
    assert event["vendor_category"] == '"ai,tools"'
    assert event["user_name"] == "corp\\a,b"
