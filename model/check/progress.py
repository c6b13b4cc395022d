"""Progress reporting: the snapshot handed to a ``progress`` callback, and a terminal line printer.

The checker calls ``progress(ProgressStats)`` at most about four times a
second (it looks at the clock once per expanded state, never per
transition). If the callable also has a ``finish(stats)`` method, the checker
calls it once when the search ends, so a printer can end its line.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO

__all__ = ["PROGRESS_INTERVAL", "ProgressLine", "ProgressStats"]

PROGRESS_INTERVAL = 0.25  # seconds between two progress callbacks


@dataclass(frozen=True)
class ProgressStats:
    states: int  # distinct states recorded so far
    transitions: int  # transitions between distinct states so far
    depth: int  # current search depth (BFS level, DFS stack depth, walk length)
    rate: float  # states per second since the start
    elapsed: float  # seconds since the start


class ProgressLine:
    """``progress=ProgressLine()`` prints ``\\r<states> states ...`` to stderr.

    It stays silent for the first ``delay`` seconds so quick checks print
    nothing, then rewrites one line in place; ``finish`` ends the line.
    """

    def __init__(self, stream: TextIO | None = None, delay: float = 1.0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay
        self.printed = False
        self._width = 0

    def __call__(self, stats: ProgressStats) -> None:
        if stats.elapsed < self.delay:
            return
        line = (
            f"{stats.states:,} states, {stats.transitions:,} transitions, depth {stats.depth}, "
            f"{stats.rate:,.0f} states/s, {stats.elapsed:.0f} s"
        )
        # Pad with spaces so a shorter line fully covers the previous one.
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = max(self._width, len(line))
        self.printed = True

    def finish(self, stats: ProgressStats | None = None) -> None:
        if stats is not None and self.printed:
            self(stats)
        if self.printed:
            self.stream.write("\n")
            self.stream.flush()
            self.printed = False
