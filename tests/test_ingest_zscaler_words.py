"""Zscaler's name=value kernel reads eight bytes at a time (a value's tab, a name compared with the one the line
before had at its place): the cases where that could read otherwise than byte by byte, against the SQL by name."""

from __future__ import annotations

import random

import pyarrow as pa

from detector.ingest.zscaler import _kv_table
from tests.edits import edited
from tests.test_ingest_zscaler_kernels import as_text, by_name_sql, in_chunks

LONG = "averyveryverylongname"  # (no wanted name: read, and remembered, as any other)
TEMPLATE = [
    "time=Mon Mar 11 08:02:13 2024", "login=j@x.nl", "eurl=chatgpt.com/", "urlsupercat=Information Technology",
    "unscannabletype=None", "devicehostname=NA", f"{LONG}=x", "urlcat=AI", "ua=Mozilla/5.0 (X11; Linux)",
    "clienttranstime=5", "urlcategory=AI", "contenttype=text/html",
]


def lines_of(template: list[str], rng: random.Random) -> list[str]:
    """Runs of a template's lines whose values have every length around a word's (1-17 bytes), so that tabs
    and line ends fall at every place of a word."""
    lines = []
    for _ in range(60):
        items = [item.split("=", 1)[0] + "=" + "v" * rng.randint(0, 17) for item in template]
        lines.append("\t".join(items))
    return lines


def test_names_and_tabs_read_a_word_at_a_time_as_byte_by_byte() -> None:
    rng = random.Random(3)
    lines = lines_of(TEMPLATE, rng)
    # names that differ from the line before's in one byte (the first, 8th, 9th, last of a word), or only past it
    # (a longer name), or with no '=' after them; a last item cut short
    near = ["urlcaX=a", "Xrlcat=a", "logiX=a", "clienttXanstime=a", "clienttrXnstime=a", "clienttranstimX=a",
            "urlcategorX=a", "contenttypeX=a", "urlsupercXt=a", "unscannabletypX=a", "unscannabletype2=a",
            "unscannabletype", f"{LONG}", "urlcat", "clienttranstime"]
    for _ in range(200):
        items = list(TEMPLATE)
        items[rng.randrange(len(items))] = rng.choice(near)
        lines.append("\t".join(items))
        lines.append("\t".join(TEMPLATE)[: rng.randrange(1, 200)])
    lines += [edited(line, rng, ["\t", "=", " ", '"', "login=", "urlcat="]) for line in lines[:400]]
    assert as_text(_kv_table(in_chunks(lines, rng))) == by_name_sql(lines)


def test_lines_at_the_end_of_their_buffer() -> None:
    """The buffer's last bytes are read byte by byte (a word there would read past it): chunks of one to a few
    short lines, each line read as in a batch of one."""
    rng = random.Random(5)
    lines = [line[:cut] for line in lines_of(TEMPLATE[:3], rng) for cut in (5, 9, 16, 17, 24, 40, 200)]
    for start in range(0, len(lines), 3):
        part = lines[start:start + rng.randint(1, 3)]
        table = pa.table({"line_no": pa.array(range(1, len(part) + 1), pa.int64()), "line": pa.array(part)})
        assert as_text(_kv_table(table)) == by_name_sql(part)


def test_numbers_read_as_digits_or_cast_as_text_alike() -> None:
    """Plain digits (1-18 of them) are read by the kernel as int64, a chunk with any other value keeps its text for
    the cast: a batch mixing both kinds of chunk gives the numbers the SQL cast gives."""
    from detector.ingest.base import ParseContext, in_file_order, open_parse_connection
    from detector.ingest.zscaler import KV

    plain = [f"time=Mon Mar 11 08:02:13 2024\teurl=a.com\treqsize={n}\tctime=0{n}\trespsize={n * 7}" for n in range(50)]
    odd = ["-5", "+5", " 5", "5 ", "1.5", "", "None", "9" * 18, "9" * 19, "0" * 25 + "1", "٣", "5\x00"]
    other = [f"time=Mon Mar 11 08:02:13 2024\teurl=a.com\treqsize={n}\tresponsesize={n}" for n in odd]
    lines = plain + other + plain
    batch = pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()),
                      "line": pa.chunked_array([pa.array(plain), pa.array(other), pa.array(plain)])})
    events = in_file_order(KV.new_parser(ParseContext("web.log", "UTC", open_parse_connection())))(batch).events
    connection = open_parse_connection()
    cast = [connection.execute(f"select try_cast('{n}' as bigint)").fetchall()[0][0] for n in odd]
    assert events.column("bytes_out").to_pylist() == list(range(50)) + cast + list(range(50))
    assert events.column("bytes_in").to_pylist() == [n * 7 for n in range(50)] + cast + [n * 7 for n in range(50)]
    assert events.column("duration_ms").to_pylist() == list(range(50)) + [None] * len(odd) + list(range(50))
