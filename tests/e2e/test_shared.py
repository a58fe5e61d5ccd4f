"""The dashboard shared by several people: four browser sessions at once on a one-job queue, and the login."""

from __future__ import annotations

import itertools
import re
import sqlite3
from pathlib import Path

import pytest
import yaml

from engine.tasks.classification.sample import SampleConfig, generate
from tests.e2e.conftest import chromium, new_page, open_page, serve

pytestmark = pytest.mark.browser


def test_four_sessions_each_start_a_job_and_see_their_own(tmp_path):
    """Four people import a dataset at the same time with STUDIO_MAX_JOBS=1: the jobs queue and run one after
    another in submission order, each page follows its own job, and every dataset arrives."""
    from playwright.sync_api import expect

    folders = []
    for i in range(4):
        folder = tmp_path / f"team-{i}"
        generate(folder, SampleConfig(seed=i, per_class=(("train", 4), ("val", 2), ("test", 2))))
        folders.append(folder)
    ws = tmp_path / "ws"
    with serve(ws, tmp_path / "streamlit.log", {"STUDIO_MAX_JOBS": "1"}) as url, chromium() as browser:
        pages = [new_page(browser, url, "data") for _ in folders]
        for page in pages:  # every session has the form open before anyone submits
            expect(page.get_by_role("heading", name="Data")).to_be_visible()
            page.get_by_text("Folder on the server").click()
        for page, folder in zip(pages, folders, strict=True):
            page.get_by_label("Folder path").fill(str(folder))
            page.get_by_label("Folder path").press("Enter")
            page.get_by_role("button", name="Import", exact=True).click()
        for page, folder in zip(pages, folders, strict=True):  # each page names its own job, not the newest
            expect(page.get_by_text(re.compile(rf"Job \d+ · Import {folder}"))).to_be_visible()
        for page in pages:  # when its job is done, the page shows the imported datasets
            expect(page.get_by_text(re.compile(r"Job \d+ · Import"))).to_have_count(0, timeout=300_000)
    with sqlite3.connect(ws / "studio.db") as con:
        jobs = con.execute("SELECT id, title, status, started, finished FROM jobs ORDER BY id").fetchall()
        names = sorted(r[0] for r in con.execute("SELECT name FROM datasets"))
    assert [j[2] for j in jobs] == ["completed"] * 4
    assert sorted(j[1] for j in jobs) == sorted(f"Import {f}" for f in folders)
    for earlier, later in itertools.pairwise(jobs):  # one at a time, in submission order
        assert later[3] >= earlier[4] - 0.5
    assert names == sorted(f.name for f in folders)


def _users(path: Path) -> Path:
    import streamlit_authenticator as stauth

    path.write_text(
        yaml.safe_dump(
            {
                "credentials": {
                    "usernames": {
                        "ana": {
                            "name": "Ana",
                            "email": "ana@example.com",
                            "password": stauth.Hasher.hash("s3cret-pass"),
                        }
                    }
                },
                "cookie": {"name": "studio_test", "key": "a-test-signing-key-0123456789", "expiry_days": 1},
            }
        )
    )
    return path


def test_with_a_login_configured_only_a_signed_in_browser_sees_the_pages(tmp_path):
    from playwright.sync_api import expect

    env = {"STUDIO_AUTH": str(_users(tmp_path / "users.yaml"))}
    with serve(tmp_path / "ws", tmp_path / "streamlit.log", env) as url, chromium() as browser:
        stranger = new_page(browser, url, "runs")  # a deep link too
        expect(stranger.get_by_role("button", name="Login")).to_be_visible()
        expect(stranger.locator('[data-testid="stSidebarNav"]')).to_have_count(0)
        expect(stranger.get_by_role("heading", name="Runs")).to_have_count(0)
        stranger.get_by_label("Username").fill("ana")
        stranger.get_by_role("textbox", name="Password").fill("wrong")
        stranger.get_by_role("button", name="Login").click()
        expect(stranger.get_by_text("Wrong username or password.")).to_be_visible()
        expect(stranger.locator('[data-testid="stSidebarNav"]')).to_have_count(0)

        member = new_page(browser, url)
        member.get_by_label("Username").fill("ana")
        member.get_by_role("textbox", name="Password").fill("s3cret-pass")
        member.get_by_role("button", name="Login").click()
        expect(member.locator('[data-testid="stSidebarNav"]')).to_be_visible()
        expect(member.get_by_text("Signed in as")).to_be_visible()
        open_page(member, "Runs")  # the first click can land while the app reruns after the login, and be lost


def test_a_typo_in_the_secrets_file_keeps_every_page_closed(tmp_path):
    """One malformed line in the secrets file that carries the login: the app shows one line naming the file
    and nothing else — no navigation, no page, no workspace path — on the home page and on a deep link."""
    from playwright.sync_api import expect

    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[studio_auth.cookie]\nname = "studio"\nkey = "unterminated\n')
    env = {"STREAMLIT_SECRETS_FILES": str(secrets)}
    ws = tmp_path / "ws"
    with serve(ws, tmp_path / "streamlit.log", env) as url, chromium() as browser:
        for path in ("", "runs", "data"):
            page = new_page(browser, url, path)
            expect(
                page.get_by_text(re.compile(rf"the secrets file {re.escape(str(secrets))} cannot be read"))
            ).to_be_visible()
            expect(page.locator('[data-testid="stSidebarNav"]')).to_have_count(0)
            expect(page.get_by_text(str(ws))).to_have_count(0)
            for title in ("Home", "Runs", "Data"):
                expect(page.get_by_role("heading", name=title)).to_have_count(0)


def test_a_forged_session_cookie_shows_the_login_not_an_error(tmp_path):
    """A cookie with ``alg: none`` (a forged token) used to raise inside streamlit-authenticator and show the
    error page, and that browser could not log in until its cookies were cleared."""
    import base64
    import json
    import time

    from playwright.sync_api import expect

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    forged = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'username': 'ana', 'exp_date': time.time() + 3600})}."
    env = {"STUDIO_AUTH": str(_users(tmp_path / "users.yaml"))}
    with serve(tmp_path / "ws", tmp_path / "streamlit.log", env) as url, chromium() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        context.add_cookies([{"name": "studio_test", "value": forged, "url": url}])
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        expect(page.get_by_role("button", name="Login")).to_be_visible()
        expect(page.locator('[data-testid="stSidebarNav"]')).to_have_count(0)  # the forged token let nobody in
        page.get_by_label("Username").fill("ana")
        page.get_by_role("textbox", name="Password").fill("s3cret-pass")
        page.get_by_role("button", name="Login").click()
        expect(page.get_by_text("Signed in as")).to_be_visible()
