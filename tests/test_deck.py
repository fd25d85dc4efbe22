"""The CISO deck opened as PowerPoint: its slides, figures, charts, legal framing and privacy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from detector.cli import cli
from tests.test_report import NAMES, PERIOD, build_organisation


@pytest.fixture(scope="module")
def deck(tmp_path_factory: pytest.TempPathFactory) -> Presentation:
    root = tmp_path_factory.mktemp("deck")
    home = build_organisation(root)
    out = root / "board.pptx"
    result = CliRunner().invoke(cli, ["--home", str(home), "deck", "--period", PERIOD, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out)
    return Presentation(str(out))


def texts(slide: object) -> str:
    parts = []
    for shape in slide.shapes:  # type: ignore[attr-defined]
        if shape.has_text_frame:
            parts.append(shape.text_frame.text)
        if shape.has_table:
            parts.extend(cell.text for row in shape.table.rows for cell in row.cells)
    return "\n".join(parts)


def titles(deck: Presentation) -> list[str]:
    return [slide.shapes.title.text if slide.shapes.title is not None else "" for slide in deck.slides]


def pictures(slide: object) -> int:
    return sum(shape.shape_type == MSO_SHAPE_TYPE.PICTURE for shape in slide.shapes)  # type: ignore[attr-defined]


def test_the_deck_has_the_slides_a_board_needs_in_order(deck: Presentation) -> None:
    assert titles(deck) == [
        "AI use at Gemeente Proefstad",
        "Headline: AI use without approval",
        "Departments: who uses unsanctioned AI",
        "The riskiest AI services in use, and why",
        "Data uploaded to unsanctioned AI",
        "What changed since the previous period",
        "Recommended actions",
        "The legal framing",
        "How this was measured",
    ]
    assert deck.slide_width > deck.slide_height  # 16:9
    assert "2026-03-09 – 2026-03-15" in texts(deck.slides[0])


def test_headline_states_the_share_of_employees_without_approval(deck: Presentation) -> None:
    text = texts(deck.slides[1])
    assert "62%" in text  # 8 of 13 employees used shadow or forbidden AI
    assert "8 of 13 people" in text
    assert pictures(deck.slides[1]) == 1  # the trend chart


def test_department_chart_and_the_small_group_is_named_without_figures(deck: Presentation) -> None:
    slide = deck.slides[2]
    assert pictures(slide) == 1
    text = texts(slide)
    assert "fewer than 5 people using AI are not shown: HR" in text


def test_riskiest_services_say_why(deck: Presentation) -> None:
    table = next(shape.table for shape in deck.slides[3].shapes if shape.has_table)
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0] == ["Service", "Risk", "Policy", "People", "Why"]
    deepseek = next(row for row in rows if row[0] == "DeepSeek Chat")
    assert deepseek[1].startswith("critical") and deepseek[2] == "forbidden"
    assert deepseek[3] == "fewer than 5"  # one person: never a number
    assert "outside the EU (CN)" in deepseek[4] and "training" in deepseek[4] and "processing agreement" in deepseek[4]


def test_uploads_changes_and_actions(deck: Presentation) -> None:
    assert pictures(deck.slides[4]) == 1
    assert "uploaded to unsanctioned AI" in texts(deck.slides[4])
    assert "Alert: Forbidden AI service used" in texts(deck.slides[5])
    actions = texts(deck.slides[6])
    assert "Enforce the ban on DeepSeek Chat" in actions
    assert "Train Burgerzaken in AI literacy" in actions
    assert "Restore the silent log sources" in actions


def test_legal_framing_is_stated_factually(deck: Presentation) -> None:
    text = texts(deck.slides[7])
    assert "art. 28" in text and "GDPR (AVG)" in text
    assert "art. 4" in text and "2 February 2025" in text and "2024/1689" in text


def test_no_names_addresses_or_pseudonyms_on_any_slide(deck: Presentation) -> None:
    people = [name for names in NAMES.values() for name in names]
    for slide in deck.slides:
        text = texts(slide)
        assert not re.search(r"\b10\.\d+\.\d+\.\d+\b", text)
        assert not re.search(r"\bu-[0-9a-f]{20}\b", text)
        assert not any(name in text for name in people)


def test_an_empty_data_directory_still_gives_a_deck_and_a_report(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    deck = CliRunner().invoke(cli, ["--home", home, "deck", "--out", str(tmp_path / "empty.pptx")])
    assert deck.exit_code == 0, deck.output
    assert len(Presentation(str(tmp_path / "empty.pptx")).slides) == 9
    report = CliRunner().invoke(cli, ["--home", home, "report", "--out", str(tmp_path / "report")])
    assert report.exit_code == 0, report.output
    assert (tmp_path / "report" / "summary.json").exists()


def test_a_deck_must_be_a_pptx_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "home"), "deck", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code == 2 and ".pptx" in result.output
