"""Deploy: download a variant's IR with its labels and metadata, and the exact code to run it."""

import streamlit as st

import engine
from engine.pipeline.deploying import snippets
from ui import state

st.title("Deploy")
run = state.require_run()
st.caption(state.run_label(run))
irs = [v for v in run["variants"] if v != "torch-fp32"]
if not irs:
    st.info("Optimize the run first (**Optimize** page) to get OpenVINO IR variants.")
    st.stop()

variant = st.selectbox("Variant", irs, index=irs.index("int8") if "int8" in irs else 0)
name, data = engine.deploy_package(run["run"], variant)
st.download_button(
    f"Download {name} ({len(data) / 1e6:.1f} MB)",
    data,
    name,
    "application/zip",
    type="primary",
    icon=":material/download:",
)
st.caption(
    "model.xml + model.bin (OpenVINO IR with Model API metadata in rt_info), labels.txt, model_info.json,"
    " README.txt. Loads unchanged in openvino-model-api, OVMS and DL Streamer."
)

code = snippets({"id": run["run"], "task": run["task"]}, variant)
st.subheader("Run it")
tab_cli, tab_api, tab_ov = st.tabs(["CLI", "Model API (Python)", "OpenVINO runtime"])
tab_cli.code(code["cli"], language="bash")
tab_api.code(code["model_api"], language="python")
tab_ov.code(code["openvino"], language="python")
