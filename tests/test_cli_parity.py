"""The CLI is the facade: every verb has a subcommand with the same parameters and defaults."""

from __future__ import annotations

import argparse
import inspect
from dataclasses import fields

import pytest

import engine
from engine import cli
from engine.training.config import TrainConfig


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
