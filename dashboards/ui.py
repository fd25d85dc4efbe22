"""Widgets every page uses the same way: tables with a safe CSV download, Altair charts with titles and
units, the optional login gate, and the messages for a lake with nothing (yet) to show."""

from __future__ import annotations

import hmac
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import data

VERDICT_COLOURS = {"sanctioned": "#2e7d32", "tolerated": "#f9a825", "shadow": "#ef6c00", "forbidden": "#c62828"}
VERDICT_SCALE = alt.Scale(domain=list(VERDICT_COLOURS), range=list(VERDICT_COLOURS.values()))

EMPTY_LAKE = """\
**The lake is empty.** Ingest your proxy, DNS or firewall logs and classify them, then reload this page:

```
shadow-ai ingest /var/log/squid/access.log*
shadow-ai classify
```

Or try the product on simulated data of a municipality: `shadow-ai demo`."""

NOT_CLASSIFIED = """\
**The logs are ingested but not classified yet.** Run `shadow-ai classify` to judge the hosts (catalog,
labels, model) and build the rollups this page reads, then reload. The *Data health* page works already."""


def table(frame: pd.DataFrame, name: str, columns: dict[str, Any] | None = None, *, key: str | None = None,
          select: bool = False, height: int | None = None) -> Any:
    """A dataframe with its CSV download (formula injection neutralised); returns the selection event
    when `select` is set."""
    config = columns or {}
    shown = [c for c in config if c in frame.columns] or list(frame.columns)
    options: dict[str, Any] = {"hide_index": True, "column_order": shown, "column_config": config,
                               "width": "stretch", "placeholder": "–"}
    if height:
        options["height"] = height
    if select:
        event = st.dataframe(frame, key=key, on_select="rerun", selection_mode="single-row", **options)
    else:
        event = st.dataframe(frame, key=key, **options)
    st.download_button(f"Download {name} (CSV)", data.to_csv(frame[shown]), file_name=f"{name}.csv",
                       mime="text/csv", key=f"download-{key or name}", icon=":material/download:")
    return event


def chart(spec: alt.TopLevelMixin, key: str | None = None, height: int | None = None) -> None:
    if height:
        st.altair_chart(spec, key=key, width="stretch", height=height)
    else:
        st.altair_chart(spec, key=key, width="stretch")


def time_axis(field: str, bucket: str) -> alt.X:
    """A day or week axis whose bars are as wide as their day or week (ordinal, dated labels)."""
    title = "Week starting" if bucket == "week" else "Day"
    return alt.X(f"yearmonthdate({field}):O", title=title, axis=alt.Axis(format="%d %b", labelAngle=-45))


def stop_when_empty(frame: pd.DataFrame, message: str) -> None:
    """Nothing to show under these filters: say so and end the page (not an error)."""
    if frame.empty:
        st.caption(message)
        st.stop()


def require_login() -> None:
    """Optional access control for shared deployments (docs/dashboard.md): Streamlit's OIDC login when
    `[auth]` is in secrets.toml, else a shared password when `[dashboard] password` is; else none
    (the default binds to 127.0.0.1, so only this machine's users can reach it)."""
    try:
        has_auth = "auth" in st.secrets
        section = st.secrets.get("dashboard", {})
        password = section.get("password") if hasattr(section, "get") else None
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return
    if has_auth:
        if not st.user.is_logged_in:
            st.title("Shadow AI")
            st.button("Log in", on_click=st.login, icon=":material/login:")
            st.stop()
        st.sidebar.button("Log out", on_click=st.logout)
        return
    if not password or st.session_state.get("_authenticated"):
        return
    st.title("Shadow AI")
    given = st.text_input("Password", type="password")
    if given and hmac.compare_digest(given.encode(), str(password).encode()):
        st.session_state["_authenticated"] = True
        st.rerun()
    if given:
        st.error("Wrong password.")
    st.stop()


def number(value: Any, min_size: int | None = None) -> str:
    """A count for a metric; a count of people under `min_size` is shown as "< N"."""
    if value is None or pd.isna(value):
        return "–"
    if min_size is not None and int(value) < min_size:
        return f"< {min_size}"
    return f"{int(value):,}"


def share(part: Any, whole: Any, min_size: int | None = None) -> str:
    if whole in (None, 0) or part is None or pd.isna(part):
        return "–"
    if min_size is not None and int(part) < min_size:
        return "–"
    return f"{min(1.0, int(part) / int(whole)):.0%}"


def share_delta(part: Any, whole: Any, part_before: Any, whole_before: Any, min_size: int) -> str | None:
    """The change of a share against the previous period, in percentage points."""
    if not whole or not whole_before or int(part) < min_size or int(part_before) < min_size:
        return None
    change = min(1.0, int(part) / int(whole)) - min(1.0, int(part_before) / int(whole_before))
    return f"{100 * change:+.0f} pp"


def delta(now: Any, before: Any, suffix: str = "") -> str | None:
    """The change against the previous period, for st.metric; none when there was nothing before."""
    if before in (None, 0) or now is None or pd.isna(before) or pd.isna(now):
        return None
    change = float(now) - float(before)
    return f"{change:+,.0f}{suffix}"
