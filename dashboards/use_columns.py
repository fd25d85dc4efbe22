"""The columns of AI use (people, events, uploads) as the dashboard's tables show them, and the table of the
most used services that the overview and a department's detail both show: a figure reads the same on every
page, and a change to how it reads is made once."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboards import data, ui


def use(people: str = "people_label", people_help: str | None = None) -> dict[str, Any]:
    """People (a label: groups under the minimum size read "< N"), events and MB uploaded, in that order."""
    return {
        people: st.column_config.TextColumn("People", help=people_help),
        "events": st.column_config.NumberColumn("Events", format="localized"),
        "uploaded_mb": st.column_config.NumberColumn("Uploaded (MB)", format="%.2f"),
    }


def top_services(state: data.LakeState, filters: data.Filters, min_size: int, name: str, *,
                 people_help: str | None = None, key: str | None = None) -> None:
    """The most used services under `filters`, with their figures hidden where fewer than `min_size` people
    used one; `name` names the CSV download."""
    top = data.suppress_people(data.top_services(state, filters), min_size, ("events", "uploaded_mb"))
    ui.table(top, name, {
        "service_name": st.column_config.TextColumn("Service"),
        "category": st.column_config.TextColumn("Category"),
        "verdicts": st.column_config.TextColumn("Verdict"),
        **use(people_help=people_help),
    }, key=key)
