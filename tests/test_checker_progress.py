"""Progress callbacks, the terminal progress line, and Ctrl-C returning an honest partial result."""

from __future__ import annotations

import io
import time

import pytest

from model.check import Model, ProgressLine, ProgressStats, Property, assert_violated, check


class Ring(Model):
    """0..n-1 on a ring with a +1 and a +7 step; optionally slow, optionally interrupted.

    ``interrupt_after``: the successors call with that number raises
    KeyboardInterrupt halfway through its transitions, as Ctrl-C would.
    """

    def __init__(self, n: int, delay: float = 0.0, interrupt_after: int | None = None, bad: int | None = None):
        self.n, self.delay, self.interrupt_after, self.bad = n, delay, interrupt_after, bad
        self.calls = 0

    def init_states(self):
        return [0]

    def successors(self, x):
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        yield "one", (x + 1) % self.n, "ok"
        if self.calls == self.interrupt_after:  # once, like a real Ctrl-C
            raise KeyboardInterrupt
        yield "seven", (x + 7) % self.n, "ok"

    def properties(self):
        props = [Property.always("in_range", lambda x: 0 <= x < self.n)]
        if self.bad is not None:
            props.append(Property.always("not_bad", lambda x: x != self.bad))
        props.append(Property.eventually("leaves_zero", lambda x: x == 0))
        return props

    def is_fair(self, a):
        return a == "one"


def test_progress_callback_is_throttled():
    calls: list[ProgressStats] = []
    start = time.monotonic()
    r = check(Ring(400, delay=0.003), progress=calls.append)
    elapsed = time.monotonic() - start
    assert r.stats.states == 400
    assert 2 <= len(calls) <= elapsed * 4 + 1
    assert all(isinstance(c, ProgressStats) for c in calls)
    assert [c.states for c in calls] == sorted(c.states for c in calls)
    assert all(c.elapsed > 0 and c.rate > 0 for c in calls)
    gaps = [b.elapsed - a.elapsed for a, b in zip(calls, calls[1:])]
    assert all(g >= 0.2 for g in gaps)


def test_progress_finish_is_called_once_at_the_end():
    class Recorder:
        def __init__(self):
            self.finished: list[ProgressStats] = []

        def __call__(self, stats):
            pass

        def finish(self, stats):
            self.finished.append(stats)

    rec = Recorder()
    r = check(Ring(50), progress=rec)
    assert len(rec.finished) == 1 and rec.finished[0].states == r.stats.states


def test_progress_line_waits_then_rewrites_one_line():
    out = io.StringIO()
    line = ProgressLine(stream=out, delay=1.0)
    line(ProgressStats(states=10, transitions=20, depth=1, rate=100.0, elapsed=0.5))
    assert out.getvalue() == ""  # quiet during the first second
    line(ProgressStats(states=12_345, transitions=67_890, depth=7, rate=5_000.0, elapsed=2.4))
    line(ProgressStats(states=20_000, transitions=90_000, depth=8, rate=5_100.0, elapsed=2.7))
    text = out.getvalue()
    assert text.startswith("\r12,345 states, 67,890 transitions, depth 7, 5,000 states/s")
    assert text.count("\r") == 2 and "\n" not in text
    line.finish()
    assert out.getvalue().endswith("\n")


def test_progress_line_stays_silent_for_quick_checks():
    out = io.StringIO()
    line = ProgressLine(stream=out)
    check(Ring(100), progress=line)
    assert out.getvalue() == ""


def test_keyboard_interrupt_returns_an_honest_partial_result():
    model = Ring(1000, interrupt_after=30)
    r = check(model)
    assert r.interrupted and not r.exhaustive
    assert 0 < r.stats.states < 1000
    assert r.stats.expanded == 29  # the interrupted expansion does not count
    assert r["in_range"].verdict == "unknown" and "interrupted" in r["in_range"].reason
    assert r["leaves_zero"].verdict == "unknown"
    assert any("interrupted" in w and "KeyboardInterrupt" in w for w in r.warnings)
    assert "interrupted" in r.report()
    # The graph kept for liveness is still consistent: every edge ends at a recorded state.
    g = r.graph
    assert g.number_of_nodes() == r.stats.states
    assert sum(d["expanded"] for _, d in g.nodes(data=True)) == 29


def test_a_violation_found_before_the_interrupt_stays_violated():
    r = check(Ring(1000, interrupt_after=30, bad=7))
    assert r.interrupted
    assert_violated(r, "not_bad", steps=1)
    assert r["in_range"].verdict == "unknown"


@pytest.mark.parametrize("kwargs", [{"store": "compact"}, {"strategy": "dfs"}, {"strategy": "random", "seed": 1}])
def test_keyboard_interrupt_in_every_strategy_and_store(kwargs):
    r = check(Ring(1000, interrupt_after=20), **kwargs)
    assert r.interrupted and r["in_range"].verdict == "unknown"
    assert r.stats.states > 0


def test_keyboard_interrupt_during_property_evaluation():
    class Impatient(Ring):
        def properties(self):
            def cond(x):
                if x == 20:
                    raise KeyboardInterrupt
                return True

            return [Property.always("cond", cond)]

    r = check(Impatient(100))
    assert r.interrupted and r["cond"].verdict == "unknown"
