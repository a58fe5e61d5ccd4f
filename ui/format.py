"""Numbers as people read them: durations in minutes, ratios with an x, times with a unit."""

from __future__ import annotations

import datetime
import math

import pandas as pd

from engine import format_number as number


def duration(seconds: float | None) -> str:
    """``75`` -> "about 1 min", ``2522`` -> "about 42 min", ``20`` -> "20 s", ``5400`` -> "about 1 h 30 min"."""
    if seconds is None:
        return "unknown"
    if seconds < 60:
        return f"{max(seconds, 0):.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60:02d} min"


def ms(value: float | None) -> str:
    """A latency with a sensible number of digits: 0.384 ms, 12.3 ms, 164 ms."""
    if value is None:
        return "-"
    if value < 1:
        return f"{value:.3f} ms"
    if value < 100:
        return f"{value:.1f} ms"
    return f"{value:.0f} ms"


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x" if value >= 10 else f"{value:.2f}x"  # 0.98x: never "1.0x"


MISSING = "—"  # what a table shows for a value that does not exist (never "None" or "nan")


def missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT


def cell(value: object, kind: str = "") -> str:
    """One table cell as text. ``kind``: percent, ratio, ms, pp, mb, seconds, time (a Unix time), or "" (by type)."""
    if missing(value):
        return MISSING
    if isinstance(value, bool) or kind == "bool":
        return "yes" if value else "no"
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = float(value) if kind else value
        formats = {
            "percent": lambda v: f"{v:.1%}",
            "ratio": ratio,
            "ms": ms,
            "pp": lambda v: f"{v:+.2f} pp",
            "mb": lambda v: f"{v:.2f} MB",
            "seconds": duration,
            "time": lambda v: datetime.datetime.fromtimestamp(v).strftime("%Y-%m-%d %H:%M:%S"),
        }
        if kind in formats:
            return formats[kind](value)
        return str(value) if isinstance(value, int) else number(value)
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value) or MISSING
    if isinstance(value, dict):
        return ", ".join(f"{k}: {cell(v)}" for k, v in value.items()) or MISSING
    return str(value)


def frame(data: pd.DataFrame | list[dict], kinds: dict[str, str] | None = None) -> pd.DataFrame:
    """A table as people read it: every cell text (:func:`cell`), each column formatted by its ``kinds`` entry.
    What every page hands to ``st.dataframe``, so no page shows None, nan or a float's 16 digits."""
    table = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    kinds = kinds or {}
    return pd.DataFrame({col: [cell(v, kinds.get(col, "")) for v in table[col]] for col in table.columns})
