"""Zscaler's compiled readers (zscaler_scan.py) against the definitions they replace: name=value items found by
name as the SQL reading found them, CSV lines split at `","` as pyarrow splits them, on odd and mutated lines and
in batches of several chunks."""

from __future__ import annotations

import itertools
import random

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from detector.ingest.arrow_ops import list_item
from detector.ingest.zscaler import ALIASES, CSV_COLUMNS, PAIRS_ERROR, _csv_fields, _kv_table
from tests.edits import edited

LINE = ("<134>Mar 11 08:02:14 nss01 zscaler-nss: tz=GMT\ttime=Mon Mar 11 08:02:13 2024\tlogin=j@x.nl\t"
        "eurl=chatgpt.com/\treqmethod=GET\treqsize=1288\turlcat=AI & ML\tua=Mozilla/5.0 (X11; Linux)\tdept=Zaken")


def by_name_sql(lines: list[str]) -> list[dict]:
    """The reading by name as the previous parser's SQL did it: an item's name is the last word before its first
    `=`, its value what follows (quotes trimmed when quoted); the first item of a name counts; coalesce over the
    aliases."""
    columns = []
    for name, aliases in ALIASES.items():
        items = [f"p[list_position(k, '{alias}')]" for alias in aliases]
        item = items[0] if len(items) == 1 else f"coalesce({', '.join(items)})"
        value = f"substr({item}, strpos({item}, '=') + 1)"
        columns.append(f"case when starts_with({value}, '\"') then trim({value}, '\"') else {value} end as {name}")
    query = f"""
        with split as (select n, string_split(line, chr(9)) as p from lines),
        keyed as (select *, list_transform(p, lambda x: split_part(split_part(x, '=', 1), ' ', -1)) as k from split)
        select case when len(p) < 3 then '{PAIRS_ERROR}' end as parse_error, {", ".join(columns)}
        from keyed order by n"""
    connection = duckdb.connect()
    connection.register("lines", pa.table({"n": range(len(lines)), "line": pa.array(lines, pa.string())}))
    return connection.sql(query).to_arrow_table().to_pylist()


def in_chunks(lines: list[str], rng: random.Random) -> pa.Table:
    """The lines as a batch of several chunks (the reader's reads), each on a buffer of its own."""
    cuts = sorted({0, len(lines), *(rng.randrange(len(lines) + 1) for _ in range(3))})
    chunks = [pa.array(lines[a:b], pa.string()) for a, b in itertools.pairwise(cuts)]
    return pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()),
                     "line": pa.chunked_array(chunks, pa.string())})


def as_text(columns: dict[str, pa.Array]) -> list[dict]:
    return pa.table({name: pc.cast(column, pa.string()) for name, column in columns.items()}).to_pylist()


ODD_KV = [
    LINE,
    "time=Mon Mar 11 08:02:13 2024\tlogin=j@x.nl\teurl=a.com",  # three items: enough
    "time=x\tlogin=y",  # two: not name=value pairs
    "",
    "\t\t",
    "time=Mon Mar 11 08:02:13 2024\tlogin=j@x.nl\teurl=a.com\turlcat=x\tua",  # no '=' in the last item
    "time=t\tlogin=a=b\teurl=c==d\tua==",  # '=' in values
    'time="t"\tlogin=""\teurl="a.com\tua=""x""\tdept="',  # quoted, half quoted, only a quote
    "time=t\tlogin=first\tlogin=second\tuser=third\teurl=u",  # a name twice; an alias after
    "time=t\tfoo login=x\teurl=u\tu a=y",  # a name after a space
    "x=y tz=GMT\ttime=t\teurl=u",  # an '=' in the prefix: the name is the word before the first '='
    "Mar 11 eurl=zscaler-nss: reason=Allowed\turl=a.com/x\ttime=t",
    "time=Mon é\tlogin=ü@x.nl\teurl=a.com/é\tua=日本",
    "=\t=\t=",
    "time\tlogin\teurl",
    # names of the same length swapped from one line to the next (the kernel remembers the line before's names)
    "time=t\tlogin=a\tehost=b\teurl=u",
    "time=t\tehost=a\tlogin=b\teurl=u",
    "time=t\tlogin=a\tehost=b\teurl=u",
    "x" * 3 + "=1\t" + "a=1\t" * 300 + "login=far\turl=u",  # past the names remembered (256)
]


def test_name_value_kernel_reads_as_the_sql_by_name() -> None:
    rng = random.Random(7)
    salt = ["\t", "=", " ", '"', "tz=", " login=", "\teurl=x", "url=", "é", "ua", "login"]
    lines = ODD_KV + [edited(line, rng, salt) for line in ODD_KV * 20]
    assert as_text(_kv_table(in_chunks(lines, rng))) == by_name_sql(lines)


def test_name_value_line_reads_the_same_whatever_its_batch() -> None:
    """Before the kernel, a line of the batch's most common layout was read by position, and its first item by
    the layout's name even where a prefix held an '=' before it; now every line is read by name."""
    odd = "x=y tz=GMT\ttime=Mon Mar 11 08:02:13 2024\tlogin=j@x.nl\teurl=chatgpt.com/\turlcat=AI"
    layout = odd.replace("x=y ", "")
    alone = as_text(_kv_table(pa.table({"line_no": [1], "line": [odd]})))
    among = as_text(_kv_table(pa.table({"line_no": range(1, 6), "line": [layout] * 4 + [odd]})))
    assert among[4] == alone[0]
    assert alone[0]["tz_name"] is None  # (the item is named `x`, its value `y tz=GMT`)


def split_reference(lines: list[str]) -> tuple[list[dict], list[str | None]]:
    """The CSV fields as pyarrow's split at `","` gives them, and each line's error."""
    text = pa.array(lines, pa.string())
    items = pc.split_pattern(text, '","')
    place = {name: i for i, name in enumerate(CSV_COLUMNS)}
    fields = {name: list_item(items, place[aliases[0]]).to_pylist() for name, aliases in ALIASES.items()
              if aliases[0] in place}
    fields["time_text"] = [None if v is None else v.lstrip('"') for v in fields["time_text"]]
    counts = pc.list_value_length(items).to_pylist()
    errors = ["not a quoted CSV line" if not line.startswith('"') else
              f"expected the 33 columns of the default NSS web CSV feed, found {n}" if n < 33 else None
              for line, n in zip(lines, counts, strict=True)]
    return [dict(zip(fields, row, strict=True)) for row in zip(*fields.values(), strict=True)], errors


@pytest.mark.parametrize("seed", [1, 2])
def test_csv_kernel_splits_as_pyarrow(seed: int) -> None:
    rng = random.Random(seed)
    full = '"' + '","'.join(f"v{i} é" for i in range(len(CSV_COLUMNS))) + '"'
    odd = [full, full + ',"extra"', '"a","b"', "", '"', '""', '","', '",","', 'no quotes,at,all', full[:-1],
           full.replace('v3 é', 'v3 ""quoted"" "","" x')]
    lines = odd + [edited(line, rng, ['"', ",", '","', '""', " ", "é"]) for line in odd * 30]
    fields, error = _csv_fields(in_chunks(lines, rng))
    expected, errors = split_reference(lines)
    assert as_text(fields) == expected
    assert (error.to_pylist() if error is not None else [None] * len(lines)) == errors
