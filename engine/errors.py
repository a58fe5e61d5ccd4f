"""User-facing errors.

A :class:`StudioError` is a problem the user can fix (a wrong path, an unknown model name, an empty
dataset). Its message says what is wrong, what is valid and how to fix it. The CLI prints it as one
line and exits with status 2. Anything else is caught by the error boundary (``engine.failures``) of the
CLI and of the dashboard's frame: one line for the user, the traceback in the workspace's error log.
"""

import math
import signal


class StudioError(Exception):
    """A problem with the user's input or workspace, explained in one actionable sentence."""


def choice_error(what: str, value: object, valid: list[str] | tuple[str, ...]) -> StudioError:
    """Build the standard 'unknown X' error that lists the valid options."""
    msg = f"unknown {what} {value!r}; valid: {', '.join(valid)}"
    return StudioError(msg)


def check_settings(rules: list[tuple[str, object, bool, str]]) -> None:
    """Refuse the first setting that breaks its rule, naming the flag, the value given and what is valid:
    ``rules`` are ``(flag, value, ok, what is valid)``. NaN breaks every comparison, so it is refused too."""
    for flag, value, ok, valid in rules:
        if not ok:
            msg = f"{flag} must be {valid}, got {value}"
            raise StudioError(msg)


def finite(value: float | None) -> bool:
    """True for None (not given) and finite numbers; False for NaN and infinities."""
    return value is None or math.isfinite(value)


class Cancelled(BaseException):
    """Raised in a job process on SIGTERM (or SIGINT). A BaseException, so library code that catches
    ``Exception`` (Datumaro wraps import errors, for one) cannot turn a cancellation into a failure.

    ``exit_code`` is the shell's convention for a process stopped by that signal (143, 130)."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum
