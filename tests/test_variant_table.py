"""A variant is one module: its row, its build and its settings. Every option a variant module declares reaches
the facade's ``optimize``, the CLI (flag, default, help, choices), the check before any work and the Optimize
page's form; a new settings class does so with no other edit."""

from __future__ import annotations

import argparse
import inspect
import typing
from dataclasses import dataclass

import pytest

import engine
from engine import cli
from engine.errors import StudioError
from engine.export import variants
from engine.export.variants import SETTINGS, VARIANTS, Pruning, QATSettings, VariantSettings, with_settings
from engine.export.variants.base import option


def _optimize_parser() -> argparse.ArgumentParser:
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices["optimize"]


def test_each_variant_lives_in_its_own_module_named_after_it():
    for name, variant in VARIANTS.items():
        module = next(m for m in variants._MODULES if m.VARIANT is variant)
        assert module.__name__.rsplit(".", 1)[-1] == name.replace("-", "_")
        assert variant.settings is None or variant.settings in SETTINGS


def test_every_option_reaches_the_facade_the_cli_and_the_page():
    parser = _optimize_parser()
    actions = {a.dest: a for a in parser._actions}
    signature = inspect.signature(engine.optimize).parameters
    hints = typing.get_type_hints(engine.optimize)
    forms = {o["parameter"]: o for form in engine.variant_options() for o in form["options"]}
    declared = [o for kind in SETTINGS for o in kind.options()]
    assert {o.parameter for o in declared} >= {"prune_ratio", "prune_importance", "qat_epochs", "qat_lr"}
    for o in declared:
        parameter = signature[o.parameter]
        assert parameter.default == o.default and parameter.kind is inspect.Parameter.KEYWORD_ONLY
        assert o.type in typing.get_args(hints[o.parameter]) or hints[o.parameter] is o.type
        action = actions[o.parameter]
        assert action.option_strings == [o.flag] and action.default == o.default and action.help == o.help
        assert (list(action.choices) if action.choices else None) == (list(o.choices) if o.choices else None)
        assert forms[o.parameter]["label"] == o.label and forms[o.parameter]["default"] == o.default
    titles = {form["title"]: form["variants"] for form in engine.variant_options()}
    assert titles == {"Quantization-aware training": ["int8-qat"], "Structured pruning": ["pruned", "pruned-int8"]}


def test_a_bad_option_is_refused_naming_its_flag_and_what_is_valid():
    with pytest.raises(StudioError, match=r"--prune-ratio must be between 0 and 1 \(the share of channels removed\)"):
        Pruning(ratio=1.5).check()
    with pytest.raises(StudioError, match="--qat-lr must be a learning rate between 0 and 1, got nan"):
        QATSettings(lr=float("nan")).check()
    with pytest.raises(StudioError, match="--prune-importance"):
        Pruning(importance="random").check()
    resolved = QATSettings().resolved({"lr": 0.01, "batch_size": 16}, calib_size=64, seed=3)
    assert (resolved.lr, resolved.batch_size, resolved.calib_size, resolved.seed) == (0.001, 16, 64, 3)
    with pytest.raises(TypeError, match="unexpected keyword argument 'prune_ratoi'"):
        engine.optimize(1, prune_ratoi=0.5)


def test_a_new_settings_class_needs_no_other_edit(monkeypatch):
    """What a new variant module with settings gets for free: a facade parameter, a flag with its help."""

    @dataclass(frozen=True)
    class Toy(VariantSettings):
        title = "Toy"

        level: int = option(2, "toy_level", "Level", "toy: how hard to try", valid=lambda v: v >= 1, need="at least 1")

    monkeypatch.setattr(variants, "SETTINGS", (*SETTINGS, Toy))

    def verb(run: int, *, workspace: str | None = None, **settings: typing.Any) -> dict:
        return variants.settings_from(settings)

    verb = with_settings(verb)
    assert list(inspect.signature(verb).parameters)[-2:] == ["toy_level", "workspace"]
    assert typing.get_type_hints(verb)["toy_level"] is int
    assert verb(1, toy_level=5)[Toy] == Toy(level=5)
    with pytest.raises(StudioError, match="--toy-level must be at least 1, got 0"):
        Toy(level=0).check()
