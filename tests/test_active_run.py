"""One active run per browser session, changed only by the user: pages opened in any order never switch it,
not even Home beside an old sample-project job of another session (the bug: Home set it back to run 1)."""

from __future__ import annotations

import itertools

import pytest
from streamlit.testing.v1 import AppTest

import engine
from engine.store import Database
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

PAGES = ["home", "data", "train", "optimize", "benchmark", "search", "compare", "live", "deploy", "runs"]


@pytest.fixture(scope="module")
def two_runs(tiny_imagenet, tmp_path_factory):
    """Run 1 made by a (finished) sample-project job of another session, run 2 trained after it."""
    ws = tmp_path_factory.mktemp("active") / "ws"
    dataset = engine.import_dataset(str(tiny_imagenet), workspace=ws)["dataset"]
    for _ in range(2):
        engine.train(dataset, epochs=1, max_steps=1, img_size=32, batch_size=8, workspace=ws)
    db = Database(ws / "studio.db")
    job = db.add_job(verb="demo", kwargs={"task": "classification"}, title="Sample classification project")
    db.update_job(job, status="completed", run_id=1, result={"dataset": dataset, "run": 1}, finished=1.0)
    return ws


def _visit(at: AppTest, page: str) -> None:
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception, (page, [e.value for e in at.exception])


@pytest.mark.parametrize("order", [PAGES, PAGES[::-1], [p for pair in itertools.pairwise(PAGES) for p in pair]])
def test_pages_in_any_order_never_change_the_active_run(two_runs, monkeypatch, order):
    monkeypatch.setenv("STUDIO_WORKSPACE", str(two_runs))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert at.sidebar.selectbox(key="run").value == 2  # the newest run, for a new session
    for page in order:
        _visit(at, page)
        assert at.session_state["run"] == 2, f"opening {page} switched the active run"
        assert at.sidebar.selectbox(key="run").value == 2


def test_the_user_switches_it_on_the_sidebar_and_with_make_active(two_runs, monkeypatch):
    monkeypatch.setenv("STUDIO_WORKSPACE", str(two_runs))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.sidebar.selectbox(key="run").set_value(1).run()
    for page in ("home", "optimize", "runs"):
        _visit(at, page)
        assert at.session_state["run"] == 1
    # on Runs, the details picker shows another run without switching; its button makes it active
    at.selectbox[0].set_value(2).run()
    assert at.session_state["run"] == 1
    next(b for b in at.button if b.label == "Make run 2 active").click().run()
    at.run()
    assert at.sidebar.selectbox(key="run").value == 2
