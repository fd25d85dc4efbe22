"""Registry-driven format tests: every format in FORMATS is checked on its samples with no new test code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from detector.ingest import FORMATS, sniff_scores
from detector.ingest.pipeline import parse_file
from detector.ingest.reader import head_lines, read_head
from tests.golden import GOLDEN_SUFFIX, golden_path, golden_settings, outcomes, render, samples

ALL_SAMPLES = [(key, sample) for key in FORMATS for sample in samples(key)]


def _id(item: tuple[str, Path]) -> str:
    return f"{item[0]}/{item[1].name}"


@pytest.mark.parametrize("key", list(FORMATS))
def test_format_key_is_a_slug_with_samples_and_golden_files(key: str) -> None:
    assert re.fullmatch(r"[a-z0-9_]+", key)
    found = samples(key)
    assert found, f"sample_logs/{key}/ has no samples"
    for sample in found:
        hint = f"{sample.name} has no {GOLDEN_SUFFIX}; run python -m tests.golden --update {key}"
        assert golden_path(sample).exists(), hint


@pytest.mark.parametrize("item", ALL_SAMPLES, ids=[_id(i) for i in ALL_SAMPLES])
def test_sample_parses_to_its_golden_file(item: tuple[str, Path]) -> None:
    key, sample = item
    assert render(outcomes(sample, key)) == golden_path(sample).read_text(encoding="utf-8")


@pytest.mark.parametrize("item", ALL_SAMPLES, ids=[_id(i) for i in ALL_SAMPLES])
def test_every_line_is_accounted_for(item: tuple[str, Path]) -> None:
    key, sample = item
    events, rejects, report = parse_file(sample, FORMATS[key], golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored
    assert report.parsed == events.num_rows and report.rejected == rejects.num_rows
    assert set(events.column("log_format").to_pylist()) <= {key}


@pytest.mark.parametrize("item", ALL_SAMPLES, ids=[_id(i) for i in ALL_SAMPLES])
def test_sniff_picks_the_samples_own_format(item: tuple[str, Path]) -> None:
    key, sample = item
    lines = head_lines(read_head(sample))
    if not lines:
        pytest.skip(f"{sample.name} has no non-blank line to recognise (an empty-file scenario)")
    best, score = sniff_scores(lines)[0]
    rejected_share = outcomes(sample, key)
    if sum("reject" in r for r in rejected_share) > len(lines) / 2:
        pytest.skip(f"{sample.name} is a mostly-broken scenario, not one to recognise")
    assert best == key, f"{sample.name} sniffed as {best} ({score:.0%})"


@pytest.mark.parametrize("key", list(FORMATS))
def test_formats_fields_are_filled_by_its_samples(key: str) -> None:
    """The fields a format declares (README table, data-quality badges) really appear in its samples."""
    seen: set[str] = set()
    for sample in samples(key):
        events, _, _ = parse_file(sample, FORMATS[key], golden_settings())
        seen |= {name for name in events.column_names if events.column(name).null_count < events.num_rows}
    assert set(FORMATS[key].fields) <= seen, f"declared but never filled: {set(FORMATS[key].fields) - seen}"
