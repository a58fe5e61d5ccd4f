"""Deploy: download a variant's IR with its labels and metadata, and the exact code to run it."""

from pathlib import Path

import streamlit as st

import engine
from ui import state

st.title("Deploy")
run = state.require_run()
st.caption(state.run_label(run))
irs = [v for v in run["variants"] if engine.VARIANTS[v].backend == engine.Backend.OPENVINO]
if not irs:
    st.info("Optimize the run first (**Optimize** page) to get OpenVINO IR variants.")
    st.stop()

variant = st.selectbox("Variant", irs, index=irs.index("int8") if "int8" in irs else 0)
package = engine.deploy(run["run"], variant=variant)
path = Path(package["path"])
st.download_button(
    f"Download {path.name} ({package['size_bytes'] / 1e6:.1f} MB)",
    path.read_bytes(),
    path.name,
    "application/zip",
    type="primary",
    icon=":material/download:",
)
st.caption(
    f"{', '.join(package['files'])}: the OpenVINO IR with Model API metadata in rt_info. Loads unchanged in"
    " openvino-model-api, OVMS and DL Streamer."
)

st.subheader("Run it")
tab_cli, tab_api, tab_ov = st.tabs(["CLI", "Model API (Python)", "OpenVINO runtime"])
tab_cli.code(package["snippets"]["cli"], language="bash")
tab_api.code(package["snippets"]["model_api"], language="python")
tab_ov.code(package["snippets"]["openvino"], language="python")

st.subheader("OpenVINO Model Server repository")
st.caption(
    "Adds this IR as the next version of a model in an OVMS repository (`<folder>/<name>/<version>/model.xml`)"
    " and rewrites its `config.json`, which names every model there; a version already written is never"
    " changed. `docker compose up ovms` serves the workspace's `ovms` folder, the default below, and picks up"
    " each new version by itself."
)
with st.form("ovms"):
    left, right = st.columns(2)
    repo = left.text_input("Repository folder (on the server)", str(engine.workspace_root() / "ovms"))
    name = right.text_input("Model name", f"{run['model']}-{variant}", help="Letters, digits, '.', '_' or '-'.")
    if st.form_submit_button("Add as a new version", icon=":material/dns:"):
        try:
            served = engine.deploy(run["run"], variant=variant, ovms=repo, name=name)["ovms"]
        except engine.StudioError as exc:
            st.error(str(exc))
        else:
            st.success(
                f"{served['path']}: version {served['version']} of {served['name']}; {served['config']} serves"
                f" {', '.join(served['models'])}"
            )
