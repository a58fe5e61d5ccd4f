"""One active run per browser session, changed only by the user: pages opened in any order never switch it,
not even Home beside an old sample-project job of another session (the bug: Home set it back to run 1)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import engine
from engine.store import Database
from tests.conftest import ROOT, wait_for

pytestmark = pytest.mark.e2e

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


@pytest.mark.parametrize("order", [PAGES, PAGES[::-1]], ids=["forward", "backward"])
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


def test_an_import_finishing_selects_the_new_dataset_and_says_so(tiny_imagenet, tmp_path, monkeypatch):
    """The Data page after this session's import job ends: a success line with what was imported, and the new
    dataset shown (not the one that was there before)."""
    import shutil

    ws = tmp_path / "ws"
    monkeypatch.setenv("STUDIO_WORKSPACE", str(ws))
    engine.import_dataset(str(tiny_imagenet), workspace=ws)  # dataset 1: what the page showed before
    second = tmp_path / "my-photos"
    shutil.copytree(tiny_imagenet, second)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    _visit(at, "data")
    assert at.selectbox(key="data_dataset").value == 1
    at.segmented_control[0].set_value("Folder on the server").run()
    next(t for t in at.text_input if t.label == "Folder path").input(str(second)).run()
    next(b for b in at.button if b.label == "Import").click().run()
    job = next(j for j in reversed(engine.list_jobs()) if j["verb"] == "import_dataset")
    assert wait_for(job["id"], ("completed", "failed"))["status"] == "completed"
    said = []
    for _ in range(4):  # the page's poll sees the job end, selects its dataset and reruns once with the note
        at.run()
        said += [m.value for m in at.success if m.value.startswith("Imported dataset")]
        if said:
            break
    assert said and said[0].startswith("Imported dataset 2 · my-photos:"), said
    assert at.selectbox(key="data_dataset").value == 2
