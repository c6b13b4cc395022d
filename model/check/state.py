"""What the explorer's ECS model calls a state: a world, with the counts and names its scenario's requests need.

Its own module so that both the model (ecs.py) and the flat states that
stand for it (flat.py) can name it; ``model.check.ecs`` exports it.
"""

from __future__ import annotations

from typing import NamedTuple

from ..semantics.world import World

__all__ = ["ExploreState"]


class ExploreState(NamedTuple):
    """A world, how often each bounded request has changed it, and the ImageIds named requests answered."""

    world: World
    used: tuple[int, ...]
    bound: tuple[str | None, ...]
