"""What this machine is, read from it: CPU model and ISA flags, what OpenVINO reports, the library versions.

Every benchmark table and report card prints these, because the same IR is faster or slower on another CPU
(INT8 needs VNNI or AMX to pay off; BF16 is OpenVINO's default only where the CPU has it).
"""

from __future__ import annotations

import functools
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

import psutil

ISA = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "avx_vnni", "amx_bf16", "amx_int8", "amx_tile")
PACKAGES = ("torch", "torchvision", "openvino", "nncf", "torch-pruning", "datumaro", "streamlit", "altair")


def _cpu_text() -> str:
    try:
        return subprocess.run(["lscpu"], capture_output=True, text=True, check=False, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


@functools.cache  # the CPU does not change while the process runs; pages ask on every rerun
def _model_and_flags() -> tuple[str, frozenset[str]]:
    """The CPU's model name and flags (lscpu, else /proc/cpuinfo)."""
    text = _cpu_text()
    model = re.search(r"Model name:\s*(.+)", text)
    flags_line = re.search(r"Flags:\s*(.+)", text)
    if not flags_line and Path("/proc/cpuinfo").is_file():
        info = Path("/proc/cpuinfo").read_text(errors="replace")
        model = model or re.search(r"model name\s*:\s*(.+)", info)
        flags_line = re.search(r"flags\s*:\s*(.+)", info)
    flags = frozenset(flags_line.group(1).split()) if flags_line else frozenset()
    return (model.group(1).strip() if model else platform.processor() or "unknown"), flags


def cpu_model() -> str:
    """The CPU's model name (no OpenVINO needed)."""
    return _model_and_flags()[0]


def isa() -> list[str]:
    """The ISA flags of :data:`ISA` this CPU has (no OpenVINO needed)."""
    return [f for f in ISA if f in _model_and_flags()[1]]


def cpu_facts() -> dict:
    """The CPU's model name and the ISA flags that decide INT8/BF16 speed (lscpu, else /proc/cpuinfo), and what
    OpenVINO's CPU plugin reports (capabilities and its default inference precision)."""
    import openvino as ov

    model, flags = _model_and_flags()
    core = ov.Core()
    return {
        "cpu_model": model,
        "cores": psutil.cpu_count(),
        "isa": [f for f in ISA if f in flags],
        "openvino": ov.get_version(),
        "full_device_name": core.get_property("CPU", "FULL_DEVICE_NAME"),
        "optimization_capabilities": list(core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")),
        "default_inference_precision": core.get_property("CPU", "INFERENCE_PRECISION_HINT").get_type_name(),
    }


def versions() -> dict[str, str]:
    """Python and the installed versions of the libraries the results depend on."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out
