"""Seeing the model: diagrams of the copy lifecycle and a region's queue, state spaces, runs, notebook display.

Everything is drawn from the model itself: the lifecycle from the one
``transitions`` declaration, the queue from exploring it, state spaces from
the checker's graph, runs from a Cloud trace or a counterexample path. No
system package is needed (matplotlib draws); Graphviz's ``dot`` is used only
when asked for and installed.
"""

from .diagram import Arrow, Diagram, Node, dot_available
from .display import (
    Mermaid, check_result_html, cloud_html, path_html, sequence_diagram, trace_html, world_html,
)
from .docs import build_docs
from .lifecycle import lifecycle_diagram, queue_diagram
from .output import figure_png, figure_svg, write_atomic
from .statespace import (
    MAX_NODES, TooManyStates, explore, statespace_dot, statespace_figure, statespace_mermaid, summary_figure,
)
from .trace import (
    Frame, TaskSpan, TraceError, frames_of, load_trace, queue_series, sequence_mermaid, task_spans, timeline_figure,
)

__all__ = [
    "Arrow", "Diagram", "Node", "dot_available", "Mermaid", "check_result_html", "cloud_html", "path_html",
    "sequence_diagram", "trace_html", "world_html", "build_docs", "lifecycle_diagram", "queue_diagram",
    "figure_png", "figure_svg", "write_atomic", "MAX_NODES", "TooManyStates", "explore", "statespace_dot",
    "statespace_figure", "statespace_mermaid", "summary_figure", "Frame", "TaskSpan", "TraceError", "frames_of",
    "load_trace", "queue_series", "sequence_mermaid", "task_spans", "timeline_figure",
]
