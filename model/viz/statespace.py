"""The reachable state space the checker explored, drawn from its state graph.

``check(model, keep_graph=True)`` records the graph; this module draws it
for small spaces (up to ``MAX_NODES`` states): states placed by breadth-first
depth from the initial state, the initial and terminal states marked, and a
counterexample (or any path) drawn in red. Above the cap a picture of every
state would be a hairball, so the figure says so and shows a summary
instead: states per BFS depth and transitions per action kind. The text
forms (``statespace_mermaid``, ``statespace_dot``) refuse above the cap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    import networkx as nx
    from matplotlib.figure import Figure

    from ..check.path import Path
    from ..check.result import CheckResult

__all__ = ["MAX_NODES", "TooManyStates", "explore", "highlight_path", "statespace_figure", "summary_figure",
           "statespace_mermaid", "statespace_dot", "short_action"]

MAX_NODES = 300


class TooManyStates(ValueError):
    """The state graph is larger than the cap for drawing every state."""


def explore(scenario: Any, **bounds: Any) -> "CheckResult":
    """Check a scenario's ``explore:`` section with the state graph kept (bounds from the scenario unless given)."""
    from ..check import check
    from ..check.ecs import CopyImageModel

    model = CopyImageModel(scenario)
    opts = {k: v for k, v in model.spec.bounds.items() if k in ("max_depth", "max_states", "seconds")}
    opts.update(bounds)
    return check(model, keep_graph=True, strategy="bfs" if model.spec.strategy == "random" else model.spec.strategy,
                 **opts)


def highlight_path(result: "CheckResult", path: "Path | str | None" = "auto") -> "Path | None":
    """The path to draw: a Path as given, a property's path by name, or ("auto") the first violated property's."""
    if path is None or not isinstance(path, str):
        return path
    if path == "auto":
        for p in result.properties.values():
            if p.violated and p.path is not None:
                return p.path
        return None
    found = result[path].path
    if found is None:
        raise ValueError(f"property {path!r} has no path to draw (verdict: {result[path].verdict})")
    return found


def _check_size(result: "CheckResult", max_nodes: int) -> "nx.DiGraph":
    graph = result.graph  # raises ValueError with the fix when the graph was not kept
    n = graph.number_of_nodes()
    if n > max_nodes:
        raise TooManyStates(
            f"the state graph has {n:,} states, more than {max_nodes:,} to draw one by one; "
            f"bound the search (explore: bounds: {{max_states: {max_nodes}}} or a smaller max_depth), "
            f"raise the cap (max_nodes={n}), or draw the summary (an SVG or PNG shows it above the cap)")
    return graph


def _path_nodes(graph: "nx.DiGraph", path: "Path | None") -> tuple[list[int], set[tuple[int, int]]]:
    if path is None:
        return [], set()
    index = {d["state"]: n for n, d in graph.nodes(data=True)}
    nodes = [index[s] for s in path.states() if s in index]
    edges = {(a, b) for a, b in zip(nodes, nodes[1:]) if a != b}
    return nodes, edges


def _depths(graph: "nx.DiGraph") -> dict[int, int]:
    import networkx as nx

    inits = [n for n, d in graph.nodes(data=True) if d.get("init")]
    depth: dict[int, int] = {}
    for root in inits:
        for n, dist in nx.single_source_shortest_path_length(graph, root).items():
            depth[n] = min(dist, depth.get(n, dist))
    for n in graph.nodes:
        depth.setdefault(n, max(depth.values(), default=0) + 1)
    return depth


def _positions(graph: "nx.DiGraph", depth: Mapping[int, int]) -> dict[int, tuple[float, float]]:
    """Columns by depth; within a column, states sorted by the mean row of their parents (fewer crossings)."""
    columns: dict[int, list[int]] = {}
    for n in sorted(graph.nodes):
        columns.setdefault(depth[n], []).append(n)
    row: dict[int, float] = {}
    for d in sorted(columns):
        nodes = columns[d]
        if d > 0:
            def parent_mean(n: int) -> float:
                ps = [row[p] for p in graph.predecessors(n) if p in row]
                return sum(ps) / len(ps) if ps else 0.0
            nodes.sort(key=lambda n: (parent_mean(n), n))
        for k, n in enumerate(nodes):
            row[n] = (k - (len(nodes) - 1) / 2) / max(len(nodes), 1)
    return {n: (float(depth[n]), row[n]) for n in graph.nodes}


def statespace_figure(result: "CheckResult", *, path: "Path | str | None" = "auto", max_nodes: int = MAX_NODES,
                      title: str | None = None) -> "Figure":
    """The explored state graph with the initial state, terminal states and ``path`` highlighted.

    Above ``max_nodes`` states: a summary figure whose title says why (never a hairball).
    """
    graph = result.graph
    if graph.number_of_nodes() > max_nodes:
        return summary_figure(result, title=(
            f"{graph.number_of_nodes():,} states: more than {max_nodes:,} to draw one by one, so a summary"))
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    chosen = highlight_path(result, path)
    depth = _depths(graph)
    pos = _positions(graph, depth)
    on_path, path_edges = _path_nodes(graph, chosen)
    columns = max(depth.values(), default=0) + 1
    widest = max((list(depth.values()).count(d) for d in set(depth.values())), default=1)
    fig = Figure(figsize=(min(2.0 + 0.9 * columns, 16.0), min(2.5 + 0.13 * widest, 11.0)))
    ax = fig.add_subplot()
    ax.set_axis_off()
    for u, v in graph.edges:
        if (u, v) in path_edges:
            continue
        (x1, y1), (x2, y2) = pos[u], pos[v]
        ax.plot([x1, x2], [y1, y2], color="#999999", linewidth=0.5, alpha=0.45, zorder=1)
    for u, v in sorted(path_edges):
        (x1, y1), (x2, y2) = pos[u], pos[v]
        ax.annotate("", xy=(x2, y2), xytext=(x1, y1), zorder=3,
                    arrowprops=dict(arrowstyle="-|>", color="#d32f2f", linewidth=2.0, shrinkA=4, shrinkB=4))
    terminal = {n for n, d in graph.nodes(data=True) if d.get("expanded") and graph.out_degree(n) == 0}
    inits = {n for n, d in graph.nodes(data=True) if d.get("init")}
    plain = [n for n in graph.nodes if n not in terminal and n not in inits]
    size = 28 if graph.number_of_nodes() > 120 else 60
    ax.scatter([pos[n][0] for n in plain], [pos[n][1] for n in plain], s=size, color="#9ecae1",
               edgecolors="#3182bd", linewidths=0.6, zorder=2)
    ax.scatter([pos[n][0] for n in terminal], [pos[n][1] for n in terminal], s=size * 1.3, color="#404040",
               edgecolors="black", marker="s", zorder=2)
    ax.scatter([pos[n][0] for n in inits], [pos[n][1] for n in inits], s=size * 2.5, color="#2e7d32",
               edgecolors="black", marker="D", zorder=4)
    if on_path:
        ax.scatter([pos[n][0] for n in on_path[1:]], [pos[n][1] for n in on_path[1:]], s=size * 1.4,
                   color="#ef9a9a", edgecolors="#d32f2f", linewidths=1.2, zorder=4)
        last = on_path[-1]
        ax.scatter([pos[last][0]], [pos[last][1]], s=size * 5, color="#d32f2f", marker="*", zorder=5)
    handles = [
        Line2D([], [], marker="D", color="#2e7d32", linestyle="", markeredgecolor="black", label="initial state"),
        Line2D([], [], marker="o", color="#9ecae1", linestyle="", markeredgecolor="#3182bd", label="state"),
        Line2D([], [], marker="s", color="#404040", linestyle="", label="terminal (no way out)"),
    ]
    if on_path:
        name = _path_name(result, chosen)
        handles += [Line2D([], [], color="#d32f2f", linewidth=2.0, label=f"{name} ({len(chosen)} steps)"),
                    Line2D([], [], marker="*", color="#d32f2f", linestyle="", markersize=12, label="where it ends")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=min(len(handles), 3),
              fontsize=8, frameon=False)
    stats = result.stats
    ax.set_title(title or f"Reachable states: {stats.states:,} states, {graph.number_of_edges():,} edges, "
                          f"depth {stats.max_depth}", fontsize=11)
    ax.set_xlim(-0.5, columns - 0.5)
    ax.set_ylim(-0.56, 0.56)
    for d in range(columns):
        ax.text(d, 0.54, str(d), ha="center", va="bottom", fontsize=7, color="#777777")
    ax.text(-0.45, 0.54, "depth", ha="left", va="bottom", fontsize=7, color="#777777")
    fig.subplots_adjust(left=0.02, right=0.98, top=0.9, bottom=0.12)
    return fig


def _path_name(result: "CheckResult", path: "Path | None") -> str:
    for p in result.properties.values():
        if p.path is path:
            return f"{p.name} {'counterexample' if p.violated else 'witness'}"
    return "path"


def summary_figure(result: "CheckResult", *, title: str | None = None) -> "Figure":
    """States per BFS depth and transitions per action kind (needs no graph; action kinds need keep_graph)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10.0, 3.8))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    hist = list(result.depth_histogram)
    left.bar(range(len(hist)), hist, color="#4c78a8")
    left.set_xlabel("BFS depth (steps from the initial state)")
    left.set_ylabel("states first found")
    left.set_title(f"{result.stats.states:,} states by depth", fontsize=10)
    if result.action_counts:
        kinds = sorted(result.action_counts.items(), key=lambda kv: (-kv[1], kv[0]))
        right.barh([k for k, _ in kinds][::-1], [c for _, c in kinds][::-1], color="#f58518")
        right.set_xlabel("transitions (refused requests included)")
        right.set_title("actions by kind", fontsize=10)
        right.tick_params(axis="y", labelsize=8)
    else:
        right.set_axis_off()
        right.text(0.5, 0.5, "actions by kind need the state graph\n(check(..., keep_graph=True))",
                   ha="center", va="center", fontsize=9)
    fig.suptitle(title or "State space summary", fontsize=11, weight="bold")
    fig.subplots_adjust(left=0.08, right=0.97, bottom=0.16, top=0.8, wspace=0.45)
    return fig


def short_action(action: str) -> str:
    """``[t1] CopyImage(region_id=...)`` -> ``[t1] CopyImage``; ``Complete(m-...)`` -> ``Complete``."""
    parts = []
    for one in action.split(" | "):
        head = one.split("(", 1)[0].strip()
        parts.append(head or one[:20])
    return " | ".join(dict.fromkeys(parts))


def _plain(text: str) -> str:
    return text.replace('"', "'").replace(";", ",").replace("#", "no.").replace("<", "(").replace(">", ")")


def statespace_mermaid(result: "CheckResult", *, path: "Path | str | None" = "auto",
                       max_nodes: int = MAX_NODES) -> str:
    """A mermaid flowchart of the state graph (raises TooManyStates above ``max_nodes``)."""
    graph = _check_size(result, max_nodes)
    chosen = highlight_path(result, path)
    on_path, path_edges = _path_nodes(graph, chosen)
    lines = ["flowchart LR"]
    for n, d in sorted(graph.nodes(data=True)):
        lines.append(f'    s{n}["{_plain(d["label"])}"]')
    link_styles = []
    for k, (u, v, d) in enumerate(sorted(graph.edges(data=True), key=lambda e: (e[0], e[1]))):
        lines.append(f'    s{u} -->|"{_plain(short_action(d["action"]))}"| s{v}')
        if (u, v) in path_edges:
            link_styles.append(k)
    lines.append("    classDef init fill:#dcf5dc,stroke:#2e7d32")
    lines.append("    classDef terminal fill:#555555,color:#ffffff")
    lines.append("    classDef onpath fill:#fde0dc,stroke:#d32f2f,stroke-width:2px")
    inits = [n for n, d in graph.nodes(data=True) if d.get("init")]
    terminal = [n for n, d in graph.nodes(data=True) if d.get("expanded") and graph.out_degree(n) == 0]
    for cls, members in (("terminal", terminal), ("onpath", on_path[1:]), ("init", inits)):
        if members:
            lines.append(f"    class {','.join(f's{n}' for n in sorted(set(members)))} {cls}")
    if link_styles:
        lines.append(f"    linkStyle {','.join(map(str, link_styles))} stroke:#d32f2f,stroke-width:3px")
    return "\n".join(lines) + "\n"


def statespace_dot(result: "CheckResult", *, path: "Path | str | None" = "auto", max_nodes: int = MAX_NODES) -> str:
    """DOT text of the state graph (raises TooManyStates above ``max_nodes``)."""
    graph = _check_size(result, max_nodes)
    chosen = highlight_path(result, path)
    on_path, path_edges = _path_nodes(graph, chosen)
    marked = set(on_path[1:])

    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    out = ["digraph statespace {", "  rankdir=LR;", '  node [shape=box, style="rounded,filled", fillcolor="#e8f0fe", '
           'fontname="Helvetica", fontsize=9];', '  edge [fontname="Helvetica", fontsize=8, color="#777777"];']
    for n, d in sorted(graph.nodes(data=True)):
        attrs = [f"label={q(d['label'])}"]
        if d.get("init"):
            attrs.append('fillcolor="#dcf5dc", penwidth=2')
        elif n in marked:
            attrs.append('fillcolor="#fde0dc", color="#d32f2f", penwidth=2')
        elif d.get("expanded") and graph.out_degree(n) == 0:
            attrs.append('fillcolor="#555555", fontcolor="white"')
        out.append(f"  s{n} [{', '.join(attrs)}];")
    for u, v, d in sorted(graph.edges(data=True), key=lambda e: (e[0], e[1])):
        extra = ', color="#d32f2f", penwidth=2.5' if (u, v) in path_edges else ""
        out.append(f"  s{u} -> s{v} [label={q(short_action(d['action']))}{extra}];")
    out.append("}")
    return "\n".join(out) + "\n"
