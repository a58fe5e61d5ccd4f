"""The error boundaries and guards that need no trained model: the page frame, run ownership, the workspace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.errors import StudioError
from engine.store import Workspace, lock
from tests.conftest import ROOT


def test_a_damaged_database_is_one_line_on_every_page_not_a_traceback(tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "studio.db").write_bytes(b"not a database" * 50)
    monkeypatch.setenv("STUDIO_WORKSPACE", str(ws))
    for page in ("home", "data", "runs"):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        if page != "home":
            at.switch_page(f"app_pages/{page}.py")
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        messages = [e.value for e in at.error]
        assert messages and all("\n" not in m for m in messages)
        assert any("workspace repair" in m for m in messages), messages


def test_a_bug_in_a_page_is_one_line_and_its_traceback_is_logged(tmp_path, monkeypatch):
    import engine

    ws = tmp_path / "ws"
    Workspace.open(ws)
    monkeypatch.setenv("STUDIO_WORKSPACE", str(ws))

    def broken(**kwargs):
        raise KeyError("planted")

    monkeypatch.setattr(engine, "list_runs", broken)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("app_pages/runs.py")
    at.run()
    assert not at.exception
    assert any("internal error (KeyError: 'planted')" in e.value for e in at.error)
    assert "planted" in (ws / "logs" / "errors.log").read_text()


def test_a_run_has_one_owner_and_a_released_lock_has_none(tmp_path):
    folder = tmp_path / "run"
    assert lock.owner(folder) is None
    with lock.hold(folder, "run 1"):
        owner = lock.owner(folder)
        assert owner["pid"] == os.getpid()
        with pytest.raises(StudioError, match=f"run 1 is in use by process {os.getpid()}"), lock.hold(folder, "run 1"):
            pass
    assert lock.owner(folder) is None
    with lock.hold(folder, "run 1"):  # free again
        pass


_OWNER_THAT_FORKS = """
import os, sys, time
from pathlib import Path
from engine.store import lock
with lock.hold(Path(sys.argv[1]), "search 1"):
    if os.fork() == 0:  # a forked child holds the lock until it execs or exits (a DataLoader worker)
        time.sleep(60)
        os._exit(0)
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_killed_owners_forked_child_does_not_keep_the_lock_owned(tmp_path):
    """A search killed during its probe read "running" until the probe's last forked child exited: the kernel's
    lock outlives the owner in that child. A lock whose recorded owner has ended is free; taking it waits for the
    child."""
    import fcntl
    import signal
    import subprocess
    import sys
    import threading
    import time

    import psutil

    folder = tmp_path / "search"
    proc = subprocess.Popen([sys.executable, "-c", _OWNER_THAT_FORKS, str(folder)], cwd=ROOT, stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"held"
    (child,) = psutil.Process(proc.pid).children()
    try:
        assert lock.owner(folder)["pid"] == proc.pid  # alive: owned
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        fd = os.open(folder / lock.LOCK_NAME, os.O_RDONLY)
        with pytest.raises(BlockingIOError):  # the child still holds the kernel's lock ...
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        os.close(fd)
        assert lock.owner(folder) is None  # ... but its owner is gone: nobody owns the folder
        threading.Timer(1.0, child.kill).start()
        began = time.monotonic()
        with lock.hold(folder, "search 1"):  # taking it waits for the child to exit, then it is ours
            assert lock.owner(folder)["pid"] == os.getpid()
        assert 0.9 < time.monotonic() - began < 10
    finally:
        proc.kill()
        if child.is_running():
            child.kill()


def test_a_read_only_workspace_is_refused_with_the_fix(tmp_path, monkeypatch):
    real = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == tmp_path and mode == os.W_OK else real(p, mode)
    )
    with pytest.raises(StudioError, match="not writable"):
        Workspace.open(tmp_path)
