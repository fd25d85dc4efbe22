"""Overview: how much of the organisation uses AI, how much of it unsanctioned, and the trend."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboards import data, ui, use_columns

ctx = data.context()
filters, n = ctx.filters, ctx.min_size
st.title("Shadow AI: overview")

figures = data.kpis(ctx.state, filters)
now, before = figures["current"], figures["previous"]
if not now["events"] and not before["events"]:
    st.caption("No AI use in this period under these filters. Widen the period or clear a filter.")
    st.stop()

whole = "employees in users.csv" if figures["from_directory"] else "people seen in the logs"
population, population_before = figures["population"], figures["population_previous"]
cols = st.columns(4)
cols[0].metric("Share using AI", ui.share(now["ai_population"], population, n),
               ui.share_delta(now["ai_population"], population, before["ai_population"], population_before, n),
               help=f"{now['ai_population']:,} of the {population:,} {whole} (selected departments) used an AI "
                    "service.", border=True)
cols[1].metric("Share using unsanctioned AI", ui.share(now["unsanctioned_population"], population, n),
               ui.share_delta(now["unsanctioned_population"], population, before["unsanctioned_population"],
                              population_before, n),
               delta_color="inverse", help=f"Verdict shadow (no decision yet) or forbidden under policy.yaml, of "
                                           f"the {population:,} {whole}.", border=True)
cols[2].metric("AI services in use", ui.number(now["services"]), ui.delta(now["services"], before["services"]),
               delta_color="off", help="Distinct AI services (catalog, labelled, or found by the model).",
               border=True)
cols[3].metric("New services this period", ui.number(now["new_services"]),
               help="First seen in this period (under the filters).", border=True)
cols = st.columns(4)
cols[0].metric("People using AI", ui.number(now["ai_people"], n),
               ui.delta(now["ai_people"], before["ai_people"]) if now["ai_people"] >= n else None,
               delta_color="off", help="Users, and client devices where no user could be attributed.", border=True)
cols[1].metric("People using unsanctioned AI", ui.number(now["unsanctioned_people"], n),
               ui.delta(now["unsanctioned_people"], before["unsanctioned_people"])
               if now["unsanctioned_people"] >= n else None, delta_color="inverse", border=True)
cols[2].metric("Uploaded: unsanctioned",
               data.human_bytes(now["bytes_shadow"] + now["bytes_forbidden"]) if now["unsanctioned_people"] >= n
               else f"< {n} people",
               help="Bytes sent to services with verdict shadow or forbidden (where the logs record uploads).",
               border=True)
cols[3].metric("Uploaded: sanctioned",
               data.human_bytes(now["bytes_sanctioned"] + now["bytes_tolerated"]) if now["sanctioned_people"] >= n
               else f"< {n} people",
               help="Bytes sent to services with verdict sanctioned or tolerated.", border=True)

st.subheader("Data uploaded to AI, by verdict")
uploads = data.uploads_by_verdict(figures, n)
ui.chart(
    alt.Chart(uploads, title="Data uploaded to AI services (MB), this period and the one before").mark_bar().encode(
        x=alt.X("uploaded_mb:Q", title="Uploaded (MB)"),
        y=alt.Y("verdict:N", title="Verdict", sort=list(ui.VERDICT_COLOURS)),
        yOffset=alt.YOffset("period:N", sort=["this period", "previous period"]),
        color=alt.Color("period:N", title="Period", sort=["this period", "previous period"],
                        scale=alt.Scale(range=["#1565c0", "#90caf9"])),
        tooltip=["verdict", "period", alt.Tooltip("people_label:N", title="People"),
                 alt.Tooltip("uploaded_mb:Q", format=",.2f", title="Uploaded (MB)")],
    ),
    key="uploads",
)

st.subheader("AI use over time")
measure = st.segmented_control("Measure", ["people", "events", "uploaded_mb"], default="people", key="trend_measure",
                               format_func={"people": "People", "events": "Events", "uploaded_mb": "Uploaded (MB)"}.get)
trend = data.trend(ctx.state, filters)
unit = {"people": "People (distinct)", "events": "Events", "uploaded_mb": "Uploaded (MB)"}[measure or "people"]
bucket = "week" if trend["bucket"].eq("week").any() else "day"
shown = data.suppress_people(trend, n, ("events", "uploaded_mb"))
ui.chart(
    alt.Chart(shown, title=f"{unit} per {bucket}, by verdict").mark_bar().encode(
        x=ui.time_axis("period_start", bucket),
        y=alt.Y(f"{measure or 'people'}:Q", title=unit, stack=True),
        color=alt.Color("verdict:N", title="Verdict", scale=ui.VERDICT_SCALE),
        tooltip=[alt.Tooltip("period_start:T", title=bucket.title()), "verdict",
                 alt.Tooltip("people_label:N", title="People"), alt.Tooltip("events:Q", format=","),
                 alt.Tooltip("uploaded_mb:Q", format=",.2f", title="Uploaded (MB)")],
    ),
    key="trend",
)
st.caption(f"Days or weeks with fewer than {n} people under a verdict are left out, and so are the uploads of "
           f"fewer than {n} people (privacy).")

st.subheader("Top services")
use_columns.top_services(ctx.state, filters, n, "top-services", people_help=f"Fewer than {n} shown as \"< {n}\".")
