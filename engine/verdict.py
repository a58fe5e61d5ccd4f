"""What a benchmark means, in words: which variant counts as optimized on this device (or why none does), the
headline sentence, and what a precision hint means for a variant. The CLI, the pages and the report card say
the same sentences."""

from __future__ import annotations

from engine import results as r


def verdict(result: r.BenchmarkTable) -> str:
    """One line: which variant is the optimized one on this device, or that none is faster here."""
    pick = result.get("pick")
    if not result["rows"]:
        return "not benchmarked yet"
    if pick is None:
        why = f" ({result['explanation']})" if result.get("explanation") else ""
        return (
            "no variant is measurably faster than the FP32 IR at the device's default precision here while keeping"
            f" {result['metric_name']} (>= 1.05x, within the task's accuracy budget): none counts as optimized{why}"
        )
    return (
        f"optimized: {pick['variant']} on {pick['device']} ({pick['precision ran']}), {pick['speed-up vs FP32']:.2f}x"
        f" the FP32 IR's speed ({pick['median ms']:.3f} ms median) within the accuracy budget"
    )


def precision_label(variant: str, ran: str | None) -> str:
    """What the device's precision hint means for this variant, in words that cannot be misread: an INT8 IR
    runs its quantized layers in int8 whatever the hint; the hint is the precision of its float layers."""
    if not ran:
        return "precision not reported"
    if "int8" in variant:
        return f"int8 layers; float layers in {ran}, the plugin's default hint"
    return f"{ran}, the plugin's default hint"


def headline(result: r.BenchmarkTable) -> str:
    """The benchmark's headline as one sentence (the pages show the same numbers as big figures)."""
    h = result.get("headline")
    if not h:
        return "no OpenVINO variant benchmarked yet"
    where = f"{h['variant']} IR on {h['device']} ({precision_label(h['variant'], h['precision_ran'])})"
    parts = []
    if h["speedup_vs_fp32_ir"] is not None:  # the baseline first: the same IR in FP32, same device and hint
        parts.append(f"{h['speedup_vs_fp32_ir']:.2f}x the FP32 IR's speed")
    if h["speedup_vs_original"] is not None:
        parts.append(f"{h['speedup_vs_original']:.1f}x the PyTorch model's")
    if h["metric_change_pp"] is not None:
        parts.append(f"{h['metric_change_pp']:+.1f} pp {result['metric_name']}")
    if h["size_ratio_vs_fp32"]:
        parts.append(f"{h['size_ratio_vs_fp32']:.1f}x smaller than FP32")
    lead = where if h["optimized"] else f"not optimized here: {where} is {h['why_not']}"
    return f"{lead}: {', '.join(parts)}" if parts else lead
