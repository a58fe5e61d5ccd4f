"""The measured zoo table as the product reads it: a CPU's ISA tier, INT8 gains said only for the same tier, and
the verdict's explanation."""

from __future__ import annotations

import pytest

from engine.models import zoo

AMX = {
    "machine": {"cpu_model": "Xeon", "isa": ["avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_int8"]},
    "rows": [
        {"task": "classification", "arch": "mobilenet_v3_small", "int8_vs_fp32_default": 0.97, "size": 224},
        {"task": "classification", "arch": "resnet18", "int8_vs_fp32_default": 1.97, "size": 224},
        {"task": "detection", "arch": "retinanet_resnet18_fpn", "int8_vs_fp32_default": 1.92, "size": 320},
    ],
}
AVX2 = {
    "machine": {"cpu_model": "EPYC", "isa": ["avx2"]},
    "rows": [{"task": "classification", "arch": "resnet18", "int8_vs_fp32_default": 1.25, "size": 224}],
}


@pytest.fixture
def table(monkeypatch):
    monkeypatch.setattr(zoo, "tables", lambda: [AMX])


def test_tiers():
    assert zoo.tier(["avx2", "amx_int8", "avx512_vnni"]) == "AMX"
    assert zoo.tier(["avx2", "avx512_vnni", "avx512_bf16"]) == "AVX-512 VNNI + BF16"
    assert zoo.tier(["avx2"]) == "AVX2" and zoo.tier([]) == "no AVX2"


def test_gains_hold_here_only_on_a_cpu_of_the_same_tier(table):
    same = zoo.int8_gains("classification", ["avx2", "avx512_vnni", "amx_int8"])
    assert same["resnet18"].same_tier and same["resnet18"].text().startswith("INT8 pays off: 1.97x")
    other = zoo.int8_gains("classification", ["avx2"])
    assert not other["resnet18"].same_tier and "not a CPU like this one" in other["resnet18"].text()
    assert set(zoo.int8_gains("detection", ["avx2"])) == {"retinanet_resnet18_fpn"}


def test_the_explanation_names_the_tier_and_a_better_architecture(table):
    avx2 = zoo.explain("classification", "mobilenet_v3_small", ["avx2"])
    assert "AVX2 without VNNI or AMX" in avx2 and "on Xeon" in avx2 and "resnet18 gains" not in avx2
    amx = zoo.explain("classification", "mobilenet_v3_small", ["avx2", "amx_int8", "avx512_vnni", "avx512_bf16"])
    assert "bf16 by default" in amx and "resnet18 gains 1.97x here" in amx


def test_each_cpu_reads_the_table_of_its_own_tier(monkeypatch):
    monkeypatch.setattr(zoo, "tables", lambda: [AMX, AVX2])
    assert zoo.int8_gains("classification", ["avx2"])["resnet18"].speedup == 1.25  # not the first table's 1.97
    assert zoo.int8_gains("classification", ["avx2"])["resnet18"].same_tier
    amx = zoo.int8_gains("classification", ["avx2", "avx512_vnni", "avx512_bf16", "amx_int8"])
    assert amx["resnet18"].speedup == 1.97 and amx["resnet18"].same_tier
    vnni = zoo.int8_gains("classification", ["avx2", "avx512_vnni"])  # no table of its tier: the first, not claimed
    assert vnni["resnet18"].speedup == 1.97 and not vnni["resnet18"].same_tier


def test_the_committed_file_holds_one_table_per_tier():
    zoo.tables.cache_clear()
    tables = zoo.tables()
    tiers = [zoo.tier(t["machine"]["isa"]) for t in tables]
    assert tables and len(set(tiers)) == len(tiers), tiers
    assert all(t["rows"] and {"task", "arch", "size", "int8_vs_fp32_default"} <= set(t["rows"][0]) for t in tables)
