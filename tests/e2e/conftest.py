"""Browser-test plumbing: a real ``streamlit run app.py`` on a free port, and Debian's Chromium via Playwright."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(health_url: str, log_file: Path, seconds: float) -> None:
    """Poll a server's health URL until it answers 200; fail with the server's log when it never does."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(health_url, timeout=2).status == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(log_file.read_text())


@contextlib.contextmanager
def serve(workspace: Path, log_file: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """The app on 127.0.0.1 with ``workspace``; yields its URL once /_stcore/health answers."""
    with serve_process(workspace, log_file, env) as (url, _):
        yield url


@contextlib.contextmanager
def serve_process(
    workspace: Path, log_file: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Like ``serve``, and also yields the Streamlit process (to measure what the dashboard itself costs)."""
    port = free_port()
    full_env = {**os.environ, "STUDIO_WORKSPACE": str(workspace), **(env or {})}
    with log_file.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1"],
            cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/_stcore/health", log_file, 60)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """One Chromium (Playwright's own browser download does not work offline); new contexts per session."""
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), "Chromium is missing: install it with `apt-get install -y chromium`"
    expect.set_options(timeout=60_000)  # the first page load imports torch and OpenVINO
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, url: str, path: str = ""):
    page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{url}/{path}")
    return page


def open_page(page, name: str, heading: str | None = None) -> None:
    """Click the nav link; a click that lands during an app rerun can be dropped, so retry."""
    from playwright.sync_api import expect

    title = page.locator("h1", has_text=heading or name)
    for _ in range(3):
        page.locator('[data-testid="stSidebarNav"] a', has_text=name).first.click()
        try:
            expect(title).to_be_visible(timeout=20_000)
            return
        except AssertionError:
            continue
    expect(title).to_be_visible()
