"""The report card: one self-contained HTML file per run, and the headline and progress the pages show."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

import engine
from engine.inference.live import LoopingFeed, RateMeter
from tests.conftest import last_json, run_cli, tiny_optimized_run


@pytest.fixture(scope="module")
def benchmarked(tiny_imagenet, tmp_path_factory):
    ws = tmp_path_factory.mktemp("card") / "ws"
    run = tiny_optimized_run(tiny_imagenet, ws, epochs=2, max_steps=4)
    run_cli("benchmark", str(run), "--precisions", "default,f32", "--iterations", "20", workspace=ws)
    return ws, run


@pytest.mark.e2e  # trains and quantizes a real model (module fixture)
def test_the_card_is_one_offline_file_with_machine_variants_charts_and_predictions(benchmarked, tmp_path):
    ws, run = benchmarked
    out = last_json(run_cli("report", str(run), "--out", str(tmp_path / "card.html"), "--json", workspace=ws))
    assert out["path"] == str(tmp_path / "card.html") and out["size_bytes"] > 10_000
    assert out["sections"] == ["Result", "Machine", "Dataset", "Training", "Variants", "Benchmark",
                               "Sample predictions"]  # fmt: skip
    page = (tmp_path / "card.html").read_text()
    facts = engine.devices()[0]
    assert facts["full_device_name"] in page and ", ".join(facts["optimization_capabilities"]) in page
    variants = engine.variant_table(run, workspace=ws)["rows"]
    table = page.split("<h2>Variants</h2>")[1].split("<h2>")[0]
    assert [row["variant"] for row in variants] == re.findall(r"<tr><td>([\w-]+)</td>", table)
    assert page.count("<svg") >= 4  # loss, metric, latency, throughput (+ Pareto) charts, inline
    assert page.count("data:image/png;base64,") >= 3 * 4  # 4 test images: truth, original, optimized
    external = re.findall(r"""(?:src|href)=["']?(https?:)""", page) + re.findall(r"@import|<script", page)
    assert not external, "the card must open offline: no scripts, fonts or images from the network"
    assert engine.headline_text(engine.benchmark_table(run, workspace=ws)) in page.replace("&#x27;", "'")


@pytest.mark.e2e  # trains and quantizes a real model (module fixture)
def test_the_default_card_lives_in_the_run_folder_and_a_wrong_suffix_is_refused(benchmarked, tmp_path):
    ws, run = benchmarked
    assert last_json(run_cli("report", str(run), "--json", workspace=ws))["path"] == str(
        ws / "runs" / str(run) / "report.html"
    )
    proc = run_cli("report", str(run), "--out", str(tmp_path / "card.pdf"), workspace=ws, check=False)
    assert proc.returncode == 2 and "should be an .html file" in proc.stderr and not (tmp_path / "card.pdf").exists()


@pytest.mark.e2e  # trains and quantizes a real model (module fixture)
def test_the_headline_compares_the_pick_or_int8_with_the_original_on_measured_medians(benchmarked):
    ws, run = benchmarked
    measured = engine.benchmark_table(run, workspace=ws)
    h = measured["headline"]
    rows = {r["config"]: r for r in measured["rows"]}
    assert len(rows) == len(measured["rows"])  # a distinct label per variant x device x precision asked
    best = next(r for r in measured["rows"] if r["variant"] == h["variant"] and r["precision asked"] == "default")
    torch_row = next(r for r in measured["rows"] if r["variant"] == "torch-fp32")
    assert h["variant"] == (measured["pick"]["variant"] if measured["pick"] else "int8")
    assert h["optimized"] == (measured["pick"] is not None)
    assert h["precision_ran"] == best["precision ran"] == engine.devices()[0]["inference_precision_hint"]
    assert h["speedup_vs_original"] == pytest.approx(torch_row["median ms"] / best["median ms"])
    variants = {v["variant"]: v for v in engine.variant_table(run, workspace=ws)["rows"]}
    change = 100 * (variants[h["variant"]]["metric"] - variants["torch-fp32"]["metric"])
    assert h["metric_change_pp"] == pytest.approx(change)
    assert (
        h["size_ratio_vs_fp32"] == pytest.approx(variants[h["variant"]]["size ratio vs FP32"])
        and h["size_ratio_vs_fp32"] > 1
    )
    text = engine.headline_text(measured)
    assert f"{h['speedup_vs_original']:.1f}x the PyTorch model's" in text
    if h["speedup_vs_fp32_ir"] is not None:  # the baseline is said first
        assert text.index("the FP32 IR's speed") < text.index("the PyTorch model's")


@pytest.mark.e2e  # trains and quantizes a real model (module fixture)
def test_job_progress_names_the_stage_epoch_and_eta(benchmarked):
    ws, run = benchmarked
    job = {"status": "running", "verb": "train", "run_id": run}
    shown = engine.job_progress(job, workspace=ws)
    # --max-steps 4 ended the run inside its first epoch: 1 of the 2 epochs it was set to is done
    assert (shown["stage"], shown["epoch"], shown["epochs"], shown["fraction"]) == ("train", 1, 2, 0.5)
    assert shown["eta_s"] > 0
    demo = engine.job_progress({"status": "running", "verb": "demo", "run_id": None}, workspace=ws)
    assert demo["stage"] == "import" and demo["fraction"] == 0.0
    later = engine.job_progress({"status": "running", "verb": "demo", "run_id": run}, workspace=ws)
    assert later["stage"] == "optimize" and 0.75 <= later["fraction"] < 0.9  # fp16 missing: not all built yet
    # the ETA is the whole job's (optimize and benchmark still to come), from this machine's epoch time
    epoch_s = next(e for e in engine.show_run(run, workspace=ws)["epochs"])["epoch_s"]
    assert later["eta_s"] == pytest.approx(epoch_s * 2 * (0.15 + 0.10) / 0.70)
    queued = engine.job_progress({"status": "queued", "verb": "demo", "run_id": None}, workspace=ws)
    assert queued["fraction"] is None and queued["text"] == "Waiting for a free job slot"


def test_the_booth_feed_moves_every_frame_and_loops():
    images = [np.full((40, 60, 3), v, np.uint8) for v in (10, 200)]
    for img in images:
        img[:, :30] += 40  # structure, so a pan shows as a change
    feed = LoopingFeed(images, hold=5, size=120)
    frames = [feed.frame(i) for i in range(10)]
    assert all(f.shape == (80, 120, 3) for f in frames)
    assert all(not np.array_equal(a, b) for a, b in itertools.pairwise(frames))
    assert np.array_equal(feed.frame(0), feed.frame(10)) and frames[5].mean() > frames[4].mean()
    meter = RateMeter(window=3, warmup=2)
    assert meter.fps is None
    for ms in (500.0, 400.0, 10.0, 10.0):  # the two warm-up frames are not counted
        meter.add(ms)
    assert meter.median_ms == 10.0 and not meter.ready  # two of three frames: no ratio shown yet
    for ms in (1000.0, 20.0):
        meter.add(ms)
    assert meter.median_ms == 20.0 and meter.fps == 50.0 and meter.ready  # the last 3; one slow frame is ignored
