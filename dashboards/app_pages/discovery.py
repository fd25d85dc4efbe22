"""Discovery: hosts the model thinks are AI services (and those just under its threshold), with the
evidence, and buttons that record the analyst's decision exactly as `shadow-ai label` does."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboards import data, ui
from detector.errors import DetectorError

ctx = data.context()
st.title("Discovery: possible AI services")
st.caption("Hosts the catalog does not know that the model scores as AI, or just under its threshold. "
           "Confirm or dismiss each; decisions go to labels.jsonl (as `shadow-ai label`) and apply to all "
           "history at the next `shadow-ai classify`.")

margin = st.slider("Also show hosts this far under the model's threshold", 0.0, 0.3, 0.1, 0.05, key="margin")
found = data.candidates(ctx.state, ctx.settings, margin=margin)
if found.empty:
    st.caption("No candidates: the model found nothing new (or no model is trained yet). "
               "`shadow-ai review` lists the same hosts on the command line.")
    st.stop()

event = ui.table(found, "ai-candidates", {
    "host": st.column_config.TextColumn("Host"),
    "score": st.column_config.ProgressColumn("Score", min_value=0.0, max_value=1.0, format="%.2f"),
    "threshold": st.column_config.NumberColumn("Threshold", format="%.2f"),
    "match": st.column_config.TextColumn("Model says", help="model: above the threshold; none: just under it."),
    "clients": st.column_config.NumberColumn("Clients", help="Distinct users or devices (counted, not shown)."),
    "events": st.column_config.NumberColumn("Events", format="localized"),
    "first_seen": st.column_config.DatetimeColumn("First seen (UTC)", format="YYYY-MM-DD HH:mm"),
    "last_seen": st.column_config.DatetimeColumn("Last seen (UTC)", format="YYYY-MM-DD HH:mm"),
    "pending_label": st.column_config.TextColumn("Labelled", help="Labelled since the last classify."),
    "rule": st.column_config.TextColumn("Why", help="What flagged the host: the model's score (name, and traffic "
                                        "where the lake has it), a listed AI service, or calls to a model API path."),
}, key="candidates", select=True)

rows = event.selection.rows if event is not None else []
hosts = list(found["host"])
host = st.selectbox("Evidence for", hosts, index=rows[0] if rows else 0, key="candidate")
if not host:
    st.stop()
row = found[found["host"] == host].iloc[0]

all_days, profiles = data.candidate_evidence(ctx.state, hosts, ctx.options.last_day)
days = all_days[all_days["host"] == host]
matching = profiles[profiles["host"] == host]
profile = matching.iloc[0].to_dict() if len(matching) else {}
cols = st.columns(4)
cols[0].metric("Score", f"{row['score']:.2f}", help=f"Threshold {data.text(row['threshold'], '–')}", border=True)
cols[1].metric("Clients", ui.number(row["clients"]), help="Distinct users or devices, all time.", border=True)
cols[2].metric("Mean upload per request", data.human_bytes(profile.get("mean_bytes_out")), border=True)
cols[3].metric("POST share", f"{profile['post_share']:.0%}" if data.present(profile.get("post_share")) else "–",
               help="Chat and upload traffic is mostly POST.", border=True)
st.caption(f"Flagged by: {data.text(row['rule'], '–')}")
if not profile:
    st.caption(f"No traffic in the last {data.EVIDENCE_DAYS} days with data; the figures above are all time.")
else:
    st.markdown(
        f"- **Seen by:** {data.text(profile.get('source_kinds'), '–')} · "
        f"**User agents:** {ui.number(profile.get('user_agents'))} · "
        f"**Mean download per request:** {data.human_bytes(profile.get('mean_bytes_in'))}\n"
        f"- **Most requested paths:** {data.text(profile.get('top_paths'), '– (no URL paths in these logs)')}"
    )
if not days.empty:
    ui.chart(
        alt.Chart(days, title=f"{host}: events per day (last {data.EVIDENCE_DAYS} days with data)").mark_bar().encode(
            x=ui.time_axis("day", "day"),
            y=alt.Y("events:Q", title="Events"),
            tooltip=[alt.Tooltip("day:T", title="Day"), alt.Tooltip("events:Q", format=","),
                     alt.Tooltip("clients:Q", title="Clients")],
        ),
        key="candidate_days",
    )

st.subheader("Decision")
catalog = data.catalog(str(ctx.settings.catalog_dir))
service_names = {sid: f"{s.name} ({s.category})" for sid, s in sorted(catalog.services.items(),
                                                                      key=lambda item: item[1].name.lower())}
with st.form("decision", clear_on_submit=False, border=True):
    decision = st.radio("This host is", ["AI: a catalog service", "AI: a new service of category", "not AI"],
                        horizontal=True, key="decision")
    service = st.selectbox("Catalog service", list(service_names), format_func=service_names.get,
                           index=None, placeholder="Choose the service it belongs to", key="label_service")
    category = st.selectbox("Category", list(data.categories()), index=None, placeholder="Choose a category",
                            key="label_category")
    confirmed = st.form_submit_button("Record decision", type="primary", icon=":material/check:")
if confirmed:
    try:
        if decision == "not AI":
            data.label(ctx.settings, host, False)
        elif decision == "AI: a catalog service":
            if not service:
                raise DetectorError("choose the catalog service it belongs to")
            data.label(ctx.settings, host, True, service=service)
        else:
            if not category:
                raise DetectorError("choose a category")
            data.label(ctx.settings, host, True, category=category)
    except DetectorError as exc:
        st.error(f"Not recorded: {exc}")
    else:
        st.success(f"Recorded for {host}. Run `shadow-ai classify` (or the button below) to apply it.")

st.divider()
st.caption("Labels take effect when the hosts are judged again.")
if st.button("Apply labels now (runs classify)", icon=":material/refresh:", key="reclassify"):
    try:
        with st.spinner("Classifying ..."):
            summary = data.reclassify(ctx.settings)
    except DetectorError as exc:
        st.error(f"Classify failed: {exc}")
    else:
        st.success(f"Classified: {summary}. The pages now show the new judgements.")
