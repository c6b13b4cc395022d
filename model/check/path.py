"""A path through the state graph: an initial state and the steps taken from it.

Every counterexample, witness and lasso the checker reports is a ``Path``.
Stores remember as little as possible (a parent pointer, or only a
fingerprint), so paths are rebuilt after the search by *replaying* the model:
from each state we call ``successors`` again and pick the transition that
reaches the next recorded state. That recovers the outcome labels without
storing them, and it is why ``successors`` must be deterministic (the same
state yields the same transitions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Hashable, Iterable, Sequence

from .model import Model

__all__ = ["Path", "Step", "jsonable", "replay_fingerprints", "replay_states", "steps_text"]


@dataclass(frozen=True)
class Step:
    """One transition: the action taken, the state it led to, and its outcome label."""

    action: Any
    state: Any
    outcome: Hashable = None


@dataclass
class Path:
    """``init`` followed by ``steps``; ``len(path)`` is the number of steps.

    A *lasso* (a liveness counterexample) sets ``loop_start``: the states from
    step ``loop_start`` on form a cycle that returns to the state reached
    after ``loop_start`` steps and repeats forever. When ``loop_start ==
    len(steps)`` the cycle is empty: the run rests in the last state forever.
    """

    init: Any
    steps: list[Step]
    loop_start: int | None = None
    # Only used to format the path; kept out of equality so two paths compare by content.
    model: Model | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def last(self) -> Any:
        """The final state of the path."""
        return self.steps[-1].state if self.steps else self.init

    def states(self) -> list[Any]:
        """Every state along the path, the initial one first."""
        return [self.init] + [s.state for s in self.steps]

    def actions(self) -> list[Any]:
        return [s.action for s in self.steps]

    # -- formatting -------------------------------------------------------

    def _fmt_state(self, state: Any) -> str:
        return self.model.format_state(state) if self.model is not None else repr(state)

    def _fmt_action(self, action: Any) -> str:
        return self.model.format_action(action) if self.model is not None else str(action)

    def _diff(self, before: Any, after: Any) -> dict[str, object]:
        return dict(self.model.diff_states(before, after)) if self.model is not None else {}

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data: formatted states and actions, outcomes and per-step diffs."""
        steps = []
        before = self.init
        for step in self.steps:
            steps.append(
                {
                    "action": self._fmt_action(step.action),
                    "outcome": jsonable(step.outcome),
                    "state": self._fmt_state(step.state),
                    "diff": jsonable(self._diff(before, step.state)),
                }
            )
            before = step.state
        return {"init": self._fmt_state(self.init), "steps": steps, "loop_start": self.loop_start}

    def format(self, indent: str = "  ") -> str:
        """Numbered steps: action, outcome and what changed (the whole state if the model gives no diff)."""
        lines = [f"{indent}0. init: {self._fmt_state(self.init)}"]
        before = self.init
        for i, step in enumerate(self.steps, 1):
            if self.loop_start is not None and i - 1 == self.loop_start:
                lines.append(f"{indent}   -- cycle starts here (at the state after step {self.loop_start})")
            if step.state is before or step.state == before:
                change = "(state unchanged)"
            else:
                diff = self._diff(before, step.state)
                change = (
                    ", ".join(f"{k}: {_short(v)}" for k, v in diff.items())
                    if diff
                    else self._fmt_state(step.state)
                )
            outcome = "" if step.outcome is None else f" -> {step.outcome!s}"
            lines.append(f"{indent}{i}. {self._fmt_action(step.action)}{outcome}  {change}")
            before = step.state
        if self.loop_start is not None:
            if self.loop_start == len(self.steps):
                lines.append(
                    f"{indent}   -- the run can stay in this last state forever: no fair action leads out of it"
                )
            else:
                lines.append(f"{indent}   -- back to the state after step {self.loop_start}; the cycle repeats forever")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()

    def _repr_html_(self) -> str:
        from ..viz.display import path_html

        return path_html(self)


def steps_text(n: int) -> str:
    """``"1 step"`` or ``"<n> steps"``."""
    return "1 step" if n == 1 else f"{n} steps"


def _short(value: object, limit: int = 120) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def jsonable(value: Any) -> Any:
    """Convert ``value`` to something ``json.dumps`` accepts; unknown objects become their ``str``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in value]
        # Sets have no order; sort so the output is stable from run to run.
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    return str(value)


_ANY = object()


def _nondeterministic(model: Model, state: Any, wanted: str) -> RuntimeError:
    return RuntimeError(
        f"could not rebuild the trace: replaying successors({model.format_state(state)}) "
        f"did not produce {wanted}. The checker stores parent pointers or fingerprints and "
        "replays the model to rebuild paths, so successors() must return the same transitions "
        "every time it is called on the same state (no randomness, no hidden mutable state)."
    )


def replay_states(model: Model, states: Sequence[Any], actions: Sequence[Any]) -> list[Step]:
    """Steps from ``states[0]`` through ``states[1:]``, recovering outcomes by replay.

    ``actions[i]`` is the action that led from ``states[i]`` to ``states[i+1]``.
    A step to an equal state is a self-loop (used by fair lassos).
    """
    steps: list[Step] = []
    for i in range(1, len(states)):
        before, after, want = states[i - 1], states[i], actions[i - 1]
        for action, nxt, outcome in model.successors(before):
            if action == want and (nxt is after or nxt == after):
                steps.append(Step(action, after, outcome))
                break
        else:
            raise _nondeterministic(
                model, before, f"action {model.format_action(want)} leading to {model.format_state(after)}")
    return steps


def replay_fingerprints(model: Model, inits: Iterable[Any], fingerprints: Sequence[int],
                        fingerprint: Callable[[Any], int] = hash) -> Path:
    """Rebuild a path known only by the fingerprints of its states (``hash``, or the search's ``fingerprint``).

    Starts from the initial state whose fingerprint is ``fingerprints[0]`` and
    at each step follows the first non-self-loop successor whose fingerprint is
    the next one. Used by the compact store, which keeps nothing else.
    """
    state = next((s for s in inits if fingerprint(s) == fingerprints[0]), _ANY)
    if state is _ANY:
        raise RuntimeError(
            "could not rebuild the trace: no initial state has the recorded fingerprint; "
            "init_states() must return the same states every time it is called"
        )
    init = state
    steps: list[Step] = []
    for fp in fingerprints[1:]:
        for action, nxt, outcome in model.successors(state):
            if not (nxt is state or nxt == state) and fingerprint(nxt) == fp:
                steps.append(Step(action, nxt, outcome))
                state = nxt
                break
        else:
            raise _nondeterministic(model, state, f"a successor with fingerprint {fp:#x}")
    return Path(init, steps, model=model)
