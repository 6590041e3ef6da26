"""Units, one meaning each: sizes are binary (GiB = 1024³ bytes) everywhere crvs-migrate
measures, shows or stores them; durations read like an operator says them."""

from __future__ import annotations

GIB = 1024**3


def gib(n_bytes: int | float) -> float:
    return n_bytes / GIB


def fmt_bytes(n: int | float) -> str:
    """``16 GiB``-style: whole bytes and KiB, one decimal above."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit in ("B", "KiB") else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def fmt_uptime(seconds: float) -> str:
    """Coarse, for uptimes: ``3d 4h``, ``2h 5m``, ``7m``."""
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


def fmt_elapsed(seconds: float) -> str:
    """For steps and downtime: ``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    total = int(round(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
