"""Data health: is every log source still sending, what does each provide, and what was rejected."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboards import data, ui

ctx = data.context()
st.title("Data health")

summary = data.source_summary(ctx.state)
if summary.empty:
    st.caption("No events in the lake yet: only rejected lines (see below). `shadow-ai ingest --dry-run FILE` "
               "shows why a file's lines are rejected.")
else:
    gaps = summary[summary["gap"]]
    newest = summary["newest"].max()
    if len(gaps):
        silent = ", ".join(sorted(gaps["log_format"]))
        st.warning(f"{len(gaps)} source(s) sent nothing for more than 24 hours before the newest data "
                   f"({newest:%Y-%m-%d %H:%M} UTC): {silent}", icon=":material/warning:")
    else:
        st.success("Every source sent events in the 24 hours before the newest data.", icon=":material/check:")

    st.subheader("Sources")
    st.caption("Which fields each source provides: ✓ in ≥ 90% of its events, ⚠ in some, ✗ never. Without a user "
               "events are attributed by address; without bytes_out uploads cannot be measured. This page "
               "shows the whole lake: the sidebar's filters do not apply.")
    ui.table(summary, "sources", {
        "source_kind": st.column_config.TextColumn("Kind"),
        "log_format": st.column_config.TextColumn("Format"),
        "events": st.column_config.NumberColumn("Events", format="localized"),
        "days": st.column_config.NumberColumn("Days"),
        "newest": st.column_config.DatetimeColumn("Newest event (UTC)", format="YYYY-MM-DD HH:mm"),
        "silent_hours": st.column_config.NumberColumn("Silent for (h)", format="%.0f",
                                                      help="Hours between its newest event and the newest data."),
        "gap": st.column_config.CheckboxColumn("Gap > 24 h"),
        "user": st.column_config.TextColumn("User"),
        "bytes_out": st.column_config.TextColumn("Bytes out"),
        "url_path": st.column_config.TextColumn("URL path"),
        "host": st.column_config.TextColumn("SNI / host"),
    })

    st.subheader("Events per day")
    daily = data.sources_daily(ctx.state)
    ui.chart(
        alt.Chart(daily, title="Events per day, by log format").mark_line(point=True).encode(
            x=alt.X("day:T", title="Day"),
            y=alt.Y("events:Q", title="Events"),
            color=alt.Color("log_format:N", title="Format"),
            tooltip=[alt.Tooltip("day:T", title="Day"), alt.Tooltip("log_format:N", title="Format"),
                     alt.Tooltip("events:Q", format=",", title="Events")],
        ),
        key="events_per_day",
    )

st.subheader("Rejected lines")
rejects = data.rejects(ctx.state)
if rejects.empty:
    st.caption("No rejected lines.")
else:
    st.caption(f"{int(rejects['lines'].sum()):,} lines rejected. `shadow-ai ingest --dry-run FILE` shows examples.")
    ui.table(rejects, "rejects", {
        "log_format": st.column_config.TextColumn("Format"),
        "reason": st.column_config.TextColumn("Reason"),
        "lines": st.column_config.NumberColumn("Lines", format="localized"),
    })
