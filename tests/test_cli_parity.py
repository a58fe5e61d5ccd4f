"""The CLI is the facade: every verb has a subcommand with the same parameters and defaults."""

from __future__ import annotations

import argparse
import inspect
from dataclasses import fields

import pytest

import engine
from engine import cli
from engine.training.config import TrainConfig
from tests.conftest import ROOT


def _subparser(parser: argparse.ArgumentParser, words: tuple[str, ...]) -> argparse.ArgumentParser:
    for word in words:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[word]
    return parser


def _cli_params(sub: argparse.ArgumentParser) -> dict[str, object]:
    skip = {"help", "workspace", "json"}
    return {a.dest: a.default for a in sub._actions if a.dest not in skip and not a.dest.startswith("_")}


def _verb_params(fn) -> dict[str, object]:
    out = {}
    for p in inspect.signature(fn).parameters.values():
        if p.name in cli.PYTHON_ONLY:
            continue
        default = None if p.default is inspect.Parameter.empty else p.default
        out[p.name] = list(default) if isinstance(default, tuple) else default
    return out


def test_every_verb_has_exactly_one_cli_twin():
    named = [c.verb for c in cli.COMMANDS]
    assert sorted(named) == sorted(engine.VERBS), "a facade verb has no CLI subcommand (or one has no verb)"
    assert len(set(named)) == len(named)


@pytest.mark.parametrize("command", cli.COMMANDS, ids=lambda c: " ".join(c.words))
def test_cli_parameters_and_defaults_equal_the_verbs(command):
    sub = _subparser(cli.build_parser(), command.words)
    assert _cli_params(sub) == _verb_params(engine.VERBS[command.verb])
    accepts_workspace = "workspace" in inspect.signature(engine.VERBS[command.verb]).parameters
    assert accepts_workspace or command.verb in (
        "sample",
        "devices",
        "list_formats",
        "list_weights",
        "import_weights",
        "fetch_weights",
    )  # no workspace involved


def test_train_exposes_every_training_setting():
    settings = {f.name for f in fields(TrainConfig)} - {"chosen"}  # chosen: recorded by resolved(), not a setting
    assert settings <= set(inspect.signature(engine.train).parameters)


def test_lines_parse_into_typed_values():
    parser = cli.build_parser()
    args = parser.parse_args(["benchmark", "3", "--device", "CPU,AUTO", "--precisions", "default,f32", "--time", "2"])
    assert (args.run, args.devices, args.precisions, args.seconds) == (3, ["CPU", "AUTO"], ["default", "f32"], 2.0)
    args = parser.parse_args(["jobs", "submit", "train", '{"dataset": 1}', "--title", "t"])
    assert (args._verb, args.verb, args.kwargs, args.title) == ("submit_job", "train", {"dataset": 1}, "t")
    args = parser.parse_args(["train", "--dataset", "1", "--weight-decay", "0.1", "--warmup", "0.2", "--no-pretrained"])
    assert (args.dataset, args.weight_decay, args.warmup, args.pretrained) == (1, 0.1, 0.2, False)
    args = parser.parse_args(["predict", "2", "a.png", "b.png", "--variant", "fp16"])
    assert (args.run, args.images, args.variant) == (2, ["a.png", "b.png"], "fp16")
    args = parser.parse_args(["compare", "1", "torch-fp32", "int8"])
    assert (args.run, args.a, args.b, args.split) == (1, "torch-fp32", "int8", "test")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (["train", "--dataset", "1", "--epochs", "many"], "invalid int value: 'many'"),
        (["jobs", "submit", "train", "[1]"], "expected a JSON object"),
        (["demo", "--task", "pose"], "invalid choice: 'pose'"),
        (["evaluate", "1", "--variant", "int4"], "invalid choice: 'int4'"),
    ],
)
def test_bad_lines_exit_2_naming_the_problem(line, expected, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.build_parser().parse_args(line)
    assert stop.value.code == 2 and expected in capsys.readouterr().err


def _pipeline_calls() -> list[tuple[str, object, object]]:
    """(where, facade function, pipeline function) for every call a facade verb makes into a pipeline module
    (the ``lazy.module("engine.pipeline...")`` names of engine/api*.py)."""
    import ast
    import importlib

    calls = []
    for path in sorted((ROOT / "engine").glob("api*.py")):
        tree = ast.parse(path.read_text())
        lazy = {
            node.targets[0].id: node.value.args[0].value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and ast.unparse(node.value.func) == "lazy.module"
        }
        facade = importlib.import_module(f"engine.{path.stem}")
        for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
            for call in ast.walk(fn):
                func = call.func if isinstance(call, ast.Call) else None
                if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in lazy:
                    target = getattr(importlib.import_module(lazy[func.value.id]), func.attr)
                    calls.append((f"{path.name}:{fn.name} -> {func.attr}", getattr(facade, fn.name), target))
    return calls


def test_the_facade_and_the_pipeline_agree_on_every_shared_default():
    """A verb's keyword written in the facade and again in the pipeline function it calls has one default."""
    calls, shared, differ = _pipeline_calls(), 0, []
    for where, facade, target in calls:
        inner = inspect.signature(target).parameters
        for p in inspect.signature(facade).parameters.values():
            q = inner.get(p.name)
            if q is None or inspect.Parameter.empty in (p.default, q.default):
                continue
            shared += 1
            if p.default != q.default:
                differ.append(f"{where}: {p.name}={p.default!r} vs {q.default!r}")
    assert len(calls) >= 10 and shared >= 40, (len(calls), shared)  # the walk finds the verbs' calls
    assert differ == []
