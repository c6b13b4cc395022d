"""A state diagram as data, and its three drawings: mermaid text, DOT text, a matplotlib picture.

A ``Diagram`` is boxes (``Node``) and labelled arrows (``Arrow``). The
lifecycle and queue diagrams (``model.viz.lifecycle``) build one from the
``transitions`` declaration; this module only draws. The picture needs no
system package: boxes are placed on layers by breadth-first distance from the
initial state, ordered within a layer to keep arrows short (barycentres), and
drawn with matplotlib. When Graphviz's ``dot`` is installed, ``svg(engine=
"dot")`` lays the DOT text out with it instead (nicer, but machine-dependent,
so the committed docs always use matplotlib).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

from .output import figure_png, figure_svg

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Node", "Arrow", "Diagram", "STYLES", "dot_available", "render_dot", "mermaid_text"]

# Fill and edge colours of a box, by the node's style.
STYLES: dict[str, tuple[str, str]] = {
    "pseudo": ("#f4f4f4", "#888888"),
    "progress": ("#fff4cc", "#b08800"),
    "done": ("#dcf5dc", "#2e7d32"),
    "failed": ("#fde0dc", "#c62828"),
    "gone": ("#e8e8e8", "#555555"),
    "plain": ("#e8f0fe", "#1a56c4"),
}


@dataclass(frozen=True)
class Node:
    """A box: its id (a plain identifier), its title, an optional one-line description, a style."""

    id: str
    label: str
    description: str = ""
    style: str = "plain"


@dataclass(frozen=True)
class Arrow:
    """An arrow ``source -> dest``: label lines (alternatives, one a line) and the SPEC rule ids it realises."""

    source: str
    dest: str
    lines: tuple[str, ...]
    rules: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The label on one line (mermaid): alternatives joined by " / ", rule ids in brackets."""
        rules = f" ({', '.join(self.rules)})" if self.rules else ""
        return " / ".join(line.replace("\n", ", ") for line in self.lines) + rules

    @property
    def picture_lines(self) -> tuple[str, ...]:
        """The label as drawn: a line may wrap at "\n"; rule ids on a last line of their own."""
        lines = tuple(part for line in self.lines for part in line.split("\n"))
        return lines + ((", ".join(self.rules),) if self.rules else ())


@dataclass
class Diagram:
    """Boxes and arrows with an initial box; renders as mermaid, DOT, SVG or PNG."""

    name: str
    title: str
    nodes: tuple[Node, ...]
    arrows: tuple[Arrow, ...]
    initial: str | None = None
    caption: str = ""
    _layout: dict[str, tuple[float, float]] | None = field(default=None, repr=False, compare=False)

    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    # --- text ------------------------------------------------------------------------------

    def mermaid(self) -> str:
        """``stateDiagram-v2`` text (renders on GitHub and in JupyterLab without any binary)."""
        return mermaid_text(self)

    def dot(self) -> str:
        """Graphviz DOT text."""
        out = [f"digraph {_dot_id(self.name)} {{",
               f"  label={_dot_quote(self.title)}; labelloc=t; fontsize=16; fontname=\"Helvetica\";",
               "  rankdir=LR; nodesep=0.5; ranksep=0.9;",
               '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
               '  edge [fontname="Helvetica", fontsize=9];']
        if self.initial is not None:
            out.append('  __start [shape=circle, width=0.18, label="", style=filled, fillcolor=black];')
            out.append(f"  __start -> {_dot_id(self.initial)};")
        for n in self.nodes:
            fill, line = STYLES.get(n.style, STYLES["plain"])
            label = n.label if not n.description else f"{n.label}\n{n.description}"
            out.append(f"  {_dot_id(n.id)} [label={_dot_quote(label)}, fillcolor=\"{fill}\", color=\"{line}\"];")
        for a in self.arrows:
            label = _dot_quote("\n".join(a.picture_lines))
            out.append(f"  {_dot_id(a.source)} -> {_dot_id(a.dest)} [label={label}];")
        out.append("}")
        return "\n".join(out) + "\n"

    # --- pictures --------------------------------------------------------------------------

    def layout(self) -> dict[str, tuple[float, float]]:
        """Box centres in inches (x grows along the layers, y upwards)."""
        if self._layout is None:
            self._layout = _layered_layout(self)
        return self._layout

    def figure(self) -> "Figure":
        """A matplotlib Figure of the diagram (no pyplot, no global state)."""
        return _draw(self)

    def svg(self, engine: str = "matplotlib") -> str:
        """SVG text; ``engine="dot"`` uses Graphviz (``dot_available()`` must be true)."""
        if engine == "dot":
            return render_dot(self.dot(), "svg").decode("utf-8")
        if engine != "matplotlib":
            raise ValueError(f"unknown engine {engine!r}: use 'matplotlib' or 'dot'")
        return figure_svg(self.figure())

    def png(self, engine: str = "matplotlib") -> bytes:
        if engine == "dot":
            return render_dot(self.dot(), "png")
        if engine != "matplotlib":
            raise ValueError(f"unknown engine {engine!r}: use 'matplotlib' or 'dot'")
        return figure_png(self.figure())

    # --- rich display in notebooks ---------------------------------------------------------

    def _repr_svg_(self) -> str:
        return self.svg()

    def _repr_markdown_(self) -> str:
        return f"```mermaid\n{self.mermaid()}```\n"

    def _repr_mimebundle_(self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None) -> dict:
        bundle = {"image/svg+xml": self.svg(), "text/markdown": self._repr_markdown_(), "text/plain": repr(self)}
        if include:
            bundle = {k: v for k, v in bundle.items() if k in include}
        if exclude:
            bundle = {k: v for k, v in bundle.items() if k not in exclude}
        return bundle

    def __repr__(self) -> str:
        return f"<Diagram {self.name}: {len(self.nodes)} states, {len(self.arrows)} arrows>"


# --- mermaid ----------------------------------------------------------------------------------

def _mermaid_safe(text: str) -> str:
    # ';' ends a statement and '#' starts an entity code in mermaid; '<' '>' may be read as HTML.
    return (text.replace(";", ",").replace("#", "no.").replace("<", "fewer than").replace(">", "more than")
            .replace(":", " -"))


def mermaid_text(diagram: Diagram) -> str:
    lines = ["---", f"title: {json.dumps(diagram.title)}", "---", "stateDiagram-v2", "    direction LR"]
    for n in diagram.nodes:
        if n.label != n.id:
            lines.append(f'    state "{_mermaid_safe(n.label)}" as {n.id}')
        if n.description:
            lines.append(f"    {n.id} : {_mermaid_safe(n.description)}")
    if diagram.initial is not None:
        lines.append(f"    [*] --> {diagram.initial}")
    for a in diagram.arrows:
        lines.append(f"    {a.source} --> {a.dest} : {_mermaid_safe(a.text)}")
    styles = sorted({n.style for n in diagram.nodes})
    for s in styles:
        fill, line = STYLES.get(s, STYLES["plain"])
        lines.append(f"    classDef {s} fill:{fill},stroke:{line},color:#000")
    for s in styles:
        members = [n.id for n in diagram.nodes if n.style == s]
        lines.append(f"    class {', '.join(members)} {s}")
    return "\n".join(lines) + "\n"


# --- DOT ------------------------------------------------------------------------------------

def _dot_id(name: str) -> str:
    return name if name.replace("_", "").isalnum() and not name[0].isdigit() else _dot_quote(name)


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dot_available() -> bool:
    """Whether Graphviz's ``dot`` program is on the PATH (optional: used for nicer layouts)."""
    return shutil.which("dot") is not None


def render_dot(dot_text: str, fmt: str) -> bytes:
    """Lay out DOT text with Graphviz; raises RuntimeError naming the fix when ``dot`` is missing or fails."""
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError("Graphviz's `dot` is not installed; install it (apt-get install graphviz) "
                           "or draw with matplotlib (engine='matplotlib')")
    proc = subprocess.run([exe, f"-T{fmt}"], input=dot_text.encode("utf-8"), capture_output=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"dot -T{fmt} failed: {proc.stderr.decode('utf-8', 'replace').strip()}")
    return proc.stdout


# --- layered layout -------------------------------------------------------------------------

_CHAR_W = 0.085  # inches per character at the box title's size (DejaVu Sans 10 pt, bold)
_SMALL_W = 0.062  # inches per character of the smaller label texts (8 pt)
_LINE_H = 0.17


def _box_size(node: Node) -> tuple[float, float]:
    width = max(len(node.label) * _CHAR_W, len(node.description) * _SMALL_W) + 0.35
    height = 0.42 + (_LINE_H + 0.02 if node.description else 0.0)
    return max(width, 1.1), height


def _label_size(arrow: Arrow) -> tuple[float, float]:
    lines = arrow.picture_lines
    return max(len(line) for line in lines) * _SMALL_W + 0.1, len(lines) * _LINE_H + 0.06


def _layers(diagram: Diagram) -> list[list[str]]:
    ids = [n.id for n in diagram.nodes]
    succ: dict[str, list[str]] = {i: [] for i in ids}
    for a in diagram.arrows:
        if a.source != a.dest and a.dest not in succ[a.source]:
            succ[a.source].append(a.dest)
    depth: dict[str, int] = {}
    frontier = [diagram.initial if diagram.initial is not None else ids[0]]
    depth[frontier[0]] = 0
    while frontier:
        nxt = []
        for u in frontier:
            for v in succ[u]:
                if v not in depth:
                    depth[v] = depth[u] + 1
                    nxt.append(v)
        frontier = nxt
    last = max(depth.values(), default=-1)
    for i in ids:  # unreachable boxes go after the rest, still drawn
        depth.setdefault(i, last + 1)
    layers: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    for i in ids:  # declaration order first: the sweeps below only reorder
        layers[depth[i]].append(i)
    return layers


def _layered_layout(diagram: Diagram) -> dict[str, tuple[float, float]]:
    layers = _layers(diagram)
    neighbours: dict[str, set[str]] = {n.id: set() for n in diagram.nodes}
    for a in diagram.arrows:
        if a.source != a.dest:
            neighbours[a.source].add(a.dest)
            neighbours[a.dest].add(a.source)
    sizes = {n.id: _box_size(n) for n in diagram.nodes}
    label_w = max((_label_size(a)[0] for a in diagram.arrows if a.source != a.dest), default=1.0)
    gap = min(label_w, 2.4) + 0.45  # room between two layers for the widest arrow label
    loops = {a.source for a in diagram.arrows if a.source == a.dest}
    loop_h = max((_label_size(a)[1] for a in diagram.arrows if a.source == a.dest), default=0.0)
    ygap = max(h for _, h in sizes.values()) + 0.9 + (loop_h + 0.45 if loops else 0.0)

    y: dict[str, float] = {}
    for layer in layers:
        for k, node_id in enumerate(layer):
            y[node_id] = -(k - (len(layer) - 1) / 2) * ygap
    # Barycentre sweeps, left to right: each box moves towards the boxes it is connected to on the left.
    placed: set[str] = set(layers[0])
    for layer in layers[1:]:
        bary = {}
        for node_id in layer:
            left = [y[m] for m in neighbours[node_id] if m in placed]
            bary[node_id] = sum(left) / len(left) if left else y[node_id]
        layer.sort(key=lambda n: -bary[n])  # stable: ties keep declaration order
        centre = sum(bary.values()) / len(bary)
        for k, node_id in enumerate(layer):
            y[node_id] = centre - (k - (len(layer) - 1) / 2) * ygap
        placed.update(layer)
    x, out = 0.0, {}
    for li, layer in enumerate(layers):
        width = max(sizes[n][0] for n in layer)
        if li:
            x += gap + width / 2
        for node_id in layer:
            out[node_id] = (x, y[node_id])
        x += width / 2
    return out


# --- drawing --------------------------------------------------------------------------------

def _segment_hits_box(p: tuple[float, float], q: tuple[float, float], c: tuple[float, float],
                      size: tuple[float, float]) -> bool:
    """Whether the straight segment p-q passes through the box centred at c (sampled; boxes are big)."""
    w, h = size[0] / 2 + 0.05, size[1] / 2 + 0.05
    for k in range(1, 40):
        t = k / 40
        x, y = p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t
        if abs(x - c[0]) < w and abs(y - c[1]) < h:
            return True
    return False


def _draw(diagram: Diagram) -> "Figure":
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    pos = diagram.layout()
    sizes = {n.id: _box_size(n) for n in diagram.nodes}
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    has_loops = any(a.source == a.dest for a in diagram.arrows)
    loop_h = max((_label_size(a)[1] for a in diagram.arrows if a.source == a.dest), default=0.0)
    left = min(xs) - max(w for w, _ in sizes.values()) / 2 - (0.7 if diagram.initial else 0.3)
    right = max(xs) + max(w for w, _ in sizes.values()) / 2 + 0.3
    top = max(ys) + max(h for _, h in sizes.values()) / 2 + (loop_h + 0.75 if has_loops else 0.3) + 0.45
    curved_below = any(a.source != a.dest and (a.dest, a.source) in {(b.source, b.dest) for b in diagram.arrows}
                       for a in diagram.arrows)
    bottom = min(ys) - max(h for _, h in sizes.values()) / 2 - (0.95 if curved_below else 0.55)
    if any(pos[a.source][0] == pos[a.dest][0] for a in diagram.arrows if a.source != a.dest):
        right += 0.2  # an arrow within one column has its label beside it, to the right
    widest_label = max((_label_size(a)[0] for a in diagram.arrows), default=0.0)
    width, height = right - left, top - bottom
    width = max(width, widest_label + 0.4, len(diagram.title) * 0.11 + 0.4)  # the title and labels must fit

    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(left, left + width)
    ax.set_ylim(bottom, top)
    ax.set_axis_off()
    ax.text(left + width / 2, top - 0.25, diagram.title, ha="center", va="center", fontsize=12, weight="bold")
    if diagram.caption:
        ax.text(left + width / 2, bottom + 0.2, diagram.caption, ha="center", va="center", fontsize=8,
                color="#555555", style="italic")

    boxes = {}
    for n in diagram.nodes:
        (x, y), (w, h) = pos[n.id], sizes[n.id]
        fill, line = STYLES.get(n.style, STYLES["plain"])
        box = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.12",
                             facecolor=fill, edgecolor=line, linewidth=1.4,
                             linestyle="--" if n.style == "pseudo" else "-", zorder=2)
        ax.add_patch(box)
        boxes[n.id] = box
        if n.description:
            ax.text(x, y + 0.1, n.label, ha="center", va="center", fontsize=10, weight="bold", zorder=3)
            ax.text(x, y - 0.13, n.description, ha="center", va="center", fontsize=8, color="#333333", zorder=3)
        else:
            ax.text(x, y, n.label, ha="center", va="center", fontsize=10, weight="bold", zorder=3)

    if diagram.initial is not None:
        (x, y), (w, _) = pos[diagram.initial], sizes[diagram.initial]
        dot_x = x - w / 2 - 0.45
        ax.add_patch(FancyBboxPatch((dot_x - 0.07, y - 0.07), 0.14, 0.14, boxstyle="circle,pad=0",
                                    facecolor="black", edgecolor="black", zorder=3))
        ax.add_patch(FancyArrowPatch((dot_x + 0.08, y), (x - w / 2, y), arrowstyle="-|>", mutation_scale=12,
                                     color="black", linewidth=1.1, zorder=1))

    pairs = {(a.source, a.dest) for a in diagram.arrows}
    label_style = dict(ha="center", va="center", fontsize=8, zorder=5, linespacing=1.15,
                       bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.92))
    for a in diagram.arrows:
        text = "\n".join(a.picture_lines)
        if a.source == a.dest:
            (x, y), (w, h) = pos[a.source], sizes[a.source]
            p, q = (x - w * 0.22, y + h / 2), (x + w * 0.22, y + h / 2)
            ax.add_patch(FancyArrowPatch(p, q, connectionstyle="arc3,rad=-1.6", arrowstyle="-|>",
                                         mutation_scale=12, color="#333333", linewidth=1.1, zorder=1))
            loop_top = y + h / 2 + 0.8 * (q[0] - p[0])
            ax.text(x, loop_top + _label_size(a)[1] / 2 + 0.05, text, **label_style)
            continue
        p, q = pos[a.source], pos[a.dest]
        rad = 0.0
        if (a.dest, a.source) in pairs:
            rad = 0.18  # both directions drawn: each bows to its own side
        elif any(_segment_hits_box(p, q, pos[o], sizes[o]) for o in pos if o not in (a.source, a.dest)):
            rad = 0.3
        arrow = FancyArrowPatch(p, q, patchA=boxes[a.source], patchB=boxes[a.dest],
                                connectionstyle=f"arc3,rad={rad}", arrowstyle="-|>", mutation_scale=13,
                                color="#333333", linewidth=1.1, shrinkA=1, shrinkB=1, zorder=1)
        ax.add_patch(arrow)
        dx, dy = q[0] - p[0], q[1] - p[1]
        # The midpoint of matplotlib's arc3 Bezier curve: half-way along the bow.
        mx, my = (p[0] + q[0]) / 2 + 0.5 * rad * dy, (p[1] + q[1]) / 2 - 0.5 * rad * dx
        if dx == 0:  # a vertical arrow: put the label beside it, not over it
            mx += _label_size(a)[0] / 2 + 0.08
        ax.text(mx, my, text, **label_style)
    return fig

