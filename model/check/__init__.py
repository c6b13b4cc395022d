"""A generic explicit-state model checker: explore a ``Model``'s states and decide its properties.

    from model.check import check, Model, Property
    result = check(MyModel())            # BFS: every counterexample is shortest
    print(result.report())

See ``checker.check`` for the options, ``result.CheckResult`` for what comes back.
"""

from .asserts import assert_holds, assert_no_deadlock, assert_reachable, assert_sometimes, assert_violated
from .checker import STRATEGIES, check
from .graph import export_graphml, export_json
from .model import Expectation, Model, Property
from .path import Path, Step
from .progress import ProgressLine, ProgressStats
from .result import CheckResult, PropertyResult, Stats

__all__ = [
    "STRATEGIES",
    "CheckResult",
    "Expectation",
    "Model",
    "Path",
    "ProgressLine",
    "ProgressStats",
    "Property",
    "PropertyResult",
    "Stats",
    "Step",
    "assert_holds",
    "assert_no_deadlock",
    "assert_reachable",
    "assert_sometimes",
    "assert_violated",
    "check",
    "export_graphml",
    "export_json",
]
