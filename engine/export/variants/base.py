"""What a variant module defines: its :class:`Variant` row (name, precision, backend, how it is made, the build
function) and, when it has settings, a frozen :class:`VariantSettings` dataclass whose fields carry their
facade parameter, help, check and Optimize-page bounds (:func:`option`). The facade's ``optimize``, the CLI's
flags and help, the check before any work and the Optimize page's form are all read from these."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from engine.errors import check_settings, choice_error, finite
from engine.status import Backend

if TYPE_CHECKING:
    from pathlib import Path

    import openvino as ov
    import torch

    from engine.tasks.base import Task

Built = tuple["ov.Model", bool]  # (the IR to save, whether to compress its weights to FP16)


def option(
    default: Any,
    parameter: str,
    label: str,
    help: str,
    *,
    valid: Callable[[Any], bool] | None = None,
    need: str = "",
    choices: Mapping[str, str] | None = None,
    bounds: tuple[float, float] | None = None,
) -> Any:
    """A settings field the user sets: ``parameter`` names it on the facade (``prune_ratio``; the CLI flag is
    ``--prune-ratio``), ``label`` on the Optimize page, ``help`` in both; ``valid(value)`` must hold
    (``need`` says what is valid, for the one-line refusal),
    ``choices`` (name -> meaning) list the valid values of a text setting, ``bounds`` limit the page's input.
    ``None`` (not given) always passes: the settings' :meth:`~VariantSettings.resolved` fills it."""
    meta = {
        "parameter": parameter,
        "label": label,
        "help": help,
        "valid": valid,
        "need": need,
        "choices": choices,
        "bounds": bounds,
    }
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Option:
    """One user-facing setting of a variant, as the facade, the CLI and the Optimize page see it."""

    parameter: str  # prune_ratio
    field: str  # ratio
    label: str  # Channels removed
    type: type  # int, float or str (``None`` allowed when the default is None)
    default: Any
    help: str
    choices: Mapping[str, str] | None
    bounds: tuple[float, float] | None

    @property
    def flag(self) -> str:
        return "--" + self.parameter.replace("_", "-")


@dataclass(frozen=True)
class VariantSettings:
    """Base of a variant's settings. Subclasses are frozen dataclasses of :func:`option` fields (what the
    user sets) and plain fields (filled by :meth:`resolved` from the run, e.g. its batch size)."""

    title: ClassVar[str]  # the Optimize page's heading for the form
    caption: ClassVar[str] = ""  # a line under the heading

    @classmethod
    def options(cls) -> list[Option]:
        hints = typing.get_type_hints(cls)
        out = []
        for f in dataclasses.fields(cls):
            if "parameter" not in f.metadata:
                continue
            kind = hints[f.name]
            base = next((a for a in typing.get_args(kind) if a is not type(None)), kind)
            meta = f.metadata
            out.append(
                Option(
                    meta["parameter"],
                    f.name,
                    meta["label"],
                    base,
                    f.default,
                    meta["help"],
                    meta["choices"],
                    meta["bounds"],
                )
            )
        return out

    @classmethod
    def from_parameters(cls, values: Mapping[str, Any]) -> VariantSettings:
        """The settings from the facade's keyword arguments (absent ones keep their defaults)."""
        return cls(**{o.field: values[o.parameter] for o in cls.options() if o.parameter in values})

    def check(self) -> None:
        """Refuse the first bad value in one line naming its flag (before any work: calibration takes minutes)."""
        fields = {f.name: f.metadata for f in dataclasses.fields(self)}
        rules = []
        for o in self.options():
            value, meta = getattr(self, o.field), fields[o.field]
            if o.choices is not None and value not in o.choices:
                raise choice_error(o.flag, value, o.choices)
            if value is None or meta["valid"] is None:
                continue
            number = not isinstance(value, str)
            rules.append((o.flag, value, (not number or finite(value)) and meta["valid"](value), meta["need"]))
        check_settings(rules)

    def resolved(self, config: Mapping[str, Any], **facts: Any) -> VariantSettings:
        """Checked, with what was left unset filled from the run's training ``config`` (and ``facts`` of the
        optimize call: ``calib_size``, ``seed``)."""
        self.check()
        return self


RUN_LR, RUN_BATCH = 2e-3, 32  # what a run whose config lacks them (older runs) is taken to have trained with


def like_the_run(settings: Any, config: Mapping[str, Any], *, lr_divisor: int = 1) -> dict[str, Any]:
    """The fine-tune's ``lr`` and ``batch_size`` where ``settings`` leaves them unset: the run's training peak
    learning rate divided by ``lr_divisor``, and its batch size (``dataclasses.replace`` keywords)."""
    return {
        "lr": settings.lr or (config.get("lr") or RUN_LR) / lr_divisor,
        "batch_size": settings.batch_size or config.get("batch_size") or RUN_BATCH,
    }


@dataclass(frozen=True)
class BuildContext:
    """What a variant's build function gets from one optimize call."""

    fp32_model: ov.Model  # the converted FP32 network, before the task's post-processing
    finish: Callable[..., ov.Model]  # (network, torch model=the trained one) -> IR with post-processing, model_info
    convert: Callable[[torch.nn.Module], ov.Model]  # a torch model -> its converted network, like fp32_model
    torch_model: torch.nn.Module  # the trained model (decodes raw outputs while NNCF scores the bare network)
    train_samples: list  # fine-tuning (pruning, QAT)
    val_samples: list
    calibration: list  # the INT8 calibration subset (engine.compression.calibration), shared by every variant
    task: Task
    labels: list[str]
    img_size: int
    seed: int
    ignored_scope: tuple[str, ...] = ()  # int8-custom: the layers kept in float (names in fp32_model)
    max_drop: float = 0.005
    settings: Mapping[type[VariantSettings], VariantSettings] = field(default_factory=dict)  # resolved, per class
    folder: Path | None = None  # the run folder (QAT keeps its checkpoints and events under it)
    source: dict = field(default_factory=dict)  # identifies the trained model (QAT resumes only from it)
    shared: dict = field(default_factory=dict)  # what one optimize call's variants share (the pruned model)
    notes: dict = field(default_factory=dict)  # variant -> extra facts recorded with its metrics (MACs...)

    def settings_of(self, kind: type[VariantSettings]) -> Any:
        """The resolved settings of class ``kind`` (its defaults, resolved against nothing, when not given)."""
        return self.settings.get(kind) or kind()


@dataclass(frozen=True)
class Variant:
    name: str
    precision: str  # FP32 | FP16 | INT8
    backend: Backend
    how: str  # one line: how it is made (CLI help, the Optimize page)
    build: Callable[[BuildContext], Built] | None = None  # None: not built by optimize (the trained model)
    settings: type[VariantSettings] | None = None  # what the user can set about it
