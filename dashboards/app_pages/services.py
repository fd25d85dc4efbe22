"""Services: every AI service seen, with its catalog facts and use; select one for its details and the
departments using it."""

from __future__ import annotations

import streamlit as st

from dashboards import data, ui, use_columns

ctx = data.context()
filters, n = ctx.filters, ctx.min_size
st.title("AI services in use")

services = data.services(ctx.state, filters, n)
ui.stop_when_empty(services, "No AI services seen in this period under these filters.")
st.caption(f"{len(services)} services. Select a row for its details. Fewer than {n} people: \"< {n}\".")
event = ui.table(services, "services", {
    "service_name": st.column_config.TextColumn("Service"),
    "category": st.column_config.TextColumn("Category"),
    "vendor": st.column_config.TextColumn("Vendor"),
    "hq_country": st.column_config.TextColumn("Country", help="Vendor's headquarters."),
    "risk_level": st.column_config.TextColumn("Risk"),
    "verdict": st.column_config.TextColumn("Verdict", help="Under policy.yaml; several when departments differ."),
    **use_columns.use("people"),
    "first_seen": st.column_config.DateColumn("First seen"),
    "last_seen": st.column_config.DateColumn("Last seen"),
}, key="services_table", select=True)

rows = event.selection.rows if event is not None else []
keys = list(services["service_key"])
names = dict(zip(services["service_key"], services["service_name"], strict=True))
picked = keys[rows[0]] if rows else None
chosen = st.selectbox("Details of", keys, index=keys.index(picked) if picked else 0, format_func=names.get,
                      key="service_detail")
if not chosen:
    st.stop()

row = services[services["service_key"] == chosen].iloc[0]
st.subheader(str(row["service_name"]))
facts = data.service_facts(ctx.state, str(row["service"])) if data.present(row["service"]) else None
if facts is None:
    st.info("Not in the signature catalog: found by the model or an analyst's label. Confirm it on the "
            "Discovery page or add a signature (signatures/<id>.yaml).", icon=":material/help:")
else:
    if data.present(facts.get("description")):
        st.write(facts["description"])
    cols = st.columns(4)
    cols[0].metric("Risk", f"{facts['risk_level']} ({facts['risk_score']:.0f})" if data.present(facts["risk_score"])
                   else str(facts["risk_level"]), border=True)
    cols[1].metric("Verdict", data.text(facts["verdict"]), border=True)
    cols[2].metric("Headquarters", data.text(facts["hq_country"]), border=True)
    cols[3].metric("Data processed in", data.text(facts["data_location"]), border=True)
    st.markdown(
        f"- **Vendor:** {facts['vendor']} · **Category:** {facts['category']}\n"
        f"- **Trains on inputs by default:** {data.yes_no(facts['trains_on_inputs'])} · "
        f"**Enterprise plan:** {data.yes_no(facts['enterprise_plan'])} · "
        f"**Processing agreement (GDPR DPA):** {data.yes_no(facts['gdpr_dpa'])}\n"
        f"- **Domains:** {', '.join(data.as_list(facts['domains'])) or '–'}\n"
        f"- **Facts last verified:** {data.text(facts['last_verified'], 'never')}"
    )
    sources = data.as_list(facts["sources"])
    if sources:
        st.markdown("**Sources:**\n" + "\n".join(f"- {source}" for source in sources))

st.markdown("**Departments using it**")
users = data.service_departments(ctx.state, filters, chosen, n)
ui.table(users, f"departments-{chosen}", {
    "department": st.column_config.TextColumn("Department"),
    "verdict": st.column_config.TextColumn("Verdict"),
    **use_columns.use("people"),
}, key="service_departments")

st.markdown("**Host names seen**")
ui.table(data.service_hosts(ctx.state, chosen), f"hosts-{chosen}", {
    "host": st.column_config.TextColumn("Host"),
    "match": st.column_config.TextColumn("Matched by"),
    "rule": st.column_config.TextColumn("Rule"),
    "events": st.column_config.NumberColumn("Events (all time)", format="localized"),
    "first_seen": st.column_config.DatetimeColumn("First seen (UTC)", format="YYYY-MM-DD HH:mm"),
    "last_seen": st.column_config.DatetimeColumn("Last seen (UTC)", format="YYYY-MM-DD HH:mm"),
}, key="service_hosts")
