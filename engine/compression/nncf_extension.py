"""NNCF's C++ quantization extension, which QAT's fake-quantizers run on.

NNCF compiles it (g++, ninja) the first time a quantizer runs on a machine and gives that 60 s, after which it
raises ``ExtensionLoaderTimeoutException``; on a 2-core machine with a busy neighbour the compile takes longer.
Here it gets a timeout that suits such a machine (``$NNCF_EXTENSION_LOAD_TIMEOUT`` wins when set), is built
ahead where it can be (``python -m engine.compression.nncf_extension``: the test script and the Dockerfile
run it), and a timeout becomes one line saying what to do, for the QAT variant alone. Where no compiler
exists NNCF itself falls back to its reference (pure torch) quantizers: slower fine-tuning, same results.
"""

from __future__ import annotations

import logging
import os
import sys
import time

from engine.errors import StudioError

log = logging.getLogger(__name__)

TIMEOUT_ENV = "NNCF_EXTENSION_LOAD_TIMEOUT"
TIMEOUT_S = 900  # a first compile on 2 busy cores (NNCF's own default: 60 s)


class ExtensionTimeout(StudioError):
    """NNCF's extension did not compile and load in time."""


def ensure_loaded() -> float:
    """Compile (first use) and load the CPU extension; the seconds it took. Raises :class:`ExtensionTimeout`."""
    os.environ.setdefault(TIMEOUT_ENV, str(TIMEOUT_S))
    from nncf.torch.extensions import ExtensionLoaderTimeoutException
    from nncf.torch.quantization.extensions import QuantizedFunctionsCPU, QuantizedFunctionsCPULoader

    began = time.perf_counter()
    log.info("NNCF: loading its C++ quantization extension (the first use on a machine compiles it: 1-3 min)")
    try:
        QuantizedFunctionsCPU.get("Quantize_forward")
    except ExtensionLoaderTimeoutException:
        folder = QuantizedFunctionsCPULoader.get_build_dir()
        msg = (
            f"NNCF's C++ extension for QAT did not compile within {os.environ[TIMEOUT_ENV]} s (a busy machine, or a"
            f" lock left by an interrupted build): remove {folder} and run"
            f" `python -m engine.compression.nncf_extension` once, or raise ${TIMEOUT_ENV}; the other variants are"
            " not affected"
        )
        raise ExtensionTimeout(msg) from None
    took = time.perf_counter() - began
    log.info("NNCF: extension ready in %.1f s", took)
    return took


def main() -> int:
    """Build ahead (install time, image build): ``python -m engine.compression.nncf_extension``."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        took = ensure_loaded()
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"NNCF's quantization extension is ready ({took:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
