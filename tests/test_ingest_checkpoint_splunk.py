"""Check Point Log Exporter's Splunk format: the compiled pass (checkpoint_scan) finds the lines and values that
checkpoint.SPLUNK_LINE and SPLUNK_SQL's regular expressions find.

Lines are written from Log Exporter's documented Splunk format (sk122323,
https://support.checkpoint.com/results/sk/sk122323): `key=value` pairs separated by `|`, the first key `time`
(epoch seconds), `=`, `|` and a backslash in a value escaped with a backslash; behind any syslog header.
"""

from __future__ import annotations

import itertools

import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.base import open_parse_connection
from detector.ingest.checkpoint import KEYS, SPLUNK_LINE, SPLUNK_SQL
from detector.ingest.compiled import WantedKeys

BODIES = [
    "time=1763452804|hostname=gw|product=Firewall|action=Accept|src=10.20.3.14|dst=104.18.32.47|proto=6|service=443|",
    "time=1763452805|action=Block|src=10.20.9.3|dst=172.66.0.227|resource=https://claude.ai/new?q\\=a\\|b|method=GET|",
    "time=1763452806|action=Accept|client_outbound_bytes=48213|server_outbound_bytes=912044|product=Log Update|",
    "time=1763452807|originsicname=CN\\=gw,O\\=mgmt|src_user_name=Jan de Vries (jdevries)|user=|src=1.2.3.4|src=5.6.7.8|",
    "time=1763452808|resource=a\\|src=9.9.9.9|dst=1.1.1.1|appi_name=caf\\é|app_category=x\\\\|matched_category=y\\",
    "time=1763452809|action=Drop|elapsed=12|sent_bytes=1|received_bytes=2|sent_byte=3|source_user_name=a\\\\\\|b|",
    "time=x|action=Accept|src=1.1.1.1|dst=2.2.2.2|",
    "time=1763452810",
    "hostname=gw|time=1763452811|src=1.1.1.1|action=Accept|dst=2.2.2.2|",
    "time=1763452812|Action=Accept|SRC=1.1.1.1|srcx=2|xsrc=3|src =4|service=|",
]
HEADERS = ["", "Nov 18 09:00:04 gw-stadhuis ", "<134>1 2025-11-18T09:00:04+01:00 gw CP - - - ", "a\ttime=1|", "x|"]


def test_splunk_values_as_the_regular_expressions_read_them() -> None:
    from detector.ingest import checkpoint_scan

    lines = [header + body for header, body in itertools.product(HEADERS, BODIES)]
    lines += [body[:cut] for body in BODIES for cut in (1, 5, 6, 16, 17, 30)]
    line = pa.array(lines)
    splunk, has_open, found = checkpoint_scan.splunk_values(line, WantedKeys(KEYS), KEYS.index("time"))
    assert list(has_open) == pc.match_substring(line, "[").to_pylist()
    assert list(splunk) == pc.match_substring_regex(line, SPLUNK_LINE).to_pylist()
    connection = open_parse_connection()
    connection.register("splunk_lines", pa.table({"line_no": pa.array(range(len(lines)), pa.int64()), "line": line}))
    expected = connection.sql(SPLUNK_SQL).to_arrow_table()
    for key in KEYS:
        assert found[key].to_pylist() == expected.column(key).to_pylist(), key
    assert found["resource"][1].as_py() == "https://claude.ai/new?q=a|b"
    assert found["src"][4].as_py() == "9.9.9.9"  # (`|src=` inside an escaped value: the expression's reading)
    assert splunk.sum() > len(BODIES)
