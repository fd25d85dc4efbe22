"""Infoblox NIOS responses: answers read once per distinct answer text, the same on every line and batch."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from detector.ingest import FORMATS
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings

ANSWERS = {
    "chatgpt.com. 300 IN A 104.18.32.47; chatgpt.com. 300 IN A 172.64.155.209;":
        (["104.18.32.47", "172.64.155.209"], "allowed"),
    "ads.example. 60 IN A 0.0.0.0; ads.example. 60 IN AAAA ::;": (["0.0.0.0", "::"], "blocked"),
    'txt.example. 60 IN TXT "a; b. 1 IN A 9.9.9.9;" Www.Example.COM. 5 IN CNAME Cdn.Example.;':
        (["cdn.example"], "allowed"),
    "x.example. 60 IN MX 10 mail.example.;": (None, "allowed"),
}


def test_responses_answers_and_sinkholes_are_the_same_on_every_line(tmp_path: Path) -> None:
    texts = list(ANSWERS)
    lines = [f"<30>Jun  5 10:00:{i % 60:02d} 10.20.0.53 named[2588]: infoblox-responses: 05-Jun-2024 10:00:31.046 "
             f"client 10.20.1.{i % 5}#64727: UDP: query: q.example IN A response: NOERROR + {texts[i % len(texts)]}"
             for i in range(40)]
    path = tmp_path / "nios-20240605.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = dataclasses.replace(golden_settings(), batch_lines=7)  # answers remembered across batches
    events, rejects, report = parse_file(path, FORMATS["infoblox_nios"], settings)
    assert report.parsed == 40 and rejects.num_rows == 0
    for i, event in enumerate(events.to_pylist()):
        answers, action = ANSWERS[texts[i % len(texts)]]
        assert (event["dns_answers"], event["action"]) == (answers, action), i
