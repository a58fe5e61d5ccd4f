"""Edge Model Studio dashboard (placeholder until the multi-page app lands).

Run: streamlit run app.py
"""

import streamlit as st

import engine

st.set_page_config(page_title="Edge Model Studio", page_icon=":material/memory:", layout="wide")
st.title("Edge Model Studio")
st.info(
    "The dashboard is coming. Everything it will do already works from the command line: `python -m engine --help`."
)
runs = engine.list_runs()
if runs:
    st.subheader("Runs in this workspace")
    st.dataframe(
        [{k: v for k, v in r.items() if k != "metrics"} | {"val top-1": r["metrics"].get("val_top1")} for r in runs]
    )
else:
    st.write("No runs yet. Try: `python -m engine sample classification --out data/sample-classification`.")
