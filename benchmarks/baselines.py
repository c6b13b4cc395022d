"""Baselines the explorer is measured against, in the same process.

``minimal_bfs``: BM(k, L) hand-written as tuples, the floor of what plain
Python can do (no API, no names): the model's guards, and its four
invariants checked in every reachable state as BM asks (``invariants=False``:
the guards alone, the floor this benchmark used before the checker's BM
scenarios checked all four).

``naive_transitions_bfs``: what most users would write with ``transitions``:
one Machine per image copy, the world deep-copied for every successor.
"""

from __future__ import annotations

import copy
from collections import deque

# Task codes of BM: None, Waiting, Copying, Available, Cancelled, Failed, Deleted.
NONE, WAIT, COPY, AVAIL, CANC, FAIL, DEL = range(7)


def bm_broken(k: int, limit: int, state: tuple) -> str | None:
    """Which of BM's four invariants ``state`` breaks (None: all hold), written as tightly as plain Python allows.

    running <= L; a non-empty queue means running = L; i is queued iff Waiting, once; no task Waiting or
    Copying has its source deleted. (The checker's I2, I3, I6 and A4.)
    """
    src, task, queue = state
    running = task.count(COPY)
    if running > limit or (queue and running != limit):
        return "slots"
    if task.count(WAIT) != len(queue) or len(set(queue)) != len(queue):
        return "queue"
    for i in range(k):
        t = task[i]
        if t == WAIT:
            if i not in queue or not src[i]:
                return "queue or source"
        elif t == COPY and not src[i]:
            return "source"
    return None


def minimal_bfs(k: int, limit: int, invariants: bool = True) -> tuple[int, int, int]:
    """(distinct states, transitions, max BFS depth) of BM(k, L), its invariants checked on each new state."""
    init = ((True,) * k, (NONE,) * k, ())
    why = bm_broken(k, limit, init) if invariants else None
    if why is not None:
        raise AssertionError(f"BM's invariant ({why}) broken in the initial state")
    seen = {init: 0}
    frontier = deque([init])
    transitions = 0
    max_depth = 0
    while frontier:
        state = frontier.popleft()
        depth = seen[state]
        src, task, queue = state
        running = task.count(COPY)
        succ = []
        for i in range(k):
            t = task[i]
            if t == NONE and src[i]:
                if running < limit:
                    succ.append((src, task[:i] + (COPY,) + task[i + 1:], queue))
                else:
                    succ.append((src, task[:i] + (WAIT,) + task[i + 1:], queue + (i,)))
            if t == WAIT:
                q = tuple(j for j in queue if j != i)
                succ.append((src, task[:i] + (CANC,) + task[i + 1:], q))
            if t == COPY:
                for end in (CANC, AVAIL, FAIL):  # cancel, complete, fail: then promote
                    nt = task[:i] + (end,) + task[i + 1:]
                    q = queue
                    if q:
                        j = q[0]
                        nt = nt[:j] + (COPY,) + nt[j + 1:]
                        q = q[1:]
                    succ.append((src, nt, q))
            if t == AVAIL:
                succ.append((src, task[:i] + (DEL,) + task[i + 1:], queue))
            if src[i] and t not in (WAIT, COPY):
                succ.append((src[:i] + (False,) + src[i + 1:], task, queue))
        for nxt in succ:
            transitions += 1
            if nxt not in seen:
                seen[nxt] = depth + 1
                if depth + 1 > max_depth:
                    max_depth = depth + 1
                if invariants:
                    why = bm_broken(k, limit, nxt)
                    if why is not None:
                        raise AssertionError(f"BM's invariant ({why}) broken in {nxt}")
                frontier.append(nxt)
    return len(seen), transitions, max_depth


class _Copy:
    """The model object a transitions Machine drives: one per image copy."""

    def __init__(self) -> None:
        self.state = "None"


def naive_transitions_bfs(k: int, limit: int) -> tuple[int, int]:
    """BM(k, L) the way a newcomer writes it: a Machine per copy, deepcopy per successor, BM's invariants checked."""
    from transitions import Machine

    def make_world() -> dict:
        copies = []
        for _ in range(k):
            c = _Copy()
            Machine(model=c, states=["None", "Waiting", "Copying", "Available", "Cancelled", "Failed", "Deleted"],
                    transitions=[
                        {"trigger": "enqueue", "source": "None", "dest": "Waiting"},
                        {"trigger": "begin", "source": ["None", "Waiting"], "dest": "Copying"},
                        {"trigger": "cancel", "source": ["Waiting", "Copying"], "dest": "Cancelled"},
                        {"trigger": "complete", "source": "Copying", "dest": "Available"},
                        {"trigger": "fail", "source": "Copying", "dest": "Failed"},
                        {"trigger": "delete", "source": "Available", "dest": "Deleted"},
                    ], initial="None", auto_transitions=False)
            copies.append(c)
        return {"src": [True] * k, "copies": copies, "queue": []}

    def key(w: dict) -> tuple:
        return (tuple(w["src"]), tuple(c.state for c in w["copies"]), tuple(w["queue"]))

    def broken(w: dict) -> bool:  # BM's four invariants
        states = [c.state for c in w["copies"]]
        running = states.count("Copying")
        return (running > limit or (bool(w["queue"]) and running != limit)
                or sorted(w["queue"]) != [i for i, s in enumerate(states) if s == "Waiting"]
                or any(s in ("Waiting", "Copying") and not w["src"][i] for i, s in enumerate(states)))

    def promote(w: dict) -> None:
        if w["queue"]:
            j = w["queue"].pop(0)
            w["copies"][j].begin()

    init = make_world()
    seen = {key(init)}
    frontier = deque([init])
    transitions = 0
    while frontier:
        w = frontier.popleft()
        for i in range(k):
            for action in ("copy", "cancel", "complete", "fail", "delete", "delete_source"):
                c = w["copies"][i]
                s = c.state
                running = sum(1 for x in w["copies"] if x.state == "Copying")
                enabled = {
                    "copy": s == "None" and w["src"][i],
                    "cancel": s in ("Waiting", "Copying"),
                    "complete": s == "Copying",
                    "fail": s == "Copying",
                    "delete": s == "Available",
                    "delete_source": w["src"][i] and s not in ("Waiting", "Copying"),
                }[action]
                if not enabled:
                    continue
                n = copy.deepcopy(w)
                nc = n["copies"][i]
                if action == "copy":
                    if running < limit:
                        nc.begin()
                    else:
                        nc.enqueue()
                        n["queue"].append(i)
                elif action == "cancel":
                    was_running = nc.state == "Copying"
                    nc.cancel()
                    if i in n["queue"]:
                        n["queue"].remove(i)
                    if was_running:
                        promote(n)
                elif action in ("complete", "fail"):
                    getattr(nc, action)()
                    promote(n)
                elif action == "delete":
                    nc.delete()
                else:
                    n["src"][i] = False
                transitions += 1
                kk = key(n)
                if kk not in seen:
                    if broken(n):
                        raise AssertionError(f"BM's invariants broken in {kk}")
                    seen.add(kk)
                    frontier.append(n)
    return len(seen), transitions
