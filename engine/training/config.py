"""Training configuration: defaults that reach a good model on the built-in sample from random init."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from engine.data.notes import IMBALANCE  # the ratio the import's note names is the one auto acts on
from engine.errors import StudioError
from engine.tasks import DEFAULT_TASK, get_task
from engine.training.distributed import resolve_device


@dataclass
class TrainConfig:
    task: str = DEFAULT_TASK
    model: str = ""  # "" -> the task's default architecture
    epochs: int | None = None  # None -> the task's default (epochs, batch_size, img_size, lr: Task.train_defaults)
    batch_size: int | None = None
    img_size: int | None = None
    lr: float | None = None  # peak learning rate of the one-cycle schedule (AdamW)
    weight_decay: float = 0.05
    warmup: float = 0.15  # fraction of the steps spent warming up
    patience: int = 5  # early stopping: epochs without a better validation metric
    augment: str | None = None  # training augmentation policy (engine.choices.AUGMENT; None: the task's default)
    balance: str | None = None  # what training does about class sizes (engine.choices.BALANCE; None: the default)
    seed: int = 0
    pretrained: bool = True  # use ImageNet weights when they are in the local torch cache
    max_steps: int = 0  # stop after this many optimiser steps (0 = no limit); for smoke tests
    nproc: int = 1  # data-parallel processes (torchrun); the batch is split between them
    device: str = "auto"  # cpu | cuda | auto (cuda when torch sees one); resolved() records the one used
    chosen: dict = field(default_factory=dict)  # setting -> where its value came from, for each default taken

    def resolved(self, info: Mapping[str, Any] | None = None) -> TrainConfig:
        """Fill task defaults and check every value, with a message that says how to fix it. With the
        dataset's ``info`` the input size follows the data (:meth:`Task.input_size`); every default taken is
        recorded in ``chosen`` with its reason."""
        spec = get_task(self.task)
        model = self.model or spec.default_arch
        if model not in spec.archs:
            msg = f"unknown {self.task} model {model!r}; valid: {', '.join(spec.archs)}"
            raise StudioError(msg)
        given = {k: v for k, v in asdict(self).items() if v is not None and k != "chosen"}
        defaults = dict(spec.train_defaults)
        chosen = {k: f"the {self.task} default" for k in defaults if k not in given}
        for key, value in spec.arch_train_defaults.get(model, {}).items():
            defaults[key] = value
            if key not in given:
                chosen[key] = f"the {model} default"
        if not self.model:
            chosen["model"] = f"the {self.task} default"
        defaults.setdefault("augment", spec.augments[0])
        defaults.setdefault("balance", spec.balances[0])
        if info is not None and "img_size" not in given:
            defaults["img_size"], chosen["img_size"] = spec.input_size(info)
        chosen |= self.chosen  # why the caller chose what it gave (the sample project's architecture)
        cfg = TrainConfig(**{**asdict(self), **defaults, **given, "model": model, "chosen": chosen})
        cfg.device = resolve_device(cfg.device)
        for name, valid in (("augment", spec.augments), ("balance", spec.balances)):
            if getattr(cfg, name) not in valid:
                msg = f"{self.task} training has no {name} {getattr(cfg, name)!r}; valid: {', '.join(valid)}"
                raise StudioError(msg)
        if cfg.balance == "auto" and info is not None:
            cfg.balance, chosen["balance"] = auto_balance(
                (info.get("splits", {}).get("train") or {}).get("per_class"), cfg.nproc
            )
        if cfg.balance == "sampler" and cfg.nproc > 1:
            msg = "--balance sampler draws from one process: with --nproc > 1 use --balance loss instead"
            raise StudioError(msg)
        checks = {
            "epochs": cfg.epochs >= 1,
            "batch_size": cfg.batch_size >= 2,
            "img_size": 32 <= cfg.img_size <= 1024,
            "lr": 0 < cfg.lr < 1,
            "patience": cfg.patience >= 1,
            "max_steps": cfg.max_steps >= 0,
            "nproc": 1 <= cfg.nproc <= 64,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            msg = (
                f"invalid training setting {bad[0]}={getattr(cfg, bad[0])}: need epochs >= 1, batch size >= 2,"
                " 32 <= img size <= 1024, 0 < lr < 1, patience >= 1, max steps >= 0, 1 <= nproc <= 64"
            )
            raise StudioError(msg)
        if cfg.batch_size % cfg.nproc or cfg.batch_size // cfg.nproc < 2:
            msg = (
                f"batch size {cfg.batch_size} does not split into {cfg.nproc} processes of at least 2 images:"
                f" use a multiple of {cfg.nproc} (--batch-size {max(2, -(-cfg.batch_size // cfg.nproc)) * cfg.nproc})"
                " or fewer processes"
            )
            raise StudioError(msg)
        return cfg

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        recipe = {"augment": "basic", "balance": "none"}  # what runs saved before these settings trained with
        return cls(**{**recipe, **{k: v for k, v in data.items() if k in known}})


def auto_balance(per_class: Mapping[str, int] | None, processes: int = 1) -> tuple[str, str]:
    """What ``--balance auto`` does for a train split of ``per_class`` images, and why, in words. The sampler
    draws from one process: a distributed fit (``processes`` > 1) weighs the loss instead."""
    present = [n for n in (per_class or {}).values() if n > 0]
    if len(present) < 2:
        return "none", "auto: one class or no counts"
    ratio = max(present) / min(present)
    if ratio >= IMBALANCE:
        why = f"auto: the largest train class has {ratio:.1f}x the images of the smallest"
        return ("sampler", why) if processes <= 1 else ("loss", f"{why} (class-weighted loss: {processes} processes)")
    return "none", f"auto: classes within {IMBALANCE:g}x of each other ({ratio:.1f}x)"
