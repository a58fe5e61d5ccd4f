"""``python -m engine``: every facade verb (``engine.VERBS``) as a subcommand, generated from its signature.

``COMMANDS`` (engine/cli_commands.py) names the subcommand of each verb; parameters, types and defaults come
from the verb itself, so the CLI cannot drift from the Python API (``tests/test_cli_parity.py`` checks it).
Positional parameters become arguments, keyword-only ones ``--flags``; sequences are comma lists; bools are
``--x/--no-x``.

Every failure goes through one error boundary (``engine.failures``): one line on stderr saying what is wrong
and how to fix it, exit status 2 for bad input or a workspace fault, 1 for a bug (its traceback goes to
``<workspace>/logs/errors.log``), 130/143 for Ctrl-C/SIGTERM (what finished is saved; the same command
resumes). ``--json`` prints the verb's result as one JSON object on the last line of stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import logging
import sys
import types
import typing
import warnings
from collections.abc import Callable, Sequence

from engine.cli_commands import COMMANDS, HELP, INTERNAL, PYTHON_ONLY, Command
from engine.errors import Cancelled
from engine.failures import report
from engine.status import RunStatus


def _choices() -> dict[str, list[str]]:
    from engine.api import JOB_VERBS
    from engine.choices import CALIBRATION_SPLITS, HINTS, SPLITS
    from engine.export.variants import SETTINGS, VARIANTS
    from engine.tasks import TASK_NAMES

    return {
        "task": list(TASK_NAMES),
        "variant": list(VARIANTS),
        "a": list(VARIANTS),
        "b": list(VARIANTS),
        "hint": list(HINTS),
        "split": list(SPLITS),
        "verb": list(JOB_VERBS),
        **{o.parameter: list(o.choices) for kind in SETTINGS for o in kind.options() if o.choices},
        "calib_split": list(CALIBRATION_SPLITS),
    }


def comma_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _typed_list(element: type) -> Callable[[str], list]:
    """A comma list whose items are converted to the sequence's declared element type (int, float, str)."""
    if element not in (int, float):
        return comma_list

    def parse(text: str) -> list:
        try:
            return [element(part) for part in comma_list(text)]
        except ValueError:
            msg = f"expected comma-separated {element.__name__} values, e.g. 16,64,300; got {text!r}"
            raise argparse.ArgumentTypeError(msg) from None

    parse.__name__ = f"{element.__name__} list"
    return parse


def json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"expected a JSON object, e.g. '{{\"dataset\": 1}}' ({exc})"
        raise argparse.ArgumentTypeError(msg) from None
    if not isinstance(value, dict):
        msg = f"expected a JSON object, e.g. '{{\"dataset\": 1}}', not {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _base(annotation) -> object:
    """``int | None`` -> int; ``str | Path | None`` -> str."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0]
    return annotation


def parameters(fn: Callable) -> list[inspect.Parameter]:
    """The verb's parameters the CLI exposes, with annotations resolved."""
    hints = typing.get_type_hints(fn)
    return [
        p.replace(annotation=hints.get(p.name))
        for p in inspect.signature(fn).parameters.values()
        if p.name not in PYTHON_ONLY
    ]


def _option_help(name: str) -> str:
    """A variant option's help, from the variant's module (engine/export/variants/)."""
    from engine.export.variants import SETTINGS

    return next((o.help for kind in SETTINGS for o in kind.options() if o.parameter == name), "")


def _add(parser: argparse.ArgumentParser, p: inspect.Parameter, command: Command, choices: dict) -> None:
    kind = _base(p.annotation)
    kwargs: dict = {"help": command.helps.get(p.name, HELP.get(p.name, "")) or _option_help(p.name)}
    sequence = typing.get_origin(kind) in (Sequence, list, tuple)
    choices = {**choices, **command.choices}
    if p.name in choices and not sequence:
        kwargs["choices"] = list(choices[p.name])
    if kind is bool:
        kwargs["action"] = argparse.BooleanOptionalAction
    elif sequence:
        kwargs["type"] = _typed_list(typing.get_args(kind)[0] if typing.get_args(kind) else str)
    elif kind is dict:
        kwargs["type"] = json_object
    elif kind in (int, float):
        kwargs["type"] = kind
    has_default = p.default is not inspect.Parameter.empty
    default = list(p.default) if isinstance(p.default, tuple) else p.default
    positional = p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and p.name not in command.options
    if positional:
        if sequence:  # a positional list: space-separated, one or more
            kwargs.update(type=str, nargs="+")
        elif has_default:
            kwargs.update(nargs="?", default=default)
        parser.add_argument(p.name, metavar=p.name.upper(), **kwargs)
        return
    flags = [f"--{p.name.replace('_', '-')}", *command.aliases.get(p.name, ())]
    if has_default:
        kwargs["default"] = default
    else:
        kwargs["required"] = True
    parser.add_argument(*flags, dest=p.name, **kwargs)


class Parser(argparse.ArgumentParser):
    """argparse, with its refusals as one line (what is wrong, where the help is) instead of usage + error."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"error: {message}; see `{self.prog} --help`\n")


def build_parser() -> argparse.ArgumentParser:
    import engine
    from engine.export.variants import help_text

    choices = _choices()
    parser = Parser(prog="python -m engine", description="Edge Model Studio engine")
    groups: dict[tuple[str, ...], argparse._SubParsersAction] = {
        (): parser.add_subparsers(dest="_command", required=True, metavar="COMMAND")
    }
    for command in (*COMMANDS, *(Command(w, "", "") for w in INTERNAL)):
        *head, last = command.words
        for depth in range(1, len(head) + 1):
            key = tuple(head[:depth])
            if key not in groups:
                group = groups[key[:-1]].add_parser(key[-1], help=f"{key[-1]} commands")
                groups[key] = group.add_subparsers(dest=f"_{'_'.join(key)}", required=True, metavar="COMMAND")
        description = help_text() if command.verb == "optimize" else None
        sub = groups[tuple(head)].add_parser(last, help=command.help or argparse.SUPPRESS, description=description)
        if command.verb:
            for p in parameters(engine.VERBS[command.verb]):
                _add(sub, p, command, choices)
        else:
            sub.add_argument("job", type=int)
        sub.add_argument("--workspace", help="workspace folder (default: $STUDIO_WORKSPACE or ./workspace)")
        sub.add_argument("--json", action="store_true", help="print the result as one JSON object on the last line")
        sub.set_defaults(_words=command.words, _verb=command.verb)
    return parser


def dispatch(args: argparse.Namespace):
    """Call the verb with the parsed arguments; return (result, the verb's declared result type)."""
    import engine

    if args._words in INTERNAL:
        from engine.jobs.runner import run_job
        from engine.pipeline.context import Context

        return run_job(Context.open(args.workspace), args.job), dict
    fn = engine.VERBS[args._verb]
    kwargs = {p.name: getattr(args, p.name) for p in parameters(fn)}
    if "workspace" in inspect.signature(fn).parameters:
        kwargs["workspace"] = args.workspace
    return fn(**kwargs), typing.get_type_hints(fn).get("return")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="torch")
    for noisy in ("nncf", "datumaro"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    with _progress_log():
        try:
            result, kind = dispatch(args)
        except Cancelled as stop:  # SIGTERM in a job, or Ctrl-C: what was saved is kept
            print("cancelled: what finished is saved; run the same command again to resume", file=sys.stderr)
            return stop.exit_code
        except Exception as exc:  # the boundary: one line, and the traceback in the log when it is a bug
            explained = report(exc, _workspace_root(args), " ".join(args._words))
            print(f"error: {explained.message}", file=sys.stderr)
            return explained.exit_code
    from engine.plain_text import render

    print(render(result, kind))
    if args.json:
        print(json.dumps(result, default=str))
    if isinstance(result, dict) and result.get("status") == RunStatus.CANCELLED:  # training stopped by a signal
        print("cancelled: the last finished epoch is saved; resume with `train --resume RUN`", file=sys.stderr)
        return Cancelled(result.get("signal") or 15).exit_code
    return 0


@contextlib.contextmanager
def _progress_log():
    """The engine's INFO records on this call's stderr (progress of long verbs), removed afterwards so a
    process that calls ``main`` repeatedly (tests, the job runner) never writes into a stale stream."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    engine_log = logging.getLogger("engine")
    level, propagate = engine_log.level, engine_log.propagate
    engine_log.setLevel(logging.INFO)
    engine_log.addHandler(handler)
    engine_log.propagate = False  # a library's basicConfig on the root logger would print every line twice
    try:
        yield
    finally:
        engine_log.removeHandler(handler)
        engine_log.setLevel(level)
        engine_log.propagate = propagate


def _workspace_root(args: argparse.Namespace):
    from engine.store.workspace import resolve_root

    try:
        root = resolve_root(args.workspace)
    except Exception:
        return None
    return root if root.is_dir() else None


if __name__ == "__main__":
    sys.exit(main())
