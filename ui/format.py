"""Numbers as people read them: durations in minutes, ratios with an x, times with a unit."""

from __future__ import annotations


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
    return "-" if value is None else f"{value:.1f}x" if value >= 10 or value < 0.995 else f"{value:.2f}x"
