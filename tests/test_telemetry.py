"""OpenVINO's and NNCF's usage telemetry: off in every engine process unless the user opted in
(``engine/telemetry.py``). Each check runs in a fresh process with its own home folder (where the consent file
lives) and without pytest loaded (NNCF turns its own telemetry off under pytest)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

CONSENT = """
import json, sys
{before}
import openvino_telemetry as tm
{after}
t = tm.Telemetry(app_name="probe", app_version="0", tid="G-NONE", backend="ga4", enable_opt_in_dialog=False)
print(json.dumps({{"consent": t.consent}}))
"""

CONVERT_AND_QUANTIZE = """
import json, os, sys
forks = []
sys.addaudithook(lambda event, args: forks.append(event) if event in ("os.fork", "os.posix_spawn") else None)
import engine
import nncf, numpy as np, openvino as ov, torch
model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Conv2d(8, 4, 3)).eval()
ir = ov.convert_model(model, example_input=torch.zeros(1, 3, 16, 16), input=[1, 3, 16, 16])
data = nncf.Dataset([np.random.default_rng(i).random((1, 3, 16, 16), dtype=np.float32) for i in range(4)])
quantized = nncf.quantize(ir, data, subset_size=4)
print(json.dumps({"forks": len(forks), "fake_quantize": sum(op.get_type_name() == "FakeQuantize"
                                                           for op in quantized.get_ops())}))
"""


def _run(code: str, home, timeout: float = 120) -> dict:
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(ROOT)}
    for name in ("CI", "TF_BUILD", "JENKINS_URL"):  # the library's own CI switch must not decide the answer
        env.pop(name, None)
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=home, capture_output=True, text=True,
                          timeout=timeout, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _consent(home, *, before: str = "", after: str = "") -> bool:
    return _run(CONSENT.format(before=before, after=after), home)["consent"]


def test_with_no_consent_file_engine_processes_send_nothing_and_an_explicit_answer_stands(tmp_path):
    assert _consent(tmp_path / "plain") is True  # OpenVINO's own default: no file, telemetry on
    assert _consent(tmp_path / "engine", before="import engine") is False
    assert _consent(tmp_path / "late", after="import engine") is False  # checker already loaded: patched in place
    for answer, consent in (("1", True), ("0", False)):  # `opt_in_out --opt_in` / `--opt_out`
        home = tmp_path / f"answered-{answer}"
        (home / "intel").mkdir(parents=True)
        (home / "intel" / "openvino_telemetry").write_text(answer)
        assert _consent(home, before="import engine") is consent
    assert not (tmp_path / "engine" / "intel" / "openvino_telemetry").exists()  # no consent file written for them


@pytest.mark.e2e  # loads PyTorch, OpenVINO and NNCF in a fresh process
def test_converting_and_quantizing_in_an_engine_process_forks_nothing(tmp_path):
    """Each telemetry event forked the process to post it: 131 forks while a search probed two candidates."""
    result = _run(CONVERT_AND_QUANTIZE, tmp_path)
    assert result["fake_quantize"] > 0  # the work really ran
    assert result["forks"] == 0
