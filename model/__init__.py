"""copyimage: a simulator and model checker for Alibaba Cloud ECS custom image copies.

The public namespace is small:

* ``Cloud``: call the API (``cloud.call("CopyImage", {...})``), advance service time, read the trace.
* ``load_scenario`` / ``Scenario`` / ``ScenarioError``: scenario files.
* ``World``, ``step``: the immutable state and the one function that changes it.
* ``INVARIANTS``: the SPEC's invariants I1-I9 as predicates on a world.
"""

from .cloud import Cloud
from .scenario import Scenario, ScenarioError, load_scenario
from .semantics.invariants import INVARIANTS, violations
from .semantics.requests import parse
from .semantics.step import step
from .semantics.world import World

__all__ = ["Cloud", "Scenario", "ScenarioError", "load_scenario", "World", "step", "parse", "INVARIANTS",
           "violations"]
__version__ = "0.1.0"
