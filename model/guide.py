"""Guided exploration: from any world, see every request and service event you could take next, then take one.

    g = Guide("scenarios/cancel-copy.yaml")     # or a Cloud, a Scenario, a dict, a CopyImageModel
    g                                            # the world and the numbered options
    g.take(0)                                    # or g.take("CopyImage web to cn-shanghai")
    g.back()                                     # undo the last step

Each option is a request (CopyImage, CancelCopyImage, DeleteImage ...) or a
service event (a copy starts, completes or fails), shown with the answer it
gets and what it changes. The requests come from the scenario's ``explore:``
alphabet when it has one (exactly what the model checker interleaves, with
its ``times`` limits and ``$name`` references), otherwise from the world
itself: CopyImage of each Available image to each region, CancelCopyImage of
each copy whose image exists, DeleteImage of each image. Every option is
computed with ``model.semantics.step``; the guide decides nothing about the
API. A Guide never changes the Cloud it was started from, and its clock does
not move: a copy completes when you take its Complete event.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .check.ecs import CopyImageModel, RequestAction, world_diff
from .cloud import Cloud
from .scenario import Scenario, load_scenario
from .semantics.events import Complete, Fail, Fault, Start, enabled_events
from .semantics.invariants import violations
from .semantics.requests import parse
from .semantics.step import action_name, body_of, step
from .semantics.world import ImageStatus, World
from .viz.trace import Names, describe_call, request_params

__all__ = ["Guide", "Option", "default_alphabet"]


@dataclass(frozen=True)
class Option:
    """One thing that can happen next: its label, the answer it gets and the world it leads to."""

    index: int
    label: str
    kind: str  # "request", "event" or "fault"
    action: Any  # what ``step`` is called with: a typed request or a service event
    answer: Mapping[str, Any] | None  # the API body (``Code`` for a refusal); None for an event
    world: World
    changes: Mapping[str, object]  # what differs from the current world (empty: nothing)
    _state: Any = field(repr=False, compare=False, default=None)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    @property
    def answer_text(self) -> str:
        a = self.answer
        if a is None:
            return "(service event)"
        if "Code" in a:
            return f"{a.get('HttpStatus', '')} {a['Code']}".strip()
        if "ImageId" in a:
            return f"ImageId {a['ImageId']}"
        if "TotalCount" in a:
            return f"{a['TotalCount']} images"
        return "OK"

    @property
    def changes_text(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self.changes.items()) or "nothing changes"

    def __str__(self) -> str:
        return f"[{self.index}] {self.label} -> {self.answer_text}: {self.changes_text}"


def default_alphabet(world: World) -> list[tuple[str, dict[str, Any]]]:
    """The requests a person would try in ``world``: (action, API parameters), in a stable order."""
    out: list[tuple[str, dict[str, Any]]] = []
    for im in world.images:
        if im.status == ImageStatus.AVAILABLE:
            for region in world.setting.regions:
                out.append(("CopyImage", {"RegionId": im.region, "ImageId": im.image_id,
                                          "DestinationRegionId": region}))
    for t in world.tasks:
        if world.image(t.image_id) is not None:
            out.append(("CancelCopyImage", {"RegionId": t.dest_region, "ImageId": t.image_id}))
    for im in world.images:
        out.append(("DeleteImage", {"RegionId": im.region, "ImageId": im.image_id}))
    return out


class Guide:
    """Step through the model by hand: ``options()``, ``take(i)``, ``back()``, ``world``, ``history``."""

    def __init__(self, source: Cloud | Scenario | CopyImageModel | str | Path | Mapping[str, Any], *,
                 alphabet: str = "auto") -> None:
        if alphabet not in ("auto", "explore", "default"):
            raise ValueError(f"alphabet={alphabet!r}: use 'auto', 'explore' or 'default'")
        given_model = source if isinstance(source, CopyImageModel) else None
        if given_model is not None:
            if alphabet == "default":
                raise ValueError("a CopyImageModel brings its explore alphabet; pass its scenario for the default one")
            source = given_model.scenario
        if isinstance(source, Cloud):
            scenario, world, self.now = source.scenario, source.world, source.now
        else:
            scenario = source if isinstance(source, Scenario) else load_scenario(source)  # type: ignore[arg-type]
            world, self.now = scenario.world, 0.0
        self.scenario = scenario
        use_explore = given_model is not None or (
            scenario.explore is not None if alphabet == "auto" else alphabet == "explore")
        if use_explore and self.now != 0.0:
            # The explorer's steps run at service time 0 (copies start at 0 s); from a Cloud at another
            # time its options would show copies started in the past.
            if alphabet == "explore" or given_model is not None:
                raise ValueError(f"the explore alphabet runs at the explorer's service time, 0 s, but this Cloud is at "
                                 f"{self.now:g} s; pass its scenario instead, or alphabet='default'")
            use_explore = False
        # Sharing the checker's model (when given) shares its worlds' Setting, so states compare equal
        # with the ones in the checker's paths.
        self.model: CopyImageModel | None = given_model or (CopyImageModel(scenario) if use_explore else None)
        if self.model is not None:
            init = self.model.init_states()[0]
            self._state: Any = self.model.state(world, init.used, init.bound)
        else:
            self._state = world
        self._start = self._state
        self.history: list[Option] = []
        self._undo: list[Any] = []
        self._names = Names([scenario.world, world], scenario.refs)
        self._cache: tuple[Any, list[Option]] | None = None

    # --- reading --------------------------------------------------------------------------------

    @property
    def world(self) -> World:
        """The current world."""
        return self._state.world if self.model is not None else self._state

    @property
    def state(self) -> Any:
        """The current explored state (``model.state``: an ExploreState or a FlatState) with the explore alphabet, else the World."""
        return self._state

    @property
    def alphabet(self) -> str:
        return "explore" if self.model is not None else "default"

    def name(self, image_id: str) -> str:
        """The short name the guide uses for an image id."""
        return self._names(image_id)

    def violations(self) -> dict[str, str]:
        """The invariants I1-I9 the current world breaks."""
        return violations(self.world)

    def options(self) -> list[Option]:
        """Every request of the alphabet and every enabled service event, each with its answer and effect."""
        if self._cache is not None and self._cache[0] is self._state:
            return list(self._cache[1])
        raw = self._explore_options() if self.model is not None else self._default_options()
        world = self.world
        out = []
        for i, (kind, action, nxt, answer) in enumerate(raw):
            after = nxt.world if self.model is not None else nxt
            # Names for this option's world only: a copy that another option would make claims no name.
            names = self._names.copy()
            names.add_world(after)
            label = self._label(kind, action, names)
            changes = {names.replace_ids(k): names.replace_ids(str(v)) for k, v in world_diff(world, after).items()}
            out.append(Option(i, label, kind, action, body_of(answer) if kind != "event" else None, after, changes, nxt))
        self._cache = (self._state, out)
        return list(out)

    def _explore_options(self) -> list[tuple[str, Any, Any, Any]]:
        assert self.model is not None
        out = []
        for action, nxt, _outcome in self.model.successors(self._state):
            if type(action) is RequestAction:
                _, answer = step(self.world, action.request, self.now)
                out.append(("request", action, nxt, answer))
            elif type(action) is Fault:
                out.append(("fault", action, nxt, step(self.world, action, self.now)[1]))
            else:
                out.append(("event", action, nxt, None))
        return out

    def _default_options(self) -> list[tuple[str, Any, Any, Any]]:
        world = self.world
        out = []
        for action, params in default_alphabet(world):
            request = parse(action, params)
            nxt, answer = step(world, request, self.now)
            out.append(("request", request, nxt, answer))
        for event in enabled_events(world):
            nxt, _ = step(world, event, self.now)
            out.append(("event", event, nxt, None))
        return out

    def _label(self, kind: str, action: Any, names: Names) -> str:
        if kind == "event":
            verb = {Start: "starts", Complete: "completes", Fail: "fails"}.get(type(action), type(action).__name__)
            return f"{names(action.image_id)} {verb} ({type(action).__name__})"
        request = action.request if isinstance(action, (RequestAction, Fault)) else action
        text = describe_call(action_name(request), request_params(request), names)
        if kind == "fault":
            return f"{text} answered by an injected InternalError"
        if self.model is not None and type(action) is RequestAction:
            tag = self.model.format_action(action)
            if tag.startswith("[") and "] " in tag:  # the explore request's own name, e.g. [c1]
                text = tag[:tag.index("] ") + 2] + text
        return text

    # --- moving ---------------------------------------------------------------------------------

    def find(self, choice: int | str) -> Option:
        """The option numbered ``choice``, or whose label is ``choice`` (or contains it, if only one does)."""
        opts = self.options()
        if isinstance(choice, int) and not isinstance(choice, bool):
            if not 0 <= choice < len(opts):
                raise IndexError(f"option {choice} does not exist: there are {len(opts)} (0-{len(opts) - 1})")
            return opts[choice]
        if not isinstance(choice, str):
            raise TypeError(f"choose an option by number or label, not {type(choice).__name__}")
        wanted = choice.strip().lower()
        exact = [o for o in opts if o.label.lower() == wanted]
        matches = exact or [o for o in opts if wanted in o.label.lower()]
        if len(matches) == 1 or (exact and len({o.label for o in exact}) == 1):
            return matches[0]
        listing = "\n".join(f"  [{o.index}] {o.label}" for o in (matches or opts))
        if not matches:
            raise KeyError(f"no option matches {choice!r}; the options are:\n{listing}")
        raise KeyError(f"{choice!r} matches {len(matches)} options; take one by number:\n{listing}")

    def take(self, choice: int | str) -> Option:
        """Take an option (by number or label); returns it. The world becomes ``option.world``."""
        option = self.find(choice)
        self._undo.append(self._state)
        self.history.append(option)
        self._state = option._state
        self._names.add_world(option.world)  # the copies it made keep the names the option showed
        return option

    def follow(self, path: Any) -> list[Option]:
        """Take the steps of a checker path (from a ``CopyImageModel`` of the same scenario); returns the options.

        Each step is matched by its action and by the state it leads to (a Complete and a Fail of
        the same copy compare equal as tuples, so the action alone would not do).
        """
        taken = []
        for i, st in enumerate(path.steps, 1):
            for o in self.options():
                if type(o.action) is type(st.action) and o.action == st.action and o._state == st.state:
                    taken.append(self.take(o.index))
                    break
            else:
                raise ValueError(f"step {i} of the path is not an option here: follow a path from the state "
                                 "this guide is in, made by a CopyImageModel of the same scenario (Guide(model))")
        return taken

    def back(self) -> Option:
        """Undo the last ``take``; returns the option undone. Raises IndexError at the start."""
        if not self.history:
            raise IndexError("nothing to undo: the guide is at its starting world")
        self._state = self._undo.pop()
        return self.history.pop()

    def reset(self) -> None:
        """Back to the starting world, history cleared."""
        self._state = self._start
        self.history.clear()
        self._undo.clear()

    # --- showing --------------------------------------------------------------------------------

    def __repr__(self) -> str:
        from .check.ecs import summarize_world

        lines = [f"Guide({self.scenario.name!r}, {self.alphabet} alphabet) after {len(self.history)} steps: "
                 f"{summarize_world(self.world)}"]
        broken = self.violations()
        if broken:
            lines.append("  broken: " + "; ".join(f"{k}: {v}" for k, v in broken.items()))
        lines += [f"  {o}" for o in self.options()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from .viz.display import table_html, world_html

        e = html.escape
        head = (f"<div><b>Guide</b> {e(self.scenario.name)} ({self.alphabet} alphabet), "
                f"{len(self.history)} steps taken</div>")
        broken = self.violations()
        if broken:
            head += ("<div style='color:#c62828'>broken: "
                     + e("; ".join(f"{k}: {v}" for k, v in broken.items())) + "</div>")
        taken = "".join(f"<li>{e(o.label)} &rarr; {e(o.answer_text)}</li>" for o in self.history)
        history = f"<div>history:</div><ol>{taken}</ol>" if taken else ""
        rows = [(o.index, o.label, o.answer_text, o.changes_text) for o in self.options()]
        return (head + history + world_html(self.world, self.now)
                + "<div><b>options</b> (take one with <code>.take(number)</code>)</div>"
                + table_html(("no.", "request or event", "answer", "what changes"), rows))
