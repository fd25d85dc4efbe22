"""The CISO deck: a PowerPoint file a CISO can present to the board without editing.

Slides: title; the headline (share of employees using AI without approval, and its trend); departments;
the riskiest services and why; uploads; what changed since the previous period; recommended actions;
the legal framing; how this was measured. Built from the same suppressed data as the report, so a
small group never appears here either.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import PP_ALIGN
from pptx.slide import Slide
from pptx.util import Emu, Inches, Pt

from detector.config import Settings
from detector.report import charts, fmt
from detector.report.alerts import risk_reasons
from detector.report.build import gather
from detector.report.config import load_options
from detector.report.data import UNSANCTIONED, ReportData, is_small
from detector.report.files import write_atomic
from detector.report.period import Period

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
DARK, MUTED, ACCENT = RGBColor(0x1D, 0x27, 0x33), RGBColor(0x56, 0x60, 0x6B), RGBColor(0xE6, 0x51, 0x00)
TITLE_ONLY, TITLE = 5, 0

LEGAL = [
    ("GDPR (AVG)", "Typing personal data into an AI service is processing of personal data. Where a provider "
                   "processes it on the organisation's behalf, art. 28 requires a processing agreement "
                   "(verwerkersovereenkomst); consumer accounts of AI services come without one."),
    ("Transfers outside the EU", "Personal data processed outside the EU/EEA is a transfer under GDPR "
                                 "chapter V (art. 44–49): it needs an adequacy decision or appropriate safeguards."),
    ("EU AI Act, art. 4", "Providers and deployers of AI systems must take measures to ensure, to their best "
                          "extent, a sufficient level of AI literacy of their staff. This duty applies since "
                          "2 February 2025 (Regulation (EU) 2024/1689)."),
    ("This measurement", "Measuring AI use per department is itself processing of employee data: it is "
                         "pseudonymised, shows no groups smaller than the configured minimum, and belongs in the "
                         "DPIA and the works council's consent (WOR art. 27)."),
]


@dataclass(frozen=True)
class Action:
    what: str
    why: str


def default_path(settings: Settings, period: Period) -> Path:
    options = load_options(settings)
    return options.report.directory / period.label / f"shadow-ai-deck-{period.label}.pptx"


def write_deck(settings: Settings, period: Period, out: Path | None = None) -> Path:
    data = gather(settings, period, load_options(settings))
    path = out or default_path(settings, period)
    write_atomic(path, render(data, sanctioned_by_category(settings)))
    return path


def sanctioned_by_category(settings: Settings) -> dict[str, list[str]]:
    """Sanctioned catalog services per category: the alternatives to point people to."""
    from detector.enrich.policy import load_policy
    from detector.signatures import load_catalog

    catalog = load_catalog(settings.catalog_dir)
    policy = load_policy(settings.home, catalog)
    found: dict[str, list[str]] = {}
    for service in catalog.services.values():
        if policy.verdict(service.id, service.category) == "sanctioned":
            found.setdefault(service.category, []).append(service.name)
    return found


def render(data: ReportData, alternatives: dict[str, list[str]]) -> bytes:
    import io

    deck = Presentation()
    deck.slide_width, deck.slide_height = WIDTH, HEIGHT
    deck.core_properties.title = f"AI use at {data.organisation}: {data.period.title}"
    deck.core_properties.author = "shadow-ai detector"
    _title_slide(deck, data)
    _headline_slide(deck, data)
    _departments_slide(deck, data)
    _risk_slide(deck, data)
    _uploads_slide(deck, data)
    _changes_slide(deck, data)
    _actions_slide(deck, data, alternatives)
    _legal_slide(deck, data)
    _method_slide(deck, data)
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


# ---- building blocks ----------------------------------------------------------------------------------


def _slide(deck: Any, title: str, footer: str = "") -> Slide:
    slide = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY])
    if footer:
        number = len(deck.slides)
        _text(slide, 0.6, 7.05, 12.1, 0.35, [(f"{footer}   ·   {number}", 11, False, MUTED)])
    shape = slide.shapes.title
    shape.left, shape.top, shape.width, shape.height = Inches(0.6), Inches(0.35), Inches(12.1), Inches(1.0)
    shape.text = title
    paragraph = shape.text_frame.paragraphs[0]
    paragraph.alignment = PP_ALIGN.LEFT
    paragraph.runs[0].font.size = Pt(32)
    paragraph.runs[0].font.bold = True
    paragraph.runs[0].font.color.rgb = DARK
    return slide


def _text(slide: Slide, left: float, top: float, width: float, height: float,
          lines: list[tuple[str, int, bool, RGBColor]]) -> None:
    """A text box: one paragraph per (text, size in pt, bold, colour)."""
    box = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
    frame = box.text_frame
    frame.word_wrap = True
    for index, (text, size, bold, colour) in enumerate(lines):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        run = paragraph.add_run()
        run.text = text
        run.font.size, run.font.bold, run.font.color.rgb = Pt(size), bold, colour
        paragraph.space_after = Pt(6)


def _bullets(slide: Slide, left: float, top: float, width: float, height: float,
             items: list[tuple[str, str]], size: int = 18) -> None:
    """Bold lead + plain text per item."""
    box = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
    frame = box.text_frame
    frame.word_wrap = True
    for index, (lead, text) in enumerate(items):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        paragraph.space_after = Pt(10)
        first = paragraph.add_run()
        first.text = f"{lead}  " if text else lead
        first.font.bold, first.font.size, first.font.color.rgb = True, Pt(size), DARK
        if text:
            rest = paragraph.add_run()
            rest.text = text
            rest.font.size, rest.font.color.rgb = Pt(size), MUTED


def _picture(slide: Slide, image: bytes, left: float, top: float, width: float | None = None,
             height: float | None = None) -> None:
    import io

    slide.shapes.add_picture(io.BytesIO(image), Inches(left), Inches(top),
                             Inches(width) if width else None, Inches(height) if height else None)


def _table(slide: Slide, header: list[str], rows: list[list[str]], left: float, top: float, width: float,
           widths: list[float], size: int = 14) -> None:
    shape = slide.shapes.add_table(len(rows) + 1, len(header), Inches(left), Inches(top), Inches(width),
                                   Inches(0.45 * (len(rows) + 1)))
    table = shape.table
    for column, inches in enumerate(widths):
        table.columns[column].width = Emu(Inches(inches))
    for row_index, values in enumerate([header, *rows]):
        for column, value in enumerate(values):
            cell = table.cell(row_index, column)
            cell.text = value
            for paragraph in cell.text_frame.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(size)
                    run.font.bold = row_index == 0


def _footer(data: ReportData) -> str:
    return f"{data.organisation or 'Organisation'} · AI use {data.period.title}"


def _people(value: Any, minimum: int) -> str:
    return f"fewer than {minimum}" if is_small(value, minimum) or isinstance(value, str) else fmt.count(value)


# ---- slides -------------------------------------------------------------------------------------------


def _title_slide(deck: Any, data: ReportData) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[TITLE])
    title, subtitle = slide.shapes.title, slide.placeholders[1]
    title.left, title.top, title.width, title.height = Inches(0.8), Inches(2.0), Inches(11.7), Inches(1.6)
    subtitle.left, subtitle.top, subtitle.width, subtitle.height = Inches(0.8), Inches(3.8), Inches(11.7), Inches(1.8)
    title.text = f"AI use at {data.organisation or 'the organisation'}"
    title.text_frame.paragraphs[0].runs[0].font.size = Pt(44)
    title.text_frame.paragraphs[0].runs[0].font.bold = True
    subtitle.text = (f"Which AI services are used, by whom (per department), and is that allowed?\n"
                     f"Period {data.period.title} ({data.period.days} days), compared with the "
                     f"{data.period.days} days before")
    for paragraph in subtitle.text_frame.paragraphs:
        for run in paragraph.runs:
            run.font.size = Pt(22)
            run.font.color.rgb = MUTED


def _headline_slide(deck: Any, data: ReportData) -> None:
    share = data.headline["unsanctioned_share"]
    people = data.headline["unsanctioned_users"]
    employees = data.headline["employees"]["value"]
    minimum = data.min_group_size
    if share["suppressed"]:
        big, caption = f"< {minimum}", f"people used AI without approval (fewer than {minimum}: not shown)"
    elif share["value"] is None:
        big, caption = fmt.count(people["value"]), "people used AI without approval"
    else:
        big = fmt.percent(share["value"])
        caption = (f"of employees used AI without approval: {fmt.count(people['value'])} of "
                   f"{fmt.count(employees)} people")
    slide = _slide(deck, "Headline: AI use without approval", _footer(data))
    change = fmt.change("unsanctioned_share", share["change"])
    before = fmt.percent(share["previous"]) if not share["previous_suppressed"] else f"< {minimum} people"
    trend = f"{change} against the previous period ({before})" if change else f"previous period: {before}"
    if not share["previous_logged"]:
        trend = "no logs for the previous period: no trend yet"
    any_ai = data.headline["ai_share"]
    any_text = (f"{fmt.percent(any_ai['value'])} used any AI service" if any_ai["value"] is not None
                and not any_ai["suppressed"] else "")
    services = data.headline["unsanctioned_services"]["value"]
    _text(slide, 0.6, 1.5, 5.4, 5.5, [
        (big, 80, True, ACCENT),
        (caption, 20, False, DARK),
        (trend, 18, False, MUTED),
        (any_text, 18, False, MUTED),
        (f"{fmt.count(services)} unsanctioned AI services in use; "
         f"{fmt.size(data.headline['unsanctioned_bytes_out']['value'])} uploaded to them", 18, False, MUTED),
    ])
    if data.period.days >= 2:
        trend_frame = data.trend
        _picture(slide, charts.trend(list(trend_frame["day"]), list(trend_frame["ai_users"]),
                                     list(trend_frame["unsanctioned_users"])), 6.3, 1.5, width=6.5)


def _departments_slide(deck: Any, data: ReportData) -> None:
    slide = _slide(deck, "Departments: who uses unsanctioned AI", _footer(data))
    frame = data.departments
    frame = frame[frame["department"] != "(unknown)"]
    shown = frame[~frame["suppressed"].astype(bool)]
    by_share = shown["unsanctioned_share"].notna().any()
    key = "unsanctioned_share" if by_share else "unsanctioned_users"
    shown = shown.assign(_sort=shown[key].map(lambda v: -1 if fmt.number(v) is None else fmt.number(v)))
    shown = shown.sort_values(["_sort", "department"], ascending=[False, True]).head(12)
    small = sorted(frame[frame["suppressed"].astype(bool)]["department"])
    if shown.empty:
        _text(slide, 0.6, 1.6, 12, 1.5, [(f"No department has {data.min_group_size} or more people using AI in "
                                          "this period: figures are not shown to protect individuals.", 20,
                                          False, DARK)])
    else:
        notes = []
        for row in shown.to_dict("records"):
            users = row["unsanctioned_users"]
            note = f"{fmt.count(users)} people"
            notes.append(f"{fmt.percent(row['unsanctioned_share'])} · {note}" if by_share else note)
        values = [fmt.number(v) for v in shown[key]]
        image = charts.horizontal_bars(list(shown["department"]), values, notes,
                                       "share of employees using unsanctioned AI" if by_share
                                       else "people using unsanctioned AI", percent=by_share)
        _picture(slide, image, 0.6, 1.4, height=min(5.2, 0.45 * len(shown) + 1.2))
    lines = [(f"Departments with fewer than {data.min_group_size} people using AI are not shown: "
              f"{', '.join(small)}." if small else "", 14, False, MUTED)]
    if not data.population_from_directory:
        lines.append(("No users.csv was given: shares are of the people seen in the logs.", 14, False, MUTED))
    _text(slide, 0.6, 6.6, 12.1, 0.8, lines)


def _risk_slide(deck: Any, data: ReportData) -> None:
    slide = _slide(deck, "The riskiest AI services in use, and why", _footer(data))
    frame = data.services[data.services["risk_score"].notna()]
    frame = frame.sort_values(["risk_score", "events"], ascending=[False, False]).head(7)
    if frame.empty:
        _text(slide, 0.6, 1.6, 12, 1, [("No catalogued AI service was used in this period.", 20, False, DARK)])
        return
    rows = []
    for row in frame.to_dict("records"):
        rows.append([row["name"], f"{row['risk_level']} ({row['risk_score']:.1f})", row["verdict"],
                     _people(row["users"], data.min_group_size),
                     "; ".join(risk_reasons(row)) or "no known risk factor"])
    _table(slide, ["Service", "Risk", "Policy", "People", "Why"], rows, 0.6, 1.4, 12.1,
           [2.6, 1.4, 1.3, 1.3, 5.5], size=13)
    _text(slide, 0.6, 6.7, 12.1, 0.6, [("Risk from the catalog's facts: where data is processed, training on "
                                        "inputs, processing agreement, business plan, vendor's seat.", 13,
                                        False, MUTED)])


def _uploads_slide(deck: Any, data: ReportData) -> None:
    slide = _slide(deck, "Data uploaded to unsanctioned AI", _footer(data))
    uploads = data.uploads.head(8)
    total = data.headline["unsanctioned_bytes_out"]
    if uploads.empty:
        _text(slide, 0.6, 1.6, 12, 1.5, [("No upload to unsanctioned AI services was logged in this period.", 20,
                                          False, DARK), ("Only proxy, firewall and sensor logs record uploads.", 14,
                                                         False, MUTED)])
        return
    megabytes = [row / 1_000_000 for row in uploads["unsanctioned_bytes_out"]]
    notes = [f"{fmt.size(b)} · {row}" for b, row in zip(uploads["unsanctioned_bytes_out"],
                                                        uploads["data_location"].fillna("location unknown"),
                                                        strict=True)]
    _picture(slide, charts.horizontal_bars(list(uploads["name"]), megabytes, notes, "MB uploaded"), 0.6, 1.4,
             height=min(5.0, 0.45 * len(uploads) + 1.2))
    change = fmt.change("unsanctioned_bytes_out", total["change"])
    _text(slide, 0.6, 6.5, 12.1, 0.9, [(f"In total {fmt.size(total['value'])} uploaded to unsanctioned AI"
                                        + (f" ({change} against the previous period)." if change else "."), 18,
                                        False, DARK)])


def _changes_slide(deck: Any, data: ReportData) -> None:
    slide = _slide(deck, "What changed since the previous period", _footer(data))
    items: list[tuple[str, str]] = []
    for row in data.changes[:7]:
        items.append((str(row["name"]), f"{row['change']}: {row['users_before']} → {row['users_now']} people"))
    by_rule: dict[str, int] = {}
    for alert in data.alerts:
        by_rule[alert.title] = by_rule.get(alert.title, 0) + 1
    for title, count in sorted(by_rule.items()):
        items.append((f"Alert: {title}", f"{count}×"))
    if not items:
        items.append(("No notable change", "the same services, with about the same number of people."))
    _bullets(slide, 0.6, 1.4, 12.1, 5.6, items[:10], size=18)


def actions(data: ReportData, alternatives: dict[str, list[str]]) -> list[Action]:
    """Recommendations derived from the figures: sanction an alternative, block, train, review."""
    found: list[Action] = []
    forbidden = {alert.subject for alert in data.alerts if alert.rule == "forbidden_used"}
    frame = data.services
    for row in frame[frame["verdict"].isin(UNSANCTIONED)].head(12).to_dict("records"):
        if len(found) >= 3:
            break
        name, category = row["name"], row["category"]
        options = [o for o in alternatives.get(category, []) if o != name]
        if row["service_key"] in forbidden:
            found.append(Action(f"Enforce the ban on {name}",
                                "it is forbidden but was used: load the block list into the proxy or DNS "
                                "(shadow-ai export squid / rpz / paloalto / fortigate)."))
        elif options:
            found.append(Action(f"Point users of {name} to {options[0]}",
                                f"a sanctioned {category} service exists; tell the users and consider blocking "
                                f"{name}."))
        elif row.get("enterprise_plan") and row.get("gdpr_dpa"):
            found.append(Action(f"Decide on {name}: sanction a business plan or block it",
                                "a business plan with a processing agreement exists; until a decision, its use "
                                "is shadow AI."))
        elif row.get("risk_level") in ("high", "critical"):
            found.append(Action(f"Block {name}", "no business plan or processing agreement is available: "
                                                 + "; ".join(risk_reasons(row)) + "."))
    departments = data.departments
    ranked = departments[~departments["suppressed"].astype(bool) & (departments["department"] != "(unknown)")]
    ranked = ranked[ranked["unsanctioned_users"].map(lambda v: (fmt.number(v) or 0) > 0).astype(bool)]
    key = "unsanctioned_share" if ranked["unsanctioned_share"].notna().any() else "unsanctioned_users"
    top = ranked.sort_values(key, ascending=False).head(2)
    if not top.empty:
        found.append(Action(f"Train {' and '.join(top['department'])} in AI literacy",
                            "the highest use of unsanctioned AI; the AI Act (art. 4) requires AI literacy of "
                            "staff who use AI."))
    if len(data.candidates):
        found.append(Action(f"Review {len(data.candidates)} unknown AI service(s) the model found",
                            "confirm or dismiss them (shadow-ai review, shadow-ai label) so the figures are "
                            "complete."))
    silent = data.silent_sources
    if len(silent):
        names = ", ".join(f"{r['source_kind']}/{r['log_format']}" for r in silent.to_dict("records"))
        found.append(Action("Restore the silent log sources", f"{names}: the figures miss their traffic."))
    if not found:
        found.append(Action("Keep the policy as it is", "no unsanctioned AI use that needs a decision was found."))
    return found[:6]


def _actions_slide(deck: Any, data: ReportData, alternatives: dict[str, list[str]]) -> None:
    slide = _slide(deck, "Recommended actions", _footer(data))
    _bullets(slide, 0.6, 1.4, 12.1, 5.8, [(a.what, a.why) for a in actions(data, alternatives)], size=18)


def _legal_slide(deck: Any, data: ReportData) -> None:
    slide = _slide(deck, "The legal framing", _footer(data))
    _bullets(slide, 0.6, 1.4, 12.1, 5.8, LEGAL, size=17)


def _method_slide(deck: Any, data: ReportData) -> None:
    slide = _slide(deck, "How this was measured", _footer(data))
    sources = ", ".join(sorted({f"{r['source_kind']}/{r['log_format']}" for r in data.sources.to_dict("records")}))
    _bullets(slide, 0.6, 1.4, 12.1, 5.8, [
        ("Source", f"the organisation's own network logs ({sources or 'none'}), analysed offline by shadow-ai "
                   "detector; nothing left the organisation."),
        ("What counts", "requests to AI services in a catalog of public AI services (with their risk facts), "
                        "plus services a model flagged and an analyst confirmed; the verdict comes from the "
                        "organisation's AI policy."),
        ("Privacy", f"people are pseudonymised before storage; figures are per department; groups of fewer than "
                    f"{data.min_group_size} people are not shown."),
        ("Limits", "use on private devices or networks, and AI built into sanctioned software, is not visible; "
                   "uploads are only known where the proxy or firewall logs byte counts."),
    ], size=17)
