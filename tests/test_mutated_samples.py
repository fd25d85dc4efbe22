"""Every format on its own sample lines cut, swapped, repeated and salted at random (seeded): a line a
parser does not understand is a reject or ignored, never a failed batch, and every line is accounted for.

Generated from the registry like the golden tests. Longer runs of the same mutations found five inputs
that failed a whole batch, which the hand-written property tests had missed: huge epochs (Zeek, Unbound)
and durations (FortiGate, SRX), undecodable %-escapes (Squid users), a batch of blank lines. Before their
fixes this test fails on the Zeek one."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from detector.ingest import FORMATS
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
SALT = ['"', "\\", "=", ",", "|", "[", "]", "{", "}", " ", "\t", "%", "%ff", "99999999999999999"]


def mutated(line: str, rng: random.Random) -> str:
    # i and j in either order: a "swap" with j before i repeats the text between them
    i, j = rng.randrange(len(line) + 1), rng.randrange(len(line) + 1)
    return rng.choice([
        line[:i],                              # cut
        line[:i] + line[j:] + line[i:j],       # swap two parts, or repeat one
        line[:i] + line[i:j] * 2 + line[j:],   # repeat a part
        line[:min(i, j)] + line[max(i, j):],   # drop a part
        line[:i] + rng.choice(SALT) + line[i:],
    ])


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("key", sorted(FORMATS))
def test_mutated_sample_lines_never_fail_a_batch(tmp_path: Path, key: str, seed: int) -> None:
    lines = [line for sample in sorted((SAMPLES / key).glob("*")) if not sample.name.endswith(".jsonl")
             for line in sample.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    if not lines:
        pytest.skip(f"{key} has no sample lines")  # every registered format has samples (test_formats)
    rng = random.Random(f"{key}-{seed}")
    headers = [line for line in lines if line.startswith("#")][:8]  # W3C, Zeek: keep the header in force
    originals = [line for line in lines if not line.startswith("#")][:60]
    body = [mutated(line, rng) for line in originals for _ in range(6)]
    body += [mutated(line, rng) for line in body[::3]]  # and some mutated again
    log = tmp_path / "mutated.log"
    log.write_text("".join(line + "\n" for line in [*headers, *body]), encoding="utf-8")
    _, _, report = parse_file(log, FORMATS[key], golden_settings())
    assert report.error is None
    assert report.lines == len(headers) + len(body) == report.parsed + report.rejected + report.ignored
