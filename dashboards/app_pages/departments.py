"""Departments: who uses which AI service, each department's share of shadow use, and one department's
trend and services. Groups of fewer than [privacy] min_group_size people are shown as "< N"."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboards import data, ui, use_columns

ctx = data.context()
filters, n = ctx.filters, ctx.min_size
st.title("AI use by department")

usage = data.department_usage(ctx.state, filters, n)
ui.stop_when_empty(usage, "No departments with AI use in this period under these filters.")

st.subheader("Share of each department using AI")
st.caption(f"Departments, AI users or unsanctioned users fewer than {n} are shown as \"< {n}\" with their "
           "figures hidden. People: employees in users.csv when it is given, else people seen in the logs.")
ui.table(usage, "departments", {
    "department": st.column_config.TextColumn("Department"),
    "people": st.column_config.TextColumn("People"),
    "ai_people": st.column_config.TextColumn("Using AI"),
    "share_ai": st.column_config.NumberColumn("Share using AI", format="percent"),
    "unsanctioned_people": st.column_config.TextColumn("Using unsanctioned AI"),
    "share_unsanctioned": st.column_config.NumberColumn("Share unsanctioned", format="percent",
                                                         help="Verdict shadow or forbidden."),
    "services": st.column_config.NumberColumn("Services"),
    "events": st.column_config.NumberColumn("Events", format="localized"),
    "uploaded_mb": st.column_config.NumberColumn("Uploaded (MB)", format="%.2f"),
})

st.subheader("Department × service")
by = st.segmented_control("Columns", ["service", "category"], default="service", key="matrix_by",
                          format_func=str.title) or "service"
matrix = data.department_matrix(ctx.state, filters, by, n)
ui.stop_when_empty(matrix, "No AI use in this period under these filters.")
base = alt.Chart(matrix, title=f"People using each {by} per department (fewer than {n}: \"< {n}\")").encode(
    x=alt.X("item:N", title=by.title(), axis=alt.Axis(labelAngle=-40, labelLimit=180)),
    y=alt.Y("department:N", title="Department"),
)
cells = base.mark_rect(color="#eeeeee")  # every cell, so suppressed ones still show as grey
heatmap = base.mark_rect().encode(
    color=alt.Color("people_value:Q", title="People", scale=alt.Scale(scheme="oranges")),
    tooltip=[alt.Tooltip("department:N", title="Department"), alt.Tooltip("item:N", title=by.title()),
             alt.Tooltip("people_label:N", title="People"), alt.Tooltip("events:Q", format=",", title="Events"),
             alt.Tooltip("uploaded_mb:Q", format=",.2f", title="Uploaded (MB)")],
)
labels = base.mark_text(fontSize=11).encode(text="people_label:N", color=alt.Color("label_colour:N", scale=None))
ui.chart((cells + heatmap + labels).resolve_scale(color="independent").properties(height=alt.Step(36)),
         key="matrix")

st.subheader("One department")
st.caption(f"Within one department, figures of fewer than {n} people are hidden.")
choices = sorted(matrix["department"].unique())
chosen = st.selectbox("Department", choices, key="department_detail")
if chosen:
    scoped = data.Filters(filters.start, filters.end, (chosen,), filters.categories, filters.verdicts)
    trend = data.suppress_people(data.trend(ctx.state, scoped), n, ("events", "uploaded_mb"))
    bucket = "week" if trend["bucket"].eq("week").any() else "day"
    ui.chart(
        alt.Chart(trend, title=f"{chosen}: events per {bucket}, by verdict").mark_bar().encode(
            x=ui.time_axis("period_start", bucket),
            y=alt.Y("events:Q", title="Events", stack=True),
            color=alt.Color("verdict:N", title="Verdict", scale=ui.VERDICT_SCALE),
            tooltip=[alt.Tooltip("period_start:T", title=bucket.title()), "verdict",
                     alt.Tooltip("people_label:N", title="People"), alt.Tooltip("events:Q", format=",")],
        ),
        key="department_trend",
    )
    use_columns.top_services(ctx.state, scoped, n, f"top-services-{chosen}", key="department_top")
