"""Search: the fastest model that keeps the accuracy on this machine's device, found within a time budget."""

import pandas as pd
import streamlit as st

import engine
from engine import charts
from ui import format as fmt
from ui import jobs, widgets

st.title("Search")
st.caption(
    "Trains architecture × input-size candidates within the budget, turns each into INT8, QAT and pruned-INT8"
    " IRs, and times every one beside the reference (the task's default model as FP32 IR) on the chosen device."
    " The pick is the fastest point whose test metric stays above the floor."
)

datasets = engine.list_datasets()
if not datasets:
    st.info("Import a dataset on the **Data** page (or load the sample project on **Home**) first.")
    st.stop()

with st.form("search"):
    c1, c2 = st.columns(2)
    dataset = widgets.dataset_picker(datasets, container=c1, key="search_dataset")
    task = engine.get_task(next(d for d in datasets if d["dataset"] == dataset)["task"])
    device = c2.selectbox("Device", [d["device"] for d in widgets.devices()], help="openvino.Core().available_devices")
    c3, c4 = st.columns(2)
    drop = c3.number_input(
        f"Largest {task.metric_name} drop vs the reference (points)",
        0.0,
        100.0,
        100 * task.max_drop,
        0.1,
        help="The floor: the reference FP32 IR's test metric minus this.",
    )
    budget = c4.number_input("Time budget (minutes)", 1.0, 600.0, 20.0, 1.0)
    archs = st.multiselect("Architectures", list(task.archs), default=list(task.archs))
    c5, c6 = st.columns(2)
    defaults = engine.training_defaults(task.name, dataset)
    sizes = c5.text_input(
        "Input sizes",
        ",".join(map(str, defaults["search_sizes"])),
        help=f"Pixels, comma-separated. The default: this dataset's input size ({defaults['img_size']} px, from its"
        " images) and below and above it — what the search tries when none are given.",
    )
    offered = ["int8", "int8-qat", "pruned-int8"]
    variants = c6.multiselect("Variants per candidate", offered, default=offered)
    prune_ratio = st.slider(
        "Channels pruned-int8 removes",
        0.1,
        0.8,
        engine.SEARCH_PRUNE_RATIO,
        0.05,
        help="More than Optimize's default (0.3): the search scores every point against the floor, so a candidate"
        " that cannot take it keeps its INT8 and QAT points.",
    )
    st.caption(
        "First every candidate is built at random init and timed here (a few seconds each), then they train in"
        " order of how fast they can run, each on the reference's schedule; one that cannot beat the pick, or whose"
        " training does not fit what is left of the budget, is skipped with why (the reference and one more always"
        " run). On 2 cores a classification candidate at 64 px takes 4-7 minutes with its variants; detection and"
        " segmentation candidates take longer, so give them fewer architectures or a larger budget."
    )
    if st.form_submit_button("Search", type="primary", icon=":material/travel_explore:"):
        try:
            chosen_sizes = [int(s) for s in sizes.split(",") if s.strip()]
        except ValueError:
            st.error(f"Input sizes must be whole numbers separated by commas, e.g. 64,48 (got {sizes!r}).")
        else:
            kwargs = {
                "dataset": dataset,
                "max_drop": drop / 100,
                "device": device,
                "budget_minutes": float(budget),
                "archs": archs,
                "sizes": chosen_sizes,
                "variants": variants or offered,
                "prune_ratio": float(prune_ratio),
            }
            jobs.start("search", kwargs, f"Search dataset {dataset} ({budget:g} min)")


def progress() -> None:
    jobs.follow("search", "search")
    searches = engine.list_searches()
    if not searches:
        st.info("No search yet: choose the settings above and press **Search**.")
        return
    ids = [s["search"] for s in searches]
    chosen = st.selectbox("Search", ids[::-1], format_func=lambda i: f"search {i}", key="search_id")
    result = next(s for s in searches if s["search"] == chosen)
    running = any(j["verb"] == "search" for j in engine.list_jobs(active_only=True))
    name = result["metric_name"]
    minutes = result.get("seconds", 0) / 60
    st.markdown(
        f"**Search {result['search']}** · dataset {result['dataset']} · {result['device']} · `{result['status']}`"
        f" · {minutes:.1f} of {result['budget_minutes']:g} min"
    )
    resumable = result["status"] in (*engine.SEARCH_RESUMABLE, engine.SearchStatus.RUNNING) and not running
    if resumable and st.button("Resume this search", icon=":material/play_arrow:"):
        jobs.start("search", {"resume": result["search"]}, f"Resume search {result['search']}")
    candidates = pd.DataFrame(result["candidates"])
    if result.get("probe_seconds"):
        st.caption(
            f"Before training, every candidate's variants were built at random init and timed beside the reference"
            f" ({result['probe_seconds']:.0f} s): *at most* is the fastest of them, what the candidate reaches if it"
            " keeps the accuracy. The most promising train first; one that cannot beat the pick is skipped."
        )
    took = candidates.loc[candidates["status"] == "done", "seconds"]
    if len(took):
        st.caption(f"A candidate took {took.median():.0f} s here (median of {len(took)}), training included.")
    if "bound" not in candidates:  # a search saved before candidates were probed
        candidates["bound"] = None
    st.dataframe(
        fmt.frame(
            candidates[["arch", "img_size", "bound", "status", "run", "epochs", "seconds", "error"]].rename(
                columns={"seconds": "time", "bound": "at most (untrained)"}
            ),
            {"time": "seconds", "at most (untrained)": "ratio"},
        ),
        hide_index=True,
        width="stretch",
    )
    points = pd.DataFrame(result.get("points", []))
    if points.empty or result.get("floor") is None:
        st.caption("The chart appears when the reference is benchmarked.")
        return
    front = set(result["front"])
    points["label"] = points["candidate"] + " " + points["variant"]
    points["front"] = [engine.search_point_key(point) in front for point in result["points"]]
    points["latency_ms"] = points["latency_on_reference_scale_ms"]
    st.altair_chart(charts.search_front(points, result["floor"], name), width="stretch")
    if sentence := engine.search_runoff_text(result):
        st.caption(sentence)
    pick = result.get("pick")
    if pick:
        st.success(
            f"**Pick: {pick['candidate']} · {pick['variant']}** (run {pick['run']}) — {name} {pick['metric']:.1%},"
            f" **{pick['speedup']:.2f}×** the reference's speed on {result['device']}"
            f" (ran in {pick['inference_precision']}), floor {result['floor']:.1%}."
        )
        if st.button(f"Make run {pick['run']} the active run", icon=":material/check:"):
            st.session_state["pending_run"] = pick["run"]
            st.rerun(scope="app")
    else:
        st.warning(f"No candidate keeps {name} above the floor ({result['floor']:.1%}) yet.")
    table = points[["label", "metric", "latency_ms", "speedup", "inference_precision", "size_bytes", "keeps_accuracy"]]
    table = table.rename(columns={"inference_precision": "float ops ran in"})
    table = table.assign(size_bytes=table["size_bytes"] / 1e6)
    table = table.rename(
        columns={"metric": name, "size_bytes": "IR size", "latency_ms": "latency", "speedup": "speed-up vs reference"}
    )
    kinds = {name: "percent", "latency": "ms", "speed-up vs reference": "ratio", "IR size": "mb"}
    st.dataframe(fmt.frame(table, kinds), hide_index=True, width="stretch")


# Poll only while a search runs (every poll costs the server a rerun); a finished search is drawn once, so its
# buttons are not re-created under the user's cursor every few seconds.
if any(j["verb"] == "search" for j in engine.list_jobs(active_only=True)):
    st.fragment(run_every=3)(progress)()
else:
    progress()
