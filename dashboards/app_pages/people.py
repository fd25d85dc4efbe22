"""People (only with `[privacy] show_people = true`): pseudonymised users and their AI use. No names and
no addresses: `shadow-ai reveal` alone resolves a pseudonym, where allowed, and audits it."""

from __future__ import annotations

import streamlit as st

from dashboards import data, ui

ctx = data.context()
st.title("People (pseudonymised)")
st.caption("Users by pseudonym, most unsanctioned use first. Resolving a pseudonym is possible only with "
           "`shadow-ai reveal PSEUDONYM --reason ...` where the configuration allows it; every attempt is audited.")

people = data.people(ctx.state, ctx.filters)
ui.stop_when_empty(people, "No attributed users with AI use in this period under these filters.")
ui.table(people, "people", {
    "user_id": st.column_config.TextColumn("Pseudonym"),
    "department": st.column_config.TextColumn("Department"),
    "services": st.column_config.TextColumn("Services"),
    "events": st.column_config.NumberColumn("Events", format="localized"),
    "unsanctioned_events": st.column_config.NumberColumn("Unsanctioned events", format="localized"),
    "uploaded_mb": st.column_config.NumberColumn("Uploaded (MB)", format="%.2f"),
    "first_seen": st.column_config.DateColumn("First seen"),
    "last_seen": st.column_config.DateColumn("Last seen"),
})
