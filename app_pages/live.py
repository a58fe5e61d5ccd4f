"""Live (booth mode): the original and the optimized model side by side on a looping video, with FPS each.

``?kiosk=1`` hides the sidebar and the toolbar for a full-screen booth display. Everything runs offline:
the video is made from the run's test images.
"""

import streamlit as st

import engine
from ui import format as fmt
from ui import headline, state
from ui.models import loaded

KIOSK_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header, [data-testid="stToolbar"],
[data-testid="stDecoration"] {display: none !important;}
.block-container {padding-top: 1rem !important; max-width: 100% !important;}
</style>"""

kiosk = st.query_params.get("kiosk") == "1"
if kiosk:
    st.markdown(KIOSK_CSS, unsafe_allow_html=True)
run = state.require_run()
if len(run["variants"]) < 2:
    st.info("Optimize the run first (**Optimize** page): the booth shows the original next to an optimized IR.")
    st.stop()
measured = engine.benchmark_table(run["run"])
pick = measured["pick"]["variant"] if measured["pick"] else ("int8" if "int8" in run["variants"] else None)
optimized = pick or run["variants"][-1]
original = "torch-fp32" if "torch-fp32" in run["variants"] else run["variants"][0]

st.title(f"{run['model']} · original vs {optimized}")
headline.render(run, measured=measured)
if not kiosk:
    st.caption(
        f"{state.run_label(run)} · a loop over the run's test images · both models run every frame in this"
        " process, one after the other. Full screen: add `?kiosk=1` to the address."
    )
playing = st.toggle("Play", value=True, key="live_play")


@st.fragment(run_every=0.3 if playing else None)
def stream() -> None:
    models = {name: loaded(run["run"], name) for name in (original, optimized)}
    feed_key = f"_feed_{run['run']}"
    if feed_key not in st.session_state:
        st.session_state[feed_key] = {"feed": engine.live_feed(run["run"]), "i": 0}
        st.session_state[feed_key] |= {name: engine.RateMeter() for name in models}
    live = st.session_state[feed_key]
    frame = live["feed"].frame(live["i"])
    live["i"] += 1
    shown = {}
    for name, model in models.items():
        pred = model.predict([frame])[0]
        live[name].add(pred.timing.total_ms)
        shown[name] = model.draw(frame, pred)
    for col, name in zip(st.columns(2), models, strict=True):
        meter = live[name]
        with col:
            # inline: st.image of pixels puts each frame in Streamlit's media store and deletes it when the next one
            # replaces it 0.3 s later, so a browser that had not fetched it yet got a 404
            st.image(engine.data_url(shown[name], "JPEG", quality=90), width="stretch")
            c1, c2 = st.columns(2)
            c1.metric(f"{name} · FPS", f"{meter.fps:,.0f}" if meter.fps else "-")
            c2.metric("latency (median of 30 frames)", fmt.ms(meter.median_ms))
    meters = (live[original], live[optimized])
    if all(m.ready for m in meters):  # the same 30 frames for both, warm-up excluded: a ratio of medians
        a, b = (m.median_ms for m in meters)
        st.markdown(
            f"### {optimized} runs **{a / b:.1f}x** the frame rate of the original here"
            if a > b
            else f"### {optimized} is not faster than the original on this machine ({a / b:.2f}x)"
        )
    else:
        counted = min(len(m.times) for m in meters)
        st.markdown(f"### Measuring… {counted}/{meters[0].times.maxlen} frames after the warm-up")
    st.caption(
        f"frame {live['i']} · FPS = 1000 / median per-frame time (pre-process + inference + post-process) over the"
        f" last {meters[0].times.maxlen} frames of both models, the first {meters[0].warmup} not counted"
    )


stream()
