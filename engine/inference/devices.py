"""The OpenVINO devices a model may be compiled for: refuse one this machine does not have, listing those it has."""

from __future__ import annotations

from engine.errors import StudioError


def check_device(core, device: str) -> None:
    available = list(core.available_devices)
    base = device.split(":", maxsplit=1)[0]
    if base in ("AUTO", "MULTI", "HETERO") or device in available:
        return
    msg = f"device {device!r} is not available here; available: {', '.join([*available, 'AUTO'])}"
    raise StudioError(msg)
