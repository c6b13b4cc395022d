"""HTML for notebooks: a World, a Cloud and its trace, a check result, a path, as readable tables.

Each function returns an HTML string (every value escaped), so the model's
classes can show themselves in Jupyter with a one-line ``_repr_html_`` that
delegates here. Nothing here changes what it shows.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from ..semantics.operations import progress_percent
from ..semantics.world import World

if TYPE_CHECKING:
    from ..check.path import Path
    from ..check.result import CheckResult
    from ..cloud import Cloud

__all__ = ["world_html", "cloud_html", "trace_html", "check_result_html", "path_html", "table_html", "pretty_json",
           "Mermaid", "sequence_diagram"]

_TABLE = 'style="border-collapse:collapse;font-size:12px;margin:4px 0 10px 0"'
_CELL = 'style="border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top"'
_HEAD = 'style="border:1px solid #ccc;padding:2px 8px;text-align:left;background:#f2f2f2"'
_STATUS_COLOURS = {
    "Creating": "#1a56c4", "Waiting": "#a06f00", "Available": "#2e7d32", "CreateFailed": "#c62828",
    "holds": "#2e7d32", "violated": "#c62828", "unknown": "#a06f00",
}


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _coloured(value: str) -> str:
    colour = _STATUS_COLOURS.get(value)
    return f'<span style="color:{colour};font-weight:bold">{_e(value)}</span>' if colour else _e(value)


def table_html(header: Sequence[str], rows: Iterable[Sequence[Any]], *, raw_columns: Iterable[int] = ()) -> str:
    """A small HTML table; cells are escaped except in ``raw_columns`` (already HTML)."""
    raw = set(raw_columns)
    out = [f"<table {_TABLE}><tr>" + "".join(f"<th {_HEAD}>{_e(h)}</th>" for h in header) + "</tr>"]
    count = 0
    for row in rows:
        count += 1
        cells = "".join(f"<td {_CELL}>{c if i in raw else _e(c)}</td>" for i, c in enumerate(row))
        out.append(f"<tr>{cells}</tr>")
    if not count:
        out.append(f'<tr><td {_CELL} colspan="{len(header)}"><i>none</i></td></tr>')
    out.append("</table>")
    return "".join(out)


def _name(world: World, image_id: str) -> str:
    im = world.image(image_id)
    return im.spec.name if im is not None and im.spec.name else image_id


def world_html(world: World, now: float = 0.0, *, title: str | None = None) -> str:
    """Regions (limit, running and waiting copies in queue order) and images (status, progress, origin)."""
    parts = [f"<div><b>{_e(title)}</b></div>" if title else ""]
    region_rows = []
    for region in world.setting.regions:
        q = world.queue(region)
        region_rows.append((
            region, world.setting.limit(region), f"{len(q.running)}", ", ".join(q.running) or "-",
            f"{len(q.waiting)}", ", ".join(q.waiting) or "-",
        ))
    parts.append(table_html(("region", "limit", "running", "running copies", "waiting", "waiting copies (queue order)"),
                            region_rows))
    image_rows = []
    for im in world.images:
        task = world.task(im.image_id)
        origin = f"copy of {_name(world, im.spec.copied_from)}" if im.spec.copied_from else im.spec.owner
        image_rows.append((
            im.image_id, im.spec.name or "", im.region, _coloured(im.status),
            f"{progress_percent(world, im.image_id, im.status, now)}%", f"{im.spec.size} GiB", origin,
            task.state if task is not None else "",
        ))
    parts.append(table_html(("image", "name", "region", "status", "progress", "size", "origin", "copy task"),
                            image_rows, raw_columns=(3,)))
    gone = [t for t in world.tasks if world.image(t.image_id) is None]
    if gone:
        parts.append(table_html(("copy task without an image", "state", "source", "to"),
                                ((t.image_id, t.state, _name(world, t.source_id), t.dest_region) for t in gone)))
    return "".join(parts)


def _short_params(params: Any, limit: int = 90) -> str:
    if not isinstance(params, Mapping):
        return str(params)
    text = ", ".join(f"{k}={v}" for k, v in params.items())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _answer(entry: Mapping[str, Any]) -> str:
    body = entry.get("response") or {}
    if "Code" in body:
        return f"{body.get('HttpStatus', entry.get('status', ''))} {body['Code']}"
    if "ImageId" in body:
        return f"ImageId {body['ImageId']}"
    if "TotalCount" in body:
        rows = (body.get("Images") or {}).get("Image") or []
        statuses: dict[str, int] = {}
        for row in rows:
            statuses[row.get("Status", "?")] = statuses.get(row.get("Status", "?"), 0) + 1
        shown = ", ".join(f"{n} {s}" for s, n in statuses.items())
        return f"{body['TotalCount']} images" + (f": {shown}" if rows else "")
    return "OK"


def trace_html(trace: Sequence[Mapping[str, Any]], *, last: int | None = None) -> str:
    """A Cloud trace as a table: time, call or event, parameters, answer."""
    entries = list(trace)
    skipped = 0
    if last is not None and len(entries) > last:
        skipped, entries = len(entries) - last, entries[-last:]
    rows = []
    for e in entries:
        if e.get("kind") == "event":
            rows.append((f"{e.get('t', 0):g}", "event", e.get("event", ""), e.get("ImageId", ""), ""))
        else:
            rows.append((f"{e.get('t', 0):g}", "call", e.get("action", ""), _short_params(e.get("params")), _answer(e)))
    note = f"<div><i>{skipped} earlier entries not shown</i></div>" if skipped else ""
    return note + table_html(("t (s)", "kind", "action", "parameters / image", "answer"), rows)


def cloud_html(cloud: "Cloud", *, last: int = 15) -> str:
    """The Cloud's clock, its world, broken invariants, and the last entries of its trace."""
    broken = cloud.violations()
    head = (f"<div><b>Cloud</b> {_e(cloud.scenario.name)} at t = {cloud.now:g} s, "
            f"{len(cloud.trace)} trace entries; invariants: "
            + ("<span style='color:#2e7d32'>all hold</span>" if not broken else
               "<span style='color:#c62828'>broken: " + _e("; ".join(f"{k}: {v}" for k, v in broken.items()))
               + "</span>") + "</div>")
    return head + world_html(cloud.world, cloud.now) + (trace_html(cloud.trace, last=last) if cloud.trace else "")


def path_html(path: "Path") -> str:
    """A path step by step: the action, its outcome, and what changed."""
    rows = []
    before = path.init
    for i, st in enumerate(path.steps, 1):
        marker = " (cycle starts)" if path.loop_start is not None and i - 1 == path.loop_start else ""
        action = path.model.format_action(st.action) if path.model is not None else str(st.action)
        diff = path.model.diff_states(before, st.state) if path.model is not None else {}
        outcome = st.outcome
        if isinstance(outcome, tuple):
            outcome = " ".join(map(str, outcome))
        change = "; ".join(f"{k}: {v}" for k, v in diff.items()) or ("(unchanged)" if st.state == before else "")
        rows.append((f"{i}{marker}", action, "" if outcome is None else outcome, change))
        before = st.state
    return table_html(("step", "action", "outcome", "what changed"), rows)


def check_result_html(result: "CheckResult") -> str:
    """Verdicts with reasons, counterexample steps, statistics and warnings."""
    how = "exhaustive" if result.exhaustive else "not exhaustive"
    if result.bounds_hit:
        how += " (bounds hit: " + ", ".join(result.bounds_hit) + ")"
    parts = [f"<div><b>Model check</b>: {_e(result.strategy)}, {_e(how)}</div>"]
    rows = [(p.name, p.expectation.value, _coloured(p.verdict), p.description, p.reason,
             "" if p.path is None else f"{len(p.path)} steps") for p in result.properties.values()]
    parts.append(table_html(("property", "kind", "verdict", "claim", "why", "path"), rows, raw_columns=(2,)))
    for p in result.properties.values():
        if p.violated and p.path is not None:
            parts.append(f"<div><b>{_e(p.name)}</b> counterexample ({len(p.path)} steps):</div>")
            parts.append(path_html(p.path))
    s = result.stats
    stats = [("states", f"{s.states:,}"), ("transitions", f"{s.transitions:,}"), ("max depth", s.max_depth),
             ("terminal states", s.terminal_states), ("seconds", f"{s.seconds:.2f}")]
    if result.depth_histogram:
        stats.append(("states per depth", " ".join(map(str, result.depth_histogram))))
    if result.action_counts:
        stats.append(("actions by kind", ", ".join(f"{k}: {c:,}" for k, c in result.action_counts.most_common())))
    parts.append(table_html(("statistic", "value"), stats))
    if result.warnings:
        parts.append("<div><b>Warnings</b></div><ul>" + "".join(f"<li>{_e(w)}</li>" for w in result.warnings) + "</ul>")
    return "".join(parts)


def pretty_json(value: Any) -> str:
    """A JSON value in a <pre> block (for API answers in notebooks)."""
    return f"<pre style='font-size:11px'>{_e(json.dumps(value, indent=1, default=str))}</pre>"


class Mermaid:
    """Mermaid text that shows as a diagram in JupyterLab (and as its text elsewhere)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        return f"```mermaid\n{self.text}```\n"

    def _repr_mimebundle_(self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None) -> dict:
        bundle = {"text/vnd.mermaid": self.text, "text/markdown": self._repr_markdown_(), "text/plain": self.text}
        if include:
            bundle = {k: v for k, v in bundle.items() if k in include}
        if exclude:
            bundle = {k: v for k, v in bundle.items() if k not in exclude}
        return bundle


def sequence_diagram(source: Any, **kwargs: Any) -> Mermaid:
    """A run (Cloud, checker Path, frames) as a displayable mermaid sequence diagram."""
    from .trace import sequence_mermaid

    return Mermaid(sequence_mermaid(source, **kwargs))
