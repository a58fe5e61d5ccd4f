"""The dashboard in a real browser (Debian's Chromium driven by Playwright), as a first-time visitor uses it.

Never skipped: without Chromium this test fails, so CI cannot go green without the browser check. CI runs one
flow (the classification sample project through Train, Optimize, Compare and Benchmark).
Screenshots go to $STUDIO_SCREENSHOT_DIR (the README's images are made this way) or a temp folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import chromium, new_page, open_page, serve

pytestmark = pytest.mark.browser


@pytest.fixture
def app(tmp_path):
    env = {"STUDIO_DEMO_TINY": "1", "STUDIO_DEMO_EPOCHS": os.environ.get("STUDIO_DEMO_EPOCHS", "8")}
    if os.environ.get("STUDIO_DEMO_FULL") == "1":  # README screenshots: the real sample project
        env.pop("STUDIO_DEMO_TINY")
    with serve(tmp_path / "ws", tmp_path / "streamlit.log", env) as url:
        yield url
    subprocess.run(
        [sys.executable, "-m", "engine", "jobs", "list", "--workspace", str(tmp_path / "ws")],
        cwd=ROOT,
        check=False,
        capture_output=True,
    )


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("STUDIO_SCREENSHOT_DIR", tmp_path / "shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(app):
    with chromium() as browser:
        yield new_page(browser, app)


def close_dropdown(page) -> None:
    """Close an open select's option list. While one is open, React Aria hides the rest of the page from the
    accessibility tree (``aria-hidden``), so no other control can be found by its role; on a slow machine one
    Escape can land before the list has opened, so press until it is gone."""
    from playwright.sync_api import expect

    listbox = page.get_by_role("listbox")
    for _ in range(5):
        page.keyboard.press("Escape")
        try:
            expect(listbox).to_have_count(0, timeout=3_000)
            return
        except AssertionError:
            continue
    expect(listbox).to_have_count(0)


def _record_requests(page, errors: list[str] | None = None) -> list[str]:
    """Every URL the browser asks for from now on (the page is reloaded so its first load counts too), and
    into ``errors`` every console error and uncaught page error."""
    urls: list[str] = []
    page.context.on("request", lambda request: urls.append(request.url))
    if errors is not None:
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        # the console's "Failed to load resource" line does not say which one: name it
        page.on(
            "response",
            lambda response: (
                errors.append(f"HTTP {response.status}: {response.url}") if response.status >= 400 else None
            ),
        )
    page.reload()
    return urls


def test_sample_project_to_compare_and_benchmark(page, shots, tmp_path):
    from playwright.sync_api import expect

    console_errors: list[str] = []
    requests = _record_requests(page, console_errors)
    expect(page.get_by_role("button", name="Load sample project")).to_be_visible()
    page.get_by_role("button", name="Load sample project").click()
    expect(page.get_by_text("Sample classification project: import, train, optimize, benchmark").first).to_be_visible()
    page.screenshot(path=shots / "home.png", full_page=True)

    open_page(page, "Train")
    progress = re.compile(r"^Epoch ([3-9]|\d\d+)/\d+" if os.environ.get("STUDIO_DEMO_FULL") else r"^Epoch \d+/\d+")
    expect(page.get_by_text(progress).first).to_be_visible(timeout=180_000)
    expect(page.locator(".vega-embed canvas, .vega-embed svg").first).to_be_visible()
    page.wait_for_timeout(500)
    page.screenshot(path=shots / "train.png", full_page=True)
    finished = re.compile(r"^Run \d+ · \S+ · (completed|early_stopped)$")
    expect(page.get_by_role("heading", name=finished)).to_be_visible(timeout=600_000)

    open_page(page, "Optimize")
    page.get_by_role("button", name="Optimize").click()
    expect(page.get_by_role("heading", name="Variants")).to_be_visible(timeout=600_000)

    open_page(page, "Compare")
    images = page.locator('[data-testid="stImage"] img')
    expect(images).to_have_count(2, timeout=120_000)
    single = page.locator('[data-testid="stMetric"]', has_text="This image (single sample)")
    expect(single).to_have_count(2)  # per-image latency, labelled as one sample, beside the benchmarked median
    values = [single.nth(i).locator('[data-testid="stMetricValue"]').inner_text() for i in range(2)]
    assert all(v.endswith(" ms") and float(v.split()[0]) > 0 for v in values), values
    expect(page.locator('[data-testid="stMetric"]', has_text="Benchmarked median")).to_have_count(2)
    page.screenshot(path=shots / "compare.png", full_page=True)

    open_page(page, "Benchmark")
    page.get_by_label("Amount").fill("50")
    page.get_by_role("button", name="Run benchmark").click()
    job_line = page.get_by_text(re.compile(r"Benchmark run \d+ ·"))
    expect(job_line).to_be_visible()
    expect(job_line).to_have_count(0, timeout=600_000)  # shown while the job runs, gone when it completed
    charts = page.locator(".vega-embed")
    expect(charts.first).to_be_visible(timeout=60_000)
    expect(charts.first.locator("canvas, svg").first).to_be_attached()
    assert charts.count() >= 3
    page.screenshot(path=shots / "benchmark.png", full_page=True)

    _home_headline_reads_the_benchmark(page, shots, tmp_path / "ws")
    _live_page_streams_both_models(page, shots)
    _report_card_opens_with_the_variant_table(page, shots, tmp_path)
    outside = sorted({u for u in requests if not u.startswith(("http://127.0.0.1", "data:", "blob:", "file:"))})
    assert not outside, f"the dashboard asked the network for {outside} (it must work offline)"
    assert not console_errors, f"the browser's console reported errors across the tour: {console_errors[:5]}"


def _home_headline_reads_the_benchmark(page, shots: Path, ws: Path) -> None:
    """Home's four big numbers are the Benchmark job's: speed vs the FP32 IR (the baseline) and vs PyTorch,
    metric change (pp), size ratio; the label says INT8 layers run int8 and the hint is for the float ones."""
    from playwright.sync_api import expect

    import engine
    from ui import format as fmt

    measured = engine.benchmark_table(engine.list_runs(workspace=ws)[-1]["run"], workspace=ws)
    h = measured["headline"]
    assert h is not None and h["median_ms"] > 0, measured
    open_page(page, "Home", "Edge Model Studio")
    box = page.locator(".st-key-headline")
    expect(box).to_be_visible()
    values = box.locator('[data-testid="stMetricValue"]')
    expect(values).to_have_count(4)
    expect(values.nth(0)).to_have_text(fmt.ratio(h["speedup_vs_fp32_ir"]))
    expect(values.nth(1)).to_have_text(fmt.ratio(h["speedup_vs_original"]))
    expect(values.nth(2)).to_have_text(f"{h['metric_change_pp']:+.1f} pp")
    expect(values.nth(3)).to_have_text(f"{fmt.ratio(h['size_ratio_vs_fp32'])} smaller")
    expect(box.get_by_text(f"{h['variant']} IR on {h['device']}")).to_be_visible()
    if "int8" in h["variant"]:
        expect(box.get_by_text("int8 layers; float layers in")).to_be_visible()
    page.screenshot(path=shots / "home-headline.png", full_page=True)


def _live_page_streams_both_models(page, shots: Path) -> None:
    """Booth mode: two images that change frame to frame, each with its FPS."""
    from playwright.sync_api import expect

    open_page(page, "Live", "original vs")
    images = page.locator('[data-testid="stImage"] img')
    expect(images).to_have_count(2, timeout=120_000)
    fps = page.locator('[data-testid="stMetric"]', has_text="FPS")
    expect(fps).to_have_count(2)
    frames = re.compile(r"^frame (\d+) ")
    caption = page.get_by_text(frames)
    expect(caption).to_be_visible()
    first = int(frames.match(caption.inner_text()).group(1))
    sources = {images.nth(0).get_attribute("src")}
    expect(caption).not_to_have_text(re.compile(rf"^frame {first} "), timeout=15_000)  # the loop moves on
    sources.add(images.nth(0).get_attribute("src"))
    assert len(sources) == 2, "the left stream did not move"
    for i in range(2):
        expect(fps.nth(i).locator('[data-testid="stMetricValue"]')).to_have_text(re.compile(r"^[\d,]+$"))
    page.screenshot(path=shots / "live.png", full_page=True)
    page.get_by_text("Play", exact=True).click()  # stop the loop before leaving


def _report_card_opens_with_the_variant_table(page, shots: Path, tmp_path: Path) -> None:
    """Runs writes the report card; the downloaded file opens on its own (file://) with the variant table."""
    from playwright.sync_api import expect

    open_page(page, "Runs")
    page.get_by_role("button", name="Write the report card").click()
    download_button = page.get_by_role("button", name=re.compile(r"^Download run\d+-report\.html"))
    expect(download_button).to_be_visible(timeout=180_000)
    page.screenshot(path=shots / "runs.png", full_page=True)
    with page.expect_download() as info:
        download_button.click()
    card = tmp_path / "report.html"
    info.value.save_as(card)
    report = page.context.new_page()
    report.goto(card.as_uri())
    table = report.locator("table", has=report.get_by_role("columnheader", name="variant", exact=True))
    expect(table).to_be_visible()
    for name in ("torch-fp32", "fp32", "int8"):
        expect(table.get_by_role("cell", name=name, exact=True).first).to_be_visible()
    report.screenshot(path=shots / "report-card.png", full_page=True)
    report.close()


# The other tasks' sample projects in the browser, for the README screenshots only (STUDIO_SCREENSHOT_DIR set):
# in CI their pages are checked with AppTest on the prepared workspaces (tests/test_pages.py), which saves
# two sample trainings (~3 minutes of the suite).
if os.environ.get("STUDIO_SCREENSHOT_DIR"):

    def test_detection_and_segmentation_samples_to_compare(page, shots):
        """Pick each other task on Home, run its (tiny) sample project, then see both variants' overlays on
        Compare and the task's statistics on Data."""
        from playwright.sync_api import expect

        for task, model in (("detection", "ssdlite320"), ("segmentation", "lraspp")):
            open_page(page, "Home", "Edge Model Studio")
            page.get_by_role("radio", name=re.compile(rf"^{task} \(")).click()
            page.get_by_role("button", name="Load sample project").click()
            title = f"Sample {task} project: import, train, optimize, benchmark"
            done = page.get_by_text(re.compile(rf"Job \d+ · {title} · completed"))
            expect(done.first).to_be_visible(timeout=900_000)
            page.wait_for_timeout(3000)  # Home reruns the app once to make the new run active

            open_page(page, "Compare")
            expect(page.locator("#stMain").get_by_text(re.compile(rf"^run \d+ · {model}"))).to_be_visible()
            images = page.locator('[data-testid="stImage"] img')
            expect(images).to_have_count(2, timeout=120_000)
            boxes = [images.nth(i).bounding_box() for i in range(2)]
            assert all(b and b["width"] > 100 for b in boxes), boxes
            page.get_by_role("button", name="Find where they disagree").click()
            expect(page.get_by_text(re.compile(r"They differ on \d+ of \d+ test images"))).to_be_visible(
                timeout=300_000
            )
            page.screenshot(path=shots / f"compare-{task}.png", full_page=True)

            open_page(page, "Data")  # class counts + image sizes, then boxes per image + box sizes or pixel shares
            expect(page.locator(".vega-embed").nth(3 if task == "detection" else 2)).to_be_visible()


def test_search_from_the_page_to_an_active_pick(page, shots, tmp_path):
    """A tiny search started from the Search page: candidates fill in, the Pareto chart appears, the pick becomes
    the active run."""
    from playwright.sync_api import expect

    import engine

    ws = tmp_path / "ws"
    engine.get_task("classification").write_sample(tmp_path / "data", tiny=True)
    engine.import_dataset(str(tmp_path / "data"), workspace=ws)
    open_page(page, "Search")
    main = page.locator("#stMain")
    for variant in ("int8-qat", "pruned-int8"):  # int8 only: the engine test covers the fine-tuned variants
        main.get_by_role("button", name=f"Remove {variant}").click()
    architectures = main.locator('[data-testid="stMultiSelect"]').first
    architectures.get_by_role("button", name="Clear all").click()
    architectures.locator("input").fill("mobilenet_v3_small")
    page.get_by_role("option", name="mobilenet_v3_small", exact=True).click()
    close_dropdown(page)
    expect(architectures.get_by_role("button", name=re.compile("^Remove "))).to_have_count(1)
    page.get_by_label("Input sizes", exact=True).fill("32")
    page.get_by_label(re.compile("^Largest top-1 drop")).fill("50")
    page.get_by_label("Time budget (minutes)").fill("1")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_text(re.compile(r"Job \d+ · Search dataset 1"))).to_be_visible()
    done = page.get_by_text(re.compile(r"Search 1 · dataset 1 · CPU · completed"))
    expect(done).to_be_visible(timeout=600_000)
    expect(page.get_by_text(re.compile(r"^Pick: mobilenet_v3_small@(32|64)"))).to_have_count(1)  # stale ones gone
    expect(main.locator(".vega-embed canvas, .vega-embed svg").first).to_be_visible()
    page.screenshot(path=shots / "search.png", full_page=True)
    button = page.get_by_role("button", name=re.compile(r"^Make run \d+ the active run$"))
    expect(button).to_have_count(1)
    run = int(re.search(r"run (\d+)", button.inner_text()).group(1))
    button.click()
    page.wait_for_timeout(2000)  # the click reruns the app with the new active run
    open_page(page, "Optimize")  # its caption names the active run
    expect(page.locator("#stMain").get_by_text(re.compile(rf"^run {run} · mobilenet_v3_small"))).to_be_visible()
