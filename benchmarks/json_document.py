"""Benchmark: a JSON document (a pretty-printed array, as `az ... -o json` and PowerShell's ConvertTo-Json write it)
ingested against the same records as JSON lines.

Writes N Microsoft Graph traffic records (networkAccessTraffic objects) twice, as one pretty-printed document
`{"value": [...]}` and as JSON lines, then times (wall and CPU seconds) reading the document's records through
`open_stream` alone (json_document's ijson stream) and `shadow-ai ingest` of each file into a fresh lake (a child
process each, measured as benchmarks/ingest.py measures: wall, CPU, peak RSS).

    python benchmarks/json_document.py [--records 1000000] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from detector.ingest.reader import CHUNK_BYTES, open_stream, read_chunk

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ingest as ingest_benchmark

HOSTS = ["chatgpt.com", "claude.ai", "www.deepl.com", "gemini.google.com", "login.microsoftonline.com"]


def record(i: int) -> dict[str, object]:
    host = HOSTS[i % len(HOSTS)]
    return {"@odata.type": "#microsoft.graph.networkaccess.networkAccessTraffic", "transactionId": f"t-{i}",
            "createdDateTime": f"2026-12-01T{8 + i // 360000 % 10:02d}:{i // 6000 % 60:02d}:{i // 100 % 60:02d}Z",
            "trafficType": "internet", "networkProtocol": "ipv4", "transportProtocol": "tcp",
            "sourceIp": f"10.20.{i // 250 % 250}.{i % 250}", "sourcePort": 50000 + i % 10000,
            "destinationIp": "104.18.32.47", "destinationPort": 443, "destinationFQDN": host,
            "destinationUrl": f"https://{host}/api/{i % 97}",
            "destinationWebCategory": {"id": "ArtificialIntelligence", "displayName": "Artificial Intelligence"},
            "action": "allow" if i % 7 else "block", "userId": f"00000000-0000-4000-8000-{i % 5000:012d}",
            "userPrincipalName": f"user{i % 5000}@gemeente.example", "sentBytes": i % 100000,
            "receivedBytes": i % 250000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="json-document-"))
    out.mkdir(parents=True, exist_ok=True)
    document, lines = out / "traffic.json", out / "traffic.jsonl"
    with document.open("w", encoding="utf-8") as pretty, lines.open("w", encoding="utf-8") as plain:
        pretty.write('{\n  "@odata.context": "https://graph.microsoft.com/beta/$metadata",\n  "value": [\n')
        for i in range(args.records):
            row = record(i)
            pretty.write((",\n" if i else "") + "    " + json.dumps(row, indent=2).replace("\n", "\n    "))
            plain.write(json.dumps(row) + "\n")
        pretty.write("\n  ]\n}\n")

    start, cpu_start = time.perf_counter(), time.process_time()
    size = 0
    with open_stream(document) as stream:
        while chunk := read_chunk(stream, CHUNK_BYTES)[0]:
            size += len(chunk)
    stream_wall, stream_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    result = {"records": args.records, "document_mb": round(document.stat().st_size / 2**20, 1),
             "lines_mb": round(size / 2**20, 1), "stream_wall_s": round(stream_wall, 2),
             "stream_cpu_s": round(stream_cpu, 2),
             "stream_mb_per_s": round(document.stat().st_size / 2**20 / stream_wall, 1)}
    shadow_ai = str(Path(sys.executable).parent / "shadow-ai")
    for name, path in (("document", document), ("lines", lines)):
        run = ingest_benchmark.measure(f"ingest-{name}", [shadow_ai, "--home", str(out / f"home-{name}"), "ingest",
                                                         "--format", "json", str(path)],
                                      out / f"run-{name}", args.records, path.stat().st_size, 3600)
        if run.exit_code:
            raise SystemExit(f"ingest of {path} failed: {run.stderr_tail}")
        result.update({f"ingest_{name}_wall_s": round(run.wall_s, 2), f"ingest_{name}_cpu_s": round(run.cpu_s, 2),
                      f"ingest_{name}_peak_rss_mib": run.peak_rss // 2**20})
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
