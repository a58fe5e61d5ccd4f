"""The search's probe: candidates ordered by how fast they can run here, and skipped when they cannot beat the pick."""

from __future__ import annotations

from engine.pipeline import search_probe
from engine.pipeline.search_grid import Candidate


def _probed(arch: str, size: int, **speed: float) -> Candidate:
    candidate = Candidate(arch, size)
    search_probe._keep(candidate, {"fp32": 1.0, "int8": 1.0, "pruned": 1.0, "pruned-int8": 1.0} | speed,
                       ["int8", "int8-qat", "pruned-int8"])  # fmt: skip
    return candidate


def test_the_probe_names_the_points_the_search_will_make():
    assert search_probe.built_variants(["int8-qat"]) == ["fp32", "int8"]  # QAT's INT8 graph is INT8's
    assert search_probe.built_variants(["pruned-int8"]) == ["fp32", "pruned", "pruned-int8"]
    candidate = _probed("resnet18", 48, fp32=0.7, int8=1.4, **{"pruned": 1.1, "pruned-int8": 2.1})
    assert candidate.probe == {"fp32": 0.7, "int8": 1.4, "int8-qat": 1.4, "pruned": 1.1, "pruned-int8": 2.1}
    assert candidate.bound == 2.1


def test_candidates_that_can_run_fastest_train_first_the_reference_stays_first():
    reference = _probed("mobilenet_v3_small", 64, **{"pruned-int8": 1.3})
    slow = _probed("resnet50", 48, **{"pruned-int8": 0.9})
    fast = _probed("resnet18", 48, **{"pruned-int8": 2.1})
    unprobed = Candidate("efficientnet_b0", 48, probe_error="RuntimeError: cannot trace")
    middle = _probed("mobilenet_v2", 48, **{"pruned-int8": 1.6})
    order = search_probe.order([reference, slow, unprobed, fast, middle])
    assert [c.key for c in order] == [
        "mobilenet_v3_small@64", "resnet18@48", "mobilenet_v2@48", "resnet50@48", "efficientnet_b0@48"
    ]  # fmt: skip


def test_a_candidate_that_cannot_beat_the_pick_is_out_of_reach_and_says_why():
    pick = {"candidate": "resnet18@48", "variant": "pruned-int8", "speedup": 1.9}
    slow = _probed("mobilenet_v3_large", 48, **{"pruned-int8": 1.05})
    why = search_probe.out_of_reach(slow, pick)
    assert why.startswith("its fastest variant ran 1.05x the reference before training")
    assert "resnet18@48 pruned-int8, already runs 1.90x" in why
    close = _probed("mobilenet_v2", 48, **{"pruned-int8": 1.6})  # within the probe's noise of the pick: tried
    assert search_probe.out_of_reach(close, pick) == ""
    assert search_probe.out_of_reach(slow, None) == ""  # no pick yet
    assert search_probe.out_of_reach(Candidate("efficientnet_b0", 48), pick) == ""  # not probed: tried


def test_the_search_skips_a_candidate_out_of_reach_before_estimating_its_training():
    from engine.pipeline import searching

    pick = {"candidate": "resnet18@48", "variant": "pruned-int8", "speedup": 1.9}
    reference, slow = (
        _probed("mobilenet_v3_small", 64),
        _probed("efficientnet_b0", 64, fp32=0.5, int8=0.6, pruned=0.6, **{"pruned-int8": 0.7}),
    )
    saved = []
    state = {"pick": pick, "budget_minutes": 20.0}
    assert not searching._worth_training(None, state, slow, [reference, slow], lambda: saved.append(slow.status))
    assert slow.status == "skipped" and slow.error.startswith("its fastest variant ran 0.70x") and saved == ["skipped"]
    assert slow.estimate_s is None  # nothing was spent estimating a candidate that cannot win
