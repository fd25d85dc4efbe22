"""The shadow-AI dashboard: router, shared filters, and the checks every page needs first.

Run with `shadow-ai dashboard` (which sets $SHADOW_AI_HOME, binds to 127.0.0.1, and turns Streamlit's
usage statistics off). The filters are drawn here once, kept in the URL (bookmarkable) and shared by
every page through `data.context()`.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

# `streamlit run` puts this file's folder on sys.path, not the project's: make `dashboards` importable.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboards import data, ui  # noqa: E402
from detector.errors import DetectorError  # noqa: E402

# No page or page_icon icons: the browser would fetch a Material icon favicon from a font CDN, and nothing
# may leave the machine. (Material icons inside the page come with Streamlit's bundled font.)
st.set_page_config(page_title="Shadow AI", layout="wide")
ui.require_login()

try:
    settings = data.settings()
except DetectorError as exc:  # a broken shadow-ai.toml: say where, not a traceback
    st.error(f"The configuration cannot be read: {exc}")
    st.stop()
state = data.lake_state(settings)

pages = [
    st.Page("app_pages/overview.py", title="Overview", url_path="overview", default=True),
    st.Page("app_pages/departments.py", title="Departments", url_path="departments"),
    st.Page("app_pages/services.py", title="Services", url_path="services"),
    st.Page("app_pages/discovery.py", title="Discovery", url_path="discovery"),
    st.Page("app_pages/data_health.py", title="Data health", url_path="data-health"),
]
if data.people_enabled(settings):
    pages.append(st.Page("app_pages/people.py", title="People", url_path="people"))
page = st.navigation(pages)

st.sidebar.caption(f"{settings.organisation or 'Shadow AI'} · data: `{settings.home.name}`")
if not state.has_events and not state.has_rejects:
    st.title(page.title)
    st.info(ui.EMPTY_LAKE, icon=":material/inventory_2:")
    st.stop()
if not state.classified and page.url_path != "data-health":
    st.title(page.title)
    st.info(ui.NOT_CLASSIFIED)
    st.stop()
reason = data.problem(state)
if reason:
    st.title(page.title)
    st.warning(f"The lake cannot be read ({reason}). If the product was upgraded since the last classify, run "
               "`shadow-ai classify` again to rebuild the catalog database.")
    st.stop()

options = data.filter_options(state) if state.classified else data.FilterOptions([], [], None, None)
with st.sidebar:
    st.subheader("Filters")
    period = st.selectbox("Period", list(data.PERIODS), index=1, key="period", bind="query-params",
                          help="Counted back from the newest day with data.")
    custom = None
    if period == data.CUSTOM:
        newest = options.last_day or date.today()
        oldest = options.first_day or newest
        start = st.date_input("From", value=max(oldest, newest - timedelta(days=29)), min_value=oldest,
                              max_value=newest, key="from", bind="query-params")
        end = st.date_input("To", value=newest, min_value=oldest, max_value=newest, key="to",
                            bind="query-params")
        custom = (start, end)
    first, last = data.period_range(period, options, custom)
    compared = "" if period == "All data" else f", compared with the {(last - first).days + 1} days before"
    st.caption(f"{first:%d %b %Y} – {last:%d %b %Y}{compared}")
    departments = st.multiselect("Department", options.departments, key="department", bind="query-params",
                                 placeholder="All departments")
    categories = st.multiselect("Category", options.categories, key="category", bind="query-params",
                                placeholder="All categories")
    verdicts = st.multiselect("Verdict", list(data.verdicts()), key="verdict", bind="query-params",
                              placeholder="All verdicts",
                              help="Under the organisation's policy (policy.yaml); shadow = in use without a decision.")

filters = data.Filters(first, last, tuple(departments), tuple(categories), tuple(verdicts))
data.set_context(data.Context(settings, state, filters, options))
page.run()
