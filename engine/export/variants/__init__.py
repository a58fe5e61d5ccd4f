"""The table of model variants: one module per variant (its :class:`Variant` row, its build function and,
when it has any, its settings class). The table drives the optimize verb, the facade's and the CLI's
parameters and help, the checks before any work, the Optimize page's form and the benchmark loop.

Adding a variant = one module here + one entry in ``_MODULES``. ``torch-fp32`` is the trained PyTorch model
itself (the baseline every ratio is measured against); the others are OpenVINO IRs made from it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from engine.errors import StudioError
from engine.export.variants import (
    fp16,
    fp32,
    int8,
    int8_acc,
    int8_custom,
    int8_qat,
    pruned,
    pruned_int8,
    torch_fp32,
)
from engine.export.variants.base import BuildContext, Option, Variant, VariantSettings
from engine.export.variants.int8_qat import QATSettings
from engine.export.variants.pruned import Pruning

_MODULES = (torch_fp32, fp32, fp16, int8, int8_custom, int8_acc, int8_qat, pruned, pruned_int8)
VARIANTS: dict[str, Variant] = {m.VARIANT.name: m.VARIANT for m in _MODULES}
DEFAULT_OPTIMIZE = ("fp32", "fp16", "int8")
SETTINGS: tuple[type[VariantSettings], ...] = tuple(  # each settings class once, in table order
    dict.fromkeys(v.settings for v in VARIANTS.values() if v.settings is not None)
)

__all__ = [
    "DEFAULT_OPTIMIZE",
    "SETTINGS",
    "VARIANTS",
    "BuildContext",
    "Option",
    "Pruning",
    "QATSettings",
    "Variant",
    "VariantSettings",
    "help_text",
    "options",
    "parse",
    "settings_from",
    "with_settings",
]


def options() -> list[tuple[type[VariantSettings], list[str], list[Option]]]:
    """Each settings class, the variants it shapes and its options (the Optimize page's forms)."""
    return [(kind, [n for n, v in VARIANTS.items() if v.settings is kind], kind.options()) for kind in SETTINGS]


def settings_from(values: Mapping[str, Any], verb: str = "optimize") -> dict[type[VariantSettings], VariantSettings]:
    """Every settings class built from ``verb``'s keyword arguments (``prune_ratio=0.5`` ...), not resolved;
    a name no variant declares is the TypeError Python raises for an unexpected keyword."""
    known = [o.parameter for kind in SETTINGS for o in kind.options()]
    unknown = sorted(set(values) - set(known))
    if unknown:
        msg = f"{verb}() got an unexpected keyword argument {unknown[0]!r}; variant options: {', '.join(known)}"
        raise TypeError(msg)
    return {kind: kind.from_parameters(values) for kind in SETTINGS}


def with_settings(verb: Callable) -> Callable:
    """Give ``verb`` (which takes ``**settings``) one keyword parameter per variant option, before its
    ``workspace`` parameter, with the option's type and default: what ``inspect.signature`` and
    ``typing.get_type_hints`` report, so the CLI makes a flag of each and the parity test sees them."""
    signature = inspect.signature(verb)
    params = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    at = next((i for i, p in enumerate(params) if p.name == "workspace"), len(params))
    added = []
    for kind in SETTINGS:
        for o in kind.options():
            annotation = o.type if o.default is not None else o.type | None
            added.append(inspect.Parameter(o.parameter, inspect.Parameter.KEYWORD_ONLY, default=o.default,
                                           annotation=annotation))  # fmt: skip
            verb.__annotations__[o.parameter] = annotation
    verb.__signature__ = signature.replace(parameters=[*params[:at], *added, *params[at:]])
    return verb


def parse(text: str | list[str] | None, *, default: tuple[str, ...], exportable_only: bool = False) -> list[str]:
    """Comma-separated variant names -> validated list, in the table's order."""
    if not text:
        return list(default)
    names = text if isinstance(text, list) else [t.strip() for t in text.split(",") if t.strip()]
    valid = [n for n, v in VARIANTS.items() if not exportable_only or v.build is not None]
    unknown = [n for n in names if n not in valid]
    if unknown:
        msg = f"unknown variant {unknown[0]!r}; valid: {', '.join(valid)}"
        raise StudioError(msg)
    return [n for n in VARIANTS if n in names]


def help_text() -> str:
    return "; ".join(f"{v.name}: {v.how}" for v in VARIANTS.values())
