"""Edge Model Studio: the router and frame. Pages live in app_pages/, logic in engine/.

Run: streamlit run app.py
"""

from pathlib import Path

import streamlit as st

from ui import auth, state
from ui.errors import boundary

ICON = Path(__file__).parent / "ui" / "icon.png"  # served by the app itself: nothing is fetched from the internet
st.set_page_config(page_title="Edge Model Studio", page_icon=str(ICON), layout="wide")

PAGES = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/data.py", title="Data", icon=":material/dataset:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/optimize.py", title="Optimize", icon=":material/compress:"),
    st.Page("app_pages/benchmark.py", title="Benchmark", icon=":material/speed:"),
    st.Page("app_pages/search.py", title="Search", icon=":material/travel_explore:"),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/compare:"),
    st.Page("app_pages/live.py", title="Live", icon=":material/videocam:", url_path="live"),
    st.Page("app_pages/deploy.py", title="Deploy", icon=":material/rocket_launch:"),
    st.Page("app_pages/runs.py", title="Runs", icon=":material/history:"),
]
if not auth.gate():  # a shared deployment: nothing but the login until someone signs in
    st.stop()
page = st.navigation(PAGES)


def sidebar() -> None:
    st.sidebar.markdown("### Edge Model Studio")
    st.sidebar.caption(f"Workspace: `{state.workspace()}`")
    runs = state.runs()
    if "pending_run" in st.session_state:  # a page asked to switch the active run (e.g. a job finished)
        st.session_state["run"] = st.session_state.pop("pending_run")
    if runs:
        ids = [r["run"] for r in runs]
        current = state.active_run(runs)
        st.sidebar.selectbox(
            "Active run",
            ids,
            index=ids.index(current["run"]),
            key="run",
            format_func=lambda i: state.run_label(next(r for r in runs if r["run"] == i)),
        )


with boundary("sidebar"):
    sidebar()
with boundary(page.title):
    page.run()
