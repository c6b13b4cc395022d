"""What a check returns: per-property verdicts with paths, statistics, coverage and honest warnings.

A verdict is one of ``holds``, ``violated`` or ``unknown``. ``holds`` is only
claimed when the search was exhaustive (every reachable state inside the
model's boundary was expanded); any bound, a random walk or an interruption
turns an undecided claim into ``unknown`` and adds a warning that says why.
A violation found is always real, whatever cut the search short.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from .model import Expectation
from .path import Path, jsonable, steps_text

if TYPE_CHECKING:  # networkx is imported lazily: building a graph is optional
    import networkx as nx

__all__ = ["CheckResult", "PropertyResult", "Stats", "VERDICTS"]

VERDICTS = ("holds", "violated", "unknown")


@dataclass
class PropertyResult:
    """The verdict on one property.

    ``path`` is the counterexample (ALWAYS, EVENTUALLY: a lasso) or the
    witness (SOMETIMES), else None. ``reason`` says how the verdict was
    reached, and for ``unknown`` what would decide it.
    """

    name: str
    expectation: Expectation
    verdict: str
    path: Path | None
    description: str = ""
    reason: str = ""

    @property
    def holds(self) -> bool:
        return self.verdict == "holds"

    @property
    def violated(self) -> bool:
        return self.verdict == "violated"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "expectation": self.expectation.value,
            "verdict": self.verdict,
            "description": self.description,
            "reason": self.reason,
            "path": None if self.path is None else self.path.to_json(),
            "path_steps": None if self.path is None else len(self.path),
        }

    def format(self) -> str:
        # VIOLATED stands out in a long report; the other verdicts stay lower case.
        verdict = self.verdict.upper() if self.verdict == "violated" else self.verdict
        head = f"  {verdict:<9} {self.expectation.value:<10} {self.name}"
        if self.description:
            head += f" - {self.description}"
        lines = [head]
        if self.reason:
            lines.append(f"            {self.reason}")
        if self.path is not None:
            kind = "witness" if self.expectation is Expectation.SOMETIMES else "counterexample"
            if self.path.loop_start == len(self.path):
                kind = "lasso (a path, then the run rests in its last state forever)"
            elif self.path.loop_start is not None:
                kind = "lasso (a prefix, then a cycle a fair run can repeat forever)"
            lines.append(f"            {kind}, {steps_text(len(self.path))}:")
            lines.append(self.path.format(indent="              "))
        return "\n".join(lines)


@dataclass
class Stats:
    """Size and cost of the search.

    ``peak_rss_delta_bytes`` is the growth of the process's peak resident
    memory (``ru_maxrss``) during the check: 0 if an earlier peak was higher.
    ``store_bytes`` is what the visited-state store's own containers use (dict,
    lists, fingerprint ints), not counting the states themselves;
    ``graph_bytes`` the same for the recorded edges.
    """

    states: int
    transitions: int
    max_depth: int
    seconds: float
    states_per_second: float
    expanded: int = 0
    terminal_states: int = 0
    outside_boundary: int = 0
    peak_rss_delta_bytes: int = 0
    store_bytes: int = 0
    graph_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class CheckResult:
    """Everything a check found. Index it by property name: ``result["no_leak"]``."""

    properties: dict[str, PropertyResult]
    stats: Stats
    strategy: str
    store: str
    seed: int | None = None
    deadlocks: Path | None = None  # shortest path to a state model.allows_termination() rejects
    deadlock_count: int = 0
    coverage: Counter = field(default_factory=Counter)  # outcome label -> transitions, self-loops included
    action_counts: Counter | None = None  # action kind -> transitions; needs the graph
    action_kinds: frozenset[str] | None = None
    depth_histogram: list[int] = field(default_factory=list)  # states first found at each depth
    bounds_hit: tuple[str, ...] = ()
    interrupted: bool = False
    stopped_early: bool = False  # every property was decided before the state space was exhausted
    exhaustive: bool = False
    warnings: list[str] = field(default_factory=list)
    _graph_builder: Callable[[], "nx.DiGraph"] | None = field(default=None, repr=False)
    _graph_cache: Any = field(default=None, repr=False)
    _graph_missing: str = field(default="", repr=False)

    # -- access -----------------------------------------------------------

    def __getitem__(self, name: str) -> PropertyResult:
        try:
            return self.properties[name]
        except KeyError:
            known = ", ".join(repr(n) for n in self.properties) or "none"
            raise KeyError(f"no property named {name!r}; the model's properties are: {known}") from None

    def verdict(self, name: str) -> str:
        return self[name].verdict

    @property
    def has_graph(self) -> bool:
        return self._graph_builder is not None

    @property
    def graph(self) -> "nx.DiGraph":
        """The explored state graph as a networkx DiGraph (built on first access).

        Nodes are state ids ``0..n-1`` (discovery order) with ``label`` (the
        formatted state), ``state``, ``init`` and ``expanded``; an edge u -> v
        has ``action`` (formatted labels of every action from u to v, joined
        by " | ") and ``actions`` (the action objects). Self-loops are not edges.
        """
        if self._graph_builder is None:
            raise ValueError(self._graph_missing or "this result has no state graph")
        if self._graph_cache is None:
            self._graph_cache = self._graph_builder()
        return self._graph_cache

    # -- output -----------------------------------------------------------

    def _repr_html_(self) -> str:
        from ..viz.display import check_result_html

        return check_result_html(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary (paths are formatted with the model's format_* methods)."""
        return {
            "strategy": self.strategy,
            "store": self.store,
            "seed": self.seed,
            "exhaustive": self.exhaustive,
            "interrupted": self.interrupted,
            "stopped_early": self.stopped_early,
            "bounds_hit": list(self.bounds_hit),
            "properties": [p.to_dict() for p in self.properties.values()],
            "deadlocks": None if self.deadlocks is None else self.deadlocks.to_json(),
            "deadlock_count": self.deadlock_count,
            "stats": self.stats.to_dict(),
            "coverage": [
                {"outcome": jsonable(o), "count": c}
                for o, c in sorted(self.coverage.items(), key=lambda kv: repr(kv[0]))
            ],
            "action_counts": None if self.action_counts is None else dict(sorted(self.action_counts.items())),
            "action_kinds": None if self.action_kinds is None else sorted(self.action_kinds),
            "depth_histogram": list(self.depth_histogram),
            "warnings": list(self.warnings),
        }

    def report(self) -> str:
        """Human-readable text: verdicts, counterexamples step by step, statistics, coverage, warnings."""
        s = self.stats
        how = "exhaustive" if self.exhaustive else "NOT exhaustive"
        if self.interrupted:
            how += ", interrupted"
        if self.bounds_hit:
            how += ", bounds hit: " + ", ".join(self.bounds_hit)
        if self.stopped_early:
            how += ", stopped early (every property decided)"
        seed = f" seed={self.seed}" if self.seed is not None else ""
        lines = [f"Model check: strategy={self.strategy} store={self.store}{seed} ({how})", "Properties:"]
        if not self.properties:
            lines.append("  (the model declares no properties)")
        lines += [p.format() for p in self.properties.values()]
        if self.deadlocks is not None:
            lines.append(
                f"Deadlocks: {self.deadlock_count} terminal state(s) rejected by allows_termination(); "
                f"shortest path, {steps_text(len(self.deadlocks))}:"
            )
            lines.append(self.deadlocks.format(indent="    "))
        else:
            lines.append(
                f"Deadlocks: none found ({s.terminal_states} terminal state(s), all allowed by allows_termination())"
            )
        lines.append(
            f"Statistics: {s.states:,} states ({s.expanded:,} expanded, {s.outside_boundary:,} outside the boundary), "
            f"{s.transitions:,} transitions, max depth {s.max_depth}, {s.seconds:.2f} s "
            f"({s.states_per_second:,.0f} states/s)"
        )
        lines.append(
            f"Memory: store {s.store_bytes / 1e6:,.1f} MB"
            + (f", graph {s.graph_bytes / 1e6:,.1f} MB" if s.graph_bytes else "")
            + f", peak RSS grew {s.peak_rss_delta_bytes / 1e6:,.1f} MB"
        )
        total = sum(self.coverage.values())
        cov = ", ".join(f"{o!s}: {c:,}" for o, c in self.coverage.most_common())
        lines.append(f"Coverage ({total:,} transitions incl. self-loops, by outcome): {cov or 'none'}")
        if self.action_counts is not None:
            acts = ", ".join(f"{k}: {c:,}" for k, c in self.action_counts.most_common())
            lines.append(f"Actions by kind: {acts or 'none'}")
        else:
            lines.append("Actions by kind: not counted (needs the state graph: keep_graph=True with store='full')")
        if self.depth_histogram:
            lines.append("States per depth: " + " ".join(str(c) for c in self.depth_histogram))
        if self.warnings:
            lines.append("Warnings:")
            lines += [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()
