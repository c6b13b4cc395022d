"""How service time moves while the server runs.

A clock tells the server, before each request, how many service seconds have
passed since it last asked (:meth:`Clock.elapsed`). The server then advances the
cloud by that much, under its lock, so requests see the service time they would
see on a real service.

* :class:`WallClock` (``--speed X``): X service seconds per wall-clock second.
* :class:`ManualClock` (``--manual-clock``): time moves only through the admin
  endpoint ``POST /_copyimage/advance?seconds=N``.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Callable

__all__ = ["Clock", "ManualClock", "WallClock", "make_clock"]


class Clock:
    """Base class: a clock that never moves by itself."""

    manual = True

    def elapsed(self) -> float:
        """Service seconds passed since the previous call (0 for a manual clock)."""
        return 0.0

    def restart(self) -> None:
        """Forget the time passed so far (called when the server starts and on reset)."""

    def describe(self) -> str:
        return "manual"


class ManualClock(Clock):
    """Service time moves only when the admin endpoint says so."""


class WallClock(Clock):
    """Service time follows the wall clock, ``speed`` service seconds per wall second."""

    manual = False

    def __init__(self, speed: float = 1.0, source: Callable[[], float] = time.monotonic):
        if not (isinstance(speed, (int, float)) and math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a positive number, not {speed!r}")
        self.speed = float(speed)
        self._source = source
        self._lock = threading.Lock()
        self._last = source()

    def elapsed(self) -> float:
        with self._lock:
            now = self._source()
            delta = max(0.0, now - self._last)
            self._last = now
        return delta * self.speed

    def restart(self) -> None:
        with self._lock:
            self._last = self._source()

    def describe(self) -> str:
        return f"wall x{self.speed:g}"


def make_clock(spec: "Clock | str | float | int | None") -> Clock:
    """A clock from ``serve``'s ``clock=`` argument.

    ``None`` -> real time (speed 1); a number -> :class:`WallClock` with that
    speed; ``"manual"`` -> :class:`ManualClock`; ``"wall"`` / ``"real"`` -> speed
    1; a :class:`Clock` is used as it is.
    """
    if spec is None:
        return WallClock(1.0)
    if isinstance(spec, Clock):
        return spec
    if isinstance(spec, bool):
        raise TypeError("clock must be a Clock, 'manual' or a speed")
    if isinstance(spec, (int, float)):
        return WallClock(float(spec))
    if isinstance(spec, str):
        if spec == "manual":
            return ManualClock()
        if spec in ("wall", "real"):
            return WallClock(1.0)
        try:
            return WallClock(float(spec))
        except ValueError:
            pass
    raise ValueError(f"unknown clock {spec!r}: use a Clock, 'manual' or a positive speed")
