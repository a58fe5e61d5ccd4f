"""OpenVINO's and NNCF's usage telemetry: off unless the user opted in to it.

OpenVINO collects anonymous usage data by default ("OpenVINO Telemetry", docs.openvino.ai): with no consent file
(``~/intel/openvino_telemetry``), ``openvino.convert_model`` and NNCF post Google Analytics events, and on Linux
each event forks the calling process to post it (``openvino_telemetry.backend.backend_ga4``: a hung ``urlopen``
offline must not block the caller). In a process that holds PyTorch that fork is expensive: probing two
candidates of a search forked 131 times and took 39-47 CPU seconds, 26-32 without (2-core AMD EPYC). A booth or
an air-gapped line should not try to reach Google either.

So every engine process treats a missing consent file as "declined". A user who ran ``opt_in_out --opt_in`` has
a consent file saying so, and that choice is kept; ``opt_in_out --opt_out`` is kept too.

The consent checker is patched when it is first imported (a finder on ``sys.meta_path``), so the CLI's light
verbs, which never load OpenVINO, do not import it.
"""

from __future__ import annotations

import importlib.abc
import sys
from types import ModuleType

CHECKER = "openvino_telemetry.utils.opt_in_checker"


def decline_unless_opted_in() -> None:
    """Install the patch: now if the checker is loaded, else when it is."""
    if CHECKER in sys.modules:
        _decline(sys.modules[CHECKER])
    elif not any(isinstance(finder, _PatchOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())


def _decline(checker: ModuleType) -> None:
    """A missing consent file (OpenVINO's default "yes") reads as declined; a file's own answer stands."""
    cls, result = checker.OptInChecker, checker.ConsentCheckResult
    if getattr(cls.check, "declines_by_default", False):
        return
    original = cls.check

    def check(self, *args, **kwargs):
        answer = original(self, *args, **kwargs)
        return result.DECLINED if answer == result.NO_FILE else answer

    check.declines_by_default = True
    cls.check = check


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: it lets the other finders locate the consent checker, then patches the module right
    after it runs."""

    def find_spec(self, fullname, path, target=None):
        if fullname != CHECKER:
            return None
        for finder in sys.meta_path:
            spec = None if finder is self else getattr(finder, "find_spec", lambda *a: None)(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader.exec_module = _then_decline(spec.loader.exec_module)
                return spec
        return None


def _then_decline(exec_module):
    def run_then_decline(module: ModuleType) -> None:
        exec_module(module)
        _decline(module)

    return run_then_decline
